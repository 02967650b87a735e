#include "telemetry/critical_path.h"

#include <gtest/gtest.h>

#include <string>

#include "io/env.h"

namespace tangelo::telemetry {
namespace {

// A minimal valid file; tests break one field at a time.
std::string ValidFile(std::string path_extra = "", std::string slo_override = "") {
  const std::string slo =
      slo_override.empty()
          ? R"({"name": "availability", "kind": "availability", "description": "d",
               "objective_percent": 99.99, "window_days": 30,
               "requests_metric": "tangelo_requests_total", "error_outcome": "error"})"
          : slo_override;
  return R"({"version": 1, "applications": ["gateway", "api", "authorizer", "ledger"],
    "runbook_url_base": "https://x.example/runbooks/",
    "paths": [{"name": "authorization", "description": "d",
               "applications": ["gateway", "authorizer", "ledger"],
               "sli_applications": ["gateway"], "probe_interval_ms": 5000)" +
         path_extra + R"(, "slos": [)" + slo + R"(]}],
    "burn_rate_alerts": [{"name": "Fast", "severity": "page", "long_window_minutes": 60,
                          "short_window_minutes": 5, "burn_rate": 14.4}],
    "common_alerts": {"for_minutes": 5, "error_ratio_max": 0.01, "latency_p99_ms_max": 250,
      "queue_saturation_ratio_max": 0.8, "journal_fsync_p99_ms_max": 50,
      "connections_saturation_ratio_max": 0.9, "restarts_window_minutes": 15}})";
}

void ExpectError(const std::string& json, const std::string& fragment) {
  auto config = ParseCriticalPaths(json);
  ASSERT_FALSE(config.ok()) << json;
  EXPECT_EQ(config.status().code(), base::StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find(fragment), std::string::npos)
      << config.status().message();
}

TEST(CriticalPathTest, ParsesTheShippedFile) {
  auto config = LoadCriticalPaths(&io::Env::Posix(), "config/critical-paths.json");
  ASSERT_TRUE(config.ok()) << config.status().message();
  ASSERT_EQ(config->paths.size(), 2u);
  const CriticalPathSpec* authorization = config->Find(CriticalPath::kAuthorization);
  ASSERT_NE(authorization, nullptr);
  EXPECT_EQ(authorization->applications,
            (std::vector<Application>{Application::kGateway, Application::kApi,
                                      Application::kAuthorizer, Application::kLedger}));
  ASSERT_EQ(authorization->slos.size(), 2u);
  EXPECT_EQ(authorization->slos[0].objective_ppm, 999'900u);
  EXPECT_EQ(authorization->slos[0].kind, SloKind::kAvailability);
  EXPECT_EQ(authorization->slos[1].kind, SloKind::kLatency);
  EXPECT_EQ(authorization->slos[1].objective_ppm, 990'000u);
  EXPECT_EQ(authorization->slos[1].threshold_ms, 50u);
  const CriticalPathSpec* transaction = config->Find(CriticalPath::kTransaction);
  ASSERT_NE(transaction, nullptr);
  EXPECT_EQ(transaction->applications.size(), 3u);
  ASSERT_EQ(config->burn_rate_alerts.size(), 3u);
  EXPECT_EQ(config->burn_rate_alerts[0].long_window_minutes, 60u);
  EXPECT_EQ(config->burn_rate_alerts[0].short_window_minutes, 5u);
  EXPECT_DOUBLE_EQ(config->burn_rate_alerts[0].burn_rate, 14.4);
  EXPECT_EQ(config->burn_rate_alerts[2].long_window_minutes, 3u * 24 * 60);
  EXPECT_EQ(config->applications.size(), 8u);
  EXPECT_EQ(RunbookUrl(*config, "X"),
            "https://git.tangelo.example/tangelo/blob/main/docs/runbooks/X.md");
}

TEST(CriticalPathTest, ErrorBudgetIsExact) {
  auto config = ParseCriticalPaths(ValidFile());
  ASSERT_TRUE(config.ok()) << config.status().message();
  const SloSpec& slo = config->paths[0].slos[0];
  EXPECT_DOUBLE_EQ(slo.ErrorBudgetRatio(), 0.0001);
  EXPECT_DOUBLE_EQ(slo.ObjectiveRatio(), 0.9999);
}

TEST(CriticalPathTest, RejectsMalformedJson) {
  ExpectError("{", "not valid JSON");
  ExpectError("[]", "$: must be an object");
  ExpectError("", "not valid JSON");
}

TEST(CriticalPathTest, RejectsUnknownAndMissingKeys) {
  ExpectError(ValidFile(R"(, "colour": "red")"), "$.paths[0].colour: unknown key");
  std::string missing = ValidFile();
  missing.replace(missing.find("\"version\": 1,"), 13, "");
  ExpectError(missing, "$.version: missing");
}

TEST(CriticalPathTest, RejectsBadValues) {
  std::string file = ValidFile();
  ExpectError(std::string(file).replace(file.find("\"authorization\""), 15, "\"payments\""),
              "unknown critical path");
  ExpectError(std::string(file).replace(file.find("\"authorizer\", \"ledger\"],\n"), 12,
                                        "\"wizard\""),
              "unknown application");
  ExpectError(std::string(file).replace(file.find("99.99"), 5, "100.0"),
              "objective_percent: must be in (0, 100)");
  ExpectError(std::string(file).replace(file.find("99.99"), 5, "-1"),
              "objective_percent: must be in (0, 100)");
  ExpectError(std::string(file).replace(file.find("\"window_days\": 30"), 17,
                                        "\"window_days\": 31"),
              "window_days: must be in [1, 30]");
  ExpectError(std::string(file).replace(file.find("\"short_window_minutes\": 5"), 25,
                                        "\"short_window_minutes\": 60"),
              "must be below long_window_minutes");
  ExpectError(std::string(file).replace(file.find("\"burn_rate\": 14.4"), 17,
                                        "\"burn_rate\": 0"),
              "burn_rate: must be in (0, 1000]");
  ExpectError(std::string(file).replace(file.find("\"page\""), 6, "\"pager\""),
              "severity");
  ExpectError(std::string(file).replace(file.find("\"error_ratio_max\": 0.01"), 23,
                                        "\"error_ratio_max\": 2"),
              "error_ratio_max: must be in (0, 1]");
  ExpectError(std::string(file).replace(file.find("\"sli_applications\": [\"gateway\"]"), 31,
                                        "\"sli_applications\": [\"api\"]"),
              "api is not in applications");
  ExpectError(std::string(file).replace(file.find("\"gateway\", \"authorizer\""), 9,
                                        "\"ledger\""),
              "listed twice");
  ExpectError(std::string(file).replace(file.find("runbooks/\""), 10, "runbooks\""),
              "must end with '/'");
}

TEST(CriticalPathTest, RejectsInconsistentSlos) {
  ExpectError(ValidFile("", R"({"name": "lat", "kind": "latency", "description": "d",
      "objective_percent": 99, "window_days": 30,
      "duration_metric": "tangelo_request_duration_seconds"})"),
              "threshold_ms: missing");
  ExpectError(ValidFile("", R"({"name": "lat", "kind": "latency", "description": "d",
      "objective_percent": 99, "window_days": 30, "threshold_ms": 50,
      "duration_metric": "request_duration"})"),
              "tangelo_*_seconds histogram");
  ExpectError(ValidFile("", R"({"name": "lat", "kind": "latency", "description": "d",
      "objective_percent": 99, "window_days": 30, "threshold_ms": 50,
      "duration_metric": "tangelo_request_duration_seconds", "error_outcome": "error"})"),
              "belong to availability SLOs");
  ExpectError(ValidFile("", R"({"name": "x", "kind": "throughput", "description": "d",
      "objective_percent": 99, "window_days": 30})"),
              "kind: must be");
  ExpectError(ValidFile("", R"({"name": "Bad Name", "kind": "availability", "description": "d",
      "objective_percent": 99, "window_days": 30,
      "requests_metric": "tangelo_requests_total", "error_outcome": "error"})"),
              "name: must match");
}

TEST(CriticalPathTest, LoadReportsTheFileName) {
  auto missing = LoadCriticalPaths(&io::Env::Posix(), "/nonexistent/critical-paths.json");
  EXPECT_FALSE(missing.ok());
}

}  // namespace
}  // namespace tangelo::telemetry
