#include "gateway/iso8583_framing.h"

#include <algorithm>
#include <cstring>

#include "base/assert.h"

namespace tangelo::gateway {

std::string_view FrameStatusName(Iso8583FrameStatus status) {
  switch (status) {
    case Iso8583FrameStatus::kFrame:
      return "frame";
    case Iso8583FrameStatus::kNeedMoreBytes:
      return "need_more_bytes";
    case Iso8583FrameStatus::kEmptyFrame:
      return "empty_frame";
    case Iso8583FrameStatus::kFrameTooLarge:
      return "frame_too_large";
  }
  return "unknown";
}

Iso8583FrameReader::Iso8583FrameReader(uint32_t frame_size_max)
    : frame_size_max_(frame_size_max), buffer_(frame_size_max) {
  TG_ASSERT(frame_size_max >= 1 && frame_size_max <= kIso8583FrameSizeMax);
}

void Iso8583FrameReader::Feed(std::span<const uint8_t> chunk) {
  // After an error the rest of the stream is meaningless: accept and ignore.
  TG_ASSERT_MSG(failed() || chunk_offset_ == chunk_.size(),
                "Feed() before the previous chunk was used up");
  chunk_ = chunk;
  chunk_offset_ = 0;
}

Iso8583FrameStatus Iso8583FrameReader::Next(std::span<const uint8_t>* frame) {
  if (failed()) return error_;
  size_t available = chunk_.size() - chunk_offset_;

  if (prefix_bytes_ < kIso8583FramePrefixSize) {
    const size_t take = std::min<size_t>(available, kIso8583FramePrefixSize - prefix_bytes_);
    for (size_t i = 0; i < take; ++i) prefix_[prefix_bytes_++] = chunk_[chunk_offset_++];
    available -= take;
    if (prefix_bytes_ < kIso8583FramePrefixSize) return Iso8583FrameStatus::kNeedMoreBytes;
    body_size_ = static_cast<uint32_t>(prefix_[0]) << 8 | prefix_[1];
    if (body_size_ == 0) return error_ = Iso8583FrameStatus::kEmptyFrame;
    if (body_size_ > frame_size_max_) return error_ = Iso8583FrameStatus::kFrameTooLarge;
  }

  // Fast path: the whole body is in this chunk; no copy.
  if (body_buffered_ == 0 && available >= body_size_) {
    *frame = chunk_.subspan(chunk_offset_, body_size_);
    chunk_offset_ += body_size_;
    StartNextFrame();
    return Iso8583FrameStatus::kFrame;
  }

  // Slow path: the body straddles chunks; gather it in the buffer.
  const size_t take = std::min<size_t>(available, body_size_ - body_buffered_);
  if (take != 0) std::memcpy(buffer_.data() + body_buffered_, chunk_.data() + chunk_offset_, take);
  chunk_offset_ += take;
  body_buffered_ += static_cast<uint32_t>(take);
  if (body_buffered_ < body_size_) return Iso8583FrameStatus::kNeedMoreBytes;
  *frame = std::span<const uint8_t>(buffer_.data(), body_size_);
  StartNextFrame();
  return Iso8583FrameStatus::kFrame;
}

}  // namespace tangelo::gateway
