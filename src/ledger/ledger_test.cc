// Unit tests of the ledger: every result code, linked chains, two-phase transfers, expiry,
// balancing, idempotency, capacity and the invariants.
#include "ledger/ledger.h"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <regex>
#include <set>
#include <string>

#include "ledger/ledger_test_util.h"

namespace tangelo::ledger {
namespace {

using testing::kEur;
using testing::kJpy;
using testing::kSecondNs;
using testing::kUsd;
using testing::Linked;
using testing::MakeAccount;
using testing::MakePending;
using testing::MakePost;
using testing::MakeTransfer;
using testing::MakeVoid;
using AR = CreateAccountResult;
using TR = CreateTransferResult;

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
constexpr uint16_t kNoOverdraft = AccountFlags::kDebitsMustNotExceedCredits;
constexpr uint16_t kCreditLimited = AccountFlags::kCreditsMustNotExceedDebits;

// Accounts: 1 = funding source (unlimited), 2 = card (no overdraft), 3 = merchant,
// 4 = credit-limited, 5 = EUR, 6 = EUR.
class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(harness_.CreateAccounts({MakeAccount(1), MakeAccount(2, kUsd, kNoOverdraft),
                                       MakeAccount(3), MakeAccount(4, kUsd, kCreditLimited),
                                       MakeAccount(5, kEur), MakeAccount(6, kEur)}),
              std::vector<AR>(6, AR::kOk));
  }
  void TearDown() override {
    const base::Status invariants = ledger().CheckAllInvariants();
    EXPECT_TRUE(invariants.ok()) << invariants.ToString();
    const base::Status references = ledger().CheckReferences();
    EXPECT_TRUE(references.ok()) << references.ToString();
  }

  Ledger& ledger() { return harness_.ledger(); }
  const Account& account(uint64_t id) {
    const Account* found = ledger().FindAccount(id);
    EXPECT_NE(found, nullptr) << id;
    return *found;
  }
  // Funds the card (2) with `amount` from the source (1).
  void FundCard(uint64_t amount) {
    ASSERT_EQ(harness_.CreateTransfer(MakeTransfer(next_funding_id_++, 1, 2, amount)), TR::kOk);
  }
  TR Apply(const Transfer& transfer) { return harness_.CreateTransfer(transfer); }

  testing::LedgerHarness harness_;
  uint64_t next_funding_id_ = 9000;
};

// --- Records and names ------------------------------------------------------------------------

TEST(LedgerTypesTest, AvailableBalanceHelpers) {
  Account card = MakeAccount(1);
  card.credits_posted = 1000;
  card.debits_posted = 300;
  card.debits_pending = 200;
  EXPECT_EQ(CreditNormalAvailable(card), 500u);
  card.debits_pending = 900;
  EXPECT_EQ(CreditNormalAvailable(card), 0u);  // Below zero saturates.
  Account line = MakeAccount(2);
  line.debits_posted = 1000;
  line.credits_posted = 100;
  line.credits_pending = 50;
  EXPECT_EQ(DebitNormalAvailable(line), 850u);
  line.credits_posted = kMax;
  line.credits_pending = kMax;  // No overflow in the helper.
  EXPECT_EQ(DebitNormalAvailable(line), 0u);
}

TEST(LedgerTypesTest, EveryResultCodeHasAUniqueName) {
  std::set<std::string_view> names;
  for (uint32_t code = 0; code < kCreateAccountResultCount; ++code) {
    const std::string_view name = ResultName(static_cast<AR>(code));
    EXPECT_NE(name, "unknown") << code;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_EQ(ResultName(static_cast<AR>(kCreateAccountResultCount)), "unknown");
  names.clear();
  for (uint32_t code = 0; code < kCreateTransferResultCount; ++code) {
    const std::string_view name = ResultName(static_cast<TR>(code));
    EXPECT_NE(name, "unknown") << code;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_EQ(ResultName(static_cast<TR>(kCreateTransferResultCount)), "unknown");
  EXPECT_EQ(ResultName(TR::kExceedsCredits), "exceeds_credits");
}

// The published numbers are pinned by docs/ledger/result-codes.md: every documented row must
// match the code, and every code must be documented.
TEST(LedgerTypesTest, ResultCodesMatchTheDocumentation) {
  const std::string source = __FILE__;
  const std::string path =
      source.substr(0, source.rfind("src/ledger/")) + "docs/ledger/result-codes.md";
  std::ifstream file(path);
  ASSERT_TRUE(file.good()) << path;
  const std::regex row(R"(^\| (\d+) \| `([a-z_]+)` \|)");
  std::string line;
  std::string table;
  uint32_t account_rows = 0;
  uint32_t transfer_rows = 0;
  while (std::getline(file, line)) {
    if (line.rfind("## CreateAccountResult", 0) == 0) table = "account";
    if (line.rfind("## CreateTransferResult", 0) == 0) table = "transfer";
    std::smatch match;
    if (!std::regex_search(line, match, row)) continue;
    const uint32_t code = static_cast<uint32_t>(std::stoul(match[1]));
    if (table == "account") {
      EXPECT_EQ(code, account_rows++);
      EXPECT_EQ(ResultName(static_cast<AR>(code)), match[2].str());
    } else {
      ASSERT_EQ(table, "transfer");
      EXPECT_EQ(code, transfer_rows++);
      EXPECT_EQ(ResultName(static_cast<TR>(code)), match[2].str());
    }
  }
  EXPECT_EQ(account_rows, kCreateAccountResultCount);
  EXPECT_EQ(transfer_rows, kCreateTransferResultCount);
}

TEST(LedgerCreateTest, RejectsBadCapacities) {
  EXPECT_EQ(Ledger::Create({0, 10}).status().code(), base::StatusCode::kInvalidArgument);
  EXPECT_EQ(Ledger::Create({10, 0}).status().code(), base::StatusCode::kInvalidArgument);
  EXPECT_EQ(Ledger::Create({Ledger::kAccountsMax + 1, 10}).status().code(),
            base::StatusCode::kInvalidArgument);
  EXPECT_EQ(Ledger::Create({10, Ledger::kTransfersMax + 1}).status().code(),
            base::StatusCode::kInvalidArgument);
  auto ledger = Ledger::Create({1, 1});
  ASSERT_TRUE(ledger.ok());
  EXPECT_EQ((*ledger)->accounts_count(), 0u);
  EXPECT_EQ((*ledger)->NextExpiryNs(), kMax);
  EXPECT_TRUE((*ledger)->CheckAllInvariants().ok());
}

// --- Accounts ---------------------------------------------------------------------------------

TEST_F(LedgerTest, CreatesAccountsWithIncreasingTimestamps) {
  const uint64_t batch = harness_.last_batch_ns();
  EXPECT_EQ(ledger().accounts_count(), 6u);
  EXPECT_EQ(account(1).timestamp, batch);
  EXPECT_EQ(account(6).timestamp, batch + 5);
  EXPECT_EQ(account(6).currency, kEur);
  EXPECT_EQ(ledger().last_timestamp_ns(), batch + 5);
  EXPECT_EQ(ledger().FindAccount(7), nullptr);
  EXPECT_EQ(ledger().FindAccount(0), nullptr);
  EXPECT_EQ(ledger().accounts()[1].id, 2u);
}

TEST_F(LedgerTest, AccountValidationCodes) {
  Account account = MakeAccount(10);
  account.timestamp = 1;
  EXPECT_EQ(harness_.CreateAccount(account), AR::kTimestampMustBeZero);
  account = MakeAccount(10);
  account.reserved = 1;
  EXPECT_EQ(harness_.CreateAccount(account), AR::kReservedField);
  EXPECT_EQ(harness_.CreateAccount(MakeAccount(10, kUsd, 1u << 3)), AR::kReservedFlag);
  EXPECT_EQ(harness_.CreateAccount(MakeAccount(0)), AR::kIdMustNotBeZero);
  EXPECT_EQ(harness_.CreateAccount(MakeAccount(10, kUsd, kNoOverdraft | kCreditLimited)),
            AR::kFlagsAreMutuallyExclusive);
  account = MakeAccount(10);
  account.debits_pending = 1;
  EXPECT_EQ(harness_.CreateAccount(account), AR::kDebitsPendingMustBeZero);
  account = MakeAccount(10);
  account.debits_posted = 1;
  EXPECT_EQ(harness_.CreateAccount(account), AR::kDebitsPostedMustBeZero);
  account = MakeAccount(10);
  account.credits_pending = 1;
  EXPECT_EQ(harness_.CreateAccount(account), AR::kCreditsPendingMustBeZero);
  account = MakeAccount(10);
  account.credits_posted = 1;
  EXPECT_EQ(harness_.CreateAccount(account), AR::kCreditsPostedMustBeZero);
  EXPECT_EQ(harness_.CreateAccount(MakeAccount(10, 0)), AR::kCurrencyMustNotBeZero);
  EXPECT_EQ(harness_.CreateAccount(MakeAccount(10, 999)), AR::kCurrencyNotSupported);
  EXPECT_EQ(ledger().accounts_count(), 6u);
  EXPECT_EQ(ledger().FindAccount(10), nullptr);
}

TEST_F(LedgerTest, AccountIdempotency) {
  EXPECT_EQ(harness_.CreateAccount(MakeAccount(2, kUsd, kNoOverdraft)), AR::kExists);
  EXPECT_EQ(harness_.CreateAccount(MakeAccount(2, kUsd, 0)), AR::kExistsWithDifferentFlags);
  Account account = MakeAccount(2, kUsd, kNoOverdraft);
  account.user_data = 7;
  EXPECT_EQ(harness_.CreateAccount(account), AR::kExistsWithDifferentUserData);
  account = MakeAccount(2, kUsd, kNoOverdraft);
  account.code = 9;
  EXPECT_EQ(harness_.CreateAccount(account), AR::kExistsWithDifferentCode);
  EXPECT_EQ(harness_.CreateAccount(MakeAccount(2, kEur, kNoOverdraft)),
            AR::kExistsWithDifferentCurrency);
  // Duplicates inside one batch: the second sees the first.
  EXPECT_EQ(harness_.CreateAccounts({MakeAccount(20), MakeAccount(20)}),
            (std::vector<AR>{AR::kOk, AR::kExists}));
  EXPECT_EQ(ledger().accounts_count(), 7u);
}

TEST(LedgerAccountsTest, AccountsFull) {
  testing::LedgerHarness harness({2, 4});
  EXPECT_EQ(harness.CreateAccounts({MakeAccount(1), MakeAccount(2), MakeAccount(3)}),
            (std::vector<AR>{AR::kOk, AR::kOk, AR::kAccountsFull}));
  // A duplicate still gets exists when full: idempotency beats capacity.
  EXPECT_EQ(harness.CreateAccount(MakeAccount(2)), AR::kExists);
  EXPECT_TRUE(harness.ledger().CheckAllInvariants().ok());
}

TEST_F(LedgerTest, LinkedAccountsSucceedTogether) {
  Account first = MakeAccount(10, kUsd, AccountFlags::kLinked);
  EXPECT_EQ(harness_.CreateAccounts({first, MakeAccount(11), MakeAccount(12)}),
            std::vector<AR>(3, AR::kOk));
  EXPECT_NE(ledger().FindAccount(10), nullptr);
  EXPECT_NE(ledger().FindAccount(11), nullptr);
}

TEST_F(LedgerTest, LinkedAccountsFailTogether) {
  const Account a = MakeAccount(10, kUsd, AccountFlags::kLinked);
  const Account b = MakeAccount(11, kUsd, AccountFlags::kLinked);
  const Account bad = MakeAccount(12, 999, AccountFlags::kLinked);
  const Account d = MakeAccount(13);
  const Account e = MakeAccount(14);
  EXPECT_EQ(harness_.CreateAccounts({a, b, bad, d, e}),
            (std::vector<AR>{AR::kLinkedEventFailed, AR::kLinkedEventFailed,
                             AR::kCurrencyNotSupported, AR::kLinkedEventFailed, AR::kOk}));
  EXPECT_EQ(ledger().FindAccount(10), nullptr);
  EXPECT_EQ(ledger().FindAccount(11), nullptr);
  EXPECT_EQ(ledger().FindAccount(13), nullptr);
  ASSERT_NE(ledger().FindAccount(14), nullptr);
  EXPECT_EQ(ledger().accounts_count(), 7u);
  // The ids of the failed chain are free again.
  EXPECT_EQ(harness_.CreateAccount(MakeAccount(10)), AR::kOk);
}

TEST_F(LedgerTest, LinkedAccountsChainOpen) {
  const Account a = MakeAccount(10, kUsd, AccountFlags::kLinked);
  const Account b = MakeAccount(11, kUsd, AccountFlags::kLinked);
  EXPECT_EQ(harness_.CreateAccounts({MakeAccount(9), a, b}),
            (std::vector<AR>{AR::kOk, AR::kLinkedEventFailed, AR::kLinkedEventChainOpen}));
  EXPECT_EQ(harness_.CreateAccounts({b}), (std::vector<AR>{AR::kLinkedEventChainOpen}));
  EXPECT_EQ(ledger().FindAccount(10), nullptr);
  EXPECT_EQ(ledger().FindAccount(11), nullptr);
  EXPECT_NE(ledger().FindAccount(9), nullptr);
}

// --- Single-phase transfers -------------------------------------------------------------------

TEST_F(LedgerTest, SinglePhaseTransferMovesMoney) {
  FundCard(1000);
  ASSERT_EQ(Apply(MakeTransfer(100, 2, 3, 250)), TR::kOk);
  EXPECT_EQ(account(2).credits_posted, 1000u);
  EXPECT_EQ(account(2).debits_posted, 250u);
  EXPECT_EQ(account(3).credits_posted, 250u);
  EXPECT_EQ(CreditNormalAvailable(account(2)), 750u);
  const Transfer* stored = ledger().FindTransfer(100);
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(stored->timestamp, harness_.last_batch_ns());
  EXPECT_EQ(stored->amount, 250u);
  EXPECT_EQ(ledger().FindPendingState(100), PendingState::kNone);
  EXPECT_EQ(ledger().transfers_count(), 2u);
}

TEST_F(LedgerTest, TransferValidationCodes) {
  FundCard(100);
  Transfer transfer = MakeTransfer(100, 1, 3, 5);
  transfer.timestamp = 1;
  EXPECT_EQ(Apply(transfer), TR::kTimestampMustBeZero);
  EXPECT_EQ(Apply(MakeTransfer(100, 1, 3, 5, kUsd, 1u << 6)), TR::kReservedFlag);
  EXPECT_EQ(Apply(MakeTransfer(0, 1, 3, 5)), TR::kIdMustNotBeZero);
  for (uint16_t flags :
       {uint16_t{TransferFlags::kPending | TransferFlags::kPostPendingTransfer},
        uint16_t{TransferFlags::kPending | TransferFlags::kVoidPendingTransfer},
        uint16_t{TransferFlags::kPostPendingTransfer | TransferFlags::kVoidPendingTransfer},
        uint16_t{TransferFlags::kPostPendingTransfer | TransferFlags::kBalancingDebit},
        uint16_t{TransferFlags::kVoidPendingTransfer | TransferFlags::kBalancingCredit}}) {
    EXPECT_EQ(Apply(MakeTransfer(100, 1, 3, 5, kUsd, flags)), TR::kFlagsAreMutuallyExclusive);
  }
  transfer = MakeTransfer(100, 1, 3, 5);
  transfer.pending_id = 7;
  EXPECT_EQ(Apply(transfer), TR::kPendingIdMustBeZero);
  transfer = MakeTransfer(100, 1, 3, 5);
  transfer.timeout_seconds = 10;
  EXPECT_EQ(Apply(transfer), TR::kTimeoutReservedForPendingTransfer);
  EXPECT_EQ(Apply(MakePending(100, 1, 3, 5, Ledger::kPendingTimeoutSecondsMax + 1)),
            TR::kTimeoutExceedsMaximum);
  EXPECT_EQ(Apply(MakeTransfer(100, 0, 3, 5)), TR::kDebitAccountIdMustNotBeZero);
  EXPECT_EQ(Apply(MakeTransfer(100, 1, 0, 5)), TR::kCreditAccountIdMustNotBeZero);
  EXPECT_EQ(Apply(MakeTransfer(100, 3, 3, 5)), TR::kAccountsMustBeDifferent);
  EXPECT_EQ(Apply(MakeTransfer(100, 1, 3, 0)), TR::kAmountMustNotBeZero);
  EXPECT_EQ(Apply(MakeTransfer(100, 1, 3, 5, 0)), TR::kCurrencyMustNotBeZero);
  EXPECT_EQ(Apply(MakeTransfer(100, 77, 3, 5)), TR::kDebitAccountNotFound);
  EXPECT_EQ(Apply(MakeTransfer(100, 1, 77, 5)), TR::kCreditAccountNotFound);
  EXPECT_EQ(Apply(MakeTransfer(100, 1, 5, 5)), TR::kAccountsMustHaveTheSameCurrency);
  EXPECT_EQ(Apply(MakeTransfer(100, 5, 6, 5, kUsd)),
            TR::kTransferMustHaveTheSameCurrencyAsAccounts);
  EXPECT_EQ(Apply(MakeTransfer(100, 5, 6, 5, kJpy)),
            TR::kTransferMustHaveTheSameCurrencyAsAccounts);
  // Nothing moved and the id is still free.
  EXPECT_EQ(ledger().transfers_count(), 1u);
  EXPECT_EQ(account(3).credits_posted, 0u);
  EXPECT_EQ(Apply(MakeTransfer(100, 1, 3, 5)), TR::kOk);
}

TEST_F(LedgerTest, TransferIdempotency) {
  Transfer original = MakeTransfer(100, 1, 3, 50);
  original.user_data = 42;
  ASSERT_EQ(Apply(original), TR::kOk);
  EXPECT_EQ(Apply(original), TR::kExists);
  Transfer changed = original;
  changed.flags = TransferFlags::kPending;
  EXPECT_EQ(Apply(changed), TR::kExistsWithDifferentFlags);
  changed = original;
  changed.debit_account_id = 4;
  EXPECT_EQ(Apply(changed), TR::kExistsWithDifferentDebitAccountId);
  changed = original;
  changed.credit_account_id = 4;
  EXPECT_EQ(Apply(changed), TR::kExistsWithDifferentCreditAccountId);
  changed = original;
  changed.amount = 51;
  EXPECT_EQ(Apply(changed), TR::kExistsWithDifferentAmount);
  changed = original;
  changed.user_data = 43;
  EXPECT_EQ(Apply(changed), TR::kExistsWithDifferentUserData);
  // Currency is compared last: the accounts' currency check runs before the lookup, so a
  // different currency needs accounts of that currency.
  const Transfer eur = MakeTransfer(101, 5, 6, 10, kEur);
  ASSERT_EQ(Apply(eur), TR::kOk);
  Transfer eur_changed = eur;
  eur_changed.debit_account_id = 1;
  eur_changed.credit_account_id = 3;
  eur_changed.currency = kUsd;
  EXPECT_EQ(Apply(eur_changed), TR::kExistsWithDifferentDebitAccountId);
  const Transfer hold = MakePending(102, 1, 3, 10, 60);
  ASSERT_EQ(Apply(hold), TR::kOk);
  Transfer hold_changed = hold;
  hold_changed.timeout_seconds = 61;
  EXPECT_EQ(Apply(hold_changed), TR::kExistsWithDifferentTimeout);
  // Exactly one effect each.
  EXPECT_EQ(account(3).credits_posted, 50u);
  EXPECT_EQ(account(3).credits_pending, 10u);
  EXPECT_EQ(ledger().transfers_count(), 3u);
}

TEST_F(LedgerTest, NoOverdraftCountsHolds) {
  FundCard(100);
  ASSERT_EQ(Apply(MakePending(100, 2, 3, 60)), TR::kOk);
  EXPECT_EQ(CreditNormalAvailable(account(2)), 40u);
  EXPECT_EQ(Apply(MakeTransfer(101, 2, 3, 41)), TR::kExceedsCredits);
  EXPECT_EQ(Apply(MakePending(101, 2, 3, 41)), TR::kExceedsCredits);
  EXPECT_EQ(Apply(MakeTransfer(101, 2, 3, 40)), TR::kOk);
  EXPECT_EQ(CreditNormalAvailable(account(2)), 0u);
  EXPECT_EQ(Apply(MakeTransfer(102, 2, 3, 1)), TR::kExceedsCredits);
  // Voiding the hold frees its 60.
  ASSERT_EQ(Apply(MakeVoid(103, 100)), TR::kOk);
  EXPECT_EQ(CreditNormalAvailable(account(2)), 60u);
}

TEST_F(LedgerTest, CreditLimitedAccountCountsPendingCredits) {
  // Account 4 must not be credited beyond what was debited from it.
  ASSERT_EQ(Apply(MakeTransfer(100, 4, 3, 100)), TR::kOk);
  EXPECT_EQ(DebitNormalAvailable(account(4)), 100u);
  ASSERT_EQ(Apply(MakePending(101, 1, 4, 70)), TR::kOk);
  EXPECT_EQ(Apply(MakeTransfer(102, 1, 4, 31)), TR::kExceedsDebits);
  EXPECT_EQ(Apply(MakeTransfer(102, 1, 4, 30)), TR::kOk);
  EXPECT_EQ(DebitNormalAvailable(account(4)), 0u);
}

// --- Overflow ---------------------------------------------------------------------------------

TEST_F(LedgerTest, PostedOverflowIsAResultNotAWrap) {
  ASSERT_EQ(Apply(MakeTransfer(100, 1, 3, kMax)), TR::kOk);
  EXPECT_EQ(Apply(MakeTransfer(101, 1, 4, 1)), TR::kOverflowsDebitsPosted);
  EXPECT_EQ(Apply(MakeTransfer(101, 4, 3, 1)), TR::kOverflowsCreditsPosted);
  EXPECT_EQ(account(1).debits_posted, kMax);
  EXPECT_EQ(account(3).credits_posted, kMax);
}

TEST_F(LedgerTest, PendingOverflowIsAResultNotAWrap) {
  ASSERT_EQ(Apply(MakePending(100, 1, 3, kMax)), TR::kOk);
  EXPECT_EQ(Apply(MakePending(101, 1, 4, 1)), TR::kOverflowsDebitsPending);
  EXPECT_EQ(Apply(MakePending(101, 4, 3, 1)), TR::kOverflowsCreditsPending);
  // Pending plus posted must fit too.
  EXPECT_EQ(Apply(MakeTransfer(101, 1, 4, 1)), TR::kOverflowsDebits);
  EXPECT_EQ(Apply(MakeTransfer(101, 4, 3, 1)), TR::kOverflowsCredits);
  // Posting the whole hold fits exactly.
  EXPECT_EQ(Apply(MakePost(102, 100)), TR::kOk);
  EXPECT_EQ(account(1).debits_posted, kMax);
  EXPECT_EQ(account(1).debits_pending, 0u);
}

TEST(LedgerOverflowTest, PostAtTheLimitFits) {
  // Pending + posted is kept within 64 bits when a hold is placed, so posting the hold later
  // can never overflow, even with the posted counters pushed to the limit in between.
  testing::LedgerHarness harness;
  ASSERT_EQ(harness.CreateAccounts({MakeAccount(1), MakeAccount(2), MakeAccount(3)}),
            std::vector<AR>(3, AR::kOk));
  ASSERT_EQ(harness.CreateTransfer(MakePending(10, 1, 2, 5)), TR::kOk);
  // debits_pending 5 + debits_posted must stay <= max, so posted can reach max - 5 only.
  ASSERT_EQ(harness.CreateTransfer(MakeTransfer(11, 1, 3, kMax - 5)), TR::kOk);
  EXPECT_EQ(harness.CreateTransfer(MakeTransfer(12, 1, 3, 1)), TR::kOverflowsDebits);
  // Credit side of the post: account 2 already holds max - 5 posted credits from elsewhere.
  ASSERT_EQ(harness.CreateTransfer(MakeTransfer(13, 3, 2, kMax - 5)), TR::kOk);
  EXPECT_EQ(harness.CreateTransfer(MakePost(14, 10)), TR::kOk);
  EXPECT_EQ(harness.ledger().FindAccount(2)->credits_posted, kMax);
  EXPECT_TRUE(harness.ledger().CheckAllInvariants().ok());
}

TEST(LedgerOverflowTest, TimeoutOverflow) {
  auto ledger = Ledger::Create({4, 4}).value();
  std::vector<AR> account_results(2);
  const std::vector<Account> accounts = {MakeAccount(1), MakeAccount(2)};
  ledger->CreateAccounts(accounts, kMax - 100, account_results);
  ASSERT_EQ(account_results, std::vector<AR>(2, AR::kOk));
  std::vector<TR> results(2);
  const std::vector<Transfer> transfers = {MakePending(10, 1, 2, 5, 1), MakePending(11, 1, 2, 5)};
  ledger->CreateTransfers(transfers, kMax - 50, results);
  EXPECT_EQ(results, (std::vector<TR>{TR::kOverflowsTimeout, TR::kOk}));
  EXPECT_TRUE(ledger->CheckAllInvariants().ok());
}

// --- Two-phase transfers ----------------------------------------------------------------------

TEST_F(LedgerTest, PendingReservesThenFullPost) {
  FundCard(1000);
  ASSERT_EQ(Apply(MakePending(100, 2, 3, 300, 3600)), TR::kOk);
  EXPECT_EQ(account(2).debits_pending, 300u);
  EXPECT_EQ(account(3).credits_pending, 300u);
  EXPECT_EQ(ledger().FindPendingState(100), PendingState::kPending);
  EXPECT_EQ(ledger().expiry_entries_count(), 1u);
  ASSERT_EQ(Apply(MakePost(101, 100)), TR::kOk);  // Amount 0: the whole hold.
  EXPECT_EQ(account(2).debits_pending, 0u);
  EXPECT_EQ(account(2).debits_posted, 300u);
  EXPECT_EQ(account(3).credits_pending, 0u);
  EXPECT_EQ(account(3).credits_posted, 300u);
  EXPECT_EQ(ledger().FindPendingState(100), PendingState::kPosted);
  const Transfer* post = ledger().FindTransfer(101);
  ASSERT_NE(post, nullptr);
  EXPECT_EQ(post->amount, 300u);
  EXPECT_EQ(post->debit_account_id, 2u);
  EXPECT_EQ(post->credit_account_id, 3u);
  EXPECT_EQ(post->currency, kUsd);
  EXPECT_EQ(Apply(MakePost(102, 100)), TR::kPendingTransferAlreadyPosted);
  EXPECT_EQ(Apply(MakeVoid(102, 100)), TR::kPendingTransferAlreadyPosted);
}

TEST_F(LedgerTest, PostWithTheExactAmountIsFull) {
  ASSERT_EQ(Apply(MakePending(100, 1, 3, 300)), TR::kOk);
  ASSERT_EQ(Apply(MakePost(101, 100, 300)), TR::kOk);
  EXPECT_EQ(account(3).credits_posted, 300u);
  // Retrying with amount 0 means the same thing: exists.
  EXPECT_EQ(Apply(MakePost(101, 100)), TR::kExists);
}

TEST_F(LedgerTest, PartialPostReleasesTheRemainder) {
  FundCard(1000);
  ASSERT_EQ(Apply(MakePending(100, 2, 3, 300)), TR::kOk);
  ASSERT_EQ(Apply(MakePost(101, 100, 120)), TR::kOk);
  EXPECT_EQ(account(2).debits_pending, 0u);
  EXPECT_EQ(account(2).debits_posted, 120u);
  EXPECT_EQ(account(3).credits_posted, 120u);
  EXPECT_EQ(CreditNormalAvailable(account(2)), 880u);
  EXPECT_EQ(ledger().FindTransfer(101)->amount, 120u);
  // A hold captures once: the rest cannot be posted later.
  EXPECT_EQ(Apply(MakePost(102, 100, 100)), TR::kPendingTransferAlreadyPosted);
}

TEST_F(LedgerTest, VoidReleasesTheHold) {
  FundCard(1000);
  ASSERT_EQ(Apply(MakePending(100, 2, 3, 300)), TR::kOk);
  Transfer void_transfer = MakeVoid(101, 100);
  void_transfer.amount = 300;  // Zero or the pending amount are both accepted.
  ASSERT_EQ(Apply(void_transfer), TR::kOk);
  EXPECT_EQ(account(2).debits_pending, 0u);
  EXPECT_EQ(account(2).debits_posted, 0u);
  EXPECT_EQ(account(3).credits_pending, 0u);
  EXPECT_EQ(ledger().FindPendingState(100), PendingState::kVoided);
  EXPECT_EQ(ledger().FindTransfer(101)->amount, 300u);
  EXPECT_EQ(Apply(MakeVoid(102, 100)), TR::kPendingTransferAlreadyVoided);
  EXPECT_EQ(Apply(MakePost(102, 100)), TR::kPendingTransferAlreadyVoided);
  EXPECT_EQ(Apply(MakeVoid(101, 100)), TR::kExists);
}

TEST_F(LedgerTest, PostAndVoidValidationCodes) {
  ASSERT_EQ(Apply(MakePending(100, 1, 3, 300)), TR::kOk);
  ASSERT_EQ(Apply(MakeTransfer(50, 1, 3, 1)), TR::kOk);
  EXPECT_EQ(Apply(MakePost(101, 0)), TR::kPendingIdMustNotBeZero);
  EXPECT_EQ(Apply(MakePost(101, 101)), TR::kPendingIdMustBeDifferent);
  EXPECT_EQ(Apply(MakePost(101, 77)), TR::kPendingTransferNotFound);
  EXPECT_EQ(Apply(MakePost(101, 50)), TR::kPendingTransferNotPending);
  Transfer post = MakePost(101, 100);
  post.debit_account_id = 4;
  EXPECT_EQ(Apply(post), TR::kPendingTransferHasDifferentAccounts);
  post = MakePost(101, 100);
  post.credit_account_id = 4;
  EXPECT_EQ(Apply(post), TR::kPendingTransferHasDifferentAccounts);
  post = MakePost(101, 100);
  post.currency = kEur;
  EXPECT_EQ(Apply(post), TR::kPendingTransferHasDifferentCurrency);
  EXPECT_EQ(Apply(MakePost(101, 100, 301)), TR::kExceedsPendingTransferAmount);
  Transfer void_transfer = MakeVoid(101, 100);
  void_transfer.amount = 299;
  EXPECT_EQ(Apply(void_transfer), TR::kPendingTransferHasDifferentAmount);
  Transfer timed_post = MakePost(101, 100);
  timed_post.timeout_seconds = 5;
  EXPECT_EQ(Apply(timed_post), TR::kTimeoutReservedForPendingTransfer);
  // Matching optional fields are fine.
  post = MakePost(101, 100, 10);
  post.debit_account_id = 1;
  post.credit_account_id = 3;
  post.currency = kUsd;
  EXPECT_EQ(Apply(post), TR::kOk);
}

TEST_F(LedgerTest, PostIdempotency) {
  ASSERT_EQ(Apply(MakePending(100, 1, 3, 300)), TR::kOk);
  ASSERT_EQ(Apply(MakePending(200, 1, 3, 300)), TR::kOk);
  Transfer post = MakePost(101, 100, 100);
  post.user_data = 5;
  ASSERT_EQ(Apply(post), TR::kOk);
  EXPECT_EQ(Apply(post), TR::kExists);
  Transfer changed = post;
  changed.amount = 101;
  EXPECT_EQ(Apply(changed), TR::kExistsWithDifferentAmount);
  changed = post;
  changed.amount = 0;  // The full amount (300) is not what was posted.
  EXPECT_EQ(Apply(changed), TR::kExistsWithDifferentAmount);
  changed = post;
  changed.user_data = 6;
  EXPECT_EQ(Apply(changed), TR::kExistsWithDifferentUserData);
  changed = post;
  changed.pending_id = 200;
  EXPECT_EQ(Apply(changed), TR::kExistsWithDifferentPendingId);
  EXPECT_EQ(Apply(MakeVoid(101, 100)), TR::kExistsWithDifferentFlags);
  // A post with the id of a single-phase transfer.
  ASSERT_EQ(Apply(MakeTransfer(300, 1, 3, 1)), TR::kOk);
  EXPECT_EQ(Apply(MakePost(300, 200)), TR::kExistsWithDifferentFlags);
  EXPECT_EQ(ledger().FindPendingState(200), PendingState::kPending);
  EXPECT_EQ(account(3).credits_posted, 101u);
}

// --- Expiry -----------------------------------------------------------------------------------

TEST_F(LedgerTest, HoldsExpireInOrderAndBounded) {
  FundCard(1000);
  ASSERT_EQ(Apply(MakePending(100, 2, 3, 10, 30)), TR::kOk);
  const uint64_t first_created = harness_.last_batch_ns();
  ASSERT_EQ(Apply(MakePending(101, 2, 3, 20, 10)), TR::kOk);
  const uint64_t second_created = harness_.last_batch_ns();
  ASSERT_EQ(Apply(MakePending(102, 2, 3, 30, 10)), TR::kOk);
  ASSERT_EQ(Apply(MakePending(103, 2, 3, 40)), TR::kOk);  // Never expires.
  EXPECT_EQ(ledger().expiry_entries_count(), 3u);
  EXPECT_EQ(ledger().NextExpiryNs(), second_created + 10 * kSecondNs);
  EXPECT_EQ(account(2).debits_pending, 100u);

  // Not yet due: nothing happens.
  EXPECT_EQ(ledger().ExpirePending(second_created + 10 * kSecondNs - 1, 100), 0u);
  // Due: 101 expires before 102 (same timeout, created earlier); one per call.
  EXPECT_EQ(ledger().ExpirePending(first_created + 30 * kSecondNs, 1), 1u);
  EXPECT_EQ(ledger().FindPendingState(101), PendingState::kExpired);
  EXPECT_EQ(ledger().FindPendingState(102), PendingState::kPending);
  EXPECT_EQ(account(2).debits_pending, 80u);
  EXPECT_EQ(ledger().ExpirePending(first_created + 30 * kSecondNs, 10), 2u);
  EXPECT_EQ(ledger().FindPendingState(100), PendingState::kExpired);
  EXPECT_EQ(ledger().FindPendingState(103), PendingState::kPending);
  EXPECT_EQ(account(2).debits_pending, 40u);
  EXPECT_EQ(account(3).credits_pending, 40u);
  EXPECT_EQ(ledger().NextExpiryNs(), kMax);
  EXPECT_EQ(ledger().ExpirePending(kMax, 10), 0u);

  EXPECT_EQ(Apply(MakePost(200, 101)), TR::kPendingTransferExpired);
  EXPECT_EQ(Apply(MakeVoid(200, 100)), TR::kPendingTransferExpired);
  EXPECT_EQ(Apply(MakePost(200, 103)), TR::kOk);
}

TEST_F(LedgerTest, DueHoldCannotBePostedBeforeTheSweep) {
  ASSERT_EQ(Apply(MakePending(100, 1, 3, 10, 5)), TR::kOk);
  harness_.AdvanceSeconds(5);
  EXPECT_EQ(Apply(MakePost(101, 100)), TR::kPendingTransferExpired);
  EXPECT_EQ(Apply(MakeVoid(101, 100)), TR::kPendingTransferExpired);
  // Still reserved until the sweep releases it.
  EXPECT_EQ(ledger().FindPendingState(100), PendingState::kPending);
  EXPECT_EQ(account(3).credits_pending, 10u);
  EXPECT_EQ(ledger().ExpirePending(harness_.now_ns(), 10), 1u);
  EXPECT_EQ(account(3).credits_pending, 0u);
}

TEST_F(LedgerTest, ResolvedHoldsDoNotExpire) {
  ASSERT_EQ(Apply(MakePending(100, 1, 3, 10, 5)), TR::kOk);
  ASSERT_EQ(Apply(MakePending(101, 1, 3, 20, 5)), TR::kOk);
  ASSERT_EQ(Apply(MakePending(102, 1, 3, 30, 5)), TR::kOk);
  ASSERT_EQ(Apply(MakePost(200, 100)), TR::kOk);
  ASSERT_EQ(Apply(MakeVoid(201, 101)), TR::kOk);
  harness_.AdvanceSeconds(10);
  // The first call examines the two stale entries only (budget 2) and releases nothing.
  EXPECT_EQ(ledger().ExpirePending(harness_.now_ns(), 2), 0u);
  EXPECT_LE(ledger().NextExpiryNs(), harness_.now_ns());
  EXPECT_EQ(ledger().ExpirePending(harness_.now_ns(), 2), 1u);
  EXPECT_EQ(ledger().FindPendingState(100), PendingState::kPosted);
  EXPECT_EQ(ledger().FindPendingState(101), PendingState::kVoided);
  EXPECT_EQ(ledger().FindPendingState(102), PendingState::kExpired);
  EXPECT_EQ(account(3).credits_posted, 10u);
  EXPECT_EQ(account(3).credits_pending, 0u);
  EXPECT_EQ(ledger().expiry_entries_count(), 0u);
}

TEST_F(LedgerTest, ExpiryOfManyHoldsIsOrderedByExpiryThenCreation) {
  // Timeouts chosen so expiry order differs from creation order.
  const uint32_t timeouts[] = {50, 10, 40, 10, 30, 20, 50, 10};
  for (uint64_t index = 0; index < 8; ++index) {
    ASSERT_EQ(Apply(MakePending(100 + index, 1, 3, 1 + index, timeouts[index])), TR::kOk);
  }
  harness_.AdvanceSeconds(100);
  std::vector<uint64_t> order;
  for (int step = 0; step < 8; ++step) {
    ASSERT_EQ(ledger().ExpirePending(harness_.now_ns(), 1), 1u);
    for (uint64_t index = 0; index < 8; ++index) {
      if (ledger().FindPendingState(100 + index) == PendingState::kExpired &&
          std::find(order.begin(), order.end(), 100 + index) == order.end()) {
        order.push_back(100 + index);
      }
    }
  }
  EXPECT_EQ(order, (std::vector<uint64_t>{101, 103, 107, 105, 104, 102, 100, 106}));
}

TEST(LedgerExpiryTest, EqualExpiryTimesExpireInCreationOrder) {
  auto ledger = Ledger::Create({4, 8}).value();
  std::vector<AR> account_results(2);
  const std::vector<Account> accounts = {MakeAccount(1), MakeAccount(2)};
  ledger->CreateAccounts(accounts, testing::kStartNs, account_results);
  std::vector<TR> results(1);
  // Created one second apart with timeouts one second apart: both expire at start + 20 s.
  const std::vector<Transfer> first = {MakePending(10, 1, 2, 5, 20)};
  const std::vector<Transfer> second = {MakePending(11, 1, 2, 7, 19)};
  ledger->CreateTransfers(first, testing::kStartNs + kSecondNs, results);
  ASSERT_EQ(results[0], TR::kOk);
  ledger->CreateTransfers(second, testing::kStartNs + 2 * kSecondNs, results);
  ASSERT_EQ(results[0], TR::kOk);
  EXPECT_EQ(ledger->NextExpiryNs(), testing::kStartNs + 21 * kSecondNs);
  EXPECT_EQ(ledger->ExpirePending(testing::kStartNs + 21 * kSecondNs, 1), 1u);
  EXPECT_EQ(ledger->FindPendingState(10), PendingState::kExpired);
  EXPECT_EQ(ledger->FindPendingState(11), PendingState::kPending);
  EXPECT_EQ(ledger->ExpirePending(testing::kStartNs + 21 * kSecondNs, 1), 1u);
  EXPECT_EQ(ledger->FindPendingState(11), PendingState::kExpired);
  EXPECT_TRUE(ledger->CheckAllInvariants().ok());
}

// --- Balancing --------------------------------------------------------------------------------

TEST_F(LedgerTest, BalancingDebitMovesWhatIsAvailable) {
  FundCard(100);
  ASSERT_EQ(Apply(MakePending(100, 2, 3, 30)), TR::kOk);
  const Transfer sweep = MakeTransfer(101, 2, 3, 1000, kUsd, TransferFlags::kBalancingDebit);
  ASSERT_EQ(Apply(sweep), TR::kOk);
  EXPECT_EQ(ledger().FindTransfer(101)->amount, 70u);
  EXPECT_EQ(CreditNormalAvailable(account(2)), 0u);
  // A retry is idempotent even though the stored amount differs from the request.
  EXPECT_EQ(Apply(sweep), TR::kExists);
  EXPECT_EQ(Apply(MakeTransfer(102, 2, 3, 5, kUsd, TransferFlags::kBalancingDebit)),
            TR::kExceedsCredits);
  // Less than available: the amount as asked.
  ASSERT_EQ(Apply(MakeVoid(103, 100)), TR::kOk);
  ASSERT_EQ(Apply(MakeTransfer(104, 2, 3, 5, kUsd, TransferFlags::kBalancingDebit)), TR::kOk);
  EXPECT_EQ(ledger().FindTransfer(104)->amount, 5u);
}

TEST_F(LedgerTest, BalancingCreditMovesWhatIsAvailable) {
  ASSERT_EQ(Apply(MakeTransfer(100, 4, 3, 50)), TR::kOk);  // Account 4 debited 50.
  ASSERT_EQ(Apply(MakeTransfer(101, 1, 4, 80, kUsd, TransferFlags::kBalancingCredit)), TR::kOk);
  EXPECT_EQ(ledger().FindTransfer(101)->amount, 50u);
  EXPECT_EQ(Apply(MakeTransfer(102, 1, 4, 80, kUsd, TransferFlags::kBalancingCredit)),
            TR::kExceedsDebits);
  // Both flags: the smaller of the two limits. Card 2 has 30, account 4 can take 0 more.
  FundCard(30);
  ASSERT_EQ(Apply(MakeTransfer(103, 4, 3, 10)), TR::kOk);
  ASSERT_EQ(Apply(MakeTransfer(104, 2, 4, 100, kUsd,
                               TransferFlags::kBalancingDebit | TransferFlags::kBalancingCredit)),
            TR::kOk);
  EXPECT_EQ(ledger().FindTransfer(104)->amount, 10u);
}

TEST_F(LedgerTest, BalancingPendingHold) {
  FundCard(25);
  ASSERT_EQ(Apply(MakeTransfer(100, 2, 3, 100, kUsd,
                               TransferFlags::kPending | TransferFlags::kBalancingDebit)),
            TR::kOk);
  EXPECT_EQ(ledger().FindTransfer(100)->amount, 25u);
  EXPECT_EQ(account(2).debits_pending, 25u);
  ASSERT_EQ(Apply(MakePost(101, 100)), TR::kOk);
  EXPECT_EQ(account(2).debits_posted, 25u);
}

// --- Capacity ---------------------------------------------------------------------------------

TEST(LedgerCapacityTest, TransfersFull) {
  testing::LedgerHarness harness({4, 3});
  ASSERT_EQ(harness.CreateAccounts({MakeAccount(1), MakeAccount(2)}), std::vector<AR>(2, AR::kOk));
  EXPECT_EQ(harness.CreateTransfers({MakeTransfer(10, 1, 2, 1), MakePending(11, 1, 2, 5),
                                     MakeTransfer(12, 1, 2, 1), MakeTransfer(13, 1, 2, 1)}),
            (std::vector<TR>{TR::kOk, TR::kOk, TR::kOk, TR::kTransfersFull}));
  EXPECT_EQ(harness.CreateTransfer(MakePost(14, 11)), TR::kTransfersFull);
  EXPECT_EQ(harness.CreateTransfer(MakeTransfer(10, 1, 2, 1)), TR::kExists);
  EXPECT_EQ(harness.ledger().FindPendingState(11), PendingState::kPending);
  EXPECT_EQ(harness.ledger().transfers_count(), 3u);
  EXPECT_TRUE(harness.ledger().CheckAllInvariants().ok());
}

// --- Linked chains ----------------------------------------------------------------------------

TEST_F(LedgerTest, LinkedChainSucceedsTogether) {
  FundCard(100);
  EXPECT_EQ(
      harness_.CreateTransfers({Linked(MakeTransfer(100, 2, 3, 60)),
                                Linked(MakePending(101, 2, 3, 40, 60)), MakePost(102, 101, 15)}),
      std::vector<TR>(3, TR::kOk));
  EXPECT_EQ(account(2).debits_posted, 75u);
  EXPECT_EQ(account(2).debits_pending, 0u);
  EXPECT_EQ(ledger().FindPendingState(101), PendingState::kPosted);
  // The chain's pending transfer joined the expiry heap on commit.
  EXPECT_EQ(ledger().expiry_entries_count(), 1u);
}

TEST_F(LedgerTest, LinkedChainFailureRollsBackEverything) {
  FundCard(100);
  ASSERT_EQ(Apply(MakePending(50, 2, 3, 10)), TR::kOk);
  const Account card_before = account(2);
  const Account merchant_before = account(3);
  const uint32_t transfers_before = ledger().transfers_count();
  const std::vector<TR> results = harness_.CreateTransfers({
      MakeTransfer(99, 1, 3, 1),              // Independent: applies.
      Linked(MakeTransfer(100, 2, 3, 60)),    // Applied, then rolled back.
      Linked(MakePost(101, 50)),              // Resolves hold 50, then rolled back.
      Linked(MakePending(102, 2, 3, 20, 5)),  // Pending with timeout, rolled back.
      Linked(MakeTransfer(103, 2, 3, 50)),    // Fails: 100 - 70 - 20 = 10 left.
      MakeTransfer(104, 2, 3, 1),             // End of the chain: linked_event_failed.
      MakeTransfer(105, 1, 3, 2),             // After the chain: applies.
  });
  EXPECT_EQ(results, (std::vector<TR>{TR::kOk, TR::kLinkedEventFailed, TR::kLinkedEventFailed,
                                      TR::kLinkedEventFailed, TR::kExceedsCredits,
                                      TR::kLinkedEventFailed, TR::kOk}));
  EXPECT_EQ(account(2).debits_posted, card_before.debits_posted);
  EXPECT_EQ(account(2).debits_pending, card_before.debits_pending);
  EXPECT_EQ(account(3).credits_posted, merchant_before.credits_posted + 3);
  EXPECT_EQ(account(3).credits_pending, merchant_before.credits_pending);
  EXPECT_EQ(ledger().FindPendingState(50), PendingState::kPending);
  for (uint64_t id : {100u, 101u, 102u, 103u, 104u}) EXPECT_EQ(ledger().FindTransfer(id), nullptr);
  EXPECT_EQ(ledger().transfers_count(), transfers_before + 2);
  EXPECT_EQ(ledger().expiry_entries_count(), 0u);
  // The rolled-back post left the hold resolvable.
  EXPECT_EQ(Apply(MakePost(101, 50)), TR::kOk);
}

TEST_F(LedgerTest, LinkedChainOpenAtTheEndFails) {
  const std::vector<TR> results =
      harness_.CreateTransfers({MakeTransfer(99, 1, 3, 1), Linked(MakeTransfer(100, 1, 3, 1)),
                                Linked(MakeTransfer(101, 1, 3, 1))});
  EXPECT_EQ(results, (std::vector<TR>{TR::kOk, TR::kLinkedEventFailed, TR::kLinkedEventChainOpen}));
  EXPECT_EQ(ledger().FindTransfer(100), nullptr);
  EXPECT_EQ(ledger().FindTransfer(101), nullptr);
  EXPECT_EQ(harness_.CreateTransfers({Linked(MakeTransfer(100, 1, 3, 1))}),
            (std::vector<TR>{TR::kLinkedEventChainOpen}));
  EXPECT_EQ(account(3).credits_posted, 1u);
}

TEST_F(LedgerTest, LinkedChainBrokenEarlyMarksTheRest) {
  const std::vector<TR> results = harness_.CreateTransfers(
      {Linked(MakeTransfer(100, 1, 77, 1)), Linked(MakeTransfer(101, 1, 3, 1)),
       MakeTransfer(102, 1, 3, 1), Linked(MakeTransfer(103, 1, 3, 1)), MakeTransfer(104, 1, 3, 1)});
  EXPECT_EQ(results, (std::vector<TR>{TR::kCreditAccountNotFound, TR::kLinkedEventFailed,
                                      TR::kLinkedEventFailed, TR::kOk, TR::kOk}));
  EXPECT_EQ(account(3).credits_posted, 2u);
}

TEST_F(LedgerTest, RetriedChainFailsOnExistsWithoutEffect) {
  const std::vector<Transfer> chain = {Linked(MakeTransfer(100, 1, 3, 5)),
                                       MakeTransfer(101, 1, 3, 6)};
  ASSERT_EQ(harness_.CreateTransfers(chain), std::vector<TR>(2, TR::kOk));
  // As in TigerBeetle, exists is not ok, so it breaks the retried chain; nothing is applied.
  EXPECT_EQ(harness_.CreateTransfers(chain),
            (std::vector<TR>{TR::kExists, TR::kLinkedEventFailed}));
  EXPECT_EQ(account(3).credits_posted, 11u);
}

TEST_F(LedgerTest, FxIsALinkedPairThroughFxAccounts) {
  // Customer 2 (USD) pays merchant 6 (EUR) through the issuer's FX position accounts 3 (USD)
  // and 5 (EUR): one transfer per currency, linked so they happen together or not at all.
  FundCard(1000);
  const std::vector<TR> ok = harness_.CreateTransfers(
      {Linked(MakeTransfer(100, 2, 3, 110, kUsd)), MakeTransfer(101, 5, 6, 100, kEur)});
  EXPECT_EQ(ok, std::vector<TR>(2, TR::kOk));
  EXPECT_EQ(account(2).debits_posted, 110u);
  EXPECT_EQ(account(6).credits_posted, 100u);
  // Too large for the card: the EUR leg is rolled back with it.
  const std::vector<TR> failed = harness_.CreateTransfers(
      {Linked(MakeTransfer(102, 5, 6, 1000, kEur)), MakeTransfer(103, 2, 3, 1100, kUsd)});
  EXPECT_EQ(failed, (std::vector<TR>{TR::kLinkedEventFailed, TR::kExceedsCredits}));
  EXPECT_EQ(account(6).credits_posted, 100u);
  EXPECT_EQ(account(5).debits_posted, 100u);
  // A leg in the wrong currency is refused.
  EXPECT_EQ(harness_.CreateTransfers(
                {Linked(MakeTransfer(104, 2, 3, 1, kUsd)), MakeTransfer(105, 5, 3, 1, kEur)}),
            (std::vector<TR>{TR::kLinkedEventFailed, TR::kAccountsMustHaveTheSameCurrency}));
}

// --- Determinism and misuse -------------------------------------------------------------------

TEST(LedgerDeterminismTest, SameInputsGiveIdenticalState) {
  auto run = [] {
    testing::LedgerHarness harness;
    EXPECT_EQ(harness.CreateAccounts({MakeAccount(1), MakeAccount(2), MakeAccount(3)}),
              std::vector<AR>(3, AR::kOk));
    harness.CreateTransfers({MakePending(10, 1, 2, 5, 1), MakePending(11, 1, 3, 7, 2),
                             Linked(MakeTransfer(12, 2, 3, 1)), MakeTransfer(13, 3, 77, 1),
                             MakePost(14, 11, 3)});
    harness.AdvanceSeconds(5);
    harness.ledger().ExpirePending(harness.now_ns(), 10);
    return testing::SnapshotBytes(harness.ledger());
  };
  EXPECT_EQ(run(), run());
}

TEST(LedgerDeathTest, BatchTimestampsMustIncrease) {
  auto ledger = Ledger::Create({4, 4}).value();
  std::vector<AR> results(1);
  const std::vector<Account> accounts = {MakeAccount(1)};
  ledger->CreateAccounts(accounts, 1000, results);
  EXPECT_DEATH(ledger->CreateAccounts(accounts, 1000, results), "batch timestamps must increase");
  std::vector<TR> transfer_results(1);
  const std::vector<Transfer> transfers = {MakeTransfer(1, 1, 2, 1)};
  EXPECT_DEATH(ledger->CreateTransfers(transfers, 999, transfer_results),
               "batch timestamps must increase");
}

TEST(LedgerDeathTest, ResultsMustMatchInput) {
  auto ledger = Ledger::Create({4, 4}).value();
  std::vector<AR> results(2);
  const std::vector<Account> accounts = {MakeAccount(1)};
  EXPECT_DEATH(ledger->CreateAccounts(accounts, 1000, results), "size");
  std::vector<Transfer> too_many(Ledger::kBatchEventsMax + 1);
  std::vector<TR> transfer_results(too_many.size());
  EXPECT_DEATH(ledger->CreateTransfers(too_many, 1000, transfer_results), "kBatchEventsMax");
}

}  // namespace
}  // namespace tangelo::ledger
