// Unit tests of the API's building blocks: strict JSON input, the JSON
// writer, the router, credentials, the idempotency store and the rate
// limiter. The HTTP behaviour is covered end to end in tests/api.
#include <gtest/gtest.h>

#include "api/idempotency.h"
#include "api/json_input.h"
#include "api/json_writer.h"
#include "api/problem.h"
#include "api/rate_limiter.h"
#include "api/router.h"
#include "api/security.h"

namespace tangelo::api {
namespace {

constexpr FieldSpec kFields[] = {
    Field("amount", FieldType::kAmount, true),
    Field("currency", FieldType::kCurrency, true),
    Field("name", FieldType::kString, false, 5),
    Field("card_id", FieldType::kId, false, 0, UINT64_MAX, "crd"),
    Field("flag", FieldType::kBool),
    Field("mccs", FieldType::kUintArray, false, 2, 9999),
    Field("count", FieldType::kUint, false, 0, 10),
};

ApiError ErrorOf(std::string_view body) {
  JsonInput input;
  const auto error = input.Parse(body, kFields);
  return error ? error->error : ApiError::kInternal;  // kInternal: accepted.
}

TEST(JsonInputTest, AcceptsAWellFormedBody) {
  JsonInput input;
  ASSERT_FALSE(input.Parse(R"({"amount":1050,"currency":"EUR","name":"abcde",
      "card_id":"crd_00000000000000ff","flag":true,"mccs":[1,9999],"count":10})",
                           kFields));
  EXPECT_EQ(input.Uint(0), 1050u);
  EXPECT_EQ(input.Currency(1), 978);
  EXPECT_EQ(input.String(2), "abcde");
  EXPECT_EQ(input.Uint(3), 255u);
  EXPECT_TRUE(input.Bool(4));
  EXPECT_EQ(input.UintArray(5), (std::vector<uint64_t>{1, 9999}));
  EXPECT_TRUE(input.Has(6));
  // Reuse: a second parse forgets the first.
  ASSERT_FALSE(input.Parse(R"({"amount":1,"currency":"USD"})", kFields));
  EXPECT_FALSE(input.Has(2));
  EXPECT_TRUE(input.UintArray(5).empty());
}

TEST(JsonInputTest, RefusesEachViolationWithItsCode) {
  EXPECT_EQ(ErrorOf("{"), ApiError::kMalformedJson);
  EXPECT_EQ(ErrorOf(""), ApiError::kMalformedJson);
  EXPECT_EQ(ErrorOf("null"), ApiError::kMalformedJson);
  EXPECT_EQ(ErrorOf("\"x\""), ApiError::kMalformedJson);
  EXPECT_EQ(ErrorOf("{\"amount\":1,\"currency\":\"EUR\",\"name\":\"\xff\"}"),
            ApiError::kMalformedJson);
  EXPECT_EQ(ErrorOf(R"({"amount":1,"currency":"EUR","amount":2})"), ApiError::kMalformedJson);
  EXPECT_EQ(ErrorOf(R"({"amount":1,"currency":"EUR","x":1})"), ApiError::kUnknownField);
  EXPECT_EQ(ErrorOf(R"({"amount":"1","currency":"EUR"})"), ApiError::kInvalidType);
  EXPECT_EQ(ErrorOf(R"({"amount":true,"currency":"EUR"})"), ApiError::kInvalidType);
  EXPECT_EQ(ErrorOf(R"({"amount":1,"currency":"EUR","flag":1})"), ApiError::kInvalidType);
  EXPECT_EQ(ErrorOf(R"({"amount":1,"currency":"EUR","mccs":5})"), ApiError::kInvalidType);
  EXPECT_EQ(ErrorOf(R"({"amount":1,"currency":"EUR","mccs":["5"]})"), ApiError::kInvalidType);
  EXPECT_EQ(ErrorOf(R"({"currency":"EUR"})"), ApiError::kMissingField);
  EXPECT_EQ(ErrorOf(R"({"amount":1})"), ApiError::kMissingField);
  EXPECT_EQ(ErrorOf(R"({"amount":1,"currency":"EUR","name":"abcdef"})"),
            ApiError::kStringTooLong);
  EXPECT_EQ(ErrorOf(R"({"amount":-1,"currency":"EUR"})"), ApiError::kInvalidAmount);
  EXPECT_EQ(ErrorOf(R"({"amount":0,"currency":"EUR"})"), ApiError::kInvalidAmount);
  EXPECT_EQ(ErrorOf(R"({"amount":0.5,"currency":"EUR"})"), ApiError::kInvalidAmount);
  EXPECT_EQ(ErrorOf(R"({"amount":1000000000000,"currency":"EUR"})"), ApiError::kInvalidAmount);
  EXPECT_EQ(ErrorOf(R"({"amount":123456789012345678901234,"currency":"EUR"})"),
            ApiError::kInvalidAmount);
  EXPECT_EQ(ErrorOf(R"({"amount":999999999999,"currency":"EUR"})"), ApiError::kInternal);
  EXPECT_EQ(ErrorOf(R"({"amount":1,"currency":"ZZZ"})"), ApiError::kInvalidCurrency);
  EXPECT_EQ(ErrorOf(R"({"amount":1,"currency":"EURO"})"), ApiError::kInvalidCurrency);
  EXPECT_EQ(ErrorOf(R"({"amount":1,"currency":"EUR","card_id":"usr_00000000000000ff"})"),
            ApiError::kInvalidValue);
  EXPECT_EQ(ErrorOf(R"({"amount":1,"currency":"EUR","card_id":"crd_0000000000000000"})"),
            ApiError::kInvalidValue);
  EXPECT_EQ(ErrorOf(R"({"amount":1,"currency":"EUR","mccs":[1,2,3]})"), ApiError::kInvalidValue);
  EXPECT_EQ(ErrorOf(R"({"amount":1,"currency":"EUR","mccs":[10000]})"), ApiError::kInvalidValue);
  EXPECT_EQ(ErrorOf(R"({"amount":1,"currency":"EUR","count":11})"), ApiError::kInvalidValue);
  EXPECT_EQ(ErrorOf(R"({"amount":1,"currency":"EUR","count":-1})"), ApiError::kInvalidValue);
}

TEST(JsonInputTest, IdsRoundTripAndRejectNearMisses) {
  EXPECT_EQ(FormatId("crd", 0xabc), "crd_0000000000000abc");
  EXPECT_EQ(ParseId("crd", FormatId("crd", 0x3fffffffffffffff)), 0x3fffffffffffffffu);
  EXPECT_EQ(ParseId("crd", "crd_0000000000000ABC"), 0u);  // Upper case.
  EXPECT_EQ(ParseId("crd", "crd_000000000000abc"), 0u);   // Short.
  EXPECT_EQ(ParseId("crd", "crd-0000000000000abc"), 0u);
  EXPECT_EQ(ParseId("crd", "acc_0000000000000abc"), 0u);
  EXPECT_EQ(ParseId("crd", ""), 0u);
}

TEST(JsonWriterTest, EscapesAndReplacesInvalidUtf8) {
  JsonWriter json;
  json.BeginObject();
  json.Key("a").String("q\"\\\n\x01");
  json.Key("b").String("caf\xc3\xa9 \xff");
  json.Key("c").BeginArray().Uint(1).Uint(2).EndArray();
  json.Key("d").Null();
  json.Key("e").Bool(false);
  json.EndObject();
  EXPECT_EQ(json.str(),
            "{\"a\":\"q\\\"\\\\\\u000a\\u0001\",\"b\":\"caf\xc3\xa9 \xef\xbf\xbd\","
            "\"c\":[1,2],\"d\":null,\"e\":false}");
}

TEST(ProblemTest, BodyCarriesTheStableCode) {
  const std::string body = ProblemBody(ApiError::kInvalidAmount, "amount: x", "/v1/a");
  EXPECT_EQ(body,
            R"({"type":"urn:tangelo:problem:invalid_amount","title":"Invalid amount",)"
            R"("status":422,"code":"invalid_amount","detail":"amount: x","instance":"/v1/a"})");
  EXPECT_EQ(ErrorInfo(ApiError::kRateLimited).status, 429);
  EXPECT_EQ(ErrorInfo(ApiError::kIdempotencyStoreFull).code, "idempotency_store_full");
}

TEST(RouterTest, MatchesCapturesAndReports405) {
  Router router;
  router.Add("GET", "/v1/cards/{}", 1);
  router.Add("POST", "/v1/cards", 2);
  router.Add("POST", "/v1/cards/{}/status", 3);
  router.Add("DELETE", "/v1/cards/{}", 4);
  RouteMatch match = router.Match("GET", "/v1/cards/crd_1");
  EXPECT_EQ(match.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(match.route_id, 1u);
  EXPECT_EQ(match.captures[0], "crd_1");
  EXPECT_EQ(router.Match("HEAD", "/v1/cards/x").route_id, 1u);
  EXPECT_EQ(router.Match("POST", "/v1/cards/x/status").route_id, 3u);
  match = router.Match("PUT", "/v1/cards/x");
  EXPECT_EQ(match.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(match.allow, "GET, DELETE");
  EXPECT_EQ(router.Match("GET", "/v1/cards/x/").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match("GET", "/v1//x").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match("GET", "v1/cards").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.Match("GET", "/a/b/c/d/e/f/g/h/i/j").kind, RouteMatch::Kind::kNotFound);
}

TEST(SecurityTest, KeysAreRandomWellFormedAndHashed) {
  auto a = GenerateApiKey();
  auto b = GenerateApiKey();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), kApiKeyLength);
  EXPECT_EQ(a->substr(0, 4), "tgk_");
  EXPECT_NE(*a, *b);
  EXPECT_NE(Sha256(*a), Sha256(*b));
  auto id = RandomId();
  ASSERT_TRUE(id.ok());
  EXPECT_NE(*id, 0u);
  EXPECT_LT(*id, 1ULL << 62);
}

TEST(SecurityTest, BearerAndConstantTimeCompare) {
  EXPECT_EQ(BearerToken(std::string_view("Bearer abc")), "abc");
  EXPECT_EQ(BearerToken(std::string_view("bearer  abc ")), "abc");
  EXPECT_FALSE(BearerToken(std::string_view("Basic abc")));
  EXPECT_FALSE(BearerToken(std::string_view("Bearer ")));
  EXPECT_FALSE(BearerToken(std::nullopt));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secreT", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret2", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("", "")) << "an empty admin token never matches";
}

TEST(SecurityTest, KeyTableFindsAndForgets) {
  ApiKeyTable table;
  const Sha256Digest digest = Sha256("k");
  EXPECT_FALSE(table.Find(digest));
  ASSERT_TRUE(table.Insert(digest, KeyOwner{7, 9}));
  EXPECT_EQ(table.Find(digest)->tenant_id, 7u);
  table.Erase(7, 8);
  EXPECT_TRUE(table.Find(digest));
  table.Erase(7, 9);
  EXPECT_FALSE(table.Find(digest));
}

IdempotencyStore::Fingerprint Print(uint8_t byte) {
  IdempotencyStore::Fingerprint fingerprint{};
  fingerprint[0] = byte;
  return fingerprint;
}

TEST(IdempotencyTest, ProceedInFlightReplayMismatch) {
  IdempotencyStore store;
  StoredResponse replay;
  EXPECT_EQ(store.Begin(1, "k", Print(1), 0, &replay), IdempotencyOutcome::kProceed);
  EXPECT_EQ(store.Begin(1, "k", Print(1), 1, &replay), IdempotencyOutcome::kInFlight);
  EXPECT_EQ(store.Begin(1, "k", Print(2), 1, &replay), IdempotencyOutcome::kMismatch);
  EXPECT_EQ(store.Begin(2, "k", Print(2), 1, &replay), IdempotencyOutcome::kProceed)
      << "keys are per tenant";
  store.Complete(1, "k", StoredResponse{201, "application/json", "{}", "/v1/x"});
  EXPECT_EQ(store.Begin(1, "k", Print(1), 2, &replay), IdempotencyOutcome::kReplay);
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.location, "/v1/x");
  EXPECT_EQ(store.Begin(1, "k", Print(2), 2, &replay), IdempotencyOutcome::kMismatch);
}

TEST(IdempotencyTest, AbandonAndExpiryForget) {
  IdempotencyStore store;
  StoredResponse replay;
  ASSERT_EQ(store.Begin(1, "k", Print(1), 0, &replay), IdempotencyOutcome::kProceed);
  store.Abandon(1, "k");
  EXPECT_EQ(store.size(), 0u);
  ASSERT_EQ(store.Begin(1, "k", Print(2), 0, &replay), IdempotencyOutcome::kProceed);
  store.Complete(1, "k", StoredResponse{200, "application/json", "{}", ""});
  EXPECT_EQ(store.Begin(1, "k", Print(2), kIdempotencyTtlMs - 1, &replay),
            IdempotencyOutcome::kReplay);
  EXPECT_EQ(store.Begin(1, "k", Print(3), kIdempotencyTtlMs, &replay),
            IdempotencyOutcome::kProceed)
      << "expired keys are forgotten";
  // A response too large to remember is forgotten, not truncated.
  ASSERT_EQ(store.Begin(1, "big", Print(1), 0, &replay), IdempotencyOutcome::kProceed);
  store.Complete(1, "big",
                 StoredResponse{200, "", std::string(kIdempotencyResponseBytesMax + 1, 'x'), ""});
  EXPECT_EQ(store.Begin(1, "big", Print(1), 0, &replay), IdempotencyOutcome::kProceed);
}

TEST(IdempotencyTest, PerTenantBound) {
  IdempotencyStore store;
  StoredResponse replay;
  for (size_t i = 0; i < kIdempotencyEntriesPerTenantMax; ++i) {
    ASSERT_EQ(store.Begin(1, std::to_string(i), Print(1), 0, &replay),
              IdempotencyOutcome::kProceed);
  }
  EXPECT_EQ(store.Begin(1, "one-more", Print(1), 0, &replay), IdempotencyOutcome::kFull);
  EXPECT_EQ(store.Begin(2, "other", Print(1), 0, &replay), IdempotencyOutcome::kProceed);
}

TEST(IdempotencyTest, KeyValidation) {
  EXPECT_TRUE(ValidIdempotencyKey("abc-123_X"));
  EXPECT_FALSE(ValidIdempotencyKey(""));
  EXPECT_FALSE(ValidIdempotencyKey("a b"));
  EXPECT_FALSE(ValidIdempotencyKey(std::string(256, 'a')));
  EXPECT_TRUE(ValidIdempotencyKey(std::string(255, 'a')));
}

TEST(RateLimiterTest, BurstThenRefillWithRetryAfter) {
  RateLimiter limiter(RateLimit{2, 3});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Acquire(1, 1000), 0u);
  EXPECT_EQ(limiter.Acquire(1, 1000), 1u);
  EXPECT_EQ(limiter.Acquire(2, 1000), 0u) << "buckets are per tenant";
  EXPECT_EQ(limiter.Acquire(1, 1499), 1u);
  EXPECT_EQ(limiter.Acquire(1, 1500), 0u) << "2 per second: one token after 500 ms";
  EXPECT_EQ(limiter.Acquire(1, 1500), 1u);
  // Refill never exceeds the burst.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Acquire(1, 1'000'000), 0u);
  EXPECT_NE(limiter.Acquire(1, 1'000'000), 0u);
  // A slow rate asks for a longer wait.
  RateLimiter slow(RateLimit{1, 1});
  EXPECT_EQ(slow.Acquire(1, 0), 0u);
  EXPECT_EQ(slow.Acquire(1, 0), 1u);
  RateLimiter unlimited(RateLimit{0, 0});
  for (int i = 0; i < 100; ++i) EXPECT_EQ(unlimited.Acquire(1, 0), 0u);
}

}  // namespace
}  // namespace tangelo::api
