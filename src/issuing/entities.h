// The records IssuingState keeps for each entity. Plain data, owned by the
// state; callers get const references that stay valid for the state's life
// (records are never moved or deleted: a closed card stays, CLOSED).
//
// Ownership: every record names its tenant; a program, account or card also
// keeps the slots (array positions) of the records it points to, so the
// authorization path walks card -> account -> program without a lookup.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "issuing/controls.h"
#include "issuing/pan.h"
#include "issuing/program_settings.h"
#include "issuing/types.h"

namespace tangelo::issuing {

inline constexpr uint32_t kNoSlot = UINT32_MAX;

// A short human-readable label (tenant or program name): 1..kNameLengthMax
// bytes of printable ASCII, zero-padded.
struct Name {
  uint8_t length = 0;
  std::array<char, kNameLengthMax> bytes{};

  std::string_view view() const { return std::string_view(bytes.data(), length); }
  bool operator==(const Name&) const = default;
};
// Nullopt when `text` is empty, too long, or has a byte outside 0x20..0x7e.
std::optional<Name> MakeName(std::string_view text);
bool IsValidName(const Name& name);

struct Tenant {
  TenantId id;
  Name name;
  uint64_t created_at_ns = 0;
};

struct Program {
  ProgramId id;
  TenantId tenant_id;
  Name name;
  uint16_t currency_numeric = 0;  // ISO 4217 numeric: every account and limit of the program.
  RealtimeDecisionSettings realtime_decision;
  HoldExpiryTable hold_expiry;
  uint32_t tenant_slot = kNoSlot;
  uint32_t controls_slot = kNoSlot;               // ControlLevel::kProgram.
  uint32_t card_default_controls_slot = kNoSlot;  // ControlLevel::kProgramCardDefault.
  SpendCounters counters;                         // Aggregate spend of every card of the program.
  uint64_t created_at_ns = 0;
};

struct User {
  UserId id;
  TenantId tenant_id;
  UserStatus status = UserStatus::kActive;
  uint64_t created_at_ns = 0;
  uint64_t status_changed_at_ns = 0;
};

struct Account {
  AccountId id;
  TenantId tenant_id;
  ProgramId program_id;
  // The owning cardholder, or zero for an account shared by several
  // cardholders (a company account whose employees each hold a card).
  UserId owner_user_id;
  LedgerAccountId ledger_account_id;
  uint16_t currency_numeric = 0;  // Always the program's currency.
  uint32_t program_slot = kNoSlot;
  SpendCounters counters;  // Aggregate spend of every card of the account.
  uint64_t created_at_ns = 0;
  // The account's controls live in IssuingState (AccountControls), in a
  // dense column the authorization path can read without this record.
};

// Laid out for the authorization path: the first cache line holds all that
// the card checks read, the second the spend amounts, the rest the velocity
// ring and fields only management reads. sizeof is 256 (static_assert in
// state.cc), four lines per card.
struct alignas(64) Card {
  PanToken pan_token;  // The lookup key, compared by the token index.
  CardId id;
  TenantId tenant_id;
  uint32_t user_slot = kNoSlot;
  uint32_t account_slot = kNoSlot;
  uint32_t program_slot = kNoSlot;
  uint32_t controls_slot = kNoSlot;
  CardStatus status = CardStatus::kCreated;
  uint8_t expiry_month = 0;  // 1..12; the card is valid through the end of this month, UTC.
  uint16_t expiry_year = 0;  // Four digits.
  // The account's currency, copied at creation (it never changes) so the
  // currency check does not read the account.
  uint16_t currency_numeric = 0;
  std::array<char, 4> last_four{};
  SpendCounters counters;
  UserId user_id;
  AccountId account_id;
  uint64_t created_at_ns = 0;
  uint64_t status_changed_at_ns = 0;
};

}  // namespace tangelo::issuing
