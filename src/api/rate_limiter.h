// RateLimiter: a token bucket per tenant (and one for the admin). Each
// request takes one token; a bucket holds at most burst tokens and refills at
// rate_per_second. An empty bucket answers with the whole seconds until the
// next token (the Retry-After of the 429), so a well-behaved client that
// waits that long succeeds.
//
// Tokens are counted in millitokens with integer arithmetic (no floating
// point, exact refill). Buckets live in kRateLimitShards independently locked
// shards, so loop threads rarely contend. At most kRateLimitBucketsMax
// buckets; a tenant over that bound shares the overflow bucket (id 0), which
// limits rather than grows.
//
// Thread safety: Acquire may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace tangelo::api {

inline constexpr uint32_t kRateLimitShards = 16;
inline constexpr size_t kRateLimitBucketsMax = 1u << 16;

struct RateLimit {
  uint32_t rate_per_second = 1000;  // 0: unlimited.
  uint32_t burst = 2000;
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimit limit) : limit_(limit) {}

  // 0 when the request may proceed; otherwise the seconds to wait (>= 1).
  uint32_t Acquire(uint64_t tenant_id, uint64_t now_ms);

 private:
  struct Bucket {
    uint64_t millitokens = 0;
    uint64_t updated_ms = 0;
  };
  struct alignas(64) Shard {
    std::mutex mutex;
    std::unordered_map<uint64_t, Bucket> buckets;
  };
  RateLimit limit_;
  Shard shards_[kRateLimitShards];
};

}  // namespace tangelo::api
