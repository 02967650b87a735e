// The card and cardholder status state machines: which status changes a real
// issuer allows. The table with the reasons is docs/issuing/card-states.md.
//
// Pure functions; thread safe.
#pragma once

#include <cstdint>

#include "issuing/types.h"

namespace tangelo::issuing {

// The outcome of asking for a status change. Stable numbers.
enum class TransitionResult : uint8_t {
  kAllowed = 0,
  kUnchanged = 1,      // From and to are the same status: nothing to do.
  kFromTerminal = 2,   // The current status is terminal (card CLOSED, user DISABLED).
  kNotAllowed = 3,     // The pair is not in the table.
  kInvalidStatus = 4,  // A value outside the enum (from a malformed command).
};

// Card: CREATED -> ACTIVE, LOST, STOLEN, EXPIRED, CLOSED
//       ACTIVE  -> BLOCKED, LOST, STOLEN, EXPIRED, CLOSED
//       BLOCKED -> ACTIVE, LOST, STOLEN, EXPIRED, CLOSED
//       LOST, STOLEN, EXPIRED -> CLOSED
//       CLOSED: terminal.
TransitionResult CheckCardTransition(CardStatus from, CardStatus to);

// User: ACTIVE <-> BLOCKED; ACTIVE, BLOCKED -> DISABLED; DISABLED terminal.
TransitionResult CheckUserTransition(UserStatus from, UserStatus to);

bool IsValidCardStatus(uint8_t value);
bool IsValidUserStatus(uint8_t value);

}  // namespace tangelo::issuing
