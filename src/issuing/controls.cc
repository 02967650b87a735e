#include "issuing/controls.h"

#include <algorithm>

#include "base/assert.h"
#include "base/money.h"

namespace tangelo::issuing {
namespace {

template <typename T, size_t N>
bool Append(std::array<T, N>* list, uint8_t* count, const T& value) {
  if (*count >= N) return false;
  (*list)[*count] = value;
  ++*count;
  return true;
}

// Appends to a list that is either an allow or a deny list.
template <typename T, size_t N>
bool AppendModal(std::array<T, N>* list, uint8_t* count, ListMode* mode, ListMode wanted,
                 const T& value) {
  if (*count > 0 && *mode != wanted) return false;
  if (!Append(list, count, value)) return false;
  *mode = wanted;
  return true;
}

bool IsValidMode(ListMode mode, uint8_t count) {
  if (count == 0) return mode == ListMode::kNone;
  return mode == ListMode::kAllow || mode == ListMode::kDeny;
}

bool IsValidRange(const MccRange& range) {
  return range.first <= range.last && range.last <= kMccMax;
}

bool IsValidCountry(uint16_t country) { return country >= 1 && country <= kCountryNumericMax; }

bool IsValidMerchant(const MerchantId& merchant) {
  if (merchant.empty()) return false;
  bool ended = false;
  for (char byte : merchant.bytes) {
    if (byte == 0) {
      ended = true;
    } else if (ended || byte < 0x20 || byte > 0x7e) {
      return false;  // A byte after the padding, or not printable.
    }
  }
  // A trailing space would make two spellings of one merchant.
  return merchant.view().back() != ' ';
}

template <typename T, size_t N, typename Predicate>
bool AllValid(const std::array<T, N>& list, uint8_t count, Predicate&& valid) {
  if (count > N) return false;
  for (uint8_t i = 0; i < count; ++i) {
    if (!valid(list[i])) return false;
  }
  return true;
}

template <typename T, size_t N, typename Predicate>
bool AnyOf(const std::array<T, N>& list, uint8_t count, Predicate&& predicate) {
  for (uint8_t i = 0; i < count; ++i) {
    if (predicate(list[i])) return true;
  }
  return false;
}

template <typename T, size_t N>
void ZeroUnused(std::array<T, N>* list, uint8_t count) {
  for (size_t i = count; i < N; ++i) (*list)[i] = T{};
}

uint8_t ChannelBits(const AuthorizationContext& context) {
  uint8_t bits = 0;
  switch (context.channel) {
    case Channel::kCardPresent:
      bits = kChannelBitCardPresent;
      break;
    case Channel::kEcommerce:
      bits = kChannelBitEcommerce;
      break;
    case Channel::kAtm:
      bits = kChannelBitAtm;
      break;
  }
  if (context.contactless) bits |= kChannelBitContactless;
  return bits;
}

// True when spent + amount > limit, counting an overflow as over the limit.
bool Exceeds(uint64_t spent, uint64_t amount, uint64_t limit) {
  if (limit == kNoAmountLimit) return false;
  uint64_t total = 0;
  if (!base::CheckedAdd(spent, amount, &total)) return true;
  return total > limit;
}

uint64_t SaturatingAdd(uint64_t a, uint64_t b, bool* exact) {
  uint64_t total = 0;
  if (base::CheckedAdd(a, b, &total)) return total;
  *exact = false;
  return UINT64_MAX;
}

uint64_t ClampedSub(uint64_t a, uint64_t b, bool* exact) {
  uint64_t difference = 0;
  if (base::CheckedSub(a, b, &difference)) return difference;
  *exact = false;
  return 0;
}

uint32_t SecondsOf(uint64_t timestamp_ns) {
  return static_cast<uint32_t>(timestamp_ns / kNanosPerSecond);
}

}  // namespace

std::optional<MerchantId> MerchantId::FromString(std::string_view text) {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty() || text.size() > kLengthMax) return std::nullopt;
  MerchantId merchant;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] < 0x20 || text[i] > 0x7e) return std::nullopt;
    merchant.bytes[i] = text[i];
  }
  return merchant;
}

std::string_view MerchantId::view() const {
  const auto end = std::find(bytes.begin(), bytes.end(), '\0');
  return std::string_view(bytes.data(), static_cast<size_t>(end - bytes.begin()));
}

bool Controls::AddVelocityRule(uint32_t window_seconds, uint32_t count_max) {
  return Append(&velocity_rules, &velocity_rule_count, VelocityRule{window_seconds, count_max});
}
bool Controls::AllowMcc(uint16_t first, uint16_t last) {
  return Append(&mcc_allow, &mcc_allow_count, MccRange{first, last});
}
bool Controls::DenyMcc(uint16_t first, uint16_t last) {
  return Append(&mcc_deny, &mcc_deny_count, MccRange{first, last});
}
bool Controls::AllowCountry(uint16_t country_numeric) {
  return AppendModal(&countries, &country_count, &country_mode, ListMode::kAllow, country_numeric);
}
bool Controls::DenyCountry(uint16_t country_numeric) {
  return AppendModal(&countries, &country_count, &country_mode, ListMode::kDeny, country_numeric);
}
bool Controls::AllowMerchant(const MerchantId& merchant_id) {
  return AppendModal(&merchants, &merchant_count, &merchant_mode, ListMode::kAllow, merchant_id);
}
bool Controls::DenyMerchant(const MerchantId& merchant_id) {
  return AppendModal(&merchants, &merchant_count, &merchant_mode, ListMode::kDeny, merchant_id);
}

bool Controls::IsUnrestricted() const {
  return transaction_amount_max == kNoAmountLimit && daily_amount_max == kNoAmountLimit &&
         weekly_amount_max == kNoAmountLimit && monthly_amount_max == kNoAmountLimit &&
         lifetime_amount_max == kNoAmountLimit && channels_blocked == 0 &&
         velocity_rule_count == 0 && mcc_allow_count == 0 && mcc_deny_count == 0 &&
         country_count == 0 && merchant_count == 0;
}

Controls Controls::Canonical() const {
  TG_ASSERT(IsValidControls(*this));
  Controls copy = *this;
  ZeroUnused(&copy.velocity_rules, copy.velocity_rule_count);
  ZeroUnused(&copy.mcc_allow, copy.mcc_allow_count);
  ZeroUnused(&copy.mcc_deny, copy.mcc_deny_count);
  ZeroUnused(&copy.countries, copy.country_count);
  ZeroUnused(&copy.merchants, copy.merchant_count);
  return copy;
}

bool IsValidControls(const Controls& controls) {
  if ((controls.channels_blocked & ~kChannelBitsAll) != 0) return false;
  const auto valid_rule = [](const VelocityRule& rule) {
    return rule.window_seconds >= 1 && rule.window_seconds <= kVelocityWindowSecondsMax &&
           rule.count_max >= 1 && rule.count_max <= kVelocityRingSize;
  };
  return IsValidMode(controls.country_mode, controls.country_count) &&
         IsValidMode(controls.merchant_mode, controls.merchant_count) &&
         AllValid(controls.velocity_rules, controls.velocity_rule_count, valid_rule) &&
         AllValid(controls.mcc_allow, controls.mcc_allow_count, IsValidRange) &&
         AllValid(controls.mcc_deny, controls.mcc_deny_count, IsValidRange) &&
         AllValid(controls.countries, controls.country_count, IsValidCountry) &&
         AllValid(controls.merchants, controls.merchant_count, IsValidMerchant);
}

uint32_t SpendCounters::ApprovalsInWindow(uint32_t now_seconds, uint32_t window_seconds) const {
  uint32_t approvals = 0;
  for (uint32_t i = 0; i < velocity_count; ++i) {
    const uint32_t approved_seconds = VelocityEntry(i);
    // Approvals stamped after `now` (a request handled out of order) are
    // inside the window too: they are at most zero seconds old.
    if (approved_seconds >= now_seconds || now_seconds - approved_seconds < window_seconds) {
      ++approvals;
    }
  }
  return approvals;
}

bool AddSpend(SpendCounters* counters, uint64_t amount_minor, uint64_t timestamp_ns,
              bool counts_toward_velocity) {
  TG_ASSERT(counters != nullptr);
  const CalendarWindows now = CalendarWindowsAt(timestamp_ns);
  bool exact = true;
  // Each window: a later window starts from zero; the same window adds; an
  // earlier one (a request stamped before the newest counted) has ended.
  if (now.day_index > counters->day_index) {
    counters->day_index = now.day_index;
    counters->day_amount_minor = 0;
  }
  if (now.day_index == counters->day_index) {
    counters->day_amount_minor = SaturatingAdd(counters->day_amount_minor, amount_minor, &exact);
  }
  if (now.week_index > counters->week_index) {
    counters->week_index = now.week_index;
    counters->week_amount_minor = 0;
  }
  if (now.week_index == counters->week_index) {
    counters->week_amount_minor = SaturatingAdd(counters->week_amount_minor, amount_minor, &exact);
  }
  if (now.month_index > counters->month_index) {
    counters->month_index = now.month_index;
    counters->month_amount_minor = 0;
  }
  if (now.month_index == counters->month_index) {
    counters->month_amount_minor =
        SaturatingAdd(counters->month_amount_minor, amount_minor, &exact);
  }
  counters->lifetime_amount_minor =
      SaturatingAdd(counters->lifetime_amount_minor, amount_minor, &exact);

  if (counts_toward_velocity) {
    const uint32_t seconds = SecondsOf(timestamp_ns);
    if (counters->velocity_count < kVelocityRingSize) {
      counters->velocity_seconds[(counters->velocity_start + counters->velocity_count) %
                                 kVelocityRingSize] = seconds;
      ++counters->velocity_count;
    } else {
      // Full: the new approval replaces the oldest remembered one.
      counters->velocity_seconds[counters->velocity_start] = seconds;
      counters->velocity_start =
          static_cast<uint8_t>((counters->velocity_start + 1) % kVelocityRingSize);
    }
  }
  return exact;
}

bool RemoveSpend(SpendCounters* counters, uint64_t amount_minor, uint64_t original_timestamp_ns,
                 bool release_velocity) {
  TG_ASSERT(counters != nullptr);
  const CalendarWindows original = CalendarWindowsAt(original_timestamp_ns);
  bool exact = true;
  if (original.day_index == counters->day_index) {
    counters->day_amount_minor = ClampedSub(counters->day_amount_minor, amount_minor, &exact);
  }
  if (original.week_index == counters->week_index) {
    counters->week_amount_minor = ClampedSub(counters->week_amount_minor, amount_minor, &exact);
  }
  if (original.month_index == counters->month_index) {
    counters->month_amount_minor = ClampedSub(counters->month_amount_minor, amount_minor, &exact);
  }
  counters->lifetime_amount_minor =
      ClampedSub(counters->lifetime_amount_minor, amount_minor, &exact);
  // A release larger than what its authorization added (a caller error) can
  // take lifetime below a window that did not give the amount back. No window
  // can hold more than was ever spent, so clamp to keep
  // day <= week, month <= lifetime.
  const auto clamp = [&exact](uint64_t* amount, uint64_t ceiling) {
    if (*amount > ceiling) {
      *amount = ceiling;
      exact = false;
    }
  };
  clamp(&counters->week_amount_minor, counters->lifetime_amount_minor);
  clamp(&counters->month_amount_minor, counters->lifetime_amount_minor);
  clamp(&counters->day_amount_minor,
        std::min(counters->week_amount_minor, counters->month_amount_minor));

  if (release_velocity) {
    const uint32_t seconds = SecondsOf(original_timestamp_ns);
    // Forget the newest matching entry (an approval already pushed out of
    // the ring has nothing left to forget), closing the gap it leaves.
    for (uint32_t i = counters->velocity_count; i-- > 0;) {
      if (counters->VelocityEntry(i) != seconds) continue;
      for (uint32_t j = i; j + 1 < counters->velocity_count; ++j) {
        counters->velocity_seconds[(counters->velocity_start + j) % kVelocityRingSize] =
            counters->VelocityEntry(j + 1);
      }
      --counters->velocity_count;
      counters->velocity_seconds[(counters->velocity_start + counters->velocity_count) %
                                 kVelocityRingSize] = 0;
      break;
    }
  }
  return exact;
}

DeclineReason EvaluateControls(const AuthorizationContext& context,
                               std::span<const ControlScope> scopes) {
  // 1. Channel.
  const uint8_t channel_bits = ChannelBits(context);
  for (const ControlScope& scope : scopes) {
    if (scope.controls != nullptr && (scope.controls->channels_blocked & channel_bits) != 0) {
      return DeclineReason::kChannelBlocked;
    }
  }
  // 2. Merchant category.
  const auto contains_mcc = [&context](const MccRange& range) {
    return range.Contains(context.mcc);
  };
  for (const ControlScope& scope : scopes) {
    const Controls* controls = scope.controls;
    if (controls == nullptr) continue;
    if (controls->mcc_allow_count > 0 &&
        !AnyOf(controls->mcc_allow, controls->mcc_allow_count, contains_mcc)) {
      return DeclineReason::kMccBlocked;
    }
    if (AnyOf(controls->mcc_deny, controls->mcc_deny_count, contains_mcc)) {
      return DeclineReason::kMccBlocked;
    }
  }
  // 3. Merchant country.
  const auto is_country = [&context](uint16_t country) {
    return country == context.merchant_country_numeric;
  };
  for (const ControlScope& scope : scopes) {
    const Controls* controls = scope.controls;
    if (controls != nullptr && controls->country_count > 0 &&
        AnyOf(controls->countries, controls->country_count, is_country) !=
            (controls->country_mode == ListMode::kAllow)) {
      return DeclineReason::kCountryBlocked;
    }
  }
  // 4. Merchant id.
  const auto is_merchant = [&context](const MerchantId& merchant) {
    return merchant == context.merchant_id;
  };
  for (const ControlScope& scope : scopes) {
    const Controls* controls = scope.controls;
    if (controls != nullptr && controls->merchant_count > 0 &&
        AnyOf(controls->merchants, controls->merchant_count, is_merchant) !=
            (controls->merchant_mode == ListMode::kAllow)) {
      return DeclineReason::kMerchantBlocked;
    }
  }
  // 5. Per-transaction amount.
  for (const ControlScope& scope : scopes) {
    if (scope.controls != nullptr &&
        Exceeds(0, context.amount_minor, scope.controls->transaction_amount_max)) {
      return DeclineReason::kTransactionLimitExceeded;
    }
  }
  // 6-9. Calendar windows, each over every scope before the next window.
  const CalendarWindows now = CalendarWindowsAt(context.timestamp_ns);
  for (const ControlScope& scope : scopes) {
    if (scope.controls == nullptr) continue;
    TG_ASSERT(scope.counters != nullptr);
    if (Exceeds(scope.counters->DaySpend(now), context.amount_minor,
                scope.controls->daily_amount_max)) {
      return DeclineReason::kDailyLimitExceeded;
    }
  }
  for (const ControlScope& scope : scopes) {
    if (scope.controls != nullptr && Exceeds(scope.counters->WeekSpend(now), context.amount_minor,
                                             scope.controls->weekly_amount_max)) {
      return DeclineReason::kWeeklyLimitExceeded;
    }
  }
  for (const ControlScope& scope : scopes) {
    if (scope.controls != nullptr && Exceeds(scope.counters->MonthSpend(now), context.amount_minor,
                                             scope.controls->monthly_amount_max)) {
      return DeclineReason::kMonthlyLimitExceeded;
    }
  }
  for (const ControlScope& scope : scopes) {
    if (scope.controls != nullptr &&
        Exceeds(scope.counters->lifetime_amount_minor, context.amount_minor,
                scope.controls->lifetime_amount_max)) {
      return DeclineReason::kLifetimeLimitExceeded;
    }
  }
  // 10. Velocity: this approval would be one more in the window.
  if (context.counts_toward_velocity) {
    const uint32_t now_seconds = SecondsOf(context.timestamp_ns);
    for (const ControlScope& scope : scopes) {
      const Controls* controls = scope.controls;
      if (controls == nullptr) continue;
      for (uint8_t i = 0; i < controls->velocity_rule_count; ++i) {
        const VelocityRule& rule = controls->velocity_rules[i];
        if (scope.counters->ApprovalsInWindow(now_seconds, rule.window_seconds) >= rule.count_max) {
          return DeclineReason::kVelocityExceeded;
        }
      }
    }
  }
  return DeclineReason::kNone;
}

}  // namespace tangelo::issuing
