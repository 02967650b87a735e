// Simulated crashes of the engine on the fault-injecting in-memory disk.
//
// Per seed: the engine runs ledger load (linked chains, overdraft declines,
// holds) on MemEnv behind a FreezableEnv; at a random instant the disk is
// frozen (the engine can write nothing more) and the MemEnv crashes in one
// of its modes: unsynced writes dropped, the last writes torn, torn with the
// size zero-filled, or dropped and then one bit flipped anywhere in a
// journal or snapshot file. A fresh engine then recovers from the crashed
// disk and must either
//   - recover every acknowledged transfer, all-or-nothing chains and every
//     invariant, or
//   - (bit flips only) stop with a clear DataLoss error naming a file,
// never anything in between. TANGELO_SEED=<n> replays one seed;
// TANGELO_SIM_SEEDS sets how many seeds run (default 100).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "base/random.h"
#include "engine/engine.h"
#include "engine/ledger_state_machine.h"
#include "io/clock.h"
#include "io/mem_env.h"
#include "sim/freezable_env.h"

namespace tangelo {
namespace {

using engine::Engine;
using engine::LedgerStateMachine;

constexpr uint64_t kAccounts = 32;
constexpr uint16_t kUsd = 840;
const ledger::LedgerCapacities kCapacities{64, 400'000};

class AckSink final : public engine::ReplySink {
 public:
  void Complete(uint64_t tag, const engine::Reply& reply) override {
    if (tag == 0) return;
    std::lock_guard lock(mutex_);
    acknowledged_[tag] = reply.code;
  }
  std::map<uint64_t, uint32_t> Acknowledged() {
    std::lock_guard lock(mutex_);
    return acknowledged_;
  }

 private:
  std::mutex mutex_;
  std::map<uint64_t, uint32_t> acknowledged_;  // first id | length << 56 → code
};

engine::EngineOptions Options(io::Env* env) {
  engine::EngineOptions options;
  options.env = env;
  options.clock = &io::SystemClock::Instance();
  options.directory = "/data";
  options.batch_entries_max = 32;
  options.intake_capacity = 256;
  options.snapshot_every_batches = 41;
  return options;
}

enum class Fault { kDropUnsynced, kTear, kTearZeroFill, kBitFlip };

struct Outcome {
  bool recovered = false;
  uint64_t acknowledged = 0;
};

Outcome RunSeed(uint64_t seed) {
  base::Random random(seed);
  io::MemEnv disk(seed);
  sim::FreezableEnv freezable(disk);
  auto* machine = new LedgerStateMachine(kCapacities);  // Leaked with its frozen engine.
  auto opened = Engine::Open(Options(&freezable), machine);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  Engine* engine = opened->release();  // Its threads park forever once frozen.
  engine->Start();
  auto* sink = new AckSink();
  std::atomic<bool> stop{false};
  std::thread producer([&, producer_seed = random.Next()] {
    base::Random load(producer_seed);
    auto submit = [&](uint16_t kind, std::span<const std::byte> payload, uint64_t tag) {
      while (!stop.load() &&
             engine->TrySubmit(kind, payload, sink, tag) == engine::SubmitResult::kQueueFull) {
        std::this_thread::sleep_for(std::chrono::microseconds(20));
      }
    };
    for (uint64_t id = 1; id <= kAccounts + 1; ++id) {
      ledger::Account account{};
      account.id = id;
      account.currency = kUsd;
      if (id <= kAccounts) account.flags = ledger::AccountFlags::kDebitsMustNotExceedCredits;
      submit(LedgerStateMachine::kCreateAccounts, std::as_bytes(std::span(&account, 1)), 0);
    }
    ledger::Transfer chain[3];
    for (uint64_t next_id = 1; !stop.load() && next_id < 300'000; next_id += 4) {
      const uint32_t length = static_cast<uint32_t>(load.Between(1, 3));
      for (uint32_t member = 0; member < length; ++member) {
        ledger::Transfer& transfer = chain[member];
        transfer = ledger::Transfer{};
        transfer.id = next_id + member;
        transfer.currency = kUsd;
        if (load.Chance(30)) {
          transfer.debit_account_id = kAccounts + 1;
          transfer.credit_account_id = load.Between(1, kAccounts);
          transfer.amount = load.Between(500, 2'000);
        } else {
          transfer.debit_account_id = load.Between(1, kAccounts);
          transfer.credit_account_id = 1 + transfer.debit_account_id % kAccounts;
          transfer.amount = load.Between(1, 400);
        }
        if (member + 1 < length) transfer.flags = ledger::TransferFlags::kLinked;
      }
      submit(LedgerStateMachine::kCreateTransfers, std::as_bytes(std::span(chain, length)),
             next_id | (uint64_t{length} << 56));
    }
  });
  std::this_thread::sleep_for(std::chrono::microseconds(random.Between(500, 40'000)));
  freezable.Freeze();
  // Replies only follow a successful sync, so everything acknowledged by
  // now is durable in the frozen disk image.
  const std::map<uint64_t, uint32_t> acknowledged = sink->Acknowledged();
  stop.store(true);
  producer.join();

  const Fault fault = static_cast<Fault>(seed % 4);
  switch (fault) {
    case Fault::kDropUnsynced:
    case Fault::kBitFlip:
      disk.SimulateCrash(io::MemEnv::CrashMode::kDropUnsynced);
      break;
    case Fault::kTear:
      disk.SimulateCrash(io::MemEnv::CrashMode::kTearUnsynced);
      break;
    case Fault::kTearZeroFill:
      disk.SimulateCrash(io::MemEnv::CrashMode::kTearUnsyncedZeroFill);
      break;
  }
  std::string flipped;
  if (fault == Fault::kBitFlip) {
    std::vector<std::string> candidates;
    for (const std::string& path : disk.AllFiles()) {
      auto size = disk.FileSize(path);
      if (size.ok() && *size > 0) candidates.push_back(path);
    }
    if (!candidates.empty()) {
      flipped = candidates[random.Uniform(candidates.size())];
      const uint64_t size = *disk.FileSize(flipped);
      EXPECT_TRUE(disk.FlipBit(flipped, random.Uniform(size),
                               static_cast<uint8_t>(random.Uniform(8))).ok());
    }
  }

  LedgerStateMachine recovered(kCapacities);
  auto reopened = Engine::Open(Options(&disk), &recovered);
  Outcome outcome;
  outcome.acknowledged = acknowledged.size();
  if (!reopened.ok()) {
    EXPECT_EQ(fault, Fault::kBitFlip) << "seed " << seed << ": " << reopened.status().ToString();
    EXPECT_EQ(reopened.status().code(), base::StatusCode::kDataLoss)
        << "seed " << seed << ": " << reopened.status().ToString();
    EXPECT_NE(reopened.status().message().find("/data/"), std::string::npos)
        << "seed " << seed << ": the error must name the file: " << reopened.status().message();
    return outcome;
  }
  outcome.recovered = true;
  const ledger::Ledger& ledger = recovered.ledger();
  EXPECT_EQ(ledger.CheckAllInvariants().ToString(), "OK") << "seed " << seed;
  for (const auto& [tag, code] : acknowledged) {
    const uint64_t first = tag & ((uint64_t{1} << 56) - 1);
    const uint64_t length = tag >> 56;
    for (uint64_t member = 0; member < length; ++member) {
      EXPECT_EQ(ledger.FindTransfer(first + member) != nullptr, code == 0)
          << "seed " << seed << " fault " << static_cast<int>(fault) << " flipped " << flipped
          << ": transfer " << first + member;
    }
  }
  for (const ledger::Transfer& transfer : ledger.transfers()) {
    if ((transfer.flags & ledger::TransferFlags::kLinked) != 0) {
      EXPECT_NE(ledger.FindTransfer(transfer.id + 1), nullptr)
          << "seed " << seed << ": half-applied chain at " << transfer.id;
    }
  }
  return outcome;
}

TEST(EngineSimTest, CrashesAndBitFlipsRecoverCorrectlyOrStopClearly) {
  const char* seed_env = std::getenv("TANGELO_SEED");
  const char* seeds_env = std::getenv("TANGELO_SIM_SEEDS");
  const uint64_t first = seed_env ? std::strtoull(seed_env, nullptr, 10)
                                  : io::SystemClock::Instance().RealtimeNs() % 100'000 * 4;
  const uint64_t count = seed_env ? 1 : (seeds_env ? std::strtoull(seeds_env, nullptr, 10) : 100);
  uint64_t recovered = 0, stopped = 0, acknowledged = 0;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    SCOPED_TRACE("TANGELO_SEED=" + std::to_string(seed) + " replays this seed");
    const Outcome outcome = RunSeed(seed);
    (outcome.recovered ? recovered : stopped)++;
    acknowledged += outcome.acknowledged;
    if (HasFailure()) break;
  }
  std::printf("seeds %llu..%llu: %llu recovered, %llu stopped with DataLoss, %llu acknowledged "
              "chains checked\n",
              static_cast<unsigned long long>(first),
              static_cast<unsigned long long>(first + count - 1),
              static_cast<unsigned long long>(recovered), static_cast<unsigned long long>(stopped),
              static_cast<unsigned long long>(acknowledged));
  EXPECT_GT(acknowledged, 0u);
}

}  // namespace
}  // namespace tangelo
