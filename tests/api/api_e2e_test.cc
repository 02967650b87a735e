// End-to-end tests of the REST API: a real ApiServer on 127.0.0.1 port 0
// over MemoryCore (replies delivered from another thread, as the engine's
// journal thread does), talked to over loopback HTTP/1.1 with keep-alive.
// Every response received is checked against docs/api/openapi.yaml.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "api/api_server.h"
#include "api/memory_core.h"
#include "e2e_util.h"
#include "http_test_client.h"

namespace tangelo::api {
namespace {

using testing::HttpResult;
using testing::HttpTestClient;
using Headers = std::vector<std::pair<std::string, std::string>>;
using testing::Num;
using testing::Spec;
using testing::Str;

constexpr std::string_view kAdminToken = "admin-token-for-tests-0123456789";

class ApiE2eTest : public ::testing::Test {
 protected:
  void StartServer(RateLimit tenant_rate = {100000, 100000}) {
    MemoryCoreOptions core_options;
    core_options.deliver_on_thread = true;
    core_ = std::make_unique<MemoryCore>(core_options);
    ApiOptions options;
    options.port = 0;
    options.admin_token = std::string(kAdminToken);
    options.tenant_rate = tenant_rate;
    options.admin_rate = {100000, 100000};
    options.body_bytes_max = 4096;
    auto server = StartApiServer(options, *core_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    ASSERT_EQ(server_->warnings(), "");
    client_ = std::make_unique<HttpTestClient>(server_->port());
  }
  void SetUp() override { StartServer(); }
  void TearDown() override {
    client_.reset();
    if (server_) server_->Shutdown(0);
    server_.reset();
    core_.reset();
  }

  // A call whose response must conform to the spec.
  HttpResult Call(std::string_view method, std::string_view path, std::string_view token,
                  std::string_view body = {}, Headers headers = {},
                  HttpTestClient* client = nullptr) {
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + std::string(token));
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    HttpResult result = (client ? client : client_.get())->Call(method, path, body, headers);
    const size_t query = path.find('?');
    const std::string error =
        Spec().Check(method, path.substr(0, query), result.status,
                     result.Header("content-type"), result.body);
    EXPECT_EQ(error, "") << method << " " << path << " -> " << result.status << " "
                         << result.body;
    return result;
  }

  std::string Admin(std::string_view method, std::string_view path, std::string_view body = {}) {
    const HttpResult result = Call(method, path, kAdminToken, body);
    EXPECT_LT(result.status, 300) << result.body;
    return result.body;
  }

  // A tenant with one API key: returns {tenant id, key}.
  std::pair<std::string, std::string> NewTenant(std::string_view name) {
    const std::string tenant =
        Str(Admin("POST", "/v1/tenants", R"({"name":")" + std::string(name) + R"("})"), "/id");
    const std::string key = Str(Admin("POST", "/v1/tenants/" + tenant + "/api_keys"), "/key");
    return {tenant, key};
  }

  struct Objects {
    std::string program, user, account, card, authorization;
  };
  Objects Setup(const std::string& key, uint64_t credit = 10000) {
    Objects o;
    HttpResult r = Call("POST", "/v1/programs", key, R"({"name":"Gold","currency":"EUR"})");
    EXPECT_EQ(r.status, 201) << r.body;
    o.program = Str(r.body, "/id");
    r = Call("POST", "/v1/users", key, R"({"name":"Ada"})");
    EXPECT_EQ(r.status, 201) << r.body;
    o.user = Str(r.body, "/id");
    r = Call("POST", "/v1/accounts", key,
             R"({"program_id":")" + o.program + R"(","user_id":")" + o.user + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    o.account = Str(r.body, "/id");
    r = Call("POST", "/v1/cards", key,
             R"({"user_id":")" + o.user + R"(","account_id":")" + o.account +
                 R"(","expiry_month":12,"expiry_year":2031,"status":"active"})");
    EXPECT_EQ(r.status, 201) << r.body;
    o.card = Str(r.body, "/id");
    r = Call("POST", "/v1/accounts/" + o.account + "/credits", key,
             R"({"amount":)" + std::to_string(credit) + R"(,"currency":"EUR"})");
    EXPECT_EQ(r.status, 200) << r.body;
    r = Call("POST", "/v1/simulate/authorizations", key,
             R"({"card_id":")" + o.card + R"(","amount":100,"currency":"EUR"})");
    EXPECT_EQ(r.status, 201) << r.body;
    o.authorization = Str(r.body, "/id");
    return o;
  }

  uint64_t Available(const std::string& key, const std::string& account) {
    const HttpResult r = Call("GET", "/v1/accounts/" + account + "/balance", key);
    EXPECT_EQ(r.status, 200);
    return Num(r.body, "/available");
  }

  std::unique_ptr<MemoryCore> core_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<HttpTestClient> client_;
};

TEST_F(ApiE2eTest, EveryResourceLifecycle) {
  auto [tenant, key] = NewTenant("Acme");
  ASSERT_EQ(key.substr(0, 4), "tgk_");
  EXPECT_EQ(Str(Admin("GET", "/v1/tenants/" + tenant), "/name"), "Acme");
  const std::string keys = Admin("GET", "/v1/tenants/" + tenant + "/api_keys");
  EXPECT_EQ(keys.find("tgk_"), std::string::npos) << "a listed key must never show the key";

  Objects o = Setup(key, 10000);
  EXPECT_EQ(Available(key, o.account), 9900u);
  HttpResult r = Call("GET", "/v1/programs/" + o.program, key);
  EXPECT_EQ(Str(r.body, "/currency"), "EUR");
  r = Call("GET", "/v1/users/" + o.user, key);
  EXPECT_EQ(Str(r.body, "/status"), "active");
  r = Call("GET", "/v1/accounts/" + o.account, key);
  EXPECT_EQ(Num(r.body, "/balance/posted"), 10000u);
  EXPECT_EQ(Num(r.body, "/balance/pending"), 100u);
  r = Call("GET", "/v1/cards/" + o.card, key);
  EXPECT_EQ(Str(r.body, "/status"), "active");
  EXPECT_EQ(Str(r.body, "/last_four").size(), 4u);
  EXPECT_EQ(r.body.find("pan"), std::string::npos);

  // Authorization and reversal.
  r = Call("GET", "/v1/authorizations/" + o.authorization, key);
  EXPECT_EQ(Str(r.body, "/decision"), "approved");
  EXPECT_EQ(Str(r.body, "/response_code"), "00");
  r = Call("POST", "/v1/simulate/reversals", key,
           R"({"authorization_id":")" + o.authorization + R"(","amount":40})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Num(r.body, "/held_amount"), 60u);
  r = Call("POST", "/v1/simulate/reversals", key,
           R"({"authorization_id":")" + o.authorization + R"("})");
  EXPECT_EQ(Num(r.body, "/held_amount"), 0u);
  EXPECT_EQ(Available(key, o.account), 10000u);
  r = Call("POST", "/v1/simulate/reversals", key,
           R"({"authorization_id":")" + o.authorization + R"("})");
  EXPECT_EQ(r.status, 409);

  // Declines: insufficient funds, partial approval, MCC control, blocked card.
  r = Call("POST", "/v1/simulate/authorizations", key,
           R"({"card_id":")" + o.card + R"(","amount":20000,"currency":"EUR"})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(Str(r.body, "/decision"), "declined");
  EXPECT_EQ(Str(r.body, "/reason"), "INSUFFICIENT_FUNDS");
  EXPECT_EQ(Str(r.body, "/response_code"), "51");
  r = Call("POST", "/v1/simulate/authorizations", key,
           R"({"card_id":")" + o.card +
               R"(","amount":20000,"currency":"EUR","partial_approval_supported":true,)"
               R"("merchant_id":"M1","merchant_name":"Shop","mcc":5411,"channel":"ecommerce"})");
  EXPECT_EQ(Str(r.body, "/decision"), "partially_approved");
  EXPECT_EQ(Num(r.body, "/approved_amount"), 10000u);
  const std::string partial = Str(r.body, "/id");
  Call("POST", "/v1/simulate/reversals", key, R"({"authorization_id":")" + partial + R"("})");
  r = Call("PUT", "/v1/cards/" + o.card + "/controls", key,
           R"({"transaction_amount_max":5000,"mcc_deny":[7995],"channels_blocked":["atm"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = Call("POST", "/v1/simulate/authorizations", key,
           R"({"card_id":")" + o.card + R"(","amount":10,"currency":"EUR","mcc":7995})");
  EXPECT_EQ(Str(r.body, "/reason"), "MCC_BLOCKED");
  r = Call("POST", "/v1/simulate/authorizations", key,
           R"({"card_id":")" + o.card + R"(","amount":6000,"currency":"EUR"})");
  EXPECT_EQ(Str(r.body, "/reason"), "TRANSACTION_LIMIT_EXCEEDED");
  r = Call("POST", "/v1/cards/" + o.card + "/status", key, R"({"status":"blocked"})");
  EXPECT_EQ(Str(r.body, "/status"), "blocked");
  r = Call("POST", "/v1/simulate/authorizations", key,
           R"({"card_id":")" + o.card + R"(","amount":10,"currency":"EUR"})");
  EXPECT_EQ(Str(r.body, "/decision"), "declined");
  r = Call("POST", "/v1/cards/" + o.card + "/status", key, R"({"status":"closed"})");
  EXPECT_EQ(r.status, 200);
  r = Call("POST", "/v1/cards/" + o.card + "/status", key, R"({"status":"active"})");
  EXPECT_EQ(r.status, 409) << "CLOSED is terminal";
  EXPECT_EQ(Str(r.body, "/code"), "conflict");

  // Funding: debit, overdraft refused.
  r = Call("POST", "/v1/accounts/" + o.account + "/debits", key,
           R"({"amount":2500,"currency":"EUR"})");
  EXPECT_EQ(Num(r.body, "/balance/available"), 7500u);
  r = Call("POST", "/v1/accounts/" + o.account + "/debits", key,
           R"({"amount":7501,"currency":"EUR"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Str(r.body, "/code"), "insufficient_funds");
  r = Call("POST", "/v1/accounts/" + o.account + "/credits", key,
           R"({"amount":1,"currency":"USD"})");
  EXPECT_EQ(Str(r.body, "/code"), "currency_mismatch");
  EXPECT_EQ(Available(key, o.account), 7500u);

  // Users.
  r = Call("POST", "/v1/users/" + o.user + "/status", key, R"({"status":"blocked"})");
  EXPECT_EQ(Str(r.body, "/status"), "blocked");

  // Transactions: filters and cursor pagination walk every item once.
  r = Call("GET", "/v1/transactions?account_id=" + o.account + "&limit=2", key);
  ASSERT_EQ(r.status, 200) << r.body;
  auto count = [](const std::string& body) {
    size_t n = 0;
    for (size_t at = body.find(R"("object":"transaction")"); at != std::string::npos;
         at = body.find(R"("object":"transaction")", at + 1)) {
      ++n;
    }
    return n;
  };
  size_t seen = count(r.body);
  EXPECT_EQ(seen, 2u);
  std::string cursor = Str(r.body, "/next_cursor");
  while (cursor != "<none>") {
    r = Call("GET", "/v1/transactions?account_id=" + o.account + "&limit=2&cursor=" + cursor,
             key);
    ASSERT_EQ(r.status, 200);
    seen += count(r.body);
    cursor = Str(r.body, "/next_cursor");
  }
  // credit; authorization + 2 reversals; insufficient-funds decline; partial
  // approval + its reversal; MCC, limit and blocked-card declines; one debit
  // (the refused debit and the wrong-currency credit leave no transaction).
  EXPECT_EQ(seen, 11u);
  r = Call("GET", "/v1/transactions?type=credit", key);
  EXPECT_EQ(Str(r.body, "/data/0/type"), "credit");
  EXPECT_EQ(Str(r.body, "/data/1/type"), "<none>");
  r = Call("GET", "/v1/transactions?card_id=" + o.card + "&type=reversal&limit=100", key);
  EXPECT_EQ(Str(r.body, "/data/0/type"), "reversal");
  r = Call("GET", "/v1/transactions?limit=0", key);
  EXPECT_EQ(Str(r.body, "/code"), "invalid_query");
  r = Call("GET", "/v1/transactions?colour=red", key);
  EXPECT_EQ(r.status, 400);

  // Webhook endpoints.
  r = Call("POST", "/v1/webhook_endpoints", key,
           R"({"url":"https://example.com/hooks","description":"main"})");
  ASSERT_EQ(r.status, 201);
  const std::string hook = Str(r.body, "/id");
  EXPECT_EQ(r.Header("location"), "/v1/webhook_endpoints/" + hook);
  r = Call("GET", "/v1/webhook_endpoints", key);
  EXPECT_EQ(Str(r.body, "/data/0/id"), hook);
  r = Call("GET", "/v1/webhook_endpoints/" + hook, key);
  EXPECT_EQ(Str(r.body, "/url"), "https://example.com/hooks");
  r = Call("DELETE", "/v1/webhook_endpoints/" + hook, key);
  EXPECT_EQ(r.status, 200);
  r = Call("GET", "/v1/webhook_endpoints/" + hook, key);
  EXPECT_EQ(r.status, 404);
  r = Call("POST", "/v1/webhook_endpoints", key, R"({"url":"ftp://x"})");
  EXPECT_EQ(Str(r.body, "/code"), "invalid_value");

  // Later milestones.
  r = Call("POST", "/v1/simulate/clearings", key);
  EXPECT_EQ(r.status, 501);
  EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  r = Call("POST", "/v1/simulate/refunds", key);
  EXPECT_EQ(Str(r.body, "/code"), "not_implemented");
}

TEST_F(ApiE2eTest, EveryErrorClassIsAClear4xxAndChangesNothing) {
  auto [tenant, key] = NewTenant("Acme");
  Objects o = Setup(key, 1000);
  const std::string credits = "/v1/accounts/" + o.account + "/credits";
  struct Case {
    std::string body;
    int status;
    std::string code;
  };
  const Case cases[] = {
      {"{", 400, "malformed_json"},
      {"[1,2]", 400, "malformed_json"},
      {R"({"amount":1,"currency":"EUR"} trailing)", 400, "malformed_json"},
      {R"({"amount":"100","currency":"EUR"})", 400, "invalid_type"},
      {R"({"amount":100,"currency":978})", 400, "invalid_type"},
      {R"({"amount":100,"currency":"EUR","colour":"red"})", 400, "unknown_field"},
      {R"({"amount":100,"amount":100,"currency":"EUR"})", 400, "malformed_json"},
      {R"({"currency":"EUR"})", 422, "missing_field"},
      {R"({"amount":100,"currency":"XYZ"})", 422, "invalid_currency"},
      {R"({"amount":100,"currency":"eur"})", 422, "invalid_currency"},
      {R"({"amount":-5,"currency":"EUR"})", 422, "invalid_amount"},
      {R"({"amount":0,"currency":"EUR"})", 422, "invalid_amount"},
      {R"({"amount":1.5,"currency":"EUR"})", 422, "invalid_amount"},
      {R"({"amount":1e3,"currency":"EUR"})", 422, "invalid_amount"},
      {R"({"amount":1000000000000,"currency":"EUR"})", 422, "invalid_amount"},
      {R"({"amount":18446744073709551616,"currency":"EUR"})", 422, "invalid_amount"},
      {R"({"amount":99999999999999999999999999,"currency":"EUR"})", 422, "invalid_amount"},
      {R"({"amount":1,"currency":"EUR","description":")" + std::string(129, 'x') + R"("})", 422,
       "string_too_long"},
  };
  for (const Case& c : cases) {
    const HttpResult r = Call("POST", credits, key, c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json");
    EXPECT_EQ(Str(r.body, "/code"), c.code) << c.body;
    EXPECT_EQ(Num(r.body, "/status"), static_cast<uint64_t>(c.status));
  }
  EXPECT_EQ(Available(key, o.account), 900u) << "no error case may move money";

  HttpResult r = Call("POST", "/v1/programs", key,
                      R"({"name":")" + std::string(65, 'n') + R"(","currency":"EUR"})");
  EXPECT_EQ(Str(r.body, "/code"), "string_too_long");
  r = Call("POST", "/v1/cards", key,
           R"({"user_id":")" + o.user + R"(","account_id":")" + o.account +
               R"(","expiry_month":13,"expiry_year":2031})");
  EXPECT_EQ(Str(r.body, "/code"), "invalid_value");
  r = Call("POST", "/v1/cards", key,
           R"({"user_id":"usr_zz","account_id":")" + o.account +
               R"(","expiry_month":1,"expiry_year":2031})");
  EXPECT_EQ(Str(r.body, "/code"), "invalid_value");
  r = Call("POST", "/v1/cards/" + o.card + "/status", key, R"({"status":"melted"})");
  EXPECT_EQ(Str(r.body, "/code"), "invalid_value");
  r = Call("PUT", "/v1/cards/" + o.card + "/controls", key, R"({"mcc_deny":[10000]})");
  EXPECT_EQ(Str(r.body, "/code"), "invalid_value");
  r = Call("PUT", "/v1/cards/" + o.card + "/controls", key, R"({"mcc_deny":[-1]})");
  EXPECT_EQ(Str(r.body, "/code"), "invalid_value");

  // Not JSON at all.
  r = client_->Call("POST", credits, R"({"amount":1,"currency":"EUR"})",
                    {{"Authorization", "Bearer " + key}, {"Content-Type", "text/plain"}});
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(Str(r.body, "/code"), "unsupported_media_type");

  // Oversize body: refused by the transport before it is read (413).
  r = client_->Call("POST", credits, std::string(5000, ' '),
                    {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 413);
  client_->Close();
  // Oversize headers: 431.
  r = client_->Call("GET", "/v1/accounts/" + o.account, {},
                    {{"Authorization", "Bearer " + key}, {"X-Big", std::string(9000, 'a')}});
  EXPECT_EQ(r.status, 431);
  client_->Close();

  // Unknown endpoint and method.
  r = client_->Call("GET", "/v1/nothing", {}, {{"Authorization", "Bearer " + key}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Str(r.body, "/code"), "not_found");
  r = client_->Call("PATCH", "/v1/cards/" + o.card, {}, {{"Authorization", "Bearer " + key}});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "GET");
  EXPECT_EQ(Available(key, o.account), 900u);
}

TEST_F(ApiE2eTest, IdempotencyReplaysRefusesMismatchAndInFlight) {
  auto [tenant, key] = NewTenant("Acme");
  Objects o = Setup(key, 1000);
  const std::string credits = "/v1/accounts/" + o.account + "/credits";
  const std::string body = R"({"amount":250,"currency":"EUR"})";
  HttpResult first = Call("POST", credits, key, body, {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(first.status, 200);
  HttpResult again = Call("POST", credits, key, body, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.Header("idempotent-replayed"), "true");
  EXPECT_EQ(Available(key, o.account), 1150u) << "credited once";

  HttpResult other = Call("POST", credits, key, R"({"amount":251,"currency":"EUR"})",
                          {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(other.status, 422);
  EXPECT_EQ(Str(other.body, "/code"), "idempotency_mismatch");
  other = Call("POST", "/v1/accounts/" + o.account + "/debits", key, body,
               {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(Str(other.body, "/code"), "idempotency_mismatch");

  // A created resource replays with the same id and Location.
  HttpResult card1 = Call("POST", "/v1/users", key, R"({"name":"B"})", {{"Idempotency-Key", "u"}});
  HttpResult card2 = Call("POST", "/v1/users", key, R"({"name":"B"})", {{"Idempotency-Key", "u"}});
  EXPECT_EQ(card2.status, 201);
  EXPECT_EQ(Str(card1.body, "/id"), Str(card2.body, "/id"));
  EXPECT_EQ(card1.Header("location"), card2.Header("location"));

  // Keys are per tenant: another tenant's same key is independent.
  auto [tenant_b, key_b] = NewTenant("Other");
  HttpResult b = Call("POST", "/v1/users", key_b, R"({"name":"Z"})", {{"Idempotency-Key", "u"}});
  EXPECT_EQ(b.status, 201);
  EXPECT_NE(Str(b.body, "/id"), Str(card1.body, "/id"));

  HttpResult bad = Call("POST", credits, key, body, {{"Idempotency-Key", std::string(256, 'k')}});
  EXPECT_EQ(Str(bad.body, "/code"), "invalid_idempotency_key");

  // In flight: hold the core's replies, send the first on one connection and
  // the same key on another.
  core_->Pause();
  HttpTestClient slow(server_->port());
  ASSERT_TRUE(slow.Send("POST", credits, body,
                        {{"Authorization", "Bearer " + key},
                         {"Content-Type", "application/json"},
                         {"Idempotency-Key", "k-2"}}));
  // Send the duplicate only once the first is held in the core: sent earlier,
  // the duplicate could become the first itself and wait on the paused core.
  for (int attempt = 0; attempt < 5000 && core_->QueuedReplies() == 0; ++attempt) usleep(1000);
  ASSERT_EQ(core_->QueuedReplies(), 1u);
  const HttpResult conflict = Call("POST", credits, key, body, {{"Idempotency-Key", "k-2"}});
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(Str(conflict.body, "/code"), "idempotency_in_flight");
  core_->Release();
  const HttpResult done = slow.Receive();
  EXPECT_EQ(done.status, 200);
  EXPECT_EQ(Available(key, o.account), 1400u);
}

TEST_F(ApiE2eTest, TenantIsolationAnswers404ForEveryEndpoint) {
  auto [tenant_a, key_a] = NewTenant("A");
  auto [tenant_b, key_b] = NewTenant("B");
  Objects a = Setup(key_a, 1000);
  Objects b = Setup(key_b, 1000);
  struct Probe {
    std::string method, path, body;
  };
  const std::string account_body = R"({"amount":1,"currency":"EUR"})";
  const Probe probes[] = {
      {"GET", "/v1/programs/" + a.program, ""},
      {"GET", "/v1/users/" + a.user, ""},
      {"POST", "/v1/users/" + a.user + "/status", R"({"status":"blocked"})"},
      {"GET", "/v1/accounts/" + a.account, ""},
      {"GET", "/v1/accounts/" + a.account + "/balance", ""},
      {"POST", "/v1/accounts/" + a.account + "/credits", account_body},
      {"POST", "/v1/accounts/" + a.account + "/debits", account_body},
      {"GET", "/v1/cards/" + a.card, ""},
      {"POST", "/v1/cards/" + a.card + "/status", R"({"status":"blocked"})"},
      {"PUT", "/v1/cards/" + a.card + "/controls", R"({"mcc_deny":[1]})"},
      {"GET", "/v1/authorizations/" + a.authorization, ""},
      {"POST", "/v1/simulate/authorizations",
       R"({"card_id":")" + a.card + R"(","amount":1,"currency":"EUR"})"},
      {"POST", "/v1/simulate/reversals", R"({"authorization_id":")" + a.authorization + R"("})"},
      {"POST", "/v1/accounts", R"({"program_id":")" + a.program + R"("})"},
      {"POST", "/v1/accounts", R"({"program_id":")" + b.program + R"(","user_id":")" + a.user +
                                   R"("})"},
      {"POST", "/v1/cards", R"({"user_id":")" + a.user + R"(","account_id":")" + b.account +
                                R"(","expiry_month":1,"expiry_year":2031})"},
  };
  for (const Probe& probe : probes) {
    const HttpResult r = Call(probe.method, probe.path, key_b, probe.body);
    EXPECT_EQ(r.status, 404) << probe.method << " " << probe.path << " " << r.body;
    EXPECT_EQ(Str(r.body, "/code"), "not_found");
  }
  // Tenant A's webhook.
  HttpResult hook = Call("POST", "/v1/webhook_endpoints", key_a, R"({"url":"https://a.example"})");
  const std::string hook_id = Str(hook.body, "/id");
  EXPECT_EQ(Call("GET", "/v1/webhook_endpoints/" + hook_id, key_b).status, 404);
  EXPECT_EQ(Call("DELETE", "/v1/webhook_endpoints/" + hook_id, key_b).status, 404);
  EXPECT_EQ(Call("GET", "/v1/webhook_endpoints", key_b).body.find(hook_id), std::string::npos);
  // B's transaction list shows nothing of A's, even filtered by A's ids.
  HttpResult list = Call("GET", "/v1/transactions?account_id=" + a.account, key_b);
  EXPECT_EQ(Str(list.body, "/data/0/id"), "<none>");
  // Nothing of A changed.
  EXPECT_EQ(Available(key_a, a.account), 900u);
  EXPECT_EQ(Str(Call("GET", "/v1/cards/" + a.card, key_a).body, "/status"), "active");
  EXPECT_EQ(Str(Call("GET", "/v1/users/" + a.user, key_a).body, "/status"), "active");
}

TEST_F(ApiE2eTest, AuthenticationAndAuthorizationFailures) {
  auto [tenant, key] = NewTenant("Acme");
  HttpResult r = Call("GET", "/v1/webhook_endpoints", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Str(r.body, "/code"), "unauthenticated");
  r = Call("GET", "/v1/webhook_endpoints", "tgk_not-a-real-key");
  EXPECT_EQ(r.status, 401);
  r = client_->Call("GET", "/v1/webhook_endpoints", {}, {{"Authorization", "Basic abc"}});
  EXPECT_EQ(r.status, 401);
  r = Call("GET", "/v1/webhook_endpoints", kAdminToken);
  EXPECT_EQ(r.status, 403) << "the admin token is not a tenant";
  r = Call("POST", "/v1/tenants", key, R"({"name":"Evil"})");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Str(r.body, "/code"), "forbidden");
  r = Call("GET", "/v1/tenants/" + tenant, std::string(kAdminToken) + "x");
  EXPECT_EQ(r.status, 401);
  // Revoked keys stop working at once.
  const std::string key_id = Str(Admin("GET", "/v1/tenants/" + tenant + "/api_keys"),
                                 "/data/0/id");
  EXPECT_EQ(Call("GET", "/v1/webhook_endpoints", key).status, 200);
  Admin("DELETE", "/v1/tenants/" + tenant + "/api_keys/" + key_id);
  EXPECT_EQ(Call("GET", "/v1/webhook_endpoints", key).status, 401);
  EXPECT_EQ(Call("GET", "/v1/tenants/ten_0000000000000001", kAdminToken).status, 404);
}

TEST_F(ApiE2eTest, RateLimitAnswers429WithRetryAfter) {
  TearDown();
  StartServer(RateLimit{1, 5});
  auto [tenant, key] = NewTenant("Acme");
  auto [tenant_b, key_b] = NewTenant("Calm");
  int limited = 0;
  HttpResult last;
  for (int i = 0; i < 10; ++i) {
    last = Call("GET", "/v1/webhook_endpoints", key);
    if (last.status == 429) {
      ++limited;
      EXPECT_GE(std::stoi(last.Header("retry-after")), 1);
      EXPECT_EQ(Str(last.body, "/code"), "rate_limited");
    }
  }
  EXPECT_GE(limited, 4);
  EXPECT_EQ(Call("GET", "/v1/webhook_endpoints", key_b).status, 200) << "per tenant";
}

TEST_F(ApiE2eTest, ServesTheSpecAndSwaggerUi) {
  HttpResult r = client_->Call("GET", "/openapi.yaml");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("openapi: 3.1.0"), std::string::npos);
  r = client_->Call("GET", "/docs");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("SwaggerUIBundle"), std::string::npos);
  r = client_->Call("GET", "/docs/swagger-ui-bundle.js");
  EXPECT_EQ(r.status, 200);
  EXPECT_GT(r.body.size(), 100000u);
  r = client_->Call("GET", "/docs/../../etc/passwd");
  EXPECT_EQ(r.status, 404);
}

}  // namespace
}  // namespace tangelo::api
