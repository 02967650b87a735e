// Entry decoding (every malformed shape is rejected, never asserted on),
// request keys, and the reply layouts.
#include "authorizer/entries.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "base/random.h"

namespace tangelo::authorizer {
namespace {

AuthorizationRequest GoodRequest() {
  AuthorizationRequest request;
  request.currency_numeric = 840;
  request.mcc = 5411;
  request.merchant_country_numeric = 840;
  request.amount_minor = 1000;
  request.transmission_time_ns = 1'773'000'000'000'000'000ULL;
  request.card = CardReference::ById(issuing::TenantId(1), issuing::CardId(7));
  NetworkIds ids;
  ids.acquirer_id = 99;
  ids.stan = 123456;
  std::memcpy(ids.retrieval_reference.data(), "000000000001", 12);
  request.flags = RequestFlags::kHasNetworkIds;
  request.ids = RequestIds::FromNetworkIds(ids);
  std::memcpy(request.merchant_id.data(), "SHOP1", 5);
  return request;
}

bool Decodes(const AuthorizationRequest& request) {
  AuthorizationRequest out;
  return DecodeAuthorizationRequest(PayloadOf(request), &out);
}

TEST(EntriesTest, WellFormedAuthorizationDecodesToTheSameBytes) {
  const AuthorizationRequest request = GoodRequest();
  AuthorizationRequest out;
  ASSERT_TRUE(DecodeAuthorizationRequest(PayloadOf(request), &out));
  EXPECT_EQ(std::memcmp(&out, &request, sizeof(request)), 0);
}

TEST(EntriesTest, MalformedAuthorizationsAreRejected) {
  std::vector<std::pair<const char*, AuthorizationRequest>> cases;
  const auto with = [&](const char* what, auto change) {
    AuthorizationRequest request = GoodRequest();
    change(request);
    cases.emplace_back(what, request);
  };
  with("version", [](auto& r) { r.version = 2; });
  with("type 0", [](auto& r) { r.type = 0; });
  with("type 5", [](auto& r) { r.type = 5; });
  with("unknown flag", [](auto& r) { r.flags |= 0x80; });
  with("channel 0", [](auto& r) { r.channel = 0; });
  with("channel 4", [](auto& r) { r.channel = 4; });
  with("reserved", [](auto& r) { r.reserved = 1; });
  with("mcc", [](auto& r) { r.mcc = 10000; });
  with("country", [](auto& r) { r.merchant_country_numeric = 1000; });
  with("expiry month", [](auto& r) { r.card_expiry_year = 2030; r.card_expiry_month = 13; });
  with("expiry year only", [](auto& r) { r.card_expiry_year = 2030; });
  with("expiry year", [](auto& r) { r.card_expiry_year = 1999; r.card_expiry_month = 1; });
  with("time", [](auto& r) { r.transmission_time_ns = issuing::kTimestampNsMax; });
  with("no card", [](auto& r) { r.card = CardReference{}; });
  with("zero token", [](auto& r) { r.flags |= RequestFlags::kCardByPanToken; r.card = {}; });
  with("both ids", [](auto& r) { r.flags |= RequestFlags::kHasIdempotencyKey; });
  with("ids flag without ids", [](auto& r) { r.ids = RequestIds{}; });
  with("ids without flag", [](auto& r) { r.flags = 0; });
  with("idempotency tail", [](auto& r) {
    r.flags = RequestFlags::kHasIdempotencyKey;
    r.ids = RequestIds::FromIdempotencyKey("k");
    r.ids.bytes[20] = 1;
  });
  with("merchant not terminated", [](auto& r) { r.merchant_id.fill('A'); });
  with("merchant control byte", [](auto& r) { r.merchant_id[2] = '\n'; });
  with("merchant byte after padding", [](auto& r) { r.merchant_id[10] = 'X'; });
  for (const auto& [what, request] : cases) EXPECT_FALSE(Decodes(request)) << what;
  AuthorizationRequest out;
  const AuthorizationRequest request = GoodRequest();
  EXPECT_FALSE(DecodeAuthorizationRequest(PayloadOf(request).first(95), &out));
  std::vector<std::byte> longer(97);
  EXPECT_FALSE(DecodeAuthorizationRequest(longer, &out));
}

TEST(EntriesTest, RandomBytesNeverCrashTheDecoders) {
  base::Random random(11);
  std::vector<std::byte> bytes(160);
  for (int round = 0; round < 20000; ++round) {
    for (std::byte& byte : bytes) byte = static_cast<std::byte>(random.Uniform(256));
    bytes[0] = std::byte{1};  // Version 1, so decoding goes past the first check.
    bytes[1] = std::byte{0};
    const size_t size = random.Uniform(bytes.size() + 1);
    const std::span<const std::byte> payload(bytes.data(), size);
    AuthorizationRequest authorization;
    IncrementalRequest increment;
    ReversalRequest reversal;
    ClientDecisionResultEntry result;
    FundAccountRequest funding;
    (void)DecodeAuthorizationRequest(payload, &authorization);
    (void)DecodeIncrementalRequest(payload, &increment);
    (void)DecodeReversalRequest(payload, &reversal);
    (void)DecodeClientDecisionResult(payload, &result);
    (void)DecodeFundAccountRequest(payload, &funding);
  }
}

TEST(EntriesTest, ReversalShapes) {
  ReversalRequest reversal;
  reversal.card = CardReference::ById(issuing::TenantId(1), issuing::CardId(7));
  reversal.original = OriginalReference::ById(AuthorizationId(5));
  reversal.flags = RequestFlags::kFullReversal;
  ReversalRequest out;
  EXPECT_TRUE(DecodeReversalRequest(PayloadOf(reversal), &out));
  reversal.amount_minor = 5;  // A full reversal names no amount.
  EXPECT_FALSE(DecodeReversalRequest(PayloadOf(reversal), &out));
  reversal.flags = 0;  // A partial one must.
  EXPECT_TRUE(DecodeReversalRequest(PayloadOf(reversal), &out));
  reversal.amount_minor = 0;
  EXPECT_FALSE(DecodeReversalRequest(PayloadOf(reversal), &out));
  reversal.amount_minor = 5;
  reversal.original.flags = RequestFlags::kHasNetworkIds;  // By id and by ids at once.
  EXPECT_FALSE(DecodeReversalRequest(PayloadOf(reversal), &out));
  reversal.original = OriginalReference{};  // Names nothing.
  EXPECT_FALSE(DecodeReversalRequest(PayloadOf(reversal), &out));
}

TEST(EntriesTest, IncrementsAreFinancialRequests) {
  IncrementalRequest increment;
  increment.request = GoodRequest();
  increment.original = OriginalReference::ById(AuthorizationId(5));
  IncrementalRequest out;
  EXPECT_TRUE(DecodeIncrementalRequest(PayloadOf(increment), &out));
  increment.request.type = static_cast<uint8_t>(AuthorizationType::kBalanceInquiry);
  EXPECT_FALSE(DecodeIncrementalRequest(PayloadOf(increment), &out));
}

TEST(EntriesTest, ClientResultsOnlyCarryAnAmountWhenPartial) {
  ClientDecisionResultEntry entry;
  entry.authorization_id = 9;
  entry.outcome = static_cast<uint8_t>(ClientDecisionOutcome::kApprove);
  ClientDecisionResultEntry out;
  EXPECT_TRUE(DecodeClientDecisionResult(PayloadOf(entry), &out));
  entry.approved_amount_minor = 5;
  EXPECT_FALSE(DecodeClientDecisionResult(PayloadOf(entry), &out));
  entry.outcome = static_cast<uint8_t>(ClientDecisionOutcome::kApprovePartial);
  EXPECT_TRUE(DecodeClientDecisionResult(PayloadOf(entry), &out));
  entry.outcome = 9;
  EXPECT_FALSE(DecodeClientDecisionResult(PayloadOf(entry), &out));
  entry.outcome = 1;
  entry.approved_amount_minor = 0;
  entry.authorization_id = 0;
  EXPECT_FALSE(DecodeClientDecisionResult(PayloadOf(entry), &out));
}

TEST(EntriesTest, KeysSeparateClassesCardsAndTimes) {
  const AuthorizationRequest request = GoodRequest();
  const RequestKey key = KeyOf(request);
  EXPECT_TRUE(key.valid());
  EXPECT_EQ(KeyOf(request), key);  // Stable.

  AuthorizationRequest other_card = request;
  other_card.card = CardReference::ById(issuing::TenantId(1), issuing::CardId(8));
  EXPECT_NE(KeyOf(other_card), key);
  AuthorizationRequest other_time = request;
  other_time.transmission_time_ns += 1;
  EXPECT_NE(KeyOf(other_time), key);
  AuthorizationRequest other_amount = request;
  other_amount.amount_minor += 1;  // Not part of the ids: still the same message.
  EXPECT_EQ(KeyOf(other_amount), key);

  // An idempotency key ignores the transmission time (REST retries).
  AuthorizationRequest rest = request;
  rest.flags = RequestFlags::kHasIdempotencyKey;
  rest.ids = RequestIds::FromIdempotencyKey("order-1");
  AuthorizationRequest rest_retry = rest;
  rest_retry.transmission_time_ns += 5'000'000'000;
  EXPECT_EQ(KeyOf(rest_retry), KeyOf(rest));

  // A reversal with the original's own ids is not the original.
  ReversalRequest reversal;
  reversal.card = request.card;
  reversal.flags = RequestFlags::kHasNetworkIds;
  reversal.ids = request.ids;
  reversal.transmission_time_ns = request.transmission_time_ns;
  EXPECT_NE(KeyOf(reversal), key);
  // But naming the original by those ids finds the original's key.
  reversal.original =
      OriginalReference::ByNetworkIds(NetworkIds{}, request.transmission_time_ns);
  reversal.original.ids = request.ids;
  EXPECT_EQ(OriginalKeyOf(reversal), key);

  AuthorizationRequest none = request;
  none.flags = 0;
  none.ids = RequestIds{};
  EXPECT_FALSE(KeyOf(none).valid());
}

TEST(EntriesTest, DecisionRepliesRoundTrip) {
  DecisionReply decision;
  decision.decision = Decision::kDeclined;
  decision.reason = issuing::DeclineReason::kVelocityExceeded;
  decision.flags = ReplyFlags::kRetransmission;
  decision.authorization_id = AuthorizationId(77);
  decision.available_minor = 1234;
  decision.held_amount_minor = 5;
  decision.authorized_at_ns = 99;
  decision.response_code = ResponseCodeOf(decision.decision, decision.reason, decision.flags);
  engine::Reply reply;
  EncodeDecisionReply(decision, &reply);
  const DecisionReply back = DecodeDecisionReply(reply);
  EXPECT_EQ(back.decision, Decision::kDeclined);
  EXPECT_EQ(back.reason, issuing::DeclineReason::kVelocityExceeded);
  EXPECT_EQ(back.flags, ReplyFlags::kRetransmission);
  EXPECT_EQ(back.authorization_id, AuthorizationId(77));
  EXPECT_EQ(back.available_minor, 1234u);
  EXPECT_EQ(back.response_code_view(), "65");
  EXPECT_EQ(back.authorized_at_ns, 99u);

  DecisionReply pending;
  pending.decision = Decision::kPendingClientDecision;
  pending.authorization_id = AuthorizationId(8);
  pending.approved_amount_minor = 4500;
  pending.tenant_id = issuing::TenantId(1);
  pending.program_id = issuing::ProgramId(10);
  pending.card_id = issuing::CardId(7);
  pending.user_id = issuing::UserId(100);
  pending.deadline_ns = 123;
  EncodeDecisionReply(pending, &reply);
  const DecisionReply pending_back = DecodeDecisionReply(reply);
  EXPECT_EQ(pending_back.program_id, issuing::ProgramId(10));
  EXPECT_EQ(pending_back.user_id, issuing::UserId(100));
  EXPECT_EQ(pending_back.deadline_ns, 123u);
  EXPECT_EQ(pending_back.approved_amount_minor, 4500u);
  EXPECT_EQ(pending_back.response_code_view(), "");
}

TEST(EntriesTest, ResponseCodes) {
  using issuing::DeclineReason;
  EXPECT_EQ(std::string(ResponseCodeOf(Decision::kApproved, DeclineReason::kNone, 0).data(), 2),
            "00");
  EXPECT_EQ(std::string(
                ResponseCodeOf(Decision::kPartiallyApproved, DeclineReason::kNone, 0).data(), 2),
            "10");
  EXPECT_EQ(std::string(ResponseCodeOf(Decision::kDeclined, DeclineReason::kNone,
                                       ReplyFlags::kOriginalNotFound)
                            .data(),
                        2),
            "25");
  EXPECT_EQ(std::string(
                ResponseCodeOf(Decision::kDeclined, DeclineReason::kInsufficientFunds, 0).data(),
                2),
            "51");
}

}  // namespace
}  // namespace tangelo::authorizer
