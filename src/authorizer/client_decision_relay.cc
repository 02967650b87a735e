#include "authorizer/client_decision_relay.h"

#include <chrono>
#include <thread>

#include "base/assert.h"

namespace tangelo::authorizer {

ClientDecisionRelay::ClientDecisionRelay(engine::Engine* engine, ClientDecisionGateway* gateway,
                                         io::Clock* clock)
    : engine_(engine), gateway_(gateway), clock_(clock) {
  TG_ASSERT(engine != nullptr && gateway != nullptr && clock != nullptr);
  waiting_.reserve(kClientDecisionsInFlightMax);
}

bool ClientDecisionRelay::Start(const DecisionReply& pending, const AuthorizationRequest& request,
                                const RequestKey& request_key, bool incremental,
                                engine::ReplySink* sink, uint64_t tag) {
  const ClientDecisionRequest call =
      MakeClientDecisionRequest(pending, request, request_key, incremental);
  {
    std::lock_guard lock(mutex_);
    if (waiting_.size() >= kClientDecisionsInFlightMax) return false;
    if (!waiting_.emplace(call.authorization_id.value(), Waiter{sink, tag}).second) {
      return false;  // Already asked (a retransmission): the first call answers.
    }
  }
  // The I/O deadline is the program's; the engine's own timer waits a grace
  // period longer, so this side's timeout normally decides first.
  const uint64_t program_deadline_ns =
      pending.deadline_ns > kClientDecisionGraceNs ? pending.deadline_ns - kClientDecisionGraceNs
                                                   : 0;
  const uint64_t now_ns = clock_->RealtimeNs();
  const uint64_t remaining_ns = program_deadline_ns > now_ns ? program_deadline_ns - now_ns : 0;
  gateway_->Send(call, clock_->MonotonicNs() + remaining_ns, this);
  return true;
}

void ClientDecisionRelay::OnClientDecision(const ClientDecisionRequest& request,
                                           const ClientDecisionAnswer& answer) {
  Waiter waiter{nullptr, 0};
  {
    std::lock_guard lock(mutex_);
    const auto found = waiting_.find(request.authorization_id.value());
    if (found == waiting_.end()) return;  // Answered already.
    waiter = found->second;
    waiting_.erase(found);
  }
  const ClientDecisionResultEntry entry = MakeClientDecisionResult(request, answer);
  const uint64_t give_up_ns = clock_->MonotonicNs() + kSubmitRetryMaxUs * 1000;
  for (;;) {
    const engine::SubmitResult result =
        engine_->TrySubmit(static_cast<uint16_t>(EntryKind::kClientDecisionResult),
                           PayloadOf(entry), waiter.sink, waiter.tag);
    if (result == engine::SubmitResult::kAccepted) return;
    if (result != engine::SubmitResult::kQueueFull || clock_->MonotonicNs() >= give_up_ns) break;
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
}

uint64_t ClientDecisionRelay::in_flight() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

}  // namespace tangelo::authorizer
