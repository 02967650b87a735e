// HashIndex: a fixed-capacity open-addressing index from a 64-bit hash to a
// slot of a record array, with deletion. Internal to the module.
//
// Linear probing over a power-of-two table of at least twice the capacity
// (load <= 0.5). Entries hold (slot, 32-bit hash tag); the caller's callbacks
// compare the real key in the record, and give a slot's hash back so that
// deletion can shift later entries back into the hole (Knuth's algorithm R):
// no tombstones, so probes stay short however many keys come and go.
//
// Memory is allocated once, in the constructor. Not thread safe (the engine
// thread owns it). The layout depends on the order of inserts and erases, so
// it is never serialized: owners rebuild it from their records on restore.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

#include "base/assert.h"
#include "issuing/huge_page_allocator.h"
#include "issuing/slot_index.h"

namespace tangelo::authorizer {

class HashIndex {
 public:
  static constexpr uint32_t kNoSlot = UINT32_MAX;

  explicit HashIndex(uint32_t slots_max)
      : slots_max_(slots_max),
        entries_(std::bit_ceil(std::max<uint64_t>(16, 2 * uint64_t{slots_max}))),
        mask_(entries_.size() - 1) {}

  // Hints the cache to load the first line a lookup of `hash` reads (kept by
  // the optimizer, unlike a plain __builtin_prefetch of a computed address).
  void Prefetch(uint64_t hash) const { issuing::PrefetchLine(&entries_[hash & mask_]); }

  // The slot whose record `matches`, or kNoSlot.
  template <typename Matches>
  uint32_t Find(uint64_t hash, Matches&& matches) const {
    const uint32_t tag = static_cast<uint32_t>(hash >> 32);
    for (uint64_t position = hash & mask_;; position = (position + 1) & mask_) {
      const Entry& entry = entries_[position];
      if (entry.slot == kNoSlot) return kNoSlot;
      if (entry.tag == tag && matches(entry.slot)) return entry.slot;
    }
  }

  // Precondition: no entry for this key, and size() < slots_max().
  void Insert(uint64_t hash, uint32_t slot) {
    TG_ASSERT(size_ < slots_max_);
    TG_ASSERT(slot != kNoSlot);
    uint64_t position = hash & mask_;
    while (entries_[position].slot != kNoSlot) position = (position + 1) & mask_;
    entries_[position] = Entry{slot, static_cast<uint32_t>(hash >> 32)};
    ++size_;
  }

  // Removes the entry of `slot` (whose key hashes to `hash`). `hash_of(slot)`
  // gives the hash of any indexed slot. Precondition: the entry exists.
  template <typename HashOf>
  void Erase(uint64_t hash, uint32_t slot, HashOf&& hash_of) {
    uint64_t hole = hash & mask_;
    while (entries_[hole].slot != slot) {
      TG_ASSERT_MSG(entries_[hole].slot != kNoSlot, "erasing a slot that is not indexed");
      hole = (hole + 1) & mask_;
    }
    // Shift back every later entry of the run that may live in the hole: one
    // whose home position is not cyclically in (hole, position].
    for (uint64_t position = (hole + 1) & mask_; entries_[position].slot != kNoSlot;
         position = (position + 1) & mask_) {
      const uint64_t home = hash_of(entries_[position].slot) & mask_;
      const bool stays = hole <= position ? (hole < home && home <= position)
                                          : (hole < home || home <= position);
      if (stays) continue;
      entries_[hole] = entries_[position];
      hole = position;
    }
    entries_[hole] = Entry{};
    --size_;
  }

  void Clear() {
    std::fill(entries_.begin(), entries_.end(), Entry{});
    size_ = 0;
  }

  uint32_t size() const { return size_; }
  uint32_t slots_max() const { return slots_max_; }

 private:
  struct Entry {
    uint32_t slot = kNoSlot;
    uint32_t tag = 0;
  };

  uint32_t slots_max_;
  uint32_t size_ = 0;
  // Transparent huge pages: a probe is a random access into up to hundreds
  // of MiB, and 4 KiB pages would add a TLB miss to each.
  std::vector<Entry, issuing::HugePageAllocator<Entry>> entries_;
  uint64_t mask_;
};

}  // namespace tangelo::authorizer
