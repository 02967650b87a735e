#include "telemetry/histogram.h"

#include <cmath>

#include "base/assert.h"

namespace tangelo::telemetry {

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (uint32_t i = 0; i < kBucketCount; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  if (other.min_ < min_) min_ = other.min_;
  if (other.max_ > max_) max_ = other.max_;
}

void Histogram::AddToBucket(uint32_t index, uint64_t count) {
  TG_ASSERT(index < kBucketCount);
  if (count == 0) return;
  buckets_[index] += count;
  count_ += count;
  const uint64_t upper = HistogramBuckets::UpperBound(index);
  sum_ += upper * count;
  const uint64_t lower = HistogramBuckets::LowerBound(index);
  if (lower < min_) min_ = lower;
  if (upper > max_) max_ = upper;
}

void Histogram::SetExtremes(uint64_t min, uint64_t max, uint64_t sum) {
  TG_ASSERT(count_ > 0);
  TG_ASSERT(min <= max);
  min_ = min;
  max_ = max;
  sum_ = sum;
}

void Histogram::Reset() { *this = Histogram(); }

double Histogram::Mean() const {
  if (count_ == 0) return 0;
  return static_cast<double>(sum_) / static_cast<double>(count_);
}

uint64_t Histogram::ValueAtQuantile(double q) const {
  TG_ASSERT_MSG(q >= 0.0 && q <= 1.0, "quantile must be in [0, 1]");
  if (count_ == 0) return 0;
  if (q == 0.0) return min_;
  // The rank (1-based) of the value we want; ceil so that p99 of 100 values
  // is the 99th, and at least 1 so tiny q still names a recorded value.
  double rank_real = std::ceil(q * static_cast<double>(count_));
  uint64_t rank = rank_real < 1.0 ? 1 : static_cast<uint64_t>(rank_real);
  if (rank > count_) rank = count_;
  uint64_t seen = 0;
  for (uint32_t i = 0; i < kBucketCount; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      uint64_t value = HistogramBuckets::UpperBound(i);
      if (value > max_) value = max_;
      if (value < min_) value = min_;
      return value;
    }
  }
  TG_ASSERT_MSG(false, "histogram bucket counts do not add up to its count");
  return max_;
}

uint64_t Histogram::CountAtOrBelow(uint64_t value) const {
  uint64_t total = 0;
  for (uint32_t i = 0; i < kBucketCount; ++i) {
    if (HistogramBuckets::UpperBound(i) > value) break;
    total += buckets_[i];
  }
  return total;
}

uint64_t Histogram::BucketCount(uint32_t index) const {
  TG_ASSERT(index < kBucketCount);
  return buckets_[index];
}

}  // namespace tangelo::telemetry
