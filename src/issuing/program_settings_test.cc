#include "issuing/program_settings.h"

#include <gtest/gtest.h>

#include <string>

namespace tangelo::issuing {
namespace {

TEST(HoldExpiryTest, StandardTableGivesLongerHoldsToHotelsAndCarRentals) {
  const HoldExpiryTable table = StandardHoldExpiryTable();
  EXPECT_TRUE(IsValidHoldExpiryTable(table));
  EXPECT_EQ(table.HoldDays(5411), 7);  // Grocery: the default.
  EXPECT_EQ(table.HoldDays(7011), 30);
  EXPECT_EQ(table.HoldDays(3501), 30);
  EXPECT_EQ(table.HoldDays(3999), 30);
  EXPECT_EQ(table.HoldDays(7512), 30);
  EXPECT_EQ(table.HoldDays(3351), 30);
  EXPECT_EQ(table.HoldDays(3441), 30);
  EXPECT_EQ(table.HoldDays(3442), 7);
  EXPECT_EQ(table.HoldDays(3350), 7);
  EXPECT_EQ(table.HoldDays(7513), 7);
  EXPECT_EQ(table.HoldSeconds(7011), 30u * 86400);
  EXPECT_EQ(table.HoldSeconds(0), 7u * 86400);
}

TEST(HoldExpiryTest, FirstMatchingRuleWins) {
  HoldExpiryTable table;
  table.default_days = 5;
  ASSERT_TRUE(table.AddRule(4000, 4999, 10));
  ASSERT_TRUE(table.AddRule(4411, 4411, 20));  // Shadowed by the wider rule above.
  EXPECT_EQ(table.HoldDays(4411), 10);
  EXPECT_EQ(table.HoldDays(3999), 5);
  EXPECT_TRUE(IsValidHoldExpiryTable(table));
}

TEST(HoldExpiryTest, ValidationAndCapacity) {
  HoldExpiryTable table;
  for (uint32_t i = 0; i < kHoldExpiryRulesMax; ++i) {
    ASSERT_TRUE(table.AddRule(static_cast<uint16_t>(i), static_cast<uint16_t>(i), 1));
  }
  EXPECT_FALSE(table.AddRule(100, 100, 1));
  EXPECT_TRUE(IsValidHoldExpiryTable(table));

  const auto invalid = [](auto mutate) {
    HoldExpiryTable bad = StandardHoldExpiryTable();
    mutate(bad);
    return !IsValidHoldExpiryTable(bad);
  };
  EXPECT_TRUE(invalid([](HoldExpiryTable& t) { t.default_days = 0; }));
  EXPECT_TRUE(invalid([](HoldExpiryTable& t) { t.default_days = kHoldExpiryDaysMax + 1; }));
  EXPECT_TRUE(invalid([](HoldExpiryTable& t) { t.rules[0].hold_days = 0; }));
  EXPECT_TRUE(invalid([](HoldExpiryTable& t) { t.rules[0].hold_days = kHoldExpiryDaysMax + 1; }));
  EXPECT_TRUE(invalid([](HoldExpiryTable& t) { t.rules[0].mcc_first = 8000; }));  // first > last
  EXPECT_TRUE(invalid([](HoldExpiryTable& t) { t.rules[0].mcc_last = 10000; }));
  EXPECT_TRUE(invalid([](HoldExpiryTable& t) { t.rule_count = kHoldExpiryRulesMax + 1; }));
  EXPECT_TRUE(invalid([](HoldExpiryTable& t) { t.rules[10].hold_days = 3; }));  // Unused, not zero.
  EXPECT_FALSE(invalid([](HoldExpiryTable& t) { t.default_days = kHoldExpiryDaysMax; }));
}

RealtimeDecisionSettings Required(std::string_view url) {
  RealtimeDecisionSettings settings;
  settings.required = true;
  EXPECT_TRUE(settings.SetUrl(url));
  return settings;
}

TEST(RealtimeDecisionTest, DefaultsAreValidAndDisabled) {
  const RealtimeDecisionSettings settings;
  EXPECT_FALSE(settings.required);
  EXPECT_EQ(settings.deadline_ms, 1500);
  EXPECT_EQ(settings.stand_in_policy, StandInPolicy::kDecline);
  EXPECT_EQ(CheckRealtimeDecisionSettings(settings), RealtimeDecisionProblem::kNone);
}

TEST(RealtimeDecisionTest, Urls) {
  EXPECT_EQ(CheckRealtimeDecisionSettings(Required("https://client.example/authorize")),
            RealtimeDecisionProblem::kNone);
  EXPECT_EQ(CheckRealtimeDecisionSettings(Required("http://127.0.0.1:8080/a")),
            RealtimeDecisionProblem::kNone);
  for (std::string_view bad : {"", "ftp://x", "https://", "http://", "https://a b",
                               "client.example", "https://\x7f", "HTTPS://X"}) {
    EXPECT_EQ(CheckRealtimeDecisionSettings(Required(bad)), RealtimeDecisionProblem::kInvalidUrl)
        << bad;
  }
  RealtimeDecisionSettings settings;
  EXPECT_FALSE(settings.SetUrl(std::string(kClientUrlLengthMax + 1, 'a')));
  EXPECT_TRUE(settings.SetUrl("https://" + std::string(kClientUrlLengthMax - 8, 'a')));
  EXPECT_EQ(CheckRealtimeDecisionSettings(settings), RealtimeDecisionProblem::kNone);
  settings.url_length = 5;  // Bytes left after the declared length.
  EXPECT_EQ(CheckRealtimeDecisionSettings(settings), RealtimeDecisionProblem::kInvalidUrl);
  settings.url_length = kClientUrlLengthMax + 1;
  EXPECT_EQ(CheckRealtimeDecisionSettings(settings), RealtimeDecisionProblem::kInvalidUrl);
}

TEST(RealtimeDecisionTest, DeadlineBounds) {
  RealtimeDecisionSettings settings = Required("https://c.example/a");
  settings.deadline_ms = kDecisionDeadlineMsMax;
  EXPECT_EQ(CheckRealtimeDecisionSettings(settings), RealtimeDecisionProblem::kNone);
  settings.deadline_ms = kDecisionDeadlineMsMax + 1;
  EXPECT_EQ(CheckRealtimeDecisionSettings(settings), RealtimeDecisionProblem::kInvalidDeadline);
  settings.deadline_ms = kDecisionDeadlineMsMin;
  EXPECT_EQ(CheckRealtimeDecisionSettings(settings), RealtimeDecisionProblem::kNone);
  settings.deadline_ms = kDecisionDeadlineMsMin - 1;
  EXPECT_EQ(CheckRealtimeDecisionSettings(settings), RealtimeDecisionProblem::kInvalidDeadline);
  settings.deadline_ms = 1500;
  settings.stand_in_policy = static_cast<StandInPolicy>(0);
  EXPECT_EQ(CheckRealtimeDecisionSettings(settings), RealtimeDecisionProblem::kInvalidStandIn);
  settings.stand_in_policy = static_cast<StandInPolicy>(3);
  EXPECT_EQ(CheckRealtimeDecisionSettings(settings), RealtimeDecisionProblem::kInvalidStandIn);
}

TEST(RealtimeDecisionTest, StandIn) {
  RealtimeDecisionSettings decline = Required("https://c.example/a");
  EXPECT_EQ(DecideStandIn(decline, 1, ClientFailure::kTimeout),
            DeclineReason::kClientTimeoutStandIn);
  EXPECT_EQ(DecideStandIn(decline, 0, ClientFailure::kUnavailable),
            DeclineReason::kClientUnavailableStandIn);
  EXPECT_EQ(DecideStandIn(decline, 0, ClientFailure::kBadSignature),
            DeclineReason::kClientBadSignatureStandIn);

  RealtimeDecisionSettings approve = decline;
  approve.stand_in_policy = StandInPolicy::kApproveUpToLimit;
  approve.stand_in_amount_max_minor = 50'00;
  EXPECT_EQ(DecideStandIn(approve, 50'00, ClientFailure::kTimeout), DeclineReason::kNone);
  EXPECT_EQ(DecideStandIn(approve, 0, ClientFailure::kBadSignature), DeclineReason::kNone);
  EXPECT_EQ(DecideStandIn(approve, 50'01, ClientFailure::kTimeout),
            DeclineReason::kClientTimeoutStandIn);
  EXPECT_EQ(DecideStandIn(approve, 50'01, ClientFailure::kUnavailable),
            DeclineReason::kClientUnavailableStandIn);
  // An unknown failure kind never approves above the limit.
  EXPECT_EQ(DecideStandIn(approve, 60'00, static_cast<ClientFailure>(9)),
            DeclineReason::kSystemError);
}

}  // namespace
}  // namespace tangelo::issuing
