#include "journal/disk_probe.h"

#include <memory>
#include <vector>

#include "base/random.h"

namespace tangelo::journal {

base::Result<DiskLimit> MeasureDiskLimit(io::Env& env, const std::string& directory,
                                         uint64_t block_bytes, uint64_t duration_ms,
                                         io::Clock& clock) {
  if (block_bytes < kDiskProbeBlockBytesMin || block_bytes > kDiskProbeBlockBytesMax) {
    return base::InvalidArgument("disk probe block_bytes out of range: " +
                                 std::to_string(block_bytes));
  }
  if (duration_ms == 0 || duration_ms > kDiskProbeDurationMsMax) {
    return base::InvalidArgument("disk probe duration_ms out of range: " +
                                 std::to_string(duration_ms));
  }
  TG_RETURN_IF_ERROR(env.CreateDir(directory));
  const std::string path = io::JoinPath(directory, kDiskProbeFileName);

  // Random bytes, so a compressing or deduplicating layer cannot flatter it.
  std::vector<std::byte> block(static_cast<size_t>(block_bytes));
  base::Random random(block_bytes);
  for (std::byte& byte : block) byte = static_cast<std::byte>(random.Next());

  DiskLimit limit;
  limit.block_bytes = block_bytes;
  std::unique_ptr<io::WritableFile> file;
  const uint64_t start_ns = clock.MonotonicNs();
  const uint64_t deadline_ns = start_ns + duration_ms * 1'000'000;
  uint64_t now_ns = start_ns;
  while (now_ns < deadline_ns && limit.blocks < kDiskProbeBlocksMax) {
    if (file == nullptr || file->Size() + block_bytes > kDiskProbeFileBytesMax) {
      if (file != nullptr) TG_RETURN_IF_ERROR(file->Close());
      auto opened = env.NewWritableFile(path);
      if (!opened.ok()) return opened.status();
      file = std::move(*opened);
    }
    TG_RETURN_IF_ERROR(file->Append(block));
    TG_RETURN_IF_ERROR(file->Sync());
    const uint64_t after_ns = clock.MonotonicNs();
    limit.sync_latency_max_ns = std::max(limit.sync_latency_max_ns, after_ns - now_ns);
    now_ns = after_ns;
    ++limit.blocks;
  }
  if (file != nullptr) TG_RETURN_IF_ERROR(file->Close());
  TG_RETURN_IF_ERROR(env.RemoveFile(path));

  limit.elapsed_ns = now_ns - start_ns;
  if (limit.elapsed_ns > 0) {
    const unsigned __int128 blocks_scaled =
        static_cast<unsigned __int128>(limit.blocks) * 1'000'000'000u;
    limit.blocks_per_second = static_cast<uint64_t>(blocks_scaled / limit.elapsed_ns);
    limit.bytes_per_second =
        static_cast<uint64_t>(blocks_scaled * block_bytes / limit.elapsed_ns);
  }
  return limit;
}

}  // namespace tangelo::journal
