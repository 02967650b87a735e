#include "console/status_json.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string_view>

namespace tangelo::console {
namespace {

void AppendString(std::string* out, std::string_view text) {
  out->push_back('"');
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (byte < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", byte);
      out->append(escaped);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void AppendNumber(std::string* out, double value) {
  if (!std::isfinite(value)) {
    out->append("null");
    return;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", value);
  out->append(text);
}

void AppendUint(std::string* out, uint64_t value) { out->append(std::to_string(value)); }

void AppendOptionalMs(std::string* out, const std::optional<double>& seconds) {
  if (!seconds) {
    out->append("null");
    return;
  }
  AppendNumber(out, *seconds * 1000.0);
}

// `"key":`
void Key(std::string* out, std::string_view key) {
  AppendString(out, key);
  out->push_back(':');
}

void AppendTraffic(std::string* out, const telemetry::TrafficStats& traffic) {
  out->append("{");
  Key(out, "requests");
  AppendUint(out, traffic.requests);
  out->append(",");
  Key(out, "errors");
  AppendUint(out, traffic.errors);
  out->append(",");
  Key(out, "throughput_per_second");
  AppendNumber(out, traffic.throughput_per_second);
  out->append(",");
  Key(out, "error_ratio");
  AppendNumber(out, traffic.error_ratio);
  out->append(",");
  Key(out, "latency_p50_ms");
  AppendOptionalMs(out, traffic.latency.p50_seconds);
  out->append(",");
  Key(out, "latency_p99_ms");
  AppendOptionalMs(out, traffic.latency.p99_seconds);
  out->append("}");
}

void AppendPath(std::string* out, const StatusInput::Path& path, size_t firing_alerts) {
  const telemetry::PathReport& report = path.report;
  out->append("{");
  Key(out, "name");
  AppendString(out, telemetry::CriticalPathName(report.path));
  out->append(",");
  Key(out, "description");
  AppendString(out, path.spec != nullptr ? std::string_view(path.spec->description) : "");
  out->append(",");
  Key(out, "uptime_ratio");
  AppendNumber(out, report.uptime_ratio);
  out->append(",");
  Key(out, "probe_success_ratio");
  if (report.probe_success_ratio) {
    AppendNumber(out, *report.probe_success_ratio);
  } else {
    out->append("null");
  }
  out->append(",");
  Key(out, "event_availability_ratio");
  AppendNumber(out, report.event_availability_ratio);
  out->append(",");
  Key(out, "traffic");
  AppendTraffic(out, report.traffic);
  out->append(",");
  Key(out, "slos");
  out->append("[");
  for (size_t i = 0; i < report.slos.size(); ++i) {
    const telemetry::SloReport& slo = report.slos[i];
    if (i > 0) out->append(",");
    out->append("{");
    Key(out, "name");
    AppendString(out, slo.name);
    out->append(",");
    Key(out, "kind");
    AppendString(out, telemetry::SloKindName(slo.kind));
    out->append(",");
    Key(out, "objective_ratio");
    AppendNumber(out, slo.objective_ratio);
    out->append(",");
    Key(out, "good_ratio");
    AppendNumber(out, slo.good_ratio);
    out->append(",");
    Key(out, "error_budget_remaining_ratio");
    AppendNumber(out, slo.error_budget_remaining_ratio);
    out->append(",");
    Key(out, "valid_events");
    AppendUint(out, slo.valid_events);
    out->append(",");
    Key(out, "bad_events");
    AppendUint(out, slo.bad_events);
    out->append("}");
  }
  out->append("],");
  Key(out, "applications");
  out->append("[");
  for (size_t i = 0; i < report.applications.size(); ++i) {
    if (i > 0) out->append(",");
    out->append("{");
    Key(out, "name");
    AppendString(out, telemetry::ApplicationName(report.applications[i].application));
    out->append(",");
    Key(out, "traffic");
    AppendTraffic(out, report.applications[i].traffic);
    out->append("}");
  }
  out->append("],");
  Key(out, "firing_alerts");
  AppendUint(out, firing_alerts);
  out->append("}");
}

void AppendAlert(std::string* out, const telemetry::AlertState& alert) {
  out->append("{");
  Key(out, "name");
  AppendString(out, alert.alert_name);
  out->append(",");
  Key(out, "severity");
  AppendString(out, alert.severity);
  out->append(",");
  Key(out, "path");
  AppendString(out, telemetry::CriticalPathName(alert.path));
  out->append(",");
  Key(out, "slo");
  AppendString(out, alert.slo);
  out->append(",");
  Key(out, "application");
  AppendString(out, telemetry::ApplicationName(alert.application));
  out->append(",");
  Key(out, "value");
  AppendNumber(out, alert.value);
  out->append(",");
  Key(out, "firing_since_ms");
  AppendUint(out, alert.firing_since_realtime_ns / 1'000'000);
  out->append("}");
}

}  // namespace

std::string BuildStatusJson(const StatusInput& input) {
  std::string out;
  out.reserve(4096);
  out.append("{");
  Key(&out, "time_ms");
  AppendUint(&out, input.time_ms);
  out.append(",");
  Key(&out, "window_ms");
  AppendUint(&out, input.window_ms);
  out.append(",");
  Key(&out, "paths");
  out.append("[");
  for (size_t i = 0; i < input.paths.size(); ++i) {
    if (i > 0) out.append(",");
    size_t firing = 0;
    for (const telemetry::AlertState& alert : input.firing_alerts) {
      if (alert.firing && alert.path == input.paths[i].report.path) ++firing;
    }
    AppendPath(&out, input.paths[i], firing);
  }
  out.append("],");
  Key(&out, "alerts");
  out.append("[");
  bool first = true;
  for (const telemetry::AlertState& alert : input.firing_alerts) {
    if (!alert.firing) continue;
    if (!first) out.append(",");
    first = false;
    AppendAlert(&out, alert);
  }
  out.append("]}");
  return out;
}

std::string BuildStatusJson(const telemetry::SloEngine& engine, uint64_t time_ms,
                            uint64_t window_ms) {
  StatusInput input;
  input.time_ms = time_ms;
  input.window_ms = window_ms;
  for (const telemetry::CriticalPathSpec& spec : engine.config().paths) {
    std::optional<telemetry::PathReport> report = engine.Report(spec.path, window_ms);
    if (!report) continue;
    input.paths.push_back({std::move(*report), &spec});
  }
  input.firing_alerts = engine.FiringAlerts();
  return BuildStatusJson(input);
}

}  // namespace tangelo::console
