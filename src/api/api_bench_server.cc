// api_bench_server: a hand-run throughput target for wrk (see README.md
// "Measuring"). Serves the REST API over MemoryCore with one tenant, API
// key, funded account and active card already created, prints them as one
// line ("port=... key=... account=... card=..."), and runs until SIGINT or
// SIGTERM. Usage: api_bench_server [port] [loop_threads] [engine_directory]
// With an engine directory (an empty or new directory), requests go through
// EngineCore to the durable engine and CoreStateMachine, as in tangelo serve.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "api/api_server.h"
#include "api/json_input.h"
#include "api/memory_core.h"
#include "api/render.h"
#ifdef TANGELO_API_BENCH_ENGINE
#include <filesystem>

#include "api/engine_core.h"
#include "authorizer/core_state_machine.h"
#include "io/env.h"
#endif

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

tangelo::api::CoreReply Apply(tangelo::api::Core& core, tangelo::api::CoreRequest request) {
  std::atomic<bool> done{false};
  tangelo::api::CoreReply out;
  core.Submit(std::move(request), [&](tangelo::api::CoreReply&& reply) {
    out = std::move(reply);
    done = true;
  });
  while (!done) std::this_thread::yield();  // The engine answers on its journal thread.
  if (out.status != tangelo::api::CoreStatus::kOk) {
    std::fprintf(stderr, "seeding failed: status %d\n", static_cast<int>(out.status));
    std::exit(1);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tangelo::api;
  const auto port = static_cast<uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080);
  const auto threads = static_cast<uint32_t>(argc > 2 ? std::atoi(argv[2]) : 1);
  MemoryCore memory;
  Core* selected = &memory;
#ifdef TANGELO_API_BENCH_ENGINE
  std::unique_ptr<tangelo::authorizer::CoreStateMachine> machine;
  std::unique_ptr<tangelo::engine::Engine> engine;
  std::unique_ptr<tangelo::issuing::PanVault> vault;
  std::unique_ptr<EngineCore> engine_core;
  tangelo::io::SystemClock clock;
  if (argc > 3) {
    std::filesystem::create_directories(argv[3]);
    tangelo::authorizer::CoreCapacities capacities;
    capacities.ledger = tangelo::ledger::LedgerCapacities{1u << 16, 1u << 22};
    capacities.issuing.users_max = 1u << 16;
    capacities.issuing.accounts_max = 1u << 16;
    capacities.issuing.cards_max = 1u << 16;
    capacities.issuing.controls_max = 1u << 16;
    machine = std::make_unique<tangelo::authorizer::CoreStateMachine>(capacities);
    tangelo::engine::EngineOptions engine_options;
    engine_options.env = &tangelo::io::Env::Posix();
    engine_options.clock = &clock;
    engine_options.directory = argv[3];
    auto opened = tangelo::engine::Engine::Open(std::move(engine_options), machine.get());
    if (!opened.ok()) {
      std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
      return 1;
    }
    engine = std::move(*opened);
    engine->Start();
    std::array<uint8_t, tangelo::issuing::kPanKeySize> key_bytes{};
    key_bytes.fill(7);
    vault = std::make_unique<tangelo::issuing::PanVault>(
        *tangelo::issuing::PanKey::FromBytes(key_bytes));
    EngineCoreOptions core_options;
    core_options.engine = engine.get();
    core_options.pan_vault = vault.get();
    core_options.directory = &memory;
    engine_core = std::make_unique<EngineCore>(core_options);
    selected = engine_core.get();
  }
#endif
  Core& core = *selected;
  const uint64_t tenant = 1;
  Apply(core, CreateTenantRequest{tenant, "bench"});
  auto key = GenerateApiKey();
  if (!key.ok()) return 1;
  ApiKey api_key;
  api_key.id = 2;
  api_key.tenant_id = tenant;
  api_key.sha256 = Sha256(*key);
  Apply(memory, CreateApiKeyRequest{api_key});
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
  card.expiry_year = 2031;
  card.expiry_month = 12;
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
#ifdef TANGELO_API_BENCH_ENGINE
  if (engine) engine->Stop();
#endif
  return 0;
}
