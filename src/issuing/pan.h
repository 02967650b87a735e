// Card number (PAN) protection: the clear PAN never enters the issuing
// state, the journal, a snapshot or a log.
//
// - A `PanToken` (HMAC-SHA256 of the PAN under a token key, first 16 bytes)
//   is what the state indexes: the same PAN always gives the same token, so a
//   network message's PAN is tokenized on arrival and the card is found by
//   token. 128 bits make an accidental collision impossible in practice, and
//   without the key a token cannot be linked back to a PAN.
// - An `EncryptedPan` (AES-256-GCM, random 96-bit nonce, additional data =
//   tenant id and card id, little-endian) lets an authorized caller reveal the
//   PAN of one card; the AAD binds it to that card, so a ciphertext copied to
//   another card or tenant fails to decrypt.
// - The last four digits are kept in clear for display.
// - CVV, PIN and track data are never accepted by anything here.
//
// Both keys are derived from one 32-byte master key from configuration
// (HMAC-SHA256(master, label)), so the encryption key and the token key
// differ. Encryption uses RAND_bytes, so it is NOT deterministic: it runs in
// the front door before a CreateCard command is built, never inside Apply.
//
// Encrypted PAN layout (kEncryptedPanFormatVersion 1, 41..48 bytes):
//   [0] version = 1 | [1..12] nonce | ciphertext (len = PAN digits) | 16-byte tag
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "issuing/types.h"

namespace tangelo::issuing {

inline constexpr size_t kPanLengthMin = 12;  // ISO/IEC 7812 card numbers used by networks.
inline constexpr size_t kPanLengthMax = 19;
inline constexpr size_t kPanKeySize = 32;
inline constexpr size_t kPanTokenSize = 16;
inline constexpr size_t kPanNonceSize = 12;
inline constexpr size_t kPanTagSize = 16;
inline constexpr uint8_t kEncryptedPanFormatVersion = 1;
inline constexpr size_t kEncryptedPanSizeMin = 1 + kPanNonceSize + kPanLengthMin + kPanTagSize;
inline constexpr size_t kEncryptedPanSizeMax = 1 + kPanNonceSize + kPanLengthMax + kPanTagSize;

// True when `digits` is at least two decimal digits whose Luhn (mod 10)
// checksum is valid.
bool IsLuhnValid(std::string_view digits);
// The Luhn check digit to append to `body` (digits only, non-empty).
std::optional<char> LuhnCheckDigit(std::string_view body);
// kPanLengthMin..kPanLengthMax decimal digits with a valid Luhn check digit.
bool IsValidPan(std::string_view pan);

struct PanToken {
  std::array<uint8_t, kPanTokenSize> bytes{};

  bool valid() const;  // Not all zero (zero means "no token").
  // 32 lowercase hex characters, for the API and logs.
  std::string ToHex() const;
  static std::optional<PanToken> FromHex(std::string_view hex);
  // The first 8 bytes little-endian: already uniformly distributed.
  uint64_t Prefix64() const;
  // Two 64-bit compares instead of a memcmp call: on the lookup path.
  bool operator==(const PanToken& other) const {
    uint64_t mine[2];
    uint64_t theirs[2];
    std::memcpy(mine, bytes.data(), sizeof(mine));
    std::memcpy(theirs, other.bytes.data(), sizeof(theirs));
    return ((mine[0] ^ theirs[0]) | (mine[1] ^ theirs[1])) == 0;
  }
};

struct EncryptedPan {
  uint8_t size = 0;
  std::array<uint8_t, kEncryptedPanSizeMax> bytes{};  // Zero after `size`.

  std::span<const uint8_t> view() const { return {bytes.data(), size}; }
  bool operator==(const EncryptedPan&) const = default;
};

// Size within bounds, known version byte, zero padding. Says nothing about
// whether the tag is right: only Reveal can tell.
bool IsWellFormedEncryptedPan(const EncryptedPan& encrypted);

// What the state keeps of a PAN.
struct ProtectedPan {
  PanToken token;
  std::array<char, 4> last_four{};
  EncryptedPan encrypted;
};

// Clear PAN digits that wipe themselves (OPENSSL_cleanse) on destruction.
// Move-only, so the digits are never silently copied.
class SecretPan {
 public:
  SecretPan() = default;
  explicit SecretPan(std::string_view digits);  // Precondition: at most kPanLengthMax bytes.
  ~SecretPan();
  SecretPan(SecretPan&& other) noexcept;
  SecretPan& operator=(SecretPan&& other) noexcept;
  SecretPan(const SecretPan&) = delete;
  SecretPan& operator=(const SecretPan&) = delete;

  std::string_view digits() const { return std::string_view(digits_.data(), length_); }

 private:
  std::array<char, kPanLengthMax> digits_{};
  uint8_t length_ = 0;
};

// A 32-byte master key, wiped on destruction.
class PanKey {
 public:
  // Exactly 64 hexadecimal characters (either case). InvalidArgument for any
  // other length or character, and for an all-zero key (a placeholder left in
  // a configuration file, never a real key). The message never echoes input.
  static base::Result<PanKey> FromHex(std::string_view hex);
  static base::Result<PanKey> FromBytes(std::span<const uint8_t> bytes);
  ~PanKey();
  PanKey(const PanKey& other) = default;
  PanKey& operator=(const PanKey& other) = default;

  std::span<const uint8_t, kPanKeySize> bytes() const { return bytes_; }

 private:
  PanKey() = default;
  std::array<uint8_t, kPanKeySize> bytes_{};
};

// Protects and reveals PANs with keys derived from a master key. Owns copies
// of the derived keys (wiped on destruction). Thread safe: const methods use
// only call-local OpenSSL contexts.
class PanVault {
 public:
  explicit PanVault(const PanKey& master_key);
  ~PanVault();
  PanVault(const PanVault&) = delete;
  PanVault& operator=(const PanVault&) = delete;

  // Validates the PAN (IsValidPan), then tokenizes and encrypts it bound to
  // (tenant, card). InvalidArgument for a bad PAN or zero ids; Internal if
  // OpenSSL fails (including RAND_bytes).
  base::Result<ProtectedPan> Protect(TenantId tenant_id, CardId card_id,
                                     std::string_view pan) const;

  // Decrypts a PAN protected for (tenant, card). DataLoss when the bytes were
  // changed, the tag does not match, or they belong to another card, tenant
  // or key; InvalidArgument for a malformed EncryptedPan.
  base::Result<SecretPan> Reveal(TenantId tenant_id, CardId card_id,
                                 const EncryptedPan& encrypted) const;

  // The token of a PAN. InvalidArgument when it is not a valid PAN (a
  // network request with such a PAN is CARD_NOT_FOUND, response code 14).
  base::Result<PanToken> Tokenize(std::string_view pan) const;

  // Writes the token into *token and returns true for a valid PAN; false
  // otherwise. The form for network threads: no Status, no allocation, two
  // SHA-256 compressions (~0.2 us).
  bool TokenizeInto(std::string_view pan, PanToken* token) const;

 private:
  // SHA-256 states after the token key's inner and outer padded blocks
  // (RFC 2104), computed once, so a token is one more block through each and
  // needs no OpenSSL context, lock or allocation. Opaque bytes (a SHA256_CTX)
  // so OpenSSL's headers stay out of this one.
  static constexpr size_t kShaStateSize = 128;

  std::array<uint8_t, kPanKeySize> encryption_key_{};
  alignas(16) std::array<uint8_t, kShaStateSize> token_inner_state_{};
  alignas(16) std::array<uint8_t, kShaStateSize> token_outer_state_{};
};

}  // namespace tangelo::issuing
