// tangelo bench ledger / tangelo bench recovery: the durable ledger through
// the real engine (intake queue, batches, journal with group commit and
// fdatasync) on a real directory.
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <thread>

#include "app/bench.h"
#include "app/ledger_workload.h"
#include "engine/engine.h"
#include "engine/ledger_state_machine.h"
#include "io/clock.h"
#include "io/env.h"
#include "journal/disk_probe.h"
#include "telemetry/histogram.h"

namespace tangelo::app {
namespace {

using engine::Engine;
using engine::LedgerStateMachine;

struct LedgerBenchOptions {
  uint64_t transfers = 10'000'000;
  uint32_t batch = 8190;
  uint64_t accounts = 1'000'000;
  double zipf = 1.0;
  std::string data = "build/bench-data/ledger";
  uint64_t snapshot_every_batches = 0;
  bool measure_disk = true;
};

// Counts acknowledgements; runs on the journal thread.
class CountingSink final : public engine::ReplySink {
 public:
  void Complete(uint64_t, const engine::Reply& reply) override {
    if (reply.code != 0) failed_.fetch_add(1, std::memory_order_relaxed);
    acknowledged_.fetch_add(1, std::memory_order_release);
  }
  uint64_t acknowledged() const { return acknowledged_.load(std::memory_order_acquire); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> acknowledged_{0};
  std::atomic<uint64_t> failed_{0};
};

void SubmitBlocking(Engine& engine, uint16_t kind, std::span<const std::byte> payload,
                    engine::ReplySink* sink) {
  // A full queue is back-pressure: back off with a short sleep rather than
  // spinning, so the producer does not steal the engine's core.
  while (engine.TrySubmit(kind, payload, sink, 0) == engine::SubmitResult::kQueueFull) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

void WaitForAcks(const CountingSink& sink, uint64_t count) {
  while (sink.acknowledged() < count) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

ledger::LedgerCapacities CapacitiesFor(const LedgerBenchOptions& options,
                                       const LedgerWorkloadOptions& workload) {
  const uint64_t accounts = workload.card_accounts + workload.merchant_accounts + 1;
  const uint64_t transfers = options.transfers + workload.card_accounts + 1024;
  return ledger::LedgerCapacities{static_cast<uint32_t>(accounts),
                                  static_cast<uint32_t>(transfers)};
}

// Creates the accounts and funds the cards, 7 records per request.
void Setup(Engine& engine, const LedgerWorkload& workload, const LedgerWorkloadOptions& options,
           CountingSink& sink) {
  constexpr uint32_t kPerEntry = LedgerStateMachine::kEventsPerEntryMax;
  uint64_t submitted = 0;
  ledger::Account accounts[kPerEntry];
  uint32_t filled = 0;
  for (uint64_t id = 1; id <= workload.accounts_total(); ++id) {
    accounts[filled++] = workload.SetupAccount(id);
    if (filled == kPerEntry || id == workload.accounts_total()) {
      SubmitBlocking(engine, LedgerStateMachine::kCreateAccounts,
                     std::as_bytes(std::span(accounts, filled)), &sink);
      ++submitted;
      filled = 0;
    }
  }
  WaitForAcks(sink, submitted);
  ledger::Transfer transfers[kPerEntry];
  for (uint64_t rank = 0; rank < options.card_accounts; ++rank) {
    transfers[filled++] = workload.SetupFunding(rank);
    if (filled == kPerEntry || rank + 1 == options.card_accounts) {
      SubmitBlocking(engine, LedgerStateMachine::kCreateTransfers,
                     std::as_bytes(std::span(transfers, filled)), &sink);
      ++submitted;
      filled = 0;
    }
  }
  WaitForAcks(sink, submitted);
}

struct LedgerRun {
  uint64_t transfers = 0;
  uint64_t failed = 0;
  double seconds = 0;
  uint64_t fsyncs = 0;
  uint64_t batches = 0;
  uint64_t journal_bytes = 0;
  telemetry::Histogram batch_latency_us;
  uint64_t setup_ms = 0;
};

// Runs setup and the timed workload through a started engine.
LedgerRun RunWorkload(Engine& engine, const LedgerBenchOptions& options,
                      const LedgerWorkloadOptions& workload_options, std::mutex& latency_mutex,
                      telemetry::Histogram& latencies) {
  LedgerWorkload workload(workload_options);
  CountingSink setup_sink;
  io::Clock& clock = io::SystemClock::Instance();
  const uint64_t setup_start = clock.MonotonicNs();
  std::fprintf(stderr, "setup: %" PRIu64 " accounts, %" PRIu64 " funding transfers\n",
               workload.accounts_total(), workload_options.card_accounts);
  Setup(engine, workload, workload_options, setup_sink);
  LedgerRun run;
  run.setup_ms = (clock.MonotonicNs() - setup_start) / 1'000'000;
  {
    std::lock_guard lock(latency_mutex);
    latencies.Reset();
  }
  const uint64_t fsyncs_before = engine.stats().fsyncs.load();
  const uint64_t batches_before = engine.stats().batches_durable.load();
  const uint64_t bytes_before = engine.stats().journal_bytes.load();

  CountingSink sink;
  std::atomic<bool> done{false};
  const uint64_t start_ns = clock.MonotonicNs();
  std::thread progress([&] {
    uint64_t last = 0;
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      const uint64_t now = sink.acknowledged();
      std::fprintf(stderr, "  %6.1f s  %12" PRIu64 " transfers  %10" PRIu64 " /s  queue %" PRIu64
                   "\n",
                   static_cast<double>(clock.MonotonicNs() - start_ns) / 1e9, now, now - last,
                   engine.queue_depth());
      last = now;
    }
  });
  ledger::Transfer transfer;
  for (uint64_t index = 0; index < options.transfers; ++index) {
    workload.Next(&transfer);
    SubmitBlocking(engine, LedgerStateMachine::kCreateTransfers,
                   std::as_bytes(std::span(&transfer, 1)), &sink);
  }
  WaitForAcks(sink, options.transfers);
  const uint64_t end_ns = clock.MonotonicNs();
  done.store(true);
  progress.join();

  run.transfers = options.transfers;
  run.failed = sink.failed();
  run.seconds = static_cast<double>(end_ns - start_ns) / 1e9;
  run.fsyncs = engine.stats().fsyncs.load() - fsyncs_before;
  run.batches = engine.stats().batches_durable.load() - batches_before;
  run.journal_bytes = engine.stats().journal_bytes.load() - bytes_before;
  {
    std::lock_guard lock(latency_mutex);
    run.batch_latency_us = latencies;
  }
  return run;
}

int RunLedgerBench(const LedgerBenchOptions& options) {
  io::Env& env = io::Env::Posix();
  base::Status cleared = ClearJournalFiles(env, options.data);
  if (!cleared.ok()) {
    std::fprintf(stderr, "bench ledger: %s\n", cleared.ToString().c_str());
    return 1;
  }
  LedgerWorkloadOptions workload_options;
  workload_options.card_accounts = options.accounts;
  workload_options.zipf_exponent = options.zipf;

  // The disk's own limit, measured first on the same directory.
  journal::DiskLimit disk{};
  if (options.measure_disk) {
    auto measured = journal::MeasureDiskLimit(env, options.data, 1ULL << 20, 2000);
    if (!measured.ok()) {
      std::fprintf(stderr, "bench ledger: disk probe: %s\n", measured.status().ToString().c_str());
      return 1;
    }
    disk = *measured;
    std::fprintf(stderr, "disk: %" PRIu64 " x 1 MiB write+fdatasync per second (%.0f MB/s)\n",
                 disk.blocks_per_second, static_cast<double>(disk.bytes_per_second) / 1e6);
  }

  LedgerStateMachine machine(CapacitiesFor(options, workload_options));
  std::mutex latency_mutex;
  telemetry::Histogram latencies;
  engine::EngineOptions engine_options;
  engine_options.env = &env;
  engine_options.clock = &io::SystemClock::Instance();
  engine_options.directory = options.data;
  engine_options.batch_entries_max = options.batch;
  engine_options.snapshot_every_batches = options.snapshot_every_batches;
  engine_options.on_batch_durable = [&](uint32_t, uint64_t latency_ns) {
    std::lock_guard lock(latency_mutex);
    latencies.Record(latency_ns / 1000);
  };
  auto opened = Engine::Open(engine_options, &machine);
  if (!opened.ok()) {
    std::fprintf(stderr, "bench ledger: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  Engine& engine = **opened;
  engine.Start();
  LedgerRun run = RunWorkload(engine, options, workload_options, latency_mutex, latencies);
  engine.Stop();
  base::Status invariants = machine.ledger().CheckAllInvariants();
  if (!invariants.ok()) {
    std::fprintf(stderr, "bench ledger: invariants broken: %s\n", invariants.ToString().c_str());
    return 1;
  }

  constexpr double kRecordBytes = 8 + sizeof(ledger::Transfer);  // Journal entry header + record.
  const double transfers_per_second = static_cast<double>(run.transfers) / run.seconds;
  const double disk_limit = static_cast<double>(disk.bytes_per_second) / kRecordBytes;
  std::printf(
      "{\"benchmark\":\"ledger\",\"transfers\":%" PRIu64 ",\"accounts\":%" PRIu64
      ",\"zipf\":%.2f,\"batch\":%u,\"transfers_per_second\":%.0f,\"failed_transfers\":%" PRIu64
      ",\"seconds\":%.3f,\"batches\":%" PRIu64 ",\"fsyncs\":%" PRIu64
      ",\"fsyncs_per_second\":%.1f,\"transfers_per_fsync\":%.1f,\"journal_bytes\":%" PRIu64
      ",\"batch_latency_us_p50\":%" PRIu64 ",\"batch_latency_us_p99\":%" PRIu64
      ",\"batch_latency_us_max\":%" PRIu64 ",\"disk_mib_fsyncs_per_second\":%" PRIu64
      ",\"disk_limit_transfers_per_second\":%.0f,\"limit_ratio\":%.3f,\"record_bytes\":%.0f"
      ",\"setup_ms\":%" PRIu64 "}\n",
      run.transfers, options.accounts, options.zipf, options.batch, transfers_per_second,
      run.failed, run.seconds, run.batches, run.fsyncs,
      static_cast<double>(run.fsyncs) / run.seconds,
      run.fsyncs ? static_cast<double>(run.transfers) / static_cast<double>(run.fsyncs) : 0.0,
      run.journal_bytes, run.batch_latency_us.ValueAtQuantile(0.50),
      run.batch_latency_us.ValueAtQuantile(0.99), run.batch_latency_us.Max(),
      disk.blocks_per_second, disk_limit, disk_limit > 0 ? transfers_per_second / disk_limit : 0.0,
      kRecordBytes, run.setup_ms);
  return 0;
}

struct RecoveryBenchOptions {
  uint64_t transfers = 10'000'000;
  uint64_t accounts = 1'000'000;
  std::string data = "build/bench-data/recovery";
  uint64_t snapshot_every_batches = 400;
  bool reuse = false;
};

int RunRecoveryBench(const RecoveryBenchOptions& options) {
  io::Env& env = io::Env::Posix();
  LedgerBenchOptions build;
  build.transfers = options.transfers;
  build.accounts = options.accounts;
  build.data = options.data;
  LedgerWorkloadOptions workload_options;
  workload_options.card_accounts = options.accounts;
  const ledger::LedgerCapacities capacities = CapacitiesFor(build, workload_options);
  uint64_t live_transfers = 0;
  if (!options.reuse) {
    base::Status cleared = ClearJournalFiles(env, options.data);
    if (!cleared.ok()) {
      std::fprintf(stderr, "bench recovery: %s\n", cleared.ToString().c_str());
      return 1;
    }
    std::fprintf(stderr, "building a journal of %" PRIu64 " transfers with snapshots every %" PRIu64
                 " batches in %s\n", options.transfers, options.snapshot_every_batches,
                 options.data.c_str());
    LedgerStateMachine machine(capacities);
    engine::EngineOptions engine_options;
    engine_options.env = &env;
    engine_options.clock = &io::SystemClock::Instance();
    engine_options.directory = options.data;
    engine_options.snapshot_every_batches = options.snapshot_every_batches;
    auto opened = Engine::Open(engine_options, &machine);
    if (!opened.ok()) {
      std::fprintf(stderr, "bench recovery: %s\n", opened.status().ToString().c_str());
      return 1;
    }
    (*opened)->Start();
    std::mutex latency_mutex;
    telemetry::Histogram latencies;
    RunWorkload(**opened, build, workload_options, latency_mutex, latencies);
    (*opened)->Stop();
    live_transfers = machine.ledger().transfers_count();
  }

  // Cold start: a fresh state machine recovers from the directory.
  io::Clock& clock = io::SystemClock::Instance();
  LedgerStateMachine recovered(capacities);
  engine::EngineOptions engine_options;
  engine_options.env = &env;
  engine_options.clock = &clock;
  engine_options.directory = options.data;
  const uint64_t start_ns = clock.MonotonicNs();
  auto opened = Engine::Open(engine_options, &recovered);
  const uint64_t cold_start_ns = clock.MonotonicNs() - start_ns;
  if (!opened.ok()) {
    std::fprintf(stderr, "bench recovery: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  if (live_transfers != 0 && recovered.ledger().transfers_count() != live_transfers) {
    std::fprintf(stderr, "bench recovery: recovered %u transfers, expected %" PRIu64 "\n",
                 recovered.ledger().transfers_count(), live_transfers);
    return 1;
  }
  const engine::RecoveryInfo& info = (*opened)->recovery();
  std::printf("{\"benchmark\":\"recovery\",\"transfers\":%u,\"accounts\":%u"
              ",\"cold_start_ms\":%.1f,\"snapshot_sequence\":%" PRIu64
              ",\"batches_replayed\":%" PRIu64 ",\"next_sequence\":%" PRIu64 "}\n",
              recovered.ledger().transfers_count(), recovered.ledger().accounts_count(),
              static_cast<double>(cold_start_ns) / 1e6, info.snapshot_sequence,
              info.batches_replayed, info.next_sequence);
  return 0;
}

}  // namespace

void AddBenchCommands(CLI::App& bench) {
  static LedgerBenchOptions ledger_options;
  CLI::App* ledger = bench.add_subcommand(
      "ledger", "Durable two-phase transfers through the engine (card workload)");
  ledger->add_option("--transfers", ledger_options.transfers, "Timed transfers")
      ->capture_default_str();
  ledger->add_option("--batch", ledger_options.batch, "Entries per batch (max 8190)")
      ->capture_default_str()->check(CLI::Range(1, 8190));
  ledger->add_option("--accounts", ledger_options.accounts, "Card accounts")
      ->capture_default_str()->check(CLI::Range(1, 100'000'000));
  ledger->add_option("--zipf", ledger_options.zipf, "Zipf exponent of card choice (0 = uniform)")
      ->capture_default_str()->check(CLI::Range(0.0, 5.0));
  ledger->add_option("--data", ledger_options.data,
                     "Directory for the journal (its journal files are removed first)")
      ->capture_default_str();
  ledger->add_option("--snapshot-every", ledger_options.snapshot_every_batches,
                     "Snapshot every N batches (0 = never)")
      ->capture_default_str();
  ledger->callback([] { std::exit(RunLedgerBench(ledger_options)); });

  static RecoveryBenchOptions recovery_options;
  CLI::App* recovery = bench.add_subcommand(
      "recovery", "Builds a journal with snapshots, then times a cold start");
  recovery->add_option("--transfers", recovery_options.transfers, "Transfers in the journal")
      ->capture_default_str();
  recovery->add_option("--accounts", recovery_options.accounts, "Card accounts")
      ->capture_default_str();
  recovery->add_option("--data", recovery_options.data, "Directory (journal files removed first)")
      ->capture_default_str();
  recovery->add_option("--snapshot-every", recovery_options.snapshot_every_batches,
                       "Snapshot every N batches")
      ->capture_default_str();
  recovery->add_flag("--reuse", recovery_options.reuse,
                     "Time a cold start of the existing journal without rebuilding it");
  recovery->callback([] { std::exit(RunRecoveryBench(recovery_options)); });
}

}  // namespace tangelo::app
