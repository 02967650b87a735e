// The OTLP exporter against a local receiver: a real net::HttpServer on
// 127.0.0.1 that decodes every request body as JSON and answers with a
// scripted status per request.
#include "telemetry/otlp_exporter.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/http_server.h"
#include "telemetry/registry.h"
#include "telemetry/trace.h"

namespace tangelo::telemetry {
namespace {

using Clock = std::chrono::steady_clock;

bool WaitFor(const std::function<bool()>& predicate, int timeout_ms = 5000) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return predicate();
}

struct Received {
  std::string path;
  std::string content_type;
  std::string body;
  Clock::time_point at;
};

// A scripted answer: status and an optional Retry-After; status 0 means
// "never answer" (the responder is kept until the receiver goes away).
struct Answer {
  Answer(uint16_t status_code = 200, std::string retry_after_seconds = {})  // NOLINT: implicit.
      : status(status_code), retry_after(std::move(retry_after_seconds)) {}
  uint16_t status;
  std::string retry_after;
};

class Receiver {
 public:
  Receiver() {
    net::HttpServerOptions options;
    options.tcp.host = "127.0.0.1";
    options.tcp.port = 0;
    server_ = std::make_unique<net::HttpServer>(
        options, [this](const net::HttpRequest& request, net::HttpResponder responder) {
          Handle(request, std::move(responder));
        });
    EXPECT_TRUE(server_->Start().ok());
  }
  ~Receiver() {
    {
      std::lock_guard lock(mutex_);
      held_.clear();
    }
    server_->Shutdown(1000);
  }

  uint16_t port() const { return server_->port(); }
  // Answers for the next requests, in order; afterwards 200.
  void Script(std::vector<Answer> answers) {
    std::lock_guard lock(mutex_);
    script_.assign(answers.begin(), answers.end());
  }
  std::vector<Received> Requests(std::string_view path = {}) const {
    std::lock_guard lock(mutex_);
    std::vector<Received> out;
    for (const Received& received : received_) {
      if (path.empty() || received.path == path) out.push_back(received);
    }
    return out;
  }
  size_t Count(std::string_view path = {}) const { return Requests(path).size(); }

 private:
  void Handle(const net::HttpRequest& request, net::HttpResponder responder) {
    Answer answer;
    {
      std::lock_guard lock(mutex_);
      received_.push_back({std::string(request.path()),
                           std::string(request.Header("Content-Type").value_or("")),
                           std::string(request.body()), Clock::now()});
      if (!script_.empty()) {
        answer = script_.front();
        script_.pop_front();
      }
      if (answer.status == 0) {
        held_.push_back(std::move(responder));
        return;
      }
    }
    std::vector<net::HttpHeader> headers;
    if (!answer.retry_after.empty()) headers.push_back({"Retry-After", answer.retry_after});
    responder.Respond(answer.status, answer.status == 200 ? "{}" : "{\"error\":\"scripted\"}",
                      "application/json", headers);
  }

  mutable std::mutex mutex_;
  std::deque<Answer> script_;
  std::vector<Received> received_;
  std::vector<net::HttpResponder> held_;
  std::unique_ptr<net::HttpServer> server_;
};

OtlpExporterOptions FastOptions(uint16_t port) {
  OtlpExporterOptions options;
  options.port = port;
  options.resource.service_instance_id = "test-1";
  options.export_interval_ms = 50;
  options.request_deadline_ms = 2000;
  options.retry.backoff_initial_ms = 10;
  options.retry.backoff_max_ms = 40;
  return options;
}

std::unique_ptr<OtlpExporter> MakeExporter(OtlpExporterOptions options) {
  auto exporter = OtlpExporter::Create(std::move(options));
  EXPECT_TRUE(exporter.ok()) << exporter.status().message();
  return std::move(*exporter);
}

const char* kLogLine =
    R"({"time":"2023-11-14T22:13:20.123Z","level":"info","application":"api","event":"e",)"
    R"("message":"hello"})";

// Every string value of key `key` anywhere in the document.
void CollectStrings(simdjson::dom::element element, std::string_view key,
                    std::vector<std::string>* out) {
  if (element.is_object()) {
    for (auto field : simdjson::dom::object(element)) {
      std::string_view value;
      if (field.key == key && field.value.get_string().get(value) == simdjson::SUCCESS) {
        out->emplace_back(value);
      }
      CollectStrings(field.value, key, out);
    }
  } else if (element.is_array()) {
    for (simdjson::dom::element child : simdjson::dom::array(element)) {
      CollectStrings(child, key, out);
    }
  }
}

std::vector<std::string> StringsIn(const std::string& json, std::string_view key) {
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  EXPECT_EQ(parser.parse(json).get(document), simdjson::SUCCESS) << json;
  std::vector<std::string> out;
  CollectStrings(document, key, &out);
  return out;
}

bool Contains(const std::vector<std::string>& values, std::string_view value) {
  for (const std::string& candidate : values) {
    if (candidate == value) return true;
  }
  return false;
}

TEST(OtlpExporterTest, MetricsSpansAndLogsArrive) {
  Receiver receiver;
  Registry registry;
  registry
      .AddCounter({.name = "tangelo_api_requests_total",
                   .help = "Requests.",
                   .application = Application::kApi,
                   .path = CriticalPath::kAuthorization})
      .Increment(42);
  SpanBuffer spans(64);
  Tracer tracer({.application = Application::kApi, .head_sampling_ratio = 1.0}, &spans);
  tracer.StartSpan("POST /v1/authorizations", SpanKind::kServer).End();

  OtlpExporterOptions options = FastOptions(receiver.port());
  options.registry = &registry;
  options.spans = &spans;
  auto exporter = MakeExporter(options);
  OtlpLogSink sink(exporter.get());
  Logger logger({.application = Application::kAuthorizer}, &sink);
  logger.Info("approved", "authorization approved", {{"amount_minor", 1250}});
  exporter->Start();

  ASSERT_TRUE(WaitFor([&] {
    return receiver.Count("/v1/metrics") > 0 && receiver.Count("/v1/traces") > 0 &&
           receiver.Count("/v1/logs") > 0;
  }));
  for (const Received& received : receiver.Requests()) {
    EXPECT_EQ(received.content_type, "application/json");
  }
  const std::string metrics = receiver.Requests("/v1/metrics")[0].body;
  EXPECT_TRUE(Contains(StringsIn(metrics, "name"), "tangelo_api_requests_total")) << metrics;
  EXPECT_TRUE(Contains(StringsIn(metrics, "asInt"), "42")) << metrics;
  EXPECT_TRUE(Contains(StringsIn(metrics, "stringValue"), "test-1")) << metrics;

  const std::string traces = receiver.Requests("/v1/traces")[0].body;
  EXPECT_TRUE(Contains(StringsIn(traces, "name"), "POST /v1/authorizations")) << traces;
  EXPECT_EQ(StringsIn(traces, "traceId")[0].size(), 32u);

  const std::string logs = receiver.Requests("/v1/logs")[0].body;
  EXPECT_TRUE(Contains(StringsIn(logs, "stringValue"), "authorization approved")) << logs;
  EXPECT_TRUE(Contains(StringsIn(logs, "stringValue"), "authorizer")) << logs;
  EXPECT_TRUE(Contains(StringsIn(logs, "intValue"), "1250")) << logs;
  EXPECT_TRUE(Contains(StringsIn(logs, "severityText"), "INFO")) << logs;

  exporter->Shutdown(2000);
  const OtlpExporterStats stats = exporter->Stats();
  EXPECT_EQ(stats.spans_exported, 1u);
  EXPECT_EQ(stats.log_records_exported, 1u);
  EXPECT_GE(stats.metric_points_exported, 1u);
  EXPECT_EQ(stats.batches_failed, 0u);
  EXPECT_EQ(stats.requests_retried, 0u);
}

TEST(OtlpExporterTest, ServiceUnavailableIsRetriedAndArrivesOnce) {
  Receiver receiver;
  receiver.Script({{503}, {200}});
  auto exporter = MakeExporter(FastOptions(receiver.port()));
  ASSERT_TRUE(exporter->EnqueueLogLine(kLogLine));
  exporter->Start();
  ASSERT_TRUE(WaitFor([&] { return exporter->Stats().batches_exported == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // Nothing more may come.
  const auto requests = receiver.Requests("/v1/logs");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].body, requests[1].body);
  const OtlpExporterStats stats = exporter->Stats();
  EXPECT_EQ(stats.requests_sent, 2u);
  EXPECT_EQ(stats.requests_retried, 1u);
  EXPECT_EQ(stats.batches_exported, 1u);
  EXPECT_EQ(stats.log_records_exported, 1u);
}

TEST(OtlpExporterTest, BadGatewayAndGatewayTimeoutAreRetried) {
  Receiver receiver;
  receiver.Script({{502}, {504}, {200}});
  auto exporter = MakeExporter(FastOptions(receiver.port()));
  ASSERT_TRUE(exporter->EnqueueLogLine(kLogLine));
  exporter->Start();
  ASSERT_TRUE(WaitFor([&] { return exporter->Stats().batches_exported == 1; }));
  EXPECT_EQ(receiver.Count("/v1/logs"), 3u);
}

TEST(OtlpExporterTest, TooManyRequestsWaitsForRetryAfter) {
  Receiver receiver;
  receiver.Script({{429, "1"}, {200}});
  auto exporter = MakeExporter(FastOptions(receiver.port()));
  ASSERT_TRUE(exporter->EnqueueLogLine(kLogLine));
  exporter->Start();
  ASSERT_TRUE(WaitFor([&] { return exporter->Stats().batches_exported == 1; }));
  const auto requests = receiver.Requests("/v1/logs");
  ASSERT_EQ(requests.size(), 2u);
  // Backoff alone would be 10 ms; Retry-After says one second.
  EXPECT_GE(requests[1].at - requests[0].at, std::chrono::milliseconds(950));
}

TEST(OtlpExporterTest, RetryAfterIsCappedAtTheMaximum) {
  Receiver receiver;
  receiver.Script({{429, "3600"}, {200}});
  OtlpExporterOptions options = FastOptions(receiver.port());
  options.retry.retry_after_max_ms = 100;
  auto exporter = MakeExporter(options);
  ASSERT_TRUE(exporter->EnqueueLogLine(kLogLine));
  exporter->Start();
  ASSERT_TRUE(WaitFor([&] { return exporter->Stats().batches_exported == 1; }, 3000));
  const auto requests = receiver.Requests("/v1/logs");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_GE(requests[1].at - requests[0].at, std::chrono::milliseconds(90));
  EXPECT_LT(requests[1].at - requests[0].at, std::chrono::milliseconds(2000));
}

TEST(OtlpExporterTest, BadRequestIsNotRetriedAndCountedAsRejected) {
  Receiver receiver;
  receiver.Script({{400}});
  auto exporter = MakeExporter(FastOptions(receiver.port()));
  ASSERT_TRUE(exporter->EnqueueLogLine(kLogLine));
  exporter->Start();
  ASSERT_TRUE(WaitFor([&] { return exporter->Stats().batches_rejected == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(receiver.Count("/v1/logs"), 1u);
  const OtlpExporterStats stats = exporter->Stats();
  EXPECT_EQ(stats.requests_sent, 1u);
  EXPECT_EQ(stats.requests_retried, 0u);
  EXPECT_EQ(stats.items_dropped, 1u);
  EXPECT_EQ(stats.log_records_exported, 0u);
}

TEST(OtlpExporterTest, OtherStatusesAreNotRetried) {
  Receiver receiver;
  receiver.Script({{500}});
  auto exporter = MakeExporter(FastOptions(receiver.port()));
  ASSERT_TRUE(exporter->EnqueueLogLine(kLogLine));
  ASSERT_TRUE(exporter->EnqueueLogLine(kLogLine));
  exporter->Start();
  ASSERT_TRUE(WaitFor([&] { return exporter->Stats().batches_failed == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(receiver.Count("/v1/logs"), 1u);  // Both lines went in the one batch.
  EXPECT_EQ(exporter->Stats().requests_retried, 0u);
  EXPECT_EQ(exporter->Stats().items_dropped, 2u);
}

TEST(OtlpExporterTest, ShutdownKeepsItsDeadlineWhenTheReceiverNeverAnswers) {
  Receiver receiver;
  receiver.Script({{0}});
  OtlpExporterOptions options = FastOptions(receiver.port());
  options.request_deadline_ms = 30'000;
  auto exporter = MakeExporter(options);
  ASSERT_TRUE(exporter->EnqueueLogLine(kLogLine));
  exporter->Start();
  ASSERT_TRUE(WaitFor([&] { return receiver.Count("/v1/logs") == 1; }));
  const auto started = Clock::now();
  exporter->Shutdown(300);
  const auto elapsed = Clock::now() - started;
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
  EXPECT_LT(elapsed, std::chrono::milliseconds(800));
  EXPECT_EQ(exporter->Stats().batches_failed, 1u);
  EXPECT_FALSE(exporter->EnqueueLogLine(kLogLine));  // Shut down: refused and counted.
}

TEST(OtlpExporterTest, ShutdownFlushesWhatIsQueued) {
  Receiver receiver;
  OtlpExporterOptions options = FastOptions(receiver.port());
  options.export_interval_ms = 3'600'000;  // Only the shutdown flush sends.
  options.batch_size_max = 2;
  auto exporter = MakeExporter(options);
  exporter->Start();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(exporter->EnqueueLogLine(kLogLine));
  exporter->Shutdown(3000);
  EXPECT_EQ(receiver.Count("/v1/logs"), 3u);  // Batches of 2, 2 and 1.
  EXPECT_EQ(exporter->Stats().log_records_exported, 5u);
}

TEST(OtlpExporterTest, FullQueueDropsAndCounts) {
  Receiver receiver;
  OtlpExporterOptions options = FastOptions(receiver.port());
  options.queue_capacity_max = 4;
  auto exporter = MakeExporter(options);
  int accepted = 0;
  for (int i = 0; i < 10; ++i) accepted += exporter->EnqueueLogLine(kLogLine) ? 1 : 0;
  EXPECT_EQ(accepted, 4);
  EXPECT_EQ(exporter->Stats().log_lines_dropped_queue_full, 6u);
  EXPECT_EQ(exporter->Stats().log_lines_queued, 4u);
  exporter->Start();
  exporter->Shutdown(3000);
  EXPECT_EQ(exporter->Stats().log_records_exported, 4u);
}

TEST(OtlpExporterTest, ConnectionRefusedIsRetriedThenDropped) {
  uint16_t port = 0;
  {
    Receiver closed;  // Take a free port, then free it.
    port = closed.port();
  }
  OtlpExporterOptions options = FastOptions(port);
  options.retry.attempts_max = 3;
  auto exporter = MakeExporter(options);
  ASSERT_TRUE(exporter->EnqueueLogLine(kLogLine));
  exporter->Start();
  ASSERT_TRUE(WaitFor([&] { return exporter->Stats().batches_failed == 1; }));
  const OtlpExporterStats stats = exporter->Stats();
  EXPECT_EQ(stats.requests_sent, 3u);
  EXPECT_EQ(stats.requests_retried, 2u);
  EXPECT_EQ(stats.items_dropped, 1u);
}

TEST(OtlpExporterTest, UnparseableLogLinesAreCountedNotSent) {
  Receiver receiver;
  auto exporter = MakeExporter(FastOptions(receiver.port()));
  ASSERT_TRUE(exporter->EnqueueLogLine("not json"));
  exporter->Start();
  ASSERT_TRUE(WaitFor([&] { return exporter->Stats().log_lines_unparseable == 1; }));
  exporter->Shutdown(1000);
  EXPECT_EQ(receiver.Count("/v1/logs"), 0u);
}

TEST(OtlpExporterTest, CreateRejectsOptionsOutOfRange) {
  auto bad = [](auto mutate) {
    OtlpExporterOptions options;
    mutate(options);
    return OtlpExporter::Create(options).ok();
  };
  EXPECT_FALSE(bad([](OtlpExporterOptions& o) { o.host.clear(); }));
  EXPECT_FALSE(bad([](OtlpExporterOptions& o) { o.port = 0; }));
  EXPECT_FALSE(bad([](OtlpExporterOptions& o) { o.logs_path = "v1/logs"; }));
  EXPECT_FALSE(bad([](OtlpExporterOptions& o) { o.export_interval_ms = 0; }));
  EXPECT_FALSE(bad([](OtlpExporterOptions& o) { o.batch_size_max = 0; }));
  EXPECT_FALSE(bad([](OtlpExporterOptions& o) { o.batch_size_max = kOtlpBatchSizeMax + 1; }));
  EXPECT_FALSE(bad([](OtlpExporterOptions& o) { o.queue_capacity_max = 0; }));
  EXPECT_FALSE(bad([](OtlpExporterOptions& o) { o.request_deadline_ms = 0; }));
  EXPECT_FALSE(bad([](OtlpExporterOptions& o) { o.retry.attempts_max = 0; }));
  EXPECT_FALSE(bad([](OtlpExporterOptions& o) { o.retry.backoff_max_ms = 1; }));
  EXPECT_FALSE(bad([](OtlpExporterOptions& o) { o.hosts = {{"collector", "not-an-ip"}}; }));
  EXPECT_TRUE(bad([](OtlpExporterOptions&) {}));
}

TEST(OtlpExporterTest, ShutdownWithoutStartAndTwiceIsSafe) {
  auto exporter = MakeExporter(OtlpExporterOptions{});
  ASSERT_TRUE(exporter->EnqueueLogLine(kLogLine));
  exporter->Shutdown(100);
  exporter->Shutdown(100);
  EXPECT_EQ(exporter->Stats().items_dropped, 1u);
}

}  // namespace
}  // namespace tangelo::telemetry
