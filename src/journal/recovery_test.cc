#include "journal/recovery.h"

#include <gtest/gtest.h>

#include <cstring>

#include "io/mem_env.h"
#include "journal/journal_test_util.h"
#include "journal/record_format.h"
#include "journal/snapshot.h"
#include "journal/writer.h"

namespace tangelo::journal {
namespace {

using testing::Encode;
using testing::EncodedBatch;
using testing::EnvKind;
using testing::EnvTest;
using testing::MakeTestBatch;
using testing::Replayed;

// Asserts a DataLoss whose message names `path` and `at byte <offset>`.
void ExpectDataLossAt(const base::Result<RecoveryResult>& result, const std::string& path,
                      uint64_t offset, const std::string& detail = "") {
  ASSERT_FALSE(result.ok()) << "recovery succeeded; expected DataLoss in " << path;
  EXPECT_EQ(result.status().code(), base::StatusCode::kDataLoss) << result.status().ToString();
  const std::string& message = result.status().message();
  EXPECT_NE(message.find(path + " at byte " + std::to_string(offset) + ":"), std::string::npos)
      << message;
  if (!detail.empty()) {
    EXPECT_NE(message.find(detail), std::string::npos) << message;
  }
}

base::Status WritePayloadSnapshot(io::Env& env, const std::string& directory, uint64_t sequence,
                                  uint64_t checksum) {
  const std::string payload = "state after " + std::to_string(sequence);
  return WriteSnapshot(env, directory, sequence, checksum, [&](const SnapshotSink& sink) {
    return sink(std::as_bytes(std::span(payload.data(), payload.size())));
  });
}

class RecoveryTest : public EnvTest {
 protected:
  // Writes batches 1..count into one segment; returns each batch's offset.
  std::vector<uint64_t> WriteJournal(uint64_t count) {
    auto writer = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum);
    EXPECT_TRUE(writer.ok());
    std::vector<uint64_t> offsets;
    for (uint64_t sequence = 1; sequence <= count; ++sequence) {
      offsets.push_back((*writer)->segment_size_bytes());
      testing::WriteBatches(**writer, sequence, sequence);
    }
    offsets.push_back((*writer)->segment_size_bytes());  // End of the last batch.
    last_checksum_ = (*writer)->last_checksum();
    return offsets;
  }

  base::Result<RecoveryResult> RecoverNow(Replayed* replayed, RecoveryOptions options = {}) {
    return testing::RecoverInto(env(), directory_, replayed, options);
  }

  void ExpectBatches(const Replayed& replayed, uint64_t first, uint64_t last) {
    ASSERT_EQ(replayed.batches.size(), last + 1 - first);
    for (uint64_t sequence = first; sequence <= last; ++sequence) {
      EXPECT_EQ(replayed.batches[sequence - first], MakeTestBatch(sequence)) << sequence;
    }
  }

  uint64_t last_checksum_ = 0;
};

TEST_P(RecoveryTest, MissingDirectoryIsAnEmptyJournal) {
  Replayed replayed;
  auto result = RecoverNow(&replayed);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->next_sequence, kFirstSequence);
  EXPECT_EQ(result->last_checksum, kChainStartChecksum);
  EXPECT_FALSE(result->snapshot_loaded);
  EXPECT_EQ(result->last_segment_path, "");
  ASSERT_EQ(result->warnings.size(), 1u);
  EXPECT_NE(result->warnings[0].find("does not exist"), std::string::npos);
  EXPECT_TRUE(replayed.batches.empty());

  ASSERT_TRUE(env().CreateDir(directory_).ok());
  result = RecoverNow(&replayed);
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result->warnings.empty());
}

TEST_P(RecoveryTest, ReplaysEverythingAcrossChunkBoundaries) {
  const auto offsets = WriteJournal(40);
  for (const size_t chunk : {size_t{1}, size_t{100}, size_t{777}, kRecoveryReadChunkBytes}) {
    Replayed replayed;
    auto result = RecoverNow(&replayed, RecoveryOptions{chunk});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    ExpectBatches(replayed, 1, 40);
    EXPECT_EQ(result->next_sequence, 41u);
    EXPECT_EQ(result->last_checksum, last_checksum_);
    EXPECT_EQ(result->bytes_read, offsets.back());
    EXPECT_EQ(result->batches_verified, 40u);
  }
}

TEST_P(RecoveryTest, TornTailAtEveryByteOfTheLastBatchIsCut) {
  const auto offsets = WriteJournal(6);
  const std::string path = SegmentPath(1);
  const std::vector<std::byte> whole = testing::ReadAll(env(), path);
  const uint64_t last_start = offsets[5];
  ASSERT_EQ(whole.size(), offsets[6]);
  for (uint64_t size = last_start + 1; size < whole.size(); size += sweep_stride()) {
    for (const bool zero_fill : {false, true}) {
      // The write of the last batch stopped after `size` bytes; with
      // zero_fill the file kept its full size but the rest is zeros.
      std::vector<std::byte> torn(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(size));
      if (zero_fill) torn.resize(whole.size(), std::byte{0});
      testing::WriteWholeFile(env(), path, torn);
      Replayed replayed;
      auto result = RecoverNow(&replayed);
      ASSERT_TRUE(result.ok()) << "size " << size << " zero_fill " << zero_fill << ": "
                               << result.status().ToString();
      ExpectBatches(replayed, 1, 5);
      EXPECT_EQ(result->next_sequence, 6u);
      EXPECT_EQ(result->bytes_cut, torn.size() - last_start);
      EXPECT_EQ(result->last_segment_bytes, last_start);
      EXPECT_EQ(*env().FileSize(path), last_start);  // Cut durably.
      ASSERT_EQ(result->warnings.size(), 1u);
      EXPECT_NE(result->warnings[0].find("torn tail"), std::string::npos);
    }
  }
}

TEST_P(RecoveryTest, ZeroTailAfterTheLastBatchIsCut) {
  const auto offsets = WriteJournal(3);
  const std::vector<std::byte> zeros(5000, std::byte{0});
  testing::AppendToFile(env(), SegmentPath(1), zeros);
  Replayed replayed;
  auto result = RecoverNow(&replayed);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ExpectBatches(replayed, 1, 3);
  EXPECT_EQ(result->bytes_cut, 5000u);
  EXPECT_EQ(*env().FileSize(SegmentPath(1)), offsets.back());
}

TEST_P(RecoveryTest, ShortGarbageAtTheEndIsAPartialHeader) {
  const auto offsets = WriteJournal(3);
  const std::vector<std::byte> garbage(40, std::byte{0x55});
  testing::AppendToFile(env(), SegmentPath(1), garbage);
  Replayed replayed;
  auto result = RecoverNow(&replayed);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->bytes_cut, 40u);
  ExpectBatches(replayed, 1, 3);
}

TEST_P(RecoveryTest, BadHeaderFollowedByDataIsCorruption) {
  const auto offsets = WriteJournal(3);
  const std::vector<std::byte> garbage(100, std::byte{0x55});
  testing::AppendToFile(env(), SegmentPath(1), garbage);
  Replayed replayed;
  ExpectDataLossAt(RecoverNow(&replayed), SegmentPath(1), offsets.back(), "bad header");
  EXPECT_EQ(*env().FileSize(SegmentPath(1)), offsets.back() + 100);  // Nothing was cut.
}

TEST_P(RecoveryTest, BitFlipsInEarlierBatchesAreCorruption) {
  const auto offsets = WriteJournal(5);
  const std::string path = SegmentPath(1);
  const std::vector<std::byte> whole = testing::ReadAll(env(), path);
  // Every header byte of batch 2 and a stride through all batches.
  std::vector<uint64_t> flip_offsets;
  for (uint64_t offset = offsets[1]; offset < offsets[1] + kBatchHeaderSize;
       offset += sweep_stride()) {
    flip_offsets.push_back(offset);
  }
  for (uint64_t offset = offsets[0]; offset < offsets[4]; offset += 13 * sweep_stride()) {
    flip_offsets.push_back(offset);
  }
  for (const uint64_t offset : flip_offsets) {
    testing::FlipBitInFile(env(), path, offset, static_cast<int>(offset % 8));
    size_t batch = 0;
    while (offsets[batch + 1] <= offset) ++batch;
    Replayed replayed;
    ExpectDataLossAt(RecoverNow(&replayed), path, offsets[batch]);
    // Batches before the damage were handed out; the caller discards them.
    EXPECT_EQ(replayed.batches.size(), batch);
    testing::WriteWholeFile(env(), path, whole);
  }
}

TEST_P(RecoveryTest, BitFlipsInTheLastCompleteBatchAreCorruption) {
  const auto offsets = WriteJournal(4);
  const std::string path = SegmentPath(1);
  const std::vector<std::byte> whole = testing::ReadAll(env(), path);
  for (uint64_t offset = offsets[3]; offset < offsets[4]; offset += sweep_stride()) {
    testing::FlipBitInFile(env(), path, offset, static_cast<int>((offset * 5) % 8));
    Replayed replayed;
    ExpectDataLossAt(RecoverNow(&replayed), path, offsets[3]);
    testing::WriteWholeFile(env(), path, whole);
  }
}

TEST_P(RecoveryTest, BitFlipsInSegmentHeadersAreCorruption) {
  const std::vector<std::string> segments = WriteRotatedJournal(12);
  ASSERT_GE(segments.size(), 3u);
  // The oldest segment and the newest (which holds batches).
  for (const std::string& name : {segments.front(), segments.back()}) {
    const std::string path = io::JoinPath(directory_, name);
    const std::vector<std::byte> whole = testing::ReadAll(env(), path);
    for (uint64_t offset = 0; offset < kSegmentHeaderSize; offset += sweep_stride()) {
      testing::FlipBitInFile(env(), path, offset, static_cast<int>(offset % 8));
      Replayed replayed;
      ExpectDataLossAt(RecoverNow(&replayed), path, 0, "bad segment header");
      testing::WriteWholeFile(env(), path, whole);
    }
  }
}

TEST_P(RecoveryTest, SequenceGapIsCorruption) {
  const auto offsets = WriteJournal(3);
  const EncodedBatch skipping = Encode(MakeTestBatch(5), last_checksum_);
  testing::AppendToFile(env(), SegmentPath(1), skipping.bytes);
  Replayed replayed;
  ExpectDataLossAt(RecoverNow(&replayed), SegmentPath(1),
                   offsets.back() + offsetof(BatchHeader, sequence),
                   "batch sequence 5 where 4 was expected");
}

TEST_P(RecoveryTest, HashChainBreakIsCorruption) {
  const auto offsets = WriteJournal(3);
  const EncodedBatch unchained = Encode(MakeTestBatch(4), last_checksum_ ^ 1);
  testing::AppendToFile(env(), SegmentPath(1), unchained.bytes);
  Replayed replayed;
  ExpectDataLossAt(RecoverNow(&replayed), SegmentPath(1),
                   offsets.back() + offsetof(BatchHeader, prev_checksum), "hash chain broken");
}

TEST_P(RecoveryTest, UnknownVersionIsCorruptionNotAGuess) {
  const auto offsets = WriteJournal(2);
  EncodedBatch future = Encode(MakeTestBatch(3), last_checksum_);
  BatchHeader header = LoadRecord<BatchHeader>(future.bytes.data());
  header.format_version = 2;
  header.header_checksum = ComputeChecksum(header);
  std::memcpy(future.bytes.data(), &header, sizeof(header));
  testing::AppendToFile(env(), SegmentPath(1), future.bytes);
  Replayed replayed;
  ExpectDataLossAt(RecoverNow(&replayed), SegmentPath(1), offsets.back(),
                   "unknown format version 2");
}

TEST_P(RecoveryTest, DamageInASegmentThatIsNotTheNewestIsCorruption) {
  const std::vector<std::string> names = WriteRotatedJournal(15);
  ASSERT_GE(names.size(), 3u);
  const std::string middle = io::JoinPath(directory_, names[1]);
  const std::vector<std::byte> whole = testing::ReadAll(env(), middle);

  // A torn-looking tail is not a torn write when it is not the newest segment.
  ASSERT_TRUE(env().Truncate(middle, whole.size() - 3).ok());
  Replayed replayed;
  auto result = RecoverNow(&replayed);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), base::StatusCode::kDataLoss);
  EXPECT_NE(result.status().message().find("not the newest"), std::string::npos);
  EXPECT_NE(result.status().message().find(middle), std::string::npos);

  // Nor is a zero tail.
  testing::WriteWholeFile(env(), middle, whole);
  testing::AppendToFile(env(), middle, std::vector<std::byte>(64, std::byte{0}));
  ExpectDataLossAt(RecoverNow(&replayed), middle, whole.size());

  // A missing segment is a gap.
  testing::WriteWholeFile(env(), middle, whole);
  ASSERT_TRUE(env().RemoveFile(middle).ok());
  result = RecoverNow(&replayed);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), base::StatusCode::kDataLoss);
  EXPECT_NE(result.status().message().find("previous segment ends"), std::string::npos)
      << result.status().message();
}

TEST_P(RecoveryTest, TornNewestSegmentHeaderIsCutAndTheWriterResumes) {
  WriteJournal(5);
  // The header write was torn: a prefix reached the disk, possibly followed
  // by zeros where the file size reached the disk but the bytes did not.
  // (Bytes 32..63 of a segment header are reserved zeros, so a prefix of
  // 32 or more followed by zeros is a whole header: not a torn one.)
  struct Tear {
    size_t kept;
    size_t zero_filled_to;
  };
  for (const Tear tear : {Tear{0, 0}, Tear{20, 20}, Tear{63, 63}, Tear{20, 64}, Tear{0, 64},
                          Tear{12, 200}}) {
    {
      auto writer = Writer::Open(env(), directory_, 6, last_checksum_);
      ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    }
    std::vector<std::byte> header = testing::ReadAll(env(), SegmentPath(6));
    ASSERT_EQ(header.size(), kSegmentHeaderSize);
    header.resize(tear.kept);
    header.resize(tear.zero_filled_to, std::byte{0});
    testing::WriteWholeFile(env(), SegmentPath(6), header);
    Replayed replayed;
    auto result = RecoverNow(&replayed);
    ASSERT_TRUE(result.ok()) << tear.kept << ": " << result.status().ToString();
    ExpectBatches(replayed, 1, 5);
    EXPECT_EQ(result->next_sequence, 6u);
    EXPECT_EQ(result->last_segment_path, SegmentPath(6));
    EXPECT_EQ(result->last_segment_bytes, 0u);
    EXPECT_EQ(result->bytes_cut, tear.zero_filled_to);
    EXPECT_EQ(*env().FileSize(SegmentPath(6)), 0u);
  }
  auto writer = Writer::Open(env(), directory_, 6, last_checksum_);
  ASSERT_TRUE(writer.ok());
  testing::WriteBatches(**writer, 6, 8);
  Replayed replayed;
  auto result = RecoverNow(&replayed);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ExpectBatches(replayed, 1, 8);
}

TEST_P(RecoveryTest, SnapshotPlusTail) {
  auto writer = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum);
  ASSERT_TRUE(writer.ok());
  testing::WriteBatches(**writer, 1, 10);
  ASSERT_TRUE(WritePayloadSnapshot(env(), directory_, 10, (*writer)->last_checksum()).ok());
  testing::WriteBatches(**writer, 11, 15);

  Replayed replayed;
  auto result = RecoverNow(&replayed);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->snapshot_loaded);
  EXPECT_EQ(result->snapshot_sequence, 10u);
  EXPECT_EQ(replayed.snapshot_sequence, 10u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(replayed.snapshot_payload.data()),
                        replayed.snapshot_payload.size()),
            "state after 10");
  ExpectBatches(replayed, 11, 15);
  EXPECT_EQ(result->batches_replayed, 5u);
  EXPECT_EQ(result->batches_verified, 15u);  // 1..10 checked against the snapshot.
  EXPECT_EQ(result->next_sequence, 16u);
}

TEST_P(RecoveryTest, SnapshotAtTheEndOfTheJournal) {
  auto writer = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum);
  ASSERT_TRUE(writer.ok());
  testing::WriteBatches(**writer, 1, 4);
  ASSERT_TRUE(WritePayloadSnapshot(env(), directory_, 4, (*writer)->last_checksum()).ok());
  Replayed replayed;
  auto result = RecoverNow(&replayed);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(replayed.batches.empty());
  EXPECT_EQ(result->next_sequence, 5u);
  EXPECT_EQ(result->last_checksum, (*writer)->last_checksum());
}

TEST_P(RecoveryTest, SnapshotThatDisagreesWithTheJournalIsCorruption) {
  const auto offsets = WriteJournal(6);
  ASSERT_TRUE(WritePayloadSnapshot(env(), directory_, 4, /*checksum=*/12345).ok());
  Replayed replayed;
  ExpectDataLossAt(RecoverNow(&replayed), SegmentPath(1), offsets[3], "does not match the snapshot");
}

TEST_P(RecoveryTest, JournalEndingBeforeTheSnapshotIsCorruption) {
  WriteJournal(3);
  ASSERT_TRUE(WritePayloadSnapshot(env(), directory_, 9, 777).ok());
  Replayed replayed;
  auto result = RecoverNow(&replayed);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), base::StatusCode::kDataLoss);
  EXPECT_NE(result.status().message().find("before the snapshot's sequence 9"), std::string::npos)
      << result.status().message();
}

TEST_P(RecoveryTest, DamagedNewestSnapshotFallsBackToTheOlderOne) {
  WriterOptions options;
  options.segment_size_max = 1500;
  auto writer = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum, options);
  ASSERT_TRUE(writer.ok());
  testing::WriteBatches(**writer, 1, 10);
  ASSERT_TRUE(WritePayloadSnapshot(env(), directory_, 10, (*writer)->last_checksum()).ok());
  testing::WriteBatches(**writer, 11, 20);
  ASSERT_TRUE(WritePayloadSnapshot(env(), directory_, 20, (*writer)->last_checksum()).ok());
  testing::WriteBatches(**writer, 21, 25);

  const std::string newest = SnapshotPath(20);
  const std::vector<std::byte> whole = testing::ReadAll(env(), newest);
  for (uint64_t offset = 0; offset < whole.size(); offset += sweep_stride()) {
    testing::FlipBitInFile(env(), newest, offset, static_cast<int>(offset % 8));
    Replayed replayed;
    auto result = RecoverNow(&replayed);
    ASSERT_TRUE(result.ok()) << offset << ": " << result.status().ToString();
    EXPECT_EQ(result->snapshot_sequence, 10u) << offset;
    ExpectBatches(replayed, 11, 25);
    ASSERT_FALSE(result->warnings.empty());
    EXPECT_NE(result->warnings[0].find("skipped damaged snapshot"), std::string::npos);
    EXPECT_NE(result->warnings[0].find(newest), std::string::npos);
    testing::WriteWholeFile(env(), newest, whole);
  }
}

TEST_P(RecoveryTest, NoValidSnapshotAfterSegmentsWereDeletedIsDataLoss) {
  WriterOptions options;
  options.segment_size_max = 1024;
  auto writer = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum, options);
  ASSERT_TRUE(writer.ok());
  for (uint64_t snapshot = 10; snapshot <= 30; snapshot += 10) {
    testing::WriteBatches(**writer, snapshot - 9, snapshot);
    ASSERT_TRUE(
        WritePayloadSnapshot(env(), directory_, snapshot, (*writer)->last_checksum()).ok());
  }
  EXPECT_FALSE(env().FileExists(SegmentPath(1)));  // Covered by snapshot 20, deleted.
  testing::FlipBitInFile(env(), SnapshotPath(30), 70, 1);
  testing::FlipBitInFile(env(), SnapshotPath(20), 70, 1);
  Replayed replayed;
  auto result = RecoverNow(&replayed);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), base::StatusCode::kDataLoss);
  EXPECT_NE(result.status().message().find("no valid snapshot covers the gap"), std::string::npos)
      << result.status().message();
}

TEST_P(RecoveryTest, RecoverContinueAndRecoverAgain) {
  WriteJournal(5);
  for (uint64_t round = 0; round < 3; ++round) {
    Replayed replayed;
    auto result = RecoverNow(&replayed);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    const uint64_t next = result->next_sequence;
    ExpectBatches(replayed, 1, next - 1);
    uint64_t checksum = 0;
    {
      auto writer = Writer::Open(env(), directory_, next, result->last_checksum);
      ASSERT_TRUE(writer.ok()) << writer.status().ToString();
      testing::WriteBatches(**writer, next, next + 4);
      checksum = (*writer)->last_checksum();
    }
    // An unacknowledged, torn batch at the end each round.
    const EncodedBatch torn = Encode(MakeTestBatch(next + 5), checksum);
    testing::AppendToFile(env(), SegmentPath(next),
                          std::span(torn.bytes).first(torn.bytes.size() / 2));
  }
  Replayed replayed;
  auto result = RecoverNow(&replayed);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ExpectBatches(replayed, 1, 20);
  EXPECT_EQ(*env().ListDir(directory_),
            (std::vector<std::string>{SegmentFileName(1), SegmentFileName(6), SegmentFileName(11),
                                      SegmentFileName(16)}));
}

TEST_P(RecoveryTest, ConsumerErrorsStopRecovery) {
  WriteJournal(5);
  int calls = 0;
  auto result = Recover(
      env(), directory_, nullptr, [&](const BatchView& batch) -> base::Status {
        ++calls;
        if (batch.sequence() == 3) return base::Internal("state machine refused batch 3");
        return base::Status::Ok();
      });
  EXPECT_EQ(result.status().code(), base::StatusCode::kInternal);
  EXPECT_EQ(calls, 3);

  ASSERT_TRUE(WritePayloadSnapshot(env(), directory_, 2, 0).ok());
  result = Recover(
      env(), directory_,
      [](std::span<const std::byte>, uint64_t) { return base::DataLoss("bad engine prefix"); },
      nullptr);
  EXPECT_EQ(result.status().code(), base::StatusCode::kDataLoss);
  EXPECT_EQ(result.status().message(), "bad engine prefix");
}

TEST_P(RecoveryTest, BatchLargerThanTheReadChunk) {
  auto writer = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum);
  ASSERT_TRUE(writer.ok());
  std::vector<std::byte> buffer(1 << 20);
  BatchBuilder builder(buffer);
  builder.Reset(1, 5, kChainStartChecksum);
  const std::vector<std::byte> payload(base::kJournalEntrySizeMax, std::byte{9});
  for (int index = 0; index < 100; ++index) ASSERT_TRUE(builder.Add(7, payload));
  ASSERT_TRUE((*writer)->Write(builder.Finish().bytes).ok());
  testing::WriteBatches(**writer, 2, 3);
  Replayed replayed;
  auto result = RecoverNow(&replayed, RecoveryOptions{4096});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(replayed.batches.size(), 3u);
  EXPECT_EQ(replayed.batches[0].entries.size(), 100u);
  EXPECT_EQ(replayed.batches[0].entries[99].payload, payload);
  EXPECT_EQ(replayed.batches[2], MakeTestBatch(3));
}

INSTANTIATE_TEST_SUITE_P(Envs, RecoveryTest,
                         ::testing::Values(EnvKind::kMemory, EnvKind::kPosix),
                         testing::EnvKindName);

// Crashes at random points of a random workload, on MemEnv, in every crash
// mode: recovery must always succeed, keep every acknowledged batch, hand out
// exactly what was written, and let the writer continue.
class CrashRecoveryTest : public ::testing::TestWithParam<io::MemEnv::CrashMode> {};

TEST_P(CrashRecoveryTest, AcknowledgedBatchesSurviveEveryCrash) {
  constexpr uint64_t kSeeds = 300;
  constexpr int kRoundsPerSeed = 4;
  const std::string directory = "/data/journal";
  // What the workload exercised, so it cannot quietly degenerate.
  uint64_t bytes_cut = 0;
  uint64_t snapshots_loaded = 0;
  uint64_t injected_failures = 0;
  uint64_t batches_replayed = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    io::MemEnv env(seed);
    base::Random random(seed * 31);
    WriterOptions options;
    options.segment_size_max = 1024 + random.Uniform(4096);
    uint64_t acknowledged = 0;  // Highest sequence whose Sync returned ok.
    for (int round = 0; round < kRoundsPerSeed; ++round) {
      Replayed replayed;
      auto result = testing::RecoverInto(env, directory, &replayed,
                                         RecoveryOptions{64 + random.Uniform(2048)});
      ASSERT_TRUE(result.ok()) << "seed " << seed << " round " << round << ": "
                               << result.status().ToString();
      const uint64_t recovered_last = result->next_sequence - 1;
      ASSERT_GE(recovered_last, acknowledged) << "seed " << seed << " lost acknowledged batches";
      const uint64_t first_replayed = result->snapshot_loaded ? result->snapshot_sequence + 1 : 1;
      if (result->snapshot_loaded) {
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(replayed.snapshot_payload.data()),
                              replayed.snapshot_payload.size()),
                  "state after " + std::to_string(result->snapshot_sequence));
      }
      ASSERT_EQ(replayed.batches.size(), recovered_last + 1 - first_replayed) << seed;
      for (const auto& batch : replayed.batches) {
        ASSERT_EQ(batch, MakeTestBatch(batch.sequence)) << "seed " << seed;
      }
      acknowledged = recovered_last;  // Recovery itself made them durable.
      bytes_cut += result->bytes_cut;
      if (result->snapshot_loaded) ++snapshots_loaded;
      batches_replayed += result->batches_replayed;

      // Sometimes an fsync or a write fails somewhere (journal, snapshot,
      // directory): the process stops there, mid-operation, and crashes.
      if (random.Chance(30)) {
        const char* targets[] = {"journal-", "snapshot-", "/data/journal"};
        const char* target = targets[random.Uniform(3)];
        if (random.Chance(50)) {
          env.FailNextSync(target);
        } else {
          env.FailNextAppend(target);
        }
      }
      auto writer = Writer::Open(env, directory, result->next_sequence, result->last_checksum,
                                 options);
      if (writer.ok()) {
        const uint64_t groups = random.Between(1, 12);
        for (uint64_t group = 0; group < groups; ++group) {
          std::vector<EncodedBatch> encoded;
          uint64_t prev = (*writer)->last_checksum();
          const uint64_t count = random.Between(1, 4);
          for (uint64_t index = 0; index < count; ++index) {
            encoded.push_back(Encode(MakeTestBatch((*writer)->next_sequence() + index), prev));
            prev = encoded.back().checksum;
          }
          std::vector<std::span<const std::byte>> spans;
          for (const auto& batch : encoded) spans.emplace_back(batch.bytes);
          if (!(*writer)->Write(spans).ok()) break;
          if (!random.Chance(80)) continue;
          if (!(*writer)->Sync().ok()) break;
          acknowledged = (*writer)->next_sequence() - 1;
          if (random.Chance(15) && !WritePayloadSnapshot(env, directory, acknowledged,
                                                         (*writer)->last_checksum())
                                        .ok()) {
            break;
          }
        }
      }
      injected_failures += env.stats().injected_failures;
      env.SimulateCrash(GetParam());
    }
  }
  EXPECT_GT(snapshots_loaded, 10u);
  EXPECT_GT(injected_failures, 10u);
  EXPECT_GT(batches_replayed, 1000u);
  if (GetParam() == io::MemEnv::CrashMode::kDropUnsynced) {
    EXPECT_EQ(bytes_cut, 0u);  // Whole unsynced writes vanish: nothing is ever torn.
  } else {
    EXPECT_GT(bytes_cut, 0u);
  }
}

std::string CrashModeName(const ::testing::TestParamInfo<io::MemEnv::CrashMode>& mode) {
  switch (mode.param) {
    case io::MemEnv::CrashMode::kDropUnsynced: return "Drop";
    case io::MemEnv::CrashMode::kTearUnsynced: return "Tear";
    case io::MemEnv::CrashMode::kTearUnsyncedZeroFill: return "ZeroFill";
  }
  return "Unknown";
}

INSTANTIATE_TEST_SUITE_P(Modes, CrashRecoveryTest,
                         ::testing::Values(io::MemEnv::CrashMode::kDropUnsynced,
                                           io::MemEnv::CrashMode::kTearUnsynced,
                                           io::MemEnv::CrashMode::kTearUnsyncedZeroFill),
                         CrashModeName);

TEST(RecoveryFailureTest, TruncateFailureIsReturned) {
  io::MemEnv env;
  uint64_t checksum = 0;
  {
    auto writer = Writer::Open(env, "/j", kFirstSequence, kChainStartChecksum);
    ASSERT_TRUE(writer.ok());
    testing::WriteBatches(**writer, 1, 2);
    checksum = (*writer)->last_checksum();
  }
  const EncodedBatch torn = Encode(MakeTestBatch(3), checksum);
  testing::AppendToFile(env, "/j/" + SegmentFileName(1), std::span(torn.bytes).first(100));
  env.FailNextSync("journal-");
  Replayed replayed;
  auto result = testing::RecoverInto(env, "/j", &replayed);
  EXPECT_EQ(result.status().code(), base::StatusCode::kIoError);
}

}  // namespace
}  // namespace tangelo::journal
