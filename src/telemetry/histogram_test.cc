#include "telemetry/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "base/random.h"

namespace tangelo::telemetry {
namespace {

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();

TEST(HistogramBucketsTest, BucketsAreContiguousMonotonicAndSelfConsistent) {
  EXPECT_EQ(HistogramBuckets::LowerBound(0), 0u);
  EXPECT_EQ(HistogramBuckets::UpperBound(0), 0u);
  for (uint32_t i = 0; i + 1 < HistogramBuckets::kBucketCount; ++i) {
    ASSERT_EQ(HistogramBuckets::LowerBound(i + 1), HistogramBuckets::UpperBound(i) + 1) << i;
    ASSERT_EQ(HistogramBuckets::Index(HistogramBuckets::LowerBound(i)), i) << i;
    ASSERT_EQ(HistogramBuckets::Index(HistogramBuckets::UpperBound(i)), i) << i;
  }
  EXPECT_EQ(HistogramBuckets::UpperBound(HistogramBuckets::kBucketCount - 1), kU64Max);
}

TEST(HistogramBucketsTest, SmallValuesAreExactAndWidthIsBounded) {
  for (uint64_t v = 0; v <= 64; ++v) {
    const uint32_t index = HistogramBuckets::Index(v);
    EXPECT_EQ(HistogramBuckets::LowerBound(index), v);
    EXPECT_EQ(HistogramBuckets::UpperBound(index), v);
  }
  for (uint32_t i = 1; i < HistogramBuckets::kBucketCount; ++i) {
    const uint64_t lower = HistogramBuckets::LowerBound(i);
    const uint64_t width = HistogramBuckets::UpperBound(i) - lower + 1;
    // Width is at most 1/32 of the smallest value in the bucket.
    ASSERT_LE(static_cast<double>(width - 1),
              static_cast<double>(lower) * HistogramBuckets::kRelativeErrorMax)
        << i;
  }
}

TEST(HistogramBucketsTest, PowersOfTwoAreUpperBounds) {
  // The Prometheus exporter relies on 2^k and 1.5 * 2^k being exact bounds.
  for (int k = 1; k < 63; ++k) {
    const uint64_t power = uint64_t{1} << k;
    EXPECT_EQ(HistogramBuckets::UpperBound(HistogramBuckets::Index(power)), power) << k;
    const uint64_t half_again = power + power / 2;
    EXPECT_EQ(HistogramBuckets::UpperBound(HistogramBuckets::Index(half_again)), half_again)
        << k;
  }
}

TEST(HistogramTest, EmptyHistogramReadsZero) {
  Histogram histogram;
  EXPECT_EQ(histogram.Count(), 0u);
  EXPECT_EQ(histogram.Sum(), 0u);
  EXPECT_EQ(histogram.Min(), 0u);
  EXPECT_EQ(histogram.Max(), 0u);
  EXPECT_EQ(histogram.Mean(), 0.0);
  EXPECT_EQ(histogram.ValueAtQuantile(0.5), 0u);
  EXPECT_EQ(histogram.ValueAtQuantile(1.0), 0u);
  EXPECT_EQ(histogram.CountAtOrBelow(kU64Max), 0u);
}

TEST(HistogramTest, RecordsCountSumMinMax) {
  Histogram histogram;
  histogram.Record(10);
  histogram.Record(1000);
  histogram.Record(3);
  histogram.RecordMany(7, 2);
  histogram.RecordMany(123456, 0);  // A zero count changes nothing.
  EXPECT_EQ(histogram.Count(), 5u);
  EXPECT_EQ(histogram.Sum(), 10u + 1000u + 3u + 14u);
  EXPECT_EQ(histogram.Min(), 3u);
  EXPECT_EQ(histogram.Max(), 1000u);
  EXPECT_DOUBLE_EQ(histogram.Mean(), 1027.0 / 5.0);
  EXPECT_EQ(histogram.ValueAtQuantile(0.0), 3u);
  EXPECT_EQ(histogram.ValueAtQuantile(1.0), 1000u);
  // Ranks: 3, 7, 7, 10, 1000; exact below 65.
  EXPECT_EQ(histogram.ValueAtQuantile(0.2), 3u);
  EXPECT_EQ(histogram.ValueAtQuantile(0.5), 7u);
  EXPECT_EQ(histogram.ValueAtQuantile(0.8), 10u);
  EXPECT_EQ(histogram.ValueAtQuantile(0.81), 1000u);
}

TEST(HistogramTest, ExtremeValues) {
  Histogram histogram;
  histogram.Record(0);
  histogram.Record(kU64Max);
  EXPECT_EQ(histogram.Min(), 0u);
  EXPECT_EQ(histogram.Max(), kU64Max);
  EXPECT_EQ(histogram.ValueAtQuantile(0.5), 0u);
  EXPECT_EQ(histogram.ValueAtQuantile(0.51), kU64Max);
  EXPECT_EQ(histogram.BucketCount(0), 1u);
  EXPECT_EQ(histogram.BucketCount(Histogram::kBucketCount - 1), 1u);
}

TEST(HistogramTest, QuantilesWithinRelativeErrorAndNeverBelowTruth) {
  base::Random random(42);
  Histogram histogram;
  std::vector<uint64_t> values;
  for (int i = 0; i < 100000; ++i) {
    // Log-uniform over 1 ns .. ~1 s, like latencies.
    const double exponent = random.UnitInterval() * 30.0;
    const uint64_t value = static_cast<uint64_t>(std::exp2(exponent));
    values.push_back(value);
    histogram.Record(value);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999}) {
    const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
    const uint64_t truth = values[rank - 1];
    const uint64_t estimate = histogram.ValueAtQuantile(q);
    EXPECT_GE(estimate, truth) << q;
    EXPECT_LE(static_cast<double>(estimate - truth),
              static_cast<double>(truth) * HistogramBuckets::kRelativeErrorMax)
        << q;
  }
  EXPECT_EQ(histogram.Min(), values.front());
  EXPECT_EQ(histogram.Max(), values.back());
}

TEST(HistogramTest, MergeEqualsRecordingEverythingInOne) {
  base::Random random(7);
  Histogram left;
  Histogram right;
  Histogram both;
  for (int i = 0; i < 5000; ++i) {
    const uint64_t value = random.Uniform(1'000'000);
    (i % 3 == 0 ? left : right).Record(value);
    both.Record(value);
  }
  left.Merge(right);
  EXPECT_EQ(left.Count(), both.Count());
  EXPECT_EQ(left.Sum(), both.Sum());
  EXPECT_EQ(left.Min(), both.Min());
  EXPECT_EQ(left.Max(), both.Max());
  for (uint32_t i = 0; i < Histogram::kBucketCount; ++i) {
    ASSERT_EQ(left.BucketCount(i), both.BucketCount(i));
  }
  Histogram empty;
  left.Merge(empty);
  EXPECT_EQ(left.Count(), both.Count());
  EXPECT_EQ(left.Min(), both.Min());
  empty.Merge(both);
  EXPECT_EQ(empty.Min(), both.Min());
  EXPECT_EQ(empty.ValueAtQuantile(0.99), both.ValueAtQuantile(0.99));
}

TEST(HistogramTest, CountAtOrBelowIsExactAtBucketBounds) {
  Histogram histogram;
  for (uint64_t v = 1; v <= 4096; ++v) histogram.Record(v);
  EXPECT_EQ(histogram.CountAtOrBelow(0), 0u);
  EXPECT_EQ(histogram.CountAtOrBelow(64), 64u);
  EXPECT_EQ(histogram.CountAtOrBelow(1024), 1024u);
  EXPECT_EQ(histogram.CountAtOrBelow(1536), 1536u);
  EXPECT_EQ(histogram.CountAtOrBelow(kU64Max), 4096u);
  // 1000 is inside the bucket (992, 1008]: whole buckets only, so an
  // undercount by at most one bucket and never an overcount.
  EXPECT_LE(histogram.CountAtOrBelow(1000), 1000u);
  EXPECT_GE(histogram.CountAtOrBelow(1000), 1000u - 16u);
}

TEST(HistogramTest, ResetForgetsEverything) {
  Histogram histogram;
  histogram.Record(5);
  histogram.Record(500);
  histogram.Reset();
  EXPECT_EQ(histogram.Count(), 0u);
  EXPECT_EQ(histogram.Sum(), 0u);
  EXPECT_EQ(histogram.Min(), 0u);
  EXPECT_EQ(histogram.Max(), 0u);
  EXPECT_EQ(histogram.BucketCount(HistogramBuckets::Index(500)), 0u);
  histogram.Record(9);
  EXPECT_EQ(histogram.Min(), 9u);
}

TEST(HistogramTest, AddToBucketAndSetExtremesRebuildAHistogram) {
  Histogram original;
  for (uint64_t v : {3u, 100u, 100u, 5000u}) original.Record(v);
  Histogram rebuilt;
  for (uint32_t i = 0; i < Histogram::kBucketCount; ++i) {
    rebuilt.AddToBucket(i, original.BucketCount(i));
  }
  EXPECT_EQ(rebuilt.Count(), 4u);
  EXPECT_LE(rebuilt.Min(), 3u);
  EXPECT_GE(rebuilt.Max(), 5000u);
  rebuilt.SetExtremes(original.Min(), original.Max(), original.Sum());
  EXPECT_EQ(rebuilt.Sum(), original.Sum());
  for (double q : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    EXPECT_EQ(rebuilt.ValueAtQuantile(q), original.ValueAtQuantile(q)) << q;
  }
}

TEST(HistogramDeathTest, RejectsQuantileOutsideUnitInterval) {
  Histogram histogram;
  histogram.Record(1);
  EXPECT_DEATH((void)histogram.ValueAtQuantile(-0.1), "quantile");
  EXPECT_DEATH((void)histogram.ValueAtQuantile(1.5), "quantile");
  EXPECT_DEATH((void)histogram.ValueAtQuantile(std::nan("")), "quantile");
  EXPECT_DEATH((void)histogram.BucketCount(Histogram::kBucketCount), "index");
  Histogram empty;
  EXPECT_DEATH(empty.SetExtremes(1, 2, 3), "count_");
}

}  // namespace
}  // namespace tangelo::telemetry
