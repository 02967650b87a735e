// TimerHeap: the timers of one event loop (idle timeouts, request deadlines),
// as a bounded, indexed binary min-heap of deadlines.
//
// Cancelling is O(log n) and removes the entry at once (an indexed heap, not
// lazy deletion), so a client that arms and cancels a deadline per request
// never fills the heap with dead entries. Timers that fall due at the same
// deadline run in the order they were added.
#pragma once

#include <cstdint>
#include <vector>

#include "net/task.h"

namespace tangelo::net {

// Identifies one armed timer. A TimerId stays safe to cancel after its timer
// fired or was cancelled: the generation no longer matches and Cancel() is a
// no-op returning false.
struct TimerId {
  uint32_t slot = 0;
  uint32_t generation = 0;  // Zero: no timer.
  bool valid() const { return generation != 0; }
};

// Not thread safe: owned and used by one event loop thread.
class TimerHeap {
 public:
  // At most `capacity` timers can be armed at once. Slot storage grows up to
  // that bound on demand and is then reused without allocating.
  explicit TimerHeap(uint32_t capacity);
  TimerHeap(const TimerHeap&) = delete;
  TimerHeap& operator=(const TimerHeap&) = delete;

  // Arms `task` to run at `deadline_ns` (monotonic). Returns an invalid id,
  // and drops the task, when `capacity` timers are already armed.
  TimerId Add(uint64_t deadline_ns, Task task);

  // Disarms the timer and destroys its task. Returns false when the timer
  // already fired or was cancelled.
  bool Cancel(TimerId id);

  // The earliest deadline, or UINT64_MAX when no timer is armed.
  uint64_t NextDeadlineNs() const;

  // When the earliest timer is due at `now_ns`, disarms it, moves its task
  // into *task and returns true.
  bool PopExpired(uint64_t now_ns, Task* task);

  uint32_t size() const { return static_cast<uint32_t>(heap_.size()); }
  uint32_t capacity() const { return capacity_; }

 private:
  static constexpr uint32_t kNotInHeap = UINT32_MAX;

  struct Slot {
    uint64_t deadline_ns = 0;
    uint64_t order = 0;  // Tie-breaker: insertion order.
    uint32_t generation = 1;
    uint32_t heap_index = kNotInHeap;
    Task task;
  };

  bool Before(uint32_t slot_a, uint32_t slot_b) const;
  void SiftUp(uint32_t index);
  void SiftDown(uint32_t index);
  void Swap(uint32_t index_a, uint32_t index_b);
  void RemoveAt(uint32_t heap_index);
  void Release(uint32_t slot);

  const uint32_t capacity_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<uint32_t> heap_;  // Slot indices, min-heap by (deadline, order).
  uint64_t next_order_ = 0;
};

}  // namespace tangelo::net
