#include "console/status_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "io/clock.h"
#include "telemetry/registry.h"
#include "telemetry/slo_metrics.h"

namespace tangelo::console {
namespace {

using telemetry::Application;
using telemetry::CriticalPath;

constexpr uint64_t kMsNs = 1'000'000;

telemetry::CriticalPathConfig TestConfig() {
  auto config = telemetry::ParseCriticalPaths(R"({"version": 1,
    "applications": ["gateway", "api", "authorizer", "ledger"],
    "runbook_url_base": "https://x.example/runbooks/",
    "paths": [{"name": "authorization", "description": "Card \"auth\" flow",
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
       "short_window_minutes": 5, "burn_rate": 14.4}],
    "common_alerts": {"for_minutes": 5, "error_ratio_max": 0.01, "latency_p99_ms_max": 250,
      "queue_saturation_ratio_max": 0.8, "journal_fsync_p99_ms_max": 50,
      "connections_saturation_ratio_max": 0.9, "restarts_window_minutes": 15}})");
  EXPECT_TRUE(config.ok()) << config.status().message();
  return std::move(*config);
}

StatusInput OnePath() {
  StatusInput input;
  input.time_ms = 1234;
  input.window_ms = 60'000;
  telemetry::PathReport report;
  report.path = CriticalPath::kAuthorization;
  report.traffic.requests = 120;
  report.traffic.errors = 3;
  report.traffic.throughput_per_second = 2;
  report.traffic.error_ratio = 0.025;
  report.traffic.latency.p50_seconds = 0.0015;
  report.traffic.latency.p99_seconds = 0.02;
  report.uptime_ratio = 0.5;
  report.probe_success_ratio = 0.5;
  report.slos.push_back({.name = "availability",
                         .kind = telemetry::SloKind::kAvailability,
                         .objective_ratio = 0.9999,
                         .valid_events = 120,
                         .bad_events = 3,
                         .good_ratio = 0.975,
                         .error_budget_remaining_ratio = -249});
  report.applications.push_back({Application::kGateway, {}});  // Nothing measured.
  report.applications.push_back({Application::kApi, report.traffic});
  input.paths.push_back({report, nullptr});
  return input;
}

TEST(StatusJsonTest, RendersPathNumbersInMsAndRatios) {
  const std::string json = BuildStatusJson(OnePath());
  EXPECT_NE(json.find(R"("time_ms":1234,"window_ms":60000)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("name":"authorization","description":"")"), std::string::npos);
  EXPECT_NE(json.find(R"("uptime_ratio":0.5,"probe_success_ratio":0.5)"), std::string::npos);
  EXPECT_NE(json.find(R"("requests":120,"errors":3,"throughput_per_second":2,)"
                      R"("error_ratio":0.025,"latency_p50_ms":1.5,"latency_p99_ms":20})"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("error_budget_remaining_ratio":-249,"valid_events":120,"bad_events":3)"),
            std::string::npos);
}

TEST(StatusJsonTest, UnmeasuredApplicationHasNullLatenciesNotZero) {
  const std::string json = BuildStatusJson(OnePath());
  EXPECT_NE(json.find(R"({"name":"gateway","traffic":{"requests":0,"errors":0,)"
                      R"("throughput_per_second":0,"error_ratio":0,"latency_p50_ms":null,)"
                      R"("latency_p99_ms":null}})"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"({"name":"api","traffic":{"requests":120)"), std::string::npos);
}

TEST(StatusJsonTest, NoProbeIsNullAndNonFiniteIsNull) {
  StatusInput input = OnePath();
  input.paths[0].report.probe_success_ratio.reset();
  input.paths[0].report.traffic.throughput_per_second = std::numeric_limits<double>::infinity();
  input.paths[0].report.traffic.error_ratio = std::nan("");
  const std::string json = BuildStatusJson(input);
  EXPECT_NE(json.find(R"("probe_success_ratio":null)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("throughput_per_second":null,"error_ratio":null)"), std::string::npos);
  EXPECT_EQ(json.find("inf"), std::string::npos);
  EXPECT_EQ(json.find("nan"), std::string::npos);
}

TEST(StatusJsonTest, OnlyFiringAlertsAreListedAndCountedPerPath) {
  StatusInput input = OnePath();
  telemetry::AlertState firing;
  firing.alert_name = "TangeloErrorBudgetBurnFast";
  firing.severity = "page";
  firing.path = CriticalPath::kAuthorization;
  firing.slo = "availability";
  firing.firing = true;
  firing.firing_since_realtime_ns = 5'000 * kMsNs;
  telemetry::AlertState quiet = firing;
  quiet.alert_name = "TangeloErrorBudgetBurnSlow";
  quiet.firing = false;
  telemetry::AlertState app_alert;
  app_alert.alert_name = "TangeloApplicationErrorRate";
  app_alert.severity = "ticket";
  app_alert.application = Application::kGateway;
  app_alert.value = 0.5;
  app_alert.firing = true;
  input.firing_alerts = {firing, quiet, app_alert};
  const std::string json = BuildStatusJson(input);
  EXPECT_NE(json.find(R"("firing_alerts":1)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"({"name":"TangeloErrorBudgetBurnFast","severity":"page",)"
                      R"("path":"authorization","slo":"availability","application":"",)"
                      R"("value":0,"firing_since_ms":5000})"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("name":"TangeloApplicationErrorRate","severity":"ticket","path":"",)"
                      R"("slo":"","application":"gateway","value":0.5)"),
            std::string::npos);
  EXPECT_EQ(json.find("TangeloErrorBudgetBurnSlow"), std::string::npos);
}

TEST(StatusJsonTest, EmptyInputIsValidJson) {
  EXPECT_EQ(BuildStatusJson(StatusInput{}), R"({"time_ms":0,"window_ms":0,"paths":[],"alerts":[]})");
}

TEST(StatusJsonTest, EscapesDescriptions) {
  const telemetry::CriticalPathConfig config = TestConfig();
  StatusInput input = OnePath();
  input.paths[0].spec = &config.paths[0];
  const std::string json = BuildStatusJson(input);
  EXPECT_NE(json.find(R"("description":"Card \"auth\" flow")"), std::string::npos) << json;
}

// End to end from the SloEngine: requests recorded through the metrics
// convention show up as the path's and the application's throughput.
TEST(StatusJsonTest, FromSloEngineShowsMeasuredTraffic) {
  telemetry::Registry registry;
  io::ManualClock clock;
  telemetry::SloEngine engine(TestConfig(), registry, {.sample_interval_ms = 1000});
  telemetry::ApplicationStats api(registry, Application::kApi, CriticalPath::kAuthorization);
  ASSERT_TRUE(engine.Sample(registry, &clock).ok());
  for (int second = 0; second < 10; ++second) {
    for (int i = 0; i < 50; ++i) api.RecordRequest(/*ok=*/i != 0, 3 * kMsNs);
    clock.Advance(1000 * kMsNs);
    ASSERT_TRUE(engine.Sample(registry, &clock).ok());
  }
  ASSERT_TRUE(engine.RecordProbe(CriticalPath::kAuthorization, true, 2 * kMsNs));
  clock.Advance(1000 * kMsNs);
  ASSERT_TRUE(engine.Sample(registry, &clock).ok());
  const std::string json = BuildStatusJson(engine, 42, 10'000);
  EXPECT_NE(json.find(R"("name":"authorization","description":"Card \"auth\" flow")"),
            std::string::npos)
      << json;
  // 10 s window: the newest sample has no requests, 9 s of 50 before it.
  EXPECT_NE(json.find(R"("probe_success_ratio":1)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"({"name":"api","traffic":{"requests":450,"errors":9,)"
                      R"("throughput_per_second":45,)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"({"name":"authorizer","traffic":{"requests":0,)"), std::string::npos);
}

}  // namespace
}  // namespace tangelo::console
