// Listing the journal's files in a directory (internal to the journal).
//
// Segments and snapshots are found by name (record_format.h); anything else
// in the directory is ignored. A missing directory lists as empty: a journal
// that was never written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "io/env.h"

namespace tangelo::journal {

struct SegmentFile {
  uint64_t first_sequence = 0;  // From the name.
  std::string path;
};

struct SnapshotFile {
  uint64_t sequence = 0;  // From the name.
  std::string path;
};

// Segments sorted by first sequence, oldest first.
base::Result<std::vector<SegmentFile>> ListSegments(io::Env& env, const std::string& directory);
// Complete snapshots (not .tmp) sorted by sequence, oldest first.
base::Result<std::vector<SnapshotFile>> ListSnapshots(io::Env& env, const std::string& directory);
// Names (not paths) of leftover snapshot-*.snap.tmp files.
base::Result<std::vector<std::string>> ListSnapshotTemporaries(io::Env& env,
                                                               const std::string& directory);

// "<what> <path> at byte <offset>: <detail>", the shape of every DataLoss
// message, so an operator can find the damage with a hex dump.
base::Status DataLossAt(const std::string& what, const std::string& path, uint64_t offset,
                        const std::string& detail);

}  // namespace tangelo::journal
