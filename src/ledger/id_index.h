// IdIndex: the hash index from a caller-chosen 64-bit id to the slot of its record in one of
// the ledger's flat arrays (accounts or transfers).
//
// Open addressing with linear probing over a table reserved once, twice the slot capacity, so
// the load factor never exceeds 1/2 and an empty cell always ends a probe. Each cell is one
// 64-bit word: the low 32 bits of MixHash(id) as a fingerprint, and slot + 1 (0 marks an empty
// cell). The fingerprint settles almost every probe without touching the record array; the
// home cell comes from the high 32 bits of the hash. The table is deterministic (same inserts,
// same bytes), so a snapshot can dump it raw and a cold start need not rebuild it.
//
// Records are never deleted; the only removal is the undo of the most recent insert (a failed
// linked chain), which restores the table exactly because later inserts were undone first.
// Owner: the Ledger. Not thread safe.
#pragma once

#include <cstdint>

#include "base/assert.h"
#include "base/strong_id.h"
#include "ledger/prefetch.h"
#include "ledger/zeroed_array.h"

namespace tangelo::ledger {

class IdIndex {
 public:
  static constexpr uint32_t kNoSlot = UINT32_MAX;
  // Slots must fit a cell as slot + 1 and the table (twice as large) must index with 32 bits.
  static constexpr uint32_t kSlotsMax = (1u << 31) - 8;

  // Result of a lookup: the slot holding the id, or kNoSlot and the empty cell where the id
  // would be inserted.
  struct Probe {
    uint32_t slot = kNoSlot;
    uint32_t position = 0;
    uint32_t fingerprint = 0;
  };

  // The table size reserved for `slots_max` records.
  static uint32_t CapacityFor(uint32_t slots_max) {
    TG_ASSERT(slots_max <= kSlotsMax);
    return slots_max < 8 ? 16 : 2 * slots_max;
  }

  // Reserves an empty table for up to slots_max records. False when out of memory.
  [[nodiscard]] bool Allocate(uint32_t slots_max) {
    capacity_ = CapacityFor(slots_max);
    return cells_.Allocate(capacity_);
  }

  // Looks `id` up. `id_at(slot)` returns the id stored at a slot; it is only called for
  // candidate cells whose fingerprint matches. O(1) expected.
  template <typename IdAt>
  Probe Find(uint64_t id, const IdAt& id_at) const {
    const uint64_t hash = base::MixHash(id);
    Probe probe;
    probe.fingerprint = static_cast<uint32_t>(hash);
    uint32_t position = Home(hash);
    // The load factor is at most 1/2, so an empty cell is always reached.
    for (;;) {
      const uint64_t cell = cells_[position];
      if (cell == 0) break;
      if (static_cast<uint32_t>(cell >> 32) == probe.fingerprint) {
        const uint32_t slot = static_cast<uint32_t>(cell) - 1;
        if (id_at(slot) == id) {
          probe.slot = slot;
          break;
        }
      }
      position = position + 1 == capacity_ ? 0 : position + 1;
    }
    probe.position = position;
    return probe;
  }

  // Records `slot` in the empty cell a missed Find returned. No Insert may happen between that
  // Find and this call.
  void Insert(const Probe& probe, uint32_t slot) {
    TG_ASSERT(probe.slot == kNoSlot && slot < kSlotsMax);
    TG_ASSERT(cells_[probe.position] == 0);
    cells_[probe.position] = (uint64_t{probe.fingerprint} << 32) | (uint64_t{slot} + 1);
  }

  // Undoes the most recent Insert, at `position`.
  void EraseLatest(uint32_t position) {
    TG_ASSERT(position < capacity_ && cells_[position] != 0);
    cells_[position] = 0;
  }

  // Prefetches the home cell of `id`, for loops that look many ids up.
  void Prefetch(uint64_t id) const { ledger::Prefetch(&cells_[Home(base::MixHash(id))]); }

  // The slot of the first cell whose fingerprint matches `id`, without reading the record to
  // confirm it (kNoSlot if none): for prefetching the record a later Find will read. Reading
  // the record here would wait on exactly the miss the prefetch is meant to hide.
  uint32_t CandidateSlot(uint64_t id) const {
    const uint64_t hash = base::MixHash(id);
    const uint32_t fingerprint = static_cast<uint32_t>(hash);
    for (uint32_t position = Home(hash);; position = position + 1 == capacity_ ? 0 : position + 1) {
      const uint64_t cell = cells_[position];
      if (cell == 0) return kNoSlot;
      if (static_cast<uint32_t>(cell >> 32) == fingerprint) return static_cast<uint32_t>(cell) - 1;
    }
  }

  void Prefault() { cells_.Prefault(); }

  uint32_t capacity() const { return capacity_; }
  const uint64_t* cells() const { return cells_.data(); }
  uint64_t* mutable_cells() { return cells_.data(); }

  // The slot a non-empty cell points at; kNoSlot for an empty cell.
  static uint32_t CellSlot(uint64_t cell) {
    return cell == 0 ? kNoSlot : static_cast<uint32_t>(cell) - 1;
  }

 private:
  uint32_t Home(uint64_t hash) const {
    return static_cast<uint32_t>(((hash >> 32) * capacity_) >> 32);
  }

  ZeroedArray<uint64_t> cells_;
  uint32_t capacity_ = 0;
};

}  // namespace tangelo::ledger
