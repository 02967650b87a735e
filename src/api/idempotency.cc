#include "api/idempotency.h"

#include <cstring>

namespace tangelo::api {

bool ValidIdempotencyKey(std::string_view key) {
  if (key.empty() || key.size() > kIdempotencyKeyBytesMax) return false;
  for (char c : key) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

std::string IdempotencyStore::MapKey(uint64_t tenant_id, std::string_view key) {
  std::string out(sizeof(tenant_id) + key.size(), '\0');
  std::memcpy(out.data(), &tenant_id, sizeof(tenant_id));
  std::memcpy(out.data() + sizeof(tenant_id), key.data(), key.size());
  return out;
}

void IdempotencyStore::Expire(uint64_t now_ms) {
  while (!expiry_.empty() && expiry_.front().first <= now_ms) {
    auto it = entries_.find(expiry_.front().second);
    // An abandoned (erased) or re-begun key may be gone or newer.
    if (it != entries_.end() && it->second.expires_at_ms == expiry_.front().first &&
        it->second.done) {
      uint64_t tenant_id;
      std::memcpy(&tenant_id, it->first.data(), sizeof(tenant_id));
      if (--per_tenant_[tenant_id] == 0) per_tenant_.erase(tenant_id);
      entries_.erase(it);
    }
    expiry_.pop_front();
  }
}

IdempotencyOutcome IdempotencyStore::Begin(uint64_t tenant_id, std::string_view key,
                                           const Fingerprint& fingerprint, uint64_t now_ms,
                                           StoredResponse* replay) {
  std::lock_guard lock(mutex_);
  Expire(now_ms);
  std::string map_key = MapKey(tenant_id, key);
  auto it = entries_.find(map_key);
  if (it != entries_.end()) {
    if (it->second.fingerprint != fingerprint) return IdempotencyOutcome::kMismatch;
    if (!it->second.done) return IdempotencyOutcome::kInFlight;
    *replay = it->second.response;
    return IdempotencyOutcome::kReplay;
  }
  size_t& tenant_count = per_tenant_[tenant_id];
  if (entries_.size() >= kIdempotencyEntriesMax ||
      tenant_count >= kIdempotencyEntriesPerTenantMax) {
    if (tenant_count == 0) per_tenant_.erase(tenant_id);
    return IdempotencyOutcome::kFull;
  }
  ++tenant_count;
  Entry entry;
  entry.fingerprint = fingerprint;
  entry.expires_at_ms = now_ms + kIdempotencyTtlMs;
  expiry_.emplace_back(entry.expires_at_ms, map_key);
  entries_.emplace(std::move(map_key), std::move(entry));
  return IdempotencyOutcome::kProceed;
}

void IdempotencyStore::Complete(uint64_t tenant_id, std::string_view key,
                                const StoredResponse& response) {
  if (response.body.size() > kIdempotencyResponseBytesMax) {
    Abandon(tenant_id, key);
    return;
  }
  std::lock_guard lock(mutex_);
  auto it = entries_.find(MapKey(tenant_id, key));
  if (it == entries_.end()) return;
  it->second.done = true;
  it->second.response = response;
}

void IdempotencyStore::Abandon(uint64_t tenant_id, std::string_view key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(MapKey(tenant_id, key));
  if (it == entries_.end()) return;
  entries_.erase(it);
  if (--per_tenant_[tenant_id] == 0) per_tenant_.erase(tenant_id);
}

size_t IdempotencyStore::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace tangelo::api
