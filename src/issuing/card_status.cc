#include "issuing/card_status.h"

namespace tangelo::issuing {
namespace {

// kCardTransitions[from - 1] is a bitmask of the allowed `to` statuses
// (bit n - 1 for status n). Data, so the documented table and the code are
// one thing to review.
constexpr uint8_t Bit(CardStatus status) {
  return static_cast<uint8_t>(1u << (static_cast<uint8_t>(status) - 1));
}
constexpr uint8_t kCardTransitions[kCardStatusCount] = {
    // CREATED: activation, or lost/stolen in the mail, expired unused, closed.
    Bit(CardStatus::kActive) | Bit(CardStatus::kLost) | Bit(CardStatus::kStolen) |
        Bit(CardStatus::kExpired) | Bit(CardStatus::kClosed),
    // ACTIVE
    Bit(CardStatus::kBlocked) | Bit(CardStatus::kLost) | Bit(CardStatus::kStolen) |
        Bit(CardStatus::kExpired) | Bit(CardStatus::kClosed),
    // BLOCKED: a freeze is reversible.
    Bit(CardStatus::kActive) | Bit(CardStatus::kLost) | Bit(CardStatus::kStolen) |
        Bit(CardStatus::kExpired) | Bit(CardStatus::kClosed),
    // LOST: the card number is compromised for good; a new card is issued.
    Bit(CardStatus::kClosed),
    // STOLEN: likewise.
    Bit(CardStatus::kClosed),
    // EXPIRED: a renewal is a new card with a new expiry.
    Bit(CardStatus::kClosed),
    // CLOSED: terminal.
    0,
};

}  // namespace

bool IsValidCardStatus(uint8_t value) { return value >= 1 && value <= kCardStatusCount; }

bool IsValidUserStatus(uint8_t value) { return value >= 1 && value <= 3; }

TransitionResult CheckCardTransition(CardStatus from, CardStatus to) {
  const uint8_t from_value = static_cast<uint8_t>(from);
  const uint8_t to_value = static_cast<uint8_t>(to);
  if (!IsValidCardStatus(from_value) || !IsValidCardStatus(to_value)) {
    return TransitionResult::kInvalidStatus;
  }
  if (from == to) return TransitionResult::kUnchanged;
  if (from == CardStatus::kClosed) return TransitionResult::kFromTerminal;
  return (kCardTransitions[from_value - 1] & Bit(to)) != 0 ? TransitionResult::kAllowed
                                                           : TransitionResult::kNotAllowed;
}

TransitionResult CheckUserTransition(UserStatus from, UserStatus to) {
  if (!IsValidUserStatus(static_cast<uint8_t>(from)) ||
      !IsValidUserStatus(static_cast<uint8_t>(to))) {
    return TransitionResult::kInvalidStatus;
  }
  if (from == to) return TransitionResult::kUnchanged;
  if (from == UserStatus::kDisabled) return TransitionResult::kFromTerminal;
  // ACTIVE <-> BLOCKED and either -> DISABLED: every other pair.
  return TransitionResult::kAllowed;
}

std::string_view UserStatusName(UserStatus status) {
  switch (status) {
    case UserStatus::kActive:
      return "ACTIVE";
    case UserStatus::kBlocked:
      return "BLOCKED";
    case UserStatus::kDisabled:
      return "DISABLED";
  }
  return "UNKNOWN";
}

std::string_view CardStatusName(CardStatus status) {
  switch (status) {
    case CardStatus::kCreated:
      return "CREATED";
    case CardStatus::kActive:
      return "ACTIVE";
    case CardStatus::kBlocked:
      return "BLOCKED";
    case CardStatus::kLost:
      return "LOST";
    case CardStatus::kStolen:
      return "STOLEN";
    case CardStatus::kExpired:
      return "EXPIRED";
    case CardStatus::kClosed:
      return "CLOSED";
  }
  return "UNKNOWN";
}

std::string_view ChannelName(Channel channel) {
  switch (channel) {
    case Channel::kCardPresent:
      return "CARD_PRESENT";
    case Channel::kEcommerce:
      return "ECOMMERCE";
    case Channel::kAtm:
      return "ATM";
  }
  return "UNKNOWN";
}

std::string_view ControlLevelName(ControlLevel level) {
  switch (level) {
    case ControlLevel::kProgram:
      return "PROGRAM";
    case ControlLevel::kProgramCardDefault:
      return "PROGRAM_CARD_DEFAULT";
    case ControlLevel::kAccount:
      return "ACCOUNT";
    case ControlLevel::kCard:
      return "CARD";
  }
  return "UNKNOWN";
}

}  // namespace tangelo::issuing
