// IntakeQueue: the engine's bounded multi-producer, single-consumer queue.
//
// Network threads (producers) push fixed-size requests; the engine thread
// (the single consumer) drains them in batches. The capacity is fixed at
// construction and a full queue is back-pressure: TryPush fails at once and
// the front door answers "overloaded" — the queue never grows.
//
// The algorithm is Dmitry Vyukov's bounded MPMC array queue: each cell has a
// sequence number that tells producers and the consumer whose turn it is, so
// there are no locks and one CAS per push. Thread safety: TryPush from any
// number of threads; TryPop/PopMany from one thread only.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "base/assert.h"

namespace tangelo::engine {

template <typename T>
class IntakeQueue {
 public:
  // capacity must be a power of two.
  explicit IntakeQueue(uint32_t capacity)
      : mask_(capacity - 1), cells_(new Cell[capacity]) {
    TG_ASSERT(capacity >= 2);
    TG_ASSERT((capacity & (capacity - 1)) == 0);
    for (uint32_t index = 0; index < capacity; ++index) {
      cells_[index].sequence.store(index, std::memory_order_relaxed);
    }
  }
  IntakeQueue(const IntakeQueue&) = delete;
  IntakeQueue& operator=(const IntakeQueue&) = delete;

  uint32_t capacity() const { return mask_ + 1; }

  // Calls fill(T&) on a free cell and publishes it. Returns false when the
  // queue is full (fill is not called).
  template <typename Fill>
  bool TryPush(Fill&& fill) {
    uint64_t position = enqueue_position_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[position & mask_];
      const uint64_t sequence = cell.sequence.load(std::memory_order_acquire);
      const int64_t difference = static_cast<int64_t>(sequence) - static_cast<int64_t>(position);
      if (difference == 0) {
        if (enqueue_position_.compare_exchange_weak(position, position + 1,
                                                    std::memory_order_relaxed)) {
          fill(cell.value);
          cell.sequence.store(position + 1, std::memory_order_release);
          return true;
        }
      } else if (difference < 0) {
        return false;  // Full.
      } else {
        position = enqueue_position_.load(std::memory_order_relaxed);
      }
    }
  }

  // Consumer only: calls take(const T&) for up to `count_max` published
  // cells in order, releasing each after the call. Returns how many.
  template <typename Take>
  uint32_t PopMany(uint32_t count_max, Take&& take) {
    uint32_t taken = 0;
    while (taken < count_max) {
      Cell& cell = cells_[dequeue_position_ & mask_];
      const uint64_t sequence = cell.sequence.load(std::memory_order_acquire);
      if (sequence != dequeue_position_ + 1) break;  // Empty (or not yet published).
      take(static_cast<const T&>(cell.value));
      cell.sequence.store(dequeue_position_ + mask_ + 1, std::memory_order_release);
      ++dequeue_position_;
      ++taken;
    }
    return taken;
  }

  // Approximate number of queued entries (for the saturation gauge).
  uint64_t SizeApprox() const {
    const uint64_t enqueued = enqueue_position_.load(std::memory_order_relaxed);
    const uint64_t dequeued = dequeue_position_mirror_.load(std::memory_order_relaxed);
    return enqueued > dequeued ? enqueued - dequeued : 0;
  }
  // Consumer only: publishes the dequeue position for SizeApprox.
  void PublishDequeuePosition() {
    dequeue_position_mirror_.store(dequeue_position_, std::memory_order_relaxed);
  }

 private:
  struct Cell {
    std::atomic<uint64_t> sequence;
    T value;
  };

  const uint64_t mask_;
  std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<uint64_t> enqueue_position_{0};
  alignas(64) uint64_t dequeue_position_ = 0;
  std::atomic<uint64_t> dequeue_position_mirror_{0};
};

}  // namespace tangelo::engine
