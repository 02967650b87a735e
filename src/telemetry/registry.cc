#include "telemetry/registry.h"

#include <algorithm>

#include "base/assert.h"
#include "io/clock.h"

namespace tangelo::telemetry {

struct Registry::Series {
  std::shared_ptr<const MetricDescriptor> descriptor;
  std::unique_ptr<Counter> counter;
  std::unique_ptr<Gauge> gauge;
  std::unique_ptr<HistogramMetric> histogram;
  std::function<double()> callback;  // Set for callback gauges only.
};

namespace {

// Asserts with the offending metric's name in the message: a bad
// declaration is a programmer error found at start-up.
void RequireSpec(bool condition, std::string_view problem, std::string_view name) {
  if (condition) [[likely]] {
    return;
  }
  const std::string message = std::string(problem) + ": '" + std::string(name) + "'";
  base::AssertFail(__FILE__, __LINE__, "valid MetricSpec", message.c_str());
}

bool IsLowerAlnumOrUnderscore(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool IsValidMetricName(std::string_view name) {
  if (name.size() > kMetricNameLengthMax || !name.starts_with("tangelo_")) return false;
  if (name.back() == '_' || name.find("__") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), IsLowerAlnumOrUnderscore);
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || name.size() > kMetricNameLengthMax) return false;
  if (name.starts_with("__") || (name[0] >= '0' && name[0] <= '9')) return false;
  // Reserved: set by the registry (application, path) or by the exposition
  // format (le for histogram buckets, quantile for summaries).
  if (name == "application" || name == "path" || name == "le" || name == "quantile") {
    return false;
  }
  return std::all_of(name.begin(), name.end(), IsLowerAlnumOrUnderscore);
}

// The suffix a unit requires before any _total.
std::string_view UnitSuffix(Unit unit) {
  if (IsTimeUnit(unit)) return "_seconds";
  if (unit == Unit::kBytes) return "_bytes";
  if (unit == Unit::kRatio) return "_ratio";
  return "";
}

void ValidateSpec(const MetricSpec& spec, MetricType type) {
  const std::string_view name = spec.name;
  RequireSpec(IsValidMetricName(name),
              "metric names match tangelo_[a-z0-9_]+ without '__' or a trailing '_'", name);
  RequireSpec(!spec.help.empty() && spec.help.size() <= kMetricHelpLengthMax,
              "help text is required and at most kMetricHelpLengthMax bytes", name);
  RequireSpec(IsValidApplication(spec.application), "application is required", name);
  RequireSpec(spec.path == CriticalPath::kNone || !CriticalPathName(spec.path).empty(),
              "unknown critical path", name);
  const bool is_counter = type == MetricType::kCounter;
  RequireSpec(is_counter == EndsWith(name, "_total"),
              "counter names end in _total, other names do not", name);
  std::string_view base_name = name;
  if (is_counter) base_name.remove_suffix(std::string_view("_total").size());
  const std::string_view suffix = UnitSuffix(spec.unit);
  if (!suffix.empty()) {
    RequireSpec(EndsWith(base_name, suffix), "the name must carry its unit suffix", name);
  } else {
    RequireSpec(!EndsWith(base_name, "_seconds") && !EndsWith(base_name, "_bytes") &&
                    !EndsWith(base_name, "_ratio"),
                "the name claims a unit that the spec does not declare", name);
  }
  RequireSpec(spec.unit != Unit::kRatio || type == MetricType::kGauge,
              "only gauges can be ratios", name);
  RequireSpec(spec.labels.size() <= kMetricExtraLabelsMax, "too many extra labels", name);
  for (size_t i = 0; i < spec.labels.size(); ++i) {
    RequireSpec(IsValidLabelName(spec.labels[i].name), "invalid or reserved label name", name);
    RequireSpec(spec.labels[i].value.size() <= kLabelValueLengthMax, "label value too long",
                name);
    for (size_t j = 0; j < i; ++j) {
      RequireSpec(spec.labels[i].name != spec.labels[j].name, "duplicate label name", name);
    }
  }
  if (type != MetricType::kHistogram) {
    RequireSpec(spec.histogram_bounds.empty(), "only histograms have bounds", name);
  }
  RequireSpec(spec.histogram_bounds.size() <= kHistogramBoundsMax, "too many histogram bounds",
              name);
  for (size_t i = 1; i < spec.histogram_bounds.size(); ++i) {
    RequireSpec(spec.histogram_bounds[i - 1] < spec.histogram_bounds[i],
                "histogram bounds must be strictly increasing", name);
  }
}

// Appends a label value to a key with the separator bytes (\x00..\x02)
// escaped, so distinct label sets can never produce the same key.
void AppendKeyPart(std::string* key, std::string_view part) {
  for (const char c : part) {
    if (c >= '\x00' && c <= '\x02') {
      key->push_back('\x00');
      key->push_back(static_cast<char>(c + '0'));
    } else {
      key->push_back(c);
    }
  }
}

// Sort key: name first so a family's series are adjacent, then
// application, path and labels in declaration order. \x01 and \x02 separate
// the parts; they cannot occur in names and are escaped in values.
std::string SeriesKey(const MetricSpec& spec) {
  std::string key(spec.name);
  key += '\x01';
  key += ApplicationName(spec.application);
  key += '\x01';
  key += CriticalPathName(spec.path);
  for (const Label& label : spec.labels) {
    key += '\x01';
    key += label.name;
    key += '\x02';
    AppendKeyPart(&key, label.value);
  }
  return key;
}

bool SameFamily(const MetricDescriptor& a, const MetricDescriptor& b) {
  return a.type == b.type && a.help == b.help && a.unit == b.unit &&
         a.histogram_bounds == b.histogram_bounds;
}

HistogramSummary Summarize(const Histogram& histogram, std::span<const uint64_t> bounds) {
  HistogramSummary summary;
  summary.count = histogram.Count();
  summary.sum = histogram.Sum();
  summary.min = histogram.Min();
  summary.max = histogram.Max();
  summary.p50 = histogram.ValueAtQuantile(0.5);
  summary.p90 = histogram.ValueAtQuantile(0.9);
  summary.p99 = histogram.ValueAtQuantile(0.99);
  summary.p999 = histogram.ValueAtQuantile(0.999);
  summary.cumulative_counts.reserve(bounds.size());
  // One pass: bounds ascend, so the running sum of whole buckets at or below
  // each bound is the cumulative count (see Histogram::CountAtOrBelow).
  uint32_t bucket = 0;
  uint64_t cumulative = 0;
  for (const uint64_t bound : bounds) {
    while (bucket < Histogram::kBucketCount && HistogramBuckets::UpperBound(bucket) <= bound) {
      cumulative += histogram.BucketCount(bucket);
      ++bucket;
    }
    summary.cumulative_counts.push_back(cumulative);
  }
  return summary;
}

}  // namespace

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

bool IsTimeUnit(Unit unit) {
  return unit == Unit::kNanoseconds || unit == Unit::kMicroseconds ||
         unit == Unit::kMilliseconds || unit == Unit::kSeconds;
}

uint64_t UnitsPerExportedUnit(Unit unit) {
  switch (unit) {
    case Unit::kNanoseconds:
      return 1'000'000'000;
    case Unit::kMicroseconds:
      return 1'000'000;
    case Unit::kMilliseconds:
      return 1'000;
    default:
      return 1;
  }
}

std::vector<uint64_t> DefaultHistogramBounds(Unit unit) {
  int first_power = 0;
  int last_power = 20;
  switch (unit) {
    case Unit::kNanoseconds:  // 1.024 µs .. 34 s
      first_power = 10;
      last_power = 35;
      break;
    case Unit::kMicroseconds:  // 1 µs .. 33.5 s
      first_power = 0;
      last_power = 25;
      break;
    case Unit::kMilliseconds:  // 1 ms .. 32.8 s
      first_power = 0;
      last_power = 15;
      break;
    case Unit::kSeconds:  // 1 s .. 68 min
      first_power = 0;
      last_power = 12;
      break;
    case Unit::kBytes:  // 64 B .. 64 MiB
      first_power = 6;
      last_power = 26;
      break;
    case Unit::kNone:
    case Unit::kRatio:
      break;
  }
  std::vector<uint64_t> bounds;
  for (int power = first_power; power <= last_power; ++power) {
    bounds.push_back(uint64_t{1} << power);
  }
  return bounds;
}

const MetricSample* MetricsSnapshot::Find(std::string_view name, Application application,
                                          CriticalPath path,
                                          std::span<const Label> labels) const {
  for (const MetricSample& sample : samples) {
    const MetricDescriptor& descriptor = *sample.descriptor;
    if (descriptor.name == name && descriptor.application == application &&
        descriptor.path == path &&
        std::equal(descriptor.labels.begin(), descriptor.labels.end(), labels.begin(),
                   labels.end())) {
      return &sample;
    }
  }
  return nullptr;
}

std::vector<const MetricSample*> MetricsSnapshot::FindAll(std::string_view name) const {
  std::vector<const MetricSample*> found;
  for (const MetricSample& sample : samples) {
    if (sample.descriptor->name == name) found.push_back(&sample);
  }
  return found;
}

uint64_t MetricsSnapshot::SumCounter(std::string_view name,
                                     std::optional<Application> application,
                                     std::optional<CriticalPath> path) const {
  uint64_t total = 0;
  for (const MetricSample& sample : samples) {
    const MetricDescriptor& descriptor = *sample.descriptor;
    if (descriptor.name != name || descriptor.type != MetricType::kCounter) continue;
    if (application.has_value() && descriptor.application != *application) continue;
    if (path.has_value() && descriptor.path != *path) continue;
    total += sample.counter_value;
  }
  return total;
}

CallbackGaugeHandle::CallbackGaugeHandle(CallbackGaugeHandle&& other) noexcept
    : registry_(std::exchange(other.registry_, nullptr)), key_(std::move(other.key_)) {}

CallbackGaugeHandle& CallbackGaugeHandle::operator=(CallbackGaugeHandle&& other) noexcept {
  if (this != &other) {
    Reset();
    registry_ = std::exchange(other.registry_, nullptr);
    key_ = std::move(other.key_);
  }
  return *this;
}

CallbackGaugeHandle::~CallbackGaugeHandle() { Reset(); }

void CallbackGaugeHandle::Reset() {
  if (registry_ == nullptr) return;
  registry_->RemoveCallback(key_);
  registry_ = nullptr;
  key_.clear();
}

Registry::Registry() = default;
Registry::~Registry() = default;

Registry::Series& Registry::AddSeries(const MetricSpec& spec, MetricType type) {
  ValidateSpec(spec, type);
  auto descriptor = std::make_shared<MetricDescriptor>();
  descriptor->name = std::string(spec.name);
  descriptor->help = std::string(spec.help);
  descriptor->type = type;
  descriptor->unit = spec.unit;
  descriptor->application = spec.application;
  descriptor->path = spec.path;
  descriptor->labels = spec.labels;
  if (type == MetricType::kHistogram) {
    descriptor->histogram_bounds =
        spec.histogram_bounds.empty() ? DefaultHistogramBounds(spec.unit) : spec.histogram_bounds;
  }

  // Caller holds mutex_.
  auto family = families_.find(spec.name);
  if (family == families_.end()) {
    families_.emplace(descriptor->name, descriptor);
  } else {
    RequireSpec(SameFamily(*family->second, *descriptor),
                "registered before with a different type, help, unit or bounds", spec.name);
  }
  std::unique_ptr<Series>& slot = series_[SeriesKey(spec)];
  if (slot == nullptr) {
    slot = std::make_unique<Series>();
    slot->descriptor = std::move(descriptor);
  }
  return *slot;
}

Counter& Registry::AddCounter(const MetricSpec& spec) {
  std::lock_guard<std::mutex> lock(mutex_);
  Series& series = AddSeries(spec, MetricType::kCounter);
  if (series.counter == nullptr) series.counter = std::make_unique<Counter>();
  return *series.counter;
}

Gauge& Registry::AddGauge(const MetricSpec& spec) {
  std::lock_guard<std::mutex> lock(mutex_);
  Series& series = AddSeries(spec, MetricType::kGauge);
  RequireSpec(!series.callback, "already registered as a callback gauge", spec.name);
  if (series.gauge == nullptr) series.gauge = std::make_unique<Gauge>();
  return *series.gauge;
}

HistogramMetric& Registry::AddHistogram(const MetricSpec& spec) {
  std::lock_guard<std::mutex> lock(mutex_);
  Series& series = AddSeries(spec, MetricType::kHistogram);
  if (series.histogram == nullptr) series.histogram = std::make_unique<HistogramMetric>();
  return *series.histogram;
}

CallbackGaugeHandle Registry::AddCallbackGauge(const MetricSpec& spec,
                                               std::function<double()> read) {
  TG_ASSERT(read != nullptr);
  std::lock_guard<std::mutex> lock(mutex_);
  Series& series = AddSeries(spec, MetricType::kGauge);
  RequireSpec(series.gauge == nullptr && !series.callback,
              "a callback gauge needs a series of its own", spec.name);
  series.callback = std::move(read);
  return CallbackGaugeHandle(this, SeriesKey(spec));
}

void Registry::RemoveCallback(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = series_.find(key);
  TG_ASSERT_MSG(it != series_.end() && it->second->callback, "callback gauge not registered");
  series_.erase(it);
}

MetricsSnapshot Registry::Collect(io::Clock* clock) const {
  MetricsSnapshot snapshot;
  if (clock != nullptr) {
    snapshot.realtime_ns = clock->RealtimeNs();
    snapshot.monotonic_ns = clock->MonotonicNs();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  snapshot.samples.reserve(series_.size());
  for (const auto& [key, series] : series_) {
    MetricSample sample;
    sample.descriptor = series->descriptor;
    if (series->counter != nullptr) {
      sample.counter_value = series->counter->Value();
    } else if (series->gauge != nullptr) {
      sample.gauge_value = static_cast<double>(series->gauge->Value());
    } else if (series->callback) {
      sample.gauge_value = series->callback();
    } else if (series->histogram != nullptr) {
      sample.histogram =
          Summarize(series->histogram->Read(), series->descriptor->histogram_bounds);
    }
    snapshot.samples.push_back(std::move(sample));
  }
  return snapshot;
}

size_t Registry::SeriesCount() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return series_.size();
}

}  // namespace tangelo::telemetry
