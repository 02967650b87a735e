// Golden frames (tests/golden/iso8583/*.hex) pin the wire format: each must
// frame, decode to exactly the fields its `# expect` lines state, pass the
// dialect's message check, and re-encode to the identical bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gateway/iso8583_codec.h"
#include "gateway/iso8583_fields.h"
#include "gateway/iso8583_framing.h"
#include "gateway/iso8583_test_util.h"

namespace tangelo::gateway {
namespace {

using testing::BcdHexSpec;
using testing::DefaultSpec;

struct GoldenFile {
  std::string name;  // File name without directory.
  const Iso8583Spec* spec = nullptr;
  std::vector<uint8_t> frame;
  std::string expected_mti;
  std::map<int, std::string> expected_fields;
};

std::vector<GoldenFile> LoadGoldenFiles() {
  std::vector<GoldenFile> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(testing::SourcePath("tests/golden/iso8583"))) {
    if (entry.path().extension() != ".hex") continue;
    GoldenFile golden;
    golden.name = entry.path().filename().string();
    if (golden.name.rfind("default_", 0) == 0) {
      golden.spec = &DefaultSpec();
    } else if (golden.name.rfind("bcd_hex_", 0) == 0) {
      golden.spec = &BcdHexSpec();
    }
    const std::string text = testing::ReadFileOrDie(entry.path().string());
    golden.frame = testing::ParseHexText(text);
    size_t position = 0;
    while (position < text.size()) {
      size_t end = text.find('\n', position);
      if (end == std::string::npos) end = text.size();
      const std::string_view line = std::string_view(text).substr(position, end - position);
      constexpr std::string_view kExpect = "# expect ";
      if (line.rfind(kExpect, 0) == 0) {
        const std::string_view rest = line.substr(kExpect.size());
        const size_t space = rest.find(' ');
        const std::string key(rest.substr(0, space));
        std::string value(space == std::string_view::npos ? "" : rest.substr(space + 1));
        if (key == "mti") {
          golden.expected_mti = value;
        } else {
          if (value.rfind("hex:", 0) == 0) {
            const std::vector<uint8_t> bytes = testing::ParseHexText(value.substr(4));
            value.assign(bytes.begin(), bytes.end());
          }
          golden.expected_fields[std::stoi(key)] = value;
        }
      }
      position = end + 1;
    }
    files.push_back(std::move(golden));
  }
  std::sort(files.begin(), files.end(),
            [](const GoldenFile& a, const GoldenFile& b) { return a.name < b.name; });
  return files;
}

const std::vector<GoldenFile>& GoldenFiles() {
  static const std::vector<GoldenFile>& files = *new std::vector<GoldenFile>(LoadGoldenFiles());
  return files;
}

TEST(Iso8583GoldenTest, EveryFileDecodesToExactlyItsExpectedFieldsAndReencodesIdentically) {
  ASSERT_GE(GoldenFiles().size(), 18u);
  for (const GoldenFile& golden : GoldenFiles()) {
    SCOPED_TRACE(golden.name);
    ASSERT_NE(golden.spec, nullptr) << "name must start with a dialect";
    ASSERT_FALSE(golden.expected_mti.empty()) << "missing `# expect mti`";
    ASSERT_FALSE(golden.expected_fields.empty());

    Iso8583FrameReader reader;
    reader.Feed(golden.frame);
    std::span<const uint8_t> body;
    ASSERT_EQ(reader.Next(&body), Iso8583FrameStatus::kFrame);
    std::span<const uint8_t> extra;
    ASSERT_EQ(reader.Next(&extra), Iso8583FrameStatus::kNeedMoreBytes) << "one frame per file";

    Iso8583Message message;
    const base::Status decoded = Decode(*golden.spec, body, &message);
    ASSERT_TRUE(decoded.ok()) << decoded.ToString();
    EXPECT_TRUE(CheckMessage(*golden.spec, message).ok())
        << CheckMessage(*golden.spec, message).ToString();
    EXPECT_EQ(FormatMti(message.mti()), golden.expected_mti);
    std::map<int, std::string> actual;
    for (int f = message.fields().Next(0); f != 0; f = message.fields().Next(f)) {
      actual[f] = std::string(message.Field(f));
    }
    EXPECT_EQ(actual, golden.expected_fields);

    std::vector<uint8_t> encoded(golden.frame.size() + 16);
    const base::Result<size_t> size = EncodeFrame(*golden.spec, message, encoded);
    ASSERT_TRUE(size.ok()) << size.status().ToString();
    encoded.resize(*size);
    EXPECT_EQ(encoded, golden.frame);
  }
}

TEST(Iso8583GoldenTest, EveryMessageOfEveryDialectHasAGoldenFrame) {
  for (const Iso8583Spec* spec : {&DefaultSpec(), &BcdHexSpec()}) {
    std::set<std::string> covered;
    for (const GoldenFile& golden : GoldenFiles()) {
      if (golden.spec == spec) covered.insert(golden.expected_mti);
    }
    for (uint32_t i = 0; i < spec->message_count(); ++i) {
      const std::string mti = FormatMti(spec->message_at(i).mti);
      EXPECT_TRUE(covered.count(mti)) << spec->dialect() << " has no golden frame for " << mti;
    }
  }
}

const GoldenFile& Golden(std::string_view name) {
  for (const GoldenFile& golden : GoldenFiles()) {
    if (golden.name == name) return golden;
  }
  TG_FATAL("golden file not found");
}

// Decodes a golden file; the message views its frame, which lives on.
void DecodeGolden(std::string_view name, Iso8583Message* message) {
  const GoldenFile& golden = Golden(name);
  const std::span<const uint8_t> body =
      std::span<const uint8_t>(golden.frame).subspan(kIso8583FramePrefixSize);
  ASSERT_TRUE(Decode(*golden.spec, body, message).ok());
}

TEST(Iso8583GoldenTest, AuthorizationRequestMeaning) {
  Iso8583Message message;
  DecodeGolden("default_0100_authorization_request.hex", &message);
  EXPECT_EQ(*ReadTransactionAmount(message), 1234u);
  EXPECT_EQ(ReadCurrency(message)->alpha(), "USD");
  EXPECT_EQ(*ReadStan(message), 101u);
  EXPECT_EQ(*ReadRetrievalReferenceNumber(message), "633019000101");
  EXPECT_EQ(*ReadMerchantCategoryCode(message), 5814);
  EXPECT_EQ(*ReadAcceptorCountry(DefaultSpec(), message), "UY");
  EXPECT_EQ(ReadExpiry(message)->year, 2028);
  EXPECT_EQ(ReadProcessingCode(message)->transaction_type, 0);
  EXPECT_EQ(ReadTransmissionDateTime(message)->hour, 19);
  EXPECT_EQ(MaskPan(*ReadPan(message)).view(), "411111******1111");
  EXPECT_EQ(*ReadTraceparent(DefaultSpec(), message),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(message.FieldBytes(field::kIccData)[0], 0x9F);
}

TEST(Iso8583GoldenTest, ResponsesAndReversalsMeaning) {
  Iso8583Message response;
  DecodeGolden("default_0110_authorization_response.hex", &response);
  EXPECT_EQ(*ReadResponseCode(response), Iso8583ResponseCode::kApproved);
  const AdditionalAmounts balances = *ReadAdditionalAmounts(response);
  ASSERT_EQ(balances.count, 2u);
  EXPECT_EQ(balances.items[0].amount_type, kAmountTypeAvailableBalance);
  EXPECT_EQ(balances.items[0].amount_minor_units, 98766u);

  Iso8583Message declined;
  DecodeGolden("default_0210_financial_response.hex", &declined);
  EXPECT_EQ(*ReadResponseCode(declined), Iso8583ResponseCode::kInsufficientFunds);

  Iso8583Message reversal;
  DecodeGolden("default_0400_reversal_request.hex", &reversal);
  const OriginalDataElements original = *ReadOriginalDataElements(reversal);
  EXPECT_EQ(original.mti, mti::kAuthorizationRequest);
  EXPECT_EQ(original.stan, 101u);
  EXPECT_EQ(*ReadReplacementAmount(reversal), 500u);

  Iso8583Message sign_on, echo;
  DecodeGolden("default_0800_network_management_request.hex", &sign_on);
  EXPECT_EQ(*ReadNetworkManagementCode(sign_on), Iso8583NetworkManagementCode::kSignOn);
  DecodeGolden("default_0800_echo_request.hex", &echo);
  EXPECT_EQ(*ReadNetworkManagementCode(echo), Iso8583NetworkManagementCode::kEchoTest);
}

TEST(Iso8583GoldenTest, SecondDialectMeaning) {
  Iso8583Message message;
  DecodeGolden("bcd_hex_0100_authorization_request.hex", &message);
  EXPECT_EQ(*ReadAcceptorCountry(BcdHexSpec(), message), "URY");
  EXPECT_EQ(*ReadTraceparent(BcdHexSpec(), message),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(*ReadTransactionAmount(message), 1234u);
  // The same bytes mean nothing in the other dialect.
  const std::span<const uint8_t> body =
      std::span<const uint8_t>(Golden("bcd_hex_0100_authorization_request.hex").frame)
          .subspan(kIso8583FramePrefixSize);
  Iso8583Message other;
  EXPECT_FALSE(Decode(DefaultSpec(), body, &other).ok());
}

}  // namespace
}  // namespace tangelo::gateway
