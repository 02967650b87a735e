#include "io/clock.h"

#include <time.h>

namespace tangelo::io {
namespace {

uint64_t Read(clockid_t clock_id) {
  timespec now{};
  clock_gettime(clock_id, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(now.tv_nsec);
}

}  // namespace

uint64_t SystemClock::RealtimeNs() { return Read(CLOCK_REALTIME); }
uint64_t SystemClock::MonotonicNs() { return Read(CLOCK_MONOTONIC); }

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace tangelo::io
