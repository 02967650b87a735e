#include "telemetry/rules.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

#include "io/env.h"

namespace tangelo::telemetry {
namespace {

CriticalPathConfig Shipped() {
  auto config = LoadCriticalPaths(&io::Env::Posix(), "config/critical-paths.json");
  EXPECT_TRUE(config.ok()) << config.status().message();
  return std::move(*config);
}

std::string ReadFile(std::string_view file) {
  std::vector<std::byte> contents;
  const base::Status status = io::Env::Posix().ReadFile(std::string(file), &contents);
  EXPECT_TRUE(status.ok()) << file << ": " << status.message();
  return std::string(reinterpret_cast<const char*>(contents.data()), contents.size());
}

size_t Count(const std::string& text, std::string_view needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(RulesTest, CommittedFilesAreUpToDate) {
  const CriticalPathConfig config = Shipped();
  ASSERT_TRUE(CheckConfigForRules(config).ok());
  EXPECT_EQ(ReadFile(kPrometheusRulesFile), GeneratePrometheusRules(config))
      << "deploy/prometheus/tangelo-rules.yml is stale: run tangelo_rules --write";
  EXPECT_EQ(ReadFile(kGrafanaDashboardFile), GenerateGrafanaDashboard(config))
      << "deploy/grafana/critical-paths.json is stale: run tangelo_rules --write";
}

TEST(RulesTest, EveryAlertHasARunbook) {
  const CriticalPathConfig config = Shipped();
  const std::string rules = GeneratePrometheusRules(config);
  const std::vector<std::string> names = AlertNames(config);
  ASSERT_GE(names.size(), 11u);
  for (const std::string& name : names) {
    const std::string runbook = std::string(kRunbookDirectory) + "/" + name + ".md";
    EXPECT_TRUE(io::Env::Posix().FileExists(runbook)) << runbook;
    EXPECT_NE(rules.find("- alert: " + name + "\n"), std::string::npos) << name;
    EXPECT_NE(rules.find("runbook_url: '" + RunbookUrl(config, name) + "'"), std::string::npos);
  }
  // Every alert rule carries a runbook annotation.
  EXPECT_EQ(Count(rules, "- alert: "), Count(rules, "runbook_url: "));
}

// deploy/prometheus/tests/*.yml (run by promtool in prometheus_rules_test)
// must show every alert both firing and not firing.
TEST(RulesTest, PromtoolTestsCoverEveryAlertFiringAndNot) {
  std::string tests;
  auto files = io::Env::Posix().ListDir("deploy/prometheus/tests");
  ASSERT_TRUE(files.ok());
  for (const std::string& file : *files) {
    if (file.ends_with(".yml")) tests += ReadFile("deploy/prometheus/tests/" + file);
  }
  for (const std::string& name : AlertNames(Shipped())) {
    EXPECT_NE(tests.find("alertname: " + name + "\n    exp_alerts: []\n"), std::string::npos)
        << name << " is never tested not firing";
    EXPECT_NE(tests.find("alertname: " + name + "\n    exp_alerts:\n"), std::string::npos)
        << name << " is never tested firing";
  }
}

TEST(RulesTest, BurnRateAlertsFollowTheTable) {
  const std::string rules = GeneratePrometheusRules(Shipped());
  EXPECT_NE(rules.find("expr: 'tangelo:slo_error_ratio:rate1h{path=\"authorization\","
                       "slo=\"availability\"} > (14.4 * 0.0001) and "
                       "tangelo:slo_error_ratio:rate5m{path=\"authorization\","
                       "slo=\"availability\"} > (14.4 * 0.0001)'"),
            std::string::npos);
  EXPECT_NE(rules.find("tangelo:slo_error_ratio:rate6h{path=\"transaction\",slo=\"latency\"} > "
                       "(6 * 0.01) and tangelo:slo_error_ratio:rate30m"),
            std::string::npos);
  EXPECT_NE(rules.find("tangelo:slo_error_ratio:rate3d{path=\"authorization\","
                       "slo=\"latency\"} > (1 * 0.01)"),
            std::string::npos);
  // The latency SLI selects the exported bound of 50 ms exactly.
  EXPECT_NE(rules.find("le=\"0.05\""), std::string::npos);
  // 2 paths x 2 SLOs x 3 rows.
  EXPECT_EQ(Count(rules, "- alert: TangeloErrorBudget"), 12u);
  // Common alerts for each of the 8 applications.
  EXPECT_EQ(Count(rules, "- alert: TangeloHighErrorRate\n"), 8u);
  EXPECT_EQ(Count(rules, "- alert: TangeloRestarting\n"), 8u);
  EXPECT_NE(rules.find("application: 'chaos'"), std::string::npos);
}

TEST(RulesTest, DashboardIsValidJsonWithFourDashboardsPerPath) {
  const std::string dashboard = GenerateGrafanaDashboard(Shipped());
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(dashboard).get(root), simdjson::SUCCESS);
  simdjson::dom::array panels;
  ASSERT_EQ(root["panels"].get(panels), simdjson::SUCCESS);
  std::vector<std::string> titles;
  for (simdjson::dom::element panel : panels) {
    std::string_view title;
    ASSERT_EQ(panel["title"].get(title), simdjson::SUCCESS);
    titles.emplace_back(title);
  }
  for (std::string_view path : {"authorization", "transaction"}) {
    for (std::string_view kind : {"uptime", "throughput", "error rate", "latency"}) {
      const std::string title = std::string(path) + ": " + std::string(kind);
      EXPECT_NE(std::find(titles.begin(), titles.end(), title), titles.end()) << title;
    }
    EXPECT_NE(std::find(titles.begin(), titles.end(),
                        std::string(path) + " by application: latency p99"),
              titles.end());
  }
  std::string_view variable;
  ASSERT_EQ(root["templating"]["list"].at(1)["name"].get(variable), simdjson::SUCCESS);
  EXPECT_EQ(variable, "application");
  EXPECT_NE(dashboard.find("application=~\\\"$application\\\""), std::string::npos);
}

TEST(RulesTest, OutputIsDeterministic) {
  const CriticalPathConfig config = Shipped();
  EXPECT_EQ(GeneratePrometheusRules(config), GeneratePrometheusRules(config));
  EXPECT_EQ(GenerateGrafanaDashboard(config), GenerateGrafanaDashboard(config));
}

TEST(RulesTest, RejectsAThresholdThatIsNotAHistogramBound) {
  CriticalPathConfig config = Shipped();
  config.paths[0].slos[1].threshold_ms = 42;
  const base::Status status = CheckConfigForRules(config);
  EXPECT_EQ(status.code(), base::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("authorization.latency"), std::string::npos);
}

TEST(RulesTest, Durations) {
  EXPECT_EQ(PrometheusDuration(5), "5m");
  EXPECT_EQ(PrometheusDuration(30), "30m");
  EXPECT_EQ(PrometheusDuration(60), "1h");
  EXPECT_EQ(PrometheusDuration(360), "6h");
  EXPECT_EQ(PrometheusDuration(4320), "3d");
  EXPECT_EQ(PrometheusDuration(90), "90m");
}

}  // namespace
}  // namespace tangelo::telemetry
