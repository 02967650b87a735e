// Prometheus text exposition format 0.0.4 for the metrics in a Registry
// (served at /metrics). The format is specified in
// docs/formats/prometheus.md; a golden test pins it.
//
// Shape, per family (all series of one name), families sorted by name:
//
//   # HELP <name> <help, with \ and newline escaped>
//   # TYPE <name> counter|gauge|histogram
//   <name>{application="...",path="...",<extra labels>} <value>
//
// Histograms expose cumulative <name>_bucket{...,le="<bound>"} series in
// ascending order, ending with le="+Inf", then <name>_sum and <name>_count.
// Time units are scaled to seconds and rendered as exact decimals
// (1024 ns -> 0.000001024); counts are integers. Lines end in "\n",
// including the last. Label values are escaped (\\, \", \n) and any invalid
// UTF-8 byte becomes U+FFFD.
#pragma once

#include <string>
#include <string_view>

#include "telemetry/registry.h"

namespace tangelo::telemetry {

// The Content-Type header for a /metrics response.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Collects the registry and renders it. Thread safe (Registry::Collect).
std::string RenderPrometheus(const Registry& registry);
// Renders an already collected snapshot. Pure.
std::string RenderPrometheus(const MetricsSnapshot& snapshot);

// Escaping rules of the format, exposed for tests and other writers.
// Label values: \ -> \\, " -> \", newline -> \n. Help text: \ -> \\,
// newline -> \n. Both replace invalid UTF-8 with U+FFFD.
void AppendPrometheusLabelValue(std::string* out, std::string_view value);
void AppendPrometheusHelp(std::string* out, std::string_view help);

}  // namespace tangelo::telemetry
