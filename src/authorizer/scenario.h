// The scenario language of tests/scenarios (described in
// tests/scenarios/README.md): setup lines, requests and expectations, one
// behaviour per file, run against a CoreStateMachine on a manual clock, with
// the client's real-time decision played through FakeClientDecisionGateway or
// over HTTP against a local server.
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

// How the client's real-time decision travels.
enum class ClientTransport : uint8_t {
  kFake,  // FakeClientDecisionGateway, in process (the wire format, no sockets).
  kHttp,  // HttpClientDecisionGateway to a real HTTP server on 127.0.0.1.
};

// Runs the scenario text; `name` labels failures.
ScenarioResult RunScenario(const std::string& name, const std::string& text,
                           ClientTransport transport = ClientTransport::kFake);

}  // namespace tangelo::authorizer::testing
