// ZeroedArray<T>: a fixed-size array of trivially copyable records whose memory starts zeroed,
// reserved once at start-up.
//
// The ledger reserves its capacity up front (accounts, transfers, indexes) so nothing
// allocates while batches apply. Large arrays come straight from mmap: the kernel hands out
// zero pages lazily, so reserving room for 100M transfers costs address space, not RAM or
// start-up time, and the kernel is asked for transparent huge pages to keep TLB misses down on
// random account and index accesses. A first write to a page still costs a page fault (the
// kernel zeroes it); Prefault() pays that up front for a process that wants a flat hot path.
// Owner: whoever holds it; not thread safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

namespace tangelo::ledger {

namespace internal {
// Returns zeroed memory of `bytes` (rounded up to whole pages), or nullptr when the system is
// out of memory. bytes > 0.
void* AllocateZeroed(size_t bytes);
void FreeZeroed(void* memory, size_t bytes);
// Makes every page of the allocation resident without changing its contents.
void PrefaultZeroed(void* memory, size_t bytes);
}  // namespace internal

template <typename T>
class ZeroedArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  ZeroedArray() = default;
  ~ZeroedArray() { Reset(); }
  ZeroedArray(const ZeroedArray&) = delete;
  ZeroedArray& operator=(const ZeroedArray&) = delete;
  ZeroedArray(ZeroedArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  ZeroedArray& operator=(ZeroedArray&& other) noexcept {
    if (this != &other) {
      Reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  // Reserves `size` zeroed elements. Returns false (and stays empty) when out of memory.
  [[nodiscard]] bool Allocate(size_t size) {
    Reset();
    if (size == 0) return true;
    if (size > SIZE_MAX / sizeof(T)) return false;
    data_ = static_cast<T*>(internal::AllocateZeroed(size * sizeof(T)));
    if (data_ == nullptr) return false;
    size_ = size;
    return true;
  }

  // Makes the whole array resident now, so first writes later never wait on the kernel.
  void Prefault() {
    if (data_ != nullptr) internal::PrefaultZeroed(data_, size_ * sizeof(T));
  }

  T& operator[](size_t index) { return data_[index]; }
  const T& operator[](size_t index) const { return data_[index]; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void Reset() {
    if (data_ != nullptr) internal::FreeZeroed(data_, size_ * sizeof(T));
    data_ = nullptr;
    size_ = 0;
  }

  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace tangelo::ledger
