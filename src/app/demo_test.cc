#include "app/demo.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "api/memory_core.h"
#include "api/security.h"
#include "telemetry/critical_path.h"
#include "telemetry/registry.h"
#include "telemetry/slo_engine.h"
#include "telemetry/slo_metrics.h"

namespace tangelo::app {
namespace {

std::string TempDir() {
  char pattern[] = "/tmp/tangelo-demo-test-XXXXXX";
  const char* made = ::mkdtemp(pattern);
  EXPECT_NE(made, nullptr);
  return made == nullptr ? "" : made;
}

telemetry::CriticalPathConfig Config() {
  auto config = telemetry::ParseCriticalPaths(R"({"version": 1,
    "applications": ["api"], "runbook_url_base": "x/",
    "paths": [{"name": "authorization", "description": "d", "applications": ["api"],
      "sli_applications": ["api"], "probe_interval_ms": 1000,
      "slos": [{"name": "availability", "kind": "availability", "description": "d",
         "objective_percent": 99.9, "window_days": 30,
         "requests_metric": "tangelo_requests_total", "error_outcome": "error"}]}],
    "burn_rate_alerts": [{"name": "Fast", "severity": "page", "long_window_minutes": 60,
       "short_window_minutes": 5, "burn_rate": 14.4}],
    "common_alerts": {"for_minutes": 5, "error_ratio_max": 0.01, "latency_p99_ms_max": 250,
      "queue_saturation_ratio_max": 0.8, "journal_fsync_p99_ms_max": 50,
      "connections_saturation_ratio_max": 0.9, "restarts_window_minutes": 15}})");
  EXPECT_TRUE(config.ok()) << config.status().message();
  return std::move(*config);
}

TEST(DemoTest, SetupIsIdempotentAndKeepsItsKey) {
  const std::string directory = TempDir();
  api::MemoryCore core;
  DemoTraffic first(&core, 100);
  ASSERT_TRUE(first.Setup(directory).ok());
  EXPECT_EQ(first.api_key().substr(0, 4), api::kApiKeyPrefix);
  EXPECT_EQ(first.api_key().size(), api::kApiKeyLength);
  struct stat info {};
  ASSERT_EQ(::stat((directory + "/demo-api-key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);  // A credential: owner only.
  // A restart over the same core and directory: same key, nothing refused.
  DemoTraffic second(&core, 100);
  ASSERT_TRUE(second.Setup(directory).ok());
  EXPECT_EQ(second.api_key(), first.api_key());
  EXPECT_EQ(std::system(("rm -rf " + directory).c_str()), 0);
}

TEST(DemoTest, CorruptKeyFileIsAnError) {
  const std::string directory = TempDir();
  const std::string path = directory + "/demo-api-key";
  FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fputs("short", file);
  std::fclose(file);
  api::MemoryCore core;
  DemoTraffic demo(&core, 100);
  EXPECT_EQ(demo.Setup(directory).code(), base::StatusCode::kDataLoss);
  EXPECT_EQ(std::system(("rm -rf " + directory).c_str()), 0);
}

TEST(DemoTest, TrafficFlowsAtTheRate) {
  const std::string directory = TempDir();
  api::MemoryCore core;
  DemoTraffic demo(&core, 1000);
  ASSERT_TRUE(demo.Setup(directory).ok());
  demo.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  demo.Stop();
  // 1000/s for 0.5 s in 50 ms ticks: about 500, with scheduling slack.
  EXPECT_GT(demo.authorizations_sent(), 200u);
  EXPECT_LT(demo.authorizations_sent(), 700u);
  EXPECT_EQ(std::system(("rm -rf " + directory).c_str()), 0);
}

TEST(ProbeTest, RecordsASuccessfulRunAndAFailure) {
  api::MemoryCore core;
  telemetry::Registry registry;
  telemetry::SloEngine engine(Config(), registry, {.sample_interval_ms = 1000});
  Probe probe(&core, &engine, 1000);
  // Before setup there is no probe card: the run fails and is recorded.
  EXPECT_FALSE(probe.RunOnce());
  ASSERT_TRUE(probe.Setup().ok());
  ASSERT_TRUE(probe.Setup().ok());  // Idempotent.
  EXPECT_TRUE(probe.RunOnce());
  EXPECT_TRUE(probe.RunOnce());  // Reversed each time: the account never runs dry.
  const telemetry::MetricsSnapshot snapshot = registry.Collect();
  uint64_t ok = 0, error = 0;
  for (const telemetry::MetricSample* sample : snapshot.FindAll(telemetry::kProbeTotalMetric)) {
    for (const telemetry::Label& label : sample->descriptor->labels) {
      if (label.name != "outcome") continue;
      (label.value == "ok" ? ok : error) += sample->counter_value;
    }
  }
  EXPECT_EQ(ok, 2u);
  EXPECT_EQ(error, 1u);
}

TEST(ProbeDeathTest, ZeroIntervalIsAProgrammerError) {
  api::MemoryCore core;
  telemetry::Registry registry;
  telemetry::SloEngine engine(Config(), registry);
  EXPECT_DEATH(Probe(&core, &engine, 0), "");
}

}  // namespace
}  // namespace tangelo::app
