#include "telemetry/otlp_encoding.h"

#include <simdjson.h>

#include <array>
#include <charconv>
#include <cmath>
#include <map>

#include "telemetry/log.h"
#include "telemetry/text.h"

namespace tangelo::telemetry {
namespace {

using base::Result;
using base::Status;

// OTLP SeverityNumber values for the first level of each range.
constexpr uint8_t kSeverityDebug = 5;
constexpr uint8_t kSeverityInfo = 9;
constexpr uint8_t kSeverityWarn = 13;
constexpr uint8_t kSeverityError = 17;
// AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE.
constexpr int kTemporalityCumulative = 2;

void AppendUint(std::string* out, uint64_t value) {
  std::array<char, 24> digits{};
  auto [end, error] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  out->append(digits.data(), end);
}

void AppendInt(std::string* out, int64_t value) {
  std::array<char, 24> digits{};
  auto [end, error] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  out->append(digits.data(), end);
}

// A 64-bit integer as OTLP JSON wants it: a decimal string.
void AppendUintString(std::string* out, uint64_t value) {
  out->push_back('"');
  AppendUint(out, value);
  out->push_back('"');
}

void AppendDouble(std::string* out, double value) {
  if (std::isnan(value)) {
    out->append("\"NaN\"");
  } else if (std::isinf(value)) {
    out->append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    out->append(text::FormatDouble(value));
  }
}

// `value` recorded in `unit`, as an exact decimal in the exported unit.
void AppendScaled(std::string* out, uint64_t value, Unit unit) {
  out->append(text::FormatScaledInteger(value, UnitsPerExportedUnit(unit)));
}

// UCUM unit strings (what OTLP's Metric.unit expects).
std::string_view UcumUnit(Unit unit) {
  switch (unit) {
    case Unit::kBytes:
      return "By";
    case Unit::kNanoseconds:
    case Unit::kMicroseconds:
    case Unit::kMilliseconds:
    case Unit::kSeconds:
      return "s";
    case Unit::kRatio:
    case Unit::kNone:
      return "1";
  }
  return "1";
}

void AppendKey(std::string* out, std::string_view key) {
  AppendJsonString(out, key);
  out->push_back(':');
}

void AppendStringAttribute(std::string* out, std::string_view key, std::string_view value) {
  out->append("{\"key\":");
  AppendJsonString(out, key);
  out->append(",\"value\":{\"stringValue\":");
  AppendJsonString(out, value);
  out->append("}}");
}

void AppendAttribute(std::string* out, const OtlpAttribute& attribute) {
  out->append("{\"key\":");
  AppendJsonString(out, attribute.key);
  out->append(",\"value\":{");
  switch (attribute.type) {
    case OtlpAttribute::Type::kString:
      AppendKey(out, "stringValue");
      AppendJsonString(out, attribute.string_value);
      break;
    case OtlpAttribute::Type::kInt:
      out->append("\"intValue\":\"");
      AppendInt(out, attribute.int_value);
      out->push_back('"');
      break;
    case OtlpAttribute::Type::kDouble:
      AppendKey(out, "doubleValue");
      AppendDouble(out, attribute.double_value);
      break;
    case OtlpAttribute::Type::kBool:
      AppendKey(out, "boolValue");
      out->append(attribute.bool_value ? "true" : "false");
      break;
  }
  out->append("}}");
}

std::string_view ApplicationNameOrUnknown(Application application) {
  std::string_view name = ApplicationName(application);
  return name.empty() ? std::string_view("unknown") : name;
}

// {"resource":{"attributes":[...]},"scope<Signal>":[{"scope":{"name":"tangelo"},"<items>":[
// The caller appends the items and closes with CloseResourceEntry.
void OpenResourceEntry(std::string* out, const OtlpResource& resource, Application application,
                       std::string_view scope_key, std::string_view items_key) {
  out->append("{\"resource\":{\"attributes\":[");
  AppendStringAttribute(out, "service.name", resource.service_name);
  if (!resource.service_instance_id.empty()) {
    out->push_back(',');
    AppendStringAttribute(out, "service.instance.id", resource.service_instance_id);
  }
  out->push_back(',');
  AppendStringAttribute(out, "application", ApplicationNameOrUnknown(application));
  for (const auto& [key, value] : resource.attributes) {
    out->push_back(',');
    AppendStringAttribute(out, key, value);
  }
  out->append("]},");
  AppendKey(out, scope_key);
  out->append("[{\"scope\":{\"name\":");
  AppendJsonString(out, kOtlpScopeName);
  out->append("},");
  AppendKey(out, items_key);
  out->push_back('[');
}

void CloseResourceEntry(std::string* out) { out->append("]}]}"); }

// Indices of `items` grouped by application, in application order (stable
// within a group), so the output does not depend on arrival interleaving.
template <typename T, typename GetApplication>
std::map<uint8_t, std::vector<size_t>> GroupByApplication(std::span<const T> items,
                                                          GetApplication get) {
  std::map<uint8_t, std::vector<size_t>> groups;
  for (size_t i = 0; i < items.size(); ++i) {
    groups[static_cast<uint8_t>(get(items[i]))].push_back(i);
  }
  return groups;
}

// Attributes of a metric point: path, then the extra labels.
void AppendMetricAttributes(std::string* out, const MetricDescriptor& descriptor) {
  out->append("\"attributes\":[");
  bool first = true;
  if (descriptor.path != CriticalPath::kNone) {
    AppendStringAttribute(out, "path", CriticalPathName(descriptor.path));
    first = false;
  }
  for (const Label& label : descriptor.labels) {
    if (!first) out->push_back(',');
    first = false;
    AppendStringAttribute(out, label.name, label.value);
  }
  out->push_back(']');
}

void AppendPointTimes(std::string* out, uint64_t start_unix_ns, uint64_t time_unix_ns) {
  out->append(",\"startTimeUnixNano\":");
  AppendUintString(out, start_unix_ns);
  out->append(",\"timeUnixNano\":");
  AppendUintString(out, time_unix_ns);
}

void AppendMetric(std::string* out, const MetricSample& sample, uint64_t start_unix_ns,
                  uint64_t time_unix_ns) {
  const MetricDescriptor& descriptor = *sample.descriptor;
  const bool time_unit = IsTimeUnit(descriptor.unit);
  out->append("{\"name\":");
  AppendJsonString(out, descriptor.name);
  out->append(",\"description\":");
  AppendJsonString(out, descriptor.help);
  out->append(",\"unit\":");
  AppendJsonString(out, UcumUnit(descriptor.unit));
  out->push_back(',');
  switch (descriptor.type) {
    case MetricType::kCounter:
      out->append("\"sum\":{\"dataPoints\":[{");
      AppendMetricAttributes(out, descriptor);
      AppendPointTimes(out, start_unix_ns, time_unix_ns);
      if (time_unit) {
        out->append(",\"asDouble\":");
        AppendScaled(out, sample.counter_value, descriptor.unit);
      } else {
        out->append(",\"asInt\":");
        AppendUintString(out, sample.counter_value);
      }
      out->append("}],\"aggregationTemporality\":");
      AppendInt(out, kTemporalityCumulative);
      out->append(",\"isMonotonic\":true}");
      break;
    case MetricType::kGauge: {
      out->append("\"gauge\":{\"dataPoints\":[{");
      AppendMetricAttributes(out, descriptor);
      out->append(",\"timeUnixNano\":");
      AppendUintString(out, time_unix_ns);
      out->append(",\"asDouble\":");
      double value = sample.gauge_value;
      if (time_unit) value /= static_cast<double>(UnitsPerExportedUnit(descriptor.unit));
      AppendDouble(out, value);
      out->append("}]}");
      break;
    }
    case MetricType::kHistogram: {
      const HistogramSummary& summary = sample.histogram;
      out->append("\"histogram\":{\"dataPoints\":[{");
      AppendMetricAttributes(out, descriptor);
      AppendPointTimes(out, start_unix_ns, time_unix_ns);
      out->append(",\"count\":");
      AppendUintString(out, summary.count);
      out->append(",\"sum\":");
      AppendScaled(out, summary.sum, descriptor.unit);
      if (summary.count > 0) {
        out->append(",\"min\":");
        AppendScaled(out, summary.min, descriptor.unit);
        out->append(",\"max\":");
        AppendScaled(out, summary.max, descriptor.unit);
      }
      // Per-bucket counts from the cumulative ones; the last bucket is
      // everything above the highest bound. Collection reads shards without
      // a global lock, so a cumulative count may run ahead of the total by a
      // recording or two: clamp rather than wrap.
      out->append(",\"bucketCounts\":[");
      uint64_t previous = 0;
      for (uint64_t cumulative : summary.cumulative_counts) {
        const uint64_t bounded = std::max(previous, cumulative);
        AppendUintString(out, bounded - previous);
        out->push_back(',');
        previous = bounded;
      }
      AppendUintString(out, summary.count > previous ? summary.count - previous : 0);
      out->append("],\"explicitBounds\":[");
      for (size_t i = 0; i < descriptor.histogram_bounds.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendScaled(out, descriptor.histogram_bounds[i], descriptor.unit);
      }
      out->append("]}],\"aggregationTemporality\":");
      AppendInt(out, kTemporalityCumulative);
      out->push_back('}');
      break;
    }
  }
  out->push_back('}');
}

void AppendSpanAttribute(std::string* out, const SpanAttribute& attribute) {
  OtlpAttribute converted;
  converted.key = std::string(attribute.key.view());
  switch (attribute.type) {
    case SpanAttribute::Type::kString:
      converted.type = OtlpAttribute::Type::kString;
      converted.string_value = std::string(attribute.string_value.view());
      break;
    case SpanAttribute::Type::kInt:
      converted.type = OtlpAttribute::Type::kInt;
      converted.int_value = attribute.int_value;
      break;
    case SpanAttribute::Type::kDouble:
      converted.type = OtlpAttribute::Type::kDouble;
      converted.double_value = attribute.double_value;
      break;
    case SpanAttribute::Type::kBool:
      converted.type = OtlpAttribute::Type::kBool;
      converted.bool_value = attribute.bool_value;
      break;
  }
  AppendAttribute(out, converted);
}

void AppendSpan(std::string* out, const SpanRecord& span) {
  out->append("{\"traceId\":\"");
  span.context.trace_id.AppendHex(out);
  out->append("\",\"spanId\":\"");
  span.context.span_id.AppendHex(out);
  out->push_back('"');
  if (span.parent_span_id.valid()) {
    out->append(",\"parentSpanId\":\"");
    span.parent_span_id.AppendHex(out);
    out->push_back('"');
  }
  out->append(",\"flags\":");
  AppendUint(out, span.context.trace_flags);
  out->append(",\"name\":");
  AppendJsonString(out, span.name.view());
  out->append(",\"kind\":");
  AppendUint(out, static_cast<uint8_t>(span.kind));
  out->append(",\"startTimeUnixNano\":");
  AppendUintString(out, span.start_unix_ns);
  out->append(",\"endTimeUnixNano\":");
  AppendUintString(out, span.end_unix_ns);
  out->append(",\"attributes\":[");
  bool first = true;
  if (span.path != CriticalPath::kNone) {
    AppendStringAttribute(out, "path", CriticalPathName(span.path));
    first = false;
  }
  for (uint8_t i = 0; i < span.attribute_count && i < kSpanAttributesMax; ++i) {
    if (!first) out->push_back(',');
    first = false;
    AppendSpanAttribute(out, span.attributes[i]);
  }
  out->append("],\"droppedAttributesCount\":");
  AppendUint(out, span.dropped_attributes_count);
  out->append(",\"status\":{\"code\":");
  AppendUint(out, static_cast<uint8_t>(span.status));
  if (span.status_message.size > 0) {
    out->append(",\"message\":");
    AppendJsonString(out, span.status_message.view());
  }
  out->append("}}");
}

void AppendLogRecord(std::string* out, const OtlpLogRecord& record) {
  out->append("{\"timeUnixNano\":");
  AppendUintString(out, record.time_unix_ns);
  out->append(",\"observedTimeUnixNano\":");
  AppendUintString(out, record.time_unix_ns);
  out->append(",\"severityNumber\":");
  AppendUint(out, record.severity_number);
  out->append(",\"severityText\":");
  AppendJsonString(out, record.severity_text);
  out->append(",\"body\":{\"stringValue\":");
  AppendJsonString(out, record.body);
  out->append("},\"attributes\":[");
  for (size_t i = 0; i < record.attributes.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendAttribute(out, record.attributes[i]);
  }
  out->push_back(']');
  if (!record.trace_id_hex.empty()) {
    out->append(",\"traceId\":");
    AppendJsonString(out, record.trace_id_hex);
  }
  if (!record.span_id_hex.empty()) {
    out->append(",\"spanId\":");
    AppendJsonString(out, record.span_id_hex);
  }
  out->append(",\"flags\":");
  AppendUint(out, record.flags);
  out->push_back('}');
}

Status InvalidLine(std::string_view why) {
  return base::InvalidArgument("log line: " + std::string(why));
}

bool ParseDigits(std::string_view text, size_t position, size_t count, uint64_t* value) {
  if (position + count > text.size()) return false;
  uint64_t result = 0;
  for (size_t i = position; i < position + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    result = result * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  *value = result;
  return true;
}

// Days from 1970-01-01 to y-m-d (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t year, uint64_t month, uint64_t day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const uint64_t year_of_era = static_cast<uint64_t>(year - era * 400);
  const uint64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const uint64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

}  // namespace

std::string EncodeOtlpMetrics(const MetricsSnapshot& snapshot, const OtlpResource& resource,
                              uint64_t start_unix_ns) {
  std::string out;
  out.reserve(256 + snapshot.samples.size() * 320);
  out.append("{\"resourceMetrics\":[");
  const auto groups = GroupByApplication(
      std::span<const MetricSample>(snapshot.samples),
      [](const MetricSample& sample) { return sample.descriptor->application; });
  bool first_group = true;
  for (const auto& [application, indices] : groups) {
    if (!first_group) out.push_back(',');
    first_group = false;
    OpenResourceEntry(&out, resource, static_cast<Application>(application), "scopeMetrics",
                      "metrics");
    for (size_t i = 0; i < indices.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendMetric(&out, snapshot.samples[indices[i]], start_unix_ns, snapshot.realtime_ns);
    }
    CloseResourceEntry(&out);
  }
  out.append("]}");
  return out;
}

std::string EncodeOtlpSpans(std::span<const SpanRecord> spans, const OtlpResource& resource) {
  std::string out;
  out.reserve(256 + spans.size() * 512);
  out.append("{\"resourceSpans\":[");
  const auto groups =
      GroupByApplication(spans, [](const SpanRecord& span) { return span.application; });
  bool first_group = true;
  for (const auto& [application, indices] : groups) {
    if (!first_group) out.push_back(',');
    first_group = false;
    OpenResourceEntry(&out, resource, static_cast<Application>(application), "scopeSpans",
                      "spans");
    for (size_t i = 0; i < indices.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendSpan(&out, spans[indices[i]]);
    }
    CloseResourceEntry(&out);
  }
  out.append("]}");
  return out;
}

std::string EncodeOtlpLogs(std::span<const OtlpLogRecord> records, const OtlpResource& resource) {
  std::string out;
  out.reserve(256 + records.size() * 384);
  out.append("{\"resourceLogs\":[");
  const auto groups = GroupByApplication(
      records, [](const OtlpLogRecord& record) { return record.application; });
  bool first_group = true;
  for (const auto& [application, indices] : groups) {
    if (!first_group) out.push_back(',');
    first_group = false;
    OpenResourceEntry(&out, resource, static_cast<Application>(application), "scopeLogs",
                      "logRecords");
    for (size_t i = 0; i < indices.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendLogRecord(&out, records[indices[i]]);
    }
    CloseResourceEntry(&out);
  }
  out.append("]}");
  return out;
}

Result<uint64_t> ParseRfc3339UtcNs(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  uint64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 20 || !ParseDigits(text, 0, 4, &year) || text[4] != '-' ||
      !ParseDigits(text, 5, 2, &month) || text[7] != '-' || !ParseDigits(text, 8, 2, &day) ||
      (text[10] != 'T' && text[10] != 't') || !ParseDigits(text, 11, 2, &hour) ||
      text[13] != ':' || !ParseDigits(text, 14, 2, &minute) || text[16] != ':' ||
      !ParseDigits(text, 17, 2, &second)) {
    return base::InvalidArgument("not an RFC 3339 UTC time");
  }
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60) {
    return base::InvalidArgument("RFC 3339 time out of range");
  }
  size_t position = 19;
  uint64_t fraction_ns = 0;
  if (text[position] == '.') {
    ++position;
    uint64_t scale = 100'000'000;
    const size_t digits_start = position;
    while (position < text.size() && text[position] >= '0' && text[position] <= '9') {
      if (position - digits_start >= 9) return base::InvalidArgument("fraction over ns");
      fraction_ns += static_cast<uint64_t>(text[position] - '0') * scale;
      scale /= 10;
      ++position;
    }
    if (position == digits_start) return base::InvalidArgument("empty fraction");
  }
  if (position + 1 != text.size() || (text[position] != 'Z' && text[position] != 'z')) {
    return base::InvalidArgument("RFC 3339 time must end in Z");
  }
  const int64_t days = DaysFromCivil(static_cast<int64_t>(year), month, day);
  const uint64_t seconds = static_cast<uint64_t>(days) * 86400 + hour * 3600 + minute * 60 + second;
  return seconds * 1'000'000'000 + fraction_ns;
}

Result<OtlpLogRecord> ParseLogLine(std::string_view line) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(line);
  simdjson::dom::element document;
  if (parser.parse(padded).get(document) != simdjson::SUCCESS) return InvalidLine("not JSON");
  simdjson::dom::object object;
  if (document.get_object().get(object) != simdjson::SUCCESS) {
    return InvalidLine("not a JSON object");
  }
  OtlpLogRecord record;
  bool has_time = false, has_level = false, has_message = false;
  std::string event;
  std::vector<OtlpAttribute> fields;
  for (auto field : object) {
    const std::string_view key = field.key;
    const simdjson::dom::element value = field.value;
    std::string_view string_value;
    const bool is_string = value.get_string().get(string_value) == simdjson::SUCCESS;
    if (key == "time" && is_string) {
      auto time = ParseRfc3339UtcNs(string_value);
      if (!time.ok()) return time.status();
      record.time_unix_ns = *time;
      has_time = true;
    } else if (key == "level" && is_string) {
      has_level = true;
      if (string_value == "debug") {
        record.severity_number = kSeverityDebug;
        record.severity_text = "DEBUG";
      } else if (string_value == "info") {
        record.severity_number = kSeverityInfo;
        record.severity_text = "INFO";
      } else if (string_value == "warn") {
        record.severity_number = kSeverityWarn;
        record.severity_text = "WARN";
      } else if (string_value == "error") {
        record.severity_number = kSeverityError;
        record.severity_text = "ERROR";
      } else {
        record.severity_text = std::string(string_value);
      }
    } else if (key == "application" && is_string) {
      record.application = ApplicationFromName(string_value).value_or(Application{});
    } else if (key == "event" && is_string) {
      event = std::string(string_value);
    } else if (key == "message" && is_string) {
      record.body = std::string(string_value);
      has_message = true;
    } else if (key == "trace_id" && is_string) {
      record.trace_id_hex = std::string(string_value);
    } else if (key == "span_id" && is_string) {
      record.span_id_hex = std::string(string_value);
    } else if (key == "trace_flags" && is_string) {
      uint64_t flags = 0;
      if (string_value.size() == 2) {
        std::from_chars(string_value.data(), string_value.data() + 2, flags, 16);
      }
      record.flags = static_cast<uint32_t>(flags);
    } else {
      OtlpAttribute attribute;
      attribute.key = std::string(key);
      int64_t int_value = 0;
      double double_value = 0;
      bool bool_value = false;
      if (is_string) {
        attribute.string_value = std::string(string_value);
      } else if (value.get_int64().get(int_value) == simdjson::SUCCESS) {
        attribute.type = OtlpAttribute::Type::kInt;
        attribute.int_value = int_value;
      } else if (value.is_uint64()) {
        // Above INT64_MAX: OTLP ints are signed, so keep the exact digits.
        attribute.string_value = simdjson::minify(value);
      } else if (value.get_double().get(double_value) == simdjson::SUCCESS) {
        attribute.type = OtlpAttribute::Type::kDouble;
        attribute.double_value = double_value;
      } else if (value.get_bool().get(bool_value) == simdjson::SUCCESS) {
        attribute.type = OtlpAttribute::Type::kBool;
        attribute.bool_value = bool_value;
      } else {
        attribute.string_value = simdjson::minify(value);
      }
      fields.push_back(std::move(attribute));
    }
  }
  if (!has_time || !has_level || !has_message) {
    return InvalidLine("missing time, level or message");
  }
  if (!event.empty()) {
    OtlpAttribute attribute;
    attribute.key = "event";
    attribute.string_value = std::move(event);
    record.attributes.push_back(std::move(attribute));
  }
  for (OtlpAttribute& attribute : fields) record.attributes.push_back(std::move(attribute));
  return record;
}

}  // namespace tangelo::telemetry
