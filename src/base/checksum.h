// Checksums for records on disk and on the wire.
//
// XXH3-64 (libxxhash): fast enough to checksum every journal batch and every
// snapshot byte on the hot path (tens of GB/s), and strong enough to catch
// torn writes and bit flips. A checksum is a detector, not a MAC: secrets use
// HMAC from OpenSSL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tangelo::base {

uint64_t Checksum(const void* data, size_t size, uint64_t seed = 0);

inline uint64_t Checksum(std::span<const std::byte> bytes, uint64_t seed = 0) {
  return Checksum(bytes.data(), bytes.size(), seed);
}

// Incremental form, for data that arrives in pieces (snapshot streams).
class StreamingChecksum {
 public:
  explicit StreamingChecksum(uint64_t seed = 0);
  ~StreamingChecksum();
  StreamingChecksum(const StreamingChecksum&) = delete;
  StreamingChecksum& operator=(const StreamingChecksum&) = delete;

  void Update(const void* data, size_t size);
  uint64_t Digest() const;

 private:
  void* state_;  // XXH3_state_t, kept opaque so xxhash.h stays out of headers.
};

}  // namespace tangelo::base
