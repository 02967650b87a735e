#include "ledger/zeroed_array.h"

#include <sys/mman.h>

#include "base/assert.h"

namespace tangelo::ledger::internal {
namespace {

// Below this size a huge page would waste more than it saves.
constexpr size_t kHugePageBytes = size_t{2} << 20;

}  // namespace

void* AllocateZeroed(size_t bytes) {
  TG_ASSERT(bytes > 0);
  // Anonymous private pages are zero-filled on first touch: no up-front memset.
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return nullptr;
#ifdef MADV_HUGEPAGE
  // Advice only: without transparent huge pages the array still works, with more TLB misses.
  if (bytes >= kHugePageBytes) madvise(memory, bytes, MADV_HUGEPAGE);
#endif
  return memory;
}

void FreeZeroed(void* memory, size_t bytes) {
  TG_ASSERT(memory != nullptr && bytes > 0);
  const int unmapped = munmap(memory, bytes);
  TG_ASSERT(unmapped == 0);
}

}  // namespace tangelo::ledger::internal
