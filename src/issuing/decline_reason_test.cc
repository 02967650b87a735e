#include "issuing/decline_reason.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace tangelo::issuing {
namespace {

struct Expected {
  DeclineReason reason;
  uint16_t number;
  const char* name;
  const char* response_code;
};

// Pins every number, name and ISO 8583 mapping: the same table as
// docs/issuing/decline-reasons.md. Changing a row is a breaking change.
constexpr Expected kTable[] = {
    {DeclineReason::kNone, 0, "NONE", "00"},
    {DeclineReason::kCardNotFound, 1, "CARD_NOT_FOUND", "14"},
    {DeclineReason::kCardNotActive, 2, "CARD_NOT_ACTIVE", "62"},
    {DeclineReason::kCardBlocked, 3, "CARD_BLOCKED", "62"},
    {DeclineReason::kCardLost, 4, "CARD_LOST", "41"},
    {DeclineReason::kCardStolen, 5, "CARD_STOLEN", "43"},
    {DeclineReason::kCardClosed, 6, "CARD_CLOSED", "62"},
    {DeclineReason::kCardExpired, 7, "CARD_EXPIRED", "54"},
    {DeclineReason::kCardExpiryMismatch, 8, "CARD_EXPIRY_MISMATCH", "54"},
    {DeclineReason::kUserBlocked, 9, "USER_BLOCKED", "62"},
    {DeclineReason::kUserDisabled, 10, "USER_DISABLED", "62"},
    {DeclineReason::kInvalidAmount, 20, "INVALID_AMOUNT", "13"},
    {DeclineReason::kCurrencyNotSupported, 21, "CURRENCY_NOT_SUPPORTED", "57"},
    {DeclineReason::kInsufficientFunds, 30, "INSUFFICIENT_FUNDS", "51"},
    {DeclineReason::kChannelBlocked, 40, "CHANNEL_BLOCKED", "58"},
    {DeclineReason::kMccBlocked, 41, "MCC_BLOCKED", "57"},
    {DeclineReason::kCountryBlocked, 42, "COUNTRY_BLOCKED", "62"},
    {DeclineReason::kMerchantBlocked, 43, "MERCHANT_BLOCKED", "57"},
    {DeclineReason::kTransactionLimitExceeded, 44, "TRANSACTION_LIMIT_EXCEEDED", "61"},
    {DeclineReason::kDailyLimitExceeded, 45, "DAILY_LIMIT_EXCEEDED", "61"},
    {DeclineReason::kWeeklyLimitExceeded, 46, "WEEKLY_LIMIT_EXCEEDED", "61"},
    {DeclineReason::kMonthlyLimitExceeded, 47, "MONTHLY_LIMIT_EXCEEDED", "61"},
    {DeclineReason::kLifetimeLimitExceeded, 48, "LIFETIME_LIMIT_EXCEEDED", "61"},
    {DeclineReason::kVelocityExceeded, 49, "VELOCITY_EXCEEDED", "65"},
    {DeclineReason::kClientDeclined, 60, "CLIENT_DECLINED", "05"},
    {DeclineReason::kClientTimeoutStandIn, 61, "CLIENT_TIMEOUT_STAND_IN", "91"},
    {DeclineReason::kClientUnavailableStandIn, 62, "CLIENT_UNAVAILABLE_STAND_IN", "91"},
    {DeclineReason::kClientBadSignatureStandIn, 63, "CLIENT_BAD_SIGNATURE_STAND_IN", "96"},
    {DeclineReason::kSystemError, 90, "SYSTEM_ERROR", "96"},
};

TEST(DeclineReasonTest, EveryReasonHasItsStableNumberNameAndResponseCode) {
  for (const Expected& row : kTable) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(static_cast<uint16_t>(row.reason), row.number);
    EXPECT_EQ(DeclineReasonName(row.reason), row.name);
    EXPECT_EQ(Iso8583ResponseCode(row.reason), row.response_code);
    EXPECT_TRUE(IsKnownDeclineReason(row.number));
  }
}

TEST(DeclineReasonTest, NumbersAndNamesAreUnique) {
  std::set<uint16_t> numbers;
  std::set<std::string> names;
  for (const Expected& row : kTable) {
    EXPECT_TRUE(numbers.insert(row.number).second) << row.name;
    EXPECT_TRUE(names.insert(row.name).second) << row.name;
  }
}

TEST(DeclineReasonTest, EveryRequiredResponseCodeIsReachable) {
  std::set<std::string> codes;
  for (const Expected& row : kTable) codes.insert(row.response_code);
  codes.insert(std::string(kIso8583PartialApproval));
  for (const char* required :
       {"00", "05", "10", "14", "51", "54", "57", "58", "61", "62", "65", "91", "96"}) {
    EXPECT_TRUE(codes.count(required)) << required;
  }
}

TEST(DeclineReasonTest, OnlyNoneApproves) {
  for (const Expected& row : kTable) {
    if (row.reason == DeclineReason::kNone) continue;
    EXPECT_NE(Iso8583ResponseCode(row.reason), "00") << row.name;
  }
}

TEST(DeclineReasonTest, UnknownValuesNeverApprove) {
  for (int raw : {11, 19, 31, 50, 64, 89, 91, 1000, 0xfffe, 0xffff}) {
    const uint16_t value = static_cast<uint16_t>(raw);
    const DeclineReason reason = static_cast<DeclineReason>(value);
    EXPECT_FALSE(IsKnownDeclineReason(value)) << value;
    EXPECT_EQ(DeclineReasonName(reason), "UNKNOWN");
    EXPECT_EQ(Iso8583ResponseCode(reason), "96");
  }
}

}  // namespace
}  // namespace tangelo::issuing
