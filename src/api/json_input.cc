#include "api/json_input.h"

#include <simdjson.h>

#include "base/assert.h"
#include "base/money.h"

namespace tangelo::api {
namespace {

simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

InputError Error(ApiError error, std::string_view field, std::string_view what) {
  std::string detail(field);
  detail += ": ";
  detail += what;
  return InputError{error, std::move(detail)};
}

bool HasLongDigitRun(std::string_view body) {
  size_t run = 0;
  for (char c : body) {
    run = (c >= '0' && c <= '9') ? run + 1 : 0;
    if (run > 19) return true;
  }
  return false;
}

}  // namespace

std::string FormatId(std::string_view prefix, uint64_t id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(prefix);
  out += '_';
  for (int shift = 60; shift >= 0; shift -= 4) out += kHex[(id >> shift) & 15];
  return out;
}

uint64_t ParseId(std::string_view prefix, std::string_view text) {
  if (text.size() != prefix.size() + 17 || text.substr(0, prefix.size()) != prefix ||
      text[prefix.size()] != '_') {
    return 0;
  }
  uint64_t id = 0;
  for (char c : text.substr(prefix.size() + 1)) {
    uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return 0;
    }
    id = id << 4 | digit;
  }
  return id;
}

std::optional<InputError> JsonInput::Parse(std::string_view body,
                                           std::span<const FieldSpec> fields) {
  TG_ASSERT(fields.size() <= kFieldsMax);
  for (size_t i = 0; i < kFieldsMax; ++i) {
    present_[i] = false;
    uint_arrays_[i].clear();
    string_arrays_[i].clear();
  }
  simdjson::dom::element root;
  const auto parse_error = ThreadParser().parse(body.data(), body.size()).get(root);
  // simdjson refuses integers beyond 64 bits as a number error; a run of
  // more than 19 digits in the body says that is what happened (an
  // overflowing amount), rather than a malformed number such as "01".
  if (parse_error == simdjson::NUMBER_ERROR && HasLongDigitRun(body)) {
    return InputError{ApiError::kInvalidAmount, "a number is out of range"};
  }
  if (parse_error != simdjson::SUCCESS) {
    return InputError{ApiError::kMalformedJson, simdjson::error_message(parse_error)};
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return InputError{ApiError::kMalformedJson, "the body must be a JSON object"};
  }
  for (auto member : object) {
    const std::string_view key = member.key;
    size_t index = 0;
    while (index < fields.size() && fields[index].name != key) ++index;
    if (index == fields.size()) {
      return Error(ApiError::kUnknownField, key.size() > 64 ? key.substr(0, 64) : key,
                   "unknown field");
    }
    const FieldSpec& spec = fields[index];
    if (present_[index]) return Error(ApiError::kMalformedJson, key, "duplicate field");
    present_[index] = true;
    const simdjson::dom::element value = member.value;
    const auto type = value.type();
    switch (spec.type) {
      case FieldType::kString:
      case FieldType::kCurrency:
      case FieldType::kId: {
        if (type != simdjson::dom::element_type::STRING) {
          return Error(ApiError::kInvalidType, key, "must be a string");
        }
        const std::string_view text = value.get_string().value_unsafe();
        if (spec.type == FieldType::kString) {
          if (text.size() > spec.max_length) {
            return Error(ApiError::kStringTooLong, key,
                         "at most " + std::to_string(spec.max_length) + " bytes");
          }
          strings_[index] = text;
        } else if (spec.type == FieldType::kCurrency) {
          const auto currency = base::CurrencyFromAlpha(text);
          if (!currency) {
            return Error(ApiError::kInvalidCurrency, key, "not a known ISO 4217 code");
          }
          numbers_[index] = currency->numeric_code;
        } else {
          const uint64_t id = ParseId(spec.id_prefix, text);
          if (id == 0) return Error(ApiError::kInvalidValue, key, "not a valid id");
          numbers_[index] = id;
        }
        break;
      }
      case FieldType::kUint:
      case FieldType::kAmount: {
        const bool amount = spec.type == FieldType::kAmount;
        const ApiError range_error = amount ? ApiError::kInvalidAmount : ApiError::kInvalidValue;
        if (type == simdjson::dom::element_type::INT64) {
          const int64_t number = value.get_int64().value_unsafe();
          if (number < 0) return Error(range_error, key, "must not be negative");
          numbers_[index] = static_cast<uint64_t>(number);
        } else if (type == simdjson::dom::element_type::UINT64) {
          numbers_[index] = value.get_uint64().value_unsafe();
        } else if (type == simdjson::dom::element_type::DOUBLE) {
          return Error(range_error, key, "must be an integer");
        } else {
          return Error(ApiError::kInvalidType, key, "must be an integer");
        }
        const uint64_t max = amount ? kAmountMinorMax : spec.max_value;
        if (numbers_[index] > max) {
          return Error(range_error, key, "at most " + std::to_string(max));
        }
        if (amount && numbers_[index] == 0 && !spec.allow_zero) {
          return Error(range_error, key, "must be positive");
        }
        break;
      }
      case FieldType::kBool:
        if (type != simdjson::dom::element_type::BOOL) {
          return Error(ApiError::kInvalidType, key, "must be a boolean");
        }
        numbers_[index] = value.get_bool().value_unsafe() ? 1 : 0;
        break;
      case FieldType::kUintArray:
      case FieldType::kStringArray: {
        simdjson::dom::array array;
        if (value.get_array().get(array) != simdjson::SUCCESS) {
          return Error(ApiError::kInvalidType, key, "must be an array");
        }
        if (array.size() > spec.max_length) {
          return Error(ApiError::kInvalidValue, key,
                       "at most " + std::to_string(spec.max_length) + " items");
        }
        for (simdjson::dom::element item : array) {
          if (spec.type == FieldType::kUintArray) {
            uint64_t number = 0;
            const auto item_type = item.type();
            const bool integer = item_type == simdjson::dom::element_type::INT64 ||
                                 item_type == simdjson::dom::element_type::UINT64;
            if (!integer && item_type != simdjson::dom::element_type::DOUBLE) {
              return Error(ApiError::kInvalidType, key, "items must be integers");
            }
            if (item.get_uint64().get(number) != simdjson::SUCCESS) {
              return Error(ApiError::kInvalidValue, key, "items must be non-negative integers");
            }
            if (number > spec.max_value) {
              return Error(ApiError::kInvalidValue, key,
                           "items at most " + std::to_string(spec.max_value));
            }
            uint_arrays_[index].push_back(number);
          } else {
            std::string_view text;
            if (item.get_string().get(text) != simdjson::SUCCESS) {
              return Error(ApiError::kInvalidType, key, "items must be strings");
            }
            if (text.size() > 32) return Error(ApiError::kStringTooLong, key, "item too long");
            string_arrays_[index].push_back(text);
          }
        }
        break;
      }
    }
  }
  for (size_t index = 0; index < fields.size(); ++index) {
    if (fields[index].required && !present_[index]) {
      return Error(ApiError::kMissingField, fields[index].name, "required");
    }
  }
  return std::nullopt;
}

}  // namespace tangelo::api
