// AuthorizationTable: the live authorizations (those holding money or
// waiting for the client's decision), in a bounded pool of fixed records.
//
// An AuthorizationId is (generation << 32) | (slot + 1): finding a record by
// id is one array access and a generation check, and an id never names a
// later authorization that reused its slot. A second index finds a record by
// the key of the request that created it (ISO 8583 follow-ups name their
// original by its network ids). Two IndexedHeaps order the records by hold
// expiry and by client-decision deadline.
//
// A record leaves the table (Release) when nothing is held any more: fully
// reversed, expired, or declined by the client. Slots are reused last freed
// first, so slot assignment is a pure function of the history, and the
// snapshot keeps the free list to continue it exactly.
//
// Ownership: owns every array (allocated once, at construction). Not thread
// safe: the engine thread owns it.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "authorizer/entries.h"
#include "authorizer/hash_index.h"
#include "authorizer/indexed_heap.h"
#include "authorizer/snapshot_io.h"
#include "base/status.h"
#include "issuing/huge_page_allocator.h"

namespace tangelo::authorizer {

enum class AuthorizationState : uint8_t {
  kFree = 0,
  kPendingClientDecision = 1,  // A provisional hold; the client (or stand-in) decides.
  kActive = 2,                 // Approved; the hold waits for clearing, reversal or expiry.
};

// Record flags.
struct AuthorizationFlags {
  static constexpr uint8_t kPartialApprovalSupported = 1u << 0;
  static constexpr uint8_t kAdvice = 1u << 1;    // Created by a network advice (0120).
  static constexpr uint8_t kStandIn = 1u << 2;   // Approved by the program's stand-in.
  static constexpr uint8_t kAll = kPartialApprovalSupported | kAdvice | kStandIn;
};

// One authorization (104 bytes, no padding: the snapshot dumps records raw).
struct AuthorizationRecord {
  uint64_t key_high = 0;  // The creating request's key; zero when it had no ids.
  uint64_t key_low = 0;
  // Pending only: the key of the request waiting for the client (the
  // authorization's or an increment's), whose remembered answer the final
  // decision replaces.
  uint64_t pending_key_high = 0;
  uint64_t pending_key_low = 0;
  uint64_t hold_transfer_id = 0;   // The pending transfer on the card account; 0 when none.
  uint64_t held_amount_minor = 0;  // Amount of hold_transfer_id.
  // Advice only: what the stand-in overdraft account lent the card account
  // (a posted transfer) so that all of an advice could be held without the
  // card account going below zero. Returned when the hold is released.
  uint64_t stand_in_credit_minor = 0;
  uint64_t confirmed_amount_minor = 0;  // Approved for good; held - confirmed awaits the client.
  uint64_t authorized_at_ns = 0;        // Engine time of the authorization (spend windows).
  uint64_t expires_at_ns = 0;           // When its hold expires (the ledger's rule).
  uint64_t deadline_ns = 0;             // Pending only: when stand-in decides.
  uint32_t card_slot = 0;               // Position of the card in IssuingState::cards().
  uint32_t generation = 0;
  uint16_t mcc = 0;
  uint16_t reserved = 0;
  AuthorizationState state = AuthorizationState::kFree;
  uint8_t decision = 0;  // Decision of the funds step: approved or partially approved.
  uint8_t flags = 0;     // AuthorizationFlags.
  uint8_t reserved2 = 0;

  RequestKey key() const { return RequestKey{key_high, key_low}; }
  RequestKey pending_key() const { return RequestKey{pending_key_high, pending_key_low}; }
  uint64_t total_held_minor() const { return held_amount_minor; }
};
static_assert(sizeof(AuthorizationRecord) == 104);
static_assert(std::has_unique_object_representations_v<AuthorizationRecord>);

class AuthorizationTable {
 public:
  static constexpr uint32_t kNoSlot = HashIndex::kNoSlot;

  // Preconditions: 1 <= authorizations_max < 2^31, 1 <= pending_max <= authorizations_max.
  AuthorizationTable(uint32_t authorizations_max, uint32_t pending_decisions_max);
  AuthorizationTable(const AuthorizationTable&) = delete;
  AuthorizationTable& operator=(const AuthorizationTable&) = delete;

  uint32_t capacity() const { return capacity_; }
  uint32_t live_count() const { return live_count_; }
  bool full() const { return live_count_ >= capacity_; }

  // A free slot with a zeroed record (its generation kept) in state kActive,
  // or kNoSlot when full.
  uint32_t Allocate();
  // Frees the slot: unindexes its key, leaves both heaps, zeroes the record
  // and bumps its generation. Precondition: the slot is live.
  void Release(uint32_t slot);

  AuthorizationId IdOf(uint32_t slot) const;
  // The live slot of an id, or kNoSlot (never issued, released, or reused).
  uint32_t Find(AuthorizationId id) const;
  // The live slot created by a request with this key, or kNoSlot.
  uint32_t FindByKey(const RequestKey& key) const;
  // Indexes the record's key. Precondition: live, valid key, not yet indexed.
  void IndexKey(uint32_t slot);

  AuthorizationRecord& record(uint32_t slot) { return records_[slot]; }
  // Hints the cache to load what finding `key` reads first.
  void PrefetchKey(const RequestKey& key) const { key_index_.Prefetch(key.high); }
  const AuthorizationRecord& record(uint32_t slot) const { return records_[slot]; }

  // Hold expiry order (every live record with a hold) and deadline order
  // (every pending record). The table keeps the records' times in step.
  void SetExpiry(uint32_t slot, uint64_t expires_at_ns);
  void ClearExpiry(uint32_t slot);
  bool CanAddDeadline() const { return !deadlines_.full(); }
  void SetDeadline(uint32_t slot, uint64_t deadline_ns);
  void ClearDeadline(uint32_t slot);
  uint64_t NextExpiryNs() const { return expiries_.TopTimeNs(); }
  uint32_t NextExpirySlot() const { return expiries_.TopSlot(); }
  uint64_t NextDeadlineNs() const { return deadlines_.TopTimeNs(); }
  uint32_t NextDeadlineSlot() const { return deadlines_.TopSlot(); }
  uint32_t pending_count() const { return deadlines_.size(); }

  // Slots ever used (live or free); records [0, used_slots()) are meaningful.
  uint32_t used_slots() const { return used_slots_; }

  // The table in the core snapshot (docs/authorizer/entries.md, "Snapshot").
  void Serialize(SnapshotWriter& writer) const;
  // Loads into this empty table and rebuilds indexes and heaps. DataLoss for
  // malformed bytes, ResourceExhausted when they do not fit the capacities.
  // Cross-checks against the ledger and issuing are the caller's.
  base::Status Restore(SnapshotReader& reader);

  // Recomputes the table's own invariants (free list, indexes, heaps, counts).
  // O(used slots); for tests and after a restore.
  base::Status CheckConsistency() const;

 private:
  uint64_t KeyHash(uint32_t slot) const { return records_[slot].key_high; }

  uint32_t capacity_;
  uint32_t used_slots_ = 0;
  uint32_t live_count_ = 0;
  std::vector<AuthorizationRecord, issuing::HugePageAllocator<AuthorizationRecord>> records_;
  std::vector<uint32_t> free_slots_;  // Stack: the last freed is reused first.
  HashIndex key_index_;
  IndexedHeap expiries_;
  IndexedHeap deadlines_;
};

}  // namespace tangelo::authorizer
