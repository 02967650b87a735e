// Recovery: rebuilds the state from the newest valid snapshot plus the
// journal after it, cutting a torn tail and refusing corruption.
//
// The rules that decide "torn write, cut it" against "corruption, stop" are
// in docs/formats/journal.md, section Recovery; this header only restates
// the contract. Reading is built for cold starts: segments are read in large
// chunks, checksummed with XXH3 and handed out as zero-copy views, so
// replaying a large journal runs near memory bandwidth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "io/env.h"
#include "journal/batch.h"

namespace tangelo::journal {

// Journal bytes read per read call during recovery. Small enough to stay in
// a core's L2 cache, so the checksum pass reads what the kernel copy just
// wrote instead of going back to memory: on the project VM this halved the
// CPU per byte against 32 MiB chunks (journal_bench BM_Recover). The buffer
// grows to hold a whole batch if one is larger.
inline constexpr size_t kRecoveryReadChunkBytes = 1 << 20;

// Receives the chosen snapshot's payload (valid only during the call) and
// the sequence of the last batch it covers.
using SnapshotConsumer =
    std::function<base::Status(std::span<const std::byte> snapshot_payload, uint64_t sequence)>;
// Receives every batch after the snapshot, in sequence order. The view and
// its entries are valid only during the call.
using BatchConsumer = std::function<base::Status(const BatchView& batch)>;

struct RecoveryOptions {
  size_t read_chunk_bytes = kRecoveryReadChunkBytes;  // Tests use small chunks.
};

struct RecoveryResult {
  // Where the writer continues: pass these to Writer::Open.
  uint64_t next_sequence = kFirstSequence;
  uint64_t last_checksum = kChainStartChecksum;

  bool snapshot_loaded = false;
  uint64_t snapshot_sequence = 0;  // 0 without a snapshot.
  uint64_t batches_replayed = 0;   // Handed to the BatchConsumer.
  uint64_t batches_verified = 0;   // Checked, including those the snapshot covers.
  uint64_t bytes_read = 0;         // Journal bytes read and verified.
  uint64_t segments_read = 0;

  // Torn tail: bytes cut from the newest segment (0 when it ended cleanly).
  uint64_t bytes_cut = 0;
  // The newest segment and its size after any cut ("" without segments).
  std::string last_segment_path;
  uint64_t last_segment_bytes = 0;

  // Things an operator should know that did not stop recovery: a skipped
  // damaged snapshot, a cut torn tail, a missing directory.
  std::vector<std::string> warnings;
};

// Recovers the journal in `directory`: hands the newest valid snapshot to
// `on_snapshot` (not called without one), then every later batch to
// `on_batch`, and cuts a torn tail durably (Env::Truncate). Either consumer
// may be empty (a verifying tool, a benchmark).
// Errors: DataLoss naming the file and byte offset for corruption, a gap, a
// broken chain or missing segments; the first error returned by a consumer
// (recovery stops there); I/O errors. On error the state built so far by the
// consumers must be discarded. Not concurrent with a Writer or WriteSnapshot
// on the same directory.
base::Result<RecoveryResult> Recover(io::Env& env, const std::string& directory,
                                     const SnapshotConsumer& on_snapshot,
                                     const BatchConsumer& on_batch,
                                     RecoveryOptions options = {});

}  // namespace tangelo::journal
