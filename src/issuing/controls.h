// Spending controls and their evaluation for one authorization.
//
// A `Controls` value holds every rule one level (program, program card
// default, account or card; see ControlLevel) can set: amount limits per
// transaction, UTC day, ISO week, UTC month and lifetime; rolling velocity
// rules (at most N approvals per window); MCC, merchant-country and
// merchant-id allow and deny lists; channel toggles. A `SpendCounters` value
// holds what was already spent at one level. `EvaluateControls` checks an
// authorization against every applicable (controls, counters) pair and
// returns the first decline reason in this fixed order, or kNone:
//
//   1. CHANNEL_BLOCKED              6. DAILY_LIMIT_EXCEEDED
//   2. MCC_BLOCKED                  7. WEEKLY_LIMIT_EXCEEDED
//   3. COUNTRY_BLOCKED              8. MONTHLY_LIMIT_EXCEEDED
//   4. MERCHANT_BLOCKED             9. LIFETIME_LIMIT_EXCEEDED
//   5. TRANSACTION_LIMIT_EXCEEDED  10. VELOCITY_EXCEEDED
//
// Each check runs over all levels before the next check starts, so the
// strictest applicable control wins (every level must pass) and the reason
// does not depend on which level declined. Where-and-how rules come first
// because "this card cannot be used at casinos" explains more than "over the
// daily limit". docs/issuing/controls.md has the full rules.
//
// Countries are ISO 3166-1 numeric codes (1..999), as ISO 8583 fields 19 and
// 43 carry them; 0 means unknown, which no allow list contains.
//
// Everything here is plain data and pure functions: no allocation, no locks.
// Thread compatible.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "issuing/calendar.h"
#include "issuing/decline_reason.h"
#include "issuing/types.h"

namespace tangelo::issuing {

inline constexpr uint64_t kNoAmountLimit = UINT64_MAX;
inline constexpr uint16_t kMccMax = 9999;
inline constexpr uint16_t kCountryNumericMax = 999;

// Channel toggle bits of Controls::channels_blocked. A set bit blocks.
inline constexpr uint8_t kChannelBitCardPresent = 1;
inline constexpr uint8_t kChannelBitEcommerce = 2;
inline constexpr uint8_t kChannelBitAtm = 4;
inline constexpr uint8_t kChannelBitContactless = 8;  // Any tap, at a POS or an ATM.
inline constexpr uint8_t kChannelBitsAll = 15;

// An inclusive range of merchant category codes; a single MCC is first == last.
struct MccRange {
  uint16_t first = 0;
  uint16_t last = 0;

  bool Contains(uint16_t mcc) const { return mcc >= first && mcc <= last; }
  bool operator==(const MccRange&) const = default;
};

// At most `count_max` approvals within any `window_seconds` ending now.
struct VelocityRule {
  uint32_t window_seconds = 0;  // 1..kVelocityWindowSecondsMax.
  uint32_t count_max = 0;       // 1..kVelocityRingSize.

  bool operator==(const VelocityRule&) const = default;
};

// A card acceptor id (ISO 8583 field 42): 1 to 15 printable ASCII bytes.
// Stored zero-padded with trailing spaces removed, so the network's
// space-padded "SHOP1          " equals "SHOP1".
struct MerchantId {
  static constexpr size_t kLengthMax = 15;

  // Nullopt for empty text (after trimming trailing spaces), more than 15
  // bytes, or bytes outside printable ASCII 0x20..0x7e.
  static std::optional<MerchantId> FromString(std::string_view text);

  std::string_view view() const;
  bool empty() const { return bytes[0] == 0; }
  bool operator==(const MerchantId&) const = default;

  std::array<char, kLengthMax> bytes{};
};

// Whether a list allows only its entries or denies them.
enum class ListMode : uint8_t {
  kNone = 0,   // The list is empty.
  kAllow = 1,  // Only the listed entries are allowed.
  kDeny = 2,   // The listed entries are denied.
};

// The rules of one level. MCC ranges have an allow list and a deny list, so
// "all retail except 5967" is expressible. Country and merchant lists are
// either an allow list or a deny list: at one level both at once add nothing
// (an allow list already denies everything it does not list), and one list
// keeps the largest SetControls command inside a journal entry. Counts say
// how many array entries are in use; entries past a count are ignored.
struct Controls {
  uint64_t transaction_amount_max = kNoAmountLimit;  // Minor units of the program currency.
  uint64_t daily_amount_max = kNoAmountLimit;
  uint64_t weekly_amount_max = kNoAmountLimit;
  uint64_t monthly_amount_max = kNoAmountLimit;
  uint64_t lifetime_amount_max = kNoAmountLimit;
  uint8_t channels_blocked = 0;  // kChannelBit* bits.

  uint8_t velocity_rule_count = 0;
  uint8_t mcc_allow_count = 0;  // Empty: every MCC allowed (unless denied).
  uint8_t mcc_deny_count = 0;
  ListMode country_mode = ListMode::kNone;
  uint8_t country_count = 0;
  ListMode merchant_mode = ListMode::kNone;
  uint8_t merchant_count = 0;
  std::array<VelocityRule, kVelocityRulesMax> velocity_rules{};
  std::array<MccRange, kMccRangesMax> mcc_allow{};
  std::array<MccRange, kMccRangesMax> mcc_deny{};
  std::array<uint16_t, kCountriesMax> countries{};
  std::array<MerchantId, kMerchantIdsMax> merchants{};

  // Builders: each returns false (and changes nothing) when its list is full,
  // or when adding to a country or merchant list of the other mode.
  bool AddVelocityRule(uint32_t window_seconds, uint32_t count_max);
  bool AllowMcc(uint16_t first, uint16_t last);
  bool DenyMcc(uint16_t first, uint16_t last);
  bool AllowCountry(uint16_t country_numeric);
  bool DenyCountry(uint16_t country_numeric);
  bool AllowMerchant(const MerchantId& merchant_id);
  bool DenyMerchant(const MerchantId& merchant_id);

  // True when no rule restricts anything (the state keeps no controls then).
  bool IsUnrestricted() const;
  // Returns a copy with unused list entries zeroed, so that two Controls with
  // the same rules compare equal and serialize the same. Precondition: valid.
  Controls Canonical() const;
  bool operator==(const Controls&) const = default;
};

// Checks counts against array sizes, list modes (kNone exactly when the list
// is empty), MCC ranges (first <= last <= 9999), countries (1..999),
// merchant ids (non-empty, printable, zero-padded),
// velocity rules (window 1..kVelocityWindowSecondsMax s, count
// 1..kVelocityRingSize) and channel bits. Amount limits need no check:
// kNoAmountLimit means none, 0 means only zero-amount verifications pass.
bool IsValidControls(const Controls& controls);

// Spend already counted at one level. Calendar windows reset when a newer
// authorization arrives in a later window; lifetime never resets. The
// velocity ring keeps the times (seconds since the epoch) of the last
// kVelocityRingSize approvals that count toward velocity.
struct SpendCounters {
  uint64_t day_amount_minor = 0;
  uint64_t week_amount_minor = 0;
  uint64_t month_amount_minor = 0;
  uint64_t lifetime_amount_minor = 0;
  uint32_t day_index = 0;  // The window the amount above belongs to.
  uint32_t week_index = 0;
  uint32_t month_index = 0;
  uint8_t velocity_start = 0;  // Ring position of the oldest entry.
  uint8_t velocity_count = 0;  // Entries in use, at most kVelocityRingSize.
  std::array<uint32_t, kVelocityRingSize> velocity_seconds{};

  // Spend in the window containing `now` (0 when the counters hold an
  // earlier window, which has ended).
  uint64_t DaySpend(const CalendarWindows& now) const {
    return day_index == now.day_index ? day_amount_minor : 0;
  }
  uint64_t WeekSpend(const CalendarWindows& now) const {
    return week_index == now.week_index ? week_amount_minor : 0;
  }
  uint64_t MonthSpend(const CalendarWindows& now) const {
    return month_index == now.month_index ? month_amount_minor : 0;
  }
  // Remembered approvals at most `window_seconds` old: now - t < window.
  uint32_t ApprovalsInWindow(uint32_t now_seconds, uint32_t window_seconds) const;
  // The i-th remembered approval time, oldest first. Precondition: i < count.
  uint32_t VelocityEntry(uint32_t i) const {
    return velocity_seconds[(velocity_start + i) % kVelocityRingSize];
  }
};

// Counts an approved amount at `timestamp_ns` (the authorization's time, as
// given to EvaluateControls). An amount in a window older than the counters'
// current one counts only toward lifetime. `counts_toward_velocity` is false
// for an incremental authorization, which extends a purchase already counted.
// Sums saturate at UINT64_MAX instead of wrapping; returns false if one did.
bool AddSpend(SpendCounters* counters, uint64_t amount_minor, uint64_t timestamp_ns,
              bool counts_toward_velocity);

// Takes back a reversed amount of an authorization made at
// `original_timestamp_ns`: from each window only while the counters still
// hold the window it was counted in, and from lifetime. A full reversal
// (`release_velocity`) also forgets the newest remembered approval at that
// second. Sums clamp at zero, and windows at the lifetime total (a reversal
// larger than what was counted is a caller error, but must neither wrap nor
// leave a window above what was ever spent); returns false if one did.
bool RemoveSpend(SpendCounters* counters, uint64_t amount_minor, uint64_t original_timestamp_ns,
                 bool release_velocity);

// What EvaluateControls needs to know about one authorization.
struct AuthorizationContext {
  uint64_t timestamp_ns = 0;      // The engine's time of the request, UTC ns since the epoch.
  uint64_t amount_minor = 0;      // Billing amount in the account currency (ISO 8583 field 6).
  uint16_t currency_numeric = 0;  // Billing currency, ISO 4217 numeric.
  uint16_t mcc = 0;               // Merchant category code (field 18).
  uint16_t merchant_country_numeric = 0;  // ISO 3166-1 numeric (field 19/43); 0 unknown.
  Channel channel = Channel::kCardPresent;
  bool contactless = false;
  // False for incremental authorizations and balance inquiries.
  bool counts_toward_velocity = true;
  MerchantId merchant_id;
  // Card expiry from the request (field 14); 0 when the request has none.
  uint16_t expiry_year = 0;
  uint8_t expiry_month = 0;
};

// One applicable level: its rules and the counters its limits apply to.
// A null `controls` is skipped. `counters` must be non-null when controls is.
struct ControlScope {
  const Controls* controls = nullptr;
  const SpendCounters* counters = nullptr;
};

// The first decline reason in the documented order over all scopes, or
// DeclineReason::kNone. O(rules), no allocation. Precondition: the context's
// timestamp is below kTimestampNsMax.
DeclineReason EvaluateControls(const AuthorizationContext& context,
                               std::span<const ControlScope> scopes);

}  // namespace tangelo::issuing
