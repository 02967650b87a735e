#include "issuing/pan.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <set>
#include <string>

#include "issuing/test_fixture.h"

namespace tangelo::issuing {
namespace {

using testing::TestKey;
using testing::TestPan;

constexpr TenantId kTenant{1};
// Token of 4111111111111111 under the master key "aa" x 32 (see
// TokenIsHmacSha256UnderTheDerivedTokenKey).
constexpr std::string_view kFixedToken = "92d2273b2f65999cb0da67c9020c1cce";  // Python hmac.
constexpr CardId kCard{7};

TEST(LuhnTest, KnownNetworkTestNumbers) {
  for (std::string_view pan :
       {"4111111111111111", "5555555555554444", "378282246310005", "6011111111111117",
        "4000056655665556", "3056930009020004", "6304000000000000", "4222222222222"}) {
    EXPECT_TRUE(IsLuhnValid(pan)) << pan;
    EXPECT_TRUE(IsValidPan(pan)) << pan;
  }
  EXPECT_FALSE(IsLuhnValid("4111111111111112"));
  EXPECT_FALSE(IsLuhnValid("5555555555554440"));
  EXPECT_FALSE(IsLuhnValid("0"));
  EXPECT_FALSE(IsLuhnValid(""));
  EXPECT_FALSE(IsLuhnValid("4111 1111 1111 1111"));
  EXPECT_FALSE(IsLuhnValid("411111111111111a"));
  EXPECT_TRUE(IsLuhnValid("00"));
}

TEST(LuhnTest, CheckDigitCompletesAValidNumber) {
  EXPECT_EQ(LuhnCheckDigit("411111111111111"), '1');
  EXPECT_EQ(LuhnCheckDigit("37828224631000"), '5');
  EXPECT_FALSE(LuhnCheckDigit("").has_value());
  EXPECT_FALSE(LuhnCheckDigit("12a").has_value());
  for (uint64_t serial = 0; serial < 500; ++serial) {
    const std::string pan = TestPan(serial * 7919);
    EXPECT_TRUE(IsValidPan(pan)) << pan;
    // Changing any one digit breaks the check.
    std::string changed = pan;
    changed[6] = changed[6] == '9' ? '0' : static_cast<char>(changed[6] + 1);
    EXPECT_FALSE(IsLuhnValid(changed)) << changed;
  }
}

TEST(LuhnTest, PanLengthBounds) {
  const auto with_check = [](std::string body) { return body + *LuhnCheckDigit(body); };
  EXPECT_FALSE(IsValidPan(with_check(std::string(kPanLengthMin - 2, '4'))));
  EXPECT_TRUE(IsValidPan(with_check(std::string(kPanLengthMin - 1, '4'))));
  EXPECT_TRUE(IsValidPan(with_check(std::string(kPanLengthMax - 1, '4'))));
  EXPECT_FALSE(IsValidPan(with_check(std::string(kPanLengthMax, '4'))));
}

TEST(PanKeyTest, ParsesExactly64HexCharacters) {
  const std::string hex = "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff";
  base::Result<PanKey> key = PanKey::FromHex(hex);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->bytes()[0], 0x00);
  EXPECT_EQ(key->bytes()[1], 0x11);
  EXPECT_EQ(key->bytes()[10], 0xaa);
  EXPECT_EQ(key->bytes()[31], 0xff);

  for (const std::string& bad :
       {hex.substr(0, 63), hex + "0", std::string(), hex.substr(0, 62) + "g0",
        hex.substr(0, 62) + " 0", "0x" + hex.substr(0, 62)}) {
    base::Result<PanKey> rejected = PanKey::FromHex(bad);
    ASSERT_FALSE(rejected.ok()) << bad;
    EXPECT_EQ(rejected.status().code(), base::StatusCode::kInvalidArgument);
    // The error never echoes key material.
    EXPECT_EQ(rejected.status().message().find("0011"), std::string::npos);
  }
  base::Result<PanKey> zero = PanKey::FromHex(std::string(64, '0'));
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("all zeros"), std::string::npos);
  const uint8_t short_key[16] = {1};
  EXPECT_FALSE(PanKey::FromBytes(short_key).ok());
}

TEST(PanTokenTest, HexRoundTripAndValidity) {
  PanToken token;
  EXPECT_FALSE(token.valid());
  token.bytes[15] = 0xab;
  EXPECT_TRUE(token.valid());
  EXPECT_EQ(token.ToHex(), "000000000000000000000000000000ab");
  EXPECT_EQ(PanToken::FromHex(token.ToHex()), token);
  EXPECT_FALSE(PanToken::FromHex("00").has_value());
  EXPECT_FALSE(PanToken::FromHex(std::string(32, 'z')).has_value());
  token.bytes[0] = 0x01;
  token.bytes[7] = 0x80;
  EXPECT_EQ(token.Prefix64(), 0x8000000000000001ULL);
}

TEST(PanVaultTest, ProtectAndRevealRoundTrip) {
  const PanVault vault(TestKey());
  const std::string pan = TestPan(123456);
  base::Result<ProtectedPan> protected_pan = vault.Protect(kTenant, kCard, pan);
  ASSERT_TRUE(protected_pan.ok()) << protected_pan.status().ToString();
  EXPECT_TRUE(protected_pan->token.valid());
  EXPECT_EQ(std::string(protected_pan->last_four.data(), 4), pan.substr(pan.size() - 4));
  EXPECT_TRUE(IsWellFormedEncryptedPan(protected_pan->encrypted));
  EXPECT_EQ(protected_pan->encrypted.size, 1 + kPanNonceSize + pan.size() + kPanTagSize);

  base::Result<SecretPan> revealed = vault.Reveal(kTenant, kCard, protected_pan->encrypted);
  ASSERT_TRUE(revealed.ok()) << revealed.status().ToString();
  EXPECT_EQ(revealed->digits(), pan);

  // Shortest and longest PANs.
  for (size_t length : {kPanLengthMin, kPanLengthMax}) {
    std::string body(length - 1, '5');
    const std::string edge = body + *LuhnCheckDigit(body);
    base::Result<ProtectedPan> sealed = vault.Protect(kTenant, kCard, edge);
    ASSERT_TRUE(sealed.ok());
    EXPECT_EQ(vault.Reveal(kTenant, kCard, sealed->encrypted)->digits(), edge);
  }
}

TEST(PanVaultTest, TokensAreDeterministicPerKeyAndDistinctPerPan) {
  const PanVault vault(TestKey(1));
  const PanVault same_key(TestKey(1));
  const PanVault other_key(TestKey(2));
  const std::string pan = TestPan(42);
  const PanToken token = *vault.Tokenize(pan);
  EXPECT_EQ(*same_key.Tokenize(pan), token);
  EXPECT_NE(*other_key.Tokenize(pan), token);
  PanToken into;
  ASSERT_TRUE(vault.TokenizeInto(pan, &into));
  EXPECT_EQ(into, token);
  // Same token whichever card or tenant it is protected for; new nonce each time.
  const ProtectedPan first = *vault.Protect(kTenant, kCard, pan);
  const ProtectedPan second = *vault.Protect(TenantId(2), CardId(9), pan);
  EXPECT_EQ(first.token, token);
  EXPECT_EQ(second.token, token);
  EXPECT_NE(first.encrypted, second.encrypted);
  const ProtectedPan again = *vault.Protect(kTenant, kCard, pan);
  EXPECT_NE(
      std::vector<uint8_t>(first.encrypted.bytes.begin() + 1, first.encrypted.bytes.begin() + 13),
      std::vector<uint8_t>(again.encrypted.bytes.begin() + 1, again.encrypted.bytes.begin() + 13));

  std::set<std::string> tokens;
  for (uint64_t serial = 0; serial < 2000; ++serial) {
    EXPECT_TRUE(tokens.insert(vault.Tokenize(TestPan(serial))->ToHex()).second);
  }
}

// Pins the token derivation: tokens index every card, so a change here would
// make every issued card unfindable. The token is HMAC-SHA256 under
// HMAC-SHA256(master key, "tangelo/pan-token/v1"), first 16 bytes.
TEST(PanVaultTest, TokenIsHmacSha256UnderTheDerivedTokenKey) {
  const PanKey master = TestKey(1);
  const PanVault vault(master);
  uint8_t token_key[EVP_MAX_MD_SIZE];
  unsigned int token_key_size = 0;
  const std::string_view label = "tangelo/pan-token/v1";
  ASSERT_NE(HMAC(EVP_sha256(), master.bytes().data(), 32,
                 reinterpret_cast<const unsigned char*>(label.data()), label.size(), token_key,
                 &token_key_size),
            nullptr);
  for (uint64_t serial : {0ULL, 42ULL, 987654321ULL}) {
    const std::string pan = TestPan(serial);
    uint8_t expected[EVP_MAX_MD_SIZE];
    unsigned int expected_size = 0;
    ASSERT_NE(HMAC(EVP_sha256(), token_key, 32, reinterpret_cast<const unsigned char*>(pan.data()),
                   pan.size(), expected, &expected_size),
              nullptr);
    PanToken token;
    ASSERT_TRUE(vault.TokenizeInto(pan, &token));
    EXPECT_EQ(std::vector<uint8_t>(token.bytes.begin(), token.bytes.end()),
              std::vector<uint8_t>(expected, expected + kPanTokenSize))
        << pan;
  }
  // And one fixed answer, so the test key or the PAN helper cannot drift.
  const std::string key_hex(64, 'a');
  const PanVault fixed(*PanKey::FromHex(key_hex));
  EXPECT_EQ(fixed.Tokenize("4111111111111111")->ToHex(), kFixedToken);
}

TEST(PanVaultTest, EveryFlippedBitFailsAuthentication) {
  const PanVault vault(TestKey());
  const ProtectedPan sealed = *vault.Protect(kTenant, kCard, TestPan(99));
  // Byte 0 is the version (a flip there is malformed); every other bit is
  // nonce, ciphertext or tag, which the GCM tag covers.
  for (size_t byte = 1; byte < sealed.encrypted.size; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      EncryptedPan tampered = sealed.encrypted;
      tampered.bytes[byte] = static_cast<uint8_t>(tampered.bytes[byte] ^ (1u << bit));
      base::Result<SecretPan> revealed = vault.Reveal(kTenant, kCard, tampered);
      ASSERT_FALSE(revealed.ok()) << "byte " << byte << " bit " << bit;
      EXPECT_EQ(revealed.status().code(), base::StatusCode::kDataLoss);
    }
  }
  EncryptedPan bad_version = sealed.encrypted;
  bad_version.bytes[0] = 2;
  EXPECT_EQ(vault.Reveal(kTenant, kCard, bad_version).status().code(),
            base::StatusCode::kInvalidArgument);
}

TEST(PanVaultTest, CiphertextIsBoundToItsCardTenantAndKey) {
  const PanVault vault(TestKey(1));
  const ProtectedPan sealed = *vault.Protect(kTenant, kCard, TestPan(5));
  EXPECT_EQ(vault.Reveal(kTenant, CardId(8), sealed.encrypted).status().code(),
            base::StatusCode::kDataLoss);
  EXPECT_EQ(vault.Reveal(TenantId(2), kCard, sealed.encrypted).status().code(),
            base::StatusCode::kDataLoss);
  const PanVault other(TestKey(2));
  EXPECT_EQ(other.Reveal(kTenant, kCard, sealed.encrypted).status().code(),
            base::StatusCode::kDataLoss);
}

TEST(PanVaultTest, RejectsBadInput) {
  const PanVault vault(TestKey());
  for (std::string_view bad : {"", "4111111111111112", "4111-1111-1111-1111", "411111111111",
                               "41111111111111111111", "4111111111111111 "}) {
    EXPECT_EQ(vault.Protect(kTenant, kCard, bad).status().code(),
              base::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_FALSE(vault.Tokenize(bad).ok()) << bad;
    PanToken token;
    EXPECT_FALSE(vault.TokenizeInto(bad, &token)) << bad;
    EXPECT_FALSE(token.valid());
  }
  EXPECT_EQ(vault.Protect(TenantId(0), kCard, TestPan(1)).status().code(),
            base::StatusCode::kInvalidArgument);
  EXPECT_EQ(vault.Protect(kTenant, CardId(0), TestPan(1)).status().code(),
            base::StatusCode::kInvalidArgument);

  const ProtectedPan sealed = *vault.Protect(kTenant, kCard, TestPan(1));
  EncryptedPan too_short = sealed.encrypted;
  too_short.size = kEncryptedPanSizeMin - 1;
  EXPECT_EQ(vault.Reveal(kTenant, kCard, too_short).status().code(),
            base::StatusCode::kInvalidArgument);
  EncryptedPan too_long = sealed.encrypted;
  too_long.size = kEncryptedPanSizeMax + 1;
  EXPECT_EQ(vault.Reveal(kTenant, kCard, too_long).status().code(),
            base::StatusCode::kInvalidArgument);
  EncryptedPan dirty_padding = sealed.encrypted;
  dirty_padding.bytes[kEncryptedPanSizeMax - 1] = 1;
  EXPECT_EQ(vault.Reveal(kTenant, kCard, dirty_padding).status().code(),
            base::StatusCode::kInvalidArgument);
  EXPECT_EQ(vault.Reveal(kTenant, kCard, EncryptedPan{}).status().code(),
            base::StatusCode::kInvalidArgument);
}

TEST(SecretPanTest, MoveWipesTheSource) {
  SecretPan first("4111111111111111");
  SecretPan second(std::move(first));
  EXPECT_EQ(second.digits(), "4111111111111111");
  EXPECT_EQ(first.digits(), "");  // NOLINT: reading a moved-from value on purpose.
  SecretPan third;
  third = std::move(second);
  EXPECT_EQ(third.digits(), "4111111111111111");
  EXPECT_EQ(second.digits(), "");  // NOLINT
}

}  // namespace
}  // namespace tangelo::issuing
