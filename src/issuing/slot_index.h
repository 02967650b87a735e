// SlotIndex: a fixed-capacity open-addressing index from a 64-bit hash to a
// slot (position) in an entity array. Internal to the module.
//
// The index stores only (slot, 32-bit hash tag); the caller's `matches`
// callback compares the real key in the record, which the caller reads next
// anyway, so a lookup usually touches one index line and the record. Table
// size is a power of two of at least twice the capacity (load <= 0.5), so
// linear probing stays short and always finds an empty entry. Entries are
// never removed (entities are never deleted), so there are no tombstones.
// Allocates once, in the constructor. Thread compatible.
#pragma once

#include <bit>
#include <cstdint>
#include <vector>

#include "base/assert.h"
#include "issuing/entities.h"
#include "issuing/huge_page_allocator.h"

namespace tangelo::issuing {

// Starts loading the cache line at `address`. GCC 12 deletes a loop whose
// only effect is __builtin_prefetch (PrefetchCardCandidates compiled to
// nothing), so on x86 this is an asm statement the optimizer must keep.
// Hint only: it never faults and changes no result.
inline void PrefetchLine(const void* address) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(address)));
#else
  __builtin_prefetch(address);
#endif
}

class SlotIndex {
 public:
  explicit SlotIndex(uint32_t slots_max)
      : slots_max_(slots_max),
        entries_(std::bit_ceil(std::max<uint64_t>(16, 2 * uint64_t{slots_max}))),
        mask_(entries_.size() - 1) {}

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

  // Starts loading the index line where a lookup of `hash` begins.
  void Prefetch(uint64_t hash) const { PrefetchLine(&entries_[hash & mask_]); }

  // Calls visit(slot) for each slot whose tag matches `hash`, without reading
  // any record, until an empty entry ends the probe. For prefetching the
  // records a lookup will read. Cheap when the index line is in cache.
  template <typename Visit>
  void ForEachCandidate(uint64_t hash, Visit&& visit) const {
    const uint32_t tag = static_cast<uint32_t>(hash >> 32);
    for (uint64_t position = hash & mask_;; position = (position + 1) & mask_) {
      const Entry& entry = entries_[position];
      if (entry.slot == kNoSlot) return;
      if (entry.tag == tag) visit(entry.slot);
    }
  }

  // Precondition: the key is not present and size() < slots_max.
  void Insert(uint64_t hash, uint32_t slot) {
    TG_ASSERT(size_ < slots_max_);
    TG_ASSERT(slot != kNoSlot);
    const uint32_t tag = static_cast<uint32_t>(hash >> 32);
    uint64_t position = hash & mask_;
    while (entries_[position].slot != kNoSlot) position = (position + 1) & mask_;
    entries_[position] = Entry{slot, tag};
    ++size_;
  }

  uint32_t size() const { return size_; }

 private:
  struct Entry {
    uint32_t slot = kNoSlot;
    uint32_t tag = 0;
  };

  uint32_t slots_max_;
  uint32_t size_ = 0;
  std::vector<Entry, HugePageAllocator<Entry>> entries_;
  uint64_t mask_;
};

}  // namespace tangelo::issuing
