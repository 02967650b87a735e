// End-to-end test of the REST API over the real, durable core: ApiServer →
// EngineCore → engine::Engine (journal in a temporary directory) running
// authorizer::CoreStateMachine, talked to over loopback HTTP. Every response
// is checked against docs/api/openapi.yaml. Then the engine is restarted on
// the same directory and the balance the API reported is still there.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "api/api_server.h"
#include "api/engine_core.h"
#include "api/json_input.h"
#include "api/memory_core.h"
#include "authorizer/core_state_machine.h"
#include "e2e_util.h"
#include "http_test_client.h"
#include "io/clock.h"
#include "io/env.h"

namespace tangelo::api {
namespace {

using testing::HttpResult;
using testing::Num;
using testing::Str;

constexpr std::string_view kAdminToken = "engine-admin-token-0123456789";

authorizer::CoreCapacities Capacities() {
  authorizer::CoreCapacities capacities;
  capacities.ledger = ledger::LedgerCapacities{4096, 1u << 16};
  capacities.issuing.tenants_max = 16;
  capacities.issuing.programs_max = 64;
  capacities.issuing.users_max = 1024;
  capacities.issuing.accounts_max = 1024;
  capacities.issuing.cards_max = 1024;
  capacities.issuing.controls_max = 1024;
  capacities.authorizations_max = 4096;
  capacities.pending_client_decisions_max = 256;
  capacities.retransmissions_max = 4096;
  capacities.advice_outbox_max = 256;
  return capacities;
}

class Stack {
 public:
  explicit Stack(const std::string& directory) : machine_(Capacities()) {
    engine::EngineOptions options;
    options.env = &io::Env::Posix();
    options.clock = &clock_;
    options.directory = directory;
    auto opened = engine::Engine::Open(std::move(options), &machine_);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(*opened);
    engine_->Start();
    std::array<uint8_t, issuing::kPanKeySize> key_bytes{};
    key_bytes.fill(7);
    vault_ = std::make_unique<issuing::PanVault>(*issuing::PanKey::FromBytes(key_bytes));
    EngineCoreOptions core_options;
    core_options.engine = engine_.get();
    core_options.pan_vault = vault_.get();
    core_options.directory = &directory_;
    core_ = std::make_unique<EngineCore>(core_options);
  }
  ~Stack() {
    if (server_) server_->Shutdown(0);
    server_.reset();
    engine_->Stop();
  }
  void Serve() {
    ApiOptions options;
    options.port = 0;
    options.admin_token = std::string(kAdminToken);
    auto server = StartApiServer(options, *core_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }
  EngineCore& core() { return *core_; }
  uint16_t port() const { return server_->port(); }

 private:
  io::SystemClock clock_;
  authorizer::CoreStateMachine machine_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<issuing::PanVault> vault_;
  MemoryCore directory_;
  std::unique_ptr<EngineCore> core_;
  std::unique_ptr<ApiServer> server_;
};

HttpResult Call(testing::HttpTestClient& client, std::string_view method, std::string_view path,
                std::string_view token, std::string_view body = {}) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back("Authorization", "Bearer " + std::string(token));
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  HttpResult result = client.Call(method, path, body, headers);
  const std::string error = testing::Spec().Check(method, path.substr(0, path.find('?')),
                                                  result.status, result.Header("content-type"),
                                                  result.body);
  EXPECT_EQ(error, "") << method << " " << path << " -> " << result.status << " " << result.body;
  return result;
}

CoreReply Wait(Core& core, CoreRequest request) {
  std::atomic<bool> done{false};
  CoreReply out;
  core.Submit(std::move(request), [&](CoreReply&& reply) {
    out = std::move(reply);
    done = true;
  });
  while (!done) std::this_thread::yield();
  return out;
}

TEST(ApiEngineE2eTest, DurableAuthorizationPathOverHttp) {
  const std::string directory = ::testing::TempDir() + "/api_engine_e2e";
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  std::string account;
  std::string tenant;
  {
    Stack stack(directory);
    stack.Serve();
    testing::HttpTestClient client(stack.port());
    HttpResult r = Call(client, "POST", "/v1/tenants", kAdminToken, R"({"name":"Acme"})");
    ASSERT_EQ(r.status, 201) << r.body;
    tenant = Str(r.body, "/id");
    r = Call(client, "POST", "/v1/tenants/" + tenant + "/api_keys", kAdminToken);
    ASSERT_EQ(r.status, 201);
    const std::string key = Str(r.body, "/key");
    r = Call(client, "POST", "/v1/tenants", kAdminToken, R"({"name":"Other"})");
    const std::string other = Str(r.body, "/id");
    const std::string other_key =
        Str(Call(client, "POST", "/v1/tenants/" + other + "/api_keys", kAdminToken).body, "/key");

    r = Call(client, "POST", "/v1/programs", key, R"({"name":"Gold","currency":"EUR"})");
    ASSERT_EQ(r.status, 201) << r.body;
    const std::string program = Str(r.body, "/id");
    r = Call(client, "POST", "/v1/users", key, R"({"name":"Ada"})");
    ASSERT_EQ(r.status, 201) << r.body;
    const std::string user = Str(r.body, "/id");
    r = Call(client, "POST", "/v1/accounts", key,
             R"({"program_id":")" + program + R"(","user_id":")" + user + R"("})");
    ASSERT_EQ(r.status, 201) << r.body;
    account = Str(r.body, "/id");
    r = Call(client, "POST", "/v1/cards", key,
             R"({"user_id":")" + user + R"(","account_id":")" + account +
                 R"(","expiry_month":12,"expiry_year":2031,"status":"active"})");
    ASSERT_EQ(r.status, 201) << r.body;
    const std::string card = Str(r.body, "/id");
    EXPECT_EQ(Str(r.body, "/token").size(), 32u);

    r = Call(client, "POST", "/v1/accounts/" + account + "/credits", key,
             R"({"amount":10000,"currency":"EUR"})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Num(r.body, "/balance/available"), 10000u);
    r = Call(client, "POST", "/v1/simulate/authorizations", key,
             R"({"card_id":")" + card + R"(","amount":2500,"currency":"EUR","mcc":5411})");
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(Str(r.body, "/decision"), "approved");
    EXPECT_EQ(Str(r.body, "/response_code"), "00");
    EXPECT_EQ(Num(r.body, "/available_after"), 7500u);
    const std::string authorization = Str(r.body, "/id");
    r = Call(client, "POST", "/v1/simulate/authorizations", key,
             R"({"card_id":")" + card + R"(","amount":9000,"currency":"EUR"})");
    EXPECT_EQ(Str(r.body, "/decision"), "declined");
    EXPECT_EQ(Str(r.body, "/reason"), "INSUFFICIENT_FUNDS");
    EXPECT_EQ(Str(r.body, "/response_code"), "51");
    r = Call(client, "GET", "/v1/authorizations/" + authorization, key);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Num(r.body, "/held_amount"), 2500u);

    // Another tenant cannot see or use any of it.
    EXPECT_EQ(Call(client, "GET", "/v1/accounts/" + account + "/balance", other_key).status, 404);
    EXPECT_EQ(Call(client, "GET", "/v1/authorizations/" + authorization, other_key).status, 404);
    EXPECT_EQ(Call(client, "POST", "/v1/simulate/authorizations", other_key,
                   R"({"card_id":")" + card + R"(","amount":1,"currency":"EUR"})")
                  .status,
              404);
    EXPECT_EQ(Call(client, "POST", "/v1/simulate/reversals", other_key,
                   R"({"authorization_id":")" + authorization + R"("})")
                  .status,
              404);

    r = Call(client, "POST", "/v1/simulate/reversals", key,
             R"({"authorization_id":")" + authorization + R"(","amount":500})");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Num(r.body, "/held_amount"), 2000u);
    r = Call(client, "GET", "/v1/accounts/" + account + "/balance", key);
    EXPECT_EQ(Num(r.body, "/available"), 8000u);
    EXPECT_EQ(Num(r.body, "/pending"), 2000u);
    r = Call(client, "POST", "/v1/accounts/" + account + "/debits", key,
             R"({"amount":8001,"currency":"EUR"})");
    EXPECT_EQ(r.status, 422) << r.body;
    // An Idempotency-Key reaches the core: a retry the API's own (in-memory)
    // store no longer remembers still gets the original decision, one hold.
    AuthorizeRequest retry{};
    retry.tenant_id = ParseId("ten", tenant);
    retry.authorization_id = 99;
    retry.card_id = ParseId("crd", card);
    retry.amount_minor = 100;
    retry.currency_numeric = 978;
    retry.mcc = 5411;
    retry.channel = ChannelValue::kEcommerce;
    retry.idempotency_key = "retry-after-restart";
    const CoreReply first = Wait(stack.core(), retry);
    const CoreReply second = Wait(stack.core(), retry);
    ASSERT_EQ(first.status, CoreStatus::kOk);
    ASSERT_EQ(second.status, CoreStatus::kOk);
    EXPECT_EQ(std::get<Authorization>(first.object).id, std::get<Authorization>(second.object).id);
    EXPECT_EQ(std::get<Authorization>(first.object).decision, DecisionValue::kApproved);
    r = Call(client, "GET", "/v1/accounts/" + account + "/balance", key);
    EXPECT_EQ(Num(r.body, "/available"), 7900u) << "one hold of 100, not two";
    r = Call(client, "POST", "/v1/simulate/reversals", key,
             R"({"authorization_id":")" +
                 FormatId("aut", std::get<Authorization>(first.object).id) + R"("})");
    EXPECT_EQ(r.status, 200) << r.body;

    r = Call(client, "POST", "/v1/cards/" + card + "/status", key, R"({"status":"blocked"})");
    EXPECT_EQ(Str(r.body, "/status"), "blocked");
    r = Call(client, "POST", "/v1/simulate/authorizations", key,
             R"({"card_id":")" + card + R"(","amount":1,"currency":"EUR"})");
    EXPECT_EQ(Str(r.body, "/decision"), "declined");
  }
  // Restart on the same journal: what the API acknowledged survived.
  Stack restarted(directory);
  std::atomic<bool> done{false};
  CoreReply recovered;
  restarted.core().Submit(GetAccountRequest{ParseId("ten", tenant), ParseId("acc", account)},
                          [&](CoreReply&& reply) {
                            recovered = std::move(reply);
                            done = true;
                          });
  while (!done) std::this_thread::yield();
  ASSERT_EQ(recovered.status, CoreStatus::kOk);
  EXPECT_EQ(std::get<Account>(recovered.object).available_minor, 8000u);
  EXPECT_EQ(std::get<Account>(recovered.object).pending_minor, 2000u);
  EXPECT_EQ(std::get<Account>(recovered.object).posted_minor, 10000u);
  // Still scoped by tenant after recovery.
  done = false;
  restarted.core().Submit(GetAccountRequest{ParseId("ten", tenant) + 1, ParseId("acc", account)},
                          [&](CoreReply&& reply) {
                            recovered = std::move(reply);
                            done = true;
                          });
  while (!done) std::this_thread::yield();
  EXPECT_EQ(recovered.status, CoreStatus::kNotFound);
}

}  // namespace
}  // namespace tangelo::api
