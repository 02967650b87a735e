#include "authorizer/fake_client_decision_gateway.h"

#include <utility>

namespace tangelo::authorizer {

void FakeClientDecisionGateway::SetScript(AuthorizationId id, Script script) {
  std::lock_guard lock(mutex_);
  scripts_[id.value()] = script;
}

void FakeClientDecisionGateway::SetDefaultScript(Script script) {
  std::lock_guard lock(mutex_);
  default_script_ = script;
}

void FakeClientDecisionGateway::Send(const ClientDecisionRequest& request, uint64_t,
                                     ClientDecisionListener* listener) {
  std::lock_guard lock(mutex_);
  // The body the endpoint receives: built exactly as the HTTP gateway builds it.
  last_body_ = EncodeClientDecisionBody(request);
  ++sent_;
  queue_.push_back(Call{request, listener});
}

ClientDecisionAnswer FakeClientDecisionGateway::Play(const Call& call,
                                                     const Script& script) const {
  ClientHttpResult result;
  const AuthorizationId id = call.request.authorization_id;
  const auto signed_answer = [&](std::string body, std::string_view secret) {
    result.status = 200;
    result.body = std::move(body);
    result.timestamp_header = std::to_string(now_seconds_);
    result.signature_header = SignClientPayload(secret, now_seconds_, result.body);
  };
  switch (script.behavior) {
    case Behavior::kApprove:
      signed_answer(EncodeClientAnswerBody(id, ClientDecisionOutcome::kApprove, 0), secret_);
      break;
    case Behavior::kDecline:
      signed_answer(EncodeClientAnswerBody(id, ClientDecisionOutcome::kDecline, 0), secret_);
      break;
    case Behavior::kApprovePartial:
      signed_answer(EncodeClientAnswerBody(id, ClientDecisionOutcome::kApprovePartial,
                                           script.partial_amount_minor),
                    secret_);
      break;
    case Behavior::kTimeout:
      result.transport = ClientHttpResult::Transport::kTimeout;
      break;
    case Behavior::kServerError:
      result.status = 503;
      result.body = "{\"error\":\"unavailable\"}";
      break;
    case Behavior::kRefused:
      result.transport = ClientHttpResult::Transport::kRefused;
      break;
    case Behavior::kMalformed:
      signed_answer("{\"decision\":", secret_);
      break;
    case Behavior::kBadSignature:
      signed_answer(EncodeClientAnswerBody(id, ClientDecisionOutcome::kApprove, 0),
                    "not-the-program-secret");
      break;
    case Behavior::kLost:
      break;  // Never played.
  }
  return InterpretClientAnswer(call.request, result, secret_, now_seconds_);
}

size_t FakeClientDecisionGateway::DeliverMatching(bool all, AuthorizationId id) {
  std::vector<std::pair<Call, Script>> due;
  {
    std::lock_guard lock(mutex_);
    std::vector<Call> kept;
    for (Call& call : queue_) {
      if (all || call.request.authorization_id == id) {
        const auto found = scripts_.find(call.request.authorization_id.value());
        due.emplace_back(call, found != scripts_.end() ? found->second : default_script_);
      } else {
        kept.push_back(std::move(call));
      }
    }
    queue_ = std::move(kept);
  }
  size_t delivered = 0;
  for (const auto& [call, script] : due) {
    if (script.behavior == Behavior::kLost) continue;
    call.listener->OnClientDecision(call.request, Play(call, script));
    ++delivered;
  }
  return delivered;
}

size_t FakeClientDecisionGateway::DeliverAll() { return DeliverMatching(true, AuthorizationId()); }

size_t FakeClientDecisionGateway::Deliver(AuthorizationId id) { return DeliverMatching(false, id); }

size_t FakeClientDecisionGateway::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

size_t FakeClientDecisionGateway::sent() const {
  std::lock_guard lock(mutex_);
  return sent_;
}

std::string FakeClientDecisionGateway::last_body() const {
  std::lock_guard lock(mutex_);
  return last_body_;
}

}  // namespace tangelo::authorizer
