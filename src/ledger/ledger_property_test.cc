// Property test: random streams of ledger operations against the independent ReferenceModel.
//
// Each seed drives account batches, transfer batches (single-phase, pending, posts full and
// partial, voids, balancing, linked chains, duplicates and malformed events) and expiry sweeps
// over a moving clock. After every batch the results, every account's counters and every
// transfer with its pending state must equal the model's, and CheckAllInvariants and
// CheckReferences must pass.
// Every so often the ledger is replaced by a snapshot round trip of itself.
//
// TANGELO_SEED=<n> replays one seed; TANGELO_SEEDS=<n> runs more seeds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include "base/random.h"
#include "ledger/ledger.h"
#include "ledger/ledger_test_util.h"
#include "ledger/reference_model.h"

namespace tangelo::ledger {
namespace {

using testing::ReferenceModel;
using AR = CreateAccountResult;
using TR = CreateTransferResult;

constexpr uint32_t kSeedsDefault = 50;
constexpr uint32_t kOperationsPerSeed = 4000;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// Random operations biased towards the interesting cases: hot accounts, holds that get
// resolved, retried ids, amounts at the 64-bit limit.
class OperationGenerator {
 public:
  OperationGenerator(uint64_t seed, const ReferenceModel& model) : random_(seed), model_(model) {}

  std::vector<Account> AccountBatch() {
    std::vector<Account> batch(1 + random_.Uniform(6));
    for (Account& account : batch) account = RandomAccount();
    return batch;
  }

  std::vector<Transfer> TransferBatch() {
    const uint64_t size = random_.Chance(10) ? 1 + random_.Uniform(64) : 1 + random_.Uniform(16);
    std::vector<Transfer> batch(size);
    for (Transfer& transfer : batch) {
      transfer = RandomTransfer();
      history_.push_back(transfer);
    }
    return batch;
  }

  base::Random& random() { return random_; }

 private:
  uint64_t AccountId() {
    if (random_.Chance(2)) return 0;
    if (random_.Chance(3)) return 1'000'000 + random_.Uniform(5);  // Never created.
    if (account_ids_.empty()) return 1;
    // Skewed: low ids are hot.
    const uint64_t bound = account_ids_.size();
    const uint64_t pick = std::min(random_.Uniform(bound), random_.Uniform(bound));
    return account_ids_[pick];
  }

  uint16_t Currency() {
    const uint64_t roll = random_.Uniform(100);
    if (roll < 70) return testing::kUsd;
    if (roll < 95) return testing::kEur;
    if (roll < 97) return testing::kJpy;
    if (roll < 99) return 1;  // Not ISO 4217.
    return 0;
  }

  Account RandomAccount() {
    Account account;
    if (!account_ids_.empty() && random_.Chance(15)) {
      account.id = account_ids_[random_.Uniform(account_ids_.size())];
    } else {
      account.id = random_.Chance(2) ? 0 : next_account_id_++;
      if (account.id != 0) account_ids_.push_back(account.id);
    }
    account.currency = Currency();
    const uint64_t roll = random_.Uniform(100);
    if (roll < 40) {
      account.flags = AccountFlags::kDebitsMustNotExceedCredits;
    } else if (roll < 55) {
      account.flags = AccountFlags::kCreditsMustNotExceedDebits;
    } else if (roll < 57) {
      account.flags =
          AccountFlags::kDebitsMustNotExceedCredits | AccountFlags::kCreditsMustNotExceedDebits;
    } else if (roll < 58) {
      account.flags = 1u << 9;
    }
    if (random_.Chance(10)) account.flags |= AccountFlags::kLinked;
    account.user_data = random_.Uniform(3);
    account.code = static_cast<uint16_t>(random_.Uniform(3));
    if (random_.Chance(1)) account.timestamp = 1;
    if (random_.Chance(1)) account.reserved = 1;
    if (random_.Chance(1)) account.credits_posted = 5;
    return account;
  }

  uint64_t Amount() {
    const uint64_t roll = random_.Uniform(100);
    if (roll < 2) return 0;
    if (roll < 5) return kMax - random_.Uniform(3);
    if (roll < 7) return (kMax >> 1) + random_.Uniform(3);
    return 1 + random_.Uniform(roll < 50 ? 100 : 5000);
  }

  // A pending transfer id from the model (usually), or any id.
  uint64_t PendingId() {
    if (random_.Chance(5)) return random_.Chance(50) ? 0 : random_.Uniform(next_transfer_id_ + 3);
    std::vector<uint64_t> candidates;
    // Recent holds are the likeliest to be resolved, as with card authorizations.
    for (auto it = history_.rbegin(); it != history_.rend() && candidates.size() < 32; ++it) {
      if ((it->flags & TransferFlags::kPending) != 0) candidates.push_back(it->id);
    }
    if (candidates.empty()) return next_transfer_id_;
    return candidates[random_.Uniform(candidates.size())];
  }

  Transfer RandomTransfer() {
    // Retries: the same event again, sometimes with one field changed.
    if (!history_.empty() && random_.Chance(8)) {
      Transfer retry =
          history_[history_.size() - 1 - random_.Uniform(std::min<size_t>(history_.size(), 200))];
      retry.flags &= static_cast<uint16_t>(~TransferFlags::kLinked);
      if (random_.Chance(30)) retry.amount += 1;
      if (random_.Chance(10)) retry.user_data += 1;
      return retry;
    }
    Transfer transfer;
    transfer.id = random_.Chance(2) ? 0 : next_transfer_id_++;
    const uint64_t kind = random_.Uniform(100);
    if (kind < 35) {
      SetAccounts(transfer);
    } else if (kind < 65) {
      SetAccounts(transfer);
      transfer.flags = TransferFlags::kPending;
      if (random_.Chance(60))
        transfer.timeout_seconds = 1 + static_cast<uint32_t>(random_.Uniform(20));
      if (random_.Chance(1)) transfer.timeout_seconds = Ledger::kPendingTimeoutSecondsMax + 1;
    } else if (kind < 90) {
      SetResolution(transfer, TransferFlags::kPostPendingTransfer);
    } else if (kind < 97) {
      SetResolution(transfer, TransferFlags::kVoidPendingTransfer);
    } else {
      SetAccounts(transfer);
      transfer.flags = static_cast<uint16_t>(random_.Uniform(1u << 7));  // Any combination.
      if (random_.Chance(30)) transfer.pending_id = PendingId();
      if (random_.Chance(20)) transfer.timestamp = 1;
      if (random_.Chance(20)) transfer.timeout_seconds = 5;
    }
    if (kind < 65 && random_.Chance(8)) {
      transfer.flags |=
          random_.Chance(50) ? TransferFlags::kBalancingDebit : TransferFlags::kBalancingCredit;
    }
    if (random_.Chance(7)) transfer.flags |= TransferFlags::kLinked;
    transfer.user_data = random_.Uniform(2);
    return transfer;
  }

  void SetAccounts(Transfer& transfer) {
    transfer.debit_account_id = AccountId();
    transfer.credit_account_id = random_.Chance(2) ? transfer.debit_account_id : AccountId();
    transfer.amount = Amount();
    auto debit = model_.accounts().find(transfer.debit_account_id);
    transfer.currency = debit != model_.accounts().end() && random_.Chance(95)
                            ? debit->second.currency
                            : Currency();
  }

  void SetResolution(Transfer& transfer, uint16_t flag) {
    transfer.flags = flag;
    transfer.pending_id = PendingId();
    auto pending = model_.transfers().find(transfer.pending_id);
    const uint64_t pending_amount =
        pending != model_.transfers().end() ? pending->second.amount : 100;
    const uint64_t roll = random_.Uniform(100);
    if (flag == TransferFlags::kPostPendingTransfer) {
      if (roll < 40) {
        transfer.amount = 0;
      } else if (roll < 80) {
        transfer.amount = 1 + random_.Uniform(std::max<uint64_t>(pending_amount, 1));
      } else if (roll < 92) {
        transfer.amount = pending_amount;
      } else {
        transfer.amount = pending_amount + 1 + random_.Uniform(10);
      }
    } else {
      transfer.amount = roll < 80 ? 0 : roll < 90 ? pending_amount : 1 + random_.Uniform(50);
    }
    if (pending != model_.transfers().end() && random_.Chance(30)) {
      transfer.debit_account_id = pending->second.debit_account_id;
      transfer.credit_account_id = pending->second.credit_account_id;
      transfer.currency = pending->second.currency;
    }
    if (random_.Chance(3)) transfer.debit_account_id = AccountId();
    if (random_.Chance(3)) transfer.currency = Currency();
  }

  base::Random random_;
  const ReferenceModel& model_;
  std::vector<uint64_t> account_ids_;
  std::vector<Transfer> history_;
  uint64_t next_account_id_ = 1;
  uint64_t next_transfer_id_ = 1;
};

std::string Describe(const Account& account) {
  return "account " + std::to_string(account.id) + " dp=" + std::to_string(account.debits_pending) +
         " dpost=" + std::to_string(account.debits_posted) +
         " cp=" + std::to_string(account.credits_pending) +
         " cpost=" + std::to_string(account.credits_posted) +
         " ts=" + std::to_string(account.timestamp) + " flags=" + std::to_string(account.flags);
}

std::string Describe(const Transfer& transfer) {
  return "transfer " + std::to_string(transfer.id) +
         " dr=" + std::to_string(transfer.debit_account_id) +
         " cr=" + std::to_string(transfer.credit_account_id) +
         " amount=" + std::to_string(transfer.amount) +
         " pending_id=" + std::to_string(transfer.pending_id) +
         " ts=" + std::to_string(transfer.timestamp) + " flags=" + std::to_string(transfer.flags);
}

// Every account and transfer, field for field, and every pending state.
void ExpectSameState(const Ledger& ledger, const ReferenceModel& model) {
  ASSERT_EQ(ledger.accounts_count(), model.accounts().size());
  for (const Account& account : ledger.accounts()) {
    auto expected = model.accounts().find(account.id);
    ASSERT_NE(expected, model.accounts().end()) << Describe(account);
    ASSERT_EQ(0, std::memcmp(&account, &expected->second, sizeof(Account)))
        << Describe(account) << " vs model " << Describe(expected->second);
  }
  ASSERT_EQ(ledger.transfers_count(), model.transfers().size());
  for (uint32_t index = 0; index < ledger.transfers_count(); ++index) {
    const Transfer& transfer = ledger.transfers()[index];
    auto expected = model.transfers().find(transfer.id);
    ASSERT_NE(expected, model.transfers().end()) << Describe(transfer);
    ASSERT_EQ(0, std::memcmp(&transfer, &expected->second, sizeof(Transfer)))
        << Describe(transfer) << " vs model " << Describe(expected->second);
    ASSERT_EQ(ledger.pending_state_at(index), model.StateOf(transfer.id)) << Describe(transfer);
  }
  const base::Status invariants = ledger.CheckAllInvariants();
  ASSERT_TRUE(invariants.ok()) << invariants.ToString();
  const base::Status references = ledger.CheckReferences();
  ASSERT_TRUE(references.ok()) << references.ToString();
}

struct RunStats {
  uint64_t operations = 0;
  uint64_t expired = 0;
  uint64_t transfer_results[kCreateTransferResultCount] = {};
  uint64_t account_results[kCreateAccountResultCount] = {};
};

void RunSeed(uint64_t seed, RunStats& stats) {
  base::Random setup(seed);
  // Some seeds run into the capacity limits.
  const LedgerCapacities capacities = {setup.Chance(30) ? 40u : 1000u,
                                       setup.Chance(30) ? 500u : 8192u};
  std::unique_ptr<Ledger> ledger = Ledger::Create(capacities).value();
  ReferenceModel model(capacities.accounts_max, capacities.transfers_max);
  OperationGenerator generator(seed, model);
  base::Random& random = generator.random();
  uint64_t now_ns = testing::kStartNs;
  uint64_t operations = 0;
  for (uint32_t batch = 0; operations < kOperationsPerSeed; ++batch) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    now_ns += 1 + random.Uniform(1'500'000'000);
    const uint64_t roll = random.Uniform(100);
    if (roll < 10 || batch < 3) {
      const std::vector<Account> accounts = generator.AccountBatch();
      std::vector<AR> results(accounts.size());
      ledger->CreateAccounts(accounts, now_ns, results);
      ASSERT_EQ(results, model.CreateAccounts(accounts, now_ns));
      for (AR result : results) ++stats.account_results[static_cast<uint32_t>(result)];
      operations += accounts.size();
      now_ns += accounts.size();
    } else if (roll < 90) {
      const std::vector<Transfer> transfers = generator.TransferBatch();
      std::vector<TR> results(transfers.size());
      ledger->CreateTransfers(transfers, now_ns, results);
      const std::vector<TR> expected = model.CreateTransfers(transfers, now_ns);
      for (size_t index = 0; index < results.size(); ++index) {
        ASSERT_EQ(results[index], expected[index])
            << "event " << index << ": " << Describe(transfers[index]) << " got "
            << ResultName(results[index]) << ", model " << ResultName(expected[index]);
      }
      for (TR result : results) ++stats.transfer_results[static_cast<uint32_t>(result)];
      operations += transfers.size();
      now_ns += transfers.size();
    } else {
      const uint32_t budget = 1 + static_cast<uint32_t>(random.Uniform(8));
      const uint32_t released = ledger->ExpirePending(now_ns, budget);
      ASSERT_EQ(released, model.ExpirePending(now_ns, budget));
      stats.expired += released;
      ++operations;
    }
    ASSERT_NO_FATAL_FAILURE(ExpectSameState(*ledger, model));
    if (batch % 97 == 96) {
      std::vector<std::byte> bytes = testing::SnapshotBytes(*ledger);
      auto loaded = Ledger::Deserialize(bytes, capacities);
      ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
      ledger = std::move(loaded).value();
      ASSERT_EQ(testing::SnapshotBytes(*ledger), bytes);
    }
  }
  stats.operations += operations;
}

uint64_t EnvironmentNumber(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  return text == nullptr ? fallback : std::strtoull(text, nullptr, 10);
}

TEST(LedgerPropertyTest, MatchesTheReferenceModel) {
  RunStats stats;
  const char* replay = std::getenv("TANGELO_SEED");
  std::vector<uint64_t> seeds;
  if (replay != nullptr) {
    seeds.push_back(std::strtoull(replay, nullptr, 10));
  } else {
    const uint64_t count = EnvironmentNumber("TANGELO_SEEDS", kSeedsDefault);
    for (uint64_t seed = 1; seed <= count; ++seed) seeds.push_back(seed);
  }
  for (uint64_t seed : seeds) {
    SCOPED_TRACE("seed " + std::to_string(seed) +
                 " (replay with TANGELO_SEED=" + std::to_string(seed) + ")");
    RunSeed(seed, stats);
    if (::testing::Test::HasFatalFailure()) {
      std::fprintf(stderr, "ledger property test failed at seed %llu\n",
                   static_cast<unsigned long long>(seed));
      return;
    }
  }
  std::printf("%llu operations over %zu seeds, %llu expiries\n",
              static_cast<unsigned long long>(stats.operations), seeds.size(),
              static_cast<unsigned long long>(stats.expired));
  // The stream must reach the interesting outcomes, or the test proves little.
  if (replay == nullptr) {
    for (TR code :
         {TR::kOk, TR::kExists, TR::kLinkedEventFailed, TR::kExceedsCredits, TR::kExceedsDebits,
          TR::kPendingTransferAlreadyPosted, TR::kPendingTransferAlreadyVoided,
          TR::kPendingTransferExpired, TR::kExistsWithDifferentAmount, TR::kOverflowsDebits,
          TR::kOverflowsCreditsPosted, TR::kTransfersFull, TR::kExceedsPendingTransferAmount,
          TR::kLinkedEventChainOpen}) {
      EXPECT_GT(stats.transfer_results[static_cast<uint32_t>(code)], 0u) << ResultName(code);
    }
    for (AR code : {AR::kOk, AR::kExists, AR::kAccountsFull, AR::kLinkedEventFailed}) {
      EXPECT_GT(stats.account_results[static_cast<uint32_t>(code)], 0u) << ResultName(code);
    }
    EXPECT_GT(stats.expired, 0u);
  }
}

}  // namespace
}  // namespace tangelo::ledger
