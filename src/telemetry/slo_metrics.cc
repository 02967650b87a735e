#include "telemetry/slo_metrics.h"

#include <string>
#include <utility>

namespace tangelo::telemetry {

std::vector<uint64_t> RequestDurationBoundsNs() {
  std::vector<uint64_t> bounds;
  bounds.reserve(kRequestDurationBoundsMs.size());
  for (uint64_t ms : kRequestDurationBoundsMs) bounds.push_back(ms * 1'000'000);
  return bounds;
}

namespace {

std::vector<Label> Outcome(std::string_view outcome) {
  return {Label{std::string(kOutcomeLabel), std::string(outcome)}};
}

Counter& Requests(Registry& registry, Application application, CriticalPath path,
                  std::string_view outcome) {
  return registry.AddCounter({.name = kRequestsTotalMetric,
                              .help = "Requests answered, by outcome (error: a system error).",
                              .application = application,
                              .path = path,
                              .labels = Outcome(outcome)});
}

}  // namespace

ApplicationStats::ApplicationStats(Registry& registry, Application application,
                                   CriticalPath path)
    : registry_(registry),
      application_(application),
      requests_ok_(Requests(registry, application, path, kOutcomeOk)),
      requests_error_(Requests(registry, application, path, kOutcomeError)),
      request_duration_(registry.AddHistogram({.name = kRequestDurationMetric,
                                               .help = "Time to answer one request.",
                                               .unit = Unit::kNanoseconds,
                                               .application = application,
                                               .path = path,
                                               .histogram_bounds = RequestDurationBoundsNs()})),
      restarts_(registry.AddCounter({.name = kRestartsMetric,
                                     .help = "Restarts of the application or its components.",
                                     .application = application})),
      journal_fsync_(registry.AddHistogram({.name = kJournalFsyncMetric,
                                            .help = "Time of one journal fsync.",
                                            .unit = Unit::kNanoseconds,
                                            .application = application,
                                            .histogram_bounds = RequestDurationBoundsNs()})) {}

CallbackGaugeHandle ApplicationStats::AddQueue(std::string_view queue, uint64_t capacity,
                                               std::function<double()> depth) {
  std::vector<Label> labels = {Label{"queue", std::string(queue)}};
  registry_
      .AddGauge({.name = kQueueCapacityMetric,
                 .help = "Entries a bounded queue can hold.",
                 .application = application_,
                 .labels = labels})
      .Set(static_cast<int64_t>(capacity));
  return registry_.AddCallbackGauge({.name = kQueueDepthMetric,
                                     .help = "Entries waiting in a bounded queue.",
                                     .application = application_,
                                     .labels = std::move(labels)},
                                    std::move(depth));
}

CallbackGaugeHandle ApplicationStats::AddConnections(uint64_t connections_max,
                                                     std::function<double()> open) {
  registry_
      .AddGauge({.name = kConnectionsMaxMetric,
                 .help = "Connections the application accepts at most.",
                 .application = application_})
      .Set(static_cast<int64_t>(connections_max));
  return registry_.AddCallbackGauge({.name = kConnectionsOpenMetric,
                                     .help = "Connections open now.",
                                     .application = application_},
                                    std::move(open));
}

}  // namespace tangelo::telemetry
