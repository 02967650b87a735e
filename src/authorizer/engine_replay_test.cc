// The core state machine behind the real engine (intake queue, batches,
// journal with group commit) on the in-memory file system: authorizations,
// client decisions through ClientDecisionRelay and the fake gateway, a lost
// callback resolved by the engine's deadline timer, and hold expiry by the
// engine's timer; then the journal (with and without snapshots) is replayed
// into a fresh machine and must give a byte-identical state.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "authorizer/client_decision_relay.h"
#include "authorizer/core_state_machine.h"
#include "authorizer/fake_client_decision_gateway.h"
#include "authorizer/test_harness.h"
#include "engine/engine.h"
#include "io/clock.h"
#include "io/mem_env.h"

namespace tangelo::authorizer {
namespace {

using testing::kSecondNs;
using testing::kUsd;

class CollectingSink final : public engine::ReplySink {
 public:
  void Complete(uint64_t tag, const engine::Reply& reply) override {
    std::lock_guard lock(mutex_);
    replies_[tag] = reply;
  }
  engine::Reply WaitFor(uint64_t tag) {
    for (int spin = 0; spin < 50000; ++spin) {
      {
        std::lock_guard lock(mutex_);
        const auto found = replies_.find(tag);
        if (found != replies_.end()) return found->second;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    ADD_FAILURE() << "no reply for tag " << tag;
    return engine::Reply{};
  }

 private:
  std::mutex mutex_;
  std::map<uint64_t, engine::Reply> replies_;
};

class EngineReplayTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  engine::EngineOptions Options() {
    engine::EngineOptions options;
    options.env = &env_;
    options.clock = &clock_;
    options.directory = "/core";
    options.batch_entries_max = 64;
    options.intake_capacity = 1024;
    options.snapshot_every_batches = GetParam();
    return options;
  }

  engine::Reply Call(engine::Engine& engine, EntryKind kind, std::span<const std::byte> payload) {
    const uint64_t tag = next_tag_++;
    while (engine.TrySubmit(static_cast<uint16_t>(kind), payload, &sink_, tag) ==
           engine::SubmitResult::kQueueFull) {
      std::this_thread::yield();
    }
    return sink_.WaitFor(tag);
  }

  uint32_t Command(engine::Engine& engine, const issuing::Command& command) {
    const std::vector<uint8_t> bytes = issuing::EncodeCommandToVector(command);
    const engine::Reply reply = Call(engine, EntryKind::kIssuingCommand,
                                     std::as_bytes(std::span(bytes.data(), bytes.size())));
    return reply.code != 0 ? reply.code : reply.detail;
  }

  // Waits until a lookup of the authorization answers `code`.
  void WaitForLookupCode(engine::Engine& engine, AuthorizationId id, ReplyCode code) {
    LookupAuthorizationRequest lookup;
    lookup.tenant_id = 1;
    lookup.authorization_id = id.value();
    for (int attempt = 0; attempt < 2000; ++attempt) {
      if (Call(engine, EntryKind::kLookupAuthorization, PayloadOf(lookup)).code ==
          static_cast<uint32_t>(code)) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ADD_FAILURE() << "authorization " << id.value() << " never reached " << ReplyCodeName(code);
  }

  io::MemEnv env_{3};
  io::ManualClock clock_{testing::NsAt(2026, 3, 11, 12)};
  CollectingSink sink_;
  testing::CoreHarness builder_;  // For its request and card builders only.
  uint64_t next_tag_ = 1;
};

TEST_P(EngineReplayTest, JournalReplayGivesByteIdenticalState) {
  const CoreCapacities capacities = testing::SmallCapacities();
  std::vector<std::byte> live_state;
  {
    CoreStateMachine machine(capacities);
    auto opened = engine::Engine::Open(Options(), &machine);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine::Engine& engine = **opened;
    engine.Start();
    FakeClientDecisionGateway gateway("relay-secret-0123456789", 1'800'000'000);
    ClientDecisionRelay relay(&engine, &gateway, &clock_);

    const issuing::TenantId tenant(1);
    ASSERT_EQ(Command(engine, issuing::CreateTenant{tenant, *issuing::MakeName("T")}), 0u);
    ASSERT_EQ(Command(engine, issuing::CreateProgram{tenant, issuing::ProgramId(10),
                                                     *issuing::MakeName("P"), kUsd}),
              0u);
    issuing::SetRealtimeDecision realtime;
    realtime.tenant_id = tenant;
    realtime.program_id = issuing::ProgramId(10);
    realtime.settings.required = true;
    ASSERT_TRUE(realtime.settings.SetUrl("http://client.example/decide"));
    ASSERT_EQ(Command(engine, realtime), 0u);
    ASSERT_EQ(Command(engine, issuing::CreateUser{tenant, issuing::UserId(100)}), 0u);
    ASSERT_EQ(Command(engine, issuing::CreateAccount{tenant, issuing::AccountId(1000),
                                                     issuing::ProgramId(10), issuing::UserId(100),
                                                     issuing::LedgerAccountId(5000), kUsd}),
              0u);
    ASSERT_EQ(Command(engine, builder_.MakeCard(tenant, issuing::CardId(7), issuing::UserId(100),
                                                issuing::AccountId(1000), testing::TestPan(7))),
              0u);
    FundAccountRequest funding;
    funding.direction = static_cast<uint8_t>(FundingDirection::kCredit);
    funding.currency_numeric = kUsd;
    funding.tenant_id = 1;
    funding.account_id = 1000;
    funding.transfer_id = 1;
    funding.amount_minor = 1'000'000;
    ASSERT_EQ(Call(engine, EntryKind::kFundAccount, PayloadOf(funding)).detail, 0u);

    // Twelve purchases, each waiting for the client: most approved, one
    // declined, one answered 503, and one whose answer is lost.
    std::vector<AuthorizationId> ids;
    for (uint32_t serial = 1; serial <= 12; ++serial) {
      builder_.SetNow(clock_.RealtimeNs());
      const AuthorizationRequest request = builder_.Purchase(7, 1000 * serial, serial);
      const DecisionReply pending =
          DecodeDecisionReply(Call(engine, EntryKind::kAuthorize, PayloadOf(request)));
      ASSERT_EQ(pending.decision, Decision::kPendingClientDecision) << serial;
      ids.push_back(pending.authorization_id);
      using Behavior = FakeClientDecisionGateway::Behavior;
      const Behavior behavior = serial == 3   ? Behavior::kDecline
                                : serial == 5 ? Behavior::kServerError
                                : serial == 9 ? Behavior::kLost
                                              : Behavior::kApprove;
      gateway.SetScript(pending.authorization_id, {behavior, 0});
      ASSERT_TRUE(relay.Start(pending, request, KeyOf(request), false, &sink_, 1000 + serial));
      clock_.Advance(1'000'000);
    }
    EXPECT_EQ(relay.in_flight(), 12u);
    gateway.DeliverAll();
    for (uint32_t serial = 1; serial <= 12; ++serial) {
      if (serial == 9) continue;
      const DecisionReply final_decision = DecodeDecisionReply(sink_.WaitFor(1000 + serial));
      const Decision expected =
          serial == 3 || serial == 5 ? Decision::kDeclined : Decision::kApproved;
      EXPECT_EQ(final_decision.decision, expected) << serial;
    }
    EXPECT_EQ(relay.in_flight(), 1u);  // The lost one.

    // The engine's deadline timer resolves the lost one by stand-in.
    clock_.Advance(3 * kSecondNs);
    WaitForLookupCode(engine, ids[8], ReplyCode::kNotFound);
    // After eight days every hold has expired, by the timer alone.
    clock_.Advance(8 * 86400 * kSecondNs);
    WaitForLookupCode(engine, ids[0], ReplyCode::kNotFound);
    engine.Stop();
    EXPECT_EQ(machine.authorizations().live_count(), 0u);
    EXPECT_EQ(machine.advices().size(), 2u);  // The 503 and the lost answer.
    EXPECT_TRUE(machine.CheckAllInvariants().ok());
    live_state = testing::CoreHarness::SnapshotOf(machine);
  }
  CoreStateMachine recovered(capacities);
  auto reopened = engine::Engine::Open(Options(), &recovered);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  if (GetParam() > 0) {
    EXPECT_GT((*reopened)->recovery().snapshot_sequence, 0u);
  }
  EXPECT_EQ(testing::CoreHarness::SnapshotOf(recovered), live_state);
  EXPECT_TRUE(recovered.CheckAllInvariants().ok());
}

INSTANTIATE_TEST_SUITE_P(Snapshots, EngineReplayTest, ::testing::Values(0u, 3u),
                         [](const ::testing::TestParamInfo<uint64_t>& param_info) {
                           return param_info.param == 0 ? std::string("JournalOnly")
                                                        : std::string("WithSnapshots");
                         });

}  // namespace
}  // namespace tangelo::authorizer
