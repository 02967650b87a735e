// CoreStateMachine: construction, the batch loop, management entries,
// lookups, timers and invariants. The authorization pipeline is pipeline.cc,
// the snapshot snapshot.cc.
#include "authorizer/core_state_machine.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <variant>

#include "base/assert.h"
#include "base/limits.h"
#include "issuing/commands.h"
#include "issuing/slot_index.h"

namespace tangelo::authorizer {
namespace {

template <typename Value>
void Bump(std::atomic<Value>& counter) {
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void SetCode(engine::Reply& reply, ReplyCode code) { reply.code = static_cast<uint32_t>(code); }

}  // namespace

bool CoreCapacities::valid() const {
  return ledger.accounts_max >= 1 && ledger.accounts_max <= ledger::Ledger::kAccountsMax &&
         ledger.transfers_max >= 64 && ledger.transfers_max <= ledger::Ledger::kTransfersMax &&
         issuing.valid() && authorizations_max >= 1 && authorizations_max < (1u << 31) &&
         pending_client_decisions_max >= 1 &&
         pending_client_decisions_max <= authorizations_max && retransmissions_max >= 1 &&
         retransmissions_max < (1u << 31) && retransmission_window_ns > 0 &&
         advice_outbox_max >= 1 && advice_outbox_max < (1u << 31);
}

CoreStateMachine::CoreStateMachine(const CoreCapacities& capacities)
    : capacities_(capacities),
      authorizations_(capacities.authorizations_max, capacities.pending_client_decisions_max),
      retransmissions_(capacities.retransmissions_max, capacities.retransmission_window_ns),
      advices_(capacities.advice_outbox_max) {
  TG_ASSERT_MSG(capacities.valid(), "core capacities out of range");
  auto created = ledger::Ledger::Create(capacities.ledger);
  TG_ASSERT_MSG(created.ok(), created.status().ToString().c_str());
  ledger_ = std::move(created).value();
  issuing_ = std::make_unique<issuing::IssuingState>(capacities.issuing);
  ledger_account_of_slot_.reserve(capacities.issuing.accounts_max);
  staged_.resize(base::kBatchEntriesMax);
}

CoreStateMachine::~CoreStateMachine() = default;

void CoreStateMachine::PrefaultMemory() { ledger_->PrefaultMemory(); }

bool CoreStateMachine::IsReadOnly(uint16_t kind) const {
  switch (static_cast<EntryKind>(kind)) {
    case EntryKind::kLookupAuthorization:
    case EntryKind::kLookupBalance:
    case EntryKind::kReadAdvice:
      return true;
    default:
      return false;
  }
}

uint64_t CoreStateMachine::ApplyBatch(uint64_t timestamp_ns,
                                      std::span<const engine::EntryRef> entries,
                                      std::span<engine::Reply> replies) {
  TG_ASSERT(entries.size() == replies.size());
  TG_ASSERT_MSG(timestamp_ns < issuing::kTimestampNsMax - (1ULL << 40),
                "engine time is past the domain's range");
  cursor_ns_ = timestamp_ns;
  // Time-driven work changes state and takes timestamps, so it runs only in
  // batches the engine journals (a timer batch is empty; a batch of reads
  // alone is not journaled): replay then repeats it at the same timestamp.
  bool journaled = entries.empty();
  for (const engine::EntryRef& entry : entries) {
    if (!IsReadOnly(entry.kind)) {
      journaled = true;
      break;
    }
  }
  if (journaled) RunTimers(timestamp_ns + kTimerLookaheadNs);

  // The memory an authorization reads is scattered over hundreds of MiB;
  // stages a few entries ahead load it while earlier entries are decided
  // (see Prefetch*). The stages only hint the cache: they change nothing.
  const size_t count = entries.size();
  for (size_t ahead = 0; ahead < count && ahead < kPrefetchKeyDistance; ++ahead) {
    PrefetchKeyStage(entries[ahead], ahead);
  }
  for (size_t index = 0; index < count; ++index) {
    if (index + kPrefetchKeyDistance < count) {
      PrefetchKeyStage(entries[index + kPrefetchKeyDistance], index + kPrefetchKeyDistance);
    }
    if (index + kPrefetchCandidateDistance < count) {
      PrefetchCandidateStage(entries[index + kPrefetchCandidateDistance]);
    }
    if (index + kPrefetchCardDistance < count) {
      PrefetchCardStage(entries[index + kPrefetchCardDistance], index + kPrefetchCardDistance);
    }
    const engine::EntryRef& entry = entries[index];
    engine::Reply& reply = replies[index];
    const EntryKind kind = static_cast<EntryKind>(entry.kind);
    if (IsReadOnly(entry.kind)) {
      if (kind == EntryKind::kLookupAuthorization) {
        LookupAuthorization(entry.payload, reply);
      } else if (kind == EntryKind::kLookupBalance) {
        LookupBalance(entry.payload, reply);
      } else {
        ReadAdvice(entry.payload, reply);
      }
      continue;
    }
    const uint64_t entry_ns = TakeTimestamps(1);
    const bool measured = latency_histogram_ != nullptr && kind >= EntryKind::kAuthorize &&
                          kind <= EntryKind::kClientDecisionResult;
    const uint64_t started_ns = measured ? latency_clock_->MonotonicNs() : 0;
    switch (kind) {
      case EntryKind::kIssuingCommand:
        ApplyIssuingCommand(entry.payload, entry_ns, reply);
        break;
      case EntryKind::kFundAccount:
        ApplyFundAccount(entry.payload, reply);
        break;
      case EntryKind::kAuthorize:
        ApplyAuthorize(entry.payload, /*advice=*/false, entry_ns, Staged(index), reply);
        break;
      case EntryKind::kAdvice:
        ApplyAuthorize(entry.payload, /*advice=*/true, entry_ns, Staged(index), reply);
        break;
      case EntryKind::kIncrementalAuthorize:
        ApplyIncrement(entry.payload, entry_ns, reply);
        break;
      case EntryKind::kReverse:
        ApplyReverse(entry.payload, entry_ns, reply);
        break;
      case EntryKind::kClientDecisionResult:
        ApplyClientDecision(entry.payload, entry_ns, reply);
        break;
      case EntryKind::kAcknowledgeAdvices:
        ApplyAcknowledgeAdvices(entry.payload, reply);
        break;
      default:
        SetCode(reply, ReplyCode::kUnknownKind);
        break;
    }
    if (reply.code == static_cast<uint32_t>(ReplyCode::kMalformedEntry)) {
      Bump(stats_.malformed_entries);
    }
    if (measured) latency_histogram_->Record(latency_clock_->MonotonicNs() - started_ns);
  }
  const uint64_t used = cursor_ns_ - timestamp_ns;
  TG_ASSERT_MSG(used <= kTimerLookaheadNs, "a batch used more timestamps than the lookahead");
  return used;
}

uint64_t CoreStateMachine::NextTimerNs() const {
  return std::min({ledger_->NextExpiryNs(), authorizations_.NextExpiryNs(),
                   authorizations_.NextDeadlineNs()});
}

void CoreStateMachine::CheckInvariants() const {
  // The ledger asserts its balance invariants after every call; these are
  // the cheap checks of the authorizer's own bookkeeping.
  TG_ASSERT(authorizations_.live_count() <= authorizations_.capacity());
  TG_ASSERT(authorizations_.pending_count() <= capacities_.pending_client_decisions_max);
  TG_ASSERT(retransmissions_.size() <= retransmissions_.capacity());
}

// ---------------------------------------------------------------- prefetch

namespace {

// Copies the request of an authorization entry, if its bytes can be one (no
// other check: a wrong guess only costs a useless prefetch).
bool PeekAuthorization(const engine::EntryRef& entry, AuthorizationRequest* request) {
  const EntryKind kind = static_cast<EntryKind>(entry.kind);
  if ((kind != EntryKind::kAuthorize && kind != EntryKind::kAdvice) ||
      entry.payload.size() != sizeof(AuthorizationRequest)) {
    return false;
  }
  std::memcpy(request, entry.payload.data(), sizeof(AuthorizationRequest));
  return true;
}

}  // namespace

void CoreStateMachine::PrefetchKeyStage(const engine::EntryRef& entry, size_t index) {
  staged_[index] = StagedEntry{};
  AuthorizationRequest request;
  if (!PeekAuthorization(entry, &request)) return;
  // The key is computed once, here, and used when the entry is applied.
  staged_[index].key = KeyOf(request);
  staged_[index].keyed = true;
  retransmissions_.Prefetch(staged_[index].key);
  authorizations_.PrefetchKey(staged_[index].key);
  if ((request.flags & RequestFlags::kCardByPanToken) != 0) {
    issuing_->PrefetchTokenIndex(request.card.token());
  }
}

void CoreStateMachine::PrefetchCandidateStage(const engine::EntryRef& entry) const {
  AuthorizationRequest request;
  if (PeekAuthorization(entry, &request) && (request.flags & RequestFlags::kCardByPanToken) != 0) {
    issuing_->PrefetchCardCandidates(request.card.token());
  }
}

void CoreStateMachine::PrefetchCardStage(const engine::EntryRef& entry, size_t index) {
  AuthorizationRequest request;
  if (!PeekAuthorization(entry, &request)) return;
  const Card* card = FindCard(request.flags, request.card);
  if (card == nullptr) return;
  staged_[index].card = card;  // The lookup is done once, here.
  issuing_->PrefetchCardDependents(*card);
  issuing::PrefetchLine(ledger_account_of_slot_[card->account_slot]);
}

// ---------------------------------------------------------------- time

// `now_ns` is the batch timestamp plus kTimerLookaheadNs.
void CoreStateMachine::RunTimers(uint64_t now_ns) {
  ledger_->ExpirePending(now_ns, kLedgerExpiriesPerBatchMax);

  // Authorizations whose holds the ledger just released: give the spend back
  // and free the record.
  for (uint32_t count = 0;
       count < kAuthorizationExpiriesPerBatchMax && authorizations_.NextExpiryNs() <= now_ns;
       ++count) {
    const uint32_t slot = authorizations_.NextExpirySlot();
    const AuthorizationRecord& record = authorizations_.record(slot);
    // The ledger's expiry is bounded per batch too; what it has not reached
    // yet is released in the next batch, and so is this record.
    if (ledger_->FindPendingState(record.hold_transfer_id) == ledger::PendingState::kPending) {
      break;
    }
    if (record.state == AuthorizationState::kPendingClientDecision) {
      // A hold cannot outlive a deadline (days against seconds), but a record
      // must never be freed while the client step still points at it.
      ResolvePending(slot, ClientDecisionOutcome::kTimeout, 0, TakeTimestamps(1));
      continue;
    }
    const Card& card = issuing_->cards()[record.card_slot];
    (void)issuing_->RemoveCardSpend(card, record.total_held_minor(), record.authorized_at_ns,
                                    /*release_velocity=*/false);
    Bump(stats_.holds_expired);
    ReleaseAll(slot);  // Returns an advice's stand-in credit; the hold is gone already.
  }

  // Client decisions nobody answered in time: the program's stand-in decides.
  for (uint32_t count = 0;
       count < kDeadlinesPerBatchMax && authorizations_.NextDeadlineNs() <= now_ns; ++count) {
    CountDecision(ResolvePending(authorizations_.NextDeadlineSlot(),
                                 ClientDecisionOutcome::kTimeout, 0, TakeTimestamps(1)));
  }
}

// ---------------------------------------------------------------- management

bool CoreStateMachine::EnsureSystemAccounts(uint16_t currency_numeric) {
  ledger::Account accounts[3];
  uint32_t count = 0;
  for (SystemAccount kind :
       {SystemAccount::kFunding, SystemAccount::kSettlement, SystemAccount::kStandInOverdraft}) {
    const uint64_t id = SystemAccountId(kind, currency_numeric);
    if (ledger_->FindAccount(id) != nullptr) continue;
    ledger::Account& account = accounts[count++];
    account.id = id;
    account.currency = currency_numeric;
    account.code = static_cast<uint16_t>(kind) + 100;
  }
  if (count == 0) return true;
  if (ledger_->accounts_count() + count > capacities_.ledger.accounts_max) return false;
  ledger::CreateAccountResult results[3];
  ledger_->CreateAccounts(std::span(accounts, count), TakeTimestamps(count),
                          std::span(results, count));
  for (uint32_t index = 0; index < count; ++index) {
    TG_ASSERT_MSG(results[index] == ledger::CreateAccountResult::kOk,
                  "a system account of a validated currency could not be created");
  }
  return true;
}

void CoreStateMachine::ApplyIssuingCommand(std::span<const std::byte> payload, uint64_t entry_ns,
                                           engine::Reply& reply) {
  auto decoded = issuing::DecodeCommand(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
  if (!decoded.ok()) {
    SetCode(reply, ReplyCode::kMalformedEntry);
    return;
  }
  const issuing::Command& command = *decoded;
  // The ledger side of a command is checked first, so that the command and
  // its ledger accounts apply together or not at all.
  const auto* create_account = std::get_if<issuing::CreateAccount>(&command);
  if (create_account != nullptr) {
    const uint64_t ledger_id = create_account->ledger_account_id.value();
    if (ledger_id > kCallerIdMax) {
      SetCode(reply, ReplyCode::kReservedLedgerId);
      return;
    }
    if (ledger_id != 0 && ledger_->FindAccount(ledger_id) != nullptr) {
      SetCode(reply, ReplyCode::kLedgerAccountExists);
      return;
    }
    if (ledger_->accounts_count() >= capacities_.ledger.accounts_max) {
      SetCode(reply, ReplyCode::kLedgerCapacityExhausted);
      return;
    }
  }
  const auto* create_program = std::get_if<issuing::CreateProgram>(&command);
  if (create_program != nullptr &&
      ledger_->accounts_count() + 3 > capacities_.ledger.accounts_max &&
      ledger_->FindAccount(SystemAccountId(SystemAccount::kFunding,
                                           create_program->currency_numeric)) == nullptr) {
    SetCode(reply, ReplyCode::kLedgerCapacityExhausted);
    return;
  }

  const issuing::CommandResult result = issuing_->Apply(command, entry_ns);
  reply.detail = static_cast<uint32_t>(result);
  if (result != issuing::CommandResult::kOk) return;
  if (create_program != nullptr) {
    TG_ASSERT(EnsureSystemAccounts(create_program->currency_numeric));
  }
  if (create_account != nullptr) {
    ledger::Account account;
    account.id = create_account->ledger_account_id.value();
    account.user_data = create_account->account_id.value();
    account.currency = create_account->currency_numeric;
    account.code = kLedgerCodeCardAccount;
    account.flags = ledger::AccountFlags::kDebitsMustNotExceedCredits;
    ledger::CreateAccountResult created;
    ledger_->CreateAccounts(std::span(&account, 1), TakeTimestamps(1), std::span(&created, 1));
    TG_ASSERT_MSG(created == ledger::CreateAccountResult::kOk,
                  "the ledger account of a validated issuing account could not be created");
    // Issuing appends accounts, so the new one is the last.
    TG_ASSERT(issuing_->accounts().size() == ledger_account_of_slot_.size() + 1 &&
              issuing_->accounts().back().id == create_account->account_id);
    ledger_account_of_slot_.push_back(ledger_->FindAccount(account.id));
  }
}

void CoreStateMachine::ApplyFundAccount(std::span<const std::byte> payload,
                                        engine::Reply& reply) {
  FundAccountRequest request;
  if (!DecodeFundAccountRequest(payload, &request)) {
    SetCode(reply, ReplyCode::kMalformedEntry);
    return;
  }
  if (request.transfer_id > kCallerIdMax) {
    SetCode(reply, ReplyCode::kReservedLedgerId);
    return;
  }
  const issuing::Account* account = issuing_->FindAccount(issuing::TenantId(request.tenant_id),
                                                          issuing::AccountId(request.account_id));
  if (account == nullptr) {
    SetCode(reply, ReplyCode::kNotFound);
    return;
  }
  const uint64_t funding = SystemAccountId(SystemAccount::kFunding, account->currency_numeric);
  const uint64_t card_account = account->ledger_account_id.value();
  const bool credit = request.direction == static_cast<uint8_t>(FundingDirection::kCredit);
  ledger::Transfer transfer;
  transfer.id = request.transfer_id;
  transfer.debit_account_id = credit ? funding : card_account;
  transfer.credit_account_id = credit ? card_account : funding;
  transfer.amount = request.amount_minor;
  transfer.currency = request.currency_numeric;
  transfer.user_data = request.account_id;
  ledger::CreateTransferResult result;
  ledger_->CreateTransfers(std::span(&transfer, 1), TakeTimestamps(1), std::span(&result, 1));
  const ledger::Account& ledger_account = *ledger_->FindAccount(card_account);
  reply.detail = static_cast<uint32_t>(result);
  reply.values[0] = request.transfer_id;
  reply.values[1] = ledger::CreditNormalAvailable(ledger_account);
  reply.values[2] = ledger_account.credits_posted;
  reply.values[3] = ledger_account.debits_posted;
  reply.values[4] = ledger_account.debits_pending;
}

void CoreStateMachine::ApplyAcknowledgeAdvices(std::span<const std::byte> payload,
                                               engine::Reply& reply) {
  AcknowledgeAdvicesRequest request;
  if (!DecodeAcknowledgeAdvices(payload, &request)) {
    SetCode(reply, ReplyCode::kMalformedEntry);
    return;
  }
  reply.values[0] = advices_.Acknowledge(request.through_sequence);
  reply.values[1] = advices_.next_sequence();
}

// ---------------------------------------------------------------- lookups

void CoreStateMachine::LookupAuthorization(std::span<const std::byte> payload,
                                           engine::Reply& reply) const {
  LookupAuthorizationRequest request;
  if (!DecodeLookupAuthorization(payload, &request)) {
    SetCode(reply, ReplyCode::kMalformedEntry);
    return;
  }
  const uint32_t slot = authorizations_.Find(AuthorizationId(request.authorization_id));
  if (slot == AuthorizationTable::kNoSlot) {
    SetCode(reply, ReplyCode::kNotFound);
    return;
  }
  const AuthorizationRecord& record = authorizations_.record(slot);
  const Card& card = issuing_->cards()[record.card_slot];
  if (card.tenant_id.value() != request.tenant_id) {  // Another tenant's: absent.
    SetCode(reply, ReplyCode::kNotFound);
    return;
  }
  reply.detail = static_cast<uint32_t>(record.state) | (uint32_t{record.decision} << 8) |
                 (uint32_t{record.flags} << 16);
  reply.values[0] = card.id.value();
  reply.values[1] = record.held_amount_minor;
  reply.values[2] = record.stand_in_credit_minor;
  reply.values[3] = record.confirmed_amount_minor;
  reply.values[4] = record.authorized_at_ns;
  reply.values[5] = record.expires_at_ns;
  reply.values[6] = record.deadline_ns;
}

void CoreStateMachine::LookupBalance(std::span<const std::byte> payload,
                                     engine::Reply& reply) const {
  LookupBalanceRequest request;
  if (!DecodeLookupBalance(payload, &request)) {
    SetCode(reply, ReplyCode::kMalformedEntry);
    return;
  }
  const issuing::Account* account = issuing_->FindAccount(issuing::TenantId(request.tenant_id),
                                                          issuing::AccountId(request.account_id));
  if (account == nullptr) {
    SetCode(reply, ReplyCode::kNotFound);
    return;
  }
  const ledger::Account& ledger_account = *ledger_->FindAccount(account->ledger_account_id.value());
  reply.values[0] = ledger_account.credits_posted;
  reply.values[1] = ledger_account.debits_posted;
  reply.values[2] = ledger_account.debits_pending;
  reply.values[3] = ledger::CreditNormalAvailable(ledger_account);
  reply.values[4] = account->currency_numeric;
  reply.values[5] = ledger_account.id;
}

void CoreStateMachine::ReadAdvice(std::span<const std::byte> payload,
                                  engine::Reply& reply) const {
  ReadAdviceRequest request;
  if (!DecodeReadAdvice(payload, &request)) {
    SetCode(reply, ReplyCode::kMalformedEntry);
    return;
  }
  const AdviceRecord* record = advices_.ReadFrom(request.from_sequence);
  if (record == nullptr) {
    SetCode(reply, ReplyCode::kNotFound);
    return;
  }
  reply.detail = uint32_t{record->kind} | (uint32_t{record->decision} << 8) |
                 (uint32_t{record->client_outcome} << 16);
  reply.values[0] = record->sequence;
  reply.values[1] = record->authorization_id;
  reply.values[2] = record->tenant_id;
  reply.values[3] = record->card_id;
  reply.values[4] = record->amount_minor;
  reply.values[5] = record->recorded_at_ns;
  reply.values[6] = uint64_t{record->currency_numeric} | (uint64_t{record->reason} << 16);
}

// ---------------------------------------------------------------- helpers

const issuing::Card* CoreStateMachine::FindCard(uint8_t flags,
                                                const CardReference& reference) const {
  if ((flags & RequestFlags::kCardByPanToken) != 0) {
    return issuing_->FindCardByPanToken(reference.token());
  }
  return issuing_->FindCard(reference.tenant_id(), reference.card_id());
}

uint32_t CoreStateMachine::CardSlot(const Card& card) const {
  return static_cast<uint32_t>(&card - issuing_->cards().data());
}

const ledger::Account& CoreStateMachine::LedgerAccountOf(const Card& card) const {
  return *ledger_account_of_slot_[card.account_slot];
}

uint64_t CoreStateMachine::AvailableOf(const Card& card) const {
  return ledger::CreditNormalAvailable(LedgerAccountOf(card));
}

uint64_t CoreStateMachine::AvailableOf(const issuing::Account& account) const {
  const ledger::Account* ledger_account = ledger_->FindAccount(account.ledger_account_id.value());
  return ledger_account == nullptr ? 0 : ledger::CreditNormalAvailable(*ledger_account);
}

// ---------------------------------------------------------------- invariants

base::Status CoreStateMachine::CheckCrossReferences() const {
  // Every issuing account has its no-overdraft ledger account; every program
  // currency its system accounts.
  for (const issuing::Account& account : issuing_->accounts()) {
    const ledger::Account* ledger_account = ledger_->FindAccount(account.ledger_account_id.value());
    if (ledger_account == nullptr || ledger_account->currency != account.currency_numeric ||
        (ledger_account->flags & ledger::AccountFlags::kDebitsMustNotExceedCredits) == 0) {
      return base::DataLoss("issuing account " + std::to_string(account.id.value()) +
                            " has no matching ledger account");
    }
  }
  for (const issuing::Program& program : issuing_->programs()) {
    for (SystemAccount kind : {SystemAccount::kFunding, SystemAccount::kSettlement,
                               SystemAccount::kStandInOverdraft}) {
      if (ledger_->FindAccount(SystemAccountId(kind, program.currency_numeric)) == nullptr) {
        return base::DataLoss("a system account of currency " +
                              std::to_string(program.currency_numeric) + " is missing");
      }
    }
  }
  // Every live authorization's hold is a pending transfer from its card's
  // account to the settlement account with its amount, expiring when the
  // record says.
  const auto expires_at = [](const ledger::Transfer& transfer) {
    return transfer.timestamp + uint64_t{transfer.timeout_seconds} * 1'000'000'000ULL;
  };
  for (uint32_t slot = 0; slot < authorizations_.used_slots(); ++slot) {
    const AuthorizationRecord& record = authorizations_.record(slot);
    if (record.state == AuthorizationState::kFree) continue;
    const std::string where = "authorization slot " + std::to_string(slot);
    if (record.card_slot >= issuing_->cards().size()) {
      return base::DataLoss(where + " names a card that does not exist");
    }
    const Card& card = issuing_->cards()[record.card_slot];
    const issuing::Account& account = issuing_->AccountOf(card);
    uint64_t latest_expiry_ns = 0;
    const auto check_hold = [&](uint64_t transfer_id, uint64_t amount, uint64_t debit_id) {
      if (transfer_id == 0) return true;
      const ledger::Transfer* transfer = ledger_->FindTransfer(transfer_id);
      if (transfer == nullptr || transfer->amount != amount ||
          transfer->debit_account_id != debit_id ||
          transfer->credit_account_id !=
              SystemAccountId(SystemAccount::kSettlement, account.currency_numeric)) {
        return false;
      }
      const ledger::PendingState state = ledger_->FindPendingState(transfer_id);
      if (state != ledger::PendingState::kPending && state != ledger::PendingState::kExpired) {
        return false;
      }
      latest_expiry_ns = std::max<uint64_t>(latest_expiry_ns, expires_at(*transfer));
      return true;
    };
    if (record.hold_transfer_id == 0 ||
        !check_hold(record.hold_transfer_id, record.held_amount_minor,
                    account.ledger_account_id.value())) {
      return base::DataLoss(where + " names a hold the ledger does not hold as recorded");
    }
    if (record.expires_at_ns != latest_expiry_ns) {
      return base::DataLoss(where + " has an expiry that is not its holds'");
    }
  }
  return base::Status::Ok();
}

base::Status CoreStateMachine::CheckAllInvariants() const {
  TG_RETURN_IF_ERROR(ledger_->CheckAllInvariants());
  issuing_->CheckInvariants();
  TG_RETURN_IF_ERROR(authorizations_.CheckConsistency());
  return CheckCrossReferences();
}

}  // namespace tangelo::authorizer
