#include "telemetry/otlp_exporter.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "io/clock.h"
#include "net/event_loop.h"
#include "net/http_client.h"
#include "telemetry/registry.h"
#include "telemetry/trace.h"

namespace tangelo::telemetry {
namespace {

constexpr uint64_t kNsPerMs = 1'000'000;
// Retry-After values longer than this many digits are not believed.
constexpr size_t kRetryAfterDigitsMax = 9;
// Extra span/log batches exported per interval when a backlog is waiting.
constexpr uint32_t kCatchUpRoundsMax = 16;

uint64_t SteadyNowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

std::chrono::steady_clock::time_point SteadyTimePoint(uint64_t ns) {
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::nanoseconds(ns)));
}

bool IsRetryableStatus(uint16_t status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

bool IsRetryableFailure(net::HttpClientResultCode code) {
  switch (code) {
    case net::HttpClientResultCode::kTimeout:
    case net::HttpClientResultCode::kConnectionRefused:
    case net::HttpClientResultCode::kConnectionReset:
    case net::HttpClientResultCode::kNetworkError:
    case net::HttpClientResultCode::kOverloaded:
      return true;
    default:
      return false;
  }
}

// Retry-After in delay-seconds form; nullopt for an HTTP-date or garbage
// (the caller then backs off exponentially).
std::optional<uint64_t> ParseRetryAfterSeconds(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty() || value.size() > kRetryAfterDigitsMax) return std::nullopt;
  uint64_t seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + static_cast<uint64_t>(c - '0');
  }
  return seconds;
}

}  // namespace

struct OtlpExporter::AtomicStats {
  std::atomic<uint64_t> log_lines_queued{0};
  std::atomic<uint64_t> log_lines_dropped_queue_full{0};
  std::atomic<uint64_t> log_lines_unparseable{0};
  std::atomic<uint64_t> requests_sent{0};
  std::atomic<uint64_t> requests_retried{0};
  std::atomic<uint64_t> batches_exported{0};
  std::atomic<uint64_t> batches_rejected{0};
  std::atomic<uint64_t> batches_failed{0};
  std::atomic<uint64_t> metric_points_exported{0};
  std::atomic<uint64_t> spans_exported{0};
  std::atomic<uint64_t> log_records_exported{0};
  std::atomic<uint64_t> items_dropped{0};
};

// One request's completion, shared with the HTTP client's callback (which
// may run after Export gave up waiting, never after the client shut down).
struct OtlpExporter::Attempt {
  std::mutex mutex;
  std::condition_variable done_signal;
  bool done = false;
  net::HttpClientResponse response;
};

base::Result<std::unique_ptr<OtlpExporter>> OtlpExporter::Create(OtlpExporterOptions options) {
  if (options.host.empty() || options.port == 0) {
    return base::InvalidArgument("otlp: endpoint host and port are required");
  }
  for (const std::string* path :
       {&options.metrics_path, &options.traces_path, &options.logs_path}) {
    if (path->empty() || path->front() != '/') {
      return base::InvalidArgument("otlp: paths must start with '/'");
    }
  }
  if (options.export_interval_ms == 0 || options.export_interval_ms > kOtlpExportIntervalMsMax) {
    return base::InvalidArgument("otlp: export_interval_ms out of range");
  }
  if (options.batch_size_max == 0 || options.batch_size_max > kOtlpBatchSizeMax) {
    return base::InvalidArgument("otlp: batch_size_max out of range");
  }
  if (options.queue_capacity_max == 0 || options.queue_capacity_max > kOtlpQueueCapacityMax) {
    return base::InvalidArgument("otlp: queue_capacity_max out of range");
  }
  if (options.request_deadline_ms == 0 || options.request_deadline_ms > kOtlpRequestDeadlineMsMax) {
    return base::InvalidArgument("otlp: request_deadline_ms out of range");
  }
  const OtlpRetryPolicy& retry = options.retry;
  if (retry.attempts_max == 0 || retry.attempts_max > kOtlpAttemptsMax ||
      retry.backoff_initial_ms == 0 || retry.backoff_max_ms < retry.backoff_initial_ms) {
    return base::InvalidArgument("otlp: retry policy out of range");
  }
  std::unique_ptr<OtlpExporter> exporter(new OtlpExporter(std::move(options)));
  auto loop = net::EventLoopThread::Start({}, "otlp-export");
  if (!loop.ok()) return loop.status();
  exporter->loop_ = std::move(*loop);
  net::HttpClientOptions client_options;
  client_options.connections_per_host_max = 2;
  client_options.hosts = exporter->options_.hosts;
  client_options.user_agent = "tangelo-otlp";
  auto client = net::HttpClient::Create(&exporter->loop_->loop(), std::move(client_options));
  if (!client.ok()) return client.status();
  exporter->client_ = std::move(*client);
  return exporter;
}

OtlpExporter::OtlpExporter(OtlpExporterOptions options)
    : options_(std::move(options)),
      url_prefix_("http://" + options_.host + ":" + std::to_string(options_.port)),
      start_unix_ns_(NowRealtimeNs()),
      jitter_(options_.retry.jitter_seed),
      stats_(std::make_unique<AtomicStats>()) {}

OtlpExporter::~OtlpExporter() { Shutdown(1000); }

void OtlpExporter::Start() {
  std::lock_guard lock(mutex_);
  TG_ASSERT_MSG(!started_ && !stopping_, "OtlpExporter::Start called twice or after Shutdown");
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

bool OtlpExporter::EnqueueLogLine(std::string_view line) {
  std::lock_guard lock(mutex_);
  if (stopping_ || log_lines_.size() >= options_.queue_capacity_max) {
    stats_->log_lines_dropped_queue_full.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  log_lines_.emplace_back(line);
  stats_->log_lines_queued.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void OtlpExporter::Flush() {
  std::lock_guard lock(mutex_);
  flush_requested_ = true;
  wake_.notify_all();
}

void OtlpExporter::Shutdown(uint64_t deadline_ms) {
  const uint64_t deadline_ns = SteadyNowNs() + deadline_ms * kNsPerMs;
  bool started = false;
  {
    std::unique_lock lock(mutex_);
    if (stopping_) {
      // A second call (or the destructor after Shutdown) only waits for the
      // first to finish joining.
      if (!thread_.joinable()) return;
    } else {
      stopping_ = true;
      stop_deadline_monotonic_ns_ = deadline_ns;
      wake_.notify_all();
    }
    started = started_;
    if (started) {
      wake_.wait_until(lock, SteadyTimePoint(deadline_ns), [this] { return thread_done_; });
    }
  }
  // Past the deadline (or done): the client's shutdown fails the request in
  // flight, if any, so the export thread returns at once.
  if (client_ != nullptr) client_->Shutdown();
  if (thread_.joinable()) thread_.join();
  if (loop_ != nullptr) loop_->Stop();
  std::lock_guard lock(mutex_);
  const uint64_t unsent = log_lines_.size();
  log_lines_.clear();
  stats_->items_dropped.fetch_add(unsent, std::memory_order_relaxed);
}

OtlpExporterStats OtlpExporter::Stats() const {
  const AtomicStats& s = *stats_;
  auto load = [](const std::atomic<uint64_t>& value) {
    return value.load(std::memory_order_relaxed);
  };
  return OtlpExporterStats{
      .log_lines_queued = load(s.log_lines_queued),
      .log_lines_dropped_queue_full = load(s.log_lines_dropped_queue_full),
      .log_lines_unparseable = load(s.log_lines_unparseable),
      .requests_sent = load(s.requests_sent),
      .requests_retried = load(s.requests_retried),
      .batches_exported = load(s.batches_exported),
      .batches_rejected = load(s.batches_rejected),
      .batches_failed = load(s.batches_failed),
      .metric_points_exported = load(s.metric_points_exported),
      .spans_exported = load(s.spans_exported),
      .log_records_exported = load(s.log_records_exported),
      .items_dropped = load(s.items_dropped),
  };
}

uint64_t OtlpExporter::NowMonotonicNs() const { return SteadyNowNs(); }

uint64_t OtlpExporter::NowRealtimeNs() const {
  if (options_.clock != nullptr) return options_.clock->RealtimeNs();
  return io::SystemClock().RealtimeNs();
}

void OtlpExporter::Run() {
  while (true) {
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(options_.export_interval_ms),
                     [this] { return flush_requested_ || stopping_; });
      flush_requested_ = false;
      stopping = stopping_;
    }
    if (!stopping) {
      // Catch up on a backlog, a bounded number of batches per interval so
      // a shutdown request is seen soon.
      bool more = ExportRound(/*metrics=*/true);
      for (uint32_t round = 0; more && round < kCatchUpRoundsMax; ++round) more = ExportRound(false);
      continue;
    }
    // Final flush: metrics once, then batches until nothing waits or the
    // deadline has passed.
    bool more = ExportRound(/*metrics=*/true);
    while (more && NowMonotonicNs() < stop_deadline_monotonic_ns_) more = ExportRound(false);
    break;
  }
  std::lock_guard lock(mutex_);
  thread_done_ = true;
  wake_.notify_all();
}

bool OtlpExporter::ExportRound(bool metrics) {
  bool more = false;
  if (options_.spans != nullptr) {
    std::vector<SpanRecord> spans;
    options_.spans->Drain(&spans, options_.batch_size_max);
    more = more || spans.size() == options_.batch_size_max;
    if (!spans.empty()) {
      const OtlpExportResult result =
          Export(options_.traces_path, EncodeOtlpSpans(spans, options_.resource));
      auto& counter = result == OtlpExportResult::kExported ? stats_->spans_exported
                                                            : stats_->items_dropped;
      counter.fetch_add(spans.size(), std::memory_order_relaxed);
    }
  }
  std::vector<std::string> lines;
  {
    std::lock_guard lock(mutex_);
    const size_t count = std::min<size_t>(log_lines_.size(), options_.batch_size_max);
    lines.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      lines.push_back(std::move(log_lines_.front()));
      log_lines_.pop_front();
    }
    more = more || !log_lines_.empty();
  }
  if (!lines.empty()) {
    std::vector<OtlpLogRecord> records;
    records.reserve(lines.size());
    for (const std::string& line : lines) {
      auto record = ParseLogLine(line);
      if (record.ok()) {
        records.push_back(std::move(*record));
      } else {
        stats_->log_lines_unparseable.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (!records.empty()) {
      const OtlpExportResult result =
          Export(options_.logs_path, EncodeOtlpLogs(records, options_.resource));
      auto& counter = result == OtlpExportResult::kExported ? stats_->log_records_exported
                                                            : stats_->items_dropped;
      counter.fetch_add(records.size(), std::memory_order_relaxed);
    }
  }
  if (metrics && options_.registry != nullptr) {
    MetricsSnapshot snapshot = options_.registry->Collect(options_.clock);
    if (snapshot.realtime_ns == 0) snapshot.realtime_ns = NowRealtimeNs();
    if (!snapshot.samples.empty()) {
      const OtlpExportResult result = Export(
          options_.metrics_path, EncodeOtlpMetrics(snapshot, options_.resource, start_unix_ns_));
      // A failed metrics round loses nothing: the next one carries the same
      // cumulative values.
      if (result == OtlpExportResult::kExported) {
        stats_->metric_points_exported.fetch_add(snapshot.samples.size(),
                                                 std::memory_order_relaxed);
      }
    }
  }
  return more;
}

OtlpExportResult OtlpExporter::Export(const std::string& path, std::string body) {
  const OtlpRetryPolicy& retry = options_.retry;
  uint64_t backoff_ms = retry.backoff_initial_ms;
  OtlpExportResult result = OtlpExportResult::kFailed;
  for (uint32_t attempt_number = 0; attempt_number < retry.attempts_max; ++attempt_number) {
    uint64_t deadline_ms = options_.request_deadline_ms;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        const uint64_t now_ns = NowMonotonicNs();
        if (now_ns >= stop_deadline_monotonic_ns_) break;
        deadline_ms = std::min(
            deadline_ms, std::max<uint64_t>(1, (stop_deadline_monotonic_ns_ - now_ns) / kNsPerMs));
      }
    }
    net::HttpClientRequest request;
    request.method = "POST";
    request.url = url_prefix_ + path;
    request.headers.emplace_back("Content-Type", "application/json");
    for (const auto& header : options_.headers) request.headers.push_back(header);
    // The body is kept for a retry; the copy is once per attempt, off the
    // request path.
    request.body = body;
    request.deadline_ms = deadline_ms;
    auto attempt = std::make_shared<Attempt>();
    stats_->requests_sent.fetch_add(1, std::memory_order_relaxed);
    if (attempt_number > 0) stats_->requests_retried.fetch_add(1, std::memory_order_relaxed);
    client_->Send(std::move(request), [attempt](net::HttpClientResponse&& response) {
      std::lock_guard lock(attempt->mutex);
      attempt->response = std::move(response);
      attempt->done = true;
      attempt->done_signal.notify_all();
    });
    net::HttpClientResponse response;
    {
      // The client calls back exactly once, at the latest at the request's
      // deadline or when Shutdown shuts the client down.
      std::unique_lock lock(attempt->mutex);
      attempt->done_signal.wait(lock, [&] { return attempt->done; });
      response = std::move(attempt->response);
    }
    uint64_t delay_ms = 0;
    if (response.ok()) {
      if (response.status >= 200 && response.status < 300) {
        result = OtlpExportResult::kExported;
        break;
      }
      if (response.status == 400) {
        result = OtlpExportResult::kRejected;
        break;
      }
      if (!IsRetryableStatus(response.status)) break;
      if (auto header = response.Header("Retry-After")) {
        if (auto seconds = ParseRetryAfterSeconds(*header)) {
          delay_ms = std::min(*seconds * 1000, retry.retry_after_max_ms);
        }
      }
    } else if (!IsRetryableFailure(response.code)) {
      break;
    }
    if (attempt_number + 1 == retry.attempts_max) break;
    if (delay_ms == 0) {
      // Equal jitter: half the backoff fixed, half random, so retries from
      // many processes spread out but never retry immediately.
      delay_ms = backoff_ms / 2 + jitter_.Uniform(backoff_ms - backoff_ms / 2 + 1);
      backoff_ms = std::min(backoff_ms * 2, retry.backoff_max_ms);
    }
    if (!SleepUntilNs(NowMonotonicNs() + delay_ms * kNsPerMs)) break;
  }
  auto& counter = result == OtlpExportResult::kExported   ? stats_->batches_exported
                  : result == OtlpExportResult::kRejected ? stats_->batches_rejected
                                                          : stats_->batches_failed;
  counter.fetch_add(1, std::memory_order_relaxed);
  return result;
}

bool OtlpExporter::SleepUntilNs(uint64_t wake_ns) {
  std::unique_lock lock(mutex_);
  while (true) {
    if (stopping_ && wake_ns > stop_deadline_monotonic_ns_) return false;
    const uint64_t now_ns = NowMonotonicNs();
    if (now_ns >= wake_ns) return true;
    // Shutdown notifies wake_, so a backoff longer than its deadline ends
    // early instead of holding the shutdown.
    wake_.wait_until(lock, SteadyTimePoint(wake_ns));
  }
}

void OtlpLogSink::Write(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  exporter_->EnqueueLogLine(line);
}

}  // namespace tangelo::telemetry
