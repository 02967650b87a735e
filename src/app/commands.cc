#include "app/commands.h"

#include <CLI/CLI.hpp>

#include "app/bench.h"
#include "app/bench_authorize.h"
#include "app/serve.h"
#include "gateway/loadgen_command.h"

namespace tangelo::app {

int RunCommandLine(int argc, char** argv) {
  CLI::App app{"Tangelo: an open card-issuing processor core"};
  app.require_subcommand(1);
  AddServeCommand(app);
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks that print a final JSON line");
  bench->require_subcommand(1);
  AddBenchCommands(*bench);
  AddBenchAuthorizeCommand(*bench);
  AddLoadCommand(app);
  // Exceptions are for start-up parsing only: each command's callback runs
  // the command and exits with its status.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  return 0;
}

}  // namespace tangelo::app
