#include "ledger/zeroed_array.h"

#include <sys/mman.h>
#include <unistd.h>

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

void PrefaultZeroed(void* memory, size_t bytes) {
  TG_ASSERT(memory != nullptr);
#ifdef MADV_POPULATE_WRITE
  if (madvise(memory, bytes, MADV_POPULATE_WRITE) == 0) return;
#endif
  // Older kernels: write each page's first byte back to itself.
  const size_t page_bytes = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  volatile uint8_t* bytes_view = static_cast<volatile uint8_t*>(memory);
  for (size_t offset = 0; offset < bytes; offset += page_bytes) {
    bytes_view[offset] = bytes_view[offset];
  }
}

void FreeZeroed(void* memory, size_t bytes) {
  TG_ASSERT(memory != nullptr && bytes > 0);
  const int unmapped = munmap(memory, bytes);
  TG_ASSERT(unmapped == 0);
}

}  // namespace tangelo::ledger::internal
