#include "ledger/reference_model.h"

#include <algorithm>

#include "base/money.h"

namespace tangelo::ledger::testing {
namespace {

using i128 = __int128;
constexpr i128 kU64Max = static_cast<i128>(UINT64_MAX);
constexpr i128 kNsPerSecond = 1'000'000'000;
constexpr uint32_t kTimeoutMaxSeconds = 400 * 86400;

bool Has(uint16_t flags, uint16_t flag) { return (flags & flag) != 0; }

}  // namespace

template <typename Result, typename Apply>
std::vector<Result> ReferenceModel::RunBatch(const std::vector<uint16_t>& flags,
                                             uint16_t linked_flag, const Apply& apply) {
  const size_t count = flags.size();
  std::vector<Result> results(count, Result::kOk);
  size_t first = 0;
  while (first < count) {
    // The group runs to the first event without the linked flag, or to the end of the batch.
    size_t last = first;
    while (last + 1 < count && Has(flags[last], linked_flag)) ++last;
    if (!Has(flags[first], linked_flag)) {
      results[first] = apply(first);
      first = last + 1;
      continue;
    }
    const bool open = Has(flags[last], linked_flag);  // Only at the end of the batch.
    const State saved = state_;
    size_t failed_at = count;
    Result failure = Result::kOk;
    const size_t evaluated_end = open ? last : last + 1;
    for (size_t index = first; index < evaluated_end; ++index) {
      const Result result = apply(index);
      if (result != Result::kOk) {
        failed_at = index;
        failure = result;
        break;
      }
    }
    if (failed_at != count || open) {
      state_ = saved;
      for (size_t index = first; index <= last; ++index)
        results[index] = Result::kLinkedEventFailed;
      if (failed_at != count) results[failed_at] = failure;
      if (open) results[last] = Result::kLinkedEventChainOpen;
    }
    first = last + 1;
  }
  return results;
}

std::vector<CreateAccountResult> ReferenceModel::CreateAccounts(const std::vector<Account>& events,
                                                                uint64_t batch_ns) {
  std::vector<uint16_t> flags;
  for (const Account& event : events) flags.push_back(event.flags);
  return RunBatch<CreateAccountResult>(flags, AccountFlags::kLinked, [&](size_t index) {
    return CreateAccount(events[index], batch_ns + index);
  });
}

std::vector<CreateTransferResult> ReferenceModel::CreateTransfers(
    const std::vector<Transfer>& events, uint64_t batch_ns) {
  std::vector<uint16_t> flags;
  for (const Transfer& event : events) flags.push_back(event.flags);
  return RunBatch<CreateTransferResult>(flags, TransferFlags::kLinked, [&](size_t index) {
    return CreateTransfer(events[index], batch_ns + index);
  });
}

CreateAccountResult ReferenceModel::CreateAccount(const Account& a, uint64_t timestamp) {
  using R = CreateAccountResult;
  if (a.timestamp != 0) return R::kTimestampMustBeZero;
  if (a.reserved != 0) return R::kReservedField;
  if ((a.flags & ~AccountFlags::kAll) != 0) return R::kReservedFlag;
  if (a.id == 0) return R::kIdMustNotBeZero;
  if (Has(a.flags, AccountFlags::kDebitsMustNotExceedCredits) &&
      Has(a.flags, AccountFlags::kCreditsMustNotExceedDebits)) {
    return R::kFlagsAreMutuallyExclusive;
  }
  if (a.debits_pending != 0) return R::kDebitsPendingMustBeZero;
  if (a.debits_posted != 0) return R::kDebitsPostedMustBeZero;
  if (a.credits_pending != 0) return R::kCreditsPendingMustBeZero;
  if (a.credits_posted != 0) return R::kCreditsPostedMustBeZero;
  if (a.currency == 0) return R::kCurrencyMustNotBeZero;
  if (!base::CurrencyFromNumeric(a.currency)) return R::kCurrencyNotSupported;
  auto found = state_.accounts.find(a.id);
  if (found != state_.accounts.end()) {
    const Account& e = found->second;
    if (e.flags != a.flags) return R::kExistsWithDifferentFlags;
    if (e.user_data != a.user_data) return R::kExistsWithDifferentUserData;
    if (e.code != a.code) return R::kExistsWithDifferentCode;
    if (e.currency != a.currency) return R::kExistsWithDifferentCurrency;
    return R::kExists;
  }
  if (state_.accounts.size() >= accounts_max_) return R::kAccountsFull;
  Account stored = a;
  stored.timestamp = timestamp;
  state_.accounts[a.id] = stored;
  return R::kOk;
}

CreateTransferResult ReferenceModel::CreateTransfer(const Transfer& t, uint64_t timestamp) {
  using R = CreateTransferResult;
  const bool pending = Has(t.flags, TransferFlags::kPending);
  const bool post = Has(t.flags, TransferFlags::kPostPendingTransfer);
  const bool voiding = Has(t.flags, TransferFlags::kVoidPendingTransfer);
  const bool balancing_debit = Has(t.flags, TransferFlags::kBalancingDebit);
  const bool balancing_credit = Has(t.flags, TransferFlags::kBalancingCredit);
  if (t.timestamp != 0) return R::kTimestampMustBeZero;
  if ((t.flags & ~TransferFlags::kAll) != 0) return R::kReservedFlag;
  if (t.id == 0) return R::kIdMustNotBeZero;
  if ((pending ? 1 : 0) + (post ? 1 : 0) + (voiding ? 1 : 0) > 1) {
    return R::kFlagsAreMutuallyExclusive;
  }
  if ((post || voiding) && (balancing_debit || balancing_credit)) {
    return R::kFlagsAreMutuallyExclusive;
  }
  if (!post && !voiding && t.pending_id != 0) return R::kPendingIdMustBeZero;
  if (!pending && t.timeout_seconds != 0) return R::kTimeoutReservedForPendingTransfer;
  if (t.timeout_seconds > kTimeoutMaxSeconds) return R::kTimeoutExceedsMaximum;
  if (post || voiding) return PostOrVoid(t, timestamp);

  if (t.debit_account_id == 0) return R::kDebitAccountIdMustNotBeZero;
  if (t.credit_account_id == 0) return R::kCreditAccountIdMustNotBeZero;
  if (t.debit_account_id == t.credit_account_id) return R::kAccountsMustBeDifferent;
  if (t.amount == 0) return R::kAmountMustNotBeZero;
  if (t.currency == 0) return R::kCurrencyMustNotBeZero;
  if (!state_.accounts.count(t.debit_account_id)) return R::kDebitAccountNotFound;
  if (!state_.accounts.count(t.credit_account_id)) return R::kCreditAccountNotFound;
  Account& debit = state_.accounts[t.debit_account_id];
  Account& credit = state_.accounts[t.credit_account_id];
  if (debit.currency != credit.currency) return R::kAccountsMustHaveTheSameCurrency;
  if (t.currency != debit.currency) return R::kTransferMustHaveTheSameCurrencyAsAccounts;
  auto found = state_.transfers.find(t.id);
  if (found != state_.transfers.end()) {
    const Transfer& e = found->second;
    if (e.flags != t.flags) return R::kExistsWithDifferentFlags;
    if (e.debit_account_id != t.debit_account_id) return R::kExistsWithDifferentDebitAccountId;
    if (e.credit_account_id != t.credit_account_id) {
      return R::kExistsWithDifferentCreditAccountId;
    }
    if (!balancing_debit && !balancing_credit && e.amount != t.amount) {
      return R::kExistsWithDifferentAmount;
    }
    if (e.user_data != t.user_data) return R::kExistsWithDifferentUserData;
    if (e.timeout_seconds != t.timeout_seconds) return R::kExistsWithDifferentTimeout;
    return R::kExists;
  }
  if (state_.transfers.size() >= transfers_max_) return R::kTransfersFull;

  i128 amount = t.amount;
  if (balancing_debit) {
    const i128 available = i128{debit.credits_posted} - debit.debits_posted - debit.debits_pending;
    amount = std::min(amount, std::max<i128>(available, 0));
    if (amount == 0) return R::kExceedsCredits;
  }
  if (balancing_credit) {
    const i128 available =
        i128{credit.debits_posted} - credit.credits_posted - credit.credits_pending;
    amount = std::min(amount, std::max<i128>(available, 0));
    if (amount == 0) return R::kExceedsDebits;
  }
  if (pending) {
    if (debit.debits_pending + amount > kU64Max) return R::kOverflowsDebitsPending;
    if (credit.credits_pending + amount > kU64Max) return R::kOverflowsCreditsPending;
  } else {
    if (debit.debits_posted + amount > kU64Max) return R::kOverflowsDebitsPosted;
    if (credit.credits_posted + amount > kU64Max) return R::kOverflowsCreditsPosted;
  }
  const i128 debits = i128{debit.debits_pending} + debit.debits_posted + amount;
  const i128 credits = i128{credit.credits_pending} + credit.credits_posted + amount;
  if (debits > kU64Max) return R::kOverflowsDebits;
  if (credits > kU64Max) return R::kOverflowsCredits;
  if (pending && i128{timestamp} + t.timeout_seconds * kNsPerSecond > kU64Max) {
    return R::kOverflowsTimeout;
  }
  if (Has(debit.flags, AccountFlags::kDebitsMustNotExceedCredits) &&
      debits > debit.credits_posted) {
    return R::kExceedsCredits;
  }
  if (Has(credit.flags, AccountFlags::kCreditsMustNotExceedDebits) &&
      credits > credit.debits_posted) {
    return R::kExceedsDebits;
  }

  Transfer stored = t;
  stored.amount = static_cast<uint64_t>(amount);
  stored.timestamp = timestamp;
  state_.transfers[t.id] = stored;
  if (pending) {
    debit.debits_pending += stored.amount;
    credit.credits_pending += stored.amount;
    state_.pending_states[t.id] = PendingState::kPending;
    if (t.timeout_seconds != 0) {
      state_.expiry_queue.insert(
          {timestamp + uint64_t{t.timeout_seconds} * 1'000'000'000, timestamp, t.id});
    }
  } else {
    debit.debits_posted += stored.amount;
    credit.credits_posted += stored.amount;
  }
  return R::kOk;
}

CreateTransferResult ReferenceModel::PostOrVoid(const Transfer& t, uint64_t timestamp) {
  using R = CreateTransferResult;
  const bool post = Has(t.flags, TransferFlags::kPostPendingTransfer);
  if (t.pending_id == 0) return R::kPendingIdMustNotBeZero;
  if (t.pending_id == t.id) return R::kPendingIdMustBeDifferent;
  auto pending_found = state_.transfers.find(t.pending_id);
  if (pending_found == state_.transfers.end()) return R::kPendingTransferNotFound;
  const Transfer p = pending_found->second;
  if (!Has(p.flags, TransferFlags::kPending)) return R::kPendingTransferNotPending;
  if (t.debit_account_id != 0 && t.debit_account_id != p.debit_account_id) {
    return R::kPendingTransferHasDifferentAccounts;
  }
  if (t.credit_account_id != 0 && t.credit_account_id != p.credit_account_id) {
    return R::kPendingTransferHasDifferentAccounts;
  }
  if (t.currency != 0 && t.currency != p.currency) return R::kPendingTransferHasDifferentCurrency;
  if (post && t.amount > p.amount) return R::kExceedsPendingTransferAmount;
  if (!post && t.amount != 0 && t.amount != p.amount) {
    return R::kPendingTransferHasDifferentAmount;
  }
  const uint64_t amount = (post && t.amount != 0) ? t.amount : p.amount;
  auto found = state_.transfers.find(t.id);
  if (found != state_.transfers.end()) {
    const Transfer& e = found->second;
    if (e.flags != t.flags) return R::kExistsWithDifferentFlags;
    if (e.pending_id != t.pending_id) return R::kExistsWithDifferentPendingId;
    if (e.amount != amount) return R::kExistsWithDifferentAmount;
    if (e.user_data != t.user_data) return R::kExistsWithDifferentUserData;
    return R::kExists;
  }
  const PendingState state = state_.pending_states.at(p.id);
  if (state == PendingState::kPosted) return R::kPendingTransferAlreadyPosted;
  if (state == PendingState::kVoided) return R::kPendingTransferAlreadyVoided;
  if (state == PendingState::kExpired) return R::kPendingTransferExpired;
  if (p.timeout_seconds != 0 && i128{p.timestamp} + p.timeout_seconds * kNsPerSecond <= timestamp) {
    return R::kPendingTransferExpired;
  }
  if (state_.transfers.size() >= transfers_max_) return R::kTransfersFull;

  Account& debit = state_.accounts.at(p.debit_account_id);
  Account& credit = state_.accounts.at(p.credit_account_id);
  debit.debits_pending -= p.amount;
  credit.credits_pending -= p.amount;
  if (post) {
    debit.debits_posted += amount;
    credit.credits_posted += amount;
  }
  Transfer stored = t;
  stored.debit_account_id = p.debit_account_id;
  stored.credit_account_id = p.credit_account_id;
  stored.currency = p.currency;
  stored.amount = amount;
  stored.timestamp = timestamp;
  state_.transfers[t.id] = stored;
  state_.pending_states[p.id] = post ? PendingState::kPosted : PendingState::kVoided;
  return R::kOk;
}

uint32_t ReferenceModel::ExpirePending(uint64_t now_ns, uint32_t entries_max) {
  uint32_t released = 0;
  for (uint32_t examined = 0; examined < entries_max; ++examined) {
    if (state_.expiry_queue.empty()) break;
    const auto [expires_at, created, id] = *state_.expiry_queue.begin();
    if (expires_at > now_ns) break;
    state_.expiry_queue.erase(state_.expiry_queue.begin());
    if (state_.pending_states.at(id) != PendingState::kPending) continue;
    const Transfer& p = state_.transfers.at(id);
    state_.accounts.at(p.debit_account_id).debits_pending -= p.amount;
    state_.accounts.at(p.credit_account_id).credits_pending -= p.amount;
    state_.pending_states[id] = PendingState::kExpired;
    ++released;
  }
  return released;
}

PendingState ReferenceModel::StateOf(uint64_t transfer_id) const {
  auto found = state_.pending_states.find(transfer_id);
  return found == state_.pending_states.end() ? PendingState::kNone : found->second;
}

}  // namespace tangelo::ledger::testing
