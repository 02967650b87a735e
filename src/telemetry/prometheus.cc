#include "telemetry/prometheus.h"

#include "telemetry/text.h"

namespace tangelo::telemetry {
namespace {

// Escapes with `escape_quotes` deciding whether '"' is special (label
// values) or not (help text).
void AppendEscaped(std::string* out, std::string_view value, bool escape_quotes) {
  text::AppendSanitizedUtf8(out, value, [escape_quotes](char c, std::string* escaped) {
    if (c == '\\') {
      escaped->append("\\\\");
    } else if (c == '\n') {
      escaped->append("\\n");
    } else if (c == '"' && escape_quotes) {
      escaped->append("\\\"");
    } else {
      return false;
    }
    return true;
  });
}

void AppendLabel(std::string* out, bool* first, std::string_view name, std::string_view value) {
  out->append(*first ? "{" : ",");
  *first = false;
  out->append(name);
  out->append("=\"");
  AppendPrometheusLabelValue(out, value);
  out->push_back('"');
}

// `{application="...",path="...",extra...[,le="..."]}`.
void AppendLabels(std::string* out, const MetricDescriptor& descriptor,
                  std::string_view le = {}) {
  bool first = true;
  AppendLabel(out, &first, "application", ApplicationName(descriptor.application));
  if (descriptor.path != CriticalPath::kNone) {
    AppendLabel(out, &first, "path", CriticalPathName(descriptor.path));
  }
  for (const Label& label : descriptor.labels) AppendLabel(out, &first, label.name, label.value);
  if (!le.empty()) AppendLabel(out, &first, "le", le);
  out->push_back('}');
}

void AppendSample(std::string* out, const MetricDescriptor& descriptor, std::string_view suffix,
                  std::string_view le, std::string_view value) {
  out->append(descriptor.name);
  out->append(suffix);
  AppendLabels(out, descriptor, le);
  out->push_back(' ');
  out->append(value);
  out->push_back('\n');
}

void AppendFamilyHeader(std::string* out, const MetricDescriptor& descriptor) {
  out->append("# HELP ");
  out->append(descriptor.name);
  out->push_back(' ');
  AppendPrometheusHelp(out, descriptor.help);
  out->append("\n# TYPE ");
  out->append(descriptor.name);
  out->push_back(' ');
  out->append(MetricTypeName(descriptor.type));
  out->push_back('\n');
}

void AppendSeries(std::string* out, const MetricSample& sample) {
  const MetricDescriptor& descriptor = *sample.descriptor;
  const uint64_t scale = UnitsPerExportedUnit(descriptor.unit);
  switch (descriptor.type) {
    case MetricType::kCounter:
      AppendSample(out, descriptor, "", "", text::FormatScaledInteger(sample.counter_value, scale));
      return;
    case MetricType::kGauge:
      AppendSample(out, descriptor, "", "",
                   text::FormatDouble(sample.gauge_value / static_cast<double>(scale)));
      return;
    case MetricType::kHistogram: {
      const HistogramSummary& histogram = sample.histogram;
      for (size_t i = 0; i < descriptor.histogram_bounds.size(); ++i) {
        const uint64_t cumulative =
            i < histogram.cumulative_counts.size() ? histogram.cumulative_counts[i] : 0;
        AppendSample(out, descriptor, "_bucket",
                     text::FormatScaledInteger(descriptor.histogram_bounds[i], scale),
                     std::to_string(cumulative));
      }
      const std::string count = std::to_string(histogram.count);
      AppendSample(out, descriptor, "_bucket", "+Inf", count);
      AppendSample(out, descriptor, "_sum", "", text::FormatScaledInteger(histogram.sum, scale));
      AppendSample(out, descriptor, "_count", "", count);
      return;
    }
  }
}

}  // namespace

void AppendPrometheusLabelValue(std::string* out, std::string_view value) {
  AppendEscaped(out, value, /*escape_quotes=*/true);
}

void AppendPrometheusHelp(std::string* out, std::string_view help) {
  AppendEscaped(out, help, /*escape_quotes=*/false);
}

std::string RenderPrometheus(const MetricsSnapshot& snapshot) {
  std::string out;
  out.reserve(snapshot.samples.size() * 128);
  const std::string* family = nullptr;
  for (const MetricSample& sample : snapshot.samples) {
    // Samples are sorted by name, so each family's header comes once.
    if (family == nullptr || *family != sample.descriptor->name) {
      AppendFamilyHeader(&out, *sample.descriptor);
      family = &sample.descriptor->name;
    }
    AppendSeries(&out, sample);
  }
  return out;
}

std::string RenderPrometheus(const Registry& registry) {
  return RenderPrometheus(registry.Collect());
}

}  // namespace tangelo::telemetry
