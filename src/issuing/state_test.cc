#include "issuing/state.h"

#include <gtest/gtest.h>

#include "issuing/test_fixture.h"

namespace tangelo::issuing {
namespace {

using testing::IssuingFixture;
using testing::kEur;
using testing::kUsd;
using testing::NsAt;
using testing::SmallCapacity;
using testing::TestName;
using testing::TestPan;

using StateTest = IssuingFixture;

// ---------------------------------------------------------------- entities

TEST_F(StateTest, FixtureEntitiesAreLinked) {
  const Card& card = TheCard();
  EXPECT_EQ(card.status, CardStatus::kActive);
  EXPECT_EQ(std::string(card.last_four.data(), 4), TestPan(7).substr(12));
  EXPECT_EQ(state_.UserOf(card).id, kUser);
  EXPECT_EQ(state_.AccountOf(card).id, kAccount);
  EXPECT_EQ(state_.AccountOf(card).ledger_account_id, LedgerAccountId(5000));
  EXPECT_EQ(state_.ProgramOf(card).id, kProgram);
  EXPECT_EQ(state_.ProgramOf(state_.AccountOf(card)).currency_numeric, kUsd);
  EXPECT_EQ(state_.TenantOf(state_.ProgramOf(card)).id, kTenant);
  EXPECT_EQ(card.created_at_ns, start_ns_);
  EXPECT_EQ(state_.FindCardByPanToken(*vault_.Tokenize(TestPan(7))), &card);
  EXPECT_EQ(state_.FindCardByPanToken(*vault_.Tokenize(TestPan(8))), nullptr);
  EXPECT_EQ(state_.FindAccountByLedgerAccount(kTenant, LedgerAccountId(5000)),
            state_.FindAccount(kTenant, kAccount));
  EXPECT_EQ(state_.FindAccountByLedgerAccount(kTenant, LedgerAccountId(5001)), nullptr);
  // The encrypted PAN in the state reveals the card's PAN.
  EXPECT_EQ(vault_.Reveal(kTenant, kCard, state_.EncryptedPanOf(card))->digits(), TestPan(7));
  state_.CheckInvariants();
}

TEST_F(StateTest, CreateTenantRules) {
  EXPECT_EQ(Run(CreateTenant{TenantId(0), TestName("Zero")}), CommandResult::kInvalidId);
  EXPECT_EQ(Run(CreateTenant{kTenant, TestName("Again")}), CommandResult::kTenantExists);
  EXPECT_EQ(Run(CreateTenant{TenantId(2), Name{}}), CommandResult::kInvalidName);
  Name control_character = TestName("Bad");
  control_character.bytes[1] = '\n';
  EXPECT_EQ(Run(CreateTenant{TenantId(2), control_character}), CommandResult::kInvalidName);
  EXPECT_EQ(state_.FindTenant(TenantId(2)), nullptr);
  EXPECT_EQ(Run(CreateTenant{TenantId(2), TestName("Second")}), CommandResult::kOk);
  EXPECT_EQ(state_.FindTenant(TenantId(2))->name.view(), "Second");
  for (uint64_t id = 3; id <= SmallCapacity().tenants_max; ++id) {
    ASSERT_EQ(Run(CreateTenant{TenantId(id), TestName("T")}), CommandResult::kOk);
  }
  EXPECT_EQ(Run(CreateTenant{TenantId(99), TestName("Full")}), CommandResult::kCapacityExhausted);
  EXPECT_EQ(state_.tenants().size(), SmallCapacity().tenants_max);
}

TEST(NameTest, MakeNameBounds) {
  EXPECT_TRUE(MakeName(std::string(kNameLengthMax, 'n')).has_value());
  EXPECT_FALSE(MakeName(std::string(kNameLengthMax + 1, 'n')).has_value());
  EXPECT_FALSE(MakeName("").has_value());
  EXPECT_FALSE(MakeName("tab\there").has_value());
  EXPECT_EQ(MakeName("Acme Inc.")->view(), "Acme Inc.");
}

TEST_F(StateTest, CreateProgramRules) {
  EXPECT_EQ(Run(CreateProgram{TenantId(9), ProgramId(11), TestName("P"), kUsd}),
            CommandResult::kTenantNotFound);
  EXPECT_EQ(Run(CreateProgram{kTenant, ProgramId(0), TestName("P"), kUsd}),
            CommandResult::kInvalidId);
  EXPECT_EQ(Run(CreateProgram{kTenant, kProgram, TestName("P"), kUsd}),
            CommandResult::kProgramExists);
  EXPECT_EQ(Run(CreateProgram{kTenant, ProgramId(11), TestName("P"), 999}),
            CommandResult::kInvalidCurrency);
  EXPECT_EQ(Run(CreateProgram{kTenant, ProgramId(11), Name{}, kUsd}), CommandResult::kInvalidName);
  ASSERT_EQ(Run(CreateProgram{kTenant, ProgramId(11), TestName("Euro"), kEur}), CommandResult::kOk);
  const Program& program = *state_.FindProgram(kTenant, ProgramId(11));
  EXPECT_EQ(program.currency_numeric, kEur);
  EXPECT_TRUE(program.hold_expiry == StandardHoldExpiryTable());
  EXPECT_FALSE(program.realtime_decision.required);
  EXPECT_EQ(state_.ProgramControls(program), nullptr);
  EXPECT_EQ(state_.ProgramCardDefaultControls(program), nullptr);
}

TEST_F(StateTest, RealtimeDecisionAndHoldExpirySettings) {
  RealtimeDecisionSettings settings;
  settings.required = true;
  settings.deadline_ms = 2000;
  settings.stand_in_policy = StandInPolicy::kApproveUpToLimit;
  settings.stand_in_amount_max_minor = 30'00;
  ASSERT_TRUE(settings.SetUrl("https://client.example/decide"));
  EXPECT_EQ(Run(SetRealtimeDecision{kTenant, kProgram, settings}), CommandResult::kOk);
  EXPECT_TRUE(state_.ProgramOf(TheCard()).realtime_decision == settings);

  RealtimeDecisionSettings bad = settings;
  bad.deadline_ms = 2001;
  EXPECT_EQ(Run(SetRealtimeDecision{kTenant, kProgram, bad}),
            CommandResult::kInvalidDecisionDeadline);
  bad = settings;
  ASSERT_TRUE(bad.SetUrl("gopher://x"));
  EXPECT_EQ(Run(SetRealtimeDecision{kTenant, kProgram, bad}), CommandResult::kInvalidClientUrl);
  bad = settings;
  bad.stand_in_policy = static_cast<StandInPolicy>(7);
  EXPECT_EQ(Run(SetRealtimeDecision{kTenant, kProgram, bad}), CommandResult::kInvalidStandIn);
  EXPECT_EQ(Run(SetRealtimeDecision{kTenant, ProgramId(77), settings}),
            CommandResult::kProgramNotFound);
  EXPECT_TRUE(state_.ProgramOf(TheCard()).realtime_decision == settings);  // Unchanged.

  EXPECT_EQ(state_.HoldExpirySeconds(TheCard(), 7011), 30u * 86400);
  EXPECT_EQ(state_.HoldExpirySeconds(TheCard(), 5411), 7u * 86400);
  HoldExpiryTable table;
  table.default_days = 3;
  ASSERT_TRUE(table.AddRule(4411, 4411, 60));
  EXPECT_EQ(Run(SetHoldExpiry{kTenant, kProgram, table}), CommandResult::kOk);
  EXPECT_EQ(state_.HoldExpirySeconds(TheCard(), 4411), 60u * 86400);
  EXPECT_EQ(state_.HoldExpirySeconds(TheCard(), 7011), 3u * 86400);
  table.default_days = 0;
  EXPECT_EQ(Run(SetHoldExpiry{kTenant, kProgram, table}), CommandResult::kInvalidHoldExpiry);
  EXPECT_EQ(state_.HoldExpirySeconds(TheCard(), 5411), 3u * 86400);
}

TEST_F(StateTest, CreateUserRules) {
  EXPECT_EQ(Run(CreateUser{kTenant, kUser}), CommandResult::kUserExists);
  EXPECT_EQ(Run(CreateUser{kTenant, UserId(0)}), CommandResult::kInvalidId);
  EXPECT_EQ(Run(CreateUser{TenantId(0), UserId(5)}), CommandResult::kInvalidId);
  EXPECT_EQ(Run(CreateUser{TenantId(3), UserId(5)}), CommandResult::kTenantNotFound);
  ASSERT_EQ(Run(CreateUser{kTenant, UserId(101)}), CommandResult::kOk);
  EXPECT_EQ(state_.FindUser(kTenant, UserId(101))->status, UserStatus::kActive);
  EXPECT_EQ(Run(SetUserStatus{kTenant, UserId(102), UserStatus::kBlocked}),
            CommandResult::kUserNotFound);
}

TEST_F(StateTest, CreateAccountRules) {
  const auto account = [&](uint64_t id, uint64_t program, uint64_t owner, uint64_t ledger,
                           uint16_t currency) {
    return Run(CreateAccount{kTenant, AccountId(id), ProgramId(program), UserId(owner),
                             LedgerAccountId(ledger), currency});
  };
  EXPECT_EQ(account(kAccount.value(), 10, 100, 5001, kUsd), CommandResult::kAccountExists);
  EXPECT_EQ(account(1001, 99, 100, 5001, kUsd), CommandResult::kProgramNotFound);
  EXPECT_EQ(account(1001, 10, 999, 5001, kUsd), CommandResult::kUserNotFound);
  EXPECT_EQ(account(1001, 10, 100, 5001, kEur), CommandResult::kCurrencyMismatch);
  EXPECT_EQ(account(1001, 10, 100, 5001, 1), CommandResult::kInvalidCurrency);
  EXPECT_EQ(account(1001, 10, 100, 5000, kUsd), CommandResult::kLedgerAccountInUse);
  EXPECT_EQ(account(1001, 10, 100, 0, kUsd), CommandResult::kInvalidId);
  EXPECT_EQ(account(1001, 0, 100, 5001, kUsd), CommandResult::kInvalidId);
  EXPECT_EQ(account(1001, 10, 0, 5001, kUsd), CommandResult::kOk);  // Shared account.
  EXPECT_FALSE(state_.FindAccount(kTenant, AccountId(1001))->owner_user_id.valid());
  ASSERT_EQ(Run(SetUserStatus{kTenant, kUser, UserStatus::kDisabled}), CommandResult::kOk);
  EXPECT_EQ(account(1002, 10, 100, 5002, kUsd), CommandResult::kUserDisabled);
  EXPECT_EQ(state_.accounts().size(), 2u);
  state_.CheckInvariants();
}

TEST_F(StateTest, CreateCardRules) {
  const auto attempt = [&](auto mutate) {
    CreateCard command = MakeCard(kTenant, CardId(8), kUser, kAccount, TestPan(8));
    mutate(command);
    return Run(command);
  };
  EXPECT_EQ(attempt([](CreateCard& c) { c.card_id = CardId(0); }), CommandResult::kInvalidId);
  EXPECT_EQ(attempt([](CreateCard& c) { c.user_id = UserId(0); }), CommandResult::kInvalidId);
  EXPECT_EQ(attempt([](CreateCard& c) { c.card_id = CardId(7); }), CommandResult::kCardExists);
  EXPECT_EQ(attempt([](CreateCard& c) { c.user_id = UserId(5); }), CommandResult::kUserNotFound);
  EXPECT_EQ(attempt([](CreateCard& c) { c.account_id = AccountId(5); }),
            CommandResult::kAccountNotFound);
  EXPECT_EQ(attempt([](CreateCard& c) { c.expiry_month = 0; }), CommandResult::kInvalidExpiryDate);
  EXPECT_EQ(attempt([](CreateCard& c) { c.expiry_month = 13; }), CommandResult::kInvalidExpiryDate);
  EXPECT_EQ(attempt([](CreateCard& c) { c.expiry_year = 1999; }),
            CommandResult::kInvalidExpiryDate);
  EXPECT_EQ(attempt([](CreateCard& c) { c.expiry_year = 2200; }),
            CommandResult::kInvalidExpiryDate);
  // Born expired: February 2026 has ended by 2026-03-11.
  EXPECT_EQ(attempt([](CreateCard& c) {
              c.expiry_year = 2026;
              c.expiry_month = 2;
            }),
            CommandResult::kInvalidExpiryDate);
  EXPECT_EQ(attempt([](CreateCard& c) { c.initial_status = CardStatus::kBlocked; }),
            CommandResult::kInvalidStatus);
  EXPECT_EQ(attempt([](CreateCard& c) { c.initial_status = static_cast<CardStatus>(0); }),
            CommandResult::kInvalidStatus);
  EXPECT_EQ(attempt([](CreateCard& c) { c.pan.token = PanToken{}; }), CommandResult::kInvalidPan);
  EXPECT_EQ(attempt([](CreateCard& c) { c.pan.last_four[2] = 'x'; }), CommandResult::kInvalidPan);
  EXPECT_EQ(attempt([](CreateCard& c) { c.pan.encrypted.size = 3; }), CommandResult::kInvalidPan);
  EXPECT_EQ(attempt([](CreateCard& c) { c.pan.encrypted.bytes[0] = 9; }),
            CommandResult::kInvalidPan);
  // The same PAN as card 7.
  EXPECT_EQ(Run(MakeCard(kTenant, CardId(8), kUser, kAccount, TestPan(7))),
            CommandResult::kPanAlreadyIssued);
  EXPECT_EQ(state_.cards().size(), 1u);

  // Valid through the end of the current month.
  EXPECT_EQ(attempt([](CreateCard& c) {
              c.expiry_year = 2026;
              c.expiry_month = 3;
              c.initial_status = CardStatus::kCreated;
            }),
            CommandResult::kOk);
  EXPECT_EQ(state_.FindCard(kTenant, CardId(8))->status, CardStatus::kCreated);
  ASSERT_EQ(Run(SetUserStatus{kTenant, kUser, UserStatus::kDisabled}), CommandResult::kOk);
  EXPECT_EQ(Run(MakeCard(kTenant, CardId(9), kUser, kAccount, TestPan(9))),
            CommandResult::kUserDisabled);
}

TEST_F(StateTest, CardCapacity) {
  IssuingCapacity capacity = SmallCapacity();
  capacity.cards_max = 2;
  IssuingState small(capacity);
  ASSERT_EQ(small.Apply(CreateTenant{kTenant, TestName("T")}, start_ns_), CommandResult::kOk);
  ASSERT_EQ(small.Apply(CreateProgram{kTenant, kProgram, TestName("P"), kUsd}, start_ns_),
            CommandResult::kOk);
  ASSERT_EQ(small.Apply(CreateUser{kTenant, kUser}, start_ns_), CommandResult::kOk);
  ASSERT_EQ(small.Apply(CreateAccount{kTenant, kAccount, kProgram, kUser, LedgerAccountId(1), kUsd},
                        start_ns_),
            CommandResult::kOk);
  for (uint64_t id = 1; id <= 3; ++id) {
    const CommandResult result =
        small.Apply(MakeCard(kTenant, CardId(id), kUser, kAccount, TestPan(id)), start_ns_);
    EXPECT_EQ(result, id <= 2 ? CommandResult::kOk : CommandResult::kCapacityExhausted);
  }
  small.CheckInvariants();
}

TEST_F(StateTest, TimestampsBeyondTheRangeAreRejected) {
  EXPECT_EQ(state_.Apply(CreateUser{kTenant, UserId(5)}, kTimestampNsMax),
            CommandResult::kInvalidTimestamp);
  EXPECT_EQ(state_.FindUser(kTenant, UserId(5)), nullptr);
  EXPECT_EQ(Run(RecordSpend{kTenant, kCard, 1, kTimestampNsMax, true}),
            CommandResult::kInvalidTimestamp);
  EXPECT_EQ(state_.AddCardSpend(TheCard(), 1, UINT64_MAX, true), CommandResult::kInvalidTimestamp);
  EXPECT_EQ(state_.RemoveCardSpend(TheCard(), 1, UINT64_MAX, true),
            CommandResult::kInvalidTimestamp);
  EXPECT_EQ(TheCard().counters.lifetime_amount_minor, 0u);
}

// ---------------------------------------------------------------- tenant isolation

class TenantIsolationTest : public IssuingFixture {
 protected:
  static constexpr TenantId kOther{2};
  void SetUp() override {
    IssuingFixture::SetUp();
    AddTenant(kOther);
  }
};

TEST_F(TenantIsolationTest, AnotherTenantsIdsBehaveAsAbsentOnEveryLookup) {
  EXPECT_EQ(state_.FindProgram(kOther, kProgram), nullptr);
  EXPECT_EQ(state_.FindUser(kOther, kUser), nullptr);
  EXPECT_EQ(state_.FindAccount(kOther, kAccount), nullptr);
  EXPECT_EQ(state_.FindCard(kOther, kCard), nullptr);
  EXPECT_EQ(state_.FindAccountByLedgerAccount(kOther, LedgerAccountId(5000)), nullptr);
  const PanToken token = *vault_.Tokenize(TestPan(7));
  EXPECT_EQ(state_.FindCardByPanToken(kOther, token), nullptr);
  EXPECT_NE(state_.FindCardByPanToken(kTenant, token), nullptr);
  // Unknown tenants see nothing either.
  EXPECT_EQ(state_.FindCard(TenantId(0), kCard), nullptr);
  EXPECT_EQ(state_.FindCard(TenantId(3), kCard), nullptr);
}

TEST_F(TenantIsolationTest, AnotherTenantsIdsBehaveAsAbsentOnEveryCommand) {
  Controls controls;
  controls.daily_amount_max = 1;
  EXPECT_EQ(Run(SetRealtimeDecision{kOther, kProgram, RealtimeDecisionSettings{}}),
            CommandResult::kProgramNotFound);
  EXPECT_EQ(Run(SetHoldExpiry{kOther, kProgram, StandardHoldExpiryTable()}),
            CommandResult::kProgramNotFound);
  EXPECT_EQ(Run(SetUserStatus{kOther, kUser, UserStatus::kBlocked}), CommandResult::kUserNotFound);
  EXPECT_EQ(Run(ChangeCardStatus{kOther, kCard, CardStatus::kBlocked}),
            CommandResult::kCardNotFound);
  EXPECT_EQ(Run(SetControls{kOther, ControlLevel::kProgram, kProgram.value(), controls}),
            CommandResult::kProgramNotFound);
  EXPECT_EQ(Run(SetControls{kOther, ControlLevel::kProgramCardDefault, kProgram.value(), controls}),
            CommandResult::kProgramNotFound);
  EXPECT_EQ(Run(SetControls{kOther, ControlLevel::kAccount, kAccount.value(), controls}),
            CommandResult::kAccountNotFound);
  EXPECT_EQ(Run(SetControls{kOther, ControlLevel::kCard, kCard.value(), controls}),
            CommandResult::kCardNotFound);
  EXPECT_EQ(Run(RecordSpend{kOther, kCard, 100, start_ns_, true}), CommandResult::kCardNotFound);
  EXPECT_EQ(Run(ReleaseSpend{kOther, kCard, 100, start_ns_, true}), CommandResult::kCardNotFound);
  // Referencing the first tenant's program, user and account from the other.
  AddProgram(kOther, ProgramId(20), kUsd);
  AddUser(kOther, UserId(200));
  EXPECT_EQ(Run(CreateAccount{kOther, AccountId(2000), kProgram, UserId(200), LedgerAccountId(6000),
                              kUsd}),
            CommandResult::kProgramNotFound);
  EXPECT_EQ(Run(CreateAccount{kOther, AccountId(2000), ProgramId(20), kUser, LedgerAccountId(6000),
                              kUsd}),
            CommandResult::kUserNotFound);
  AddAccount(kOther, AccountId(2000), ProgramId(20), UserId(200), LedgerAccountId(6000), kUsd);
  EXPECT_EQ(Run(MakeCard(kOther, CardId(70), kUser, AccountId(2000), TestPan(70))),
            CommandResult::kUserNotFound);
  EXPECT_EQ(Run(MakeCard(kOther, CardId(70), UserId(200), kAccount, TestPan(70))),
            CommandResult::kAccountNotFound);

  // Nothing of the first tenant changed.
  EXPECT_EQ(TheCard().status, CardStatus::kActive);
  EXPECT_EQ(state_.FindUser(kTenant, kUser)->status, UserStatus::kActive);
  EXPECT_EQ(state_.CardControls(TheCard()), nullptr);
  EXPECT_EQ(TheCard().counters.lifetime_amount_minor, 0u);
  state_.CheckInvariants();
}

TEST_F(TenantIsolationTest, TheSameIdsAreFreeForAnotherTenant) {
  // No "already exists" leaks another tenant's ids.
  AddProgram(kOther, kProgram, kEur);
  AddUser(kOther, kUser);
  AddAccount(kOther, kAccount, kProgram, kUser, LedgerAccountId(6000), kEur);
  AddCard(kOther, kCard, kUser, kAccount, TestPan(70));
  const Card& theirs = *state_.FindCard(kOther, kCard);
  EXPECT_NE(&theirs, &TheCard());
  EXPECT_EQ(state_.AccountOf(theirs).currency_numeric, kEur);
  EXPECT_EQ(state_.AccountOf(TheCard()).currency_numeric, kUsd);
  ASSERT_EQ(Run(ChangeCardStatus{kOther, kCard, CardStatus::kBlocked}), CommandResult::kOk);
  EXPECT_EQ(theirs.status, CardStatus::kBlocked);
  EXPECT_EQ(TheCard().status, CardStatus::kActive);
  // But a PAN and a ledger account are unique across tenants.
  EXPECT_EQ(Run(MakeCard(kOther, CardId(71), kUser, kAccount, TestPan(7))),
            CommandResult::kPanAlreadyIssued);
  EXPECT_EQ(
      Run(CreateAccount{kOther, AccountId(2001), kProgram, kUser, LedgerAccountId(5000), kEur}),
      CommandResult::kLedgerAccountInUse);
  state_.CheckInvariants();
}

// ---------------------------------------------------------------- authorization path

TEST_F(StateTest, CheckCardStatusesInOrder) {
  const AuthorizationContext purchase = Purchase(10'00);
  EXPECT_EQ(state_.CheckAuthorization(TheCard(), purchase), DeclineReason::kNone);
  const std::pair<CardStatus, DeclineReason> cases[] = {
      {CardStatus::kCreated, DeclineReason::kCardNotActive},
      {CardStatus::kBlocked, DeclineReason::kCardBlocked},
      {CardStatus::kLost, DeclineReason::kCardLost},
      {CardStatus::kStolen, DeclineReason::kCardStolen},
      {CardStatus::kExpired, DeclineReason::kCardExpired},
      {CardStatus::kClosed, DeclineReason::kCardClosed},
  };
  uint64_t id = 50;
  for (const auto& [status, reason] : cases) {
    const CardId card(id++);
    const bool created = status == CardStatus::kCreated;
    AddCard(kTenant, card, kUser, kAccount, TestPan(card.value()),
            created ? CardStatus::kCreated : CardStatus::kActive);
    if (!created) MustRun(ChangeCardStatus{kTenant, card, status});
    EXPECT_EQ(state_.CheckCard(*state_.FindCard(kTenant, card), purchase), reason)
        << CardStatusName(status);
  }
}

TEST_F(StateTest, CheckCardExpiryUserAndCurrency) {
  // Valid through 2030-12-31T23:59:59Z.
  EXPECT_EQ(state_.CheckCard(TheCard(), Purchase(1, NsAt(2030, 12, 31, 23, 59, 59))),
            DeclineReason::kNone);
  EXPECT_EQ(state_.CheckCard(TheCard(), Purchase(1, NsAt(2031, 1, 1))),
            DeclineReason::kCardExpired);

  AuthorizationContext context = Purchase(1);
  context.expiry_year = 30;  // Field 14 is YYMM.
  context.expiry_month = 12;
  EXPECT_EQ(state_.CheckCard(TheCard(), context), DeclineReason::kNone);
  context.expiry_year = 2030;
  EXPECT_EQ(state_.CheckCard(TheCard(), context), DeclineReason::kNone);
  context.expiry_month = 11;
  EXPECT_EQ(state_.CheckCard(TheCard(), context), DeclineReason::kCardExpiryMismatch);
  context.expiry_month = 12;
  context.expiry_year = 31;
  EXPECT_EQ(state_.CheckCard(TheCard(), context), DeclineReason::kCardExpiryMismatch);

  context = Purchase(1);
  context.currency_numeric = kEur;
  EXPECT_EQ(state_.CheckCard(TheCard(), context), DeclineReason::kCurrencyNotSupported);

  MustRun(SetUserStatus{kTenant, kUser, UserStatus::kBlocked});
  EXPECT_EQ(state_.CheckCard(TheCard(), context), DeclineReason::kUserBlocked);  // Before currency.
  MustRun(SetUserStatus{kTenant, kUser, UserStatus::kDisabled});
  EXPECT_EQ(state_.CheckAuthorization(TheCard(), Purchase(1)), DeclineReason::kUserDisabled);
  // Card status comes before the user's.
  MustRun(ChangeCardStatus{kTenant, kCard, CardStatus::kBlocked});
  EXPECT_EQ(state_.CheckAuthorization(TheCard(), Purchase(1)), DeclineReason::kCardBlocked);
}

TEST_F(StateTest, CardChecksComeBeforeControls) {
  Controls controls;
  controls.transaction_amount_max = 1;
  MustRun(SetControls{kTenant, ControlLevel::kCard, kCard.value(), controls});
  EXPECT_EQ(state_.CheckAuthorization(TheCard(), Purchase(5)),
            DeclineReason::kTransactionLimitExceeded);
  MustRun(ChangeCardStatus{kTenant, kCard, CardStatus::kBlocked});
  EXPECT_EQ(state_.CheckAuthorization(TheCard(), Purchase(5)), DeclineReason::kCardBlocked);
}

TEST_F(StateTest, ControlsAtEveryLevelApplyToTheirOwnCounters) {
  // A second card on the same account, and a second account with a card in
  // the same program.
  AddCard(kTenant, CardId(8), kUser, kAccount, TestPan(8));
  AddAccount(kTenant, AccountId(1001), kProgram, kUser, LedgerAccountId(5001), kUsd);
  AddCard(kTenant, CardId(9), kUser, AccountId(1001), TestPan(9));
  const Card& card7 = TheCard();
  const Card& card8 = *state_.FindCard(kTenant, CardId(8));
  const Card& card9 = *state_.FindCard(kTenant, CardId(9));

  // Program card default: 100 per day for each card, counted per card.
  Controls per_card;
  per_card.daily_amount_max = 100'00;
  MustRun(SetControls{kTenant, ControlLevel::kProgramCardDefault, kProgram.value(), per_card});
  ASSERT_EQ(state_.AddCardSpend(card7, 90'00, start_ns_, true), CommandResult::kOk);
  EXPECT_EQ(state_.CheckAuthorization(card7, Purchase(20'00)), DeclineReason::kDailyLimitExceeded);
  EXPECT_EQ(state_.CheckAuthorization(card8, Purchase(100'00)), DeclineReason::kNone);

  // Account: 150 per day across the account's cards.
  Controls account_limit;
  account_limit.daily_amount_max = 150'00;
  MustRun(SetControls{kTenant, ControlLevel::kAccount, kAccount.value(), account_limit});
  EXPECT_EQ(state_.CheckAuthorization(card8, Purchase(60'00)), DeclineReason::kNone);
  EXPECT_EQ(state_.CheckAuthorization(card8, Purchase(61'00)), DeclineReason::kDailyLimitExceeded);
  EXPECT_EQ(state_.CheckAuthorization(card9, Purchase(100'00)), DeclineReason::kNone);

  // Program: 200 per day across every card of the program.
  Controls program_limit;
  program_limit.daily_amount_max = 200'00;
  MustRun(SetControls{kTenant, ControlLevel::kProgram, kProgram.value(), program_limit});
  ASSERT_EQ(state_.AddCardSpend(card9, 100'00, start_ns_, true), CommandResult::kOk);
  EXPECT_EQ(state_.ProgramOf(card9).counters.day_amount_minor, 190'00u);
  EXPECT_EQ(state_.CheckAuthorization(card8, Purchase(10'00)), DeclineReason::kNone);
  EXPECT_EQ(state_.CheckAuthorization(card8, Purchase(10'01)), DeclineReason::kDailyLimitExceeded);

  // Card: the strictest, 5 per transaction for card 8 only.
  Controls card_limit;
  card_limit.transaction_amount_max = 5'00;
  MustRun(SetControls{kTenant, ControlLevel::kCard, 8, card_limit});
  EXPECT_EQ(state_.CheckAuthorization(card8, Purchase(6'00)),
            DeclineReason::kTransactionLimitExceeded);
  EXPECT_EQ(state_.CheckAuthorization(card7, Purchase(6'00)), DeclineReason::kNone);

  // Reversing card 9's purchase frees the program's room again.
  ASSERT_EQ(state_.RemoveCardSpend(card9, 100'00, start_ns_, true), CommandResult::kOk);
  EXPECT_EQ(state_.CheckAuthorization(card9, Purchase(60'00)), DeclineReason::kNone);
  state_.CheckInvariants();
}

TEST_F(StateTest, SetControlsRulesAndSlotReuse) {
  Controls controls;
  controls.channels_blocked = kChannelBitAtm;
  EXPECT_EQ(Run(SetControls{kTenant, static_cast<ControlLevel>(0), kCard.value(), controls}),
            CommandResult::kInvalidControlLevel);
  EXPECT_EQ(Run(SetControls{kTenant, static_cast<ControlLevel>(5), kCard.value(), controls}),
            CommandResult::kInvalidControlLevel);
  EXPECT_EQ(Run(SetControls{kTenant, ControlLevel::kCard, 0, controls}), CommandResult::kInvalidId);
  EXPECT_EQ(Run(SetControls{kTenant, ControlLevel::kCard, 99, controls}),
            CommandResult::kCardNotFound);
  Controls invalid = controls;
  invalid.channels_blocked = 0x80;
  EXPECT_EQ(Run(SetControls{kTenant, ControlLevel::kCard, kCard.value(), invalid}),
            CommandResult::kInvalidControls);
  EXPECT_EQ(state_.controls_in_use(), 0u);

  ASSERT_EQ(Run(SetControls{kTenant, ControlLevel::kCard, kCard.value(), controls}),
            CommandResult::kOk);
  ASSERT_NE(state_.CardControls(TheCard()), nullptr);
  EXPECT_TRUE(*state_.CardControls(TheCard()) == controls);
  EXPECT_EQ(state_.controls_in_use(), 1u);
  // Replacing keeps one slot; clearing releases it and the next set reuses it.
  controls.channels_blocked = kChannelBitEcommerce;
  ASSERT_EQ(Run(SetControls{kTenant, ControlLevel::kCard, kCard.value(), controls}),
            CommandResult::kOk);
  EXPECT_EQ(state_.CardControls(TheCard())->channels_blocked, kChannelBitEcommerce);
  EXPECT_EQ(state_.controls_in_use(), 1u);
  ASSERT_EQ(Run(SetControls{kTenant, ControlLevel::kCard, kCard.value(), Controls{}}),
            CommandResult::kOk);
  EXPECT_EQ(state_.CardControls(TheCard()), nullptr);
  EXPECT_EQ(state_.controls_in_use(), 0u);
  ASSERT_EQ(Run(SetControls{kTenant, ControlLevel::kAccount, kAccount.value(), controls}),
            CommandResult::kOk);
  EXPECT_EQ(state_.controls_in_use(), 1u);
  // Unused entries are stored zeroed (canonical).
  Controls garbage = controls;
  garbage.countries[5] = 4;
  ASSERT_EQ(Run(SetControls{kTenant, ControlLevel::kProgram, kProgram.value(), garbage}),
            CommandResult::kOk);
  EXPECT_TRUE(*state_.ProgramControls(state_.ProgramOf(TheCard())) == controls);
  state_.CheckInvariants();
}

TEST_F(StateTest, ControlsCapacity) {
  IssuingCapacity capacity = SmallCapacity();
  capacity.controls_max = 1;
  IssuingState small(capacity);
  ASSERT_EQ(small.Apply(CreateTenant{kTenant, TestName("T")}, start_ns_), CommandResult::kOk);
  ASSERT_EQ(small.Apply(CreateProgram{kTenant, kProgram, TestName("P"), kUsd}, start_ns_),
            CommandResult::kOk);
  Controls controls;
  controls.daily_amount_max = 5;
  EXPECT_EQ(small.Apply(SetControls{kTenant, ControlLevel::kProgram, kProgram.value(), controls},
                        start_ns_),
            CommandResult::kOk);
  EXPECT_EQ(small.Apply(
                SetControls{kTenant, ControlLevel::kProgramCardDefault, kProgram.value(), controls},
                start_ns_),
            CommandResult::kCapacityExhausted);
  EXPECT_EQ(small.ProgramCardDefaultControls(small.programs()[0]), nullptr);
}

TEST_F(StateTest, SpendCommandsUpdateAllThreeLevels) {
  ASSERT_EQ(Run(RecordSpend{kTenant, kCard, 25'00, start_ns_, true}), CommandResult::kOk);
  const Card& card = TheCard();
  EXPECT_EQ(card.counters.day_amount_minor, 25'00u);
  EXPECT_EQ(state_.AccountOf(card).counters.day_amount_minor, 25'00u);
  EXPECT_EQ(state_.ProgramOf(card).counters.day_amount_minor, 25'00u);
  EXPECT_EQ(card.counters.velocity_count, 1);
  ASSERT_EQ(Run(ReleaseSpend{kTenant, kCard, 10'00, start_ns_, false}), CommandResult::kOk);
  EXPECT_EQ(card.counters.lifetime_amount_minor, 15'00u);
  EXPECT_EQ(state_.ProgramOf(card).counters.lifetime_amount_minor, 15'00u);
  EXPECT_EQ(card.counters.velocity_count, 1);
  EXPECT_EQ(Run(ReleaseSpend{kTenant, kCard, 20'00, start_ns_, true}),
            CommandResult::kSpendNotExact);
  EXPECT_EQ(card.counters.lifetime_amount_minor, 0u);
  EXPECT_EQ(state_.AccountOf(card).counters.lifetime_amount_minor, 0u);
  EXPECT_EQ(card.counters.velocity_count, 0);
  EXPECT_EQ(Run(RecordSpend{kTenant, CardId(99), 1, start_ns_, true}),
            CommandResult::kCardNotFound);
  EXPECT_EQ(Run(RecordSpend{kTenant, CardId(0), 1, start_ns_, true}), CommandResult::kInvalidId);
  EXPECT_EQ(Run(RecordSpend{TenantId(44), kCard, 1, start_ns_, true}),
            CommandResult::kTenantNotFound);
}

TEST(IssuingCapacityTest, Validity) {
  IssuingCapacity capacity;
  EXPECT_TRUE(capacity.valid());
  capacity.cards_max = 0;
  EXPECT_FALSE(capacity.valid());
  capacity.cards_max = IssuingCapacity::kEntitiesMax + 1;
  EXPECT_FALSE(capacity.valid());
}

TEST(IssuingStateDeathTest, ForeignRecordsAreProgrammerErrors) {
  IssuingState state(SmallCapacity());
  const Card not_ours;
  EXPECT_DEATH((void)state.EncryptedPanOf(not_ours), "not a record of this state");
  IssuingCapacity invalid = SmallCapacity();
  invalid.users_max = 0;
  EXPECT_DEATH(IssuingState{invalid}, "capacity");
}

}  // namespace
}  // namespace tangelo::issuing
