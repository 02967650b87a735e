// `tangelo serve`: every application in one process over an embedded data
// directory, until SIGTERM or SIGINT; then a graceful stop (stop accepting,
// finish and make durable what is in flight, exit 0).
//
// Doors (loopback by default; port 0 picks a free port):
//   --http      127.0.0.1:8080   REST API for clients, /openapi.yaml, /docs
//   --iso8583   127.0.0.1:8583   ISO 8583 over TCP for card networks
//   --metrics   127.0.0.1:9464   Prometheus /metrics
// The chosen ports are logged and written to <data>/ports.json.
// The console (/console on the HTTP port) shows the critical-path SLOs of
// config/critical-paths.json, sampled every second; a synthetic probe sends
// one authorization through the core every probe interval. --demo adds a
// demo tenant with steady synthetic card traffic (app/demo.h) and prints
// the console URL and the demo API key on stderr.
// Secrets come from the environment: TANGELO_ADMIN_TOKEN (admin endpoints)
// and TANGELO_PAN_KEY (64 hex characters, the PAN master key); without the
// latter a random key is created once in <data>/pan.key (mode 0600).
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace tangelo::app {

struct ServeOptions {
  std::string data_directory = "./data";
  std::string http = "127.0.0.1:8080";
  std::string iso8583 = "127.0.0.1:8583";
  std::string metrics = "127.0.0.1:9464";
  std::string dialect = "config/iso8583/default.spec";
  uint64_t snapshot_every_batches = 100'000;
  std::string critical_paths = "config/critical-paths.json";
  uint64_t probe_interval_ms = 0;  // 0: the path's probe_interval_ms from the file.
  bool demo = false;
  uint32_t demo_rate_per_second = 200;
};

void AddServeCommand(CLI::App& app);
int RunServe(const ServeOptions& options);

}  // namespace tangelo::app
