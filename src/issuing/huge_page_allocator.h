// HugePageAllocator: a std::allocator replacement for the state's large
// arrays (cards, indices, columns), which asks Linux for transparent huge
// pages. Internal to the module.
//
// Why: the authorization path reads a random card among a million (256 MiB)
// and a random index entry (16 MiB). With 4 KiB pages nearly every such read
// also misses the TLB, and in a virtual machine the page walk costs more than
// the cache miss. 2 MiB pages cut the lookup and checks by about a third in
// issuing_bench. The system's THP setting is usually "madvise", so the
// arrays must ask: madvise(MADV_HUGEPAGE) is a hint, and without it (other
// kernels, THP off) everything works as before.
//
// Allocation happens once, when IssuingState is built, never on the hot path.
// Out of memory there is fatal (the process cannot run without its state).
// Stateless; thread safe.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>

#include "base/assert.h"

namespace tangelo::issuing {

inline constexpr size_t kHugePageSize = size_t{2} << 20;

template <typename T>
class HugePageAllocator {
 public:
  using value_type = T;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding is implicit.

  T* allocate(size_t count) {
    const size_t bytes = count * sizeof(T);
    if (bytes < kHugePageSize) {
      return static_cast<T*>(::operator new (bytes, std::align_val_t{alignof(T)}));
    }
    void* memory = std::aligned_alloc(kHugePageSize, Rounded(bytes));
    if (memory == nullptr) TG_FATAL("out of memory allocating the issuing state");
#ifdef MADV_HUGEPAGE
    (void)madvise(memory, Rounded(bytes), MADV_HUGEPAGE);  // A hint; failure is harmless.
#endif
    return static_cast<T*>(memory);
  }

  void deallocate(T* pointer, size_t count) {
    const size_t bytes = count * sizeof(T);
    if (bytes < kHugePageSize) {
      ::operator delete (pointer, std::align_val_t{alignof(T)});
    } else {
      std::free(pointer);
    }
  }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }

 private:
  static size_t Rounded(size_t bytes) { return (bytes + kHugePageSize - 1) & ~(kHugePageSize - 1); }
};

}  // namespace tangelo::issuing
