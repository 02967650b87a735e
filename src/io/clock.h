// Clock: the only way the core learns the time. Production uses SystemClock;
// tests and simulations use ManualClock, so time-dependent behaviour (hold
// expiry, group-commit linger, deadlines) is deterministic and replayable.
#pragma once

#include <atomic>
#include <cstdint>

namespace tangelo::io {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock nanoseconds since the Unix epoch. May jump; use it for
  // timestamps that people read and for hold expiry, never for durations.
  virtual uint64_t RealtimeNs() = 0;
  // Monotonic nanoseconds from an arbitrary origin, for durations and
  // deadlines. Never goes backwards.
  virtual uint64_t MonotonicNs() = 0;
};

// Thread safe.
class SystemClock final : public Clock {
 public:
  uint64_t RealtimeNs() override;
  uint64_t MonotonicNs() override;
  // A process-wide instance.
  static SystemClock& Instance();
};

// A clock that moves only when told. Thread safe (atomic), so a test thread
// can advance it while the engine thread reads it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t start_ns = 1'700'000'000'000'000'000ULL)
      : realtime_ns_(start_ns), monotonic_ns_(1'000'000'000ULL) {}
  uint64_t RealtimeNs() override { return realtime_ns_.load(std::memory_order_acquire); }
  uint64_t MonotonicNs() override { return monotonic_ns_.load(std::memory_order_acquire); }
  void Advance(uint64_t delta_ns) {
    realtime_ns_.fetch_add(delta_ns, std::memory_order_acq_rel);
    monotonic_ns_.fetch_add(delta_ns, std::memory_order_acq_rel);
  }
  void SetRealtime(uint64_t realtime_ns) {
    realtime_ns_.store(realtime_ns, std::memory_order_release);
  }

 private:
  std::atomic<uint64_t> realtime_ns_;
  std::atomic<uint64_t> monotonic_ns_;
};

}  // namespace tangelo::io
