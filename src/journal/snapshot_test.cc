#include "journal/snapshot.h"

#include <gtest/gtest.h>

#include "base/random.h"
#include "io/mem_env.h"
#include "journal/journal_test_util.h"
#include "journal/record_format.h"
#include "journal/writer.h"

namespace tangelo::journal {
namespace {

using testing::EnvKind;
using testing::EnvTest;
using testing::Replayed;

std::vector<std::byte> RandomPayload(size_t size, uint64_t seed) {
  base::Random random(seed);
  std::vector<std::byte> payload(size);
  for (std::byte& byte : payload) byte = static_cast<std::byte>(random.Next());
  return payload;
}

// Streams `payload` in random-sized chunks, including empty ones.
SnapshotProducer ChunkedProducer(const std::vector<std::byte>& payload, uint64_t seed) {
  return [&payload, seed](const SnapshotSink& sink) -> base::Status {
    base::Random random(seed);
    size_t offset = 0;
    while (offset < payload.size()) {
      const size_t chunk = std::min<size_t>(payload.size() - offset,
                                            random.Chance(10) ? random.Between(0, 3 << 20)
                                                              : random.Between(0, 300));
      TG_RETURN_IF_ERROR(sink(std::span(payload).subspan(offset, chunk)));
      offset += chunk;
    }
    return base::Status::Ok();
  };
}

class SnapshotTest : public EnvTest {};

TEST_P(SnapshotTest, StreamedPayloadRoundTrips) {
  for (const size_t size : {size_t{0}, size_t{1}, size_t{4097}, size_t{5 << 20}}) {
    const std::vector<std::byte> payload = RandomPayload(size, size + 1);
    SnapshotWriteStats stats;
    ASSERT_TRUE(
        WriteSnapshot(env(), directory_, 42, 0xFEED, ChunkedProducer(payload, size), &stats).ok());
    EXPECT_EQ(stats.payload_bytes, size);
    auto snapshot = ReadSnapshot(env(), SnapshotPath(42));
    ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    EXPECT_EQ(snapshot->sequence, 42u);
    EXPECT_EQ(snapshot->last_batch_checksum, 0xFEEDu);
    ASSERT_EQ(snapshot->payload().size(), size);
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), snapshot->payload().begin()));
    EXPECT_EQ(*env().FileSize(SnapshotPath(42)),
              kSnapshotHeaderSize + size + kSnapshotFooterSize);
  }
  EXPECT_FALSE(env().FileExists(SnapshotPath(42) + ".tmp"));
}

TEST_P(SnapshotTest, RetentionKeepsTwoSnapshotsAndDeletesCoveredSegments) {
  WriterOptions options;
  options.segment_size_max = 1024;
  auto writer = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum, options);
  ASSERT_TRUE(writer.ok());
  const std::vector<std::byte> payload = RandomPayload(100, 1);
  SnapshotWriteStats stats;
  for (uint64_t snapshot = 10; snapshot <= 50; snapshot += 10) {
    testing::WriteBatches(**writer, snapshot - 9, snapshot);
    ASSERT_TRUE(WriteSnapshot(env(), directory_, snapshot, (*writer)->last_checksum(),
                              ChunkedProducer(payload, snapshot), &stats)
                    .ok());
  }
  EXPECT_EQ(stats.snapshots_deleted, 1u);  // By the last call.
  auto names = env().ListDir(directory_);
  ASSERT_TRUE(names.ok());
  std::vector<uint64_t> snapshots;
  std::vector<uint64_t> segments;
  for (const std::string& name : *names) {
    uint64_t sequence = 0;
    if (ParseSnapshotFileName(name, &sequence)) snapshots.push_back(sequence);
    if (ParseSegmentFileName(name, &sequence)) segments.push_back(sequence);
  }
  EXPECT_EQ(snapshots, (std::vector<uint64_t>{40, 50}));
  ASSERT_FALSE(segments.empty());
  // The oldest kept segment holds batch 41 (the first one snapshot 40 does
  // not cover); the one before it, wholly covered, is gone.
  EXPECT_LE(segments.front(), 41u);
  EXPECT_GT(segments.front(), 1u);
  if (segments.size() > 1) {
    EXPECT_GT(segments[1], 41u);
  }

  Replayed replayed;
  auto result = testing::RecoverInto(env(), directory_, &replayed);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->snapshot_sequence, 50u);
  EXPECT_EQ(result->next_sequence, 51u);
}

TEST_P(SnapshotTest, TheNewestSegmentIsNeverDeleted) {
  auto writer = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum);
  ASSERT_TRUE(writer.ok());
  testing::WriteBatches(**writer, 1, 3);
  const std::vector<std::byte> payload = RandomPayload(10, 2);
  for (int repeat = 0; repeat < 3; ++repeat) {
    ASSERT_TRUE(WriteSnapshot(env(), directory_, 3 + static_cast<uint64_t>(repeat),
                              (*writer)->last_checksum(), ChunkedProducer(payload, 1))
                    .ok());
  }
  EXPECT_TRUE(env().FileExists(SegmentPath(1)));
}

TEST_P(SnapshotTest, ProducerErrorPublishesNothing) {
  const std::vector<std::byte> payload = RandomPayload(1000, 3);
  ASSERT_TRUE(WriteSnapshot(env(), directory_, 5, 1, ChunkedProducer(payload, 1)).ok());
  const base::Status failed =
      WriteSnapshot(env(), directory_, 9, 2, [&](const SnapshotSink& sink) -> base::Status {
        TG_RETURN_IF_ERROR(sink(payload));
        return base::Internal("ledger serialization failed");
      });
  EXPECT_EQ(failed.code(), base::StatusCode::kInternal);
  EXPECT_FALSE(env().FileExists(SnapshotPath(9)));
  EXPECT_FALSE(env().FileExists(SnapshotPath(9) + ".tmp"));
  EXPECT_TRUE(ReadSnapshot(env(), SnapshotPath(5)).ok());
}

TEST_P(SnapshotTest, LeftoverTemporariesAreIgnoredAndCleanedUp) {
  ASSERT_TRUE(env().CreateDir(directory_).ok());
  testing::WriteWholeFile(env(), SnapshotPath(7) + ".tmp", RandomPayload(50, 4));
  Replayed replayed;
  auto result = testing::RecoverInto(env(), directory_, &replayed);
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->snapshot_loaded);
  ASSERT_TRUE(WriteSnapshot(env(), directory_, 3, 0, ChunkedProducer({}, 1)).ok());
  EXPECT_FALSE(env().FileExists(SnapshotPath(7) + ".tmp"));
}

TEST_P(SnapshotTest, EveryBitFlipAndTruncationIsDataLoss) {
  const std::vector<std::byte> payload = RandomPayload(77, 5);
  ASSERT_TRUE(WriteSnapshot(env(), directory_, 12, 99, ChunkedProducer(payload, 1)).ok());
  const std::string path = SnapshotPath(12);
  const std::vector<std::byte> whole = testing::ReadAll(env(), path);
  const uint64_t footer_offset = whole.size() - kSnapshotFooterSize;
  for (uint64_t offset = 0; offset < whole.size(); offset += sweep_stride()) {
    testing::FlipBitInFile(env(), path, offset, static_cast<int>(offset % 8));
    auto snapshot = ReadSnapshot(env(), path);
    ASSERT_FALSE(snapshot.ok()) << offset;
    EXPECT_EQ(snapshot.status().code(), base::StatusCode::kDataLoss);
    const uint64_t reported = offset < kSnapshotHeaderSize ? 0
                              : offset < footer_offset     ? kSnapshotHeaderSize
                                                           : footer_offset;
    EXPECT_NE(snapshot.status().message().find(path + " at byte " + std::to_string(reported)),
              std::string::npos)
        << offset << ": " << snapshot.status().message();
    testing::WriteWholeFile(env(), path, whole);
  }
  for (size_t size = 0; size < whole.size(); size += 7) {
    testing::WriteWholeFile(env(), path, std::span(whole).first(size));
    EXPECT_EQ(ReadSnapshot(env(), path).status().code(), base::StatusCode::kDataLoss) << size;
  }
}

TEST_P(SnapshotTest, NameMustMatchTheHeader) {
  ASSERT_TRUE(WriteSnapshot(env(), directory_, 12, 99, ChunkedProducer({}, 1)).ok());
  testing::WriteWholeFile(env(), SnapshotPath(13), testing::ReadAll(env(), SnapshotPath(12)));
  auto snapshot = ReadSnapshot(env(), SnapshotPath(13));
  EXPECT_EQ(snapshot.status().code(), base::StatusCode::kDataLoss);
  EXPECT_NE(snapshot.status().message().find("does not match the file name"), std::string::npos);
  EXPECT_EQ(ReadSnapshot(env(), io::JoinPath(directory_, "other.snap")).status().code(),
            base::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadSnapshot(env(), SnapshotPath(14)).status().code(), base::StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Envs, SnapshotTest, ::testing::Values(EnvKind::kMemory, EnvKind::kPosix),
                         testing::EnvKindName);

TEST(SnapshotFaultTest, SinkErrorsReachTheCallerEvenIfTheProducerIgnoresThem) {
  io::MemEnv env;
  const std::vector<std::byte> payload = RandomPayload(3 << 20, 6);
  env.FailNextAppend("snapshot-");
  const base::Status status =
      WriteSnapshot(env, "/j", 4, 0, [&](const SnapshotSink& sink) -> base::Status {
        sink(payload).IgnoreError();  // A careless producer.
        return base::Status::Ok();
      });
  EXPECT_EQ(status.code(), base::StatusCode::kIoError);
  EXPECT_FALSE(env.FileExists("/j/" + SnapshotFileName(4)));
}

TEST(SnapshotFaultTest, CrashWhileWritingKeepsThePreviousSnapshot) {
  const std::vector<std::byte> old_payload = RandomPayload(500, 7);
  const std::vector<std::byte> new_payload = RandomPayload(600, 8);
  for (const char* failing : {"snapshot-", "/j"}) {
    io::MemEnv env;
    ASSERT_TRUE(WriteSnapshot(env, "/j", 10, 1, ChunkedProducer(old_payload, 1)).ok());
    env.FailNextSync(failing);  // The new file's fsync, or the directory's.
    EXPECT_EQ(WriteSnapshot(env, "/j", 20, 2, ChunkedProducer(new_payload, 1)).code(),
              base::StatusCode::kIoError);
    env.SimulateCrash(io::MemEnv::CrashMode::kTearUnsynced);
    Replayed replayed;
    auto result = testing::RecoverInto(env, "/j", &replayed);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->snapshot_sequence, 10u) << failing;
    EXPECT_EQ(replayed.snapshot_payload, old_payload);
  }
}

TEST(SnapshotFaultTest, CrashAfterWritingKeepsTheNewSnapshot) {
  io::MemEnv env;
  const std::vector<std::byte> payload = RandomPayload(700, 9);
  ASSERT_TRUE(WriteSnapshot(env, "/j", 10, 1, ChunkedProducer(payload, 1)).ok());
  env.SimulateCrash(io::MemEnv::CrashMode::kDropUnsynced);
  auto snapshot = ReadSnapshot(env, "/j/" + SnapshotFileName(10));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  EXPECT_EQ(std::vector<std::byte>(snapshot->payload().begin(), snapshot->payload().end()),
            payload);
}

}  // namespace
}  // namespace tangelo::journal
