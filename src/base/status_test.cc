#include "base/status.h"

#include <gtest/gtest.h>

namespace tangelo::base {
namespace {

Result<int> Half(int value) {
  if (value % 2 != 0) return InvalidArgument("odd");
  return value / 2;
}

Status Chain(int value) {
  Result<int> half = Half(value);
  if (!half.ok()) return half.status();
  TG_RETURN_IF_ERROR(Half(*half).status());
  return Status::Ok();
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  Status status = DataLoss("checksum mismatch at offset 42");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_EQ(status.ToString(), "DATA_LOSS: checksum mismatch at offset 42");
}

TEST(StatusTest, ResultCarriesValueOrStatus) {
  EXPECT_EQ(*Half(8), 4);
  EXPECT_EQ(Half(3).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Half(8).status().ok());
  EXPECT_TRUE(Chain(8).ok());
  EXPECT_FALSE(Chain(6).ok());
}

TEST(StatusDeathTest, ValueOfErrorAsserts) {
  EXPECT_DEATH((void)Half(3).value(), "odd");
}

}  // namespace
}  // namespace tangelo::base
