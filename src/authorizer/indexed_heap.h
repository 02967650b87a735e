// IndexedHeap: a min-heap of (time_ns, slot) with one entry per slot, that
// can update or remove a slot's entry in O(log n). Internal to the module.
//
// Used for hold expiries and client-decision deadlines: an authorization
// moves or leaves the heap the moment its hold changes, so the heap holds
// exactly the live entries (no stale ones to skip, and its size is a real
// count that can be bounded). Ties break by slot, so the pop order is a total
// order that does not depend on the heap's layout: a heap rebuilt from the
// records after a restore pops exactly as the original would have.
//
// Memory is allocated once. Not thread safe (the engine thread owns it).
#pragma once

#include <cstdint>
#include <vector>

#include "base/assert.h"
#include "issuing/huge_page_allocator.h"

namespace tangelo::authorizer {

class IndexedHeap {
 public:
  static constexpr uint32_t kAbsent = UINT32_MAX;

  // Slots are 0 .. slots_max - 1; at most entries_max of them at once.
  // Both arrays are built (and so resident) here: the heap never grows.
  IndexedHeap(uint32_t slots_max, uint32_t entries_max)
      : heap_(entries_max), positions_(slots_max, kAbsent), entries_max_(entries_max) {}

  bool empty() const { return size_ == 0; }
  bool full() const { return size_ >= entries_max_; }
  uint32_t size() const { return size_; }
  bool Contains(uint32_t slot) const { return positions_[slot] != kAbsent; }

  // The earliest time, or UINT64_MAX when empty.
  uint64_t TopTimeNs() const { return size_ == 0 ? UINT64_MAX : heap_[0].time_ns; }
  // Precondition: not empty.
  uint32_t TopSlot() const {
    TG_ASSERT(size_ > 0);
    return heap_[0].slot;
  }

  // Inserts or moves the slot's entry. Precondition: Contains(slot) or !full().
  void Set(uint32_t slot, uint64_t time_ns) {
    uint32_t position = positions_[slot];
    if (position == kAbsent) {
      TG_ASSERT_MSG(!full(), "indexed heap is full");
      position = size_++;
      heap_[position] = Entry{time_ns, slot};
      positions_[slot] = position;
      SiftUp(position);
      return;
    }
    heap_[position].time_ns = time_ns;
    SiftDown(SiftUp(position));
  }

  // Removes the slot's entry, if any.
  void Remove(uint32_t slot) {
    const uint32_t position = positions_[slot];
    if (position == kAbsent) return;
    positions_[slot] = kAbsent;
    const uint32_t last = --size_;
    if (position != last) {
      heap_[position] = heap_[last];
      positions_[heap_[position].slot] = position;
      SiftDown(SiftUp(position));
    }
  }

  void Clear() {
    for (uint32_t position = 0; position < size_; ++position) {
      positions_[heap_[position].slot] = kAbsent;
    }
    size_ = 0;
  }

  // Checks the heap order and the position index. O(n); for tests.
  bool Valid() const {
    for (uint32_t position = 0; position < size_; ++position) {
      if (positions_[heap_[position].slot] != position) return false;
      if (position > 0 && Before(heap_[position], heap_[(position - 1) / 2])) return false;
    }
    return true;
  }

 private:
  struct Entry {
    uint64_t time_ns = 0;
    uint32_t slot = 0;
  };

  static bool Before(const Entry& a, const Entry& b) {
    return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.slot < b.slot;
  }

  uint32_t SiftUp(uint32_t position) {
    const Entry moving = heap_[position];
    while (position > 0) {
      const uint32_t parent = (position - 1) / 2;
      if (!Before(moving, heap_[parent])) break;
      heap_[position] = heap_[parent];
      positions_[heap_[position].slot] = position;
      position = parent;
    }
    heap_[position] = moving;
    positions_[moving.slot] = position;
    return position;
  }

  void SiftDown(uint32_t position) {
    const Entry moving = heap_[position];
    const uint32_t count = size_;
    for (;;) {
      const uint32_t left = 2 * position + 1;
      if (left >= count) break;
      uint32_t child = left;
      if (left + 1 < count && Before(heap_[left + 1], heap_[left])) child = left + 1;
      if (!Before(heap_[child], moving)) break;
      heap_[position] = heap_[child];
      positions_[heap_[position].slot] = position;
      position = child;
    }
    heap_[position] = moving;
    positions_[moving.slot] = position;
  }

  std::vector<Entry, issuing::HugePageAllocator<Entry>> heap_;
  // Per slot: its heap position or kAbsent.
  std::vector<uint32_t, issuing::HugePageAllocator<uint32_t>> positions_;
  uint32_t entries_max_;
  uint32_t size_ = 0;
};

}  // namespace tangelo::authorizer
