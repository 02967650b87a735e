// The `tangelo` command line: one CLI11 app with a subcommand per command.
// Each application module contributes its commands through a registration
// function here; main() only builds the app and runs it.
#pragma once

namespace tangelo::app {

// Parses argv and runs the chosen command. Returns the process exit code.
int RunCommandLine(int argc, char** argv);

}  // namespace tangelo::app
