// StrongId<Tag>: a 64-bit identifier that cannot be mixed up with another
// kind of id or with an amount. Ids are chosen by the caller (as in
// TigerBeetle) and double as idempotency keys; zero is never a valid id.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace tangelo::base {

template <typename Tag>
class StrongId {
 public:
  constexpr StrongId() = default;
  constexpr explicit StrongId(uint64_t value) : value_(value) {}
  constexpr uint64_t value() const { return value_; }
  constexpr bool valid() const { return value_ != 0; }
  constexpr auto operator<=>(const StrongId&) const = default;

 private:
  uint64_t value_ = 0;
};

// A fast, well-mixed hash for 64-bit keys (the murmur3 finaliser). Used by
// the open-addressing tables; deterministic across runs and machines.
constexpr uint64_t MixHash(uint64_t key) {
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdULL;
  key ^= key >> 33;
  key *= 0xc4ceb9fe1a85ec53ULL;
  key ^= key >> 33;
  return key;
}

}  // namespace tangelo::base

template <typename Tag>
struct std::hash<tangelo::base::StrongId<Tag>> {
  size_t operator()(tangelo::base::StrongId<Tag> id) const {
    return static_cast<size_t>(tangelo::base::MixHash(id.value()));
  }
};
