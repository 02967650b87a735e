#include "base/random.h"

#include <gtest/gtest.h>

#include <vector>

namespace tangelo::base {
namespace {

TEST(RandomTest, SameSeedSameStream) {
  Random a(42), b(42), c(43);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t value = a.Next();
    EXPECT_EQ(value, b.Next());
    EXPECT_NE(value, c.Next());
  }
}

TEST(RandomTest, UniformStaysInBounds) {
  Random random(1);
  std::vector<int> counts(10);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t value = random.Uniform(10);
    ASSERT_LT(value, 10u);
    counts[value]++;
  }
  for (int count : counts) EXPECT_NEAR(count, 10000, 600);
}

TEST(ZipfTest, SkewsTowardsLowRanks) {
  Random random(7);
  ZipfGenerator zipf(1000000, 1.0);
  uint64_t head = 0;
  const int draws = 200000;
  for (int i = 0; i < draws; ++i) {
    const uint64_t rank = zipf.Next(random);
    ASSERT_LT(rank, 1000000u);
    if (rank < 1000) head++;
  }
  // For s = 1 over 1M ranks, the first 1,000 ranks carry H(1000)/H(1e6),
  // about 52% of the mass.
  EXPECT_NEAR(static_cast<double>(head) / draws, 0.52, 0.03);
}

TEST(ZipfTest, ZeroExponentIsUniform) {
  Random random(9);
  ZipfGenerator zipf(100, 0.0);
  std::vector<int> counts(100);
  for (int i = 0; i < 100000; ++i) counts[zipf.Next(random)]++;
  for (int count : counts) EXPECT_NEAR(count, 1000, 200);
}

}  // namespace
}  // namespace tangelo::base
