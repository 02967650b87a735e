// Iso8583Message: one decoded (or to-be-encoded) ISO 8583 message, zero copy.
//
// The message holds the MTI and, for each present field 2..128, a view of the
// field's value: on decode the views point into the caller's frame buffer, so
// decoding copies and allocates nothing. The few values a response builds
// itself (field 38, 54) are copied into a small fixed scratch area inside the
// message. The value of a field is its logical content: the digits/characters
// of n/an/ans fields, the raw bytes of b fields, never the length prefix.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "gateway/iso8583_types.h"

namespace tangelo::gateway {

// Ownership: the message does not own the bytes its views point to, except
// the values stored with SetFieldCopy(). Whoever owns the frame buffer must
// keep it alive and unchanged while the message (or a response built from it)
// is in use. Because views may point into the message's own scratch area, the
// message is neither copyable nor movable: keep it in place (a connection's
// slot, a stack frame). Not thread safe; one thread uses a message at a time.
class Iso8583Message {
 public:
  Iso8583Message() = default;
  Iso8583Message(const Iso8583Message&) = delete;
  Iso8583Message& operator=(const Iso8583Message&) = delete;

  // Forgets the MTI and every field; O(1), no memory is touched per field.
  void Clear() {
    mti_ = 0;
    fields_present_.Clear();
    scratch_used_ = 0;
  }

  // The MTI as the value of its 4 digits (0100 is 100).
  uint16_t mti() const { return mti_; }
  // Precondition: mti <= 9999.
  void set_mti(uint16_t mti) {
    TG_ASSERT(mti <= mti::kMax);
    mti_ = mti;
  }

  // Preconditions for every field accessor: 2 <= field_number <= 128 (field 1,
  // the secondary bitmap, is derived by the encoder, never set by hand).
  bool Has(int field_number) const {
    CheckNumber(field_number);
    return fields_present_.Contains(field_number);
  }
  // The field's value, or an empty view when the field is absent (a present
  // variable field may also be empty: use Has() to tell them apart).
  std::string_view Field(int field_number) const {
    return Has(field_number) ? values_[Index(field_number)] : std::string_view();
  }
  // The same value as bytes, for b fields.
  std::span<const uint8_t> FieldBytes(int field_number) const {
    const std::string_view value = Field(field_number);
    return {reinterpret_cast<const uint8_t*>(value.data()), value.size()};
  }

  // Sets a field to a view of `value`, which must outlive every use of this
  // message (zero copy). The value is validated against the dialect only when
  // the message is encoded.
  void SetField(int field_number, std::string_view value) {
    CheckNumber(field_number);
    values_[Index(field_number)] = value;
    fields_present_.Add(field_number);
  }
  // String literals: every character but the terminating NUL, so a binary
  // literal with embedded zero bytes keeps them.
  template <size_t kSize>
  void SetField(int field_number, const char (&literal)[kSize]) {
    static_assert(kSize >= 1);
    SetField(field_number, std::string_view(literal, kSize - 1));
  }
  void SetField(int field_number, std::span<const uint8_t> value) {
    SetField(field_number,
             std::string_view(reinterpret_cast<const char*>(value.data()), value.size()));
  }
  // A temporary string would leave a dangling view: refused at compile time.
  // Keep the string alive in a variable, or use SetFieldCopy().
  void SetField(int field_number, std::string&& value) = delete;
  // Copies `value` into the message's scratch area and sets the field to it.
  // kResourceExhausted (and the field unchanged) when the scratch area's
  // kIso8583MessageScratchSize bytes are used up; Clear() frees them.
  base::Status SetFieldCopy(int field_number, std::string_view value);
  void ClearField(int field_number) {
    CheckNumber(field_number);
    fields_present_.Remove(field_number);
  }

  // The present fields, in wire bitmap order (never contains field 1).
  const Iso8583FieldSet& fields() const { return fields_present_; }
  uint32_t scratch_bytes_used() const { return scratch_used_; }

  // Same MTI, same present fields, same bytes in each: what the round-trip
  // property of the fuzzer checks.
  bool operator==(const Iso8583Message& other) const;

 private:
  static void CheckNumber(int field_number) {
    TG_ASSERT(field_number >= kIso8583FieldNumberMin && field_number <= kIso8583FieldNumberMax);
  }
  static size_t Index(int field_number) { return static_cast<size_t>(field_number); }

  uint16_t mti_ = 0;
  uint16_t scratch_used_ = 0;
  Iso8583FieldSet fields_present_;
  // Indexed by field number; entries of absent fields are stale and unused,
  // which is what makes Clear() O(1).
  std::array<std::string_view, kIso8583FieldNumberMax + 1> values_;
  std::array<char, kIso8583MessageScratchSize> scratch_;
};

}  // namespace tangelo::gateway
