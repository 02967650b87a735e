// Property test: random authorizations, advices, increments, reversals,
// client decisions (every outcome, and lost ones), funding and time jumps
// over many cards and accounts. After every step:
//   * no card account is overdrawn: debits pending + posted <= credits posted;
//   * no hold is left behind after its expiry: every pending ledger transfer
//     with a timeout, and every live authorization, expires after the last
//     batch; no client decision waits past its engine deadline;
//   * what the authorizations say they hold is what the ledger holds, per
//     card account;
// and at the end every invariant holds, the journal replays to the same
// bytes and the snapshot restores to them.
//
// Seeds: TANGELO_SEED=<n> runs one seed (replays a failure exactly);
// otherwise a fixed set of seeds runs. Every seed is printed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "authorizer/core_state_machine.h"
#include "authorizer/test_harness.h"
#include "base/random.h"

namespace tangelo::authorizer {
namespace {

using testing::CoreHarness;
using testing::kSecondNs;
using testing::kUsd;

constexpr uint32_t kAccounts = 12;
constexpr uint32_t kCards = 30;
constexpr uint32_t kSteps = 5000;
constexpr issuing::TenantId kTenant{1};

std::vector<uint64_t> Seeds() {
  if (const char* seed = std::getenv("TANGELO_SEED")) return {std::strtoull(seed, nullptr, 10)};
  return {1, 2, 3, 20260311, 987654321};
}

class PropertyRun {
 public:
  explicit PropertyRun(uint64_t seed) : random_(seed), harness_(Capacities()) {}

  static CoreCapacities Capacities() {
    CoreCapacities capacities = testing::SmallCapacities();
    capacities.ledger.transfers_max = 1u << 17;
    capacities.pending_client_decisions_max = 64;
    return capacities;
  }

  void Run() {
    Setup();
    for (uint32_t step = 0; step < kSteps && !::testing::Test::HasFailure(); ++step) {
      Step();
      CheckStep(step);
    }
    const base::Status invariants = harness_.machine().CheckAllInvariants();
    EXPECT_TRUE(invariants.ok()) << invariants.ToString();
    const std::vector<std::byte> state = harness_.Snapshot();
    EXPECT_EQ(CoreHarness::SnapshotOf(*harness_.Replay()), state) << "replay diverged";
    CoreStateMachine restored(Capacities());
    ASSERT_TRUE(restored.Restore(state).ok());
    EXPECT_EQ(CoreHarness::SnapshotOf(restored), state) << "snapshot does not round-trip";
  }

 private:
  void Setup() {
    ASSERT_EQ(harness_.Command(issuing::CreateTenant{kTenant, *issuing::MakeName("T")}), 0u);
    for (uint64_t program : {uint64_t{10}, uint64_t{11}}) {
      ASSERT_EQ(harness_.Command(issuing::CreateProgram{kTenant, issuing::ProgramId(program),
                                                        *issuing::MakeName("P"), kUsd}),
                0u);
    }
    // Program 11 asks its client, with stand-in approval up to 50.00.
    issuing::SetRealtimeDecision realtime;
    realtime.tenant_id = kTenant;
    realtime.program_id = issuing::ProgramId(11);
    realtime.settings.required = true;
    realtime.settings.deadline_ms = 1000;
    realtime.settings.stand_in_policy = issuing::StandInPolicy::kApproveUpToLimit;
    realtime.settings.stand_in_amount_max_minor = 5000;
    ASSERT_TRUE(realtime.settings.SetUrl("http://client.example/decide"));
    ASSERT_EQ(harness_.Command(realtime), 0u);
    issuing::SetHoldExpiry expiry;
    expiry.tenant_id = kTenant;
    expiry.program_id = issuing::ProgramId(10);
    expiry.table.default_days = 2;
    ASSERT_TRUE(expiry.table.AddRule(7011, 7011, 5));
    ASSERT_EQ(harness_.Command(expiry), 0u);
    for (uint64_t user = 1; user <= kAccounts; ++user) {
      ASSERT_EQ(harness_.Command(issuing::CreateUser{kTenant, issuing::UserId(user)}), 0u);
      ASSERT_EQ(harness_.Command(issuing::CreateAccount{
                    kTenant, issuing::AccountId(user), issuing::ProgramId(10 + user % 2),
                    issuing::UserId(user), issuing::LedgerAccountId(100 + user), kUsd}),
                0u);
      harness_.Fund(kTenant, issuing::AccountId(user), random_.Between(0, 50'000));
    }
    for (uint64_t card = 1; card <= kCards; ++card) {
      const uint64_t account = 1 + card % kAccounts;
      ASSERT_EQ(harness_.Command(harness_.MakeCard(kTenant, issuing::CardId(card),
                                                   issuing::UserId(account),
                                                   issuing::AccountId(account),
                                                   testing::TestPan(card))),
                0u);
      if (card % 5 == 0) {
        issuing::SetControls controls;
        controls.tenant_id = kTenant;
        controls.target_id = card;
        controls.controls.daily_amount_max = random_.Between(1000, 20'000);
        ASSERT_TRUE(controls.controls.AddVelocityRule(600, 5));
        ASSERT_EQ(harness_.Command(controls), 0u);
      }
    }
  }

  AuthorizationRequest RandomRequest() {
    AuthorizationRequest request = harness_.Purchase(random_.Between(1, kCards),
                                                     random_.Between(1, 8000), next_serial_++);
    request.transmission_time_ns = harness_.now_ns();
    if (random_.Chance(30)) request.flags |= RequestFlags::kPartialApprovalSupported;
    if (random_.Chance(10)) request.mcc = 7011;
    if (random_.Chance(5)) {
      request.type = static_cast<uint8_t>(AuthorizationType::kBalanceInquiry);
      request.amount_minor = 0;
    }
    if (random_.Chance(10)) {  // No ids: never recognized as a repeat.
      request.flags &= static_cast<uint8_t>(~RequestFlags::kHasNetworkIds);
      request.ids = RequestIds{};
    }
    return request;
  }

  // TANGELO_TRACE=1 prints every step's reply, to read a failing seed.
  void Trace(const char* what, const engine::Reply& reply) const {
    if (std::getenv("TANGELO_TRACE") == nullptr) return;
    std::fprintf(stderr, "  %-10s code %u detail %08x values %llu %llu %llu %llu\n", what,
                 reply.code, reply.detail, static_cast<unsigned long long>(reply.values[0]),
                 static_cast<unsigned long long>(reply.values[1]),
                 static_cast<unsigned long long>(reply.values[2]),
                 static_cast<unsigned long long>(reply.values[3]));
  }

  void Remember(const AuthorizationRequest& request, const engine::Reply& reply) {
    Trace("decision", reply);
    const DecisionReply decision = DecodeDecisionReply(reply);
    if (decision.authorization_id.valid()) {
      known_.push_back({decision.authorization_id, request});
    }
    if (decision.decision == Decision::kPendingClientDecision) {
      pending_.push_back({decision.authorization_id, KeyOf(request)});
    }
  }

  void Step() {
    const uint64_t choice = random_.Uniform(100);
    if (choice < 40) {
      const AuthorizationRequest request = RandomRequest();
      Remember(request, harness_.Authorize(request));
      if (KeyOf(request).valid()) sent_.push_back(request);
    } else if (choice < 45 && !sent_.empty()) {
      // A retransmission of something sent before.
      const AuthorizationRequest& request = sent_[random_.Uniform(sent_.size())];
      Remember(request, harness_.Authorize(request));
    } else if (choice < 49) {
      const AuthorizationRequest request = RandomRequest();
      Remember(request, harness_.Apply(EntryKind::kAdvice, PayloadOf(request)));
    } else if (choice < 57 && !known_.empty()) {
      const auto& [id, original] = known_[random_.Uniform(known_.size())];
      IncrementalRequest increment;
      increment.request = original;
      increment.request.type = static_cast<uint8_t>(AuthorizationType::kPurchase);
      increment.request.amount_minor = random_.Between(1, 3000);
      increment.request.ids = RequestIds::FromNetworkIds(
          CoreHarness::NetworkIdsOf(next_serial_++));
      increment.request.flags |= RequestFlags::kHasNetworkIds;
      increment.original = OriginalReference::ById(id);
      const engine::Reply reply =
          harness_.Apply(EntryKind::kIncrementalAuthorize, PayloadOf(increment));
      Trace("increment", reply);
      if (DecodeDecisionReply(reply).decision == Decision::kPendingClientDecision) {
        pending_.push_back({id, KeyOf(increment)});
      }
    } else if (choice < 70 && !known_.empty()) {
      const auto& [id, original] = known_[random_.Uniform(known_.size())];
      ReversalRequest reversal;
      reversal.card = original.card;
      reversal.original = OriginalReference::ById(id);
      if (random_.Chance(50)) {
        reversal.flags = RequestFlags::kFullReversal;
      } else {
        reversal.amount_minor = random_.Between(1, 4000);
        reversal.currency_numeric = kUsd;
      }
      Trace("reversal", harness_.Apply(EntryKind::kReverse, PayloadOf(reversal)));
    } else if (choice < 82 && !pending_.empty()) {
      // The client answers one pending decision (or the answer is lost).
      const size_t index = random_.Uniform(pending_.size());
      const auto [id, key] = pending_[index];
      pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(index));
      const uint64_t outcome = random_.Between(1, 9);
      if (outcome <= 8) {
        ClientDecisionResultEntry entry;
        entry.outcome = static_cast<uint8_t>(outcome);
        entry.authorization_id = id.value();
        if (outcome == static_cast<uint8_t>(ClientDecisionOutcome::kApprovePartial)) {
          entry.approved_amount_minor = random_.Between(1, 6000);
        }
        entry.request_key_high = key.high;
        entry.request_key_low = key.low;
        Trace("client", harness_.Apply(EntryKind::kClientDecisionResult, PayloadOf(entry)));
      }
    } else if (choice < 88) {
      Trace("funding", harness_.Fund(kTenant, issuing::AccountId(random_.Between(1, kAccounts)),
                                     random_.Between(1, 20'000), kUsd,
                                     random_.Chance(30) ? FundingDirection::kDebit
                                                        : FundingDirection::kCredit));
    } else {
      // Time passes: milliseconds (client deadlines) to days (hold expiry).
      const uint64_t scale = random_.Uniform(4);
      const uint64_t delta = scale == 0   ? random_.Between(1, 3000) * 1'000'000
                             : scale == 1 ? random_.Between(1, 600) * kSecondNs
                             : scale == 2 ? random_.Between(1, 48) * 3600 * kSecondNs
                                          : random_.Between(1, 3) * 86400 * kSecondNs;
      harness_.Advance(delta);
      harness_.Tick();
      if (std::getenv("TANGELO_TRACE") != nullptr) {
        std::fprintf(stderr, "  time +%llu ms\n", static_cast<unsigned long long>(delta / 1'000'000));
      }
    }
  }

  void CheckStep(uint32_t step) {
    const CoreStateMachine& machine = harness_.machine();
    const ledger::Ledger& ledger = machine.ledger();
    const uint64_t now = harness_.last_batch_ns();
    std::map<uint64_t, uint64_t> held_by_ledger_account;
    for (uint32_t slot = 0; slot < machine.authorizations().used_slots(); ++slot) {
      const AuthorizationRecord& record = machine.authorizations().record(slot);
      if (record.state == AuthorizationState::kFree) continue;
      ASSERT_GT(record.expires_at_ns, now) << "step " << step << ": a hold outlived its expiry";
      if (record.state == AuthorizationState::kPendingClientDecision) {
        ASSERT_GT(record.deadline_ns, now) << "step " << step << ": a decision outlived its deadline";
      }
      const issuing::Card& card = machine.issuing().cards()[record.card_slot];
      held_by_ledger_account[machine.issuing().AccountOf(card).ledger_account_id.value()] +=
          record.held_amount_minor;
    }
    for (uint64_t account = 1; account <= kAccounts; ++account) {
      const ledger::Account& ledger_account = *ledger.FindAccount(100 + account);
      ASSERT_LE(ledger_account.debits_pending + ledger_account.debits_posted,
                ledger_account.credits_posted)
          << "step " << step << ": account " << account << " is overdrawn";
      ASSERT_EQ(ledger_account.debits_pending, held_by_ledger_account[100 + account])
          << "step " << step << ": account " << account << " holds what no authorization says";
    }
    if (step % 50 == 0) {
      for (uint32_t index = 0; index < ledger.transfers_count(); ++index) {
        const ledger::Transfer& transfer = ledger.transfers()[index];
        if (ledger.pending_state_at(index) != ledger::PendingState::kPending) continue;
        ASSERT_GT(transfer.timestamp + uint64_t{transfer.timeout_seconds} * kSecondNs, now)
            << "step " << step << ": the ledger still holds an expired hold";
      }
    }
  }

  base::Random random_;
  CoreHarness harness_;
  uint32_t next_serial_ = 1;
  std::vector<AuthorizationRequest> sent_;
  std::vector<std::pair<AuthorizationId, AuthorizationRequest>> known_;
  std::vector<std::pair<AuthorizationId, RequestKey>> pending_;
};

TEST(AuthorizerPropertyTest, NoOverdraftAndNoHoldOutlivesItsExpiry) {
  for (uint64_t seed : Seeds()) {
    std::fprintf(stderr, "authorizer property test: seed %llu (TANGELO_SEED=%llu to replay)\n",
                 static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
    SCOPED_TRACE("seed " + std::to_string(seed));
    PropertyRun run(seed);
    run.Run();
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
}  // namespace tangelo::authorizer
