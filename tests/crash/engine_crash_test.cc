// Crash test: a child process runs ledger load through the real engine on a
// real data directory and is killed with SIGKILL at a random moment; the
// parent then recovers the directory and checks that
//  - every transfer the child saw acknowledged is present,
//  - every linked chain is all-or-nothing (nothing unacknowledged is
//    half-applied),
//  - every invariant holds (CheckAllInvariants),
// and the next child continues on the same directory. TANGELO_CRASH_KILLS
// sets the number of kills (default 60); TANGELO_SEED replays one run.
//
// SIGKILL leaves the page cache intact, so this tests the engine's logic
// (acknowledge only after the batch is written and synced, replay a prefix),
// not the disk; tests/sim covers lost unsynced writes, torn writes and bit
// flips on the in-memory file system.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/random.h"
#include "engine/engine.h"
#include "engine/ledger_state_machine.h"
#include "io/clock.h"
#include "io/env.h"

namespace tangelo {
namespace {

using engine::Engine;
using engine::LedgerStateMachine;

constexpr uint64_t kAccounts = 64;
constexpr uint16_t kUsd = 840;
const ledger::LedgerCapacities kCapacities{256, 4'000'000};

// Transfer ids: iteration in the high bits, a counter below. A chain's
// members have consecutive ids and the first one's low byte tells its
// length (1, 2 or 3).
uint64_t TransferId(uint64_t iteration, uint64_t counter) { return (iteration << 32) | counter; }

// Writes acknowledged ids to the pipe, from the journal thread.
class PipeSink final : public engine::ReplySink {
 public:
  explicit PipeSink(int fd) : fd_(fd) {}
  void Complete(uint64_t tag, const engine::Reply& reply) override {
    if (tag == 0) return;  // Setup requests.
    // Only successful chains count as "acknowledged present"; a declined
    // transfer (overdraft) is acknowledged absent.
    uint64_t record[2] = {tag, reply.code};
    const ssize_t written = ::write(fd_, record, sizeof(record));
    if (written != static_cast<ssize_t>(sizeof(record))) _exit(3);
  }

 private:
  int fd_;
};

[[noreturn]] void ChildMain(const std::string& directory, uint64_t iteration, uint64_t seed,
                            int fd) {
  LedgerStateMachine machine(kCapacities);
  engine::EngineOptions options;
  options.env = &io::Env::Posix();
  options.clock = &io::SystemClock::Instance();
  options.directory = directory;
  options.batch_entries_max = 512;
  options.intake_capacity = 4096;
  options.snapshot_every_batches = 97;  // Snapshots happen, and get killed too.
  auto opened = Engine::Open(options, &machine);
  if (!opened.ok()) {
    std::fprintf(stderr, "child: %s\n", opened.status().ToString().c_str());
    _exit(2);
  }
  Engine& engine = **opened;
  engine.Start();
  PipeSink sink(fd);
  auto submit = [&](uint16_t kind, std::span<const std::byte> payload, uint64_t tag) {
    while (engine.TrySubmit(kind, payload, &sink, tag) == engine::SubmitResult::kQueueFull) {
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  };
  // Accounts are idempotent: later children get `exists`.
  for (uint64_t id = 1; id <= kAccounts + 1; ++id) {
    ledger::Account account{};
    account.id = id;
    account.currency = kUsd;
    if (id <= kAccounts) account.flags = ledger::AccountFlags::kDebitsMustNotExceedCredits;
    submit(LedgerStateMachine::kCreateAccounts, std::as_bytes(std::span(&account, 1)), 0);
  }
  base::Random random(seed);
  ledger::Transfer chain[3];
  for (uint64_t counter = 1;; counter += 4) {
    const uint32_t length = static_cast<uint32_t>(random.Between(1, 3));
    for (uint32_t member = 0; member < length; ++member) {
      ledger::Transfer& transfer = chain[member];
      transfer = ledger::Transfer{};
      transfer.id = TransferId(iteration, counter + member);
      transfer.currency = kUsd;
      transfer.amount = random.Between(1, 500);
      if (member == 0 && random.Chance(30)) {
        // Funding from the unlimited account keeps the cards spending.
        transfer.debit_account_id = kAccounts + 1;
        transfer.credit_account_id = random.Between(1, kAccounts);
        transfer.amount = random.Between(1'000, 5'000);
      } else {
        transfer.debit_account_id = random.Between(1, kAccounts);
        transfer.credit_account_id = 1 + transfer.debit_account_id % kAccounts;
      }
      if (member + 1 < length) transfer.flags = ledger::TransferFlags::kLinked;
    }
    submit(LedgerStateMachine::kCreateTransfers, std::as_bytes(std::span(chain, length)),
           TransferId(iteration, counter) | (uint64_t{length} << 24));
  }
}

struct Acknowledged {
  uint64_t first_id;
  uint32_t length;
  bool ok;
};

TEST(EngineCrashTest, SigkillAtRandomPointsLosesNothingAcknowledged) {
  char pattern[] = "/tmp/tangelo-crash-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const std::string directory = pattern;
  const char* kills_env = std::getenv("TANGELO_CRASH_KILLS");
  const uint64_t kills = kills_env ? std::strtoull(kills_env, nullptr, 10) : 60;
  const char* seed_env = std::getenv("TANGELO_SEED");
  const uint64_t seed = seed_env ? std::strtoull(seed_env, nullptr, 10)
                                 : io::SystemClock::Instance().RealtimeNs() % 1'000'000;
  std::printf("crash test seed %llu (TANGELO_SEED=%llu replays it), %llu kills, dir %s\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(kills), directory.c_str());
  base::Random random(seed);
  std::vector<Acknowledged> acknowledged;
  uint64_t recovered_transfers = 0;

  for (uint64_t iteration = 1; iteration <= kills; ++iteration) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(fds[0]);
      ChildMain(directory, iteration, random.Next(), fds[1]);
    }
    ::close(fds[1]);
    // Kill at a random moment: sometimes during recovery or start-up,
    // mostly under load.
    std::this_thread::sleep_for(std::chrono::microseconds(random.Between(5'000, 150'000)));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited on its own with status "
                                     << WEXITSTATUS(status);
    uint64_t record[2];
    while (::read(fds[0], record, sizeof(record)) == static_cast<ssize_t>(sizeof(record))) {
      acknowledged.push_back(Acknowledged{record[0] & ~(uint64_t{0xff} << 24),
                                          static_cast<uint32_t>((record[0] >> 24) & 0xff),
                                          record[1] == 0});
    }
    ::close(fds[0]);

    // Recover in this process and check.
    LedgerStateMachine machine(kCapacities);
    engine::EngineOptions options;
    options.env = &io::Env::Posix();
    options.clock = &io::SystemClock::Instance();
    options.directory = directory;
    auto opened = Engine::Open(options, &machine);
    ASSERT_TRUE(opened.ok()) << "iteration " << iteration << ": " << opened.status().ToString();
    const ledger::Ledger& ledger = machine.ledger();
    ASSERT_EQ(ledger.CheckAllInvariants().ToString(), "OK") << "iteration " << iteration;
    for (const Acknowledged& chain : acknowledged) {
      for (uint32_t member = 0; member < chain.length; ++member) {
        const bool present = ledger.FindTransfer(chain.first_id + member) != nullptr;
        ASSERT_EQ(present, chain.ok) << "iteration " << iteration << " transfer "
                                     << chain.first_id + member << " acknowledged "
                                     << (chain.ok ? "ok" : "failed");
      }
    }
    // All-or-nothing for every chain, acknowledged or not.
    for (const ledger::Transfer& transfer : ledger.transfers()) {
      if ((transfer.flags & ledger::TransferFlags::kLinked) != 0) {
        ASSERT_NE(ledger.FindTransfer(transfer.id + 1), nullptr)
            << "half-applied chain at " << transfer.id;
      }
    }
    EXPECT_GE(ledger.transfers_count(), recovered_transfers) << "state went backwards";
    recovered_transfers = ledger.transfers_count();
  }
  std::printf("%zu acknowledged chains verified over %llu kills; %llu transfers at the end\n",
              acknowledged.size(), static_cast<unsigned long long>(kills),
              static_cast<unsigned long long>(recovered_transfers));
  EXPECT_GT(acknowledged.size(), kills);  // The children did real work.
  std::system(("rm -rf " + directory).c_str());
}

}  // namespace
}  // namespace tangelo
