// The client's real-time decision, I/O side: the signed wire format, every
// way an answer can fail, and the fake gateway's behaviours through it.
#include "authorizer/client_decision.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "authorizer/fake_client_decision_gateway.h"

namespace tangelo::authorizer {
namespace {

constexpr std::string_view kSecret = "a-program-secret-of-32-bytes-0001";
constexpr uint64_t kNow = 1'800'000'000;

ClientDecisionRequest Request() {
  ClientDecisionRequest request;
  request.authorization_id = AuthorizationId((3ULL << 32) | 17);
  request.request_key = RequestKey{5, 6};
  request.tenant_id = issuing::TenantId(1);
  request.program_id = issuing::ProgramId(10);
  request.card_id = issuing::CardId(7);
  request.user_id = issuing::UserId(100);
  request.amount_minor = 4500;
  request.currency_numeric = 840;
  request.mcc = 5411;
  request.merchant_country_numeric = 840;
  std::memcpy(request.merchant_id.data(), "SHOP \"1\"", 8);
  request.transmission_time_ns = 42;
  return request;
}

ClientHttpResult Signed(std::string body, std::string_view secret = kSecret,
                        uint64_t at = kNow) {
  ClientHttpResult result;
  result.status = 200;
  result.body = std::move(body);
  result.timestamp_header = std::to_string(at);
  result.signature_header = SignClientPayload(secret, at, result.body);
  return result;
}

ClientDecisionOutcome Outcome(const ClientHttpResult& result) {
  return InterpretClientAnswer(Request(), result, kSecret, kNow).outcome;
}

TEST(ClientDecisionTest, RequestBodyIsStableJson) {
  EXPECT_EQ(EncodeClientDecisionBody(Request()),
            "{\"authorization_id\":\"12884901905\",\"tenant_id\":\"1\",\"program_id\":\"10\","
            "\"card_id\":\"7\",\"user_id\":\"100\",\"type\":\"purchase\",\"incremental\":false,"
            "\"amount\":{\"minor\":4500,\"currency\":\"USD\"},\"merchant\":{\"id\":\"SHOP "
            "\\\"1\\\"\",\"mcc\":5411,\"country\":840},\"channel\":\"card_present\","
            "\"contactless\":false,\"transmitted_at_ns\":\"42\",\"deadline_ns\":\"0\"}");
}

TEST(ClientDecisionTest, SignatureIsHmacSha256OfTimestampDotBody) {
  const std::string signature = SignClientPayload("key", 1, "body");
  EXPECT_EQ(signature.size(), 64u);
  EXPECT_EQ(signature, SignClientPayload("key", 1, "body"));
  EXPECT_NE(signature, SignClientPayload("key", 2, "body"));
  EXPECT_NE(signature, SignClientPayload("key2", 1, "body"));
  EXPECT_NE(signature, SignClientPayload("key", 1, "bodx"));
  // HMAC-SHA256("key", "1.body"), computed independently:
  //   printf '1.body' | openssl dgst -sha256 -hmac key
  EXPECT_EQ(signature, "91b5374b153842ad05b2c4eab9349b8321b14703165bd3fb8b034dfb8be98ae5");
}

TEST(ClientDecisionTest, AnswersAreInterpreted) {
  const AuthorizationId id = Request().authorization_id;
  EXPECT_EQ(Outcome(Signed(EncodeClientAnswerBody(id, ClientDecisionOutcome::kApprove, 0))),
            ClientDecisionOutcome::kApprove);
  EXPECT_EQ(Outcome(Signed(EncodeClientAnswerBody(id, ClientDecisionOutcome::kDecline, 0))),
            ClientDecisionOutcome::kDecline);
  const ClientDecisionAnswer partial = InterpretClientAnswer(
      Request(), Signed(EncodeClientAnswerBody(id, ClientDecisionOutcome::kApprovePartial, 3000)),
      kSecret, kNow);
  EXPECT_EQ(partial.outcome, ClientDecisionOutcome::kApprovePartial);
  EXPECT_EQ(partial.approved_amount_minor, 3000u);
  // Partial of at least the amount is a full approval; of zero is malformed.
  EXPECT_EQ(Outcome(Signed(EncodeClientAnswerBody(id, ClientDecisionOutcome::kApprovePartial,
                                                  4500))),
            ClientDecisionOutcome::kApprove);
  EXPECT_EQ(Outcome(Signed(EncodeClientAnswerBody(id, ClientDecisionOutcome::kApprovePartial,
                                                  0))),
            ClientDecisionOutcome::kMalformed);
  // Unknown fields are ignored.
  EXPECT_EQ(Outcome(Signed("{\"note\":{\"x\":[1,2]},\"decision\":\"approve\","
                           "\"authorization_id\":\"12884901905\"}")),
            ClientDecisionOutcome::kApprove);
}

TEST(ClientDecisionTest, TransportFailures) {
  ClientHttpResult timeout;
  timeout.transport = ClientHttpResult::Transport::kTimeout;
  EXPECT_EQ(Outcome(timeout), ClientDecisionOutcome::kTimeout);
  ClientHttpResult refused;
  refused.transport = ClientHttpResult::Transport::kRefused;
  EXPECT_EQ(Outcome(refused), ClientDecisionOutcome::kRefused);
  ClientHttpResult server_error = Signed("{}");
  server_error.status = 503;
  EXPECT_EQ(Outcome(server_error), ClientDecisionOutcome::kServerError);
  server_error.status = 404;
  EXPECT_EQ(Outcome(server_error), ClientDecisionOutcome::kMalformed);
}

TEST(ClientDecisionTest, BadSignaturesAreRefusedBeforeTheBodyIsRead) {
  const std::string body =
      EncodeClientAnswerBody(Request().authorization_id, ClientDecisionOutcome::kApprove, 0);
  EXPECT_EQ(Outcome(Signed(body, "another-secret-entirely-000000")),
            ClientDecisionOutcome::kBadSignature);
  ClientHttpResult tampered = Signed(body);
  tampered.body[tampered.body.size() - 3] = 'x';
  EXPECT_EQ(Outcome(tampered), ClientDecisionOutcome::kBadSignature);
  ClientHttpResult unsigned_answer = Signed(body);
  unsigned_answer.signature_header.clear();
  EXPECT_EQ(Outcome(unsigned_answer), ClientDecisionOutcome::kBadSignature);
  ClientHttpResult no_time = Signed(body);
  no_time.timestamp_header = "soon";
  EXPECT_EQ(Outcome(no_time), ClientDecisionOutcome::kBadSignature);
  // A correctly signed but stale (replayed) answer.
  EXPECT_EQ(Outcome(Signed(body, kSecret, kNow - kClientSignatureSkewSecondsMax - 1)),
            ClientDecisionOutcome::kBadSignature);
  EXPECT_EQ(Outcome(Signed(body, kSecret, kNow + kClientSignatureSkewSecondsMax)),
            ClientDecisionOutcome::kApprove);
  // Uppercase hex is another signature: compare exactly.
  ClientHttpResult upper = Signed(body);
  for (char& byte : upper.signature_header) byte = static_cast<char>(std::toupper(byte));
  EXPECT_EQ(Outcome(upper), ClientDecisionOutcome::kBadSignature);
}

TEST(ClientDecisionTest, MalformedBodies) {
  for (const char* body :
       {"", "null", "[]", "{", "{\"decision\":\"approve\"}",
        "{\"authorization_id\":\"12884901905\"}",
        "{\"authorization_id\":\"1\",\"decision\":\"approve\"}",
        "{\"authorization_id\":12884901905,\"decision\":\"approve\"}",
        "{\"authorization_id\":\"12884901905\",\"decision\":\"maybe\"}",
        "{\"authorization_id\":\"12884901905\",\"decision\":\"approve_partial\"}",
        "{\"authorization_id\":\"12884901905\",\"decision\":\"approve_partial\","
        "\"amount_minor\":-5}"}) {
    EXPECT_EQ(Outcome(Signed(body)), ClientDecisionOutcome::kMalformed) << body;
  }
  EXPECT_EQ(Outcome(Signed(std::string(kClientAnswerBodyBytesMax + 1, ' '))),
            ClientDecisionOutcome::kMalformed);
}

TEST(ClientDecisionTest, ResultEntryCarriesTheRequestKey) {
  ClientDecisionAnswer answer{ClientDecisionOutcome::kApprovePartial, 300};
  const ClientDecisionResultEntry entry = MakeClientDecisionResult(Request(), answer);
  EXPECT_EQ(entry.authorization_id, Request().authorization_id.value());
  EXPECT_EQ(entry.request_key_high, 5u);
  EXPECT_EQ(entry.request_key_low, 6u);
  EXPECT_EQ(entry.approved_amount_minor, 300u);
  ClientDecisionResultEntry decoded;
  EXPECT_TRUE(DecodeClientDecisionResult(PayloadOf(entry), &decoded));
  // An approved amount is dropped for any other outcome.
  answer.outcome = ClientDecisionOutcome::kApprove;
  EXPECT_EQ(MakeClientDecisionResult(Request(), answer).approved_amount_minor, 0u);
}

class RecordingListener final : public ClientDecisionListener {
 public:
  void OnClientDecision(const ClientDecisionRequest& request,
                        const ClientDecisionAnswer& answer) override {
    answers.emplace_back(request.authorization_id, answer);
  }
  std::vector<std::pair<AuthorizationId, ClientDecisionAnswer>> answers;
};

TEST(FakeClientDecisionGatewayTest, EveryBehaviourGoesThroughTheWireFormat) {
  using Behavior = FakeClientDecisionGateway::Behavior;
  const std::vector<std::pair<Behavior, ClientDecisionOutcome>> cases = {
      {Behavior::kApprove, ClientDecisionOutcome::kApprove},
      {Behavior::kDecline, ClientDecisionOutcome::kDecline},
      {Behavior::kApprovePartial, ClientDecisionOutcome::kApprovePartial},
      {Behavior::kTimeout, ClientDecisionOutcome::kTimeout},
      {Behavior::kServerError, ClientDecisionOutcome::kServerError},
      {Behavior::kRefused, ClientDecisionOutcome::kRefused},
      {Behavior::kMalformed, ClientDecisionOutcome::kMalformed},
      {Behavior::kBadSignature, ClientDecisionOutcome::kBadSignature},
  };
  FakeClientDecisionGateway gateway(std::string(kSecret), kNow);
  RecordingListener listener;
  uint64_t next_id = 1;
  for (const auto& [behavior, expected] : cases) {
    ClientDecisionRequest request = Request();
    request.authorization_id = AuthorizationId(next_id++);
    gateway.SetScript(request.authorization_id, {behavior, 1000});
    gateway.Send(request, 0, &listener);
  }
  EXPECT_EQ(gateway.queued(), cases.size());
  EXPECT_EQ(listener.answers.size(), 0u);  // Nothing until delivered.
  EXPECT_EQ(gateway.DeliverAll(), cases.size());
  ASSERT_EQ(listener.answers.size(), cases.size());
  for (size_t index = 0; index < cases.size(); ++index) {
    EXPECT_EQ(listener.answers[index].second.outcome, cases[index].second) << index;
  }
  EXPECT_EQ(listener.answers[2].second.approved_amount_minor, 1000u);
  EXPECT_NE(gateway.last_body().find("\"card_id\":\"7\""), std::string::npos);
}

TEST(FakeClientDecisionGatewayTest, LostCallsNeverAnswerAndDeliverIsPerAuthorization) {
  FakeClientDecisionGateway gateway(std::string(kSecret), kNow);
  RecordingListener listener;
  ClientDecisionRequest lost = Request();
  lost.authorization_id = AuthorizationId(1);
  ClientDecisionRequest kept = Request();
  kept.authorization_id = AuthorizationId(2);
  gateway.SetScript(lost.authorization_id, {FakeClientDecisionGateway::Behavior::kLost, 0});
  gateway.Send(lost, 0, &listener);
  gateway.Send(kept, 0, &listener);
  EXPECT_EQ(gateway.Deliver(lost.authorization_id), 0u);
  EXPECT_EQ(listener.answers.size(), 0u);
  EXPECT_EQ(gateway.queued(), 1u);
  EXPECT_EQ(gateway.Deliver(kept.authorization_id), 1u);
  EXPECT_EQ(listener.answers.at(0).second.outcome, ClientDecisionOutcome::kApprove);
  EXPECT_EQ(gateway.sent(), 2u);
}

}  // namespace
}  // namespace tangelo::authorizer
