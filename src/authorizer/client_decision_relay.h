// ClientDecisionRelay: the glue a front door uses between the engine and a
// ClientDecisionGateway, so the engine never waits on a client.
//
//   front door --kAuthorize--> engine --"pending" reply--> front door
//   front door: relay.Start(pending, request, key, sink, tag)
//   gateway (I/O thread) --answer--> relay.OnClientDecision
//   relay --kClientDecisionResult (sink, tag)--> engine --final reply--> sink
//
// The final decision reaches the front door's own ReplySink with the tag it
// gave Start, exactly like any engine reply (after its batch is durable).
//
// Bounded: at most kClientDecisionsInFlightMax calls at once; Start refuses
// more (the caller then submits a kRefused outcome itself, or lets the
// engine's deadline apply stand-in). If the engine's queue is full when an
// answer comes back, the relay retries for kSubmitRetryMaxUs and then counts
// the answer as dropped: the engine's deadline timer still resolves the
// authorization by stand-in, so no hold is left behind.
//
// Thread safety: Start from any thread; OnClientDecision from gateway
// threads. One mutex guards the in-flight table (per call, not per byte).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "authorizer/client_decision.h"
#include "engine/engine.h"
#include "io/clock.h"

namespace tangelo::authorizer {

inline constexpr uint32_t kClientDecisionsInFlightMax = 65536;

class ClientDecisionRelay final : public ClientDecisionListener {
 public:
  static constexpr uint64_t kSubmitRetryMaxUs = 2000;

  // None of the pointers is owned; all must outlive the relay.
  ClientDecisionRelay(engine::Engine* engine, ClientDecisionGateway* gateway, io::Clock* clock);

  // Starts the client call for a pending reply. The final decision is
  // delivered to (sink, tag). Returns false when too many calls are in
  // flight (nothing was started). Precondition: pending is kPending.
  bool Start(const DecisionReply& pending, const AuthorizationRequest& request,
             const RequestKey& request_key, bool incremental, engine::ReplySink* sink,
             uint64_t tag);

  void OnClientDecision(const ClientDecisionRequest& request,
                        const ClientDecisionAnswer& answer) override;

  uint64_t in_flight() const;
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Waiter {
    engine::ReplySink* sink;
    uint64_t tag;
  };

  engine::Engine* engine_;
  ClientDecisionGateway* gateway_;
  io::Clock* clock_;
  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, Waiter> waiting_;  // By authorization id.
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace tangelo::authorizer
