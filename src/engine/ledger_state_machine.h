// LedgerStateMachine: the ledger behind the engine's StateMachine interface.
//
// Entry kinds and payloads (little-endian; the records are ledger/types.h):
//   1 kCreateAccounts   1..kEventsPerEntryMax Account records (64 bytes each)
//   2 kCreateTransfers  1..kEventsPerEntryMax Transfer records (64 bytes each); a linked chain
//                       must end inside its entry, so an entry applies all-or-nothing when
//                       its events are linked
//   3 kLookupAccount    read-only; u64 account id
//   4 kLookupTransfer   read-only; u64 transfer id
// Replies (engine::Reply):
//   creates: code = the first non-ok result code of the entry (0 when all succeeded),
//            detail = the number of events, values[0..1] = each event's result code packed
//            as u16 (event i in bits 16*(i%4) of values[i/4]).
//   lookups: code = 0 found / kNotFound; for an account values = {debits_pending,
//            debits_posted, credits_pending, credits_posted, currency, flags, available};
//            for a transfer values = {amount, debit_account_id, credit_account_id,
//            pending_id, flags, pending state, timestamp}.
//   a malformed payload: code = kMalformedEntry, and nothing changes.
// Each batch first expires up to kExpiriesPerBatchMax due holds at the batch timestamp.
#pragma once

#include <memory>
#include <vector>

#include "engine/state_machine.h"
#include "ledger/ledger.h"

namespace tangelo::engine {

class LedgerStateMachine final : public StateMachine {
 public:
  enum Kind : uint16_t {
    kCreateAccounts = 1,
    kCreateTransfers = 2,
    kLookupAccount = 3,
    kLookupTransfer = 4,
  };
  static constexpr uint32_t kEventsPerEntryMax = 7;  // 7 × 64 bytes fit one intake cell.
  static constexpr uint32_t kExpiriesPerBatchMax = 8190;
  static constexpr uint32_t kMalformedEntry = 1000;
  static constexpr uint32_t kNotFound = 1001;

  // Owns a ledger with these capacities. Asserts the memory can be reserved.
  explicit LedgerStateMachine(const ledger::LedgerCapacities& capacities);

  const ledger::Ledger& ledger() const { return *ledger_; }

  bool IsReadOnly(uint16_t kind) const override;
  uint64_t ApplyBatch(uint64_t timestamp_ns, std::span<const EntryRef> entries,
                      std::span<Reply> replies) override;
  uint64_t NextTimerNs() const override { return ledger_->NextExpiryNs(); }
  void CheckInvariants() const override {}
  void Serialize(const SnapshotSink& sink) const override { ledger_->SerializeTo(sink); }
  base::Status Restore(std::span<const std::byte> snapshot) override;

 private:
  // Applies entries [first, last) of one kind as one ledger call.
  uint64_t ApplyRun(uint16_t kind, std::span<const EntryRef> entries, std::span<Reply> replies,
                    uint64_t timestamp_ns);
  void Lookup(const EntryRef& entry, Reply& reply) const;

  ledger::LedgerCapacities capacities_;
  std::unique_ptr<ledger::Ledger> ledger_;
  // Scratch, reserved once: the events of one run and their results.
  std::vector<ledger::Transfer> transfers_;
  std::vector<ledger::Account> accounts_;
  std::vector<uint32_t> results_;
};

}  // namespace tangelo::engine
