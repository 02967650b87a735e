#include "gateway/iso8583_codec.h"

#include <array>
#include <cstring>
#include <string>

namespace tangelo::gateway {

namespace {

using base::Result;
using base::Status;

constexpr uint64_t kSecondaryBitmapBit = uint64_t{1} << 63;  // Field 1 in the primary word.

// Character classes, one bit per field type, looked up per byte.
constexpr uint8_t kClassNumeric = 1 << 0;
constexpr uint8_t kClassAlphanumeric = 1 << 1;
constexpr uint8_t kClassAlphanumericSpecial = 1 << 2;

constexpr std::array<uint8_t, 256> MakeCharacterClasses() {
  std::array<uint8_t, 256> classes{};
  for (int c = 0x20; c <= 0x7E; ++c) classes[static_cast<size_t>(c)] |= kClassAlphanumericSpecial;
  for (int c = '0'; c <= '9'; ++c) {
    classes[static_cast<size_t>(c)] |= kClassNumeric | kClassAlphanumeric;
  }
  for (int c = 'A'; c <= 'Z'; ++c) classes[static_cast<size_t>(c)] |= kClassAlphanumeric;
  for (int c = 'a'; c <= 'z'; ++c) classes[static_cast<size_t>(c)] |= kClassAlphanumeric;
  classes[' '] |= kClassAlphanumeric;  // an fields are space padded.
  return classes;
}
constexpr std::array<uint8_t, 256> kCharacterClasses = MakeCharacterClasses();

uint8_t ClassOf(Iso8583FieldType type) {
  switch (type) {
    case Iso8583FieldType::kNumeric:
      return kClassNumeric;
    case Iso8583FieldType::kAlphanumeric:
      return kClassAlphanumeric;
    case Iso8583FieldType::kAlphanumericSpecial:
      return kClassAlphanumericSpecial;
    case Iso8583FieldType::kBinary:
      return 0;
  }
  return 0;
}

// True when all 8 bytes of `word` lie in [low, high] (both <= 0x7F): the
// SWAR "has less"/"has more" tricks, 8 bytes per step. Character checks are
// the codec's hottest loop; this halves decode and encode time.
constexpr bool WordInRange(uint64_t word, uint8_t low, uint8_t high) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighBits = 0x8080808080808080ULL;
  const uint64_t below = (word - kOnes * low) & ~word;
  const uint64_t above = (word + kOnes * (0x7FU - high)) | word;
  return ((below | above) & kHighBits) == 0;
}
static_assert(WordInRange(0x3031323334353637ULL, '0', '9'));
static_assert(!WordInRange(0x3031323334353A37ULL, '0', '9'));
static_assert(!WordInRange(0x3031322F34353637ULL, '0', '9'));
static_assert(!WordInRange(0xB031323334353637ULL, '0', '9'));
static_assert(WordInRange(0x207E202020202020ULL, 0x20, 0x7E));
static_assert(!WordInRange(0x207F202020202020ULL, 0x20, 0x7E));
static_assert(!WordInRange(0x201F202020202020ULL, 0x20, 0x7E));

// Index of the first byte outside the type's character set, or `size` when
// all are valid. Binary fields accept every byte.
size_t FirstBadCharacter(Iso8583FieldType type, const uint8_t* data, size_t size) {
  const uint8_t required_class = ClassOf(type);
  if (required_class == 0) return size;
  size_t i = 0;
  // n and ans are contiguous ranges: check them a word at a time; the table
  // finds the exact offending byte and handles the tail and `an`.
  if (type != Iso8583FieldType::kAlphanumeric) {
    const uint8_t low = type == Iso8583FieldType::kNumeric ? '0' : 0x20;
    const uint8_t high = type == Iso8583FieldType::kNumeric ? '9' : 0x7E;
    for (; i + 8 <= size; i += 8) {
      uint64_t word;
      std::memcpy(&word, data + i, 8);
      if (!WordInRange(word, low, high)) break;
    }
  }
  for (; i < size; ++i) {
    if ((kCharacterClasses[data[i]] & required_class) == 0) return i;
  }
  return size;
}

uint32_t PrefixDigits(Iso8583LengthKind kind) {
  return kind == Iso8583LengthKind::kLlvar ? 2 : (kind == Iso8583LengthKind::kLllvar ? 3 : 0);
}

// Bytes of a length prefix on the wire.
uint32_t PrefixSize(const Iso8583Spec& spec, Iso8583LengthKind kind) {
  const uint32_t digits = PrefixDigits(kind);
  return spec.length_encoding() == Iso8583LengthEncoding::kAscii ? digits : (digits + 1) / 2;
}

int HexValue(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // Lower case is rejected: the encoding is canonical.
}

constexpr char kHexDigits[] = "0123456789ABCDEF";

std::string FieldLabel(const Iso8583Spec& spec, int field_number) {
  std::string label = "field " + std::to_string(field_number);
  const Iso8583FieldSpec* field = spec.field(field_number);
  if (field != nullptr) label += " (" + field->name + ")";
  return label;
}

std::string ByteText(uint8_t byte) {
  std::string text = "0x";
  text += kHexDigits[byte >> 4];
  text += kHexDigits[byte & 0xF];
  return text;
}

// One decode pass over one message. Keeps position and error context so
// each check is a line, and every error names dialect, field and offset.
class Decoder {
 public:
  Decoder(const Iso8583Spec& spec, std::span<const uint8_t> frame, Iso8583Message* message,
          Iso8583DecodeError* error)
      : spec_(spec), frame_(frame), message_(message), error_(error) {}

  Status Run() {
    if (Parse()) return Status::Ok();
    return std::move(status_);
  }

 private:
  // Each step returns false after Fail() recorded the error, so the success
  // path never constructs a Status.
  bool Parse() {
    if (frame_.size() > kIso8583FrameSizeMax) {
      return Fail(Iso8583DecodeErrorCode::kTooLarge, 0, 0,
                  "message of " + std::to_string(frame_.size()) + " bytes exceeds the " +
                      std::to_string(kIso8583FrameSizeMax) + "-byte maximum");
    }
    if (!DecodeMti()) return false;
    uint64_t primary = 0;
    uint64_t secondary = 0;
    if (!DecodeBitmap("primary bitmap", &primary)) return false;
    const bool has_secondary = (primary & kSecondaryBitmapBit) != 0;
    if (has_secondary) {
      const uint32_t secondary_offset = offset_;
      if (!DecodeBitmap("secondary bitmap", &secondary)) return false;
      if (secondary == 0 && spec_.secondary_bitmap() == Iso8583SecondaryBitmap::kOnDemand) {
        return Fail(Iso8583DecodeErrorCode::kEmptySecondaryBitmap, 1, secondary_offset,
                    "bit 1 is set but the secondary bitmap is empty (dialect sends it on demand)");
      }
    } else if (spec_.secondary_bitmap() == Iso8583SecondaryBitmap::kAlways) {
      return Fail(Iso8583DecodeErrorCode::kMissingSecondaryBitmap, 1, spec_.mti_size(),
                  "bit 1 is clear but this dialect always sends the secondary bitmap");
    }
    Iso8583FieldSet present;
    present.set_word(0, primary & ~kSecondaryBitmapBit);
    present.set_word(1, secondary);
    for (int field = present.Next(0); field != 0; field = present.Next(field)) {
      if (!DecodeField(field)) return false;
    }
    if (offset_ != frame_.size()) {
      return Fail(Iso8583DecodeErrorCode::kTrailingBytes, 0, offset_,
                  std::to_string(frame_.size() - offset_) + " bytes after the last field");
    }
    return true;
  }

  size_t remaining() const { return frame_.size() - offset_; }

  // Records the error (only ever on the failure path, so it may allocate).
  bool Fail(Iso8583DecodeErrorCode code, int field, uint32_t offset, const std::string& what) {
    if (error_ != nullptr) {
      error_->code = code;
      error_->field = static_cast<uint8_t>(field);
      error_->offset = offset;
    }
    std::string text = "iso8583 " + spec_.dialect() + ": ";
    if (field == 0) {
      text += "message";
    } else if (field == 1) {
      text += "secondary bitmap";
    } else {
      text += FieldLabel(spec_, field);
    }
    text += " at offset " + std::to_string(offset) + ": " + what;
    status_ = base::InvalidArgument(std::move(text));
    return false;
  }

  bool DecodeMti() {
    const uint32_t size = spec_.mti_size();
    if (remaining() < size) {
      return Fail(Iso8583DecodeErrorCode::kTruncated, 0, 0,
                  "truncated MTI (" + std::to_string(remaining()) + " of " + std::to_string(size) +
                      " bytes)");
    }
    uint32_t mti = 0;
    if (spec_.mti_encoding() == Iso8583MtiEncoding::kAscii) {
      for (uint32_t i = 0; i < 4; ++i) {
        const uint8_t c = frame_[i];
        if (c < '0' || c > '9') {
          return Fail(Iso8583DecodeErrorCode::kBadMti, 0, i,
                      "MTI byte " + ByteText(c) + " is not a digit");
        }
        mti = mti * 10 + (c - '0');
      }
    } else {
      for (uint32_t i = 0; i < 2; ++i) {
        const uint8_t byte = frame_[i];
        if ((byte >> 4) > 9 || (byte & 0xF) > 9) {
          return Fail(Iso8583DecodeErrorCode::kBadMti, 0, i,
                      "MTI byte " + ByteText(byte) + " is not packed BCD");
        }
        mti = mti * 100 + (byte >> 4) * 10 + (byte & 0xF);
      }
    }
    message_->set_mti(static_cast<uint16_t>(mti));
    offset_ = size;
    return true;
  }

  bool DecodeBitmap(const char* which, uint64_t* bits) {
    const uint32_t size = spec_.bitmap_size();
    if (remaining() < size) {
      return Fail(Iso8583DecodeErrorCode::kTruncated, 0, offset_,
                  std::string("truncated ") + which + " (" + std::to_string(remaining()) + " of " +
                      std::to_string(size) + " bytes)");
    }
    uint64_t value = 0;
    if (spec_.bitmap_encoding() == Iso8583BitmapEncoding::kBinary) {
      for (uint32_t i = 0; i < 8; ++i) value = (value << 8) | frame_[offset_ + i];
    } else {
      for (uint32_t i = 0; i < 16; ++i) {
        const int nibble = HexValue(frame_[offset_ + i]);
        if (nibble < 0) {
          return Fail(Iso8583DecodeErrorCode::kBadBitmap, 0, offset_ + i,
                      std::string(which) + " byte " + ByteText(frame_[offset_ + i]) +
                          " is not an upper-case hex digit");
        }
        value = (value << 4) | static_cast<uint64_t>(nibble);
      }
    }
    *bits = value;
    offset_ += size;
    return true;
  }

  bool DecodeField(int field_number) {
    const uint32_t field_offset = offset_;
    const Iso8583FieldSpec* field = spec_.field(field_number);
    if (field == nullptr) {
      return Fail(Iso8583DecodeErrorCode::kUndefinedField, field_number, field_offset,
                  "bit set for a field this dialect does not define");
    }
    uint32_t length = field->length_max;
    if (field->length_kind != Iso8583LengthKind::kFixed) {
      if (!DecodeLengthPrefix(field_number, *field, &length)) return false;
    }
    if (remaining() < length) {
      return Fail(Iso8583DecodeErrorCode::kTruncated, field_number, field_offset,
                  "value of " + std::to_string(length) + " bytes runs past the end (" +
                      std::to_string(remaining()) + " left)");
    }
    const uint8_t* data = frame_.data() + offset_;
    const size_t bad = FirstBadCharacter(field->type, data, length);
    if (bad != length) {
      return Fail(Iso8583DecodeErrorCode::kBadCharacter, field_number,
                  offset_ + static_cast<uint32_t>(bad),
                  "byte " + ByteText(data[bad]) + " is not allowed in a field of type " +
                      std::string(FieldTypeName(field->type)));
    }
    message_->SetField(field_number, std::string_view(reinterpret_cast<const char*>(data), length));
    offset_ += length;
    return true;
  }

  bool DecodeLengthPrefix(int field_number, const Iso8583FieldSpec& field, uint32_t* length) {
    const uint32_t size = PrefixSize(spec_, field.length_kind);
    if (remaining() < size) {
      return Fail(Iso8583DecodeErrorCode::kTruncated, field_number, offset_,
                  "truncated length prefix");
    }
    uint32_t value = 0;
    if (spec_.length_encoding() == Iso8583LengthEncoding::kAscii) {
      for (uint32_t i = 0; i < size; ++i) {
        const uint8_t c = frame_[offset_ + i];
        if (c < '0' || c > '9') {
          return Fail(Iso8583DecodeErrorCode::kBadLengthPrefix, field_number, offset_,
                      "length prefix byte " + ByteText(c) + " is not a digit");
        }
        value = value * 10 + (c - '0');
      }
    } else {
      for (uint32_t i = 0; i < size; ++i) {
        const uint8_t byte = frame_[offset_ + i];
        const uint32_t high = byte >> 4, low = byte & 0xF;
        // LLL in BCD is 2 bytes for 3 digits: the first nibble must be 0.
        const bool pad_nibble = field.length_kind == Iso8583LengthKind::kLllvar && i == 0;
        if (high > 9 || low > 9 || (pad_nibble && high != 0)) {
          return Fail(Iso8583DecodeErrorCode::kBadLengthPrefix, field_number, offset_,
                      "length prefix byte " + ByteText(byte) + " is not packed BCD" +
                          (pad_nibble ? " with a zero first nibble" : ""));
        }
        value = value * 100 + high * 10 + low;
      }
    }
    if (value > field.length_max) {
      return Fail(Iso8583DecodeErrorCode::kLengthOverMax, field_number, offset_,
                  "length " + std::to_string(value) + " exceeds the field's max " +
                      std::to_string(field.length_max));
    }
    offset_ += size;
    *length = value;
    return true;
  }

  const Iso8583Spec& spec_;
  std::span<const uint8_t> frame_;
  Iso8583Message* message_;
  Iso8583DecodeError* error_;
  uint32_t offset_ = 0;
  Status status_;
};

// Sequential writer with a hard capacity; a write that does not fit fails.
class Writer {
 public:
  explicit Writer(std::span<uint8_t> out) : out_(out) {}
  bool Fits(size_t size) const { return size <= out_.size() - size_; }
  void Byte(uint8_t byte) { out_[size_++] = byte; }
  void Bytes(const void* data, size_t size) {
    if (size != 0) std::memcpy(out_.data() + size_, data, size);
    size_ += size;
  }
  size_t size() const { return size_; }

 private:
  std::span<uint8_t> out_;
  size_t size_ = 0;
};

// The fast check Encode runs per field; CheckValue explains a failure.
bool ValueIsValid(const Iso8583FieldSpec* field, std::string_view value) {
  if (field == nullptr) return false;
  const bool fixed = field->length_kind == Iso8583LengthKind::kFixed;
  if ((fixed && value.size() != field->length_max) || value.size() > field->length_max) {
    return false;
  }
  return FirstBadCharacter(field->type, reinterpret_cast<const uint8_t*>(value.data()),
                           value.size()) == value.size();
}

Status CheckValue(const Iso8583Spec& spec, int field_number, const Iso8583FieldSpec* field,
                  std::string_view value) {
  if (field == nullptr) {
    return base::InvalidArgument("iso8583 " + spec.dialect() + ": field " +
                                 std::to_string(field_number) + " is not defined in this dialect");
  }
  const bool fixed = field->length_kind == Iso8583LengthKind::kFixed;
  if ((fixed && value.size() != field->length_max) || value.size() > field->length_max) {
    return base::InvalidArgument(
        "iso8583 " + spec.dialect() + ": " + FieldLabel(spec, field_number) + ": value of " +
        std::to_string(value.size()) + " units, field takes " + (fixed ? "exactly " : "at most ") +
        std::to_string(field->length_max));
  }
  const auto* data = reinterpret_cast<const uint8_t*>(value.data());
  const size_t bad = FirstBadCharacter(field->type, data, value.size());
  if (bad != value.size()) {
    return base::InvalidArgument(
        "iso8583 " + spec.dialect() + ": " + FieldLabel(spec, field_number) + ": byte " +
        ByteText(data[bad]) + " at position " + std::to_string(bad) +
        " is not allowed in a field of type " + std::string(FieldTypeName(field->type)));
  }
  return Status::Ok();
}

Status OutOfRoom(const Iso8583Spec& spec, size_t capacity, bool limited_by_frame_max) {
  return Status(base::StatusCode::kOutOfRange,
                "iso8583 " + spec.dialect() + ": message does not fit " +
                    (limited_by_frame_max
                         ? "the " + std::to_string(kIso8583FrameSizeMax) + "-byte frame maximum"
                         : "the " + std::to_string(capacity) + "-byte buffer"));
}

void WriteBitmap(const Iso8583Spec& spec, uint64_t bits, Writer* writer) {
  if (spec.bitmap_encoding() == Iso8583BitmapEncoding::kBinary) {
    for (int shift = 56; shift >= 0; shift -= 8) {
      writer->Byte(static_cast<uint8_t>(bits >> shift));
    }
  } else {
    for (int shift = 60; shift >= 0; shift -= 4) {
      writer->Byte(static_cast<uint8_t>(kHexDigits[(bits >> shift) & 0xF]));
    }
  }
}

void WriteLengthPrefix(const Iso8583Spec& spec, Iso8583LengthKind kind, uint32_t length,
                       Writer* writer) {
  const uint32_t digits = PrefixDigits(kind);
  if (spec.length_encoding() == Iso8583LengthEncoding::kAscii) {
    if (digits == 3) writer->Byte(static_cast<uint8_t>('0' + length / 100));
    writer->Byte(static_cast<uint8_t>('0' + length / 10 % 10));
    writer->Byte(static_cast<uint8_t>('0' + length % 10));
  } else {
    if (digits == 3) writer->Byte(static_cast<uint8_t>(length / 100));
    writer->Byte(static_cast<uint8_t>((length / 10 % 10) << 4 | length % 10));
  }
}

}  // namespace

std::string_view DecodeErrorCodeName(Iso8583DecodeErrorCode code) {
  switch (code) {
    case Iso8583DecodeErrorCode::kNone:
      return "none";
    case Iso8583DecodeErrorCode::kTruncated:
      return "truncated";
    case Iso8583DecodeErrorCode::kBadMti:
      return "bad_mti";
    case Iso8583DecodeErrorCode::kBadBitmap:
      return "bad_bitmap";
    case Iso8583DecodeErrorCode::kEmptySecondaryBitmap:
      return "empty_secondary_bitmap";
    case Iso8583DecodeErrorCode::kMissingSecondaryBitmap:
      return "missing_secondary_bitmap";
    case Iso8583DecodeErrorCode::kUndefinedField:
      return "undefined_field";
    case Iso8583DecodeErrorCode::kBadLengthPrefix:
      return "bad_length_prefix";
    case Iso8583DecodeErrorCode::kLengthOverMax:
      return "length_over_max";
    case Iso8583DecodeErrorCode::kBadCharacter:
      return "bad_character";
    case Iso8583DecodeErrorCode::kTrailingBytes:
      return "trailing_bytes";
    case Iso8583DecodeErrorCode::kTooLarge:
      return "too_large";
  }
  return "unknown";
}

Status Decode(const Iso8583Spec& spec, std::span<const uint8_t> frame, Iso8583Message* message,
              Iso8583DecodeError* error) {
  TG_ASSERT(message != nullptr);
  message->Clear();
  if (error != nullptr) *error = Iso8583DecodeError{};
  return Decoder(spec, frame, message, error).Run();
}

Status CheckMessage(const Iso8583Spec& spec, const Iso8583Message& message, int* missing_field) {
  if (missing_field != nullptr) *missing_field = 0;
  const Iso8583MessageSpec* definition = spec.message(message.mti());
  if (definition == nullptr) {
    return base::InvalidArgument("iso8583 " + spec.dialect() + ": MTI " + FormatMti(message.mti()) +
                                 " is not supported");
  }
  const Iso8583FieldSet& required = definition->required;
  for (int field = required.Next(0); field != 0; field = required.Next(field)) {
    if (!message.Has(field)) {
      if (missing_field != nullptr) *missing_field = field;
      return base::InvalidArgument("iso8583 " + spec.dialect() + ": MTI " +
                                   FormatMti(message.mti()) + " requires " +
                                   FieldLabel(spec, field) + ", which is missing");
    }
  }
  return Status::Ok();
}

Status CheckFieldValue(const Iso8583Spec& spec, int field_number, std::string_view value) {
  return CheckValue(spec, field_number, spec.field(field_number), value);
}

Result<size_t> Encode(const Iso8583Spec& spec, const Iso8583Message& message,
                      std::span<uint8_t> out) {
  const bool limited_by_frame_max = out.size() > kIso8583FrameSizeMax;
  Writer writer(limited_by_frame_max ? out.first(kIso8583FrameSizeMax) : out);

  const Iso8583FieldSet& fields = message.fields();
  const bool secondary =
      fields.HasSecondary() || spec.secondary_bitmap() == Iso8583SecondaryBitmap::kAlways;
  const size_t header_size = spec.mti_size() + spec.bitmap_size() * (secondary ? 2 : 1);
  if (!writer.Fits(header_size)) return OutOfRoom(spec, out.size(), limited_by_frame_max);

  const uint16_t mti = message.mti();
  if (spec.mti_encoding() == Iso8583MtiEncoding::kAscii) {
    writer.Byte(static_cast<uint8_t>('0' + mti / 1000));
    writer.Byte(static_cast<uint8_t>('0' + mti / 100 % 10));
    writer.Byte(static_cast<uint8_t>('0' + mti / 10 % 10));
    writer.Byte(static_cast<uint8_t>('0' + mti % 10));
  } else {
    writer.Byte(static_cast<uint8_t>((mti / 1000) << 4 | mti / 100 % 10));
    writer.Byte(static_cast<uint8_t>((mti / 10 % 10) << 4 | mti % 10));
  }
  WriteBitmap(spec, fields.word(0) | (secondary ? kSecondaryBitmapBit : 0), &writer);
  if (secondary) WriteBitmap(spec, fields.word(1), &writer);

  for (int field_number = fields.Next(0); field_number != 0;
       field_number = fields.Next(field_number)) {
    const Iso8583FieldSpec* field = spec.field(field_number);
    const std::string_view value = message.Field(field_number);
    if (!ValueIsValid(field, value)) {
      const Status invalid = CheckValue(spec, field_number, field, value);
      TG_ASSERT(!invalid.ok());  // The two checks must agree.
      return invalid;
    }
    const bool variable = field->length_kind != Iso8583LengthKind::kFixed;
    const uint32_t prefix_size = variable ? PrefixSize(spec, field->length_kind) : 0;
    if (!writer.Fits(prefix_size + value.size())) {
      return OutOfRoom(spec, out.size(), limited_by_frame_max);
    }
    if (variable) {
      WriteLengthPrefix(spec, field->length_kind, static_cast<uint32_t>(value.size()), &writer);
    }
    writer.Bytes(value.data(), value.size());
  }
  return writer.size();
}

Result<size_t> EncodeFrame(const Iso8583Spec& spec, const Iso8583Message& message,
                           std::span<uint8_t> out) {
  if (out.size() < kIso8583FramePrefixSize) {
    return OutOfRoom(spec, out.size(), /*limited_by_frame_max=*/false);
  }
  Result<size_t> body = Encode(spec, message, out.subspan(kIso8583FramePrefixSize));
  if (!body.ok()) return body.status();
  static_assert(kIso8583FrameSizeMax <= 0xFFFF, "the length prefix is 16 bits");
  out[0] = static_cast<uint8_t>(*body >> 8);
  out[1] = static_cast<uint8_t>(*body & 0xFF);
  return *body + kIso8583FramePrefixSize;
}

}  // namespace tangelo::gateway
