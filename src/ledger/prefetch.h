// Prefetch: asks the CPU to start loading a cache line that will be read soon.
//
// GCC 12's dead-code elimination drops __builtin_prefetch when the address takes a few
// multiplications to compute (as a hash-table home cell does), silently turning a prefetch
// pipeline into plain misses. The x86 form below is an asm statement the optimizer must keep;
// other targets fall back to the builtin. Hint only: it never faults and changes no result.
#pragma once

namespace tangelo::ledger {

inline void Prefetch(const void* address) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(address)));
#else
  __builtin_prefetch(address);
#endif
}

}  // namespace tangelo::ledger
