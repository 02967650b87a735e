// RetransmissionTable: the decision given to every recent request that
// carried ids, so a retransmission (same network ids, or the same REST
// idempotency key) gets the original answer and never a second hold.
//
// A bounded ring in arrival order plus a HashIndex by request key. Entries
// live for `window_ns` of engine time after their request (24 h by default:
// networks retransmit within seconds and reverse within hours). Arrival order
// is expiry order, so the oldest entries leave from the ring's head; each
// insert removes at most kEvictionsPerInsert expired entries, which keeps up
// with any steady load without a long pause after a quiet period, and Find
// ignores an expired entry that is still present. When the ring is full of
// unexpired entries the oldest one leaves early and `evicted_early` counts it:
// the capacity is a named limit sized to the peak of a window, and running
// over it loses only the protection of the oldest requests.
//
// Ownership: owns its arrays (allocated once). Not thread safe.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "authorizer/entries.h"
#include "authorizer/hash_index.h"
#include "authorizer/snapshot_io.h"
#include "base/status.h"
#include "issuing/huge_page_allocator.h"

namespace tangelo::authorizer {

// One remembered answer (64 bytes). The reply is rebuilt from it.
struct RetransmissionEntry {
  uint64_t key_high = 0;  // Zero key: a dead entry (its key was recorded again later).
  uint64_t key_low = 0;
  uint64_t recorded_at_ns = 0;  // The original request's engine time.
  uint32_t detail = 0;          // The reply's detail word.
  uint16_t kind = 0;            // EntryKind of the request.
  uint16_t reserved = 0;
  uint64_t authorization_id = 0;
  uint64_t amount_minor = 0;     // Approved or released.
  uint64_t available_minor = 0;  // Available balance after the original decision.
  uint64_t held_amount_minor = 0;

  RequestKey key() const { return RequestKey{key_high, key_low}; }
};
static_assert(sizeof(RetransmissionEntry) == 64);
static_assert(std::has_unique_object_representations_v<RetransmissionEntry>);

class RetransmissionTable {
 public:
  static constexpr uint32_t kEvictionsPerInsert = 2;
  static constexpr uint64_t kWindowNsDefault = 24ULL * 3600 * 1'000'000'000;

  // Preconditions: 1 <= entries_max < 2^31, window_ns > 0.
  RetransmissionTable(uint32_t entries_max, uint64_t window_ns);
  RetransmissionTable(const RetransmissionTable&) = delete;
  RetransmissionTable& operator=(const RetransmissionTable&) = delete;

  // The unexpired entry of `key` at `now_ns`, or nullptr. An expired entry
  // of the key is forgotten on the way (so Insert needs no second probe).
  // The pointer is valid until the next Insert.
  RetransmissionEntry* Find(const RequestKey& key, uint64_t now_ns);

  // Records an answer. Preconditions: valid key; Find(key) returned nullptr
  // since the last Insert of that key; entry.recorded_at_ns not before any
  // earlier entry's.
  void Insert(const RetransmissionEntry& entry, uint64_t now_ns);

  // Hints the cache to load what finding `key` reads first.
  void Prefetch(const RequestKey& key) const { index_.Prefetch(key.high); }

  uint32_t size() const { return count_; }
  uint32_t capacity() const { return capacity_; }
  uint64_t window_ns() const { return window_ns_; }
  uint64_t evicted_early() const { return evicted_early_; }

  void Serialize(SnapshotWriter& writer) const;
  // Loads into this empty table. DataLoss for malformed bytes (order,
  // duplicate keys), ResourceExhausted when they do not fit the capacity.
  base::Status Restore(SnapshotReader& reader);

 private:
  uint32_t Position(uint32_t logical) const {
    const uint64_t position = uint64_t{head_} + logical;
    return static_cast<uint32_t>(position >= capacity_ ? position - capacity_ : position);
  }
  bool Expired(const RetransmissionEntry& entry, uint64_t now_ns) const {
    return now_ns >= entry.recorded_at_ns && now_ns - entry.recorded_at_ns >= window_ns_;
  }
  void EvictHead();
  void Unindex(uint32_t position);

  uint32_t capacity_;
  uint64_t window_ns_;
  uint32_t head_ = 0;   // Position of the oldest entry.
  uint32_t count_ = 0;  // Entries in the ring, dead ones included.
  uint64_t evicted_early_ = 0;
  std::vector<RetransmissionEntry, issuing::HugePageAllocator<RetransmissionEntry>> ring_;
  HashIndex index_;  // Key -> ring position, for live entries.
};

}  // namespace tangelo::authorizer
