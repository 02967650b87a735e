#include "gateway/iso8583_fields.h"

#include <gtest/gtest.h>

#include <string>

#include "gateway/iso8583_test_util.h"

namespace tangelo::gateway {
namespace {

using base::StatusCode;
using testing::BcdHexSpec;
using testing::DefaultSpec;

class Iso8583FieldsTest : public ::testing::Test {
 protected:
  Iso8583FieldsTest() { message_.set_mti(100); }
  Iso8583Message message_;
};

template <typename T>
void ExpectCode(const base::Result<T>& result, StatusCode code) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), code) << result.status().ToString();
}

TEST(MaskPanTest, ShowsFirstSixAndLastFourOnly) {
  EXPECT_EQ(MaskPan("4111111111111111").view(), "411111******1111");
  EXPECT_EQ(MaskPan("4111111111111111234").view(), "411111*********1234");
  EXPECT_EQ(MaskPan("4111111111111").view(), "411111***1111");  // 13: 3 stay hidden.
}

TEST(MaskPanTest, ShortAndOddInputsNeverRevealMore) {
  EXPECT_EQ(MaskPan("411111111111").view(), "********1111");  // 12: last 4 only.
  EXPECT_EQ(MaskPan("41111111").view(), "****1111");
  EXPECT_EQ(MaskPan("4111111").view(), "*******");  // Under 8: nothing.
  EXPECT_EQ(MaskPan("").view(), "");
  // Over 19 characters: cut, never overflow.
  EXPECT_EQ(MaskPan(std::string(40, '5')).view().size(), 19u);
}

TEST_F(Iso8583FieldsTest, Pan) {
  ExpectCode(ReadPan(message_), StatusCode::kNotFound);
  message_.SetField(field::kPan, "4111111111111111");
  EXPECT_EQ(*ReadPan(message_), "4111111111111111");
  message_.SetField(field::kPan, "4111111");
  ExpectCode(ReadPan(message_), StatusCode::kInvalidArgument);
  message_.SetField(field::kPan, "41111111111111112345");
  ExpectCode(ReadPan(message_), StatusCode::kInvalidArgument);
  message_.SetField(field::kPan, "4111-1111-1111");
  ExpectCode(ReadPan(message_), StatusCode::kInvalidArgument);
}

TEST_F(Iso8583FieldsTest, ProcessingCode) {
  ExpectCode(ReadProcessingCode(message_), StatusCode::kNotFound);
  message_.SetField(field::kProcessingCode, "301020");
  const ProcessingCode code = *ReadProcessingCode(message_);
  EXPECT_EQ(code.transaction_type, 30);
  EXPECT_EQ(code.from_account_type, 10);
  EXPECT_EQ(code.to_account_type, 20);
  message_.SetField(field::kProcessingCode, "30102");
  ExpectCode(ReadProcessingCode(message_), StatusCode::kInvalidArgument);
}

TEST_F(Iso8583FieldsTest, TransactionAmountInMinorUnits) {
  ExpectCode(ReadTransactionAmount(message_), StatusCode::kNotFound);
  message_.SetField(field::kTransactionAmount, "000000001234");
  EXPECT_EQ(*ReadTransactionAmount(message_), 1234u);
  message_.SetField(field::kTransactionAmount, "999999999999");
  EXPECT_EQ(*ReadTransactionAmount(message_), 999'999'999'999u);
  message_.SetField(field::kTransactionAmount, "000000000000");
  EXPECT_EQ(*ReadTransactionAmount(message_), 0u);
  message_.SetField(field::kTransactionAmount, "00000000123A");
  ExpectCode(ReadTransactionAmount(message_), StatusCode::kInvalidArgument);
  // A dialect with a longer amount must not overflow silently.
  message_.SetField(field::kTransactionAmount, "9999999999999999999");
  ExpectCode(ReadTransactionAmount(message_), StatusCode::kInvalidArgument);
  message_.SetField(field::kTransactionAmount, "");
  ExpectCode(ReadTransactionAmount(message_), StatusCode::kInvalidArgument);
}

TEST_F(Iso8583FieldsTest, TransmissionDateTimeRanges) {
  message_.SetField(field::kTransmissionDateTime, "1231235959");
  const TransmissionDateTime date_time = *ReadTransmissionDateTime(message_);
  EXPECT_EQ(date_time.month, 12);
  EXPECT_EQ(date_time.day, 31);
  EXPECT_EQ(date_time.hour, 23);
  EXPECT_EQ(date_time.minute, 59);
  EXPECT_EQ(date_time.second, 59);
  for (std::string_view bad : {"1331000000", "0001000000", "0100000000", "0132000000", "0101240000",
                               "0101006000", "0101000060", "010100000"}) {
    message_.SetField(field::kTransmissionDateTime, bad);
    ExpectCode(ReadTransmissionDateTime(message_), StatusCode::kInvalidArgument);
  }
}

TEST_F(Iso8583FieldsTest, StanMccCurrency) {
  ExpectCode(ReadStan(message_), StatusCode::kNotFound);
  message_.SetField(field::kStan, "000101");
  EXPECT_EQ(*ReadStan(message_), 101u);
  message_.SetField(field::kStan, "0001011");
  ExpectCode(ReadStan(message_), StatusCode::kInvalidArgument);

  message_.SetField(field::kMerchantCategoryCode, "5814");
  EXPECT_EQ(*ReadMerchantCategoryCode(message_), 5814);

  message_.SetField(field::kCurrencyCode, "840");
  EXPECT_EQ(*ReadCurrencyCode(message_), 840);
  EXPECT_EQ(ReadCurrency(message_)->alpha(), "USD");
  message_.SetField(field::kCurrencyCode, "999");  // Digits, but no such currency.
  EXPECT_EQ(*ReadCurrencyCode(message_), 999);
  ExpectCode(ReadCurrency(message_), StatusCode::kInvalidArgument);
}

TEST_F(Iso8583FieldsTest, Expiry) {
  message_.SetField(field::kExpirationDate, "2812");
  const CardExpiry expiry = *ReadExpiry(message_);
  EXPECT_EQ(expiry.year, 2028);
  EXPECT_EQ(expiry.month, 12);
  message_.SetField(field::kExpirationDate, "2813");
  ExpectCode(ReadExpiry(message_), StatusCode::kInvalidArgument);
  message_.SetField(field::kExpirationDate, "2800");
  ExpectCode(ReadExpiry(message_), StatusCode::kInvalidArgument);
}

TEST_F(Iso8583FieldsTest, AcquirerAndRrn) {
  message_.SetField(field::kAcquirerId, "12345678");
  EXPECT_EQ(*ReadAcquirerId(message_), "12345678");
  message_.SetField(field::kAcquirerId, "");
  ExpectCode(ReadAcquirerId(message_), StatusCode::kInvalidArgument);

  message_.SetField(field::kRetrievalReferenceNumber, "633019000101");
  EXPECT_EQ(*ReadRetrievalReferenceNumber(message_), "633019000101");
  message_.SetField(field::kRetrievalReferenceNumber, "            ");
  ExpectCode(ReadRetrievalReferenceNumber(message_), StatusCode::kInvalidArgument);
}

TEST_F(Iso8583FieldsTest, ResponseCodes) {
  EXPECT_EQ(ResponseCodeText(Iso8583ResponseCode::kApproved), "00");
  EXPECT_EQ(ResponseCodeText(Iso8583ResponseCode::kDoNotHonor), "05");
  EXPECT_EQ(ResponseCodeText(Iso8583ResponseCode::kFormatError), "30");
  EXPECT_EQ(ResponseCodeText(Iso8583ResponseCode::kInsufficientFunds), "51");
  EXPECT_EQ(ResponseCodeText(Iso8583ResponseCode::kSystemMalfunction), "96");
  message_.SetField(field::kResponseCode, "51");
  EXPECT_EQ(*ReadResponseCode(message_), Iso8583ResponseCode::kInsufficientFunds);
  message_.SetField(field::kResponseCode, "77");  // Not a code Tangelo knows.
  ExpectCode(ReadResponseCode(message_), StatusCode::kInvalidArgument);
  message_.SetField(field::kResponseCode, "N7");
  ExpectCode(ReadResponseCode(message_), StatusCode::kInvalidArgument);
}

TEST_F(Iso8583FieldsTest, AcceptorCountryFollowsTheDialect) {
  message_.SetField(field::kCardAcceptorNameLocation, "TANGELO COFFEE           MONTEVIDEO   UY");
  EXPECT_EQ(*ReadAcceptorCountry(DefaultSpec(), message_), "UY");
  message_.SetField(field::kCardAcceptorNameLocation, "TANGELO COFFEE MONTEVIDEO URY");
  EXPECT_EQ(*ReadAcceptorCountry(BcdHexSpec(), message_), "URY");
  message_.SetField(field::kCardAcceptorNameLocation, "TANGELO COFFEE MONTEVIDEO uy");
  ExpectCode(ReadAcceptorCountry(DefaultSpec(), message_), StatusCode::kInvalidArgument);
  message_.SetField(field::kCardAcceptorNameLocation, "UY");
  ExpectCode(ReadAcceptorCountry(BcdHexSpec(), message_), StatusCode::kInvalidArgument);
  message_.ClearField(field::kCardAcceptorNameLocation);
  ExpectCode(ReadAcceptorCountry(DefaultSpec(), message_), StatusCode::kNotFound);
}

TEST_F(Iso8583FieldsTest, AdditionalAmountsRoundTrip) {
  const AdditionalAmount amounts[] = {
      {0, kAmountTypeAvailableBalance, 840, false, 98766},
      {0, kAmountTypeLedgerBalance, 840, true, 999'999'999'999},
  };
  ASSERT_TRUE(WriteAdditionalAmounts(amounts, &message_).ok());
  EXPECT_EQ(message_.Field(field::kAdditionalAmounts),
            "0002840C000000098766"
            "0001840D999999999999");
  const AdditionalAmounts read = *ReadAdditionalAmounts(message_);
  ASSERT_EQ(read.count, 2u);
  EXPECT_EQ(read.items[0].amount_type, kAmountTypeAvailableBalance);
  EXPECT_EQ(read.items[0].currency_code, 840);
  EXPECT_FALSE(read.items[0].negative);
  EXPECT_EQ(read.items[0].amount_minor_units, 98766u);
  EXPECT_TRUE(read.items[1].negative);
  EXPECT_EQ(read.items[1].amount_minor_units, 999'999'999'999u);
}

TEST_F(Iso8583FieldsTest, AdditionalAmountsRejectsBadBlocksAndBadInput) {
  for (std::string_view bad : {"", "0002840C00000009876", "0002840X000000098766",
                               "000284AC000000098766", "0002840C00000009876A"}) {
    message_.SetField(field::kAdditionalAmounts, bad);
    ExpectCode(ReadAdditionalAmounts(message_), StatusCode::kInvalidArgument);
  }
  const std::string seven_blocks(7 * kAdditionalAmountSize, '0');
  message_.SetField(field::kAdditionalAmounts, seven_blocks);
  ExpectCode(ReadAdditionalAmounts(message_), StatusCode::kInvalidArgument);

  EXPECT_FALSE(WriteAdditionalAmounts({}, &message_).ok());
  const AdditionalAmount too_big[] = {{0, 2, 840, false, 1'000'000'000'000}};
  EXPECT_FALSE(WriteAdditionalAmounts(too_big, &message_).ok());
  const AdditionalAmount bad_currency[] = {{0, 2, 1000, false, 1}};
  EXPECT_FALSE(WriteAdditionalAmounts(bad_currency, &message_).ok());
  const AdditionalAmount seven[7] = {};
  EXPECT_FALSE(WriteAdditionalAmounts(seven, &message_).ok());
}

TEST_F(Iso8583FieldsTest, NetworkManagementCodes) {
  message_.SetField(field::kNetworkManagementCode, "001");
  EXPECT_EQ(*ReadNetworkManagementCode(message_), Iso8583NetworkManagementCode::kSignOn);
  message_.SetField(field::kNetworkManagementCode, "002");
  EXPECT_EQ(*ReadNetworkManagementCode(message_), Iso8583NetworkManagementCode::kSignOff);
  message_.SetField(field::kNetworkManagementCode, "301");
  EXPECT_EQ(*ReadNetworkManagementCode(message_), Iso8583NetworkManagementCode::kEchoTest);
  message_.SetField(field::kNetworkManagementCode, "161");  // Key change: not served.
  ExpectCode(ReadNetworkManagementCode(message_), StatusCode::kInvalidArgument);
}

TEST_F(Iso8583FieldsTest, OriginalDataElements) {
  message_.SetField(field::kOriginalDataElements,
                    "0100"
                    "000101"
                    "1126193000"
                    "00012345678"
                    "00000000042");
  const OriginalDataElements original = *ReadOriginalDataElements(message_);
  EXPECT_EQ(original.mti, 100);
  EXPECT_EQ(original.stan, 101u);
  EXPECT_EQ(original.transmission_date_time.month, 11);
  EXPECT_EQ(original.transmission_date_time.day, 26);
  EXPECT_EQ(original.transmission_date_time.second, 0);
  EXPECT_EQ(original.acquirer_id, "00012345678");
  EXPECT_EQ(original.forwarding_institution_id, "00000000042");
  message_.SetField(field::kOriginalDataElements,
                    "0100"
                    "000101"
                    "1326193000"
                    "00012345678"
                    "00000000042");
  ExpectCode(ReadOriginalDataElements(message_), StatusCode::kInvalidArgument);
  message_.SetField(field::kOriginalDataElements, "0100000101");
  ExpectCode(ReadOriginalDataElements(message_), StatusCode::kInvalidArgument);
  message_.ClearField(field::kOriginalDataElements);
  ExpectCode(ReadOriginalDataElements(message_), StatusCode::kNotFound);
}

TEST_F(Iso8583FieldsTest, ReplacementAmount) {
  const std::string amounts = "000000000500" + std::string(30, '0');
  message_.SetField(field::kReplacementAmounts, amounts);
  EXPECT_EQ(*ReadReplacementAmount(message_), 500u);
  message_.SetField(field::kReplacementAmounts, "00000000050");
  ExpectCode(ReadReplacementAmount(message_), StatusCode::kInvalidArgument);
}

TEST_F(Iso8583FieldsTest, Traceparent) {
  constexpr std::string_view kGood = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  ExpectCode(ReadTraceparent(DefaultSpec(), message_), StatusCode::kNotFound);
  message_.SetField(62, kGood);
  EXPECT_EQ(*ReadTraceparent(DefaultSpec(), message_), kGood);
  // The other dialect carries it in 48, not 62.
  ExpectCode(ReadTraceparent(BcdHexSpec(), message_), StatusCode::kNotFound);

  const std::string bad_values[] = {
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // Forbidden version.
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // 00 is exactly 55.
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",   // Future: '-' after 55.
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // Upper case.
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // Zero trace id.
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // Zero parent id.
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",    // Separator.
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",   // Length.
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",    // Flags.
  };
  // A later version may carry more fields.
  const std::string future = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-abc";
  message_.SetField(62, future);
  EXPECT_EQ(*ReadTraceparent(DefaultSpec(), message_), future);
  for (const std::string& bad : bad_values) {
    message_.SetField(62, bad);
    ExpectCode(ReadTraceparent(DefaultSpec(), message_), StatusCode::kInvalidArgument);
  }
  auto no_trace = Iso8583Spec::Parse("format tangelo-iso8583-spec 1\ndialect none\n", "x");
  ASSERT_TRUE(no_trace.ok());
  ExpectCode(ReadTraceparent(*no_trace, message_), StatusCode::kNotFound);
}

TEST_F(Iso8583FieldsTest, DescribeMasksThePanAndRedactsCardData) {
  const std::string pin("\x12\x34\x56\x78\x9A\xBC\xDE\xF0", 8);
  message_.SetField(field::kPan, "4111111111111111");
  message_.SetField(field::kTransactionAmount, "000000001234");
  message_.SetField(field::kExpirationDate, "2812");
  message_.SetField(35, "4111111111111111=28121010000000000000");
  message_.SetField(52, pin);
  message_.SetField(field::kIccData, "\x9F\x26\x01\x00");
  message_.SetField(field::kNetworkManagementCode, "301");
  const std::string line = DescribeMessage(DefaultSpec(), message_);
  EXPECT_EQ(line,
            "0100 2=411111******1111 4=\"000000001234\" 14=<4 bytes redacted> "
            "35=<37 bytes redacted> 52=<8 bytes redacted> 55=<4 bytes redacted> 70=\"301\"");
  EXPECT_EQ(line.find("4111111111111111"), std::string::npos);
  EXPECT_EQ(line.find("2812"), std::string::npos);
}

TEST_F(Iso8583FieldsTest, DescribeMasksCardNumbersHiddenInFreeText) {
  message_.SetField(field::kPan, "4000000000000002");
  message_.SetField(48, "card 4000000000000002, other 5555555555554444 ref 1234567890123");
  message_.SetField(62, "PAN4000000000000002PAN");
  message_.SetField(field::kOriginalDataElements,
                    "0100"
                    "000101"
                    "1126193000"
                    "00012345678"
                    "00000000042");
  const std::string line = DescribeMessage(DefaultSpec(), message_);
  EXPECT_EQ(line,
            "0100 2=400000******0002 "
            "48=\"card 400000******0002, other 555555******4444 ref 1234567890123\" "
            "62=\"PAN400000******0002PAN\" "
            "90=\"010000010111261930000001234567800000000042\"")
      << "a 13-digit run failing Luhn and the 42-digit field 90 stay readable";
}

TEST_F(Iso8583FieldsTest, DescribeShowsNonSensitiveBinaryAsHexAndHidesUndefinedFields) {
  auto spec = Iso8583Spec::Parse(
      "format tangelo-iso8583-spec 1\ndialect x\nfield 53 b fixed 2 binary control\n", "x");
  ASSERT_TRUE(spec.ok());
  message_.SetField(53, "\x0A\xFF");
  message_.SetField(5, "000000000001");  // Not in the dialect: may be anything.
  EXPECT_EQ(DescribeMessage(*spec, message_), "0100 5=<12 bytes redacted> 53=0AFF");
}

}  // namespace
}  // namespace tangelo::gateway
