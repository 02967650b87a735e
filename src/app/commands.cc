#include "app/commands.h"

#include <CLI/CLI.hpp>

#include "app/bench.h"

#include <cstdio>
#include <string>

namespace tangelo::app {

int RunCommandLine(int argc, char** argv) {
  CLI::App app{"Tangelo: an open card-issuing processor core"};
  app.require_subcommand(1);

  std::string data_directory = "./data";
  CLI::App* serve = app.add_subcommand("serve", "Run every application over an embedded data directory");
  serve->add_option("--data", data_directory, "Data directory (journal and snapshots)")
      ->capture_default_str();

  CLI::App* bench = app.add_subcommand("bench", "Benchmarks that print a final JSON line");
  bench->require_subcommand(1);
  AddBenchCommands(*bench);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  if (serve->parsed()) {
    std::fprintf(stderr, "tangelo serve: not implemented yet (data %s)\n", data_directory.c_str());
    return 1;
  }
  return 0;
}

}  // namespace tangelo::app
