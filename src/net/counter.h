// Counter: a statistics counter with one writer thread and any number of
// readers. The owner thread adds with a plain load and store (no locked
// read-modify-write on the hot path); readers get a relaxed snapshot.
#pragma once

#include <atomic>
#include <cstdint>

namespace tangelo::net {

// Thread safety: Add() from the single owning thread only; value() from any.
class Counter {
 public:
  void Add(uint64_t delta = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }
  void Subtract(uint64_t delta = 1) {
    value_.store(value_.load(std::memory_order_relaxed) - delta, std::memory_order_relaxed);
  }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

}  // namespace tangelo::net
