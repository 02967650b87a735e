#include "app/ledger_workload.h"

#include "base/assert.h"

namespace tangelo::app {

LedgerWorkload::LedgerWorkload(const LedgerWorkloadOptions& options)
    : options_(options),
      random_(options.seed),
      zipf_(options.card_accounts, options.zipf_exponent),
      next_id_(options.first_transfer_id),
      ring_(options.resolution_lag) {
  TG_ASSERT(options.resolution_lag > 0);
  TG_ASSERT(options.card_accounts > 0 && options.merchant_accounts > 0);
}

ledger::Account LedgerWorkload::SetupAccount(uint64_t id) const {
  ledger::Account account{};
  account.id = id;
  account.currency = options_.currency;
  // Card accounts never overdraw, counting holds.
  if (id <= options_.card_accounts) account.flags = ledger::AccountFlags::kDebitsMustNotExceedCredits;
  return account;
}

ledger::Transfer LedgerWorkload::SetupFunding(uint64_t card_rank) const {
  ledger::Transfer transfer{};
  transfer.id = card_rank + 1;
  transfer.debit_account_id = funding_account_id();
  transfer.credit_account_id = card_account_id(card_rank);
  transfer.amount = kFundingAmount;
  transfer.currency = options_.currency;
  return transfer;
}

uint64_t LedgerWorkload::PickCard() {
  // Shuffle the Zipf ranks so hot cards are spread over the id space (and
  // so over the hash table), as real card numbers are.
  const uint64_t rank = zipf_.Next(random_);
  return card_account_id((rank * 0x9E3779B97F4A7C15ULL) % options_.card_accounts);
}

void LedgerWorkload::Next(ledger::Transfer* transfer) {
  *transfer = ledger::Transfer{};
  transfer->currency = options_.currency;
  if (ring_size_ == ring_.size()) {
    // Resolve the oldest open hold.
    const OpenHold hold = ring_[ring_head_];
    ring_head_ = (ring_head_ + 1) % ring_.size();
    --ring_size_;
    transfer->id = next_id_++;
    transfer->pending_id = hold.id;
    transfer->currency = 0;  // Taken from the pending transfer.
    switch (hold.resolution) {
      case Resolution::kPostFull:
        transfer->flags = ledger::TransferFlags::kPostPendingTransfer;
        transfer->amount = hold.amount;
        counts_.posts_full++;
        break;
      case Resolution::kPostPartial:
        transfer->flags = ledger::TransferFlags::kPostPendingTransfer;
        transfer->amount = hold.amount / 2 + 1;
        counts_.posts_partial++;
        break;
      case Resolution::kVoid:
        transfer->flags = ledger::TransferFlags::kVoidPendingTransfer;
        counts_.voids++;
        break;
    }
    return;
  }
  transfer->id = next_id_++;
  transfer->debit_account_id = PickCard();
  transfer->credit_account_id = merchant_account_id(random_.Uniform(options_.merchant_accounts));
  transfer->amount = random_.Between(100, 20'000);
  const uint64_t roll = random_.Uniform(100);
  if (roll < 5) {
    counts_.single_phase++;
    return;
  }
  transfer->flags = ledger::TransferFlags::kPending;
  counts_.pending++;
  if (roll >= 97) {
    transfer->timeout_seconds = options_.expiring_hold_timeout_seconds;
    counts_.expiring++;
    return;
  }
  transfer->timeout_seconds = options_.hold_timeout_seconds;
  Resolution resolution = Resolution::kVoid;
  if (roll < 90) resolution = random_.Chance(20) ? Resolution::kPostPartial : Resolution::kPostFull;
  ring_[(ring_head_ + ring_size_) % ring_.size()] = OpenHold{transfer->id, transfer->amount,
                                                               resolution};
  ++ring_size_;
}

}  // namespace tangelo::app
