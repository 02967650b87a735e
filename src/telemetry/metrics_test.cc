#include "telemetry/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "telemetry/histogram.h"

namespace tangelo::telemetry {
namespace {

TEST(CounterTest, CountsFromOneThread) {
  Counter counter;
  EXPECT_EQ(counter.Value(), 0u);
  counter.Increment();
  counter.Increment(41);
  EXPECT_EQ(counter.Value(), 42u);
}

TEST(CounterTest, TwoThreadsRecordingGiveAnExactTotal) {
  Counter counter;
  constexpr uint64_t kPerThread = 1'000'000;
  std::thread first([&] {
    for (uint64_t i = 0; i < kPerThread; ++i) counter.Increment();
  });
  std::thread second([&] {
    for (uint64_t i = 0; i < kPerThread; ++i) counter.Increment(2);
  });
  // Read while they run: never more than the final total.
  const uint64_t during = counter.Value();
  first.join();
  second.join();
  EXPECT_LE(during, 3 * kPerThread);
  EXPECT_EQ(counter.Value(), 3 * kPerThread);
}

TEST(CounterTest, MoreThreadsThanShardsStayExact) {
  // 100 threads at once: the ones past the limit share the last shard,
  // which uses atomic adds, so nothing is lost.
  Counter counter;
  constexpr int kThreads = 100;
  constexpr uint64_t kPerThread = 20'000;
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      counter.Increment();  // Leases a shard before waiting.
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      for (uint64_t i = 1; i < kPerThread; ++i) counter.Increment();
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter.Value(), kThreads * kPerThread);
}

TEST(CounterTest, ExitedThreadsReturnTheirShardAndKeepTheirCounts) {
  Counter counter;
  counter.Increment();  // This thread holds a lease from here on.
  const uint32_t leased_before = internal::LeasedMetricShardsForTest();
  // Many short-lived threads one after another: each leases and returns an
  // index, so the count of leases does not grow and totals carry over.
  for (int t = 0; t < 3 * static_cast<int>(kMetricShardsMax); ++t) {
    std::thread([&] { counter.Increment(10); }).join();
  }
  EXPECT_EQ(internal::LeasedMetricShardsForTest(), leased_before);
  EXPECT_EQ(counter.Value(), 1u + 30u * kMetricShardsMax);
}

TEST(GaugeTest, SetAndAdd) {
  Gauge gauge;
  EXPECT_EQ(gauge.Value(), 0);
  gauge.Set(10);
  gauge.Add(5);
  gauge.Decrement();
  gauge.Add(-20);
  EXPECT_EQ(gauge.Value(), -6);
  gauge.Increment();
  EXPECT_EQ(gauge.Value(), -5);
  gauge.Set(3);
  EXPECT_EQ(gauge.Value(), 3);
}

TEST(GaugeTest, ConcurrentAddsAreExact) {
  Gauge gauge;
  std::thread up([&] {
    for (int i = 0; i < 100'000; ++i) gauge.Increment();
  });
  std::thread down([&] {
    for (int i = 0; i < 100'000; ++i) gauge.Decrement();
  });
  up.join();
  down.join();
  EXPECT_EQ(gauge.Value(), 0);
}

TEST(HistogramMetricTest, EmptyReadsEmpty) {
  HistogramMetric metric;
  const Histogram read = metric.Read();
  EXPECT_EQ(read.Count(), 0u);
  EXPECT_EQ(read.Sum(), 0u);
  EXPECT_EQ(read.Min(), 0u);
  EXPECT_EQ(read.Max(), 0u);
}

TEST(HistogramMetricTest, MatchesAPlainHistogramOfTheSameValues) {
  HistogramMetric metric;
  Histogram plain;
  for (uint64_t v : {0ull, 1ull, 999ull, 1000ull, 123456789ull, ~0ull}) {
    metric.Record(v);
    plain.Record(v);
  }
  const Histogram read = metric.Read();
  EXPECT_EQ(read.Count(), plain.Count());
  EXPECT_EQ(read.Sum(), plain.Sum());
  EXPECT_EQ(read.Min(), 0u);
  EXPECT_EQ(read.Max(), ~0ull);
  for (uint32_t i = 0; i < Histogram::kBucketCount; ++i) {
    ASSERT_EQ(read.BucketCount(i), plain.BucketCount(i)) << i;
  }
  for (double q : {0.0, 0.2, 0.5, 0.7, 0.9, 1.0}) {
    EXPECT_EQ(read.ValueAtQuantile(q), plain.ValueAtQuantile(q)) << q;
  }
}

TEST(HistogramMetricTest, TwoThreadsRecordingGiveExactCountsSumAndExtremes) {
  HistogramMetric metric;
  constexpr uint64_t kPerThread = 200'000;
  std::thread low([&] {
    for (uint64_t i = 1; i <= kPerThread; ++i) metric.Record(i);
  });
  std::thread high([&] {
    for (uint64_t i = 1; i <= kPerThread; ++i) metric.Record(1'000'000 + i);
  });
  // Concurrent reads must stay self-consistent (min <= max, count bounded).
  for (int r = 0; r < 20; ++r) {
    const Histogram during = metric.Read();
    EXPECT_LE(during.Count(), 2 * kPerThread);
    EXPECT_LE(during.Min(), during.Max());
  }
  low.join();
  high.join();
  const Histogram read = metric.Read();
  EXPECT_EQ(read.Count(), 2 * kPerThread);
  const uint64_t low_sum = kPerThread * (kPerThread + 1) / 2;
  EXPECT_EQ(read.Sum(), 2 * low_sum + 1'000'000 * kPerThread);
  EXPECT_EQ(read.Min(), 1u);
  EXPECT_EQ(read.Max(), 1'000'000 + kPerThread);
  // The median sits at the top of the low half, within the error bound.
  const uint64_t median = read.ValueAtQuantile(0.5);
  EXPECT_GE(median, kPerThread);
  EXPECT_LE(static_cast<double>(median),
            static_cast<double>(kPerThread) * (1 + HistogramBuckets::kRelativeErrorMax));
}

TEST(HistogramMetricTest, MoreThreadsThanShardsStayExact) {
  HistogramMetric metric;
  constexpr int kThreads = 80;
  constexpr uint64_t kPerThread = 2'000;
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      metric.Record(static_cast<uint64_t>(t));
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      for (uint64_t i = 1; i < kPerThread; ++i) metric.Record(static_cast<uint64_t>(t));
    });
  }
  for (std::thread& thread : threads) thread.join();
  const Histogram read = metric.Read();
  EXPECT_EQ(read.Count(), kThreads * kPerThread);
  EXPECT_EQ(read.Min(), 0u);
  EXPECT_EQ(read.Max(), static_cast<uint64_t>(kThreads - 1));
  Histogram expected;
  for (int t = 0; t < kThreads; ++t) expected.RecordMany(static_cast<uint64_t>(t), kPerThread);
  for (uint32_t i = 0; i < Histogram::kBucketCount; ++i) {
    ASSERT_EQ(read.BucketCount(i), expected.BucketCount(i)) << i;
  }
  EXPECT_EQ(read.Sum(), expected.Sum());
}

}  // namespace
}  // namespace tangelo::telemetry
