// MemoryCore is the reference the e2e tests run against, so its contract
// (tenant isolation, ids in use, transitions, funds) is tested on its own.
#include "api/memory_core.h"

#include <gtest/gtest.h>

namespace tangelo::api {
namespace {

CoreReply Apply(MemoryCore& core, CoreRequest request) {
  CoreReply out;
  core.Submit(std::move(request), [&](CoreReply&& reply) { out = std::move(reply); });
  return out;
}

class MemoryCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Apply(core_, CreateTenantRequest{1, "A"}).status, CoreStatus::kOk);
    ASSERT_EQ(Apply(core_, CreateTenantRequest{2, "B"}).status, CoreStatus::kOk);
    Program program{10, "P", 978, 0};
    ASSERT_EQ(Apply(core_, CreateProgramRequest{1, program}).status, CoreStatus::kOk);
    ASSERT_EQ(Apply(core_, CreateUserRequest{1, User{20, "U", UserStatusValue::kActive, 0}}).status,
              CoreStatus::kOk);
    Account account;
    account.id = 30;
    account.program_id = 10;
    ASSERT_EQ(Apply(core_, CreateAccountRequest{1, account}).status, CoreStatus::kOk);
    Card card;
    card.id = 40;
    card.user_id = 20;
    card.account_id = 30;
    card.status = CardStatusValue::kActive;
    ASSERT_EQ(Apply(core_, CreateCardRequest{1, card}).status, CoreStatus::kOk);
  }
  MemoryCore core_;
};

TEST_F(MemoryCoreTest, AnotherTenantsObjectsAreAbsent) {
  EXPECT_EQ(Apply(core_, GetProgramRequest{2, 10}).status, CoreStatus::kNotFound);
  EXPECT_EQ(Apply(core_, GetCardRequest{2, 40}).status, CoreStatus::kNotFound);
  EXPECT_EQ(Apply(core_, FundAccountRequest{2, 30, 1, true, 5, 978}).status,
            CoreStatus::kNotFound);
  EXPECT_EQ(Apply(core_, GetCardRequest{3, 40}).status, CoreStatus::kNotFound) << "no tenant 3";
  EXPECT_EQ(Apply(core_, GetCardRequest{1, 40}).status, CoreStatus::kOk);
}

TEST_F(MemoryCoreTest, IdsInUseAndFundingRules) {
  EXPECT_EQ(Apply(core_, CreateTenantRequest{1, "again"}).status, CoreStatus::kExists);
  EXPECT_EQ(Apply(core_, FundAccountRequest{1, 30, 1, true, 500, 978}).status, CoreStatus::kOk);
  EXPECT_EQ(Apply(core_, FundAccountRequest{1, 30, 1, true, 500, 978}).status,
            CoreStatus::kExists) << "a transfer id applies once";
  EXPECT_EQ(Apply(core_, FundAccountRequest{1, 30, 2, false, 501, 978}).status,
            CoreStatus::kInsufficientFunds);
  EXPECT_EQ(Apply(core_, FundAccountRequest{1, 30, 3, true, 1, 840}).status,
            CoreStatus::kCurrencyMismatch);
  const CoreReply reply = Apply(core_, GetAccountRequest{1, 30});
  EXPECT_EQ(std::get<Account>(reply.object).available_minor, 500u);
}

TEST_F(MemoryCoreTest, CardTransitionsFollowTheIssuerRules) {
  EXPECT_EQ(Apply(core_, SetCardStatusRequest{1, 40, CardStatusValue::kActive}).status,
            CoreStatus::kInvalidState) << "unchanged";
  EXPECT_EQ(Apply(core_, SetCardStatusRequest{1, 40, CardStatusValue::kLost}).status,
            CoreStatus::kOk);
  EXPECT_EQ(Apply(core_, SetCardStatusRequest{1, 40, CardStatusValue::kActive}).status,
            CoreStatus::kInvalidState) << "a lost card is never reactivated";
  EXPECT_EQ(Apply(core_, SetCardStatusRequest{1, 40, CardStatusValue::kClosed}).status,
            CoreStatus::kOk);
}

TEST_F(MemoryCoreTest, AuthorizationHoldsAndReversalReleases) {
  ASSERT_EQ(Apply(core_, FundAccountRequest{1, 30, 1, true, 500, 978}).status, CoreStatus::kOk);
  AuthorizeRequest request{};
  request.tenant_id = 1;
  request.authorization_id = 50;
  request.card_id = 40;
  request.amount_minor = 200;
  request.currency_numeric = 978;
  request.channel = ChannelValue::kEcommerce;
  CoreReply reply = Apply(core_, request);
  ASSERT_EQ(reply.status, CoreStatus::kOk);
  EXPECT_EQ(std::get<Authorization>(reply.object).decision, DecisionValue::kApproved);
  EXPECT_EQ(std::get<Authorization>(reply.object).available_after_minor, 300u);
  request.authorization_id = 51;
  request.amount_minor = 400;
  reply = Apply(core_, request);
  EXPECT_EQ(std::get<Authorization>(reply.object).reason, "INSUFFICIENT_FUNDS");
  EXPECT_EQ(Apply(core_, ReverseRequest{1, 50, 0, {}}).status, CoreStatus::kOk);
  EXPECT_EQ(Apply(core_, ReverseRequest{1, 50, 0, {}}).status, CoreStatus::kInvalidState);
  EXPECT_EQ(Apply(core_, ReverseRequest{2, 50, 0, {}}).status, CoreStatus::kNotFound);
  reply = Apply(core_, GetAccountRequest{1, 30});
  EXPECT_EQ(std::get<Account>(reply.object).available_minor, 500u);
  reply = Apply(core_, ListTransactionsRequest{1, 0, 40, TransactionType::kAuthorization, 0, 1});
  const auto& page = std::get<TransactionPage>(reply.object);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_NE(page.next_cursor, 0u);
}

}  // namespace
}  // namespace tangelo::api
