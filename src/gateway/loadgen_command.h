// `tangelo load`: the load generator's command line (see
// gateway/loadgen_runner.h). The app module wires it into the `tangelo`
// binary; the gateway only declares the subcommand.
#pragma once

#include <CLI/CLI.hpp>

namespace tangelo::app {

// Adds the `load` subcommand to `app`. Running it drives an ISO 8583 door,
// prints a progress line on stderr each second and one JSON line on stdout.
// Bad options, an unreadable dialect or no connection at all throw
// CLI::RuntimeError (exit code 1) out of app.parse(), which the caller turns
// into its exit status with app.exit(error), as for any parse error.
void AddLoadCommand(CLI::App& app);

}  // namespace tangelo::app
