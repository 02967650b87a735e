// MeasureDiskLimit: how many durable appends per second the disk under a
// directory sustains, the physical ceiling of group commit.
//
// It appends blocks of block_bytes with an fdatasync after each, for about
// duration_ms, the same pattern as a journal Write+Sync, and reports blocks
// per second and bytes per second. Benchmarks print it beside their results
// so a throughput figure can be read against the disk it ran on (the ledger
// anchors measured 375 x 1 MiB/s on the project's VMs).
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "io/clock.h"
#include "io/env.h"

namespace tangelo::journal {

inline constexpr uint64_t kDiskProbeBlockBytesMin = 512;
inline constexpr uint64_t kDiskProbeBlockBytesMax = 64ULL << 20;
inline constexpr uint64_t kDiskProbeDurationMsMax = 60'000;
// The probe file is rewritten from empty when it reaches this size, so a
// long probe does not fill the disk.
inline constexpr uint64_t kDiskProbeFileBytesMax = 256ULL << 20;
// Bounds the loop even if the clock does not move (a ManualClock).
inline constexpr uint64_t kDiskProbeBlocksMax = 1'000'000;
inline constexpr char kDiskProbeFileName[] = "disk-probe.tmp";

struct DiskLimit {
  uint64_t block_bytes = 0;
  uint64_t blocks = 0;  // Appends, each followed by a successful fdatasync.
  uint64_t elapsed_ns = 0;
  uint64_t blocks_per_second = 0;
  uint64_t bytes_per_second = 0;
  uint64_t sync_latency_max_ns = 0;  // Slowest append+fdatasync.
};

// Writes and then removes `directory`/disk-probe.tmp (the directory is
// created if missing). Errors: InvalidArgument when block_bytes or
// duration_ms is outside its limits; I/O errors.
base::Result<DiskLimit> MeasureDiskLimit(io::Env& env, const std::string& directory,
                                         uint64_t block_bytes = 1ULL << 20,
                                         uint64_t duration_ms = 1000,
                                         io::Clock& clock = io::SystemClock::Instance());

}  // namespace tangelo::journal
