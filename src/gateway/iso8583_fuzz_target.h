// The ISO 8583 fuzz property, shared by the libFuzzer binary (iso8583_fuzz)
// and the unit test that replays the corpus (iso8583_corpus_test), so every
// input the fuzzer ever found interesting is re-checked on every test run.
#pragma once

#include <cstdint>
#include <span>

#include "gateway/iso8583_spec.h"

namespace tangelo::gateway {

// Runs `data` through the framer and the codec under every dialect in
// `dialects`, asserting (TG_ASSERT, which aborts) that:
// - feeding the stream in arbitrary chunks yields exactly the frames and the
//   final status of feeding it whole;
// - whatever decodes re-encodes to the very same bytes, and decodes again to
//   an equal message (the codec is canonical);
// - a failed decode reports a code and an offset inside the input;
// - the typed readers, DescribeMessage and the response builder never crash,
//   and a built response encodes and decodes back to itself.
// Returns how many messages decoded successfully (tests use it to check that
// seed inputs are valid).
int Iso8583FuzzOneInput(std::span<const Iso8583Spec* const> dialects,
                        std::span<const uint8_t> data);

}  // namespace tangelo::gateway
