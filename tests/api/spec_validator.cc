#include "spec_validator.h"

#include <simdjson.h>

#include <regex>
#include <vector>

namespace tangelo::api::testing {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

struct SpecValidator::Impl {
  simdjson::dom::parser spec_parser;
  element spec;
  mutable simdjson::dom::parser body_parser;

  element Resolve(element schema) const {
    for (int depth = 0; depth < 16; ++depth) {
      std::string_view ref;
      if (schema["$ref"].get_string().get(ref) != simdjson::SUCCESS) return schema;
      // "#/components/schemas/Name".
      std::string pointer(ref.substr(1));
      element target;
      if (spec.at_pointer(pointer).get(target) != simdjson::SUCCESS) return schema;
      schema = target;
    }
    return schema;
  }

  static bool TypeMatches(std::string_view type, element value) {
    const element_type actual = value.type();
    if (type == "object") return actual == element_type::OBJECT;
    if (type == "array") return actual == element_type::ARRAY;
    if (type == "string") return actual == element_type::STRING;
    if (type == "boolean") return actual == element_type::BOOL;
    if (type == "null") return actual == element_type::NULL_VALUE;
    if (type == "integer") {
      return actual == element_type::INT64 || actual == element_type::UINT64;
    }
    if (type == "number") {
      return actual == element_type::INT64 || actual == element_type::UINT64 ||
             actual == element_type::DOUBLE;
    }
    return false;
  }

  static double Number(element value) {
    switch (value.type()) {
      case element_type::INT64: return static_cast<double>(value.get_int64().value_unsafe());
      case element_type::UINT64: return static_cast<double>(value.get_uint64().value_unsafe());
      default: return value.get_double().value_unsafe();
    }
  }

  std::string Validate(element schema_in, element value, const std::string& where) const {
    const element schema = Resolve(schema_in);
    object keywords;
    if (schema.get_object().get(keywords) != simdjson::SUCCESS) return {};
    element type;
    if (keywords["type"].get(type) == simdjson::SUCCESS) {
      bool ok = false;
      std::string names;
      if (type.type() == element_type::STRING) {
        names = std::string(type.get_string().value_unsafe());
        ok = TypeMatches(names, value);
      } else {
        const simdjson::dom::array types = type.get_array().value_unsafe();
        for (element item : types) {
          const std::string_view name = item.get_string().value_unsafe();
          names += std::string(name) + "|";
          ok = ok || TypeMatches(name, value);
        }
      }
      if (!ok) return where + ": expected type " + names + ", got " + simdjson::to_string(value);
    }
    element constant;
    if (keywords["const"].get(constant) == simdjson::SUCCESS &&
        simdjson::to_string(constant) != simdjson::to_string(value)) {
      return where + ": expected " + simdjson::to_string(constant);
    }
    simdjson::dom::array enumeration;
    if (keywords["enum"].get_array().get(enumeration) == simdjson::SUCCESS) {
      bool found = false;
      for (element item : enumeration) {
        found = found || simdjson::to_string(item) == simdjson::to_string(value);
      }
      if (!found) return where + ": " + simdjson::to_string(value) + " not in enum";
    }
    if (value.is_number()) {
      double bound;
      if (keywords["minimum"].get_double().get(bound) == simdjson::SUCCESS ||
          (keywords["minimum"].is_int64() &&
           (bound = static_cast<double>(keywords["minimum"].get_int64().value_unsafe()), true))) {
        if (Number(value) < bound) return where + ": below minimum";
      }
      element maximum;
      if (keywords["maximum"].get(maximum) == simdjson::SUCCESS &&
          Number(value) > Number(maximum)) {
        return where + ": above maximum";
      }
    }
    if (value.type() == element_type::STRING) {
      const std::string_view text = value.get_string().value_unsafe();
      uint64_t length;
      if (keywords["maxLength"].get_uint64().get(length) == simdjson::SUCCESS &&
          text.size() > length) {
        return where + ": longer than maxLength";
      }
      std::string_view pattern;
      if (keywords["pattern"].get_string().get(pattern) == simdjson::SUCCESS &&
          !std::regex_search(std::string(text), std::regex(std::string(pattern)))) {
        return where + ": '" + std::string(text) + "' does not match " + std::string(pattern);
      }
    }
    if (value.type() == element_type::OBJECT) {
      const object fields = value.get_object().value_unsafe();
      simdjson::dom::array required;
      if (keywords["required"].get_array().get(required) == simdjson::SUCCESS) {
        for (element name : required) {
          const std::string_view key = name.get_string().value_unsafe();
          if (fields[key].error() != simdjson::SUCCESS) {
            return where + ": missing required " + std::string(key);
          }
        }
      }
      object properties;
      const bool has_properties =
          keywords["properties"].get_object().get(properties) == simdjson::SUCCESS;
      bool closed = false;
      if (keywords["additionalProperties"].get_bool().get(closed) == simdjson::SUCCESS) {
        closed = !closed;
      }
      for (auto field : fields) {
        element property_schema;
        if (has_properties && properties[field.key].get(property_schema) == simdjson::SUCCESS) {
          std::string error =
              Validate(property_schema, field.value, where + "." + std::string(field.key));
          if (!error.empty()) return error;
        } else if (closed) {
          return where + ": unexpected property " + std::string(field.key);
        }
      }
    }
    if (value.type() == element_type::ARRAY) {
      element items;
      const bool has_items = keywords["items"].get(items) == simdjson::SUCCESS;
      uint64_t max_items;
      const simdjson::dom::array array = value.get_array().value_unsafe();
      if (keywords["maxItems"].get_uint64().get(max_items) == simdjson::SUCCESS &&
          array.size() > max_items) {
        return where + ": too many items";
      }
      size_t index = 0;
      for (element item : array) {
        if (has_items) {
          std::string error = Validate(items, item, where + "[" + std::to_string(index) + "]");
          if (!error.empty()) return error;
        }
        ++index;
      }
    }
    return {};
  }
};

SpecValidator::SpecValidator() : impl_(std::make_unique<Impl>()) {}
SpecValidator::~SpecValidator() = default;

std::string SpecValidator::Load(const std::string& json_path) {
  if (impl_->spec_parser.load(json_path).get(impl_->spec) != simdjson::SUCCESS) {
    return "cannot parse " + json_path;
  }
  return {};
}

std::string SpecValidator::Check(std::string_view method, std::string_view path, int status,
                                 std::string_view content_type, std::string_view body) const {
  // Find the path template.
  object paths;
  if (impl_->spec["paths"].get_object().get(paths) != simdjson::SUCCESS) return "no paths";
  auto split = [](std::string_view text) {
    std::vector<std::string_view> parts;
    size_t start = 1;
    while (start <= text.size()) {
      size_t end = text.find('/', start);
      if (end == std::string_view::npos) end = text.size();
      parts.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    return parts;
  };
  const auto actual = split(path);
  element operation;
  bool found = false;
  std::string lower(method);
  for (char& c : lower) c = static_cast<char>(c - 'A' + 'a');
  for (auto entry : paths) {
    const auto pattern = split(entry.key);
    if (pattern.size() != actual.size()) continue;
    bool same = true;
    for (size_t i = 0; i < pattern.size() && same; ++i) {
      same = (!pattern[i].empty() && pattern[i].front() == '{') || pattern[i] == actual[i];
    }
    if (same && entry.value[lower].get(operation) == simdjson::SUCCESS) {
      found = true;
      break;
    }
  }
  if (!found) return "no operation " + std::string(method) + " " + std::string(path);
  element response;
  const std::string code = std::to_string(status);
  if (operation["responses"][code].get(response) != simdjson::SUCCESS) {
    return "status " + code + " not documented for " + std::string(method) + " " +
           std::string(path);
  }
  response = impl_->Resolve(response);
  object content;
  if (response["content"].get_object().get(content) != simdjson::SUCCESS) return {};
  for (auto media : content) {
    if (content_type.substr(0, media.key.size()) != media.key) continue;
    element schema;
    if (media.value["schema"].get(schema) != simdjson::SUCCESS) return {};
    element document;
    if (impl_->body_parser.parse(body.data(), body.size()).get(document) != simdjson::SUCCESS) {
      return "body is not JSON: " + std::string(body.substr(0, 200));
    }
    return impl_->Validate(schema, document, "$");
  }
  return "content type " + std::string(content_type) + " not documented for status " + code;
}

}  // namespace tangelo::api::testing
