// LedgerWorkload: the canonical card-ledger workload of the benchmarks and
// crash tests (issue 2; shared/anchors/ledger.md, AUTH-LEDGER-1).
//
// Card accounts are chosen with a shuffled Zipf skew; merchants uniformly.
// Of new operations, 5% are single-phase transfers and 95% are holds
// (pending transfers); of the holds, 85/95 are later posted (one in five
// partially), 7/95 voided and 3/95 left to expire after a short timeout.
// Each hold's resolution follows `lag` operations after it, so many holds
// are open at once, as in a real card book. Deterministic from the seed.
#pragma once

#include <cstdint>
#include <vector>

#include "base/random.h"
#include "ledger/types.h"

namespace tangelo::app {

struct LedgerWorkloadOptions {
  uint64_t card_accounts = 1'000'000;
  uint64_t merchant_accounts = 10'000;
  double zipf_exponent = 1.0;
  uint64_t seed = 1;
  uint64_t first_transfer_id = 1ULL << 40;  // Above the setup transfers.
  uint32_t resolution_lag = 1024;
  uint32_t expiring_hold_timeout_seconds = 1;
  uint32_t hold_timeout_seconds = 7 * 86400;
  uint16_t currency = 840;
};

class LedgerWorkload {
 public:
  explicit LedgerWorkload(const LedgerWorkloadOptions& options);

  // Account ids: cards 1..card_accounts, merchants after them, then the
  // funding account that credits every card at setup.
  uint64_t card_account_id(uint64_t rank) const { return rank + 1; }
  uint64_t merchant_account_id(uint64_t index) const { return options_.card_accounts + 1 + index; }
  uint64_t funding_account_id() const {
    return options_.card_accounts + options_.merchant_accounts + 1;
  }
  uint64_t accounts_total() const { return funding_account_id(); }

  // The setup records: every account, then one funding transfer per card.
  ledger::Account SetupAccount(uint64_t id) const;
  ledger::Transfer SetupFunding(uint64_t card_rank) const;
  static constexpr uint64_t kFundingAmount = 1'000'000'000'000ULL;

  // The next operation of the timed workload.
  void Next(ledger::Transfer* transfer);

  struct Counts {
    uint64_t single_phase = 0;
    uint64_t pending = 0;
    uint64_t posts_full = 0;
    uint64_t posts_partial = 0;
    uint64_t voids = 0;
    uint64_t expiring = 0;
  };
  const Counts& counts() const { return counts_; }

 private:
  enum class Resolution : uint8_t { kPostFull, kPostPartial, kVoid };
  struct OpenHold {
    uint64_t id;
    uint64_t amount;
    Resolution resolution;
  };

  uint64_t PickCard();

  LedgerWorkloadOptions options_;
  base::Random random_;
  base::ZipfGenerator zipf_;
  uint64_t next_id_;
  // Ring of holds awaiting resolution, capacity resolution_lag.
  std::vector<OpenHold> ring_;
  uint64_t ring_head_ = 0;
  uint64_t ring_size_ = 0;
  Counts counts_;
};

}  // namespace tangelo::app
