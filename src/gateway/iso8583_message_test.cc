#include "gateway/iso8583_message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tangelo::gateway {
namespace {

std::vector<int> Members(const Iso8583FieldSet& set) {
  std::vector<int> members;
  for (int field = set.Next(0); field != 0; field = set.Next(field)) members.push_back(field);
  return members;
}

TEST(Iso8583FieldSetTest, IteratesInFieldOrderAcrossBothWords) {
  Iso8583FieldSet set;
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.Next(0), 0);
  for (int field : {128, 2, 65, 64, 1, 63, 66}) set.Add(field);
  EXPECT_EQ(Members(set), (std::vector<int>{1, 2, 63, 64, 65, 66, 128}));
  EXPECT_EQ(set.size(), 7);
  EXPECT_TRUE(set.HasSecondary());
  EXPECT_EQ(set.Next(64), 65);
  EXPECT_EQ(set.Next(128), 0);
  set.Remove(65);
  set.Remove(66);
  set.Remove(128);
  EXPECT_FALSE(set.HasSecondary());
  EXPECT_EQ(set.Next(64), 0);
}

TEST(Iso8583FieldSetTest, StoresWireBitOrder) {
  Iso8583FieldSet set;
  set.Add(1);
  set.Add(64);
  set.Add(65);
  set.Add(128);
  // Field 1 is the most significant bit of the primary bitmap, 64 the least.
  EXPECT_EQ(set.word(0), 0x8000000000000001ULL);
  EXPECT_EQ(set.word(1), 0x8000000000000001ULL);
}

TEST(Iso8583FieldSetDeathTest, RejectsNumbersOutsideOneTo128) {
  Iso8583FieldSet set;
  EXPECT_DEATH(set.Add(0), "assertion failed");
  EXPECT_DEATH(set.Add(129), "assertion failed");
}

TEST(Iso8583MessageTest, SetGetClearFields) {
  Iso8583Message message;
  message.set_mti(100);
  EXPECT_EQ(message.mti(), 100);
  EXPECT_FALSE(message.Has(2));
  EXPECT_EQ(message.Field(2), "");

  const std::string pan = "4111111111111111";
  message.SetField(2, pan);
  EXPECT_TRUE(message.Has(2));
  EXPECT_EQ(message.Field(2), pan);
  EXPECT_EQ(message.Field(2).data(), pan.data()) << "SetField must not copy";

  message.SetField(48, std::string_view());  // Present but empty.
  EXPECT_TRUE(message.Has(48));
  EXPECT_EQ(message.Field(48), "");

  const uint8_t emv[] = {0x9F, 0x26, 0x00, 0xFF};
  message.SetField(55, std::span<const uint8_t>(emv));
  ASSERT_EQ(message.FieldBytes(55).size(), 4u);
  EXPECT_EQ(message.FieldBytes(55)[3], 0xFF);

  message.ClearField(2);
  EXPECT_FALSE(message.Has(2));
  EXPECT_EQ(message.Field(2), "");
  EXPECT_EQ(message.fields().size(), 2);

  message.Clear();
  EXPECT_EQ(message.mti(), 0);
  EXPECT_TRUE(message.fields().empty());
  EXPECT_FALSE(message.Has(55));
}

TEST(Iso8583MessageTest, SetFieldCopyOwnsTheBytesUntilScratchRunsOut) {
  Iso8583Message message;
  std::string value = "A1B2C3";
  ASSERT_TRUE(message.SetFieldCopy(38, value).ok());
  value[0] = 'Z';  // The message kept its own copy.
  EXPECT_EQ(message.Field(38), "A1B2C3");
  EXPECT_EQ(message.scratch_bytes_used(), 6u);

  const std::string big(kIso8583MessageScratchSize - 6, 'x');
  ASSERT_TRUE(message.SetFieldCopy(48, big).ok());
  const base::Status full = message.SetFieldCopy(62, "y");
  EXPECT_EQ(full.code(), base::StatusCode::kResourceExhausted);
  EXPECT_FALSE(message.Has(62)) << "a failed copy must leave the field unset";

  message.Clear();  // Frees the scratch area.
  EXPECT_TRUE(message.SetFieldCopy(62, "y").ok());
}

TEST(Iso8583MessageTest, EqualityComparesMtiFieldsAndBytes) {
  Iso8583Message a, b;
  a.set_mti(100);
  b.set_mti(100);
  a.SetField(11, "000001");
  const std::string same_bytes = "000001";
  b.SetField(11, same_bytes);  // Other storage, same bytes.
  EXPECT_TRUE(a == b);
  b.SetField(11, "000002");
  EXPECT_FALSE(a == b);
  b.SetField(11, "000001");
  b.SetField(48, "");  // An extra empty field is still a difference.
  EXPECT_FALSE(a == b);
  b.ClearField(48);
  b.set_mti(110);
  EXPECT_FALSE(a == b);
  // A stale view of a cleared field does not count.
  a.SetField(4, "000000000100");
  a.ClearField(4);
  b.set_mti(100);
  EXPECT_TRUE(a == b);
}

TEST(Iso8583MessageDeathTest, MisuseIsAProgrammerError) {
  Iso8583Message message;
  EXPECT_DEATH(message.SetField(1, "x"), "assertion failed");
  EXPECT_DEATH(message.SetField(129, "x"), "assertion failed");
  EXPECT_DEATH((void)message.Has(0), "assertion failed");
  EXPECT_DEATH(message.set_mti(10000), "assertion failed");
}

}  // namespace
}  // namespace tangelo::gateway
