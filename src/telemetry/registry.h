// Registry: where every module declares its metrics, in one place, with
// name, help text, unit and labels, and where exporters read them all.
//
// The shape (Envoy stats_macros, Redpanda probe): each module has one
// `FooStats` struct whose constructor registers all of the module's metrics
// and keeps references to them; the hot path then records through those
// references and never looks anything up.
//
//   struct LedgerStats {
//     explicit LedgerStats(telemetry::Registry& registry)
//         : transfers_total(registry.AddCounter({
//               .name = "tangelo_ledger_transfers_total",
//               .help = "Transfers applied to the ledger.",
//               .application = telemetry::Application::kLedger,
//               .path = telemetry::CriticalPath::kAuthorization})),
//           apply_latency(registry.AddHistogram({
//               .name = "tangelo_ledger_apply_latency_seconds",
//               .help = "Time to apply one batch.",
//               .unit = telemetry::Unit::kNanoseconds,
//               .application = telemetry::Application::kLedger})) {}
//     telemetry::Counter& transfers_total;
//     telemetry::HistogramMetric& apply_latency;
//   };
//
// Naming rules, checked at registration (a bad declaration is a programmer
// error and asserts): names match tangelo_[a-z0-9_]+ (by convention
// tangelo_<application>_<thing>_<unit>), counters end in _total, a time unit
// puts _seconds before any _total, bytes put _bytes there, ratios _ratio.
// Every series carries the `application` label and, unless the path is
// kNone, a `path` label, plus at most kMetricExtraLabelsMax extra labels.
//
// Registering the same name and labels twice returns the same metric (two
// engine shards may share a counter); the same name with a different type,
// help, unit or buckets asserts. Metrics live as long as the Registry and
// are never removed; only callback gauges are unregistered, by their handle.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "telemetry/application.h"
#include "telemetry/histogram.h"
#include "telemetry/metrics.h"

namespace tangelo::io {
class Clock;
}  // namespace tangelo::io

namespace tangelo::telemetry {

// Extra labels per series beyond application and path. Labels multiply
// series; more than a handful is a cardinality bug, not a need.
inline constexpr uint32_t kMetricExtraLabelsMax = 4;
// Explicit `le` boundaries per histogram.
inline constexpr uint32_t kHistogramBoundsMax = 32;
// Characters in a metric name, label name or label value.
inline constexpr uint32_t kMetricNameLengthMax = 128;
inline constexpr uint32_t kLabelValueLengthMax = 128;
inline constexpr uint32_t kMetricHelpLengthMax = 512;

enum class MetricType : uint8_t {
  kCounter = 1,
  kGauge = 2,
  kHistogram = 3,
};
// "counter", "gauge", "histogram" (the Prometheus TYPE words).
std::string_view MetricTypeName(MetricType type);

// The unit values are recorded in. Time units are exported in seconds (the
// Prometheus base unit), so code records integers in whatever unit its clock
// gives and the exporter scales.
enum class Unit : uint8_t {
  kNone = 0,  // A dimensionless count.
  kBytes = 1,
  kNanoseconds = 2,
  kMicroseconds = 3,
  kMilliseconds = 4,
  kSeconds = 5,
  kRatio = 6,  // A fraction in [0, 1] (callback gauges: error budget left).
};
// How many recorded units make one exported unit: 1e9 for kNanoseconds,
// 1e6 for kMicroseconds, 1e3 for kMilliseconds, 1 otherwise.
uint64_t UnitsPerExportedUnit(Unit unit);
bool IsTimeUnit(Unit unit);

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
};

// What a module declares. Designated initializers keep declarations
// readable; application is required.
struct MetricSpec {
  std::string_view name;
  std::string_view help;
  Unit unit = Unit::kNone;
  Application application{};  // Required: 0 is not an application.
  CriticalPath path = CriticalPath::kNone;
  std::vector<Label> labels{};  // Extra labels, at most kMetricExtraLabelsMax.
  // Histograms only: `le` boundaries in recorded units (for example SLO
  // thresholds in ns), strictly increasing, at most kHistogramBoundsMax.
  // Empty: powers of two over a range that suits the unit (DefaultBounds).
  // A boundary that is a bucket upper bound (HistogramBuckets) is counted
  // exactly; any other is counted conservatively (values certainly <= it),
  // undercounting by at most 3.125% of its value.
  std::vector<uint64_t> histogram_bounds{};
};

// The validated, immutable form of a registered series. Shared with
// snapshots, so a snapshot stays readable after a callback gauge goes away.
struct MetricDescriptor {
  std::string name;
  std::string help;
  MetricType type = MetricType::kCounter;
  Unit unit = Unit::kNone;
  Application application{};
  CriticalPath path = CriticalPath::kNone;
  std::vector<Label> labels;
  std::vector<uint64_t> histogram_bounds;  // Histograms only; never empty.
};

// The default `le` boundaries for a histogram in `unit`: powers of two, from
// about 1 µs to about 30 s for time units, 64 B to 64 MiB for bytes, 1 to
// 2^20 otherwise. All are exact bucket bounds.
std::vector<uint64_t> DefaultHistogramBounds(Unit unit);

// Summary of a histogram at collection time: enough for dashboards (the
// quantiles) and for the Prometheus exporter (cumulative bound counts).
struct HistogramSummary {
  uint64_t count = 0;
  uint64_t sum = 0;  // Recorded units; wraps modulo 2^64.
  uint64_t min = 0;
  uint64_t max = 0;
  uint64_t p50 = 0;
  uint64_t p90 = 0;
  uint64_t p99 = 0;
  uint64_t p999 = 0;
  // cumulative_counts[i] = values <= descriptor.histogram_bounds[i].
  std::vector<uint64_t> cumulative_counts;
};

// One series' value at collection time.
struct MetricSample {
  std::shared_ptr<const MetricDescriptor> descriptor;
  uint64_t counter_value = 0;  // kCounter, in recorded units.
  double gauge_value = 0;      // kGauge, in recorded units.
  HistogramSummary histogram;  // kHistogram.

  const std::string& name() const { return descriptor->name; }
  MetricType type() const { return descriptor->type; }
};

// Every series' value, sorted by name and then labels, so one family's
// series are adjacent. A plain value: safe to keep, copy and hand to another
// thread. The console and the SLO engine diff successive snapshots.
struct MetricsSnapshot {
  // Clock readings when collected, or 0 if Collect() got no clock.
  uint64_t realtime_ns = 0;
  uint64_t monotonic_ns = 0;
  std::vector<MetricSample> samples;

  // The series with exactly these labels, or nullptr. `labels` are the
  // extra labels, in declaration order.
  const MetricSample* Find(std::string_view name, Application application,
                           CriticalPath path = CriticalPath::kNone,
                           std::span<const Label> labels = {}) const;
  // Every series of the family `name` (for summing across labels).
  std::vector<const MetricSample*> FindAll(std::string_view name) const;
  // The sum of the counter family `name` over every series that matches the
  // given application and path (nullopt matches any), whatever the extra
  // labels: "all authorization requests the api saw". 0 if none match.
  uint64_t SumCounter(std::string_view name,
                      std::optional<Application> application = std::nullopt,
                      std::optional<CriticalPath> path = std::nullopt) const;
};

class Registry;

// Keeps a callback gauge registered; unregisters it on destruction, so the
// callback can never run after the object it reads is gone. Movable.
class [[nodiscard]] CallbackGaugeHandle {
 public:
  CallbackGaugeHandle() = default;
  CallbackGaugeHandle(CallbackGaugeHandle&& other) noexcept;
  CallbackGaugeHandle& operator=(CallbackGaugeHandle&& other) noexcept;
  ~CallbackGaugeHandle();
  // Unregisters now; afterwards the handle is empty.
  void Reset();
  bool registered() const { return registry_ != nullptr; }

 private:
  friend class Registry;
  CallbackGaugeHandle(Registry* registry, std::string key)
      : registry_(registry), key_(std::move(key)) {}
  Registry* registry_ = nullptr;
  std::string key_;
};

// Owns every registered metric. Thread safe: registration and collection
// take one mutex (start-up and scrape time only; recording never touches the
// registry). Must outlive every reference to its metrics and every
// CallbackGaugeHandle.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Declares a series and returns the metric to record into. Asserts on a
  // spec that breaks the naming rules or conflicts with the same name
  // registered before with a different type, help, unit or bounds.
  Counter& AddCounter(const MetricSpec& spec);
  Gauge& AddGauge(const MetricSpec& spec);
  HistogramMetric& AddHistogram(const MetricSpec& spec);

  // A gauge whose value `read` computes at collection time (queue depth,
  // error budget left). `read` runs on the collecting thread while the
  // registry's lock is held: it must be thread safe, quick, and must not
  // call back into the registry. Asserts if the series already exists.
  CallbackGaugeHandle AddCallbackGauge(const MetricSpec& spec, std::function<double()> read);

  // Reads every series. `clock`, if given, stamps the snapshot.
  MetricsSnapshot Collect(io::Clock* clock = nullptr) const;

  // Number of registered series.
  size_t SeriesCount() const;

 private:
  friend class CallbackGaugeHandle;
  struct Series;

  Series& AddSeries(const MetricSpec& spec, MetricType type);
  void RemoveCallback(const std::string& key);

  mutable std::mutex mutex_;
  // Keyed by name, then labels: iteration order is export order.
  std::map<std::string, std::unique_ptr<Series>> series_;
  // One entry per name, to keep a family's type, help, unit and bounds
  // consistent across its series.
  std::map<std::string, std::shared_ptr<const MetricDescriptor>, std::less<>> families_;
};

}  // namespace tangelo::telemetry
