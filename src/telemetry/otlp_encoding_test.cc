#include "telemetry/otlp_encoding.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstring>
#include <string>
#include <vector>

#include "io/clock.h"
#include "telemetry/log.h"

namespace tangelo::telemetry {
namespace {

constexpr uint64_t kStartNs = 1'699'999'000'000'000'000ULL;

OtlpResource TestResource() {
  OtlpResource resource;
  resource.service_instance_id = "node-1";
  return resource;
}

simdjson::dom::element Parse(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::element document;
  EXPECT_EQ(parser.parse(json).get(document), simdjson::SUCCESS) << json;
  return document;
}

template <size_t N>
void SetText(InlineText<N>* text, std::string_view value) {
  std::memcpy(text->chars.data(), value.data(), value.size());
  text->size = static_cast<uint8_t>(value.size());
}

SpanRecord TestSpan() {
  SpanRecord span;
  span.context.trace_id = *TraceIdFromHex("0af7651916cd43dd8448eb211c80319c");
  span.context.span_id = *SpanIdFromHex("b7ad6b7169203331");
  span.context.trace_flags = kTraceFlagSampled;
  span.parent_span_id = *SpanIdFromHex("00f067aa0ba902b7");
  SetText(&span.name, "POST /v1/authorizations");
  span.application = Application::kApi;
  span.path = CriticalPath::kAuthorization;
  span.kind = SpanKind::kServer;
  span.status = SpanStatus::kError;
  SetText(&span.status_message, "client \"timeout\"");
  span.start_unix_ns = 1'700'000'000'000'000'000ULL;
  span.end_unix_ns = 1'700'000'000'002'500'000ULL;
  SetText(&span.attributes[0].key, "http.response.status_code");
  span.attributes[0].type = SpanAttribute::Type::kInt;
  span.attributes[0].int_value = 504;
  SetText(&span.attributes[1].key, "stand_in");
  span.attributes[1].type = SpanAttribute::Type::kBool;
  span.attributes[1].bool_value = true;
  span.attribute_count = 2;
  span.dropped_attributes_count = 1;
  return span;
}

// The exact wire form of one span, pinned: a change here is a format change
// (docs/telemetry/otlp.md).
TEST(OtlpEncodingTest, SpanGolden) {
  const SpanRecord span = TestSpan();
  const std::string json = EncodeOtlpSpans(std::span<const SpanRecord>(&span, 1), TestResource());
  EXPECT_EQ(json,
            R"({"resourceSpans":[{"resource":{"attributes":[)"
            R"({"key":"service.name","value":{"stringValue":"tangelo"}},)"
            R"({"key":"service.instance.id","value":{"stringValue":"node-1"}},)"
            R"({"key":"application","value":{"stringValue":"api"}}]},)"
            R"("scopeSpans":[{"scope":{"name":"tangelo"},"spans":[)"
            R"({"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",)"
            R"("parentSpanId":"00f067aa0ba902b7","flags":1,"name":"POST /v1/authorizations",)"
            R"("kind":2,"startTimeUnixNano":"1700000000000000000",)"
            R"("endTimeUnixNano":"1700000000002500000","attributes":[)"
            R"({"key":"path","value":{"stringValue":"authorization"}},)"
            R"({"key":"http.response.status_code","value":{"intValue":"504"}},)"
            R"({"key":"stand_in","value":{"boolValue":true}}],"droppedAttributesCount":1,)"
            R"("status":{"code":2,"message":"client \"timeout\""}}]}]}]})");
}

TEST(OtlpEncodingTest, RootSpanHasNoParentAndSpansGroupByApplication) {
  SpanRecord api = TestSpan();
  api.parent_span_id = SpanId{};
  SpanRecord ledger = TestSpan();
  ledger.application = Application::kLedger;
  // Ledger arrives first but sorts after api (application order).
  const std::vector<SpanRecord> spans = {ledger, api, ledger};
  const std::string json = EncodeOtlpSpans(spans, OtlpResource{});
  simdjson::dom::parser parser;
  auto document = Parse(parser, json);
  simdjson::dom::array resources = document["resourceSpans"];
  ASSERT_EQ(resources.size(), 2u);
  std::vector<std::string> applications;
  std::vector<size_t> counts;
  for (simdjson::dom::element resource : resources) {
    for (simdjson::dom::element attribute : resource["resource"]["attributes"]) {
      EXPECT_NE(std::string_view(attribute["key"]), "service.instance.id");  // Empty: omitted.
      if (std::string_view(attribute["key"]) == "application") {
        applications.emplace_back(std::string_view(attribute["value"]["stringValue"]));
      }
    }
    simdjson::dom::array scoped = resource["scopeSpans"].at(0)["spans"];
    counts.push_back(scoped.size());
    if (applications.back() == "api") {
      simdjson::dom::element parent;
      EXPECT_EQ(scoped.at(0)["parentSpanId"].get(parent), simdjson::NO_SUCH_FIELD);
    }
  }
  EXPECT_EQ(applications, (std::vector<std::string>{"api", "ledger"}));
  EXPECT_EQ(counts, (std::vector<size_t>{1, 2}));
}

TEST(OtlpEncodingTest, EmptyInputsGiveEmptyRequests) {
  EXPECT_EQ(EncodeOtlpSpans({}, OtlpResource{}), R"({"resourceSpans":[]})");
  EXPECT_EQ(EncodeOtlpLogs({}, OtlpResource{}), R"({"resourceLogs":[]})");
  EXPECT_EQ(EncodeOtlpMetrics(MetricsSnapshot{}, OtlpResource{}, 0), R"({"resourceMetrics":[]})");
}

TEST(OtlpEncodingTest, CounterAndGaugeGolden) {
  Registry registry;
  registry
      .AddCounter({.name = "tangelo_authorizer_decisions_total",
                   .help = "Decisions.",
                   .application = Application::kAuthorizer,
                   .path = CriticalPath::kAuthorization,
                   .labels = {{"outcome", "approved"}}})
      .Increment(3);
  registry
      .AddGauge({.name = "tangelo_gateway_open_connections",
                 .help = "Open connections.",
                 .application = Application::kGateway})
      .Set(7);
  io::ManualClock clock;
  const MetricsSnapshot snapshot = registry.Collect(&clock);
  const std::string json = EncodeOtlpMetrics(snapshot, TestResource(), kStartNs);
  const std::string resource_prefix =
      R"({"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"tangelo"}},)"
      R"({"key":"service.instance.id","value":{"stringValue":"node-1"}},)";
  EXPECT_EQ(json,
            R"({"resourceMetrics":[)" + resource_prefix +
                R"({"key":"application","value":{"stringValue":"gateway"}}]},)"
                R"("scopeMetrics":[{"scope":{"name":"tangelo"},"metrics":[)"
                R"({"name":"tangelo_gateway_open_connections","description":"Open connections.",)"
                R"("unit":"1","gauge":{"dataPoints":[{"attributes":[],)"
                R"("timeUnixNano":"1700000000000000000","asDouble":7}]}}]}]},)" +
                resource_prefix +
                R"({"key":"application","value":{"stringValue":"authorizer"}}]},)"
                R"("scopeMetrics":[{"scope":{"name":"tangelo"},"metrics":[)"
                R"({"name":"tangelo_authorizer_decisions_total","description":"Decisions.",)"
                R"("unit":"1","sum":{"dataPoints":[{"attributes":[)"
                R"({"key":"path","value":{"stringValue":"authorization"}},)"
                R"({"key":"outcome","value":{"stringValue":"approved"}}],)"
                R"("startTimeUnixNano":"1699999000000000000",)"
                R"("timeUnixNano":"1700000000000000000","asInt":"3"}],)"
                R"("aggregationTemporality":2,"isMonotonic":true}}]}]}]})");
}

TEST(OtlpEncodingTest, HistogramInSecondsWithPerBucketCounts) {
  Registry registry;
  HistogramMetric& latency = registry.AddHistogram(
      {.name = "tangelo_api_request_latency_seconds",
       .help = "Latency.",
       .unit = Unit::kNanoseconds,
       .application = Application::kApi,
       .histogram_bounds = {1'048'576, 1'073'741'824}});
  latency.Record(1'000);          // <= first bound.
  latency.Record(2'000);          // <= first bound.
  latency.Record(4'000'000);      // <= second bound.
  latency.Record(4'294'967'296);  // Above every bound.
  io::ManualClock clock;
  const std::string json = EncodeOtlpMetrics(registry.Collect(&clock), OtlpResource{}, kStartNs);
  simdjson::dom::parser parser;
  auto document = Parse(parser, json);
  simdjson::dom::element metric = document["resourceMetrics"].at(0)["scopeMetrics"].at(0)["metrics"].at(0);
  EXPECT_EQ(std::string_view(metric["unit"]), "s");
  simdjson::dom::element histogram = metric["histogram"];
  EXPECT_EQ(int64_t(histogram["aggregationTemporality"]), 2);
  simdjson::dom::element point = histogram["dataPoints"].at(0);
  EXPECT_EQ(std::string_view(point["count"]), "4");
  EXPECT_EQ(std::string_view(point["startTimeUnixNano"]), "1699999000000000000");
  std::vector<std::string> buckets;
  for (simdjson::dom::element bucket : point["bucketCounts"]) {
    buckets.emplace_back(std::string_view(bucket));
  }
  EXPECT_EQ(buckets, (std::vector<std::string>{"2", "1", "1"}));
  std::vector<double> bounds;
  for (simdjson::dom::element bound : point["explicitBounds"]) bounds.push_back(double(bound));
  EXPECT_EQ(bounds, (std::vector<double>{0.001048576, 1.073741824}));
  EXPECT_DOUBLE_EQ(double(point["sum"]), 4.298970296);
  EXPECT_DOUBLE_EQ(double(point["min"]), 0.000001);
  EXPECT_GE(double(point["max"]), 4.294967296);
  // The exact-decimal writer: no exponent, no binary rounding noise.
  EXPECT_NE(json.find(R"("sum":4.298970296)"), std::string::npos) << json;
}

TEST(OtlpEncodingTest, NonFiniteGaugeUsesProtoJsonStrings) {
  Registry registry;
  auto handle = registry.AddCallbackGauge({.name = "tangelo_console_weird",
                                           .help = "NaN.",
                                           .application = Application::kConsole},
                                          [] { return std::numeric_limits<double>::quiet_NaN(); });
  const std::string json = EncodeOtlpMetrics(registry.Collect(), OtlpResource{}, 0);
  EXPECT_NE(json.find(R"("asDouble":"NaN")"), std::string::npos) << json;
  simdjson::dom::parser parser;
  Parse(parser, json);
}

TEST(OtlpEncodingTest, LogLineFromLoggerRoundTripsToGoldenRecord) {
  MemoryLogSink sink;
  io::ManualClock clock(1'700'000'000'123'000'000ULL);
  Logger logger({.application = Application::kAuthorizer}, &sink, &clock);
  SpanContext trace;
  trace.trace_id = *TraceIdFromHex("0af7651916cd43dd8448eb211c80319c");
  trace.span_id = *SpanIdFromHex("b7ad6b7169203331");
  trace.trace_flags = 1;
  logger.Warn("client_decision_timeout", "stand-in \"used\"",
              {{"deadline_ms", 2500}, {"ratio", 0.5}, {"stand_in", true}, {"card", "tok_1"}},
              &trace);
  ASSERT_EQ(sink.Lines().size(), 1u);
  auto record = ParseLogLine(sink.Lines()[0]);
  ASSERT_TRUE(record.ok()) << record.status().message();
  EXPECT_EQ(record->application, Application::kAuthorizer);
  EXPECT_EQ(record->time_unix_ns, 1'700'000'000'123'000'000ULL);
  const std::string json =
      EncodeOtlpLogs(std::span<const OtlpLogRecord>(&*record, 1), OtlpResource{});
  EXPECT_EQ(json,
            R"({"resourceLogs":[{"resource":{"attributes":[)"
            R"({"key":"service.name","value":{"stringValue":"tangelo"}},)"
            R"({"key":"application","value":{"stringValue":"authorizer"}}]},)"
            R"("scopeLogs":[{"scope":{"name":"tangelo"},"logRecords":[)"
            R"({"timeUnixNano":"1700000000123000000","observedTimeUnixNano":"1700000000123000000",)"
            R"("severityNumber":13,"severityText":"WARN","body":{"stringValue":"stand-in \"used\""},)"
            R"("attributes":[{"key":"event","value":{"stringValue":"client_decision_timeout"}},)"
            R"({"key":"deadline_ms","value":{"intValue":"2500"}},)"
            R"({"key":"ratio","value":{"doubleValue":0.5}},)"
            R"({"key":"stand_in","value":{"boolValue":true}},)"
            R"({"key":"card","value":{"stringValue":"tok_1"}}],)"
            R"("traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",)"
            R"("flags":1}]}]}]})");
}

TEST(OtlpEncodingTest, ParseLogLineRejectsBadInput) {
  EXPECT_FALSE(ParseLogLine("").ok());
  EXPECT_FALSE(ParseLogLine("not json").ok());
  EXPECT_FALSE(ParseLogLine("[1,2]").ok());
  EXPECT_FALSE(ParseLogLine(R"({"level":"info","message":"m"})").ok());  // No time.
  EXPECT_FALSE(ParseLogLine(R"({"time":"yesterday","level":"info","message":"m"})").ok());
  auto unknown = ParseLogLine(
      R"({"time":"2023-11-14T22:13:20Z","level":"fatal","application":"nope","message":"m",)"
      R"("nested":{"a":[1]},"big":18446744073709551615})");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->severity_number, 0);
  EXPECT_EQ(unknown->application, Application{});
  ASSERT_EQ(unknown->attributes.size(), 2u);
  EXPECT_EQ(unknown->attributes[0].string_value, R"({"a":[1]})");
  EXPECT_EQ(unknown->attributes[1].string_value, "18446744073709551615");
  // An unknown application still encodes, under "unknown".
  const std::string json =
      EncodeOtlpLogs(std::span<const OtlpLogRecord>(&*unknown, 1), OtlpResource{});
  EXPECT_NE(json.find(R"({"stringValue":"unknown"})"), std::string::npos);
}

TEST(OtlpEncodingTest, Rfc3339Parsing) {
  EXPECT_EQ(*ParseRfc3339UtcNs("1970-01-01T00:00:00Z"), 0u);
  EXPECT_EQ(*ParseRfc3339UtcNs("2023-11-14T22:13:20.123Z"), 1'700'000'000'123'000'000ULL);
  EXPECT_EQ(*ParseRfc3339UtcNs("2024-02-29T00:00:00.000000001Z"), 1'709'164'800'000'000'001ULL);
  EXPECT_FALSE(ParseRfc3339UtcNs("2023-11-14T22:13:20.123+01:00").ok());
  EXPECT_FALSE(ParseRfc3339UtcNs("2023-13-14T22:13:20Z").ok());
  EXPECT_FALSE(ParseRfc3339UtcNs("1969-12-31T23:59:59Z").ok());
  EXPECT_FALSE(ParseRfc3339UtcNs("2023-11-14T22:13:20.Z").ok());
  EXPECT_FALSE(ParseRfc3339UtcNs("2023-11-14T22:13:20.1234567891Z").ok());
  EXPECT_FALSE(ParseRfc3339UtcNs("2023-11-14T22:13:20").ok());
}

TEST(OtlpEncodingTest, InvalidUtf8IsReplacedSoTheBodyStaysValidJson) {
  OtlpLogRecord record;
  record.application = Application::kApi;
  record.body = "bad \xff byte";
  const std::string json = EncodeOtlpLogs(std::span<const OtlpLogRecord>(&record, 1), {});
  EXPECT_NE(json.find("bad \xEF\xBF\xBD byte"), std::string::npos);
  simdjson::dom::parser parser;
  Parse(parser, json);
}

}  // namespace
}  // namespace tangelo::telemetry
