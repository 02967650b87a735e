#include "net/timer_heap.h"

#include <utility>

namespace tangelo::net {

TimerHeap::TimerHeap(uint32_t capacity) : capacity_(capacity) {
  TG_ASSERT(capacity > 0 && capacity <= kTimersMax);
}

TimerId TimerHeap::Add(uint64_t deadline_ns, Task task) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else if (slots_.size() < capacity_) {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    return TimerId{};
  }
  Slot& entry = slots_[slot];
  entry.deadline_ns = deadline_ns;
  entry.order = next_order_++;
  entry.task = std::move(task);
  entry.heap_index = static_cast<uint32_t>(heap_.size());
  heap_.push_back(slot);
  SiftUp(entry.heap_index);
  return TimerId{slot, entry.generation};
}

bool TimerHeap::Cancel(TimerId id) {
  if (!id.valid() || id.slot >= slots_.size()) return false;
  Slot& entry = slots_[id.slot];
  if (entry.generation != id.generation || entry.heap_index == kNotInHeap) return false;
  RemoveAt(entry.heap_index);
  entry.task.Reset();
  Release(id.slot);
  return true;
}

uint64_t TimerHeap::NextDeadlineNs() const {
  return heap_.empty() ? UINT64_MAX : slots_[heap_.front()].deadline_ns;
}

bool TimerHeap::PopExpired(uint64_t now_ns, Task* task) {
  if (heap_.empty()) return false;
  const uint32_t slot = heap_.front();
  Slot& entry = slots_[slot];
  if (entry.deadline_ns > now_ns) return false;
  RemoveAt(0);
  *task = std::move(entry.task);
  Release(slot);
  return true;
}

bool TimerHeap::Before(uint32_t slot_a, uint32_t slot_b) const {
  const Slot& a = slots_[slot_a];
  const Slot& b = slots_[slot_b];
  if (a.deadline_ns != b.deadline_ns) return a.deadline_ns < b.deadline_ns;
  return a.order < b.order;
}

void TimerHeap::Swap(uint32_t index_a, uint32_t index_b) {
  std::swap(heap_[index_a], heap_[index_b]);
  slots_[heap_[index_a]].heap_index = index_a;
  slots_[heap_[index_b]].heap_index = index_b;
}

void TimerHeap::SiftUp(uint32_t index) {
  while (index > 0) {
    const uint32_t parent = (index - 1) / 2;
    if (!Before(heap_[index], heap_[parent])) break;
    Swap(index, parent);
    index = parent;
  }
}

void TimerHeap::SiftDown(uint32_t index) {
  const uint32_t count = static_cast<uint32_t>(heap_.size());
  for (;;) {
    const uint32_t left = 2 * index + 1;
    if (left >= count) break;
    uint32_t smallest = left;
    const uint32_t right = left + 1;
    if (right < count && Before(heap_[right], heap_[left])) smallest = right;
    if (!Before(heap_[smallest], heap_[index])) break;
    Swap(index, smallest);
    index = smallest;
  }
}

void TimerHeap::RemoveAt(uint32_t heap_index) {
  const uint32_t last = static_cast<uint32_t>(heap_.size()) - 1;
  slots_[heap_[heap_index]].heap_index = kNotInHeap;
  if (heap_index != last) {
    const uint32_t moved = heap_[last];
    heap_[heap_index] = moved;
    slots_[moved].heap_index = heap_index;
    heap_.pop_back();
    // The moved entry may belong above or below its new place.
    SiftUp(heap_index);
    SiftDown(slots_[moved].heap_index);
  } else {
    heap_.pop_back();
  }
}

void TimerHeap::Release(uint32_t slot) {
  Slot& entry = slots_[slot];
  entry.heap_index = kNotInHeap;
  // Generation zero means "no timer", so skip it on wrap-around.
  entry.generation = entry.generation == UINT32_MAX ? 1 : entry.generation + 1;
  free_slots_.push_back(slot);
}

}  // namespace tangelo::net
