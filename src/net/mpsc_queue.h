// BoundedMpscQueue: a fixed-capacity, lock-free, multi-producer single-
// consumer queue (Dmitry Vyukov's bounded queue with per-cell sequence
// numbers). Event loops receive cross-thread tasks through it: producers
// (the engine thread, other loops) never block each other on a lock, and a
// full queue is reported to the producer instead of growing.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>

#include "base/assert.h"

namespace tangelo::net {

// Thread safety: TryPush from any number of threads; TryPop from one thread
// at a time (the consumer). T must be default-constructible and movable.
// All cells are allocated at construction; pushing and popping never
// allocate.
template <typename T>
class BoundedMpscQueue {
 public:
  // Precondition: capacity is a power of two, at least 2.
  explicit BoundedMpscQueue(size_t capacity)
      : capacity_(capacity), mask_(capacity - 1), cells_(new Cell[capacity]) {
    TG_ASSERT_MSG(capacity >= 2 && (capacity & (capacity - 1)) == 0,
                  "queue capacity must be a power of two");
    for (size_t i = 0; i < capacity; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
  }
  BoundedMpscQueue(const BoundedMpscQueue&) = delete;
  BoundedMpscQueue& operator=(const BoundedMpscQueue&) = delete;

  // Moves `value` in and returns true, or returns false (leaving `value`
  // untouched) when the queue is full.
  bool TryPush(T& value) {
    size_t position = enqueue_position_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[position & mask_];
      const size_t sequence = cell->sequence.load(std::memory_order_acquire);
      const intptr_t difference = static_cast<intptr_t>(sequence) - static_cast<intptr_t>(position);
      if (difference == 0) {
        if (enqueue_position_.compare_exchange_weak(position, position + 1,
                                                    std::memory_order_relaxed)) {
          break;
        }
      } else if (difference < 0) {
        return false;  // The consumer has not freed this cell yet: full.
      } else {
        position = enqueue_position_.load(std::memory_order_relaxed);
      }
    }
    cell->value = std::move(value);
    cell->sequence.store(position + 1, std::memory_order_release);
    return true;
  }

  // Moves the oldest element into *value and returns true, or returns false
  // when the queue is (momentarily) empty. Consumer thread only.
  bool TryPop(T* value) {
    Cell* cell = &cells_[dequeue_position_ & mask_];
    const size_t sequence = cell->sequence.load(std::memory_order_acquire);
    if (sequence != dequeue_position_ + 1) return false;
    *value = std::move(cell->value);
    cell->sequence.store(dequeue_position_ + capacity_, std::memory_order_release);
    ++dequeue_position_;
    return true;
  }

  size_t capacity() const { return capacity_; }

 private:
  struct Cell {
    std::atomic<size_t> sequence;
    T value;
  };

  const size_t capacity_;
  const size_t mask_;
  std::unique_ptr<Cell[]> cells_;
  // Producers and the consumer write different cache lines.
  alignas(64) std::atomic<size_t> enqueue_position_{0};
  alignas(64) size_t dequeue_position_ = 0;
};

}  // namespace tangelo::net
