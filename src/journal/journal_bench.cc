// Journal micro-benchmarks on the real disk (a temporary directory under
// $TMPDIR, default /tmp):
// - BM_WriteSync: one batch per Write+Sync (one write, one fdatasync), the
//   engine's group commit at its largest; reports batches/s and bytes/s.
// - BM_Recover/<read chunk bytes>: replay of a page-cached 256 MiB journal
//   through Recover with a consumer that walks every entry; reports the
//   read rate (bytes/s).
// - BM_DiskLimit: MeasureDiskLimit's write+fdatasync ceiling for 1 MiB
//   blocks, to read the two above against.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "base/assert.h"
#include "base/random.h"
#include "io/env.h"
#include "journal/batch.h"
#include "journal/disk_probe.h"
#include "journal/recovery.h"
#include "journal/writer.h"

namespace tangelo::journal {
namespace {

// A temporary directory removed at exit.
class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    const char* root = std::getenv("TMPDIR");
    std::string pattern = std::string(root != nullptr ? root : "/tmp") + "/tangelo-bench-XXXXXX";
    TG_ASSERT(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TemporaryDirectory() {
    const int status = std::system(("rm -rf '" + path_ + "'").c_str());
    (void)status;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Fills a builder with entries of the largest size up to `batch_bytes`.
FinishedBatch BuildBatch(BatchBuilder& builder, uint64_t sequence, uint64_t prev_checksum,
                         size_t batch_bytes, const std::vector<std::byte>& payload) {
  builder.Reset(sequence, sequence * 1000, prev_checksum);
  while (builder.size_bytes() + PaddedEntrySize(payload.size()) <= batch_bytes &&
         builder.Add(static_cast<uint16_t>(1 + sequence % 7), payload)) {
  }
  return builder.Finish();
}

std::vector<std::byte> RandomPayload(size_t size) {
  base::Random random(size);
  std::vector<std::byte> payload(size);
  for (std::byte& byte : payload) byte = static_cast<std::byte>(random.Next());
  return payload;
}

void BM_WriteSync(benchmark::State& state) {
  const size_t batch_bytes = static_cast<size_t>(state.range(0));
  TemporaryDirectory directory;
  auto writer = Writer::Open(io::Env::Posix(), directory.path(), kFirstSequence,
                             kChainStartChecksum);
  TG_ASSERT(writer.ok());
  std::vector<std::byte> buffer(batch_bytes);
  BatchBuilder builder(buffer);
  const std::vector<std::byte> payload = RandomPayload(base::kJournalEntrySizeMax);
  uint64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const FinishedBatch batch = BuildBatch(builder, (*writer)->next_sequence(),
                                           (*writer)->last_checksum(), batch_bytes, payload);
    state.ResumeTiming();
    TG_ASSERT((*writer)->Write(batch.bytes).ok());
    TG_ASSERT((*writer)->Sync().ok());
    bytes += batch.bytes.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));  // Batches.
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["segments"] = static_cast<double>((*writer)->stats().segments_created);
}
BENCHMARK(BM_WriteSync)->Arg(4 << 10)->Arg(512 << 10)->Unit(benchmark::kMicrosecond)->UseRealTime();

// A journal of `journal_bytes` in 512 KiB batches, written once per process.
class RecoveryFixture {
 public:
  static RecoveryFixture& Instance() {
    static RecoveryFixture fixture;
    return fixture;
  }
  const std::string& path() const { return directory_.path(); }
  uint64_t bytes() const { return bytes_; }

 private:
  static constexpr uint64_t kJournalBytes = 256ULL << 20;
  static constexpr size_t kBatchBytes = 512 << 10;

  RecoveryFixture() {
    auto writer = Writer::Open(io::Env::Posix(), directory_.path(), kFirstSequence,
                               kChainStartChecksum);
    TG_ASSERT(writer.ok());
    std::vector<std::byte> buffer(kBatchBytes);
    BatchBuilder builder(buffer);
    const std::vector<std::byte> payload = RandomPayload(base::kJournalEntrySizeMax);
    while (bytes_ < kJournalBytes) {
      const FinishedBatch batch = BuildBatch(builder, (*writer)->next_sequence(),
                                             (*writer)->last_checksum(), kBatchBytes, payload);
      TG_ASSERT((*writer)->Write(batch.bytes).ok());
      bytes_ += batch.bytes.size();
    }
    TG_ASSERT((*writer)->Sync().ok());
  }

  TemporaryDirectory directory_;
  uint64_t bytes_ = 0;
};

void BM_Recover(benchmark::State& state) {
  RecoveryFixture& fixture = RecoveryFixture::Instance();
  RecoveryOptions options;
  options.read_chunk_bytes = static_cast<size_t>(state.range(0));
  uint64_t bytes = 0;
  for (auto _ : state) {
    uint64_t payload_bytes = 0;
    auto result = Recover(
        io::Env::Posix(), fixture.path(), nullptr,
        [&payload_bytes](const BatchView& batch) {
          for (const EntryView entry : batch) payload_bytes += entry.payload.size();
          return base::Status::Ok();
        },
        options);
    TG_ASSERT(result.ok());
    TG_ASSERT(result->bytes_cut == 0);
    benchmark::DoNotOptimize(payload_bytes);
    bytes += result->bytes_read;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["journal_MiB"] = static_cast<double>(fixture.bytes()) / (1 << 20);
}
BENCHMARK(BM_Recover)
    ->Arg(kRecoveryReadChunkBytes)
    ->Arg(32 << 20)  // For comparison: chunks larger than the L2 cache.
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_DiskLimit(benchmark::State& state) {
  TemporaryDirectory directory;
  DiskLimit limit;
  for (auto _ : state) {
    auto measured = MeasureDiskLimit(io::Env::Posix(), directory.path(), 1 << 20, 1000);
    TG_ASSERT(measured.ok());
    limit = *measured;
  }
  state.counters["blocks_per_s"] = static_cast<double>(limit.blocks_per_second);
  state.counters["MB_per_s"] = static_cast<double>(limit.bytes_per_second) / 1e6;
  state.counters["sync_max_ms"] = static_cast<double>(limit.sync_latency_max_ns) / 1e6;
}
BENCHMARK(BM_DiskLimit)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace tangelo::journal
