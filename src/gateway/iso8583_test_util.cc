#include "gateway/iso8583_test_util.h"

#include <fstream>
#include <sstream>

#include "base/assert.h"

namespace tangelo::gateway::testing {

std::string SourcePath(std::string_view relative) {
  return std::string(TANGELO_SOURCE_DIR) + "/" + std::string(relative);
}

namespace {
const Iso8583Spec& Load(const char* relative) {
  auto spec = Iso8583Spec::LoadFile(SourcePath(relative));
  TG_ASSERT_MSG(spec.ok(), spec.status().message().c_str());
  return *new Iso8583Spec(std::move(spec).value());  // Lives for the test run.
}
}  // namespace

const Iso8583Spec& DefaultSpec() {
  static const Iso8583Spec& spec = Load("config/iso8583/default.spec");
  return spec;
}

const Iso8583Spec& BcdHexSpec() {
  static const Iso8583Spec& spec = Load("config/iso8583/bcd_hex.spec");
  return spec;
}

std::vector<uint8_t> ParseHexText(std::string_view text) {
  std::vector<uint8_t> bytes;
  int pending = -1;
  bool in_comment = false;
  for (char c : text) {
    if (c == '\n') {
      in_comment = false;
      continue;
    }
    if (in_comment || c == ' ' || c == '\t' || c == '\r') continue;
    if (c == '#') {
      in_comment = true;
      continue;
    }
    int nibble = -1;
    if (c >= '0' && c <= '9') nibble = c - '0';
    if (c >= 'A' && c <= 'F') nibble = c - 'A' + 10;
    if (c >= 'a' && c <= 'f') nibble = c - 'a' + 10;
    TG_ASSERT_MSG(nibble >= 0, "non-hex character in hex text");
    if (pending < 0) {
      pending = nibble;
    } else {
      bytes.push_back(static_cast<uint8_t>(pending << 4 | nibble));
      pending = -1;
    }
  }
  TG_ASSERT_MSG(pending < 0, "odd number of hex digits");
  return bytes;
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  TG_ASSERT_MSG(file.is_open(), path.c_str());
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::string BinaryBitmap(std::initializer_list<int> bits) {
  uint64_t value = 0;
  for (int bit : bits) {
    TG_ASSERT(bit >= 1 && bit <= 64);
    value |= uint64_t{1} << (64 - bit);
  }
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[static_cast<size_t>(i)] = static_cast<char>(value >> (56 - 8 * i));
  return bytes;
}

std::string RawMessage(std::string_view mti, std::initializer_list<int> fields,
                       std::string_view body) {
  uint64_t words[2] = {0, 0};
  for (int field : fields) {
    TG_ASSERT(field >= 2 && field <= 128);
    words[(field - 1) / 64] |= uint64_t{1} << (63 - (field - 1) % 64);
  }
  if (words[1] != 0) words[0] |= uint64_t{1} << 63;
  std::string bytes(mti);
  for (int word = 0; word < (words[1] != 0 ? 2 : 1); ++word) {
    for (int i = 0; i < 8; ++i) bytes += static_cast<char>(words[word] >> (56 - 8 * i));
  }
  bytes += body;
  return bytes;
}

}  // namespace tangelo::gateway::testing
