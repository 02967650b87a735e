#include "base/checksum.h"

#include <gtest/gtest.h>

#include <string>

namespace tangelo::base {
namespace {

TEST(ChecksumTest, DetectsSingleBitFlips) {
  std::string data(4096, 'x');
  const uint64_t original = Checksum(data.data(), data.size());
  for (size_t bit = 0; bit < data.size() * 8; bit += 97) {
    std::string flipped = data;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_NE(Checksum(flipped.data(), flipped.size()), original) << bit;
  }
}

TEST(ChecksumTest, StreamingMatchesOneShot) {
  std::string data = "tangelo never loses or invents a cent";
  StreamingChecksum streaming(7);
  streaming.Update(data.data(), 10);
  streaming.Update(data.data() + 10, data.size() - 10);
  EXPECT_EQ(streaming.Digest(), Checksum(data.data(), data.size(), 7));
  EXPECT_NE(Checksum(data.data(), data.size(), 7), Checksum(data.data(), data.size(), 8));
}

// The checksum is part of the on-disk format: pin its value for a known input
// so that a library change that alters it fails here, not at recovery time.
TEST(ChecksumTest, PinnedValue) {
  EXPECT_EQ(Checksum("tangelo", 7), Checksum("tangelo", 7, 0));
  EXPECT_EQ(Checksum("", 0), 0x2d06800538d394c2ULL);
}

}  // namespace
}  // namespace tangelo::base
