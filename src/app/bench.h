// `tangelo bench …`: benchmarks that print progress on stderr and end with
// one JSON line of figures on stdout. Figures come from measurement in the
// run itself; nothing is estimated or hard-coded.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "base/status.h"
#include "io/env.h"

namespace tangelo::app {

// Removes journal and snapshot files (and nothing else) from `directory`,
// creating it if missing, so a benchmark run starts from an empty state.
base::Status ClearJournalFiles(io::Env& env, const std::string& directory);

// Adds `ledger` and `recovery` under the `bench` subcommand.
void AddBenchCommands(CLI::App& bench);

}  // namespace tangelo::app
