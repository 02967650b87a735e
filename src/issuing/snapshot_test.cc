// Snapshot round trips, replay determinism, rejection of malformed bytes,
// and the proof that no clear PAN reaches any serialized form.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/checksum.h"
#include "issuing/state.h"
#include "issuing/test_fixture.h"

namespace tangelo::issuing {
namespace {

using testing::IssuingFixture;
using testing::kEur;
using testing::kUsd;
using testing::NsAt;
using testing::SmallCapacity;
using testing::TestKey;
using testing::TestName;
using testing::TestPan;

// Rewrites the trailing checksum so a test reaches the record checks.
void Reseal(std::vector<uint8_t>* bytes) {
  const size_t body = bytes->size() - 8;
  const uint64_t checksum = base::Checksum(bytes->data(), body);
  std::memcpy(bytes->data() + body, &checksum, 8);
}

size_t Find(const std::vector<uint8_t>& haystack, const std::vector<uint8_t>& needle) {
  const auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end());
  return it == haystack.end() ? std::string::npos : static_cast<size_t>(it - haystack.begin());
}

std::vector<uint8_t> Le64(std::initializer_list<uint64_t> values) {
  std::vector<uint8_t> bytes;
  for (uint64_t value : values) {
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(value >> (8 * i)));
  }
  return bytes;
}

// A command log touching every command type, with controls at every
// level, spend, reversals and status changes.
std::vector<std::pair<Command, uint64_t>> RichLog() {
  const PanVault vault(TestKey());
  const uint64_t t0 = NsAt(2026, 3, 11, 12);
  std::vector<std::pair<Command, uint64_t>> log;
  const auto add = [&log](Command command, uint64_t at) {
    log.emplace_back(std::move(command), at);
  };
  add(CreateTenant{TenantId(1), TestName("Acme")}, t0);
  add(CreateTenant{TenantId(2), TestName("Globex")}, t0);
  add(CreateProgram{TenantId(1), ProgramId(10), TestName("Debit"), kUsd}, t0);
  add(CreateProgram{TenantId(2), ProgramId(10), TestName("Euro"), kEur}, t0);
  RealtimeDecisionSettings realtime;
  realtime.required = true;
  realtime.stand_in_policy = StandInPolicy::kApproveUpToLimit;
  realtime.stand_in_amount_max_minor = 20'00;
  EXPECT_TRUE(realtime.SetUrl("https://acme.example/authorize"));
  add(SetRealtimeDecision{TenantId(1), ProgramId(10), realtime}, t0);
  HoldExpiryTable table = StandardHoldExpiryTable();
  EXPECT_TRUE(table.AddRule(4411, 4411, 31));
  add(SetHoldExpiry{TenantId(2), ProgramId(10), table}, t0);
  for (uint64_t tenant = 1; tenant <= 2; ++tenant) {
    const uint16_t currency = tenant == 1 ? kUsd : kEur;
    for (uint64_t user = 1; user <= 3; ++user) add(CreateUser{TenantId(tenant), UserId(user)}, t0);
    for (uint64_t account = 1; account <= 2; ++account) {
      add(CreateAccount{TenantId(tenant), AccountId(account), ProgramId(10), UserId(account),
                        LedgerAccountId(tenant * 100 + account), currency},
          t0);
    }
    for (uint64_t card = 1; card <= 4; ++card) {
      CreateCard command;
      command.tenant_id = TenantId(tenant);
      command.card_id = CardId(card);
      command.user_id = UserId(1 + card % 3);
      command.account_id = AccountId(1 + card % 2);
      command.expiry_year = static_cast<uint16_t>(2027 + card);
      command.expiry_month = static_cast<uint8_t>(card * 3);
      command.initial_status = card == 4 ? CardStatus::kCreated : CardStatus::kActive;
      command.pan = *vault.Protect(TenantId(tenant), CardId(card), TestPan(tenant * 1000 + card));
      add(command, t0);
    }
  }
  Controls controls;
  controls.daily_amount_max = 500'00;
  EXPECT_TRUE(controls.AddVelocityRule(900, 3));
  EXPECT_TRUE(controls.DenyMcc(7995, 7995));
  add(SetControls{TenantId(1), ControlLevel::kProgram, 10, controls}, t0);
  controls.channels_blocked = kChannelBitAtm;
  add(SetControls{TenantId(1), ControlLevel::kProgramCardDefault, 10, controls}, t0);
  EXPECT_TRUE(controls.AllowCountry(840));
  add(SetControls{TenantId(1), ControlLevel::kAccount, 1, controls}, t0);
  EXPECT_TRUE(controls.DenyMerchant(*MerchantId::FromString("CASINO")));
  add(SetControls{TenantId(2), ControlLevel::kCard, 2, controls}, t0);
  add(SetControls{TenantId(2), ControlLevel::kCard, 3, controls}, t0);
  add(SetControls{TenantId(2), ControlLevel::kCard, 3, Controls{}}, t0);  // Cleared again.
  for (uint64_t i = 0; i < 40; ++i) {
    add(RecordSpend{TenantId(1 + i % 2), CardId(1 + i % 3), 10'00 + i, t0 + i * 3'600'000'000'000,
                    i % 5 != 0},
        t0 + i * 3'600'000'000'000);
  }
  add(ReleaseSpend{TenantId(1), CardId(1), 10'00, t0, true}, t0 + 41 * 3'600'000'000'000);
  add(ChangeCardStatus{TenantId(1), CardId(2), CardStatus::kBlocked}, t0);
  add(ChangeCardStatus{TenantId(2), CardId(1), CardStatus::kStolen}, t0);
  add(SetUserStatus{TenantId(2), UserId(3), UserStatus::kDisabled}, t0);
  return log;
}

void ApplyAll(IssuingState* state, const std::vector<std::pair<Command, uint64_t>>& log,
              size_t begin = 0, size_t end = SIZE_MAX) {
  for (size_t i = begin; i < std::min(end, log.size()); ++i) {
    const CommandResult result = state->Apply(log[i].first, log[i].second);
    ASSERT_EQ(result, CommandResult::kOk) << i << ": " << CommandResultName(result);
  }
}

TEST(SnapshotTest, EmptyStateRoundTrips) {
  const IssuingState empty(SmallCapacity());
  const std::vector<uint8_t> bytes = empty.Serialize();
  EXPECT_EQ(bytes.size(), 28u + 8u);
  base::Result<std::unique_ptr<IssuingState>> restored =
      IssuingState::Deserialize(bytes, SmallCapacity());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ((*restored)->Serialize(), bytes);
}

TEST(SnapshotTest, RoundTripIsByteIdenticalAndBehavesTheSame) {
  IssuingState state(SmallCapacity());
  ApplyAll(&state, RichLog());
  state.CheckInvariants();
  const std::vector<uint8_t> bytes = state.Serialize();
  base::Result<std::unique_ptr<IssuingState>> restored =
      IssuingState::Deserialize(bytes, SmallCapacity());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  const IssuingState& copy = **restored;
  copy.CheckInvariants();
  EXPECT_EQ(copy.Serialize(), bytes);
  EXPECT_EQ(copy.controls_in_use(), state.controls_in_use());

  const PanVault vault(TestKey());
  for (const Card& original : state.cards()) {
    const Card* card = copy.FindCardByPanToken(original.pan_token);
    ASSERT_NE(card, nullptr);
    EXPECT_EQ(card->id, original.id);
    EXPECT_EQ(card->tenant_id, original.tenant_id);
    EXPECT_EQ(card->status, original.status);
    EXPECT_EQ(vault.Reveal(card->tenant_id, card->id, copy.EncryptedPanOf(*card))->digits(),
              TestPan(card->tenant_id.value() * 1000 + card->id.value()));
    for (uint64_t amount : {1ULL, 100'00ULL, 450'00ULL, 600'00ULL}) {
      for (uint16_t mcc : {uint16_t{5411}, uint16_t{7995}}) {
        AuthorizationContext context;
        context.timestamp_ns = NsAt(2026, 3, 12, 18);
        context.amount_minor = amount;
        context.currency_numeric = copy.AccountOf(*card).currency_numeric;
        context.mcc = mcc;
        context.merchant_country_numeric = 840;
        context.merchant_id = *MerchantId::FromString("CASINO");
        EXPECT_EQ(copy.CheckAuthorization(*card, context),
                  state.CheckAuthorization(original, context));
      }
    }
  }
}

TEST(SnapshotTest, ReplayIsDeterministicWhateverTheHashSeed) {
  const auto log = RichLog();
  IssuingState first(SmallCapacity());
  IssuingCapacity other_seed = SmallCapacity();
  other_seed.hash_seed = 12345;
  IssuingState second(other_seed);
  ApplyAll(&first, log);
  ApplyAll(&second, log);
  EXPECT_EQ(first.Serialize(), second.Serialize());

  // Snapshot in the middle, restore, replay the rest: the same state.
  IssuingState prefix(SmallCapacity());
  ApplyAll(&prefix, log, 0, log.size() / 2);
  base::Result<std::unique_ptr<IssuingState>> restored =
      IssuingState::Deserialize(prefix.Serialize(), other_seed);
  ASSERT_TRUE(restored.ok());
  ApplyAll(restored->get(), log, log.size() / 2);
  EXPECT_EQ((*restored)->Serialize(), first.Serialize());
}

TEST(SnapshotTest, RejectsTruncationBitFlipsAndTrailingBytes) {
  IssuingState state(SmallCapacity());
  ApplyAll(&state, RichLog());
  const std::vector<uint8_t> bytes = state.Serialize();
  for (size_t length = 0; length < bytes.size(); length += 7) {
    const std::vector<uint8_t> truncated(bytes.begin(), bytes.begin() + static_cast<long>(length));
    EXPECT_EQ(IssuingState::Deserialize(truncated, SmallCapacity()).status().code(),
              base::StatusCode::kDataLoss)
        << length;
  }
  for (size_t offset = 0; offset < bytes.size(); offset += 3) {
    std::vector<uint8_t> flipped = bytes;
    flipped[offset] ^= static_cast<uint8_t>(1u << (offset % 8));
    EXPECT_EQ(IssuingState::Deserialize(flipped, SmallCapacity()).status().code(),
              base::StatusCode::kDataLoss)
        << offset;
  }
  std::vector<uint8_t> longer = bytes;
  longer.insert(longer.end() - 8, 0);
  Reseal(&longer);
  EXPECT_EQ(IssuingState::Deserialize(longer, SmallCapacity()).status().code(),
            base::StatusCode::kDataLoss);
}

TEST(SnapshotTest, RejectsHeadersItDoesNotKnow) {
  const IssuingState empty(SmallCapacity());
  const std::vector<uint8_t> good = empty.Serialize();
  const auto status_after = [&good](size_t offset, uint8_t value) {
    std::vector<uint8_t> bytes = good;
    bytes[offset] = value;
    Reseal(&bytes);
    return IssuingState::Deserialize(bytes, SmallCapacity()).status();
  };
  EXPECT_EQ(status_after(0, 'X').code(), base::StatusCode::kDataLoss);  // Magic.
  const base::Status version = status_after(4, 2);
  EXPECT_EQ(version.code(), base::StatusCode::kDataLoss);
  EXPECT_NE(version.message().find("version 2"), std::string::npos);
  EXPECT_EQ(status_after(6, 1).code(), base::StatusCode::kDataLoss);  // Reserved.
  // 17 tenants for a capacity of 16.
  EXPECT_EQ(status_after(8, 17).code(), base::StatusCode::kResourceExhausted);
  // One tenant announced, none present.
  EXPECT_EQ(status_after(8, 1).code(), base::StatusCode::kDataLoss);
  IssuingCapacity invalid = SmallCapacity();
  invalid.cards_max = 0;
  EXPECT_EQ(IssuingState::Deserialize(good, invalid).status().code(),
            base::StatusCode::kInvalidArgument);
}

class SnapshotRecordTest : public IssuingFixture {
 protected:
  // The fixture's state serialized, with one change at the first occurrence
  // of `pattern` + `offset`, resealed and deserialized.
  base::Status Corrupt(const std::vector<uint8_t>& pattern, size_t offset, uint8_t value) {
    std::vector<uint8_t> bytes = state_.Serialize();
    const size_t at = Find(bytes, pattern);
    EXPECT_NE(at, std::string::npos);
    if (at == std::string::npos) return base::Status();
    bytes[at + offset] = value;
    Reseal(&bytes);
    return IssuingState::Deserialize(bytes, SmallCapacity()).status();
  }
};

TEST_F(SnapshotRecordTest, RejectsRecordsThatBreakTheStateRules) {
  Controls controls;
  controls.transaction_amount_max = 77;
  MustRun(SetControls{kTenant, ControlLevel::kCard, kCard.value(), controls});
  // The card record starts with its id, tenant, user and account.
  const std::vector<uint8_t> card = Le64({7, 1, 100, 1000});
  ASSERT_TRUE(IssuingState::Deserialize(state_.Serialize(), SmallCapacity()).ok());

  base::Status status = Corrupt(card, 32, 0);  // Status 0.
  EXPECT_EQ(status.code(), base::StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("card record 0"), std::string::npos) << status.ToString();
  EXPECT_NE(status.message().find("INVALID_STATUS"), std::string::npos);
  EXPECT_NE(Corrupt(card, 24, 0xe9).message().find("ACCOUNT_NOT_FOUND"), std::string::npos);
  EXPECT_NE(Corrupt(card, 16, 0x65).message().find("USER_NOT_FOUND"), std::string::npos);
  EXPECT_NE(Corrupt(card, 8, 2).message().find("TENANT_NOT_FOUND"), std::string::npos);
  EXPECT_NE(Corrupt(card, 33, 13).message().find("INVALID_EXPIRY_DATE"), std::string::npos);
  // Card layout: 32 ids, status, month, year(2), created(8), changed(8),
  // token(16), last four(4), encrypted size(1) + bytes, controls flag...
  EXPECT_NE(Corrupt(card, 52 + 16, 'x').message().find("INVALID_PAN"), std::string::npos);
  EXPECT_NE(Corrupt(card, 52 + 20 + 1, 9).message().find("INVALID_PAN"), std::string::npos);

  // The controls of the card: transaction max 77 is the first controls field.
  const std::vector<uint8_t> limit = Le64({77});
  // Channel bits are the byte after the five amounts.
  EXPECT_NE(Corrupt(limit, 40, 0x80).message().find("INVALID_CONTROLS"), std::string::npos);
  // Make the present controls unrestricted: present but empty is not canonical.
  std::vector<uint8_t> bytes = state_.Serialize();
  const size_t at = Find(bytes, limit);
  ASSERT_NE(at, std::string::npos);
  std::memset(bytes.data() + at, 0xff, 8);
  Reseal(&bytes);
  EXPECT_NE(
      IssuingState::Deserialize(bytes, SmallCapacity()).status().message().find("INVALID_CONTROLS"),
      std::string::npos);

  // A user with status 4, a tenant with id 0.
  EXPECT_NE(Corrupt(Le64({100, 1}), 16, 4).message().find("INVALID_STATUS"), std::string::npos);
  EXPECT_NE(Corrupt(Le64({1, start_ns_}), 0, 0).message().find("INVALID_ID"), std::string::npos);
}

TEST_F(SnapshotRecordTest, RejectsDuplicates) {
  // Two accounts on one ledger account cannot be built by commands; build
  // the bytes by hand from a state with two accounts.
  AddAccount(kTenant, AccountId(1001), kProgram, kUser, LedgerAccountId(5001), kUsd);
  std::vector<uint8_t> bytes = state_.Serialize();
  const size_t at = Find(bytes, Le64({1001, 1, 10, 100, 5001}));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 32] = 0x88;  // Ledger 5001 -> 5000 (0x1388).
  Reseal(&bytes);
  EXPECT_NE(IssuingState::Deserialize(bytes, SmallCapacity())
                .status()
                .message()
                .find("LEDGER_ACCOUNT_IN_USE"),
            std::string::npos);
  bytes = state_.Serialize();
  bytes[at] = 0xe8;  // Account 1001 -> 1000.
  Reseal(&bytes);
  EXPECT_NE(
      IssuingState::Deserialize(bytes, SmallCapacity()).status().message().find("ACCOUNT_EXISTS"),
      std::string::npos);
}

TEST_F(SnapshotRecordTest, CountersOverTheRingAreRejected) {
  ASSERT_EQ(state_.AddCardSpend(TheCard(), 123'456'789, start_ns_, true), CommandResult::kOk);
  std::vector<uint8_t> bytes = state_.Serialize();
  // The card's counters: four amounts (all equal here), three indices, then
  // the velocity count at byte 44. Cards come last, so the last occurrence
  // of the four amounts is the card's.
  const std::vector<uint8_t> amounts = Le64({123'456'789, 123'456'789, 123'456'789, 123'456'789});
  const auto it = std::find_end(bytes.begin(), bytes.end(), amounts.begin(), amounts.end());
  ASSERT_NE(it, bytes.end());
  const size_t at = static_cast<size_t>(it - bytes.begin());
  ASSERT_EQ(bytes[at + 44], 1);
  bytes[at + 44] = kVelocityRingSize + 1;
  Reseal(&bytes);
  EXPECT_EQ(IssuingState::Deserialize(bytes, SmallCapacity()).status().code(),
            base::StatusCode::kDataLoss);
}

TEST_F(SnapshotRecordTest, AWrappedVelocityRingRestoresInOrder) {
  // More approvals than the ring holds, and one forgotten in the middle, so
  // the ring's start is not at position 0 when it is written.
  for (uint64_t i = 0; i < kVelocityRingSize + 5; ++i) {
    ASSERT_EQ(state_.AddCardSpend(TheCard(), 1, start_ns_ + i * kNanosPerSecond, true),
              CommandResult::kOk);
  }
  ASSERT_EQ(state_.RemoveCardSpend(TheCard(), 1, start_ns_ + 9 * kNanosPerSecond, true),
            CommandResult::kOk);
  ASSERT_NE(TheCard().counters.velocity_start, 0);
  const std::vector<uint8_t> bytes = state_.Serialize();
  base::Result<std::unique_ptr<IssuingState>> restored =
      IssuingState::Deserialize(bytes, SmallCapacity());
  ASSERT_TRUE(restored.ok());
  const SpendCounters& original = TheCard().counters;
  const SpendCounters& copy = (*restored)->FindCard(kTenant, kCard)->counters;
  ASSERT_EQ(copy.velocity_count, original.velocity_count);
  for (uint32_t i = 0; i < original.velocity_count; ++i) {
    EXPECT_EQ(copy.VelocityEntry(i), original.VelocityEntry(i)) << i;
  }
  EXPECT_EQ((*restored)->Serialize(), bytes);
}

TEST_F(SnapshotRecordTest, ACardExpiredSinceItsCreationStillRestores) {
  CreateCard command = MakeCard(kTenant, CardId(8), kUser, kAccount, TestPan(8));
  command.expiry_year = 2026;
  command.expiry_month = 3;
  MustRun(command);
  base::Result<std::unique_ptr<IssuingState>> restored =
      IssuingState::Deserialize(state_.Serialize(), SmallCapacity());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  const Card& card = *(*restored)->FindCard(kTenant, CardId(8));
  EXPECT_EQ((*restored)->CheckCard(card, Purchase(1, NsAt(2026, 4, 1))),
            DeclineReason::kCardExpired);
}

// PCI DSS: the PAN must be unreadable wherever it is stored. Neither the
// snapshot nor any command carries it in clear, as text or packed BCD, in
// full or without its last four digits.
TEST(PanExposureTest, NoClearPanInAnySerializedForm) {
  const auto log = RichLog();
  IssuingState state(SmallCapacity());
  ApplyAll(&state, log);
  std::vector<std::vector<uint8_t>> blobs = {state.Serialize()};
  for (const auto& [command, at] : log) blobs.push_back(EncodeCommandToVector(command));

  int cards_checked = 0;
  for (uint64_t tenant = 1; tenant <= 2; ++tenant) {
    for (uint64_t card = 1; card <= 4; ++card) {
      const std::string pan = TestPan(tenant * 1000 + card);
      const std::string without_last_four = pan.substr(0, pan.size() - 4);
      std::vector<uint8_t> bcd;
      for (size_t i = 0; i + 1 < pan.size(); i += 2) {
        bcd.push_back(static_cast<uint8_t>((pan[i] - '0') << 4 | (pan[i + 1] - '0')));
      }
      const std::vector<uint8_t> bcd_prefix(bcd.begin(), bcd.begin() + 6);
      for (const std::vector<uint8_t>& blob : blobs) {
        EXPECT_EQ(Find(blob, std::vector<uint8_t>(pan.begin(), pan.end())), std::string::npos);
        EXPECT_EQ(
            Find(blob, std::vector<uint8_t>(without_last_four.begin(), without_last_four.end())),
            std::string::npos);
        EXPECT_EQ(Find(blob, bcd), std::string::npos);
        EXPECT_EQ(Find(blob, bcd_prefix), std::string::npos);
      }
      ++cards_checked;
    }
  }
  EXPECT_EQ(cards_checked, 8);
  // The check itself can fail: a clear PAN planted in a blob is found.
  std::vector<uint8_t> planted = blobs[0];
  const std::string pan = TestPan(1001);
  planted.insert(planted.begin() + 40, pan.begin(), pan.end());
  EXPECT_NE(Find(planted, std::vector<uint8_t>(pan.begin(), pan.end())), std::string::npos);
}

}  // namespace
}  // namespace tangelo::issuing
