#include "issuing/card_status.h"

#include <gtest/gtest.h>

#include "issuing/test_fixture.h"

namespace tangelo::issuing {
namespace {

using testing::IssuingFixture;
using testing::TestPan;

constexpr CardStatus kAllCardStatuses[] = {
    CardStatus::kCreated, CardStatus::kActive,  CardStatus::kBlocked, CardStatus::kLost,
    CardStatus::kStolen,  CardStatus::kExpired, CardStatus::kClosed,
};

// The documented table (docs/issuing/card-states.md), written out pair by
// pair rather than derived from the code under test.
bool Allowed(CardStatus from, CardStatus to) {
  using S = CardStatus;
  switch (from) {
    case S::kCreated:
      return to == S::kActive || to == S::kLost || to == S::kStolen || to == S::kExpired ||
             to == S::kClosed;
    case S::kActive:
      return to == S::kBlocked || to == S::kLost || to == S::kStolen || to == S::kExpired ||
             to == S::kClosed;
    case S::kBlocked:
      return to == S::kActive || to == S::kLost || to == S::kStolen || to == S::kExpired ||
             to == S::kClosed;
    case S::kLost:
    case S::kStolen:
    case S::kExpired:
      return to == S::kClosed;
    case S::kClosed:
      return false;
  }
  return false;
}

TransitionResult ExpectedCardResult(CardStatus from, CardStatus to) {
  if (from == to) return TransitionResult::kUnchanged;
  if (from == CardStatus::kClosed) return TransitionResult::kFromTerminal;
  return Allowed(from, to) ? TransitionResult::kAllowed : TransitionResult::kNotAllowed;
}

TEST(CardStatusTest, EveryPairFollowsTheTable) {
  int allowed = 0;
  for (CardStatus from : kAllCardStatuses) {
    for (CardStatus to : kAllCardStatuses) {
      SCOPED_TRACE(std::string(CardStatusName(from)) + " -> " + std::string(CardStatusName(to)));
      const TransitionResult result = CheckCardTransition(from, to);
      EXPECT_EQ(result, ExpectedCardResult(from, to));
      allowed += result == TransitionResult::kAllowed ? 1 : 0;
    }
  }
  EXPECT_EQ(allowed, 18);  // 5 + 5 + 5 + 1 + 1 + 1 + 0.
}

TEST(CardStatusTest, ClosedIsTerminalAndLostNeverReactivates) {
  EXPECT_EQ(CheckCardTransition(CardStatus::kClosed, CardStatus::kActive),
            TransitionResult::kFromTerminal);
  EXPECT_EQ(CheckCardTransition(CardStatus::kLost, CardStatus::kActive),
            TransitionResult::kNotAllowed);
  EXPECT_EQ(CheckCardTransition(CardStatus::kStolen, CardStatus::kBlocked),
            TransitionResult::kNotAllowed);
  EXPECT_EQ(CheckCardTransition(CardStatus::kCreated, CardStatus::kBlocked),
            TransitionResult::kNotAllowed);
}

TEST(CardStatusTest, ValuesOutsideTheEnumAreInvalid) {
  EXPECT_EQ(CheckCardTransition(static_cast<CardStatus>(0), CardStatus::kActive),
            TransitionResult::kInvalidStatus);
  EXPECT_EQ(CheckCardTransition(CardStatus::kActive, static_cast<CardStatus>(8)),
            TransitionResult::kInvalidStatus);
  EXPECT_EQ(CheckCardTransition(static_cast<CardStatus>(255), static_cast<CardStatus>(255)),
            TransitionResult::kInvalidStatus);
  EXPECT_FALSE(IsValidCardStatus(0));
  EXPECT_FALSE(IsValidCardStatus(8));
  EXPECT_TRUE(IsValidCardStatus(7));
}

TEST(CardStatusTest, UserTransitions) {
  using U = UserStatus;
  constexpr U kAll[] = {U::kActive, U::kBlocked, U::kDisabled};
  for (U from : kAll) {
    for (U to : kAll) {
      TransitionResult expected = TransitionResult::kAllowed;
      if (from == to) {
        expected = TransitionResult::kUnchanged;
      } else if (from == U::kDisabled) {
        expected = TransitionResult::kFromTerminal;
      }
      EXPECT_EQ(CheckUserTransition(from, to), expected)
          << UserStatusName(from) << " -> " << UserStatusName(to);
    }
  }
  EXPECT_EQ(CheckUserTransition(U::kActive, static_cast<U>(4)), TransitionResult::kInvalidStatus);
  EXPECT_EQ(CheckUserTransition(static_cast<U>(0), U::kActive), TransitionResult::kInvalidStatus);
}

TEST(CardStatusTest, NamesAreStable) {
  EXPECT_EQ(CardStatusName(CardStatus::kCreated), "CREATED");
  EXPECT_EQ(CardStatusName(CardStatus::kStolen), "STOLEN");
  EXPECT_EQ(CardStatusName(static_cast<CardStatus>(9)), "UNKNOWN");
  EXPECT_EQ(UserStatusName(UserStatus::kDisabled), "DISABLED");
  EXPECT_EQ(ChannelName(Channel::kAtm), "ATM");
  EXPECT_EQ(ControlLevelName(ControlLevel::kProgramCardDefault), "PROGRAM_CARD_DEFAULT");
}

// The same table through IssuingState::Apply: allowed pairs change the
// status and its time, every other pair gives its specific result and
// changes nothing.
class CardTransitionStateTest : public IssuingFixture {
 protected:
  // A new card of the fixture's user brought to `status` by allowed steps.
  CardId CardIn(CardStatus status) {
    const CardId card(100 + next_card_++);
    const bool created = status == CardStatus::kCreated;
    AddCard(kTenant, card, kUser, kAccount, TestPan(card.value()),
            created ? CardStatus::kCreated : CardStatus::kActive);
    if (!created && status != CardStatus::kActive) {
      MustRun(ChangeCardStatus{kTenant, card, status});
    }
    return card;
  }
  uint64_t next_card_ = 0;
};

TEST_F(CardTransitionStateTest, EveryPairThroughApply) {
  for (CardStatus from : kAllCardStatuses) {
    for (CardStatus to : kAllCardStatuses) {
      SCOPED_TRACE(std::string(CardStatusName(from)) + " -> " + std::string(CardStatusName(to)));
      const CardId card = CardIn(from);
      ASSERT_EQ(state_.FindCard(kTenant, card)->status, from);
      const uint64_t later_ns = start_ns_ + 1'000'000'000;
      const CommandResult result = Run(ChangeCardStatus{kTenant, card, to}, later_ns);
      CommandResult expected = CommandResult::kOk;
      switch (ExpectedCardResult(from, to)) {
        case TransitionResult::kAllowed:
          expected = CommandResult::kOk;
          break;
        case TransitionResult::kUnchanged:
          expected = CommandResult::kStatusUnchanged;
          break;
        case TransitionResult::kFromTerminal:
          expected = CommandResult::kCardClosed;
          break;
        case TransitionResult::kNotAllowed:
          expected = CommandResult::kTransitionNotAllowed;
          break;
        case TransitionResult::kInvalidStatus:
          FAIL();
      }
      EXPECT_EQ(result, expected) << CommandResultName(result);
      const Card& after = *state_.FindCard(kTenant, card);
      if (expected == CommandResult::kOk) {
        EXPECT_EQ(after.status, to);
        EXPECT_EQ(after.status_changed_at_ns, later_ns);
      } else {
        EXPECT_EQ(after.status, from);
        EXPECT_EQ(after.status_changed_at_ns, start_ns_);
      }
    }
  }
}

TEST_F(CardTransitionStateTest, InvalidStatusValueIsRejected) {
  EXPECT_EQ(Run(ChangeCardStatus{kTenant, kCard, static_cast<CardStatus>(0)}),
            CommandResult::kInvalidStatus);
  EXPECT_EQ(Run(ChangeCardStatus{kTenant, kCard, static_cast<CardStatus>(42)}),
            CommandResult::kInvalidStatus);
  EXPECT_EQ(TheCard().status, CardStatus::kActive);
}

TEST_F(CardTransitionStateTest, UserStatusThroughApply) {
  EXPECT_EQ(Run(SetUserStatus{kTenant, kUser, UserStatus::kActive}),
            CommandResult::kStatusUnchanged);
  EXPECT_EQ(Run(SetUserStatus{kTenant, kUser, UserStatus::kBlocked}), CommandResult::kOk);
  EXPECT_EQ(state_.FindUser(kTenant, kUser)->status, UserStatus::kBlocked);
  EXPECT_EQ(Run(SetUserStatus{kTenant, kUser, UserStatus::kActive}), CommandResult::kOk);
  EXPECT_EQ(Run(SetUserStatus{kTenant, kUser, UserStatus::kDisabled}), CommandResult::kOk);
  EXPECT_EQ(Run(SetUserStatus{kTenant, kUser, UserStatus::kActive}), CommandResult::kUserDisabled);
  EXPECT_EQ(Run(SetUserStatus{kTenant, kUser, static_cast<UserStatus>(9)}),
            CommandResult::kInvalidStatus);
  EXPECT_EQ(state_.FindUser(kTenant, kUser)->status, UserStatus::kDisabled);
}

}  // namespace
}  // namespace tangelo::issuing
