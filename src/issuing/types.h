// Identifiers, statuses and named limits of the card-issuing domain.
//
// Every entity id is chosen by the caller (as ledger ids are) and scoped by
// its tenant: tenant A's card 7 and tenant B's card 7 are different cards,
// so a tenant can never learn that another tenant's id exists. Zero is never
// a valid id. Enum values are stable numbers: they are written in commands
// and snapshots and must never be renumbered.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/limits.h"
#include "base/strong_id.h"

namespace tangelo::issuing {

struct TenantTag;
struct ProgramTag;
struct UserTag;
struct AccountTag;
struct CardTag;
struct LedgerAccountTag;

using TenantId = base::StrongId<TenantTag>;    // A client company that launches cards.
using ProgramId = base::StrongId<ProgramTag>;  // A card product of a tenant.
using UserId = base::StrongId<UserTag>;        // A cardholder.
using AccountId = base::StrongId<AccountTag>;  // A spending account (one currency).
using CardId = base::StrongId<CardTag>;
// The ledger module's account that holds an issuing account's money. Issuing
// never sees balances; the authorizer places holds on this ledger account.
using LedgerAccountId = base::StrongId<LedgerAccountTag>;

// A cardholder's status. ACTIVE <-> BLOCKED; either may become DISABLED,
// which is terminal (the relationship with the cardholder is over).
enum class UserStatus : uint8_t {
  kActive = 1,
  kBlocked = 2,
  kDisabled = 3,
};

// A card's status; the allowed transitions are in card_status.h and
// docs/issuing/card-states.md.
enum class CardStatus : uint8_t {
  kCreated = 1,  // Issued, not yet activated by the cardholder.
  kActive = 2,
  kBlocked = 3,  // Temporarily frozen by the cardholder or the tenant; reversible.
  kLost = 4,
  kStolen = 5,
  kExpired = 6,
  kClosed = 7,  // Terminal.
};
inline constexpr uint8_t kCardStatusCount = 7;

// Where a card is used. Contactless is a separate flag of the authorization
// (an entry mode), because a contactless tap happens at a POS or an ATM.
enum class Channel : uint8_t {
  kCardPresent = 1,  // Point of sale with the card (chip, stripe, manual key entry).
  kEcommerce = 2,    // Card not present: online, mail or telephone order, recurring.
  kAtm = 3,          // Cash withdrawal or balance inquiry at an ATM.
};

// What a program does when its client's real-time decision does not arrive in
// time, fails, or cannot be trusted.
enum class StandInPolicy : uint8_t {
  kDecline = 1,           // Decline with a CLIENT_*_STAND_IN reason.
  kApproveUpToLimit = 2,  // Approve when the amount is at most stand_in_amount_max_minor.
};

// The entity a set of controls is attached to.
enum class ControlLevel : uint8_t {
  kProgram = 1,             // Aggregate over every card of the program (program exposure).
  kProgramCardDefault = 2,  // Applied to each card of the program, counted per card.
  kAccount = 3,             // Aggregate over every card of the account.
  kCard = 4,                // The card alone.
};

std::string_view UserStatusName(UserStatus status);
std::string_view CardStatusName(CardStatus status);
std::string_view ChannelName(Channel channel);
std::string_view ControlLevelName(ControlLevel level);

// Named limits of the issuing domain (see base/limits.h for the engine's).
inline constexpr uint32_t kNameLengthMax = 64;        // Bytes of a tenant or program name.
inline constexpr uint32_t kClientUrlLengthMax = 256;  // Bytes of a real-time decision URL.
inline constexpr uint16_t kDecisionDeadlineMsDefault = 1500;
inline constexpr uint16_t kDecisionDeadlineMsMin = 50;    // Below this no client can answer.
inline constexpr uint16_t kDecisionDeadlineMsMax = 2000;  // Card networks' SLA leaves no more.
inline constexpr uint16_t kHoldExpiryDaysDefault = 7;
inline constexpr uint16_t kHoldExpiryDaysMax =
    static_cast<uint16_t>(base::kPendingTimeoutSecondsMax / 86400);
inline constexpr uint32_t kHoldExpiryRulesMax = 16;  // MCC rules per program.
inline constexpr uint32_t kMccRangesMax = 16;        // Per allow or deny list.
inline constexpr uint32_t kCountriesMax = 32;        // Per level (one allow or deny list).
inline constexpr uint32_t kMerchantIdsMax = 8;       // Per level (one allow or deny list).
inline constexpr uint32_t kVelocityRulesMax = 3;     // For example 15 min, 1 h and 24 h.
// Approvals remembered per counter set for rolling velocity windows. A
// velocity rule may allow at most this many authorizations per window.
inline constexpr uint32_t kVelocityRingSize = 16;
inline constexpr uint32_t kVelocityWindowSecondsMax = 31 * 86400;
inline constexpr uint16_t kExpiryYearMin = 2000;
inline constexpr uint16_t kExpiryYearMax = 2199;
// Timestamps are nanoseconds since the Unix epoch. Velocity windows keep
// seconds in 32 bits, so time must stay before 2106-02-07; we stop at 2100.
inline constexpr uint64_t kTimestampNsMax = 4'102'444'800ULL * 1'000'000'000ULL;  // 2100-01-01.

}  // namespace tangelo::issuing
