// Issuing commands: every change to IssuingState is one of these typed
// values, so the engine can journal it (binary encoding below) and replay it.
//
// Encoding (format version 1, little-endian, specified field by field in
// docs/issuing/commands.md): an 8-byte header {u16 type, u16 version,
// u32 body_size} and a body whose fields follow the struct order below.
// Strings and lists are count-prefixed, so typical commands are small; no
// command is larger than kCommandSizeMax. A clear PAN can never be encoded:
// CreateCard carries only the token, the last four digits and the
// ciphertext produced by PanVault::Protect.
//
// DecodeCommand checks structure (sizes, counts, known type and version) and
// returns InvalidArgument for anything malformed; IssuingState::Apply checks
// meaning (ids, ownership, statuses, values) and returns a CommandResult.
// Pure functions; thread safe.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "base/limits.h"
#include "base/status.h"
#include "issuing/controls.h"
#include "issuing/entities.h"
#include "issuing/pan.h"
#include "issuing/program_settings.h"
#include "issuing/types.h"

namespace tangelo::issuing {

inline constexpr uint16_t kCommandFormatVersion = 1;
inline constexpr size_t kCommandHeaderSize = 8;
// The largest command (SetControls with every list full) is 409 bytes; the
// bound leaves 64 bytes of a journal entry for the engine's own envelope.
inline constexpr size_t kCommandSizeMax = 448;
static_assert(kCommandSizeMax + 64 <= base::kJournalEntrySizeMax,
              "an issuing command and an engine envelope must fit one journal entry");

enum class CommandType : uint16_t {
  kCreateTenant = 1,
  kCreateProgram = 2,
  kSetRealtimeDecision = 3,
  kSetHoldExpiry = 4,
  kCreateUser = 5,
  kSetUserStatus = 6,
  kCreateAccount = 7,
  kCreateCard = 8,
  kChangeCardStatus = 9,
  kSetControls = 10,
  kRecordSpend = 11,
  kReleaseSpend = 12,
};

struct CreateTenant {
  TenantId tenant_id;
  Name name;
};

// A program starts with the standard hold expiry table, no real-time
// decision and no controls.
struct CreateProgram {
  TenantId tenant_id;
  ProgramId program_id;
  Name name;
  uint16_t currency_numeric = 0;  // ISO 4217 numeric (base::CurrencyFromAlpha gives it).
};

struct SetRealtimeDecision {
  TenantId tenant_id;
  ProgramId program_id;
  RealtimeDecisionSettings settings;
};

struct SetHoldExpiry {
  TenantId tenant_id;
  ProgramId program_id;
  HoldExpiryTable table;
};

// A user starts ACTIVE.
struct CreateUser {
  TenantId tenant_id;
  UserId user_id;
};

struct SetUserStatus {
  TenantId tenant_id;
  UserId user_id;
  UserStatus status = UserStatus::kActive;
};

struct CreateAccount {
  TenantId tenant_id;
  AccountId account_id;
  ProgramId program_id;
  UserId owner_user_id;  // Zero for a shared (company) account.
  LedgerAccountId ledger_account_id;
  uint16_t currency_numeric = 0;  // Must be the program's currency.
};

struct CreateCard {
  TenantId tenant_id;
  CardId card_id;
  UserId user_id;
  AccountId account_id;
  uint16_t expiry_year = 0;
  uint8_t expiry_month = 0;
  // CREATED (a plastic card waiting for activation) or ACTIVE (a virtual
  // card usable at once).
  CardStatus initial_status = CardStatus::kCreated;
  ProtectedPan pan;  // From PanVault::Protect(tenant_id, card_id, pan).
};

struct ChangeCardStatus {
  TenantId tenant_id;
  CardId card_id;
  CardStatus status = CardStatus::kActive;
};

// Replaces the controls of one level; unrestricted controls remove them.
struct SetControls {
  TenantId tenant_id;
  ControlLevel level = ControlLevel::kCard;
  // A ProgramId for kProgram and kProgramCardDefault, an AccountId for
  // kAccount, a CardId for kCard.
  uint64_t target_id = 0;
  Controls controls;
};

// Counts an approved authorization (or an increment of one) toward the
// card's, its account's and its program's spend counters.
struct RecordSpend {
  TenantId tenant_id;
  CardId card_id;
  uint64_t amount_minor = 0;
  uint64_t authorization_timestamp_ns = 0;
  bool counts_toward_velocity = true;
};

// Takes back a reversed (fully or partly) or expired authorization's amount.
struct ReleaseSpend {
  TenantId tenant_id;
  CardId card_id;
  uint64_t amount_minor = 0;
  uint64_t authorization_timestamp_ns = 0;  // Of the authorization being reversed.
  bool release_velocity = false;            // True for a full reversal.
};

using Command = std::variant<CreateTenant, CreateProgram, SetRealtimeDecision, SetHoldExpiry,
                             CreateUser, SetUserStatus, CreateAccount, CreateCard, ChangeCardStatus,
                             SetControls, RecordSpend, ReleaseSpend>;

CommandType TypeOf(const Command& command);
std::string_view CommandTypeName(CommandType type);

// The business outcome of applying a command. Stable numbers.
enum class CommandResult : uint16_t {
  kOk = 0,
  kInvalidId = 1,         // An id that must be set is zero.
  kInvalidTimestamp = 2,  // At or after kTimestampNsMax.
  kTenantNotFound = 3,
  kProgramNotFound = 4,  // Absent, or another tenant's.
  kUserNotFound = 5,
  kAccountNotFound = 6,
  kCardNotFound = 7,
  kTenantExists = 8,
  kProgramExists = 9,
  kUserExists = 10,
  kAccountExists = 11,
  kCardExists = 12,
  kCapacityExhausted = 13,  // A named capacity of the state is full.
  kInvalidName = 14,
  kInvalidCurrency = 15,   // Not an ISO 4217 currency we know.
  kCurrencyMismatch = 16,  // Account currency differs from its program's.
  kInvalidClientUrl = 17,
  kInvalidDecisionDeadline = 18,
  kInvalidStandIn = 19,
  kInvalidHoldExpiry = 20,
  kInvalidControls = 21,
  kInvalidControlLevel = 22,
  kInvalidStatus = 23,  // A status value outside its enum, or an initial card
                        // status other than CREATED or ACTIVE.
  kStatusUnchanged = 24,
  kTransitionNotAllowed = 25,
  kCardClosed = 26,          // CLOSED is terminal.
  kUserDisabled = 27,        // DISABLED is terminal; no new cards for such a user.
  kInvalidExpiryDate = 28,   // Month outside 1..12, year outside 2000..2199, or
                             // already past when the card is created.
  kInvalidPan = 29,          // Missing token, last four not digits, malformed ciphertext.
  kPanAlreadyIssued = 30,    // Another card (of any tenant) has this PAN.
  kLedgerAccountInUse = 31,  // Another account is backed by this ledger account.
  kSpendNotExact = 32,       // Counters saturated or clamped (applied anyway).
};
std::string_view CommandResultName(CommandResult result);

// Encodes into `out`. Returns the encoded size, or InvalidArgument when a
// count exceeds its array, a length its field, or `out` is too small
// (kCommandSizeMax is always enough).
base::Result<size_t> EncodeCommand(const Command& command, std::span<uint8_t> out);
// Convenience form for tests and management paths (allocates).
std::vector<uint8_t> EncodeCommandToVector(const Command& command);

// Decodes one command occupying exactly `bytes`. InvalidArgument for a short
// or long input, an unknown type or version, a body size that does not match,
// a count or length over its maximum, or non-zero reserved bits.
base::Result<Command> DecodeCommand(std::span<const uint8_t> bytes);

}  // namespace tangelo::issuing
