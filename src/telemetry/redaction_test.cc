#include "telemetry/redaction.h"

#include <gtest/gtest.h>

#include <string>

#include "base/random.h"

namespace tangelo::telemetry {
namespace {

// Well-known test card numbers (all pass Luhn).
constexpr std::string_view kVisa16 = "4111111111111111";
constexpr std::string_view kVisa13 = "4222222222222";
constexpr std::string_view kMastercard = "5555555555554444";
constexpr std::string_view kAmex15 = "378282246310005";
constexpr std::string_view kDiscover = "6011111111111117";
constexpr std::string_view kUnionPay = "6250941006528599";

TEST(LuhnTest, KnownNumbers) {
  for (std::string_view pan : {kVisa16, kVisa13, kMastercard, kAmex15, kDiscover, kUnionPay}) {
    EXPECT_TRUE(PassesLuhn(pan)) << pan;
  }
  EXPECT_TRUE(PassesLuhn("4000000000000000006"));  // 19 digits.
  EXPECT_FALSE(PassesLuhn("4111111111111112"));
  EXPECT_FALSE(PassesLuhn(""));
  EXPECT_FALSE(PassesLuhn("41111x1111111111"));
  EXPECT_TRUE(PassesLuhn("0"));
}

TEST(MaskCardNumbersTest, MasksToFirstSixAndLastFour) {
  EXPECT_EQ(WithCardNumbersMasked(kVisa16), "411111******1111");
  EXPECT_EQ(WithCardNumbersMasked(kVisa13), "422222***2222");
  EXPECT_EQ(WithCardNumbersMasked(kAmex15), "378282*****0005");
  EXPECT_EQ(WithCardNumbersMasked("4000000000000000006"), "400000*********0006");
  EXPECT_EQ(WithCardNumbersMasked("card=5555555555554444;"), "card=555555******4444;");
  EXPECT_EQ(WithCardNumbersMasked("pan4111111111111111x"), "pan411111******1111x");
}

TEST(MaskCardNumbersTest, MasksSpacedAndDashedForms) {
  EXPECT_EQ(WithCardNumbersMasked("4111 1111 1111 1111"), "4111 11** **** 1111");
  EXPECT_EQ(WithCardNumbersMasked("4111-1111-1111-1111"), "4111-11**-****-1111");
  EXPECT_EQ(WithCardNumbersMasked("3782 822463 10005"), "3782 82**** *0005");
  // A PAN followed by more groups (an expiry year) is still found.
  EXPECT_EQ(WithCardNumbersMasked("4111 1111 1111 1111 2029"), "4111 11** **** 1111 2029");
  // ... and one preceded by a short number.
  EXPECT_EQ(WithCardNumbersMasked("qty 12 4111 1111 1111 1111"), "qty 12 4111 11** **** 1111");
}

TEST(MaskCardNumbersTest, LeavesOtherNumbersAlone) {
  // Fails Luhn.
  EXPECT_EQ(WithCardNumbersMasked("4111111111111112"), "4111111111111112");
  // Too short or too long to be a PAN (a 23-digit acquirer reference).
  EXPECT_EQ(WithCardNumbersMasked("411111111111"), "411111111111");
  EXPECT_EQ(WithCardNumbersMasked("74111111111111111111113"), "74111111111111111111113");
  // Two separators in a row end a run.
  EXPECT_EQ(WithCardNumbersMasked("4111  1111  1111  1111"), "4111  1111  1111  1111");
  EXPECT_EQ(WithCardNumbersMasked("amount 12.50 USD"), "amount 12.50 USD");
  EXPECT_EQ(WithCardNumbersMasked(""), "");
}

TEST(MaskCardNumbersTest, MasksEveryCardInText) {
  std::string text = "from 4111111111111111 to 5555-5555-5555-4444 and 378282246310005.";
  EXPECT_EQ(MaskCardNumbers(&text), 3u);
  EXPECT_EQ(text, "from 411111******1111 to 5555-55**-****-4444 and 378282*****0005.");
}

TEST(CopyMaskedPrefixTest, NeverLeavesAPartialCardUnmasked) {
  char out[16];
  // The cut would leave 13 digits of the PAN: they are dropped instead.
  const std::string text = "id 4111111111111111";
  const size_t written = CopyMaskedPrefix(text, out, sizeof(out));
  EXPECT_EQ(std::string_view(out, written), "id ");
  // A complete card inside the limit is masked in place.
  char wide[32];
  const size_t all = CopyMaskedPrefix("x 4111111111111111 y", wide, sizeof(wide));
  EXPECT_EQ(std::string_view(wide, all), "x 411111******1111 y");
  // A cut inside a UTF-8 sequence backs up to its start.
  char small[4];
  const size_t utf8 = CopyMaskedPrefix("ab\xC3\xA9", small, 3);
  EXPECT_EQ(std::string_view(small, utf8), "ab");
}

TEST(MaskCardNumbersTest, PropertyNoEmbeddedCardSurvives) {
  // Random text with random valid card numbers in random formats: after
  // masking, the card's digits never appear in the text's digit sequence.
  base::Random random(99);
  for (int round = 0; round < 2000; ++round) {
    const size_t length = 13 + random.Uniform(7);
    std::string pan;
    for (size_t i = 0; i + 1 < length; ++i) pan.push_back(static_cast<char>('0' + random.Uniform(10)));
    for (char check = '0'; check <= '9'; ++check) {
      if (PassesLuhn(pan + check)) {
        pan.push_back(check);
        break;
      }
    }
    ASSERT_TRUE(PassesLuhn(pan));
    std::string formatted;
    const uint64_t style = random.Uniform(3);
    for (size_t i = 0; i < pan.size(); ++i) {
      if (i > 0 && i % 4 == 0 && style == 1) formatted.push_back(' ');
      if (i > 0 && i % 4 == 0 && style == 2) formatted.push_back('-');
      formatted.push_back(pan[i]);
    }
    const std::string filler = "ab\"c, 7 x=\n";
    std::string text;
    for (uint64_t i = random.Uniform(20); i > 0; --i) text.push_back(filler[random.Uniform(filler.size())]);
    // Delimited: a card glued to other digits is not a 13-19 digit run.
    text += "|" + formatted + "|";
    for (uint64_t i = random.Uniform(20); i > 0; --i) text.push_back(filler[random.Uniform(filler.size())]);
    MaskCardNumbers(&text);
    std::string digits_only;
    for (char c : text) {
      if (c >= '0' && c <= '9') digits_only.push_back(c);
    }
    ASSERT_EQ(digits_only.find(pan), std::string::npos) << text;
  }
}

TEST(SensitiveKeyTest, SecretsByName) {
  for (std::string_view key :
       {"secret", "client_secret", "clientSecret", "api_key", "apiKey", "X-API-Key", "token",
        "access_token", "refreshToken", "password", "db.passwd", "authorization",
        "Authorization", "proxy_authorization", "http.request.header.authorization", "pan",
        "card_pan", "cardPan", "PAN", "pin", "pin_block", "cvv", "cvv2", "card_cvc",
        "private_key", "credentials", "cookie", "card_number", "track2_data",
        "webhook_signing_secret"}) {
    EXPECT_TRUE(IsSensitiveKey(key)) << key;
  }
  for (std::string_view key :
       {"span_id", "company", "expand", "spinner", "card_id", "amount", "authorization_id",
        "authorization_code", "event", "trace_id", "pending", "pinned_version", "panel"}) {
    EXPECT_FALSE(IsSensitiveKey(key)) << key;
  }
}

}  // namespace
}  // namespace tangelo::telemetry
