#include "gateway/iso8583_codec.h"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "gateway/iso8583_test_util.h"

namespace tangelo::gateway {
namespace {

using testing::BcdHexSpec;
using testing::BinaryBitmap;
using testing::DefaultSpec;
using testing::RawMessage;

// MTI (4) + primary bitmap (8) in the default dialect.
constexpr uint32_t kDefaultHeader = 12;

struct Decoded {
  base::Status status;
  Iso8583DecodeError error;
};

Decoded DecodeBytes(const Iso8583Spec& spec, std::string_view bytes, Iso8583Message* message) {
  Decoded result;
  result.status = Decode(spec, AsBytes(bytes), message, &result.error);
  return result;
}

// BCD MTI + hex bitmaps (bit 1 always set: the dialect always sends the
// secondary) + body, for the bcd_hex dialect.
std::string BcdHexRaw(uint16_t mti, std::initializer_list<int> fields, std::string_view body) {
  uint64_t words[2] = {uint64_t{1} << 63, 0};
  for (int field : fields) words[(field - 1) / 64] |= uint64_t{1} << (63 - (field - 1) % 64);
  std::string bytes;
  bytes += static_cast<char>((mti / 1000) << 4 | mti / 100 % 10);
  bytes += static_cast<char>((mti / 10 % 10) << 4 | mti % 10);
  constexpr char kHex[] = "0123456789ABCDEF";
  for (uint64_t word : words) {
    for (int shift = 60; shift >= 0; shift -= 4) bytes += kHex[(word >> shift) & 0xF];
  }
  bytes += body;
  return bytes;
}

std::vector<std::string> GoldenMessages(const Iso8583Spec& spec) {
  std::vector<std::string> messages;
  for (const auto& entry :
       std::filesystem::directory_iterator(testing::SourcePath("tests/golden/iso8583"))) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".hex" || name.rfind(spec.dialect() + "_", 0) != 0) continue;
    const std::vector<uint8_t> frame =
        testing::ParseHexText(testing::ReadFileOrDie(entry.path().string()));
    messages.emplace_back(frame.begin() + kIso8583FramePrefixSize, frame.end());
  }
  return messages;
}

// --- Decoding: field types -------------------------------------------------

TEST(Iso8583DecodeTest, DecodesEveryFieldTypeZeroCopy) {
  const std::string pin_block("\x00\x11\x22\x33\x44\x55\x66\xFF", 8);
  const std::string bytes = RawMessage("0100", {2, 4, 11, 38, 41, 52},
                                       "16"
                                       "4111111111111111"
                                       "000000001234"
                                       "000101"
                                       "A1 B2 "
                                       "TERM-01/" +
                                           pin_block);
  Iso8583Message message;
  const Decoded decoded = DecodeBytes(DefaultSpec(), bytes, &message);
  ASSERT_TRUE(decoded.status.ok()) << decoded.status.ToString();
  EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kNone);
  EXPECT_EQ(message.mti(), 100);
  EXPECT_EQ(message.fields().size(), 6);
  EXPECT_EQ(message.Field(2), "4111111111111111");  // n LLVAR
  EXPECT_EQ(message.Field(4), "000000001234");      // n fixed
  EXPECT_EQ(message.Field(38), "A1 B2 ");           // an: letters, digits, spaces
  EXPECT_EQ(message.Field(41), "TERM-01/");         // ans: printable
  EXPECT_EQ(message.Field(52), pin_block);          // b: any byte, NUL included
  // Zero copy: values point into the frame.
  EXPECT_EQ(message.Field(4).data(), bytes.data() + kDefaultHeader + 18);
}

TEST(Iso8583DecodeTest, NumericFieldRejectsNonDigitsNamingFieldAndOffset) {
  Iso8583Message message;
  const Decoded decoded = DecodeBytes(DefaultSpec(), RawMessage("0800", {11}, "00A001"), &message);
  EXPECT_EQ(decoded.status.code(), base::StatusCode::kInvalidArgument);
  EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kBadCharacter);
  EXPECT_EQ(decoded.error.field, 11);
  EXPECT_EQ(decoded.error.offset, kDefaultHeader + 2);
  EXPECT_NE(decoded.status.message().find(
                "field 11 (system_trace_audit_number) at offset 14: byte 0x41 is not allowed in "
                "a field of type n"),
            std::string::npos)
      << decoded.status.message();
}

TEST(Iso8583DecodeTest, NumericFieldRejectsSpaceAndSign) {
  Iso8583Message message;
  for (std::string_view bad : {"00 001", "-00001", "+00001", "0000.1"}) {
    const Decoded decoded = DecodeBytes(DefaultSpec(), RawMessage("0800", {11}, bad), &message);
    EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kBadCharacter) << bad;
  }
}

TEST(Iso8583DecodeTest, AlphanumericFieldRejectsPunctuation) {
  Iso8583Message message;
  EXPECT_TRUE(DecodeBytes(DefaultSpec(), RawMessage("0110", {39}, "Z9"), &message).status.ok());
  const Decoded decoded = DecodeBytes(DefaultSpec(), RawMessage("0110", {39}, "0-"), &message);
  EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kBadCharacter);
  EXPECT_EQ(decoded.error.field, 39);
  EXPECT_EQ(decoded.error.offset, kDefaultHeader + 1);
}

TEST(Iso8583DecodeTest, AlphanumericSpecialRejectsControlAndHighBytes) {
  Iso8583Message message;
  for (char bad : {'\x00', '\x1F', '\x7F', '\x80', '\xFF'}) {
    std::string value = "TERM0001";
    value[3] = bad;
    const Decoded decoded = DecodeBytes(DefaultSpec(), RawMessage("0100", {41}, value), &message);
    EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kBadCharacter) << int{bad};
    EXPECT_EQ(decoded.error.offset, kDefaultHeader + 3);
  }
}

// --- Decoding: length kinds ------------------------------------------------

TEST(Iso8583DecodeTest, VariableLengthsWithinMaxAndEmpty) {
  Iso8583Message message;
  // LLVAR at its max (19), LLLVAR empty, LLLVAR short.
  const std::string bytes = RawMessage("0100", {2, 48, 62},
                                       "19"
                                       "4111111111111111234"
                                       "000"
                                       "003"
                                       "abc");
  const Decoded decoded = DecodeBytes(DefaultSpec(), bytes, &message);
  ASSERT_TRUE(decoded.status.ok()) << decoded.status.ToString();
  EXPECT_EQ(message.Field(2).size(), 19u);
  EXPECT_TRUE(message.Has(48));
  EXPECT_EQ(message.Field(48), "");
  EXPECT_EQ(message.Field(62), "abc");
}

TEST(Iso8583DecodeTest, LlvarOverMaxIsRejected) {
  Iso8583Message message;
  const Decoded decoded = DecodeBytes(DefaultSpec(),
                                      RawMessage("0100", {2},
                                                 "20"
                                                 "41111111111111112345"),
                                      &message);
  EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kLengthOverMax);
  EXPECT_EQ(decoded.error.field, 2);
  EXPECT_EQ(decoded.error.offset, kDefaultHeader);
  EXPECT_NE(decoded.status.message().find("length 20 exceeds the field's max 19"),
            std::string::npos);
}

TEST(Iso8583DecodeTest, LllvarOverMaxIsRejected) {
  Iso8583Message message;
  const Decoded decoded =
      DecodeBytes(DefaultSpec(), RawMessage("0110", {54}, "121" + std::string(121, '0')), &message);
  EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kLengthOverMax);
  EXPECT_EQ(decoded.error.field, 54);
}

TEST(Iso8583DecodeTest, NonDigitLengthPrefixIsRejected) {
  Iso8583Message message;
  for (std::string_view prefix : {"1X", " 8", "-1"}) {
    const Decoded decoded = DecodeBytes(
        DefaultSpec(), RawMessage("0100", {2}, std::string(prefix) + "41111111"), &message);
    EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kBadLengthPrefix) << prefix;
    EXPECT_EQ(decoded.error.offset, kDefaultHeader);
  }
}

TEST(Iso8583DecodeTest, BcdLengthPrefixes) {
  const Iso8583Spec& spec = BcdHexSpec();
  Iso8583Message message;
  // Field 2 LLVAR: one BCD byte 0x16; field 48 LLLVAR: two bytes 0x00 0x05.
  const std::string good =
      BcdHexRaw(100, {2, 48},
                std::string("\x16", 1) + "4111111111111111" + std::string("\x00\x05", 2) + "hello");
  const Decoded decoded = DecodeBytes(spec, good, &message);
  ASSERT_TRUE(decoded.status.ok()) << decoded.status.ToString();
  EXPECT_EQ(message.mti(), 100);
  EXPECT_EQ(message.Field(2), "4111111111111111");
  EXPECT_EQ(message.Field(48), "hello");

  const uint32_t header = 2 + 16 + 16;
  // A nibble above 9 is not BCD.
  Decoded bad = DecodeBytes(spec, BcdHexRaw(100, {2}, std::string("\x1A", 1) + "4111"), &message);
  EXPECT_EQ(bad.error.code, Iso8583DecodeErrorCode::kBadLengthPrefix);
  EXPECT_EQ(bad.error.offset, header);
  // LLL: the pad nibble must be zero (0x10 0x05 would read as 1005).
  bad = DecodeBytes(spec, BcdHexRaw(100, {48}, std::string("\x10\x05", 2) + "hello"), &message);
  EXPECT_EQ(bad.error.code, Iso8583DecodeErrorCode::kBadLengthPrefix);
  // LLVAR 19 max.
  bad = DecodeBytes(spec, BcdHexRaw(100, {2}, std::string("\x20", 1) + std::string(20, '4')),
                    &message);
  EXPECT_EQ(bad.error.code, Iso8583DecodeErrorCode::kLengthOverMax);
}

TEST(Iso8583DecodeTest, FixedFieldCutShortIsTruncated) {
  Iso8583Message message;
  const Decoded decoded =
      DecodeBytes(DefaultSpec(), RawMessage("0100", {4}, "00000000123"), &message);
  EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kTruncated);
  EXPECT_EQ(decoded.error.field, 4);
  EXPECT_EQ(decoded.error.offset, kDefaultHeader);
}

// --- Decoding: MTI and bitmaps ---------------------------------------------

TEST(Iso8583DecodeTest, MtiMustBeDigits) {
  Iso8583Message message;
  Decoded decoded = DecodeBytes(DefaultSpec(), RawMessage("01A0", {}, ""), &message);
  EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kBadMti);
  EXPECT_EQ(decoded.error.offset, 2u);
  std::string bcd = BcdHexRaw(800, {}, "");
  bcd[1] = '\x0A';
  decoded = DecodeBytes(BcdHexSpec(), bcd, &message);
  EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kBadMti);
  EXPECT_EQ(decoded.error.offset, 1u);
}

TEST(Iso8583DecodeTest, EmptyBitmapDecodesToNoFields) {
  Iso8583Message message;
  ASSERT_TRUE(DecodeBytes(DefaultSpec(), RawMessage("0800", {}, ""), &message).status.ok());
  EXPECT_EQ(message.mti(), 800);
  EXPECT_TRUE(message.fields().empty());
}

TEST(Iso8583DecodeTest, SecondaryBitmapCarriesFields65To128) {
  Iso8583Message message;
  const std::string bytes = RawMessage("0800", {7, 11, 70},
                                       "1126193000"
                                       "000001"
                                       "301");
  ASSERT_EQ(bytes.size(), 4 + 16 + 19u);
  const Decoded decoded = DecodeBytes(DefaultSpec(), bytes, &message);
  ASSERT_TRUE(decoded.status.ok()) << decoded.status.ToString();
  EXPECT_EQ(message.Field(70), "301");
  EXPECT_FALSE(message.fields().Contains(1)) << "field 1 is the bitmap, not a field";
}

TEST(Iso8583DecodeTest, BitOneWithEmptySecondaryIsRejectedInOnDemandDialect) {
  Iso8583Message message;
  const std::string bytes = "0800" + BinaryBitmap({1, 11}) + std::string(8, '\0') + "000001";
  const Decoded decoded = DecodeBytes(DefaultSpec(), bytes, &message);
  EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kEmptySecondaryBitmap);
  EXPECT_EQ(decoded.error.field, 1);
  EXPECT_EQ(decoded.error.offset, kDefaultHeader);
}

TEST(Iso8583DecodeTest, AlwaysDialectAcceptsEmptySecondaryAndRequiresBitOne) {
  Iso8583Message message;
  const std::string bytes = BcdHexRaw(800, {11}, "000001");
  const Decoded good = DecodeBytes(BcdHexSpec(), bytes, &message);
  ASSERT_TRUE(good.status.ok()) << good.status.ToString();
  EXPECT_EQ(message.Field(11), "000001");

  std::string no_secondary = BcdHexRaw(800, {11}, "000001");
  no_secondary.erase(2 + 16, 16);  // Drop the secondary bitmap...
  no_secondary[2] = '0';           // ...and bit 1: primary "0020000000000000".
  const Decoded bad = DecodeBytes(BcdHexSpec(), no_secondary, &message);
  EXPECT_EQ(bad.error.code, Iso8583DecodeErrorCode::kMissingSecondaryBitmap);
}

TEST(Iso8583DecodeTest, BitForUndefinedFieldIsRejected) {
  Iso8583Message message;
  // Field 5 (settlement amount) is not in the default dialect.
  Decoded decoded = DecodeBytes(DefaultSpec(),
                                RawMessage("0100", {4, 5},
                                           "000000001234"
                                           "000000001234"),
                                &message);
  EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kUndefinedField);
  EXPECT_EQ(decoded.error.field, 5);
  EXPECT_EQ(decoded.error.offset, kDefaultHeader + 12);
  EXPECT_NE(decoded.status.message().find("field 5 at offset 24"), std::string::npos)
      << decoded.status.message();
  // Undefined fields in the secondary bitmap, at both ends of it.
  for (int undefined : {65, 128}) {
    const std::string bytes =
        "0800" + BinaryBitmap({1}) + (undefined == 65 ? BinaryBitmap({1}) : BinaryBitmap({64}));
    decoded = DecodeBytes(DefaultSpec(), bytes, &message);
    EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kUndefinedField);
    EXPECT_EQ(decoded.error.field, undefined);
  }
}

TEST(Iso8583DecodeTest, HexBitmapMustBeUpperCaseHex) {
  Iso8583Message message;
  for (char bad : {'c', 'G', ' ', '\0'}) {
    std::string bytes = BcdHexRaw(800, {11}, "000001");
    bytes[2 + 2] = bad;
    const Decoded decoded = DecodeBytes(BcdHexSpec(), bytes, &message);
    EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kBadBitmap) << bad;
    EXPECT_EQ(decoded.error.offset, 4u);
  }
}

// --- Decoding: whole-message limits ----------------------------------------

TEST(Iso8583DecodeTest, TrailingBytesAreRejected) {
  Iso8583Message message;
  const std::string bytes = RawMessage("0800", {11}, "000001") + "X";
  const Decoded decoded = DecodeBytes(DefaultSpec(), bytes, &message);
  EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kTrailingBytes);
  EXPECT_EQ(decoded.error.offset, bytes.size() - 1);
}

TEST(Iso8583DecodeTest, OversizeMessageIsRejectedBeforeParsing) {
  Iso8583Message message;
  const std::string bytes = RawMessage("0100", {48}, "999" + std::string(999, 'x')) +
                            std::string(kIso8583FrameSizeMax, 'x');
  const Decoded decoded = DecodeBytes(DefaultSpec(), bytes, &message);
  EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kTooLarge);
  EXPECT_EQ(message.mti(), 0);
}

TEST(Iso8583DecodeTest, EmptyInputIsTruncatedMti) {
  Iso8583Message message;
  const Decoded decoded = DecodeBytes(DefaultSpec(), "", &message);
  EXPECT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kTruncated);
  EXPECT_EQ(decoded.error.offset, 0u);
}

TEST(Iso8583DecodeTest, EveryTruncationOfEveryGoldenMessageFailsCleanly) {
  for (const Iso8583Spec* spec : {&DefaultSpec(), &BcdHexSpec()}) {
    const std::vector<std::string> messages = GoldenMessages(*spec);
    ASSERT_GE(messages.size(), 6u) << spec->dialect();
    for (const std::string& full : messages) {
      Iso8583Message message;
      ASSERT_TRUE(DecodeBytes(*spec, full, &message).status.ok());
      for (size_t size = 0; size < full.size(); ++size) {
        const Decoded decoded =
            DecodeBytes(*spec, std::string_view(full).substr(0, size), &message);
        ASSERT_EQ(decoded.error.code, Iso8583DecodeErrorCode::kTruncated)
            << spec->dialect() << " cut at " << size << ": " << decoded.status.ToString();
        ASSERT_LE(decoded.error.offset, size);
      }
    }
  }
}

TEST(Iso8583DecodeTest, KeepsMtiAndEarlierFieldsOnErrorForAFormatErrorReply) {
  Iso8583Message message;
  const std::string bytes = RawMessage("0100", {11, 37, 49},
                                       "000101"
                                       "633019000101"
                                       "84X");
  const Decoded decoded = DecodeBytes(DefaultSpec(), bytes, &message);
  EXPECT_EQ(decoded.error.field, 49);
  EXPECT_EQ(message.mti(), 100);
  EXPECT_EQ(message.Field(11), "000101");
  EXPECT_EQ(message.Field(37), "633019000101");
  EXPECT_FALSE(message.Has(49));
}

TEST(Iso8583DecodeTest, DecodeClearsAPreviouslyUsedMessage) {
  Iso8583Message message;
  ASSERT_TRUE(
      DecodeBytes(DefaultSpec(), RawMessage("0100", {4}, "000000001234"), &message).status.ok());
  ASSERT_TRUE(DecodeBytes(DefaultSpec(), RawMessage("0800", {11}, "000001"), &message).status.ok());
  EXPECT_FALSE(message.Has(4));
  EXPECT_EQ(message.fields().size(), 1);
}

// --- Encoding ----------------------------------------------------------------

TEST(Iso8583EncodeTest, MatchesIndependentlyAssembledBytes) {
  Iso8583Message message;
  message.set_mti(100);
  message.SetField(62, "abc");
  message.SetField(2, "4111111111111111");
  message.SetField(4, "000000001234");
  message.SetField(70, "001");
  std::array<uint8_t, 128> out;
  const base::Result<size_t> size = Encode(DefaultSpec(), message, out);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  const std::string expected = RawMessage("0100", {2, 4, 62, 70},
                                          "16"
                                          "4111111111111111"
                                          "000000001234"
                                          "003abc"
                                          "001");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.data()), *size), expected);
}

TEST(Iso8583EncodeTest, AlwaysDialectWritesEmptySecondaryAndBcd) {
  Iso8583Message message;
  message.set_mti(810);
  message.SetField(11, "000001");
  message.SetField(48, "hello");
  std::array<uint8_t, 128> out;
  const base::Result<size_t> size = Encode(BcdHexSpec(), message, out);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  const std::string expected =
      BcdHexRaw(810, {11, 48}, std::string("000001") + std::string("\x00\x05", 2) + "hello");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.data()), *size), expected);
}

TEST(Iso8583EncodeTest, FailsCleanlyAtEveryTooSmallBufferSize) {
  Iso8583Message message;
  message.set_mti(110);
  message.SetField(11, "000101");
  message.SetField(39, "00");
  message.SetField(54, "0002840C000000098766");
  std::array<uint8_t, 256> out;
  const base::Result<size_t> needed = Encode(DefaultSpec(), message, out);
  ASSERT_TRUE(needed.ok());
  for (size_t capacity = 0; capacity < *needed; ++capacity) {
    const base::Result<size_t> result =
        Encode(DefaultSpec(), message, std::span<uint8_t>(out.data(), capacity));
    ASSERT_FALSE(result.ok()) << capacity;
    EXPECT_EQ(result.status().code(), base::StatusCode::kOutOfRange);
  }
  EXPECT_TRUE(Encode(DefaultSpec(), message, std::span<uint8_t>(out.data(), *needed)).ok());
}

TEST(Iso8583EncodeTest, RejectsValuesTheDialectWouldRejectOnDecode) {
  std::array<uint8_t, 256> out;
  struct Case {
    int field;
    std::string value;
    const char* why;
  };
  const Case cases[] = {
      {5, "000000001234", "not defined"},
      {4, "1234", "exactly 12"},
      {4, "0000000012345", "exactly 12"},
      {2, std::string(20, '4'), "at most 19"},
      {11, "00000A", "not allowed in a field of type n"},
      {41,
       std::string("TERM\x01"
                   "001",
                   8),
       "not allowed in a field of type ans"},
  };
  for (const Case& c : cases) {
    Iso8583Message message;
    message.set_mti(100);
    message.SetField(c.field, c.value);
    const base::Result<size_t> result = Encode(DefaultSpec(), message, out);
    ASSERT_FALSE(result.ok()) << c.field;
    EXPECT_EQ(result.status().code(), base::StatusCode::kInvalidArgument);
    EXPECT_NE(result.status().message().find(c.why), std::string::npos)
        << result.status().message();
  }
}

TEST(Iso8583EncodeTest, RefusesToExceedTheFrameMaximum) {
  // A dialect with enough big fields to go past 4 KiB.
  auto spec = Iso8583Spec::Parse(
      "format tangelo-iso8583-spec 1\ndialect big\n"
      "field 60 ans LLLVAR 999 ascii a\nfield 61 ans LLLVAR 999 ascii b\n"
      "field 62 ans LLLVAR 999 ascii c\nfield 63 ans LLLVAR 999 ascii d\n"
      "field 64 ans LLLVAR 999 ascii e\n",
      "big.spec");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  const std::string value(999, 'x');
  Iso8583Message message;
  message.set_mti(100);
  for (int field = 60; field <= 64; ++field) message.SetField(field, value);
  std::vector<uint8_t> out(2 * kIso8583FrameSizeMax);
  const base::Result<size_t> result = Encode(*spec, message, out);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), base::StatusCode::kOutOfRange);
  EXPECT_NE(result.status().message().find("4096-byte frame maximum"), std::string::npos);
  message.ClearField(64);  // 4 * 1002 + 12 = 4020 bytes: fits.
  EXPECT_EQ(*Encode(*spec, message, out), 4020u);
}

TEST(Iso8583EncodeTest, EncodeFrameWritesTheBigEndianLength) {
  Iso8583Message message;
  message.set_mti(800);
  message.SetField(7, "1126193000");
  message.SetField(11, "000001");
  message.SetField(70, "301");
  std::array<uint8_t, 64> out;
  const base::Result<size_t> size = EncodeFrame(DefaultSpec(), message, out);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 2 + 4 + 16 + 19u);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 39);
  EXPECT_FALSE(EncodeFrame(DefaultSpec(), message, std::span<uint8_t>(out.data(), 1)).ok());
  EXPECT_FALSE(EncodeFrame(DefaultSpec(), message, std::span<uint8_t>(out.data(), 40)).ok());
}

TEST(Iso8583EncodeTest, GoldenMessagesRoundTripUnderBothDialects) {
  for (const Iso8583Spec* spec : {&DefaultSpec(), &BcdHexSpec()}) {
    for (const std::string& bytes : GoldenMessages(*spec)) {
      Iso8583Message message;
      ASSERT_TRUE(DecodeBytes(*spec, bytes, &message).status.ok());
      std::array<uint8_t, kIso8583FrameSizeMax> out;
      const base::Result<size_t> size = Encode(*spec, message, out);
      ASSERT_TRUE(size.ok());
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.data()), *size), bytes);
    }
  }
}

// --- Message-level checks --------------------------------------------------

TEST(Iso8583CheckMessageTest, NamesTheFirstMissingRequiredField) {
  Iso8583Message message;
  message.set_mti(800);
  message.SetField(7, "1126193000");
  message.SetField(70, "001");
  int missing = -1;
  const base::Status status = CheckMessage(DefaultSpec(), message, &missing);
  EXPECT_EQ(status.code(), base::StatusCode::kInvalidArgument);
  EXPECT_EQ(missing, 11);
  EXPECT_NE(status.message().find("field 11 (system_trace_audit_number)"), std::string::npos);
  message.SetField(11, "000001");
  EXPECT_TRUE(CheckMessage(DefaultSpec(), message, &missing).ok());
  EXPECT_EQ(missing, 0);
}

TEST(Iso8583CheckMessageTest, RejectsMtisTheDialectDoesNotList) {
  Iso8583Message message;
  message.set_mti(302);  // File update: not served.
  int missing = -1;
  EXPECT_FALSE(CheckMessage(DefaultSpec(), message, &missing).ok());
  EXPECT_EQ(missing, 0);
  message.set_mti(120);  // Served by default, not by bcd_hex.
  EXPECT_NE(CheckMessage(DefaultSpec(), message).message().find("requires"), std::string::npos);
  EXPECT_NE(CheckMessage(BcdHexSpec(), message).message().find("not supported"), std::string::npos);
}

TEST(Iso8583CheckFieldValueTest, AppliesTheDecodeRules) {
  EXPECT_TRUE(CheckFieldValue(DefaultSpec(), 38, "A1B2C3").ok());
  EXPECT_FALSE(CheckFieldValue(DefaultSpec(), 38, "A1B2C").ok());
  EXPECT_FALSE(CheckFieldValue(DefaultSpec(), 38, "A1-2C3").ok());
  EXPECT_FALSE(CheckFieldValue(DefaultSpec(), 5, "000000000000").ok());
  EXPECT_FALSE(CheckFieldValue(DefaultSpec(), 1, "").ok());
  EXPECT_FALSE(CheckFieldValue(DefaultSpec(), 129, "").ok());
}

TEST(Iso8583DecodeErrorCodeTest, EveryCodeHasAName) {
  for (int code = 0; code <= static_cast<int>(Iso8583DecodeErrorCode::kTooLarge); ++code) {
    EXPECT_NE(DecodeErrorCodeName(static_cast<Iso8583DecodeErrorCode>(code)), "unknown") << code;
  }
}

}  // namespace
}  // namespace tangelo::gateway
