// Engine tests on the in-memory file system: replies only after durability,
// replay reproduces the state exactly (with and without snapshots),
// back-pressure, read-only entries, and fatal fsync errors.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/ledger_state_machine.h"
#include "io/clock.h"
#include "io/mem_env.h"

namespace tangelo::engine {
namespace {

using ledger::Account;
using ledger::Transfer;
using ledger::TransferFlags;

constexpr uint16_t kUsd = 840;
const ledger::LedgerCapacities kCapacities{1000, 100000};

class CollectingSink final : public ReplySink {
 public:
  void Complete(uint64_t tag, const Reply& reply) override {
    std::lock_guard lock(mutex_);
    replies_.emplace_back(tag, reply);
  }
  size_t count() {
    std::lock_guard lock(mutex_);
    return replies_.size();
  }
  std::vector<std::pair<uint64_t, Reply>> replies() {
    std::lock_guard lock(mutex_);
    return replies_;
  }
  void WaitFor(size_t count) {
    for (int spin = 0; spin < 20000 && this->count() < count; ++spin) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    ASSERT_GE(this->count(), count);
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<uint64_t, Reply>> replies_;
};

std::span<const std::byte> Bytes(const auto& record) {
  return std::as_bytes(std::span(&record, 1));
}

std::vector<std::byte> Serialized(const StateMachine& machine) {
  std::vector<std::byte> bytes;
  machine.Serialize([&](const void* data, size_t size) {
    const auto* begin = static_cast<const std::byte*>(data);
    bytes.insert(bytes.end(), begin, begin + size);
  });
  return bytes;
}

class EngineTest : public ::testing::Test {
 protected:
  EngineOptions Options() {
    EngineOptions options;
    options.env = &env_;
    options.clock = &clock_;
    options.directory = "/data";
    options.batch_entries_max = 64;
    options.intake_capacity = 1024;
    return options;
  }

  std::unique_ptr<Engine> OpenEngine(LedgerStateMachine* machine, EngineOptions options) {
    auto engine = Engine::Open(options, machine);
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    if (!engine.ok()) return nullptr;
    (*engine)->Start();
    return std::move(engine).value();
  }

  void Submit(Engine& engine, uint16_t kind, std::span<const std::byte> payload, uint64_t tag) {
    while (engine.TrySubmit(kind, payload, &sink_, tag) == SubmitResult::kQueueFull) {
      std::this_thread::yield();
    }
  }

  // Accounts 1..accounts: funded through account 999 (no limits).
  void CreateAccounts(Engine& engine, uint64_t accounts) {
    Account source{};
    source.id = 999;
    source.currency = kUsd;
    Submit(engine, LedgerStateMachine::kCreateAccounts, Bytes(source), 0);
    for (uint64_t id = 1; id <= accounts; ++id) {
      Account account{};
      account.id = id;
      account.currency = kUsd;
      account.flags = ledger::AccountFlags::kDebitsMustNotExceedCredits;
      Submit(engine, LedgerStateMachine::kCreateAccounts, Bytes(account), id);
      Transfer funding{};
      funding.id = 1'000'000 + id;
      funding.debit_account_id = 999;
      funding.credit_account_id = id;
      funding.amount = 10'000;
      funding.currency = kUsd;
      Submit(engine, LedgerStateMachine::kCreateTransfers, Bytes(funding), funding.id);
    }
  }

  io::MemEnv env_{7};
  io::ManualClock clock_;
  CollectingSink sink_;
};

TEST_F(EngineTest, RepliesArriveAfterDurabilityAndStateReplays) {
  LedgerStateMachine machine(kCapacities);
  auto engine = OpenEngine(&machine, Options());
  ASSERT_NE(engine, nullptr);
  CreateAccounts(*engine, 10);
  // A hold and its partial post, then an overdraft attempt.
  Transfer hold{};
  hold.id = 1;
  hold.debit_account_id = 1;
  hold.credit_account_id = 2;
  hold.amount = 600;
  hold.currency = kUsd;
  hold.flags = TransferFlags::kPending;
  Submit(*engine, LedgerStateMachine::kCreateTransfers, Bytes(hold), 100);
  Transfer post{};
  post.id = 2;
  post.pending_id = 1;
  post.amount = 400;
  post.flags = TransferFlags::kPostPendingTransfer;
  Submit(*engine, LedgerStateMachine::kCreateTransfers, Bytes(post), 101);
  Transfer overdraft{};
  overdraft.id = 3;
  overdraft.debit_account_id = 1;
  overdraft.credit_account_id = 2;
  overdraft.amount = 9'700;
  overdraft.currency = kUsd;
  Submit(*engine, LedgerStateMachine::kCreateTransfers, Bytes(overdraft), 102);
  const uint64_t lookup_id = 1;
  Submit(*engine, LedgerStateMachine::kLookupAccount, Bytes(lookup_id), 103);
  sink_.WaitFor(1 + 20 + 4);
  engine->Stop();

  std::map<uint64_t, Reply> by_tag;
  for (const auto& [tag, reply] : sink_.replies()) by_tag[tag] = reply;
  EXPECT_EQ(by_tag[100].code, 0u);
  EXPECT_EQ(by_tag[101].code, 0u);
  EXPECT_EQ(by_tag[102].code, static_cast<uint32_t>(ledger::CreateTransferResult::kExceedsCredits));
  EXPECT_EQ(by_tag[103].code, 0u);
  EXPECT_EQ(by_tag[103].values[1], 400u);        // debits_posted
  EXPECT_EQ(by_tag[103].values[3], 10'000u);     // credits_posted
  EXPECT_EQ(by_tag[103].values[6], 9'600u);      // available
  // Every request was answered only after a sync.
  EXPECT_GE(env_.stats().file_syncs, 1u);
  EXPECT_EQ(engine->stats().batches_durable.load(), engine->stats().batches_applied.load());

  // Replay into a fresh machine gives the same bytes.
  LedgerStateMachine replayed(kCapacities);
  auto reopened = Engine::Open(Options(), &replayed);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_GT((*reopened)->recovery().batches_replayed, 0u);
  EXPECT_EQ(Serialized(replayed), Serialized(machine));
  EXPECT_EQ(replayed.ledger().CheckAllInvariants().ToString(), "OK");
}

TEST_F(EngineTest, SnapshotPlusTailReplaysExactly) {
  LedgerStateMachine machine(kCapacities);
  EngineOptions options = Options();
  options.snapshot_every_batches = 3;
  options.batch_entries_max = 4;  // Many small batches, so several snapshots.
  {
    auto engine = OpenEngine(&machine, options);
    ASSERT_NE(engine, nullptr);
    CreateAccounts(*engine, 50);
    sink_.WaitFor(101);
    engine->Stop();
    EXPECT_GE(engine->stats().snapshots.load(), 1u);
  }
  LedgerStateMachine replayed(kCapacities);
  auto reopened = Engine::Open(options, &replayed);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_GT((*reopened)->recovery().snapshot_sequence, 0u);
  EXPECT_EQ(Serialized(replayed), Serialized(machine));
  // And it keeps going from there: new batches append after the recovered ones.
  (*reopened)->Start();
  Transfer extra{};
  extra.id = 77;
  extra.debit_account_id = 1;
  extra.credit_account_id = 2;
  extra.amount = 5;
  extra.currency = kUsd;
  Submit(**reopened, LedgerStateMachine::kCreateTransfers, Bytes(extra), 77);
  sink_.WaitFor(102);
  (*reopened)->Stop();
  LedgerStateMachine third(kCapacities);
  auto again = Engine::Open(options, &third);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Serialized(third), Serialized(replayed));
  ASSERT_NE(third.ledger().FindTransfer(77), nullptr);
}

TEST_F(EngineTest, HoldsExpireWithoutTrafficAndReplayTheSame) {
  LedgerStateMachine machine(kCapacities);
  auto engine = OpenEngine(&machine, Options());
  ASSERT_NE(engine, nullptr);
  CreateAccounts(*engine, 2);
  Transfer hold{};
  hold.id = 5;
  hold.debit_account_id = 1;
  hold.credit_account_id = 2;
  hold.amount = 700;
  hold.currency = kUsd;
  hold.timeout_seconds = 30;
  hold.flags = TransferFlags::kPending;
  Submit(*engine, LedgerStateMachine::kCreateTransfers, Bytes(hold), 5);
  sink_.WaitFor(6);
  EXPECT_EQ(machine.ledger().FindPendingState(5), ledger::PendingState::kPending);
  clock_.Advance(31'000'000'000ULL);
  // The engine cuts an empty batch for the timer by itself.
  for (int spin = 0; spin < 2000; ++spin) {
    if (engine->stats().batches_durable.load() == engine->stats().batches_applied.load() &&
        machine.NextTimerNs() == UINT64_MAX) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  engine->Stop();
  EXPECT_EQ(machine.ledger().FindPendingState(5), ledger::PendingState::kExpired);
  LedgerStateMachine replayed(kCapacities);
  auto reopened = Engine::Open(Options(), &replayed);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(replayed.ledger().FindPendingState(5), ledger::PendingState::kExpired);
  EXPECT_EQ(Serialized(replayed), Serialized(machine));
}

TEST_F(EngineTest, MalformedEntriesChangeNothing) {
  LedgerStateMachine machine(kCapacities);
  auto engine = OpenEngine(&machine, Options());
  ASSERT_NE(engine, nullptr);
  const std::byte junk[13] = {};
  Submit(*engine, LedgerStateMachine::kCreateTransfers, std::span(junk), 1);
  Submit(*engine, 77, std::span(junk), 2);
  Submit(*engine, LedgerStateMachine::kLookupAccount, std::span(junk), 3);
  const uint64_t missing = 12345;
  Submit(*engine, LedgerStateMachine::kLookupTransfer, Bytes(missing), 4);
  sink_.WaitFor(4);
  engine->Stop();
  std::map<uint64_t, Reply> by_tag;
  for (const auto& [tag, reply] : sink_.replies()) by_tag[tag] = reply;
  EXPECT_EQ(by_tag[1].code, LedgerStateMachine::kMalformedEntry);
  EXPECT_EQ(by_tag[2].code, LedgerStateMachine::kMalformedEntry);
  EXPECT_EQ(by_tag[3].code, LedgerStateMachine::kMalformedEntry);
  EXPECT_EQ(by_tag[4].code, LedgerStateMachine::kNotFound);
  EXPECT_EQ(machine.ledger().transfers_count(), 0u);
}

TEST_F(EngineTest, OversizeAndStoppedSubmissionsAreRefused) {
  LedgerStateMachine machine(kCapacities);
  auto engine = OpenEngine(&machine, Options());
  ASSERT_NE(engine, nullptr);
  const std::byte big[kRequestPayloadMax + 1] = {};
  EXPECT_EQ(engine->TrySubmit(1, std::span(big), &sink_, 9), SubmitResult::kPayloadTooLarge);
  engine->Stop();
  const uint64_t id = 1;
  EXPECT_EQ(engine->TrySubmit(LedgerStateMachine::kLookupAccount, Bytes(id), &sink_, 1),
            SubmitResult::kStopped);
}

TEST_F(EngineTest, FullQueueIsBackPressureNotGrowth) {
  LedgerStateMachine machine(kCapacities);
  // Opened but not started: requests queue up and nothing drains them.
  auto engine = Engine::Open(Options(), &machine);
  ASSERT_TRUE(engine.ok());
  const uint64_t id = 1;
  uint64_t accepted = 0;
  while ((*engine)->TrySubmit(LedgerStateMachine::kLookupAccount, Bytes(id), &sink_, accepted) ==
         SubmitResult::kAccepted) {
    ++accepted;
    ASSERT_LE(accepted, 1024u);
  }
  EXPECT_EQ(accepted, 1024u);
  EXPECT_EQ((*engine)->stats().submit_queue_full.load(), 1u);
  // Once started, every accepted request is answered.
  (*engine)->Start();
  sink_.WaitFor(accepted);
  (*engine)->Stop();
  EXPECT_EQ(sink_.count(), accepted);
}

TEST_F(EngineTest, CorruptJournalIsAClearErrorNotAWrongBalance) {
  {
    LedgerStateMachine machine(kCapacities);
    auto engine = OpenEngine(&machine, Options());
    ASSERT_NE(engine, nullptr);
    CreateAccounts(*engine, 20);
    sink_.WaitFor(41);
    engine->Stop();
  }
  auto files = env_.ListDir("/data");
  ASSERT_TRUE(files.ok());
  std::string segment;
  for (const auto& name : *files) {
    if (name.rfind("journal-", 0) == 0) segment = "/data/" + name;
  }
  ASSERT_FALSE(segment.empty());
  // Flip a bit inside the first batch's body (past the 64-byte segment
  // header and the 64-byte batch header).
  ASSERT_TRUE(env_.FlipBit(segment, 64 + 64 + 20, 3).ok());
  LedgerStateMachine replayed(kCapacities);
  auto reopened = Engine::Open(Options(), &replayed);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), base::StatusCode::kDataLoss);
  EXPECT_NE(reopened.status().message().find(segment), std::string::npos)
      << reopened.status().message();
}

TEST_F(EngineTest, FsyncErrorStopsTheProcess) {
  EXPECT_EXIT(
      {
        LedgerStateMachine machine(kCapacities);
        auto engine = OpenEngine(&machine, Options());
        env_.FailNextSync("journal-");
        CreateAccounts(*engine, 1);
        sink_.WaitFor(1000);  // Never: the process exits first.
      },
      ::testing::ExitedWithCode(70), "fdatasync");
}

}  // namespace
}  // namespace tangelo::engine
