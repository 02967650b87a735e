// Generators of the deployable monitoring files, from the critical-path
// file (telemetry/critical_path.h) and the metrics convention
// (telemetry/slo_metrics.h), so the rules, the dashboards and the SLO engine
// inside Tangelo can never disagree:
//
//   - GeneratePrometheusRules -> deploy/prometheus/tangelo-rules.yml:
//     recording rules of each path's SLIs (error ratio per SLO and window,
//     availability, probe success, uptime, error budget left), the
//     multiwindow burn-rate alerts of every path and SLO, and the common
//     alerts of every application (error rate, latency p99, queue,
//     journal fsync and connection saturation, restarts), each with a
//     runbook_url annotation into docs/runbooks/.
//   - GenerateGrafanaDashboard -> deploy/grafana/critical-paths.json: per
//     critical path the four general dashboards (uptime, throughput, error
//     rate, latency) plus the error budget, with a per-application
//     drill-down through the `application` template variable.
//
// Both outputs are deterministic (same config, same bytes): a test
// regenerates them and fails when the committed files differ. The tool
// `tangelo_rules` (rules_main.cc) writes or checks them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "telemetry/critical_path.h"

namespace tangelo::telemetry {

// Where the generated files live, relative to the repository root.
inline constexpr std::string_view kPrometheusRulesFile = "deploy/prometheus/tangelo-rules.yml";
inline constexpr std::string_view kGrafanaDashboardFile = "deploy/grafana/critical-paths.json";
inline constexpr std::string_view kRunbookDirectory = "docs/runbooks";

// Alert names of the rules that are not per path (the burn-rate rows are
// named in the critical-path file). The SLO engine uses the same names.
inline constexpr std::string_view kTargetDownAlert = "TangeloTargetDown";
inline constexpr std::string_view kProbeFailingAlert = "TangeloSyntheticProbeFailing";
inline constexpr std::string_view kHighErrorRateAlert = "TangeloHighErrorRate";
inline constexpr std::string_view kHighLatencyAlert = "TangeloHighLatencyP99";
inline constexpr std::string_view kQueueSaturatedAlert = "TangeloQueueSaturated";
inline constexpr std::string_view kFsyncSlowAlert = "TangeloJournalFsyncSlow";
inline constexpr std::string_view kConnectionsSaturatedAlert = "TangeloConnectionsSaturated";
inline constexpr std::string_view kRestartingAlert = "TangeloRestarting";
// The window of the common alerts' rates and quantiles.
inline constexpr uint64_t kCommonAlertWindowMinutes = 5;

// Checks what the generators need beyond the file's own validation: every
// latency SLO's threshold is a bound of the convention's request histogram
// (kRequestDurationBoundsMs), so the `le` series the rules select exists.
// Errors: InvalidArgument naming the SLO.
base::Status CheckConfigForRules(const CriticalPathConfig& config);

// Precondition: CheckConfigForRules(config).ok() (asserts).
std::string GeneratePrometheusRules(const CriticalPathConfig& config);
std::string GenerateGrafanaDashboard(const CriticalPathConfig& config);

// Every alert name the rules define, sorted, without duplicates; each needs
// docs/runbooks/<name>.md.
std::vector<std::string> AlertNames(const CriticalPathConfig& config);

// A window in minutes as a Prometheus duration: 5 -> "5m", 60 -> "1h",
// 4320 -> "3d".
std::string PrometheusDuration(uint64_t minutes);

}  // namespace tangelo::telemetry
