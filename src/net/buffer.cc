#include "net/buffer.h"

#include <cstring>

#include "base/assert.h"
#include "net/limits.h"

namespace tangelo::net {

ByteBuffer::ByteBuffer(uint32_t initial_bytes, uint32_t max_bytes)
    : initial_bytes_(initial_bytes), max_bytes_(max_bytes) {
  TG_ASSERT(initial_bytes > 0 && initial_bytes <= max_bytes && max_bytes <= kBufferBytesMax);
}

void ByteBuffer::Consume(size_t bytes) {
  TG_ASSERT(bytes <= size());
  begin_ += bytes;
  // An empty buffer restarts at the front, so the common case (all input
  // consumed, all output written) never needs a memmove.
  if (begin_ == end_) begin_ = end_ = 0;
}

void ByteBuffer::Commit(size_t bytes) {
  TG_ASSERT(bytes <= writable());
  end_ += bytes;
}

bool ByteBuffer::Reserve(size_t bytes) {
  if (capacity_ - end_ >= bytes) return true;
  const size_t needed = size() + bytes;
  if (needed > max_bytes_) return false;
  if (needed <= capacity_) {
    std::memmove(storage_.get(), storage_.get() + begin_, size());
    end_ -= begin_;
    begin_ = 0;
    return true;
  }
  return Grow(needed);
}

bool ByteBuffer::Append(std::string_view bytes) {
  if (!Reserve(bytes.size())) return false;
  if (!bytes.empty()) std::memcpy(write_pointer(), bytes.data(), bytes.size());
  end_ += bytes.size();
  return true;
}

size_t ByteBuffer::PrepareRead() {
  if (storage_ == nullptr) Grow(initial_bytes_);
  if (writable() == 0 && begin_ > 0) {
    std::memmove(storage_.get(), storage_.get() + begin_, size());
    end_ -= begin_;
    begin_ = 0;
  }
  if (writable() == 0 && capacity_ < max_bytes_) Grow(capacity_ + 1);
  return writable();
}

bool ByteBuffer::Grow(size_t needed) {
  size_t capacity = capacity_ == 0 ? initial_bytes_ : capacity_;
  while (capacity < needed) capacity *= 2;
  if (capacity > max_bytes_) capacity = max_bytes_;
  if (capacity < needed) return false;
  std::unique_ptr<char[]> storage = std::make_unique_for_overwrite<char[]>(capacity);
  if (size() > 0) std::memcpy(storage.get(), storage_.get() + begin_, size());
  end_ -= begin_;
  begin_ = 0;
  storage_ = std::move(storage);
  capacity_ = capacity;
  return true;
}

}  // namespace tangelo::net
