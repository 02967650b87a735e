// Little-endian writer and bounds-checked reader for the authorizer's part of
// the core snapshot. Internal to the module.
//
// SnapshotWriter buffers small fields and passes large arrays to the sink
// directly, so a snapshot of millions of records is a few large writes and no
// copy. SnapshotReader never reads past its span: a short read marks it
// failed and yields zeros, so a decoder checks ok() once at the end. Neither
// is thread safe.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "engine/state_machine.h"

namespace tangelo::authorizer {

static_assert(std::endian::native == std::endian::little,
              "the snapshot format is little-endian and copied as such");

class SnapshotWriter {
 public:
  explicit SnapshotWriter(const engine::SnapshotSink& sink) : sink_(sink) {}
  ~SnapshotWriter() { Flush(); }
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  void U8(uint8_t value) { Bytes(&value, 1); }
  void U16(uint16_t value) { Bytes(&value, 2); }
  void U32(uint32_t value) { Bytes(&value, 4); }
  void U64(uint64_t value) { Bytes(&value, 8); }
  void Bytes(const void* data, size_t size) {
    if (size == 0) return;  // data may be null (an empty array).
    if (size >= kBufferSize / 2) {
      Flush();
      sink_(data, size);
      written_ += size;
      return;
    }
    if (used_ + size > kBufferSize) Flush();
    std::memcpy(buffer_ + used_, data, size);
    used_ += size;
    written_ += size;
  }
  void Flush() {
    if (used_ > 0) sink_(buffer_, used_);
    used_ = 0;
  }
  uint64_t written() const { return written_; }

 private:
  static constexpr size_t kBufferSize = 4096;
  const engine::SnapshotSink& sink_;
  std::byte buffer_[kBufferSize];
  size_t used_ = 0;
  uint64_t written_ = 0;
};

class SnapshotReader {
 public:
  explicit SnapshotReader(std::span<const std::byte> in) : in_(in) {}

  uint8_t U8() { uint8_t value = 0; Bytes(&value, 1); return value; }
  uint16_t U16() { uint16_t value = 0; Bytes(&value, 2); return value; }
  uint32_t U32() { uint32_t value = 0; Bytes(&value, 4); return value; }
  uint64_t U64() { uint64_t value = 0; Bytes(&value, 8); return value; }
  void Bytes(void* out, size_t size) {
    if (size == 0) return;  // out may be null (an empty array).
    if (!ok_ || size > in_.size() - position_) {
      ok_ = false;
      std::memset(out, 0, size);
      return;
    }
    std::memcpy(out, in_.data() + position_, size);
    position_ += size;
  }
  // The next `size` bytes without copying; empty (and failed) when short.
  std::span<const std::byte> Take(size_t size) {
    if (!ok_ || size > in_.size() - position_) {
      ok_ = false;
      return {};
    }
    std::span<const std::byte> out = in_.subspan(position_, size);
    position_ += size;
    return out;
  }
  void Fail() { ok_ = false; }

  bool ok() const { return ok_; }
  size_t remaining() const { return in_.size() - position_; }
  bool AtEnd() const { return ok_ && position_ == in_.size(); }

 private:
  std::span<const std::byte> in_;
  size_t position_ = 0;
  bool ok_ = true;
};

}  // namespace tangelo::authorizer
