#include "issuing/decline_reason.h"

#include <array>

namespace tangelo::issuing {
namespace {

struct ReasonRow {
  DeclineReason reason;
  std::string_view name;
  std::string_view response_code;
};

// The single source of the mapping; docs/issuing/decline-reasons.md mirrors it
// and decline_reason_test.cc pins every row.
constexpr std::array<ReasonRow, 30> kReasons = {{
    {DeclineReason::kNone, "NONE", "00"},
    {DeclineReason::kCardNotFound, "CARD_NOT_FOUND", "14"},
    {DeclineReason::kCardNotActive, "CARD_NOT_ACTIVE", "62"},
    {DeclineReason::kCardBlocked, "CARD_BLOCKED", "62"},
    {DeclineReason::kCardLost, "CARD_LOST", "41"},
    {DeclineReason::kCardStolen, "CARD_STOLEN", "43"},
    {DeclineReason::kCardClosed, "CARD_CLOSED", "62"},
    {DeclineReason::kCardExpired, "CARD_EXPIRED", "54"},
    {DeclineReason::kCardExpiryMismatch, "CARD_EXPIRY_MISMATCH", "54"},
    {DeclineReason::kUserBlocked, "USER_BLOCKED", "62"},
    {DeclineReason::kUserDisabled, "USER_DISABLED", "62"},
    {DeclineReason::kInvalidAmount, "INVALID_AMOUNT", "13"},
    {DeclineReason::kCurrencyNotSupported, "CURRENCY_NOT_SUPPORTED", "57"},
    {DeclineReason::kInsufficientFunds, "INSUFFICIENT_FUNDS", "51"},
    {DeclineReason::kChannelBlocked, "CHANNEL_BLOCKED", "58"},
    {DeclineReason::kMccBlocked, "MCC_BLOCKED", "57"},
    {DeclineReason::kCountryBlocked, "COUNTRY_BLOCKED", "62"},
    {DeclineReason::kMerchantBlocked, "MERCHANT_BLOCKED", "57"},
    {DeclineReason::kTransactionLimitExceeded, "TRANSACTION_LIMIT_EXCEEDED", "61"},
    {DeclineReason::kDailyLimitExceeded, "DAILY_LIMIT_EXCEEDED", "61"},
    {DeclineReason::kWeeklyLimitExceeded, "WEEKLY_LIMIT_EXCEEDED", "61"},
    {DeclineReason::kMonthlyLimitExceeded, "MONTHLY_LIMIT_EXCEEDED", "61"},
    {DeclineReason::kLifetimeLimitExceeded, "LIFETIME_LIMIT_EXCEEDED", "61"},
    {DeclineReason::kVelocityExceeded, "VELOCITY_EXCEEDED", "65"},
    {DeclineReason::kClientDeclined, "CLIENT_DECLINED", "05"},
    {DeclineReason::kClientTimeoutStandIn, "CLIENT_TIMEOUT_STAND_IN", "91"},
    {DeclineReason::kClientUnavailableStandIn, "CLIENT_UNAVAILABLE_STAND_IN", "91"},
    {DeclineReason::kClientBadSignatureStandIn, "CLIENT_BAD_SIGNATURE_STAND_IN", "96"},
    {DeclineReason::kSystemError, "SYSTEM_ERROR", "96"},
    // Sentinel row so the table size is checked against the enum below.
    {static_cast<DeclineReason>(0xffff), "UNKNOWN", "96"},
}};

const ReasonRow& Find(DeclineReason reason) {
  for (const ReasonRow& row : kReasons) {
    if (row.reason == reason) return row;
  }
  return kReasons.back();
}

}  // namespace

std::string_view DeclineReasonName(DeclineReason reason) { return Find(reason).name; }

std::string_view Iso8583ResponseCode(DeclineReason reason) { return Find(reason).response_code; }

bool IsKnownDeclineReason(uint16_t value) {
  const DeclineReason reason = static_cast<DeclineReason>(value);
  return value != 0xffff && &Find(reason) != &kReasons.back();
}

}  // namespace tangelo::issuing
