// `tangelo serve`: runs the applications in one process over an embedded
// data directory until SIGTERM or SIGINT, then stops gracefully (stop
// accepting, finish and make durable what is in flight, exit 0).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace tangelo::app {

struct ServeOptions {
  std::string data_directory = "./data";
  uint64_t snapshot_every_batches = 100'000;
};

void AddServeCommand(CLI::App& app);
int RunServe(const ServeOptions& options);

}  // namespace tangelo::app
