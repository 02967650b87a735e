#include "telemetry/slo_engine.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "io/clock.h"
#include "telemetry/rules.h"
#include "telemetry/slo_metrics.h"

namespace tangelo::telemetry {
namespace {

constexpr uint64_t kNsPerMs = 1'000'000;
constexpr uint64_t kMsPerDay = 24ull * 3600 * 1000;
// Burn rates are compared in thousandths so 14.4 is exact.
constexpr uint64_t kBurnRateScale = 1000;
// Counts per entity before the SLO pairs: requests, errors.
constexpr size_t kEntityTrafficCounts = 2;

bool HasApplication(const std::vector<Application>& applications, Application application) {
  return std::find(applications.begin(), applications.end(), application) != applications.end();
}

std::string_view LabelValue(const MetricDescriptor& descriptor, std::string_view name) {
  for (const Label& label : descriptor.labels) {
    if (label.name == name) return label.value;
  }
  return {};
}

uint64_t Delta(uint64_t newest, uint64_t oldest) { return newest >= oldest ? newest - oldest : 0; }

double Ratio(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

// bad / valid > burn_rate * (1 - objective), exactly.
bool BurnsFaster(uint64_t bad, uint64_t valid, uint32_t objective_ppm, uint64_t burn_rate_milli) {
  if (valid == 0) return false;
  using Wide = unsigned __int128;
  const Wide lhs = static_cast<Wide>(bad) * kPartsPerMillion * kBurnRateScale;
  const Wide rhs = static_cast<Wide>(burn_rate_milli) * valid * (kPartsPerMillion - objective_ppm);
  return lhs > rhs;
}

// Entity 0 of a path is its SLI applications together; entity 1 + i is
// spec.applications[i].
bool EntityMatches(const CriticalPathSpec& spec, size_t entity, Application application) {
  return entity == 0 ? HasApplication(spec.sli_applications, application)
                     : spec.applications[entity - 1] == application;
}

// Adds a histogram's cumulative counts at its first `bounds` bounds, then
// its total count, to buckets[0 .. bounds].
void AddBuckets(const MetricSample& sample, size_t bounds, uint64_t* buckets) {
  for (size_t i = 0; i < bounds && i < sample.histogram.cumulative_counts.size(); ++i) {
    buckets[i] += sample.histogram.cumulative_counts[i];
  }
  buckets[bounds] += sample.histogram.count;
}

// The q-quantile in seconds of a histogram with `bounds_ns` whose
// cumulative count at bound i is count_at(i) and whose total is
// count_at(bounds_ns.size()); interpolated inside the bucket like
// Prometheus' histogram_quantile (the +Inf bucket gives the highest finite
// bound). nullopt for an empty histogram.
template <typename CountAt>
std::optional<double> Quantile(const std::vector<uint64_t>& bounds_ns, CountAt count_at,
                               double q) {
  const uint64_t total = count_at(bounds_ns.size());
  if (total == 0) return std::nullopt;
  const double rank = q * static_cast<double>(total);
  double lower_seconds = 0;
  uint64_t lower_count = 0;
  for (size_t i = 0; i < bounds_ns.size(); ++i) {
    const double upper_seconds = static_cast<double>(bounds_ns[i]) / 1e9;
    const uint64_t count = count_at(i);
    if (static_cast<double>(count) >= rank && count > lower_count) {
      return lower_seconds + (upper_seconds - lower_seconds) *
                                 (rank - static_cast<double>(lower_count)) /
                                 static_cast<double>(count - lower_count);
    }
    lower_seconds = upper_seconds;
    lower_count = count;
  }
  return lower_seconds;
}

}  // namespace

// Where one path's counts sit in a sample: entity 0 is the path (its SLI
// applications together), entity 1 + i is spec.applications[i]; each entity
// holds requests, errors, then (valid, bad) per SLO; the probe's total and
// ok runs follow the entities.
struct SloEngine::PathLayout {
  const CriticalPathSpec* spec = nullptr;
  size_t offset = 0;
  size_t stride = 0;
  size_t entities = 0;
  size_t probe_offset = 0;
  size_t latency_first = 0;
};

// A preallocated ring of fixed-width samples with their monotonic times.
class SloEngine::Ring {
 public:
  Ring(size_t slots, size_t width) : slots_(slots), width_(width), values_(slots * width),
                                      times_ms_(slots) {}
  void Push(uint64_t time_ms, const std::vector<uint64_t>& values) {
    const size_t slot = (first_ + count_) % slots_;
    std::copy(values.begin(), values.end(), values_.begin() + static_cast<ptrdiff_t>(slot * width_));
    times_ms_[slot] = time_ms;
    if (count_ < slots_) {
      ++count_;
    } else {
      first_ = (first_ + 1) % slots_;
    }
  }
  size_t count() const { return count_; }
  uint64_t TimeAt(size_t index) const { return times_ms_[(first_ + index) % slots_]; }
  const uint64_t* At(size_t index) const {
    return values_.data() + ((first_ + index) % slots_) * width_;
  }
  // The newest sample taken at or before `time_ms`, or the oldest held.
  size_t AtOrBefore(uint64_t time_ms) const {
    size_t low = 0;
    size_t high = count_;  // First index with time > time_ms.
    while (low < high) {
      const size_t middle = (low + high) / 2;
      if (TimeAt(middle) <= time_ms) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low == 0 ? 0 : low - 1;
  }

 private:
  size_t slots_;
  size_t width_;
  std::vector<uint64_t> values_;
  std::vector<uint64_t> times_ms_;
  size_t first_ = 0;
  size_t count_ = 0;
};

SloEngine::SloEngine(CriticalPathConfig config, Registry& registry, SloEngineOptions options)
    : config_(std::move(config)), options_(options) {
  TG_ASSERT_MSG(options_.sample_interval_ms >= 1000 && options_.sample_interval_ms <= 300'000,
                "sample_interval_ms out of range");
  latency_bounds_ns_ = RequestDurationBoundsNs();
  latency_bounds_ = latency_bounds_ns_.size() + 1;
  uint64_t longest_window_ms = 0;
  for (const BurnRateAlertSpec& alert : config_.burn_rate_alerts) {
    longest_window_ms = std::max<uint64_t>(longest_window_ms, alert.long_window_minutes * 60'000ull);
  }
  for (const CriticalPathSpec& spec : config_.paths) {
    PathLayout layout;
    layout.spec = &spec;
    layout.offset = width_;
    layout.stride = kEntityTrafficCounts + 2 * spec.slos.size();
    layout.entities = 1 + spec.applications.size();
    layout.probe_offset = layout.offset + layout.stride * layout.entities;
    layout.latency_first = latency_entities_;
    for (const SloSpec& slo : spec.slos) {
      longest_window_ms = std::max<uint64_t>(longest_window_ms, slo.window_days * kMsPerDay);
    }
    width_ = layout.probe_offset + 2;
    latency_entities_ += layout.entities;
    layouts_.push_back(std::move(layout));

    const Application entry = spec.applications.front();
    auto probe_counter = [&](std::string_view outcome) -> Counter* {
      return &registry.AddCounter({.name = kProbeTotalMetric,
                                   .help = "Synthetic probe runs of a critical path.",
                                   .application = entry,
                                   .path = spec.path,
                                   .labels = {Label{std::string(kOutcomeLabel),
                                                    std::string(outcome)}}});
    };
    probes_.push_back(ProbeMetrics{
        .path = spec.path,
        .ok = probe_counter(kOutcomeOk),
        .error = probe_counter(kOutcomeError),
        .duration = &registry.AddHistogram({.name = kProbeDurationMetric,
                                            .help = "Time of one synthetic probe run.",
                                            .unit = Unit::kNanoseconds,
                                            .application = entry,
                                            .path = spec.path,
                                            .histogram_bounds = RequestDurationBoundsNs()})});
    for (const SloSpec& slo : spec.slos) {
      for (const BurnRateAlertSpec& row : config_.burn_rate_alerts) {
        alerts_.push_back(AlertState{.alert_name = row.name,
                                     .severity = row.severity,
                                     .path = spec.path,
                                     .slo = slo.name});
      }
    }
  }
  const size_t fine_slots = kFineHistoryMs / options_.sample_interval_ms + 1;
  const size_t coarse_slots = longest_window_ms / kCoarseIntervalMs + 2;
  rings_.emplace_back(fine_slots, width_);
  rings_.emplace_back(coarse_slots, width_);
  scratch_.resize(width_);
  latency_history_.resize(kLatencyHistorySlots * latency_entities_ * latency_bounds_);
  latency_times_ms_.resize(kLatencyHistorySlots);

  // The common alerts of every application.
  application_stride_ = 3 + 2 * latency_bounds_;
  const uint64_t application_window_ms =
      std::max<uint64_t>(kCommonAlertWindowMinutes, config_.common.restarts_window_minutes) *
      60'000;
  application_ring_.emplace_back(application_window_ms / options_.sample_interval_ms + 2,
                                 application_stride_ * config_.applications.size());
  application_scratch_.resize(application_stride_ * config_.applications.size());
  queue_saturation_.resize(config_.applications.size());
  connection_saturation_.resize(config_.applications.size());
  application_alerts_first_ = alerts_.size();
  for (Application application : config_.applications) {
    for (std::string_view name : {kHighErrorRateAlert, kHighLatencyAlert, kQueueSaturatedAlert,
                                  kFsyncSlowAlert, kConnectionsSaturatedAlert, kRestartingAlert}) {
      alerts_.push_back(AlertState{.alert_name = std::string(name),
                                   .severity = name == kRestartingAlert ? "ticket" : "page",
                                   .path = CriticalPath::kNone,
                                   .slo = {},
                                   .application = application});
    }
  }
  condition_since_ms_.resize(alerts_.size() - application_alerts_first_);
}

void SloEngine::ExtractApplications(const MetricsSnapshot& snapshot) {
  std::fill(application_scratch_.begin(), application_scratch_.end(), 0);
  std::fill(queue_saturation_.begin(), queue_saturation_.end(), 0.0);
  std::fill(connection_saturation_.begin(), connection_saturation_.end(), 0.0);
  for (size_t a = 0; a < config_.applications.size(); ++a) {
    const Application application = config_.applications[a];
    uint64_t* counts = application_scratch_.data() + a * application_stride_;
    for (const MetricSample& sample : snapshot.samples) {
      const MetricDescriptor& descriptor = *sample.descriptor;
      if (descriptor.application != application) continue;
      const std::string& name = descriptor.name;
      if (descriptor.type == MetricType::kCounter) {
        if (name == kRequestsTotalMetric) {
          counts[0] += sample.counter_value;
          if (LabelValue(descriptor, kOutcomeLabel) == kOutcomeError) {
            counts[1] += sample.counter_value;
          }
        } else if (name == kRestartsMetric) {
          counts[2] += sample.counter_value;
        }
      } else if (descriptor.type == MetricType::kHistogram &&
                 descriptor.histogram_bounds == latency_bounds_ns_ &&
                 (name == kRequestDurationMetric || name == kJournalFsyncMetric)) {
        AddBuckets(sample, latency_bounds_ - 1,
                   counts + 3 + (name == kRequestDurationMetric ? 0 : latency_bounds_));
      } else if (descriptor.type == MetricType::kGauge && name == kQueueDepthMetric) {
        // The capacity gauge of the same queue (same labels).
        const MetricSample* capacity =
            snapshot.Find(kQueueCapacityMetric, application, descriptor.path, descriptor.labels);
        if (capacity != nullptr && capacity->gauge_value > 0) {
          queue_saturation_[a] =
              std::max(queue_saturation_[a], sample.gauge_value / capacity->gauge_value);
        }
      } else if (descriptor.type == MetricType::kGauge && name == kConnectionsOpenMetric) {
        const MetricSample* connections_max =
            snapshot.Find(kConnectionsMaxMetric, application, descriptor.path, descriptor.labels);
        if (connections_max != nullptr && connections_max->gauge_value > 0) {
          connection_saturation_[a] = std::max(
              connection_saturation_[a], sample.gauge_value / connections_max->gauge_value);
        }
      }
    }
  }
}

void SloEngine::EvaluateApplicationAlerts(uint64_t now_ms, uint64_t realtime_ns) {
  const Ring& ring = application_ring_.front();
  const CommonAlertThresholds& common = config_.common;
  const uint64_t for_ms = common.for_minutes * 60'000ull;
  const uint64_t* newest = ring.At(ring.count() - 1);
  auto oldest_at = [&](uint64_t window_ms) {
    return ring.At(ring.AtOrBefore(now_ms >= window_ms ? now_ms - window_ms : 0));
  };
  const uint64_t* rate_oldest = oldest_at(kCommonAlertWindowMinutes * 60'000);
  const uint64_t* restart_oldest = oldest_at(common.restarts_window_minutes * 60'000ull);
  size_t next = application_alerts_first_;
  for (size_t a = 0; a < config_.applications.size(); ++a) {
    const size_t at = a * application_stride_;
    auto delta = [&](size_t i) { return Delta(newest[at + i], rate_oldest[at + i]); };
    auto p99 = [&](size_t first) {
      return Quantile(latency_bounds_ns_, [&](size_t i) { return delta(first + i); }, 0.99);
    };
    const uint64_t requests = delta(0);
    const double error_ratio = Ratio(delta(1), requests);
    const std::optional<double> latency_p99 = p99(3);
    const std::optional<double> fsync_p99 = p99(3 + latency_bounds_);
    const double restarts =
        static_cast<double>(Delta(newest[at + 2], restart_oldest[at + 2]));
    struct Condition {
      bool holds;
      double value;
      uint64_t for_ms;
    };
    const Condition conditions[] = {
        {requests > 0 && error_ratio > common.error_ratio_max, error_ratio, for_ms},
        {latency_p99.has_value() &&
             *latency_p99 > static_cast<double>(common.latency_p99_ms_max) / 1000.0,
         latency_p99.value_or(0), for_ms},
        {queue_saturation_[a] > common.queue_saturation_ratio_max, queue_saturation_[a], for_ms},
        {fsync_p99.has_value() &&
             *fsync_p99 > static_cast<double>(common.journal_fsync_p99_ms_max) / 1000.0,
         fsync_p99.value_or(0), for_ms},
        {connection_saturation_[a] > common.connections_saturation_ratio_max,
         connection_saturation_[a], for_ms},
        {restarts > 0, restarts, 0},
    };
    for (const Condition& condition : conditions) {
      AlertState& state = alerts_[next];
      uint64_t& since_ms = condition_since_ms_[next - application_alerts_first_];
      ++next;
      state.value = condition.value;
      if (!condition.holds) {
        since_ms = 0;
        state.firing = false;
        state.firing_since_realtime_ns = 0;
        continue;
      }
      if (since_ms == 0) since_ms = now_ms;  // Pending from now (monotonic ms > 0).
      const bool firing = now_ms - since_ms >= condition.for_ms;
      if (firing && !state.firing) state.firing_since_realtime_ns = realtime_ns;
      state.firing = firing;
    }
  }
}

SloEngine::~SloEngine() = default;

bool SloEngine::RecordProbe(CriticalPath path, bool ok, uint64_t latency_ns) {
  for (ProbeMetrics& probe : probes_) {
    if (probe.path != path) continue;
    (ok ? probe.ok : probe.error)->Increment();
    probe.duration->Record(latency_ns);
    return true;
  }
  return false;
}

void SloEngine::Extract(const MetricsSnapshot& snapshot, std::vector<uint64_t>* out) const {
  std::fill(out->begin(), out->end(), 0);
  for (const PathLayout& layout : layouts_) {
    const CriticalPathSpec& spec = *layout.spec;
    for (const MetricSample& sample : snapshot.samples) {
      const MetricDescriptor& descriptor = *sample.descriptor;
      if (descriptor.path != spec.path) continue;
      if (descriptor.name == kProbeTotalMetric) {
        (*out)[layout.probe_offset] += sample.counter_value;
        if (LabelValue(descriptor, kOutcomeLabel) == kOutcomeOk) {
          (*out)[layout.probe_offset + 1] += sample.counter_value;
        }
        continue;
      }
      for (size_t entity = 0; entity < layout.entities; ++entity) {
        if (!EntityMatches(spec, entity, descriptor.application)) continue;
        uint64_t* counts = out->data() + layout.offset + entity * layout.stride;
        if (descriptor.name == kRequestsTotalMetric && descriptor.type == MetricType::kCounter) {
          counts[0] += sample.counter_value;
          if (LabelValue(descriptor, kOutcomeLabel) == kOutcomeError) {
            counts[1] += sample.counter_value;
          }
        }
        for (size_t s = 0; s < spec.slos.size(); ++s) {
          const SloSpec& slo = spec.slos[s];
          uint64_t* pair = counts + kEntityTrafficCounts + 2 * s;
          if (slo.kind == SloKind::kAvailability && descriptor.name == slo.requests_metric &&
              descriptor.type == MetricType::kCounter) {
            pair[0] += sample.counter_value;
            if (LabelValue(descriptor, kOutcomeLabel) == slo.error_outcome) {
              pair[1] += sample.counter_value;
            }
          } else if (slo.kind == SloKind::kLatency && descriptor.name == slo.duration_metric &&
                     descriptor.type == MetricType::kHistogram) {
            // Good events: at or below the threshold bound of this series.
            const uint64_t threshold_ns = slo.threshold_ms * kNsPerMs;
            uint64_t good = 0;
            for (size_t i = 0; i < descriptor.histogram_bounds.size() &&
                               i < sample.histogram.cumulative_counts.size();
                 ++i) {
              if (descriptor.histogram_bounds[i] <= threshold_ns) {
                good = sample.histogram.cumulative_counts[i];
              }
            }
            pair[0] += sample.histogram.count;
            pair[1] += Delta(sample.histogram.count, good);
          }
        }
      }
    }
  }
}

base::Status SloEngine::Sample(const Registry& registry, io::Clock* clock) {
  return AddSnapshot(registry.Collect(clock));
}

base::Status SloEngine::AddSnapshot(const MetricsSnapshot& snapshot) {
  if (snapshot.monotonic_ns == 0) {
    return base::InvalidArgument("snapshot has no clock stamp (Collect without a clock)");
  }
  std::lock_guard lock(mutex_);
  if (snapshot.monotonic_ns < last_monotonic_ns_) {
    return base::InvalidArgument("snapshot older than the previous one");
  }
  last_monotonic_ns_ = snapshot.monotonic_ns;
  const uint64_t time_ms = snapshot.monotonic_ns / kNsPerMs;
  Extract(snapshot, &scratch_);
  rings_[0].Push(time_ms, scratch_);
  Ring& coarse = rings_[1];
  if (coarse.count() == 0 || time_ms >= coarse.TimeAt(coarse.count() - 1) + kCoarseIntervalMs) {
    coarse.Push(time_ms, scratch_);
  }

  // Latency buckets of every entity, from the convention's histogram.
  uint64_t* row = latency_history_.data() + latency_next_ * latency_entities_ * latency_bounds_;
  std::fill(row, row + latency_entities_ * latency_bounds_, 0);
  for (const PathLayout& layout : layouts_) {
    const CriticalPathSpec& spec = *layout.spec;
    for (const MetricSample& sample : snapshot.samples) {
      const MetricDescriptor& descriptor = *sample.descriptor;
      if (descriptor.path != spec.path || descriptor.name != kRequestDurationMetric ||
          descriptor.type != MetricType::kHistogram ||
          descriptor.histogram_bounds != latency_bounds_ns_) {
        continue;
      }
      for (size_t entity = 0; entity < layout.entities; ++entity) {
        if (!EntityMatches(spec, entity, descriptor.application)) continue;
        AddBuckets(sample, latency_bounds_ - 1,
                   row + (layout.latency_first + entity) * latency_bounds_);
      }
    }
  }
  latency_times_ms_[latency_next_] = time_ms;
  latency_next_ = (latency_next_ + 1) % kLatencyHistorySlots;
  latency_count_ = std::min(latency_count_ + 1, kLatencyHistorySlots);

  EvaluateAlerts(snapshot.realtime_ns);
  ExtractApplications(snapshot);
  application_ring_.front().Push(time_ms, application_scratch_);
  EvaluateApplicationAlerts(time_ms, snapshot.realtime_ns);
  return base::Status::Ok();
}

bool SloEngine::Window(uint64_t window_ms, const uint64_t** newest, const uint64_t** oldest,
                       uint64_t* span_ms) const {
  const Ring& fine = rings_[0];
  if (fine.count() == 0) return false;
  const uint64_t now_ms = fine.TimeAt(fine.count() - 1);
  const Ring& ring = window_ms <= kFineHistoryMs ? fine : rings_[1];
  const uint64_t target_ms = now_ms >= window_ms ? now_ms - window_ms : 0;
  const size_t index = ring.AtOrBefore(target_ms);
  *newest = fine.At(fine.count() - 1);
  *oldest = ring.At(index);
  *span_ms = now_ms - ring.TimeAt(index);
  return true;
}

LatencyPercentiles SloEngine::Percentiles(size_t latency_entity, uint64_t window_ms) const {
  LatencyPercentiles result;
  if (latency_count_ == 0) return result;
  const uint32_t newest_slot = (latency_next_ + kLatencyHistorySlots - 1) % kLatencyHistorySlots;
  const uint64_t now_ms = latency_times_ms_[newest_slot];
  const uint64_t target_ms = now_ms >= window_ms ? now_ms - window_ms : 0;
  // Walk back from the newest to the last slot at or before the target.
  uint32_t oldest_slot = newest_slot;
  for (uint32_t back = 1; back < latency_count_; ++back) {
    const uint32_t slot = (newest_slot + kLatencyHistorySlots - back) % kLatencyHistorySlots;
    oldest_slot = slot;
    if (latency_times_ms_[slot] <= target_ms) break;
  }
  auto buckets = [&](uint32_t slot) {
    return latency_history_.data() +
           (slot * latency_entities_ + latency_entity) * latency_bounds_;
  };
  const uint64_t* newest = buckets(newest_slot);
  const uint64_t* oldest = oldest_slot == newest_slot ? nullptr : buckets(oldest_slot);
  // With a single sample the window is everything since start.
  auto count_at = [&](size_t i) { return Delta(newest[i], oldest ? oldest[i] : 0); };
  result.p50_seconds = Quantile(latency_bounds_ns_, count_at, 0.5);
  result.p99_seconds = Quantile(latency_bounds_ns_, count_at, 0.99);
  result.p999_seconds = Quantile(latency_bounds_ns_, count_at, 0.999);
  return result;
}

TrafficStats SloEngine::Traffic(const uint64_t* newest, const uint64_t* oldest, uint64_t span_ms,
                                size_t entity_offset, size_t latency_entity,
                                uint64_t window_ms) const {
  TrafficStats traffic;
  traffic.requests = Delta(newest[entity_offset], oldest[entity_offset]);
  traffic.errors = Delta(newest[entity_offset + 1], oldest[entity_offset + 1]);
  traffic.error_ratio = Ratio(traffic.errors, traffic.requests);
  traffic.throughput_per_second =
      span_ms == 0 ? 0 : static_cast<double>(traffic.requests) * 1000.0 / static_cast<double>(span_ms);
  traffic.latency = Percentiles(latency_entity, std::min<uint64_t>(window_ms, 300'000));
  return traffic;
}

std::optional<PathReport> SloEngine::Report(CriticalPath path, uint64_t window_ms) const {
  std::lock_guard lock(mutex_);
  for (const PathLayout& layout : layouts_) {
    const CriticalPathSpec& spec = *layout.spec;
    if (spec.path != path) continue;
    PathReport report;
    report.path = path;
    report.window_ms = window_ms;
    const uint64_t* newest = nullptr;
    const uint64_t* oldest = nullptr;
    uint64_t span_ms = 0;
    const bool any = Window(window_ms, &newest, &oldest, &span_ms);
    for (size_t entity = 0; any && entity < layout.entities; ++entity) {
      TrafficStats traffic = Traffic(newest, oldest, span_ms, layout.offset + entity * layout.stride,
                                     layout.latency_first + entity, window_ms);
      if (entity == 0) {
        report.traffic = traffic;
      } else {
        report.applications.push_back({spec.applications[entity - 1], traffic});
      }
    }
    if (!any) {
      for (Application application : spec.applications) {
        report.applications.push_back({application, {}});
      }
    }
    report.event_availability_ratio = 1.0 - report.traffic.error_ratio;
    report.uptime_ratio = report.event_availability_ratio;
    if (any) {
      const uint64_t runs = Delta(newest[layout.probe_offset], oldest[layout.probe_offset]);
      const uint64_t ok = Delta(newest[layout.probe_offset + 1], oldest[layout.probe_offset + 1]);
      if (runs > 0) {
        report.probe_success_ratio = Ratio(ok, runs);
        report.uptime_ratio = std::min(report.uptime_ratio, *report.probe_success_ratio);
      }
    }
    for (size_t s = 0; s < spec.slos.size(); ++s) {
      const SloSpec& slo = spec.slos[s];
      SloReport slo_report{.name = slo.name, .kind = slo.kind,
                           .objective_ratio = slo.ObjectiveRatio()};
      const uint64_t* slo_newest = nullptr;
      const uint64_t* slo_oldest = nullptr;
      uint64_t slo_span_ms = 0;
      if (Window(slo.window_days * kMsPerDay, &slo_newest, &slo_oldest, &slo_span_ms)) {
        const size_t at = layout.offset + kEntityTrafficCounts + 2 * s;
        slo_report.valid_events = Delta(slo_newest[at], slo_oldest[at]);
        slo_report.bad_events = Delta(slo_newest[at + 1], slo_oldest[at + 1]);
      }
      if (slo_report.valid_events > 0) {
        slo_report.good_ratio = 1.0 - Ratio(slo_report.bad_events, slo_report.valid_events);
        slo_report.error_budget_remaining_ratio =
            1.0 - static_cast<double>(slo_report.bad_events) /
                      (static_cast<double>(slo_report.valid_events) * slo.ErrorBudgetRatio());
      }
      report.slos.push_back(std::move(slo_report));
    }
    return report;
  }
  return std::nullopt;
}

void SloEngine::EvaluateAlerts(uint64_t realtime_ns) {
  size_t next = 0;
  for (const PathLayout& layout : layouts_) {
    const CriticalPathSpec& spec = *layout.spec;
    for (size_t s = 0; s < spec.slos.size(); ++s) {
      const SloSpec& slo = spec.slos[s];
      const size_t at = layout.offset + kEntityTrafficCounts + 2 * s;
      for (const BurnRateAlertSpec& row : config_.burn_rate_alerts) {
        AlertState& state = alerts_[next++];
        const uint64_t rate_milli =
            static_cast<uint64_t>(row.burn_rate * static_cast<double>(kBurnRateScale) + 0.5);
        bool both = true;
        double burn[2] = {0, 0};
        const uint32_t windows[2] = {row.long_window_minutes, row.short_window_minutes};
        for (int w = 0; w < 2; ++w) {
          const uint64_t* newest = nullptr;
          const uint64_t* oldest = nullptr;
          uint64_t span_ms = 0;
          if (!Window(windows[w] * 60'000ull, &newest, &oldest, &span_ms)) {
            both = false;
            continue;
          }
          const uint64_t valid = Delta(newest[at], oldest[at]);
          const uint64_t bad = Delta(newest[at + 1], oldest[at + 1]);
          burn[w] = Ratio(bad, valid) / slo.ErrorBudgetRatio();
          both = both && BurnsFaster(bad, valid, slo.objective_ppm, rate_milli);
        }
        state.long_window_burn_rate = burn[0];
        state.short_window_burn_rate = burn[1];
        if (both && !state.firing) state.firing_since_realtime_ns = realtime_ns;
        if (!both) state.firing_since_realtime_ns = 0;
        state.firing = both;
      }
    }
  }
}

std::vector<AlertState> SloEngine::Alerts() const {
  std::lock_guard lock(mutex_);
  return alerts_;
}

std::vector<AlertState> SloEngine::FiringAlerts() const {
  std::lock_guard lock(mutex_);
  std::vector<AlertState> firing;
  for (const AlertState& state : alerts_) {
    if (state.firing) firing.push_back(state);
  }
  return firing;
}

}  // namespace tangelo::telemetry
