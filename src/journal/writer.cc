#include "journal/writer.h"

#include <cstring>

#include "base/assert.h"
#include "journal/files.h"
#include "journal/record_format.h"

namespace tangelo::journal {

Writer::Writer(io::Env& env, std::string directory, uint64_t next_sequence,
               uint64_t prev_checksum, WriterOptions options)
    : env_(env),
      directory_(std::move(directory)),
      options_(options),
      next_sequence_(next_sequence),
      last_checksum_(prev_checksum) {
  if (options_.staging_bytes > 0) {
    staging_ = std::make_unique_for_overwrite<std::byte[]>(options_.staging_bytes);
  }
}

Writer::~Writer() {
  // Closing without a sync is fine: unsynced batches were never acknowledged.
  if (segment_ != nullptr) segment_->Close().IgnoreError();
}

base::Result<std::unique_ptr<Writer>> Writer::Open(io::Env& env, std::string directory,
                                                   uint64_t next_sequence,
                                                   uint64_t prev_checksum,
                                                   WriterOptions options) {
  TG_ASSERT(next_sequence >= kFirstSequence);
  TG_ASSERT(options.segment_size_max > kSegmentHeaderSize);
  TG_RETURN_IF_ERROR(env.CreateDir(directory));
  auto segments = ListSegments(env, directory);
  if (!segments.ok()) return segments.status();
  for (const SegmentFile& segment : *segments) {
    if (segment.first_sequence > next_sequence) {
      return base::FailedPrecondition("journal segment " + segment.path +
                                      " starts after the next sequence " +
                                      std::to_string(next_sequence) + ": recover first");
    }
    if (segment.first_sequence == next_sequence) {
      auto size = env.FileSize(segment.path);
      if (!size.ok()) return size.status();
      // Only a segment without batches (left by a crash right after a
      // rotation, or cut by recovery) may be replaced.
      if (*size > kSegmentHeaderSize) {
        return base::FailedPrecondition("journal segment " + segment.path +
                                        " already holds batches: recover first");
      }
    }
  }
  std::unique_ptr<Writer> writer(
      new Writer(env, std::move(directory), next_sequence, prev_checksum, options));
  TG_RETURN_IF_ERROR(writer->StartSegment());
  return writer;
}

base::Status Writer::StartSegment() {
  segment_path_ = io::JoinPath(directory_, SegmentFileName(next_sequence_));
  auto file = env_.NewWritableFile(segment_path_);
  if (!file.ok()) return Fail(file.status());
  segment_ = std::move(*file);
  SegmentHeader header{};
  header.magic = kSegmentMagic;
  header.format_version = kFormatVersion;
  header.header_size = static_cast<uint16_t>(kSegmentHeaderSize);
  header.first_sequence = next_sequence_;
  header.prev_checksum = last_checksum_;
  header.header_checksum = ComputeChecksum(header);
  // Header durable before the name: a durable name then always has a whole
  // header unless the crash came in between, which recovery treats as torn.
  TG_RETURN_IF_ERROR(Fail(segment_->Append(StoreRecord(header))));
  TG_RETURN_IF_ERROR(Fail(segment_->Sync()));
  TG_RETURN_IF_ERROR(Fail(env_.SyncDir(directory_)));
  segment_size_bytes_ = kSegmentHeaderSize;
  ++stats_.segments_created;
  return base::Status::Ok();
}

base::Status Writer::Rotate() {
  // The old segment must be complete on disk before a newer one exists, so
  // that damage in a non-newest segment can only be corruption.
  TG_RETURN_IF_ERROR(Fail(segment_->Sync()));
  TG_RETURN_IF_ERROR(Fail(segment_->Close()));
  segment_.reset();
  return StartSegment();
}

base::Status Writer::Fail(base::Status status) {
  if (!status.ok()) failed_ = true;
  return status;
}

base::Status Writer::Append(std::span<const std::byte> bytes) {
  TG_RETURN_IF_ERROR(Fail(segment_->Append(bytes)));
  ++stats_.write_calls;
  stats_.bytes_written += bytes.size();
  segment_size_bytes_ += bytes.size();
  return base::Status::Ok();
}

base::Status Writer::Write(std::span<const std::span<const std::byte>> batches) {
  if (failed_) return base::FailedPrecondition("journal writer failed earlier; recover first");
  if (batches.empty()) return base::Status::Ok();

  // Check each batch before it reaches the disk (the pair of the checks
  // recovery makes after reading it back): a wrong sequence or chain here is
  // an engine bug, and writing it would make the journal unrecoverable.
  uint64_t expected_sequence = next_sequence_;
  uint64_t expected_prev = last_checksum_;
  uint64_t total_bytes = 0;
  bool contiguous = true;
  for (size_t index = 0; index < batches.size(); ++index) {
    const std::span<const std::byte> batch = batches[index];
    TG_ASSERT_MSG(batch.size() >= kBatchOverheadSize, "not a finished batch");
    const BatchHeader header = LoadRecord<BatchHeader>(batch.data());
    TG_ASSERT_MSG(header.magic == kBatchMagic && ComputeChecksum(header) == header.header_checksum,
                  "not a finished batch");
    TG_ASSERT_MSG(BatchSize(header) == batch.size(), "batch span does not match its header");
    TG_ASSERT_MSG(header.sequence == expected_sequence, "batch sequence out of order");
    TG_ASSERT_MSG(header.prev_checksum == expected_prev, "batch breaks the hash chain");
    expected_sequence = header.sequence + 1;
    expected_prev = header.header_checksum;
    total_bytes += batch.size();
    if (index > 0 && batches[index - 1].data() + batches[index - 1].size() != batch.data()) {
      contiguous = false;
    }
  }

  if (segment_size_bytes_ > kSegmentHeaderSize &&
      segment_size_bytes_ + total_bytes > options_.segment_size_max) {
    TG_RETURN_IF_ERROR(Rotate());
  }

  if (contiguous) {
    TG_RETURN_IF_ERROR(Append(std::span<const std::byte>(batches.front().data(), total_bytes)));
  } else if (total_bytes <= options_.staging_bytes) {
    size_t offset = 0;
    for (const std::span<const std::byte> batch : batches) {
      std::memcpy(staging_.get() + offset, batch.data(), batch.size());
      offset += batch.size();
    }
    stats_.staged_bytes += total_bytes;
    TG_RETURN_IF_ERROR(Append(std::span<const std::byte>(staging_.get(), total_bytes)));
  } else {
    // Larger than the staging buffer: still correct, one write per batch.
    for (const std::span<const std::byte> batch : batches) TG_RETURN_IF_ERROR(Append(batch));
  }
  stats_.batches_written += batches.size();
  next_sequence_ = expected_sequence;
  last_checksum_ = expected_prev;
  return base::Status::Ok();
}

base::Status Writer::Sync() {
  if (failed_) return base::FailedPrecondition("journal writer failed earlier; recover first");
  TG_RETURN_IF_ERROR(Fail(segment_->Sync()));
  ++stats_.syncs;
  return base::Status::Ok();
}

}  // namespace tangelo::journal
