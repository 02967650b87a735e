// Snapshots: the state after a given batch, so recovery replays only the
// journal after it, and old segments can be deleted.
//
// The payload is opaque (the ledger's serialization) and is streamed: the
// producer pushes chunks into a sink while the file is written, so a large
// state is never held twice in memory. Writing is atomic (tmp file, sync,
// rename, directory sync) and is followed by retention: the newest two
// snapshots are kept, and segments wholly covered by the older of the two are
// deleted, so a damaged newest snapshot still leaves a way back. Format:
// docs/formats/journal.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "io/env.h"
#include "journal/record_format.h"

namespace tangelo::journal {

// Largest payload a snapshot may have: recovery holds it in memory whole.
inline constexpr uint64_t kSnapshotPayloadSizeMax = 64ULL << 30;
// Small chunks from the producer are gathered into writes of this size.
inline constexpr size_t kSnapshotWriteBufferBytes = 1 << 20;
// Snapshots kept after a new one is written (the newest and one fallback).
inline constexpr size_t kSnapshotsKept = 2;

// Receives the payload, chunk by chunk, in order. Chunks of any size, even
// empty; returns the write error, which the producer must pass back.
using SnapshotSink = std::function<base::Status(std::span<const std::byte> chunk)>;
// Streams the whole payload into the sink; returns its first error.
using SnapshotProducer = std::function<base::Status(const SnapshotSink& sink)>;

// What one WriteSnapshot call did.
struct SnapshotWriteStats {
  uint64_t payload_bytes = 0;
  uint64_t snapshots_deleted = 0;
  uint64_t segments_deleted = 0;
};

// Writes snapshot-<sequence>.snap in `directory` (created if missing) for
// the state after batch `sequence`, whose checksum is `last_batch_checksum`,
// then applies retention. May run on another thread than the journal Writer
// of the same directory (it never touches the newest segment), but not
// concurrently with another WriteSnapshot or with Recover.
// Errors: the producer's error (nothing is published); I/O errors;
// ResourceExhausted past kSnapshotPayloadSizeMax. An error during retention
// is returned after the snapshot itself is already durable.
base::Status WriteSnapshot(io::Env& env, const std::string& directory, uint64_t sequence,
                           uint64_t last_batch_checksum, const SnapshotProducer& producer,
                           SnapshotWriteStats* stats = nullptr);

// A snapshot read back and verified.
struct Snapshot {
  uint64_t sequence = 0;
  uint64_t last_batch_checksum = 0;
  uint64_t payload_size = 0;
  std::vector<std::byte> file;  // The whole file: header, payload, footer.

  std::span<const std::byte> payload() const {
    return std::span<const std::byte>(file).subspan(kSnapshotHeaderSize, payload_size);
  }
};

// Reads and fully verifies a snapshot file (header, footer, size, payload
// checksum, and that the name matches the header's sequence) before the
// payload is handed out. Errors: DataLoss naming the file and offset for any
// mismatch; NotFound; I/O errors.
base::Result<Snapshot> ReadSnapshot(io::Env& env, const std::string& path);

}  // namespace tangelo::journal
