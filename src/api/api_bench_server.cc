// api_bench_server: a hand-run throughput target for wrk (see README.md
// "Measuring"). Serves the REST API over MemoryCore with one tenant, API
// key, funded account and active card already created, prints them as one
// line ("port=... key=... account=... card=..."), and runs until SIGINT or
// SIGTERM. Usage: api_bench_server [port] [loop_threads]
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "api/api_server.h"
#include "api/json_input.h"
#include "api/memory_core.h"
#include "api/render.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

tangelo::api::CoreReply Apply(tangelo::api::Core& core, tangelo::api::CoreRequest request) {
  tangelo::api::CoreReply out;
  core.Submit(std::move(request), [&](tangelo::api::CoreReply&& reply) { out = std::move(reply); });
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tangelo::api;
  const auto port = static_cast<uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080);
  const auto threads = static_cast<uint32_t>(argc > 2 ? std::atoi(argv[2]) : 1);
  MemoryCore core;
  const uint64_t tenant = 1;
  Apply(core, CreateTenantRequest{tenant, "bench"});
  auto key = GenerateApiKey();
  if (!key.ok()) return 1;
  ApiKey api_key;
  api_key.id = 2;
  api_key.tenant_id = tenant;
  api_key.sha256 = Sha256(*key);
  Apply(core, CreateApiKeyRequest{api_key});
  Apply(core, CreateProgramRequest{tenant, Program{3, "bench", 978, 0}});
  Apply(core, CreateUserRequest{tenant, User{4, "bench", UserStatusValue::kActive, 0}});
  Account account;
  account.id = 5;
  account.program_id = 3;
  account.user_id = 4;
  Apply(core, CreateAccountRequest{tenant, account});
  Apply(core, FundAccountRequest{tenant, 5, 6, true, 999'999'999'999ULL, 978});
  Card card;
  card.id = 7;
  card.user_id = 4;
  card.account_id = 5;
  card.status = CardStatusValue::kActive;
  card.last_four = {'4', '2', '4', '2'};
  Apply(core, CreateCardRequest{tenant, card});

  ApiOptions options;
  options.port = port;
  options.loop_threads = threads;
  options.tenant_rate = RateLimit{0, 0};  // Unlimited: measure the server, not the limiter.
  auto server = StartApiServer(options, core);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("port=%u key=%s account=%s card=%s\n", (*server)->port(), key->c_str(),
              FormatId(kAccountPrefix, 5).c_str(), FormatId(kCardPrefix, 7).c_str());
  std::fflush(stdout);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  (*server)->Shutdown(0);
  return 0;
}
