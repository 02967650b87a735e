// Crash test of the authorization path: a child process runs authorizations
// (and reversals of some of them) through the real engine and the core state
// machine on a real directory, and is killed with SIGKILL at a random moment;
// the parent then recovers the directory and checks that
//  - every invariant holds (ledger, issuing, authorizations, cross-checks),
//  - every authorization the child saw approved is still held, and sending
//    it again is answered as a retransmission with the same authorization id
//    (never a second hold),
//  - every reversal the child saw acknowledged is released,
// and the next child continues on the same directory. TANGELO_CRASH_KILLS
// sets the number of kills (default 25); TANGELO_SEED replays one run.
//
// SIGKILL leaves the page cache intact: this tests the engine's and the core
// state machine's logic (acknowledge after sync, replay a prefix, identical
// decisions on replay), not the disk.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "authorizer/core_state_machine.h"
#include "authorizer/test_harness.h"
#include "base/random.h"
#include "engine/engine.h"
#include "io/clock.h"
#include "io/env.h"

namespace tangelo::authorizer {
namespace {

constexpr uint64_t kCards = 16;
constexpr uint16_t kKindApproved = 1;
constexpr uint16_t kKindReleased = 2;
constexpr uint16_t kKindReversalSent = 3;  // Written before the reversal is submitted.

CoreCapacities Capacities() {
  CoreCapacities capacities = testing::SmallCapacities();
  capacities.ledger.transfers_max = 1u << 21;
  capacities.authorizations_max = 1u << 20;
  capacities.retransmissions_max = 1u << 20;
  return capacities;
}

// What the child saw acknowledged, written to the pipe from the journal
// thread: {kind, authorization id, serial of the request}.
struct Record {
  uint64_t kind;
  uint64_t authorization_id;
  uint64_t serial;
};

class PipeSink final : public engine::ReplySink {
 public:
  explicit PipeSink(int fd) : fd_(fd) {}
  void Complete(uint64_t tag, const engine::Reply& reply) override {
    if (tag == 0 || reply.code != 0) return;  // Setup, or refused.
    Record record{0, 0, tag >> 1};
    if ((tag & 1) == 0) {  // An authorization.
      const DecisionReply decision = DecodeDecisionReply(reply);
      if (decision.decision != Decision::kApproved) return;
      record = Record{kKindApproved, decision.authorization_id.value(), tag >> 1};
    } else {
      const ReversalReply reversal = DecodeReversalReply(reply);
      if (reversal.result != ReversalResult::kReleased) return;
      record = Record{kKindReleased, reversal.authorization_id.value(), tag >> 1};
    }
    if (::write(fd_, &record, sizeof(record)) != static_cast<ssize_t>(sizeof(record))) _exit(3);
  }

 private:
  int fd_;
};

engine::EngineOptions Options(const std::string& directory) {
  engine::EngineOptions options;
  options.env = &io::Env::Posix();
  options.clock = &io::SystemClock::Instance();
  options.directory = directory;
  options.batch_entries_max = 256;
  options.intake_capacity = 4096;
  options.snapshot_every_batches = 61;  // Snapshots happen, and get killed too.
  return options;
}

// The request with this serial: the same bytes in every process, so a
// retransmission after recovery can be built again.
AuthorizationRequest RequestOf(testing::CoreHarness& builder, uint64_t serial,
                               uint64_t transmission_time_ns) {
  AuthorizationRequest request =
      builder.Purchase(1 + serial % kCards, 100 + serial % 900, static_cast<uint32_t>(serial));
  request.transmission_time_ns = transmission_time_ns;
  return request;
}

[[noreturn]] void ChildMain(const std::string& directory, uint64_t iteration, uint64_t seed,
                            uint64_t base_time_ns, int fd) {
  CoreStateMachine machine(Capacities());
  auto opened = engine::Engine::Open(Options(directory), &machine);
  if (!opened.ok()) {
    std::fprintf(stderr, "child: %s\n", opened.status().ToString().c_str());
    _exit(2);
  }
  engine::Engine& engine = **opened;
  engine.Start();
  PipeSink sink(fd);
  const auto submit = [&](EntryKind kind, std::span<const std::byte> payload, uint64_t tag) {
    while (engine.TrySubmit(static_cast<uint16_t>(kind), payload, &sink, tag) ==
           engine::SubmitResult::kQueueFull) {
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  };
  testing::CoreHarness builder;
  // Setup is idempotent: later children get "exists" and carry on.
  const issuing::TenantId tenant(1);
  const auto command = [&](const issuing::Command& value) {
    const std::vector<uint8_t> bytes = issuing::EncodeCommandToVector(value);
    submit(EntryKind::kIssuingCommand, std::as_bytes(std::span(bytes.data(), bytes.size())), 0);
  };
  command(issuing::CreateTenant{tenant, *issuing::MakeName("T")});
  command(issuing::CreateProgram{tenant, issuing::ProgramId(10), *issuing::MakeName("P"),
                                 testing::kUsd});
  for (uint64_t id = 1; id <= kCards; ++id) {
    command(issuing::CreateUser{tenant, issuing::UserId(id)});
    command(issuing::CreateAccount{tenant, issuing::AccountId(id), issuing::ProgramId(10),
                                   issuing::UserId(id), issuing::LedgerAccountId(id),
                                   testing::kUsd});
    command(builder.MakeCard(tenant, issuing::CardId(id), issuing::UserId(id),
                             issuing::AccountId(id), testing::TestPan(id),
                             issuing::CardStatus::kActive, 2099, 12));
    FundAccountRequest funding;
    funding.direction = static_cast<uint8_t>(FundingDirection::kCredit);
    funding.currency_numeric = testing::kUsd;
    funding.tenant_id = 1;
    funding.account_id = id;
    funding.transfer_id = iteration * 1000 + id;
    funding.amount_minor = 2'000'000;
    submit(EntryKind::kFundAccount, PayloadOf(funding), 0);
  }
  base::Random random(seed);
  std::vector<std::pair<uint64_t, AuthorizationRequest>> mine;
  for (uint64_t counter = 0;; ++counter) {
    const uint64_t serial = (iteration << 20) | counter;
    const AuthorizationRequest request = RequestOf(builder, serial, base_time_ns);
    submit(EntryKind::kAuthorize, PayloadOf(request), serial << 1);
    mine.emplace_back(serial, request);
    if (random.Chance(20) && !mine.empty()) {
      // Reverse one of this child's earlier requests, by its network ids.
      const auto& [reversed_serial, original] = mine[random.Uniform(mine.size())];
      ReversalRequest reversal;
      reversal.card = original.card;
      reversal.flags = RequestFlags::kFullReversal;
      reversal.original.flags = RequestFlags::kHasNetworkIds;
      reversal.original.ids = original.ids;
      reversal.original.transmission_time_ns = original.transmission_time_ns;
      const Record sent{kKindReversalSent, 0, reversed_serial};
      if (::write(fd, &sent, sizeof(sent)) != static_cast<ssize_t>(sizeof(sent))) _exit(3);
      submit(EntryKind::kReverse, PayloadOf(reversal), (reversed_serial << 1) | 1);
    }
  }
}

TEST(AuthorizerCrashTest, SigkillLosesNoDecisionAndNeverHoldsTwice) {
  char pattern[] = "/tmp/tangelo-authorizer-crash-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const std::string directory = pattern;
  const char* kills_env = std::getenv("TANGELO_CRASH_KILLS");
  const uint64_t kills = kills_env ? std::strtoull(kills_env, nullptr, 10) : 25;
  const char* seed_env = std::getenv("TANGELO_SEED");
  const uint64_t seed = seed_env ? std::strtoull(seed_env, nullptr, 10)
                                 : io::SystemClock::Instance().RealtimeNs() % 1'000'000;
  std::printf("authorizer crash test seed %llu (TANGELO_SEED=%llu replays it), %llu kills, %s\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(kills), directory.c_str());
  base::Random random(seed);
  // Every request uses one transmission time, so a retransmission of any of
  // them can be rebuilt (and stays inside the 24 h window).
  const uint64_t base_time_ns = io::SystemClock::Instance().RealtimeNs();
  std::map<uint64_t, uint64_t> approved;  // serial -> authorization id
  std::map<uint64_t, uint64_t> released;  // serial -> authorization id
  std::set<uint64_t> reversal_sent;       // serials a reversal was sent for
  testing::CoreHarness builder;

  for (uint64_t iteration = 1; iteration <= kills; ++iteration) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(fds[0]);
      ChildMain(directory, iteration, random.Next(), base_time_ns, fds[1]);
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::microseconds(random.Between(20'000, 200'000)));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with status " << WEXITSTATUS(status);
    Record record;
    while (::read(fds[0], &record, sizeof(record)) == static_cast<ssize_t>(sizeof(record))) {
      if (record.kind == kKindReversalSent) {
        reversal_sent.insert(record.serial);
      } else {
        (record.kind == kKindApproved ? approved : released)[record.serial] =
            record.authorization_id;
      }
    }
    ::close(fds[0]);

    CoreStateMachine machine(Capacities());
    auto opened = engine::Engine::Open(Options(directory), &machine);
    ASSERT_TRUE(opened.ok()) << "iteration " << iteration << ": " << opened.status().ToString();
    const base::Status invariants = machine.CheckAllInvariants();
    ASSERT_TRUE(invariants.ok()) << "iteration " << iteration << ": " << invariants.ToString();
    for (const auto& [serial, id] : approved) {
      const bool live = machine.authorizations().Find(AuthorizationId(id)) !=
                        AuthorizationTable::kNoSlot;
      // Acknowledged approvals are held, unless a reversal was sent (whose
      // acknowledgement the kill may have lost); acknowledged reversals are
      // released.
      if (released.count(serial) > 0) {
        ASSERT_FALSE(live) << "iteration " << iteration << ": reversed " << serial << " is held";
      } else if (reversal_sent.count(serial) == 0) {
        ASSERT_TRUE(live) << "iteration " << iteration << ": approved " << serial << " is gone";
      }
    }
    // Repeating a sample of acknowledged requests: the original answer,
    // never a second hold.
    engine::Engine& engine = **opened;
    engine.Start();
    class Collect final : public engine::ReplySink {
     public:
      void Complete(uint64_t tag, const engine::Reply& reply) override {
        std::lock_guard lock(mutex);
        replies[tag] = reply;
      }
      std::mutex mutex;
      std::map<uint64_t, engine::Reply> replies;
    } collect;
    std::vector<uint64_t> sample;
    for (const auto& [serial, id] : approved) {
      if (sample.size() < 20 && random.Chance(10)) sample.push_back(serial);
    }
    for (uint64_t serial : sample) {
      const AuthorizationRequest request = RequestOf(builder, serial, base_time_ns);
      ASSERT_EQ(engine.TrySubmit(static_cast<uint16_t>(EntryKind::kAuthorize), PayloadOf(request),
                                 &collect, serial),
                engine::SubmitResult::kAccepted);
    }
    engine.Stop();
    for (uint64_t serial : sample) {
      const DecisionReply repeat = DecodeDecisionReply(collect.replies.at(serial));
      EXPECT_NE(repeat.flags & ReplyFlags::kRetransmission, 0) << serial;
      EXPECT_EQ(repeat.authorization_id.value(), approved[serial]) << serial;
    }
  }
  std::printf("%zu approvals and %zu reversals verified over %llu kills\n", approved.size(),
              released.size(), static_cast<unsigned long long>(kills));
  EXPECT_GT(approved.size(), kills);  // The children did real work.
  std::system(("rm -rf " + directory).c_str());
}

}  // namespace
}  // namespace tangelo::authorizer
