// HttpClientDecisionGateway: the client's real-time decision over HTTP, on
// src/net's HttpClient (pooled keep-alive connections, many calls in flight,
// a deadline per call).
//
// Each Send POSTs EncodeClientDecisionBody(request) to the program's URL,
// signed with HMAC-SHA256 over "<timestamp>.<body>" under the program's
// secret (X-Tangelo-Timestamp, X-Tangelo-Signature), and hands whatever
// happens to InterpretClientAnswer, whose outcome goes to the listener, on
// the HTTP client's loop thread, exactly once. Transport results map as:
// timeout -> kTimeout; refused, reset, network error, overloaded, shutdown,
// invalid URL, no endpoint configured -> kRefused (the client is
// unavailable); a response head or body we cannot read -> kMalformed.
// The wire format is docs/authorizer/client-decision.md.
//
// Endpoints (URL and secret per program) come from configuration through a
// ClientEndpointDirectory, never from the journal: secrets must not be in
// journals or snapshots.
//
// Thread safety: Send from any thread. The HttpClient and the directory must
// outlive the gateway; listeners must outlive their calls.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "authorizer/client_decision.h"
#include "io/clock.h"
#include "issuing/types.h"
#include "net/http_client.h"

namespace tangelo::authorizer {

struct ClientEndpoint {
  std::string url;     // http://host:port/path (see net::HttpClient for allowed hosts).
  std::string secret;  // kClientSecretLengthMin..kClientSecretLengthMax bytes.
};

// Where each program's client decides. Thread safe.
class ClientEndpointDirectory {
 public:
  virtual ~ClientEndpointDirectory() = default;
  virtual std::optional<ClientEndpoint> Find(issuing::TenantId tenant_id,
                                             issuing::ProgramId program_id) const = 0;
};

// A directory kept in memory, set from configuration. Thread safe (a mutex;
// one lookup per client call).
class StaticClientEndpointDirectory final : public ClientEndpointDirectory {
 public:
  // Returns false (and stores nothing) for a secret outside the allowed length.
  bool Set(issuing::TenantId tenant_id, issuing::ProgramId program_id, ClientEndpoint endpoint);
  void Remove(issuing::TenantId tenant_id, issuing::ProgramId program_id);
  std::optional<ClientEndpoint> Find(issuing::TenantId tenant_id,
                                     issuing::ProgramId program_id) const override;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<uint64_t, uint64_t>, ClientEndpoint> endpoints_;
};

class HttpClientDecisionGateway final : public ClientDecisionGateway {
 public:
  // `clock` gives the signing timestamp (realtime) and deadlines (monotonic).
  HttpClientDecisionGateway(net::HttpClient* client, const ClientEndpointDirectory* endpoints,
                            io::Clock* clock);

  void Send(const ClientDecisionRequest& request, uint64_t deadline_monotonic_ns,
            ClientDecisionListener* listener) override;

 private:
  net::HttpClient* client_;
  const ClientEndpointDirectory* endpoints_;
  io::Clock* clock_;
};

}  // namespace tangelo::authorizer
