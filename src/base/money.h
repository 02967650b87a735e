// Money: integer minor units with an ISO 4217 currency. Never floating point.
//
// Amounts are unsigned 64-bit minor units (cents for USD, units for JPY,
// thousandths for BHD). Every addition that can overflow goes through the
// checked helpers below, which report overflow instead of wrapping.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tangelo::base {

// An ISO 4217 currency: numeric code (the ledger's key), alphabetic code and
// the number of minor-unit digits.
struct Currency {
  uint16_t numeric_code = 0;
  char alpha_code[4] = {0, 0, 0, 0};
  uint8_t exponent = 0;

  std::string_view alpha() const { return std::string_view(alpha_code, 3); }
  bool operator==(const Currency& other) const { return numeric_code == other.numeric_code; }
};

// Looks a currency up by alphabetic ("USD") or numeric (840) code. Returns
// nullopt for codes that are not active ISO 4217 currencies in our table.
std::optional<Currency> CurrencyFromAlpha(std::string_view alpha_code);
std::optional<Currency> CurrencyFromNumeric(uint16_t numeric_code);

// Checked arithmetic: returns false (and leaves *result unspecified) on
// overflow or underflow.
[[nodiscard]] inline bool CheckedAdd(uint64_t a, uint64_t b, uint64_t* result) {
  return !__builtin_add_overflow(a, b, result);
}
[[nodiscard]] inline bool CheckedSub(uint64_t a, uint64_t b, uint64_t* result) {
  return !__builtin_sub_overflow(a, b, result);
}

// Formats minor units in the currency's major unit: FormatAmount(12345, USD)
// is "123.45"; FormatAmount(500, JPY) is "500".
std::string FormatAmount(uint64_t minor_units, const Currency& currency);

// Parses a decimal major-unit string ("123.45") into minor units. Rejects
// signs, more fraction digits than the currency has, and overflow.
std::optional<uint64_t> ParseAmount(std::string_view text, const Currency& currency);

}  // namespace tangelo::base
