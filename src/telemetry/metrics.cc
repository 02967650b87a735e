#include "telemetry/metrics.h"

#include <mutex>
#include <vector>

#include "base/assert.h"

namespace tangelo::telemetry {
namespace internal {

constinit thread_local uint32_t tls_metric_shard = kMetricShardUnassigned;

namespace {

// Hands out shard indexes to threads. Only touched on a thread's first
// recording and at its exit, so a mutex is fine here.
class ShardAllocator {
 public:
  ShardAllocator() {
    // Lowest indexes first, so a small process uses a few low shards.
    for (uint32_t index = kSharedMetricShard; index > 0; --index) free_.push_back(index - 1);
  }

  uint32_t Lease() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (free_.empty()) return kSharedMetricShard;
    const uint32_t index = free_.back();
    free_.pop_back();
    return index;
  }

  // The mutex orders the old owner's last relaxed stores before the next
  // owner's first relaxed loads of the same shard.
  void Return(uint32_t index) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(index);
  }

  uint32_t Leased() {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<uint32_t>(kSharedMetricShard - free_.size());
  }

 private:
  std::mutex mutex_;
  std::vector<uint32_t> free_;
};

ShardAllocator& Allocator() {
  // Leaked on purpose: threads may exit (and return shards) during static
  // destruction.
  static ShardAllocator* allocator = new ShardAllocator();
  return *allocator;
}

// Returns the thread's index at thread exit. Recordings made by later
// thread_local destructors go to the shared shard, which is always safe.
struct ShardLease {
  ~ShardLease() {
    const uint32_t index = tls_metric_shard;
    tls_metric_shard = kSharedMetricShard;
    if (index != kSharedMetricShard && index != kMetricShardUnassigned) {
      Allocator().Return(index);
    }
  }
};
thread_local ShardLease tls_shard_lease;

}  // namespace

uint32_t AssignMetricShard() {
  const uint32_t index = Allocator().Lease();
  // Touching the lease constructs it, which registers its destructor for
  // this thread's exit.
  (void)&tls_shard_lease;
  tls_metric_shard = index;
  return index;
}

uint32_t LeasedMetricShardsForTest() { return Allocator().Leased(); }

}  // namespace internal

uint64_t Counter::Value() const {
  uint64_t total = 0;
  for (const Cell& cell : cells_) total += cell.value.load(std::memory_order_relaxed);
  return total;
}

HistogramMetric::~HistogramMetric() {
  for (std::atomic<Shard*>& shard : shards_) delete shard.load(std::memory_order_acquire);
}

HistogramMetric::Shard* HistogramMetric::CreateShard(uint32_t shard_index) {
  TG_ASSERT(shard_index < kMetricShardsMax);
  Shard* fresh = new Shard();
  Shard* expected = nullptr;
  // Only the shared shard can race here; the loser frees its copy.
  if (!shards_[shard_index].compare_exchange_strong(expected, fresh, std::memory_order_acq_rel,
                                                    std::memory_order_acquire)) {
    delete fresh;
    return expected;
  }
  return fresh;
}

void HistogramMetric::UpdateSharedExtremes(Shard& shard, uint64_t value) {
  uint64_t min = shard.min.load(std::memory_order_relaxed);
  while (value < min &&
         !shard.min.compare_exchange_weak(min, value, std::memory_order_relaxed)) {
  }
  uint64_t max = shard.max.load(std::memory_order_relaxed);
  while (value > max &&
         !shard.max.compare_exchange_weak(max, value, std::memory_order_relaxed)) {
  }
}

Histogram HistogramMetric::Read() const {
  Histogram merged;
  uint64_t sum = 0;
  uint64_t min = ~uint64_t{0};
  uint64_t max = 0;
  for (const std::atomic<Shard*>& slot : shards_) {
    const Shard* shard = slot.load(std::memory_order_acquire);
    if (shard == nullptr) continue;
    for (uint32_t i = 0; i < HistogramBuckets::kBucketCount; ++i) {
      merged.AddToBucket(i, shard->buckets[i].load(std::memory_order_relaxed));
    }
    sum += shard->sum.load(std::memory_order_relaxed);
    const uint64_t shard_min = shard->min.load(std::memory_order_relaxed);
    const uint64_t shard_max = shard->max.load(std::memory_order_relaxed);
    if (shard_min < min) min = shard_min;
    if (shard_max > max) max = shard_max;
  }
  if (merged.Count() == 0) return merged;
  // A reader racing a writer can see a bucket before the extremes it moved:
  // keep the exact extremes only where they agree with the buckets.
  const uint64_t bucket_min = merged.Min();
  const uint64_t bucket_max = merged.Max();
  const uint32_t first = HistogramBuckets::Index(bucket_min);
  const uint32_t last = HistogramBuckets::Index(bucket_max);
  if (HistogramBuckets::Index(min) != first) min = bucket_min;
  if (HistogramBuckets::Index(max) != last) max = bucket_max;
  if (min > max) {
    min = bucket_min;
    max = bucket_max;
  }
  merged.SetExtremes(min, max, sum);
  return merged;
}

}  // namespace tangelo::telemetry
