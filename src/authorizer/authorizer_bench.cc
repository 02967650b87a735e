// Micro-benchmark of the decision pipeline alone: CoreStateMachine::ApplyBatch
// on batches of 8190 purchase authorizations by PAN token, Zipf-skewed over
// the cards, no engine, no journal, no disk. `tangelo bench authorize` is the
// end-to-end figure; this one isolates the engine thread's CPU per decision.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "authorizer/core_state_machine.h"
#include "authorizer/test_harness.h"
#include "base/random.h"
#include "io/clock.h"
#include "telemetry/histogram.h"

namespace tangelo::authorizer {
namespace {

constexpr uint32_t kBatch = 8190;
constexpr uint32_t kAuthorizationsMax = 1u << 20;

// One state per card count, built once and shared by the runs.
struct World {
  explicit World(uint32_t cards) {
    CoreCapacities capacities = testing::SmallCapacities();
    capacities.ledger = ledger::LedgerCapacities{cards + 64, kAuthorizationsMax + cards + 65536};
    capacities.issuing.users_max = cards;
    capacities.issuing.accounts_max = cards;
    capacities.issuing.cards_max = cards;
    capacities.issuing.controls_max = cards / 5 + 16;
    capacities.authorizations_max = kAuthorizationsMax;
    capacities.retransmissions_max = kAuthorizationsMax;
    harness = std::make_unique<testing::CoreHarness>(capacities);
    harness->machine().PrefaultMemory();
    const issuing::TenantId tenant(1);
    TG_ASSERT(harness->Command(issuing::CreateTenant{tenant, *issuing::MakeName("B")}) == 0);
    TG_ASSERT(harness->Command(issuing::CreateProgram{tenant, issuing::ProgramId(1),
                                                      *issuing::MakeName("B"), testing::kUsd}) ==
              0);
    tokens.resize(cards);
    for (uint32_t index = 0; index < cards; ++index) {
      const uint64_t id = uint64_t{index} + 1;
      TG_ASSERT(harness->Command(issuing::CreateUser{tenant, issuing::UserId(id)}) == 0);
      TG_ASSERT(harness->Command(issuing::CreateAccount{
                    tenant, issuing::AccountId(id), issuing::ProgramId(1), issuing::UserId(id),
                    issuing::LedgerAccountId(id), testing::kUsd}) == 0);
      issuing::CreateCard card = harness->MakeCard(tenant, issuing::CardId(id),
                                                   issuing::UserId(id), issuing::AccountId(id),
                                                   testing::TestPan(id));
      tokens[index] = card.pan.token;
      TG_ASSERT(harness->Command(card) == 0);
      TG_ASSERT(harness->Fund(tenant, issuing::AccountId(id), 1'000'000'000).detail == 0);
      if (index % 5 == 0) {
        issuing::SetControls controls;
        controls.tenant_id = tenant;
        controls.target_id = id;
        controls.controls.daily_amount_max = 100'000'000;
        (void)controls.controls.DenyMcc(7995, 7995);
        (void)controls.controls.AddVelocityRule(3600, 16);
        TG_ASSERT(harness->Command(controls) == 0);
      }
    }
  }

  std::unique_ptr<testing::CoreHarness> harness;
  std::vector<issuing::PanToken> tokens;
  uint64_t next_serial = 1;
  uint64_t timestamp_ns = testing::NsAt(2026, 3, 11, 13);
  uint64_t next_timestamp_ns = 0;
};

World& WorldOf(uint32_t cards) {
  static std::unique_ptr<World> world;
  static uint32_t world_cards = 0;
  if (world == nullptr || world_cards != cards) {
    world.reset();
    world = std::make_unique<World>(cards);
    world_cards = cards;
  }
  return *world;
}

void BM_ApplyBatchOfAuthorizations(benchmark::State& state) {
  const uint32_t cards = static_cast<uint32_t>(state.range(0));
  World& world = WorldOf(cards);
  base::Random random(42);
  const base::ZipfGenerator zipf(cards, 0.8);
  std::vector<AuthorizationRequest> requests(kBatch);
  std::vector<engine::EntryRef> entries(kBatch);
  std::vector<engine::Reply> replies(kBatch);
  CoreStateMachine& machine = world.harness->machine();
  telemetry::Histogram latency_ns;
  machine.SetDecisionLatencyRecorder(&io::SystemClock::Instance(), &latency_ns);
  for (auto _ : state) {
    state.PauseTiming();
    if (world.harness->machine().authorizations().live_count() + kBatch >= kAuthorizationsMax) {
      state.SkipWithError("authorization table full: lower the run time");
      break;
    }
    for (uint32_t index = 0; index < kBatch; ++index) {
      AuthorizationRequest request = world.harness->Purchase(1, 1000, 0);
      request.card = CardReference::ByToken(world.tokens[zipf.Next(random) * 7919 % cards]);
      request.flags = RequestFlags::kCardByPanToken | RequestFlags::kHasNetworkIds;
      request.ids = RequestIds::FromNetworkIds(
          testing::CoreHarness::NetworkIdsOf(static_cast<uint32_t>(world.next_serial++)));
      request.amount_minor = random.Between(100, 20'000);
      requests[index] = request;
      entries[index] = engine::EntryRef{static_cast<uint16_t>(EntryKind::kAuthorize),
                                        PayloadOf(requests[index])};
    }
    // The engine's rule: each batch after the timestamps the last one used.
    world.timestamp_ns = std::max(world.timestamp_ns + 1'000'000, world.next_timestamp_ns);
    state.ResumeTiming();
    const uint64_t used = machine.ApplyBatch(world.timestamp_ns, entries, replies);
    world.next_timestamp_ns = world.timestamp_ns + used;
  }
  machine.SetDecisionLatencyRecorder(nullptr, nullptr);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kBatch);
  // Per decision, as `tangelo bench authorize` reports it (without the engine).
  state.counters["p50_us"] = static_cast<double>(latency_ns.ValueAtQuantile(0.5)) / 1000.0;
  state.counters["p99_us"] = static_cast<double>(latency_ns.ValueAtQuantile(0.99)) / 1000.0;
  state.counters["p999_us"] = static_cast<double>(latency_ns.ValueAtQuantile(0.999)) / 1000.0;
}
// `tangelo bench authorize` runs 1M cards end to end; here 16k (cache resident) and 256k.
BENCHMARK(BM_ApplyBatchOfAuthorizations)->Arg(1 << 14)->Arg(1 << 18)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tangelo::authorizer
