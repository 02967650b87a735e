// Critical paths as data: which business flows Tangelo promises, which
// applications each flow crosses, the SLOs of each flow with the metric
// names their SLIs are computed from, the multiwindow burn-rate alert
// table, and the thresholds of the alerts every application gets.
//
// The file (config/critical-paths.json, format in docs/telemetry/slo.md) is
// read once at start-up. Parsing is strict: an unknown key, a missing key, an
// unknown application or path, an objective outside (0, 100) or windows in
// the wrong order is an InvalidArgument naming the offending field, so a typo
// never silently turns an alert off.
//
// Everything downstream is generated from the parsed CriticalPathConfig:
// the SLO engine evaluated inside Tangelo (telemetry/slo_engine.h), the
// Prometheus rule file and the Grafana dashboard (telemetry/rules.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "telemetry/application.h"

namespace tangelo::io {
class Env;
}  // namespace tangelo::io

namespace tangelo::telemetry {

// Bytes of a critical-path file; it is a page of configuration, not data.
inline constexpr size_t kCriticalPathFileBytesMax = 256 * 1024;
// Entries per list in the file (paths, SLOs per path, alert rows).
inline constexpr size_t kCriticalPathListEntriesMax = 16;
// The longest window any alert or SLO may use: the SLO engine keeps this
// much history (telemetry/slo_engine.h).
inline constexpr uint32_t kSloWindowDaysMax = 30;
inline constexpr uint32_t kAlertWindowMinutesMax = 3 * 24 * 60;
// Objectives are stored in parts per million so equality and the error
// budget are exact: 99.99% is 999'900.
inline constexpr uint32_t kPartsPerMillion = 1'000'000;

// What an SLO measures. Stable numbers (they appear in exported data).
enum class SloKind : uint8_t {
  // Good events: requests answered without a system error. A business
  // decline is a good event; an internal failure or timeout is not.
  kAvailability = 1,
  // Good events: requests answered within threshold_ms.
  kLatency = 2,
};
std::string_view SloKindName(SloKind kind);

struct SloSpec {
  std::string name;  // [a-z0-9_]+, unique within its path ("availability").
  SloKind kind = SloKind::kAvailability;
  std::string description;
  uint32_t objective_ppm = 0;  // In (0, kPartsPerMillion).
  uint32_t window_days = 30;   // The error budget's rolling window.
  // kAvailability: the counter family with an `outcome` label; events with
  // outcome == error_outcome are bad.
  std::string requests_metric;
  std::string error_outcome;
  // kLatency: the histogram family (seconds); events above threshold_ms are
  // bad. The histogram should have a bucket bound at exactly threshold_ms.
  std::string duration_metric;
  uint64_t threshold_ms = 0;

  // 1 - objective, the fraction of events allowed to be bad.
  double ErrorBudgetRatio() const {
    return static_cast<double>(kPartsPerMillion - objective_ppm) / kPartsPerMillion;
  }
  double ObjectiveRatio() const { return static_cast<double>(objective_ppm) / kPartsPerMillion; }
};

// One row of the multiwindow, multi-burn-rate table (SRE workbook 5-8):
// fires when the burn rate over both windows exceeds burn_rate.
struct BurnRateAlertSpec {
  std::string name;      // Prometheus alert name (TangeloErrorBudgetBurnFast).
  std::string severity;  // "page" or "ticket".
  uint32_t long_window_minutes = 0;
  uint32_t short_window_minutes = 0;  // < long_window_minutes.
  double burn_rate = 0;               // > 0.
};

struct CriticalPathSpec {
  CriticalPath path = CriticalPath::kNone;
  std::string description;
  // Every application the flow crosses, in flow order; drill-down targets.
  std::vector<Application> applications;
  // The applications whose request metrics (with path=<this path>) are the
  // path's SLI: where the flow is answered, so each event counts once. A
  // subset of `applications`.
  std::vector<Application> sli_applications;
  // How often the synthetic probe runs the flow end to end.
  uint64_t probe_interval_ms = 5000;
  std::vector<SloSpec> slos;

  std::string_view name() const { return CriticalPathName(path); }
};

// Thresholds of the alerts generated for every application.
struct CommonAlertThresholds {
  uint32_t for_minutes = 5;                    // How long a condition must hold.
  double error_ratio_max = 0.01;               // Errors / requests over 5 min.
  uint64_t latency_p99_ms_max = 250;           // Request latency p99 over 5 min.
  double queue_saturation_ratio_max = 0.8;     // Queue depth / capacity.
  uint64_t journal_fsync_p99_ms_max = 50;      // Journal fsync p99 over 5 min.
  double connections_saturation_ratio_max = 0.9;  // Open / allowed connections.
  uint32_t restarts_window_minutes = 15;       // Any restart in this window fires.
};

struct CriticalPathConfig {
  // Every application that gets the common alerts.
  std::vector<Application> applications;
  // Prefix of each alert's runbook_url annotation; the alert's runbook is
  // runbook_url_base + <AlertName> + ".md" (files under docs/runbooks/).
  std::string runbook_url_base;
  std::vector<CriticalPathSpec> paths;
  std::vector<BurnRateAlertSpec> burn_rate_alerts;
  CommonAlertThresholds common;

  // The path's spec, or nullptr when the file does not declare it.
  const CriticalPathSpec* Find(CriticalPath path) const;
};

// Parses and validates a critical-path file's text. Errors: InvalidArgument
// with the JSON error or the offending field ("paths[0].slos[1].objective_percent:
// must be in (0, 100)").
base::Result<CriticalPathConfig> ParseCriticalPaths(std::string_view json);

// Reads `file` through `env` and parses it. Errors: the Env's read error,
// InvalidArgument for a file over kCriticalPathFileBytesMax, or as
// ParseCriticalPaths (the message starts with the file name).
base::Result<CriticalPathConfig> LoadCriticalPaths(io::Env* env, const std::string& file);

// The runbook URL of `alert_name` under `config`.
std::string RunbookUrl(const CriticalPathConfig& config, std::string_view alert_name);

}  // namespace tangelo::telemetry
