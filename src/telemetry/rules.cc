#include "telemetry/rules.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "base/assert.h"
#include "telemetry/slo_metrics.h"
#include "telemetry/text.h"

namespace tangelo::telemetry {
namespace {

// The window of the dashboards and of the common alerts.
constexpr std::string_view kRateWindow = "5m";
constexpr uint64_t kMinutesPerDay = 24 * 60;

std::string Str(std::string_view text) { return std::string(text); }

// seconds = ms / 1000 as the exporter writes it ("0.05"), so an `le`
// selector matches the exported label exactly.
std::string MsAsSeconds(uint64_t ms) { return text::FormatScaledInteger(ms, 1000); }

std::string BudgetText(const SloSpec& slo) {
  return text::FormatScaledInteger(kPartsPerMillion - slo.objective_ppm, kPartsPerMillion);
}

std::string BurnRateText(double burn_rate) {
  return text::FormatScaledInteger(static_cast<uint64_t>(burn_rate * 1000 + 0.5), 1000);
}

std::string SliApplicationsRegex(const CriticalPathSpec& path) {
  std::string regex;
  for (Application application : path.sli_applications) {
    if (!regex.empty()) regex += "|";
    regex += ApplicationName(application);
  }
  return regex;
}

// {path="authorization",application=~"gateway|api"<extra>}
std::string PathSelector(const CriticalPathSpec& path, std::string_view extra = "") {
  return "{path=\"" + Str(path.name()) + "\",application=~\"" + SliApplicationsRegex(path) +
         "\"" + Str(extra) + "}";
}

// The error ratio of `slo` on `path` over `window` as PromQL.
std::string ErrorRatioExpr(const CriticalPathSpec& path, const SloSpec& slo,
                           std::string_view window) {
  const std::string w = "[" + Str(window) + "]";
  if (slo.kind == SloKind::kAvailability) {
    return "(sum(rate(" + slo.requests_metric +
           PathSelector(path, ",outcome=\"" + slo.error_outcome + "\"") + w +
           ")) or vector(0)) / sum(rate(" + slo.requests_metric + PathSelector(path) + w + "))";
  }
  return "1 - sum(rate(" + slo.duration_metric + "_bucket" +
         PathSelector(path, ",le=\"" + MsAsSeconds(slo.threshold_ms) + "\"") + w +
         ")) / sum(rate(" + slo.duration_metric + "_count" + PathSelector(path) + w + "))";
}

// Sorted unique windows (minutes) the recording rules must cover.
std::vector<uint64_t> SloWindows(const CriticalPathConfig& config, const SloSpec& slo) {
  std::set<uint64_t> windows;
  for (const BurnRateAlertSpec& row : config.burn_rate_alerts) {
    windows.insert(row.long_window_minutes);
    windows.insert(row.short_window_minutes);
  }
  windows.insert(slo.window_days * kMinutesPerDay);
  return {windows.begin(), windows.end()};
}

// YAML single-quoted scalar: only ' needs escaping (as '').
std::string Quote(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += "'";
    out += c;
  }
  out += "'";
  return out;
}

class YamlRules {
 public:
  void Group(std::string_view name) {
    out_ += "  - name: " + Str(name) + "\n    rules:\n";
  }
  void Record(std::string_view record, const std::string& expr,
              const std::vector<std::pair<std::string, std::string>>& labels) {
    out_ += "      - record: " + Str(record) + "\n        expr: " + Quote(expr) + "\n";
    Labels(labels);
  }
  void Alert(const CriticalPathConfig& config, std::string_view alert, const std::string& expr,
             uint32_t for_minutes, const std::vector<std::pair<std::string, std::string>>& labels,
             const std::string& summary, const std::string& description) {
    out_ += "      - alert: " + Str(alert) + "\n        expr: " + Quote(expr) + "\n";
    if (for_minutes > 0) out_ += "        for: " + PrometheusDuration(for_minutes) + "\n";
    Labels(labels);
    out_ += "        annotations:\n";
    out_ += "          summary: " + Quote(summary) + "\n";
    out_ += "          description: " + Quote(description) + "\n";
    out_ += "          runbook_url: " + Quote(RunbookUrl(config, alert)) + "\n";
  }
  std::string Take() { return std::move(out_); }
  void Raw(std::string_view text) { out_ += text; }

 private:
  void Labels(const std::vector<std::pair<std::string, std::string>>& labels) {
    if (labels.empty()) return;
    out_ += "        labels:\n";
    for (const auto& [name, value] : labels) out_ += "          " + name + ": " + Quote(value) + "\n";
  }
  std::string out_;
};

std::string RatioRecord(uint64_t minutes) {
  return "tangelo:slo_error_ratio:rate" + PrometheusDuration(minutes);
}

void PathRules(const CriticalPathConfig& config, const CriticalPathSpec& path, YamlRules* yaml) {
  const std::string name = Str(path.name());
  yaml->Group("tangelo-slo-" + name);
  for (const SloSpec& slo : path.slos) {
    for (uint64_t minutes : SloWindows(config, slo)) {
      yaml->Record(RatioRecord(minutes), ErrorRatioExpr(path, slo, PrometheusDuration(minutes)),
                   {{"path", name}, {"slo", slo.name}});
    }
    yaml->Record("tangelo:slo_error_budget_remaining:ratio",
                 "1 - " + RatioRecord(slo.window_days * kMinutesPerDay) + "{path=\"" + name +
                     "\",slo=\"" + slo.name + "\"} / " + BudgetText(slo),
                 {{"path", name}, {"slo", slo.name}});
  }
  const std::string w = "[" + Str(kRateWindow) + "]";
  yaml->Record("tangelo:path_availability:ratio_rate5m",
               "1 - ((sum(rate(" + Str(kRequestsTotalMetric) +
                   PathSelector(path, ",outcome=\"error\"") + w + ")) or vector(0)) / sum(rate(" +
                   Str(kRequestsTotalMetric) + PathSelector(path) + w + ")))",
               {{"path", name}});
  yaml->Record("tangelo:path_probe_success:ratio_rate5m",
               "sum(rate(" + Str(kProbeTotalMetric) + "{path=\"" + name +
                   "\",outcome=\"ok\"}" + w + ")) / sum(rate(" + Str(kProbeTotalMetric) +
                   "{path=\"" + name + "\"}" + w + "))",
               {{"path", name}});
  // Uptime: the worse of the probe and the events (telemetry/slo_engine.h).
  yaml->Record("tangelo:path_uptime:ratio_rate5m",
               "min by (path) ({__name__=~\"tangelo:path_availability:ratio_rate5m|"
               "tangelo:path_probe_success:ratio_rate5m\",path=\"" + name + "\"})",
               {{"path", name}});

  for (const SloSpec& slo : path.slos) {
    for (const BurnRateAlertSpec& row : config.burn_rate_alerts) {
      const std::string threshold = "(" + BurnRateText(row.burn_rate) + " * " + BudgetText(slo) + ")";
      const std::string selector = "{path=\"" + name + "\",slo=\"" + slo.name + "\"}";
      yaml->Alert(config, row.name,
                  RatioRecord(row.long_window_minutes) + selector + " > " + threshold + " and " +
                      RatioRecord(row.short_window_minutes) + selector + " > " + threshold,
                  0, {{"severity", row.severity}, {"path", name}, {"slo", slo.name}},
                  "The " + name + " path burns its " + slo.name + " error budget " +
                      BurnRateText(row.burn_rate) + "x too fast",
                  "Over both " + PrometheusDuration(row.long_window_minutes) + " and " +
                      PrometheusDuration(row.short_window_minutes) + ", the " + name + " " +
                      slo.name + " SLO burns its error budget faster than " +
                      BurnRateText(row.burn_rate) + "x. SLO: " + slo.description);
    }
  }
  yaml->Alert(config, kProbeFailingAlert,
              "tangelo:path_probe_success:ratio_rate5m{path=\"" + name + "\"} < 0.5", 2,
              {{"severity", "page"}, {"path", name}},
              "The synthetic probe of the " + name + " path fails",
              "Fewer than half of the probe runs through the " + name +
                  " path succeeded over 5m.");
}

// p99 of the histogram `metric` over `selector_and_window` ({...}[5m]).
std::string P99Expr(std::string_view metric, const std::string& selector_and_window) {
  return "histogram_quantile(0.99, sum by (le) (rate(" + Str(metric) + "_bucket" +
         selector_and_window + ")))";
}

void ApplicationRules(const CriticalPathConfig& config, Application application,
                      YamlRules* yaml) {
  const CommonAlertThresholds& common = config.common;
  const std::string app = Str(ApplicationName(application));
  const std::string sel = "{application=\"" + app + "\"";
  const std::string w = "[" + Str(kRateWindow) + "]";
  const std::vector<std::pair<std::string, std::string>> page = {{"severity", "page"},
                                                                 {"application", app}};
  const std::vector<std::pair<std::string, std::string>> ticket = {{"severity", "ticket"},
                                                                   {"application", app}};
  yaml->Group("tangelo-application-" + app);
  yaml->Alert(config, kHighErrorRateAlert,
              "(sum(rate(" + Str(kRequestsTotalMetric) + sel + ",outcome=\"error\"}" + w +
                  ")) or vector(0)) / sum(rate(" + Str(kRequestsTotalMetric) + sel + "}" + w +
                  ")) > " + text::FormatDouble(common.error_ratio_max),
              common.for_minutes, page, app + " answers too many requests with a system error",
              "Error ratio of " + app + " over 5m is above " +
                  text::FormatDouble(common.error_ratio_max) + ".");
  yaml->Alert(config, kHighLatencyAlert,
              P99Expr(kRequestDurationMetric, sel + "}" + w) + " > " +
                  MsAsSeconds(common.latency_p99_ms_max),
              common.for_minutes, page, app + " is slow",
              "p99 request latency of " + app + " over 5m is above " +
                  std::to_string(common.latency_p99_ms_max) + " ms.");
  yaml->Alert(config, kQueueSaturatedAlert,
              "max by (queue) (" + Str(kQueueDepthMetric) + sel + "} / " +
                  Str(kQueueCapacityMetric) + sel + "}) > " +
                  text::FormatDouble(common.queue_saturation_ratio_max),
              common.for_minutes, page, "A queue of " + app + " is nearly full",
              "Queue {{ $labels.queue }} of " + app + " is over " +
                  text::FormatDouble(common.queue_saturation_ratio_max) +
                  " full; producers will soon be refused.");
  yaml->Alert(config, kFsyncSlowAlert,
              P99Expr(kJournalFsyncMetric, sel + "}" + w) + " > " +
                  MsAsSeconds(common.journal_fsync_p99_ms_max),
              common.for_minutes, page, "Journal fsync of " + app + " is slow",
              "p99 journal fsync of " + app + " over 5m is above " +
                  std::to_string(common.journal_fsync_p99_ms_max) + " ms.");
  yaml->Alert(config, kConnectionsSaturatedAlert,
              "max(" + Str(kConnectionsOpenMetric) + sel + "} / " +
                  Str(kConnectionsMaxMetric) + sel + "}) > " +
                  text::FormatDouble(common.connections_saturation_ratio_max),
              common.for_minutes, page, app + " is near its connection limit",
              app + " uses over " + text::FormatDouble(common.connections_saturation_ratio_max) +
                  " of its allowed connections.");
  yaml->Alert(config, kRestartingAlert,
              "sum(increase(" + Str(kRestartsMetric) + sel + "}[" +
                  PrometheusDuration(common.restarts_window_minutes) + "])) > 0",
              0, ticket, app + " restarted",
              app + " or one of its components restarted in the last " +
                  PrometheusDuration(common.restarts_window_minutes) + ".");
}

// A JSON string literal (the generator's strings are ASCII).
std::string Json(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += "\"";
  return out;
}

struct Target {
  std::string expr;
  std::string legend;
};

class Dashboard {
 public:
  void Row(const std::string& title) {
    Separator();
    out_ += "    {\"type\": \"row\", \"id\": " + std::to_string(next_id_++) + ", \"title\": " +
            Json(title) + ", \"collapsed\": false, \"gridPos\": {\"h\": 1, \"w\": 24, \"x\": 0, " +
            "\"y\": " + std::to_string(y_) + "}, \"panels\": []}";
    y_ += 1;
    x_ = 0;
  }
  // A panel 6 wide; four per line.
  void Panel(std::string_view type, const std::string& title, const std::string& description,
             std::string_view unit, const std::vector<Target>& targets) {
    Separator();
    out_ += "    {\"type\": " + Json(type) + ", \"id\": " + std::to_string(next_id_++) +
            ", \"title\": " + Json(title) + ", \"description\": " + Json(description) +
            ", \"datasource\": {\"type\": \"prometheus\", \"uid\": \"${datasource}\"}" +
            ", \"gridPos\": {\"h\": 8, \"w\": 6, \"x\": " + std::to_string(x_) +
            ", \"y\": " + std::to_string(y_) + "}" +
            ", \"fieldConfig\": {\"defaults\": {\"unit\": " + Json(unit) +
            "}, \"overrides\": []}, \"targets\": [";
    char ref = 'A';
    for (size_t i = 0; i < targets.size(); ++i) {
      if (i > 0) out_ += ", ";
      out_ += "{\"refId\": \"" + std::string(1, ref++) + "\", \"expr\": " +
              Json(targets[i].expr) + ", \"legendFormat\": " + Json(targets[i].legend) + "}";
    }
    out_ += "]}";
    x_ += 6;
    if (x_ >= 24) {
      x_ = 0;
      y_ += 8;
    }
  }
  std::string Take() { return std::move(out_); }

 private:
  void Separator() {
    if (!first_) out_ += ",\n";
    first_ = false;
  }
  std::string out_;
  bool first_ = true;
  int next_id_ = 1;
  int x_ = 0;
  int y_ = 0;
};

}  // namespace

std::string PrometheusDuration(uint64_t minutes) {
  if (minutes % kMinutesPerDay == 0) return std::to_string(minutes / kMinutesPerDay) + "d";
  if (minutes % 60 == 0) return std::to_string(minutes / 60) + "h";
  return std::to_string(minutes) + "m";
}

base::Status CheckConfigForRules(const CriticalPathConfig& config) {
  for (const CriticalPathSpec& path : config.paths) {
    for (const SloSpec& slo : path.slos) {
      if (slo.kind != SloKind::kLatency) continue;
      if (std::find(kRequestDurationBoundsMs.begin(), kRequestDurationBoundsMs.end(),
                    slo.threshold_ms) == kRequestDurationBoundsMs.end()) {
        return base::InvalidArgument(
            Str(path.name()) + "." + slo.name + ": threshold_ms " +
            std::to_string(slo.threshold_ms) +
            " is not a bound of the request histogram (kRequestDurationBoundsMs)");
      }
    }
  }
  return base::Status::Ok();
}

std::string GeneratePrometheusRules(const CriticalPathConfig& config) {
  TG_ASSERT(CheckConfigForRules(config).ok());
  YamlRules yaml;
  yaml.Raw(
      "# GENERATED by tangelo_rules from config/critical-paths.json; do not edit.\n"
      "# Regenerate: tangelo_rules --write (see docs/telemetry/slo.md). A unit test fails\n"
      "# when this file differs from what the generator produces.\n"
      "groups:\n");
  yaml.Group("tangelo-scrape");
  yaml.Alert(config, kTargetDownAlert, "up{job=\"tangelo\"} == 0", 1,
             {{"severity", "page"}}, "Prometheus cannot scrape Tangelo",
             "The /metrics endpoint of {{ $labels.instance }} has not answered for 1m.");
  for (const CriticalPathSpec& path : config.paths) PathRules(config, path, &yaml);
  for (Application application : config.applications) {
    ApplicationRules(config, application, &yaml);
  }
  return yaml.Take();
}

std::string GenerateGrafanaDashboard(const CriticalPathConfig& config) {
  TG_ASSERT(CheckConfigForRules(config).ok());
  Dashboard panels;
  const std::string w = "[$__rate_interval]";
  for (const CriticalPathSpec& path : config.paths) {
    const std::string name = Str(path.name());
    const std::string drill = "{path=\"" + name + "\",application=~\"$application\"";
    panels.Row("Critical path: " + name);
    panels.Panel("timeseries", name + ": uptime",
                 "The worse of the synthetic probe success and the event availability "
                 "(5m).", "percentunit",
                 {{"tangelo:path_uptime:ratio_rate5m{path=\"" + name + "\"}", "uptime"},
                  {"tangelo:path_probe_success:ratio_rate5m{path=\"" + name + "\"}", "probe"},
                  {"tangelo:path_availability:ratio_rate5m{path=\"" + name + "\"}", "events"}});
    panels.Panel("timeseries", name + ": throughput", "Requests answered per second.", "reqps",
                 {{"sum(rate(" + Str(kRequestsTotalMetric) + PathSelector(path) + w + "))",
                   "requests/s"}});
    std::vector<Target> errors;
    for (const SloSpec& slo : path.slos) {
      errors.push_back({"tangelo:slo_error_ratio:rate5m{path=\"" + name + "\",slo=\"" +
                            slo.name + "\"}",
                        slo.name + " error ratio"});
    }
    panels.Panel("timeseries", name + ": error rate",
                 "Bad events / valid events per SLO (5m).", "percentunit", errors);
    std::vector<Target> latency;
    for (std::string_view quantile : {"0.5", "0.99", "0.999"}) {
      latency.push_back({"histogram_quantile(" + Str(quantile) + ", sum by (le) (rate(" +
                             Str(kRequestDurationMetric) + "_bucket" + PathSelector(path) + w +
                             ")))",
                         "p" + Str(quantile.substr(2)) + (quantile == "0.5" ? "0" : "")});
    }
    panels.Panel("timeseries", name + ": latency", "Request latency percentiles.", "s", latency);

    panels.Panel("timeseries", name + " by application: availability",
                 "1 - error ratio of each application on the path.", "percentunit",
                 {{"1 - ((sum by (application) (rate(" + Str(kRequestsTotalMetric) + drill +
                       ",outcome=\"error\"}" + w + ")) or (sum by (application) (rate(" +
                       Str(kRequestsTotalMetric) + drill + "}" + w + ")) * 0)) / " +
                       "sum by (application) (rate(" + Str(kRequestsTotalMetric) + drill + "}" +
                       w + ")))",
                   "{{application}}"}});
    panels.Panel("timeseries", name + " by application: throughput",
                 "Requests per second of each application on the path.", "reqps",
                 {{"sum by (application) (rate(" + Str(kRequestsTotalMetric) + drill + "}" + w +
                       "))",
                   "{{application}}"}});
    panels.Panel("timeseries", name + " by application: error rate",
                 "System errors / requests of each application on the path.", "percentunit",
                 {{"sum by (application) (rate(" + Str(kRequestsTotalMetric) + drill +
                       ",outcome=\"error\"}" + w + ")) / sum by (application) (rate(" +
                       Str(kRequestsTotalMetric) + drill + "}" + w + "))",
                   "{{application}}"}});
    panels.Panel("timeseries", name + " by application: latency p99",
                 "p99 request latency of each application on the path.", "s",
                 {{"histogram_quantile(0.99, sum by (le, application) (rate(" +
                       Str(kRequestDurationMetric) + "_bucket" + drill + "}" + w + ")))",
                   "{{application}}"}});
    for (const SloSpec& slo : path.slos) {
      panels.Panel("stat", name + ": " + slo.name + " error budget left",
                   slo.description + " Objective " +
                       text::FormatScaledInteger(slo.objective_ppm, 10'000) + "% over " +
                       std::to_string(slo.window_days) + "d.",
                   "percentunit",
                   {{"tangelo:slo_error_budget_remaining:ratio{path=\"" + name + "\",slo=\"" +
                         slo.name + "\"}",
                     slo.name}});
    }
  }

  std::string paths_options;
  std::string out =
      "{\n"
      "  \"__comment\": \"GENERATED by tangelo_rules from config/critical-paths.json; do not "
      "edit.\",\n"
      "  \"uid\": \"tangelo-critical-paths\",\n"
      "  \"title\": \"Tangelo critical paths\",\n"
      "  \"tags\": [\"tangelo\", \"slo\"],\n"
      "  \"timezone\": \"utc\",\n"
      "  \"schemaVersion\": 39,\n"
      "  \"version\": 1,\n"
      "  \"refresh\": \"10s\",\n"
      "  \"time\": {\"from\": \"now-6h\", \"to\": \"now\"},\n"
      "  \"templating\": {\"list\": [\n"
      "    {\"name\": \"datasource\", \"type\": \"datasource\", \"query\": \"prometheus\", "
      "\"label\": \"Data source\"},\n"
      "    {\"name\": \"application\", \"type\": \"query\", \"label\": \"Application\", "
      "\"datasource\": {\"type\": \"prometheus\", \"uid\": \"${datasource}\"}, "
      "\"query\": {\"query\": \"label_values(tangelo_requests_total, application)\", "
      "\"refId\": \"application\"}, \"definition\": \"label_values(tangelo_requests_total, "
      "application)\", \"includeAll\": true, \"multi\": true, \"allValue\": \".*\", "
      "\"refresh\": 2, \"current\": {\"text\": \"All\", \"value\": \"$__all\"}}\n"
      "  ]},\n"
      "  \"panels\": [\n";
  out += panels.Take();
  out += "\n  ]\n}\n";
  return out;
}

std::vector<std::string> AlertNames(const CriticalPathConfig& config) {
  std::set<std::string> names = {Str(kTargetDownAlert),   Str(kHighErrorRateAlert),
                                 Str(kHighLatencyAlert),  Str(kQueueSaturatedAlert),
                                 Str(kFsyncSlowAlert),    Str(kConnectionsSaturatedAlert),
                                 Str(kRestartingAlert)};
  if (!config.paths.empty()) names.insert(Str(kProbeFailingAlert));
  for (const BurnRateAlertSpec& row : config.burn_rate_alerts) names.insert(row.name);
  return {names.begin(), names.end()};
}

}  // namespace tangelo::telemetry
