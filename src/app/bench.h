// `tangelo bench …`: benchmarks that print progress on stderr and end with
// one JSON line of figures on stdout. Figures come from measurement in the
// run itself; nothing is estimated or hard-coded.
#pragma once

#include <CLI/CLI.hpp>

namespace tangelo::app {

// Adds `ledger` and `recovery` under the `bench` subcommand.
void AddBenchCommands(CLI::App& bench);

}  // namespace tangelo::app
