// Applying batches: account and transfer creation, linked chains, expiry.
//
// The validation order of every function below is the documented precedence of result codes
// (docs/ledger/result-codes.md): keep them in step.
#include "ledger/ledger.h"

#include <algorithm>
#include <utility>

#include "base/money.h"

namespace tangelo::ledger {
namespace {

using u128 = unsigned __int128;
constexpr uint64_t kNanosecondsPerSecond = 1'000'000'000;
constexpr size_t kNoChain = SIZE_MAX;
// How far ahead CreateTransfers prefetches (see PrefetchIndexes): index cells, then the
// records they point at, then (for posts and voids) the index cells and records of the
// accounts named by the pending transfer.
constexpr size_t kPrefetchIndexDistance = 16;
constexpr size_t kPrefetchRecordDistance = 8;
constexpr size_t kPrefetchPendingIndexDistance = 4;
constexpr size_t kPrefetchPendingRecordDistance = 2;

// The instant a pending transfer created at `timestamp` expires; the caller checked it fits.
uint64_t ExpiresAtNs(const Transfer& pending) {
  return pending.timestamp + uint64_t{pending.timeout_seconds} * kNanosecondsPerSecond;
}

bool ExpiryBefore(uint64_t left_expires_at_ns, uint32_t left_slot, uint64_t right_expires_at_ns,
                  uint32_t right_slot) {
  return left_expires_at_ns < right_expires_at_ns ||
         (left_expires_at_ns == right_expires_at_ns && left_slot < right_slot);
}

}  // namespace

base::Result<std::unique_ptr<Ledger>> Ledger::Create(const LedgerCapacities& capacities) {
  if (capacities.accounts_max == 0 || capacities.accounts_max > kAccountsMax) {
    return base::InvalidArgument("ledger: accounts_max must be in [1, " +
                                 std::to_string(kAccountsMax) + "]");
  }
  if (capacities.transfers_max == 0 || capacities.transfers_max > kTransfersMax) {
    return base::InvalidArgument("ledger: transfers_max must be in [1, " +
                                 std::to_string(kTransfersMax) + "]");
  }
  std::unique_ptr<Ledger> ledger(new Ledger(capacities));
  if (!ledger->Reserve()) {
    return base::ResourceExhausted("ledger: cannot reserve memory for the capacities");
  }
  return ledger;
}

Ledger::Ledger(const LedgerCapacities& capacities) : capacities_(capacities) {}

Ledger::~Ledger() = default;

bool Ledger::Reserve() {
  return accounts_.Allocate(capacities_.accounts_max) &&
         transfers_.Allocate(capacities_.transfers_max) &&
         pending_states_.Allocate(capacities_.transfers_max) &&
         resolved_slots_.Allocate(capacities_.transfers_max) &&
         expiry_heap_.Allocate(capacities_.transfers_max) && undo_.Allocate(kBatchEventsMax) &&
         totals_.Allocate(kCurrencyCodesMax) && currencies_.Allocate(kCurrencyCodesMax) &&
         account_index_.Allocate(capacities_.accounts_max) &&
         transfer_index_.Allocate(capacities_.transfers_max);
}

void Ledger::PrefaultMemory() {
  accounts_.Prefault();
  transfers_.Prefault();
  pending_states_.Prefault();
  resolved_slots_.Prefault();
  expiry_heap_.Prefault();
  undo_.Prefault();
  account_index_.Prefault();
  transfer_index_.Prefault();
}

// --- Batches and linked chains ----------------------------------------------------------------

// Both batch functions follow TigerBeetle's chain rules: an event with the linked flag opens (or
// continues) a chain that ends with the next event without it. The first failure rolls the
// chain's applied events back; earlier events of the chain get linked_event_failed, the
// failing one its own code, and later ones linked_event_failed. A linked flag on the last event
// of the batch leaves the chain open: that event gets linked_event_chain_open.
template <typename Event, typename Result, typename Prefetch, typename Apply, typename RollBack,
          typename Commit>
void Ledger::ApplyBatch(std::span<const Event> input, uint64_t batch_timestamp_ns,
                        std::span<Result> results, uint16_t linked_flag, const Prefetch& prefetch,
                        const Apply& apply, const RollBack& roll_back, const Commit& commit) {
  TG_ASSERT(input.size() == results.size());
  TG_ASSERT(input.size() <= kBatchEventsMax);
  TG_ASSERT_MSG(batch_timestamp_ns > last_timestamp_ns_, "batch timestamps must increase");
  TG_ASSERT(batch_timestamp_ns <= UINT64_MAX - input.size());
  size_t chain_start = kNoChain;
  bool chain_broken = false;
  uint32_t undo_count = 0;
  for (size_t index = 0; index < input.size(); ++index) {
    prefetch(index);
    const bool linked = (input[index].flags & linked_flag) != 0;
    if (linked && chain_start == kNoChain) chain_start = index;
    const bool in_chain = chain_start != kNoChain;
    Result result;
    if (linked && index + 1 == input.size()) {
      result = Result::kLinkedEventChainOpen;
    } else if (chain_broken) {
      result = Result::kLinkedEventFailed;
    } else {
      result =
          apply(input[index], batch_timestamp_ns + index, in_chain ? &undo_[undo_count] : nullptr);
      if (result == Result::kOk && in_chain) ++undo_count;
    }
    if (result != Result::kOk && in_chain && !chain_broken) {
      chain_broken = true;
      roll_back(undo_count);
      undo_count = 0;
      std::fill(results.begin() + static_cast<ptrdiff_t>(chain_start),
                results.begin() + static_cast<ptrdiff_t>(index), Result::kLinkedEventFailed);
    }
    results[index] = result;
    if (in_chain && (!linked || result == Result::kLinkedEventChainOpen)) {
      if (!chain_broken) commit(undo_count);
      chain_start = kNoChain;
      chain_broken = false;
      undo_count = 0;
    }
  }
  if (!input.empty()) last_timestamp_ns_ = batch_timestamp_ns + input.size() - 1;
  AssertBatchInvariants();
}

void Ledger::CreateAccounts(std::span<const Account> input, uint64_t batch_timestamp_ns,
                            std::span<CreateAccountResult> results) {
  ApplyBatch(
      input, batch_timestamp_ns, results, AccountFlags::kLinked, [](size_t) {},
      [this](const Account& account, uint64_t timestamp, UndoEntry* undo) {
        return CreateAccount(account, timestamp, undo);
      },
      [this](uint32_t undo_count) { RollBackAccounts(undo_count); },
      [](uint32_t) {});  // Accounts need no commit step: they are already in place.
}

void Ledger::CreateTransfers(std::span<const Transfer> input, uint64_t batch_timestamp_ns,
                             std::span<CreateTransferResult> results) {
  ApplyBatch(
      input, batch_timestamp_ns, results, TransferFlags::kLinked,
      [this, input](size_t index) {
        if (index + kPrefetchIndexDistance < input.size()) {
          PrefetchIndexes(input[index + kPrefetchIndexDistance]);
        }
        if (index + kPrefetchRecordDistance < input.size()) {
          PrefetchRecords(input[index + kPrefetchRecordDistance]);
        }
        if (index + kPrefetchPendingIndexDistance < input.size()) {
          PrefetchPendingAccountIndexes(input[index + kPrefetchPendingIndexDistance]);
        }
        if (index + kPrefetchPendingRecordDistance < input.size()) {
          PrefetchPendingAccounts(input[index + kPrefetchPendingRecordDistance]);
        }
      },
      [this](const Transfer& transfer, uint64_t timestamp, UndoEntry* undo) {
        return CreateTransfer(transfer, timestamp, undo);
      },
      [this](uint32_t undo_count) { RollBackTransfers(undo_count); },
      [this](uint32_t undo_count) { CommitTransfers(undo_count); });
}

void Ledger::RollBackAccounts(uint32_t undo_count) {
  TG_ASSERT(undo_count <= accounts_count_);
  // Newest first, so each index erase undoes the latest insert.
  for (uint32_t undo_index = undo_count; undo_index-- > 0;) {
    const UndoEntry& undo = undo_[undo_index];
    --accounts_count_;
    account_index_.EraseLatest(undo.index_position);
    accounts_[accounts_count_] = Account{};
  }
}

void Ledger::RollBackTransfers(uint32_t undo_count) {
  TG_ASSERT(undo_count <= transfers_count_);
  for (uint32_t undo_index = undo_count; undo_index-- > 0;) {
    const UndoEntry& undo = undo_[undo_index];
    --transfers_count_;
    transfer_index_.EraseLatest(undo.index_position);
    transfers_[transfers_count_] = Transfer{};
    pending_states_[transfers_count_] = PendingState::kNone;
    resolved_slots_[transfers_count_] = 0;
    RestoreCounters(accounts_[undo.debit_slot], undo.debit_saved);
    RestoreCounters(accounts_[undo.credit_slot], undo.credit_saved);
    if (undo.pending_slot != IdIndex::kNoSlot) {
      // Only a pending transfer still pending can have been resolved by this chain.
      TG_ASSERT(pending_states_[undo.pending_slot] != PendingState::kPending);
      pending_states_[undo.pending_slot] = PendingState::kPending;
    }
  }
}

// A chain's pending transfers join the expiry heap only once the chain holds, so a rollback
// never has to take entries out of the heap.
void Ledger::CommitTransfers(uint32_t undo_count) {
  TG_ASSERT(undo_count <= transfers_count_);
  const uint32_t first_slot = transfers_count_ - undo_count;
  for (uint32_t slot = first_slot; slot < transfers_count_; ++slot) {
    const Transfer& transfer = transfers_[slot];
    if ((transfer.flags & TransferFlags::kPending) != 0 && transfer.timeout_seconds != 0) {
      ExpiryPush(slot);
    }
  }
}

// A batch's events name accounts and transfers at random places in memory; waiting for each
// miss in turn would dominate the cost of a transfer. So the loop looks ahead: it prefetches
// the index cells of an event kPrefetchIndexDistance ahead, and once those have arrived (at
// kPrefetchRecordDistance ahead) the records they point at. Prefetches have no effect on
// results.
void Ledger::PrefetchIndexes(const Transfer& transfer) const {
  account_index_.Prefetch(transfer.debit_account_id);
  account_index_.Prefetch(transfer.credit_account_id);
  transfer_index_.Prefetch(transfer.id);
  if (transfer.pending_id != 0) transfer_index_.Prefetch(transfer.pending_id);
}

void Ledger::PrefetchRecords(const Transfer& transfer) const {
  const uint32_t debit_slot = account_index_.CandidateSlot(transfer.debit_account_id);
  if (debit_slot < accounts_count_) Prefetch(&accounts_[debit_slot]);
  const uint32_t credit_slot = account_index_.CandidateSlot(transfer.credit_account_id);
  if (credit_slot < accounts_count_) Prefetch(&accounts_[credit_slot]);
  if (transfer.pending_id != 0) {
    const uint32_t pending_slot = transfer_index_.CandidateSlot(transfer.pending_id);
    if (pending_slot < transfers_count_) Prefetch(&transfers_[pending_slot]);
  }
}

// A post or void names its accounts only through its pending transfer, whose record the
// previous stage prefetched. A wrong candidate (a fingerprint collision) only wastes a prefetch.
const Transfer* Ledger::PendingCandidate(const Transfer& transfer) const {
  if (transfer.pending_id == 0) return nullptr;
  const uint32_t pending_slot = transfer_index_.CandidateSlot(transfer.pending_id);
  return pending_slot < transfers_count_ ? &transfers_[pending_slot] : nullptr;
}

void Ledger::PrefetchPendingAccountIndexes(const Transfer& transfer) const {
  const Transfer* pending = PendingCandidate(transfer);
  if (pending == nullptr) return;
  account_index_.Prefetch(pending->debit_account_id);
  account_index_.Prefetch(pending->credit_account_id);
}

void Ledger::PrefetchPendingAccounts(const Transfer& transfer) const {
  const Transfer* pending = PendingCandidate(transfer);
  if (pending == nullptr) return;
  const uint32_t debit_slot = account_index_.CandidateSlot(pending->debit_account_id);
  if (debit_slot < accounts_count_) Prefetch(&accounts_[debit_slot]);
  const uint32_t credit_slot = account_index_.CandidateSlot(pending->credit_account_id);
  if (credit_slot < accounts_count_) Prefetch(&accounts_[credit_slot]);
}

// --- Accounts ---------------------------------------------------------------------------------

CreateAccountResult Ledger::CreateAccount(const Account& input, uint64_t timestamp,
                                          UndoEntry* undo) {
  using R = CreateAccountResult;
  if (input.timestamp != 0) return R::kTimestampMustBeZero;
  if (input.reserved != 0) return R::kReservedField;
  if ((input.flags & ~AccountFlags::kAll) != 0) return R::kReservedFlag;
  if (input.id == 0) return R::kIdMustNotBeZero;
  if ((input.flags & AccountFlags::kDebitsMustNotExceedCredits) != 0 &&
      (input.flags & AccountFlags::kCreditsMustNotExceedDebits) != 0) {
    return R::kFlagsAreMutuallyExclusive;
  }
  if (input.debits_pending != 0) return R::kDebitsPendingMustBeZero;
  if (input.debits_posted != 0) return R::kDebitsPostedMustBeZero;
  if (input.credits_pending != 0) return R::kCreditsPendingMustBeZero;
  if (input.credits_posted != 0) return R::kCreditsPostedMustBeZero;
  if (input.currency == 0) return R::kCurrencyMustNotBeZero;
  if (!base::CurrencyFromNumeric(input.currency).has_value()) return R::kCurrencyNotSupported;

  const IdIndex::Probe probe = ProbeAccount(input.id);
  if (probe.slot != IdIndex::kNoSlot) {
    const Account& existing = accounts_[probe.slot];
    if (input.flags != existing.flags) return R::kExistsWithDifferentFlags;
    if (input.user_data != existing.user_data) return R::kExistsWithDifferentUserData;
    if (input.code != existing.code) return R::kExistsWithDifferentCode;
    if (input.currency != existing.currency) return R::kExistsWithDifferentCurrency;
    return R::kExists;
  }
  if (accounts_count_ == capacities_.accounts_max) return R::kAccountsFull;

  const uint32_t slot = accounts_count_;
  Account& stored = accounts_[slot];
  stored = input;
  stored.timestamp = timestamp;
  account_index_.Insert(probe, slot);
  NoteCurrency(input.currency);
  if (undo != nullptr) undo->index_position = probe.position;
  ++accounts_count_;
  return R::kOk;
}

// --- Transfers --------------------------------------------------------------------------------

CreateTransferResult Ledger::CreateTransfer(const Transfer& input, uint64_t timestamp,
                                            UndoEntry* undo) {
  using R = CreateTransferResult;
  if (input.timestamp != 0) return R::kTimestampMustBeZero;
  if ((input.flags & ~TransferFlags::kAll) != 0) return R::kReservedFlag;
  if (input.id == 0) return R::kIdMustNotBeZero;
  const bool is_pending = (input.flags & TransferFlags::kPending) != 0;
  const bool is_post = (input.flags & TransferFlags::kPostPendingTransfer) != 0;
  const bool is_void = (input.flags & TransferFlags::kVoidPendingTransfer) != 0;
  const bool is_balancing =
      (input.flags & (TransferFlags::kBalancingDebit | TransferFlags::kBalancingCredit)) != 0;
  if (int{is_pending} + int{is_post} + int{is_void} > 1 || ((is_post || is_void) && is_balancing)) {
    return R::kFlagsAreMutuallyExclusive;
  }
  if (!is_post && !is_void && input.pending_id != 0) return R::kPendingIdMustBeZero;
  if (!is_pending && input.timeout_seconds != 0) return R::kTimeoutReservedForPendingTransfer;
  if (input.timeout_seconds > kPendingTimeoutSecondsMax) return R::kTimeoutExceedsMaximum;
  if (is_post || is_void) return CreatePostOrVoid(input, timestamp, undo);

  if (input.debit_account_id == 0) return R::kDebitAccountIdMustNotBeZero;
  if (input.credit_account_id == 0) return R::kCreditAccountIdMustNotBeZero;
  if (input.debit_account_id == input.credit_account_id) return R::kAccountsMustBeDifferent;
  if (input.amount == 0) return R::kAmountMustNotBeZero;
  if (input.currency == 0) return R::kCurrencyMustNotBeZero;
  const uint32_t debit_slot = AccountSlot(input.debit_account_id);
  if (debit_slot == IdIndex::kNoSlot) return R::kDebitAccountNotFound;
  const uint32_t credit_slot = AccountSlot(input.credit_account_id);
  if (credit_slot == IdIndex::kNoSlot) return R::kCreditAccountNotFound;
  Account& debit = accounts_[debit_slot];
  Account& credit = accounts_[credit_slot];
  if (debit.currency != credit.currency) return R::kAccountsMustHaveTheSameCurrency;
  if (input.currency != debit.currency) return R::kTransferMustHaveTheSameCurrencyAsAccounts;

  const IdIndex::Probe probe = ProbeTransfer(input.id);
  if (probe.slot != IdIndex::kNoSlot) return CompareExisting(input, transfers_[probe.slot]);
  if (transfers_count_ == capacities_.transfers_max) return R::kTransfersFull;

  uint64_t amount = input.amount;
  if ((input.flags & TransferFlags::kBalancingDebit) != 0) {
    amount = std::min(amount, CreditNormalAvailable(debit));
    if (amount == 0) return R::kExceedsCredits;
  }
  if ((input.flags & TransferFlags::kBalancingCredit) != 0) {
    amount = std::min(amount, DebitNormalAvailable(credit));
    if (amount == 0) return R::kExceedsDebits;
  }
  uint64_t sum = 0;
  if (is_pending) {
    if (!base::CheckedAdd(debit.debits_pending, amount, &sum)) return R::kOverflowsDebitsPending;
    if (!base::CheckedAdd(credit.credits_pending, amount, &sum)) {
      return R::kOverflowsCreditsPending;
    }
  } else {
    if (!base::CheckedAdd(debit.debits_posted, amount, &sum)) return R::kOverflowsDebitsPosted;
    if (!base::CheckedAdd(credit.credits_posted, amount, &sum)) return R::kOverflowsCreditsPosted;
  }
  // Past these two checks every sum below fits in 64 bits.
  const u128 debits_total = u128{debit.debits_pending} + debit.debits_posted + amount;
  if (debits_total > UINT64_MAX) return R::kOverflowsDebits;
  const u128 credits_total = u128{credit.credits_pending} + credit.credits_posted + amount;
  if (credits_total > UINT64_MAX) return R::kOverflowsCredits;
  if (is_pending &&
      u128{timestamp} + u128{input.timeout_seconds} * kNanosecondsPerSecond > UINT64_MAX) {
    return R::kOverflowsTimeout;
  }
  if ((debit.flags & AccountFlags::kDebitsMustNotExceedCredits) != 0 &&
      debits_total > debit.credits_posted) {
    return R::kExceedsCredits;
  }
  if ((credit.flags & AccountFlags::kCreditsMustNotExceedDebits) != 0 &&
      credits_total > credit.debits_posted) {
    return R::kExceedsDebits;
  }

  const uint32_t slot = transfers_count_;
  if (undo != nullptr) {
    undo->index_position = probe.position;
    undo->debit_slot = debit_slot;
    undo->credit_slot = credit_slot;
    undo->pending_slot = IdIndex::kNoSlot;
    undo->debit_saved = SaveCounters(debit);
    undo->credit_saved = SaveCounters(credit);
  }
  Transfer& stored = transfers_[slot];
  stored = input;
  stored.amount = amount;
  stored.timestamp = timestamp;
  pending_states_[slot] = is_pending ? PendingState::kPending : PendingState::kNone;
  resolved_slots_[slot] = 0;
  transfer_index_.Insert(probe, slot);
  if (is_pending) {
    AddPending(debit, credit, amount);
  } else {
    AddPosted(debit, credit, amount);
  }
  AssertWithinLimits(debit);
  AssertWithinLimits(credit);
  ++transfers_count_;
  // Inside a chain the expiry entry waits for the commit (CommitTransfers).
  if (undo == nullptr && is_pending && input.timeout_seconds != 0) ExpiryPush(slot);
  return R::kOk;
}

CreateTransferResult Ledger::CreatePostOrVoid(const Transfer& input, uint64_t timestamp,
                                              UndoEntry* undo) {
  using R = CreateTransferResult;
  const bool is_post = (input.flags & TransferFlags::kPostPendingTransfer) != 0;
  if (input.pending_id == 0) return R::kPendingIdMustNotBeZero;
  if (input.pending_id == input.id) return R::kPendingIdMustBeDifferent;
  const uint32_t pending_slot = TransferSlot(input.pending_id);
  if (pending_slot == IdIndex::kNoSlot) return R::kPendingTransferNotFound;
  const Transfer& pending = transfers_[pending_slot];
  if ((pending.flags & TransferFlags::kPending) == 0) return R::kPendingTransferNotPending;
  if ((input.debit_account_id != 0 && input.debit_account_id != pending.debit_account_id) ||
      (input.credit_account_id != 0 && input.credit_account_id != pending.credit_account_id)) {
    return R::kPendingTransferHasDifferentAccounts;
  }
  if (input.currency != 0 && input.currency != pending.currency) {
    return R::kPendingTransferHasDifferentCurrency;
  }
  if (is_post) {
    if (input.amount > pending.amount) return R::kExceedsPendingTransferAmount;
  } else if (input.amount != 0 && input.amount != pending.amount) {
    return R::kPendingTransferHasDifferentAmount;
  }

  const IdIndex::Probe probe = ProbeTransfer(input.id);
  if (probe.slot != IdIndex::kNoSlot) {
    return CompareExistingPostOrVoid(input, transfers_[probe.slot], pending);
  }
  switch (pending_states_[pending_slot]) {
    case PendingState::kPending:
      break;
    case PendingState::kPosted:
      return R::kPendingTransferAlreadyPosted;
    case PendingState::kVoided:
      return R::kPendingTransferAlreadyVoided;
    case PendingState::kExpired:
      return R::kPendingTransferExpired;
    case PendingState::kNone:
      TG_FATAL("ledger: a pending transfer has no pending state");
  }
  // Due but not yet released by ExpirePending: expired all the same.
  if (pending.timeout_seconds != 0 && ExpiresAtNs(pending) <= timestamp) {
    return R::kPendingTransferExpired;
  }
  if (transfers_count_ == capacities_.transfers_max) return R::kTransfersFull;

  // Amount 0 posts the whole pending amount; a void always releases the whole of it.
  const uint64_t amount = is_post && input.amount != 0 ? input.amount : pending.amount;
  const uint32_t debit_slot = AccountSlot(pending.debit_account_id);
  const uint32_t credit_slot = AccountSlot(pending.credit_account_id);
  TG_ASSERT(debit_slot != IdIndex::kNoSlot && credit_slot != IdIndex::kNoSlot);
  Account& debit = accounts_[debit_slot];
  Account& credit = accounts_[credit_slot];
  // Posting moves at most the held amount from pending to posted, and pending + posted was
  // checked to fit when the hold was placed (overflows_debits/credits): no overflow possible.
  TG_ASSERT(amount <= pending.amount);

  const uint32_t slot = transfers_count_;
  if (undo != nullptr) {
    undo->index_position = probe.position;
    undo->debit_slot = debit_slot;
    undo->credit_slot = credit_slot;
    undo->pending_slot = pending_slot;
    undo->debit_saved = SaveCounters(debit);
    undo->credit_saved = SaveCounters(credit);
  }
  Transfer& stored = transfers_[slot];
  stored = input;
  stored.debit_account_id = pending.debit_account_id;
  stored.credit_account_id = pending.credit_account_id;
  stored.currency = pending.currency;
  stored.amount = amount;
  stored.timestamp = timestamp;
  pending_states_[slot] = PendingState::kNone;
  pending_states_[pending_slot] = is_post ? PendingState::kPosted : PendingState::kVoided;
  resolved_slots_[slot] = pending_slot;
  transfer_index_.Insert(probe, slot);
  SubtractPending(debit, credit, pending.amount);
  if (is_post) AddPosted(debit, credit, amount);
  AssertWithinLimits(debit);
  AssertWithinLimits(credit);
  ++transfers_count_;
  return R::kOk;
}

CreateTransferResult Ledger::CompareExisting(const Transfer& input,
                                             const Transfer& existing) const {
  using R = CreateTransferResult;
  if (input.flags != existing.flags) return R::kExistsWithDifferentFlags;
  if (input.debit_account_id != existing.debit_account_id) {
    return R::kExistsWithDifferentDebitAccountId;
  }
  if (input.credit_account_id != existing.credit_account_id) {
    return R::kExistsWithDifferentCreditAccountId;
  }
  // A balancing transfer stores the amount it could move, so the requested maximum is not
  // compared.
  const bool is_balancing =
      (input.flags & (TransferFlags::kBalancingDebit | TransferFlags::kBalancingCredit)) != 0;
  if (!is_balancing && input.amount != existing.amount) return R::kExistsWithDifferentAmount;
  if (input.user_data != existing.user_data) return R::kExistsWithDifferentUserData;
  if (input.timeout_seconds != existing.timeout_seconds) return R::kExistsWithDifferentTimeout;
  // The currency needs no comparison: it equals the accounts' currency, and the accounts match.
  return R::kExists;
}

// `pending` is the transfer input.pending_id names. The accounts and currency of the input
// were already checked against it, and `existing` copied them from its own pending transfer,
// so once the pending ids match they match too.
CreateTransferResult Ledger::CompareExistingPostOrVoid(const Transfer& input,
                                                       const Transfer& existing,
                                                       const Transfer& pending) const {
  using R = CreateTransferResult;
  if (input.flags != existing.flags) return R::kExistsWithDifferentFlags;
  if (input.pending_id != existing.pending_id) return R::kExistsWithDifferentPendingId;
  const bool is_post = (input.flags & TransferFlags::kPostPendingTransfer) != 0;
  const uint64_t amount = is_post && input.amount != 0 ? input.amount : pending.amount;
  if (amount != existing.amount) return R::kExistsWithDifferentAmount;
  if (input.user_data != existing.user_data) return R::kExistsWithDifferentUserData;
  return R::kExists;
}

// --- Expiry -----------------------------------------------------------------------------------

uint32_t Ledger::ExpirePending(uint64_t now_ns, uint32_t expiries_max) {
  uint32_t released = 0;
  for (uint32_t examined = 0;
       examined < expiries_max && expiry_count_ > 0 && expiry_heap_[0].expires_at_ns <= now_ns;
       ++examined) {
    const ExpiryEntry entry = ExpiryPop();
    if (pending_states_[entry.transfer_slot] != PendingState::kPending) continue;
    const Transfer& pending = transfers_[entry.transfer_slot];
    TG_ASSERT(entry.expires_at_ns == ExpiresAtNs(pending));
    const uint32_t debit_slot = AccountSlot(pending.debit_account_id);
    const uint32_t credit_slot = AccountSlot(pending.credit_account_id);
    TG_ASSERT(debit_slot != IdIndex::kNoSlot && credit_slot != IdIndex::kNoSlot);
    SubtractPending(accounts_[debit_slot], accounts_[credit_slot], pending.amount);
    pending_states_[entry.transfer_slot] = PendingState::kExpired;
    ++released;
  }
  AssertBatchInvariants();
  return released;
}

uint64_t Ledger::NextExpiryNs() const {
  return expiry_count_ == 0 ? UINT64_MAX : expiry_heap_[0].expires_at_ns;
}

void Ledger::ExpiryPush(uint32_t transfer_slot) {
  TG_ASSERT(expiry_count_ < capacities_.transfers_max);
  const Transfer& pending = transfers_[transfer_slot];
  TG_ASSERT((pending.flags & TransferFlags::kPending) != 0 && pending.timeout_seconds != 0);
  const ExpiryEntry entry{ExpiresAtNs(pending), transfer_slot, 0};
  uint32_t position = expiry_count_++;
  while (position > 0) {
    const uint32_t parent = (position - 1) / 2;
    const ExpiryEntry& above = expiry_heap_[parent];
    if (!ExpiryBefore(entry.expires_at_ns, entry.transfer_slot, above.expires_at_ns,
                      above.transfer_slot)) {
      break;
    }
    expiry_heap_[position] = above;
    position = parent;
  }
  expiry_heap_[position] = entry;
}

Ledger::ExpiryEntry Ledger::ExpiryPop() {
  TG_ASSERT(expiry_count_ > 0);
  const ExpiryEntry top = expiry_heap_[0];
  const ExpiryEntry last = expiry_heap_[--expiry_count_];
  expiry_heap_[expiry_count_] = ExpiryEntry{};
  if (expiry_count_ == 0) return top;
  uint32_t position = 0;
  for (;;) {
    uint32_t child = 2 * position + 1;
    if (child >= expiry_count_) break;
    const uint32_t right = child + 1;
    if (right < expiry_count_ &&
        ExpiryBefore(expiry_heap_[right].expires_at_ns, expiry_heap_[right].transfer_slot,
                     expiry_heap_[child].expires_at_ns, expiry_heap_[child].transfer_slot)) {
      child = right;
    }
    if (!ExpiryBefore(expiry_heap_[child].expires_at_ns, expiry_heap_[child].transfer_slot,
                      last.expires_at_ns, last.transfer_slot)) {
      break;
    }
    expiry_heap_[position] = expiry_heap_[child];
    position = child;
  }
  expiry_heap_[position] = last;
  return top;
}

// --- Lookups ----------------------------------------------------------------------------------

IdIndex::Probe Ledger::ProbeAccount(uint64_t id) const {
  return account_index_.Find(id, [this](uint32_t slot) { return accounts_[slot].id; });
}

IdIndex::Probe Ledger::ProbeTransfer(uint64_t id) const {
  return transfer_index_.Find(id, [this](uint32_t slot) { return transfers_[slot].id; });
}

uint32_t Ledger::AccountSlot(uint64_t id) const { return ProbeAccount(id).slot; }

uint32_t Ledger::TransferSlot(uint64_t id) const { return ProbeTransfer(id).slot; }

const Account* Ledger::FindAccount(uint64_t id) const {
  if (id == 0) return nullptr;
  const uint32_t slot = AccountSlot(id);
  return slot == IdIndex::kNoSlot ? nullptr : &accounts_[slot];
}

const Transfer* Ledger::FindTransfer(uint64_t id) const {
  if (id == 0) return nullptr;
  const uint32_t slot = TransferSlot(id);
  return slot == IdIndex::kNoSlot ? nullptr : &transfers_[slot];
}

PendingState Ledger::FindPendingState(uint64_t id) const {
  if (id == 0) return PendingState::kNone;
  const uint32_t slot = TransferSlot(id);
  return slot == IdIndex::kNoSlot ? PendingState::kNone : pending_states_[slot];
}

PendingState Ledger::pending_state_at(uint32_t transfer_index) const {
  TG_ASSERT(transfer_index < transfers_count_);
  return pending_states_[transfer_index];
}

// --- Counters and running invariants ----------------------------------------------------------

void Ledger::AddPending(Account& debit, Account& credit, uint64_t amount) {
  TG_DASSERT(debit.currency == credit.currency);
  debit.debits_pending += amount;
  credit.credits_pending += amount;
  CurrencyTotals& totals = totals_[debit.currency];
  totals.debits_pending += amount;
  totals.credits_pending += amount;
}

void Ledger::SubtractPending(Account& debit, Account& credit, uint64_t amount) {
  TG_DASSERT(debit.currency == credit.currency);
  // A pending transfer's amount is still in both pending counters until it resolves.
  TG_ASSERT(debit.debits_pending >= amount && credit.credits_pending >= amount);
  debit.debits_pending -= amount;
  credit.credits_pending -= amount;
  CurrencyTotals& totals = totals_[debit.currency];
  totals.debits_pending -= amount;
  totals.credits_pending -= amount;
}

void Ledger::AddPosted(Account& debit, Account& credit, uint64_t amount) {
  TG_DASSERT(debit.currency == credit.currency);
  debit.debits_posted += amount;
  credit.credits_posted += amount;
  CurrencyTotals& totals = totals_[debit.currency];
  totals.debits_posted += amount;
  totals.credits_posted += amount;
}

Ledger::Counters Ledger::SaveCounters(const Account& account) {
  return Counters{account.debits_pending, account.debits_posted, account.credits_pending,
                  account.credits_posted};
}

// Moves the running totals by the change being undone (unsigned wrap-around is exact here).
void Ledger::RestoreCounters(Account& account, const Counters& saved) {
  CurrencyTotals& totals = totals_[account.currency];
  totals.debits_pending -= account.debits_pending;
  totals.debits_pending += saved.debits_pending;
  totals.debits_posted -= account.debits_posted;
  totals.debits_posted += saved.debits_posted;
  totals.credits_pending -= account.credits_pending;
  totals.credits_pending += saved.credits_pending;
  totals.credits_posted -= account.credits_posted;
  totals.credits_posted += saved.credits_posted;
  account.debits_pending = saved.debits_pending;
  account.debits_posted = saved.debits_posted;
  account.credits_pending = saved.credits_pending;
  account.credits_posted = saved.credits_posted;
}

void Ledger::AssertWithinLimits(const Account& account) const {
  if ((account.flags & AccountFlags::kDebitsMustNotExceedCredits) != 0) {
    TG_ASSERT_MSG(u128{account.debits_pending} + account.debits_posted <= account.credits_posted,
                  "debits exceed credits on a no-overdraft account");
  }
  if ((account.flags & AccountFlags::kCreditsMustNotExceedDebits) != 0) {
    TG_ASSERT_MSG(u128{account.credits_pending} + account.credits_posted <= account.debits_posted,
                  "credits exceed debits on a credits-limited account");
  }
}

void Ledger::AssertBatchInvariants() const {
  for (uint32_t index = 0; index < currencies_count_; ++index) {
    const CurrencyTotals& totals = totals_[currencies_[index]];
    TG_ASSERT_MSG(totals.debits_posted == totals.credits_posted,
                  "posted debits and credits differ in a currency");
    TG_ASSERT_MSG(totals.debits_pending == totals.credits_pending,
                  "pending debits and credits differ in a currency");
  }
}

void Ledger::NoteCurrency(uint16_t currency) {
  TG_ASSERT(currency != 0 && currency < kCurrencyCodesMax);
  for (uint32_t index = 0; index < currencies_count_; ++index) {
    if (currencies_[index] == currency) return;
  }
  TG_ASSERT(currencies_count_ < kCurrencyCodesMax);
  currencies_[currencies_count_++] = currency;
}

}  // namespace tangelo::ledger
