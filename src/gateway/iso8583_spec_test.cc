#include "gateway/iso8583_spec.h"

#include <gtest/gtest.h>

#include <string>

#include "gateway/iso8583_test_util.h"

namespace tangelo::gateway {
namespace {

constexpr std::string_view kHeader = "format tangelo-iso8583-spec 1\ndialect test\n";

base::Result<Iso8583Spec> ParseWithHeader(std::string_view body) {
  return Iso8583Spec::Parse(std::string(kHeader) + std::string(body), "test.spec");
}

// Expects a parse error whose message contains `needle`.
void ExpectError(std::string_view text, std::string_view needle) {
  const base::Result<Iso8583Spec> spec = Iso8583Spec::Parse(text, "test.spec");
  ASSERT_FALSE(spec.ok()) << "accepted:\n" << text;
  EXPECT_EQ(spec.status().code(), base::StatusCode::kInvalidArgument);
  EXPECT_NE(spec.status().message().find(needle), std::string::npos)
      << "message: " << spec.status().message() << "\nwanted: " << needle;
}

void ExpectBodyError(std::string_view body, std::string_view needle) {
  ExpectError(std::string(kHeader) + std::string(body), needle);
}

TEST(Iso8583SpecTest, LoadsTheDefaultDialect) {
  const Iso8583Spec& spec = testing::DefaultSpec();
  EXPECT_EQ(spec.dialect(), "default");
  EXPECT_EQ(spec.mti_encoding(), Iso8583MtiEncoding::kAscii);
  EXPECT_EQ(spec.bitmap_encoding(), Iso8583BitmapEncoding::kBinary);
  EXPECT_EQ(spec.length_encoding(), Iso8583LengthEncoding::kAscii);
  EXPECT_EQ(spec.secondary_bitmap(), Iso8583SecondaryBitmap::kOnDemand);
  EXPECT_EQ(spec.acceptor_country_length(), 2);
  EXPECT_EQ(spec.traceparent_field(), 62);
  EXPECT_EQ(spec.mti_size(), 4u);
  EXPECT_EQ(spec.bitmap_size(), 8u);

  // Every field the format document lists.
  for (int number :
       {2, 3, 4, 7, 11, 12, 14, 18, 22, 32, 37, 38, 39, 41, 42, 43, 49, 54, 55, 62, 70, 90, 95}) {
    EXPECT_NE(spec.field(number), nullptr) << number;
  }
  const Iso8583FieldSpec* pan = spec.field(2);
  ASSERT_NE(pan, nullptr);
  EXPECT_EQ(pan->type, Iso8583FieldType::kNumeric);
  EXPECT_EQ(pan->length_kind, Iso8583LengthKind::kLlvar);
  EXPECT_EQ(pan->length_max, 19);
  EXPECT_EQ(pan->name, "primary_account_number");
  EXPECT_TRUE(pan->sensitive);
  const Iso8583FieldSpec* emv = spec.field(55);
  ASSERT_NE(emv, nullptr);
  EXPECT_EQ(emv->type, Iso8583FieldType::kBinary);
  EXPECT_EQ(emv->encoding, Iso8583ContentEncoding::kBinary);
  EXPECT_EQ(emv->length_kind, Iso8583LengthKind::kLllvar);
  EXPECT_FALSE(spec.field(4)->sensitive);
  EXPECT_EQ(spec.field(1), nullptr);
  EXPECT_EQ(spec.field(5), nullptr);
  EXPECT_EQ(spec.field(0), nullptr);
  EXPECT_EQ(spec.field(129), nullptr);
  EXPECT_EQ(spec.field(-1), nullptr);

  // Every request MTI of the format document, with its response.
  const std::pair<uint16_t, uint16_t> pairs[] = {{100, 110}, {120, 130}, {200, 210},
                                                 {400, 410}, {420, 430}, {800, 810}};
  for (auto [request, response] : pairs) {
    const Iso8583MessageSpec* message = spec.message(request);
    ASSERT_NE(message, nullptr) << request;
    EXPECT_TRUE(message->has_response);
    EXPECT_EQ(message->response_mti, response);
    EXPECT_TRUE(message->echo.Contains(11)) << "STAN is the matching key";
    ASSERT_NE(spec.message(response), nullptr) << response;
    EXPECT_FALSE(spec.message(response)->has_response);
    EXPECT_TRUE(spec.message(response)->required.Contains(39));
  }
  EXPECT_EQ(spec.message_count(), 12u);
  EXPECT_EQ(spec.message(302), nullptr);
  EXPECT_TRUE(spec.message(400)->echo.Contains(90));
  EXPECT_FALSE(spec.message(800)->echo.Contains(2));
}

TEST(Iso8583SpecTest, LoadsTheSecondDialectWithEveryKnobTurned) {
  const Iso8583Spec& spec = testing::BcdHexSpec();
  EXPECT_EQ(spec.dialect(), "bcd_hex");
  EXPECT_EQ(spec.mti_encoding(), Iso8583MtiEncoding::kBcd);
  EXPECT_EQ(spec.bitmap_encoding(), Iso8583BitmapEncoding::kHex);
  EXPECT_EQ(spec.length_encoding(), Iso8583LengthEncoding::kBcd);
  EXPECT_EQ(spec.secondary_bitmap(), Iso8583SecondaryBitmap::kAlways);
  EXPECT_EQ(spec.acceptor_country_length(), 3);
  EXPECT_EQ(spec.traceparent_field(), 48);
  EXPECT_EQ(spec.mti_size(), 2u);
  EXPECT_EQ(spec.bitmap_size(), 16u);
  EXPECT_EQ(spec.field(43)->length_kind, Iso8583LengthKind::kLlvar);
  EXPECT_EQ(spec.field(55)->length_kind, Iso8583LengthKind::kLlvar);
  EXPECT_TRUE(spec.field(63)->sensitive) << "the `sensitive` keyword";
}

TEST(Iso8583SpecTest, CommentsBlankLinesTabsAndCrlfAreAccepted) {
  const base::Result<Iso8583Spec> spec = Iso8583Spec::Parse(
      "# a comment first\r\n\r\nformat tangelo-iso8583-spec 1   # trailing comment\r\n"
      "dialect\tcrlf-test\r\n\tfield\t11 n fixed 6 ascii stan\r\n",
      "crlf.spec");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->dialect(), "crlf-test");
  EXPECT_EQ(spec->field(11)->length_max, 6);
  // Defaults for directives not given.
  EXPECT_EQ(spec->mti_encoding(), Iso8583MtiEncoding::kAscii);
  EXPECT_EQ(spec->secondary_bitmap(), Iso8583SecondaryBitmap::kOnDemand);
  EXPECT_EQ(spec->traceparent_field(), 0);
  EXPECT_EQ(spec->message_count(), 0u);
}

TEST(Iso8583SpecTest, CardDataFieldsAreSensitiveEvenWithoutTheKeyword) {
  const base::Result<Iso8583Spec> spec = ParseWithHeader(
      "field 2 n LLVAR 19 ascii pan\nfield 14 n fixed 4 ascii expiry\n"
      "field 35 ans LLVAR 37 ascii track2\nfield 52 b fixed 8 binary pin\n"
      "field 55 b LLLVAR 255 binary emv\nfield 4 n fixed 12 ascii amount\n");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  for (int number : {2, 14, 35, 52, 55}) EXPECT_TRUE(spec->field(number)->sensitive) << number;
  EXPECT_FALSE(spec->field(4)->sensitive);
}

TEST(Iso8583SpecTest, HeaderErrors) {
  ExpectError("", "no `format` line");
  ExpectError("# only comments\n", "no `format` line");
  ExpectError("dialect x\n", "test.spec:1: the first line must be `format");
  ExpectError("format tangelo-iso8583-spec 2\n", "unsupported dialect format version '2'");
  ExpectError("format something-else 1\n", "the first line must be");
  ExpectError("format tangelo-iso8583-spec 1\n", "missing `dialect` line");
  ExpectError("format tangelo-iso8583-spec 1\nformat tangelo-iso8583-spec 1\n", "duplicate");
  ExpectError("format tangelo-iso8583-spec 1\ndialect Bad!\n", "must match [a-z0-9_-]");
  ExpectError(std::string(kHeader) + std::string(kIso8583SpecFileSizeMax, '#'),
              "more than the 65536 allowed");
}

TEST(Iso8583SpecTest, DirectiveErrorsNameTheLine) {
  ExpectBodyError("mti_encoding ebcdic\n", "test.spec:3: mti_encoding must be ascii or bcd");
  ExpectBodyError("bitmap_encoding base64\n", "bitmap_encoding must be binary or hex");
  ExpectBodyError("length_encoding binary\n", "length_encoding must be ascii or bcd");
  ExpectBodyError("secondary_bitmap never\n", "secondary_bitmap must be on_demand or always");
  ExpectBodyError("acceptor_country_length 4\n", "acceptor_country_length must be 2 or 3");
  ExpectBodyError("traceparent_field 1\n", "traceparent_field must be 0 or a field number");
  ExpectBodyError("traceparent_field 129\n", "traceparent_field must be 0 or a field number");
  ExpectBodyError("mti_encoding ascii\nmti_encoding bcd\n",
                  "test.spec:4: `mti_encoding` given twice");
  ExpectBodyError("dialect again\n", "`dialect` given twice");
  ExpectBodyError("colour blue\n", "unknown directive 'colour'");
  ExpectBodyError("mti_encoding\n", "takes exactly one value");
  ExpectBodyError("mti_encoding ascii bcd\n", "takes exactly one value");
}

TEST(Iso8583SpecTest, FieldLineErrors) {
  ExpectBodyError("field 2 n LLVAR 19 ascii\n", "a field line is");
  ExpectBodyError("field 1 b fixed 8 binary bitmap\n", "must be 2..128 (field 1 is the secondary");
  ExpectBodyError("field 129 n fixed 3 ascii x\n", "must be 2..128");
  ExpectBodyError("field x n fixed 3 ascii x\n", "must be 2..128");
  ExpectBodyError("field 2 z LLVAR 37 ascii track\n", "field type 'z' must be n, an, ans or b");
  ExpectBodyError("field 2 n LLLLVAR 19 ascii pan\n", "must be fixed, LLVAR or LLLVAR");
  ExpectBodyError("field 2 n LLVAR 100 ascii pan\n", "must be 1..99 for LLVAR");
  ExpectBodyError("field 48 ans LLLVAR 1000 ascii data\n", "must be 1..999 for LLLVAR");
  ExpectBodyError("field 4 n fixed 0 ascii amount\n", "must be 1..999 for fixed");
  ExpectBodyError("field 4 n fixed -1 ascii amount\n", "must be 1..999 for fixed");
  ExpectBodyError("field 4 n fixed 12 ebcdic amount\n", "must be ascii or binary");
  ExpectBodyError("field 4 n fixed 12 binary amount\n", "type n needs encoding ascii");
  ExpectBodyError("field 55 b LLLVAR 255 ascii emv\n", "type b needs encoding binary");
  ExpectBodyError("field 4 n fixed 12 ascii Amount\n", "must match [a-z0-9_]");
  ExpectBodyError("field 4 n fixed 12 ascii amount secret\n", "only `sensitive` may follow");
  ExpectBodyError("field 4 n fixed 12 ascii a\nfield 4 n fixed 12 ascii b\n",
                  "test.spec:4: field 4 defined twice");
}

TEST(Iso8583SpecTest, MessageLineErrors) {
  constexpr std::string_view kFields =
      "field 11 n fixed 6 ascii stan\nfield 39 an fixed 2 ascii rc\n";
  auto with_fields = [&](std::string_view lines) {
    return std::string(kFields) + std::string(lines);
  };
  ExpectBodyError(with_fields("message\n"), "needs an MTI");
  ExpectBodyError(with_fields("message 100\n"), "must be 4 digits");
  ExpectBodyError(with_fields("message 0100 required=11,12\n"), "'12' is not a field defined");
  ExpectBodyError(with_fields("message 0100 required=11,\n"), "'' is not a field defined");
  ExpectBodyError(with_fields("message 0100 echo=11\n"), "has echo fields but no response");
  ExpectBodyError(with_fields("message 0100 response=0110\n"),
                  "test.spec:5: response MTI 0110 has no message line of its own");
  ExpectBodyError(with_fields("message 0110\nmessage 0110\n"), "MTI 0110 listed twice");
  ExpectBodyError(with_fields("message 0110 colour=red\n"), "unknown message key 'colour'");
  ExpectBodyError(with_fields("message 0110 required\n"), "expected key=value");
  ExpectBodyError(with_fields("message 0110 required=11 required=39\n"), "given twice");
  ExpectBodyError(with_fields("message 0100 response=01X0\n"), "response MTI '01X0'");
  std::string many(kFields);
  for (uint32_t i = 0; i <= kIso8583SpecMessagesMax; ++i) {
    many += "message " + FormatMti(static_cast<uint16_t>(1000 + i)) + "\n";
  }
  ExpectBodyError(many, "more than 64 message lines");
}

TEST(Iso8583SpecTest, TraceparentFieldMustHoldATraceparent) {
  ExpectBodyError("traceparent_field 62\n", "test.spec:3: traceparent_field 62 must be a defined");
  ExpectBodyError("traceparent_field 62\nfield 62 an LLLVAR 999 ascii t\n",
                  "must be a defined ans");
  ExpectBodyError("traceparent_field 62\nfield 62 ans LLVAR 54 ascii t\n", "max >= 55");
  EXPECT_TRUE(ParseWithHeader("traceparent_field 62\nfield 62 ans LLVAR 55 ascii t\n").ok());
  EXPECT_TRUE(ParseWithHeader("traceparent_field 0\n").ok());
}

TEST(Iso8583SpecTest, LoadFileReportsMissingFiles) {
  const base::Result<Iso8583Spec> spec = Iso8583Spec::LoadFile("/nonexistent/dialect.spec");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), base::StatusCode::kNotFound);
  EXPECT_NE(spec.status().message().find("/nonexistent/dialect.spec"), std::string::npos);
}

TEST(Iso8583SpecTest, FormatMtiPadsToFourDigits) {
  EXPECT_EQ(FormatMti(100), "0100");
  EXPECT_EQ(FormatMti(0), "0000");
  EXPECT_EQ(FormatMti(9999), "9999");
  EXPECT_EQ(FieldTypeName(Iso8583FieldType::kAlphanumericSpecial), "ans");
}

}  // namespace
}  // namespace tangelo::gateway
