// Ledger: Tangelo's double-entry, two-phase ledger state machine (after TigerBeetle).
//
// Accounts hold four counters (debits/credits, pending/posted) in minor units of one currency.
// A transfer debits one account and credits another by the same amount of the same currency,
// either for good (single-phase) or as a hold (pending) that is later posted in full or in
// part, voided, or expired by timeout. Events arrive in batches; each event gets exactly one
// result code (result_codes.h) and, when it succeeds, a unique, increasing timestamp.
//
// The ledger is pure and deterministic: no I/O, no clock (time arrives as batch timestamps),
// no threads, no unordered iteration. Everything is reserved at creation; applying a batch
// never allocates. The same inputs give byte-identical state, which is what journal replay
// relies on.
//
// Invariants, asserted always-on after every batch (and recomputed by CheckAllInvariants):
//  * per currency, the sum of debits_posted equals the sum of credits_posted, and the sum of
//    debits_pending equals the sum of credits_pending;
//  * an account flagged kDebitsMustNotExceedCredits has debits_pending + debits_posted <=
//    credits_posted (holds count), and the mirror for kCreditsMustNotExceedDebits;
//  * a pending transfer resolves (post, void or expiry) at most once;
//  * a linked chain applies all or nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "base/limits.h"
#include "base/status.h"
#include "ledger/id_index.h"
#include "ledger/result_codes.h"
#include "ledger/types.h"
#include "ledger/zeroed_array.h"

namespace tangelo::ledger {

// How many records a ledger can ever hold; reserved up front.
struct LedgerCapacities {
  uint32_t accounts_max = 0;   // 1 .. kAccountsMax.
  uint32_t transfers_max = 0;  // 1 .. kTransfersMax.
};

// A ledger's fixed, reserved state. Owner: the engine thread; not thread safe (single writer,
// and readers must run on the same thread between batches). Not copyable.
class Ledger {
 public:
  static constexpr uint32_t kAccountsMax = IdIndex::kSlotsMax;
  static constexpr uint32_t kTransfersMax = IdIndex::kSlotsMax;
  // Events per CreateAccounts/CreateTransfers call (the engine's batch); also bounds the
  // linked-chain undo log.
  static constexpr uint32_t kBatchEventsMax = base::kBatchEntriesMax;
  static_assert(base::kLinkedChainLengthMax <= kBatchEventsMax);
  // Longest hold timeout accepted (timeout_exceeds_maximum beyond it).
  static constexpr uint32_t kPendingTimeoutSecondsMax = base::kPendingTimeoutSecondsMax;
  // ISO 4217 numeric codes have three digits.
  static constexpr uint16_t kCurrencyCodesMax = 1000;

  // Reserves an empty ledger. Errors: InvalidArgument for a zero or too large capacity,
  // ResourceExhausted when the memory cannot be reserved.
  static base::Result<std::unique_ptr<Ledger>> Create(const LedgerCapacities& capacities);

  // Makes all reserved memory resident (page faults and kernel zeroing happen now rather than
  // on the first batches that touch each page). For the engine at start-up, after Create or
  // Deserialize; costs the capacities' full footprint in RAM, and the kernel's time to zero it
  // (~0.3 s per GB on the 2-vCPU VM).
  void PrefaultMemory();

  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Creates accounts in order. Event i gets timestamp batch_timestamp_ns + i.
  // Preconditions (asserted): input.size() == results.size() <= kBatchEventsMax, and
  // batch_timestamp_ns is greater than every timestamp assigned before (and leaves room for
  // the batch without overflow). An account that fails is not stored.
  void CreateAccounts(std::span<const Account> input, uint64_t batch_timestamp_ns,
                      std::span<CreateAccountResult> results);

  // Creates transfers in order, same preconditions and timestamps as CreateAccounts. A failed
  // transfer is not stored (its id stays free, as in TigerBeetle), so a retry after fixing the
  // cause may succeed.
  void CreateTransfers(std::span<const Transfer> input, uint64_t batch_timestamp_ns,
                       std::span<CreateTransferResult> results);

  // Releases pending transfers whose timeout has passed (timestamp + timeout <= now_ns), in
  // order of expiry time, then creation. Examines at most `expiries_max` expiry entries (the
  // entry of a hold posted or voided in the meantime is discarded when it comes up), so one
  // call does bounded work; returns how many transfers it released, and the caller calls again
  // while NextExpiryNs() <= now_ns. Deterministic: journal now_ns with the batch.
  uint32_t ExpirePending(uint64_t now_ns, uint32_t expiries_max);

  // Earliest instant at which ExpirePending may have work; UINT64_MAX when no hold can expire.
  uint64_t NextExpiryNs() const;

  // Lookups. The pointers stay valid for the ledger's life (records never move) and see later
  // changes to the account counters.
  const Account* FindAccount(uint64_t id) const;
  const Transfer* FindTransfer(uint64_t id) const;
  // PendingState::kNone for a missing id or a transfer that is not pending.
  PendingState FindPendingState(uint64_t id) const;

  uint32_t accounts_count() const { return accounts_count_; }
  uint32_t transfers_count() const { return transfers_count_; }
  uint32_t expiry_entries_count() const { return expiry_count_; }
  const LedgerCapacities& capacities() const { return capacities_; }
  // The largest timestamp assigned so far (0 before the first event).
  uint64_t last_timestamp_ns() const { return last_timestamp_ns_; }

  // Records in creation (timestamp) order, for reports and tests.
  std::span<const Account> accounts() const { return {accounts_.data(), accounts_count_}; }
  std::span<const Transfer> transfers() const { return {transfers_.data(), transfers_count_}; }
  PendingState pending_state_at(uint32_t transfer_index) const;

  // Recomputes every invariant from scratch in O(accounts + transfers), in one sequential pass
  // (~0.35 s per 10M transfers on a 2-vCPU VM): the balance sums per currency, against the running
  // totals and against the stored transfers; the no-overdraft flags; that every pending transfer
  // resolved at most once, by a post or void of the matching kind; record fields and
  // timestamps; the index tables' structure (every cell names a distinct record, one cell per
  // record); the expiry heap's order and entries. For tests and after loading a snapshot.
  // Errors: Internal (DataLoss from Deserialize) naming the first broken invariant.
  base::Status CheckAllInvariants() const;

  // The referential checks CheckAllInvariants leaves out because each costs a random memory
  // access per record (~1 s per 10M transfers, too slow for a cold start; the snapshot
  // checksum covers the same bytes there): every account and transfer is reachable through
  // its index, every transfer's accounts exist in its currency, every post or void names (by
  // pending_id) the pending transfer it resolved, with the same accounts, an amount within
  // the hold's and a timestamp before its expiry, and every expiry entry carries its hold's
  // expiry time. Runs CheckAllInvariants' structural index check first. For tests, after
  // suspect events and in offline tools. Errors: Internal naming the first broken reference.
  base::Status CheckReferences() const;

  // Writes the whole state, as described in docs/ledger/snapshot.md, through `sink` in a few
  // large contiguous chunks (the record arrays and index tables are dumped raw).
  using SnapshotSink = std::function<void(const void* data, size_t size)>;
  void SerializeTo(const SnapshotSink& sink) const;

  // What Deserialize verifies beyond the checksums and the format.
  enum class LoadChecks : uint8_t {
    kInvariants = 0,               // CheckAllInvariants: sequential, fits a cold start.
    kInvariantsAndReferences = 1,  // Also CheckReferences: for snapshots not written by us.
  };

  // Loads a snapshot into a new ledger with `capacities` (at least the snapshot's counts; the
  // index tables are loaded raw when their size matches and rebuilt otherwise), then runs the
  // chosen checks. The checksums catch corruption; the checks catch a snapshot that was
  // written wrong. Without kInvariantsAndReferences, a snapshot forged with valid checksums
  // and broken references loads, and a later batch touching such a reference stops on an
  // assertion (never silently). Errors: DataLoss for a malformed, truncated, corrupt or
  // inconsistent snapshot, InvalidArgument when the capacities are too small,
  // ResourceExhausted when out of memory. Never crashes on bad bytes.
  static base::Result<std::unique_ptr<Ledger>> Deserialize(
      std::span<const std::byte> snapshot, const LedgerCapacities& capacities,
      LoadChecks checks = LoadChecks::kInvariants);

 private:
  // Running sums of the four counters over every account of one currency. 128-bit so that
  // no sum of 64-bit counters can overflow.
  struct CurrencyTotals {
    unsigned __int128 debits_pending = 0;
    unsigned __int128 debits_posted = 0;
    unsigned __int128 credits_pending = 0;
    unsigned __int128 credits_posted = 0;

    void Add(const Account& account) {
      debits_pending += account.debits_pending;
      debits_posted += account.debits_posted;
      credits_pending += account.credits_pending;
      credits_posted += account.credits_posted;
    }
  };
  // One pending transfer with a timeout, in the expiry min-heap. Entries of holds resolved
  // since are left in place and discarded when popped (resolving stays O(1)).
  struct ExpiryEntry {
    uint64_t expires_at_ns = 0;
    uint32_t transfer_slot = 0;
    uint32_t reserved = 0;
  };
  // The four counters of an account, saved before a linked event changed them.
  struct Counters {
    uint64_t debits_pending = 0;
    uint64_t debits_posted = 0;
    uint64_t credits_pending = 0;
    uint64_t credits_posted = 0;
  };
  // What rolling back one applied event of an open linked chain needs.
  struct UndoEntry {
    uint32_t index_position = 0;  // Index cell of the new record.
    uint32_t debit_slot = 0;      // Transfers only.
    uint32_t credit_slot = 0;
    uint32_t pending_slot = IdIndex::kNoSlot;  // The pending transfer a post or void resolved.
    Counters debit_saved;
    Counters credit_saved;
  };

  explicit Ledger(const LedgerCapacities& capacities);
  bool Reserve();

  // The batch loop shared by CreateAccounts and CreateTransfers: per-event timestamps and the
  // linked-chain rules. `apply(event, timestamp, undo)` applies one event; `roll_back(n)` undoes
  // the open chain's n applied events; `commit(n)` finishes a chain that held; `prefetch(i)`
  // runs before event i.
  template <typename Event, typename Result, typename Prefetch, typename Apply, typename RollBack,
            typename Commit>
  void ApplyBatch(std::span<const Event> input, uint64_t batch_timestamp_ns,
                  std::span<Result> results, uint16_t linked_flag, const Prefetch& prefetch,
                  const Apply& apply, const RollBack& roll_back, const Commit& commit);

  // One event each, at `timestamp`. `undo` is null outside a linked chain; inside a chain it
  // receives what is needed to roll the event back.
  CreateAccountResult CreateAccount(const Account& input, uint64_t timestamp, UndoEntry* undo);
  CreateTransferResult CreateTransfer(const Transfer& input, uint64_t timestamp, UndoEntry* undo);
  CreateTransferResult CreatePostOrVoid(const Transfer& input, uint64_t timestamp, UndoEntry* undo);
  CreateTransferResult CompareExisting(const Transfer& input, const Transfer& existing) const;
  CreateTransferResult CompareExistingPostOrVoid(const Transfer& input, const Transfer& existing,
                                                 const Transfer& pending) const;
  void RollBackAccounts(uint32_t undo_count);
  void RollBackTransfers(uint32_t undo_count);
  void CommitTransfers(uint32_t undo_count);

  void PrefetchIndexes(const Transfer& transfer) const;
  void PrefetchRecords(const Transfer& transfer) const;
  const Transfer* PendingCandidate(const Transfer& transfer) const;
  void PrefetchPendingAccountIndexes(const Transfer& transfer) const;
  void PrefetchPendingAccounts(const Transfer& transfer) const;
  uint32_t AccountSlot(uint64_t id) const;
  uint32_t TransferSlot(uint64_t id) const;
  IdIndex::Probe ProbeAccount(uint64_t id) const;
  IdIndex::Probe ProbeTransfer(uint64_t id) const;

  // Counter changes, keeping the running per-currency totals in step.
  void AddPending(Account& debit, Account& credit, uint64_t amount);
  void SubtractPending(Account& debit, Account& credit, uint64_t amount);
  void AddPosted(Account& debit, Account& credit, uint64_t amount);
  static Counters SaveCounters(const Account& account);
  void RestoreCounters(Account& account, const Counters& saved);
  void AssertWithinLimits(const Account& account) const;
  void AssertBatchInvariants() const;
  void NoteCurrency(uint16_t currency);

  void ExpiryPush(uint32_t transfer_slot);
  ExpiryEntry ExpiryPop();

  // CheckAllInvariants in pieces (invariant_scan.h), for the snapshot loader.
  class InvariantScan;
  // The structural part of the index checks: what makes lookups on loaded state safe.
  base::Status CheckIndexes() const;
  base::Status CheckTransferReferences() const;
  base::Status LoadSnapshot(std::span<const std::byte> snapshot, LoadChecks checks);
  base::Status RebuildIndexes();

  LedgerCapacities capacities_;
  uint64_t last_timestamp_ns_ = 0;
  uint32_t accounts_count_ = 0;
  uint32_t transfers_count_ = 0;
  uint32_t expiry_count_ = 0;
  uint32_t currencies_count_ = 0;

  ZeroedArray<Account> accounts_;             // accounts_max, creation order.
  ZeroedArray<Transfer> transfers_;           // transfers_max, creation order.
  ZeroedArray<PendingState> pending_states_;  // Parallel to transfers_.
  // Parallel to transfers_: for a post or void, the slot of the pending transfer it resolved;
  // 0 otherwise. Lets CheckAllInvariants prove "resolved at most once" in a sequential pass
  // instead of one random lookup per resolution.
  ZeroedArray<uint32_t> resolved_slots_;
  ZeroedArray<ExpiryEntry> expiry_heap_;  // Min-heap by (expires_at_ns, slot).
  ZeroedArray<UndoEntry> undo_;           // kBatchEventsMax: the open chain's events.
  ZeroedArray<CurrencyTotals> totals_;    // Indexed by ISO 4217 numeric code.
  ZeroedArray<uint16_t> currencies_;      // Codes with at least one account, in order.
  IdIndex account_index_;
  IdIndex transfer_index_;
};

}  // namespace tangelo::ledger
