// Typed access to the ISO 8583 fields Tangelo acts on, and safe logging.
//
// Decode() only checks syntax (digits are digits, lengths fit). The Read*()
// functions below give the meaning: field 4 as minor units, field 7 as a
// date-time with ranges checked, field 90 split into its parts, and so on.
// Every function is pure, allocation-free on success, and returns kNotFound
// when the field is absent and kInvalidArgument (naming the field) when its
// content is not what the field must carry. Layouts: docs/formats/iso8583.md §4.
//
// The PAN is cardholder data: never log Field(2) or ReadPan(); log MaskPan()
// or DescribeMessage(), which masks and redacts.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/money.h"
#include "base/status.h"
#include "gateway/iso8583_message.h"
#include "gateway/iso8583_spec.h"

namespace tangelo::gateway {

// Field numbers with a meaning in Tangelo (ISO 8583:1987 numbering).
namespace field {
inline constexpr int kPan = 2;
inline constexpr int kProcessingCode = 3;
inline constexpr int kTransactionAmount = 4;
inline constexpr int kTransmissionDateTime = 7;
inline constexpr int kStan = 11;
inline constexpr int kLocalTransactionTime = 12;
inline constexpr int kExpirationDate = 14;
inline constexpr int kMerchantCategoryCode = 18;
inline constexpr int kPosEntryMode = 22;
inline constexpr int kAcquirerId = 32;
inline constexpr int kRetrievalReferenceNumber = 37;
inline constexpr int kAuthorizationId = 38;
inline constexpr int kResponseCode = 39;
inline constexpr int kTerminalId = 41;
inline constexpr int kCardAcceptorId = 42;
inline constexpr int kCardAcceptorNameLocation = 43;
inline constexpr int kCurrencyCode = 49;
inline constexpr int kAdditionalAmounts = 54;
inline constexpr int kIccData = 55;
inline constexpr int kNetworkManagementCode = 70;
inline constexpr int kOriginalDataElements = 90;
inline constexpr int kReplacementAmounts = 95;
}  // namespace field

// Field 39 values Tangelo sends and understands. The number is the code's
// own value ("05" is 5), so it is stable by construction.
enum class Iso8583ResponseCode : uint8_t {
  kApproved = 0,
  kReferToIssuer = 1,
  kPickUpCard = 4,
  kDoNotHonor = 5,
  kPartialApproval = 10,
  kInvalidTransaction = 12,
  kInvalidAmount = 13,
  kInvalidCardNumber = 14,
  kFormatError = 30,
  kLostCard = 41,
  kStolenCard = 43,
  kInsufficientFunds = 51,
  kExpiredCard = 54,
  kIncorrectPin = 55,
  kTransactionNotPermittedToCardholder = 57,
  kTransactionNotPermittedToTerminal = 58,
  kSuspectedFraud = 59,
  kExceedsAmountLimit = 61,
  kRestrictedCard = 62,
  kExceedsFrequencyLimit = 65,
  kIssuerUnavailable = 91,
  kDuplicateTransmission = 94,
  kSystemMalfunction = 96,
};

// The two characters of field 39 ("00", "51"); static storage.
std::string_view ResponseCodeText(Iso8583ResponseCode code);

// Field 70 values. Stable numbers (the code's own value).
enum class Iso8583NetworkManagementCode : uint16_t {
  kSignOn = 1,
  kSignOff = 2,
  kEchoTest = 301,
};

// Field 3: transaction type (00 purchase, 01 cash, 20 refund, 30 balance
// inquiry, ...), then the from- and to-account types.
struct ProcessingCode {
  uint8_t transaction_type = 0;
  uint8_t from_account_type = 0;
  uint8_t to_account_type = 0;
};

// Field 7 (MMDDhhmmss, UTC); also the date-time inside field 90. The year is
// not on the wire: the gateway infers it from its clock.
struct TransmissionDateTime {
  uint8_t month = 0;   // 1..12
  uint8_t day = 0;     // 1..31
  uint8_t hour = 0;    // 0..23
  uint8_t minute = 0;  // 0..59
  uint8_t second = 0;  // 0..59
};

// Field 14 (YYMM). Cards expire within this century: year is 2000 + YY.
struct CardExpiry {
  uint16_t year = 0;
  uint8_t month = 0;  // 1..12
};

// Field 90: which earlier message a reversal undoes. The ids are views into
// the message (11 digits, zero padded).
struct OriginalDataElements {
  uint16_t mti = 0;
  uint32_t stan = 0;
  TransmissionDateTime transmission_date_time;
  std::string_view acquirer_id;
  std::string_view forwarding_institution_id;
};

// Field 54 amount types Tangelo writes.
inline constexpr uint8_t kAmountTypeLedgerBalance = 1;
inline constexpr uint8_t kAmountTypeAvailableBalance = 2;
// Field 54 carries at most this many 20-character blocks (an..120).
inline constexpr size_t kAdditionalAmountsMax = 6;
inline constexpr size_t kAdditionalAmountSize = 20;

// One field 54 block: a balance or other amount in minor units with its sign.
struct AdditionalAmount {
  uint8_t account_type = 0;         // 00..99
  uint8_t amount_type = 0;          // 00..99; kAmountTypeAvailableBalance, ...
  uint16_t currency_code = 0;       // ISO 4217 numeric
  bool negative = false;            // 'D' on the wire (debit balance), 'C' otherwise.
  uint64_t amount_minor_units = 0;  // At most 12 digits.
};

struct AdditionalAmounts {
  std::array<AdditionalAmount, kAdditionalAmountsMax> items{};
  size_t count = 0;
};

// A PAN safe to log: first 6 and last 4 digits, the rest '*'.
struct MaskedPan {
  std::array<char, 19> text{};
  uint8_t size = 0;
  std::string_view view() const { return {text.data(), size}; }
};

// Masks a PAN for logs. 13 digits or more: first 6 and last 4 shown
// ("411111******1111"), so at least 3 stay hidden. 8 to 12: only the last 4.
// Shorter: everything masked. Input longer than 19 is cut to 19 characters.
MaskedPan MaskPan(std::string_view pan);

// Field 2: 8..19 digits (ISO/IEC 7812). The raw PAN: for the authorizer,
// never for a log.
base::Result<std::string_view> ReadPan(const Iso8583Message& message);
base::Result<ProcessingCode> ReadProcessingCode(const Iso8583Message& message);
// Field 4: minor units of field 49's currency, at most 18 digits.
base::Result<uint64_t> ReadTransactionAmount(const Iso8583Message& message);
base::Result<TransmissionDateTime> ReadTransmissionDateTime(const Iso8583Message& message);
// Field 11: 6 digits.
base::Result<uint32_t> ReadStan(const Iso8583Message& message);
base::Result<CardExpiry> ReadExpiry(const Iso8583Message& message);
// Field 18: 4 digits.
base::Result<uint16_t> ReadMerchantCategoryCode(const Iso8583Message& message);
// Field 32: non-empty digits.
base::Result<std::string_view> ReadAcquirerId(const Iso8583Message& message);
// Field 37: the 12-character RRN, not all spaces.
base::Result<std::string_view> ReadRetrievalReferenceNumber(const Iso8583Message& message);
// Field 39, for the load generator and tests reading responses.
base::Result<Iso8583ResponseCode> ReadResponseCode(const Iso8583Message& message);
// Field 49: 3 digits, ISO 4217 numeric. ReadCurrency also requires a
// currency Tangelo knows (base::CurrencyFromNumeric).
base::Result<uint16_t> ReadCurrencyCode(const Iso8583Message& message);
base::Result<base::Currency> ReadCurrency(const Iso8583Message& message);
// Field 43: its last spec.acceptor_country_length() characters, which must be
// upper-case letters (ISO 3166 alpha-2 or alpha-3).
base::Result<std::string_view> ReadAcceptorCountry(const Iso8583Spec& spec,
                                                   const Iso8583Message& message);
// Field 54: whole 20-character blocks, at most kAdditionalAmountsMax.
base::Result<AdditionalAmounts> ReadAdditionalAmounts(const Iso8583Message& message);
// Field 70: one of the Iso8583NetworkManagementCode values.
base::Result<Iso8583NetworkManagementCode> ReadNetworkManagementCode(const Iso8583Message& message);
// Field 90: 42 digits, original MTI 4, STAN 6, date-time 10, two ids of 11.
base::Result<OriginalDataElements> ReadOriginalDataElements(const Iso8583Message& message);
// Field 95: the amount that stays authorized after a partial reversal (its
// first 12 digits).
base::Result<uint64_t> ReadReplacementAmount(const Iso8583Message& message);
// The W3C traceparent from the dialect's traceparent field, checked as W3C
// Trace Context says (lower-case hex, ids not all zero, version ff invalid,
// version 00 exactly 55 characters, later versions may append "-..."), the
// same rules as telemetry::ParseTraceparent. kNotFound when the dialect has
// no such field or the message does not carry it.
base::Result<std::string_view> ReadTraceparent(const Iso8583Spec& spec,
                                               const Iso8583Message& message);

// Formats `amounts` as field 54 into the message's scratch area. Errors:
// kInvalidArgument for an empty list, more than kAdditionalAmountsMax items,
// a code over 99/999 or an amount over 12 digits; kResourceExhausted when the
// scratch area is full.
base::Status WriteAdditionalAmounts(std::span<const AdditionalAmount> amounts,
                                    Iso8583Message* message);

// One line for logs: "0100 2=411111******1111 3=000000 4=000000001000 ...".
// Field 2 is masked; fields the dialect marks sensitive (always 14, 35, 36,
// 45, 52, 55) show only their length; other binary fields show as hex; in
// text fields the message's PAN and any other Luhn-valid 13-19 digit run
// are masked too, so a card number in free text never reaches a log.
// Allocates: call it on error and debug paths, not per message.
std::string DescribeMessage(const Iso8583Spec& spec, const Iso8583Message& message);

}  // namespace tangelo::gateway
