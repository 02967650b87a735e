#include "telemetry/text.h"

#include <charconv>
#include <cmath>

#include "base/assert.h"

namespace tangelo::telemetry::text {

size_t ValidUtf8SequenceLength(std::string_view text) {
  TG_DASSERT(!text.empty());
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length = 0;
  uint32_t code_point = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code_point = lead & 0x1Fu;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code_point = lead & 0x0Fu;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code_point = lead & 0x07u;
  } else {
    return 0;  // Continuation byte, overlong 2-byte lead (C0, C1) or F5..FF.
  }
  if (text.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0u) != 0x80u) return 0;
    code_point = (code_point << 6) | (byte(i) & 0x3Fu);
  }
  // Overlong forms, UTF-16 surrogates and values beyond Unicode.
  if (length == 3 && (code_point < 0x800 || (code_point >= 0xD800 && code_point <= 0xDFFF))) {
    return 0;
  }
  if (length == 4 && (code_point < 0x10000 || code_point > 0x10FFFF)) return 0;
  return length;
}

bool IsValidUtf8(std::string_view text) {
  while (!text.empty()) {
    const size_t length = ValidUtf8SequenceLength(text);
    if (length == 0) return false;
    text.remove_prefix(length);
  }
  return true;
}

std::string FormatScaledInteger(uint64_t value, uint64_t units_per_unit) {
  TG_ASSERT(units_per_unit >= 1);
  std::string out = std::to_string(value / units_per_unit);
  if (units_per_unit == 1) return out;
  uint64_t fraction = value % units_per_unit;
  if (fraction == 0) return out;
  // Digits after the point: log10(units_per_unit), zero-padded on the left.
  int digits = 0;
  for (uint64_t scale = units_per_unit; scale > 1; scale /= 10) {
    TG_ASSERT_MSG(scale % 10 == 0, "units_per_unit must be a power of ten");
    ++digits;
  }
  while (fraction % 10 == 0) {
    fraction /= 10;
    --digits;
  }
  const std::string fraction_digits = std::to_string(fraction);
  out += '.';
  out.append(static_cast<size_t>(digits) - fraction_digits.size(), '0');
  out += fraction_digits;
  return out;
}

std::string FormatDouble(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  TG_ASSERT(result.ec == std::errc());
  return std::string(buffer, result.ptr);
}

}  // namespace tangelo::telemetry::text
