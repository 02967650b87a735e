// OtlpExporter: pushes metrics, kept spans and log lines to an OpenTelemetry
// collector (or an APM that accepts OTLP, such as New Relic) over HTTP with
// JSON bodies (telemetry/otlp_encoding.h). Configuration, retry policy and
// limits are described in docs/telemetry/otlp.md.
//
// One exporter thread does all the work, so nothing here touches a request
// path: every export_interval_ms it drains up to batch_size_max spans from
// the SpanBuffer and log lines from its own bounded queue, collects the
// registry, and POSTs one request per non-empty signal, each under
// request_deadline_ms. Producers only ever do a bounded push: the SpanBuffer
// drops and counts when full, and EnqueueLogLine drops and counts when
// queue_capacity_max lines are waiting (OtlpLogSink feeds it from a Logger).
//
// Retries (the OTLP/HTTP rules): only 429, 502, 503, 504 and connection
// failures or timeouts are retried, up to attempts_max attempts per request,
// waiting Retry-After seconds when the response carries it (capped at
// retry_after_max_ms), otherwise exponential backoff from backoff_initial_ms
// doubling up to backoff_max_ms with "equal jitter" (a uniform draw in
// [delay/2, delay], from a seeded base::Random). 400 is never retried and is
// counted as rejected; any other status is a failure, not retried. A batch
// that gives up is dropped and counted.
//
// Shutdown(deadline_ms) stops the periodic loop, makes a final flush with
// every request and backoff clipped to what remains of the deadline, and
// returns by the deadline whatever the receiver does: when time is up it
// shuts the HTTP client down, which fails the request in flight at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "base/random.h"
#include "base/status.h"
#include "telemetry/log.h"
#include "telemetry/otlp_encoding.h"

namespace tangelo::io {
class Clock;
}  // namespace tangelo::io

namespace tangelo::net {
class EventLoopThread;
class HttpClient;
struct HttpClientResponse;
}  // namespace tangelo::net

namespace tangelo::telemetry {

class Registry;
class SpanBuffer;

// Named limits.
inline constexpr uint32_t kOtlpBatchSizeMax = 8192;       // Items per request.
inline constexpr uint32_t kOtlpQueueCapacityMax = 1u << 20;  // Log lines waiting.
inline constexpr uint32_t kOtlpAttemptsMax = 16;          // Attempts per request.
inline constexpr uint64_t kOtlpRequestDeadlineMsMax = 60'000;
inline constexpr uint64_t kOtlpExportIntervalMsMax = 3'600'000;

// How a request (one signal's batch) ended. Stable numbers.
enum class OtlpExportResult : uint8_t {
  kExported = 0,  // 2xx.
  kRejected = 1,  // 400: the collector refused the data; never retried.
  kFailed = 2,    // Other status, or retries exhausted / out of time.
};

struct OtlpRetryPolicy {
  uint32_t attempts_max = 5;  // Including the first; in [1, kOtlpAttemptsMax].
  uint64_t backoff_initial_ms = 200;
  uint64_t backoff_max_ms = 5'000;
  uint64_t retry_after_max_ms = 30'000;  // Cap on a server's Retry-After.
  uint64_t jitter_seed = 1;              // base::Random seed; tests fix it.
};

struct OtlpExporterOptions {
  // Collector address. http only. A loopback literal or "localhost", or any
  // host listed in `hosts` (name -> numeric address; no DNS, see
  // net/http_client.h).
  std::string host = "127.0.0.1";
  uint16_t port = 4318;  // The OTLP/HTTP default.
  std::vector<std::pair<std::string, std::string>> hosts;
  std::string metrics_path = "/v1/metrics";
  std::string traces_path = "/v1/traces";
  std::string logs_path = "/v1/logs";
  // Extra request headers (for example {"api-key", "..."} for New Relic).
  std::vector<std::pair<std::string, std::string>> headers;
  OtlpResource resource;
  uint64_t export_interval_ms = 10'000;  // In [1, kOtlpExportIntervalMsMax].
  uint32_t batch_size_max = 512;         // Spans or log lines per request.
  uint32_t queue_capacity_max = 8192;    // Log lines waiting for export.
  uint64_t request_deadline_ms = 10'000;  // Per attempt.
  OtlpRetryPolicy retry;
  // Sources; any may be null (that signal is not exported). Must outlive
  // the exporter.
  const Registry* registry = nullptr;
  SpanBuffer* spans = nullptr;
  io::Clock* clock = nullptr;  // Timestamps; nullptr: the system clock.
};

// Counters since construction; a relaxed snapshot.
struct OtlpExporterStats {
  uint64_t log_lines_queued = 0;
  uint64_t log_lines_dropped_queue_full = 0;
  uint64_t log_lines_unparseable = 0;
  uint64_t requests_sent = 0;      // Attempts, including retries.
  uint64_t requests_retried = 0;   // Attempts after the first.
  uint64_t batches_exported = 0;
  uint64_t batches_rejected = 0;   // 400.
  uint64_t batches_failed = 0;     // Gave up (other status, attempts, deadline).
  uint64_t metric_points_exported = 0;
  uint64_t spans_exported = 0;
  uint64_t log_records_exported = 0;
  uint64_t items_dropped = 0;      // Spans and log records in rejected or failed batches.
};

// Thread safety: EnqueueLogLine, Stats and Flush from any thread; Start and
// Shutdown from the owner. The destructor shuts down with a 1 s deadline if
// Shutdown was not called.
class OtlpExporter {
 public:
  // Validates the options and starts the HTTP client's loop (not yet the
  // export thread). Errors: kInvalidArgument for options out of range; the
  // HTTP client's creation errors (a `hosts` entry that is not numeric). A
  // host the client does not allow fails every export (counted as failed).
  static base::Result<std::unique_ptr<OtlpExporter>> Create(OtlpExporterOptions options);
  ~OtlpExporter();
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  // Starts the export thread. Precondition: not started, not shut down.
  void Start();

  // Queues one Logger line (parsed on the export thread). False, and
  // counted, when queue_capacity_max lines are already waiting or the
  // exporter has shut down. Never blocks beyond a short lock.
  bool EnqueueLogLine(std::string_view line);

  // Asks the export thread to export now instead of at the next interval.
  void Flush();

  // Stops exporting: a final flush of what is queued, within `deadline_ms`
  // from now, then the thread is joined. Returns by the deadline (plus
  // scheduling noise) whatever the collector does. Idempotent.
  void Shutdown(uint64_t deadline_ms);

  OtlpExporterStats Stats() const;

 private:
  struct Attempt;
  explicit OtlpExporter(OtlpExporterOptions options);

  void Run();
  // Exports one batch of spans, one of log lines and, if `metrics`, the
  // registry. Returns true when spans or lines are still waiting.
  bool ExportRound(bool metrics);
  // Sends `body` to `path` with the retry policy; returns how it ended.
  OtlpExportResult Export(const std::string& path, std::string body);
  // Waits until `wake_ns` (monotonic) or shutdown's deadline; false when the
  // deadline would pass first.
  bool SleepUntilNs(uint64_t wake_ns);
  uint64_t NowMonotonicNs() const;
  uint64_t NowRealtimeNs() const;

  const OtlpExporterOptions options_;
  const std::string url_prefix_;
  const uint64_t start_unix_ns_;
  std::unique_ptr<net::EventLoopThread> loop_;
  std::unique_ptr<net::HttpClient> client_;
  std::thread thread_;

  mutable std::mutex mutex_;  // Guards the fields below.
  std::condition_variable wake_;
  std::deque<std::string> log_lines_;
  bool started_ = false;
  bool flush_requested_ = false;
  bool stopping_ = false;
  bool shut_down_ = false;
  uint64_t stop_deadline_monotonic_ns_ = 0;
  bool thread_done_ = false;
  // Export thread only.
  base::Random jitter_;

  struct AtomicStats;
  std::unique_ptr<AtomicStats> stats_;
};

// A LogSink that queues every line for OTLP export (add it next to stderr
// with a tee sink if both are wanted). Thread safe. The exporter must
// outlive the sink.
class OtlpLogSink final : public LogSink {
 public:
  explicit OtlpLogSink(OtlpExporter* exporter) : exporter_(exporter) {}
  void Write(std::string_view line) override;

 private:
  OtlpExporter* const exporter_;
};

}  // namespace tangelo::telemetry
