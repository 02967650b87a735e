#include "telemetry/redaction.h"

#include <array>

namespace tangelo::telemetry {
namespace {

constexpr size_t kNoSpan = ~size_t{0};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsRunSeparator(char c) { return c == ' ' || c == '-'; }

// The end (one past the last digit) of the digit group starting at `begin`.
size_t GroupEnd(const char* text, size_t size, size_t begin) {
  size_t end = begin;
  while (end < size && IsDigit(text[end])) ++end;
  return end;
}

// The start of the group after the one ending at `end`, or kNoSpan if the
// run stops there (a run allows exactly one separator between digits).
size_t NextGroup(const char* text, size_t size, size_t end) {
  if (end + 1 < size && IsRunSeparator(text[end]) && IsDigit(text[end + 1])) return end + 1;
  return kNoSpan;
}

// Copies the digits of text[begin, end) (skipping separators) into `digits`;
// returns how many. Precondition: at most kPanDigitsMax digits.
size_t CollectDigits(const char* text, size_t begin, size_t end,
                     std::array<char, kPanDigitsMax>* digits) {
  size_t count = 0;
  for (size_t i = begin; i < end; ++i) {
    if (IsDigit(text[i])) (*digits)[count++] = text[i];
  }
  return count;
}

// Keeps the first 6 and last 4 digits of text[begin, end), stars the rest.
void MaskSpan(char* text, size_t begin, size_t end, size_t digit_count) {
  size_t seen = 0;
  for (size_t i = begin; i < end; ++i) {
    if (!IsDigit(text[i])) continue;
    if (seen >= 6 && seen + 4 < digit_count) text[i] = '*';
    ++seen;
  }
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsKeySeparator(char c) { return c == '_' || c == '-' || c == '.' || c == ' ' || c == ':'; }

}  // namespace

bool PassesLuhn(std::string_view digits) {
  if (digits.empty()) return false;
  uint32_t sum = 0;
  bool double_it = false;
  for (size_t i = digits.size(); i > 0; --i) {
    const char c = digits[i - 1];
    if (!IsDigit(c)) return false;
    uint32_t digit = static_cast<uint32_t>(c - '0');
    if (double_it) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double_it = !double_it;
  }
  return sum % 10 == 0;
}

size_t MaskCardNumbers(char* text, size_t size) {
  size_t masked = 0;
  size_t i = 0;
  std::array<char, kPanDigitsMax> digits{};
  while (i < size) {
    if (!IsDigit(text[i])) {
      ++i;
      continue;
    }
    // text[i] starts a run. Try each group in turn as the start of a card
    // number, taking the longest span of whole groups that passes Luhn: a
    // longer span hides a superset of the digits a shorter one would.
    size_t start = i;
    while (true) {
      size_t best_end = kNoSpan;
      size_t best_digits = 0;
      size_t total = 0;
      size_t group = start;
      size_t start_group_end = kNoSpan;
      while (true) {
        const size_t group_end = GroupEnd(text, size, group);
        if (start_group_end == kNoSpan) start_group_end = group_end;
        total += group_end - group;
        if (total > kPanDigitsMax) break;
        if (total >= kPanDigitsMin) {
          const size_t count = CollectDigits(text, start, group_end, &digits);
          if (PassesLuhn(std::string_view(digits.data(), count))) {
            best_end = group_end;
            best_digits = count;
          }
        }
        group = NextGroup(text, size, group_end);
        if (group == kNoSpan) break;
      }
      size_t resume_after = start_group_end;
      if (best_end != kNoSpan) {
        MaskSpan(text, start, best_end, best_digits);
        ++masked;
        resume_after = best_end;
      }
      const size_t next = NextGroup(text, size, resume_after);
      if (next == kNoSpan) {
        // The run may go on past a group longer than 19 digits; skip to its
        // end so the scan continues after it.
        i = resume_after;
        break;
      }
      start = next;
    }
  }
  return masked;
}

std::string WithCardNumbersMasked(std::string_view text) {
  std::string copy(text);
  MaskCardNumbers(&copy);
  return copy;
}

size_t CopyMaskedPrefix(std::string_view text, char* out, size_t capacity) {
  const size_t length = CopyPrefixForMasking(text, out, capacity);
  MaskCardNumbers(out, length);
  return length;
}

size_t CopyPrefixForMasking(std::string_view text, char* out, size_t capacity) {
  size_t length = text.size();
  if (length > capacity) {
    length = capacity;
    while (length > 0 && (static_cast<uint8_t>(text[length]) & 0xC0u) == 0x80u) --length;
    // If a digit run goes on past the cut, drop its head too: masking
    // cannot recognise a card number it only sees part of.
    const bool run_continues =
        IsDigit(text[length]) || (IsRunSeparator(text[length]) && length + 1 < text.size() &&
                                  IsDigit(text[length + 1]));
    while (run_continues && length > 0 &&
           (IsDigit(text[length - 1]) ||
            (IsRunSeparator(text[length - 1]) && length >= 2 && IsDigit(text[length - 2])))) {
      --length;
    }
  }
  for (size_t i = 0; i < length; ++i) out[i] = text[i];
  return length;
}

bool IsSensitiveKey(std::string_view key) {
  // Squashed: lowercase without separators, for substring rules. Keys are
  // short; a stack buffer avoids allocating on the span path, and a longer
  // key falls back to the heap rather than being checked only in part.
  char stack_buffer[128];
  std::string heap_buffer;
  char* squashed = stack_buffer;
  if (key.size() > sizeof(stack_buffer)) {
    heap_buffer.resize(key.size());
    squashed = heap_buffer.data();
  }
  size_t squashed_size = 0;
  for (const char c : key) {
    if (!IsKeySeparator(c)) squashed[squashed_size++] = Lower(c);
  }
  const std::string_view squashed_view(squashed, squashed_size);
  static constexpr std::string_view kSensitiveParts[] = {
      "secret",     "password", "passwd", "token", "apikey",     "privatekey",
      "credential", "cookie",   "cvv",    "cvc",   "cardnumber", "track2"};
  for (const std::string_view part : kSensitiveParts) {
    if (squashed_view.find(part) != std::string_view::npos) return true;
  }
  // Words: split at separators and at lower-to-upper case changes
  // (cardPan -> card, pan), compared case-insensitively in place.
  const auto word_is = [&](size_t begin, size_t end, std::string_view word) {
    if (end - begin != word.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
      if (Lower(key[begin + i]) != word[i]) return false;
    }
    return true;
  };
  size_t word_begin = 0;
  size_t last_begin = 0;
  size_t last_end = 0;
  for (size_t i = 0; i <= key.size(); ++i) {
    const bool at_end = i == key.size();
    const bool separator = !at_end && IsKeySeparator(key[i]);
    const bool camel_break = !at_end && i > 0 && key[i] >= 'A' && key[i] <= 'Z' &&
                             key[i - 1] >= 'a' && key[i - 1] <= 'z';
    if (at_end || separator || camel_break) {
      if (i > word_begin) {
        if (word_is(word_begin, i, "pan") || word_is(word_begin, i, "pin")) return true;
        last_begin = word_begin;
        last_end = i;
      }
      word_begin = separator ? i + 1 : i;
    }
  }
  return last_end > last_begin && word_is(last_begin, last_end, "authorization");
}

}  // namespace tangelo::telemetry
