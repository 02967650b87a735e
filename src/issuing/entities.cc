#include "issuing/entities.h"

#include <cstring>

namespace tangelo::issuing {

std::optional<Name> MakeName(std::string_view text) {
  if (text.empty() || text.size() > kNameLengthMax) return std::nullopt;
  Name name;
  std::memcpy(name.bytes.data(), text.data(), text.size());
  name.length = static_cast<uint8_t>(text.size());
  if (!IsValidName(name)) return std::nullopt;
  return name;
}

bool IsValidName(const Name& name) {
  if (name.length == 0 || name.length > name.bytes.size()) return false;
  for (size_t i = 0; i < name.bytes.size(); ++i) {
    const char byte = name.bytes[i];
    if (i < name.length ? (byte < 0x20 || byte > 0x7e) : byte != 0) return false;
  }
  return true;
}

}  // namespace tangelo::issuing
