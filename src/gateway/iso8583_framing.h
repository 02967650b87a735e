// TCP framing of ISO 8583: a 2-byte big-endian length, then the message
// (docs/formats/iso8583.md §1). Iso8583FrameReader turns the arbitrary chunks
// a socket read returns (half a frame, three frames and a bit) into whole
// messages, copying only the frames that straddle two chunks.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "gateway/iso8583_types.h"

namespace tangelo::gateway {

// What Iso8583FrameReader::Next found. Stable numbers (used in metrics).
// Hot path: a plain enum rather than Status, since every socket read ends in
// kNeedMoreBytes and that must not cost anything. The error values are
// terminal: the stream cannot be resynchronised, close the connection.
enum class Iso8583FrameStatus : uint8_t {
  kFrame = 0,          // *frame holds one whole message.
  kNeedMoreBytes = 1,  // The chunk is used up; Feed() the next one.
  kEmptyFrame = 2,     // A length prefix of 0.
  kFrameTooLarge = 3,  // A length prefix above the reader's frame_size_max.
};

std::string_view FrameStatusName(Iso8583FrameStatus status);

// Reassembles frames from a byte stream. Owns one buffer of frame_size_max
// bytes, allocated at construction (one per connection), and never allocates
// afterwards. Not thread safe: one connection's reader thread uses it.
//
// Use:
//   reader.Feed(bytes_just_read);
//   std::span<const uint8_t> frame;
//   while (reader.Next(&frame) == Iso8583FrameStatus::kFrame) Handle(frame);
//   // then check for an error status before the next read.
class Iso8583FrameReader {
 public:
  // Precondition: 1 <= frame_size_max <= kIso8583FrameSizeMax.
  explicit Iso8583FrameReader(uint32_t frame_size_max = kIso8583FrameSizeMax);
  Iso8583FrameReader(const Iso8583FrameReader&) = delete;
  Iso8583FrameReader& operator=(const Iso8583FrameReader&) = delete;

  // Hands over the next chunk of the stream. The reader keeps a view of it,
  // so the chunk must stay alive and unchanged until Next() has returned
  // kNeedMoreBytes. Precondition: the previous chunk was used up (or the
  // reader has failed, when chunks are ignored).
  void Feed(std::span<const uint8_t> chunk);

  // Yields the next whole message (without its prefix) into *frame. The view
  // is valid until the next call to Next() or Feed(), and while the chunk it
  // may point into is alive. After an error status every call returns it.
  Iso8583FrameStatus Next(std::span<const uint8_t>* frame);

  // True once Next() has returned an error status.
  bool failed() const { return error_ != Iso8583FrameStatus::kFrame; }
  // Bytes of an incomplete frame held back (prefix included): non-zero when
  // a peer closes the connection mid-frame.
  size_t partial_bytes() const { return prefix_bytes_ + body_buffered_; }
  uint32_t frame_size_max() const { return frame_size_max_; }

 private:
  void StartNextFrame() {
    prefix_bytes_ = 0;
    body_buffered_ = 0;
  }

  const uint32_t frame_size_max_;
  std::vector<uint8_t> buffer_;  // Body of a frame that straddles chunks.
  std::span<const uint8_t> chunk_;
  size_t chunk_offset_ = 0;
  uint8_t prefix_[kIso8583FramePrefixSize] = {0, 0};
  uint32_t prefix_bytes_ = 0;  // 0..2 bytes of the current prefix seen.
  uint32_t body_size_ = 0;     // Valid once prefix_bytes_ == 2.
  uint32_t body_buffered_ = 0;
  Iso8583FrameStatus error_ = Iso8583FrameStatus::kFrame;  // kFrame = no error.
};

}  // namespace tangelo::gateway
