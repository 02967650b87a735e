// A program's settings besides controls: how long a hold lives per merchant
// category, and whether (and how) the program's client takes part in each
// authorization through a real-time decision.
//
// Plain data with validation and pure helpers. Thread compatible.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "issuing/decline_reason.h"
#include "issuing/types.h"

namespace tangelo::issuing {

// Holds for merchants in [mcc_first, mcc_last] expire after hold_days.
struct HoldExpiryRule {
  uint16_t mcc_first = 0;
  uint16_t mcc_last = 0;
  uint16_t hold_days = 0;  // 1..kHoldExpiryDaysMax.

  bool operator==(const HoldExpiryRule&) const = default;
};

// The hold expiry rule table of a program: rules are tried in order and the
// first one containing the MCC decides; no match gets default_days.
struct HoldExpiryTable {
  uint16_t default_days = kHoldExpiryDaysDefault;
  uint8_t rule_count = 0;
  std::array<HoldExpiryRule, kHoldExpiryRulesMax> rules{};

  // Returns false (and changes nothing) when the table is full.
  bool AddRule(uint16_t mcc_first, uint16_t mcc_last, uint16_t hold_days);
  uint16_t HoldDays(uint16_t mcc) const;
  uint32_t HoldSeconds(uint16_t mcc) const { return uint32_t{HoldDays(mcc)} * 86400; }
  bool operator==(const HoldExpiryTable&) const = default;
};

// Every program starts with this table: 7 days by default; 30 days for
// lodging (7011, and the hotel-chain MCCs 3501-3999) and car rental (7512,
// and the rental-company MCCs 3351-3441), whose final amount is known only at
// check-out, as card networks allow.
HoldExpiryTable StandardHoldExpiryTable();

// Counts within the arrays, 1 <= days <= kHoldExpiryDaysMax, ranges
// first <= last <= 9999, unused rules zero.
bool IsValidHoldExpiryTable(const HoldExpiryTable& table);

// The client's real-time decision for a program's authorizations.
struct RealtimeDecisionSettings {
  bool required = false;  // When false the other fields are kept but unused.
  uint16_t deadline_ms = kDecisionDeadlineMsDefault;
  StandInPolicy stand_in_policy = StandInPolicy::kDecline;
  // With kApproveUpToLimit: the largest amount stand-in approves, in minor
  // units of the program currency. Larger amounts are declined.
  uint64_t stand_in_amount_max_minor = 0;
  uint16_t url_length = 0;
  std::array<char, kClientUrlLengthMax> url{};  // Zero after url_length.

  std::string_view url_view() const { return std::string_view(url.data(), url_length); }
  // Returns false for a URL longer than kClientUrlLengthMax.
  bool SetUrl(std::string_view text);
  bool operator==(const RealtimeDecisionSettings&) const = default;
};

// Why a realtime decision setting is invalid (stable numbers).
enum class RealtimeDecisionProblem : uint8_t {
  kNone = 0,
  kInvalidUrl = 1,       // Not http:// or https:// followed by printable ASCII,
                         // empty while required, or bytes after url_length.
  kInvalidDeadline = 2,  // Outside kDecisionDeadlineMsMin..kDecisionDeadlineMsMax.
  kInvalidStandIn = 3,   // Unknown policy value.
};
RealtimeDecisionProblem CheckRealtimeDecisionSettings(const RealtimeDecisionSettings& settings);

// How a call to the client failed.
enum class ClientFailure : uint8_t {
  kTimeout = 1,       // No answer before the deadline.
  kUnavailable = 2,   // Refused connection, reset, or a 5xx status.
  kBadSignature = 3,  // Malformed, unsigned or badly signed answer.
};

// The stand-in decision when the client's decision failed: kNone (approve)
// when the policy approves up to a limit and amount_minor is within it, else
// the CLIENT_*_STAND_IN reason for the failure.
DeclineReason DecideStandIn(const RealtimeDecisionSettings& settings, uint64_t amount_minor,
                            ClientFailure failure);

}  // namespace tangelo::issuing
