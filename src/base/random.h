// A small, fast, seeded pseudo-random generator (xoshiro256**), for
// simulations, property tests and load generators. Deterministic: the same
// seed gives the same stream on every machine, so a failing seed replays.
// Not for secrets: keys and tokens come from OpenSSL's RAND_bytes.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace tangelo::base {

class Random {
 public:
  explicit Random(uint64_t seed) {
    // splitmix64 expands the seed into the 256-bit state.
    for (uint64_t& word : state_) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t mixed = seed;
      mixed = (mixed ^ (mixed >> 30)) * 0xbf58476d1ce4e5b9ULL;
      mixed = (mixed ^ (mixed >> 27)) * 0x94d049bb133111ebULL;
      word = mixed ^ (mixed >> 31);
    }
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t shifted = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= shifted;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound). bound must be > 0. Lemire's multiply-shift; the
  // tiny bias is irrelevant for tests and load.
  uint64_t Uniform(uint64_t bound) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * bound) >> 64);
  }
  // Uniform in [low, high].
  uint64_t Between(uint64_t low, uint64_t high) { return low + Uniform(high - low + 1); }
  // True with probability percent/100.
  bool Chance(uint32_t percent) { return Uniform(100) < percent; }
  double UnitInterval() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t Rotl(uint64_t value, int bits) {
    return (value << bits) | (value >> (64 - bits));
  }
  uint64_t state_[4];
};

// Zipf-distributed ranks in [0, n) with exponent s (s = 0 is uniform), by
// inverting a precomputed CDF over a bounded number of buckets so sampling is
// O(log buckets) and memory stays small even for n = 1M.
class ZipfGenerator {
 public:
  ZipfGenerator(uint64_t n, double exponent);
  uint64_t Next(Random& random) const;

 private:
  uint64_t n_;
  double exponent_;
  std::vector<double> cdf_;          // Cumulative weight per head rank.
  double total_ = 0;
  double head_weight_ = 0;
  uint64_t head_ = 0;
};

}  // namespace tangelo::base
