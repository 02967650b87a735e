// Builders and a small harness for the ledger's tests and benchmark: plain values, so a test
// reads as the accounts and transfers it applies.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "ledger/ledger.h"

namespace tangelo::ledger::testing {

inline constexpr uint16_t kUsd = 840;
inline constexpr uint16_t kEur = 978;
inline constexpr uint16_t kJpy = 392;
inline constexpr uint64_t kSecondNs = 1'000'000'000;
inline constexpr uint64_t kStartNs = 1'700'000'000'000'000'000ULL;

inline Account MakeAccount(uint64_t id, uint16_t currency = kUsd, uint16_t flags = 0) {
  Account account;
  account.id = id;
  account.currency = currency;
  account.flags = flags;
  account.code = 1;
  return account;
}

inline Transfer MakeTransfer(uint64_t id, uint64_t debit_account_id, uint64_t credit_account_id,
                             uint64_t amount, uint16_t currency = kUsd, uint16_t flags = 0) {
  Transfer transfer;
  transfer.id = id;
  transfer.debit_account_id = debit_account_id;
  transfer.credit_account_id = credit_account_id;
  transfer.amount = amount;
  transfer.currency = currency;
  transfer.flags = flags;
  return transfer;
}

inline Transfer MakePending(uint64_t id, uint64_t debit_account_id, uint64_t credit_account_id,
                            uint64_t amount, uint32_t timeout_seconds = 0,
                            uint16_t currency = kUsd) {
  Transfer transfer = MakeTransfer(id, debit_account_id, credit_account_id, amount, currency,
                                   TransferFlags::kPending);
  transfer.timeout_seconds = timeout_seconds;
  return transfer;
}

inline Transfer MakePost(uint64_t id, uint64_t pending_id, uint64_t amount = 0) {
  Transfer transfer;
  transfer.id = id;
  transfer.pending_id = pending_id;
  transfer.amount = amount;
  transfer.flags = TransferFlags::kPostPendingTransfer;
  return transfer;
}

inline Transfer MakeVoid(uint64_t id, uint64_t pending_id) {
  Transfer transfer;
  transfer.id = id;
  transfer.pending_id = pending_id;
  transfer.flags = TransferFlags::kVoidPendingTransfer;
  return transfer;
}

inline Transfer Linked(Transfer transfer) {
  transfer.flags |= TransferFlags::kLinked;
  return transfer;
}

// A ledger plus a clock that moves forward by one millisecond per batch unless told otherwise.
class LedgerHarness {
 public:
  explicit LedgerHarness(LedgerCapacities capacities = {64, 256})
      : ledger_(Ledger::Create(capacities).value()) {}

  Ledger& ledger() { return *ledger_; }
  uint64_t now_ns() const { return now_ns_; }
  void AdvanceSeconds(uint64_t seconds) { now_ns_ += seconds * kSecondNs; }

  std::vector<CreateAccountResult> CreateAccounts(const std::vector<Account>& accounts) {
    std::vector<CreateAccountResult> results(accounts.size());
    last_batch_ns_ = NextBatch();
    ledger_->CreateAccounts(accounts, last_batch_ns_, results);
    return results;
  }
  CreateAccountResult CreateAccount(const Account& account) { return CreateAccounts({account})[0]; }

  std::vector<CreateTransferResult> CreateTransfers(const std::vector<Transfer>& transfers) {
    std::vector<CreateTransferResult> results(transfers.size());
    last_batch_ns_ = NextBatch();
    ledger_->CreateTransfers(transfers, last_batch_ns_, results);
    return results;
  }
  CreateTransferResult CreateTransfer(const Transfer& transfer) {
    return CreateTransfers({transfer})[0];
  }

  uint64_t last_batch_ns() const { return last_batch_ns_; }

 private:
  uint64_t NextBatch() {
    now_ns_ += 1'000'000;
    return now_ns_;
  }

  std::unique_ptr<Ledger> ledger_;
  uint64_t now_ns_ = kStartNs;
  uint64_t last_batch_ns_ = 0;
};

// The whole snapshot of a ledger as bytes.
inline std::vector<std::byte> SnapshotBytes(const Ledger& ledger) {
  std::vector<std::byte> bytes;
  ledger.SerializeTo([&bytes](const void* data, size_t size) {
    const auto* begin = static_cast<const std::byte*>(data);
    bytes.insert(bytes.end(), begin, begin + size);
  });
  return bytes;
}

}  // namespace tangelo::ledger::testing
