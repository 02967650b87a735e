// Credentials of the REST API: tenant API keys and the admin token.
//
// An API key is "tgk_" + 43 base64url characters of 32 bytes from OpenSSL's
// RAND_bytes. It is shown once, when created; the core stores only its
// SHA-256, so a stolen journal or snapshot does not yield usable keys.
// ApiKeyTable maps SHA-256 → (tenant, key id) in memory for the request path;
// it is loaded from the core at start-up and updated after the core accepts a
// create or revoke, so the journaled state stays the source of truth.
//
// Thread safety: the functions are pure; ApiKeyTable is safe from any thread
// (a shared mutex: lookups, the hot case, share it).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"

namespace tangelo::api {

inline constexpr size_t kApiKeyRandomBytes = 32;
inline constexpr std::string_view kApiKeyPrefix = "tgk_";
inline constexpr size_t kApiKeyLength = 4 + 43;
inline constexpr size_t kApiKeysMax = 1u << 20;  // In the table, over all tenants.

using Sha256Digest = std::array<uint8_t, 32>;

// A new random key. Errors: kInternal when RAND_bytes fails (no entropy).
base::Result<std::string> GenerateApiKey();
// 8 random bytes as a non-zero id below 2^62 (issuing's caller id range).
base::Result<uint64_t> RandomId();
Sha256Digest Sha256(std::string_view text);
// Constant-time in the length of `expected` (CRYPTO_memcmp): the time taken
// does not reveal how many leading bytes of `presented` were right.
bool ConstantTimeEquals(std::string_view presented, std::string_view expected);
// The credential of "Authorization: Bearer <token>", or nullopt when the
// header is absent or not of that form.
std::optional<std::string_view> BearerToken(std::optional<std::string_view> header);

struct KeyOwner {
  uint64_t tenant_id = 0;
  uint64_t key_id = 0;
};

class ApiKeyTable {
 public:
  // False when the table is full (kApiKeysMax).
  bool Insert(const Sha256Digest& digest, KeyOwner owner);
  void Erase(uint64_t tenant_id, uint64_t key_id);
  std::optional<KeyOwner> Find(const Sha256Digest& digest) const;

 private:
  struct DigestHash {
    size_t operator()(const Sha256Digest& digest) const {
      size_t value;  // The digest is uniformly random: any 8 bytes hash well.
      static_assert(sizeof(value) <= sizeof(Sha256Digest));
      __builtin_memcpy(&value, digest.data(), sizeof(value));
      return value;
    }
  };
  mutable std::shared_mutex mutex_;
  std::unordered_map<Sha256Digest, KeyOwner, DigestHash> owners_;
};

}  // namespace tangelo::api
