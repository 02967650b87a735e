#include "ledger/result_codes.h"

namespace tangelo::ledger {

std::string_view ResultName(CreateAccountResult result) {
  using R = CreateAccountResult;
  switch (result) {
    case R::kOk:
      return "ok";
    case R::kLinkedEventFailed:
      return "linked_event_failed";
    case R::kLinkedEventChainOpen:
      return "linked_event_chain_open";
    case R::kTimestampMustBeZero:
      return "timestamp_must_be_zero";
    case R::kReservedField:
      return "reserved_field";
    case R::kReservedFlag:
      return "reserved_flag";
    case R::kIdMustNotBeZero:
      return "id_must_not_be_zero";
    case R::kFlagsAreMutuallyExclusive:
      return "flags_are_mutually_exclusive";
    case R::kDebitsPendingMustBeZero:
      return "debits_pending_must_be_zero";
    case R::kDebitsPostedMustBeZero:
      return "debits_posted_must_be_zero";
    case R::kCreditsPendingMustBeZero:
      return "credits_pending_must_be_zero";
    case R::kCreditsPostedMustBeZero:
      return "credits_posted_must_be_zero";
    case R::kCurrencyMustNotBeZero:
      return "currency_must_not_be_zero";
    case R::kCurrencyNotSupported:
      return "currency_not_supported";
    case R::kExistsWithDifferentFlags:
      return "exists_with_different_flags";
    case R::kExistsWithDifferentUserData:
      return "exists_with_different_user_data";
    case R::kExistsWithDifferentCode:
      return "exists_with_different_code";
    case R::kExistsWithDifferentCurrency:
      return "exists_with_different_currency";
    case R::kExists:
      return "exists";
    case R::kAccountsFull:
      return "accounts_full";
  }
  return "unknown";
}

std::string_view ResultName(CreateTransferResult result) {
  using R = CreateTransferResult;
  switch (result) {
    case R::kOk:
      return "ok";
    case R::kLinkedEventFailed:
      return "linked_event_failed";
    case R::kLinkedEventChainOpen:
      return "linked_event_chain_open";
    case R::kTimestampMustBeZero:
      return "timestamp_must_be_zero";
    case R::kReservedFlag:
      return "reserved_flag";
    case R::kIdMustNotBeZero:
      return "id_must_not_be_zero";
    case R::kFlagsAreMutuallyExclusive:
      return "flags_are_mutually_exclusive";
    case R::kPendingIdMustBeZero:
      return "pending_id_must_be_zero";
    case R::kPendingIdMustNotBeZero:
      return "pending_id_must_not_be_zero";
    case R::kPendingIdMustBeDifferent:
      return "pending_id_must_be_different";
    case R::kTimeoutReservedForPendingTransfer:
      return "timeout_reserved_for_pending_transfer";
    case R::kTimeoutExceedsMaximum:
      return "timeout_exceeds_maximum";
    case R::kDebitAccountIdMustNotBeZero:
      return "debit_account_id_must_not_be_zero";
    case R::kCreditAccountIdMustNotBeZero:
      return "credit_account_id_must_not_be_zero";
    case R::kAccountsMustBeDifferent:
      return "accounts_must_be_different";
    case R::kAmountMustNotBeZero:
      return "amount_must_not_be_zero";
    case R::kCurrencyMustNotBeZero:
      return "currency_must_not_be_zero";
    case R::kDebitAccountNotFound:
      return "debit_account_not_found";
    case R::kCreditAccountNotFound:
      return "credit_account_not_found";
    case R::kAccountsMustHaveTheSameCurrency:
      return "accounts_must_have_the_same_currency";
    case R::kTransferMustHaveTheSameCurrencyAsAccounts:
      return "transfer_must_have_the_same_currency_as_accounts";
    case R::kPendingTransferNotFound:
      return "pending_transfer_not_found";
    case R::kPendingTransferNotPending:
      return "pending_transfer_not_pending";
    case R::kPendingTransferHasDifferentAccounts:
      return "pending_transfer_has_different_accounts";
    case R::kPendingTransferHasDifferentCurrency:
      return "pending_transfer_has_different_currency";
    case R::kExceedsPendingTransferAmount:
      return "exceeds_pending_transfer_amount";
    case R::kPendingTransferHasDifferentAmount:
      return "pending_transfer_has_different_amount";
    case R::kExistsWithDifferentFlags:
      return "exists_with_different_flags";
    case R::kExistsWithDifferentPendingId:
      return "exists_with_different_pending_id";
    case R::kExistsWithDifferentDebitAccountId:
      return "exists_with_different_debit_account_id";
    case R::kExistsWithDifferentCreditAccountId:
      return "exists_with_different_credit_account_id";
    case R::kExistsWithDifferentAmount:
      return "exists_with_different_amount";
    case R::kExistsWithDifferentUserData:
      return "exists_with_different_user_data";
    case R::kExistsWithDifferentTimeout:
      return "exists_with_different_timeout";
    case R::kExists:
      return "exists";
    case R::kPendingTransferAlreadyPosted:
      return "pending_transfer_already_posted";
    case R::kPendingTransferAlreadyVoided:
      return "pending_transfer_already_voided";
    case R::kPendingTransferExpired:
      return "pending_transfer_expired";
    case R::kTransfersFull:
      return "transfers_full";
    case R::kOverflowsDebitsPending:
      return "overflows_debits_pending";
    case R::kOverflowsCreditsPending:
      return "overflows_credits_pending";
    case R::kOverflowsDebitsPosted:
      return "overflows_debits_posted";
    case R::kOverflowsCreditsPosted:
      return "overflows_credits_posted";
    case R::kOverflowsDebits:
      return "overflows_debits";
    case R::kOverflowsCredits:
      return "overflows_credits";
    case R::kOverflowsTimeout:
      return "overflows_timeout";
    case R::kExceedsCredits:
      return "exceeds_credits";
    case R::kExceedsDebits:
      return "exceeds_debits";
  }
  return "unknown";
}

}  // namespace tangelo::ledger
