// Property test: random command streams (valid, invalid and cross-tenant,
// through the binary encoding) against IssuingState, checking after every
// command that
//   - a rejected command changed nothing (byte-identical snapshot),
//   - every reference stays within its tenant (CheckInvariants),
//   - spend counters equal a simple model and stay ordered
//     (day <= week <= lifetime, day <= month <= lifetime),
// and at the end that replay, snapshot round trip and snapshot-plus-suffix
// all give byte-identical state. Seeds are fixed; set
// TANGELO_PROPERTY_SEED to run one seed (a failure prints its seed).

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <tuple>
#include <vector>

#include "base/random.h"
#include "issuing/state.h"
#include "issuing/test_fixture.h"

namespace tangelo::issuing {
namespace {

using testing::kEur;
using testing::kUsd;
using testing::NsAt;
using testing::TestKey;
using testing::TestName;
using testing::TestPan;

constexpr int kCommandsPerSeed = 1500;

IssuingCapacity PropertyCapacity() {
  IssuingCapacity capacity;
  capacity.tenants_max = 4;
  capacity.programs_max = 12;
  capacity.users_max = 24;
  capacity.accounts_max = 24;
  capacity.cards_max = 40;
  capacity.controls_max = 30;
  return capacity;
}

class Generator {
 public:
  // Reads `state` (never changes it) to aim most commands at entities that
  // exist, so success paths are exercised as much as rejections.
  Generator(uint64_t seed, const PanVault& vault, const IssuingState& state)
      : random_(seed), vault_(vault), state_(state) {}

  uint64_t now_ns() const { return now_ns_; }

  // Time mostly moves forward by up to two days; sometimes it stands still.
  void Tick() {
    if (random_.Chance(80)) now_ns_ += random_.Uniform(2 * kNanosPerDay);
  }

  Command Next() {
    switch (random_.Uniform(14)) {
      case 0:
        return CreateTenant{Tenant(), random_.Chance(95) ? TestName("T") : Name{}};
      case 1:
        return CreateProgram{Tenant(), ProgramId(Small(4)), TestName("P"), Currency()};
      case 2: {
        const auto [tenant, program] = Existing(state_.programs());
        return SetRealtimeDecision{tenant, ProgramId(program), Realtime()};
      }
      case 3: {
        const auto [tenant, program] = Existing(state_.programs());
        return SetHoldExpiry{tenant, ProgramId(program), HoldExpiry()};
      }
      case 4:
        return CreateUser{Tenant(), UserId(Small(6))};
      case 5: {
        const auto [tenant, user] = Existing(state_.users());
        return SetUserStatus{tenant, UserId(user), static_cast<UserStatus>(random_.Between(0, 4))};
      }
      case 6: {
        const auto [tenant, program] = Existing(state_.programs());
        return CreateAccount{tenant,           AccountId(Small(6)),        ProgramId(program),
                             UserId(Small(6)), LedgerAccountId(Small(30)), Currency()};
      }
      case 7:
        return Card();
      case 8: {
        const auto [tenant, card] = Existing(state_.cards());
        return ChangeCardStatus{tenant, CardId(card),
                                static_cast<CardStatus>(random_.Between(0, 8))};
      }
      case 9: {
        const ControlLevel level = static_cast<ControlLevel>(random_.Between(0, 5));
        const auto [tenant, target] = level == ControlLevel::kCard ? Existing(state_.cards())
                                      : level == ControlLevel::kAccount
                                          ? Existing(state_.accounts())
                                          : Existing(state_.programs());
        return SetControls{tenant, level, target, RandomControls()};
      }
      case 10:
      case 11:
      case 12: {
        const auto [tenant, card] = Existing(state_.cards());
        return RecordSpend{tenant, CardId(card), random_.Uniform(100'000), AuthTime(),
                           random_.Chance(80)};
      }
      default: {
        const auto [tenant, card] = Existing(state_.cards());
        return ReleaseSpend{tenant, CardId(card), random_.Uniform(100'000), AuthTime(),
                            random_.Chance(50)};
      }
    }
  }

  AuthorizationContext Context() {
    AuthorizationContext context;
    context.timestamp_ns = now_ns_;
    context.amount_minor = random_.Uniform(200'000);
    context.currency_numeric = Currency();
    context.mcc = static_cast<uint16_t>(random_.Chance(50) ? 5411 : random_.Uniform(10'000));
    context.merchant_country_numeric = static_cast<uint16_t>(random_.Uniform(5) * 100 + 40);
    context.channel = static_cast<Channel>(random_.Between(1, 3));
    context.contactless = random_.Chance(30);
    context.counts_toward_velocity = random_.Chance(80);
    context.merchant_id = *MerchantId::FromString("M" + std::to_string(random_.Uniform(4)));
    return context;
  }

 private:
  // Ids from small ranges so that duplicates, cross-tenant references and
  // absent ids are all common; zero now and then.
  uint64_t Small(uint64_t max) { return random_.Chance(3) ? 0 : random_.Between(1, max); }
  TenantId Tenant() { return TenantId(random_.Chance(2) ? 9 : Small(3)); }
  // (tenant, id) of an existing record three times in four (sometimes with
  // another tenant, to probe isolation), else random ones.
  template <typename Record>
  std::pair<TenantId, uint64_t> Existing(std::span<const Record> records) {
    if (records.empty() || random_.Chance(25)) return {Tenant(), Small(12)};
    const Record& record = records[random_.Uniform(records.size())];
    return {random_.Chance(5) ? Tenant() : record.tenant_id, record.id.value()};
  }
  uint16_t Currency() {
    const uint64_t pick = random_.Uniform(10);
    return pick < 6 ? kUsd : pick < 9 ? kEur : 1;
  }
  uint64_t AuthTime() {
    // Usually now, sometimes earlier (a late advice or a reversal).
    if (random_.Chance(70)) return now_ns_;
    return now_ns_ - std::min(now_ns_, random_.Uniform(40 * kNanosPerDay));
  }

  RealtimeDecisionSettings Realtime() {
    RealtimeDecisionSettings settings;
    settings.required = random_.Chance(50);
    settings.deadline_ms = static_cast<uint16_t>(random_.Between(0, 2100));
    settings.stand_in_policy = static_cast<StandInPolicy>(random_.Between(0, 3));
    settings.stand_in_amount_max_minor = random_.Uniform(10'000);
    if (random_.Chance(80)) (void)settings.SetUrl("https://client.example/a");
    return settings;
  }

  HoldExpiryTable HoldExpiry() {
    HoldExpiryTable table;
    table.default_days = static_cast<uint16_t>(random_.Between(0, 40));
    const uint64_t rules = random_.Uniform(4);
    for (uint64_t i = 0; i < rules; ++i) {
      const uint16_t first = static_cast<uint16_t>(random_.Uniform(10'000));
      (void)table.AddRule(first, static_cast<uint16_t>(first + random_.Uniform(50)),
                          static_cast<uint16_t>(random_.Between(1, 60)));
    }
    return table;
  }

  Controls RandomControls() {
    Controls controls;
    if (random_.Chance(15)) return controls;  // Clears.
    const auto limit = [this]() {
      return random_.Chance(60) ? kNoAmountLimit : random_.Uniform(300'000);
    };
    controls.transaction_amount_max = limit();
    controls.daily_amount_max = limit();
    controls.weekly_amount_max = limit();
    controls.monthly_amount_max = limit();
    controls.lifetime_amount_max = limit();
    controls.channels_blocked = static_cast<uint8_t>(random_.Chance(70) ? 0 : random_.Uniform(17));
    if (random_.Chance(40)) {
      (void)controls.AddVelocityRule(static_cast<uint32_t>(random_.Between(1, 86400)),
                                     static_cast<uint32_t>(random_.Between(1, 17)));
    }
    if (random_.Chance(30)) (void)controls.DenyMcc(7995, 7995);
    if (random_.Chance(20)) (void)controls.AllowMcc(5000, 5999);
    if (random_.Chance(30)) {
      if (random_.Chance(50)) {
        (void)controls.AllowCountry(840);
      } else {
        (void)controls.DenyCountry(static_cast<uint16_t>(random_.Uniform(1001)));
      }
    }
    if (random_.Chance(20)) (void)controls.DenyMerchant(*MerchantId::FromString("M1"));
    return controls;
  }

  Command Card() {
    CreateCard command;
    command.tenant_id = Tenant();
    command.card_id = CardId(Small(12));
    command.user_id = UserId(Small(6));
    command.account_id = AccountId(Small(6));
    if (!state_.accounts().empty() && random_.Chance(70)) {
      // An existing account, and a user of its tenant when there is one.
      const Account& account = state_.accounts()[random_.Uniform(state_.accounts().size())];
      command.tenant_id = account.tenant_id;
      command.account_id = account.id;
      for (const User& user : state_.users()) {
        if (user.tenant_id == account.tenant_id && random_.Chance(50)) command.user_id = user.id;
      }
    }
    command.expiry_year =
        static_cast<uint16_t>(random_.Chance(90) ? 2030 : random_.Between(1990, 2210));
    command.expiry_month = static_cast<uint8_t>(random_.Between(0, 13));
    command.initial_status = random_.Chance(50)   ? CardStatus::kActive
                             : random_.Chance(90) ? CardStatus::kCreated
                                                  : static_cast<CardStatus>(random_.Between(0, 8));
    // PANs from a small pool so that re-issuing one happens.
    const TenantId pan_tenant = command.tenant_id.valid() ? command.tenant_id : TenantId(1);
    const CardId pan_card = command.card_id.valid() ? command.card_id : CardId(1);
    command.pan = *vault_.Protect(pan_tenant, pan_card, TestPan(random_.Uniform(60)));
    if (random_.Chance(3)) command.pan.last_four[0] = 'x';
    if (random_.Chance(2)) command.pan.encrypted.size = 7;
    return command;
  }

  base::Random random_;
  const PanVault& vault_;
  const IssuingState& state_;
  uint64_t now_ns_ = NsAt(2026, 1, 1);
};

// Lifetime spend per level as a model: sums, clamped at zero on release.
struct SpendModel {
  std::map<std::tuple<uint64_t, uint64_t>, uint64_t> card;     // (tenant, card)
  std::map<std::tuple<uint64_t, uint64_t>, uint64_t> account;  // (tenant, account)
  std::map<std::tuple<uint64_t, uint64_t>, uint64_t> program;  // (tenant, program)

  static void Add(uint64_t* total, uint64_t amount) { *total += amount; }
  static void Remove(uint64_t* total, uint64_t amount) {
    *total = *total >= amount ? *total - amount : 0;
  }
};

void CheckCounterOrder(const SpendCounters& counters) {
  ASSERT_LE(counters.day_amount_minor, counters.week_amount_minor);
  ASSERT_LE(counters.day_amount_minor, counters.month_amount_minor);
  ASSERT_LE(counters.week_amount_minor, counters.lifetime_amount_minor);
  ASSERT_LE(counters.month_amount_minor, counters.lifetime_amount_minor);
  ASSERT_LE(counters.velocity_count, kVelocityRingSize);
}

void RunSeed(uint64_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed) + " (TANGELO_PROPERTY_SEED=" + std::to_string(seed) +
               " replays it)");
  const PanVault vault(TestKey());
  IssuingState state(PropertyCapacity());
  Generator generator(seed, vault, state);
  SpendModel model;
  std::vector<std::pair<std::vector<uint8_t>, uint64_t>> journal;
  std::vector<uint8_t> snapshot_midway;
  std::map<CommandResult, int> results;

  for (int step = 0; step < kCommandsPerSeed; ++step) {
    generator.Tick();
    const Command generated = generator.Next();
    // Everything goes through the encoding, as the engine's journal does.
    base::Result<std::vector<uint8_t>> encoded = [&]() -> base::Result<std::vector<uint8_t>> {
      std::vector<uint8_t> bytes(kCommandSizeMax);
      base::Result<size_t> size = EncodeCommand(generated, bytes);
      if (!size.ok()) return size.status();
      bytes.resize(*size);
      return bytes;
    }();
    ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
    base::Result<Command> decoded = DecodeCommand(*encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    ASSERT_EQ(EncodeCommandToVector(*decoded), *encoded);

    const std::vector<uint8_t> before = state.Serialize();
    const CommandResult result = state.Apply(*decoded, generator.now_ns());
    ++results[result];
    ASSERT_NE(CommandResultName(result), "UNKNOWN");
    journal.emplace_back(*encoded, generator.now_ns());
    if (result != CommandResult::kOk && result != CommandResult::kSpendNotExact) {
      ASSERT_EQ(state.Serialize(), before) << CommandTypeName(TypeOf(*decoded)) << " -> "
                                           << CommandResultName(result) << " changed the state";
    }

    // The spend model.
    const auto update_model = [&](TenantId tenant, CardId card_id, uint64_t amount, bool add) {
      const Card* card = state.FindCard(tenant, card_id);
      ASSERT_NE(card, nullptr);
      const Account& account = state.AccountOf(*card);
      const Program& program = state.ProgramOf(*card);
      uint64_t* totals[] = {&model.card[{tenant.value(), card->id.value()}],
                            &model.account[{tenant.value(), account.id.value()}],
                            &model.program[{tenant.value(), program.id.value()}]};
      for (uint64_t* total : totals) {
        add ? SpendModel::Add(total, amount) : SpendModel::Remove(total, amount);
      }
      ASSERT_EQ(card->counters.lifetime_amount_minor, *totals[0]);
      ASSERT_EQ(account.counters.lifetime_amount_minor, *totals[1]);
      ASSERT_EQ(program.counters.lifetime_amount_minor, *totals[2]);
      CheckCounterOrder(card->counters);
      CheckCounterOrder(account.counters);
      CheckCounterOrder(program.counters);
    };
    if (result == CommandResult::kOk || result == CommandResult::kSpendNotExact) {
      if (const auto* spend = std::get_if<RecordSpend>(&*decoded)) {
        update_model(spend->tenant_id, spend->card_id, spend->amount_minor, true);
      } else if (const auto* release = std::get_if<ReleaseSpend>(&*decoded)) {
        update_model(release->tenant_id, release->card_id, release->amount_minor, false);
      }
    }
    if (step % 100 == 0) state.CheckInvariants();
    if (step == kCommandsPerSeed / 2) snapshot_midway = state.Serialize();

    // Authorization checks are pure: asking twice gives the same answer.
    if (!state.cards().empty()) {
      const AuthorizationContext context = generator.Context();
      const Card& card = state.cards()[static_cast<size_t>(step) % state.cards().size()];
      const DeclineReason reason = state.CheckAuthorization(card, context);
      ASSERT_EQ(state.CheckAuthorization(card, context), reason);
      ASSERT_TRUE(IsKnownDeclineReason(static_cast<uint16_t>(reason)));
    }
  }
  state.CheckInvariants();
  if (std::getenv("TANGELO_PROPERTY_VERBOSE") != nullptr) {
    for (const auto& [result, count] : results) {
      std::printf("seed %llu %-26s %d\n", static_cast<unsigned long long>(seed),
                  std::string(CommandResultName(result)).c_str(), count);
    }
  }
  // The stream must exercise both success and failure, or it proves little.
  ASSERT_GT(results[CommandResult::kOk], kCommandsPerSeed / 20);
  ASSERT_GT(state.cards().size(), 3u);

  const std::vector<uint8_t> final_bytes = state.Serialize();
  // Replay of the journal, with another hash seed.
  IssuingCapacity other = PropertyCapacity();
  other.hash_seed = seed * 7919 + 1;
  IssuingState replayed(other);
  for (const auto& [bytes, at] : journal) (void)replayed.Apply(*DecodeCommand(bytes), at);
  ASSERT_EQ(replayed.Serialize(), final_bytes);
  // Snapshot round trip.
  base::Result<std::unique_ptr<IssuingState>> restored =
      IssuingState::Deserialize(final_bytes, PropertyCapacity());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  ASSERT_EQ((*restored)->Serialize(), final_bytes);
  (*restored)->CheckInvariants();
  // Midway snapshot plus the rest of the journal.
  base::Result<std::unique_ptr<IssuingState>> midway =
      IssuingState::Deserialize(snapshot_midway, other);
  ASSERT_TRUE(midway.ok()) << midway.status().ToString();
  for (size_t i = kCommandsPerSeed / 2 + 1; i < journal.size(); ++i) {
    (void)(*midway)->Apply(*DecodeCommand(journal[i].first), journal[i].second);
  }
  ASSERT_EQ((*midway)->Serialize(), final_bytes);
}

TEST(IssuingPropertyTest, RandomCommandStreamsKeepEveryInvariant) {
  if (const char* seed = std::getenv("TANGELO_PROPERTY_SEED")) {
    RunSeed(std::strtoull(seed, nullptr, 10));
    return;
  }
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    RunSeed(seed);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace tangelo::issuing
