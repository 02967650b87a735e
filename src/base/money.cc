#include "base/money.h"

#include <array>
#include <cstring>

namespace tangelo::base {
namespace {

struct CurrencyRow {
  const char* alpha;
  uint16_t numeric;
  uint8_t exponent;
};

// Active ISO 4217 currencies in common card use. Extend by adding rows; the
// numeric code is what the ledger and ISO 8583 fields 49/50/51 carry.
constexpr std::array<CurrencyRow, 40> kCurrencies = {{
    {"AED", 784, 2}, {"ARS", 32, 2},  {"AUD", 36, 2},  {"BHD", 48, 3},  {"BRL", 986, 2},
    {"CAD", 124, 2}, {"CHF", 756, 2}, {"CLP", 152, 0}, {"CNY", 156, 2}, {"COP", 170, 2},
    {"CZK", 203, 2}, {"DKK", 208, 2}, {"EUR", 978, 2}, {"GBP", 826, 2}, {"HKD", 344, 2},
    {"HUF", 348, 2}, {"IDR", 360, 2}, {"ILS", 376, 2}, {"INR", 356, 2}, {"JOD", 400, 3},
    {"JPY", 392, 0}, {"KRW", 410, 0}, {"KWD", 414, 3}, {"MXN", 484, 2}, {"MYR", 458, 2},
    {"NOK", 578, 2}, {"NZD", 554, 2}, {"PEN", 604, 2}, {"PHP", 608, 2}, {"PLN", 985, 2},
    {"SAR", 682, 2}, {"SEK", 752, 2}, {"SGD", 702, 2}, {"THB", 764, 2}, {"TND", 788, 3},
    {"TRY", 949, 2}, {"USD", 840, 2}, {"UYU", 858, 2}, {"VND", 704, 0}, {"ZAR", 710, 2},
}};

Currency FromRow(const CurrencyRow& row) {
  Currency currency;
  currency.numeric_code = row.numeric;
  std::memcpy(currency.alpha_code, row.alpha, 3);
  currency.exponent = row.exponent;
  return currency;
}

}  // namespace

std::optional<Currency> CurrencyFromAlpha(std::string_view alpha_code) {
  if (alpha_code.size() != 3) return std::nullopt;
  for (const CurrencyRow& row : kCurrencies) {
    if (alpha_code == row.alpha) return FromRow(row);
  }
  return std::nullopt;
}

std::optional<Currency> CurrencyFromNumeric(uint16_t numeric_code) {
  for (const CurrencyRow& row : kCurrencies) {
    if (row.numeric == numeric_code) return FromRow(row);
  }
  return std::nullopt;
}

std::string FormatAmount(uint64_t minor_units, const Currency& currency) {
  std::string digits = std::to_string(minor_units);
  if (currency.exponent == 0) return digits;
  const size_t exponent = currency.exponent;
  if (digits.size() <= exponent) digits.insert(0, exponent + 1 - digits.size(), '0');
  digits.insert(digits.size() - exponent, 1, '.');
  return digits;
}

std::optional<uint64_t> ParseAmount(std::string_view text, const Currency& currency) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  uint64_t value = 0;
  int fraction_digits = -1;  // -1 until the decimal point is seen.
  bool any_digit = false;
  for (char character : text) {
    if (character == '.') {
      if (fraction_digits >= 0) return std::nullopt;
      fraction_digits = 0;
      continue;
    }
    if (character < '0' || character > '9') return std::nullopt;
    if (fraction_digits >= 0 && ++fraction_digits > currency.exponent) return std::nullopt;
    uint64_t times_ten = 0;
    if (__builtin_mul_overflow(value, uint64_t{10}, &times_ten)) return std::nullopt;
    if (!CheckedAdd(times_ten, static_cast<uint64_t>(character - '0'), &value)) {
      return std::nullopt;
    }
    any_digit = true;
  }
  if (!any_digit || fraction_digits == 0) return std::nullopt;
  for (int digit = fraction_digits < 0 ? 0 : fraction_digits; digit < currency.exponent;
       ++digit) {
    if (__builtin_mul_overflow(value, uint64_t{10}, &value)) return std::nullopt;
  }
  return value;
}

}  // namespace tangelo::base
