#include "telemetry/slo_engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "io/clock.h"
#include "telemetry/rules.h"
#include "telemetry/slo_metrics.h"

namespace tangelo::telemetry {
namespace {

constexpr uint64_t kSecondNs = 1'000'000'000;
constexpr uint64_t kMsNs = 1'000'000;

// Authorization only: gateway and api answer, authorizer and ledger are
// crossed; 99.99% availability, 99% within 50 ms; the workbook's table.
CriticalPathConfig TestConfig() {
  auto config = ParseCriticalPaths(R"({"version": 1,
    "applications": ["gateway", "api", "authorizer", "ledger"],
    "runbook_url_base": "https://x.example/runbooks/",
    "paths": [{"name": "authorization", "description": "d",
      "applications": ["gateway", "api", "authorizer", "ledger"],
      "sli_applications": ["gateway", "api"], "probe_interval_ms": 5000,
      "slos": [
        {"name": "availability", "kind": "availability", "description": "d",
         "objective_percent": 99.99, "window_days": 30,
         "requests_metric": "tangelo_requests_total", "error_outcome": "error"},
        {"name": "latency", "kind": "latency", "description": "d",
         "objective_percent": 99, "window_days": 30,
         "duration_metric": "tangelo_request_duration_seconds", "threshold_ms": 50}]}],
    "burn_rate_alerts": [
      {"name": "Fast", "severity": "page", "long_window_minutes": 60,
       "short_window_minutes": 5, "burn_rate": 14.4},
      {"name": "Medium", "severity": "page", "long_window_minutes": 360,
       "short_window_minutes": 30, "burn_rate": 6},
      {"name": "Slow", "severity": "ticket", "long_window_minutes": 4320,
       "short_window_minutes": 360, "burn_rate": 1}],
    "common_alerts": {"for_minutes": 5, "error_ratio_max": 0.01, "latency_p99_ms_max": 250,
      "queue_saturation_ratio_max": 0.8, "journal_fsync_p99_ms_max": 50,
      "connections_saturation_ratio_max": 0.9, "restarts_window_minutes": 15}})");
  EXPECT_TRUE(config.ok()) << config.status().message();
  return std::move(*config);
}

class SloEngineTest : public ::testing::Test {
 protected:
  explicit SloEngineTest(uint64_t interval_ms = 10'000)
      : interval_ms_(interval_ms),
        engine_(TestConfig(), registry_, SloEngineOptions{.sample_interval_ms = interval_ms}),
        ok_(Requests(Application::kGateway, kOutcomeOk)),
        error_(Requests(Application::kGateway, kOutcomeError)) {}

  Counter& Requests(Application application, std::string_view outcome) {
    return registry_.AddCounter({.name = kRequestsTotalMetric,
                                 .help = "Requests answered, by outcome (error: a system error).",
                                 .application = application,
                                 .path = CriticalPath::kAuthorization,
                                 .labels = {Label{"outcome", std::string(outcome)}}});
  }

  // One sample interval with `valid` requests of which `errors` failed.
  void Tick(uint64_t valid, uint64_t errors) {
    ok_.Increment(valid - errors);
    error_.Increment(errors);
    clock_.Advance(interval_ms_ * kMsNs);
    ASSERT_TRUE(engine_.Sample(registry_, &clock_).ok());
  }

  const AlertState& Alert(std::string_view name, std::string_view slo = "availability") {
    alerts_ = engine_.Alerts();
    for (const AlertState& state : alerts_) {
      if (state.alert_name == name && state.slo == slo) return state;
    }
    ADD_FAILURE() << "no alert " << name;
    return alerts_.front();
  }

  const AlertState& AppAlert(std::string_view name, Application application) {
    alerts_ = engine_.Alerts();
    for (const AlertState& state : alerts_) {
      if (state.alert_name == name && state.application == application) return state;
    }
    ADD_FAILURE() << "no alert " << name;
    return alerts_.front();
  }

  uint64_t interval_ms_;
  io::ManualClock clock_;
  Registry registry_;
  SloEngine engine_;
  Counter& ok_;
  Counter& error_;
  std::vector<AlertState> alerts_;
};

// 100'000 requests per 10 s; the fast row's threshold is 14.4 x 0.0001 =
// 144 errors per tick.
TEST_F(SloEngineTest, FastBurnFiresExactlyAboveTheThreshold) {
  ASSERT_TRUE(engine_.Sample(registry_, &clock_).ok());  // The zero point.
  for (int i = 0; i < 360; ++i) Tick(100'000, 144);
  EXPECT_DOUBLE_EQ(Alert("Fast").long_window_burn_rate, 14.4);
  EXPECT_FALSE(Alert("Fast").firing) << "a burn rate equal to 14.4 does not fire";
  EXPECT_TRUE(engine_.FiringAlerts().empty() == false);  // Medium (6) and Slow (1) fire.
  EXPECT_TRUE(Alert("Medium").firing);
  EXPECT_TRUE(Alert("Slow").firing);

  Tick(100'000, 145);  // One error too many, inside both windows.
  const uint64_t fired_at = clock_.RealtimeNs();
  EXPECT_TRUE(Alert("Fast").firing);
  EXPECT_EQ(Alert("Fast").firing_since_realtime_ns, fired_at);
  EXPECT_EQ(Alert("Fast").severity, "page");
  EXPECT_EQ(Alert("Fast").path, CriticalPath::kAuthorization);

  Tick(100'000, 144);  // Still above: 145 is in both windows; since is kept.
  EXPECT_TRUE(Alert("Fast").firing);
  EXPECT_EQ(Alert("Fast").firing_since_realtime_ns, fired_at);

  Tick(100'000, 143);  // Back to exactly 14.4 in both windows.
  EXPECT_FALSE(Alert("Fast").firing);
  EXPECT_EQ(Alert("Fast").firing_since_realtime_ns, 0u);
}

TEST_F(SloEngineTest, BothWindowsMustBurn) {
  ASSERT_TRUE(engine_.Sample(registry_, &clock_).ok());
  for (int i = 0; i < 360; ++i) Tick(100'000, 0);
  // A 5 min burst at 2x the rate: the short window burns, the hour does not.
  for (int i = 0; i < 30; ++i) Tick(100'000, 288);
  EXPECT_GT(Alert("Fast").short_window_burn_rate, 14.4);
  EXPECT_LT(Alert("Fast").long_window_burn_rate, 14.4);
  EXPECT_FALSE(Alert("Fast").firing);
  // A big burst pushes the hour over too: fires.
  for (int i = 0; i < 30; ++i) Tick(100'000, 2'000);
  EXPECT_TRUE(Alert("Fast").firing);
  // Clean for 5 min: the hour still burns, the short window recovered.
  for (int i = 0; i < 30; ++i) Tick(100'000, 0);
  EXPECT_GT(Alert("Fast").long_window_burn_rate, 14.4);
  EXPECT_FALSE(Alert("Fast").firing);
}

TEST_F(SloEngineTest, NoTrafficNoAlert) {
  for (int i = 0; i < 400; ++i) Tick(0, 0);
  EXPECT_TRUE(engine_.FiringAlerts().empty());
  const auto report = engine_.Report(CriticalPath::kAuthorization);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->traffic.requests, 0u);
  EXPECT_DOUBLE_EQ(report->uptime_ratio, 1.0);
  EXPECT_FALSE(report->traffic.latency.p99_seconds.has_value());
  EXPECT_FALSE(report->probe_success_ratio.has_value());
}

class SlowBurnTest : public SloEngineTest {
 protected:
  SlowBurnTest() : SloEngineTest(60'000) {}
};

// 3 days and 6 hours at burn rate 1: exactly the budget does not fire, one
// error more per minute does. Runs 3 days of one-minute samples.
TEST_F(SlowBurnTest, TicketFiresAboveBurnRateOne) {
  ASSERT_TRUE(engine_.Sample(registry_, &clock_).ok());
  for (int i = 0; i < 3 * 24 * 60; ++i) Tick(100'000, 10);
  EXPECT_DOUBLE_EQ(Alert("Slow").long_window_burn_rate, 1.0);
  EXPECT_FALSE(Alert("Slow").firing);
  for (int i = 0; i < 6 * 60; ++i) Tick(100'000, 11);
  EXPECT_TRUE(Alert("Slow").firing);
  EXPECT_FALSE(Alert("Medium").firing);
  EXPECT_FALSE(Alert("Fast").firing);
  const auto report = engine_.Report(CriticalPath::kAuthorization, 3600'000);
  ASSERT_TRUE(report.has_value());
  // Budget over the history held (3.25 days): overspent slightly.
  EXPECT_LT(report->slos[0].error_budget_remaining_ratio, 0.0);
  EXPECT_GT(report->slos[0].error_budget_remaining_ratio, -0.1);
  EXPECT_EQ(report->slos[0].valid_events, (3u * 24 * 60 + 6 * 60) * 100'000u);
}

TEST_F(SloEngineTest, ReportCombinesProbeAndEventsAndDrillsDown) {
  ApplicationStats api(registry_, Application::kApi, CriticalPath::kAuthorization);
  ApplicationStats authorizer(registry_, Application::kAuthorizer, CriticalPath::kAuthorization);
  ASSERT_TRUE(engine_.Sample(registry_, &clock_).ok());
  for (int i = 0; i < 99; ++i) api.RecordRequest(true, 9 * kMsNs);
  api.RecordRequest(false, 90 * kMsNs);
  for (int i = 0; i < 7; ++i) authorizer.RecordRequest(true, 1 * kMsNs);
  for (int i = 0; i < 9; ++i) EXPECT_TRUE(engine_.RecordProbe(CriticalPath::kAuthorization, true, kMsNs));
  EXPECT_TRUE(engine_.RecordProbe(CriticalPath::kAuthorization, false, kSecondNs));
  EXPECT_FALSE(engine_.RecordProbe(CriticalPath::kTransaction, true, kMsNs));
  Tick(0, 0);

  const auto report = engine_.Report(CriticalPath::kAuthorization, 300'000);
  ASSERT_TRUE(report.has_value());
  // The SLI is gateway + api; the authorizer is crossed, not counted twice.
  EXPECT_EQ(report->traffic.requests, 100u);
  EXPECT_EQ(report->traffic.errors, 1u);
  EXPECT_DOUBLE_EQ(report->traffic.throughput_per_second, 10.0);
  EXPECT_DOUBLE_EQ(report->event_availability_ratio, 0.99);
  ASSERT_TRUE(report->probe_success_ratio.has_value());
  EXPECT_DOUBLE_EQ(*report->probe_success_ratio, 0.9);
  EXPECT_DOUBLE_EQ(report->uptime_ratio, 0.9);  // The worse of the two.

  ASSERT_EQ(report->applications.size(), 4u);
  EXPECT_EQ(report->applications[0].application, Application::kGateway);
  EXPECT_EQ(report->applications[1].traffic.requests, 100u);
  EXPECT_EQ(report->applications[2].application, Application::kAuthorizer);
  EXPECT_EQ(report->applications[2].traffic.requests, 7u);
  EXPECT_EQ(report->applications[2].traffic.errors, 0u);

  // 99 at 9 ms and one at 90 ms: p50 inside (5, 10] ms, p99 at the 10 ms
  // bound, p99.9 inside (50, 100] ms.
  const LatencyPercentiles& latency = report->traffic.latency;
  ASSERT_TRUE(latency.p50_seconds && latency.p99_seconds && latency.p999_seconds);
  EXPECT_GT(*latency.p50_seconds, 0.005);
  EXPECT_LE(*latency.p50_seconds, 0.010);
  EXPECT_DOUBLE_EQ(*latency.p99_seconds, 0.010);
  EXPECT_GT(*latency.p999_seconds, 0.050);
  EXPECT_LE(*latency.p999_seconds, 0.100);

  ASSERT_EQ(report->slos.size(), 2u);
  EXPECT_EQ(report->slos[0].valid_events, 100u);
  EXPECT_EQ(report->slos[0].bad_events, 1u);
  // 1 error against a budget of 0.01 errors: overspent 99 times over.
  EXPECT_NEAR(report->slos[0].error_budget_remaining_ratio, -99.0, 1e-6);
  EXPECT_EQ(report->slos[1].valid_events, 100u);
  EXPECT_EQ(report->slos[1].bad_events, 1u);  // Only the 100 ms one is over 50 ms.
  EXPECT_NEAR(report->slos[1].error_budget_remaining_ratio, 0.0, 1e-9);
  EXPECT_NEAR(report->slos[1].good_ratio, 0.99, 1e-12);
}

TEST_F(SloEngineTest, RejectsBadSnapshots) {
  EXPECT_EQ(engine_.AddSnapshot(registry_.Collect()).code(), base::StatusCode::kInvalidArgument);
  clock_.Advance(kSecondNs);
  MetricsSnapshot newer = registry_.Collect(&clock_);
  MetricsSnapshot older = newer;
  older.monotonic_ns -= 1;
  ASSERT_TRUE(engine_.AddSnapshot(newer).ok());
  EXPECT_EQ(engine_.AddSnapshot(older).code(), base::StatusCode::kInvalidArgument);
  EXPECT_FALSE(engine_.Report(CriticalPath::kTransaction).has_value());
}

TEST_F(SloEngineTest, HistoryIsBounded) {
  // Far more samples than both rings hold: memory stays fixed and windows
  // still measure the right span.
  ASSERT_TRUE(engine_.Sample(registry_, &clock_).ok());
  for (int i = 0; i < 4000; ++i) Tick(10, 0);
  const auto report = engine_.Report(CriticalPath::kAuthorization, 3600'000);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->traffic.requests, 3600u);
  EXPECT_DOUBLE_EQ(report->traffic.throughput_per_second, 1.0);
}

// The common alerts of every application, as the Prometheus rules: a
// condition must hold for common.for_minutes (5) before it fires.
TEST_F(SloEngineTest, CommonAlertsFireAfterTheirForDuration) {
  ApplicationStats api(registry_, Application::kApi, CriticalPath::kAuthorization);
  ApplicationStats ledger(registry_, Application::kLedger, CriticalPath::kAuthorization);
  std::atomic<double> queue_depth{90};
  std::atomic<double> connections_open{95};
  CallbackGaugeHandle queue =
      ledger.AddQueue("intake", 100, [&queue_depth] { return queue_depth.load(); });
  CallbackGaugeHandle connections =
      api.AddConnections(100, [&connections_open] { return connections_open.load(); });
  ASSERT_TRUE(engine_.Sample(registry_, &clock_).ok());
  auto trouble = [&](int ticks) {
    for (int tick = 0; tick < ticks; ++tick) {
      for (int i = 0; i < 95; ++i) api.RecordRequest(true, 2 * kMsNs);
      for (int i = 0; i < 5; ++i) api.RecordRequest(false, 2 * kMsNs);  // 5% > 1%.
      for (int i = 0; i < 10; ++i) ledger.RecordRequest(true, 400 * kMsNs);  // p99 > 250 ms.
      ledger.RecordJournalFsync(80 * kMsNs);  // p99 > 50 ms.
      Tick(0, 0);
    }
  };
  trouble(6);
  // Conditions hold but not yet for 5 minutes: pending, not firing.
  EXPECT_FALSE(AppAlert(kHighErrorRateAlert, Application::kApi).firing);
  EXPECT_NEAR(AppAlert(kHighErrorRateAlert, Application::kApi).value, 0.05, 1e-12);
  // Pending since the first bad sample (10 s in): 4 min 50 s later, still pending.
  trouble(24);
  EXPECT_FALSE(AppAlert(kHighErrorRateAlert, Application::kApi).firing);
  trouble(1);  // Held for exactly 5 minutes: fires.
  EXPECT_TRUE(AppAlert(kHighErrorRateAlert, Application::kApi).firing);
  EXPECT_EQ(AppAlert(kHighErrorRateAlert, Application::kApi).firing_since_realtime_ns,
            clock_.RealtimeNs());
  EXPECT_EQ(AppAlert(kHighErrorRateAlert, Application::kApi).severity, "page");
  EXPECT_FALSE(AppAlert(kHighErrorRateAlert, Application::kLedger).firing);
  EXPECT_TRUE(AppAlert(kHighLatencyAlert, Application::kLedger).firing);
  EXPECT_GT(AppAlert(kHighLatencyAlert, Application::kLedger).value, 0.25);
  EXPECT_FALSE(AppAlert(kHighLatencyAlert, Application::kApi).firing);
  EXPECT_TRUE(AppAlert(kFsyncSlowAlert, Application::kLedger).firing);
  EXPECT_TRUE(AppAlert(kQueueSaturatedAlert, Application::kLedger).firing);
  EXPECT_DOUBLE_EQ(AppAlert(kQueueSaturatedAlert, Application::kLedger).value, 0.9);
  EXPECT_TRUE(AppAlert(kConnectionsSaturatedAlert, Application::kApi).firing);
  EXPECT_FALSE(AppAlert(kRestartingAlert, Application::kLedger).firing);

  // Relief: the gauges clear at once, the rates once the 5 min window is clean.
  queue_depth = 10;
  connections_open = 5;
  Tick(0, 0);
  EXPECT_FALSE(AppAlert(kQueueSaturatedAlert, Application::kLedger).firing);
  EXPECT_FALSE(AppAlert(kConnectionsSaturatedAlert, Application::kApi).firing);
  EXPECT_TRUE(AppAlert(kHighErrorRateAlert, Application::kApi).firing);
  for (int i = 0; i < 31; ++i) Tick(0, 0);
  EXPECT_FALSE(AppAlert(kHighErrorRateAlert, Application::kApi).firing);
  EXPECT_FALSE(AppAlert(kHighLatencyAlert, Application::kLedger).firing);
  EXPECT_EQ(AppAlert(kHighErrorRateAlert, Application::kApi).firing_since_realtime_ns, 0u);
}

TEST_F(SloEngineTest, RestartFiresAtOnceForItsWindow) {
  ApplicationStats ledger(registry_, Application::kLedger, CriticalPath::kAuthorization);
  ASSERT_TRUE(engine_.Sample(registry_, &clock_).ok());
  Tick(0, 0);
  EXPECT_FALSE(AppAlert(kRestartingAlert, Application::kLedger).firing);
  ledger.RecordRestart();
  Tick(0, 0);
  EXPECT_TRUE(AppAlert(kRestartingAlert, Application::kLedger).firing);
  EXPECT_EQ(AppAlert(kRestartingAlert, Application::kLedger).severity, "ticket");
  for (int i = 0; i < 89; ++i) Tick(0, 0);  // 14 min 50 s later: still in the window.
  EXPECT_TRUE(AppAlert(kRestartingAlert, Application::kLedger).firing);
  Tick(0, 0);
  Tick(0, 0);
  EXPECT_FALSE(AppAlert(kRestartingAlert, Application::kLedger).firing);
}

TEST(SloEngineDeathTest, IntervalOutOfRangeAsserts) {
  Registry registry;
  EXPECT_DEATH(SloEngine(TestConfig(), registry, SloEngineOptions{.sample_interval_ms = 10}),
               "sample_interval_ms");
}

}  // namespace
}  // namespace tangelo::telemetry
