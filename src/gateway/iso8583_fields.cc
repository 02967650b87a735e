#include "gateway/iso8583_fields.h"

#include <algorithm>

namespace tangelo::gateway {

namespace {

using base::Result;
using base::Status;

// Field 39 texts indexed by code value; empty where no enumerator exists.
constexpr std::array<std::string_view, 100> MakeResponseCodeTexts() {
  std::array<std::string_view, 100> texts{};
  constexpr std::string_view kAll =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445"
      "464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990"
      "919293949596979899";
  for (size_t i = 0; i < 100; ++i) texts[i] = kAll.substr(2 * i, 2);
  return texts;
}
constexpr std::array<std::string_view, 100> kTwoDigitTexts = MakeResponseCodeTexts();

bool IsKnownResponseCode(uint32_t value) {
  switch (static_cast<Iso8583ResponseCode>(value)) {
    case Iso8583ResponseCode::kApproved:
    case Iso8583ResponseCode::kReferToIssuer:
    case Iso8583ResponseCode::kPickUpCard:
    case Iso8583ResponseCode::kDoNotHonor:
    case Iso8583ResponseCode::kPartialApproval:
    case Iso8583ResponseCode::kInvalidTransaction:
    case Iso8583ResponseCode::kInvalidAmount:
    case Iso8583ResponseCode::kInvalidCardNumber:
    case Iso8583ResponseCode::kFormatError:
    case Iso8583ResponseCode::kLostCard:
    case Iso8583ResponseCode::kStolenCard:
    case Iso8583ResponseCode::kInsufficientFunds:
    case Iso8583ResponseCode::kExpiredCard:
    case Iso8583ResponseCode::kIncorrectPin:
    case Iso8583ResponseCode::kTransactionNotPermittedToCardholder:
    case Iso8583ResponseCode::kTransactionNotPermittedToTerminal:
    case Iso8583ResponseCode::kSuspectedFraud:
    case Iso8583ResponseCode::kExceedsAmountLimit:
    case Iso8583ResponseCode::kRestrictedCard:
    case Iso8583ResponseCode::kExceedsFrequencyLimit:
    case Iso8583ResponseCode::kIssuerUnavailable:
    case Iso8583ResponseCode::kDuplicateTransmission:
    case Iso8583ResponseCode::kSystemMalfunction:
      return true;
  }
  return false;
}

// Parses exactly text.size() decimal digits (at most 19, so no overflow).
bool ParseDigits(std::string_view text, uint64_t* value) {
  if (text.empty() || text.size() > 19) return false;
  uint64_t result = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    result = result * 10 + static_cast<uint64_t>(c - '0');
  }
  *value = result;
  return true;
}

bool AllDigits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Status Absent(int field_number, std::string_view what) {
  return base::NotFound("field " + std::to_string(field_number) + " (" + std::string(what) +
                        ") is absent");
}

Status Malformed(int field_number, std::string_view what, std::string_view why) {
  return base::InvalidArgument("field " + std::to_string(field_number) + " (" + std::string(what) +
                               ") " + std::string(why));
}

// Reads a present field that must be exactly `digits` digits.
Result<uint64_t> ReadFixedNumber(const Iso8583Message& message, int field_number, size_t digits,
                                 std::string_view what) {
  if (!message.Has(field_number)) return Absent(field_number, what);
  const std::string_view text = message.Field(field_number);
  uint64_t value = 0;
  if (text.size() != digits || !ParseDigits(text, &value)) {
    return Malformed(field_number, what, "must be " + std::to_string(digits) + " digits");
  }
  return value;
}

uint8_t TwoDigits(std::string_view text, size_t position) {
  return static_cast<uint8_t>((text[position] - '0') * 10 + (text[position + 1] - '0'));
}

// Parses MMDDhhmmss (already checked to be 10 digits) with ranges.
bool ParseDateTime(std::string_view text, TransmissionDateTime* date_time) {
  date_time->month = TwoDigits(text, 0);
  date_time->day = TwoDigits(text, 2);
  date_time->hour = TwoDigits(text, 4);
  date_time->minute = TwoDigits(text, 6);
  date_time->second = TwoDigits(text, 8);
  return date_time->month >= 1 && date_time->month <= 12 && date_time->day >= 1 &&
         date_time->day <= 31 && date_time->hour <= 23 && date_time->minute <= 59 &&
         date_time->second <= 59;
}

bool IsLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool AllZero(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == '0'; });
}

// Fields whose content never reaches a log, whatever the dialect says.
bool AlwaysSensitive(int field_number) {
  switch (field_number) {
    case 2:
    case 14:
    case 35:
    case 36:
    case 45:
    case 52:
    case 55:
      return true;
    default:
      return false;
  }
}

bool LuhnValid(std::string_view digits) {
  uint32_t sum = 0;
  bool twice = false;
  for (size_t i = digits.size(); i > 0; --i) {
    uint32_t digit = static_cast<uint32_t>(digits[i - 1] - '0');
    if (twice) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
    twice = !twice;
  }
  return sum % 10 == 0;
}

// A PAN can hide in a free-text field (48, 62, a private field). Masks in
// `text` every occurrence of this message's PAN and every separate run of
// 13-19 digits that passes the Luhn check, the way telemetry's log
// redaction does, so DescribeMessage never prints a card number.
void MaskCardNumbers(std::string_view pan, std::string* text) {
  if (pan.size() >= 8) {
    const MaskedPan masked = MaskPan(pan);
    for (size_t at = text->find(pan); at != std::string::npos; at = text->find(pan, at)) {
      text->replace(at, pan.size(), masked.view());
    }
  }
  size_t position = 0;
  while (position < text->size()) {
    if ((*text)[position] < '0' || (*text)[position] > '9') {
      ++position;
      continue;
    }
    size_t end = position;
    while (end < text->size() && (*text)[end] >= '0' && (*text)[end] <= '9') ++end;
    const std::string_view run = std::string_view(*text).substr(position, end - position);
    if (run.size() >= 13 && run.size() <= 19 && LuhnValid(run)) {
      const MaskedPan masked = MaskPan(run);
      text->replace(position, run.size(), masked.view());
    }
    position = end;
  }
}

}  // namespace

std::string_view ResponseCodeText(Iso8583ResponseCode code) {
  const auto value = static_cast<uint8_t>(code);
  TG_ASSERT(value < 100);
  return kTwoDigitTexts[value];
}

MaskedPan MaskPan(std::string_view pan) {
  MaskedPan masked;
  const size_t size = std::min(pan.size(), masked.text.size());
  masked.size = static_cast<uint8_t>(size);
  const size_t shown_head = size >= 13 ? 6 : 0;
  const size_t shown_tail = size >= 8 ? 4 : 0;
  for (size_t i = 0; i < size; ++i) {
    const bool shown = i < shown_head || i >= size - shown_tail;
    masked.text[i] = shown ? pan[i] : '*';
  }
  return masked;
}

Result<std::string_view> ReadPan(const Iso8583Message& message) {
  constexpr std::string_view kWhat = "primary account number";
  if (!message.Has(field::kPan)) return Absent(field::kPan, kWhat);
  const std::string_view pan = message.Field(field::kPan);
  if (pan.size() < 8 || pan.size() > 19 || !AllDigits(pan)) {
    return Malformed(field::kPan, kWhat, "must be 8 to 19 digits");
  }
  return pan;
}

Result<ProcessingCode> ReadProcessingCode(const Iso8583Message& message) {
  Result<uint64_t> value = ReadFixedNumber(message, field::kProcessingCode, 6, "processing code");
  if (!value.ok()) return value.status();
  const std::string_view text = message.Field(field::kProcessingCode);
  return ProcessingCode{TwoDigits(text, 0), TwoDigits(text, 2), TwoDigits(text, 4)};
}

Result<uint64_t> ReadTransactionAmount(const Iso8583Message& message) {
  constexpr std::string_view kWhat = "transaction amount";
  if (!message.Has(field::kTransactionAmount)) return Absent(field::kTransactionAmount, kWhat);
  const std::string_view text = message.Field(field::kTransactionAmount);
  uint64_t amount = 0;
  // 18 digits always fit u64; real dialects use 12.
  if (text.size() > 18 || !ParseDigits(text, &amount)) {
    return Malformed(field::kTransactionAmount, kWhat, "must be 1 to 18 digits");
  }
  return amount;
}

Result<TransmissionDateTime> ReadTransmissionDateTime(const Iso8583Message& message) {
  constexpr std::string_view kWhat = "transmission date time";
  Result<uint64_t> value = ReadFixedNumber(message, field::kTransmissionDateTime, 10, kWhat);
  if (!value.ok()) return value.status();
  TransmissionDateTime date_time;
  if (!ParseDateTime(message.Field(field::kTransmissionDateTime), &date_time)) {
    return Malformed(field::kTransmissionDateTime, kWhat, "is not a valid MMDDhhmmss");
  }
  return date_time;
}

Result<uint32_t> ReadStan(const Iso8583Message& message) {
  Result<uint64_t> value = ReadFixedNumber(message, field::kStan, 6, "system trace audit number");
  if (!value.ok()) return value.status();
  return static_cast<uint32_t>(*value);
}

Result<CardExpiry> ReadExpiry(const Iso8583Message& message) {
  constexpr std::string_view kWhat = "expiration date";
  Result<uint64_t> value = ReadFixedNumber(message, field::kExpirationDate, 4, kWhat);
  if (!value.ok()) return value.status();
  const std::string_view text = message.Field(field::kExpirationDate);
  CardExpiry expiry{static_cast<uint16_t>(2000 + TwoDigits(text, 0)), TwoDigits(text, 2)};
  if (expiry.month < 1 || expiry.month > 12) {
    return Malformed(field::kExpirationDate, kWhat, "has a month outside 01..12");
  }
  return expiry;
}

Result<uint16_t> ReadMerchantCategoryCode(const Iso8583Message& message) {
  Result<uint64_t> value =
      ReadFixedNumber(message, field::kMerchantCategoryCode, 4, "merchant category code");
  if (!value.ok()) return value.status();
  return static_cast<uint16_t>(*value);
}

Result<std::string_view> ReadAcquirerId(const Iso8583Message& message) {
  constexpr std::string_view kWhat = "acquiring institution id";
  if (!message.Has(field::kAcquirerId)) return Absent(field::kAcquirerId, kWhat);
  const std::string_view text = message.Field(field::kAcquirerId);
  if (text.empty() || !AllDigits(text))
    return Malformed(field::kAcquirerId, kWhat, "must be digits");
  return text;
}

Result<std::string_view> ReadRetrievalReferenceNumber(const Iso8583Message& message) {
  constexpr std::string_view kWhat = "retrieval reference number";
  if (!message.Has(field::kRetrievalReferenceNumber)) {
    return Absent(field::kRetrievalReferenceNumber, kWhat);
  }
  const std::string_view text = message.Field(field::kRetrievalReferenceNumber);
  if (text.size() != 12 || text.find_first_not_of(' ') == std::string_view::npos) {
    return Malformed(field::kRetrievalReferenceNumber, kWhat,
                     "must be 12 characters, not all spaces");
  }
  return text;
}

Result<Iso8583ResponseCode> ReadResponseCode(const Iso8583Message& message) {
  Result<uint64_t> value = ReadFixedNumber(message, field::kResponseCode, 2, "response code");
  if (!value.ok()) return value.status();
  if (!IsKnownResponseCode(static_cast<uint32_t>(*value))) {
    return Malformed(
        field::kResponseCode, "response code",
        "'" + std::string(message.Field(field::kResponseCode)) + "' is not a code Tangelo knows");
  }
  return static_cast<Iso8583ResponseCode>(*value);
}

Result<uint16_t> ReadCurrencyCode(const Iso8583Message& message) {
  Result<uint64_t> value =
      ReadFixedNumber(message, field::kCurrencyCode, 3, "transaction currency code");
  if (!value.ok()) return value.status();
  return static_cast<uint16_t>(*value);
}

Result<base::Currency> ReadCurrency(const Iso8583Message& message) {
  Result<uint16_t> code = ReadCurrencyCode(message);
  if (!code.ok()) return code.status();
  std::optional<base::Currency> currency = base::CurrencyFromNumeric(*code);
  if (!currency.has_value()) {
    return Malformed(field::kCurrencyCode, "transaction currency code",
                     "'" + std::string(message.Field(field::kCurrencyCode)) +
                         "' is not an ISO 4217 currency Tangelo supports");
  }
  return *currency;
}

Result<std::string_view> ReadAcceptorCountry(const Iso8583Spec& spec,
                                             const Iso8583Message& message) {
  constexpr std::string_view kWhat = "card acceptor name/location";
  if (!message.Has(field::kCardAcceptorNameLocation)) {
    return Absent(field::kCardAcceptorNameLocation, kWhat);
  }
  const std::string_view text = message.Field(field::kCardAcceptorNameLocation);
  const size_t length = spec.acceptor_country_length();
  if (text.size() < length) {
    return Malformed(field::kCardAcceptorNameLocation, kWhat, "is too short to end with a country");
  }
  const std::string_view country = text.substr(text.size() - length);
  if (!std::all_of(country.begin(), country.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return Malformed(field::kCardAcceptorNameLocation, kWhat,
                     "does not end with an upper-case ISO 3166 country code");
  }
  return country;
}

Result<AdditionalAmounts> ReadAdditionalAmounts(const Iso8583Message& message) {
  constexpr std::string_view kWhat = "additional amounts";
  if (!message.Has(field::kAdditionalAmounts)) return Absent(field::kAdditionalAmounts, kWhat);
  const std::string_view text = message.Field(field::kAdditionalAmounts);
  if (text.empty() || text.size() % kAdditionalAmountSize != 0 ||
      text.size() / kAdditionalAmountSize > kAdditionalAmountsMax) {
    return Malformed(field::kAdditionalAmounts, kWhat, "must be 1 to 6 blocks of 20 characters");
  }
  AdditionalAmounts amounts;
  for (size_t offset = 0; offset < text.size(); offset += kAdditionalAmountSize) {
    const std::string_view block = text.substr(offset, kAdditionalAmountSize);
    uint64_t account_type = 0, amount_type = 0, currency = 0, amount = 0;
    const char sign = block[7];
    if (!ParseDigits(block.substr(0, 2), &account_type) ||
        !ParseDigits(block.substr(2, 2), &amount_type) ||
        !ParseDigits(block.substr(4, 3), &currency) || (sign != 'C' && sign != 'D') ||
        !ParseDigits(block.substr(8, 12), &amount)) {
      return Malformed(field::kAdditionalAmounts, kWhat,
                       "block " + std::to_string(offset / kAdditionalAmountSize + 1) +
                           " is not <account 2><type 2><currency 3><C|D><amount 12>");
    }
    amounts.items[amounts.count++] =
        AdditionalAmount{static_cast<uint8_t>(account_type), static_cast<uint8_t>(amount_type),
                         static_cast<uint16_t>(currency), sign == 'D', amount};
  }
  return amounts;
}

Result<Iso8583NetworkManagementCode> ReadNetworkManagementCode(const Iso8583Message& message) {
  constexpr std::string_view kWhat = "network management code";
  Result<uint64_t> value = ReadFixedNumber(message, field::kNetworkManagementCode, 3, kWhat);
  if (!value.ok()) return value.status();
  const auto code = static_cast<Iso8583NetworkManagementCode>(*value);
  switch (code) {
    case Iso8583NetworkManagementCode::kSignOn:
    case Iso8583NetworkManagementCode::kSignOff:
    case Iso8583NetworkManagementCode::kEchoTest:
      return code;
  }
  return Malformed(field::kNetworkManagementCode, kWhat,
                   "'" + std::string(message.Field(field::kNetworkManagementCode)) +
                       "' is not sign-on (001), sign-off (002) or echo test (301)");
}

Result<OriginalDataElements> ReadOriginalDataElements(const Iso8583Message& message) {
  constexpr std::string_view kWhat = "original data elements";
  // 42 digits do not fit one integer, so this field is checked by hand.
  if (!message.Has(field::kOriginalDataElements)) {
    return Absent(field::kOriginalDataElements, kWhat);
  }
  const std::string_view text = message.Field(field::kOriginalDataElements);
  if (text.size() != 42 || !AllDigits(text)) {
    return Malformed(field::kOriginalDataElements, kWhat, "must be 42 digits");
  }
  OriginalDataElements original;
  uint64_t value = 0;
  (void)ParseDigits(text.substr(0, 4), &value);
  original.mti = static_cast<uint16_t>(value);
  (void)ParseDigits(text.substr(4, 6), &value);
  original.stan = static_cast<uint32_t>(value);
  if (!ParseDateTime(text.substr(10, 10), &original.transmission_date_time)) {
    return Malformed(field::kOriginalDataElements, kWhat,
                     "has an original transmission date time that is not a valid MMDDhhmmss");
  }
  original.acquirer_id = text.substr(20, 11);
  original.forwarding_institution_id = text.substr(31, 11);
  return original;
}

Result<uint64_t> ReadReplacementAmount(const Iso8583Message& message) {
  constexpr std::string_view kWhat = "replacement amounts";
  if (!message.Has(field::kReplacementAmounts)) return Absent(field::kReplacementAmounts, kWhat);
  const std::string_view text = message.Field(field::kReplacementAmounts);
  uint64_t amount = 0;
  if (text.size() < 12 || !ParseDigits(text.substr(0, 12), &amount)) {
    return Malformed(field::kReplacementAmounts, kWhat, "must start with a 12-digit amount");
  }
  return amount;
}

Result<std::string_view> ReadTraceparent(const Iso8583Spec& spec, const Iso8583Message& message) {
  constexpr std::string_view kWhat = "traceparent";
  const int field_number = spec.traceparent_field();
  if (field_number == 0) {
    return base::NotFound("dialect " + spec.dialect() + " has no traceparent field");
  }
  if (!message.Has(field_number)) return Absent(field_number, kWhat);
  const std::string_view text = message.Field(field_number);
  // <version 2>-<trace id 32>-<parent id 16>-<flags 2>[-<future fields>]. As
  // W3C Trace Context says: version ff is invalid, version 00 is exactly 55
  // characters, a later version may append fields after a '-'.
  const bool shape_ok = text.size() >= kTraceparentSize && text[2] == '-' && text[35] == '-' &&
                        text[52] == '-' && IsLowerHex(text.substr(0, 2)) &&
                        text.substr(0, 2) != "ff" && IsLowerHex(text.substr(3, 32)) &&
                        IsLowerHex(text.substr(36, 16)) && IsLowerHex(text.substr(53, 2)) &&
                        !AllZero(text.substr(3, 32)) && !AllZero(text.substr(36, 16));
  // Only read past the first 55 characters once the shape guarantees them.
  const bool length_ok = shape_ok && (text.size() == kTraceparentSize ||
                                      (text.substr(0, 2) != "00" && text[kTraceparentSize] == '-'));
  if (!length_ok) {
    return Malformed(field_number, kWhat, "is not a W3C traceparent");
  }
  return text;
}

Status WriteAdditionalAmounts(std::span<const AdditionalAmount> amounts, Iso8583Message* message) {
  if (amounts.empty() || amounts.size() > kAdditionalAmountsMax) {
    return base::InvalidArgument("field 54 takes 1 to 6 amounts, not " +
                                 std::to_string(amounts.size()));
  }
  std::array<char, kAdditionalAmountsMax * kAdditionalAmountSize> text;
  size_t size = 0;
  for (const AdditionalAmount& amount : amounts) {
    if (amount.account_type > 99 || amount.amount_type > 99 || amount.currency_code > 999 ||
        amount.amount_minor_units > 999'999'999'999ULL) {
      return base::InvalidArgument(
          "field 54: account type, amount type (<= 99), currency (<= 999) or amount (<= 12 "
          "digits) out of range");
    }
    auto put = [&](uint64_t value, size_t width) {
      for (size_t i = width; i > 0; --i) {
        text[size + i - 1] = static_cast<char>('0' + value % 10);
        value /= 10;
      }
      size += width;
    };
    put(amount.account_type, 2);
    put(amount.amount_type, 2);
    put(amount.currency_code, 3);
    text[size++] = amount.negative ? 'D' : 'C';
    put(amount.amount_minor_units, 12);
  }
  return message->SetFieldCopy(field::kAdditionalAmounts, std::string_view(text.data(), size));
}

std::string DescribeMessage(const Iso8583Spec& spec, const Iso8583Message& message) {
  std::string out = FormatMti(message.mti());
  const Iso8583FieldSet& fields = message.fields();
  for (int number = fields.Next(0); number != 0; number = fields.Next(number)) {
    const std::string_view value = message.Field(number);
    out += ' ';
    out += std::to_string(number);
    out += '=';
    const Iso8583FieldSpec* definition = spec.field(number);
    if (number == field::kPan) {
      out += MaskPan(value).view();
      continue;
    }
    if (AlwaysSensitive(number) || definition == nullptr || definition->sensitive) {
      out += "<" + std::to_string(value.size()) + " bytes redacted>";
      continue;
    }
    if (definition->type == Iso8583FieldType::kBinary) {
      constexpr char kHex[] = "0123456789ABCDEF";
      for (char c : value) {
        const auto byte = static_cast<uint8_t>(c);
        out += kHex[byte >> 4];
        out += kHex[byte & 0xF];
      }
      continue;
    }
    // Decoded values are printable; a hand-built message might not be.
    std::string text(value);
    for (char& c : text) c = (c >= 0x20 && c <= 0x7E) ? c : '?';
    MaskCardNumbers(message.Has(field::kPan) ? message.Field(field::kPan) : std::string_view(),
                    &text);
    out += '"';
    out += text;
    out += '"';
  }
  return out;
}

}  // namespace tangelo::gateway
