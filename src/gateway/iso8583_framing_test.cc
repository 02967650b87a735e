#include "gateway/iso8583_framing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/iso8583_codec.h"

namespace tangelo::gateway {
namespace {

std::string Framed(std::string_view body) {
  std::string frame;
  frame += static_cast<char>(body.size() >> 8);
  frame += static_cast<char>(body.size() & 0xFF);
  frame += body;
  return frame;
}

std::string AsText(std::span<const uint8_t> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// Feeds `stream` in chunks of `chunk_size` and collects every frame.
std::vector<std::string> Collect(std::string_view stream, size_t chunk_size,
                                 Iso8583FrameStatus* last = nullptr,
                                 Iso8583FrameReader* reader_out = nullptr) {
  Iso8583FrameReader local;
  Iso8583FrameReader& reader = reader_out != nullptr ? *reader_out : local;
  std::vector<std::string> frames;
  Iso8583FrameStatus status = Iso8583FrameStatus::kNeedMoreBytes;
  for (size_t offset = 0; offset < stream.size(); offset += chunk_size) {
    reader.Feed(AsBytes(stream.substr(offset, chunk_size)));
    std::span<const uint8_t> frame;
    while ((status = reader.Next(&frame)) == Iso8583FrameStatus::kFrame) {
      frames.push_back(AsText(frame));
    }
    if (status != Iso8583FrameStatus::kNeedMoreBytes) break;
  }
  if (last != nullptr) *last = status;
  return frames;
}

TEST(Iso8583FrameReaderTest, WholeFrameInOneChunkIsNotCopied) {
  const std::string stream = Framed("0800hello");
  Iso8583FrameReader reader;
  reader.Feed(AsBytes(stream));
  std::span<const uint8_t> frame;
  ASSERT_EQ(reader.Next(&frame), Iso8583FrameStatus::kFrame);
  EXPECT_EQ(AsText(frame), "0800hello");
  EXPECT_EQ(reinterpret_cast<const char*>(frame.data()), stream.data() + 2);
  EXPECT_EQ(reader.Next(&frame), Iso8583FrameStatus::kNeedMoreBytes);
  EXPECT_EQ(reader.partial_bytes(), 0u);
}

TEST(Iso8583FrameReaderTest, SeveralFramesInOneChunk) {
  const std::string stream = Framed("first") + Framed("second") + Framed("third");
  EXPECT_EQ(Collect(stream, stream.size()), (std::vector<std::string>{"first", "second", "third"}));
}

TEST(Iso8583FrameReaderTest, EveryChunkSizeYieldsTheSameFrames) {
  const std::string big(1000, 'x');
  const std::string stream = Framed("a") + Framed(big) + Framed("0100abc") + Framed("z");
  const std::vector<std::string> expected = {"a", big, "0100abc", "z"};
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    Iso8583FrameStatus last;
    ASSERT_EQ(Collect(stream, chunk, &last), expected) << "chunk size " << chunk;
    EXPECT_EQ(last, Iso8583FrameStatus::kNeedMoreBytes);
  }
}

TEST(Iso8583FrameReaderTest, PartialFrameIsHeldUntilTheRestArrives) {
  const std::string stream = Framed("0100payload");
  Iso8583FrameReader reader;
  std::span<const uint8_t> frame;
  reader.Feed(AsBytes(std::string_view(stream).substr(0, 1)));  // Half the prefix.
  EXPECT_EQ(reader.Next(&frame), Iso8583FrameStatus::kNeedMoreBytes);
  EXPECT_EQ(reader.partial_bytes(), 1u);
  reader.Feed(AsBytes(std::string_view(stream).substr(1, 5)));  // Prefix end + 4 bytes.
  EXPECT_EQ(reader.Next(&frame), Iso8583FrameStatus::kNeedMoreBytes);
  EXPECT_EQ(reader.partial_bytes(), 6u);
  reader.Feed(AsBytes(std::string_view(stream).substr(6)));
  ASSERT_EQ(reader.Next(&frame), Iso8583FrameStatus::kFrame);
  EXPECT_EQ(AsText(frame), "0100payload");
  EXPECT_EQ(reader.partial_bytes(), 0u);
}

TEST(Iso8583FrameReaderTest, EmptyChunkIsHarmless) {
  Iso8583FrameReader reader;
  std::span<const uint8_t> frame;
  reader.Feed({});
  EXPECT_EQ(reader.Next(&frame), Iso8583FrameStatus::kNeedMoreBytes);
}

TEST(Iso8583FrameReaderTest, ZeroLengthFrameIsATerminalError) {
  const std::string stream = Framed("ok") + std::string("\0\0", 2) + Framed("never");
  Iso8583FrameStatus last;
  Iso8583FrameReader reader;
  EXPECT_EQ(Collect(stream, stream.size(), &last, &reader), std::vector<std::string>{"ok"});
  EXPECT_EQ(last, Iso8583FrameStatus::kEmptyFrame);
  EXPECT_TRUE(reader.failed());
  std::span<const uint8_t> frame;
  EXPECT_EQ(reader.Next(&frame), Iso8583FrameStatus::kEmptyFrame) << "errors are sticky";
  reader.Feed(AsBytes(Framed("more")));  // Ignored after the error.
  EXPECT_EQ(reader.Next(&frame), Iso8583FrameStatus::kEmptyFrame);
}

TEST(Iso8583FrameReaderTest, FramesOverTheMaximumAreRejectedBeforeBuffering) {
  const std::string at_max(kIso8583FrameSizeMax, 'm');
  Iso8583FrameStatus last;
  EXPECT_EQ(Collect(Framed(at_max), 7, &last), std::vector<std::string>{at_max});
  EXPECT_EQ(last, Iso8583FrameStatus::kNeedMoreBytes);

  // Only the prefix of the oversize frame is needed to reject it.
  const std::string over = Framed(std::string(kIso8583FrameSizeMax + 1, 'o'));
  EXPECT_TRUE(Collect(over.substr(0, 2), 2, &last).empty());
  EXPECT_EQ(last, Iso8583FrameStatus::kFrameTooLarge);
  // The largest prefix value.
  EXPECT_TRUE(Collect(std::string("\xFF\xFF", 2), 1, &last).empty());
  EXPECT_EQ(last, Iso8583FrameStatus::kFrameTooLarge);
}

TEST(Iso8583FrameReaderTest, ConfigurableMaximum) {
  Iso8583FrameReader reader(8);
  EXPECT_EQ(reader.frame_size_max(), 8u);
  Iso8583FrameStatus last;
  EXPECT_EQ(Collect(Framed("12345678") + Framed("123456789"), 3, &last, &reader),
            std::vector<std::string>{"12345678"});
  EXPECT_EQ(last, Iso8583FrameStatus::kFrameTooLarge);
}

TEST(Iso8583FrameReaderTest, StatusNames) {
  EXPECT_EQ(FrameStatusName(Iso8583FrameStatus::kFrameTooLarge), "frame_too_large");
  EXPECT_EQ(FrameStatusName(Iso8583FrameStatus::kEmptyFrame), "empty_frame");
}

TEST(Iso8583FrameReaderDeathTest, MisuseIsAProgrammerError) {
  EXPECT_DEATH(Iso8583FrameReader(0), "assertion failed");
  EXPECT_DEATH(Iso8583FrameReader(kIso8583FrameSizeMax + 1), "assertion failed");
  const std::string stream = Framed("one") + Framed("two");
  Iso8583FrameReader reader;
  reader.Feed(AsBytes(stream));
  std::span<const uint8_t> frame;
  ASSERT_EQ(reader.Next(&frame), Iso8583FrameStatus::kFrame);
  // "two" is still unread: feeding more now would lose it.
  EXPECT_DEATH(reader.Feed(AsBytes(stream)), "previous chunk");
}

}  // namespace
}  // namespace tangelo::gateway
