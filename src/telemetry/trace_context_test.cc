#include "telemetry/trace_context.h"

#include <gtest/gtest.h>

namespace tangelo::telemetry {
namespace {

constexpr std::string_view kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceparentTest, ParsesTheSpecExample) {
  base::Result<SpanContext> parsed = ParseTraceparent(kValid);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->trace_id.ToHex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(parsed->span_id.ToHex(), "00f067aa0ba902b7");
  EXPECT_TRUE(parsed->sampled());
  EXPECT_TRUE(parsed->remote);
  EXPECT_TRUE(parsed->valid());
  EXPECT_EQ(FormatTraceparent(*parsed), kValid);
}

TEST(TraceparentTest, FlagsAndRoundTrip) {
  base::Result<SpanContext> unsampled =
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(unsampled.ok());
  EXPECT_FALSE(unsampled->sampled());
  // Unknown flag bits are accepted but not propagated.
  base::Result<SpanContext> extra =
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff");
  ASSERT_TRUE(extra.ok());
  EXPECT_EQ(extra->trace_flags, kTraceFlagSampled | kTraceFlagRandom);
  EXPECT_EQ(FormatTraceparent(*extra), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
  const auto chars = FormatTraceparentChars(*unsampled);
  EXPECT_EQ(std::string_view(chars.data(), chars.size()),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
}

TEST(TraceparentTest, ToleratesSurroundingWhitespaceAndFutureVersions) {
  EXPECT_TRUE(ParseTraceparent(std::string(" \t") + std::string(kValid) + " ").ok());
  // A higher version may append fields after a '-'.
  base::Result<SpanContext> future = ParseTraceparent(
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds");
  ASSERT_TRUE(future.ok());
  EXPECT_EQ(future->span_id.ToHex(), "00f067aa0ba902b7");
  EXPECT_TRUE(ParseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").ok());
}

TEST(TraceparentTest, RejectsEveryInvalidForm) {
  const std::string_view invalid[] = {
      "",
      "00",
      "garbage",
      // Uppercase hex anywhere.
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
      "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      // All-zero ids.
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      // Version ff is forbidden.
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      // Version 00 must be exactly 55 characters.
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",
      // A future version's extra data must follow a '-'.
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
      // Wrong lengths and separators.
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b-01",
      "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7.01",
      // Non-hex characters.
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
      "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      // Inner whitespace.
      "00-4bf92f3577b34da6a3ce929d0e0e4736 -00f067aa0ba902b7-01",
  };
  for (std::string_view header : invalid) {
    base::Result<SpanContext> parsed = ParseTraceparent(header);
    EXPECT_FALSE(parsed.ok()) << "accepted: '" << header << "'";
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), base::StatusCode::kInvalidArgument);
    }
  }
  // Embedded NUL.
  const std::string with_nul = std::string(kValid.substr(0, 20)) + '\0' +
                               std::string(kValid.substr(21));
  EXPECT_FALSE(ParseTraceparent(with_nul).ok());
}

TEST(TraceIdTest, HexParsing) {
  EXPECT_TRUE(TraceIdFromHex("4bf92f3577b34da6a3ce929d0e0e4736").ok());
  EXPECT_FALSE(TraceIdFromHex("4bf92f3577b34da6a3ce929d0e0e473").ok());
  EXPECT_FALSE(TraceIdFromHex("00000000000000000000000000000000").ok());
  EXPECT_TRUE(SpanIdFromHex("00f067aa0ba902b7").ok());
  EXPECT_FALSE(SpanIdFromHex("00F067AA0BA902B7").ok());
  TraceId zero;
  EXPECT_FALSE(zero.valid());
  EXPECT_EQ(zero.ToHex(), "00000000000000000000000000000000");
}

TEST(TraceparentDeathTest, FormattingAnInvalidContextIsAProgrammerError) {
  SpanContext empty;
  EXPECT_DEATH((void)FormatTraceparent(empty), "valid");
}

}  // namespace
}  // namespace tangelo::telemetry
