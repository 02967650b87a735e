#include "journal/record_format.h"

#include <cstdio>

namespace tangelo::journal {
namespace {

constexpr size_t kSequenceDigits = 20;

std::string NameWithSequence(const char* prefix, uint64_t sequence, const char* suffix) {
  char digits[kSequenceDigits + 1];
  std::snprintf(digits, sizeof(digits), "%020llu", static_cast<unsigned long long>(sequence));
  return std::string(prefix) + digits + suffix;
}

// Accepts exactly prefix + 20 digits + suffix.
bool ParseNameWithSequence(const std::string& name, std::string_view prefix,
                           std::string_view suffix, uint64_t* sequence) {
  if (name.size() != prefix.size() + kSequenceDigits + suffix.size()) return false;
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  uint64_t value = 0;
  for (size_t index = 0; index < kSequenceDigits; ++index) {
    const char digit = name[prefix.size() + index];
    if (digit < '0' || digit > '9') return false;
    const uint64_t digit_value = static_cast<uint64_t>(digit - '0');
    if (value > (UINT64_MAX - digit_value) / 10) return false;  // Beyond u64.
    value = value * 10 + digit_value;
  }
  *sequence = value;
  return true;
}

}  // namespace

std::string SegmentFileName(uint64_t first_sequence) {
  return NameWithSequence("journal-", first_sequence, ".log");
}

std::string SnapshotFileName(uint64_t sequence) {
  return NameWithSequence("snapshot-", sequence, ".snap");
}

bool ParseSegmentFileName(const std::string& name, uint64_t* first_sequence) {
  return ParseNameWithSequence(name, "journal-", ".log", first_sequence);
}

bool ParseSnapshotFileName(const std::string& name, uint64_t* sequence) {
  return ParseNameWithSequence(name, "snapshot-", ".snap", sequence);
}

}  // namespace tangelo::journal
