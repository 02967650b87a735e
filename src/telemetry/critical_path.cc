#include "telemetry/critical_path.h"

#include <simdjson.h>

#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>

#include "io/env.h"

namespace tangelo::telemetry {
namespace {

using base::InvalidArgument;
using base::Result;
using base::Status;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

Status FieldError(const std::string& where, std::string_view what) {
  return InvalidArgument(where + ": " + std::string(what));
}

// Every key of `object` must be one of `allowed`: a misspelt key is an
// error, never a silently ignored setting.
Status CheckKeys(object value, const std::string& where,
                 std::initializer_list<std::string_view> allowed) {
  for (auto field : value) {
    bool known = false;
    for (std::string_view key : allowed) known = known || field.key == key;
    if (!known) return FieldError(where + "." + std::string(field.key), "unknown key");
  }
  return Status::Ok();
}

Result<element> Required(object value, const std::string& where, std::string_view key) {
  element child;
  if (value[key].get(child) != simdjson::SUCCESS) {
    return FieldError(where + "." + std::string(key), "missing");
  }
  return child;
}

bool IsSimpleName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool IsAlertName(std::string_view name) {
  if (name.empty() || name.size() > 64 || !(name[0] >= 'A' && name[0] <= 'Z')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

bool IsMetricName(std::string_view name) {
  if (name.size() <= 8 || name.size() > 128 || !name.starts_with("tangelo_")) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

Result<std::string> GetString(object value, const std::string& where, std::string_view key,
                              size_t length_max = 512) {
  auto child = Required(value, where, key);
  if (!child.ok()) return child.status();
  std::string_view text;
  if (child->get(text) != simdjson::SUCCESS) {
    return FieldError(where + "." + std::string(key), "must be a string");
  }
  if (text.size() > length_max) {
    return FieldError(where + "." + std::string(key), "too long");
  }
  return std::string(text);
}

Result<double> GetNumber(object value, const std::string& where, std::string_view key) {
  auto child = Required(value, where, key);
  if (!child.ok()) return child.status();
  double number = 0;
  if (child->get(number) != simdjson::SUCCESS || !std::isfinite(number)) {
    return FieldError(where + "." + std::string(key), "must be a number");
  }
  return number;
}

// A whole number in [low, high].
Result<uint64_t> GetInteger(object value, const std::string& where, std::string_view key,
                            uint64_t low, uint64_t high) {
  auto child = Required(value, where, key);
  if (!child.ok()) return child.status();
  uint64_t number = 0;
  if (child->get(number) != simdjson::SUCCESS) {
    return FieldError(where + "." + std::string(key), "must be a non-negative integer");
  }
  if (number < low || number > high) {
    return FieldError(where + "." + std::string(key),
                      "must be in [" + std::to_string(low) + ", " + std::to_string(high) + "]");
  }
  return number;
}

Result<array> GetArray(object value, const std::string& where, std::string_view key,
                       bool allow_empty = false) {
  auto child = Required(value, where, key);
  if (!child.ok()) return child.status();
  array list;
  if (child->get(list) != simdjson::SUCCESS) {
    return FieldError(where + "." + std::string(key), "must be an array");
  }
  if (list.size() > kCriticalPathListEntriesMax) {
    return FieldError(where + "." + std::string(key), "too many entries");
  }
  if (!allow_empty && list.size() == 0) {
    return FieldError(where + "." + std::string(key), "must not be empty");
  }
  return list;
}

Result<std::vector<Application>> GetApplications(object value, const std::string& where,
                                                 std::string_view key) {
  auto list = GetArray(value, where, key);
  if (!list.ok()) return list.status();
  std::vector<Application> applications;
  size_t index = 0;
  for (element entry : *list) {
    const std::string at = where + "." + std::string(key) + "[" + std::to_string(index++) + "]";
    std::string_view name;
    if (entry.get(name) != simdjson::SUCCESS) return FieldError(at, "must be a string");
    const std::optional<Application> application = ApplicationFromName(name);
    if (!application) return FieldError(at, "unknown application \"" + std::string(name) + "\"");
    for (Application seen : applications) {
      if (seen == *application) return FieldError(at, "listed twice");
    }
    applications.push_back(*application);
  }
  return applications;
}

Result<object> AsObject(element value, const std::string& where) {
  object result;
  if (value.get(result) != simdjson::SUCCESS) return FieldError(where, "must be an object");
  return result;
}

Result<SloSpec> ParseSlo(element value, const std::string& where) {
  auto slo_object = AsObject(value, where);
  if (!slo_object.ok()) return slo_object.status();
  const object fields = *slo_object;
  TG_RETURN_IF_ERROR(CheckKeys(fields, where,
                               {"name", "kind", "description", "objective_percent", "window_days",
                                "requests_metric", "error_outcome", "duration_metric",
                                "threshold_ms"}));
  SloSpec slo;
  auto name = GetString(fields, where, "name", 64);
  if (!name.ok()) return name.status();
  if (!IsSimpleName(*name)) return FieldError(where + ".name", "must match [a-z0-9_]+");
  slo.name = *name;
  auto description = GetString(fields, where, "description");
  if (!description.ok()) return description.status();
  slo.description = *description;
  auto objective = GetNumber(fields, where, "objective_percent");
  if (!objective.ok()) return objective.status();
  // Rounded to whole ppm: 99.99 is 999'900 exactly, whatever its binary form.
  const double ppm = std::round(*objective * 10'000.0);
  if (!(*objective > 0 && *objective < 100) || ppm <= 0 || ppm >= kPartsPerMillion) {
    return FieldError(where + ".objective_percent", "must be in (0, 100)");
  }
  slo.objective_ppm = static_cast<uint32_t>(ppm);
  auto window = GetInteger(fields, where, "window_days", 1, kSloWindowDaysMax);
  if (!window.ok()) return window.status();
  slo.window_days = static_cast<uint32_t>(*window);
  auto kind = GetString(fields, where, "kind", 32);
  if (!kind.ok()) return kind.status();
  if (*kind == "availability") {
    slo.kind = SloKind::kAvailability;
    auto metric = GetString(fields, where, "requests_metric", 128);
    if (!metric.ok()) return metric.status();
    if (!IsMetricName(*metric) || !metric->ends_with("_total")) {
      return FieldError(where + ".requests_metric", "must be a tangelo_*_total counter name");
    }
    slo.requests_metric = *metric;
    auto outcome = GetString(fields, where, "error_outcome", 64);
    if (!outcome.ok()) return outcome.status();
    if (!IsSimpleName(*outcome)) return FieldError(where + ".error_outcome", "bad label value");
    slo.error_outcome = *outcome;
    if (fields["duration_metric"].error() == simdjson::SUCCESS ||
        fields["threshold_ms"].error() == simdjson::SUCCESS) {
      return FieldError(where, "duration_metric/threshold_ms belong to latency SLOs");
    }
  } else if (*kind == "latency") {
    slo.kind = SloKind::kLatency;
    auto metric = GetString(fields, where, "duration_metric", 128);
    if (!metric.ok()) return metric.status();
    if (!IsMetricName(*metric) || !metric->ends_with("_seconds")) {
      return FieldError(where + ".duration_metric", "must be a tangelo_*_seconds histogram name");
    }
    slo.duration_metric = *metric;
    auto threshold = GetInteger(fields, where, "threshold_ms", 1, 3'600'000);
    if (!threshold.ok()) return threshold.status();
    slo.threshold_ms = *threshold;
    if (fields["requests_metric"].error() == simdjson::SUCCESS ||
        fields["error_outcome"].error() == simdjson::SUCCESS) {
      return FieldError(where, "requests_metric/error_outcome belong to availability SLOs");
    }
  } else {
    return FieldError(where + ".kind", "must be \"availability\" or \"latency\"");
  }
  return slo;
}

Result<CriticalPathSpec> ParsePath(element value, const std::string& where) {
  auto path_object = AsObject(value, where);
  if (!path_object.ok()) return path_object.status();
  const object fields = *path_object;
  TG_RETURN_IF_ERROR(CheckKeys(fields, where,
                               {"name", "description", "applications", "sli_applications",
                                "probe_interval_ms", "slos"}));
  CriticalPathSpec spec;
  auto name = GetString(fields, where, "name", 64);
  if (!name.ok()) return name.status();
  const std::optional<CriticalPath> path = CriticalPathFromName(*name);
  if (!path) return FieldError(where + ".name", "unknown critical path \"" + *name + "\"");
  spec.path = *path;
  auto description = GetString(fields, where, "description");
  if (!description.ok()) return description.status();
  spec.description = *description;
  auto applications = GetApplications(fields, where, "applications");
  if (!applications.ok()) return applications.status();
  spec.applications = std::move(*applications);
  auto sli_applications = GetApplications(fields, where, "sli_applications");
  if (!sli_applications.ok()) return sli_applications.status();
  for (Application application : *sli_applications) {
    bool on_path = false;
    for (Application crossed : spec.applications) on_path = on_path || crossed == application;
    if (!on_path) {
      return FieldError(where + ".sli_applications",
                        std::string(ApplicationName(application)) + " is not in applications");
    }
  }
  spec.sli_applications = std::move(*sli_applications);
  auto probe = GetInteger(fields, where, "probe_interval_ms", 100, 600'000);
  if (!probe.ok()) return probe.status();
  spec.probe_interval_ms = *probe;
  auto slos = GetArray(fields, where, "slos");
  if (!slos.ok()) return slos.status();
  size_t index = 0;
  for (element entry : *slos) {
    const std::string at = where + ".slos[" + std::to_string(index++) + "]";
    auto slo = ParseSlo(entry, at);
    if (!slo.ok()) return slo.status();
    for (const SloSpec& seen : spec.slos) {
      if (seen.name == slo->name) return FieldError(at + ".name", "duplicate SLO name");
    }
    spec.slos.push_back(std::move(*slo));
  }
  return spec;
}

Result<BurnRateAlertSpec> ParseBurnRateAlert(element value, const std::string& where) {
  auto alert_object = AsObject(value, where);
  if (!alert_object.ok()) return alert_object.status();
  const object fields = *alert_object;
  TG_RETURN_IF_ERROR(CheckKeys(fields, where,
                               {"name", "severity", "long_window_minutes",
                                "short_window_minutes", "burn_rate"}));
  BurnRateAlertSpec alert;
  auto name = GetString(fields, where, "name", 64);
  if (!name.ok()) return name.status();
  if (!IsAlertName(*name)) return FieldError(where + ".name", "must match [A-Z][A-Za-z0-9]*");
  alert.name = *name;
  auto severity = GetString(fields, where, "severity", 16);
  if (!severity.ok()) return severity.status();
  if (*severity != "page" && *severity != "ticket") {
    return FieldError(where + ".severity", "must be \"page\" or \"ticket\"");
  }
  alert.severity = *severity;
  auto long_window = GetInteger(fields, where, "long_window_minutes", 1, kAlertWindowMinutesMax);
  if (!long_window.ok()) return long_window.status();
  auto short_window = GetInteger(fields, where, "short_window_minutes", 1, kAlertWindowMinutesMax);
  if (!short_window.ok()) return short_window.status();
  if (*short_window >= *long_window) {
    return FieldError(where + ".short_window_minutes", "must be below long_window_minutes");
  }
  alert.long_window_minutes = static_cast<uint32_t>(*long_window);
  alert.short_window_minutes = static_cast<uint32_t>(*short_window);
  auto burn_rate = GetNumber(fields, where, "burn_rate");
  if (!burn_rate.ok()) return burn_rate.status();
  if (!(*burn_rate > 0 && *burn_rate <= 1000)) {
    return FieldError(where + ".burn_rate", "must be in (0, 1000]");
  }
  alert.burn_rate = *burn_rate;
  return alert;
}

Result<CommonAlertThresholds> ParseCommon(element value, const std::string& where) {
  auto common_object = AsObject(value, where);
  if (!common_object.ok()) return common_object.status();
  const object fields = *common_object;
  TG_RETURN_IF_ERROR(CheckKeys(fields, where,
                               {"for_minutes", "error_ratio_max", "latency_p99_ms_max",
                                "queue_saturation_ratio_max", "journal_fsync_p99_ms_max",
                                "connections_saturation_ratio_max", "restarts_window_minutes"}));
  CommonAlertThresholds common;
  auto for_minutes = GetInteger(fields, where, "for_minutes", 0, 24 * 60);
  if (!for_minutes.ok()) return for_minutes.status();
  common.for_minutes = static_cast<uint32_t>(*for_minutes);
  auto latency = GetInteger(fields, where, "latency_p99_ms_max", 1, 3'600'000);
  if (!latency.ok()) return latency.status();
  common.latency_p99_ms_max = *latency;
  auto fsync = GetInteger(fields, where, "journal_fsync_p99_ms_max", 1, 3'600'000);
  if (!fsync.ok()) return fsync.status();
  common.journal_fsync_p99_ms_max = *fsync;
  auto restarts = GetInteger(fields, where, "restarts_window_minutes", 1, 24 * 60);
  if (!restarts.ok()) return restarts.status();
  common.restarts_window_minutes = static_cast<uint32_t>(*restarts);
  for (auto [key, target] : {std::pair{"error_ratio_max", &common.error_ratio_max},
                             std::pair{"queue_saturation_ratio_max",
                                       &common.queue_saturation_ratio_max},
                             std::pair{"connections_saturation_ratio_max",
                                       &common.connections_saturation_ratio_max}}) {
    auto ratio = GetNumber(fields, where, key);
    if (!ratio.ok()) return ratio.status();
    if (!(*ratio > 0 && *ratio <= 1)) return FieldError(where + "." + key, "must be in (0, 1]");
    *target = *ratio;
  }
  return common;
}

}  // namespace

std::string_view SloKindName(SloKind kind) {
  switch (kind) {
    case SloKind::kAvailability:
      return "availability";
    case SloKind::kLatency:
      return "latency";
  }
  return "";
}

const CriticalPathSpec* CriticalPathConfig::Find(CriticalPath path) const {
  for (const CriticalPathSpec& spec : paths) {
    if (spec.path == path) return &spec;
  }
  return nullptr;
}

std::string RunbookUrl(const CriticalPathConfig& config, std::string_view alert_name) {
  return config.runbook_url_base + std::string(alert_name) + ".md";
}

Result<CriticalPathConfig> ParseCriticalPaths(std::string_view json) {
  if (json.size() > kCriticalPathFileBytesMax) {
    return InvalidArgument("critical-path file over " +
                           std::to_string(kCriticalPathFileBytesMax) + " bytes");
  }
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  element root;
  if (auto error = parser.parse(padded).get(root); error != simdjson::SUCCESS) {
    return InvalidArgument(std::string("not valid JSON: ") + simdjson::error_message(error));
  }
  auto root_object = AsObject(root, "$");
  if (!root_object.ok()) return root_object.status();
  const object fields = *root_object;
  TG_RETURN_IF_ERROR(CheckKeys(fields, "$",
                               {"version", "applications", "runbook_url_base", "paths",
                                "burn_rate_alerts", "common_alerts"}));
  auto version = GetInteger(fields, "$", "version", 1, 1);
  if (!version.ok()) return version.status();

  CriticalPathConfig config;
  auto applications = GetApplications(fields, "$", "applications");
  if (!applications.ok()) return applications.status();
  config.applications = std::move(*applications);
  auto runbook = GetString(fields, "$", "runbook_url_base");
  if (!runbook.ok()) return runbook.status();
  if (runbook->empty() || runbook->back() != '/') {
    return FieldError("$.runbook_url_base", "must end with '/'");
  }
  config.runbook_url_base = *runbook;

  auto paths = GetArray(fields, "$", "paths");
  if (!paths.ok()) return paths.status();
  size_t index = 0;
  for (element entry : *paths) {
    const std::string at = "$.paths[" + std::to_string(index++) + "]";
    auto spec = ParsePath(entry, at);
    if (!spec.ok()) return spec.status();
    if (config.Find(spec->path) != nullptr) return FieldError(at + ".name", "duplicate path");
    for (Application application : spec->applications) {
      bool declared = false;
      for (Application known : config.applications) declared = declared || known == application;
      if (!declared) {
        return FieldError(at + ".applications", std::string(ApplicationName(application)) +
                                                     " is not in $.applications");
      }
    }
    config.paths.push_back(std::move(*spec));
  }

  auto alerts = GetArray(fields, "$", "burn_rate_alerts");
  if (!alerts.ok()) return alerts.status();
  index = 0;
  for (element entry : *alerts) {
    const std::string at = "$.burn_rate_alerts[" + std::to_string(index++) + "]";
    auto alert = ParseBurnRateAlert(entry, at);
    if (!alert.ok()) return alert.status();
    for (const BurnRateAlertSpec& seen : config.burn_rate_alerts) {
      if (seen.name == alert->name) return FieldError(at + ".name", "duplicate alert name");
    }
    config.burn_rate_alerts.push_back(std::move(*alert));
  }

  auto common = Required(fields, "$", "common_alerts");
  if (!common.ok()) return common.status();
  auto thresholds = ParseCommon(*common, "$.common_alerts");
  if (!thresholds.ok()) return thresholds.status();
  config.common = *thresholds;
  return config;
}

Result<CriticalPathConfig> LoadCriticalPaths(io::Env* env, const std::string& file) {
  auto size = env->FileSize(file);
  if (!size.ok()) return size.status();
  if (*size > kCriticalPathFileBytesMax) {
    return InvalidArgument(file + ": over " + std::to_string(kCriticalPathFileBytesMax) +
                           " bytes");
  }
  std::vector<std::byte> contents;
  TG_RETURN_IF_ERROR(env->ReadFile(file, &contents));
  auto config = ParseCriticalPaths(
      std::string_view(reinterpret_cast<const char*>(contents.data()), contents.size()));
  if (!config.ok()) return InvalidArgument(file + ": " + config.status().message());
  return config;
}

}  // namespace tangelo::telemetry
