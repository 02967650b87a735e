// Histogram: a log-linear (HDR-style) histogram of unsigned 64-bit values,
// for latencies (ns or µs), sizes in bytes and counts.
//
// Bucketing. Values 0..64 each get their own bucket (exact). Above that,
// every power-of-two range [2^k, 2^(k+1)) is cut into 32 equal sub-buckets,
// so a bucket's width is at most 1/32 of its lower bound: any value read back
// from the histogram (a quantile, a bucket bound) is within 1/32 (3.125%) of
// the true value, and never below it. The whole u64 range is covered by
// kBucketCount fixed buckets, so memory is fixed (about 15 KiB) and Record()
// is a few instructions (a count-leading-zeros and two shifts) that never
// allocate and never fail.
//
// Buckets are upper-inclusive, (lower, upper], as in Prometheus: the bound
// 2^k itself falls into the bucket that ends at 2^k. This makes every
// bucket upper bound an exact `le` boundary for the Prometheus exporter:
// CountAtOrBelow(BucketUpperBound(i)) counts exactly the values <= that bound.
//
// This file holds the plain, single-threaded version (benchmarks, per-thread
// accumulation, snapshots). The concurrent registry metric that many threads
// record into is HistogramMetric in telemetry/metrics.h; it uses the same
// bucket layout and merges into a Histogram for reading.
#pragma once

#include <array>
#include <cstdint>
#include <limits>

namespace tangelo::telemetry {

// The bucket layout shared by Histogram and HistogramMetric. All functions
// are pure and constexpr.
struct HistogramBuckets {
  // 2^5 = 32 linear sub-buckets per power of two: relative error <= 1/32.
  static constexpr uint32_t kSubBucketBits = 5;
  static constexpr uint32_t kSubBucketCount = 1u << kSubBucketBits;
  // Bucket 0 holds the value 0; buckets 1..1920 hold (v - 1) mapped by the
  // raw log-linear index, so 1921 buckets in all cover [0, 2^64 - 1].
  static constexpr uint32_t kBucketCount = (64 - kSubBucketBits + 1) * kSubBucketCount + 1;
  // Relative error bound of any value read back, as a fraction.
  static constexpr double kRelativeErrorMax = 1.0 / kSubBucketCount;

  // The bucket that holds `value`.
  static constexpr uint32_t Index(uint64_t value) {
    if (value == 0) return 0;
    return RawIndex(value - 1) + 1;
  }

  // The largest value that falls into bucket `index` (inclusive). The top
  // bucket's bound saturates at 2^64 - 1. Precondition: index < kBucketCount.
  static constexpr uint64_t UpperBound(uint32_t index) {
    if (index == 0) return 0;
    const uint64_t raw_highest = RawLowest(index - 1) + (RawWidth(index - 1) - 1);
    if (raw_highest == std::numeric_limits<uint64_t>::max()) return raw_highest;
    return raw_highest + 1;
  }

  // The smallest value that falls into bucket `index` (inclusive).
  // Precondition: index < kBucketCount.
  static constexpr uint64_t LowerBound(uint32_t index) {
    if (index == 0) return 0;
    return RawLowest(index - 1) + 1;
  }

 private:
  // Raw log-linear index of u: exact below 2^(bits+1); above, the position
  // of the highest set bit picks the power of two (shift) and the next
  // kSubBucketBits bits pick the sub-bucket. Contiguous and monotonic.
  static constexpr uint32_t RawIndex(uint64_t u) {
    const int highest_bit = 63 - __builtin_clzll(u | 1);
    const int shift = highest_bit > static_cast<int>(kSubBucketBits)
                          ? highest_bit - static_cast<int>(kSubBucketBits)
                          : 0;
    return (static_cast<uint32_t>(shift) << kSubBucketBits) +
           static_cast<uint32_t>(u >> shift);
  }
  static constexpr uint32_t RawShift(uint32_t raw_index) {
    return raw_index < 2 * kSubBucketCount ? 0 : (raw_index >> kSubBucketBits) - 1;
  }
  static constexpr uint64_t RawLowest(uint32_t raw_index) {
    const uint32_t shift = RawShift(raw_index);
    if (shift == 0) return raw_index;
    const uint64_t mantissa = (raw_index & (kSubBucketCount - 1)) + kSubBucketCount;
    return mantissa << shift;
  }
  static constexpr uint64_t RawWidth(uint32_t raw_index) {
    return uint64_t{1} << RawShift(raw_index);
  }
};

static_assert(HistogramBuckets::kBucketCount == 1921);
static_assert(HistogramBuckets::Index(std::numeric_limits<uint64_t>::max()) ==
              HistogramBuckets::kBucketCount - 1);
static_assert(HistogramBuckets::UpperBound(HistogramBuckets::kBucketCount - 1) ==
              std::numeric_limits<uint64_t>::max());
static_assert(HistogramBuckets::Index(64) == 64 && HistogramBuckets::Index(65) == 65);
static_assert(HistogramBuckets::UpperBound(HistogramBuckets::Index(1024)) == 1024);

// A value type: copyable, fixed size, no allocation. Not thread safe; a
// Histogram is owned and written by one thread (merge per-thread histograms
// with Merge(), or use HistogramMetric for concurrent recording).
class Histogram {
 public:
  static constexpr uint32_t kBucketCount = HistogramBuckets::kBucketCount;

  Histogram() = default;

  // Records one value. O(1), no allocation.
  void Record(uint64_t value) { RecordMany(value, 1); }

  // Records `count` occurrences of `value`. The sum wraps modulo 2^64
  // (584 years of nanoseconds; exporters treat it like a counter reset).
  void RecordMany(uint64_t value, uint64_t count) {
    if (count == 0) return;
    buckets_[HistogramBuckets::Index(value)] += count;
    count_ += count;
    sum_ += value * count;
    if (value < min_) min_ = value;
    if (value > max_) max_ = value;
  }

  // Adds every value recorded in `other` into this histogram.
  void Merge(const Histogram& other);

  // Adds `count` values to bucket `index` without knowing the exact values:
  // used to rebuild a histogram from bucket counts (HistogramMetric shards).
  // Min/Max widen to the bucket's bounds and the sum grows by
  // the bucket's upper bound per value, unless SetExtremes corrects them.
  // Precondition: index < kBucketCount.
  void AddToBucket(uint32_t index, uint64_t count);
  // Overrides the extremes and the sum after AddToBucket calls, when the
  // caller knows them exactly. Precondition: Count() > 0 and min <= max.
  void SetExtremes(uint64_t min, uint64_t max, uint64_t sum);

  // Forgets every recorded value.
  void Reset();

  uint64_t Count() const { return count_; }
  uint64_t Sum() const { return sum_; }
  // 0 when empty.
  uint64_t Min() const { return count_ == 0 ? 0 : min_; }
  uint64_t Max() const { return max_; }
  // Arithmetic mean (from the exact sum); 0 when empty.
  double Mean() const;

  // The value at quantile q in [0, 1]: the upper bound of the bucket that
  // holds the ceil(q * Count())-th smallest value, clamped to [Min, Max].
  // So p50/p99/p99.9 are never below the true value and at most 3.125%
  // above it; q = 0 gives Min() and q = 1 gives Max(). 0 when empty.
  // Precondition: 0 <= q <= 1 (asserted; NaN is rejected).
  uint64_t ValueAtQuantile(double q) const;

  // How many recorded values are <= `value`, counting whole buckets whose
  // upper bound is <= value. Exact when `value` is a bucket upper bound
  // (HistogramBuckets::UpperBound); otherwise an undercount by at most one
  // bucket, never an overcount.
  uint64_t CountAtOrBelow(uint64_t value) const;

  // The count in bucket `index`. Precondition: index < kBucketCount.
  uint64_t BucketCount(uint32_t index) const;

 private:
  std::array<uint64_t, kBucketCount> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = std::numeric_limits<uint64_t>::max();
  uint64_t max_ = 0;
};

}  // namespace tangelo::telemetry
