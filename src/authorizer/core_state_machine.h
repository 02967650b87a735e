// CoreStateMachine: the engine's state machine for a card-issuing shard. It
// owns one ledger, one issuing state and the authorizer's tables, and applies
// in one deterministic batch: issuing commands, account funding, authorization
// requests and advices, their follow-ups (increments, reversals, the client's
// real-time decision), and the time-driven work (hold expiry, client-decision
// deadlines). Every change goes through the engine's journal, so all of it
// survives restart and SIGKILL; a snapshot holds all of it.
//
// The entry kinds and reply layouts are in entries.h and
// docs/authorizer/entries.md; the decision pipeline and its fixed order in
// docs/authorizer/pipeline.md. In short, an authorization runs:
//
//   retransmission? -> validate (amount, currency) -> card (by id or PAN
//   token; exists, status, expiry vs. transmission time, expiry date) ->
//   cardholder status -> controls (strictest wins) -> funds (a ledger pending
//   transfer from the card's ledger account, timing out by the program's
//   hold-expiry rule for the MCC) -> the client's decision if the program
//   requires it (a provisional hold, answered later) -> response.
//
// Money layout in the ledger, per currency (ids at or above kCallerIdMax+1
// are the core's own): the issuer's funding account (funds card accounts),
// the settlement account (the credit side of every hold: what merchants will
// be paid), and the stand-in overdraft account, which lends a card account
// the part of a network advice it cannot cover (a posted transfer, returned
// when the hold goes), so an advice is held in full and no card account ever
// goes below zero. Every issuing account is backed by a ledger account
// flagged debits_must_not_exceed_credits. Each authorization holds exactly
// one pending transfer, so it has exactly one expiry.
//
// Determinism: ApplyBatch is a pure function of (state, batch timestamp,
// entries); it reads no clock (the optional latency recorder measures time
// but decides nothing). Hash tables and heaps order by value, never by
// address or hash order, and are rebuilt identically on restore.
//
// Cost: each request is O(1) table work plus O(log n) in the hold-expiry
// heaps (the ledger's and ours); nothing allocates after construction.
//
// Thread safety: the engine thread only, like every StateMachine. stats() may
// be read from any thread (relaxed atomics).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "authorizer/advice_outbox.h"
#include "authorizer/authorization_table.h"
#include "authorizer/entries.h"
#include "authorizer/retransmission_table.h"
#include "engine/state_machine.h"
#include "io/clock.h"
#include "issuing/state.h"
#include "ledger/ledger.h"
#include "telemetry/histogram.h"

namespace tangelo::authorizer {

// Ledger account kinds of the core's own accounts (ledger Account::code) and
// their ids: kSystemIdBase | kind << 16 | currency.
enum class SystemAccount : uint16_t {
  kFunding = 1,
  kSettlement = 2,
  kStandInOverdraft = 3,
};
inline constexpr uint64_t kSystemIdBase = kCallerIdMax + 1;  // 2^62.
inline constexpr uint64_t kHoldTransferIdBase = 1ULL << 63;
inline constexpr uint16_t kLedgerCodeCardAccount = 1;
constexpr uint64_t SystemAccountId(SystemAccount kind, uint16_t currency_numeric) {
  return kSystemIdBase | (uint64_t{static_cast<uint16_t>(kind)} << 16) | currency_numeric;
}

// Time-driven work at a batch's start also takes what falls due before the
// batch's last timestamp: at most this many nanoseconds after its timestamp
// (asserted after every batch; the bound is 8 events per entry and per timer
// item over the per-batch maxima below). Otherwise a hold could fall due
// between the batch's first and last event, when the ledger neither expired
// it yet nor lets it be voided.
inline constexpr uint64_t kTimerLookaheadNs = 1ULL << 18;

// Bounded time-driven work per batch (the rest continues in the next batch,
// which the engine cuts at once because NextTimerNs() is still due).
inline constexpr uint32_t kLedgerExpiriesPerBatchMax = 8190;
inline constexpr uint32_t kAuthorizationExpiriesPerBatchMax = 8190;
inline constexpr uint32_t kDeadlinesPerBatchMax = 4096;

struct CoreCapacities {
  ledger::LedgerCapacities ledger{1u << 20, 1u << 22};
  issuing::IssuingCapacity issuing;
  uint32_t authorizations_max = 1u << 20;             // Live authorizations.
  uint32_t pending_client_decisions_max = 1u << 16;   // At most authorizations_max.
  uint32_t retransmissions_max = 1u << 20;            // Remembered answers.
  uint64_t retransmission_window_ns = RetransmissionTable::kWindowNsDefault;
  uint32_t advice_outbox_max = AdviceOutbox::kCapacityDefault;

  // Every maximum in range. Capacities and the window must not shrink between
  // runs of one journal: a replay must find the room the original run had.
  bool valid() const;
};

// Counters of the engine thread, for metrics. Not part of the state.
struct CoreStats {
  std::atomic<uint64_t> authorizations{0};   // kAuthorize entries decided.
  std::atomic<uint64_t> approvals{0};
  std::atomic<uint64_t> partial_approvals{0};
  std::atomic<uint64_t> declines{0};
  std::atomic<uint64_t> pending_client_decisions{0};
  std::atomic<uint64_t> retransmissions{0};
  std::atomic<uint64_t> advices{0};
  std::atomic<uint64_t> increments{0};
  std::atomic<uint64_t> reversals{0};
  std::atomic<uint64_t> client_decisions{0};   // Outcomes applied (answers or stand-in).
  std::atomic<uint64_t> stand_in_decisions{0};
  std::atomic<uint64_t> holds_expired{0};
  std::atomic<uint64_t> authorization_table_full{0};
  std::atomic<uint64_t> malformed_entries{0};
  // Holds that could not be released at once because the ledger was full;
  // they are released by their timeout instead.
  std::atomic<uint64_t> release_failures{0};
};

class CoreStateMachine final : public engine::StateMachine {
 public:
  // Reserves every table. Precondition: capacities.valid().
  explicit CoreStateMachine(const CoreCapacities& capacities);
  ~CoreStateMachine() override;
  CoreStateMachine(const CoreStateMachine&) = delete;
  CoreStateMachine& operator=(const CoreStateMachine&) = delete;

  // Records the time each authorization-path entry spends in the pipeline
  // (nanoseconds, from `clock`'s monotonic time) into `histogram`. Both must
  // outlive the machine; null turns it off. Measurement only: no decision
  // depends on it. Engine thread (or before the engine starts).
  void SetDecisionLatencyRecorder(io::Clock* clock, telemetry::Histogram* histogram_ns) {
    latency_clock_ = clock;
    latency_histogram_ = histogram_ns;
  }

  // Makes the ledger's reserved memory resident now rather than on the first
  // batches that touch it (the authorizer's own tables are touched when
  // built). For start-up; costs the capacities' footprint in RAM and time.
  void PrefaultMemory();

  // engine::StateMachine.
  bool IsReadOnly(uint16_t kind) const override;
  uint64_t ApplyBatch(uint64_t timestamp_ns, std::span<const engine::EntryRef> entries,
                      std::span<engine::Reply> replies) override;
  uint64_t NextTimerNs() const override;
  void CheckInvariants() const override;
  void Serialize(const engine::SnapshotSink& sink) const override;
  base::Status Restore(std::span<const std::byte> snapshot) override;

  // Read access for tests, reports and the in-process front doors that run
  // on the engine thread.
  const ledger::Ledger& ledger() const { return *ledger_; }
  const issuing::IssuingState& issuing() const { return *issuing_; }
  const AuthorizationTable& authorizations() const { return authorizations_; }
  const RetransmissionTable& retransmissions() const { return retransmissions_; }
  const AdviceOutbox& advices() const { return advices_; }
  const CoreStats& stats() const { return stats_; }
  const CoreCapacities& capacities() const { return capacities_; }

  // The available balance of an issuing account's ledger account.
  uint64_t AvailableOf(const issuing::Account& account) const;

  // Every cross-module invariant, from scratch: the ledger's and issuing's
  // own checks, each live authorization's holds pending in the ledger with
  // its amounts, accounts and expiry, and the tables' consistency. O(state);
  // for tests and after a restore.
  base::Status CheckAllInvariants() const;

 private:
  using Card = issuing::Card;

  // Entry handlers. Each fills its reply; none asserts on external input.
  void ApplyIssuingCommand(std::span<const std::byte> payload, uint64_t entry_ns,
                           engine::Reply& reply);
  void ApplyFundAccount(std::span<const std::byte> payload, engine::Reply& reply);
  // What the prefetch stages learnt about one entry: its request key
  // (computed once) and its card when found (cards never move or go away,
  // so a card found earlier in the batch is still the card; "not found" is
  // not remembered, as an earlier entry of the batch may create it).
  struct StagedEntry {
    RequestKey key;
    bool keyed = false;
    const issuing::Card* card = nullptr;
  };
  // `staged` is the entry's StagedEntry, or null to compute everything here.
  void ApplyAuthorize(std::span<const std::byte> payload, bool advice, uint64_t entry_ns,
                      const StagedEntry* staged, engine::Reply& reply);
  void ApplyIncrement(std::span<const std::byte> payload, uint64_t entry_ns,
                      engine::Reply& reply);
  void ApplyReverse(std::span<const std::byte> payload, uint64_t entry_ns, engine::Reply& reply);
  void ApplyClientDecision(std::span<const std::byte> payload, uint64_t entry_ns,
                           engine::Reply& reply);
  void ApplyAcknowledgeAdvices(std::span<const std::byte> payload, engine::Reply& reply);
  void LookupAuthorization(std::span<const std::byte> payload, engine::Reply& reply) const;
  void LookupBalance(std::span<const std::byte> payload, engine::Reply& reply) const;
  void ReadAdvice(std::span<const std::byte> payload, engine::Reply& reply) const;

  // Prefetch stages, run on entry i + distance while entry i is applied:
  // the request's key (and the index lines it will probe, and the card's
  // token index line), then the card candidates, then what the card points
  // to (holder, account, controls, ledger account).
  static constexpr size_t kPrefetchKeyDistance = 12;
  static constexpr size_t kPrefetchCandidateDistance = 8;
  static constexpr size_t kPrefetchCardDistance = 4;
  void PrefetchKeyStage(const engine::EntryRef& entry, size_t index);
  void PrefetchCandidateStage(const engine::EntryRef& entry) const;
  void PrefetchCardStage(const engine::EntryRef& entry, size_t index);
  const StagedEntry* Staged(size_t index) const {
    return staged_[index].keyed ? &staged_[index] : nullptr;
  }

  // The pipeline's parts (pipeline.cc).
  void Authorize(const AuthorizationRequest& request, const RequestKey& key,
                 const Card* staged_card, uint64_t entry_ns, engine::Reply& reply);
  // The funds step's success: records the authorization, places its hold and
  // hands it to the client when the program says so. On a ledger failure
  // sets out->reason and records nothing.
  void PlaceAuthorization(const AuthorizationRequest& request, const RequestKey& key,
                          const Card& card, uint64_t hold_minor, Decision decision,
                          uint64_t entry_ns, DecisionReply* out);
  void Advise(const AuthorizationRequest& request, const RequestKey& key, const Card* staged_card,
              RetransmissionEntry* declined_original, uint64_t entry_ns, engine::Reply& reply);
  // Applies the client's outcome (or the deadline's) to a pending record and
  // fills the final decision.
  DecisionReply ResolvePending(uint32_t slot, ClientDecisionOutcome outcome,
                               uint64_t approved_amount_minor, uint64_t entry_ns);
  void RunTimers(uint64_t timestamp_ns);

  // Holds.
  // Replaces the record's hold by one of `hold_minor` (0 = none) expiring
  // `timeout_seconds` after placement, and moves its stand-in credit to
  // `stand_in_credit_minor`, as one linked ledger chain (void the old hold,
  // lend or return the credit difference, place the new hold): all or
  // nothing. Returns the first real failure, or kOk.
  ledger::CreateTransferResult ReplaceHolds(uint32_t slot, uint64_t hold_minor,
                                            uint64_t stand_in_credit_minor,
                                            uint32_t timeout_seconds);
  // Voids what the record still holds, returns its stand-in credit and frees
  // the record.
  void ReleaseAll(uint32_t slot);
  // Seconds from now until the record's hold expires (at least 1).
  uint32_t RemainingHoldSeconds(uint32_t slot) const;
  bool StillHeld(uint64_t transfer_id, uint64_t at_ns) const;

  // Helpers.
  const Card* FindCard(uint8_t flags, const CardReference& reference) const;
  uint32_t CardSlot(const Card& card) const;
  const ledger::Account& LedgerAccountOf(const Card& card) const;
  uint64_t AvailableOf(const Card& card) const;
  uint64_t TakeTimestamps(uint32_t count) {
    const uint64_t first = cursor_ns_;
    cursor_ns_ += count;
    return first;
  }
  uint64_t NewTransferId() { return kHoldTransferIdBase | next_transfer_sequence_++; }
  bool EnsureSystemAccounts(uint16_t currency_numeric);
  // The answer to a request seen before (a pending one rebuilt from its live
  // record), flagged as a retransmission.
  DecisionReply Repeat(const RetransmissionEntry& original, const RequestKey& key);
  // The funds step: what to hold of the request's amount (all, or what is
  // available when the merchant takes partial approval), or why not.
  struct Funds {
    uint64_t hold_minor;
    Decision decision;
    issuing::DeclineReason reason;
  };
  Funds DecideFunds(const Card& card, const AuthorizationRequest& request);
  // Hands a freshly held amount to the client: the record waits (or, with
  // too many decisions in flight, stand-in decides at once).
  DecisionReply AwaitClient(uint32_t slot, const RequestKey& key,
                            const issuing::RealtimeDecisionSettings& settings,
                            uint64_t pending_minor, uint64_t entry_ns);
  // Whether a new hold may be placed: a free record, and ledger room beyond
  // the reserve that follow-ups (voids, shrinks) of live holds rely on.
  bool HasHoldRoom() const;
  // The live authorization a follow-up names, if it is this card's.
  uint32_t FindOriginal(const OriginalReference& original, const RequestKey& original_key,
                        const Card& card) const;
  // The reply of a live record as it stands (pending, or its final decision).
  DecisionReply FinalReplyOf(uint32_t slot, uint64_t approved_amount_minor) const;
  void Remember(const RequestKey& key, EntryKind kind, const DecisionReply& decision,
                uint64_t entry_ns);
  void UpdateRemembered(const RequestKey& key, const DecisionReply& decision, uint64_t entry_ns);
  base::Status CheckCrossReferences() const;
  void CountDecision(const DecisionReply& decision);
  void AddAdvice(AdviceKind kind, const DecisionReply& decision, const Card* card,
                 uint64_t amount_minor, uint16_t currency_numeric,
                 ClientDecisionOutcome outcome, uint64_t entry_ns);

  CoreCapacities capacities_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<issuing::IssuingState> issuing_;
  AuthorizationTable authorizations_;
  RetransmissionTable retransmissions_;
  AdviceOutbox advices_;
  uint64_t next_transfer_sequence_ = 1;  // State: the core's next hold/void transfer id.
  // The ledger account of each issuing account, by the account's slot (the
  // ledger's records never move): the funds step reads a balance without a
  // hash probe. Derived from the state; rebuilt on restore.
  std::vector<const ledger::Account*> ledger_account_of_slot_;

  // Per batch (not state).
  uint64_t cursor_ns_ = 0;  // The next free timestamp of the batch.
  std::vector<StagedEntry> staged_;  // By entry index; kBatchEntriesMax, reserved once.

  CoreStats stats_;
  io::Clock* latency_clock_ = nullptr;
  telemetry::Histogram* latency_histogram_ = nullptr;
};

}  // namespace tangelo::authorizer
