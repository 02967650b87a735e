#include "authorizer/client_decision_http.h"

#include <algorithm>

#include "base/assert.h"

namespace tangelo::authorizer {
namespace {

constexpr uint64_t kNanosPerMillisecond = 1'000'000;

ClientDecisionAnswer Unavailable() { return ClientDecisionAnswer{ClientDecisionOutcome::kRefused, 0}; }

}  // namespace

bool StaticClientEndpointDirectory::Set(issuing::TenantId tenant_id,
                                        issuing::ProgramId program_id, ClientEndpoint endpoint) {
  if (endpoint.secret.size() < kClientSecretLengthMin ||
      endpoint.secret.size() > kClientSecretLengthMax) {
    return false;
  }
  std::lock_guard lock(mutex_);
  endpoints_[{tenant_id.value(), program_id.value()}] = std::move(endpoint);
  return true;
}

void StaticClientEndpointDirectory::Remove(issuing::TenantId tenant_id,
                                           issuing::ProgramId program_id) {
  std::lock_guard lock(mutex_);
  endpoints_.erase({tenant_id.value(), program_id.value()});
}

std::optional<ClientEndpoint> StaticClientEndpointDirectory::Find(
    issuing::TenantId tenant_id, issuing::ProgramId program_id) const {
  std::lock_guard lock(mutex_);
  const auto found = endpoints_.find({tenant_id.value(), program_id.value()});
  if (found == endpoints_.end()) return std::nullopt;
  return found->second;
}

HttpClientDecisionGateway::HttpClientDecisionGateway(net::HttpClient* client,
                                                     const ClientEndpointDirectory* endpoints,
                                                     io::Clock* clock)
    : client_(client), endpoints_(endpoints), clock_(clock) {
  TG_ASSERT(client != nullptr && endpoints != nullptr && clock != nullptr);
}

void HttpClientDecisionGateway::Send(const ClientDecisionRequest& request,
                                     uint64_t deadline_monotonic_ns,
                                     ClientDecisionListener* listener) {
  std::optional<ClientEndpoint> endpoint = endpoints_->Find(request.tenant_id, request.program_id);
  const uint64_t now_ns = clock_->MonotonicNs();
  if (!endpoint.has_value()) {
    listener->OnClientDecision(request, Unavailable());  // Nobody to ask.
    return;
  }
  if (deadline_monotonic_ns <= now_ns) {
    listener->OnClientDecision(request, ClientDecisionAnswer{ClientDecisionOutcome::kTimeout, 0});
    return;
  }
  net::HttpClientRequest http;
  http.method = "POST";
  http.url = endpoint->url;
  http.body = EncodeClientDecisionBody(request);
  const uint64_t timestamp_seconds = clock_->RealtimeNs() / 1'000'000'000;
  http.headers = {
      {"Content-Type", "application/json"},
      {"X-Tangelo-Timestamp", std::to_string(timestamp_seconds)},
      {"X-Tangelo-Signature", SignClientPayload(endpoint->secret, timestamp_seconds, http.body)},
  };
  http.deadline_ms = std::max<uint64_t>(
      1, (deadline_monotonic_ns - now_ns + kNanosPerMillisecond - 1) / kNanosPerMillisecond);
  io::Clock* clock = clock_;
  client_->Send(std::move(http), [request, listener, clock, secret = std::move(endpoint->secret)](
                                     net::HttpClientResponse&& response) {
    ClientHttpResult result;
    switch (response.code) {
      case net::HttpClientResultCode::kOk:
        result.status = response.status;
        result.timestamp_header = std::string(response.Header("X-Tangelo-Timestamp").value_or(""));
        result.signature_header = std::string(response.Header("X-Tangelo-Signature").value_or(""));
        result.body = std::move(response.body);
        break;
      case net::HttpClientResultCode::kTimeout:
        result.transport = ClientHttpResult::Transport::kTimeout;
        break;
      case net::HttpClientResultCode::kMalformedResponse:
      case net::HttpClientResultCode::kBodyTooLarge:
        listener->OnClientDecision(request,
                                   ClientDecisionAnswer{ClientDecisionOutcome::kMalformed, 0});
        return;
      default:  // Refused, reset, network error, overloaded, shutdown, invalid URL.
        result.transport = ClientHttpResult::Transport::kRefused;
        break;
    }
    listener->OnClientDecision(
        request,
        InterpretClientAnswer(request, result, secret, clock->RealtimeNs() / 1'000'000'000));
  });
}

}  // namespace tangelo::authorizer
