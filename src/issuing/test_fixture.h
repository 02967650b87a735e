// The issuing test fixture: a small populated state and helpers to add to
// it. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "issuing/commands.h"
#include "issuing/state.h"
#include "issuing/test_util.h"

namespace tangelo::issuing::testing {

// A state with one tenant (id 1), program 10 (USD), user 100, account 1000
// (ledger account 5000) and an ACTIVE card 7 expiring 12/2030, built at
// kStart. Helpers add more, asserting each command succeeds.
class IssuingFixture : public ::testing::Test {
 protected:
  static constexpr TenantId kTenant{1};
  static constexpr ProgramId kProgram{10};
  static constexpr UserId kUser{100};
  static constexpr AccountId kAccount{1000};
  static constexpr CardId kCard{7};

  IssuingFixture() : vault_(TestKey()), state_(SmallCapacity()) {}

  void SetUp() override {
    AddTenant(kTenant);
    AddProgram(kTenant, kProgram, kUsd);
    AddUser(kTenant, kUser);
    AddAccount(kTenant, kAccount, kProgram, kUser, LedgerAccountId(5000), kUsd);
    AddCard(kTenant, kCard, kUser, kAccount, TestPan(7), CardStatus::kActive);
  }

  CommandResult Run(const Command& command, uint64_t timestamp_ns = 0) {
    return state_.Apply(command, timestamp_ns == 0 ? start_ns_ : timestamp_ns);
  }
  void MustRun(const Command& command) {
    const CommandResult result = Run(command);
    ASSERT_EQ(result, CommandResult::kOk) << CommandResultName(result);
  }

  void AddTenant(TenantId tenant) { MustRun(CreateTenant{tenant, TestName("Tenant")}); }
  void AddProgram(TenantId tenant, ProgramId program, uint16_t currency) {
    MustRun(CreateProgram{tenant, program, TestName("Program"), currency});
  }
  void AddUser(TenantId tenant, UserId user) { MustRun(CreateUser{tenant, user}); }
  void AddAccount(TenantId tenant, AccountId account, ProgramId program, UserId owner,
                  LedgerAccountId ledger, uint16_t currency) {
    MustRun(CreateAccount{tenant, account, program, owner, ledger, currency});
  }
  CreateCard MakeCard(TenantId tenant, CardId card, UserId user, AccountId account,
                      const std::string& pan, CardStatus status = CardStatus::kActive) {
    CreateCard command;
    command.tenant_id = tenant;
    command.card_id = card;
    command.user_id = user;
    command.account_id = account;
    command.expiry_year = 2030;
    command.expiry_month = 12;
    command.initial_status = status;
    command.pan = *vault_.Protect(tenant, card, pan);
    return command;
  }
  void AddCard(TenantId tenant, CardId card, UserId user, AccountId account, const std::string& pan,
               CardStatus status = CardStatus::kActive) {
    MustRun(MakeCard(tenant, card, user, account, pan, status));
  }
  const Card& TheCard() const { return *state_.FindCard(kTenant, kCard); }

  // A purchase at `timestamp_ns` of `amount` USD cents.
  AuthorizationContext Purchase(uint64_t amount, uint64_t timestamp_ns = 0) const {
    AuthorizationContext context;
    context.timestamp_ns = timestamp_ns == 0 ? start_ns_ : timestamp_ns;
    context.amount_minor = amount;
    context.currency_numeric = kUsd;
    context.mcc = 5411;
    context.merchant_country_numeric = 840;
    context.channel = Channel::kCardPresent;
    context.merchant_id = *MerchantId::FromString("GROCER01");
    return context;
  }

  uint64_t start_ns_ = NsAt(2026, 3, 11, 12);  // A Wednesday.
  PanVault vault_;
  IssuingState state_;
};

}  // namespace tangelo::issuing::testing
