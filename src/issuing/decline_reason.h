// Why an authorization was declined, as a machine-readable reason with a
// stable number, and the ISO 8583 response code (field 39) it maps to.
//
// The numbers are part of the journal, the API and the clients' webhooks:
// never renumber, only add. The table with the rationale for each mapping is
// docs/issuing/decline-reasons.md.
#pragma once

#include <cstdint>
#include <string_view>

namespace tangelo::issuing {

enum class DeclineReason : uint16_t {
  kNone = 0,  // Not declined: approved (response code 00).

  // The card and its holder (checked before controls).
  kCardNotFound = 1,
  kCardNotActive = 2,  // CREATED: never activated.
  kCardBlocked = 3,
  kCardLost = 4,
  kCardStolen = 5,
  kCardClosed = 6,
  kCardExpired = 7,         // Status EXPIRED, or past the end of the expiry month.
  kCardExpiryMismatch = 8,  // The expiry date in the request is not the card's.
  kUserBlocked = 9,         // The cardholder is BLOCKED.
  kUserDisabled = 10,       // The cardholder is DISABLED.

  // The request itself.
  kInvalidAmount = 20,
  kCurrencyNotSupported = 21,  // Billing currency is not the account's currency.

  // Funds (decided by the ledger).
  kInsufficientFunds = 30,

  // Controls, in their evaluation order (see controls.h).
  kChannelBlocked = 40,
  kMccBlocked = 41,
  kCountryBlocked = 42,
  kMerchantBlocked = 43,
  kTransactionLimitExceeded = 44,
  kDailyLimitExceeded = 45,
  kWeeklyLimitExceeded = 46,
  kMonthlyLimitExceeded = 47,
  kLifetimeLimitExceeded = 48,
  kVelocityExceeded = 49,

  // The client's real-time decision.
  kClientDeclined = 60,
  kClientTimeoutStandIn = 61,       // No answer before the deadline; stand-in declined.
  kClientUnavailableStandIn = 62,   // Refused connection or 5xx; stand-in declined.
  kClientBadSignatureStandIn = 63,  // Malformed or badly signed answer; stand-in declined.

  kSystemError = 90,
};

// The reason's name in UPPER_SNAKE_CASE ("CARD_BLOCKED"), as the API and the
// webhooks spell it. "UNKNOWN" for a value outside the enum.
std::string_view DeclineReasonName(DeclineReason reason);

// The two-digit ISO 8583 response code for a reason: "00" for kNone. A value
// outside the enum maps to "96" (system malfunction), never to an approval.
std::string_view Iso8583ResponseCode(DeclineReason reason);

// Response code for an approval of less than the requested amount. Partial
// approval is an approval, so it has no DeclineReason.
inline constexpr std::string_view kIso8583PartialApproval = "10";

// True for a value that is one of the enumerators above (for decoding).
bool IsKnownDeclineReason(uint16_t value);

}  // namespace tangelo::issuing
