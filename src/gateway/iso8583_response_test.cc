#include "gateway/iso8583_response.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

#include "gateway/iso8583_codec.h"
#include "gateway/iso8583_test_util.h"

namespace tangelo::gateway {
namespace {

using testing::BcdHexSpec;
using testing::DefaultSpec;

void FillPurchase(Iso8583Message* request) {
  request->set_mti(mti::kAuthorizationRequest);
  request->SetField(2, "4111111111111111");
  request->SetField(3, "000000");
  request->SetField(4, "000000001234");
  request->SetField(7, "1126193000");
  request->SetField(11, "000101");
  request->SetField(14, "2812");  // Not echoed: card data stays out of responses.
  request->SetField(18, "5814");
  request->SetField(22, "051");
  request->SetField(37, "633019000101");
  request->SetField(41, "TERM0001");
  request->SetField(42, "MERCHANT0000001");
  request->SetField(43, "TANGELO COFFEE           MONTEVIDEO   UY");
  request->SetField(49, "840");
  request->SetField(55, std::string_view("\x9F\x26\x01\x00", 4));
}

TEST(Iso8583ResponseTest, ApprovalEchoesTheDialectsFieldsAndAddsTheDecision) {
  Iso8583Message request, response;
  FillPurchase(&request);
  const AdditionalAmount balance[] = {{0, kAmountTypeAvailableBalance, 840, false, 98766}};
  std::string approval_code = "A1B2C3";
  Iso8583ResponseFields fields;
  fields.response_code = Iso8583ResponseCode::kApproved;
  fields.authorization_id = approval_code;
  fields.additional_amounts = balance;
  ASSERT_TRUE(BuildResponse(DefaultSpec(), request, fields, &response).ok());
  approval_code[0] = 'Z';  // The response holds its own copy.

  EXPECT_EQ(response.mti(), mti::kAuthorizationResponse);
  // Echoed: 2 3 4 7 11 37 41 42 49 (12 and 32 are echo fields the request lacks).
  for (int number : {2, 3, 4, 7, 11, 37, 41, 42, 49}) {
    ASSERT_TRUE(response.Has(number)) << number;
    EXPECT_EQ(response.Field(number), request.Field(number)) << number;
    EXPECT_EQ(response.Field(number).data(), request.Field(number).data()) << "zero copy";
  }
  for (int number : {12, 14, 18, 22, 32, 43, 55}) EXPECT_FALSE(response.Has(number)) << number;
  EXPECT_EQ(response.Field(39), "00");
  EXPECT_EQ(response.Field(38), "A1B2C3");
  EXPECT_EQ(response.Field(54), "0002840C000000098766");
  EXPECT_EQ(response.fields().size(), 12);
  EXPECT_TRUE(CheckMessage(DefaultSpec(), response).ok());

  std::array<uint8_t, kIso8583FrameSizeMax> out;
  const base::Result<size_t> size = Encode(DefaultSpec(), response, out);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  Iso8583Message decoded;
  ASSERT_TRUE(Decode(DefaultSpec(), std::span<const uint8_t>(out.data(), *size), &decoded).ok());
  EXPECT_TRUE(decoded == response);
}

TEST(Iso8583ResponseTest, NetworkManagementEchoesOnlyItsOwnFields) {
  Iso8583Message request, response;
  request.set_mti(mti::kNetworkManagementRequest);
  request.SetField(7, "1126193000");
  request.SetField(11, "000001");
  request.SetField(70, "301");
  request.SetField(41, "TERM0001");  // Not an 0800 echo field.
  Iso8583ResponseFields fields;
  fields.response_code = Iso8583ResponseCode::kApproved;
  ASSERT_TRUE(BuildResponse(DefaultSpec(), request, fields, &response).ok());
  EXPECT_EQ(response.mti(), mti::kNetworkManagementResponse);
  EXPECT_EQ(response.fields().size(), 4);
  EXPECT_EQ(response.Field(70), "301");
  EXPECT_EQ(response.Field(39), "00");
  EXPECT_FALSE(response.Has(41));
  EXPECT_FALSE(response.Has(38));
}

TEST(Iso8583ResponseTest, ReversalResponseEchoesOriginalDataElements) {
  Iso8583Message request, response;
  FillPurchase(&request);
  request.set_mti(mti::kReversalRequest);
  request.SetField(90,
                   "0100000101112619300000012345678"
                   "00000000000");
  Iso8583ResponseFields fields;
  fields.response_code = Iso8583ResponseCode::kApproved;
  ASSERT_TRUE(BuildResponse(DefaultSpec(), request, fields, &response).ok());
  EXPECT_EQ(response.mti(), mti::kReversalResponse);
  EXPECT_EQ(response.Field(90), request.Field(90));
  EXPECT_TRUE(CheckMessage(DefaultSpec(), response).ok());
}

TEST(Iso8583ResponseTest, FormatErrorForARequestMissingFields) {
  Iso8583Message request, response;
  request.set_mti(mti::kAuthorizationRequest);
  request.SetField(11, "000101");
  request.SetField(37, "633019000101");
  ASSERT_FALSE(CheckMessage(DefaultSpec(), request).ok());
  Iso8583ResponseFields fields;
  fields.response_code = Iso8583ResponseCode::kFormatError;
  ASSERT_TRUE(BuildResponse(DefaultSpec(), request, fields, &response).ok());
  EXPECT_EQ(response.Field(39), "30");
  EXPECT_EQ(response.Field(11), "000101");
  EXPECT_EQ(response.Field(37), "633019000101");
  EXPECT_EQ(response.fields().size(), 3);
}

TEST(Iso8583ResponseTest, WorksInTheSecondDialect) {
  Iso8583Message request, response;
  FillPurchase(&request);
  Iso8583ResponseFields fields;
  fields.response_code = Iso8583ResponseCode::kDoNotHonor;
  ASSERT_TRUE(BuildResponse(BcdHexSpec(), request, fields, &response).ok());
  EXPECT_EQ(response.Field(39), "05");
  std::array<uint8_t, kIso8583FrameSizeMax> out;
  const base::Result<size_t> size = Encode(BcdHexSpec(), response, out);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(out[0], 0x01);  // BCD MTI 0110.
  EXPECT_EQ(out[1], 0x10);
}

TEST(Iso8583ResponseTest, RejectsWhatCannotBeAnswered) {
  Iso8583Message request, response;
  FillPurchase(&request);
  Iso8583ResponseFields fields;
  fields.response_code = Iso8583ResponseCode::kApproved;

  request.set_mti(mti::kAuthorizationResponse);  // A response has no response.
  EXPECT_EQ(BuildResponse(DefaultSpec(), request, fields, &response).code(),
            base::StatusCode::kInvalidArgument);
  request.set_mti(302);  // Not in the dialect at all.
  EXPECT_FALSE(BuildResponse(DefaultSpec(), request, fields, &response).ok());

  request.set_mti(mti::kAuthorizationRequest);
  fields.authorization_id = "A1B2C";  // Field 38 is exactly 6.
  EXPECT_FALSE(BuildResponse(DefaultSpec(), request, fields, &response).ok());
  fields.authorization_id = "A1-2C3";  // an: no punctuation.
  EXPECT_FALSE(BuildResponse(DefaultSpec(), request, fields, &response).ok());

  fields.authorization_id = "";
  const AdditionalAmount balance[] = {{0, kAmountTypeAvailableBalance, 840, false, 1}};
  fields.additional_amounts = balance;
  auto no_54 = Iso8583Spec::Parse(
      "format tangelo-iso8583-spec 1\ndialect x\nfield 11 n fixed 6 ascii stan\n"
      "field 39 an fixed 2 ascii rc\nmessage 0100 response=0110 echo=11\nmessage 0110\n",
      "x");
  ASSERT_TRUE(no_54.ok()) << no_54.status().ToString();
  EXPECT_NE(BuildResponse(*no_54, request, fields, &response).message().find("field 54"),
            std::string::npos);
}

TEST(Iso8583ResponseDeathTest, ResponseMustBeAnotherMessage) {
  Iso8583Message request;
  FillPurchase(&request);
  EXPECT_DEATH((void)BuildResponse(DefaultSpec(), request, {}, &request), "assertion failed");
}

}  // namespace
}  // namespace tangelo::gateway
