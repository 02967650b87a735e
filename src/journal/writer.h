// Writer: appends finished batches to the journal's segment files, with
// group commit.
//
// The engine builds batches (BatchBuilder), hands one or several of them to
// Write, which issues one write call, then calls Sync, which issues one
// fdatasync: several batches share one fsync (group commit). A batch is
// durable, and its requests may be acknowledged, only after a Sync that
// follows its Write returned ok. A failed Write or Sync leaves the file in an
// unknown state: the writer refuses further calls and the caller must stop
// the process (the engine TG_FATALs) and recover from disk.
//
// Segments rotate at WriterOptions::segment_size_max: the old segment is
// synced, the new one is created with its header synced and the directory
// synced, so a non-newest segment is always complete (recovery treats damage
// in it as corruption). Format: docs/formats/journal.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/limits.h"
#include "base/status.h"
#include "io/env.h"

namespace tangelo::journal {

// Bytes the writer may copy non-contiguous batches into to still issue one
// write call per group. Two of the largest batches.
inline constexpr size_t kWriterStagingBytes = 2 * base::kJournalBatchSizeMax;

struct WriterOptions {
  // Rotate before a write that would take the segment past this size (unless
  // the segment holds no batch yet). Tests use small values.
  uint64_t segment_size_max = base::kJournalSegmentSizeMax;
  // Staging buffer for groups of batches that are not contiguous in memory,
  // allocated once at Open. 0 disables staging (one write per batch then).
  size_t staging_bytes = kWriterStagingBytes;
};

// Counters since Open, for metrics and tests.
struct WriterStats {
  uint64_t batches_written = 0;
  uint64_t bytes_written = 0;     // Batch bytes, excluding segment headers.
  uint64_t write_calls = 0;       // WritableFile::Append calls for batches.
  uint64_t syncs = 0;             // Successful fdatasyncs requested by Sync.
  uint64_t segments_created = 0;  // Including the one created by Open.
  uint64_t staged_bytes = 0;      // Bytes copied to gather non-contiguous groups.
};

// Owns the open segment file. Not thread safe: one engine thread writes.
class Writer {
 public:
  // Opens the journal in `directory` (created if missing) to continue with
  // batch `next_sequence`, whose prev_checksum must be `prev_checksum`. Use
  // the values from Recover (RecoveryResult::next_sequence, last_checksum);
  // for a new journal, kFirstSequence and kChainStartChecksum. Always starts
  // a new segment named by next_sequence.
  // Errors: FailedPrecondition when a segment holding batches at or after
  // next_sequence exists (the directory was not recovered, or the values do
  // not come from its recovery); I/O errors from the Env.
  static base::Result<std::unique_ptr<Writer>> Open(io::Env& env, std::string directory,
                                                    uint64_t next_sequence,
                                                    uint64_t prev_checksum,
                                                    WriterOptions options = {});
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Appends the finished batches, in order, with one write call when they
  // are contiguous in memory (built back to back in one buffer: no copy) or
  // fit the staging buffer (one copy). Preconditions (asserted: the batches
  // come from BatchBuilder): each is a whole batch with a valid header, the
  // first has sequence next_sequence() and prev_checksum last_checksum(),
  // and each continues the one before. May rotate to a new segment first.
  // Errors: I/O errors, after which the writer is failed.
  base::Status Write(std::span<const std::span<const std::byte>> batches);
  base::Status Write(std::span<const std::byte> batch) {
    return Write(std::span<const std::span<const std::byte>>(&batch, 1));
  }

  // fdatasync of the current segment: every batch written so far is
  // durable when this returns ok. Errors: the fsync error, after which the
  // writer is failed (never retry an fsync).
  base::Status Sync();

  // The sequence and prev_checksum the next batch must carry.
  uint64_t next_sequence() const { return next_sequence_; }
  uint64_t last_checksum() const { return last_checksum_; }
  const WriterStats& stats() const { return stats_; }
  const std::string& segment_path() const { return segment_path_; }
  uint64_t segment_size_bytes() const { return segment_size_bytes_; }

 private:
  Writer(io::Env& env, std::string directory, uint64_t next_sequence, uint64_t prev_checksum,
         WriterOptions options);
  // Creates journal-<next_sequence_>.log with its header, durably.
  base::Status StartSegment();
  base::Status Rotate();
  base::Status Append(std::span<const std::byte> bytes);
  base::Status Fail(base::Status status);

  io::Env& env_;
  std::string directory_;
  WriterOptions options_;
  std::unique_ptr<io::WritableFile> segment_;
  std::string segment_path_;
  uint64_t segment_size_bytes_ = 0;
  uint64_t next_sequence_;
  uint64_t last_checksum_;
  std::unique_ptr<std::byte[]> staging_;
  bool failed_ = false;
  WriterStats stats_;
};

}  // namespace tangelo::journal
