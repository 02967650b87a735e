// FakeClientDecisionGateway: an in-process ClientDecisionGateway that plays
// the client's endpoint, for tests and simulations.
//
// It goes through the real wire format: each Send encodes the request body,
// the scripted "client" builds an HTTP answer (status, signed headers, body;
// or a timeout, a refused connection, a 5xx, a malformed body, a bad
// signature), and InterpretClientAnswer turns it into the outcome the
// listener receives, exactly as the HTTP gateway does. So a test of a bad
// signature exercises the signature check, not a shortcut.
//
// Calls queue until DeliverAll() (or Deliver for one authorization) so tests
// decide when answers arrive; kLost never answers (the engine's deadline
// timer must clean up). Thread safe: one mutex; listeners are called without
// it held, on the thread that delivers.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "authorizer/client_decision.h"

namespace tangelo::authorizer {

class FakeClientDecisionGateway final : public ClientDecisionGateway {
 public:
  enum class Behavior : uint8_t {
    kApprove,
    kDecline,
    kApprovePartial,  // Approves `partial_amount_minor`.
    kTimeout,         // The transport gives up at the deadline.
    kServerError,     // 503.
    kRefused,         // Nothing listens.
    kMalformed,       // 200, correctly signed, but not a decision.
    kBadSignature,    // Signed with another secret.
    kLost,            // Never answers (a lost callback).
  };
  struct Script {
    Behavior behavior = Behavior::kApprove;
    uint64_t partial_amount_minor = 0;
  };

  // `secret` is the program's signing secret; `now_seconds` the clock the
  // signatures are made and checked with.
  FakeClientDecisionGateway(std::string secret, uint64_t now_seconds)
      : secret_(std::move(secret)), now_seconds_(now_seconds) {}

  // What the client does for one authorization (by default the default
  // script, kApprove unless set); read when the call is delivered.
  void SetScript(AuthorizationId id, Script script);
  void SetDefaultScript(Script script);

  void Send(const ClientDecisionRequest& request, uint64_t deadline_monotonic_ns,
            ClientDecisionListener* listener) override;

  // Answers every queued call (kLost ones are dropped); returns how many
  // listeners were called.
  size_t DeliverAll();
  // Answers the queued calls of one authorization.
  size_t Deliver(AuthorizationId id);

  size_t queued() const;
  size_t sent() const;
  // The last request body sent (as the endpoint would have received it).
  std::string last_body() const;

 private:
  struct Call {
    ClientDecisionRequest request;
    ClientDecisionListener* listener;
  };
  // What the scripted client answers, played when the call is delivered (so
  // a script set after Send still applies).
  ClientDecisionAnswer Play(const Call& call, const Script& script) const;
  size_t DeliverMatching(bool all, AuthorizationId id);

  const std::string secret_;
  const uint64_t now_seconds_;
  mutable std::mutex mutex_;
  std::map<uint64_t, Script> scripts_;
  Script default_script_;
  std::vector<Call> queue_;
  size_t sent_ = 0;
  std::string last_body_;
};

}  // namespace tangelo::authorizer
