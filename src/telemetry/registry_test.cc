#include "telemetry/registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "io/clock.h"

namespace tangelo::telemetry {
namespace {

// The shape every module follows: one struct declares all its metrics.
struct ExampleLedgerStats {
  explicit ExampleLedgerStats(Registry& registry)
      : transfers_total(registry.AddCounter({
            .name = "tangelo_ledger_transfers_total",
            .help = "Transfers applied to the ledger.",
            .application = Application::kLedger,
            .path = CriticalPath::kAuthorization,
        })),
        open_holds(registry.AddGauge({
            .name = "tangelo_ledger_open_holds",
            .help = "Holds placed and not yet resolved.",
            .application = Application::kLedger,
        })),
        apply_latency(registry.AddHistogram({
            .name = "tangelo_ledger_apply_latency_seconds",
            .help = "Time to apply one batch.",
            .unit = Unit::kNanoseconds,
            .application = Application::kLedger,
        })) {}

  Counter& transfers_total;
  Gauge& open_holds;
  HistogramMetric& apply_latency;
};

TEST(RegistryTest, StatsStructRegistersAndCollects) {
  Registry registry;
  ExampleLedgerStats stats(registry);
  stats.transfers_total.Increment(3);
  stats.open_holds.Set(7);
  stats.apply_latency.Record(2048);
  stats.apply_latency.Record(4096);
  EXPECT_EQ(registry.SeriesCount(), 3u);

  const MetricsSnapshot snapshot = registry.Collect();
  ASSERT_EQ(snapshot.samples.size(), 3u);
  // Sorted by name.
  EXPECT_EQ(snapshot.samples[0].name(), "tangelo_ledger_apply_latency_seconds");
  EXPECT_EQ(snapshot.samples[1].name(), "tangelo_ledger_open_holds");
  EXPECT_EQ(snapshot.samples[2].name(), "tangelo_ledger_transfers_total");

  const MetricSample* transfers = snapshot.Find("tangelo_ledger_transfers_total",
                                                Application::kLedger,
                                                CriticalPath::kAuthorization);
  ASSERT_NE(transfers, nullptr);
  EXPECT_EQ(transfers->type(), MetricType::kCounter);
  EXPECT_EQ(transfers->counter_value, 3u);
  // The path is part of the identity.
  EXPECT_EQ(snapshot.Find("tangelo_ledger_transfers_total", Application::kLedger), nullptr);

  const MetricSample* holds = snapshot.Find("tangelo_ledger_open_holds", Application::kLedger);
  ASSERT_NE(holds, nullptr);
  EXPECT_EQ(holds->gauge_value, 7.0);

  const MetricSample* latency =
      snapshot.Find("tangelo_ledger_apply_latency_seconds", Application::kLedger);
  ASSERT_NE(latency, nullptr);
  const HistogramSummary& summary = latency->histogram;
  EXPECT_EQ(summary.count, 2u);
  EXPECT_EQ(summary.sum, 6144u);
  EXPECT_EQ(summary.min, 2048u);
  EXPECT_EQ(summary.max, 4096u);
  EXPECT_EQ(summary.p50, 2048u);
  EXPECT_EQ(summary.p99, 4096u);
  const std::vector<uint64_t>& bounds = latency->descriptor->histogram_bounds;
  ASSERT_EQ(bounds, DefaultHistogramBounds(Unit::kNanoseconds));
  ASSERT_EQ(summary.cumulative_counts.size(), bounds.size());
  for (size_t i = 0; i < bounds.size(); ++i) {
    const uint64_t expected = bounds[i] >= 4096 ? 2 : bounds[i] >= 2048 ? 1 : 0;
    EXPECT_EQ(summary.cumulative_counts[i], expected) << bounds[i];
  }
}

TEST(RegistryTest, SameSeriesTwiceIsTheSameMetric) {
  Registry registry;
  ExampleLedgerStats first(registry);
  ExampleLedgerStats second(registry);
  EXPECT_EQ(&first.transfers_total, &second.transfers_total);
  first.transfers_total.Increment();
  second.transfers_total.Increment();
  EXPECT_EQ(first.transfers_total.Value(), 2u);
  EXPECT_EQ(registry.SeriesCount(), 3u);
}

TEST(RegistryTest, LabelsMakeDistinctSeriesOfOneFamily) {
  Registry registry;
  auto declare = [&](std::string outcome, Application application) -> Counter& {
    return registry.AddCounter({
        .name = "tangelo_requests_total",
        .help = "Requests handled.",
        .application = application,
        .path = CriticalPath::kAuthorization,
        .labels = {{"outcome", std::move(outcome)}},
    });
  };
  Counter& api_ok = declare("ok", Application::kApi);
  Counter& api_error = declare("error", Application::kApi);
  Counter& gateway_ok = declare("ok", Application::kGateway);
  EXPECT_NE(&api_ok, &api_error);
  EXPECT_NE(&api_ok, &gateway_ok);
  EXPECT_EQ(&declare("ok", Application::kApi), &api_ok);
  api_ok.Increment(5);
  api_error.Increment(1);
  gateway_ok.Increment(2);

  const MetricsSnapshot snapshot = registry.Collect();
  const std::vector<const MetricSample*> family = snapshot.FindAll("tangelo_requests_total");
  ASSERT_EQ(family.size(), 3u);
  uint64_t total = 0;
  for (const MetricSample* sample : family) total += sample->counter_value;
  EXPECT_EQ(total, 8u);
  EXPECT_EQ(snapshot.SumCounter("tangelo_requests_total"), 8u);
  EXPECT_EQ(snapshot.SumCounter("tangelo_requests_total", Application::kApi), 6u);
  EXPECT_EQ(snapshot.SumCounter("tangelo_requests_total", Application::kGateway,
                                CriticalPath::kAuthorization),
            2u);
  EXPECT_EQ(snapshot.SumCounter("tangelo_requests_total", std::nullopt,
                                CriticalPath::kTransaction),
            0u);
  EXPECT_EQ(snapshot.SumCounter("tangelo_unknown_total"), 0u);
  const Label error_label[] = {{"outcome", "error"}};
  const MetricSample* error = snapshot.Find("tangelo_requests_total", Application::kApi,
                                            CriticalPath::kAuthorization, error_label);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->counter_value, 1u);
}

TEST(RegistryTest, LabelValuesWithSeparatorBytesStayDistinct) {
  Registry registry;
  auto declare = [&](std::vector<Label> labels) -> Counter& {
    return registry.AddCounter({.name = "tangelo_api_odd_total",
                                .help = "Odd labels.",
                                .application = Application::kApi,
                                .labels = std::move(labels)});
  };
  Counter& joined = declare({{"a", std::string("x\x01b\x02y", 5)}});
  Counter& split = declare({{"a", "x"}, {"b", "y"}});
  Counter& nul = declare({{"a", std::string("x\0", 2)}});
  Counter& plain = declare({{"a", "x"}});
  EXPECT_NE(&joined, &split);
  EXPECT_NE(&nul, &plain);
  EXPECT_NE(&joined, &plain);
  EXPECT_EQ(registry.SeriesCount(), 4u);
}

TEST(RegistryTest, SnapshotsAreValuesThatOutliveCallbacks) {
  Registry registry;
  Counter& requests = registry.AddCounter({.name = "tangelo_api_requests_total",
                                           .help = "Requests.",
                                           .application = Application::kApi});
  MetricsSnapshot before;
  {
    CallbackGaugeHandle depth = registry.AddCallbackGauge(
        {.name = "tangelo_api_queue_depth", .help = "Depth.", .application = Application::kApi},
        [] { return 3.0; });
    requests.Increment(10);
    before = registry.Collect();
  }
  requests.Increment(5);
  const MetricsSnapshot after = registry.Collect();
  // The earlier snapshot keeps its values and descriptors.
  ASSERT_NE(before.Find("tangelo_api_queue_depth", Application::kApi), nullptr);
  EXPECT_EQ(before.Find("tangelo_api_queue_depth", Application::kApi)->gauge_value, 3.0);
  EXPECT_EQ(after.Find("tangelo_api_queue_depth", Application::kApi), nullptr);
  // Rates come from differences of successive snapshots.
  EXPECT_EQ(after.SumCounter("tangelo_api_requests_total") -
                before.SumCounter("tangelo_api_requests_total"),
            5u);
}

TEST(RegistryTest, CallbackGaugeIsReadAtCollectionAndGoesAwayWithItsHandle) {
  Registry registry;
  std::atomic<int64_t> depth{4};
  const MetricSpec spec = {
      .name = "tangelo_engine_intake_queue_depth",
      .help = "Requests waiting in the intake queue.",
      .application = Application::kAuthorizer,
  };
  {
    CallbackGaugeHandle handle =
        registry.AddCallbackGauge(spec, [&] { return static_cast<double>(depth.load()); });
    EXPECT_TRUE(handle.registered());
    EXPECT_EQ(registry.Collect().samples.at(0).gauge_value, 4.0);
    depth = 9;
    EXPECT_EQ(registry.Collect().samples.at(0).gauge_value, 9.0);

    // Moving keeps exactly one registration.
    CallbackGaugeHandle moved = std::move(handle);
    EXPECT_FALSE(handle.registered());  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(registry.SeriesCount(), 1u);
  }
  EXPECT_EQ(registry.SeriesCount(), 0u);
  EXPECT_TRUE(registry.Collect().samples.empty());

  // The series can be registered again once the old handle is gone.
  CallbackGaugeHandle again = registry.AddCallbackGauge(spec, [] { return 1.5; });
  EXPECT_EQ(registry.Collect().samples.at(0).gauge_value, 1.5);
  again.Reset();
  EXPECT_FALSE(again.registered());
  EXPECT_EQ(registry.SeriesCount(), 0u);
}

TEST(RegistryTest, CollectStampsTheSnapshotWithTheClock) {
  Registry registry;
  io::ManualClock clock;
  clock.Advance(5);
  const MetricsSnapshot snapshot = registry.Collect(&clock);
  EXPECT_EQ(snapshot.realtime_ns, clock.RealtimeNs());
  EXPECT_EQ(snapshot.monotonic_ns, clock.MonotonicNs());
  const MetricsSnapshot unstamped = registry.Collect();
  EXPECT_EQ(unstamped.realtime_ns, 0u);
}

TEST(RegistryTest, ExplicitBoundsAreCountedConservatively) {
  Registry registry;
  HistogramMetric& latency = registry.AddHistogram({
      .name = "tangelo_authorizer_decision_latency_seconds",
      .help = "Decision latency.",
      .unit = Unit::kMicroseconds,
      .application = Application::kAuthorizer,
      .path = CriticalPath::kAuthorization,
      .histogram_bounds = {1024, 50'000},  // 1024 is exact; 50 ms is not a bucket bound.
  });
  for (uint64_t v = 1; v <= 100'000; v += 1) latency.Record(v);
  const MetricsSnapshot snapshot = registry.Collect();
  const HistogramSummary& summary = snapshot.samples.at(0).histogram;
  ASSERT_EQ(summary.cumulative_counts.size(), 2u);
  EXPECT_EQ(summary.cumulative_counts[0], 1024u);
  EXPECT_LE(summary.cumulative_counts[1], 50'000u);
  EXPECT_GE(static_cast<double>(summary.cumulative_counts[1]),
            50'000.0 * (1 - HistogramBuckets::kRelativeErrorMax));
  EXPECT_EQ(summary.count, 100'000u);
}

TEST(RegistryTest, RegistrationAndCollectionFromManyThreads) {
  Registry registry;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        ExampleLedgerStats stats(registry);
        stats.transfers_total.Increment();
        (void)registry.Collect();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const MetricsSnapshot snapshot = registry.Collect();
  EXPECT_EQ(snapshot.Find("tangelo_ledger_transfers_total", Application::kLedger,
                          CriticalPath::kAuthorization)
                ->counter_value,
            4000u);
}

TEST(ApplicationTest, NamesRoundTrip) {
  for (uint8_t number = 1; number <= kApplicationCount; ++number) {
    const auto application = static_cast<Application>(number);
    EXPECT_EQ(ApplicationFromName(ApplicationName(application)), application);
  }
  EXPECT_EQ(ApplicationName(Application::kAuthorizer), "authorizer");
  EXPECT_EQ(ApplicationName(static_cast<Application>(0)), "");
  EXPECT_EQ(ApplicationName(static_cast<Application>(9)), "");
  EXPECT_FALSE(ApplicationFromName("Gateway").has_value());
  EXPECT_FALSE(ApplicationFromName("").has_value());
  EXPECT_EQ(CriticalPathFromName("transaction"), CriticalPath::kTransaction);
  EXPECT_EQ(CriticalPathName(CriticalPath::kAuthorization), "authorization");
  EXPECT_EQ(CriticalPathName(CriticalPath::kNone), "");
  EXPECT_FALSE(CriticalPathFromName("management").has_value());
}

// Misuse: every broken declaration stops the process at start-up with the
// metric's name in the message.
TEST(RegistryDeathTest, RejectsBadDeclarations) {
  Registry registry;
  const auto counter = [&](MetricSpec spec) { (void)registry.AddCounter(spec); };
  const auto histogram = [&](MetricSpec spec) { (void)registry.AddHistogram(spec); };
  const auto gauge = [&](MetricSpec spec) { (void)registry.AddGauge(spec); };
  const Application ledger = Application::kLedger;
  EXPECT_DEATH(counter({.name = "ledger_transfers_total", .help = "h", .application = ledger}),
               "ledger_transfers_total");
  EXPECT_DEATH(counter({.name = "tangelo_Ledger_total", .help = "h", .application = ledger}),
               "tangelo_Ledger_total");
  EXPECT_DEATH(counter({.name = "tangelo_a__b_total", .help = "h", .application = ledger}),
               "tangelo_a__b_total");
  EXPECT_DEATH(counter({.name = "tangelo_ledger_transfers", .help = "h", .application = ledger}),
               "_total");
  EXPECT_DEATH(gauge({.name = "tangelo_ledger_holds_total", .help = "h", .application = ledger}),
               "_total");
  EXPECT_DEATH(counter({.name = "tangelo_ledger_x_total", .help = "", .application = ledger}),
               "help");
  EXPECT_DEATH(counter({.name = "tangelo_ledger_x_total", .help = "h"}), "application");
  EXPECT_DEATH(histogram({.name = "tangelo_ledger_latency",
                          .help = "h",
                          .unit = Unit::kNanoseconds,
                          .application = ledger}),
               "unit suffix");
  EXPECT_DEATH(histogram({.name = "tangelo_ledger_latency_seconds", .help = "h",
                          .application = ledger}),
               "does not declare");
  EXPECT_DEATH(counter({.name = "tangelo_ledger_written_bytes_total",
                        .help = "h",
                        .application = ledger}),
               "does not declare");
  EXPECT_DEATH(counter({.name = "tangelo_ledger_x_total",
                        .help = "h",
                        .application = ledger,
                        .labels = {{"application", "api"}}}),
               "reserved");
  EXPECT_DEATH(counter({.name = "tangelo_ledger_x_total",
                        .help = "h",
                        .application = ledger,
                        .labels = {{"le", "1"}}}),
               "reserved");
  EXPECT_DEATH(counter({.name = "tangelo_ledger_x_total",
                        .help = "h",
                        .application = ledger,
                        .labels = {{"a", "1"}, {"a", "2"}}}),
               "duplicate");
  EXPECT_DEATH(counter({.name = "tangelo_ledger_x_total",
                        .help = "h",
                        .application = ledger,
                        .labels = {{"a", "1"}, {"b", "1"}, {"c", "1"}, {"d", "1"}, {"e", "1"}}}),
               "too many");
  EXPECT_DEATH(histogram({.name = "tangelo_ledger_size_bytes",
                          .help = "h",
                          .unit = Unit::kBytes,
                          .application = ledger,
                          .histogram_bounds = {10, 10}}),
               "increasing");
  EXPECT_DEATH(counter({.name = "tangelo_ledger_x_total",
                        .help = "h",
                        .application = ledger,
                        .histogram_bounds = {10}}),
               "bounds");
}

TEST(RegistryDeathTest, RejectsConflictingFamilies) {
  Registry registry;
  (void)registry.AddCounter({.name = "tangelo_ledger_x_total",
                             .help = "One meaning.",
                             .application = Application::kLedger});
  EXPECT_DEATH((void)registry.AddCounter({.name = "tangelo_ledger_x_total",
                                          .help = "Another meaning.",
                                          .application = Application::kApi}),
               "different type, help");
  (void)registry.AddGauge({.name = "tangelo_ledger_y", .help = "h",
                           .application = Application::kLedger});
  EXPECT_DEATH((void)registry.AddCallbackGauge({.name = "tangelo_ledger_y", .help = "h",
                                                .application = Application::kLedger},
                                               [] { return 1.0; }),
               "series of its own");
}

}  // namespace
}  // namespace tangelo::telemetry
