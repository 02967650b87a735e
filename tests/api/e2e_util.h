// Helpers shared by the API's end-to-end tests: the spec validator loaded
// once per process, and JSON field reads. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>
#include <string>

#include "spec_validator.h"

namespace tangelo::api::testing {

// The spec bundled to JSON once per process (Redocly CLI from node_modules).
inline const SpecValidator& Spec() {
  static SpecValidator* validator = [] {
    auto* created = new SpecValidator();
    const std::string out = ::testing::TempDir() + "/tangelo_openapi.json";
    const std::string command = "npx --no-install @redocly/cli bundle docs/api/openapi.yaml "
                                "--ext json -o " + out + " > /dev/null 2>&1";
    const int rc = std::system(command.c_str());
    EXPECT_EQ(rc, 0) << "bundling the spec failed (run npm install at the repo root)";
    const std::string error = created->Load(out);
    EXPECT_EQ(error, "");
    return created;
  }();
  return *validator;
}

inline std::string Str(const std::string& body, const char* pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  if (parser.parse(body).get(document) != simdjson::SUCCESS) return "<not json>";
  std::string_view value;
  if (document.at_pointer(pointer).get_string().get(value) != simdjson::SUCCESS) return "<none>";
  return std::string(value);
}

inline uint64_t Num(const std::string& body, const char* pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  if (parser.parse(body).get(document) != simdjson::SUCCESS) return UINT64_MAX;
  uint64_t value;
  if (document.at_pointer(pointer).get_uint64().get(value) != simdjson::SUCCESS) {
    return UINT64_MAX;
  }
  return value;
}

}  // namespace tangelo::api::testing
