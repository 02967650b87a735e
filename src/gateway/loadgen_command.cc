#include "gateway/loadgen_command.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "gateway/iso8583_spec.h"
#include "gateway/loadgen_runner.h"

namespace tangelo::app {
namespace {

// CLI11's app.exit() prints nothing for a RuntimeError: say why first.
[[noreturn]] void FailLoad(const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  throw CLI::RuntimeError(1);
}

}  // namespace

void AddLoadCommand(CLI::App& app) {
  struct Flags {
    gateway::LoadOptions options;
    std::string door = "iso8583";
    std::string target = "127.0.0.1:0";
    std::string dialect = "config/iso8583/default.spec";
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* command = app.add_subcommand("load", "Drive an ISO 8583 door with load (pipelined).");
  command->add_option("--door", flags->door, "iso8583 (rest is not implemented yet)")
      ->check(CLI::IsMember({"iso8583", "rest"}));
  command->add_option("--target", flags->target, "HOST:PORT of the door")->required();
  command->add_option("--dialect", flags->dialect, "ISO 8583 dialect file of the server");
  command->add_option("--connections", flags->options.connections, "TCP connections");
  command->add_option("--depth", flags->options.depth, "requests in flight per connection");
  command->add_option("--duration", flags->options.duration_seconds, "seconds of load");
  command->add_option("--rate", flags->options.rate_per_second,
                      "open loop: requests per second in total (0: closed loop)");
  command->add_option("--decline-percent", flags->options.decline_percent,
                      "share of purchases on an unknown PAN");
  command->add_option("--reversal-percent", flags->options.reversal_percent,
                      "share of reversals of earlier approvals");
  command->add_option("--card-first", flags->options.card_serial_first, "first card serial");
  command->add_option("--cards", flags->options.card_count, "cards the purchases spread over");
  command->add_option("--amount", flags->options.amount_minor, "purchase amount, minor units");
  command->add_option("--currency", flags->options.currency_numeric, "ISO 4217 numeric");
  command->add_option("--seed", flags->options.seed, "workload seed");
  command->add_flag("--progress,!--no-progress", flags->options.progress,
                    "a progress line on stderr each second (default on)");
  command->callback([flags] {
    if (flags->door != "iso8583") {
      FailLoad("load: the REST door is not implemented yet");
    }
    const size_t colon = flags->target.rfind(':');
    if (colon == std::string::npos) {
      FailLoad("load: --target must be HOST:PORT");
    }
    flags->options.host = flags->target.substr(0, colon);
    flags->options.port =
        static_cast<uint16_t>(std::strtoul(flags->target.c_str() + colon + 1, nullptr, 10));
    auto spec = gateway::Iso8583Spec::LoadFile(flags->dialect);
    if (!spec.ok()) {
      FailLoad("load: " + spec.status().ToString());
    }
    flags->options.spec = &*spec;
    auto report = gateway::RunLoad(flags->options);
    if (!report.ok()) {
      FailLoad(report.status().ToString());
    }
    std::printf("%s\n", report->ToJson(flags->options).c_str());
    std::fflush(stdout);
  });
}

}  // namespace tangelo::app
