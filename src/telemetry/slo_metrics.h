// The metrics convention every application follows, declared once, so every
// application gets the same SLIs, dashboards and alerts for free:
//
//   tangelo_requests_total{application,path,outcome="ok"|"error"}   counter
//   tangelo_request_duration_seconds{application,path}              histogram
//   tangelo_queue_depth{application,queue}, tangelo_queue_capacity  gauges
//   tangelo_connections_open{application}, tangelo_connections_max  gauges
//   tangelo_journal_fsync_duration_seconds{application}             histogram
//   tangelo_restarts_total{application}                             counter
//   tangelo_probe_total{application,path,outcome}, tangelo_probe_duration_seconds
//
// outcome="error" means a system error (the request was not answered
// properly); a business decline is "ok". The request histogram has bounds
// at every SLO threshold (kRequestDurationBoundsMs), so latency SLIs are
// exact. docs/telemetry/slo.md is the prose version of this file; the rule
// generator (telemetry/rules.h) and the SLO engine read these names.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "telemetry/registry.h"

namespace tangelo::telemetry {

inline constexpr std::string_view kRequestsTotalMetric = "tangelo_requests_total";
inline constexpr std::string_view kRequestDurationMetric = "tangelo_request_duration_seconds";
inline constexpr std::string_view kQueueDepthMetric = "tangelo_queue_depth";
inline constexpr std::string_view kQueueCapacityMetric = "tangelo_queue_capacity";
inline constexpr std::string_view kConnectionsOpenMetric = "tangelo_connections_open";
inline constexpr std::string_view kConnectionsMaxMetric = "tangelo_connections_max";
inline constexpr std::string_view kJournalFsyncMetric = "tangelo_journal_fsync_duration_seconds";
inline constexpr std::string_view kRestartsMetric = "tangelo_restarts_total";
inline constexpr std::string_view kProbeTotalMetric = "tangelo_probe_total";
inline constexpr std::string_view kProbeDurationMetric = "tangelo_probe_duration_seconds";
inline constexpr std::string_view kOutcomeLabel = "outcome";
inline constexpr std::string_view kOutcomeOk = "ok";
inline constexpr std::string_view kOutcomeError = "error";

// `le` bounds of the request and probe histograms, in ms. Every SLO
// threshold in config/critical-paths.json must be one of them (the rule
// generator checks), so "within 50 ms" is counted exactly.
inline constexpr std::array<uint64_t, 16> kRequestDurationBoundsMs = {
    1, 2, 5, 10, 20, 25, 50, 100, 250, 500, 1000, 2000, 2500, 5000, 10000, 30000};

// One application's share of the convention on one critical path. Owns
// nothing: the metrics live in the Registry, which must outlive this.
// Recording is thread safe and lock-free (Counter/HistogramMetric).
class ApplicationStats {
 public:
  // Registers (or finds) the application's series. `path` may be kNone for
  // requests that belong to no critical path.
  ApplicationStats(Registry& registry, Application application, CriticalPath path);

  // One request answered: `ok` is false only for a system error.
  void RecordRequest(bool ok, uint64_t duration_ns) {
    (ok ? requests_ok_ : requests_error_).Increment();
    request_duration_.Record(duration_ns);
  }
  // The application (or one of its components) restarted.
  void RecordRestart() { restarts_.Increment(); }
  // Journal fsync latency (the ledger's journal writer).
  void RecordJournalFsync(uint64_t duration_ns) { journal_fsync_.Record(duration_ns); }

  // A bounded queue: its capacity is a plain gauge, its depth a callback
  // read at scrape time (costs the hot path nothing). `depth` must be thread
  // safe. The returned handle unregisters the depth gauge.
  CallbackGaugeHandle AddQueue(std::string_view queue, uint64_t capacity,
                               std::function<double()> depth);
  // Open connections against the allowed maximum, as AddQueue.
  CallbackGaugeHandle AddConnections(uint64_t connections_max, std::function<double()> open);

  Application application() const { return application_; }

 private:
  Registry& registry_;
  Application application_;
  Counter& requests_ok_;
  Counter& requests_error_;
  HistogramMetric& request_duration_;
  Counter& restarts_;
  HistogramMetric& journal_fsync_;
};

// The request histogram's bounds in ns (kRequestDurationBoundsMs scaled).
std::vector<uint64_t> RequestDurationBoundsNs();

}  // namespace tangelo::telemetry
