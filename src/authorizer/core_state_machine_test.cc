// CoreStateMachine behaviour that scenario files do not reach: malformed and
// unknown entries, the ledger side of issuing commands, funding errors,
// tenant scoping of lookups, capacity limits, timers in read-only batches,
// snapshots (round trip and corrupt bytes), and the latency recorder.
#include "authorizer/core_state_machine.h"

#include <gtest/gtest.h>

#include <cstring>

#include "authorizer/test_harness.h"
#include "io/clock.h"

namespace tangelo::authorizer {
namespace {

using testing::CoreHarness;
using testing::kSecondNs;
using testing::kUsd;
using testing::TestPan;

constexpr issuing::TenantId kTenant{1};

DecisionReply Decide(const engine::Reply& reply) { return DecodeDecisionReply(reply); }

TEST(CoreStateMachineTest, MalformedEntriesChangeNothing) {
  CoreHarness harness;
  harness.BuildBasicCard(10'000);
  const std::vector<std::byte> before = harness.Snapshot();
  const std::vector<std::byte> garbage(37, std::byte{0x5a});
  for (EntryKind kind :
       {EntryKind::kIssuingCommand, EntryKind::kFundAccount, EntryKind::kAuthorize,
        EntryKind::kAdvice, EntryKind::kIncrementalAuthorize, EntryKind::kReverse,
        EntryKind::kClientDecisionResult, EntryKind::kAcknowledgeAdvices,
        EntryKind::kLookupAuthorization, EntryKind::kLookupBalance, EntryKind::kReadAdvice}) {
    const engine::Reply reply = harness.Apply(kind, garbage);
    EXPECT_EQ(reply.code, static_cast<uint32_t>(ReplyCode::kMalformedEntry))
        << static_cast<int>(kind);
    const engine::Reply empty = harness.Apply(kind, {});
    EXPECT_EQ(empty.code, static_cast<uint32_t>(ReplyCode::kMalformedEntry));
  }
  EXPECT_EQ(harness.Snapshot(), before);
  // Counted for the eight kinds that change state (reads are not journaled).
  EXPECT_EQ(harness.machine().stats().malformed_entries.load(), 16u);
  const engine::Reply unknown = harness.Apply(static_cast<EntryKind>(999), garbage);
  EXPECT_EQ(unknown.code, static_cast<uint32_t>(ReplyCode::kUnknownKind));
}

TEST(CoreStateMachineTest, AccountsAreBackedByNoOverdraftLedgerAccounts) {
  CoreHarness harness;
  harness.BuildBasicCard(0);
  const ledger::Account* account = harness.machine().ledger().FindAccount(5000);
  ASSERT_NE(account, nullptr);
  EXPECT_EQ(account->flags, ledger::AccountFlags::kDebitsMustNotExceedCredits);
  EXPECT_EQ(account->currency, kUsd);
  EXPECT_EQ(account->user_data, 1000u);
  for (SystemAccount kind :
       {SystemAccount::kFunding, SystemAccount::kSettlement, SystemAccount::kStandInOverdraft}) {
    EXPECT_NE(harness.machine().ledger().FindAccount(SystemAccountId(kind, kUsd)), nullptr);
  }
  EXPECT_TRUE(harness.machine().CheckAllInvariants().ok());
}

TEST(CoreStateMachineTest, LedgerSideOfIssuingCommandsIsCheckedFirst) {
  CoreHarness harness;
  harness.BuildBasicCard(0);
  // A ledger id in the core's own range.
  EXPECT_EQ(harness.Command(issuing::CreateAccount{kTenant, issuing::AccountId(1001),
                                                   issuing::ProgramId(10), issuing::UserId(100),
                                                   issuing::LedgerAccountId(kSystemIdBase + 5),
                                                   kUsd}),
            static_cast<uint32_t>(ReplyCode::kReservedLedgerId));
  // A ledger account another account already uses: nothing is created.
  EXPECT_EQ(harness.Command(issuing::CreateAccount{kTenant, issuing::AccountId(1001),
                                                   issuing::ProgramId(10), issuing::UserId(100),
                                                   issuing::LedgerAccountId(5000), kUsd}),
            static_cast<uint32_t>(ReplyCode::kLedgerAccountExists));
  EXPECT_EQ(harness.machine().issuing().FindAccount(kTenant, issuing::AccountId(1001)), nullptr);
  // An issuing failure leaves the ledger alone.
  const uint32_t accounts = harness.machine().ledger().accounts_count();
  EXPECT_EQ(harness.Command(issuing::CreateAccount{kTenant, issuing::AccountId(1002),
                                                   issuing::ProgramId(99), issuing::UserId(100),
                                                   issuing::LedgerAccountId(6000), kUsd}),
            static_cast<uint32_t>(issuing::CommandResult::kProgramNotFound));
  EXPECT_EQ(harness.machine().ledger().accounts_count(), accounts);
  EXPECT_EQ(harness.machine().ledger().FindAccount(6000), nullptr);
  // A second program in the same currency adds no system accounts.
  EXPECT_EQ(harness.Command(issuing::CreateProgram{kTenant, issuing::ProgramId(11),
                                                   *issuing::MakeName("Second"), kUsd}),
            0u);
  EXPECT_EQ(harness.machine().ledger().accounts_count(), accounts);
}

TEST(CoreStateMachineTest, LedgerCapacityRefusesAccountsCleanly) {
  testing::SmallCapacities();
  CoreCapacities capacities = testing::SmallCapacities();
  capacities.ledger.accounts_max = 4;  // Three system accounts and one card account.
  CoreHarness harness(capacities);
  harness.BuildBasicCard(0);
  EXPECT_EQ(harness.Command(issuing::CreateAccount{kTenant, issuing::AccountId(1001),
                                                   issuing::ProgramId(10), issuing::UserId(100),
                                                   issuing::LedgerAccountId(5001), kUsd}),
            static_cast<uint32_t>(ReplyCode::kLedgerCapacityExhausted));
  EXPECT_EQ(harness.Command(issuing::CreateProgram{kTenant, issuing::ProgramId(12),
                                                   *issuing::MakeName("Euro"), testing::kEur}),
            static_cast<uint32_t>(ReplyCode::kLedgerCapacityExhausted));
  EXPECT_EQ(harness.machine().issuing().FindProgram(kTenant, issuing::ProgramId(12)), nullptr);
}

TEST(CoreStateMachineTest, FundingErrors) {
  CoreHarness harness;
  harness.BuildBasicCard(0);
  EXPECT_EQ(harness.Fund(kTenant, issuing::AccountId(404), 100).code,
            static_cast<uint32_t>(ReplyCode::kNotFound));
  EXPECT_EQ(harness.Fund(issuing::TenantId(2), issuing::AccountId(1000), 100).code,
            static_cast<uint32_t>(ReplyCode::kNotFound));
  EXPECT_EQ(harness.Fund(kTenant, issuing::AccountId(1000), 100, testing::kEur).detail,
            static_cast<uint32_t>(
                ledger::CreateTransferResult::kTransferMustHaveTheSameCurrencyAsAccounts));
  FundAccountRequest request;
  request.direction = static_cast<uint8_t>(FundingDirection::kCredit);
  request.currency_numeric = kUsd;
  request.tenant_id = 1;
  request.account_id = 1000;
  request.transfer_id = kCallerIdMax + 1;
  request.amount_minor = 5;
  EXPECT_EQ(harness.Apply(EntryKind::kFundAccount, PayloadOf(request)).code,
            static_cast<uint32_t>(ReplyCode::kReservedLedgerId));
  // The transfer id is the caller's idempotency key.
  request.transfer_id = 77;
  EXPECT_EQ(harness.Apply(EntryKind::kFundAccount, PayloadOf(request)).detail, 0u);
  const engine::Reply again = harness.Apply(EntryKind::kFundAccount, PayloadOf(request));
  EXPECT_EQ(again.detail, static_cast<uint32_t>(ledger::CreateTransferResult::kExists));
  EXPECT_EQ(again.values[1], 5u);  // Funded once.
}

TEST(CoreStateMachineTest, LookupsAreTenantScoped) {
  CoreHarness harness;
  harness.BuildBasicCard(10'000);
  const DecisionReply approved = Decide(harness.Authorize(harness.Purchase(7, 2500, 1)));
  ASSERT_EQ(approved.decision, Decision::kApproved);
  LookupAuthorizationRequest lookup;
  lookup.tenant_id = 1;
  lookup.authorization_id = approved.authorization_id.value();
  engine::Reply reply = harness.Apply(EntryKind::kLookupAuthorization, PayloadOf(lookup));
  EXPECT_EQ(reply.code, 0u);
  EXPECT_EQ(reply.values[0], 7u);
  EXPECT_EQ(reply.values[1], 2500u);
  lookup.tenant_id = 2;
  reply = harness.Apply(EntryKind::kLookupAuthorization, PayloadOf(lookup));
  EXPECT_EQ(reply.code, static_cast<uint32_t>(ReplyCode::kNotFound));

  LookupBalanceRequest balance;
  balance.tenant_id = 1;
  balance.account_id = 1000;
  reply = harness.Apply(EntryKind::kLookupBalance, PayloadOf(balance));
  EXPECT_EQ(reply.values[3], 7500u);
  balance.tenant_id = 2;
  EXPECT_EQ(harness.Apply(EntryKind::kLookupBalance, PayloadOf(balance)).code,
            static_cast<uint32_t>(ReplyCode::kNotFound));
}

TEST(CoreStateMachineTest, FullAuthorizationTableDeclinesWithSystemError) {
  CoreCapacities capacities = testing::SmallCapacities();
  capacities.authorizations_max = 2;
  capacities.pending_client_decisions_max = 1;
  CoreHarness harness(capacities);
  harness.BuildBasicCard(10'000);
  EXPECT_EQ(Decide(harness.Authorize(harness.Purchase(7, 10, 1))).decision, Decision::kApproved);
  EXPECT_EQ(Decide(harness.Authorize(harness.Purchase(7, 10, 2))).decision, Decision::kApproved);
  const DecisionReply full = Decide(harness.Authorize(harness.Purchase(7, 10, 3)));
  EXPECT_EQ(full.decision, Decision::kDeclined);
  EXPECT_EQ(full.reason, issuing::DeclineReason::kSystemError);
  EXPECT_EQ(full.response_code_view(), "96");
  EXPECT_EQ(harness.machine().stats().authorization_table_full.load(), 1u);
  // A balance inquiry needs no record and still works.
  AuthorizationRequest inquiry = harness.Purchase(7, 0, 4);
  inquiry.type = static_cast<uint8_t>(AuthorizationType::kBalanceInquiry);
  EXPECT_EQ(Decide(harness.Authorize(inquiry)).decision, Decision::kApproved);
}

TEST(CoreStateMachineTest, TooManyPendingDecisionsFallBackToStandIn) {
  CoreCapacities capacities = testing::SmallCapacities();
  capacities.pending_client_decisions_max = 1;
  CoreHarness harness(capacities);
  harness.BuildBasicCard(10'000);
  issuing::SetRealtimeDecision realtime;
  realtime.tenant_id = kTenant;
  realtime.program_id = issuing::ProgramId(10);
  realtime.settings.required = true;
  realtime.settings.stand_in_policy = issuing::StandInPolicy::kApproveUpToLimit;
  realtime.settings.stand_in_amount_max_minor = 100;
  ASSERT_TRUE(realtime.settings.SetUrl("http://client.example/decide"));
  ASSERT_EQ(harness.Command(realtime), 0u);
  EXPECT_EQ(Decide(harness.Authorize(harness.Purchase(7, 50, 1))).decision,
            Decision::kPendingClientDecision);
  // The second cannot wait for the client: stand-in decides at once, as if
  // the client were unavailable, and the client is told.
  const DecisionReply second = Decide(harness.Authorize(harness.Purchase(7, 50, 2)));
  EXPECT_EQ(second.decision, Decision::kApproved);
  EXPECT_NE(second.flags & ReplyFlags::kStandIn, 0);
  const DecisionReply third = Decide(harness.Authorize(harness.Purchase(7, 500, 3)));
  EXPECT_EQ(third.decision, Decision::kDeclined);
  EXPECT_EQ(third.reason, issuing::DeclineReason::kClientUnavailableStandIn);
  EXPECT_EQ(harness.machine().advices().size(), 2u);
  EXPECT_TRUE(harness.machine().CheckAllInvariants().ok());
}

TEST(CoreStateMachineTest, TimersRunOnlyInJournaledBatches) {
  CoreHarness harness;
  harness.BuildBasicCard(10'000);
  ASSERT_EQ(Decide(harness.Authorize(harness.Purchase(7, 2500, 1))).decision,
            Decision::kApproved);
  const uint64_t due = harness.machine().NextTimerNs();
  EXPECT_NE(due, UINT64_MAX);
  harness.SetNow(due + kSecondNs);
  // A batch of reads alone is not journaled, so it must not expire anything.
  LookupBalanceRequest balance;
  balance.tenant_id = 1;
  balance.account_id = 1000;
  const engine::Reply read = harness.Apply(EntryKind::kLookupBalance, PayloadOf(balance));
  EXPECT_EQ(read.values[2], 2500u);
  EXPECT_EQ(harness.machine().authorizations().live_count(), 1u);
  harness.Tick();
  EXPECT_EQ(harness.machine().authorizations().live_count(), 0u);
  EXPECT_EQ(harness.Apply(EntryKind::kLookupBalance, PayloadOf(balance)).values[2], 0u);
  EXPECT_EQ(harness.machine().stats().holds_expired.load(), 1u);
}

TEST(CoreStateMachineTest, SnapshotRoundTripAndReplayAreByteIdentical) {
  CoreHarness harness;
  harness.BuildBasicCard(100'000);
  for (uint32_t serial = 1; serial <= 40; ++serial) {
    harness.Advance(kSecondNs);
    const engine::Reply reply = harness.Authorize(harness.Purchase(7, 100 + serial, serial));
    if (serial % 3 == 0) {
      ReversalRequest reversal;
      reversal.card = CardReference::ById(kTenant, issuing::CardId(7));
      reversal.flags = RequestFlags::kFullReversal;
      reversal.original = OriginalReference::ById(Decide(reply).authorization_id);
      harness.Apply(EntryKind::kReverse, PayloadOf(reversal));
    }
  }
  harness.Advance(8 * 86400 * kSecondNs / 2);  // Half the holds' life: none expired.
  harness.Tick();
  const std::vector<std::byte> state = harness.Snapshot();
  EXPECT_EQ(CoreHarness::SnapshotOf(*harness.Replay()), state);

  CoreStateMachine restored(testing::SmallCapacities());
  ASSERT_TRUE(restored.Restore(state).ok());
  EXPECT_EQ(CoreHarness::SnapshotOf(restored), state);
  EXPECT_TRUE(restored.CheckAllInvariants().ok());
  EXPECT_EQ(restored.NextTimerNs(), harness.machine().NextTimerNs());
  // A restored machine refuses a second restore.
  EXPECT_EQ(restored.Restore(state).code(), base::StatusCode::kFailedPrecondition);
}

TEST(CoreStateMachineTest, RestoreRejectsDamagedSnapshots) {
  CoreHarness harness;
  harness.BuildBasicCard(100'000);
  harness.Authorize(harness.Purchase(7, 100, 1));
  const std::vector<std::byte> state = harness.Snapshot();
  // Truncations at a spread of lengths, and single flipped bytes in the
  // authorizer's own sections (the ledger and issuing check their own).
  for (size_t size = 0; size < state.size(); size += std::max<size_t>(1, state.size() / 97)) {
    CoreStateMachine restored(testing::SmallCapacities());
    EXPECT_FALSE(restored.Restore(std::span(state.data(), size)).ok()) << size;
  }
  std::vector<std::byte> trailing = state;
  trailing.push_back(std::byte{0});
  CoreStateMachine with_trailing(testing::SmallCapacities());
  EXPECT_FALSE(with_trailing.Restore(trailing).ok());
  std::vector<std::byte> bad_magic = state;
  bad_magic[0] = std::byte{0};
  CoreStateMachine with_bad_magic(testing::SmallCapacities());
  EXPECT_EQ(with_bad_magic.Restore(bad_magic).code(), base::StatusCode::kDataLoss);
  std::vector<std::byte> bad_version = state;
  bad_version[8] = std::byte{2};
  CoreStateMachine with_bad_version(testing::SmallCapacities());
  EXPECT_EQ(with_bad_version.Restore(bad_version).code(), base::StatusCode::kDataLoss);
}

TEST(CoreStateMachineTest, LatencyRecorderMeasuresAuthorizationEntriesOnly) {
  CoreHarness harness;
  io::ManualClock clock;
  telemetry::Histogram histogram;
  harness.machine().SetDecisionLatencyRecorder(&clock, &histogram);
  harness.BuildBasicCard(10'000);
  EXPECT_EQ(histogram.Count(), 0u);  // Management entries are not the critical path.
  harness.Authorize(harness.Purchase(7, 100, 1));
  harness.Authorize(harness.Purchase(7, 100, 2));
  EXPECT_EQ(histogram.Count(), 2u);
}

TEST(CoreStateMachineTest, BatchTimestampsAreUniqueAndCounted) {
  CoreHarness harness;
  harness.BuildBasicCard(10'000);
  const uint16_t kinds[3] = {static_cast<uint16_t>(EntryKind::kAuthorize),
                             static_cast<uint16_t>(EntryKind::kLookupBalance),
                             static_cast<uint16_t>(EntryKind::kAuthorize)};
  LookupBalanceRequest balance;
  balance.tenant_id = 1;
  balance.account_id = 1000;
  const AuthorizationRequest first_request = harness.Purchase(7, 100, 1);
  const AuthorizationRequest second_request = harness.Purchase(7, 100, 2);
  const auto first = PayloadOf(first_request);
  const auto read = PayloadOf(balance);
  const auto second = PayloadOf(second_request);
  const std::vector<std::byte> payloads[3] = {{first.begin(), first.end()},
                                              {read.begin(), read.end()},
                                              {second.begin(), second.end()}};
  const uint64_t before = harness.machine().ledger().last_timestamp_ns();
  const auto replies = harness.ApplyBatch(kinds, payloads);
  const DecisionReply a = Decide(replies[0]);
  const DecisionReply b = Decide(replies[2]);
  EXPECT_LT(before, a.authorized_at_ns);
  EXPECT_LT(a.authorized_at_ns, b.authorized_at_ns);
  // The read sees the first hold and not the second.
  EXPECT_EQ(replies[1].values[2], 100u);
}

}  // namespace
}  // namespace tangelo::authorizer

namespace tangelo::authorizer {
namespace {

// Within one batch the prefetch stages run ahead of the entries they look
// at; a card created mid-batch must still be found by the requests after it.
TEST(CoreStateMachineTest, CardCreatedMidBatchIsFoundByLaterEntries) {
  CoreHarness harness;
  harness.BuildBasicCard(100'000);
  std::vector<uint16_t> kinds;
  std::vector<std::vector<std::byte>> payloads;
  const auto add = [&](EntryKind kind, std::span<const std::byte> payload) {
    kinds.push_back(static_cast<uint16_t>(kind));
    payloads.emplace_back(payload.begin(), payload.end());
  };
  const issuing::CreateCard card = harness.MakeCard(kTenant, issuing::CardId(9),
                                                    issuing::UserId(100),
                                                    issuing::AccountId(1000), TestPan(9));
  uint32_t serial = 1;
  const auto purchase_by_token = [&] {
    AuthorizationRequest request = harness.Purchase(9, 100, serial++);
    request.flags |= RequestFlags::kCardByPanToken;
    request.card = CardReference::ByToken(card.pan.token);
    return request;
  };
  for (int i = 0; i < 6; ++i) add(EntryKind::kAuthorize, PayloadOf(purchase_by_token()));
  const std::vector<uint8_t> command = issuing::EncodeCommandToVector(card);
  add(EntryKind::kIssuingCommand, std::as_bytes(std::span(command.data(), command.size())));
  for (int i = 0; i < 20; ++i) add(EntryKind::kAuthorize, PayloadOf(purchase_by_token()));
  const std::vector<engine::Reply> replies = harness.ApplyBatch(kinds, payloads);
  for (size_t index = 0; index < replies.size(); ++index) {
    if (index == 6) {
      EXPECT_EQ(replies[index].detail, 0u);  // The card was created.
      continue;
    }
    const DecisionReply decision = Decide(replies[index]);
    if (index < 6) {
      EXPECT_EQ(decision.reason, issuing::DeclineReason::kCardNotFound) << index;
    } else {
      EXPECT_EQ(decision.decision, Decision::kApproved) << index;
    }
  }
  EXPECT_TRUE(harness.machine().CheckAllInvariants().ok());
  EXPECT_EQ(CoreHarness::SnapshotOf(*harness.Replay()), harness.Snapshot());
}

// A big batch decides exactly as the same requests one by one would: the
// stages only prefetch and precompute.
TEST(CoreStateMachineTest, OneBigBatchDecidesAsSingleEntries) {
  CoreHarness batched;
  CoreHarness single;
  batched.BuildBasicCard(50'000);
  single.BuildBasicCard(50'000);
  std::vector<uint16_t> kinds;
  std::vector<std::vector<std::byte>> payloads;
  for (uint32_t serial = 1; serial <= 300; ++serial) {
    AuthorizationRequest request = batched.Purchase(7, 100 + serial % 7 * 50, serial % 250);
    if (serial % 9 == 0) request.card = CardReference::ById(kTenant, issuing::CardId(8));
    kinds.push_back(static_cast<uint16_t>(EntryKind::kAuthorize));
    const auto bytes = PayloadOf(request);
    payloads.emplace_back(bytes.begin(), bytes.end());
  }
  const std::vector<engine::Reply> together = batched.ApplyBatch(kinds, payloads);
  for (size_t index = 0; index < kinds.size(); ++index) {
    const engine::Reply alone =
        single.Apply(EntryKind::kAuthorize, payloads[index]);
    const DecisionReply a = Decide(together[index]);
    const DecisionReply b = Decide(alone);
    EXPECT_EQ(a.decision, b.decision) << index;
    EXPECT_EQ(a.reason, b.reason) << index;
    EXPECT_EQ(a.flags, b.flags) << index;
    EXPECT_EQ(a.available_minor, b.available_minor) << index;
  }
}

}  // namespace
}  // namespace tangelo::authorizer
