// Micro-benchmarks of the issuing calls on the authorization path, over a
// state of 1M cards (TANGELO_BENCH_CARDS overrides) with Zipf-skewed card
// choice, a fifth of the cards with their own controls and program-wide
// card defaults: token lookup, the card and controls checks, counting an
// approval, PAN tokenization and protection, command encoding, snapshot.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/random.h"
#include "issuing/state.h"
#include "issuing/test_util.h"

namespace tangelo::issuing {
namespace {

using testing::NsAt;
using testing::TestKey;
using testing::TestName;
using testing::TestPan;

constexpr uint64_t kTenants = 10;
constexpr size_t kSamples = 1 << 20;

struct World {
  std::unique_ptr<IssuingState> state;
  // The tokens of a Zipf-skewed sequence of cards, in request order: a
  // request carries its token, so reading it must not cost a cache miss the
  // real path does not have.
  std::vector<PanToken> request_tokens;
  uint64_t now_ns = NsAt(2026, 3, 11, 12);
};

uint32_t CardCount() {
  if (const char* text = std::getenv("TANGELO_BENCH_CARDS")) {
    return static_cast<uint32_t>(std::strtoul(text, nullptr, 10));
  }
  return 1'000'000;
}

void MustApply(IssuingState& state, const Command& command, uint64_t now_ns) {
  const CommandResult result = state.Apply(command, now_ns);
  if (result != CommandResult::kOk) {
    std::fprintf(stderr, "setup failed: %s\n", std::string(CommandResultName(result)).c_str());
    std::abort();
  }
}

// Built once per process. Tokens are random bytes (the vault's HMAC has its
// own benchmark) and the ciphertext a well-formed placeholder, so setup of
// 1M cards stays fast.
const World& TheWorld() {
  static const World* world = [] {
    auto* built = new World;
    const uint32_t cards = CardCount();
    IssuingCapacity capacity;
    capacity.tenants_max = 16;
    capacity.programs_max = 64;
    capacity.users_max = cards;
    capacity.accounts_max = cards;
    capacity.cards_max = cards;
    capacity.controls_max = cards / 4 + 64;
    built->state = std::make_unique<IssuingState>(capacity);
    IssuingState& state = *built->state;
    const uint64_t now = built->now_ns;
    Controls defaults;
    defaults.daily_amount_max = 2'000'00;
    (void)defaults.AddVelocityRule(900, 10);
    (void)defaults.DenyMcc(7995, 7995);
    for (uint64_t tenant = 1; tenant <= kTenants; ++tenant) {
      MustApply(state, CreateTenant{TenantId(tenant), TestName("Tenant")}, now);
      MustApply(state, CreateProgram{TenantId(tenant), ProgramId(1), TestName("Program"), 840},
                now);
      MustApply(state,
                SetControls{TenantId(tenant), ControlLevel::kProgramCardDefault, 1, defaults}, now);
    }
    base::Random random(42);
    ProtectedPan pan;
    pan.last_four = {'1', '2', '3', '4'};
    pan.encrypted.size = kEncryptedPanSizeMax;
    pan.encrypted.bytes[0] = kEncryptedPanFormatVersion;
    Controls card_controls;
    card_controls.transaction_amount_max = 500'00;
    card_controls.monthly_amount_max = 5'000'00;
    (void)card_controls.DenyCountry(408);
    card_controls.channels_blocked = kChannelBitAtm;
    std::vector<PanToken> tokens(cards);
    for (uint32_t i = 0; i < cards; ++i) {
      const TenantId tenant(1 + i % kTenants);
      const uint64_t id = i + 1;
      MustApply(state, CreateUser{tenant, UserId(id)}, now);
      MustApply(
          state,
          CreateAccount{tenant, AccountId(id), ProgramId(1), UserId(id), LedgerAccountId(id), 840},
          now);
      for (size_t b = 0; b < kPanTokenSize; b += 8) {
        const uint64_t word = random.Next();
        std::memcpy(pan.token.bytes.data() + b, &word, 8);
      }
      tokens[i] = pan.token;
      CreateCard card;
      card.tenant_id = tenant;
      card.card_id = CardId(id);
      card.user_id = UserId(id);
      card.account_id = AccountId(id);
      card.expiry_year = 2030;
      card.expiry_month = 12;
      card.initial_status = CardStatus::kActive;
      card.pan = pan;
      MustApply(state, card, now);
      if (i % 5 == 0) {
        MustApply(state, SetControls{tenant, ControlLevel::kCard, id, card_controls}, now);
      }
    }
    const base::ZipfGenerator zipf(cards, 0.99);
    built->request_tokens.resize(kSamples);
    for (PanToken& token : built->request_tokens) {
      // Scatter the ranks so hot cards are not neighbours in memory.
      token = tokens[base::MixHash(zipf.Next(random)) % cards];
    }
    return built;
  }();
  return *world;
}

AuthorizationContext Purchase(uint64_t now_ns, uint64_t amount) {
  AuthorizationContext context;
  context.timestamp_ns = now_ns;
  context.amount_minor = amount;
  context.currency_numeric = 840;
  context.mcc = 5411;
  context.merchant_country_numeric = 840;
  context.channel = Channel::kCardPresent;
  context.merchant_id = *MerchantId::FromString("GROCER01");
  return context;
}

void BM_FindCardByPanToken(benchmark::State& bench) {
  const World& world = TheWorld();
  size_t i = 0;
  for (auto _ : bench) {
    const Card* card = world.state->FindCardByPanToken(world.request_tokens[i++ & (kSamples - 1)]);
    benchmark::DoNotOptimize(card);
  }
  bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(BM_FindCardByPanToken);

// Runs the memory prefetch stages for the request `i` will reach in a few
// iterations (state.h, PrefetchTokenIndex): what the engine can do over its
// batch.
void PrefetchAhead(const World& world, size_t i) {
  const IssuingState& state = *world.state;
  state.PrefetchTokenIndex(world.request_tokens[(i + 12) & (kSamples - 1)]);
  state.PrefetchCardCandidates(world.request_tokens[(i + 8) & (kSamples - 1)]);
  state.PrefetchCardDependents(
      *state.FindCardByPanToken(world.request_tokens[(i + 4) & (kSamples - 1)]));
}

// The issuing part of one authorization decision: lookup, card checks and
// every control level; with the prefetch pipeline when `pipelined`.
void BM_LookupAndCheckAuthorization(benchmark::State& bench, bool pipelined) {
  const World& world = TheWorld();
  const AuthorizationContext context = Purchase(world.now_ns, 42'00);
  size_t i = 0;
  uint64_t declines = 0;
  for (auto _ : bench) {
    if (pipelined) PrefetchAhead(world, i);
    const Card* card = world.state->FindCardByPanToken(world.request_tokens[i++ & (kSamples - 1)]);
    const DeclineReason reason = world.state->CheckAuthorization(*card, context);
    declines += reason != DeclineReason::kNone ? 1 : 0;
    benchmark::DoNotOptimize(reason);
  }
  bench.SetItemsProcessed(bench.iterations());
  bench.counters["decline_ratio"] =
      static_cast<double>(declines) / static_cast<double>(std::max<int64_t>(1, bench.iterations()));
}
BENCHMARK_CAPTURE(BM_LookupAndCheckAuthorization, one_at_a_time, false);
BENCHMARK_CAPTURE(BM_LookupAndCheckAuthorization, pipelined, true);

// Lookup, checks, and counting each approval at card, account and program.
void BM_AuthorizeAndCountSpend(benchmark::State& bench, bool pipelined) {
  const World& world = TheWorld();
  IssuingState& state = *world.state;
  uint64_t now_ns = world.now_ns;
  size_t i = 0;
  for (auto _ : bench) {
    now_ns += 1'000'000;  // 1000 authorizations per simulated second.
    if (pipelined) PrefetchAhead(world, i);
    const AuthorizationContext context = Purchase(now_ns, 1'00);
    const Card* card = state.FindCardByPanToken(world.request_tokens[i++ & (kSamples - 1)]);
    if (state.CheckAuthorization(*card, context) == DeclineReason::kNone) {
      benchmark::DoNotOptimize(state.AddCardSpend(*card, context.amount_minor, now_ns, true));
    }
  }
  bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK_CAPTURE(BM_AuthorizeAndCountSpend, one_at_a_time, false);
BENCHMARK_CAPTURE(BM_AuthorizeAndCountSpend, pipelined, true);

void BM_TokenizePan(benchmark::State& bench) {
  const PanVault vault(TestKey());
  std::vector<std::string> pans;
  for (uint64_t i = 0; i < 1024; ++i) pans.push_back(TestPan(i * 7919));
  size_t i = 0;
  PanToken token;
  for (auto _ : bench) {
    benchmark::DoNotOptimize(vault.TokenizeInto(pans[i++ & 1023], &token));
  }
  bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(BM_TokenizePan);

void BM_ProtectPan(benchmark::State& bench) {
  const PanVault vault(TestKey());
  const std::string pan = TestPan(12345);
  for (auto _ : bench) {
    benchmark::DoNotOptimize(vault.Protect(TenantId(1), CardId(7), pan));
  }
  bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(BM_ProtectPan);

void BM_EncodeDecodeRecordSpend(benchmark::State& bench) {
  const Command command = RecordSpend{TenantId(1), CardId(7), 12'34, NsAt(2026, 3, 11), true};
  uint8_t buffer[kCommandSizeMax];
  for (auto _ : bench) {
    base::Result<size_t> size = EncodeCommand(command, buffer);
    base::Result<Command> decoded = DecodeCommand({buffer, *size});
    benchmark::DoNotOptimize(decoded);
  }
  bench.SetItemsProcessed(bench.iterations());
}
BENCHMARK(BM_EncodeDecodeRecordSpend);

void BM_SerializeSnapshot(benchmark::State& bench) {
  const World& world = TheWorld();
  size_t bytes = 0;
  for (auto _ : bench) {
    const std::vector<uint8_t> snapshot = world.state->Serialize();
    bytes = snapshot.size();
    benchmark::DoNotOptimize(snapshot.data());
  }
  bench.SetBytesProcessed(static_cast<int64_t>(bytes) * bench.iterations());
  bench.counters["snapshot_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_SerializeSnapshot)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tangelo::issuing
