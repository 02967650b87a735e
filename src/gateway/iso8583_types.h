// Shared vocabulary of the ISO 8583 codec: named limits, message type
// indicators, and the field set (a 128-bit presence map in wire bit order).
//
// The wire format these describe is docs/formats/iso8583.md (version 1).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "base/assert.h"

namespace tangelo::gateway {

// Largest ISO 8583 message (excluding the 2-byte TCP length prefix) that the
// gateway accepts or produces. Real authorizations are 150-600 bytes; 4 KiB
// leaves room for a full field 55 and 48 while keeping each connection's
// reassembly buffer small.
inline constexpr uint32_t kIso8583FrameSizeMax = 4096;
// Bytes of the big-endian length prefix in front of every message.
inline constexpr uint32_t kIso8583FramePrefixSize = 2;
// Field numbers run 1..128; field 1 is the secondary bitmap itself.
inline constexpr int kIso8583FieldNumberMax = 128;
inline constexpr int kIso8583FieldNumberMin = 2;
// Length limits of the three length kinds (ISO 8583:1987).
inline constexpr uint16_t kIso8583FixedLengthMax = 999;
inline constexpr uint16_t kIso8583LlvarLengthMax = 99;
inline constexpr uint16_t kIso8583LllvarLengthMax = 999;
// Bytes an Iso8583Message can hold for values it owns (response fields the
// builder formats: 38, 54 and the like). Sized for field 54's six balances
// (120) plus headroom; going over is a clean error, never growth.
inline constexpr uint32_t kIso8583MessageScratchSize = 256;
// Largest dialect file accepted at start-up.
inline constexpr uint32_t kIso8583SpecFileSizeMax = 64 * 1024;
// Most `message` lines one dialect may declare.
inline constexpr uint32_t kIso8583SpecMessagesMax = 64;
// A W3C traceparent of version 00 is exactly this long.
inline constexpr uint32_t kTraceparentSize = 55;

// The message type indicators Tangelo serves (docs/formats/iso8583.md §3),
// as the decimal value of the 4 MTI digits (0100 is 100).
namespace mti {
inline constexpr uint16_t kAuthorizationRequest = 100;
inline constexpr uint16_t kAuthorizationResponse = 110;
inline constexpr uint16_t kAuthorizationAdvice = 120;
inline constexpr uint16_t kAuthorizationAdviceResponse = 130;
inline constexpr uint16_t kFinancialRequest = 200;
inline constexpr uint16_t kFinancialResponse = 210;
inline constexpr uint16_t kReversalRequest = 400;
inline constexpr uint16_t kReversalResponse = 410;
inline constexpr uint16_t kReversalAdvice = 420;
inline constexpr uint16_t kReversalAdviceResponse = 430;
inline constexpr uint16_t kNetworkManagementRequest = 800;
inline constexpr uint16_t kNetworkManagementResponse = 810;
// 4 decimal digits.
inline constexpr uint16_t kMax = 9999;
}  // namespace mti

// A set of field numbers 1..128, stored as the two ISO bitmaps: word 0 is the
// primary bitmap (field 1 = most significant bit), word 1 the secondary
// (field 65 = most significant bit). Storing wire order makes encoding a
// bitmap a byte swap and iterating in field order a count-leading-zeros.
// Value type; not thread safe for concurrent mutation.
class Iso8583FieldSet {
 public:
  constexpr Iso8583FieldSet() = default;

  // Precondition: 1 <= field_number <= 128 (TG_ASSERT).
  constexpr bool Contains(int field_number) const {
    CheckNumber(field_number);
    return (words_[Word(field_number)] & Bit(field_number)) != 0;
  }
  constexpr void Add(int field_number) {
    CheckNumber(field_number);
    words_[Word(field_number)] |= Bit(field_number);
  }
  constexpr void Remove(int field_number) {
    CheckNumber(field_number);
    words_[Word(field_number)] &= ~Bit(field_number);
  }
  constexpr void Clear() { words_[0] = words_[1] = 0; }
  constexpr bool empty() const { return (words_[0] | words_[1]) == 0; }
  constexpr int size() const { return std::popcount(words_[0]) + std::popcount(words_[1]); }
  // True when any field 65..128 is in the set.
  constexpr bool HasSecondary() const { return words_[1] != 0; }

  // The smallest field number greater than `after` in the set, or 0 when none.
  // Iterate with: for (int f = s.Next(0); f != 0; f = s.Next(f)).
  constexpr int Next(int after) const {
    for (int word = after / 64; word < 2; ++word) {
      uint64_t bits = words_[word];
      const int skipped = after - word * 64;  // Bits of this word already visited.
      if (skipped > 0) bits &= (skipped >= 64) ? 0 : (~uint64_t{0} >> skipped);
      if (bits != 0) return word * 64 + std::countl_zero(bits) + 1;
    }
    return 0;
  }

  // Raw bitmap words in wire bit order (0 = primary, 1 = secondary).
  constexpr uint64_t word(int index) const { return words_[index]; }
  constexpr void set_word(int index, uint64_t bits) { words_[index] = bits; }

  constexpr bool operator==(const Iso8583FieldSet&) const = default;

 private:
  static constexpr void CheckNumber(int field_number) {
    TG_ASSERT(field_number >= 1 && field_number <= kIso8583FieldNumberMax);
  }
  static constexpr int Word(int field_number) { return (field_number - 1) / 64; }
  static constexpr uint64_t Bit(int field_number) {
    return uint64_t{1} << (63 - (field_number - 1) % 64);
  }

  uint64_t words_[2] = {0, 0};
};

}  // namespace tangelo::gateway
