#include "console/instrumented_core.h"

#include <utility>
#include <variant>

#include "base/assert.h"

namespace tangelo::console {

bool IsSystemError(api::CoreStatus status) {
  return status == api::CoreStatus::kOverloaded || status == api::CoreStatus::kUnavailable ||
         status == api::CoreStatus::kInternal;
}

InstrumentedCore::InstrumentedCore(api::Core* inner, telemetry::Registry& registry,
                                   io::Clock* clock)
    : inner_(inner),
      clock_(clock),
      authorization_(registry, telemetry::Application::kApi,
                     telemetry::CriticalPath::kAuthorization),
      other_(registry, telemetry::Application::kApi, telemetry::CriticalPath::kNone) {
  TG_ASSERT(inner_ != nullptr);
  TG_ASSERT(clock_ != nullptr);
}

void InstrumentedCore::Submit(api::CoreRequest request, api::CoreCallback done) {
  const bool on_path = std::holds_alternative<api::AuthorizeRequest>(request) ||
                       std::holds_alternative<api::ReverseRequest>(request);
  telemetry::ApplicationStats* stats = on_path ? &authorization_ : &other_;
  const uint64_t start_ns = clock_->MonotonicNs();
  inner_->Submit(std::move(request),
                 [stats, clock = clock_, start_ns, done = std::move(done)](api::CoreReply&& reply) {
                   const uint64_t now_ns = clock->MonotonicNs();
                   stats->RecordRequest(!IsSystemError(reply.status),
                                        now_ns > start_ns ? now_ns - start_ns : 0);
                   done(std::move(reply));
                 });
}

}  // namespace tangelo::console
