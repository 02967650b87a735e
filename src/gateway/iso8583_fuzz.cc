// libFuzzer entry point for the ISO 8583 framer and codec. The property it
// checks is in iso8583_fuzz_target.h; run it with scripts/fuzz.sh, which
// seeds it from tests/fuzz/iso8583/.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gateway/iso8583_fuzz_target.h"
#include "gateway/iso8583_spec.h"

namespace {

using tangelo::gateway::Iso8583Spec;

// Both shipped dialects, loaded once from the source tree this binary was
// built from (the fuzz build never runs elsewhere).
const Iso8583Spec& LoadDialect(const char* file_name) {
  const std::string path = std::string(TANGELO_SOURCE_DIR) + "/config/iso8583/" + file_name;
  static_assert(sizeof(TANGELO_SOURCE_DIR) > 1, "TANGELO_SOURCE_DIR must be defined");
  auto spec = Iso8583Spec::LoadFile(path);
  if (!spec.ok()) {
    std::fprintf(stderr, "iso8583_fuzz: %s\n", spec.status().ToString().c_str());
    std::abort();
  }
  return *new Iso8583Spec(std::move(spec).value());  // Lives for the whole run.
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Iso8583Spec* const kDialects[] = {&LoadDialect("default.spec"),
                                                 &LoadDialect("bcd_hex.spec")};
  tangelo::gateway::Iso8583FuzzOneInput(kDialects, std::span<const uint8_t>(data, size));
  return 0;
}
