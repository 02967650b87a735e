// HttpClientDecisionGateway against a real local HTTP server playing the
// program's client: every outcome (approve, decline, partial, timeout, 5xx,
// refused connection, malformed and badly signed answers), many calls in
// flight over kept-alive connections, and the whole path through the engine:
// authorization -> pending -> relay -> HTTP -> final decision.
#include "authorizer/client_decision_http.h"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "authorizer/client_decision_relay.h"
#include "authorizer/client_endpoint_server.h"
#include "authorizer/core_state_machine.h"
#include "authorizer/test_harness.h"
#include "engine/engine.h"
#include "io/mem_env.h"
#include "net/event_loop.h"

namespace tangelo::authorizer {
namespace {

using testing::ClientEndpointServer;

constexpr std::string_view kSecret = "http-test-program-secret-000001";
const issuing::TenantId kTenant{1};
const issuing::ProgramId kProgram{10};

class WaitingListener final : public ClientDecisionListener {
 public:
  void OnClientDecision(const ClientDecisionRequest& request,
                        const ClientDecisionAnswer& answer) override {
    std::lock_guard lock(mutex_);
    answers_[request.authorization_id.value()] = answer;
    ++count_;
    ready_.notify_all();
  }
  ClientDecisionAnswer WaitFor(uint64_t id) {
    std::unique_lock lock(mutex_);
    EXPECT_TRUE(ready_.wait_for(lock, std::chrono::seconds(10),
                                [&] { return answers_.count(id) > 0; }))
        << "no answer for " << id;
    return answers_[id];
  }
  size_t WaitForCount(size_t count) {
    std::unique_lock lock(mutex_);
    ready_.wait_for(lock, std::chrono::seconds(20), [&] { return count_ >= count; });
    return count_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::map<uint64_t, ClientDecisionAnswer> answers_;
  size_t count_ = 0;
};

class HttpGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok());
    auto loop = net::EventLoopThread::Start(net::EventLoopOptions{}, "client-decide");
    ASSERT_TRUE(loop.ok()) << loop.status().ToString();
    loop_ = std::move(loop).value();
    auto client = net::HttpClient::Create(&loop_->loop(), net::HttpClientOptions{});
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
    ASSERT_TRUE(endpoints_.Set(kTenant, kProgram, {server_.url(), std::string(kSecret)}));
    gateway_ = std::make_unique<HttpClientDecisionGateway>(client_.get(), &endpoints_,
                                                          &io::SystemClock::Instance());
  }
  void TearDown() override {
    server_.Stop();  // Answers hanging requests first.
    gateway_.reset();
    client_.reset();
    loop_.reset();
  }

  ClientDecisionRequest Request(uint64_t id, uint64_t amount = 4500) {
    ClientDecisionRequest request;
    request.authorization_id = AuthorizationId(id);
    request.tenant_id = kTenant;
    request.program_id = kProgram;
    request.card_id = issuing::CardId(7);
    request.user_id = issuing::UserId(100);
    request.amount_minor = amount;
    request.currency_numeric = 840;
    return request;
  }

  ClientDecisionAnswer Ask(uint64_t id, ClientEndpointServer::Script script,
                           uint64_t deadline_ms = 1500) {
    server_.SetScript(id, script);
    gateway_->Send(Request(id),
                   io::SystemClock::Instance().MonotonicNs() + deadline_ms * 1'000'000,
                   &listener_);
    return listener_.WaitFor(id);
  }

  ClientEndpointServer server_{std::string(kSecret), &io::SystemClock::Instance()};
  std::unique_ptr<net::EventLoopThread> loop_;
  std::unique_ptr<net::HttpClient> client_;
  StaticClientEndpointDirectory endpoints_;
  std::unique_ptr<HttpClientDecisionGateway> gateway_;
  WaitingListener listener_;
};

TEST_F(HttpGatewayTest, EveryOutcome) {
  using B = ClientEndpointServer::Behavior;
  EXPECT_EQ(Ask(1, {B::kApprove, 0}).outcome, ClientDecisionOutcome::kApprove);
  EXPECT_EQ(Ask(2, {B::kDecline, 0}).outcome, ClientDecisionOutcome::kDecline);
  const ClientDecisionAnswer partial = Ask(3, {B::kApprovePartial, 3000});
  EXPECT_EQ(partial.outcome, ClientDecisionOutcome::kApprovePartial);
  EXPECT_EQ(partial.approved_amount_minor, 3000u);
  EXPECT_EQ(Ask(4, {B::kServerError, 0}).outcome, ClientDecisionOutcome::kServerError);
  EXPECT_EQ(Ask(5, {B::kMalformed, 0}).outcome, ClientDecisionOutcome::kMalformed);
  EXPECT_EQ(Ask(6, {B::kBadSignature, 0}).outcome, ClientDecisionOutcome::kBadSignature);
  EXPECT_EQ(Ask(7, {B::kHang, 0}, /*deadline_ms=*/150).outcome, ClientDecisionOutcome::kTimeout);
  // Tangelo signs every request it sends.
  EXPECT_EQ(server_.requests(), 7u);
  EXPECT_EQ(server_.bad_request_signatures(), 0u);
}

TEST_F(HttpGatewayTest, RefusedConnectionAndMissingEndpoint) {
  ASSERT_TRUE(endpoints_.Set(kTenant, issuing::ProgramId(11),
                             {ClientEndpointServer::RefusingUrl(), std::string(kSecret)}));
  ClientDecisionRequest request = Request(21);
  request.program_id = issuing::ProgramId(11);
  gateway_->Send(request, io::SystemClock::Instance().MonotonicNs() + 1'000'000'000, &listener_);
  EXPECT_EQ(listener_.WaitFor(21).outcome, ClientDecisionOutcome::kRefused);
  ClientDecisionRequest nowhere = Request(22);
  nowhere.program_id = issuing::ProgramId(99);  // No endpoint configured.
  gateway_->Send(nowhere, io::SystemClock::Instance().MonotonicNs() + 1'000'000'000, &listener_);
  EXPECT_EQ(listener_.WaitFor(22).outcome, ClientDecisionOutcome::kRefused);
  EXPECT_FALSE(endpoints_.Set(kTenant, kProgram, {server_.url(), "short"}));  // Weak secret.
}

TEST_F(HttpGatewayTest, ManyCallsInFlightShareKeptAliveConnections) {
  constexpr uint64_t kCalls = 400;
  for (uint64_t id = 1; id <= kCalls; ++id) {
    gateway_->Send(Request(100 + id), io::SystemClock::Instance().MonotonicNs() + 5'000'000'000,
                   &listener_);
  }
  EXPECT_EQ(listener_.WaitForCount(kCalls), kCalls);
  for (uint64_t id = 1; id <= kCalls; ++id) {
    EXPECT_EQ(listener_.WaitFor(100 + id).outcome, ClientDecisionOutcome::kApprove);
  }
  const net::HttpClientStats stats = client_->Stats();
  EXPECT_LE(stats.connections_opened, net::kHttpClientConnectionsPerHostDefault);
  EXPECT_GT(stats.connections_reused, 0u);
}

// The whole path: the engine answers "pending", the relay asks the client
// over HTTP, and the final decision reaches the front door's sink.
class CollectingSink final : public engine::ReplySink {
 public:
  void Complete(uint64_t tag, const engine::Reply& reply) override {
    std::lock_guard lock(mutex_);
    replies_[tag] = reply;
    ready_.notify_all();
  }
  engine::Reply WaitFor(uint64_t tag) {
    std::unique_lock lock(mutex_);
    EXPECT_TRUE(ready_.wait_for(lock, std::chrono::seconds(10),
                                [&] { return replies_.count(tag) > 0; }))
        << "no reply for tag " << tag;
    return replies_[tag];
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::map<uint64_t, engine::Reply> replies_;
};

TEST_F(HttpGatewayTest, EngineToClientAndBack) {
  io::MemEnv env(5);
  engine::EngineOptions options;
  options.env = &env;
  options.clock = &io::SystemClock::Instance();
  options.directory = "/core";
  options.batch_entries_max = 64;
  options.intake_capacity = 1024;
  CoreStateMachine machine(testing::SmallCapacities());
  auto opened = engine::Engine::Open(options, &machine);
  ASSERT_TRUE(opened.ok());
  engine::Engine& engine = **opened;
  engine.Start();
  CollectingSink sink;
  uint64_t tag = 1;
  const auto call = [&](EntryKind kind, std::span<const std::byte> payload) {
    const uint64_t my_tag = tag++;
    EXPECT_EQ(engine.TrySubmit(static_cast<uint16_t>(kind), payload, &sink, my_tag),
              engine::SubmitResult::kAccepted);
    return sink.WaitFor(my_tag);
  };
  testing::CoreHarness builder;
  const auto command = [&](const issuing::Command& value) {
    const std::vector<uint8_t> bytes = issuing::EncodeCommandToVector(value);
    const engine::Reply reply =
        call(EntryKind::kIssuingCommand, std::as_bytes(std::span(bytes.data(), bytes.size())));
    ASSERT_EQ(reply.code, 0u);
    ASSERT_EQ(reply.detail, 0u);
  };
  command(issuing::CreateTenant{kTenant, *issuing::MakeName("T")});
  command(issuing::CreateProgram{kTenant, kProgram, *issuing::MakeName("P"), testing::kUsd});
  issuing::SetRealtimeDecision realtime;
  realtime.tenant_id = kTenant;
  realtime.program_id = kProgram;
  realtime.settings.required = true;
  ASSERT_TRUE(realtime.settings.SetUrl(server_.url()));
  command(realtime);
  command(issuing::CreateUser{kTenant, issuing::UserId(100)});
  command(issuing::CreateAccount{kTenant, issuing::AccountId(1000), kProgram,
                                 issuing::UserId(100), issuing::LedgerAccountId(5000),
                                 testing::kUsd});
  // Cards must not be born expired: the engine runs on the real clock here.
  command(builder.MakeCard(kTenant, issuing::CardId(7), issuing::UserId(100),
                           issuing::AccountId(1000), testing::TestPan(7),
                           issuing::CardStatus::kActive, 2099, 12));
  FundAccountRequest funding;
  funding.direction = static_cast<uint8_t>(FundingDirection::kCredit);
  funding.currency_numeric = testing::kUsd;
  funding.tenant_id = 1;
  funding.account_id = 1000;
  funding.transfer_id = 1;
  funding.amount_minor = 100'000;
  ASSERT_EQ(call(EntryKind::kFundAccount, PayloadOf(funding)).detail, 0u);

  ClientDecisionRelay relay(&engine, gateway_.get(), &io::SystemClock::Instance());
  using B = ClientEndpointServer::Behavior;
  const std::vector<std::pair<B, Decision>> cases = {
      {B::kApprove, Decision::kApproved}, {B::kDecline, Decision::kDeclined},
      {B::kBadSignature, Decision::kDeclined}, {B::kServerError, Decision::kDeclined}};
  for (size_t index = 0; index < cases.size(); ++index) {
    builder.SetNow(io::SystemClock::Instance().RealtimeNs());
    const AuthorizationRequest request =
        builder.Purchase(7, 1000, static_cast<uint32_t>(index + 1));
    const DecisionReply pending =
        DecodeDecisionReply(call(EntryKind::kAuthorize, PayloadOf(request)));
    ASSERT_EQ(pending.decision, Decision::kPendingClientDecision);
    server_.SetScript(pending.authorization_id.value(), {cases[index].first, 0});
    const uint64_t final_tag = 1000 + index;
    ASSERT_TRUE(relay.Start(pending, request, KeyOf(request), false, &sink, final_tag));
    const DecisionReply final_decision = DecodeDecisionReply(sink.WaitFor(final_tag));
    EXPECT_EQ(final_decision.decision, cases[index].second) << index;
  }
  engine.Stop();
  EXPECT_EQ(machine.authorizations().live_count(), 1u);  // Only the approved one holds.
  EXPECT_EQ(machine.advices().size(), 2u);  // Stand-in for the bad signature and the 503.
  EXPECT_TRUE(machine.CheckAllInvariants().ok());
}

}  // namespace
}  // namespace tangelo::authorizer
