// SloEngine: the critical-path SLOs evaluated inside Tangelo, so the console
// shows uptime, throughput, error rate, latency, error budget and firing
// burn-rate alerts with no other server running. The Prometheus rules
// (telemetry/rules.h) compute the same numbers from the same metrics.
//
// Input: periodic MetricsSnapshots (Registry::Collect with a clock), one
// every sample interval (10 s by default). The engine keeps, per critical
// path, the cumulative counts it needs (requests, errors, and valid/bad
// events of each SLO, for the path and for each application on it, plus the
// probe's runs) in two preallocated rings:
//   - fine: every sample, covering kFineHistoryMs (6 h) -> 5 min, 30 min,
//     1 h and 6 h windows at sample resolution;
//   - coarse: one sample per kCoarseIntervalMs (5 min), covering the longest
//     SLO window (30 d) -> 3 d and 30 d windows at 5 min resolution.
// With the shipped file that is 58 counts x (2161 + 8641) slots = ~5 MB,
// fixed at construction, plus 31 samples of latency buckets for the
// percentiles (~75 KB) and a 15 min ring of per-application counts for the
// common alerts (~220 KB). A window longer than the history held is measured
// over the history there is (a fresh process judges its first hour by that
// hour).
//
// Burn rate = (bad / valid over the window) / (1 - objective). A burn-rate
// alert row fires when both its long and short windows burn strictly faster
// than its rate; the comparison is exact integer arithmetic (objectives in
// ppm, rates in thousandths), so tests can cross a threshold by one event.
//
// Uptime of a path = the lower of the probe's success ratio and the event
// availability over the window: the probe notices a dead path that has no
// traffic, the events notice failures the probe card does not hit. Without
// probe runs in the window it is the event availability alone.
//
// Thread safety: every method takes one internal mutex (a sampler thread
// adds, the console reads); RecordProbe only touches metrics (lock-free).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "telemetry/critical_path.h"
#include "telemetry/registry.h"

namespace tangelo::telemetry {

inline constexpr uint64_t kSloSampleIntervalMsDefault = 10'000;
inline constexpr uint64_t kFineHistoryMs = 6ull * 3600 * 1000;
inline constexpr uint64_t kCoarseIntervalMs = 5ull * 60 * 1000;
// Samples of request-latency buckets kept for percentiles (5 min at 10 s).
inline constexpr uint32_t kLatencyHistorySlots = 31;

struct SloEngineOptions {
  // How often AddSnapshot is called; sizes the fine ring. In [1 s, 5 min].
  uint64_t sample_interval_ms = kSloSampleIntervalMsDefault;
};

struct LatencyPercentiles {
  // Seconds, interpolated inside the histogram bucket like Prometheus'
  // histogram_quantile; nullopt without requests in the window.
  std::optional<double> p50_seconds;
  std::optional<double> p99_seconds;
  std::optional<double> p999_seconds;
};

struct TrafficStats {
  uint64_t requests = 0;  // In the window.
  uint64_t errors = 0;
  double throughput_per_second = 0;
  double error_ratio = 0;  // 0 without requests.
  LatencyPercentiles latency;  // Over the latency window (at most 5 min).
};

struct ApplicationReport {
  Application application{};
  TrafficStats traffic;
};

struct SloReport {
  std::string name;
  SloKind kind = SloKind::kAvailability;
  double objective_ratio = 0;
  uint64_t valid_events = 0;  // Over the SLO window (window_days, or the history held).
  uint64_t bad_events = 0;
  double good_ratio = 1;  // 1 without events.
  // 1 - bad / (valid * (1 - objective)); negative once overspent.
  double error_budget_remaining_ratio = 1;
};

struct PathReport {
  CriticalPath path = CriticalPath::kNone;
  uint64_t window_ms = 0;
  TrafficStats traffic;  // The path's SLI applications together.
  std::optional<double> probe_success_ratio;  // nullopt: no probe ran in the window.
  double event_availability_ratio = 1;
  double uptime_ratio = 1;
  std::vector<SloReport> slos;
  std::vector<ApplicationReport> applications;  // Flow order, drill-down.
};

// One alert of the Prometheus rules, evaluated here. Burn-rate alerts name
// a path and an SLO; the common alerts name an application.
struct AlertState {
  std::string alert_name;  // As in the Prometheus rules.
  std::string severity;
  CriticalPath path = CriticalPath::kNone;
  std::string slo;
  Application application{};  // Common alerts only.
  // Common alerts: the measured value compared with the threshold (error
  // ratio, p99 seconds, saturation ratio, restarts in the window).
  double value = 0;
  double long_window_burn_rate = 0;
  double short_window_burn_rate = 0;
  bool firing = false;
  uint64_t firing_since_realtime_ns = 0;  // When it started firing; 0 when not.
};

class SloEngine {
 public:
  // Registers the probe metrics of every path in `config` (see
  // slo_metrics.h) in `registry`, which must outlive the engine.
  // Preconditions: options in range (asserts).
  SloEngine(CriticalPathConfig config, Registry& registry, SloEngineOptions options = {});
  ~SloEngine();
  SloEngine(const SloEngine&) = delete;
  SloEngine& operator=(const SloEngine&) = delete;

  // The synthetic probe's hook: one end-to-end run of `path`. Lock-free.
  // A path the config does not declare is ignored (returns false).
  bool RecordProbe(CriticalPath path, bool ok, uint64_t latency_ns);

  // Adds one sample and re-evaluates the alerts. Errors: InvalidArgument
  // for a snapshot without a clock stamp or older than the last one.
  base::Status AddSnapshot(const MetricsSnapshot& snapshot);
  // Collects `registry` with `clock` and adds the result.
  base::Status Sample(const Registry& registry, io::Clock* clock);

  // Numbers over the last `window_ms` (latency: the last min(window, 5 min)).
  // nullopt for a path the config does not declare.
  std::optional<PathReport> Report(CriticalPath path, uint64_t window_ms = 300'000) const;
  // Every alert, firing or not: the burn-rate alerts (path x SLO x row),
  // then the common alerts of each application (error rate, latency p99,
  // queue saturation, journal fsync p99, connection saturation, restarts;
  // see telemetry/rules.h), which fire once their condition held for
  // common.for_minutes, like a Prometheus `for:`.
  std::vector<AlertState> Alerts() const;
  std::vector<AlertState> FiringAlerts() const;

  const CriticalPathConfig& config() const { return config_; }

 private:
  struct PathLayout;
  class Ring;

  // Reads the cumulative counts of every path from `snapshot` into `out`.
  void Extract(const MetricsSnapshot& snapshot, std::vector<uint64_t>* out) const;
  // Cumulative counts at the newest sample and `window_ms` before it.
  // False when there is no sample yet.
  bool Window(uint64_t window_ms, const uint64_t** newest, const uint64_t** oldest,
              uint64_t* span_ms) const;
  TrafficStats Traffic(const uint64_t* newest, const uint64_t* oldest, uint64_t span_ms,
                       size_t entity_offset, size_t latency_entity, uint64_t window_ms) const;
  LatencyPercentiles Percentiles(size_t latency_entity, uint64_t window_ms) const;
  void EvaluateAlerts(uint64_t realtime_ns);
  void ExtractApplications(const MetricsSnapshot& snapshot);
  void EvaluateApplicationAlerts(uint64_t now_ms, uint64_t realtime_ns);

  CriticalPathConfig config_;
  SloEngineOptions options_;
  std::vector<PathLayout> layouts_;
  size_t width_ = 0;  // Counts per sample.
  size_t latency_entities_ = 0;
  size_t latency_bounds_ = 0;  // Request-duration bounds + the count.
  std::vector<uint64_t> latency_bounds_ns_;

  mutable std::mutex mutex_;
  std::vector<Ring> rings_;  // [0] fine, [1] coarse.
  // Latency buckets: kLatencyHistorySlots x latency_entities_ x latency_bounds_.
  std::vector<uint64_t> latency_history_;
  std::vector<uint64_t> latency_times_ms_;
  uint32_t latency_next_ = 0;
  uint32_t latency_count_ = 0;
  std::vector<uint64_t> scratch_;
  std::vector<AlertState> alerts_;
  uint64_t last_monotonic_ns_ = 0;

  // Per application (config.applications order): requests, errors,
  // restarts, request latency buckets + count, fsync buckets + count.
  size_t application_stride_ = 0;
  std::vector<Ring> application_ring_;  // One ring; a vector for the incomplete type.
  std::vector<uint64_t> application_scratch_;
  // Per application, from the newest snapshot: the fullest queue's
  // depth / capacity and open / allowed connections.
  std::vector<double> queue_saturation_;
  std::vector<double> connection_saturation_;
  size_t application_alerts_first_ = 0;  // Index of the first common alert in alerts_.
  std::vector<uint64_t> condition_since_ms_;  // Per common alert; 0: condition false.

  struct ProbeMetrics {
    CriticalPath path;
    Counter* ok;
    Counter* error;
    HistogramMetric* duration;
  };
  std::vector<ProbeMetrics> probes_;
};

}  // namespace tangelo::telemetry
