// CheckAllInvariants: every invariant of the ledger recomputed from the stored records.
//
// It runs after a snapshot load on bytes that may be corrupt, so it never trusts a value
// before checking it: slots are bounds-checked before use, enum bytes before they are read as
// enums, currencies before they index a table. Loops that look ids up prefetch a few records
// ahead, because on 10M transfers the cost is memory latency, not arithmetic.
#include <cstring>
#include <string>

#include "base/money.h"
#include "ledger/ledger.h"

namespace tangelo::ledger {
namespace {

using u128 = unsigned __int128;
constexpr uint64_t kNanosecondsPerSecond = 1'000'000'000;
constexpr uint32_t kPrefetchDistance = 16;

base::Status Broken(const std::string& what, uint64_t index) {
  return base::Internal("ledger invariant broken: " + what + " (at " + std::to_string(index) + ")");
}

// Every occupied cell points at a record, there are as many cells as records, and every record
// is found at its own slot (so ids are unique and no probe chain is broken).
template <typename IdAt>
base::Status CheckIndex(const IdIndex& index, uint32_t records_count, const IdAt& id_at,
                        const char* what) {
  uint64_t occupied = 0;
  const uint64_t* cells = index.cells();
  for (uint32_t position = 0; position < index.capacity(); ++position) {
    if (cells[position] == 0) continue;
    const uint32_t slot = static_cast<uint32_t>(cells[position]) - 1;
    if (slot >= records_count)
      return Broken(std::string(what) + " index cell out of range", position);
    ++occupied;
  }
  if (occupied != records_count) return Broken(std::string(what) + " index count", occupied);
  for (uint32_t slot = 0; slot < records_count; ++slot) {
    if (slot + kPrefetchDistance < records_count) index.Prefetch(id_at(slot + kPrefetchDistance));
    const uint64_t id = id_at(slot);
    if (id == 0) return Broken(std::string(what) + " id is zero", slot);
    if (index.Find(id, id_at).slot != slot) {
      return Broken(std::string(what) + " id duplicated or unreachable", slot);
    }
  }
  return base::Status::Ok();
}

// Caches base::CurrencyFromNumeric per code (a linear search) for scans over millions of rows.
class SupportedCurrencies {
 public:
  bool Contains(uint16_t code) {
    if (code == 0 || code >= Ledger::kCurrencyCodesMax) return false;
    if (known_[code] == 0) known_[code] = base::CurrencyFromNumeric(code).has_value() ? 1 : 2;
    return known_[code] == 1;
  }

 private:
  uint8_t known_[Ledger::kCurrencyCodesMax] = {};
};

}  // namespace

base::Status Ledger::CheckAllInvariants() const {
  TG_RETURN_IF_ERROR(CheckIndexes());
  TG_RETURN_IF_ERROR(CheckAccounts());
  std::vector<bool> in_heap;
  TG_RETURN_IF_ERROR(CheckExpiryHeap(&in_heap));
  return CheckTransfers(in_heap);
}

base::Status Ledger::CheckIndexes() const {
  if (accounts_count_ > capacities_.accounts_max) return Broken("accounts count", accounts_count_);
  if (transfers_count_ > capacities_.transfers_max) {
    return Broken("transfers count", transfers_count_);
  }
  TG_RETURN_IF_ERROR(CheckIndex(
      account_index_, accounts_count_, [this](uint32_t slot) { return accounts_[slot].id; },
      "account"));
  return CheckIndex(
      transfer_index_, transfers_count_, [this](uint32_t slot) { return transfers_[slot].id; },
      "transfer");
}

base::Status Ledger::CheckAccounts() const {
  SupportedCurrencies supported;
  std::vector<bool> listed(kCurrencyCodesMax, false);
  for (uint32_t index = 0; index < currencies_count_; ++index) {
    const uint16_t code = currencies_[index];
    if (!supported.Contains(code) || listed[code]) return Broken("currency list", index);
    listed[code] = true;
  }
  std::vector<CurrencyTotals> sums(kCurrencyCodesMax);
  uint64_t previous_timestamp = 0;
  for (uint32_t slot = 0; slot < accounts_count_; ++slot) {
    const Account& account = accounts_[slot];
    if (account.timestamp <= previous_timestamp || account.timestamp > last_timestamp_ns_) {
      return Broken("account timestamps must increase", slot);
    }
    previous_timestamp = account.timestamp;
    if ((account.flags & ~AccountFlags::kAll) != 0 || account.reserved != 0 ||
        ((account.flags & AccountFlags::kDebitsMustNotExceedCredits) != 0 &&
         (account.flags & AccountFlags::kCreditsMustNotExceedDebits) != 0)) {
      return Broken("account flags", slot);
    }
    if (!supported.Contains(account.currency) || !listed[account.currency]) {
      return Broken("account currency", slot);
    }
    const u128 debits = u128{account.debits_pending} + account.debits_posted;
    const u128 credits = u128{account.credits_pending} + account.credits_posted;
    if (debits > UINT64_MAX || credits > UINT64_MAX) return Broken("account overflow", slot);
    if ((account.flags & AccountFlags::kDebitsMustNotExceedCredits) != 0 &&
        debits > account.credits_posted) {
      return Broken("debits exceed credits on a no-overdraft account", slot);
    }
    if ((account.flags & AccountFlags::kCreditsMustNotExceedDebits) != 0 &&
        credits > account.debits_posted) {
      return Broken("credits exceed debits on a credits-limited account", slot);
    }
    CurrencyTotals& sum = sums[account.currency];
    sum.debits_pending += account.debits_pending;
    sum.debits_posted += account.debits_posted;
    sum.credits_pending += account.credits_pending;
    sum.credits_posted += account.credits_posted;
  }
  for (uint32_t index = 0; index < currencies_count_; ++index) {
    const uint16_t code = currencies_[index];
    const CurrencyTotals& sum = sums[code];
    const CurrencyTotals& running = totals_[code];
    if (sum.debits_pending != running.debits_pending ||
        sum.debits_posted != running.debits_posted ||
        sum.credits_pending != running.credits_pending ||
        sum.credits_posted != running.credits_posted) {
      return Broken("running totals differ from the accounts", code);
    }
    if (sum.debits_posted != sum.credits_posted) return Broken("posted debits != credits", code);
    if (sum.debits_pending != sum.credits_pending) {
      return Broken("pending debits != credits", code);
    }
  }
  return base::Status::Ok();
}

base::Status Ledger::CheckExpiryHeap(std::vector<bool>* in_heap) const {
  in_heap->assign(transfers_count_, false);
  if (expiry_count_ > transfers_count_) return Broken("expiry heap count", expiry_count_);
  for (uint32_t position = 0; position < expiry_count_; ++position) {
    const ExpiryEntry& entry = expiry_heap_[position];
    if (entry.transfer_slot >= transfers_count_ || entry.reserved != 0 ||
        (*in_heap)[entry.transfer_slot]) {
      return Broken("expiry entry slot", position);
    }
    (*in_heap)[entry.transfer_slot] = true;
    const Transfer& transfer = transfers_[entry.transfer_slot];
    uint8_t state = 0;
    std::memcpy(&state, &pending_states_[entry.transfer_slot], 1);
    // An expired hold left the heap when it expired; a resolved one may still be in it.
    if ((transfer.flags & TransferFlags::kPending) == 0 || transfer.timeout_seconds == 0 ||
        (state != static_cast<uint8_t>(PendingState::kPending) &&
         state != static_cast<uint8_t>(PendingState::kPosted) &&
         state != static_cast<uint8_t>(PendingState::kVoided))) {
      return Broken("expiry entry for a transfer that cannot expire", position);
    }
    const u128 expires_at =
        u128{transfer.timestamp} + u128{transfer.timeout_seconds} * kNanosecondsPerSecond;
    if (entry.expires_at_ns != expires_at) return Broken("expiry entry time", position);
    if (position > 0) {
      const ExpiryEntry& parent = expiry_heap_[(position - 1) / 2];
      if (entry.expires_at_ns < parent.expires_at_ns ||
          (entry.expires_at_ns == parent.expires_at_ns &&
           entry.transfer_slot < parent.transfer_slot)) {
        return Broken("expiry heap order", position);
      }
    }
  }
  return base::Status::Ok();
}

base::Status Ledger::CheckTransfers(const std::vector<bool>& in_heap) const {
  SupportedCurrencies supported;
  std::vector<bool> listed(kCurrencyCodesMax, false);
  for (uint32_t index = 0; index < currencies_count_; ++index) listed[currencies_[index]] = true;
  std::vector<CurrencyTotals> sums(kCurrencyCodesMax);
  std::vector<bool> resolved(transfers_count_, false);
  uint64_t resolutions = 0;        // Posts and voids.
  uint64_t resolved_pendings = 0;  // Pending transfers in state posted or voided.
  uint64_t previous_timestamp = 0;
  for (uint32_t slot = 0; slot < transfers_count_; ++slot) {
    if (slot + kPrefetchDistance < transfers_count_) {
      const Transfer& ahead = transfers_[slot + kPrefetchDistance];
      account_index_.Prefetch(ahead.debit_account_id);
      account_index_.Prefetch(ahead.credit_account_id);
      if (ahead.pending_id != 0) transfer_index_.Prefetch(ahead.pending_id);
    }
    const Transfer& transfer = transfers_[slot];
    uint8_t state_byte = 0;
    std::memcpy(&state_byte, &pending_states_[slot], 1);
    if (state_byte > static_cast<uint8_t>(PendingState::kExpired)) {
      return Broken("pending state value", slot);
    }
    const PendingState state = static_cast<PendingState>(state_byte);
    if (transfer.timestamp <= previous_timestamp || transfer.timestamp > last_timestamp_ns_) {
      return Broken("transfer timestamps must increase", slot);
    }
    previous_timestamp = transfer.timestamp;
    const uint16_t flags = transfer.flags;
    const bool is_pending = (flags & TransferFlags::kPending) != 0;
    const bool is_post = (flags & TransferFlags::kPostPendingTransfer) != 0;
    const bool is_void = (flags & TransferFlags::kVoidPendingTransfer) != 0;
    const bool is_balancing =
        (flags & (TransferFlags::kBalancingDebit | TransferFlags::kBalancingCredit)) != 0;
    if ((flags & ~TransferFlags::kAll) != 0 || int{is_pending} + int{is_post} + int{is_void} > 1 ||
        ((is_post || is_void) && is_balancing)) {
      return Broken("transfer flags", slot);
    }
    if (transfer.amount == 0) return Broken("transfer amount is zero", slot);
    if (!supported.Contains(transfer.currency) || !listed[transfer.currency]) {
      return Broken("transfer currency", slot);
    }
    const Account* debit = FindAccount(transfer.debit_account_id);
    const Account* credit = FindAccount(transfer.credit_account_id);
    if (debit == nullptr || credit == nullptr || debit == credit ||
        debit->currency != transfer.currency || credit->currency != transfer.currency) {
      return Broken("transfer accounts", slot);
    }
    if (transfer.timeout_seconds > kPendingTimeoutSecondsMax ||
        (!is_pending && transfer.timeout_seconds != 0)) {
      return Broken("transfer timeout", slot);
    }
    CurrencyTotals& sum = sums[transfer.currency];
    if (is_pending) {
      if (state == PendingState::kNone || transfer.pending_id != 0) {
        return Broken("pending transfer state", slot);
      }
      if (state == PendingState::kExpired && transfer.timeout_seconds == 0) {
        return Broken("a hold without timeout expired", slot);
      }
      if (transfer.timeout_seconds != 0 && state == PendingState::kPending && !in_heap[slot]) {
        return Broken("pending hold missing from the expiry heap", slot);
      }
      if (state == PendingState::kPending) sum.debits_pending += transfer.amount;
      if (state == PendingState::kPosted || state == PendingState::kVoided) ++resolved_pendings;
    } else if (is_post || is_void) {
      if (state != PendingState::kNone) return Broken("resolving transfer state", slot);
      const uint32_t pending_slot = TransferSlot(transfer.pending_id);
      if (pending_slot >= slot) return Broken("resolves a missing or later transfer", slot);
      const Transfer& pending = transfers_[pending_slot];
      const PendingState expected = is_post ? PendingState::kPosted : PendingState::kVoided;
      if ((pending.flags & TransferFlags::kPending) == 0 ||
          pending_states_[pending_slot] != expected ||
          pending.debit_account_id != transfer.debit_account_id ||
          pending.credit_account_id != transfer.credit_account_id ||
          pending.currency != transfer.currency || transfer.amount > pending.amount ||
          (is_void && transfer.amount != pending.amount)) {
        return Broken("resolution does not match its pending transfer", slot);
      }
      if (pending.timeout_seconds != 0 &&
          u128{pending.timestamp} + u128{pending.timeout_seconds} * kNanosecondsPerSecond <=
              transfer.timestamp) {
        return Broken("resolved after expiry", slot);
      }
      if (resolved[pending_slot]) return Broken("pending transfer resolved twice", slot);
      resolved[pending_slot] = true;
      ++resolutions;
      if (is_post) sum.debits_posted += transfer.amount;
    } else {
      if (state != PendingState::kNone || transfer.pending_id != 0) {
        return Broken("single-phase transfer state", slot);
      }
      sum.debits_posted += transfer.amount;
    }
  }
  if (resolutions != resolved_pendings) return Broken("resolutions != resolved holds", resolutions);
  for (uint16_t code = 0; code < kCurrencyCodesMax; ++code) {
    if (sums[code].debits_pending != totals_[code].debits_pending ||
        sums[code].debits_posted != totals_[code].debits_posted) {
      return Broken("transfers do not add up to the account balances", code);
    }
  }
  return base::Status::Ok();
}

}  // namespace tangelo::ledger
