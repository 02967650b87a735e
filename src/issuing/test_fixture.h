// Test helpers for the issuing module: timestamps from calendar dates, test
// PANs, a vault with a fixed key, and a small populated state. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "issuing/calendar.h"
#include "issuing/commands.h"
#include "issuing/pan.h"
#include "issuing/state.h"

namespace tangelo::issuing::testing {

inline constexpr uint16_t kUsd = 840;
inline constexpr uint16_t kEur = 978;

// Nanoseconds since the epoch of a UTC date and time (days_from_civil).
inline uint64_t NsAt(int year, unsigned month, unsigned day, unsigned hour = 0,
                     unsigned minute = 0, unsigned second = 0) {
  year -= month <= 2 ? 1 : 0;
  const int era = (year >= 0 ? year : year - 399) / 400;
  const unsigned year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  const int64_t days = int64_t{era} * 146097 + int64_t{day_of_era} - 719468;
  return static_cast<uint64_t>(days) * kNanosPerDay +
         (uint64_t{hour} * 3600 + uint64_t{minute} * 60 + second) * kNanosPerSecond;
}

// A valid PAN: 16 digits starting with a test BIN, then `serial`, then the
// Luhn check digit.
inline std::string TestPan(uint64_t serial) {
  std::string body = std::to_string(serial);
  body = "411111" + std::string(9 - std::min<size_t>(9, body.size()), '0') + body;
  return body + *LuhnCheckDigit(body);
}

inline PanKey TestKey(uint8_t seed = 1) {
  std::string hex;
  for (int i = 0; i < 32; ++i) {
    static constexpr char kDigits[] = "0123456789abcdef";
    const uint8_t byte = static_cast<uint8_t>(seed * 31 + i * 7 + 1);
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0xf];
  }
  return *PanKey::FromHex(hex);
}

inline Name TestName(std::string_view text) { return *MakeName(text); }

inline IssuingCapacity SmallCapacity() {
  IssuingCapacity capacity;
  capacity.tenants_max = 16;
  capacity.programs_max = 32;
  capacity.users_max = 256;
  capacity.accounts_max = 256;
  capacity.cards_max = 256;
  capacity.controls_max = 256;
  return capacity;
}

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
  void AddCard(TenantId tenant, CardId card, UserId user, AccountId account,
               const std::string& pan, CardStatus status = CardStatus::kActive) {
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
