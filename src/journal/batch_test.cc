#include "journal/batch.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "journal/journal_test_util.h"
#include "journal/record_format.h"

namespace tangelo::journal {
namespace {

using testing::BytesOf;
using testing::Decode;
using testing::Encode;
using testing::MakeTestBatch;
using testing::TestBatch;

// Rewrites a field of a finished batch and fixes its header checksum (and
// body checksum when asked), so the parser sees a well-checksummed batch
// that breaks one other rule.
void Reseal(std::vector<std::byte>& bytes, bool reseal_body) {
  BatchHeader header = LoadRecord<BatchHeader>(bytes.data());
  if (reseal_body) {
    header.body_checksum = base::Checksum(bytes.data() + kBatchHeaderSize, header.body_size);
  }
  header.header_checksum = ComputeChecksum(header);
  std::memcpy(bytes.data(), &header, sizeof(header));
}

TEST(RecordFormatTest, FileNamesRoundTrip) {
  EXPECT_EQ(SegmentFileName(1), "journal-00000000000000000001.log");
  EXPECT_EQ(SnapshotFileName(18446744073709551615ULL), "snapshot-18446744073709551615.snap");
  uint64_t sequence = 0;
  EXPECT_TRUE(ParseSegmentFileName("journal-00000000000000000042.log", &sequence));
  EXPECT_EQ(sequence, 42u);
  EXPECT_TRUE(ParseSnapshotFileName("snapshot-00000000000000000007.snap", &sequence));
  EXPECT_EQ(sequence, 7u);
  EXPECT_FALSE(ParseSegmentFileName("journal-42.log", &sequence));
  EXPECT_FALSE(ParseSegmentFileName("journal-0000000000000000004x.log", &sequence));
  EXPECT_FALSE(ParseSegmentFileName("journal-00000000000000000042.log.tmp", &sequence));
  EXPECT_FALSE(ParseSnapshotFileName("snapshot-00000000000000000007.snap.tmp", &sequence));
  EXPECT_FALSE(ParseSnapshotFileName("snapshot-99999999999999999999.snap", &sequence));  // > u64.
  EXPECT_FALSE(ParseSegmentFileName("", &sequence));
}

TEST(RecordFormatTest, SizesMatchTheDocument) {
  EXPECT_EQ(PaddedEntrySize(0), 8u);
  EXPECT_EQ(PaddedEntrySize(1), 16u);
  EXPECT_EQ(PaddedEntrySize(8), 16u);
  EXPECT_EQ(PaddedEntrySize(9), 24u);
  EXPECT_EQ(BatchSizeFor(0, 0), 72u);
  EXPECT_EQ(BatchSizeFor(2, 5), 72u + 2 * 16u);
}

TEST(BatchTest, RoundTripsEntriesInOrder) {
  const TestBatch batch = MakeTestBatch(5, 20, 300);
  const auto encoded = Encode(batch, /*prev_checksum=*/0xABCDEF);
  BatchView view;
  ASSERT_EQ(BatchView::Parse(encoded.bytes, &view), BatchDefect::kNone);
  EXPECT_EQ(view.sequence(), 5u);
  EXPECT_EQ(view.timestamp_ns(), batch.timestamp_ns);
  EXPECT_EQ(view.prev_checksum(), 0xABCDEFu);
  EXPECT_EQ(view.checksum(), encoded.checksum);
  EXPECT_EQ(view.entry_count(), batch.entries.size());
  EXPECT_EQ(view.bytes().size(), encoded.bytes.size());
  EXPECT_EQ(encoded.bytes.size() % kRecordAlignment, 0u);
  EXPECT_EQ(Decode(view), batch);
  // Views point into the buffer: no copy.
  const EntryView first = *view.begin();
  EXPECT_GE(first.payload.data(), encoded.bytes.data());
  EXPECT_LT(first.payload.data(), encoded.bytes.data() + encoded.bytes.size());
}

TEST(BatchTest, EmptyBatchIsValid) {
  std::vector<std::byte> buffer(kBatchOverheadSize);
  BatchBuilder builder(buffer);
  builder.Reset(1, 99, 0);
  const FinishedBatch finished = builder.Finish();
  EXPECT_EQ(finished.bytes.size(), kBatchOverheadSize);
  auto view = BatchView::Parse(finished.bytes);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->entry_count(), 0u);
  EXPECT_EQ(view->begin(), view->end());
}

TEST(BatchTest, ParsesFromUnalignedMemoryAndIgnoresTrailingBytes) {
  const auto encoded = Encode(MakeTestBatch(3), 0);
  std::vector<std::byte> shifted(encoded.bytes.size() + 20, std::byte{0x5A});
  std::memcpy(shifted.data() + 3, encoded.bytes.data(), encoded.bytes.size());
  auto view = BatchView::Parse(std::span<const std::byte>(shifted).subspan(3));
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(Decode(*view), MakeTestBatch(3));
  EXPECT_EQ(view->bytes().size(), encoded.bytes.size());
}

TEST(BatchTest, FinishTwiceReturnsTheSameBatch) {
  std::vector<std::byte> buffer(4096);
  BatchBuilder builder(buffer);
  builder.Reset(9, 1, 2);
  ASSERT_TRUE(builder.Add(3, BytesOf("abc")));
  const FinishedBatch first = builder.Finish();
  const FinishedBatch second = builder.Finish();
  EXPECT_EQ(first.checksum, second.checksum);
  EXPECT_EQ(first.bytes.size(), second.bytes.size());
}

TEST(BatchTest, ResetReusesTheBufferWithCleanPadding) {
  std::vector<std::byte> buffer(4096, std::byte{0xFF});
  BatchBuilder builder(buffer);
  builder.Reset(1, 1, 0);
  ASSERT_TRUE(builder.Add(1, BytesOf("a")));  // 7 bytes of padding over 0xFF.
  ASSERT_TRUE(BatchView::Parse(builder.Finish().bytes).ok());
  builder.Reset(2, 2, 0);
  ASSERT_TRUE(builder.Add(2, BytesOf("bcdefghijk")));
  auto view = BatchView::Parse(builder.Finish().bytes);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->sequence(), 2u);
  EXPECT_EQ(view->entry_count(), 1u);
}

TEST(BatchTest, AddRefusesAnOversizedEntry) {
  std::vector<std::byte> buffer(base::kJournalBatchSizeMax);
  BatchBuilder builder(buffer);
  builder.Reset(1, 1, 0);
  std::vector<std::byte> largest(base::kJournalEntrySizeMax, std::byte{7});
  EXPECT_TRUE(builder.Add(1, largest));
  largest.push_back(std::byte{7});
  EXPECT_FALSE(builder.Add(1, largest));
  EXPECT_EQ(builder.entry_count(), 1u);
  EXPECT_TRUE(BatchView::Parse(builder.Finish().bytes).ok());
}

TEST(BatchTest, AddRefusesPastTheEntryCountLimit) {
  std::vector<std::byte> buffer(base::kJournalBatchSizeMax);
  BatchBuilder builder(buffer);
  builder.Reset(1, 1, 0);
  for (uint32_t index = 0; index < base::kBatchEntriesMax; ++index) {
    ASSERT_TRUE(builder.Add(1, {})) << index;
  }
  EXPECT_FALSE(builder.Add(1, {}));
  EXPECT_EQ(builder.entry_count(), base::kBatchEntriesMax);
  auto view = BatchView::Parse(builder.Finish().bytes);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->entry_count(), base::kBatchEntriesMax);
}

TEST(BatchTest, AddRefusesPastTheBufferCapacity) {
  // A 200-byte buffer holds 72 bytes of framing and 128 of entries.
  std::vector<std::byte> buffer(200);
  BatchBuilder builder(buffer);
  EXPECT_EQ(builder.capacity_bytes(), 200u);
  builder.Reset(1, 1, 0);
  const std::vector<std::byte> payload(56, std::byte{1});  // 64 bytes padded.
  EXPECT_TRUE(builder.Add(1, payload));
  EXPECT_TRUE(builder.Add(1, payload));
  EXPECT_FALSE(builder.Add(1, {}));
  EXPECT_EQ(builder.size_bytes(), 200u);
  EXPECT_TRUE(BatchView::Parse(builder.Finish().bytes).ok());
}

TEST(BatchTest, CapacityIsBoundedByTheBatchLimit) {
  std::vector<std::byte> buffer(base::kJournalBatchSizeMax + 4096);
  BatchBuilder builder(buffer);
  EXPECT_EQ(builder.capacity_bytes(), base::kJournalBatchSizeMax);
}

TEST(BatchDeathTest, MisuseIsAProgrammerError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::vector<std::byte> small(kBatchOverheadSize - 8);
  EXPECT_DEATH({ BatchBuilder builder(small); }, "smaller than an empty batch");
  std::vector<std::byte> buffer(4096);
  EXPECT_DEATH(
      {
        BatchBuilder builder(buffer);
        builder.Reset(1, 1, 0);
        (void)builder.Add(0, {});
      },
      "kind 0 is reserved");
  EXPECT_DEATH(
      {
        BatchBuilder builder(buffer);
        (void)builder.Add(1, {});
      },
      "outside Reset");
  EXPECT_DEATH(
      {
        BatchBuilder builder(buffer);
        builder.Reset(0, 1, 0);
      },
      "sequence >= kFirstSequence");
}

TEST(BatchParseTest, RejectsTruncation) {
  const auto encoded = Encode(MakeTestBatch(2), 0);
  BatchView view;
  EXPECT_EQ(BatchView::Parse({}, &view), BatchDefect::kTruncatedHeader);
  EXPECT_EQ(BatchView::Parse(std::span(encoded.bytes).first(63), &view),
            BatchDefect::kTruncatedHeader);
  for (size_t size = kBatchHeaderSize; size < encoded.bytes.size(); ++size) {
    EXPECT_EQ(BatchView::Parse(std::span(encoded.bytes).first(size), &view),
              BatchDefect::kTruncatedBatch)
        << size;
  }
  auto status = BatchView::Parse(std::span(encoded.bytes).first(10));
  EXPECT_EQ(status.status().code(), base::StatusCode::kDataLoss);
  EXPECT_NE(status.status().message().find("truncated header"), std::string::npos);
}

TEST(BatchParseTest, EveryBitFlipIsDetected) {
  const auto encoded = Encode(MakeTestBatch(11, 4, 40), 77);
  for (size_t offset = 0; offset < encoded.bytes.size(); ++offset) {
    for (int bit = 0; bit < 8; bit += 3) {
      std::vector<std::byte> damaged = encoded.bytes;
      damaged[offset] ^= std::byte{static_cast<unsigned char>(1u << bit)};
      BatchView view;
      const BatchDefect defect = BatchView::Parse(damaged, &view);
      EXPECT_NE(defect, BatchDefect::kNone) << "offset " << offset << " bit " << bit;
      if (offset < kBatchHeaderSize) {
        // The header checksum is checked before any field is trusted.
        EXPECT_EQ(defect, BatchDefect::kBadHeader) << BatchDefectName(defect) << " at " << offset;
      } else if (offset < encoded.bytes.size() - kBatchTrailerSize) {
        EXPECT_EQ(defect, BatchDefect::kBadBody) << offset;
      } else {
        EXPECT_EQ(defect, BatchDefect::kBadTrailer) << offset;
      }
    }
  }
}

TEST(BatchParseTest, RejectsWellChecksummedViolations) {
  const auto encoded = Encode(MakeTestBatch(4, 3, 13), 0);
  BatchView view;
  {
    auto bytes = encoded.bytes;
    bytes[4] = std::byte{2};  // format_version = 2.
    Reseal(bytes, false);
    EXPECT_EQ(BatchView::Parse(bytes, &view), BatchDefect::kUnknownVersion);
  }
  {
    auto bytes = encoded.bytes;
    bytes[0] ^= std::byte{1};  // magic.
    Reseal(bytes, false);
    EXPECT_EQ(BatchView::Parse(bytes, &view), BatchDefect::kBadHeader);
  }
  {
    auto bytes = encoded.bytes;
    bytes[56] = std::byte{1};  // reserved.
    Reseal(bytes, false);
    EXPECT_EQ(BatchView::Parse(bytes, &view), BatchDefect::kBadHeader);
  }
  {
    auto bytes = encoded.bytes;
    bytes[kBatchHeaderSize + 2] = std::byte{1};  // First entry's flags.
    Reseal(bytes, true);
    EXPECT_EQ(BatchView::Parse(bytes, &view), BatchDefect::kBadEntries);
  }
  {
    auto bytes = encoded.bytes;
    bytes[kBatchHeaderSize] = std::byte{0};  // First entry's kind = 0.
    bytes[kBatchHeaderSize + 1] = std::byte{0};
    Reseal(bytes, true);
    EXPECT_EQ(BatchView::Parse(bytes, &view), BatchDefect::kBadEntries);
  }
  {
    auto bytes = encoded.bytes;
    BatchHeader header = LoadRecord<BatchHeader>(bytes.data());
    header.entry_count -= 1;  // Entries no longer fill the body.
    std::memcpy(bytes.data(), &header, sizeof(header));
    Reseal(bytes, false);
    EXPECT_EQ(BatchView::Parse(bytes, &view), BatchDefect::kBadEntries);
  }
  {
    auto bytes = encoded.bytes;
    BatchHeader header = LoadRecord<BatchHeader>(bytes.data());
    header.body_size += 4;  // Not a multiple of 8.
    std::memcpy(bytes.data(), &header, sizeof(header));
    Reseal(bytes, false);
    EXPECT_EQ(BatchView::Parse(bytes, &view), BatchDefect::kBadHeader);
  }
  {
    auto bytes = encoded.bytes;
    BatchHeader header = LoadRecord<BatchHeader>(bytes.data());
    header.entry_count = base::kBatchEntriesMax + 1;
    std::memcpy(bytes.data(), &header, sizeof(header));
    Reseal(bytes, false);
    EXPECT_EQ(BatchView::Parse(bytes, &view), BatchDefect::kBadHeader);
  }
  {
    auto bytes = encoded.bytes;
    BatchHeader header = LoadRecord<BatchHeader>(bytes.data());
    header.body_size = static_cast<uint32_t>(base::kJournalBatchSizeMax);  // Past the limit.
    std::memcpy(bytes.data(), &header, sizeof(header));
    Reseal(bytes, false);
    EXPECT_EQ(BatchView::Parse(bytes, &view), BatchDefect::kBadHeader);
  }
}

TEST(BatchParseTest, RejectsNonZeroPadding) {
  std::vector<std::byte> buffer(4096);
  BatchBuilder builder(buffer);
  builder.Reset(1, 1, 0);
  ASSERT_TRUE(builder.Add(1, BytesOf("abc")));  // 5 bytes of padding.
  const FinishedBatch finished = builder.Finish();
  std::vector<std::byte> bytes(finished.bytes.begin(), finished.bytes.end());
  bytes[kBatchHeaderSize + kEntryHeaderSize + 4] = std::byte{1};
  Reseal(bytes, true);
  BatchView view;
  EXPECT_EQ(BatchView::Parse(bytes, &view), BatchDefect::kBadEntries);
}

}  // namespace
}  // namespace tangelo::journal
