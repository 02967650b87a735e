#include "issuing/controls.h"

#include <gtest/gtest.h>

#include <vector>

#include "issuing/test_fixture.h"

namespace tangelo::issuing {
namespace {

using testing::NsAt;

const uint64_t kWednesdayNoon = NsAt(2026, 3, 11, 12);  // Week of Monday 2026-03-09.

MerchantId Merchant(std::string_view text) { return *MerchantId::FromString(text); }

AuthorizationContext Context(uint64_t amount, uint64_t timestamp_ns = kWednesdayNoon) {
  AuthorizationContext context;
  context.timestamp_ns = timestamp_ns;
  context.amount_minor = amount;
  context.currency_numeric = 840;
  context.mcc = 5411;
  context.merchant_country_numeric = 840;
  context.channel = Channel::kCardPresent;
  context.merchant_id = Merchant("GROCER01");
  return context;
}

DeclineReason Evaluate(const AuthorizationContext& context, const Controls& controls,
                       const SpendCounters& counters = SpendCounters{}) {
  const ControlScope scope{&controls, &counters};
  return EvaluateControls(context, {&scope, 1});
}

// ---------------------------------------------------------------- values

TEST(MerchantIdTest, ParsesTrimsAndRejects) {
  EXPECT_EQ(Merchant("SHOP1          ").view(), "SHOP1");
  EXPECT_EQ(Merchant("SHOP1"), Merchant("SHOP1   "));
  EXPECT_EQ(Merchant("123456789012345").view(), "123456789012345");
  EXPECT_EQ(Merchant(" LEADING").view(), " LEADING");
  EXPECT_FALSE(MerchantId::FromString("").has_value());
  EXPECT_FALSE(MerchantId::FromString("     ").has_value());
  EXPECT_FALSE(MerchantId::FromString("1234567890123456").has_value());
  EXPECT_FALSE(MerchantId::FromString(std::string_view("AB\0C", 4)).has_value());
  EXPECT_FALSE(MerchantId::FromString("TAB\tX").has_value());
  EXPECT_FALSE(MerchantId::FromString("caf\xc3\xa9").has_value());
  EXPECT_TRUE(MerchantId{}.empty());
}

TEST(ControlsTest, BuildersStopAtCapacityAndKeepOneModePerList) {
  Controls controls;
  for (uint32_t i = 0; i < kMccRangesMax; ++i) {
    EXPECT_TRUE(controls.DenyMcc(static_cast<uint16_t>(i), static_cast<uint16_t>(i)));
  }
  EXPECT_FALSE(controls.DenyMcc(100, 100));
  EXPECT_EQ(controls.mcc_deny_count, kMccRangesMax);

  EXPECT_TRUE(controls.AllowCountry(840));
  EXPECT_FALSE(controls.DenyCountry(643));  // The country list is an allow list now.
  EXPECT_EQ(controls.country_count, 1);
  EXPECT_EQ(controls.country_mode, ListMode::kAllow);

  EXPECT_TRUE(controls.DenyMerchant(Merchant("BAD")));
  EXPECT_FALSE(controls.AllowMerchant(Merchant("GOOD")));
  for (uint32_t i = 1; i < kMerchantIdsMax; ++i) {
    EXPECT_TRUE(controls.DenyMerchant(Merchant("BAD" + std::to_string(i))));
  }
  EXPECT_FALSE(controls.DenyMerchant(Merchant("ONE_TOO_MANY")));

  for (uint32_t i = 0; i < kVelocityRulesMax; ++i) EXPECT_TRUE(controls.AddVelocityRule(60, 1));
  EXPECT_FALSE(controls.AddVelocityRule(60, 1));
  EXPECT_TRUE(IsValidControls(controls));
}

TEST(ControlsTest, UnrestrictedAndCanonical) {
  Controls controls;
  EXPECT_TRUE(controls.IsUnrestricted());
  controls.daily_amount_max = 0;
  EXPECT_FALSE(controls.IsUnrestricted());

  Controls with_garbage;
  ASSERT_TRUE(with_garbage.DenyMcc(7995, 7995));
  with_garbage.mcc_deny[5] = MccRange{1, 2};  // Past the count: ignored, then zeroed.
  with_garbage.countries[3] = 840;
  Controls clean;
  ASSERT_TRUE(clean.DenyMcc(7995, 7995));
  EXPECT_FALSE(with_garbage == clean);
  EXPECT_TRUE(with_garbage.Canonical() == clean);
}

TEST(ControlsTest, ValidationRejectsEveryMalformedField) {
  const auto invalid = [](auto mutate) {
    Controls controls;
    mutate(controls);
    return !IsValidControls(controls);
  };
  EXPECT_TRUE(invalid([](Controls& c) { c.channels_blocked = 16; }));
  EXPECT_TRUE(invalid([](Controls& c) { c.velocity_rule_count = kVelocityRulesMax + 1; }));
  EXPECT_TRUE(invalid([](Controls& c) { c.AddVelocityRule(0, 1); }));
  EXPECT_TRUE(invalid([](Controls& c) { c.AddVelocityRule(kVelocityWindowSecondsMax + 1, 1); }));
  EXPECT_TRUE(invalid([](Controls& c) { c.AddVelocityRule(900, 0); }));
  EXPECT_TRUE(invalid([](Controls& c) { c.AddVelocityRule(900, kVelocityRingSize + 1); }));
  EXPECT_TRUE(invalid([](Controls& c) { c.AllowMcc(6000, 5000); }));
  EXPECT_TRUE(invalid([](Controls& c) { c.DenyMcc(9000, 10000); }));
  EXPECT_TRUE(invalid([](Controls& c) { c.mcc_allow_count = kMccRangesMax + 1; }));
  EXPECT_TRUE(invalid([](Controls& c) { c.DenyCountry(0); }));
  EXPECT_TRUE(invalid([](Controls& c) { c.AllowCountry(1000); }));
  EXPECT_TRUE(invalid([](Controls& c) { c.country_count = kCountriesMax + 1; }));
  EXPECT_TRUE(invalid([](Controls& c) {
    c.AllowCountry(840);
    c.country_mode = ListMode::kNone;  // Entries without a mode.
  }));
  EXPECT_TRUE(invalid([](Controls& c) { c.country_mode = ListMode::kDeny; }));  // Mode, no entries.
  EXPECT_TRUE(invalid([](Controls& c) {
    c.AllowCountry(840);
    c.country_mode = static_cast<ListMode>(3);
  }));
  EXPECT_TRUE(invalid([](Controls& c) {
    c.merchants[0] = MerchantId{};
    c.merchant_count = 1;
    c.merchant_mode = ListMode::kDeny;
  }));
  EXPECT_TRUE(invalid([](Controls& c) {
    MerchantId merchant = Merchant("AB");
    merchant.bytes[5] = 'X';  // A byte after the zero padding.
    c.DenyMerchant(merchant);
  }));
  EXPECT_TRUE(invalid([](Controls& c) {
    MerchantId merchant = Merchant("AB");
    merchant.bytes[2] = ' ';  // Trailing space: a second spelling of "AB".
    c.DenyMerchant(merchant);
  }));
  EXPECT_TRUE(invalid([](Controls& c) {
    MerchantId merchant = Merchant("AB");
    merchant.bytes[1] = '\x01';
    c.DenyMerchant(merchant);
  }));
  EXPECT_TRUE(invalid([](Controls& c) { c.merchant_count = kMerchantIdsMax + 1; }));

  Controls valid;
  valid.channels_blocked = kChannelBitsAll;
  valid.AddVelocityRule(kVelocityWindowSecondsMax, kVelocityRingSize);
  valid.AllowMcc(0, kMccMax);
  valid.DenyCountry(kCountryNumericMax);
  valid.AllowMerchant(Merchant("123456789012345"));
  EXPECT_TRUE(IsValidControls(valid));
}

// ---------------------------------------------------------------- rules

TEST(EvaluateControlsTest, NoScopesOrNoControlsApprove) {
  EXPECT_EQ(EvaluateControls(Context(100), {}), DeclineReason::kNone);
  const SpendCounters counters;
  const ControlScope empty{nullptr, &counters};
  EXPECT_EQ(EvaluateControls(Context(100), {&empty, 1}), DeclineReason::kNone);
  EXPECT_EQ(Evaluate(Context(UINT64_MAX), Controls{}), DeclineReason::kNone);
}

TEST(EvaluateControlsTest, ChannelToggles) {
  Controls no_ecommerce;
  no_ecommerce.channels_blocked = kChannelBitEcommerce;
  AuthorizationContext context = Context(100);
  EXPECT_EQ(Evaluate(context, no_ecommerce), DeclineReason::kNone);
  context.channel = Channel::kEcommerce;
  EXPECT_EQ(Evaluate(context, no_ecommerce), DeclineReason::kChannelBlocked);

  Controls no_atm;
  no_atm.channels_blocked = kChannelBitAtm;
  context.channel = Channel::kAtm;
  EXPECT_EQ(Evaluate(context, no_atm), DeclineReason::kChannelBlocked);
  context.channel = Channel::kCardPresent;
  EXPECT_EQ(Evaluate(context, no_atm), DeclineReason::kNone);

  Controls no_card_present;
  no_card_present.channels_blocked = kChannelBitCardPresent;
  EXPECT_EQ(Evaluate(context, no_card_present), DeclineReason::kChannelBlocked);
  context.channel = Channel::kAtm;  // An ATM is its own channel.
  EXPECT_EQ(Evaluate(context, no_card_present), DeclineReason::kNone);

  Controls no_contactless;
  no_contactless.channels_blocked = kChannelBitContactless;
  context.channel = Channel::kCardPresent;
  EXPECT_EQ(Evaluate(context, no_contactless), DeclineReason::kNone);
  context.contactless = true;
  EXPECT_EQ(Evaluate(context, no_contactless), DeclineReason::kChannelBlocked);
  context.channel = Channel::kAtm;  // A tap at an ATM is contactless too.
  EXPECT_EQ(Evaluate(context, no_contactless), DeclineReason::kChannelBlocked);
}

TEST(EvaluateControlsTest, MccAllowAndDenyLists) {
  Controls retail_but_adult;
  ASSERT_TRUE(retail_but_adult.AllowMcc(5000, 5999));
  ASSERT_TRUE(retail_but_adult.DenyMcc(5967, 5967));
  AuthorizationContext context = Context(100);
  context.mcc = 5411;
  EXPECT_EQ(Evaluate(context, retail_but_adult), DeclineReason::kNone);
  context.mcc = 5000;
  EXPECT_EQ(Evaluate(context, retail_but_adult), DeclineReason::kNone);
  context.mcc = 5999;
  EXPECT_EQ(Evaluate(context, retail_but_adult), DeclineReason::kNone);
  context.mcc = 5967;
  EXPECT_EQ(Evaluate(context, retail_but_adult), DeclineReason::kMccBlocked);
  context.mcc = 4999;
  EXPECT_EQ(Evaluate(context, retail_but_adult), DeclineReason::kMccBlocked);
  context.mcc = 7995;
  EXPECT_EQ(Evaluate(context, retail_but_adult), DeclineReason::kMccBlocked);

  Controls no_gambling;
  ASSERT_TRUE(no_gambling.DenyMcc(7995, 7995));
  EXPECT_EQ(Evaluate(context, no_gambling), DeclineReason::kMccBlocked);
  context.mcc = 7996;
  EXPECT_EQ(Evaluate(context, no_gambling), DeclineReason::kNone);
}

TEST(EvaluateControlsTest, CountryAllowAndDenyLists) {
  Controls domestic_only;
  ASSERT_TRUE(domestic_only.AllowCountry(840));
  ASSERT_TRUE(domestic_only.AllowCountry(124));
  AuthorizationContext context = Context(100);
  EXPECT_EQ(Evaluate(context, domestic_only), DeclineReason::kNone);
  context.merchant_country_numeric = 124;
  EXPECT_EQ(Evaluate(context, domestic_only), DeclineReason::kNone);
  context.merchant_country_numeric = 643;
  EXPECT_EQ(Evaluate(context, domestic_only), DeclineReason::kCountryBlocked);
  context.merchant_country_numeric = 0;  // Unknown: never in an allow list.
  EXPECT_EQ(Evaluate(context, domestic_only), DeclineReason::kCountryBlocked);

  Controls sanctions;
  ASSERT_TRUE(sanctions.DenyCountry(408));
  ASSERT_TRUE(sanctions.DenyCountry(192));
  EXPECT_EQ(Evaluate(context, sanctions), DeclineReason::kNone);  // Unknown passes a deny list.
  context.merchant_country_numeric = 408;
  EXPECT_EQ(Evaluate(context, sanctions), DeclineReason::kCountryBlocked);
  context.merchant_country_numeric = 840;
  EXPECT_EQ(Evaluate(context, sanctions), DeclineReason::kNone);
}

TEST(EvaluateControlsTest, MerchantAllowAndDenyLists) {
  Controls locked;
  ASSERT_TRUE(locked.AllowMerchant(Merchant("GROCER01")));
  AuthorizationContext context = Context(100);
  EXPECT_EQ(Evaluate(context, locked), DeclineReason::kNone);
  context.merchant_id = Merchant("GROCER01       ");  // Space padded from field 42.
  EXPECT_EQ(Evaluate(context, locked), DeclineReason::kNone);
  context.merchant_id = Merchant("GROCER02");
  EXPECT_EQ(Evaluate(context, locked), DeclineReason::kMerchantBlocked);

  Controls denied;
  ASSERT_TRUE(denied.DenyMerchant(Merchant("GROCER02")));
  EXPECT_EQ(Evaluate(context, denied), DeclineReason::kMerchantBlocked);
  context.merchant_id = Merchant("GROCER01");
  EXPECT_EQ(Evaluate(context, denied), DeclineReason::kNone);
}

TEST(EvaluateControlsTest, PerTransactionLimit) {
  Controls controls;
  controls.transaction_amount_max = 50'00;
  EXPECT_EQ(Evaluate(Context(50'00), controls), DeclineReason::kNone);
  EXPECT_EQ(Evaluate(Context(50'01), controls), DeclineReason::kTransactionLimitExceeded);
  controls.transaction_amount_max = 0;  // Only account verifications.
  EXPECT_EQ(Evaluate(Context(0), controls), DeclineReason::kNone);
  EXPECT_EQ(Evaluate(Context(1), controls), DeclineReason::kTransactionLimitExceeded);
}

TEST(EvaluateControlsTest, WindowLimitsCountWhatWasSpent) {
  Controls controls;
  controls.daily_amount_max = 100'00;
  controls.weekly_amount_max = 300'00;
  controls.monthly_amount_max = 500'00;
  controls.lifetime_amount_max = 1000'00;
  SpendCounters counters;
  ASSERT_TRUE(AddSpend(&counters, 60'00, kWednesdayNoon - 3600 * kNanosPerSecond, true));
  EXPECT_EQ(Evaluate(Context(40'00), controls, counters), DeclineReason::kNone);
  EXPECT_EQ(Evaluate(Context(40'01), controls, counters), DeclineReason::kDailyLimitExceeded);

  SpendCounters weekly;  // 250 spent on Monday of the same week.
  ASSERT_TRUE(AddSpend(&weekly, 250'00, NsAt(2026, 3, 9, 10), true));
  EXPECT_EQ(Evaluate(Context(50'00), controls, weekly), DeclineReason::kNone);
  EXPECT_EQ(Evaluate(Context(50'01), controls, weekly), DeclineReason::kWeeklyLimitExceeded);

  SpendCounters monthly;  // 450 spent on the 2nd of the month.
  ASSERT_TRUE(AddSpend(&monthly, 450'00, NsAt(2026, 3, 2, 10), true));
  EXPECT_EQ(Evaluate(Context(50'00), controls, monthly), DeclineReason::kNone);
  EXPECT_EQ(Evaluate(Context(50'01), controls, monthly), DeclineReason::kMonthlyLimitExceeded);

  SpendCounters lifetime;  // 960 spent years ago.
  ASSERT_TRUE(AddSpend(&lifetime, 960'00, NsAt(2020, 1, 1), true));
  EXPECT_EQ(Evaluate(Context(40'00), controls, lifetime), DeclineReason::kNone);
  EXPECT_EQ(Evaluate(Context(40'01), controls, lifetime), DeclineReason::kLifetimeLimitExceeded);
}

TEST(EvaluateControlsTest, DailyWindowResetsAtMidnightUtc) {
  Controls controls;
  controls.daily_amount_max = 100'00;
  SpendCounters counters;
  ASSERT_TRUE(AddSpend(&counters, 90'00, NsAt(2026, 3, 11, 23, 59, 59), true));
  EXPECT_EQ(Evaluate(Context(20'00, NsAt(2026, 3, 11, 23, 59, 59)), controls, counters),
            DeclineReason::kDailyLimitExceeded);
  EXPECT_EQ(Evaluate(Context(100'00, NsAt(2026, 3, 12)), controls, counters), DeclineReason::kNone);
}

TEST(EvaluateControlsTest, WeeklyWindowResetsOnMondayNotAfterSevenDays) {
  Controls controls;
  controls.weekly_amount_max = 100'00;
  SpendCounters counters;
  ASSERT_TRUE(AddSpend(&counters, 90'00, NsAt(2026, 3, 9, 0, 0, 1), true));  // Monday.
  // Sunday night, six days later: same ISO week.
  EXPECT_EQ(Evaluate(Context(20'00, NsAt(2026, 3, 15, 23, 59, 59)), controls, counters),
            DeclineReason::kWeeklyLimitExceeded);
  // Monday 00:00: a new week even though fewer than seven days passed since
  // a Sunday purchase would have.
  EXPECT_EQ(Evaluate(Context(100'00, NsAt(2026, 3, 16)), controls, counters), DeclineReason::kNone);
  SpendCounters sunday;
  ASSERT_TRUE(AddSpend(&sunday, 90'00, NsAt(2026, 3, 15, 22), true));
  EXPECT_EQ(Evaluate(Context(100'00, NsAt(2026, 3, 16, 0, 0, 1)), controls, sunday),
            DeclineReason::kNone);
}

TEST(EvaluateControlsTest, MonthlyWindowResetsOnTheFirst) {
  Controls controls;
  controls.monthly_amount_max = 100'00;
  SpendCounters counters;
  ASSERT_TRUE(AddSpend(&counters, 90'00, NsAt(2026, 1, 31, 23), true));
  EXPECT_EQ(Evaluate(Context(20'00, NsAt(2026, 1, 31, 23, 30)), controls, counters),
            DeclineReason::kMonthlyLimitExceeded);
  EXPECT_EQ(Evaluate(Context(100'00, NsAt(2026, 2, 1)), controls, counters), DeclineReason::kNone);
  // The lifetime counter does not reset.
  EXPECT_EQ(counters.lifetime_amount_minor, 90'00u);
}

TEST(EvaluateControlsTest, Velocity) {
  Controls controls;
  ASSERT_TRUE(controls.AddVelocityRule(15 * 60, 3));  // 3 per 15 minutes.
  ASSERT_TRUE(controls.AddVelocityRule(86400, 5));    // 5 per 24 hours.
  SpendCounters counters;
  const uint64_t minute = 60 * kNanosPerSecond;
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(Evaluate(Context(1, kWednesdayNoon + i * minute), controls, counters),
              DeclineReason::kNone);
    ASSERT_TRUE(AddSpend(&counters, 1, kWednesdayNoon + i * minute, true));
  }
  EXPECT_EQ(Evaluate(Context(1, kWednesdayNoon + 3 * minute), controls, counters),
            DeclineReason::kVelocityExceeded);
  // An incremental authorization does not count toward velocity.
  AuthorizationContext incremental = Context(1, kWednesdayNoon + 3 * minute);
  incremental.counts_toward_velocity = false;
  EXPECT_EQ(Evaluate(incremental, controls, counters), DeclineReason::kNone);
  // Exactly 15 minutes after the first approval it leaves the window.
  EXPECT_EQ(Evaluate(Context(1, kWednesdayNoon + 15 * minute), controls, counters),
            DeclineReason::kNone);
  ASSERT_TRUE(AddSpend(&counters, 1, kWednesdayNoon + 15 * minute, true));
  ASSERT_TRUE(AddSpend(&counters, 1, kWednesdayNoon + 40 * minute, true));
  // Five approvals within 24 hours now.
  EXPECT_EQ(Evaluate(Context(1, kWednesdayNoon + 120 * minute), controls, counters),
            DeclineReason::kVelocityExceeded);
  EXPECT_EQ(Evaluate(Context(1, kWednesdayNoon + 86400 * kNanosPerSecond), controls, counters),
            DeclineReason::kNone);
}

TEST(EvaluateControlsTest, FixedOrderWhateverTheLevel) {
  // The card breaks every rule at once; the program only blocks e-commerce.
  Controls card;
  card.transaction_amount_max = 1;
  card.daily_amount_max = 1;
  ASSERT_TRUE(card.DenyMcc(5411, 5411));
  ASSERT_TRUE(card.DenyCountry(840));
  ASSERT_TRUE(card.DenyMerchant(Merchant("GROCER01")));
  ASSERT_TRUE(card.AddVelocityRule(60, 1));
  Controls program;
  program.channels_blocked = kChannelBitEcommerce;
  SpendCounters counters;
  ASSERT_TRUE(AddSpend(&counters, 5, kWednesdayNoon - kNanosPerSecond, true));
  AuthorizationContext context = Context(100);
  context.channel = Channel::kEcommerce;

  std::vector<ControlScope> scopes = {{&card, &counters}, {&program, &counters}};
  // Peel the rules off one at a time and watch the reason follow the order.
  EXPECT_EQ(EvaluateControls(context, scopes), DeclineReason::kChannelBlocked);
  program.channels_blocked = 0;
  EXPECT_EQ(EvaluateControls(context, scopes), DeclineReason::kMccBlocked);
  card.mcc_deny_count = 0;
  EXPECT_EQ(EvaluateControls(context, scopes), DeclineReason::kCountryBlocked);
  card.country_count = 0;
  card.country_mode = ListMode::kNone;
  EXPECT_EQ(EvaluateControls(context, scopes), DeclineReason::kMerchantBlocked);
  card.merchant_count = 0;
  card.merchant_mode = ListMode::kNone;
  EXPECT_EQ(EvaluateControls(context, scopes), DeclineReason::kTransactionLimitExceeded);
  card.transaction_amount_max = kNoAmountLimit;
  EXPECT_EQ(EvaluateControls(context, scopes), DeclineReason::kDailyLimitExceeded);
  card.daily_amount_max = kNoAmountLimit;
  card.weekly_amount_max = 1;
  EXPECT_EQ(EvaluateControls(context, scopes), DeclineReason::kWeeklyLimitExceeded);
  card.weekly_amount_max = kNoAmountLimit;
  card.monthly_amount_max = 1;
  EXPECT_EQ(EvaluateControls(context, scopes), DeclineReason::kMonthlyLimitExceeded);
  card.monthly_amount_max = kNoAmountLimit;
  card.lifetime_amount_max = 1;
  EXPECT_EQ(EvaluateControls(context, scopes), DeclineReason::kLifetimeLimitExceeded);
  card.lifetime_amount_max = kNoAmountLimit;
  EXPECT_EQ(EvaluateControls(context, scopes), DeclineReason::kVelocityExceeded);
  card.velocity_rule_count = 0;
  EXPECT_EQ(EvaluateControls(context, scopes), DeclineReason::kNone);
}

TEST(EvaluateControlsTest, StrictestLevelWinsInEitherOrder) {
  Controls loose;
  loose.daily_amount_max = 100'00;
  loose.transaction_amount_max = 80'00;
  Controls strict;
  strict.daily_amount_max = 50'00;
  strict.transaction_amount_max = 200'00;
  const SpendCounters card_counters;
  SpendCounters account_counters;
  ASSERT_TRUE(AddSpend(&account_counters, 10'00, kWednesdayNoon - kNanosPerSecond, true));

  for (bool strict_first : {false, true}) {
    std::vector<ControlScope> scopes = {{&loose, &card_counters}, {&strict, &account_counters}};
    if (strict_first) std::swap(scopes[0], scopes[1]);
    EXPECT_EQ(EvaluateControls(Context(40'00), scopes), DeclineReason::kNone);
    // 10 + 41 > 50 at the strict level, although 41 is fine for the loose one.
    EXPECT_EQ(EvaluateControls(Context(41'00), scopes), DeclineReason::kDailyLimitExceeded);
    // The per-transaction limit of the loose level is the stricter one.
    EXPECT_EQ(EvaluateControls(Context(90'00), scopes), DeclineReason::kTransactionLimitExceeded);
  }
}

TEST(EvaluateControlsTest, OverflowCountsAsOverTheLimit) {
  Controls controls;
  controls.lifetime_amount_max = UINT64_MAX - 1;
  SpendCounters counters;
  counters.lifetime_amount_minor = UINT64_MAX - 10;
  EXPECT_EQ(Evaluate(Context(9), controls, counters), DeclineReason::kNone);
  EXPECT_EQ(Evaluate(Context(20), controls, counters), DeclineReason::kLifetimeLimitExceeded);
}

// ---------------------------------------------------------------- counters

TEST(SpendCountersTest, AddSpendRollsWindowsForward) {
  SpendCounters counters;
  ASSERT_TRUE(AddSpend(&counters, 10, NsAt(2026, 3, 11, 10), true));
  ASSERT_TRUE(AddSpend(&counters, 20, NsAt(2026, 3, 11, 11), true));
  const CalendarWindows wednesday = CalendarWindowsAt(NsAt(2026, 3, 11));
  EXPECT_EQ(counters.DaySpend(wednesday), 30u);
  ASSERT_TRUE(AddSpend(&counters, 5, NsAt(2026, 3, 12, 1), true));
  const CalendarWindows thursday = CalendarWindowsAt(NsAt(2026, 3, 12));
  EXPECT_EQ(counters.DaySpend(thursday), 5u);
  EXPECT_EQ(counters.DaySpend(wednesday), 0u);  // That window has ended.
  EXPECT_EQ(counters.WeekSpend(thursday), 35u);
  EXPECT_EQ(counters.MonthSpend(thursday), 35u);
  EXPECT_EQ(counters.lifetime_amount_minor, 35u);
  EXPECT_EQ(counters.velocity_count, 3);
}

TEST(SpendCountersTest, LateApprovalCountsOnlyWhereItsWindowIsCurrent) {
  SpendCounters counters;
  ASSERT_TRUE(AddSpend(&counters, 10, NsAt(2026, 3, 12, 1), true));  // Thursday.
  // An advice stamped Wednesday arrives after Thursday's purchase.
  ASSERT_TRUE(AddSpend(&counters, 7, NsAt(2026, 3, 11, 23), true));
  const CalendarWindows thursday = CalendarWindowsAt(NsAt(2026, 3, 12, 2));
  EXPECT_EQ(counters.DaySpend(thursday), 10u);
  EXPECT_EQ(counters.WeekSpend(thursday), 17u);
  EXPECT_EQ(counters.lifetime_amount_minor, 17u);
}

TEST(SpendCountersTest, RemoveSpendTakesBackOnlyFromWindowsStillCurrent) {
  SpendCounters counters;
  const uint64_t monday = NsAt(2026, 3, 9, 10);
  const uint64_t wednesday = NsAt(2026, 3, 11, 10);
  ASSERT_TRUE(AddSpend(&counters, 40, monday, true));
  ASSERT_TRUE(AddSpend(&counters, 25, wednesday, true));
  // Reversing Monday's purchase on Wednesday: the day window is Wednesday's,
  // so only week, month and lifetime give it back.
  ASSERT_TRUE(RemoveSpend(&counters, 40, monday, true));
  const CalendarWindows now = CalendarWindowsAt(wednesday);
  EXPECT_EQ(counters.DaySpend(now), 25u);
  EXPECT_EQ(counters.WeekSpend(now), 25u);
  EXPECT_EQ(counters.MonthSpend(now), 25u);
  EXPECT_EQ(counters.lifetime_amount_minor, 25u);
  EXPECT_EQ(counters.velocity_count, 1);
  EXPECT_EQ(counters.VelocityEntry(0), wednesday / kNanosPerSecond);
  // A partial reversal keeps the approval in the velocity window.
  ASSERT_TRUE(RemoveSpend(&counters, 5, wednesday, false));
  EXPECT_EQ(counters.DaySpend(now), 20u);
  EXPECT_EQ(counters.velocity_count, 1);
}

TEST(SpendCountersTest, ClampsAndSaturatesInsteadOfWrapping) {
  SpendCounters counters;
  ASSERT_TRUE(AddSpend(&counters, 10, kWednesdayNoon, true));
  EXPECT_FALSE(RemoveSpend(&counters, 11, kWednesdayNoon, true));
  EXPECT_EQ(counters.day_amount_minor, 0u);
  EXPECT_EQ(counters.lifetime_amount_minor, 0u);
  EXPECT_EQ(counters.velocity_count, 0);
  EXPECT_FALSE(RemoveSpend(&counters, 1, kWednesdayNoon, true));  // Nothing left to forget.
  EXPECT_EQ(counters.velocity_count, 0);

  ASSERT_TRUE(AddSpend(&counters, UINT64_MAX - 1, kWednesdayNoon, false));
  EXPECT_FALSE(AddSpend(&counters, 5, kWednesdayNoon, false));
  EXPECT_EQ(counters.lifetime_amount_minor, UINT64_MAX);
  EXPECT_EQ(counters.day_amount_minor, UINT64_MAX);
}

TEST(SpendCountersTest, AnOversizedReleaseNeverLeavesAWindowAboveLifetime) {
  SpendCounters counters;
  ASSERT_TRUE(AddSpend(&counters, 500, NsAt(2026, 2, 10), true));  // February.
  ASSERT_TRUE(AddSpend(&counters, 300, NsAt(2026, 3, 11), true));  // March.
  // Releasing 600 for the February authorization of 500 is a caller error:
  // lifetime drops to 200 while March still holds 300.
  EXPECT_FALSE(RemoveSpend(&counters, 600, NsAt(2026, 2, 10), false));
  EXPECT_EQ(counters.lifetime_amount_minor, 200u);
  EXPECT_EQ(counters.month_amount_minor, 200u);
  EXPECT_EQ(counters.week_amount_minor, 200u);
  EXPECT_EQ(counters.day_amount_minor, 200u);
}

TEST(SpendCountersTest, VelocityRingKeepsTheNewestApprovals) {
  SpendCounters counters;
  for (uint32_t i = 0; i < kVelocityRingSize + 5; ++i) {
    ASSERT_TRUE(AddSpend(&counters, 1, kWednesdayNoon + i * kNanosPerSecond, true));
  }
  ASSERT_EQ(counters.velocity_count, kVelocityRingSize);
  const uint32_t first = static_cast<uint32_t>(kWednesdayNoon / kNanosPerSecond);
  for (uint32_t i = 0; i < kVelocityRingSize; ++i) {
    EXPECT_EQ(counters.VelocityEntry(i), first + 5 + i);
  }
  // Forget one in the middle: the order of the rest is kept.
  ASSERT_TRUE(RemoveSpend(&counters, 1, kWednesdayNoon + 10 * kNanosPerSecond, true));
  ASSERT_EQ(counters.velocity_count, kVelocityRingSize - 1);
  EXPECT_EQ(counters.VelocityEntry(4), first + 9);
  EXPECT_EQ(counters.VelocityEntry(5), first + 11);
  EXPECT_EQ(counters.ApprovalsInWindow(first + 20, 11), 10u);  // first+10..first+20, minus one.
  // Reversing an approval already pushed out of the ring changes nothing there.
  ASSERT_TRUE(RemoveSpend(&counters, 1, kWednesdayNoon + 1 * kNanosPerSecond, true));
  EXPECT_EQ(counters.velocity_count, kVelocityRingSize - 1);
}

}  // namespace
}  // namespace tangelo::issuing
