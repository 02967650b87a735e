// ReferenceModel: a deliberately simple re-implementation of the ledger's rules, for the
// property test only.
//
// It shares nothing with Ledger but the record types and result codes: std::map instead of
// hash indexes, a copy of the whole state instead of an undo log for linked chains, a
// std::set instead of a heap for expiry, 128-bit arithmetic instead of checked adds. It is
// written from docs/ledger/result-codes.md, so when the two disagree one of them is wrong.
// Slow (copies state per chain) and not for production. Not thread safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "ledger/result_codes.h"
#include "ledger/types.h"

namespace tangelo::ledger::testing {

class ReferenceModel {
 public:
  ReferenceModel(uint64_t accounts_max, uint64_t transfers_max)
      : accounts_max_(accounts_max), transfers_max_(transfers_max) {}

  std::vector<CreateAccountResult> CreateAccounts(const std::vector<Account>& events,
                                                  uint64_t batch_ns);
  std::vector<CreateTransferResult> CreateTransfers(const std::vector<Transfer>& events,
                                                    uint64_t batch_ns);
  uint32_t ExpirePending(uint64_t now_ns, uint32_t entries_max);

  const std::map<uint64_t, Account>& accounts() const { return state_.accounts; }
  const std::map<uint64_t, Transfer>& transfers() const { return state_.transfers; }
  PendingState StateOf(uint64_t transfer_id) const;

 private:
  struct State {
    std::map<uint64_t, Account> accounts;
    std::map<uint64_t, Transfer> transfers;
    std::map<uint64_t, PendingState> pending_states;  // Pending transfers only.
    // (expires_at_ns, created timestamp, id): one entry per pending transfer with a timeout,
    // removed only when ExpirePending examines it.
    std::set<std::tuple<uint64_t, uint64_t, uint64_t>> expiry_queue;
  };

  // Runs `apply(index)` over a batch with TigerBeetle's linked-chain rules. `ok` is the
  // success code, `failed`/`open` the two chain codes.
  template <typename Result, typename Apply>
  std::vector<Result> RunBatch(const std::vector<uint16_t>& flags, uint16_t linked_flag,
                               const Apply& apply);

  CreateAccountResult CreateAccount(const Account& input, uint64_t timestamp);
  CreateTransferResult CreateTransfer(const Transfer& input, uint64_t timestamp);
  CreateTransferResult PostOrVoid(const Transfer& input, uint64_t timestamp);

  uint64_t accounts_max_;
  uint64_t transfers_max_;
  State state_;
};

}  // namespace tangelo::ledger::testing
