// The scenario language of tests/scenarios (described in
// tests/scenarios/README.md): setup lines, requests and expectations, one
// behaviour per file, run against a CoreStateMachine on a manual clock, with
// the client's real-time decision played through FakeClientDecisionGateway.
// After the last line every scenario also checks the cross-module
// invariants, that replaying its journal gives a byte-identical state, and
// that its snapshot restores to the same bytes. Test-only.
#pragma once

#include <string>
#include <vector>

namespace tangelo::authorizer::testing {

struct ScenarioResult {
  std::vector<std::string> failures;  // "line N: what went wrong"; empty when it passed.
  int lines_run = 0;
  int expectations_checked = 0;
};

// Runs the scenario text; `name` labels failures.
ScenarioResult RunScenario(const std::string& name, const std::string& text);

}  // namespace tangelo::authorizer::testing
