#include "base/money.h"

#include <gtest/gtest.h>

#include <limits>

namespace tangelo::base {
namespace {

TEST(CurrencyTest, LookupByAlphaAndNumeric) {
  auto usd = CurrencyFromAlpha("USD");
  ASSERT_TRUE(usd.has_value());
  EXPECT_EQ(usd->numeric_code, 840);
  EXPECT_EQ(usd->exponent, 2);
  EXPECT_EQ(CurrencyFromNumeric(392)->alpha(), "JPY");
  EXPECT_EQ(CurrencyFromNumeric(48)->exponent, 3);
  EXPECT_FALSE(CurrencyFromAlpha("XYZ").has_value());
  EXPECT_FALSE(CurrencyFromAlpha("usd").has_value());
  EXPECT_FALSE(CurrencyFromAlpha("USDX").has_value());
  EXPECT_FALSE(CurrencyFromNumeric(1).has_value());
}

TEST(MoneyTest, CheckedArithmeticReportsOverflow) {
  uint64_t result = 0;
  EXPECT_TRUE(CheckedAdd(1, 2, &result));
  EXPECT_EQ(result, 3u);
  EXPECT_FALSE(CheckedAdd(std::numeric_limits<uint64_t>::max(), 1, &result));
  EXPECT_FALSE(CheckedSub(1, 2, &result));
}

TEST(MoneyTest, FormatAndParseRoundTrip) {
  Currency usd = *CurrencyFromAlpha("USD");
  Currency jpy = *CurrencyFromAlpha("JPY");
  Currency bhd = *CurrencyFromAlpha("BHD");
  EXPECT_EQ(FormatAmount(12345, usd), "123.45");
  EXPECT_EQ(FormatAmount(5, usd), "0.05");
  EXPECT_EQ(FormatAmount(500, jpy), "500");
  EXPECT_EQ(FormatAmount(1, bhd), "0.001");
  EXPECT_EQ(ParseAmount("123.45", usd), 12345u);
  EXPECT_EQ(ParseAmount("123.4", usd), 12340u);
  EXPECT_EQ(ParseAmount("123", usd), 12300u);
  EXPECT_EQ(ParseAmount("500", jpy), 500u);
}

TEST(MoneyTest, ParseRejectsMalformedInput) {
  Currency usd = *CurrencyFromAlpha("USD");
  Currency jpy = *CurrencyFromAlpha("JPY");
  for (const char* bad : {"", "-1", "+1", "1.234", "1..2", "1.", ".", "abc", "1e5", " 1",
                          "184467440737095516.16", "99999999999999999999"}) {
    EXPECT_FALSE(ParseAmount(bad, usd).has_value()) << bad;
  }
  EXPECT_FALSE(ParseAmount("1.5", jpy).has_value());
}

}  // namespace
}  // namespace tangelo::base
