// SpecValidator: checks an HTTP response against docs/api/openapi.yaml (as
// bundled to JSON by Redocly CLI). For the operation matching (method, path):
// the status must be documented; when the documented response has a JSON
// schema, the Content-Type must match and the body must validate against it.
// Supported schema keywords (what the spec uses): $ref (local), type (string
// or list, with "integer" meaning a JSON integer), properties, required,
// additionalProperties: false, items, enum, const, minimum, maximum,
// maxLength, minLength, maxItems, pattern (std::regex, ECMAScript).
// Test-only code; not thread safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace tangelo::api::testing {

class SpecValidator {
 public:
  // Loads the bundled JSON spec. Returns an empty string, or why it failed.
  std::string Load(const std::string& json_path);

  // Returns an empty string when the response conforms, or what is wrong.
  std::string Check(std::string_view method, std::string_view path, int status,
                    std::string_view content_type, std::string_view body) const;

  ~SpecValidator();
  SpecValidator();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tangelo::api::testing
