// `tangelo load`: the load generator's command line (see
// gateway/loadgen_runner.h). The app module wires it into the `tangelo`
// binary; the gateway only declares the subcommand.
#pragma once

#include <CLI/CLI.hpp>

namespace tangelo::app {

// Adds the `load` subcommand to `app`. Running it drives an ISO 8583 door,
// prints a progress line on stderr each second and one JSON line on stdout,
// and exits 0 (1 on bad options or when no connection could be made).
void AddLoadCommand(CLI::App& app);

}  // namespace tangelo::app
