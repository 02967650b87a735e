// The console's status document: what /console/api/status answers and the
// page renders. Built from the SloEngine's reports (telemetry/slo_engine.h)
// so the console shows exactly the numbers the alerts are computed from,
// and nothing that is not measured: an application without requests in the
// window has "requests": 0 and null latencies, which the page shows as "no
// data" rather than as a healthy zero.
//
// Shape (all ratios in [0, 1], latencies in ms, times in Unix ms):
//   {"time_ms":..., "window_ms":...,
//    "paths":[{"name","description","uptime_ratio","probe_success_ratio"|null,
//              "event_availability_ratio","traffic":{TRAFFIC},
//              "slos":[{"name","kind","objective_ratio","good_ratio",
//                       "error_budget_remaining_ratio","valid_events","bad_events"}],
//              "applications":[{"name","traffic":{TRAFFIC}}],
//              "firing_alerts":N}],
//    "alerts":[{"name","severity","path","slo","application","value",
//               "firing_since_ms"}]}                    (firing alerts only)
//   TRAFFIC = {"requests","errors","throughput_per_second","error_ratio",
//              "latency_p50_ms"|null,"latency_p99_ms"|null}
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "telemetry/critical_path.h"
#include "telemetry/slo_engine.h"

namespace tangelo::console {

struct StatusInput {
  uint64_t time_ms = 0;    // Realtime, Unix ms.
  uint64_t window_ms = 0;  // The window the reports cover.
  // One report per path, with the path's spec (for its description); the
  // spec may be null (no description).
  struct Path {
    telemetry::PathReport report;
    const telemetry::CriticalPathSpec* spec = nullptr;
  };
  std::vector<Path> paths;
  std::vector<telemetry::AlertState> firing_alerts;  // Non-firing ones are skipped.
};

// The JSON document above. Non-finite numbers become null.
std::string BuildStatusJson(const StatusInput& input);

// Gathers the input from `engine` (every path the config declares, over
// `window_ms`, and its firing alerts) and builds the document.
std::string BuildStatusJson(const telemetry::SloEngine& engine, uint64_t time_ms,
                            uint64_t window_ms);

}  // namespace tangelo::console
