#include "journal/disk_probe.h"

#include <gtest/gtest.h>

#include "io/mem_env.h"
#include "journal/journal_test_util.h"

namespace tangelo::journal {
namespace {

using testing::EnvKind;
using testing::EnvTest;

class DiskProbeTest : public EnvTest {};

TEST_P(DiskProbeTest, MeasuresDurableAppendsAndCleansUp) {
  auto limit = MeasureDiskLimit(env(), directory_, 4096, 30);
  ASSERT_TRUE(limit.ok()) << limit.status().ToString();
  EXPECT_GT(limit->blocks, 0u);
  EXPECT_EQ(limit->block_bytes, 4096u);
  EXPECT_GE(limit->elapsed_ns, 30'000'000u);
  EXPECT_GT(limit->blocks_per_second, 0u);
  EXPECT_EQ(limit->bytes_per_second / 4096, limit->blocks_per_second);
  EXPECT_GT(limit->sync_latency_max_ns, 0u);
  EXPECT_FALSE(env().FileExists(io::JoinPath(directory_, kDiskProbeFileName)));
}

TEST_P(DiskProbeTest, RejectsArgumentsOutsideTheLimits) {
  EXPECT_EQ(MeasureDiskLimit(env(), directory_, 100, 10).status().code(),
            base::StatusCode::kInvalidArgument);
  EXPECT_EQ(MeasureDiskLimit(env(), directory_, kDiskProbeBlockBytesMax + 1, 10).status().code(),
            base::StatusCode::kInvalidArgument);
  EXPECT_EQ(MeasureDiskLimit(env(), directory_, 4096, 0).status().code(),
            base::StatusCode::kInvalidArgument);
  EXPECT_EQ(MeasureDiskLimit(env(), directory_, 4096, kDiskProbeDurationMsMax + 1).status().code(),
            base::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Envs, DiskProbeTest, ::testing::Values(EnvKind::kMemory, EnvKind::kPosix),
                         testing::EnvKindName);

TEST(DiskProbeFaultTest, SyncFailureIsReturned) {
  io::MemEnv env;
  env.FailNextSync("disk-probe");
  EXPECT_EQ(MeasureDiskLimit(env, "/probe", 4096, 10).status().code(), base::StatusCode::kIoError);
}

}  // namespace
}  // namespace tangelo::journal
