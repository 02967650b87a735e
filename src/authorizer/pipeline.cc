// The authorization pipeline of CoreStateMachine: authorizations, advices,
// increments, reversals, the client's decision and the holds behind them.
// The order of the steps is the contract of docs/authorizer/pipeline.md.
#include <algorithm>

#include "authorizer/core_state_machine.h"
#include "base/assert.h"
#include "base/money.h"

namespace tangelo::authorizer {
namespace {

using issuing::DeclineReason;

constexpr uint64_t kNanosPerSecond = 1'000'000'000ULL;
constexpr uint64_t kNanosPerMillisecond = 1'000'000ULL;

template <typename Value>
void Bump(std::atomic<Value>& counter) {
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

bool IsFinancial(AuthorizationType type) {
  return type == AuthorizationType::kPurchase || type == AuthorizationType::kCashWithdrawal;
}

// The controls' view of a request, at the engine's time.
issuing::AuthorizationContext ContextOf(const AuthorizationRequest& request, uint64_t entry_ns,
                                        bool counts_toward_velocity) {
  issuing::AuthorizationContext context;
  context.timestamp_ns = entry_ns;
  context.amount_minor = request.amount_minor;
  context.currency_numeric = request.currency_numeric;
  context.mcc = request.mcc;
  context.merchant_country_numeric = request.merchant_country_numeric;
  context.channel = static_cast<issuing::Channel>(request.channel);
  context.contactless = (request.flags & RequestFlags::kContactless) != 0;
  context.counts_toward_velocity = counts_toward_velocity;
  // Decoding checked the bytes; FromString trims and rejects only "empty".
  std::string_view merchant(request.merchant_id.data());
  const auto merchant_id = issuing::MerchantId::FromString(merchant);
  if (merchant_id.has_value()) context.merchant_id = *merchant_id;
  context.expiry_year = request.card_expiry_year;
  context.expiry_month = request.card_expiry_month;
  return context;
}

// The time the card's expiry is checked at: the network's transmission time
// when it is plausible (so a purchase sent at 23:59:59 on the last day of the
// expiry month is not declined because it arrived a second later), else the
// engine's.
uint64_t TrustedTransmissionTime(uint64_t transmission_time_ns, uint64_t entry_ns) {
  if (transmission_time_ns == 0) return entry_ns;
  if (transmission_time_ns > entry_ns + kTransmissionTimeLeadMaxNs) return entry_ns;
  if (transmission_time_ns + kTransmissionTimeLagMaxNs < entry_ns) return entry_ns;
  return transmission_time_ns;
}

// The card step and the controls step, in the pipeline's order.
DeclineReason CheckCardAndControls(const issuing::IssuingState& state, const issuing::Card& card,
                                   const issuing::AuthorizationContext& context,
                                   uint64_t transmission_time_ns) {
  issuing::AuthorizationContext card_context = context;
  card_context.timestamp_ns = TrustedTransmissionTime(transmission_time_ns, context.timestamp_ns);
  const DeclineReason reason = state.CheckCard(card, card_context);
  if (reason != DeclineReason::kNone) return reason;
  return state.EvaluateCardControls(card, context);
}

DecisionReply Declined(DeclineReason reason, uint64_t entry_ns) {
  DecisionReply out;
  out.decision = Decision::kDeclined;
  out.reason = reason;
  out.authorized_at_ns = entry_ns;
  return out;
}

DecisionReply DecisionFromEntry(const RetransmissionEntry& entry) {
  DecisionReply out;
  out.decision = static_cast<Decision>(entry.detail & 0xff);
  out.reason = static_cast<DeclineReason>((entry.detail >> 8) & 0xffff);
  out.flags = static_cast<uint8_t>(entry.detail >> 24) | ReplyFlags::kRetransmission;
  out.authorization_id = AuthorizationId(entry.authorization_id);
  out.approved_amount_minor = entry.amount_minor;
  out.available_minor = entry.available_minor;
  out.held_amount_minor = entry.held_amount_minor;
  out.authorized_at_ns = entry.recorded_at_ns;
  return out;
}

uint32_t DetailOf(const DecisionReply& decision) {
  return static_cast<uint32_t>(decision.decision) |
         (static_cast<uint32_t>(decision.reason) << 8) |
         (static_cast<uint32_t>(decision.flags & ~ReplyFlags::kRetransmission) << 24);
}

}  // namespace

// ---------------------------------------------------------------- helpers

DecisionReply CoreStateMachine::FinalReplyOf(uint32_t slot, uint64_t approved_amount_minor) const {
  const AuthorizationRecord& record = authorizations_.record(slot);
  const Card& card = issuing_->cards()[record.card_slot];
  DecisionReply out;
  out.authorization_id = authorizations_.IdOf(slot);
  out.authorized_at_ns = record.authorized_at_ns;
  out.approved_amount_minor = approved_amount_minor;
  out.held_amount_minor = record.total_held_minor();
  out.available_minor = AvailableOf(card);
  if (record.state == AuthorizationState::kPendingClientDecision) {
    out.decision = Decision::kPendingClientDecision;
    out.tenant_id = card.tenant_id;
    out.program_id = issuing_->ProgramOf(card).id;
    out.card_id = card.id;
    out.user_id = card.user_id;
    out.deadline_ns = record.deadline_ns;
    return out;
  }
  out.decision = static_cast<Decision>(record.decision);
  if ((record.flags & AuthorizationFlags::kStandIn) != 0) out.flags |= ReplyFlags::kStandIn;
  if ((record.flags & AuthorizationFlags::kAdvice) != 0) out.flags |= ReplyFlags::kAdvice;
  return out;
}

void CoreStateMachine::Remember(const RequestKey& key, EntryKind kind,
                                const DecisionReply& decision, uint64_t entry_ns) {
  if (!key.valid()) return;
  RetransmissionEntry entry;
  entry.key_high = key.high;
  entry.key_low = key.low;
  entry.recorded_at_ns = entry_ns;
  entry.detail = DetailOf(decision);
  entry.kind = static_cast<uint16_t>(kind);
  entry.authorization_id = decision.authorization_id.value();
  entry.amount_minor = decision.approved_amount_minor;
  entry.available_minor = decision.available_minor;
  entry.held_amount_minor = decision.held_amount_minor;
  retransmissions_.Insert(entry, entry_ns);
}

void CoreStateMachine::UpdateRemembered(const RequestKey& key, const DecisionReply& decision,
                                        uint64_t entry_ns) {
  RetransmissionEntry* entry = retransmissions_.Find(key, entry_ns);
  if (entry == nullptr) return;  // No ids, or remembered no longer.
  entry->detail = DetailOf(decision);
  entry->authorization_id = decision.authorization_id.value();
  entry->amount_minor = decision.approved_amount_minor;
  entry->available_minor = decision.available_minor;
  entry->held_amount_minor = decision.held_amount_minor;
}

void CoreStateMachine::CountDecision(const DecisionReply& decision) {
  switch (decision.decision) {
    case Decision::kApproved: Bump(stats_.approvals); break;
    case Decision::kPartiallyApproved: Bump(stats_.partial_approvals); break;
    case Decision::kDeclined: Bump(stats_.declines); break;
    case Decision::kPendingClientDecision: Bump(stats_.pending_client_decisions); break;
    case Decision::kNone: break;
  }
}

void CoreStateMachine::AddAdvice(AdviceKind kind, const DecisionReply& decision, const Card* card,
                                 uint64_t amount_minor, uint16_t currency_numeric,
                                 ClientDecisionOutcome outcome, uint64_t entry_ns) {
  AdviceRecord record;
  record.authorization_id = decision.authorization_id.value();
  record.tenant_id = card != nullptr ? card->tenant_id.value() : 0;
  record.card_id = card != nullptr ? card->id.value() : 0;
  record.amount_minor = amount_minor;
  record.recorded_at_ns = entry_ns;
  record.reason = static_cast<uint16_t>(decision.reason);
  record.currency_numeric = currency_numeric;
  record.kind = static_cast<uint8_t>(kind);
  record.decision = static_cast<uint8_t>(decision.decision);
  record.client_outcome = kind == AdviceKind::kClientStandIn ? static_cast<uint8_t>(outcome) : 0;
  advices_.Append(record);
}

bool CoreStateMachine::HasHoldRoom() const {
  // New money needs a free record and ledger room for its chain, and leaves a
  // reserve of transfers so that voids and shrinks (which follow-ups of live
  // authorizations need) always fit.
  const uint64_t reserve = capacities_.ledger.transfers_max / 64 + 4;
  return !authorizations_.full() &&
         uint64_t{ledger_->transfers_count()} + reserve <= capacities_.ledger.transfers_max;
}

uint32_t CoreStateMachine::FindOriginal(const OriginalReference& original,
                                        const RequestKey& original_key,
                                        const Card& card) const {
  const uint32_t slot = original.authorization_id != 0
                            ? authorizations_.Find(AuthorizationId(original.authorization_id))
                            : authorizations_.FindByKey(original_key);
  if (slot == AuthorizationTable::kNoSlot) return slot;
  // Another card's authorization is not this request's to touch.
  return authorizations_.record(slot).card_slot == CardSlot(card) ? slot
                                                                 : AuthorizationTable::kNoSlot;
}

DecisionReply CoreStateMachine::Repeat(const RetransmissionEntry& original,
                                       const RequestKey& key) {
  Bump(stats_.retransmissions);
  DecisionReply out = DecisionFromEntry(original);
  if (out.decision == Decision::kPendingClientDecision) {
    // Still waiting for the client: the live record has the details.
    const uint32_t slot = authorizations_.Find(out.authorization_id);
    if (slot != AuthorizationTable::kNoSlot &&
        authorizations_.record(slot).pending_key() == key) {
      out = FinalReplyOf(slot, out.approved_amount_minor);
      out.flags |= ReplyFlags::kRetransmission;
    }
  }
  out.response_code = ResponseCodeOf(out.decision, out.reason, out.flags);
  return out;
}

CoreStateMachine::Funds CoreStateMachine::DecideFunds(const Card& card,
                                                      const AuthorizationRequest& request) {
  Funds funds{request.amount_minor, Decision::kApproved, DeclineReason::kNone};
  const uint64_t available = AvailableOf(card);
  if (available < funds.hold_minor) {
    if ((request.flags & RequestFlags::kPartialApprovalSupported) == 0 || available == 0) {
      funds.reason = DeclineReason::kInsufficientFunds;
      return funds;
    }
    funds.hold_minor = available;
    funds.decision = Decision::kPartiallyApproved;
  }
  if (!HasHoldRoom()) {
    Bump(stats_.authorization_table_full);
    funds.reason = DeclineReason::kSystemError;
  }
  return funds;
}

DecisionReply CoreStateMachine::AwaitClient(uint32_t slot, const RequestKey& key,
                                            const issuing::RealtimeDecisionSettings& settings,
                                            uint64_t pending_minor, uint64_t entry_ns) {
  AuthorizationRecord& record = authorizations_.record(slot);
  record.state = AuthorizationState::kPendingClientDecision;
  record.pending_key_high = key.high;
  record.pending_key_low = key.low;
  if (!authorizations_.CanAddDeadline()) {
    // Too many decisions in flight: as if the client were unavailable.
    record.deadline_ns = entry_ns;  // Not in the heap; ResolvePending copes.
    return ResolvePending(slot, ClientDecisionOutcome::kRefused, 0, entry_ns);
  }
  // The engine answers "pending" now, and the final decision when the
  // outcome (or the deadline) comes back.
  authorizations_.SetDeadline(slot, entry_ns +
                                        uint64_t{settings.deadline_ms} * kNanosPerMillisecond +
                                        kClientDecisionGraceNs);
  return FinalReplyOf(slot, pending_minor);
}

// ---------------------------------------------------------------- holds

bool CoreStateMachine::StillHeld(uint64_t transfer_id, uint64_t at_ns) const {
  if (transfer_id == 0 || ledger_->FindPendingState(transfer_id) != ledger::PendingState::kPending) {
    return false;
  }
  const ledger::Transfer& transfer = *ledger_->FindTransfer(transfer_id);
  return transfer.timeout_seconds == 0 ||
         transfer.timestamp + uint64_t{transfer.timeout_seconds} * kNanosPerSecond > at_ns;
}

uint32_t CoreStateMachine::RemainingHoldSeconds(uint32_t slot) const {
  const uint64_t expires_at_ns = authorizations_.record(slot).expires_at_ns;
  const uint64_t remaining_ns = expires_at_ns > cursor_ns_ ? expires_at_ns - cursor_ns_ : 0;
  const uint64_t seconds = (remaining_ns + kNanosPerSecond - 1) / kNanosPerSecond;
  return static_cast<uint32_t>(
      std::clamp<uint64_t>(seconds, 1, ledger::Ledger::kPendingTimeoutSecondsMax));
}

ledger::CreateTransferResult CoreStateMachine::ReplaceHolds(uint32_t slot, uint64_t hold_minor,
                                                            uint64_t stand_in_credit_minor,
                                                            uint32_t timeout_seconds) {
  AuthorizationRecord& record = authorizations_.record(slot);
  const Card& card = issuing_->cards()[record.card_slot];
  const issuing::Account& account = issuing_->AccountOf(card);
  const uint16_t currency = account.currency_numeric;
  const uint64_t card_account = account.ledger_account_id.value();
  const uint64_t overdraft = SystemAccountId(SystemAccount::kStandInOverdraft, currency);
  const uint64_t authorization_id = authorizations_.IdOf(slot).value();
  const uint64_t first_ns = cursor_ns_;  // Event i of the chain gets first_ns + i.

  // A hold that fell due but that the ledger has not expired yet (its expiry
  // is bounded per batch and the backlog is long) can be neither voided nor
  // replaced: it is expiring.
  if (record.hold_transfer_id != 0 && !StillHeld(record.hold_transfer_id, first_ns) &&
      ledger_->FindPendingState(record.hold_transfer_id) == ledger::PendingState::kPending) {
    return ledger::CreateTransferResult::kPendingTransferExpired;
  }
  ledger::Transfer chain[3];
  uint32_t count = 0;
  // 1. Void the old hold (one the ledger already released needs no void).
  if (StillHeld(record.hold_transfer_id, first_ns)) {
    ledger::Transfer& transfer = chain[count++];
    transfer.id = NewTransferId();
    transfer.pending_id = record.hold_transfer_id;
    transfer.flags = ledger::TransferFlags::kVoidPendingTransfer;
  }
  // 2. Lend or return the difference in stand-in credit (before the new hold,
  //    so a larger loan is there to be held, and a return comes out of what
  //    the void just freed).
  if (stand_in_credit_minor != record.stand_in_credit_minor) {
    const bool lend = stand_in_credit_minor > record.stand_in_credit_minor;
    ledger::Transfer& transfer = chain[count++];
    transfer.id = NewTransferId();
    transfer.debit_account_id = lend ? overdraft : card_account;
    transfer.credit_account_id = lend ? card_account : overdraft;
    transfer.amount = lend ? stand_in_credit_minor - record.stand_in_credit_minor
                           : record.stand_in_credit_minor - stand_in_credit_minor;
    transfer.user_data = authorization_id;
    transfer.currency = currency;
  }
  // 3. The new hold.
  const uint32_t hold_index = count;
  if (hold_minor > 0) {
    ledger::Transfer& transfer = chain[count++];
    transfer.id = NewTransferId();
    transfer.debit_account_id = card_account;
    transfer.credit_account_id = SystemAccountId(SystemAccount::kSettlement, currency);
    transfer.amount = hold_minor;
    transfer.user_data = authorization_id;
    transfer.timeout_seconds = timeout_seconds;
    transfer.currency = currency;
    transfer.flags = ledger::TransferFlags::kPending;
  }
  if (count > 0) {
    for (uint32_t index = 0; index + 1 < count; ++index) {
      chain[index].flags |= ledger::TransferFlags::kLinked;
    }
    ledger::CreateTransferResult results[3];
    ledger_->CreateTransfers(std::span(chain, count), TakeTimestamps(count),
                             std::span(results, count));
    for (uint32_t index = 0; index < count; ++index) {
      if (results[index] != ledger::CreateTransferResult::kOk &&
          results[index] != ledger::CreateTransferResult::kLinkedEventFailed) {
        return results[index];
      }
    }
  }
  record.hold_transfer_id = hold_minor > 0 ? chain[hold_index].id : 0;
  record.held_amount_minor = hold_minor;
  record.stand_in_credit_minor = stand_in_credit_minor;
  if (hold_minor > 0) {
    // The ledger's rule: a hold expires at its timestamp plus its timeout.
    authorizations_.SetExpiry(
        slot, first_ns + hold_index + uint64_t{timeout_seconds} * kNanosPerSecond);
  } else {
    authorizations_.ClearExpiry(slot);
  }
  return ledger::CreateTransferResult::kOk;
}

void CoreStateMachine::ReleaseAll(uint32_t slot) {
  // If the ledger cannot take the chain (it is full despite the reserve),
  // the hold stays until its timeout releases it: money is never lost, only
  // held longer; the failure is counted.
  const ledger::CreateTransferResult result = ReplaceHolds(slot, 0, 0, 1);
  if (result != ledger::CreateTransferResult::kOk &&
      result != ledger::CreateTransferResult::kPendingTransferExpired) {
    Bump(stats_.release_failures);
  }
  authorizations_.Release(slot);
}

// ---------------------------------------------------------------- authorization

void CoreStateMachine::ApplyAuthorize(std::span<const std::byte> payload, bool advice,
                                      uint64_t entry_ns, const StagedEntry* staged,
                                      engine::Reply& reply) {
  AuthorizationRequest request;
  if (!DecodeAuthorizationRequest(payload, &request)) {
    reply.code = static_cast<uint32_t>(ReplyCode::kMalformedEntry);
    return;
  }
  Bump(advice ? stats_.advices : stats_.authorizations);
  // The stages worked on these very bytes.
  const RequestKey key = staged != nullptr ? staged->key : KeyOf(request);
  const Card* staged_card = staged != nullptr ? staged->card : nullptr;
  RetransmissionEntry* original = retransmissions_.Find(key, entry_ns);
  // An advice of a request we declined is the network approving it in stand-in:
  // it is recorded and held now. Anything else with the same ids is a
  // retransmission and gets the original answer.
  const bool advice_overrides =
      advice && original != nullptr &&
      static_cast<Decision>(original->detail & 0xff) == Decision::kDeclined;
  if (original != nullptr && !advice_overrides) {
    EncodeDecisionReply(Repeat(*original, key), &reply);
    return;
  }
  // Remembered no longer (past the window) but still holding: the same
  // transaction all the same, never a second hold.
  const uint32_t live = authorizations_.FindByKey(key);
  if (live != AuthorizationTable::kNoSlot) {
    Bump(stats_.retransmissions);
    DecisionReply out = FinalReplyOf(live, authorizations_.record(live).confirmed_amount_minor);
    out.flags |= ReplyFlags::kRetransmission;
    out.response_code = ResponseCodeOf(out.decision, out.reason, out.flags);
    EncodeDecisionReply(out, &reply);
    return;
  }
  if (advice) {
    Advise(request, key, staged_card, advice_overrides ? original : nullptr, entry_ns, reply);
  } else {
    Authorize(request, key, staged_card, entry_ns, reply);
  }
}

void CoreStateMachine::Authorize(const AuthorizationRequest& request, const RequestKey& key,
                                 const Card* staged_card, uint64_t entry_ns,
                                 engine::Reply& reply) {
  const AuthorizationType type = static_cast<AuthorizationType>(request.type);
  const bool financial = IsFinancial(type);
  DecisionReply out = Declined(DeclineReason::kNone, entry_ns);
  const Card* card = nullptr;

  // 1. Validate: amount and currency.
  if (financial ? request.amount_minor == 0 || request.amount_minor > kAmountMinorMax
                : request.amount_minor != 0) {
    out.reason = DeclineReason::kInvalidAmount;
  } else if (!base::CurrencyFromNumeric(request.currency_numeric).has_value()) {
    out.reason = DeclineReason::kCurrencyNotSupported;
  } else if ((card = staged_card != nullptr ? staged_card
                                             : FindCard(request.flags, request.card)) ==
             nullptr) {
    // 2. Card: exists.
    out.reason = DeclineReason::kCardNotFound;
  } else {
    // 3-5. Card status and expiry, cardholder, controls.
    const issuing::AuthorizationContext context = ContextOf(request, entry_ns, financial);
    out.reason =
        CheckCardAndControls(*issuing_, *card, context, request.transmission_time_ns);
  }

  if (card != nullptr && out.reason == DeclineReason::kNone) {
    if (!financial) {
      // Balance inquiry and account verification: no money moves.
      out.decision = Decision::kApproved;
    } else {
      // 6. Funds: the hold.
      const Funds funds = DecideFunds(*card, request);
      out.reason = funds.reason;
      if (out.reason == DeclineReason::kNone) {
        PlaceAuthorization(request, key, *card, funds.hold_minor, funds.decision, entry_ns, &out);
      }
    }
  }
  if (card != nullptr) out.available_minor = AvailableOf(*card);
  out.response_code = ResponseCodeOf(out.decision, out.reason, out.flags);
  Remember(key, EntryKind::kAuthorize, out, entry_ns);
  CountDecision(out);
  EncodeDecisionReply(out, &reply);
}

void CoreStateMachine::PlaceAuthorization(const AuthorizationRequest& request,
                                          const RequestKey& key, const Card& card,
                                          uint64_t hold_minor, Decision decision,
                                          uint64_t entry_ns, DecisionReply* out) {
  const issuing::RealtimeDecisionSettings& settings =
      issuing_->ProgramOf(card).realtime_decision;
  const uint32_t slot = authorizations_.Allocate();
  TG_ASSERT(slot != AuthorizationTable::kNoSlot);  // HasHoldRoom() said so.
  AuthorizationRecord& record = authorizations_.record(slot);
  record.card_slot = CardSlot(card);
  record.mcc = request.mcc;
  record.authorized_at_ns = entry_ns;
  record.decision = static_cast<uint8_t>(decision);
  if ((request.flags & RequestFlags::kPartialApprovalSupported) != 0) {
    record.flags |= AuthorizationFlags::kPartialApprovalSupported;
  }
  const ledger::CreateTransferResult result =
      ReplaceHolds(slot, hold_minor, 0, issuing_->HoldExpirySeconds(card, request.mcc));
  if (result != ledger::CreateTransferResult::kOk) {
    authorizations_.Release(slot);
    out->reason = result == ledger::CreateTransferResult::kExceedsCredits
                      ? DeclineReason::kInsufficientFunds
                      : DeclineReason::kSystemError;
    return;
  }
  if (key.valid()) {
    record.key_high = key.high;
    record.key_low = key.low;
    authorizations_.IndexKey(slot);
  }
  // Spend counts from the provisional hold on, so that requests decided while
  // the client thinks cannot together pass a limit (the strictest reading).
  (void)issuing_->AddCardSpend(card, hold_minor, entry_ns, /*counts_toward_velocity=*/true);

  if (settings.required) {
    // 7. The client decides.
    *out = AwaitClient(slot, key, settings, hold_minor, entry_ns);
    out->authorized_at_ns = entry_ns;
    return;
  }
  record.confirmed_amount_minor = hold_minor;
  *out = FinalReplyOf(slot, hold_minor);
}

void CoreStateMachine::Advise(const AuthorizationRequest& request, const RequestKey& key,
                              const Card* staged_card, RetransmissionEntry* declined_original,
                              uint64_t entry_ns, engine::Reply& reply) {
  // The network already approved: nothing here may decline. What cannot be
  // held is recorded as not held, with the reason.
  DecisionReply out;
  out.decision = Decision::kApproved;
  out.flags = ReplyFlags::kAdvice;
  out.approved_amount_minor = request.amount_minor;
  out.authorized_at_ns = entry_ns;
  const Card* card =
      staged_card != nullptr ? staged_card : FindCard(request.flags, request.card);
  const uint64_t amount = request.amount_minor;
  if (card == nullptr) {
    out.reason = DeclineReason::kCardNotFound;
  } else if (!IsFinancial(static_cast<AuthorizationType>(request.type)) || amount == 0 ||
             amount > kAmountMinorMax) {
    out.reason = DeclineReason::kInvalidAmount;
  } else if (request.currency_numeric != issuing_->AccountOf(*card).currency_numeric) {
    out.reason = DeclineReason::kCurrencyNotSupported;
  } else if (!HasHoldRoom()) {
    Bump(stats_.authorization_table_full);
    out.reason = DeclineReason::kSystemError;
  } else {
    // What the card account cannot cover is lent by the stand-in overdraft
    // account, so all of it is held and the card account never goes below
    // zero.
    const uint64_t card_part = std::min(amount, AvailableOf(*card));
    const uint32_t slot = authorizations_.Allocate();
    AuthorizationRecord& record = authorizations_.record(slot);
    record.card_slot = CardSlot(*card);
    record.mcc = request.mcc;
    record.authorized_at_ns = entry_ns;
    record.decision = static_cast<uint8_t>(Decision::kApproved);
    record.flags = AuthorizationFlags::kAdvice;
    const ledger::CreateTransferResult result = ReplaceHolds(
        slot, amount, amount - card_part, issuing_->HoldExpirySeconds(*card, request.mcc));
    if (result != ledger::CreateTransferResult::kOk) {
      authorizations_.Release(slot);
      out.reason = DeclineReason::kSystemError;
    } else {
      if (key.valid()) {
        record.key_high = key.high;
        record.key_low = key.low;
        authorizations_.IndexKey(slot);
      }
      record.confirmed_amount_minor = amount;
      (void)issuing_->AddCardSpend(*card, amount, entry_ns, /*counts_toward_velocity=*/true);
      out = FinalReplyOf(slot, amount);
    }
  }
  if (out.reason != DeclineReason::kNone) out.flags |= ReplyFlags::kNotHeld;
  if (card != nullptr) out.available_minor = AvailableOf(*card);
  out.response_code = ResponseCodeOf(out.decision, out.reason, out.flags);
  AddAdvice(AdviceKind::kNetworkStandIn, out, card, amount, request.currency_numeric,
            ClientDecisionOutcome::kApprove, entry_ns);
  if (declined_original != nullptr) {
    UpdateRemembered(key, out, entry_ns);
  } else {
    Remember(key, EntryKind::kAdvice, out, entry_ns);
  }
  CountDecision(out);
  EncodeDecisionReply(out, &reply);
}

// ---------------------------------------------------------------- increments

void CoreStateMachine::ApplyIncrement(std::span<const std::byte> payload, uint64_t entry_ns,
                                      engine::Reply& reply) {
  IncrementalRequest increment;
  if (!DecodeIncrementalRequest(payload, &increment)) {
    reply.code = static_cast<uint32_t>(ReplyCode::kMalformedEntry);
    return;
  }
  Bump(stats_.increments);
  const AuthorizationRequest& request = increment.request;
  const RequestKey key = KeyOf(increment);
  if (RetransmissionEntry* original = retransmissions_.Find(key, entry_ns)) {
    EncodeDecisionReply(Repeat(*original, key), &reply);
    return;
  }

  DecisionReply out = Declined(DeclineReason::kNone, entry_ns);
  const Card* card = nullptr;
  uint32_t slot = AuthorizationTable::kNoSlot;
  if (request.amount_minor == 0 || request.amount_minor > kAmountMinorMax) {
    out.reason = DeclineReason::kInvalidAmount;
  } else if (!base::CurrencyFromNumeric(request.currency_numeric).has_value()) {
    out.reason = DeclineReason::kCurrencyNotSupported;
  } else if ((card = FindCard(request.flags, request.card)) == nullptr) {
    out.reason = DeclineReason::kCardNotFound;
  } else if ((slot = FindOriginal(increment.original, OriginalKeyOf(increment), *card)) ==
                 AuthorizationTable::kNoSlot ||
             authorizations_.record(slot).state != AuthorizationState::kActive) {
    // Nothing live to grow (or its client decision is still open).
    out.flags |= ReplyFlags::kOriginalNotFound;
  } else {
    // An increment extends a purchase already counted toward velocity.
    const issuing::AuthorizationContext context =
        ContextOf(request, entry_ns, /*counts_toward_velocity=*/false);
    out.reason = CheckCardAndControls(*issuing_, *card, context, request.transmission_time_ns);
  }

  if (slot != AuthorizationTable::kNoSlot && (out.flags & ReplyFlags::kOriginalNotFound) == 0 &&
      out.reason == DeclineReason::kNone) {
    const Funds funds = DecideFunds(*card, request);
    const uint64_t grow_minor = funds.hold_minor;
    const Decision decision = funds.decision;
    out.reason = funds.reason;
    if (out.reason == DeclineReason::kNone) {
      AuthorizationRecord& record = authorizations_.record(slot);
      // The grown hold lives as long as a new one would (networks restart the
      // hold period with each increment).
      const ledger::CreateTransferResult result =
          ReplaceHolds(slot, record.held_amount_minor + grow_minor, record.stand_in_credit_minor,
                       issuing_->HoldExpirySeconds(*card, request.mcc));
      if (result == ledger::CreateTransferResult::kPendingTransferExpired) {
        out.flags |= ReplyFlags::kOriginalNotFound;  // It is expiring.
      } else if (result != ledger::CreateTransferResult::kOk) {
        out.reason = result == ledger::CreateTransferResult::kExceedsCredits
                         ? DeclineReason::kInsufficientFunds
                         : DeclineReason::kSystemError;
      } else {
        (void)issuing_->AddCardSpend(*card, grow_minor, entry_ns,
                                     /*counts_toward_velocity=*/false);
        const issuing::RealtimeDecisionSettings& settings =
            issuing_->ProgramOf(*card).realtime_decision;
        if (settings.required) {
          out = AwaitClient(slot, key, settings, grow_minor, entry_ns);
        } else {
          record.confirmed_amount_minor = record.total_held_minor();
          out = FinalReplyOf(slot, grow_minor);
          out.decision = decision;
        }
      }
    }
  }
  if (card != nullptr) out.available_minor = AvailableOf(*card);
  if (out.authorized_at_ns == 0) out.authorized_at_ns = entry_ns;
  out.response_code = ResponseCodeOf(out.decision, out.reason, out.flags);
  Remember(key, EntryKind::kIncrementalAuthorize, out, entry_ns);
  CountDecision(out);
  EncodeDecisionReply(out, &reply);
}

// ---------------------------------------------------------------- reversals

void CoreStateMachine::ApplyReverse(std::span<const std::byte> payload, uint64_t entry_ns,
                                    engine::Reply& reply) {
  ReversalRequest request;
  if (!DecodeReversalRequest(payload, &request)) {
    reply.code = static_cast<uint32_t>(ReplyCode::kMalformedEntry);
    return;
  }
  Bump(stats_.reversals);
  const RequestKey key = KeyOf(request);
  ReversalReply out;
  if (RetransmissionEntry* original = retransmissions_.Find(key, entry_ns)) {
    Bump(stats_.retransmissions);
    out.result = static_cast<ReversalResult>(original->detail & 0xff);
    out.flags = ReplyFlags::kRetransmission;
    out.authorization_id = AuthorizationId(original->authorization_id);
    out.released_amount_minor = original->amount_minor;
    out.available_minor = original->available_minor;
    out.held_amount_minor = original->held_amount_minor;
  } else {
    out.result = ReversalResult::kNotFound;
    const Card* card = FindCard(request.flags, request.card);
    uint32_t slot = card == nullptr
                        ? AuthorizationTable::kNoSlot
                        : FindOriginal(request.original, OriginalKeyOf(request), *card);
    const bool full = (request.flags & RequestFlags::kFullReversal) != 0;
    if (slot != AuthorizationTable::kNoSlot && !full &&
        request.currency_numeric != issuing_->AccountOf(*card).currency_numeric) {
      out.result = ReversalResult::kInvalidAmount;
    } else if (slot != AuthorizationTable::kNoSlot) {
      out.authorization_id = authorizations_.IdOf(slot);
      // A reversal during the client's decision means the network gave up
      // waiting: the stand-in policy closes the decision first, and the
      // client is told, as for any timeout.
      if (authorizations_.record(slot).state == AuthorizationState::kPendingClientDecision) {
        const uint64_t before = authorizations_.record(slot).total_held_minor();
        ResolvePending(slot, ClientDecisionOutcome::kTimeout, 0, entry_ns);
        if (authorizations_.Find(out.authorization_id) == AuthorizationTable::kNoSlot) {
          slot = AuthorizationTable::kNoSlot;  // Stand-in declined: all released.
          out.result = ReversalResult::kReleased;
          out.released_amount_minor = before;
        }
      }
    }
    if (slot != AuthorizationTable::kNoSlot && out.result == ReversalResult::kNotFound) {
      AuthorizationRecord& record = authorizations_.record(slot);
      const uint64_t total = record.total_held_minor();
      out.result = ReversalResult::kReleased;
      // A hold that is expiring cannot be partly released: all of it goes.
      const bool expiring = !StillHeld(record.hold_transfer_id, cursor_ns_);
      if (full || request.amount_minor >= total || expiring) {
        (void)issuing_->RemoveCardSpend(*card, total, record.authorized_at_ns,
                                        /*release_velocity=*/true);
        out.released_amount_minor = total;
        ReleaseAll(slot);
      } else {
        // Partial: an advice's stand-in credit is returned first, so the
        // cardholder's own money is the last to stay held.
        const uint64_t release = request.amount_minor;
        const uint64_t new_credit =
            record.stand_in_credit_minor - std::min(release, record.stand_in_credit_minor);
        const ledger::CreateTransferResult result = ReplaceHolds(
            slot, record.held_amount_minor - release, new_credit, RemainingHoldSeconds(slot));
        if (result != ledger::CreateTransferResult::kOk) {
          reply.code = static_cast<uint32_t>(ReplyCode::kLedgerCapacityExhausted);
          return;  // Nothing changed; the caller may retry.
        }
        (void)issuing_->RemoveCardSpend(*card, release, record.authorized_at_ns,
                                        /*release_velocity=*/false);
        record.confirmed_amount_minor =
            std::min(record.confirmed_amount_minor, record.total_held_minor());
        out.released_amount_minor = release;
        out.held_amount_minor = record.total_held_minor();
      }
    }
    if (card != nullptr) out.available_minor = AvailableOf(*card);
    if (key.valid()) {
      RetransmissionEntry entry;
      entry.key_high = key.high;
      entry.key_low = key.low;
      entry.recorded_at_ns = entry_ns;
      entry.detail = static_cast<uint32_t>(out.result);
      entry.kind = static_cast<uint16_t>(EntryKind::kReverse);
      entry.authorization_id = out.authorization_id.value();
      entry.amount_minor = out.released_amount_minor;
      entry.available_minor = out.available_minor;
      entry.held_amount_minor = out.held_amount_minor;
      retransmissions_.Insert(entry, entry_ns);
    }
  }
  switch (out.result) {
    case ReversalResult::kReleased: out.response_code = {'0', '0'}; break;
    case ReversalResult::kNotFound: out.response_code = {'2', '5'}; break;
    case ReversalResult::kInvalidAmount: out.response_code = {'1', '3'}; break;
  }
  EncodeReversalReply(out, &reply);
}

// ---------------------------------------------------------------- client decision

void CoreStateMachine::ApplyClientDecision(std::span<const std::byte> payload, uint64_t entry_ns,
                                           engine::Reply& reply) {
  ClientDecisionResultEntry result;
  if (!DecodeClientDecisionResult(payload, &result)) {
    reply.code = static_cast<uint32_t>(ReplyCode::kMalformedEntry);
    return;
  }
  const RequestKey request_key{result.request_key_high, result.request_key_low};
  const uint32_t slot = authorizations_.Find(AuthorizationId(result.authorization_id));
  const bool waiting = slot != AuthorizationTable::kNoSlot &&
                       authorizations_.record(slot).state ==
                           AuthorizationState::kPendingClientDecision &&
                       authorizations_.record(slot).pending_key() == request_key;
  DecisionReply out;
  if (waiting) {
    out = ResolvePending(slot, static_cast<ClientDecisionOutcome>(result.outcome),
                         result.approved_amount_minor, entry_ns);
    CountDecision(out);
  } else if (RetransmissionEntry* remembered = retransmissions_.Find(request_key, entry_ns)) {
    // Decided already (stand-in at the deadline, or a reversal): that
    // decision stands, and the answer is late.
    out = DecisionFromEntry(*remembered);
    out.flags = static_cast<uint8_t>((out.flags & ~ReplyFlags::kRetransmission) |
                                     ReplyFlags::kLateClientAnswer);
  } else if (slot != AuthorizationTable::kNoSlot &&
             authorizations_.record(slot).state == AuthorizationState::kActive &&
             !request_key.valid()) {
    // No ids to remember by: the live record is the decision.
    out = FinalReplyOf(slot, authorizations_.record(slot).confirmed_amount_minor);
    out.flags |= ReplyFlags::kLateClientAnswer;
  } else {
    reply.code = static_cast<uint32_t>(ReplyCode::kNotFound);
    return;
  }
  out.response_code = ResponseCodeOf(out.decision, out.reason, out.flags);
  EncodeDecisionReply(out, &reply);
}

DecisionReply CoreStateMachine::ResolvePending(uint32_t slot, ClientDecisionOutcome outcome,
                                               uint64_t approved_amount_minor,
                                               uint64_t entry_ns) {
  AuthorizationRecord& record = authorizations_.record(slot);
  TG_ASSERT(record.state == AuthorizationState::kPendingClientDecision);
  Bump(stats_.client_decisions);
  const Card& card = issuing_->cards()[record.card_slot];
  const issuing::RealtimeDecisionSettings& settings =
      issuing_->ProgramOf(card).realtime_decision;
  const RequestKey pending_key = record.pending_key();
  const AuthorizationId id = authorizations_.IdOf(slot);
  const uint64_t total = record.total_held_minor();
  const uint64_t pending_minor = total - record.confirmed_amount_minor;
  const bool initial = record.confirmed_amount_minor == 0;

  // What the client said, or what stand-in decides in its place.
  DeclineReason reason = DeclineReason::kNone;
  uint64_t approve_minor = pending_minor;
  bool stand_in = false;
  switch (outcome) {
    case ClientDecisionOutcome::kApprove:
      break;
    case ClientDecisionOutcome::kApprovePartial:
      if (approved_amount_minor == 0) {
        reason = DeclineReason::kClientDeclined;
      } else if (approved_amount_minor < pending_minor) {
        if ((record.flags & AuthorizationFlags::kPartialApprovalSupported) != 0) {
          approve_minor = approved_amount_minor;
        } else {
          reason = DeclineReason::kClientDeclined;  // The merchant cannot take less.
        }
      }
      break;
    case ClientDecisionOutcome::kDecline:
      reason = DeclineReason::kClientDeclined;
      break;
    case ClientDecisionOutcome::kTimeout:
      stand_in = true;
      reason = issuing::DecideStandIn(settings, pending_minor, issuing::ClientFailure::kTimeout);
      break;
    case ClientDecisionOutcome::kRefused:
    case ClientDecisionOutcome::kServerError:
      stand_in = true;
      reason =
          issuing::DecideStandIn(settings, pending_minor, issuing::ClientFailure::kUnavailable);
      break;
    case ClientDecisionOutcome::kMalformed:
    case ClientDecisionOutcome::kBadSignature:
      stand_in = true;
      reason =
          issuing::DecideStandIn(settings, pending_minor, issuing::ClientFailure::kBadSignature);
      break;
  }

  authorizations_.ClearDeadline(slot);
  record.state = AuthorizationState::kActive;
  record.pending_key_high = 0;
  record.pending_key_low = 0;
  DecisionReply out;
  if (reason == DeclineReason::kNone && approve_minor < pending_minor) {
    // Approved for less: shrink the provisional hold to what was approved.
    const ledger::CreateTransferResult shrunk =
        ReplaceHolds(slot, record.held_amount_minor - (pending_minor - approve_minor),
                     record.stand_in_credit_minor, RemainingHoldSeconds(slot));
    if (shrunk != ledger::CreateTransferResult::kOk) {
      reason = DeclineReason::kSystemError;
    } else {
      (void)issuing_->RemoveCardSpend(card, pending_minor - approve_minor,
                                      record.authorized_at_ns, /*release_velocity=*/false);
    }
  }
  if (reason == DeclineReason::kNone) {
    record.confirmed_amount_minor = record.total_held_minor();
    if (stand_in) record.flags |= AuthorizationFlags::kStandIn;
    if (approve_minor < pending_minor) {
      record.decision = static_cast<uint8_t>(Decision::kPartiallyApproved);
    }
    out = FinalReplyOf(slot, approve_minor);
    if (!initial) out.decision = approve_minor < pending_minor ? Decision::kPartiallyApproved
                                                                : Decision::kApproved;
  } else {
    // Declined: give back what waited for the client.
    if (initial) {
      (void)issuing_->RemoveCardSpend(card, pending_minor, record.authorized_at_ns,
                                      /*release_velocity=*/true);
      out.authorized_at_ns = record.authorized_at_ns;
      ReleaseAll(slot);
    } else {
      if (ReplaceHolds(slot, record.held_amount_minor - pending_minor,
                       record.stand_in_credit_minor, RemainingHoldSeconds(slot)) !=
          ledger::CreateTransferResult::kOk) {
        Bump(stats_.release_failures);  // Held until it expires, never lost.
      }
      (void)issuing_->RemoveCardSpend(card, pending_minor, record.authorized_at_ns,
                                      /*release_velocity=*/false);
      out.authorized_at_ns = record.authorized_at_ns;
      out.held_amount_minor = record.total_held_minor();
    }
    out.decision = Decision::kDeclined;
    out.reason = reason;
    out.authorization_id = id;
    out.available_minor = AvailableOf(card);
  }
  if (stand_in) {
    out.flags |= ReplyFlags::kStandIn;
    Bump(stats_.stand_in_decisions);
    AddAdvice(AdviceKind::kClientStandIn, out, &card, pending_minor,
              issuing_->AccountOf(card).currency_numeric, outcome, entry_ns);
  }
  out.response_code = ResponseCodeOf(out.decision, out.reason, out.flags);
  UpdateRemembered(pending_key, out, entry_ns);
  return out;
}

}  // namespace tangelo::authorizer
