// ByteBuffer: a bounded, growable byte buffer with a read cursor, used for
// each connection's input and output.
//
// Memory is allocated on first use at `initial_bytes` and doubles on demand
// up to `max_bytes`, never beyond: a peer that sends a message larger than
// the protocol allows, or does not read its replies, hits the bound and is
// refused, instead of growing the process. A buffer keeps its memory when
// emptied, so a reused connection slot does not allocate again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace tangelo::net {

// Not thread safe: owned by one loop thread.
class ByteBuffer {
 public:
  // Preconditions: 0 < initial_bytes <= max_bytes <= kBufferBytesMax.
  ByteBuffer(uint32_t initial_bytes, uint32_t max_bytes);
  ByteBuffer(ByteBuffer&&) = default;
  ByteBuffer& operator=(ByteBuffer&&) = default;

  // Bytes written and not yet consumed.
  const char* data() const { return storage_.get() + begin_; }
  char* data() { return storage_.get() + begin_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  std::string_view view() const { return {data(), size()}; }

  // Drops `bytes` from the front. Precondition: bytes <= size().
  void Consume(size_t bytes);
  void Clear() { begin_ = end_ = 0; }

  // Makes at least `bytes` contiguous writable bytes available at
  // write_pointer(), moving data to the front or growing (doubling, up to
  // max_bytes). Returns false, changing nothing, when size() + bytes would
  // exceed max_bytes.
  bool Reserve(size_t bytes);
  char* write_pointer() { return storage_.get() + end_; }
  size_t writable() const { return capacity_ - end_; }
  // Marks `bytes` written at write_pointer(). Precondition: bytes <= writable().
  void Commit(size_t bytes);

  // Reserve + copy + Commit. False (nothing appended) when it does not fit.
  bool Append(std::string_view bytes);

  // Whatever room is left without growing, after moving data to the front;
  // grows once (if allowed) when there is none. Returns the writable bytes.
  size_t PrepareRead();

  size_t capacity() const { return capacity_; }
  size_t max_bytes() const { return max_bytes_; }
  bool full() const { return size() == max_bytes_; }

 private:
  bool Grow(size_t needed);

  std::unique_ptr<char[]> storage_;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t capacity_ = 0;
  size_t initial_bytes_;
  size_t max_bytes_;
};

}  // namespace tangelo::net
