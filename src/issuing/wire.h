// Little-endian byte writer and bounds-checked reader for the issuing
// command encoding and snapshot format. Internal to the module.
//
// ByteWriter never writes past its span: it keeps counting, so a first pass
// over an empty span measures the exact size and a second pass writes.
// ByteReader never reads past its span: a short read marks it failed and
// yields zeros, so a decoder checks ok() once at the end instead of after
// every field. Neither allocates. Thread compatible.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace tangelo::issuing::wire {

static_assert(std::endian::native == std::endian::little,
              "the issuing formats are little-endian and copied as such");

class ByteWriter {
 public:
  explicit ByteWriter(std::span<uint8_t> out) : out_(out) {}

  void U8(uint8_t value) { Bytes(&value, 1); }
  void U16(uint16_t value) { Bytes(&value, 2); }
  void U32(uint32_t value) { Bytes(&value, 4); }
  void U64(uint64_t value) { Bytes(&value, 8); }
  void Bytes(const void* data, size_t size) {
    if (position_ + size <= out_.size()) std::memcpy(out_.data() + position_, data, size);
    position_ += size;
  }
  void Chars(std::string_view text) { Bytes(text.data(), text.size()); }

  // Bytes written (or that would have been written).
  size_t position() const { return position_; }
  bool overflowed() const { return position_ > out_.size(); }

 private:
  std::span<uint8_t> out_;
  size_t position_ = 0;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> in) : in_(in) {}

  uint8_t U8() {
    uint8_t value = 0;
    Bytes(&value, 1);
    return value;
  }
  uint16_t U16() {
    uint16_t value = 0;
    Bytes(&value, 2);
    return value;
  }
  uint32_t U32() {
    uint32_t value = 0;
    Bytes(&value, 4);
    return value;
  }
  uint64_t U64() {
    uint64_t value = 0;
    Bytes(&value, 8);
    return value;
  }
  void Bytes(void* out, size_t size) {
    if (!ok_ || size > in_.size() - position_) {
      ok_ = false;
      std::memset(out, 0, size);
      return;
    }
    std::memcpy(out, in_.data() + position_, size);
    position_ += size;
  }
  // Marks the reader failed (a decoder found an invalid value).
  void Fail() { ok_ = false; }

  bool ok() const { return ok_; }
  size_t position() const { return position_; }
  size_t remaining() const { return in_.size() - position_; }
  bool AtEnd() const { return ok_ && position_ == in_.size(); }

 private:
  std::span<const uint8_t> in_;
  size_t position_ = 0;
  bool ok_ = true;
};

}  // namespace tangelo::issuing::wire
