#include "issuing/commands.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "issuing/test_fixture.h"

namespace tangelo::issuing {
namespace {

using testing::TestKey;
using testing::TestName;
using testing::TestPan;

Controls FullControls() {
  Controls controls;
  controls.transaction_amount_max = 1;
  controls.daily_amount_max = 2;
  controls.weekly_amount_max = 3;
  controls.monthly_amount_max = 4;
  controls.lifetime_amount_max = 5;
  controls.channels_blocked = kChannelBitsAll;
  for (uint32_t i = 0; i < kVelocityRulesMax; ++i) {
    EXPECT_TRUE(controls.AddVelocityRule(60 * (i + 1), i + 1));
  }
  for (uint16_t i = 0; i < kMccRangesMax; ++i) {
    EXPECT_TRUE(
        controls.AllowMcc(static_cast<uint16_t>(i * 100), static_cast<uint16_t>(i * 100 + 9)));
    EXPECT_TRUE(
        controls.DenyMcc(static_cast<uint16_t>(i * 100 + 5), static_cast<uint16_t>(i * 100 + 5)));
  }
  for (uint16_t i = 0; i < kCountriesMax; ++i) {
    EXPECT_TRUE(controls.DenyCountry(static_cast<uint16_t>(i + 1)));
  }
  for (uint32_t i = 0; i < kMerchantIdsMax; ++i) {
    EXPECT_TRUE(
        controls.AllowMerchant(*MerchantId::FromString("MERCHANT-0000" + std::to_string(i) + "X")));
  }
  return controls;
}

// One command of every type, with every field set to a non-default value.
std::vector<Command> EveryCommand() {
  const PanVault vault(TestKey());
  RealtimeDecisionSettings realtime;
  realtime.required = true;
  realtime.deadline_ms = 1800;
  realtime.stand_in_policy = StandInPolicy::kApproveUpToLimit;
  realtime.stand_in_amount_max_minor = 25'00;
  EXPECT_TRUE(realtime.SetUrl("https://client.example/authorizations"));
  HoldExpiryTable table = StandardHoldExpiryTable();
  EXPECT_TRUE(table.AddRule(4411, 4411, 45));
  CreateCard card;
  card.tenant_id = TenantId(1);
  card.card_id = CardId(7);
  card.user_id = UserId(100);
  card.account_id = AccountId(1000);
  card.expiry_year = 2031;
  card.expiry_month = 4;
  card.initial_status = CardStatus::kActive;
  card.pan = *vault.Protect(TenantId(1), CardId(7), TestPan(7));
  return {
      CreateTenant{TenantId(1), TestName("Acme Fintech")},
      CreateProgram{TenantId(1), ProgramId(10), TestName("Acme Debit"), 840},
      SetRealtimeDecision{TenantId(1), ProgramId(10), realtime},
      SetHoldExpiry{TenantId(1), ProgramId(10), table},
      CreateUser{TenantId(1), UserId(100)},
      SetUserStatus{TenantId(1), UserId(100), UserStatus::kBlocked},
      CreateAccount{TenantId(1), AccountId(1000), ProgramId(10), UserId(100), LedgerAccountId(5000),
                    840},
      card,
      ChangeCardStatus{TenantId(1), CardId(7), CardStatus::kLost},
      SetControls{TenantId(1), ControlLevel::kProgramCardDefault, 10, FullControls()},
      RecordSpend{TenantId(1), CardId(7), 12'34, 1'700'000'000'000'000'000ULL, false},
      ReleaseSpend{TenantId(1), CardId(7), 5'00, 1'700'000'000'000'000'000ULL, true},
  };
}

TEST(CommandsTest, EveryTypeRoundTripsByteForByte) {
  const std::vector<Command> commands = EveryCommand();
  ASSERT_EQ(commands.size(), std::variant_size_v<Command>);
  for (size_t i = 0; i < commands.size(); ++i) {
    SCOPED_TRACE(CommandTypeName(TypeOf(commands[i])));
    EXPECT_EQ(static_cast<size_t>(TypeOf(commands[i])), i + 1);
    const std::vector<uint8_t> bytes = EncodeCommandToVector(commands[i]);
    EXPECT_LE(bytes.size(), kCommandSizeMax);
    base::Result<Command> decoded = DecodeCommand(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->index(), commands[i].index());
    EXPECT_EQ(EncodeCommandToVector(*decoded), bytes);
  }
}

TEST(CommandsTest, TheLargestCommandFitsAJournalEntry) {
  const std::vector<uint8_t> bytes =
      EncodeCommandToVector(SetControls{TenantId(1), ControlLevel::kCard, 7, FullControls()});
  EXPECT_EQ(bytes.size(), 409u);  // docs/issuing/commands.md states this size.
  EXPECT_LE(bytes.size() + 64, base::kJournalEntrySizeMax);
  base::Result<Command> decoded = DecodeCommand(bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(std::get<SetControls>(*decoded).controls == FullControls());

  RealtimeDecisionSettings longest;
  ASSERT_TRUE(longest.SetUrl("https://" + std::string(kClientUrlLengthMax - 8, 'u')));
  EXPECT_LE(EncodeCommandToVector(SetRealtimeDecision{TenantId(1), ProgramId(1), longest}).size(),
            kCommandSizeMax);
}

// Pins format version 1: this exact byte string is a ChangeCardStatus, and
// a change here is a format change (new version, docs/issuing/commands.md).
TEST(CommandsTest, GoldenChangeCardStatus) {
  // clang-format off
  const std::vector<uint8_t> expected = {
      0x09, 0x00,              // type 9
      0x01, 0x00,              // version 1
      0x11, 0x00, 0x00, 0x00,  // body_size 17
      0x01, 0, 0, 0, 0, 0, 0, 0,     // tenant 1
      0x2a, 0, 0, 0, 0, 0, 0, 0,     // card 42
      0x03,                          // BLOCKED
  };
  // clang-format on
  EXPECT_EQ(EncodeCommandToVector(ChangeCardStatus{TenantId(1), CardId(42), CardStatus::kBlocked}),
            expected);
  base::Result<Command> decoded = DecodeCommand(expected);
  ASSERT_TRUE(decoded.ok());
  const ChangeCardStatus& command = std::get<ChangeCardStatus>(*decoded);
  EXPECT_EQ(command.card_id, CardId(42));
  EXPECT_EQ(command.status, CardStatus::kBlocked);
}

TEST(CommandsTest, GoldenCreateTenant) {
  // clang-format off
  const std::vector<uint8_t> expected = {
      0x01, 0x00, 0x01, 0x00, 0x0c, 0x00, 0x00, 0x00,  // CreateTenant, v1, body 12
      0x05, 0, 0, 0, 0, 0, 0, 0,                       // tenant 5
      0x03, 'A', 'c', 'm',                             // name "Acm"
  };
  // clang-format on
  EXPECT_EQ(EncodeCommandToVector(CreateTenant{TenantId(5), TestName("Acm")}), expected);
}

TEST(CommandsTest, EveryTruncationIsRejected) {
  for (const Command& command : EveryCommand()) {
    const std::vector<uint8_t> bytes = EncodeCommandToVector(command);
    for (size_t length = 0; length < bytes.size(); ++length) {
      std::vector<uint8_t> truncated(bytes.begin(), bytes.begin() + static_cast<long>(length));
      EXPECT_FALSE(DecodeCommand(truncated).ok()) << length;
      // Even with a body size that agrees with the shorter length.
      if (length >= kCommandHeaderSize) {
        const uint32_t body_size = static_cast<uint32_t>(length - kCommandHeaderSize);
        std::memcpy(truncated.data() + 4, &body_size, 4);
        EXPECT_FALSE(DecodeCommand(truncated).ok()) << length;
      }
    }
  }
}

TEST(CommandsTest, MalformedHeadersAndBodies) {
  const std::vector<uint8_t> good =
      EncodeCommandToVector(ChangeCardStatus{TenantId(1), CardId(42), CardStatus::kBlocked});
  const auto decode_with = [&good](auto mutate) {
    std::vector<uint8_t> bytes = good;
    mutate(bytes);
    return DecodeCommand(bytes);
  };
  EXPECT_EQ(decode_with([](auto& b) { b[0] = 0; }).status().code(),
            base::StatusCode::kInvalidArgument);               // Type 0.
  EXPECT_FALSE(decode_with([](auto& b) { b[0] = 13; }).ok());  // Unknown type.
  EXPECT_FALSE(decode_with([](auto& b) { b[1] = 1; }).ok());   // Type 265.
  EXPECT_FALSE(decode_with([](auto& b) { b[2] = 2; }).ok());   // Version 2.
  EXPECT_FALSE(decode_with([](auto& b) { b[2] = 0; }).ok());   // Version 0.
  EXPECT_FALSE(decode_with([](auto& b) { b[4] = 18; }).ok());  // Body size too large.
  EXPECT_FALSE(decode_with([](auto& b) { b[7] = 1; }).ok());
  EXPECT_FALSE(decode_with([](auto& b) {  // A trailing byte, with a matching body size.
                 b.push_back(0);
                 b[4] = 18;
               })
                   .ok());
  std::vector<uint8_t> huge(kCommandSizeMax + 1, 0);
  EXPECT_FALSE(DecodeCommand(huge).ok());
  EXPECT_FALSE(DecodeCommand({}).ok());

  // A bool that is neither 0 nor 1.
  std::vector<uint8_t> spend = EncodeCommandToVector(
      RecordSpend{TenantId(1), CardId(7), 100, 1'700'000'000'000'000'000ULL, true});
  spend.back() = 2;
  EXPECT_FALSE(DecodeCommand(spend).ok());

  // A name longer than kNameLengthMax.
  std::vector<uint8_t> tenant = EncodeCommandToVector(CreateTenant{TenantId(1), TestName("A")});
  tenant[16] = kNameLengthMax + 1;
  tenant.resize(17 + kNameLengthMax + 1, 'x');
  const uint32_t body_size = static_cast<uint32_t>(tenant.size() - kCommandHeaderSize);
  std::memcpy(tenant.data() + 4, &body_size, 4);
  EXPECT_FALSE(DecodeCommand(tenant).ok());
}

TEST(CommandsTest, CountsOverTheirArraysAreRejectedBothWays) {
  Controls controls;
  controls.mcc_deny_count = kMccRangesMax + 1;  // Cannot be encoded.
  std::vector<uint8_t> out(kCommandSizeMax);
  EXPECT_EQ(EncodeCommand(SetControls{TenantId(1), ControlLevel::kCard, 7, controls}, out)
                .status()
                .code(),
            base::StatusCode::kInvalidArgument);

  // Decoding a count over its maximum: patch the velocity count of an
  // encoded SetControls (header 8, tenant 8, level 1, target 8, amounts 40,
  // channels 1: the count is at offset 66).
  std::vector<uint8_t> bytes =
      EncodeCommandToVector(SetControls{TenantId(1), ControlLevel::kCard, 7, Controls{}});
  ASSERT_EQ(bytes[66], 0);
  bytes[66] = kVelocityRulesMax + 1;
  EXPECT_FALSE(DecodeCommand(bytes).ok());

  std::vector<uint8_t> small(8);
  EXPECT_FALSE(EncodeCommand(CreateUser{TenantId(1), UserId(2)}, small).ok());
}

TEST(CommandsTest, NamesOfTypesAndResults) {
  EXPECT_EQ(CommandTypeName(CommandType::kCreateCard), "CREATE_CARD");
  EXPECT_EQ(CommandTypeName(CommandType::kReleaseSpend), "RELEASE_SPEND");
  EXPECT_EQ(CommandTypeName(static_cast<CommandType>(0)), "UNKNOWN");
  EXPECT_EQ(CommandTypeName(static_cast<CommandType>(13)), "UNKNOWN");
  EXPECT_EQ(CommandResultName(CommandResult::kOk), "OK");
  EXPECT_EQ(CommandResultName(CommandResult::kPanAlreadyIssued), "PAN_ALREADY_ISSUED");
  EXPECT_EQ(CommandResultName(CommandResult::kSpendNotExact), "SPEND_NOT_EXACT");
  EXPECT_EQ(CommandResultName(static_cast<CommandResult>(33)), "UNKNOWN");
}

}  // namespace
}  // namespace tangelo::issuing
