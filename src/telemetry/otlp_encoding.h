// OTLP/JSON encoders: turn a metrics snapshot, kept spans and log lines into
// the request bodies an OpenTelemetry collector accepts on /v1/metrics,
// /v1/traces and /v1/logs (opentelemetry-proto, JSON encoding; the wire
// format is written down in docs/telemetry/otlp.md and pinned by golden
// tests in otlp_encoding_test.cc).
//
// The OTLP JSON rules that differ from plain proto3 JSON, all followed here:
// trace and span ids are lowercase hex (not base64); enums are integers;
// keys are lowerCamelCase; 64-bit integers (times, counts, asInt) are
// decimal strings. Doubles are exact decimals where the value is an integer
// scaled by a power of ten (time units exported in seconds), otherwise the
// shortest round-trip form; NaN and infinities use the proto3 JSON strings
// "NaN", "Infinity", "-Infinity".
//
// Each signal is grouped by application: one resource{Metrics,Spans,Logs}
// entry per application, whose resource carries service.name,
// service.instance.id and application (plus any extra attributes), so a
// collector or an APM sees "tangelo/authorizer" as one entity. The scope is
// always {"name":"tangelo"}.
//
// Pure functions, no I/O; thread safe. Strings are escaped as JSON with
// invalid UTF-8 replaced by U+FFFD (the same writer the logger uses).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "telemetry/application.h"
#include "telemetry/registry.h"
#include "telemetry/trace.h"

namespace tangelo::telemetry {

// The scope name every signal carries.
inline constexpr std::string_view kOtlpScopeName = "tangelo";

// What identifies this process to the collector. Application is added per
// resource entry by the encoders.
struct OtlpResource {
  std::string service_name = "tangelo";
  std::string service_instance_id;  // Empty: the attribute is omitted.
  // More string attributes (deployment.environment, host.name, ...).
  std::vector<std::pair<std::string, std::string>> attributes;
};

// An OTLP attribute value: the subset Tangelo emits.
struct OtlpAttribute {
  enum class Type : uint8_t { kString = 0, kInt = 1, kDouble = 2, kBool = 3 };
  std::string key;
  Type type = Type::kString;
  std::string string_value;
  int64_t int_value = 0;
  double double_value = 0;
  bool bool_value = false;
};

// One log record, decoded from a Logger JSON line (ParseLogLine).
struct OtlpLogRecord {
  Application application{};  // Unknown application names map to 0 ("unknown").
  uint64_t time_unix_ns = 0;
  uint8_t severity_number = 0;  // OTLP SeverityNumber: 5 debug, 9 info, 13 warn, 17 error.
  std::string severity_text;    // "DEBUG", "INFO", "WARN", "ERROR".
  std::string body;             // The line's message.
  std::string trace_id_hex;     // 32 hex chars or empty.
  std::string span_id_hex;      // 16 hex chars or empty.
  uint32_t flags = 0;           // W3C trace flags.
  // "event" first, then the line's fields in order.
  std::vector<OtlpAttribute> attributes;
};

// ExportMetricsServiceRequest for `snapshot`. Counters become a monotonic
// cumulative Sum (asInt, or asDouble seconds for time units), gauges a
// Gauge (asDouble), histograms a cumulative Histogram with explicitBounds
// (exported units), bucketCounts (per bucket, not cumulative, one more than
// the bounds), count, sum, min and max. Attributes: `path` when set, then
// the extra labels. `start_unix_ns` is the cumulative start (process or
// exporter start); the snapshot's realtime_ns is each point's time.
std::string EncodeOtlpMetrics(const MetricsSnapshot& snapshot, const OtlpResource& resource,
                              uint64_t start_unix_ns);

// ExportTraceServiceRequest for `spans`: traceId, spanId, parentSpanId (when
// the span has a parent), name, kind, start/endTimeUnixNano, attributes
// (critical path as "path", then the span's own), droppedAttributesCount,
// status {code, message}, and flags (W3C flags in the low byte).
std::string EncodeOtlpSpans(std::span<const SpanRecord> spans, const OtlpResource& resource);

// ExportLogsServiceRequest for `records`: timeUnixNano, observedTimeUnixNano
// (= time), severityNumber, severityText, body {stringValue}, attributes,
// traceId, spanId, flags.
std::string EncodeOtlpLogs(std::span<const OtlpLogRecord> records, const OtlpResource& resource);

// Decodes one Logger line (telemetry/log.h format) into a log record.
// Errors: kInvalidArgument when the line is not a JSON object or lacks
// time/level/message. Unknown levels get severity 0 (unspecified); nested
// objects or arrays in fields are kept as their JSON text.
base::Result<OtlpLogRecord> ParseLogLine(std::string_view line);

// "2023-11-14T22:13:20.123Z" (RFC 3339 UTC, optional fraction up to ns) to
// Unix ns. kInvalidArgument for anything else or a time before 1970.
base::Result<uint64_t> ParseRfc3339UtcNs(std::string_view text);

}  // namespace tangelo::telemetry
