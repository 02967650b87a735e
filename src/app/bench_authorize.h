// `tangelo bench authorize`: durable card authorizations through the real
// engine (intake queue, batches, journal with group commit and fdatasync) on
// a real directory, with the authorizer's CoreStateMachine: 1M cards by
// default, Zipf-skewed cards and merchants, a fifth of the cards with
// controls. Prints progress on stderr and ends with one JSON line on stdout
// (authorizations_per_second, decision_latency_us_p50/_p99/_p999, ...).
#pragma once

#include <CLI/CLI.hpp>

namespace tangelo::app {

// Adds `authorize` under the `bench` subcommand.
void AddBenchAuthorizeCommand(CLI::App& bench);

}  // namespace tangelo::app
