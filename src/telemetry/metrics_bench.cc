// Micro-benchmarks for the telemetry hot path. The budget is about
// 25 ns per recording; a counter increment and a histogram record should be
// a few ns, single-threaded and with two threads recording into the same
// metric (each into its own shard).
//
//   build/<dir>/src/telemetry/metrics_bench --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <string>

#include "io/clock.h"
#include "telemetry/histogram.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"
#include "telemetry/prometheus.h"
#include "telemetry/registry.h"
#include "telemetry/trace.h"

namespace tangelo::telemetry {
namespace {

// Values that move across buckets like real latencies (cheap LCG, so the
// generator does not dominate the measurement).
inline uint64_t NextLatencyNs(uint64_t* state) {
  *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
  return 1000 + ((*state >> 33) & 0xFFFFF);  // 1 µs .. ~1 ms
}

Counter& SharedCounter() {
  static Counter* counter = new Counter();
  return *counter;
}

HistogramMetric& SharedHistogram() {
  static HistogramMetric* histogram = new HistogramMetric();
  return *histogram;
}

void BM_CounterIncrement(benchmark::State& state) {
  Counter& counter = SharedCounter();
  for (auto _ : state) {
    counter.Increment();
  }
  benchmark::DoNotOptimize(counter.Value());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterIncrement)->Threads(1)->Threads(2);

void BM_GaugeSet(benchmark::State& state) {
  static Gauge gauge;
  int64_t value = 0;
  for (auto _ : state) {
    gauge.Set(++value);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GaugeSet);

void BM_HistogramMetricRecord(benchmark::State& state) {
  HistogramMetric& histogram = SharedHistogram();
  uint64_t seed = static_cast<uint64_t>(state.thread_index()) + 1;
  for (auto _ : state) {
    histogram.Record(NextLatencyNs(&seed));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramMetricRecord)->Threads(1)->Threads(2);

void BM_PlainHistogramRecord(benchmark::State& state) {
  Histogram histogram;
  uint64_t seed = 1;
  for (auto _ : state) {
    histogram.Record(NextLatencyNs(&seed));
  }
  benchmark::DoNotOptimize(histogram.Count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PlainHistogramRecord);

void BM_HistogramQuantiles(benchmark::State& state) {
  Histogram histogram;
  uint64_t seed = 1;
  for (int i = 0; i < 100000; ++i) histogram.Record(NextLatencyNs(&seed));
  for (auto _ : state) {
    benchmark::DoNotOptimize(histogram.ValueAtQuantile(0.5));
    benchmark::DoNotOptimize(histogram.ValueAtQuantile(0.99));
    benchmark::DoNotOptimize(histogram.ValueAtQuantile(0.999));
  }
}
BENCHMARK(BM_HistogramQuantiles);

// Scrape cost: a registry shaped like a running process (100 counters,
// 20 gauges, 20 histograms recorded from one thread).
void BM_CollectAndRenderPrometheus(benchmark::State& state) {
  Registry registry;
  uint64_t seed = 1;
  for (int i = 0; i < 100; ++i) {
    registry
        .AddCounter({.name = "tangelo_api_requests_total",
                     .help = "Requests.",
                     .application = Application::kApi,
                     .path = CriticalPath::kAuthorization,
                     .labels = {{"code", std::to_string(i)}}})
        .Increment(static_cast<uint64_t>(i) * 1000);
  }
  for (int i = 0; i < 20; ++i) {
    registry
        .AddGauge({.name = "tangelo_api_depth",
                   .help = "Depth.",
                   .application = Application::kApi,
                   .labels = {{"queue", std::to_string(i)}}})
        .Set(i);
    HistogramMetric& histogram =
        registry.AddHistogram({.name = "tangelo_api_latency_seconds",
                               .help = "Latency.",
                               .unit = Unit::kNanoseconds,
                               .application = Application::kApi,
                               .labels = {{"route", std::to_string(i)}}});
    for (int v = 0; v < 1000; ++v) histogram.Record(NextLatencyNs(&seed));
  }
  size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = RenderPrometheus(registry);
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_CollectAndRenderPrometheus)->Unit(benchmark::kMicrosecond);

// An unsampled, fast span: the cost every traced request pays.
void BM_SpanUnsampled(benchmark::State& state) {
  static SpanBuffer buffer(1024);
  Tracer tracer({.application = Application::kAuthorizer,
                 .head_sampling_ratio = 0.0,
                 .slow_span_threshold_ns = 1'000'000'000,
                 .id_seed = 1},
                &buffer);
  for (auto _ : state) {
    Span span = tracer.StartSpan("authorize", SpanKind::kInternal);
    span.SetAttribute("decision", "approved");
    span.End();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpanUnsampled);

// A log call below the level threshold (debug logging left in code).
void BM_LogBelowLevel(benchmark::State& state) {
  MemoryLogSink sink;
  Logger logger({.application = Application::kAuthorizer, .level_min = LogLevel::kInfo}, &sink);
  for (auto _ : state) {
    logger.Debug("decision", "approved", {{"card_id", 42}});
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LogBelowLevel);

// A written line with a few fields, including PAN scanning.
void BM_LogLineWritten(benchmark::State& state) {
  class NullSink final : public LogSink {
   public:
    void Write(std::string_view line) override { benchmark::DoNotOptimize(line.data()); }
  } sink;
  Logger logger({.application = Application::kAuthorizer, .lines_per_event_per_second_max = 0},
                &sink);
  for (auto _ : state) {
    logger.Info("decision", "Authorization approved",
                {{"card_id", uint64_t{123456}}, {"amount_minor", 2500}, {"currency", "USD"}});
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LogLineWritten);

}  // namespace
}  // namespace tangelo::telemetry
