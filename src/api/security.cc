#include "api/security.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <mutex>

namespace tangelo::api {

base::Result<std::string> GenerateApiKey() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint8_t random[kApiKeyRandomBytes];
  if (RAND_bytes(random, sizeof(random)) != 1) {
    return base::Internal("RAND_bytes failed");
  }
  std::string key(kApiKeyPrefix);
  // base64url without padding: 32 bytes → 43 characters.
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t byte : random) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      key += kAlphabet[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) key += kAlphabet[(buffer << (6 - bits)) & 63];
  OPENSSL_cleanse(random, sizeof(random));
  return key;
}

base::Result<uint64_t> RandomId() {
  uint64_t id = 0;
  while (id == 0) {
    if (RAND_bytes(reinterpret_cast<uint8_t*>(&id), sizeof(id)) != 1) {
      return base::Internal("RAND_bytes failed");
    }
    id &= (1ULL << 62) - 1;
  }
  return id;
}

Sha256Digest Sha256(std::string_view text) {
  Sha256Digest digest;
  SHA256(reinterpret_cast<const uint8_t*>(text.data()), text.size(), digest.data());
  return digest;
}

bool ConstantTimeEquals(std::string_view presented, std::string_view expected) {
  // Compare digests, so the comparison does not depend on the lengths either.
  const Sha256Digest a = Sha256(presented);
  const Sha256Digest b = Sha256(expected);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0 && !expected.empty();
}

std::optional<std::string_view> BearerToken(std::optional<std::string_view> header) {
  if (!header) return std::nullopt;
  std::string_view value = *header;
  constexpr std::string_view kScheme = "Bearer ";
  if (value.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    const char c = value[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    const char want = kScheme[i] >= 'A' && kScheme[i] <= 'Z'
                          ? static_cast<char>(kScheme[i] + 32) : kScheme[i];
    if (lower != want) return std::nullopt;
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  return value;
}

bool ApiKeyTable::Insert(const Sha256Digest& digest, KeyOwner owner) {
  std::unique_lock lock(mutex_);
  if (owners_.size() >= kApiKeysMax) return false;
  owners_[digest] = owner;
  return true;
}

void ApiKeyTable::Erase(uint64_t tenant_id, uint64_t key_id) {
  std::unique_lock lock(mutex_);
  for (auto it = owners_.begin(); it != owners_.end(); ++it) {
    if (it->second.tenant_id == tenant_id && it->second.key_id == key_id) {
      owners_.erase(it);
      return;
    }
  }
}

std::optional<KeyOwner> ApiKeyTable::Find(const Sha256Digest& digest) const {
  std::shared_lock lock(mutex_);
  auto it = owners_.find(digest);
  if (it == owners_.end()) return std::nullopt;
  return it->second;
}

}  // namespace tangelo::api
