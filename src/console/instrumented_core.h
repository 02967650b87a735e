// InstrumentedCore: an api::Core decorator that records every request the
// REST API (or the demo traffic and the synthetic probe, which enter at the
// same seam) hands to the core into the metrics convention
// (telemetry/slo_metrics.h) as application "api": authorizations and
// reversals on the `authorization` path, everything else on no path.
//
// What it measures, honestly: the time from Core::Submit to the core's
// reply (the engine made the decision durable), not the HTTP parsing before
// it. A system error is a reply of kOverloaded, kUnavailable or kInternal;
// business outcomes (declines, not found, insufficient funds) are answers.
//
// Ownership: borrows the inner core, the registry and the clock, which must
// outlive it. Thread safety: as the inner core (Submit from any thread);
// recording is lock-free. Cost: one extra std::function per request.
#pragma once

#include "api/core.h"
#include "io/clock.h"
#include "telemetry/registry.h"
#include "telemetry/slo_metrics.h"

namespace tangelo::console {

// True for the statuses that mean the request was not answered properly.
bool IsSystemError(api::CoreStatus status);

class InstrumentedCore final : public api::Core {
 public:
  InstrumentedCore(api::Core* inner, telemetry::Registry& registry, io::Clock* clock);

  void Submit(api::CoreRequest request, api::CoreCallback done) override;
  std::vector<api::ApiKey> LoadApiKeys() override { return inner_->LoadApiKeys(); }

 private:
  api::Core* inner_;
  io::Clock* clock_;
  telemetry::ApplicationStats authorization_;
  telemetry::ApplicationStats other_;
};

}  // namespace tangelo::console
