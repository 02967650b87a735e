// CheckAllInvariants and CheckReferences: the ledger's invariants recomputed from its records.
//
// Both run on state loaded from bytes that may be corrupt, so they never trust a value before
// checking it: slots are bounds-checked before use, enum bytes before they are read as enums,
// currencies before they index a table, index cells before any lookup.
//
// CheckAllInvariants (InvariantScan) reads the big arrays sequentially; its only random
// accesses go to small tables (pending states, bitmaps), so it runs at memory speed and the
// snapshot loader can run it chunk by chunk as it copies. CheckReferences follows every id to
// its record; on 10M transfers that is tens of millions of cache misses (about 1 s even with
// the prefetch pipeline below), so it is kept apart.
#include <algorithm>
#include <string>

#include "base/money.h"
#include "ledger/invariant_scan.h"
#include "ledger/ledger.h"

namespace tangelo::ledger {
namespace {

using u128 = unsigned __int128;
constexpr uint64_t kNanosecondsPerSecond = 1'000'000'000;

base::Status Broken(const std::string& what, uint64_t index) {
  return base::Internal("ledger invariant broken: " + what + " (at " + std::to_string(index) + ")");
}

u128 ExpiresAtNs(const Transfer& pending) {
  return u128{pending.timestamp} + u128{pending.timeout_seconds} * kNanosecondsPerSecond;
}

}  // namespace

base::Status Ledger::CheckAllInvariants() const {
  InvariantScan scan(*this);
  TG_RETURN_IF_ERROR(scan.Start());
  TG_RETURN_IF_ERROR(scan.AccountIndexCells(0, account_index_.capacity()));
  TG_RETURN_IF_ERROR(scan.TransferIndexCells(0, transfer_index_.capacity()));
  TG_RETURN_IF_ERROR(scan.Accounts(0, accounts_count_));
  TG_RETURN_IF_ERROR(scan.ExpiryEntries(0, expiry_count_));
  TG_RETURN_IF_ERROR(scan.Transfers(0, transfers_count_));
  return scan.Finish();
}

// The structural index check CheckReferences needs before its first lookup.
base::Status Ledger::CheckIndexes() const {
  InvariantScan scan(*this);
  TG_RETURN_IF_ERROR(scan.Start());
  TG_RETURN_IF_ERROR(scan.AccountIndexCells(0, account_index_.capacity()));
  TG_RETURN_IF_ERROR(scan.TransferIndexCells(0, transfer_index_.capacity()));
  return scan.FinishIndexes();
}

Ledger::InvariantScan::InvariantScan(const Ledger& ledger)
    : ledger_(ledger),
      account_cells_seen_(ledger.accounts_count_, false),
      transfer_cells_seen_(ledger.transfers_count_, false),
      account_sums_(kCurrencyCodesMax),
      transfer_sums_(kCurrencyCodesMax),
      in_heap_(ledger.transfers_count_, false),
      resolved_(ledger.transfers_count_, false) {}

base::Status Ledger::InvariantScan::Start() {
  if (ledger_.accounts_count_ > ledger_.capacities_.accounts_max) {
    return Broken("accounts count", ledger_.accounts_count_);
  }
  if (ledger_.transfers_count_ > ledger_.capacities_.transfers_max) {
    return Broken("transfers count", ledger_.transfers_count_);
  }
  if (ledger_.expiry_count_ > ledger_.transfers_count_) {
    return Broken("expiry heap count", ledger_.expiry_count_);
  }
  if (ledger_.currencies_count_ > kCurrencyCodesMax) {
    return Broken("currency count", ledger_.currencies_count_);
  }
  for (uint32_t index = 0; index < ledger_.currencies_count_; ++index) {
    const uint16_t code = ledger_.currencies_[index];
    if (code == 0 || code >= kCurrencyCodesMax || listed_[code] ||
        !base::CurrencyFromNumeric(code).has_value()) {
      return Broken("currency list", index);
    }
    listed_[code] = true;
  }
  return base::Status::Ok();
}

// Every occupied cell names a record in range, no record twice, and (checked by Finish) there
// is one cell per record. This is what makes every later Find memory-safe: slots in range, and
// (as records never exceed half the table) an empty cell always ends a probe.
base::Status Ledger::InvariantScan::IndexCells(const IdIndex& index, uint32_t records_count,
                                               uint32_t first, uint32_t end,
                                               std::vector<bool>& seen, uint64_t& occupied,
                                               const char* what) {
  TG_ASSERT(first <= end && end <= index.capacity());
  const uint64_t* cells = index.cells();
  for (uint32_t position = first; position < end; ++position) {
    if (cells[position] == 0) continue;
    const uint32_t slot = IdIndex::CellSlot(cells[position]);
    if (slot >= records_count || seen[slot]) {
      return Broken(std::string(what) + " index cell out of range or repeated", position);
    }
    seen[slot] = true;
    ++occupied;
  }
  return base::Status::Ok();
}

base::Status Ledger::InvariantScan::AccountIndexCells(uint32_t first, uint32_t end) {
  return IndexCells(ledger_.account_index_, ledger_.accounts_count_, first, end,
                    account_cells_seen_, account_cells_occupied_, "account");
}

base::Status Ledger::InvariantScan::TransferIndexCells(uint32_t first, uint32_t end) {
  return IndexCells(ledger_.transfer_index_, ledger_.transfers_count_, first, end,
                    transfer_cells_seen_, transfer_cells_occupied_, "transfer");
}

base::Status Ledger::InvariantScan::Accounts(uint32_t first, uint32_t end) {
  TG_ASSERT(first <= end && end <= ledger_.accounts_count_);
  for (uint32_t slot = first; slot < end; ++slot) {
    const Account& account = ledger_.accounts_[slot];
    if (account.id == 0) return Broken("account id is zero", slot);
    if (account.timestamp <= previous_account_timestamp_ ||
        account.timestamp > ledger_.last_timestamp_ns_) {
      return Broken("account timestamps must increase", slot);
    }
    previous_account_timestamp_ = account.timestamp;
    if ((account.flags & ~AccountFlags::kAll) != 0 || account.reserved != 0 ||
        ((account.flags & AccountFlags::kDebitsMustNotExceedCredits) != 0 &&
         (account.flags & AccountFlags::kCreditsMustNotExceedDebits) != 0)) {
      return Broken("account flags", slot);
    }
    if (!Listed(account.currency)) return Broken("account currency", slot);
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
    account_sums_[account.currency].Add(account);
  }
  return base::Status::Ok();
}

// Heap order and entry slots. That each entry's hold can expire, and that every pending hold
// with a timeout has an entry, is checked by Transfers from in_heap_; the expiry times by
// CheckReferences.
base::Status Ledger::InvariantScan::ExpiryEntries(uint32_t first, uint32_t end) {
  TG_ASSERT(first <= end && end <= ledger_.expiry_count_);
  for (uint32_t position = first; position < end; ++position) {
    const ExpiryEntry& entry = ledger_.expiry_heap_[position];
    if (entry.transfer_slot >= ledger_.transfers_count_ || entry.reserved != 0 ||
        in_heap_[entry.transfer_slot]) {
      return Broken("expiry entry slot", position);
    }
    in_heap_[entry.transfer_slot] = true;
    if (position > 0) {
      const ExpiryEntry& parent = ledger_.expiry_heap_[(position - 1) / 2];
      if (entry.expires_at_ns < parent.expires_at_ns ||
          (entry.expires_at_ns == parent.expires_at_ns &&
           entry.transfer_slot < parent.transfer_slot)) {
        return Broken("expiry heap order", position);
      }
    }
  }
  return base::Status::Ok();
}

base::Status Ledger::InvariantScan::Transfers(uint32_t first, uint32_t end) {
  TG_ASSERT(first <= end && end <= ledger_.transfers_count_);
  for (uint32_t slot = first; slot < end; ++slot) {
    const Transfer& transfer = ledger_.transfers_[slot];
    // The state array is raw bytes from a snapshot: range-check before using it as an enum.
    const uint8_t state_byte = static_cast<uint8_t>(ledger_.pending_states_[slot]);
    if (state_byte > static_cast<uint8_t>(PendingState::kExpired)) {
      return Broken("pending state value", slot);
    }
    const PendingState state = static_cast<PendingState>(state_byte);
    if (transfer.id == 0) return Broken("transfer id is zero", slot);
    if (transfer.timestamp <= previous_transfer_timestamp_ ||
        transfer.timestamp > ledger_.last_timestamp_ns_) {
      return Broken("transfer timestamps must increase", slot);
    }
    previous_transfer_timestamp_ = transfer.timestamp;
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
    if (!Listed(transfer.currency)) return Broken("transfer currency", slot);
    if (transfer.debit_account_id == 0 || transfer.credit_account_id == 0 ||
        transfer.debit_account_id == transfer.credit_account_id) {
      return Broken("transfer account ids", slot);
    }
    if (transfer.timeout_seconds > kPendingTimeoutSecondsMax ||
        (!is_pending && transfer.timeout_seconds != 0) || ExpiresAtNs(transfer) > UINT64_MAX) {
      return Broken("transfer timeout", slot);
    }
    if (in_heap_[slot] &&
        (!is_pending || transfer.timeout_seconds == 0 || state == PendingState::kExpired)) {
      return Broken("expiry entry for a transfer that cannot expire", slot);
    }
    if (!is_post && !is_void && ledger_.resolved_slots_[slot] != 0) {
      return Broken("resolution link on a transfer that resolves nothing", slot);
    }
    CurrencyTotals& sum = transfer_sums_[transfer.currency];
    if (is_pending) {
      if (state == PendingState::kNone || transfer.pending_id != 0) {
        return Broken("pending transfer state", slot);
      }
      if (state == PendingState::kExpired && transfer.timeout_seconds == 0) {
        return Broken("a hold without timeout expired", slot);
      }
      if (transfer.timeout_seconds != 0 && state == PendingState::kPending && !in_heap_[slot]) {
        return Broken("pending hold missing from the expiry heap", slot);
      }
      if (state == PendingState::kPending) sum.debits_pending += transfer.amount;
      if (state == PendingState::kPosted || state == PendingState::kVoided) ++resolved_pendings_;
    } else if (is_post || is_void) {
      const uint32_t pending_slot = ledger_.resolved_slots_[slot];
      if (state != PendingState::kNone || transfer.pending_id == 0 || pending_slot >= slot) {
        return Broken("resolving transfer state", slot);
      }
      // The pending transfer was checked earlier in this pass (pending_slot < slot): its state
      // byte is in range and it carries the pending flag.
      const PendingState expected = is_post ? PendingState::kPosted : PendingState::kVoided;
      if (ledger_.pending_states_[pending_slot] != expected) {
        return Broken("resolution does not match its pending transfer", slot);
      }
      if (resolved_[pending_slot]) return Broken("pending transfer resolved twice", slot);
      resolved_[pending_slot] = true;
      ++resolutions_;
      if (is_post) sum.debits_posted += transfer.amount;
    } else {
      if (state != PendingState::kNone || transfer.pending_id != 0) {
        return Broken("single-phase transfer state", slot);
      }
      sum.debits_posted += transfer.amount;
    }
  }
  return base::Status::Ok();
}

base::Status Ledger::InvariantScan::FinishIndexes() {
  if (account_cells_occupied_ != ledger_.accounts_count_) {
    return Broken("account index count", account_cells_occupied_);
  }
  if (transfer_cells_occupied_ != ledger_.transfers_count_) {
    return Broken("transfer index count", transfer_cells_occupied_);
  }
  return base::Status::Ok();
}

base::Status Ledger::InvariantScan::Finish() {
  TG_RETURN_IF_ERROR(FinishIndexes());
  // Every hold in state posted or voided was resolved by exactly one stored transfer.
  if (resolutions_ != resolved_pendings_) {
    return Broken("resolutions != resolved holds", resolutions_);
  }
  for (uint16_t code = 0; code < kCurrencyCodesMax; ++code) {
    const CurrencyTotals& accounts = account_sums_[code];
    const CurrencyTotals& running = ledger_.totals_[code];
    if (accounts.debits_pending != running.debits_pending ||
        accounts.debits_posted != running.debits_posted ||
        accounts.credits_pending != running.credits_pending ||
        accounts.credits_posted != running.credits_posted) {
      return Broken("running totals differ from the accounts", code);
    }
    if (accounts.debits_posted != accounts.credits_posted) {
      return Broken("posted debits != credits", code);
    }
    if (accounts.debits_pending != accounts.credits_pending) {
      return Broken("pending debits != credits", code);
    }
    if (transfer_sums_[code].debits_pending != accounts.debits_pending ||
        transfer_sums_[code].debits_posted != accounts.debits_posted) {
      return Broken("transfers do not add up to the account balances", code);
    }
  }
  return base::Status::Ok();
}

base::Status Ledger::CheckReferences() const {
  TG_RETURN_IF_ERROR(CheckIndexes());
  constexpr uint32_t kAhead = 16;
  for (uint32_t slot = 0; slot < accounts_count_; ++slot) {
    if (slot + kAhead < accounts_count_) account_index_.Prefetch(accounts_[slot + kAhead].id);
    if (AccountSlot(accounts_[slot].id) != slot) {
      return Broken("account id duplicated or unreachable", slot);
    }
  }
  TG_RETURN_IF_ERROR(CheckTransferReferences());
  for (uint32_t position = 0; position < expiry_count_; ++position) {
    const ExpiryEntry& entry = expiry_heap_[position];
    if (entry.transfer_slot >= transfers_count_ ||
        entry.expires_at_ns != ExpiresAtNs(transfers_[entry.transfer_slot])) {
      return Broken("expiry entry time", position);
    }
  }
  return base::Status::Ok();
}

base::Status Ledger::CheckTransferReferences() const {
  // Up to four random lookups per transfer (itself, two accounts, its pending transfer). A
  // three-stage pipeline keeps many misses in flight: index cells are prefetched kCellsAhead
  // transfers ahead, the records their fingerprints point at kRecordsAhead ahead, and the
  // check itself then finds everything cached.
  constexpr uint32_t kCellsAhead = 32;
  constexpr uint32_t kRecordsAhead = 16;
  for (uint32_t slot = 0; slot < std::min(kCellsAhead, transfers_count_); ++slot) {
    PrefetchIndexes(transfers_[slot]);
  }
  for (uint32_t slot = 0; slot < std::min(kRecordsAhead, transfers_count_); ++slot) {
    PrefetchRecords(transfers_[slot]);
  }
  for (uint32_t slot = 0; slot < transfers_count_; ++slot) {
    if (slot + kCellsAhead < transfers_count_) PrefetchIndexes(transfers_[slot + kCellsAhead]);
    if (slot + kRecordsAhead < transfers_count_) {
      PrefetchRecords(transfers_[slot + kRecordsAhead]);
    }
    const Transfer& transfer = transfers_[slot];
    if (TransferSlot(transfer.id) != slot) {
      return Broken("transfer id duplicated or unreachable", slot);
    }
    const Account* debit = FindAccount(transfer.debit_account_id);
    const Account* credit = FindAccount(transfer.credit_account_id);
    if (debit == nullptr || credit == nullptr || debit->currency != transfer.currency ||
        credit->currency != transfer.currency) {
      return Broken("transfer accounts missing or in another currency", slot);
    }
    const bool is_post = (transfer.flags & TransferFlags::kPostPendingTransfer) != 0;
    const bool is_void = (transfer.flags & TransferFlags::kVoidPendingTransfer) != 0;
    if (!is_post && !is_void) continue;
    const uint32_t pending_slot = TransferSlot(transfer.pending_id);
    if (pending_slot == IdIndex::kNoSlot || pending_slot != resolved_slots_[slot]) {
      return Broken("resolution does not name its pending transfer", slot);
    }
    const Transfer& pending = transfers_[pending_slot];
    if (pending.debit_account_id != transfer.debit_account_id ||
        pending.credit_account_id != transfer.credit_account_id ||
        pending.currency != transfer.currency || transfer.amount > pending.amount ||
        (is_void && transfer.amount != pending.amount)) {
      return Broken("resolution differs from its pending transfer", slot);
    }
    if (pending.timeout_seconds != 0 && ExpiresAtNs(pending) <= transfer.timestamp) {
      return Broken("resolved after expiry", slot);
    }
  }
  return base::Status::Ok();
}

}  // namespace tangelo::ledger
