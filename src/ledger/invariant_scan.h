// Ledger::InvariantScan: CheckAllInvariants cut into range checks (internal to the ledger).
//
// CheckAllInvariants runs every range in one go. The snapshot loader runs each range on the
// chunk it has just copied, while the chunk is still in cache, so a cold start reads the big
// arrays from memory once instead of twice. The ranges have one ordering rule: Transfers needs
// every ExpiryEntries range (and the pending states and resolved slots) done first; Finish
// comes last. Every check is safe on arbitrary bytes: values are range-checked before use.
// Owner: the caller, for one pass; reads the ledger, never changes it.
#pragma once

#include <cstdint>
#include <vector>

#include "ledger/ledger.h"

namespace tangelo::ledger {

class Ledger::InvariantScan {
 public:
  // `ledger`'s counts and currency list must be final; the arrays may still be arriving.
  explicit InvariantScan(const Ledger& ledger);

  base::Status Start();  // Counts and the currency list.
  base::Status AccountIndexCells(uint32_t first, uint32_t end);
  base::Status TransferIndexCells(uint32_t first, uint32_t end);
  base::Status Accounts(uint32_t first, uint32_t end);
  base::Status ExpiryEntries(uint32_t first, uint32_t end);
  base::Status Transfers(uint32_t first, uint32_t end);
  base::Status FinishIndexes();  // Cell counts, once every cell range is done.
  base::Status Finish();         // FinishIndexes, then the totals gathered by the ranges.

 private:
  base::Status IndexCells(const IdIndex& index, uint32_t records_count, uint32_t first,
                          uint32_t end, std::vector<bool>& seen, uint64_t& occupied,
                          const char* what);
  bool Listed(uint16_t currency) const { return currency < kCurrencyCodesMax && listed_[currency]; }

  const Ledger& ledger_;
  bool listed_[kCurrencyCodesMax] = {};  // The ledger's currencies, checked by Start.
  std::vector<bool> account_cells_seen_;
  std::vector<bool> transfer_cells_seen_;
  uint64_t account_cells_occupied_ = 0;
  uint64_t transfer_cells_occupied_ = 0;
  std::vector<CurrencyTotals> account_sums_;
  std::vector<CurrencyTotals> transfer_sums_;  // Pending amounts held, amounts posted.
  uint64_t previous_account_timestamp_ = 0;
  uint64_t previous_transfer_timestamp_ = 0;
  std::vector<bool> in_heap_;
  std::vector<bool> resolved_;
  uint64_t resolutions_ = 0;        // Posts and voids.
  uint64_t resolved_pendings_ = 0;  // Pending transfers in state posted or voided.
};

}  // namespace tangelo::ledger
