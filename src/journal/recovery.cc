#include "journal/recovery.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "base/assert.h"
#include "journal/files.h"
#include "journal/record_format.h"
#include "journal/snapshot.h"

namespace tangelo::journal {
namespace {

// Bytes read per step while looking for the start of a file's trailing zeros.
constexpr size_t kZeroScanBlockBytes = 64 << 10;

// Reads one file at a time through a reusable buffer, in large chunks, and
// hands out pointers into the buffer (zero-copy views for the consumers).
class ChunkedReader {
 public:
  explicit ChunkedReader(size_t chunk_bytes)
      : chunk_bytes_(std::max(chunk_bytes, kBatchHeaderSize)) {}

  void Reset(const io::RandomAccessFile* file, uint64_t file_size) {
    file_ = file;
    file_size_ = file_size;
    begin_ = 0;
    length_ = 0;
    // Small files need small buffers; large ones get the full chunk.
    const size_t wanted = static_cast<size_t>(std::min<uint64_t>(chunk_bytes_, file_size));
    if (capacity_ < wanted) Reallocate(wanted, 0);
  }

  // Returns a pointer to bytes [offset, offset + count) of the file.
  // Precondition: offset + count <= file size.
  base::Result<const std::byte*> Bytes(uint64_t offset, size_t count) {
    TG_ASSERT(offset + count <= file_size_);
    if (offset >= begin_ && offset + count <= begin_ + length_) {
      return buffer_.get() + (offset - begin_);
    }
    // Keep what is already buffered from `offset` (a batch split by the end
    // of the previous chunk): at most one batch is moved.
    size_t kept = 0;
    if (offset >= begin_ && offset < begin_ + length_) {
      kept = static_cast<size_t>(begin_ + length_ - offset);
      std::memmove(buffer_.get(), buffer_.get() + (offset - begin_), kept);
    }
    if (count > capacity_) Reallocate(count, kept);
    begin_ = offset;
    length_ = kept;
    const size_t wanted =
        static_cast<size_t>(std::min<uint64_t>(capacity_ - kept, file_size_ - (offset + kept)));
    auto got = file_->ReadAt(offset + kept, buffer_.get() + kept, wanted);
    if (!got.ok()) return got.status();
    if (*got != wanted) return base::IoError("short read in journal recovery");
    length_ += wanted;
    return buffer_.get();
  }

 private:
  void Reallocate(size_t capacity, size_t kept) {
    auto larger = std::make_unique_for_overwrite<std::byte[]>(capacity);
    if (kept > 0) std::memcpy(larger.get(), buffer_.get(), kept);
    buffer_ = std::move(larger);
    capacity_ = capacity;
  }

  size_t chunk_bytes_;
  std::unique_ptr<std::byte[]> buffer_;
  size_t capacity_ = 0;
  const io::RandomAccessFile* file_ = nullptr;
  uint64_t file_size_ = 0;
  uint64_t begin_ = 0;   // File offset of buffer_[0].
  size_t length_ = 0;    // Valid bytes in buffer_.
};

// Offset where the file's trailing run of zero bytes starts (the file size
// when the last byte is not zero). Scans backwards from the end.
base::Result<uint64_t> TrailingZeroStart(const io::RandomAccessFile& file, uint64_t file_size) {
  std::vector<std::byte> block(kZeroScanBlockBytes);
  uint64_t end = file_size;
  while (end > 0) {
    const size_t count = static_cast<size_t>(std::min<uint64_t>(end, kZeroScanBlockBytes));
    const uint64_t begin = end - count;
    auto got = file.ReadAt(begin, block.data(), count);
    if (!got.ok()) return got.status();
    if (*got != count) return base::IoError("short read in journal recovery");
    for (size_t index = count; index > 0; --index) {
      if (block[index - 1] != std::byte{0}) return begin + index;
    }
    end = begin;
  }
  return uint64_t{0};
}

// Everything one recovery run carries from segment to segment.
class Recovery {
 public:
  Recovery(io::Env& env, const BatchConsumer& on_batch, RecoveryOptions options,
           RecoveryResult* result)
      : env_(env), on_batch_(on_batch), reader_(options.read_chunk_bytes), result_(result) {}

  void StartAfter(uint64_t snapshot_sequence, uint64_t snapshot_checksum) {
    snapshot_sequence_ = snapshot_sequence;
    snapshot_checksum_ = snapshot_checksum;
    next_sequence_ = snapshot_sequence + 1;
    last_checksum_ = snapshot_checksum;
  }

  // Verifies (and replays, after the snapshot) one segment. `first` marks
  // the segment replay starts in; `newest` the last one in the directory.
  base::Status ReplaySegment(const SegmentFile& segment, bool first, bool newest);

  uint64_t next_sequence() const { return next_sequence_; }
  uint64_t last_checksum() const { return last_checksum_; }

 private:
  base::Status CheckSegmentHeader(const SegmentFile& segment, bool first, bool newest,
                                  bool* torn);
  // Decides torn write or corruption for a check that failed at `offset`
  // of the current segment; cuts a torn tail. `header` is the batch header
  // when it was valid.
  base::Status HandleDefect(uint64_t offset, const std::string& defect,
                            const BatchHeader* header);
  base::Result<bool> IsTornAt(uint64_t offset, const BatchHeader* header);
  base::Status CutAt(uint64_t offset);
  base::Status Replay(const BatchView& batch, uint64_t offset);

  io::Env& env_;
  const BatchConsumer& on_batch_;
  ChunkedReader reader_;
  RecoveryResult* result_;
  uint64_t snapshot_sequence_ = 0;
  uint64_t snapshot_checksum_ = kChainStartChecksum;
  uint64_t next_sequence_ = kFirstSequence;
  uint64_t last_checksum_ = kChainStartChecksum;

  // The segment being read.
  const SegmentFile* segment_ = nullptr;
  bool newest_ = false;
  std::unique_ptr<io::RandomAccessFile> file_;
  uint64_t file_size_ = 0;
};

base::Result<bool> Recovery::IsTornAt(uint64_t offset, const BatchHeader* header) {
  // Only the newest segment can hold a write that was never acknowledged.
  if (!newest_) return false;
  if (file_size_ - offset < kBatchHeaderSize) return true;  // Partial header.
  auto zero_start = TrailingZeroStart(*file_, file_size_);
  if (!zero_start.ok()) return zero_start.status();
  // Zero from inside the header to the end: the header was never complete.
  if (*zero_start <= offset + kBatchHeaderSize) return true;
  if (header == nullptr) return false;  // A bad header followed by data.
  const uint64_t declared_end = offset + BatchSize(*header);
  if (declared_end > file_size_) return true;  // Runs past the end.
  // The never-zero trailer is zero, and so is everything after it.
  return *zero_start < declared_end;
}

base::Status Recovery::CutAt(uint64_t offset) {
  TG_RETURN_IF_ERROR(env_.Truncate(segment_->path, offset));
  const uint64_t cut = file_size_ - offset;
  result_->bytes_cut += cut;
  result_->last_segment_bytes = offset;
  result_->warnings.push_back("cut a torn tail of " + std::to_string(cut) + " bytes from " +
                              segment_->path + " at byte " + std::to_string(offset));
  return base::Status::Ok();
}

base::Status Recovery::HandleDefect(uint64_t offset, const std::string& defect,
                                    const BatchHeader* header) {
  auto torn = IsTornAt(offset, header);
  if (!torn.ok()) return torn.status();
  if (*torn) return CutAt(offset);
  return DataLossAt("journal segment", segment_->path, offset,
                    defect + (newest_ ? "" : " (in a segment that is not the newest)"));
}

base::Status Recovery::CheckSegmentHeader(const SegmentFile& segment, bool first, bool newest,
                                          bool* torn) {
  *torn = false;
  SegmentHeader header{};
  bool valid = false;
  if (file_size_ >= kSegmentHeaderSize) {
    auto bytes = reader_.Bytes(0, kSegmentHeaderSize);
    if (!bytes.ok()) return bytes.status();
    header = LoadRecord<SegmentHeader>(*bytes);
    valid = ComputeChecksum(header) == header.header_checksum && header.magic == kSegmentMagic &&
            header.header_size == kSegmentHeaderSize &&
            std::all_of(std::begin(header.reserved), std::end(header.reserved),
                        [](uint64_t word) { return word == 0; });
  }
  if (!valid) {
    // A torn segment header (crash between creating the file and syncing
    // its header) is possible only in the newest segment: it has no batches.
    bool header_torn = false;
    if (newest) {
      if (file_size_ < kSegmentHeaderSize) {
        header_torn = true;
      } else {
        auto zero_start = TrailingZeroStart(*file_, file_size_);
        if (!zero_start.ok()) return zero_start.status();
        header_torn = *zero_start <= kSegmentHeaderSize;
      }
    }
    if (!header_torn) return DataLossAt("journal segment", segment.path, 0, "bad segment header");
    // Its name must still be the next sequence, or batches are missing.
    const uint64_t expected = first ? snapshot_sequence_ + 1 : next_sequence_;
    if (segment.first_sequence != expected) {
      return DataLossAt("journal segment", segment.path, 0,
                        "torn segment header where sequence " + std::to_string(expected) +
                            " was expected");
    }
    *torn = true;
    return CutAt(0);
  }
  if (header.format_version != kFormatVersion) {
    return DataLossAt("journal segment", segment.path, 4,
                      "unknown format version " + std::to_string(header.format_version));
  }
  if (header.first_sequence != segment.first_sequence || header.first_sequence < kFirstSequence) {
    return DataLossAt("journal segment", segment.path, offsetof(SegmentHeader, first_sequence),
                      "header first sequence " + std::to_string(header.first_sequence) +
                          " does not match the file name");
  }
  if (first) {
    // Replay starts here: batches before the snapshot are verified from the
    // segment's own chain value; batch P is then compared to the snapshot.
    if (header.first_sequence == snapshot_sequence_ + 1 &&
        header.prev_checksum != snapshot_checksum_) {
      return DataLossAt("journal segment", segment.path, offsetof(SegmentHeader, prev_checksum),
                        "segment does not continue the snapshot's hash chain");
    }
    next_sequence_ = header.first_sequence;
    last_checksum_ = header.prev_checksum;
  } else if (header.first_sequence != next_sequence_ || header.prev_checksum != last_checksum_) {
    return DataLossAt("journal segment", segment.path, offsetof(SegmentHeader, first_sequence),
                      "segment starts at sequence " + std::to_string(header.first_sequence) +
                          " but the previous segment ends before " +
                          std::to_string(next_sequence_) + " (or its hash chain differs)");
  }
  return base::Status::Ok();
}

base::Status Recovery::Replay(const BatchView& batch, uint64_t offset) {
  if (batch.sequence() != next_sequence_) {
    return DataLossAt("journal segment", segment_->path, offset + offsetof(BatchHeader, sequence),
                      "batch sequence " + std::to_string(batch.sequence()) + " where " +
                          std::to_string(next_sequence_) + " was expected");
  }
  if (batch.prev_checksum() != last_checksum_) {
    return DataLossAt("journal segment", segment_->path,
                      offset + offsetof(BatchHeader, prev_checksum),
                      "hash chain broken at batch " + std::to_string(batch.sequence()));
  }
  if (batch.sequence() == snapshot_sequence_ && batch.checksum() != snapshot_checksum_) {
    return DataLossAt("journal segment", segment_->path, offset,
                      "batch " + std::to_string(batch.sequence()) +
                          " does not match the snapshot taken after it");
  }
  if (batch.sequence() > snapshot_sequence_) {
    if (on_batch_) TG_RETURN_IF_ERROR(on_batch_(batch));
    ++result_->batches_replayed;
  }
  ++result_->batches_verified;
  ++next_sequence_;
  last_checksum_ = batch.checksum();
  return base::Status::Ok();
}

base::Status Recovery::ReplaySegment(const SegmentFile& segment, bool first, bool newest) {
  auto file = env_.NewRandomAccessFile(segment.path);
  if (!file.ok()) return file.status();
  file_ = std::move(*file);
  file_size_ = file_->Size();
  segment_ = &segment;
  newest_ = newest;
  reader_.Reset(file_.get(), file_size_);
  ++result_->segments_read;
  if (newest) {
    result_->last_segment_path = segment.path;
    result_->last_segment_bytes = file_size_;
  }

  bool torn = false;
  TG_RETURN_IF_ERROR(CheckSegmentHeader(segment, first, newest, &torn));
  if (torn) return base::Status::Ok();
  result_->bytes_read += kSegmentHeaderSize;

  uint64_t offset = kSegmentHeaderSize;
  while (offset < file_size_) {
    const uint64_t remaining = file_size_ - offset;
    if (remaining < kBatchHeaderSize) return HandleDefect(offset, "partial batch header", nullptr);
    auto head = reader_.Bytes(offset, kBatchHeaderSize);
    if (!head.ok()) return head.status();
    BatchHeader header;
    BatchDefect defect = CheckBatchHeader(std::span(*head, kBatchHeaderSize), &header);
    if (defect != BatchDefect::kNone) {
      std::string detail = BatchDefectName(defect);
      if (defect == BatchDefect::kUnknownVersion) {
        detail += " " + std::to_string(header.format_version);
      }
      return HandleDefect(offset, detail, nullptr);
    }
    const uint64_t batch_size = BatchSize(header);
    if (batch_size > remaining) {
      return HandleDefect(offset, "batch runs past the end of the file", &header);
    }
    auto bytes = reader_.Bytes(offset, static_cast<size_t>(batch_size));
    if (!bytes.ok()) return bytes.status();
    BatchView view;
    defect = BatchView::Parse(std::span(*bytes, static_cast<size_t>(batch_size)), &view);
    if (defect != BatchDefect::kNone) return HandleDefect(offset, BatchDefectName(defect), &header);
    TG_RETURN_IF_ERROR(Replay(view, offset));
    offset += batch_size;
    result_->bytes_read += batch_size;
  }
  return base::Status::Ok();
}

}  // namespace

base::Result<RecoveryResult> Recover(io::Env& env, const std::string& directory,
                                     const SnapshotConsumer& on_snapshot,
                                     const BatchConsumer& on_batch, RecoveryOptions options) {
  RecoveryResult result;
  if (!env.FileExists(directory)) {
    result.warnings.push_back("journal directory " + directory + " does not exist: empty state");
  }
  auto snapshots = ListSnapshots(env, directory);
  if (!snapshots.ok()) return snapshots.status();
  auto segments = ListSegments(env, directory);
  if (!segments.ok()) return segments.status();

  // 1. The newest snapshot that verifies; damaged ones are skipped, loudly.
  uint64_t snapshot_sequence = 0;
  uint64_t snapshot_checksum = kChainStartChecksum;
  for (auto candidate = snapshots->rbegin(); candidate != snapshots->rend(); ++candidate) {
    auto snapshot = ReadSnapshot(env, candidate->path);
    if (!snapshot.ok()) {
      if (snapshot.status().code() != base::StatusCode::kDataLoss) return snapshot.status();
      result.warnings.push_back("skipped damaged snapshot: " + snapshot.status().message());
      continue;
    }
    if (on_snapshot) TG_RETURN_IF_ERROR(on_snapshot(snapshot->payload(), snapshot->sequence));
    snapshot_sequence = snapshot->sequence;
    snapshot_checksum = snapshot->last_batch_checksum;
    result.snapshot_loaded = true;
    result.snapshot_sequence = snapshot_sequence;
    break;
  }

  Recovery recovery(env, on_batch, options, &result);
  recovery.StartAfter(snapshot_sequence, snapshot_checksum);
  if (!segments->empty()) {
    // 2. Replay starts in the newest segment that begins at or before the
    //    first batch the snapshot does not cover.
    const uint64_t needed = snapshot_sequence + 1;
    size_t start = segments->size();
    for (size_t index = 0; index < segments->size(); ++index) {
      if ((*segments)[index].first_sequence <= needed) start = index;
    }
    if (start == segments->size()) {
      const SegmentFile& oldest = segments->front();
      return DataLossAt("journal segment", oldest.path, 0,
                        "the journal starts at sequence " + std::to_string(oldest.first_sequence) +
                            " but recovery needs sequence " + std::to_string(needed) +
                            (result.snapshot_loaded ? " after the snapshot"
                                                    : " and no valid snapshot covers the gap"));
    }
    // 3-6. Every segment from there, in order.
    for (size_t index = start; index < segments->size(); ++index) {
      TG_RETURN_IF_ERROR(recovery.ReplaySegment((*segments)[index], index == start,
                                                index + 1 == segments->size()));
    }
    if (recovery.next_sequence() <= snapshot_sequence) {
      return DataLossAt("journal segment", result.last_segment_path, result.last_segment_bytes,
                        "the journal ends at sequence " +
                            std::to_string(recovery.next_sequence() - 1) +
                            " before the snapshot's sequence " +
                            std::to_string(snapshot_sequence));
    }
  }
  result.next_sequence = recovery.next_sequence();
  result.last_checksum = recovery.last_checksum();
  return result;
}

}  // namespace tangelo::journal
