// Metric primitives recorded from many threads without locks: Counter,
// Gauge and HistogramMetric.
//
// Sharding. The first time a thread records any metric it leases a shard
// index (0 .. kMetricShardsMax - 2) that it keeps until it exits; each
// Counter and HistogramMetric holds one cache-line-aligned shard per index.
// A thread is then the only writer of its shard, so a recording is a relaxed
// atomic load and store (no lock-prefixed read-modify-write, no contention,
// no false sharing), and a reader sums the shards with relaxed loads.
//
// Past the limit. If more than kMetricShardsMax - 1 threads hold a lease at
// once, the extra threads share the last shard (kSharedMetricShard), which is
// updated with atomic read-modify-write instructions: still exact, only
// slower. An exiting thread returns its index, and the next thread to take it
// continues adding to the same totals, so recycling loses nothing.
//
// Reading is not a point-in-time snapshot across shards or fields: a reader
// racing writers may see a histogram's bucket before its sum. Each value read
// is one that was actually written, and totals are exact once writers stop.
//
// Metrics are normally created and owned by a Registry (telemetry/registry.h)
// so they can be exported; they can also stand alone (tests, benchmarks).
// None of them is copyable or movable: recorders hold references.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "telemetry/histogram.h"

namespace tangelo::telemetry {

// Shards per metric. 64 covers the engine, network and I/O threads of one
// process with room to spare; each shard costs 64 bytes per counter, so a
// counter is 4 KiB. Histogram shards (15 KiB each) are allocated on a
// thread's first recording, so a histogram pays only for the threads that
// record into it.
inline constexpr uint32_t kMetricShardsMax = 64;
// The shard that threads beyond the first kMetricShardsMax - 1 share.
inline constexpr uint32_t kSharedMetricShard = kMetricShardsMax - 1;
inline constexpr size_t kCacheLineBytes = 64;

namespace internal {

inline constexpr uint32_t kMetricShardUnassigned = 0xFFFFFFFFu;
// This thread's shard index; kMetricShardUnassigned until its first recording.
extern constinit thread_local uint32_t tls_metric_shard;
// Slow path: leases an index for this thread (or kSharedMetricShard when all
// are taken) and arranges for its return at thread exit.
uint32_t AssignMetricShard();

inline uint32_t CurrentMetricShard() {
  const uint32_t shard = tls_metric_shard;
  if (shard != kMetricShardUnassigned) [[likely]] {
    return shard;
  }
  return AssignMetricShard();
}

// Adds to a cell. Exclusive shards use load+store; the shared shard needs a
// real atomic add because several threads write it.
inline void AddToCell(std::atomic<uint64_t>& cell, uint64_t delta, uint32_t shard) {
  if (shard != kSharedMetricShard) [[likely]] {
    cell.store(cell.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  } else {
    cell.fetch_add(delta, std::memory_order_relaxed);
  }
}

// Shard indexes currently leased by live threads (tests and diagnostics).
uint32_t LeasedMetricShardsForTest();

}  // namespace internal

// A monotonically increasing count (requests, declines, bytes written).
// Thread safe: any thread may Increment; Value() may be read concurrently.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds `delta` (default 1). Lock-free, no allocation, a few ns. The total
  // wraps modulo 2^64, which Prometheus treats as a counter reset.
  void Increment(uint64_t delta = 1) {
    const uint32_t shard = internal::CurrentMetricShard();
    internal::AddToCell(cells_[shard].value, delta, shard);
  }

  // The sum over all shards.
  uint64_t Value() const;

 private:
  struct alignas(kCacheLineBytes) Cell {
    std::atomic<uint64_t> value{0};
  };
  std::array<Cell, kMetricShardsMax> cells_{};
};

// A value that goes up and down (open connections, cache size) or is set
// outright (the configured limit). One atomic word, not sharded: a Set() from
// one thread cannot be combined with per-thread deltas, so gauges live on
// one cache line. Set is a plain store; Add is an atomic add. A gauge that
// would change on every request (queue depth) should instead be a callback
// gauge read at scrape time (Registry::AddCallbackGauge), which costs the
// hot path nothing. Thread safe.
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  void Add(int64_t delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void Increment() { Add(1); }
  void Decrement() { Add(-1); }
  int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  alignas(kCacheLineBytes) std::atomic<int64_t> value_{0};
};

// A histogram that any thread may Record into: the concurrent form of
// Histogram (same buckets, same 3.125% bound). Each thread writes its own
// shard, allocated on that thread's first Record (the only allocation; later
// recordings never allocate). Thread safe; Read() may run concurrently.
class HistogramMetric {
 public:
  HistogramMetric() = default;
  ~HistogramMetric();
  HistogramMetric(const HistogramMetric&) = delete;
  HistogramMetric& operator=(const HistogramMetric&) = delete;

  // Records one value. Lock-free; allocates only on this thread's first
  // recording into this histogram.
  void Record(uint64_t value) {
    const uint32_t shard_index = internal::CurrentMetricShard();
    Shard* shard = shards_[shard_index].load(std::memory_order_acquire);
    if (shard == nullptr) [[unlikely]] {
      shard = CreateShard(shard_index);
    }
    internal::AddToCell(shard->buckets[HistogramBuckets::Index(value)], 1, shard_index);
    internal::AddToCell(shard->sum, value, shard_index);
    if (shard_index != kSharedMetricShard) [[likely]] {
      if (value < shard->min.load(std::memory_order_relaxed)) {
        shard->min.store(value, std::memory_order_relaxed);
      }
      if (value > shard->max.load(std::memory_order_relaxed)) {
        shard->max.store(value, std::memory_order_relaxed);
      }
    } else {
      UpdateSharedExtremes(*shard, value);
    }
  }

  // Merges every shard into a plain Histogram (count, sum, exact min/max,
  // buckets). About 2k additions per shard in use; for scrapes, not the hot
  // path.
  Histogram Read() const;

 private:
  struct alignas(kCacheLineBytes) Shard {
    std::atomic<uint64_t> sum{0};
    std::atomic<uint64_t> min{~uint64_t{0}};
    std::atomic<uint64_t> max{0};
    std::array<std::atomic<uint64_t>, HistogramBuckets::kBucketCount> buckets{};
  };

  Shard* CreateShard(uint32_t shard_index);
  static void UpdateSharedExtremes(Shard& shard, uint64_t value);

  std::array<std::atomic<Shard*>, kMetricShardsMax> shards_{};
};

}  // namespace tangelo::telemetry
