// tangelo bench authorize: durable authorizations through the engine and the
// authorizer's CoreStateMachine on a real directory.
//
// Setup (not timed) goes through the engine like any traffic: one tenant and
// program, a cardholder, an account (funded) and an active card per card
// number, and controls (daily limit, an MCC block, a velocity rule) on every
// fifth card. The timed phase submits purchase authorizations by PAN token,
// cards and merchants drawn from Zipf distributions, each with unique network
// ids, and counts a request only when its reply is released, after the
// fdatasync of its batch. Decision latency is the time each request spends in
// the pipeline on the engine thread (CoreStateMachine's recorder), not the
// queueing or the fsync; the client's real-time decision is off.
#include "app/bench.h"
#include "app/bench_authorize.h"

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "authorizer/core_state_machine.h"
#include "authorizer/entries.h"
#include "base/random.h"
#include "engine/engine.h"
#include "io/clock.h"
#include "io/env.h"
#include "issuing/commands.h"
#include "issuing/pan.h"
#include "telemetry/histogram.h"

namespace tangelo::app {
namespace {

using authorizer::AuthorizationRequest;
using authorizer::EntryKind;

constexpr uint16_t kUsd = 840;
constexpr uint64_t kFundingPerAccountMinor = 1'000'000'000;  // 10,000,000.00 USD.
constexpr uint32_t kCardsMax = 16'000'000;
constexpr uint32_t kTemplates = 1u << 20;  // Requests drawn before the timed phase.

// User + system CPU seconds of the whole process so far.
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& time) {
    return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The machine's 1-minute load average (other work competing for the cores).
double LoadAverage() {
  double load[1] = {0};
  return getloadavg(load, 1) == 1 ? load[0] : -1.0;
}

// Adds one to a zero-padded decimal counter of fixed width.
template <size_t N>
void IncrementDecimal(std::array<char, N>& digits) {
  for (size_t position = N; position-- > 0;) {
    if (digits[position] != '9') {
      ++digits[position];
      return;
    }
    digits[position] = '0';
  }
}

struct AuthorizeBenchOptions {
  uint64_t authorizations = 5'000'000;
  uint32_t cards = 1'000'000;
  uint32_t merchants = 100'000;
  double card_zipf = 0.8;
  double merchant_zipf = 1.0;
  uint32_t controls_every = 5;  // Every Nth card has controls (a fifth).
  uint32_t batch = 8190;
  uint32_t linger_us = 0;
  std::string data = "build/bench-data/authorize";
  uint64_t seed = 1;
};

// Counts replies on the journal thread.
class DecisionSink final : public engine::ReplySink {
 public:
  void Complete(uint64_t, const engine::Reply& reply) override {
    if (reply.code != 0) {
      errors_.fetch_add(1, std::memory_order_relaxed);
    } else {
      const auto decision = static_cast<authorizer::Decision>(reply.detail & 0xff);
      if (decision == authorizer::Decision::kApproved ||
          decision == authorizer::Decision::kPartiallyApproved) {
        approved_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    acknowledged_.fetch_add(1, std::memory_order_release);
  }
  uint64_t acknowledged() const { return acknowledged_.load(std::memory_order_acquire); }
  uint64_t approved() const { return approved_.load(std::memory_order_relaxed); }
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> acknowledged_{0};
  std::atomic<uint64_t> approved_{0};
  std::atomic<uint64_t> errors_{0};
};

void Submit(engine::Engine& engine, EntryKind kind, std::span<const std::byte> payload,
            engine::ReplySink* sink) {
  // A full queue is back-pressure: back off briefly rather than spin on the
  // engine's core.
  while (engine.TrySubmit(static_cast<uint16_t>(kind), payload, sink, 0) ==
         engine::SubmitResult::kQueueFull) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

void SubmitCommand(engine::Engine& engine, const issuing::Command& command,
                   engine::ReplySink* sink) {
  uint8_t bytes[issuing::kCommandSizeMax];
  auto size = issuing::EncodeCommand(command, bytes);
  TG_ASSERT_MSG(size.ok(), size.status().ToString().c_str());
  Submit(engine, EntryKind::kIssuingCommand, std::as_bytes(std::span(bytes, *size)), sink);
}

void WaitFor(const DecisionSink& sink, uint64_t count) {
  while (sink.acknowledged() < count) std::this_thread::sleep_for(std::chrono::microseconds(200));
}

// The card number of card `index`: a test BIN, the index, a Luhn digit.
std::string PanOf(uint32_t index) {
  char body[24];
  std::snprintf(body, sizeof(body), "489537%09u", index % 1'000'000'000u);
  return std::string(body) + *issuing::LuhnCheckDigit(body);
}

struct Merchant {
  std::array<char, 16> id{};
  uint16_t mcc = 0;
  uint16_t country = 0;
  uint8_t channel = 0;
};

std::vector<Merchant> MakeMerchants(uint32_t count, base::Random& random) {
  static constexpr uint16_t kMccs[] = {5411, 5812, 5814, 5541, 5311, 5999, 4121, 5732,
                                       5912, 7011, 4511, 5691, 5942, 7995, 6011};
  static constexpr uint16_t kCountries[] = {840, 840, 840, 840, 840, 840, 840, 124, 484, 826};
  std::vector<Merchant> merchants(count);
  for (uint32_t index = 0; index < count; ++index) {
    Merchant& merchant = merchants[index];
    std::snprintf(merchant.id.data(), merchant.id.size(), "MERCH%08u", index);
    merchant.mcc = kMccs[random.Uniform(std::size(kMccs))];
    merchant.country = kCountries[random.Uniform(std::size(kCountries))];
    merchant.channel = static_cast<uint8_t>(random.Chance(30) ? issuing::Channel::kEcommerce
                                                              : issuing::Channel::kCardPresent);
  }
  return merchants;
}

authorizer::CoreCapacities CapacitiesFor(const AuthorizeBenchOptions& options) {
  authorizer::CoreCapacities capacities;
  const uint64_t authorizations = options.authorizations + 1024;
  capacities.ledger.accounts_max = options.cards + 64;
  // Every approval is one hold; funding one transfer per account; the
  // reserve the core keeps for follow-ups (1/64 of the capacity) on top.
  capacities.ledger.transfers_max =
      static_cast<uint32_t>((authorizations + options.cards) * 66 / 64 + 4096);
  capacities.issuing.tenants_max = 4;
  capacities.issuing.programs_max = 4;
  capacities.issuing.users_max = options.cards;
  capacities.issuing.accounts_max = options.cards;
  capacities.issuing.cards_max = options.cards;
  capacities.issuing.controls_max = options.cards / options.controls_every + 16;
  capacities.authorizations_max = static_cast<uint32_t>(authorizations);
  capacities.pending_client_decisions_max = 1024;
  capacities.retransmissions_max = static_cast<uint32_t>(authorizations);
  return capacities;
}

// Tenant, program, and per card a user, a funded account and an active card
// (controls on every `controls_every`th). Returns the cards' PAN tokens.
std::vector<issuing::PanToken> Setup(engine::Engine& engine, const AuthorizeBenchOptions& options,
                                     DecisionSink& sink, uint64_t* submitted) {
  const issuing::TenantId tenant(1);
  const issuing::ProgramId program(1);
  SubmitCommand(engine, issuing::CreateTenant{tenant, *issuing::MakeName("Bench")}, &sink);
  SubmitCommand(engine,
                issuing::CreateProgram{tenant, program, *issuing::MakeName("Bench"), kUsd}, &sink);
  *submitted += 2;
  WaitFor(sink, *submitted);

  const auto key = issuing::PanKey::FromHex(
      "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90");
  const issuing::PanVault vault(*key);
  std::vector<issuing::PanToken> tokens(options.cards);
  base::Random random(options.seed * 7919);
  for (uint32_t index = 0; index < options.cards; ++index) {
    const uint64_t id = uint64_t{index} + 1;
    SubmitCommand(engine, issuing::CreateUser{tenant, issuing::UserId(id)}, &sink);
    SubmitCommand(engine,
                  issuing::CreateAccount{tenant, issuing::AccountId(id), program,
                                         issuing::UserId(id), issuing::LedgerAccountId(id), kUsd},
                  &sink);
    issuing::CreateCard card;
    card.tenant_id = tenant;
    card.card_id = issuing::CardId(id);
    card.user_id = issuing::UserId(id);
    card.account_id = issuing::AccountId(id);
    card.expiry_year = 2099;
    card.expiry_month = 12;
    card.initial_status = issuing::CardStatus::kActive;
    auto protected_pan = vault.Protect(tenant, card.card_id, PanOf(index));
    TG_ASSERT_MSG(protected_pan.ok(), protected_pan.status().ToString().c_str());
    card.pan = *protected_pan;
    tokens[index] = card.pan.token;
    SubmitCommand(engine, card, &sink);
    authorizer::FundAccountRequest funding;
    funding.direction = static_cast<uint8_t>(authorizer::FundingDirection::kCredit);
    funding.currency_numeric = kUsd;
    funding.tenant_id = tenant.value();
    funding.account_id = id;
    funding.transfer_id = id;
    funding.amount_minor = kFundingPerAccountMinor;
    Submit(engine, EntryKind::kFundAccount, authorizer::PayloadOf(funding), &sink);
    *submitted += 4;
    if (options.controls_every > 0 && index % options.controls_every == 0) {
      issuing::SetControls controls;
      controls.tenant_id = tenant;
      controls.level = issuing::ControlLevel::kCard;
      controls.target_id = id;
      controls.controls.daily_amount_max = random.Between(50'000, 500'000);
      (void)controls.controls.DenyMcc(7995, 7995);
      (void)controls.controls.AddVelocityRule(3600, 16);
      SubmitCommand(engine, controls, &sink);
      ++*submitted;
    }
    if (index % 100'000 == 99'999) {
      std::fprintf(stderr, "  setup: %u cards\n", index + 1);
    }
  }
  WaitFor(sink, *submitted);
  return tokens;
}

int RunAuthorizeBench(const AuthorizeBenchOptions& options) {
  io::Env& env = io::Env::Posix();
  io::Clock& clock = io::SystemClock::Instance();
  base::Status cleared = ClearJournalFiles(env, options.data);
  if (!cleared.ok()) {
    std::fprintf(stderr, "bench authorize: %s\n", cleared.ToString().c_str());
    return 1;
  }
  const authorizer::CoreCapacities capacities = CapacitiesFor(options);
  std::fprintf(stderr,
               "bench authorize: %u cards, %" PRIu64 " authorizations, %u merchants, zipf %.2f/%.2f\n",
               options.cards, options.authorizations, options.merchants, options.card_zipf,
               options.merchant_zipf);
  authorizer::CoreStateMachine machine(capacities);
  machine.PrefaultMemory();  // Page faults at start-up, not in the timed phase.
  telemetry::Histogram decision_ns;
  std::mutex batch_mutex;
  telemetry::Histogram batch_latency_us;
  engine::EngineOptions engine_options;
  engine_options.env = &env;
  engine_options.clock = &clock;
  engine_options.directory = options.data;
  engine_options.batch_entries_max = options.batch;
  engine_options.batch_linger_us = options.linger_us;
  engine_options.on_batch_durable = [&](uint32_t, uint64_t latency_ns) {
    std::lock_guard lock(batch_mutex);
    batch_latency_us.Record(latency_ns / 1000);
  };
  auto opened = engine::Engine::Open(engine_options, &machine);
  if (!opened.ok()) {
    std::fprintf(stderr, "bench authorize: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  engine::Engine& engine = **opened;
  engine.Start();

  DecisionSink setup_sink;
  uint64_t setup_submitted = 0;
  const uint64_t setup_start_ns = clock.MonotonicNs();
  const std::vector<issuing::PanToken> tokens =
      Setup(engine, options, setup_sink, &setup_submitted);
  const uint64_t setup_ms = (clock.MonotonicNs() - setup_start_ns) / 1'000'000;
  std::fprintf(stderr, "setup: %" PRIu64 " entries in %" PRIu64 " ms (%" PRIu64 " errors)\n",
               setup_submitted, setup_ms, setup_sink.errors());

  base::Random random(options.seed);
  const std::vector<Merchant> merchants = MakeMerchants(options.merchants, random);
  const base::ZipfGenerator card_zipf(options.cards, options.card_zipf);
  const base::ZipfGenerator merchant_zipf(options.merchants, options.merchant_zipf);
  // Ranks map to scattered cards, so the hot cards are not neighbours.
  const auto card_of_rank = [&](uint64_t rank) {
    return static_cast<uint32_t>((rank * 0x9E3779B1ULL) % options.cards);
  };

  // The producer stands for the front doors, whose work (reading frames,
  // tokenizing PANs) is not the core's: requests come from a ring of
  // templates drawn before the clock starts, each sent with unique network
  // ids (a decimal counter as RRN and STAN) and a fresh transmission time.
  std::vector<AuthorizationRequest> templates(kTemplates);
  for (AuthorizationRequest& request : templates) {
    const uint32_t card = card_of_rank(card_zipf.Next(random));
    const Merchant& merchant = merchants[merchant_zipf.Next(random)];
    request.type = static_cast<uint8_t>(authorizer::AuthorizationType::kPurchase);
    request.currency_numeric = kUsd;
    request.flags =
        authorizer::RequestFlags::kCardByPanToken | authorizer::RequestFlags::kHasNetworkIds;
    request.channel = merchant.channel;
    request.mcc = merchant.mcc;
    request.merchant_country_numeric = merchant.country;
    request.merchant_id = merchant.id;
    request.amount_minor = random.Between(100, 20'000);
    request.card = authorizer::CardReference::ByToken(tokens[card]);
  }
  authorizer::NetworkIds ids;
  ids.acquirer_id = 412345;
  ids.retrieval_reference.fill('0');
  std::memcpy(ids.terminal_id.data(), "TERM0001", 8);
  uint64_t transmission_time_ns = clock.RealtimeNs();
  // Only the timed phase is measured: the recorder starts now.
  machine.SetDecisionLatencyRecorder(&clock, &decision_ns);  // Before any timed entry.
  const uint64_t fsyncs_before = engine.stats().fsyncs.load();
  const uint64_t batches_before = engine.stats().batches_durable.load();
  const uint64_t bytes_before = engine.stats().journal_bytes.load();
  {
    std::lock_guard lock(batch_mutex);
    batch_latency_us.Reset();
  }
  DecisionSink sink;
  std::atomic<bool> done{false};
  const double cpu_before = ProcessCpuSeconds();
  const uint64_t start_ns = clock.MonotonicNs();
  std::thread progress([&] {
    uint64_t last = 0;
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      const uint64_t now = sink.acknowledged();
      std::fprintf(stderr, "  %6.1f s  %12" PRIu64 " authorizations  %10" PRIu64 " /s  queue %" PRIu64
                   "\n",
                   static_cast<double>(clock.MonotonicNs() - start_ns) / 1e9, now, now - last,
                   engine.queue_depth());
      last = now;
    }
  });
  AuthorizationRequest request;
  for (uint64_t index = 0; index < options.authorizations; ++index) {
    request = templates[index % kTemplates];
    if (index % 1024 == 0) transmission_time_ns = clock.RealtimeNs();
    request.transmission_time_ns = transmission_time_ns;
    IncrementDecimal(ids.retrieval_reference);
    ids.stan = static_cast<uint32_t>(index % 1'000'000);
    request.ids = authorizer::RequestIds::FromNetworkIds(ids);
    Submit(engine, EntryKind::kAuthorize, authorizer::PayloadOf(request), &sink);
  }
  WaitFor(sink, options.authorizations);
  const uint64_t end_ns = clock.MonotonicNs();
  // CPU of every thread of the process (producer, engine, journal) during
  // the timed phase: on a shared machine it says what the run would do alone.
  const double cpu_seconds = ProcessCpuSeconds() - cpu_before;
  done.store(true);
  progress.join();
  engine.Stop();

  const base::Status invariants = machine.CheckAllInvariants();
  if (!invariants.ok()) {
    std::fprintf(stderr, "bench authorize: invariants broken: %s\n", invariants.ToString().c_str());
    return 1;
  }
  const double seconds = static_cast<double>(end_ns - start_ns) / 1e9;
  const double per_second = static_cast<double>(options.authorizations) / seconds;
  const uint64_t fsyncs = engine.stats().fsyncs.load() - fsyncs_before;
  const uint64_t batches = engine.stats().batches_durable.load() - batches_before;
  const uint64_t journal_bytes = engine.stats().journal_bytes.load() - bytes_before;
  const auto micros = [&](double q) {
    return static_cast<double>(decision_ns.ValueAtQuantile(q)) / 1000.0;
  };
  std::lock_guard lock(batch_mutex);
  std::printf(
      "{\"benchmark\":\"authorize\",\"authorizations\":%" PRIu64 ",\"cards\":%u,\"merchants\":%u"
      ",\"card_zipf\":%.2f,\"merchant_zipf\":%.2f,\"cards_with_controls\":%u"
      ",\"authorizations_per_second\":%.0f,\"seconds\":%.3f,\"approved\":%" PRIu64
      ",\"declined\":%" PRIu64 ",\"errors\":%" PRIu64
      ",\"decision_latency_us_p50\":%.2f,\"decision_latency_us_p99\":%.2f"
      ",\"decision_latency_us_p999\":%.2f,\"decision_latency_us_max\":%.2f"
      ",\"durable_batch_latency_us_p50\":%" PRIu64 ",\"durable_batch_latency_us_p99\":%" PRIu64
      ",\"batches\":%" PRIu64 ",\"fsyncs\":%" PRIu64 ",\"authorizations_per_fsync\":%.1f"
      ",\"journal_bytes\":%" PRIu64 ",\"cpu_seconds\":%.3f,\"cpu_us_per_authorization\":%.3f"
      ",\"load_average_1m\":%.2f,\"setup_ms\":%" PRIu64 "}\n",
      options.authorizations, options.cards, options.merchants, options.card_zipf,
      options.merchant_zipf,
      options.controls_every == 0 ? 0 : (options.cards + options.controls_every - 1) /
                                            options.controls_every,
      per_second, seconds, sink.approved(), options.authorizations - sink.approved() - sink.errors(),
      sink.errors(), micros(0.50), micros(0.99), micros(0.999),
      static_cast<double>(decision_ns.Max()) / 1000.0, batch_latency_us.ValueAtQuantile(0.50),
      batch_latency_us.ValueAtQuantile(0.99), batches, fsyncs,
      fsyncs ? static_cast<double>(options.authorizations) / static_cast<double>(fsyncs) : 0.0,
      journal_bytes, cpu_seconds,
      cpu_seconds * 1e6 / static_cast<double>(options.authorizations), LoadAverage(), setup_ms);
  return sink.errors() == 0 ? 0 : 1;
}

}  // namespace

void AddBenchAuthorizeCommand(CLI::App& bench) {
  static AuthorizeBenchOptions options;
  CLI::App* command = bench.add_subcommand(
      "authorize", "Durable card authorizations through the engine and the authorizer");
  command->add_option("--authorizations", options.authorizations, "Timed authorizations")
      ->capture_default_str()->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000'000}));
  command->add_option("--cards", options.cards, "Cards (each with a user and a funded account)")
      ->capture_default_str()->check(CLI::Range(1u, kCardsMax));
  command->add_option("--merchants", options.merchants, "Merchants")
      ->capture_default_str()->check(CLI::Range(1u, 10'000'000u));
  command->add_option("--card-zipf", options.card_zipf, "Zipf exponent of card choice")
      ->capture_default_str()->check(CLI::Range(0.0, 5.0));
  command->add_option("--merchant-zipf", options.merchant_zipf, "Zipf exponent of merchant choice")
      ->capture_default_str()->check(CLI::Range(0.0, 5.0));
  command->add_option("--controls-every", options.controls_every,
                      "Every Nth card has controls (0 = none)")
      ->capture_default_str()->check(CLI::Range(0u, 1'000'000u));
  command->add_option("--batch", options.batch, "Entries per batch (max 8190)")
      ->capture_default_str()->check(CLI::Range(1u, 8190u));
  command->add_option("--linger-us", options.linger_us, "Group-commit linger (max 1000)")
      ->capture_default_str()->check(CLI::Range(0u, 1000u));
  command->add_option("--data", options.data,
                      "Directory for the journal (its journal files are removed first)")
      ->capture_default_str();
  command->add_option("--seed", options.seed, "Workload seed")->capture_default_str();
  command->callback([] { std::exit(RunAuthorizeBench(options)); });
}

}  // namespace tangelo::app
