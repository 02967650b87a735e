// The operations console served on Tangelo's HTTP port (mounted through
// api::ApiOptions::extra_routes by `tangelo serve`):
//   GET /console              the page (one static HTML file with plain JS,
//                             embedded in the binary: no CDN, no framework)
//   GET /console/api/status   the status document (console/status_json.h)
// The page polls the status every second and keeps its own short history
// for the sparklines.
//
// Ownership: borrows the SloEngine and the clock, which must outlive it.
// Thread safety: Handle may run on any thread concurrently (the SloEngine
// takes its own lock; the rest is immutable).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "io/clock.h"
#include "net/http_server.h"
#include "telemetry/slo_engine.h"

namespace tangelo::console {

inline constexpr std::string_view kConsolePath = "/console";
inline constexpr std::string_view kStatusPath = "/console/api/status";
// The window the dashboards summarise (throughput, error rate, latency).
inline constexpr uint64_t kConsoleWindowMsDefault = 60'000;

// The embedded page (console_assets.cc, generated from assets/index.html).
std::string_view IndexHtml();

struct ConsoleOptions {
  const telemetry::SloEngine* slo_engine = nullptr;  // Required.
  io::Clock* clock = nullptr;                        // Null: io::SystemClock.
  uint64_t window_ms = kConsoleWindowMsDefault;
};

class Console {
 public:
  // Precondition: options.slo_engine set, window_ms > 0 (asserts).
  explicit Console(ConsoleOptions options);

  // Answers the console's paths and returns true; returns false (without
  // responding) for any other path, so the caller can answer it.
  bool Handle(const net::HttpRequest& request, net::HttpResponder& responder) const;

  // The current status document.
  std::string StatusJson() const;

 private:
  ConsoleOptions options_;
};

}  // namespace tangelo::console
