#include "api/rate_limiter.h"

#include <algorithm>

namespace tangelo::api {

uint32_t RateLimiter::Acquire(uint64_t tenant_id, uint64_t now_ms) {
  if (limit_.rate_per_second == 0) return 0;
  const uint64_t capacity = uint64_t{limit_.burst} * 1000;
  Shard& shard = shards_[(tenant_id * 0x9E3779B97F4A7C15ULL) >> 60];
  std::lock_guard lock(shard.mutex);
  auto it = shard.buckets.find(tenant_id);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= kRateLimitBucketsMax / kRateLimitShards) {
      it = shard.buckets.try_emplace(0, Bucket{capacity, now_ms}).first;
    } else {
      it = shard.buckets.emplace(tenant_id, Bucket{capacity, now_ms}).first;
    }
  }
  Bucket& bucket = it->second;
  if (now_ms > bucket.updated_ms) {
    // rate tokens/s = rate millitokens/ms.
    const uint64_t elapsed_ms = std::min<uint64_t>(now_ms - bucket.updated_ms, 3'600'000);
    bucket.millitokens = std::min(capacity, bucket.millitokens + elapsed_ms * limit_.rate_per_second);
    bucket.updated_ms = now_ms;
  }
  if (bucket.millitokens >= 1000) {
    bucket.millitokens -= 1000;
    return 0;
  }
  const uint64_t missing = 1000 - bucket.millitokens;
  const uint64_t wait_ms = (missing + limit_.rate_per_second - 1) / limit_.rate_per_second;
  return static_cast<uint32_t>(std::max<uint64_t>(1, (wait_ms + 999) / 1000));
}

}  // namespace tangelo::api
