// Pins journal format version 1 with committed files in tests/golden/journal/.
//
// The files were generated once by this test with TANGELO_WRITE_GOLDEN=1 and
// committed. Two checks keep the format from drifting by accident: today's
// writer must produce the same bytes, and today's reader must read the
// committed bytes back to exactly these sequences, timestamps, kinds and
// payloads. A deliberate format change needs a new version and new files,
// never regenerated v1 files (docs/formats/journal.md, "Version rules").
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "io/mem_env.h"
#include "journal/journal_test_util.h"
#include "journal/record_format.h"
#include "journal/snapshot.h"
#include "journal/writer.h"

#ifndef TANGELO_SOURCE_DIR
#error "TANGELO_SOURCE_DIR must point at the repository root"
#endif

namespace tangelo::journal {
namespace {

using testing::BytesOf;
using testing::Replayed;
using testing::TestBatch;
using testing::TestEntry;

const std::string kGoldenDirectory = std::string(TANGELO_SOURCE_DIR) + "/tests/golden/journal";
const std::string kSnapshotPayload = "golden snapshot payload v1\n";
// Checksum of golden batch 3, the chain value after the whole journal.
constexpr uint64_t kGoldenLastChecksum = 0x15BFC623E2F79886;

std::vector<TestBatch> GoldenBatches() {
  return {
      TestBatch{1,
                1'700'000'000'000'000'001ULL,
                {TestEntry{1, BytesOf("open account 42")},
                 TestEntry{2, {std::byte{0x00}, std::byte{0x01}, std::byte{0x02}, std::byte{0xFF}}}}},
      TestBatch{2,
                1'700'000'000'000'000'500ULL,
                {TestEntry{7, {}}, TestEntry{65535, BytesOf("hold 12.34 EUR")}}},
      TestBatch{3, 1'700'000'000'001'000'000ULL, {TestEntry{3, BytesOf("12345678")}}},
  };
}

// Writes the golden journal (batches 1..3, snapshot after 2) into `env`.
void Generate(io::Env& env, const std::string& directory) {
  auto writer = Writer::Open(env, directory, kFirstSequence, kChainStartChecksum);
  ASSERT_TRUE(writer.ok());
  uint64_t checksum_after_2 = 0;
  for (const TestBatch& batch : GoldenBatches()) {
    const auto encoded = testing::Encode(batch, (*writer)->last_checksum());
    ASSERT_TRUE((*writer)->Write(encoded.bytes).ok());
    ASSERT_TRUE((*writer)->Sync().ok());
    if (batch.sequence == 2) checksum_after_2 = encoded.checksum;
  }
  ASSERT_TRUE(WriteSnapshot(env, directory, 2, checksum_after_2, [](const SnapshotSink& sink) {
                return sink(std::as_bytes(std::span(kSnapshotPayload.data(), kSnapshotPayload.size())));
              }).ok());
}

const std::vector<std::string> kGoldenFiles = {SegmentFileName(1), SnapshotFileName(2)};

std::vector<std::byte> ReadGolden(const std::string& name) {
  std::ifstream input(kGoldenDirectory + "/" + name, std::ios::binary);
  EXPECT_TRUE(input.good()) << "missing golden file " << name;
  const std::vector<char> chars((std::istreambuf_iterator<char>(input)),
                                std::istreambuf_iterator<char>());
  const auto* bytes = reinterpret_cast<const std::byte*>(chars.data());
  return std::vector<std::byte>(bytes, bytes + chars.size());
}

TEST(GoldenTest, WriteGoldenFilesWhenAsked) {
  const char* flag = std::getenv("TANGELO_WRITE_GOLDEN");
  if (flag == nullptr || std::string(flag) != "1") GTEST_SKIP() << "TANGELO_WRITE_GOLDEN != 1";
  io::MemEnv env;
  Generate(env, "/golden");
  for (const std::string& name : kGoldenFiles) {
    const std::vector<std::byte> bytes = testing::ReadAll(env, "/golden/" + name);
    std::ofstream output(kGoldenDirectory + "/" + name, std::ios::binary | std::ios::trunc);
    ASSERT_TRUE(output.good()) << kGoldenDirectory;
    output.write(reinterpret_cast<const char*>(bytes.data()),
                 static_cast<std::streamsize>(bytes.size()));
  }
}

TEST(GoldenTest, TodaysWriterProducesTheGoldenBytes) {
  io::MemEnv env;
  Generate(env, "/golden");
  for (const std::string& name : kGoldenFiles) {
    EXPECT_EQ(testing::ReadAll(env, "/golden/" + name), ReadGolden(name)) << name;
  }
}

TEST(GoldenTest, TodaysReaderReadsTheGoldenFiles) {
  io::MemEnv env;
  ASSERT_TRUE(env.CreateDir("/golden").ok());
  for (const std::string& name : kGoldenFiles) {
    testing::WriteWholeFile(env, "/golden/" + name, ReadGolden(name));
  }
  ASSERT_TRUE(env.SyncDir("/golden").ok());
  // Exact sizes: 64-byte segment header, then batches of 72 bytes of
  // framing plus padded entries; the snapshot is 64 + payload + 32.
  EXPECT_EQ(ReadGolden(kGoldenFiles[0]).size(), 64u + (72 + 24 + 16) + (72 + 8 + 24) + (72 + 16));
  EXPECT_EQ(ReadGolden(kGoldenFiles[1]).size(), 64u + kSnapshotPayload.size() + 32);

  Replayed replayed;
  auto result = testing::RecoverInto(env, "/golden", &replayed);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(replayed.snapshot_seen);
  EXPECT_EQ(replayed.snapshot_sequence, 2u);
  EXPECT_EQ(replayed.snapshot_payload, BytesOf(kSnapshotPayload));
  ASSERT_EQ(replayed.batches.size(), 1u);
  EXPECT_EQ(replayed.batches[0], GoldenBatches()[2]);
  EXPECT_EQ(result->next_sequence, 4u);
  EXPECT_EQ(result->batches_verified, 3u);
  EXPECT_EQ(result->bytes_cut, 0u);
  // The chain value pins the checksum algorithm (XXH3-64, seed 0) too.
  EXPECT_EQ(result->last_checksum, kGoldenLastChecksum);

  // Every batch, read straight from the segment bytes.
  const std::vector<std::byte> segment = ReadGolden(kGoldenFiles[0]);
  const SegmentHeader header = LoadRecord<SegmentHeader>(segment.data());
  EXPECT_EQ(header.magic, 0x534A4754u);
  EXPECT_EQ(header.first_sequence, 1u);
  size_t offset = kSegmentHeaderSize;
  for (const TestBatch& expected : GoldenBatches()) {
    auto view = BatchView::Parse(std::span(segment).subspan(offset));
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    EXPECT_EQ(testing::Decode(*view), expected);
    offset += view->bytes().size();
  }
  EXPECT_EQ(offset, segment.size());
}

}  // namespace
}  // namespace tangelo::journal
