// Helpers shared by the gateway tests: the shipped dialects, hex text, and
// raw message assembly that does not go through the codec under test.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/iso8583_spec.h"

namespace tangelo::gateway::testing {

// An absolute path inside the source tree (TANGELO_SOURCE_DIR).
std::string SourcePath(std::string_view relative);

// config/iso8583/default.spec and bcd_hex.spec, loaded once (TG_ASSERT on error).
const Iso8583Spec& DefaultSpec();
const Iso8583Spec& BcdHexSpec();

// Parses hex text: '#' starts a comment to end of line, whitespace is
// ignored. TG_ASSERT on a non-hex character or an odd digit count.
std::vector<uint8_t> ParseHexText(std::string_view text);

// Reads a whole file (TG_ASSERT when it cannot be read).
std::string ReadFileOrDie(const std::string& path);

// The default dialect's bytes for `mti` with a binary bitmap announcing
// exactly `fields` (bit 1 added when any is above 64), followed by `body`
// verbatim. Independent of Encode(), so decode tests do not trust it.
std::string RawMessage(std::string_view mti, std::initializer_list<int> fields,
                       std::string_view body);

// 8 big-endian bytes of a bitmap with the given bits (1..64) set.
std::string BinaryBitmap(std::initializer_list<int> bits);

}  // namespace tangelo::gateway::testing
