// Iso8583Spec: one network's ISO 8583 dialect, loaded from a text file.
//
// Field definitions (type, length kind, maximum, encoding), the wire
// encodings of MTI, bitmaps and length prefixes, and the supported messages
// are data: config/iso8583/default.spec is Tangelo's own dialect and a network
// that differs gets another file, not code. The file format is specified in
// docs/formats/iso8583.md §5.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "gateway/iso8583_types.h"

namespace tangelo::gateway {

// Field content types of ISO 8583:1987. Stable numbers (used in metrics).
enum class Iso8583FieldType : uint8_t {
  kNumeric = 1,              // n: digits.
  kAlphanumeric = 2,         // an: letters, digits, space (padding).
  kAlphanumericSpecial = 3,  // ans: printable ASCII 0x20-0x7E.
  kBinary = 4,               // b: raw bytes.
};

enum class Iso8583LengthKind : uint8_t {
  kFixed = 1,   // Exactly `length_max` units, no prefix.
  kLlvar = 2,   // 2-digit length prefix, up to 99.
  kLllvar = 3,  // 3-digit length prefix, up to 999.
};

// How a field's content sits on the wire. Version 1 has one encoding per
// type (ascii for n/an/ans, binary for b), so a decoded value is always the
// logical text or bytes and decoding never copies.
enum class Iso8583ContentEncoding : uint8_t {
  kAscii = 1,
  kBinary = 2,
};

enum class Iso8583MtiEncoding : uint8_t {
  kAscii = 1,  // 4 ASCII digits.
  kBcd = 2,    // 2 bytes of packed BCD.
};

enum class Iso8583BitmapEncoding : uint8_t {
  kBinary = 1,  // 8 bytes per bitmap.
  kHex = 2,     // 16 upper-case hex characters per bitmap.
};

enum class Iso8583LengthEncoding : uint8_t {
  kAscii = 1,  // LL = 2 ASCII digits, LLL = 3.
  kBcd = 2,    // LL = 1 packed-BCD byte, LLL = 2 bytes with a zero first nibble.
};

enum class Iso8583SecondaryBitmap : uint8_t {
  kOnDemand = 1,  // Present iff a field 65..128 is present.
  kAlways = 2,    // Always present, possibly all zero.
};

// One field's definition.
struct Iso8583FieldSpec {
  bool defined = false;
  Iso8583FieldType type = Iso8583FieldType::kNumeric;
  Iso8583LengthKind length_kind = Iso8583LengthKind::kFixed;
  // Exact length for kFixed, maximum for the variable kinds; characters for
  // n/an/ans, bytes for b.
  uint16_t length_max = 0;
  Iso8583ContentEncoding encoding = Iso8583ContentEncoding::kAscii;
  // Redacted (or, for field 2, masked) by DescribeMessage().
  bool sensitive = false;
  std::string name;
};

// One supported MTI: the fields it must carry and, for requests, its
// response's MTI and the request fields the response copies back.
struct Iso8583MessageSpec {
  uint16_t mti = 0;
  bool has_response = false;
  uint16_t response_mti = 0;
  Iso8583FieldSet required;
  Iso8583FieldSet echo;
};

// An immutable dialect once loaded. Built at start-up by Parse()/LoadFile(),
// then shared read-only by every connection: const methods are thread safe.
class Iso8583Spec {
 public:
  // Parses a dialect file's text. `origin` (usually the path) prefixes error
  // messages. Errors (kInvalidArgument) name the line and token: unknown
  // directive, duplicate field or MTI, a length beyond its kind's limit, a
  // type/encoding mismatch, a message naming an undefined field, a missing
  // `format`/`dialect` line, a file over kIso8583SpecFileSizeMax.
  static base::Result<Iso8583Spec> Parse(std::string_view text, std::string_view origin);

  // Reads and parses a dialect file. kNotFound/kIoError when it cannot be
  // read; otherwise as Parse().
  static base::Result<Iso8583Spec> LoadFile(const std::string& path);

  const std::string& dialect() const { return dialect_; }
  Iso8583MtiEncoding mti_encoding() const { return mti_encoding_; }
  Iso8583BitmapEncoding bitmap_encoding() const { return bitmap_encoding_; }
  Iso8583LengthEncoding length_encoding() const { return length_encoding_; }
  Iso8583SecondaryBitmap secondary_bitmap() const { return secondary_bitmap_; }
  // How many trailing characters of field 43 are the acceptor's country (2 or 3).
  uint8_t acceptor_country_length() const { return acceptor_country_length_; }
  // Field number of the W3C traceparent, or 0 when the dialect has none.
  int traceparent_field() const { return traceparent_field_; }

  // The definition of field `field_number`, or nullptr when the dialect does
  // not define it (including out-of-range numbers and field 1).
  const Iso8583FieldSpec* field(int field_number) const {
    if (field_number < kIso8583FieldNumberMin || field_number > kIso8583FieldNumberMax) {
      return nullptr;
    }
    const Iso8583FieldSpec& spec = fields_[static_cast<size_t>(field_number)];
    return spec.defined ? &spec : nullptr;
  }
  // The fields this dialect defines.
  const Iso8583FieldSet& defined_fields() const { return defined_fields_; }

  // The message definition for `mti`, or nullptr when it is not supported.
  const Iso8583MessageSpec* message(uint16_t mti) const;
  uint32_t message_count() const { return message_count_; }
  const Iso8583MessageSpec& message_at(uint32_t index) const {
    TG_ASSERT(index < message_count_);
    return messages_[index];
  }

  // Bytes of the encoded MTI and of one encoded bitmap in this dialect.
  uint32_t mti_size() const { return mti_encoding_ == Iso8583MtiEncoding::kAscii ? 4 : 2; }
  uint32_t bitmap_size() const {
    return bitmap_encoding_ == Iso8583BitmapEncoding::kBinary ? 8 : 16;
  }

 private:
  Iso8583Spec() = default;
  friend class Iso8583SpecParser;

  std::string dialect_;
  Iso8583MtiEncoding mti_encoding_ = Iso8583MtiEncoding::kAscii;
  Iso8583BitmapEncoding bitmap_encoding_ = Iso8583BitmapEncoding::kBinary;
  Iso8583LengthEncoding length_encoding_ = Iso8583LengthEncoding::kAscii;
  Iso8583SecondaryBitmap secondary_bitmap_ = Iso8583SecondaryBitmap::kOnDemand;
  uint8_t acceptor_country_length_ = 2;
  int traceparent_field_ = 0;
  // Indexed by field number; 0 and 1 stay undefined.
  std::array<Iso8583FieldSpec, kIso8583FieldNumberMax + 1> fields_{};
  Iso8583FieldSet defined_fields_;
  std::array<Iso8583MessageSpec, kIso8583SpecMessagesMax> messages_{};
  uint32_t message_count_ = 0;
};

// "n", "an", "ans", "b".
std::string_view FieldTypeName(Iso8583FieldType type);
// Formats an MTI as its 4 digits ("0100").
std::string FormatMti(uint16_t mti);

}  // namespace tangelo::gateway
