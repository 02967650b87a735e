// Small text helpers shared by the exporters and the logger: UTF-8
// validation and number formatting that never goes through locales or
// floating point where an exact decimal exists.
//
// Every exported format (Prometheus text, JSON lines, OTLP/JSON) must be
// valid UTF-8, while the strings we export (label values, log fields) may
// come from input. Invalid bytes are replaced with U+FFFD rather than
// rejected, so one bad byte never loses a whole log line or scrape.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tangelo::telemetry::text {

// Length in bytes of the valid UTF-8 sequence starting at text[0], or 0 if
// the bytes there are not one (bad lead byte, truncated sequence, overlong
// encoding, surrogate, or above U+10FFFF). Precondition: !text.empty().
size_t ValidUtf8SequenceLength(std::string_view text);

bool IsValidUtf8(std::string_view text);

// The replacement character U+FFFD in UTF-8.
inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

// Appends `value` with every invalid UTF-8 byte replaced by U+FFFD. Each
// ASCII character is first offered to escape(c, out), which returns true if
// it wrote an escaped form and false to have the character copied as is;
// multi-byte characters are copied whole. The one loop behind every
// writer's escaping (JSON strings, Prometheus label values and help).
template <typename Escape>
void AppendSanitizedUtf8(std::string* out, std::string_view value, Escape&& escape) {
  while (!value.empty()) {
    const size_t length = ValidUtf8SequenceLength(value);
    if (length == 0) {
      out->append(kReplacementCharacter);
      value.remove_prefix(1);
      continue;
    }
    if (length > 1 || !escape(value[0], out)) out->append(value.substr(0, length));
    value.remove_prefix(length);
  }
}

// value / units_per_unit as an exact decimal string with no trailing zeros:
// (1024, 1e9) -> "0.000001024", (3, 1) -> "3", (1500, 1000) -> "1.5".
// Precondition: units_per_unit is 1 or a power of ten up to 1e18.
std::string FormatScaledInteger(uint64_t value, uint64_t units_per_unit);

// The shortest decimal that reads back as exactly `value` ("0.1", "17",
// "1e+21"); "NaN", "+Inf" and "-Inf" for the special values (the
// Prometheus spellings).
std::string FormatDouble(double value);

}  // namespace tangelo::telemetry::text
