// Cost of the OTLP/JSON encoders on the export thread (never on a request
// path): a full span batch, a registry of ~140 series, one log line parsed
// back from the Logger's JSON.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "io/clock.h"
#include "telemetry/otlp_encoding.h"

namespace tangelo::telemetry {
namespace {

void BM_EncodeSpans512(benchmark::State& state) {
  std::vector<SpanRecord> spans(512);
  for (size_t i = 0; i < spans.size(); ++i) {
    spans[i].context.trace_id.bytes[0] = static_cast<uint8_t>(i + 1);
    spans[i].context.span_id.bytes[0] = static_cast<uint8_t>(i + 1);
    spans[i].application = static_cast<Application>(1 + i % kApplicationCount);
    spans[i].name.size = 20;
    spans[i].attribute_count = 4;
    spans[i].start_unix_ns = 1'700'000'000'000'000'000ULL;
    spans[i].end_unix_ns = spans[i].start_unix_ns + 1'000'000;
  }
  OtlpResource resource;
  size_t bytes = 0;
  for (auto _ : state) {
    std::string json = EncodeOtlpSpans(spans, resource);
    bytes = json.size();
    benchmark::DoNotOptimize(json);
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EncodeSpans512);

void BM_EncodeMetrics140Series(benchmark::State& state) {
  Registry registry;
  for (int i = 0; i < 120; ++i) {
    registry
        .AddCounter({.name = "tangelo_api_requests_total",
                     .help = "Requests.",
                     .application = Application::kApi,
                     .labels = {{"route", std::to_string(i)}}})
        .Increment(static_cast<uint64_t>(i));
  }
  for (int i = 0; i < 20; ++i) {
    registry
        .AddHistogram({.name = "tangelo_api_latency_seconds",
                       .help = "Latency.",
                       .unit = Unit::kNanoseconds,
                       .application = Application::kApi,
                       .labels = {{"route", std::to_string(i)}}})
        .Record(1'000'000);
  }
  io::ManualClock clock;
  const MetricsSnapshot snapshot = registry.Collect(&clock);
  OtlpResource resource;
  size_t bytes = 0;
  for (auto _ : state) {
    std::string json = EncodeOtlpMetrics(snapshot, resource, 0);
    bytes = json.size();
    benchmark::DoNotOptimize(json);
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EncodeMetrics140Series);

void BM_ParseLogLine(benchmark::State& state) {
  const std::string line =
      R"({"time":"2023-11-14T22:13:20.123Z","level":"warn","application":"authorizer",)"
      R"("event":"client_decision_timeout","message":"stand-in used",)"
      R"("trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331",)"
      R"("trace_flags":"01","deadline_ms":2500,"card":"tok_1"})";
  for (auto _ : state) {
    auto record = ParseLogLine(line);
    benchmark::DoNotOptimize(record);
  }
}
BENCHMARK(BM_ParseLogLine);

}  // namespace
}  // namespace tangelo::telemetry
