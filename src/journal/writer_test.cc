#include "journal/writer.h"

#include <gtest/gtest.h>

#include <cstring>

#include "io/mem_env.h"
#include "journal/journal_test_util.h"
#include "journal/record_format.h"

namespace tangelo::journal {
namespace {

using testing::Encode;
using testing::EncodedBatch;
using testing::EnvKind;
using testing::EnvTest;
using testing::MakeTestBatch;
using testing::Replayed;

class WriterTest : public EnvTest {};

TEST_P(WriterTest, OpenCreatesTheDirectoryAndADurableSegmentHeader) {
  auto writer = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  EXPECT_EQ((*writer)->segment_path(), SegmentPath(1));
  EXPECT_EQ((*writer)->segment_size_bytes(), kSegmentHeaderSize);
  EXPECT_EQ((*writer)->stats().segments_created, 1u);
  const std::vector<std::byte> contents = testing::ReadAll(env(), SegmentPath(1));
  ASSERT_EQ(contents.size(), kSegmentHeaderSize);
  const SegmentHeader header = LoadRecord<SegmentHeader>(contents.data());
  EXPECT_EQ(header.magic, kSegmentMagic);
  EXPECT_EQ(header.format_version, kFormatVersion);
  EXPECT_EQ(header.first_sequence, 1u);
  EXPECT_EQ(header.prev_checksum, 0u);
  EXPECT_EQ(header.header_checksum, ComputeChecksum(header));
}

TEST_P(WriterTest, WritesBatchesThatRecoveryReadsBack) {
  auto writer = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum);
  ASSERT_TRUE(writer.ok());
  testing::WriteBatches(**writer, 1, 20);
  EXPECT_EQ((*writer)->next_sequence(), 21u);
  EXPECT_EQ((*writer)->stats().batches_written, 20u);
  EXPECT_EQ((*writer)->stats().syncs, 20u);
  EXPECT_EQ((*writer)->stats().write_calls, 20u);

  Replayed replayed;
  auto result = testing::RecoverInto(env(), directory_, &replayed);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(replayed.batches.size(), 20u);
  for (uint64_t sequence = 1; sequence <= 20; ++sequence) {
    EXPECT_EQ(replayed.batches[sequence - 1], MakeTestBatch(sequence));
  }
  EXPECT_EQ(result->next_sequence, 21u);
  EXPECT_EQ(result->last_checksum, (*writer)->last_checksum());
  EXPECT_EQ(result->bytes_cut, 0u);
  EXPECT_EQ(result->last_segment_bytes, (*writer)->segment_size_bytes());
}

TEST_P(WriterTest, RotatesSegmentsAtTheSizeLimit) {
  WriterOptions options;
  options.segment_size_max = 2048;
  auto writer = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum, options);
  ASSERT_TRUE(writer.ok());
  testing::WriteBatches(**writer, 1, 60);
  EXPECT_GT((*writer)->stats().segments_created, 5u);

  auto names = env().ListDir(directory_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), (*writer)->stats().segments_created);
  uint64_t previous_first = 0;
  for (const std::string& name : *names) {
    uint64_t first = 0;
    ASSERT_TRUE(ParseSegmentFileName(name, &first)) << name;
    EXPECT_GT(first, previous_first);
    previous_first = first;
    auto size = env().FileSize(io::JoinPath(directory_, name));
    ASSERT_TRUE(size.ok());
    EXPECT_LE(*size, options.segment_size_max) << name;
  }

  Replayed replayed;
  auto result = testing::RecoverInto(env(), directory_, &replayed, RecoveryOptions{256});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(replayed.batches.size(), 60u);
  EXPECT_EQ(replayed.batches.back(), MakeTestBatch(60));
  EXPECT_EQ(result->segments_read, names->size());
}

TEST_P(WriterTest, OneGroupLargerThanASegmentMakesOneLargerSegment) {
  WriterOptions options;
  options.segment_size_max = 512;
  auto writer = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum, options);
  ASSERT_TRUE(writer.ok());
  std::vector<EncodedBatch> encoded;
  uint64_t prev = kChainStartChecksum;
  for (uint64_t sequence = 1; sequence <= 8; ++sequence) {
    encoded.push_back(Encode(MakeTestBatch(sequence, 6, 200), prev));
    prev = encoded.back().checksum;
  }
  std::vector<std::span<const std::byte>> spans;
  for (const auto& batch : encoded) spans.emplace_back(batch.bytes);
  ASSERT_TRUE((*writer)->Write(spans).ok());
  ASSERT_TRUE((*writer)->Sync().ok());
  EXPECT_EQ((*writer)->stats().segments_created, 1u);  // The first segment was empty.
  EXPECT_GT((*writer)->segment_size_bytes(), options.segment_size_max);
  Replayed replayed;
  ASSERT_TRUE(testing::RecoverInto(env(), directory_, &replayed).ok());
  EXPECT_EQ(replayed.batches.size(), 8u);
}

TEST_P(WriterTest, RefusesToOverwriteBatches) {
  {
    auto writer = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum);
    ASSERT_TRUE(writer.ok());
    testing::WriteBatches(**writer, 1, 3);
  }
  auto again = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum);
  EXPECT_EQ(again.status().code(), base::StatusCode::kFailedPrecondition);
  // A journal that is ahead of the caller is refused too.
  {
    auto writer = Writer::Open(env(), directory_, 4, 123);
    ASSERT_TRUE(writer.ok());
    testing::WriteBatches(**writer, 4, 4);
  }
  auto behind = Writer::Open(env(), directory_, 3, 0);
  EXPECT_EQ(behind.status().code(), base::StatusCode::kFailedPrecondition);
  EXPECT_NE(behind.status().message().find("recover first"), std::string::npos);
}

TEST_P(WriterTest, ReplacesASegmentHoldingOnlyItsHeader) {
  {
    auto writer = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum);
    ASSERT_TRUE(writer.ok());
  }
  auto writer = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  testing::WriteBatches(**writer, 1, 2);
  Replayed replayed;
  ASSERT_TRUE(testing::RecoverInto(env(), directory_, &replayed).ok());
  EXPECT_EQ(replayed.batches.size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Envs, WriterTest, ::testing::Values(EnvKind::kMemory, EnvKind::kPosix),
                         testing::EnvKindName);

// Group commit and failure behaviour need MemEnv's counters and faults.

std::vector<EncodedBatch> EncodeRange(uint64_t first, uint64_t last, uint64_t prev) {
  std::vector<EncodedBatch> encoded;
  for (uint64_t sequence = first; sequence <= last; ++sequence) {
    encoded.push_back(Encode(MakeTestBatch(sequence), prev));
    prev = encoded.back().checksum;
  }
  return encoded;
}

TEST(WriterGroupCommitTest, SeveralBatchesShareOneWriteAndOneSync) {
  io::MemEnv env;
  auto writer = Writer::Open(env, "/j", kFirstSequence, kChainStartChecksum);
  ASSERT_TRUE(writer.ok());
  const io::MemEnv::Stats before = env.stats();

  // Separate buffers: gathered through the staging buffer.
  const auto encoded = EncodeRange(1, 5, kChainStartChecksum);
  std::vector<std::span<const std::byte>> spans;
  uint64_t total = 0;
  for (const auto& batch : encoded) {
    spans.emplace_back(batch.bytes);
    total += batch.bytes.size();
  }
  ASSERT_TRUE((*writer)->Write(spans).ok());
  ASSERT_TRUE((*writer)->Sync().ok());
  io::MemEnv::Stats after = env.stats();
  EXPECT_EQ(after.appends - before.appends, 1u);
  EXPECT_EQ(after.file_syncs - before.file_syncs, 1u);
  EXPECT_EQ(after.bytes_appended - before.bytes_appended, total);
  EXPECT_EQ((*writer)->stats().staged_bytes, total);
  EXPECT_EQ((*writer)->stats().batches_written, 5u);
  EXPECT_EQ((*writer)->next_sequence(), 6u);
  EXPECT_EQ((*writer)->last_checksum(), encoded.back().checksum);

  // Built back to back in one buffer: one write and no copy.
  std::vector<std::byte> arena(1 << 16);
  std::vector<std::span<const std::byte>> contiguous;
  size_t used = 0;
  uint64_t prev = (*writer)->last_checksum();
  for (uint64_t sequence = 6; sequence <= 9; ++sequence) {
    BatchBuilder builder(std::span<std::byte>(arena).subspan(used));
    builder.Reset(sequence, sequence, prev);
    ASSERT_TRUE(builder.Add(1, testing::BytesOf("payload " + std::to_string(sequence))));
    const FinishedBatch finished = builder.Finish();
    contiguous.push_back(finished.bytes);
    used += finished.bytes.size();
    prev = finished.checksum;
  }
  const io::MemEnv::Stats middle = env.stats();
  ASSERT_TRUE((*writer)->Write(contiguous).ok());
  ASSERT_TRUE((*writer)->Sync().ok());
  after = env.stats();
  EXPECT_EQ(after.appends - middle.appends, 1u);
  EXPECT_EQ(after.file_syncs - middle.file_syncs, 1u);
  EXPECT_EQ((*writer)->stats().staged_bytes, total);  // Unchanged: no copy.

  Replayed replayed;
  auto result = testing::RecoverInto(env, "/j", &replayed);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(replayed.batches.size(), 9u);
  EXPECT_EQ(replayed.batches[2], MakeTestBatch(3));
  EXPECT_EQ(replayed.batches[8].sequence, 9u);
}

TEST(WriterGroupCommitTest, WithoutStagingEachBatchIsItsOwnWrite) {
  io::MemEnv env;
  WriterOptions options;
  options.staging_bytes = 0;
  auto writer = Writer::Open(env, "/j", kFirstSequence, kChainStartChecksum, options);
  ASSERT_TRUE(writer.ok());
  const auto encoded = EncodeRange(1, 3, kChainStartChecksum);
  std::vector<std::span<const std::byte>> spans;
  for (const auto& batch : encoded) spans.emplace_back(batch.bytes);
  const uint64_t appends_before = env.stats().appends;
  ASSERT_TRUE((*writer)->Write(spans).ok());
  EXPECT_EQ(env.stats().appends - appends_before, 3u);
  ASSERT_TRUE((*writer)->Sync().ok());
}

TEST(WriterGroupCommitTest, RotationSyncsTheOldSegmentAndTheDirectory) {
  io::MemEnv env;
  WriterOptions options;
  options.segment_size_max = 1024;
  auto writer = Writer::Open(env, "/j", kFirstSequence, kChainStartChecksum, options);
  ASSERT_TRUE(writer.ok());
  // Write without Sync until a rotation happens: the old segment must still
  // be durable, because rotation syncs it.
  uint64_t prev = kChainStartChecksum;
  uint64_t sequence = 1;
  while ((*writer)->stats().segments_created < 2) {
    const EncodedBatch encoded = Encode(MakeTestBatch(sequence), prev);
    ASSERT_TRUE((*writer)->Write(encoded.bytes).ok());
    prev = encoded.checksum;
    ++sequence;
  }
  EXPECT_EQ(env.UnsyncedBytes(SegmentFileName(1).insert(0, "/j/")), 0u);
  env.SimulateCrash(io::MemEnv::CrashMode::kDropUnsynced);
  Replayed replayed;
  auto result = testing::RecoverInto(env, "/j", &replayed);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  // Everything up to the batch that triggered the rotation survived.
  EXPECT_EQ(replayed.batches.size(), sequence - 2);
}

TEST(WriterFailureTest, SyncFailureIsReturnedAndTheWriterStops) {
  io::MemEnv env;
  auto writer = Writer::Open(env, "/j", kFirstSequence, kChainStartChecksum);
  ASSERT_TRUE(writer.ok());
  testing::WriteBatches(**writer, 1, 2);
  const EncodedBatch third = Encode(MakeTestBatch(3), (*writer)->last_checksum());
  ASSERT_TRUE((*writer)->Write(third.bytes).ok());
  env.FailNextSync("journal-");
  const base::Status failed = (*writer)->Sync();
  EXPECT_EQ(failed.code(), base::StatusCode::kIoError);
  // Never retried: every later call is refused.
  EXPECT_EQ((*writer)->Sync().code(), base::StatusCode::kFailedPrecondition);
  const EncodedBatch fourth = Encode(MakeTestBatch(4), third.checksum);
  EXPECT_EQ((*writer)->Write(fourth.bytes).code(), base::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*writer)->stats().syncs, 2u);

  // The unacknowledged batch may or may not survive; the acknowledged ones do.
  env.SimulateCrash(io::MemEnv::CrashMode::kDropUnsynced);
  Replayed replayed;
  auto result = testing::RecoverInto(env, "/j", &replayed);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(replayed.batches.size(), 2u);
}

TEST(WriterFailureTest, AppendFailureIsReturnedAndTheWriterStops) {
  io::MemEnv env;
  auto writer = Writer::Open(env, "/j", kFirstSequence, kChainStartChecksum);
  ASSERT_TRUE(writer.ok());
  const EncodedBatch first = Encode(MakeTestBatch(1), kChainStartChecksum);
  env.FailNextAppend("journal-");
  EXPECT_EQ((*writer)->Write(first.bytes).code(), base::StatusCode::kIoError);
  EXPECT_EQ((*writer)->next_sequence(), 1u);
  EXPECT_EQ((*writer)->Write(first.bytes).code(), base::StatusCode::kFailedPrecondition);
}

TEST(WriterFailureTest, OpenFailsWhenTheSegmentCannotBeMadeDurable) {
  io::MemEnv env;
  env.FailNextSync("journal-");
  auto writer = Writer::Open(env, "/j", kFirstSequence, kChainStartChecksum);
  EXPECT_EQ(writer.status().code(), base::StatusCode::kIoError);
  env.FailNextSync("/j");
  writer = Writer::Open(env, "/j", kFirstSequence, kChainStartChecksum);
  EXPECT_EQ(writer.status().code(), base::StatusCode::kIoError);
}

TEST(WriterDeathTest, OutOfOrderBatchesAreAProgrammerError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  io::MemEnv env;
  auto writer = Writer::Open(env, "/j", kFirstSequence, kChainStartChecksum);
  ASSERT_TRUE(writer.ok());
  const EncodedBatch skipped = Encode(MakeTestBatch(2), kChainStartChecksum);
  EXPECT_DEATH((void)(*writer)->Write(skipped.bytes), "sequence out of order");
  const EncodedBatch unchained = Encode(MakeTestBatch(1), 999);
  EXPECT_DEATH((void)(*writer)->Write(unchained.bytes), "hash chain");
  std::vector<std::byte> garbage(128, std::byte{1});
  EXPECT_DEATH((void)(*writer)->Write(garbage), "not a finished batch");
}

}  // namespace
}  // namespace tangelo::journal
