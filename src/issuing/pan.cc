// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP,
// whose context copies allocate (3.0). The precomputed HMAC states below need
// a plain-struct SHA-256 context; the algorithm is the same SHA-256.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "issuing/pan.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstring>
#include <memory>

namespace tangelo::issuing {
namespace {

constexpr std::string_view kEncryptionKeyLabel = "tangelo/pan-encryption/v1";
constexpr std::string_view kTokenKeyLabel = "tangelo/pan-token/v1";
constexpr size_t kAadSize = 16;
constexpr size_t kShaBlockSize = 64;

struct CipherContextDeleter {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter>;

bool AllDigits(std::string_view text) {
  for (char character : text) {
    if (character < '0' || character > '9') return false;
  }
  return true;
}

int HexValue(char character) {
  if (character >= '0' && character <= '9') return character - '0';
  if (character >= 'a' && character <= 'f') return character - 'a' + 10;
  if (character >= 'A' && character <= 'F') return character - 'A' + 10;
  return -1;
}

// Decodes exactly out.size() bytes from 2 * out.size() hex characters.
bool DecodeHex(std::string_view hex, std::span<uint8_t> out) {
  if (hex.size() != 2 * out.size()) return false;
  for (size_t i = 0; i < out.size(); ++i) {
    const int high = HexValue(hex[2 * i]);
    const int low = HexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    out[i] = static_cast<uint8_t>(high * 16 + low);
  }
  return true;
}

void PutLittleEndian64(uint64_t value, uint8_t* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

void MakeAad(TenantId tenant_id, CardId card_id, uint8_t (&aad)[kAadSize]) {
  PutLittleEndian64(tenant_id.value(), aad);
  PutLittleEndian64(card_id.value(), aad + 8);
}

bool HmacSha256(std::span<const uint8_t> key, std::string_view data,
                uint8_t (&digest)[EVP_MAX_MD_SIZE]) {
  unsigned int digest_size = 0;
  const unsigned char* result =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &digest_size);
  return result != nullptr && digest_size == 32;
}

void DeriveKey(const PanKey& master_key, std::string_view label,
               std::array<uint8_t, kPanKeySize>* out) {
  uint8_t digest[EVP_MAX_MD_SIZE];
  // HMAC-SHA256 of a constant cannot fail short of a broken OpenSSL build,
  // and running without keys would be worse than stopping.
  TG_ASSERT(HmacSha256(master_key.bytes(), label, digest));
  std::memcpy(out->data(), digest, kPanKeySize);
  OPENSSL_cleanse(digest, sizeof(digest));
}

}  // namespace

bool IsLuhnValid(std::string_view digits) {
  if (digits.size() < 2 || !AllDigits(digits)) return false;
  uint32_t sum = 0;
  bool double_it = false;  // The rightmost (check) digit is not doubled.
  for (size_t i = digits.size(); i-- > 0;) {
    uint32_t digit = static_cast<uint32_t>(digits[i] - '0');
    if (double_it) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double_it = !double_it;
  }
  return sum % 10 == 0;
}

std::optional<char> LuhnCheckDigit(std::string_view body) {
  if (body.empty() || !AllDigits(body)) return std::nullopt;
  uint32_t sum = 0;
  bool double_it = true;  // The body's last digit sits left of the check digit.
  for (size_t i = body.size(); i-- > 0;) {
    uint32_t digit = static_cast<uint32_t>(body[i] - '0');
    if (double_it) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double_it = !double_it;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

bool IsValidPan(std::string_view pan) {
  return pan.size() >= kPanLengthMin && pan.size() <= kPanLengthMax && IsLuhnValid(pan);
}

bool PanToken::valid() const {
  for (uint8_t byte : bytes) {
    if (byte != 0) return true;
  }
  return false;
}

std::string PanToken::ToHex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(2 * bytes.size(), '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    hex[2 * i] = kDigits[bytes[i] >> 4];
    hex[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return hex;
}

std::optional<PanToken> PanToken::FromHex(std::string_view hex) {
  PanToken token;
  if (!DecodeHex(hex, token.bytes)) return std::nullopt;
  return token;
}

uint64_t PanToken::Prefix64() const {
  uint64_t value = 0;
  std::memcpy(&value, bytes.data(), sizeof(value));  // Little-endian host (wire.h).
  return value;
}

bool IsWellFormedEncryptedPan(const EncryptedPan& encrypted) {
  if (encrypted.size < kEncryptedPanSizeMin || encrypted.size > kEncryptedPanSizeMax) {
    return false;
  }
  if (encrypted.bytes[0] != kEncryptedPanFormatVersion) return false;
  for (size_t i = encrypted.size; i < encrypted.bytes.size(); ++i) {
    if (encrypted.bytes[i] != 0) return false;
  }
  return true;
}

SecretPan::SecretPan(std::string_view digits) {
  TG_ASSERT(digits.size() <= digits_.size());
  std::memcpy(digits_.data(), digits.data(), digits.size());
  length_ = static_cast<uint8_t>(digits.size());
}

SecretPan::~SecretPan() { OPENSSL_cleanse(digits_.data(), digits_.size()); }

SecretPan::SecretPan(SecretPan&& other) noexcept : digits_(other.digits_), length_(other.length_) {
  OPENSSL_cleanse(other.digits_.data(), other.digits_.size());
  other.length_ = 0;
}

SecretPan& SecretPan::operator=(SecretPan&& other) noexcept {
  if (this != &other) {
    digits_ = other.digits_;
    length_ = other.length_;
    OPENSSL_cleanse(other.digits_.data(), other.digits_.size());
    other.length_ = 0;
  }
  return *this;
}

base::Result<PanKey> PanKey::FromHex(std::string_view hex) {
  if (hex.size() != 2 * kPanKeySize) {
    return base::InvalidArgument("PAN key must be exactly 64 hexadecimal characters");
  }
  PanKey key;
  if (!DecodeHex(hex, key.bytes_)) {
    return base::InvalidArgument("PAN key has a character that is not hexadecimal");
  }
  return FromBytes(key.bytes_);
}

base::Result<PanKey> PanKey::FromBytes(std::span<const uint8_t> bytes) {
  if (bytes.size() != kPanKeySize) return base::InvalidArgument("PAN key must be 32 bytes");
  PanKey key;
  std::memcpy(key.bytes_.data(), bytes.data(), kPanKeySize);
  bool all_zero = true;
  for (uint8_t byte : key.bytes_) all_zero = all_zero && byte == 0;
  if (all_zero) return base::InvalidArgument("PAN key is all zeros: configure a real key");
  return key;
}

PanKey::~PanKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

PanVault::PanVault(const PanKey& master_key) {
  static_assert(sizeof(SHA256_CTX) <= kShaStateSize);
  DeriveKey(master_key, kEncryptionKeyLabel, &encryption_key_);
  std::array<uint8_t, kPanKeySize> token_key;
  DeriveKey(master_key, kTokenKeyLabel, &token_key);
  // HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)), K zero-padded to a block.
  const auto precompute = [&token_key](uint8_t pad, std::array<uint8_t, kShaStateSize>* state) {
    uint8_t block[kShaBlockSize];
    std::memset(block, pad, sizeof(block));
    for (size_t i = 0; i < token_key.size(); ++i) block[i] ^= token_key[i];
    SHA256_CTX context;
    TG_ASSERT(SHA256_Init(&context) == 1 && SHA256_Update(&context, block, sizeof(block)) == 1);
    std::memcpy(state->data(), &context, sizeof(context));
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(&context, sizeof(context));
  };
  precompute(0x36, &token_inner_state_);
  precompute(0x5c, &token_outer_state_);
  OPENSSL_cleanse(token_key.data(), token_key.size());
}

PanVault::~PanVault() {
  OPENSSL_cleanse(encryption_key_.data(), encryption_key_.size());
  OPENSSL_cleanse(token_inner_state_.data(), token_inner_state_.size());
  OPENSSL_cleanse(token_outer_state_.data(), token_outer_state_.size());
}

bool PanVault::TokenizeInto(std::string_view pan, PanToken* token) const {
  if (!IsValidPan(pan)) return false;
  SHA256_CTX context;
  uint8_t inner_digest[SHA256_DIGEST_LENGTH];
  uint8_t digest[SHA256_DIGEST_LENGTH];
  std::memcpy(&context, token_inner_state_.data(), sizeof(context));
  bool hashed = SHA256_Update(&context, pan.data(), pan.size()) == 1 &&
                SHA256_Final(inner_digest, &context) == 1;
  std::memcpy(&context, token_outer_state_.data(), sizeof(context));
  hashed = hashed && SHA256_Update(&context, inner_digest, sizeof(inner_digest)) == 1 &&
           SHA256_Final(digest, &context) == 1;
  if (hashed) std::memcpy(token->bytes.data(), digest, kPanTokenSize);
  OPENSSL_cleanse(&context, sizeof(context));
  OPENSSL_cleanse(inner_digest, sizeof(inner_digest));
  OPENSSL_cleanse(digest, sizeof(digest));
  return hashed;
}

base::Result<PanToken> PanVault::Tokenize(std::string_view pan) const {
  PanToken token;
  if (!IsValidPan(pan)) {
    return base::InvalidArgument("not a card number: 12 to 19 digits with a Luhn check digit");
  }
  if (!TokenizeInto(pan, &token)) return base::Internal("HMAC-SHA256 failed");
  return token;
}

base::Result<ProtectedPan> PanVault::Protect(TenantId tenant_id, CardId card_id,
                                             std::string_view pan) const {
  if (!tenant_id.valid() || !card_id.valid()) {
    return base::InvalidArgument("tenant and card ids must be non-zero");
  }
  base::Result<PanToken> token = Tokenize(pan);
  if (!token.ok()) return token.status();

  ProtectedPan result;
  result.token = *token;
  std::memcpy(result.last_four.data(), pan.data() + pan.size() - 4, 4);

  EncryptedPan& encrypted = result.encrypted;
  encrypted.bytes[0] = kEncryptedPanFormatVersion;
  uint8_t* nonce = encrypted.bytes.data() + 1;
  uint8_t* ciphertext = nonce + kPanNonceSize;
  uint8_t* tag = ciphertext + pan.size();
  if (RAND_bytes(nonce, static_cast<int>(kPanNonceSize)) != 1) {
    return base::Internal("RAND_bytes failed to produce a nonce");
  }
  uint8_t aad[kAadSize];
  MakeAad(tenant_id, card_id, aad);

  CipherContext context(EVP_CIPHER_CTX_new());
  int length = 0;
  int final_length = 0;
  const bool sealed =
      context != nullptr &&
      EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kPanNonceSize),
                          nullptr) == 1 &&
      EVP_EncryptInit_ex(context.get(), nullptr, nullptr, encryption_key_.data(), nonce) == 1 &&
      EVP_EncryptUpdate(context.get(), nullptr, &length, aad, static_cast<int>(kAadSize)) == 1 &&
      EVP_EncryptUpdate(context.get(), ciphertext, &length,
                        reinterpret_cast<const unsigned char*>(pan.data()),
                        static_cast<int>(pan.size())) == 1 &&
      EVP_EncryptFinal_ex(context.get(), ciphertext + length, &final_length) == 1 &&
      static_cast<size_t>(length + final_length) == pan.size() &&
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kPanTagSize),
                          tag) == 1;
  if (!sealed) return base::Internal("AES-256-GCM encryption failed");
  encrypted.size = static_cast<uint8_t>(1 + kPanNonceSize + pan.size() + kPanTagSize);
  return result;
}

base::Result<SecretPan> PanVault::Reveal(TenantId tenant_id, CardId card_id,
                                         const EncryptedPan& encrypted) const {
  if (!IsWellFormedEncryptedPan(encrypted)) {
    return base::InvalidArgument("malformed encrypted PAN");
  }
  const size_t pan_size = encrypted.size - 1 - kPanNonceSize - kPanTagSize;
  const uint8_t* nonce = encrypted.bytes.data() + 1;
  const uint8_t* ciphertext = nonce + kPanNonceSize;
  uint8_t tag[kPanTagSize];
  std::memcpy(tag, ciphertext + pan_size, kPanTagSize);
  uint8_t aad[kAadSize];
  MakeAad(tenant_id, card_id, aad);

  std::array<char, kPanLengthMax> clear{};
  CipherContext context(EVP_CIPHER_CTX_new());
  int length = 0;
  int final_length = 0;
  const bool prepared =
      context != nullptr &&
      EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kPanNonceSize),
                          nullptr) == 1 &&
      EVP_DecryptInit_ex(context.get(), nullptr, nullptr, encryption_key_.data(), nonce) == 1 &&
      EVP_DecryptUpdate(context.get(), nullptr, &length, aad, static_cast<int>(kAadSize)) == 1 &&
      EVP_DecryptUpdate(context.get(), reinterpret_cast<unsigned char*>(clear.data()), &length,
                        ciphertext, static_cast<int>(pan_size)) == 1 &&
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kPanTagSize),
                          tag) == 1;
  if (!prepared) {
    OPENSSL_cleanse(clear.data(), clear.size());
    return base::Internal("AES-256-GCM decryption setup failed");
  }
  // The tag is checked here: nothing decrypted is returned unless it matches.
  const bool authentic =
      EVP_DecryptFinal_ex(context.get(), reinterpret_cast<unsigned char*>(clear.data()) + length,
                          &final_length) == 1;
  SecretPan pan(std::string_view(clear.data(), pan_size));
  OPENSSL_cleanse(clear.data(), clear.size());
  if (!authentic) {
    return base::DataLoss("encrypted PAN failed authentication (tampered, or another card/key)");
  }
  if (!IsValidPan(pan.digits())) {
    return base::DataLoss("decrypted PAN is not a valid card number");
  }
  return pan;
}

}  // namespace tangelo::issuing
