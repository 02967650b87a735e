// Business outcomes of creating accounts and transfers.
//
// Every event of a batch gets exactly one result code. The numbers are stable: they are
// journaled, sent to clients and documented in docs/ledger/result-codes.md, so a published
// number never changes meaning and is never reused. New codes take the next free number.
// The validation order (which code wins when several apply) is part of the contract and is
// documented there too.
#pragma once

#include <cstdint>
#include <string_view>

namespace tangelo::ledger {

enum class CreateAccountResult : uint32_t {
  kOk = 0,
  kLinkedEventFailed = 1,
  kLinkedEventChainOpen = 2,
  kTimestampMustBeZero = 3,
  kReservedField = 4,
  kReservedFlag = 5,
  kIdMustNotBeZero = 6,
  kFlagsAreMutuallyExclusive = 7,
  kDebitsPendingMustBeZero = 8,
  kDebitsPostedMustBeZero = 9,
  kCreditsPendingMustBeZero = 10,
  kCreditsPostedMustBeZero = 11,
  kCurrencyMustNotBeZero = 12,
  kCurrencyNotSupported = 13,
  kExistsWithDifferentFlags = 14,
  kExistsWithDifferentUserData = 15,
  kExistsWithDifferentCode = 16,
  kExistsWithDifferentCurrency = 17,
  kExists = 18,
  kAccountsFull = 19,
};
inline constexpr uint32_t kCreateAccountResultCount = 20;

enum class CreateTransferResult : uint32_t {
  kOk = 0,
  kLinkedEventFailed = 1,
  kLinkedEventChainOpen = 2,
  kTimestampMustBeZero = 3,
  kReservedFlag = 4,
  kIdMustNotBeZero = 5,
  kFlagsAreMutuallyExclusive = 6,
  kPendingIdMustBeZero = 7,
  kPendingIdMustNotBeZero = 8,
  kPendingIdMustBeDifferent = 9,
  kTimeoutReservedForPendingTransfer = 10,
  kTimeoutExceedsMaximum = 11,
  kDebitAccountIdMustNotBeZero = 12,
  kCreditAccountIdMustNotBeZero = 13,
  kAccountsMustBeDifferent = 14,
  kAmountMustNotBeZero = 15,
  kCurrencyMustNotBeZero = 16,
  kDebitAccountNotFound = 17,
  kCreditAccountNotFound = 18,
  kAccountsMustHaveTheSameCurrency = 19,
  kTransferMustHaveTheSameCurrencyAsAccounts = 20,
  kPendingTransferNotFound = 21,
  kPendingTransferNotPending = 22,
  kPendingTransferHasDifferentAccounts = 23,
  kPendingTransferHasDifferentCurrency = 24,
  kExceedsPendingTransferAmount = 25,
  kPendingTransferHasDifferentAmount = 26,
  kExistsWithDifferentFlags = 27,
  kExistsWithDifferentPendingId = 28,
  kExistsWithDifferentDebitAccountId = 29,
  kExistsWithDifferentCreditAccountId = 30,
  kExistsWithDifferentAmount = 31,
  kExistsWithDifferentUserData = 32,
  kExistsWithDifferentTimeout = 33,
  kExists = 34,
  kPendingTransferAlreadyPosted = 35,
  kPendingTransferAlreadyVoided = 36,
  kPendingTransferExpired = 37,
  kTransfersFull = 38,
  kOverflowsDebitsPending = 39,
  kOverflowsCreditsPending = 40,
  kOverflowsDebitsPosted = 41,
  kOverflowsCreditsPosted = 42,
  kOverflowsDebits = 43,
  kOverflowsCredits = 44,
  kOverflowsTimeout = 45,
  kExceedsCredits = 46,
  kExceedsDebits = 47,
};
inline constexpr uint32_t kCreateTransferResultCount = 48;

// snake_case names as documented ("exceeds_credits"); "unknown" for a number that is not a
// code (for example one read from a newer journal).
std::string_view ResultName(CreateAccountResult result);
std::string_view ResultName(CreateTransferResult result);

}  // namespace tangelo::ledger
