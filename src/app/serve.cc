#include "app/serve.h"

#include <signal.h>

#include <cinttypes>
#include <cstdio>

#include "engine/engine.h"
#include "engine/ledger_state_machine.h"
#include "io/clock.h"
#include "io/env.h"

namespace tangelo::app {
namespace {

// Capacities of the embedded default; the configuration file will set them.
constexpr ledger::LedgerCapacities kDefaultCapacities{1'000'000, 10'000'000};

void LogLine(const char* event, const std::string& fields) {
  const uint64_t now_ms = io::SystemClock::Instance().RealtimeNs() / 1'000'000;
  std::fprintf(stderr, "{\"time_ms\":%" PRIu64 ",\"level\":\"info\",\"application\":\"app\","
               "\"event\":\"%s\"%s%s}\n", now_ms, event, fields.empty() ? "" : ",",
               fields.c_str());
}

}  // namespace

int RunServe(const ServeOptions& options) {
  // Signals are taken synchronously by this thread (sigwait), so no handler
  // runs inside the engine's threads.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  io::Env& env = io::Env::Posix();
  base::Status created = env.CreateDir(options.data_directory);
  if (!created.ok()) {
    std::fprintf(stderr, "tangelo serve: %s\n", created.ToString().c_str());
    return 1;
  }
  engine::LedgerStateMachine machine(kDefaultCapacities);
  engine::EngineOptions engine_options;
  engine_options.env = &env;
  engine_options.clock = &io::SystemClock::Instance();
  engine_options.directory = options.data_directory;
  engine_options.snapshot_every_batches = options.snapshot_every_batches;
  auto opened = engine::Engine::Open(engine_options, &machine);
  if (!opened.ok()) {
    // Corruption or an I/O error: say exactly what and where, and refuse to
    // serve from a state we cannot trust.
    std::fprintf(stderr, "tangelo serve: recovery failed: %s\n",
                 opened.status().ToString().c_str());
    return 2;
  }
  engine::Engine& engine = **opened;
  const engine::RecoveryInfo& recovery = engine.recovery();
  LogLine("recovered",
          "\"data\":\"" + options.data_directory + "\",\"snapshot_sequence\":" +
              std::to_string(recovery.snapshot_sequence) + ",\"batches_replayed\":" +
              std::to_string(recovery.batches_replayed) + ",\"next_sequence\":" +
              std::to_string(recovery.next_sequence) + ",\"duration_ms\":" +
              std::to_string(recovery.duration_ns / 1'000'000) + ",\"accounts\":" +
              std::to_string(machine.ledger().accounts_count()) + ",\"transfers\":" +
              std::to_string(machine.ledger().transfers_count()));
  engine.Start();
  LogLine("serving", "\"data\":\"" + options.data_directory + "\"");

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LogLine("stopping", "\"signal\":" + std::to_string(signal_number));
  engine.Stop();
  LogLine("stopped", "\"batches_durable\":" + std::to_string(engine.stats().batches_durable.load()));
  return 0;
}

void AddServeCommand(CLI::App& app) {
  static ServeOptions options;
  CLI::App* serve =
      app.add_subcommand("serve", "Run every application over an embedded data directory");
  serve->add_option("--data", options.data_directory, "Data directory (journal and snapshots)")
      ->capture_default_str();
  serve->add_option("--snapshot-every", options.snapshot_every_batches,
                    "Write a snapshot every N journaled batches")
      ->capture_default_str();
  serve->callback([] { std::exit(RunServe(options)); });
}

}  // namespace tangelo::app
