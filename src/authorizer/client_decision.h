// The client's real-time decision, I/O side: what is sent to the program's
// endpoint, how its signed answer is checked, and the gateway interface that
// carries the call off the engine thread.
//
// Flow (docs/authorizer/client-decision.md):
//   1. The engine answers an authorization with kPendingClientDecision and a
//      provisional hold; the front door builds a ClientDecisionRequest from
//      that reply and the original request (MakeClientDecisionRequest) and
//      calls ClientDecisionGateway::Send with a monotonic deadline.
//   2. The gateway POSTs EncodeClientDecisionBody(request) to the endpoint,
//      signed with HMAC-SHA256 over "<timestamp>.<body>" under the program's
//      secret (headers X-Tangelo-Timestamp, X-Tangelo-Signature), and turns
//      whatever happens (an answer, 5xx, refusal, timeout, bad signature) into
//      a ClientDecisionAnswer with InterpretClientAnswer.
//   3. The listener submits MakeClientDecisionResult(request, answer) to the
//      engine (kClientDecisionResult); its reply is the final decision, which
//      the front door sends to the network.
//   The engine's own deadline timer applies stand-in if step 3 never comes.
//
// Everything here runs on I/O threads; nothing touches engine state.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "authorizer/entries.h"
#include "issuing/types.h"

namespace tangelo::authorizer {

// Bytes of a program's signing secret.
inline constexpr size_t kClientSecretLengthMin = 16;
inline constexpr size_t kClientSecretLengthMax = 128;
// An answer whose signed timestamp is further than this from our clock is
// refused as a replay or a broken clock.
inline constexpr uint64_t kClientSignatureSkewSecondsMax = 300;
// Bytes of a client answer body we read; larger is malformed.
inline constexpr size_t kClientAnswerBodyBytesMax = 4096;

// What the client is asked about one authorization (or increment).
struct ClientDecisionRequest {
  AuthorizationId authorization_id;
  RequestKey request_key;  // Echoed into the result entry (KeyOf the request).
  issuing::TenantId tenant_id;
  issuing::ProgramId program_id;
  issuing::CardId card_id;
  issuing::UserId user_id;
  AuthorizationType type = AuthorizationType::kPurchase;
  bool incremental = false;
  uint64_t amount_minor = 0;  // What waits for the client (an increment: the increment).
  uint16_t currency_numeric = 0;
  uint16_t mcc = 0;
  uint16_t merchant_country_numeric = 0;
  issuing::Channel channel = issuing::Channel::kCardPresent;
  bool contactless = false;
  std::array<char, 16> merchant_id{};
  uint64_t transmission_time_ns = 0;
  uint64_t engine_deadline_ns = 0;  // Realtime; for the client's information.
};

// Precondition: pending.decision == kPendingClientDecision and `request` is
// the request that got it (for an increment: increment.request).
ClientDecisionRequest MakeClientDecisionRequest(const DecisionReply& pending,
                                                const AuthorizationRequest& request,
                                                const RequestKey& request_key, bool incremental);

struct ClientDecisionAnswer {
  ClientDecisionOutcome outcome = ClientDecisionOutcome::kTimeout;
  uint64_t approved_amount_minor = 0;  // kApprovePartial only.
};

// The engine entry that delivers an answer.
ClientDecisionResultEntry MakeClientDecisionResult(const ClientDecisionRequest& request,
                                                   const ClientDecisionAnswer& answer);

// ---------------------------------------------------------------- wire format

// The JSON body of the request (compact, fields in a fixed order).
std::string EncodeClientDecisionBody(const ClientDecisionRequest& request);

// Lowercase hex HMAC-SHA256 of "<timestamp_seconds>.<body>" under `secret`.
std::string SignClientPayload(std::string_view secret, uint64_t timestamp_seconds,
                              std::string_view body);

// A client's answer body: {"authorization_id":"…","decision":"approve"|
// "decline"|"approve_partial","amount_minor":N} (amount only when partial).
std::string EncodeClientAnswerBody(AuthorizationId id, ClientDecisionOutcome outcome,
                                   uint64_t approved_amount_minor);

// How an HTTP exchange ended, as the transport saw it.
struct ClientHttpResult {
  enum class Transport : uint8_t { kAnswered, kTimeout, kRefused };
  Transport transport = Transport::kAnswered;
  uint16_t status = 0;
  std::string timestamp_header;  // X-Tangelo-Timestamp of the answer.
  std::string signature_header;  // X-Tangelo-Signature of the answer.
  std::string body;
};

// The outcome of one exchange: timeout and refusal as such; 5xx is
// kServerError; any other non-200 status, an unparseable body, a body about
// another authorization, an unknown decision or a partial amount of 0 is
// kMalformed; a missing, stale (kClientSignatureSkewSecondsMax) or wrong
// signature is kBadSignature (checked before the body is parsed). A partial
// amount at least the requested amount is a full approval. Never throws.
ClientDecisionAnswer InterpretClientAnswer(const ClientDecisionRequest& request,
                                           const ClientHttpResult& result,
                                           std::string_view secret, uint64_t now_seconds);

// ---------------------------------------------------------------- gateway

class ClientDecisionListener {
 public:
  virtual ~ClientDecisionListener() = default;
  // Called exactly once per Send, on a gateway thread. Must not block.
  virtual void OnClientDecision(const ClientDecisionRequest& request,
                                const ClientDecisionAnswer& answer) = 0;
};

// Carries client decisions to the programs' endpoints. Implementations:
// FakeClientDecisionGateway (in process, for tests and simulations); the
// HTTP one comes with src/net's client (see the module README).
class ClientDecisionGateway {
 public:
  virtual ~ClientDecisionGateway() = default;
  // Starts a call and returns at once. `deadline_monotonic_ns` is io::Clock
  // monotonic time; the listener is called exactly once, at the latest with
  // kTimeout at the deadline. Thread safe.
  virtual void Send(const ClientDecisionRequest& request, uint64_t deadline_monotonic_ns,
                    ClientDecisionListener* listener) = 0;
};

}  // namespace tangelo::authorizer
