// Test helpers for the authorizer: a CoreStateMachine driven batch by batch
// on a manual clock, with builders for issuing commands and requests, and a
// record of every journaled batch so tests can replay it. Test-only.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "authorizer/core_state_machine.h"
#include "authorizer/entries.h"
#include "base/assert.h"
#include "issuing/calendar.h"
#include "issuing/commands.h"
#include "issuing/pan.h"

namespace tangelo::authorizer::testing {

inline constexpr uint16_t kUsd = 840;
inline constexpr uint16_t kEur = 978;
inline constexpr uint64_t kSecondNs = 1'000'000'000ULL;

// Nanoseconds since the epoch of a UTC date and time (days_from_civil).
inline uint64_t NsAt(int year, unsigned month, unsigned day, unsigned hour = 0,
                     unsigned minute = 0, unsigned second = 0) {
  year -= month <= 2 ? 1 : 0;
  const int era = (year >= 0 ? year : year - 399) / 400;
  const unsigned year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  const int64_t days = int64_t{era} * 146097 + int64_t{day_of_era} - 719468;
  return static_cast<uint64_t>(days) * issuing::kNanosPerDay +
         (uint64_t{hour} * 3600 + uint64_t{minute} * 60 + second) * kSecondNs;
}

// A valid 16-digit PAN with a test BIN, `serial` and the Luhn digit.
inline std::string TestPan(uint64_t serial) {
  std::string body = std::to_string(serial);
  body = "411111" + std::string(9 - std::min<size_t>(9, body.size()), '0') + body;
  return body + *issuing::LuhnCheckDigit(body);
}

inline issuing::PanKey TestKey() {
  return *issuing::PanKey::FromHex(
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
}

inline CoreCapacities SmallCapacities() {
  CoreCapacities capacities;
  capacities.ledger = ledger::LedgerCapacities{4096, 1u << 16};
  capacities.issuing.tenants_max = 16;
  capacities.issuing.programs_max = 64;
  capacities.issuing.users_max = 1024;
  capacities.issuing.accounts_max = 1024;
  capacities.issuing.cards_max = 1024;
  capacities.issuing.controls_max = 1024;
  capacities.authorizations_max = 4096;
  capacities.pending_client_decisions_max = 256;
  capacities.retransmissions_max = 4096;
  capacities.advice_outbox_max = 256;
  return capacities;
}

// One batch as the engine would have journaled it.
struct JournaledBatch {
  uint64_t timestamp_ns = 0;
  std::vector<uint16_t> kinds;
  std::vector<std::vector<std::byte>> payloads;
};

class CoreHarness {
 public:
  explicit CoreHarness(const CoreCapacities& capacities = SmallCapacities(),
                       uint64_t start_ns = NsAt(2026, 3, 11, 12))
      : capacities_(capacities),
        machine_(std::make_unique<CoreStateMachine>(capacities)),
        vault_(TestKey()),
        now_ns_(start_ns) {}

  CoreStateMachine& machine() { return *machine_; }
  const issuing::PanVault& vault() const { return vault_; }
  uint64_t now_ns() const { return now_ns_; }
  void Advance(uint64_t delta_ns) { now_ns_ += delta_ns; }
  void SetNow(uint64_t now_ns) { now_ns_ = now_ns; }
  const std::vector<JournaledBatch>& journal() const { return journal_; }
  // The timestamp the last batch had.
  uint64_t last_batch_ns() const { return last_batch_ns_; }

  // Applies one batch at the harness clock, as the engine would.
  std::vector<engine::Reply> ApplyBatch(std::span<const uint16_t> kinds,
                                        std::span<const std::vector<std::byte>> payloads) {
    TG_ASSERT(kinds.size() == payloads.size());
    const uint64_t timestamp_ns = std::max(now_ns_, next_min_ns_);
    std::vector<engine::EntryRef> entries;
    JournaledBatch journaled;
    journaled.timestamp_ns = timestamp_ns;
    for (size_t index = 0; index < kinds.size(); ++index) {
      entries.push_back(engine::EntryRef{kinds[index], payloads[index]});
      if (!machine_->IsReadOnly(kinds[index])) {
        journaled.kinds.push_back(kinds[index]);
        journaled.payloads.push_back(payloads[index]);
      }
    }
    std::vector<engine::Reply> replies(kinds.size());
    const uint64_t used = machine_->ApplyBatch(timestamp_ns, entries, replies);
    machine_->CheckInvariants();
    if (!journaled.kinds.empty() || kinds.empty()) journal_.push_back(std::move(journaled));
    next_min_ns_ = timestamp_ns + std::max<uint64_t>(used, 1);
    last_batch_ns_ = timestamp_ns;
    return replies;
  }

  engine::Reply Apply(EntryKind kind, std::span<const std::byte> payload) {
    const uint16_t kinds[1] = {static_cast<uint16_t>(kind)};
    const std::vector<std::byte> payloads[1] = {
        std::vector<std::byte>(payload.begin(), payload.end())};
    return ApplyBatch(kinds, payloads)[0];
  }

  // An empty batch: whatever time-driven work is due at the clock happens.
  void Tick() { ApplyBatch({}, {}); }

  // Applies an issuing command; returns its CommandResult (or a reply code
  // above 999 as the result number when the core refused it).
  uint32_t Command(const issuing::Command& command) {
    const std::vector<uint8_t> bytes = issuing::EncodeCommandToVector(command);
    const engine::Reply reply =
        Apply(EntryKind::kIssuingCommand, std::as_bytes(std::span(bytes.data(), bytes.size())));
    return reply.code != 0 ? reply.code : reply.detail;
  }

  issuing::CreateCard MakeCard(issuing::TenantId tenant, issuing::CardId card,
                               issuing::UserId user, issuing::AccountId account,
                               const std::string& pan,
                               issuing::CardStatus status = issuing::CardStatus::kActive,
                               uint16_t expiry_year = 2030, uint8_t expiry_month = 12) const {
    issuing::CreateCard command;
    command.tenant_id = tenant;
    command.card_id = card;
    command.user_id = user;
    command.account_id = account;
    command.expiry_year = expiry_year;
    command.expiry_month = expiry_month;
    command.initial_status = status;
    command.pan = *vault_.Protect(tenant, card, pan);
    return command;
  }

  engine::Reply Fund(issuing::TenantId tenant, issuing::AccountId account, uint64_t amount_minor,
                     uint16_t currency = kUsd,
                     FundingDirection direction = FundingDirection::kCredit) {
    FundAccountRequest request;
    request.direction = static_cast<uint8_t>(direction);
    request.currency_numeric = currency;
    request.tenant_id = tenant.value();
    request.account_id = account.value();
    request.transfer_id = next_funding_id_++;
    request.amount_minor = amount_minor;
    return Apply(EntryKind::kFundAccount, PayloadOf(request));
  }

  // Builds tenant 1, program 10 (USD), user 100, account 1000 (ledger 5000)
  // and active card 7 expiring 12/2030, funded with `funding_minor`.
  void BuildBasicCard(uint64_t funding_minor) {
    const issuing::TenantId tenant(1);
    TG_ASSERT(Command(issuing::CreateTenant{tenant, *issuing::MakeName("Tenant")}) == 0);
    TG_ASSERT(Command(issuing::CreateProgram{tenant, issuing::ProgramId(10),
                                             *issuing::MakeName("Program"), kUsd}) == 0);
    TG_ASSERT(Command(issuing::CreateUser{tenant, issuing::UserId(100)}) == 0);
    TG_ASSERT(Command(issuing::CreateAccount{tenant, issuing::AccountId(1000),
                                             issuing::ProgramId(10), issuing::UserId(100),
                                             issuing::LedgerAccountId(5000), kUsd}) == 0);
    TG_ASSERT(Command(MakeCard(tenant, issuing::CardId(7), issuing::UserId(100),
                               issuing::AccountId(1000), TestPan(7))) == 0);
    if (funding_minor > 0) TG_ASSERT(Fund(tenant, issuing::AccountId(1000), funding_minor).detail == 0);
  }

  // A purchase on card (tenant 1, card_id) with network ids from `serial`.
  AuthorizationRequest Purchase(uint64_t card_id, uint64_t amount_minor, uint32_t serial) const {
    AuthorizationRequest request;
    request.type = static_cast<uint8_t>(AuthorizationType::kPurchase);
    request.channel = static_cast<uint8_t>(issuing::Channel::kCardPresent);
    request.currency_numeric = kUsd;
    request.mcc = 5411;
    request.merchant_country_numeric = 840;
    request.amount_minor = amount_minor;
    request.transmission_time_ns = now_ns_;
    request.card = CardReference::ById(issuing::TenantId(1), issuing::CardId(card_id));
    request.flags = RequestFlags::kHasNetworkIds;
    request.ids = RequestIds::FromNetworkIds(NetworkIdsOf(serial));
    std::memcpy(request.merchant_id.data(), "GROCER01", 8);
    return request;
  }

  static NetworkIds NetworkIdsOf(uint32_t serial) {
    NetworkIds ids;
    ids.acquirer_id = 123456;
    ids.stan = serial % 1'000'000;
    const std::string rrn = std::to_string(100000000000ULL + serial);
    std::memcpy(ids.retrieval_reference.data(), rrn.data(), 12);
    std::memcpy(ids.terminal_id.data(), "TERM0001", 8);
    return ids;
  }

  engine::Reply Authorize(const AuthorizationRequest& request) {
    return Apply(EntryKind::kAuthorize, PayloadOf(request));
  }

  // The machine's full state.
  std::vector<std::byte> Snapshot() const { return SnapshotOf(*machine_); }
  static std::vector<std::byte> SnapshotOf(const CoreStateMachine& machine) {
    std::vector<std::byte> bytes;
    machine.Serialize([&](const void* data, size_t size) {
      const auto* begin = static_cast<const std::byte*>(data);
      bytes.insert(bytes.end(), begin, begin + size);
    });
    return bytes;
  }

  // Replays the recorded journal into a fresh machine.
  std::unique_ptr<CoreStateMachine> Replay() const {
    auto replayed = std::make_unique<CoreStateMachine>(capacities_);
    for (const JournaledBatch& batch : journal_) {
      std::vector<engine::EntryRef> entries;
      for (size_t index = 0; index < batch.kinds.size(); ++index) {
        entries.push_back(engine::EntryRef{batch.kinds[index], batch.payloads[index]});
      }
      std::vector<engine::Reply> replies(entries.size());
      replayed->ApplyBatch(batch.timestamp_ns, entries, replies);
    }
    return replayed;
  }

 private:
  CoreCapacities capacities_;
  std::unique_ptr<CoreStateMachine> machine_;
  issuing::PanVault vault_;
  uint64_t now_ns_;
  uint64_t next_min_ns_ = 0;
  uint64_t last_batch_ns_ = 0;
  uint64_t next_funding_id_ = 1;
  std::vector<JournaledBatch> journal_;
};

}  // namespace tangelo::authorizer::testing
