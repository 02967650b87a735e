// Strict reading of JSON request bodies against a per-operation field list.
// A body must be exactly one JSON object whose members are all declared;
// each member must have its declared type and fit its limits. The first
// violation is reported as an ApiError plus a detail naming the field, so
// every bad request gets a precise, stable answer and changes nothing.
//
// Rules: unknown member → kUnknownField; a member twice → kMalformedJson;
// wrong JSON type → kInvalidType; required member absent → kMissingField;
// string longer than max_length bytes → kStringTooLong; amounts must be
// integers in 1..kAmountMinorMax (0 allowed only with allow_zero) →
// kInvalidAmount (negative, fractional, exponent or overflowing numbers
// included); currencies must be ISO 4217 alphabetic codes base/money knows →
// kInvalidCurrency; ids must be "<prefix>_<16 hex digits>" → kInvalidValue.
//
// Parsing uses one simdjson DOM parser per thread (allocated on first use,
// then reused): no allocation per request once warm. Values read from a
// JsonInput view the parser's memory: valid until the next Parse on this
// thread. Not thread safe; use on one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/core.h"
#include "api/problem.h"

namespace tangelo::api {

enum class FieldType : uint8_t {
  kString,       // max_length bytes at most.
  kUint,         // Non-negative integer up to max_value.
  kAmount,       // Minor units, see above.
  kCurrency,     // "EUR"; read as the ISO 4217 numeric code.
  kBool,
  kId,           // id_prefix + "_" + 16 hex digits.
  kUintArray,    // Array of integers up to max_value, at most max_length items.
  kStringArray,  // Array of strings of at most 32 bytes, at most max_length items.
};

struct FieldSpec {
  std::string_view name;
  FieldType type;
  bool required = false;
  uint32_t max_length = 0;     // Strings: bytes; arrays: items.
  uint64_t max_value = UINT64_MAX;
  std::string_view id_prefix;  // kId only.
  bool allow_zero = false;     // kAmount only.
};

constexpr FieldSpec Field(std::string_view name, FieldType type, bool required = false,
                          uint32_t max_length = 0, uint64_t max_value = UINT64_MAX,
                          std::string_view id_prefix = {}, bool allow_zero = false) {
  FieldSpec spec;
  spec.name = name;
  spec.type = type;
  spec.required = required;
  spec.max_length = max_length;
  spec.max_value = max_value;
  spec.id_prefix = id_prefix;
  spec.allow_zero = allow_zero;
  return spec;
}

struct InputError {
  ApiError error;
  std::string detail;
};

// The parsed members, by index into the spec list.
class JsonInput {
 public:
  // Parses `body` against `fields` (at most kFieldsMax). Returns the first
  // violation, or nullopt when the body is acceptable.
  std::optional<InputError> Parse(std::string_view body, std::span<const FieldSpec> fields);

  bool Has(size_t index) const { return present_[index]; }
  std::string_view String(size_t index) const { return strings_[index]; }
  uint64_t Uint(size_t index) const { return numbers_[index]; }  // kUint/kAmount/kId/kBool.
  uint16_t Currency(size_t index) const { return static_cast<uint16_t>(numbers_[index]); }
  bool Bool(size_t index) const { return numbers_[index] != 0; }
  const std::vector<uint64_t>& UintArray(size_t index) const { return uint_arrays_[index]; }
  const std::vector<std::string_view>& StringArray(size_t index) const {
    return string_arrays_[index];
  }

  static constexpr size_t kFieldsMax = 16;

 private:
  bool present_[kFieldsMax] = {};
  std::string_view strings_[kFieldsMax];
  uint64_t numbers_[kFieldsMax] = {};
  std::vector<uint64_t> uint_arrays_[kFieldsMax];
  std::vector<std::string_view> string_arrays_[kFieldsMax];
};

// "<prefix>_<16 lowercase hex digits>" for a non-zero id.
std::string FormatId(std::string_view prefix, uint64_t id);
// The id, or 0 when `text` is not a well-formed id with this prefix.
uint64_t ParseId(std::string_view prefix, std::string_view text);

}  // namespace tangelo::api
