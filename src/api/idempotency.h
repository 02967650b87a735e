// IdempotencyStore: remembers the response to every POST that carried an
// Idempotency-Key, per tenant, so a client's retry gets the same answer
// instead of doing the thing twice.
//
//   Begin(tenant, key, fingerprint):
//     new key                   → kProceed (the key is now "in flight")
//     in flight                 → kInFlight   (409 idempotency_in_flight)
//     done, same fingerprint    → kReplay     (the stored response, verbatim)
//     done or in flight, other fingerprint → kMismatch (422)
//     store full                → kFull       (503, retry later)
//   Complete(...) stores the response; Abandon(...) forgets an in-flight key
//   (for answers that must not be replayed: overload, shutdown), so the
//   client's retry runs again.
//
// The fingerprint is a SHA-256 of method, path and body: the same key with a
// different request is a client bug and is refused, never silently replayed.
//
// Bounds: entries expire kIdempotencyTtlMs after they are begun (a fixed TTL,
// so insertion order is expiry order and one FIFO expires them in O(1));
// at most kIdempotencyEntriesPerTenantMax per tenant and
// kIdempotencyEntriesMax in all; a stored response body is at most
// kIdempotencyResponseBytesMax (a larger one is answered but not remembered,
// and the key is then forgotten). In-flight entries are never evicted early.
//
// Thread safety: all methods may be called from any thread (one mutex; this
// is the management path plus simulations, never a network authorization).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tangelo::api {

inline constexpr uint64_t kIdempotencyTtlMs = 24ULL * 3600 * 1000;
inline constexpr size_t kIdempotencyEntriesMax = 1u << 18;
inline constexpr size_t kIdempotencyEntriesPerTenantMax = 1u << 14;
inline constexpr size_t kIdempotencyResponseBytesMax = 64 * 1024;
inline constexpr size_t kIdempotencyKeyBytesMax = 255;

struct StoredResponse {
  uint16_t status = 0;
  std::string content_type;
  std::string body;
  std::string location;  // Location header of a 201, or empty.
};

enum class IdempotencyOutcome : uint8_t { kProceed, kInFlight, kReplay, kMismatch, kFull };

class IdempotencyStore {
 public:
  using Fingerprint = std::array<uint8_t, 32>;

  IdempotencyOutcome Begin(uint64_t tenant_id, std::string_view key,
                           const Fingerprint& fingerprint, uint64_t now_ms,
                           StoredResponse* replay);
  void Complete(uint64_t tenant_id, std::string_view key, const StoredResponse& response);
  void Abandon(uint64_t tenant_id, std::string_view key);

  size_t size() const;

 private:
  struct Entry {
    Fingerprint fingerprint{};
    bool done = false;
    uint64_t expires_at_ms = 0;
    StoredResponse response;
  };
  static std::string MapKey(uint64_t tenant_id, std::string_view key);
  void Expire(uint64_t now_ms);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<uint64_t, size_t> per_tenant_;
  std::deque<std::pair<uint64_t, std::string>> expiry_;  // (expires_at_ms, map key).
};

// A visible-ASCII key of 1..kIdempotencyKeyBytesMax bytes.
bool ValidIdempotencyKey(std::string_view key);

}  // namespace tangelo::api
