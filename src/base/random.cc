#include "base/random.h"

#include <algorithm>

#include "base/assert.h"

namespace tangelo::base {

// The first `head_` ranks carry explicit weights; the tail beyond them is
// approximated by the integral of x^-s, sampled by inverting it in closed
// form. With a head of 65,536 ranks the error on any rank is far below what a
// benchmark workload can notice.
ZipfGenerator::ZipfGenerator(uint64_t n, double exponent) : n_(n), exponent_(exponent) {
  TG_ASSERT(n > 0);
  TG_ASSERT(exponent >= 0);
  head_ = std::min<uint64_t>(n, 65536);
  cdf_.resize(head_);
  double sum = 0;
  for (uint64_t rank = 0; rank < head_; ++rank) {
    sum += std::pow(static_cast<double>(rank + 1), -exponent);
    cdf_[rank] = sum;
  }
  head_weight_ = sum;
  double tail_weight = 0;
  if (n > head_) {
    const double a = static_cast<double>(head_) + 0.5;
    const double b = static_cast<double>(n) + 0.5;
    if (std::abs(exponent - 1.0) < 1e-9) {
      tail_weight = std::log(b / a);
    } else {
      tail_weight = (std::pow(b, 1 - exponent) - std::pow(a, 1 - exponent)) / (1 - exponent);
    }
  }
  total_ = head_weight_ + tail_weight;
}

uint64_t ZipfGenerator::Next(Random& random) const {
  const double target = random.UnitInterval() * total_;
  if (target < head_weight_) {
    const auto found = std::upper_bound(cdf_.begin(), cdf_.end(), target);
    return std::min<uint64_t>(static_cast<uint64_t>(found - cdf_.begin()), head_ - 1);
  }
  const double into_tail = target - head_weight_;
  const double a = static_cast<double>(head_) + 0.5;
  double x = 0;
  if (std::abs(exponent_ - 1.0) < 1e-9) {
    x = a * std::exp(into_tail);
  } else {
    x = std::pow(std::pow(a, 1 - exponent_) + into_tail * (1 - exponent_), 1 / (1 - exponent_));
  }
  const uint64_t rank = static_cast<uint64_t>(x - 0.5);
  return std::clamp<uint64_t>(rank, head_, n_ - 1);
}

}  // namespace tangelo::base
