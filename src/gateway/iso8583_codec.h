// The ISO 8583 codec: Decode() a message from bytes, Encode() one into a
// caller buffer, both driven by an Iso8583Spec (the dialect).
//
// Format: docs/formats/iso8583.md (version 1). The encoding is canonical:
// Decode accepts exactly one byte string per message, so a decoded message
// re-encodes to the same bytes (the fuzzer and golden tests check this).
// Hot path: neither function allocates on success, and neither copies field
// values except Encode writing them to the output.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "base/status.h"
#include "gateway/iso8583_message.h"
#include "gateway/iso8583_spec.h"

namespace tangelo::gateway {

// Why a message failed to decode, for counters and for choosing between a
// format-error response and closing the connection. Stable numbers.
enum class Iso8583DecodeErrorCode : uint8_t {
  kNone = 0,
  kTruncated = 1,               // The message ends inside the MTI, a bitmap or a field.
  kBadMti = 2,                  // MTI not 4 decimal digits.
  kBadBitmap = 3,               // Hex bitmap with a character outside 0-9A-F.
  kEmptySecondaryBitmap = 4,    // Bit 1 set, secondary all zero (on_demand dialects).
  kMissingSecondaryBitmap = 5,  // Bit 1 clear in an `always` dialect.
  kUndefinedField = 6,          // Bitmap names a field the dialect does not define.
  kBadLengthPrefix = 7,         // LL/LLL prefix not decimal digits.
  kLengthOverMax = 8,           // Variable length above the field's max.
  kBadCharacter = 9,            // A byte outside the field type's character set.
  kTrailingBytes = 10,          // Bytes after the last field.
  kTooLarge = 11,               // Message longer than kIso8583FrameSizeMax.
};

std::string_view DecodeErrorCodeName(Iso8583DecodeErrorCode code);

// Where and why decoding stopped. `field` is 0 for the MTI, the primary
// bitmap and the message as a whole, 1 for the secondary bitmap. `offset` is
// the byte offset from the start of the message (after the TCP length
// prefix) of the offending element: the field's start for a truncated field,
// its length prefix for a prefix error, the byte itself for kBadCharacter.
struct Iso8583DecodeError {
  Iso8583DecodeErrorCode code = Iso8583DecodeErrorCode::kNone;
  uint8_t field = 0;
  uint32_t offset = 0;
};

// Decodes one message (without its TCP length prefix) into *message.
//
// Validates everything: MTI digits, bitmap encoding and the dialect's
// secondary-bitmap policy, every present field defined in the dialect, length
// prefixes digits and within the field's max, fixed fields complete, every
// byte in its type's character set, no field past the end, no trailing bytes.
// On success *message holds the MTI and views into `frame` for every field
// (`frame` must outlive their use). On error returns kInvalidArgument with a
// message naming the field (number and name) and offset, fills *error when
// given, and leaves in *message the MTI and the fields decoded before the
// error, so the caller may still answer with a format error (code 30).
// Never crashes on any input. It does not check that the MTI is supported or
// that required fields are present: that is CheckMessage().
base::Status Decode(const Iso8583Spec& spec, std::span<const uint8_t> frame,
                    Iso8583Message* message, Iso8583DecodeError* error = nullptr);

// Checks a decoded message against the dialect's `message` line for its MTI:
// the MTI must be supported and every required field present. On error
// (kInvalidArgument) sets *missing_field to the first missing field number, or
// 0 when the MTI itself is not supported.
base::Status CheckMessage(const Iso8583Spec& spec, const Iso8583Message& message,
                          int* missing_field = nullptr);

// Checks one value against field `field_number`'s definition exactly as
// Decode and Encode do (defined, length, character set). kInvalidArgument
// naming the field otherwise.
base::Status CheckFieldValue(const Iso8583Spec& spec, int field_number, std::string_view value);

// Encodes `message` (without a length prefix) into `out` and returns the
// bytes written. The secondary bitmap and bit 1 follow the dialect's policy.
// Errors: kInvalidArgument when a present field is undefined or its value is
// invalid for its definition (same rules as Decode); kOutOfRange when the
// message does not fit `out` or would exceed kIso8583FrameSizeMax. On error
// the content of `out` is unspecified and nothing should be sent.
base::Result<size_t> Encode(const Iso8583Spec& spec, const Iso8583Message& message,
                            std::span<uint8_t> out);

// Encode() preceded by the 2-byte big-endian length prefix: a whole TCP frame,
// ready to write. Returns prefix + message bytes.
base::Result<size_t> EncodeFrame(const Iso8583Spec& spec, const Iso8583Message& message,
                                 std::span<uint8_t> out);

// Convenience for tests and tools: views text as bytes.
inline std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace tangelo::gateway
