// IssuingState: every tenant, program, user, account and card, their
// controls and spend counters, in preallocated bounded arrays with O(1)
// lookups, changed only through commands.
//
// Multi-tenancy: every lookup takes the tenant id, and ids are scoped by
// tenant, so another tenant's id behaves exactly as an absent one (nullptr,
// *_NOT_FOUND). The one global lookup is by PAN token, for card network
// messages, which carry a PAN and no tenant: the PAN is the credential.
//
// The authorization path is a sequence of O(1), allocation-free calls:
//
//   const Card* card = state.FindCardByPanToken(token);     // nullptr: CARD_NOT_FOUND
//   DeclineReason reason = state.CheckAuthorization(*card, context);
//   ... funds and hold on state.AccountOf(*card).ledger_account_id, expiring
//       after state.HoldExpirySeconds(*card, context.mcc) ...
//   ... the client's decision if state.ProgramOf(*card).realtime_decision.required ...
//   state.AddCardSpend(*card, amount, context.timestamp_ns, true);  // on approval
//   state.RemoveCardSpend(*card, amount, authorization_timestamp_ns, full);  // on reversal
//
// Determinism: the state is a pure function of the commands applied and the
// timestamps given with them: no clock, no randomness, no I/O, no iteration
// over hash order (records live in arrays in creation order). Replaying the
// same commands gives a byte-identical Serialize().
//
// Thread safety: none. One writer (the engine thread) applies commands and
// runs authorizations; nothing else touches the state. Records returned by
// reference stay valid and in place for the state's lifetime.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "issuing/commands.h"
#include "issuing/controls.h"
#include "issuing/decline_reason.h"
#include "issuing/entities.h"
#include "issuing/huge_page_allocator.h"
#include "issuing/slot_index.h"
#include "issuing/types.h"

namespace tangelo::issuing {

// How many of each entity the state can hold. Everything is allocated when
// the state is built; a create beyond a maximum is CAPACITY_EXHAUSTED.
struct IssuingCapacity {
  static constexpr uint32_t kEntitiesMax = 1u << 27;  // Per kind; keeps tables in range.

  uint32_t tenants_max = 1024;
  uint32_t programs_max = 4096;
  uint32_t users_max = 1u << 20;
  uint32_t accounts_max = 1u << 20;
  uint32_t cards_max = 1u << 20;
  // Entities with controls: each program can have two sets, each account
  // and card one.
  uint32_t controls_max = 1u << 18;
  // Seeds the index hashes so that a tenant cannot choose ids that collide
  // on purpose. It changes no result and nothing serialized: any value
  // (a random one in production) gives the same state.
  uint64_t hash_seed = 0x9e3779b97f4a7c15ULL;

  // Every maximum in 1..kEntitiesMax.
  bool valid() const;
};

class IssuingState {
 public:
  // Precondition: capacity.valid(). Allocates every array and index.
  explicit IssuingState(const IssuingCapacity& capacity);
  IssuingState(const IssuingState&) = delete;
  IssuingState& operator=(const IssuingState&) = delete;

  // Applies one command at `timestamp_ns` (the engine's batch time, UTC ns).
  // Validates everything; on any result but kOk (and kSpendNotExact, which
  // is applied and reported) nothing changed.
  CommandResult Apply(const Command& command, uint64_t timestamp_ns);

  // Lookups: nullptr when absent or owned by another tenant. O(1).
  const Tenant* FindTenant(TenantId tenant_id) const;
  const Program* FindProgram(TenantId tenant_id, ProgramId program_id) const;
  const User* FindUser(TenantId tenant_id, UserId user_id) const;
  const Account* FindAccount(TenantId tenant_id, AccountId account_id) const;
  const Card* FindCard(TenantId tenant_id, CardId card_id) const;
  const Account* FindAccountByLedgerAccount(TenantId tenant_id,
                                            LedgerAccountId ledger_account_id) const;
  const Card* FindCardByPanToken(TenantId tenant_id, const PanToken& token) const;
  // The network path: any tenant's card with this token.
  const Card* FindCardByPanToken(const PanToken& token) const;

  // Memory prefetch for a batch of authorizations. One lookup costs two
  // dependent cache misses (the index entry, then the card) and the checks a
  // few more (what the card points to); a batch hides them by running
  // requests through stages a few requests apart:
  //
  //   state.PrefetchTokenIndex(token[i + 12]);     // index line
  //   state.PrefetchCardCandidates(token[i + 8]);  // card lines, by index tag
  //   if (const Card* ahead = state.FindCardByPanToken(token[i + 4]))
  //     state.PrefetchCardDependents(*ahead);      // user, account, controls
  //   const Card* card = state.FindCardByPanToken(token[i]);  // cache hits
  //
  // None changes anything or can fail; a wrong guess costs only a load.
  void PrefetchTokenIndex(const PanToken& token) const { token_index_.Prefetch(TokenHash(token)); }
  void PrefetchCardCandidates(const PanToken& token) const;
  void PrefetchCardDependents(const Card& card) const;

  // Navigation from a record of this state. O(1).
  const User& UserOf(const Card& card) const { return users_[card.user_slot]; }
  const Account& AccountOf(const Card& card) const { return accounts_[card.account_slot]; }
  const Program& ProgramOf(const Card& card) const { return programs_[card.program_slot]; }
  const Program& ProgramOf(const Account& account) const { return programs_[account.program_slot]; }
  const Tenant& TenantOf(const Program& program) const { return tenants_[program.tenant_slot]; }
  const EncryptedPan& EncryptedPanOf(const Card& card) const { return card_pans_[SlotOf(card)]; }
  // The controls set at one level, or nullptr when none are.
  const Controls* CardControls(const Card& card) const { return ControlsAt(card.controls_slot); }
  const Controls* AccountControls(const Account& account) const {
    return ControlsAt(account_controls_slots_[SlotOf(account)]);
  }
  const Controls* ProgramControls(const Program& program) const {
    return ControlsAt(program.controls_slot);
  }
  const Controls* ProgramCardDefaultControls(const Program& program) const {
    return ControlsAt(program.card_default_controls_slot);
  }

  // The card step of an authorization, in this order: card status
  // (CARD_NOT_ACTIVE, CARD_BLOCKED, CARD_LOST, CARD_STOLEN, CARD_EXPIRED,
  // CARD_CLOSED), expiry date past at context.timestamp_ns (CARD_EXPIRED),
  // request expiry different from the card's (CARD_EXPIRY_MISMATCH; years
  // compare modulo 100, as field 14 is YYMM), cardholder status
  // (USER_BLOCKED, USER_DISABLED), billing currency other than the account's
  // (CURRENCY_NOT_SUPPORTED).
  DeclineReason CheckCard(const Card& card, const AuthorizationContext& context) const;
  // The controls step: EvaluateControls over the card's controls (card
  // counters), the program's card defaults (card counters), the account's
  // (account counters) and the program's (program counters).
  DeclineReason EvaluateCardControls(const Card& card, const AuthorizationContext& context) const;
  // CheckCard, then EvaluateCardControls.
  DeclineReason CheckAuthorization(const Card& card, const AuthorizationContext& context) const;
  // How long a hold for this card at a merchant of `mcc` lives.
  uint32_t HoldExpirySeconds(const Card& card, uint16_t mcc) const {
    return ProgramOf(card).hold_expiry.HoldSeconds(mcc);
  }

  // Counts an approved amount at the card, its account and its program (see
  // AddSpend in controls.h). Returns kOk, kSpendNotExact (saturated, applied
  // anyway) or kInvalidTimestamp (nothing changed). The RecordSpend command
  // does the same for a card named by id.
  CommandResult AddCardSpend(const Card& card, uint64_t amount_minor,
                             uint64_t authorization_timestamp_ns, bool counts_toward_velocity);
  // Takes back a reversed or expired amount at the three levels (see
  // RemoveSpend in controls.h). Returns kOk, kSpendNotExact (clamped at
  // zero, applied anyway) or kInvalidTimestamp (nothing changed). The
  // ReleaseSpend command does the same for a card named by id.
  CommandResult RemoveCardSpend(const Card& card, uint64_t amount_minor,
                                uint64_t authorization_timestamp_ns, bool release_velocity);

  // Records in creation order (the order Serialize writes them).
  std::span<const Tenant> tenants() const { return tenants_; }
  std::span<const Program> programs() const { return programs_; }
  std::span<const User> users() const { return users_; }
  std::span<const Account> accounts() const { return accounts_; }
  std::span<const Card> cards() const { return cards_; }
  uint32_t controls_in_use() const {
    return static_cast<uint32_t>(controls_.size() - free_controls_slots_.size());
  }
  const IssuingCapacity& capacity() const { return capacity_; }

  // The whole state as bytes (docs/issuing/commands.md, "Snapshot"):
  // canonical, so equal states give equal bytes. Allocates; not for the hot
  // path. Contains no clear PAN.
  std::vector<uint8_t> Serialize() const;
  // Rebuilds a state from Serialize() bytes. DataLoss for a bad checksum,
  // magic, version, truncated or trailing bytes, or any record that breaks a
  // rule of the state (unknown reference, duplicate id, invalid value);
  // ResourceExhausted when it does not fit `capacity`.
  static base::Result<std::unique_ptr<IssuingState>> Deserialize(std::span<const uint8_t> bytes,
                                                                 const IssuingCapacity& capacity);

  // Asserts every cross-record invariant: references resolve within the same
  // tenant, a card's program is its account's, indices hold every record,
  // controls are valid. O(records); for tests and after recovery.
  void CheckInvariants() const;

 private:
  // What a create or restore must check beyond what both share.
  enum class Mode : uint8_t { kCommand, kRestore };

  uint32_t SlotOf(const Card& card) const;
  uint32_t SlotOf(const Account& account) const;
  const Controls* ControlsAt(uint32_t slot) const {
    return slot == kNoSlot ? nullptr : &controls_[slot];
  }
  uint64_t TenantHash(TenantId tenant_id) const;
  uint64_t ScopedHash(TenantId tenant_id, uint64_t id) const;
  uint64_t TokenHash(const PanToken& token) const;
  uint64_t LedgerHash(LedgerAccountId ledger_account_id) const;
  uint32_t FindTenantSlot(TenantId tenant_id) const;
  uint32_t FindProgramSlot(TenantId tenant_id, ProgramId program_id) const;
  uint32_t FindUserSlot(TenantId tenant_id, UserId user_id) const;
  uint32_t FindAccountSlot(TenantId tenant_id, AccountId account_id) const;
  uint32_t FindCardSlot(TenantId tenant_id, CardId card_id) const;
  uint32_t FindTokenSlot(const PanToken& token) const;
  uint32_t FindLedgerSlot(LedgerAccountId ledger_account_id) const;

  CommandResult ApplyCommand(const CreateTenant& command, uint64_t timestamp_ns);
  CommandResult ApplyCommand(const CreateProgram& command, uint64_t timestamp_ns);
  CommandResult ApplyCommand(const SetRealtimeDecision& command, uint64_t timestamp_ns);
  CommandResult ApplyCommand(const SetHoldExpiry& command, uint64_t timestamp_ns);
  CommandResult ApplyCommand(const CreateUser& command, uint64_t timestamp_ns);
  CommandResult ApplyCommand(const SetUserStatus& command, uint64_t timestamp_ns);
  CommandResult ApplyCommand(const CreateAccount& command, uint64_t timestamp_ns);
  CommandResult ApplyCommand(const CreateCard& command, uint64_t timestamp_ns);
  CommandResult ApplyCommand(const ChangeCardStatus& command, uint64_t timestamp_ns);
  CommandResult ApplyCommand(const SetControls& command, uint64_t timestamp_ns);
  CommandResult ApplyCommand(const RecordSpend& command, uint64_t timestamp_ns);
  CommandResult ApplyCommand(const ReleaseSpend& command, uint64_t timestamp_ns);

  // Shared by Apply and Deserialize: validate and append one record.
  CommandResult InsertTenant(const Tenant& tenant);
  CommandResult InsertProgram(const Program& program);
  CommandResult InsertUser(const User& user);
  CommandResult InsertAccount(const Account& account, Mode mode);
  CommandResult InsertCard(const Card& card, const EncryptedPan& encrypted, Mode mode,
                           uint64_t timestamp_ns);
  // Applies `update` to the card's, its account's and its program's counters.
  template <typename Update>
  CommandResult UpdateSpend(const Card& card, uint64_t authorization_timestamp_ns, Update&& update);
  // Sets (or clears, for unrestricted controls) the controls in *slot.
  CommandResult StoreControls(const Controls& controls, uint32_t* slot);

  template <typename T>
  using Array = std::vector<T, HugePageAllocator<T>>;

  IssuingCapacity capacity_;
  Array<Tenant> tenants_;
  Array<Program> programs_;
  Array<User> users_;
  Array<Account> accounts_;
  // Dense columns parallel to users_ and accounts_ for the authorization
  // path: 1 and 4 bytes per record stay in cache where the records do not.
  // user_statuses_ mirrors User::status (set together, checked by
  // CheckInvariants); account_controls_slots_ is the only copy.
  Array<UserStatus> user_statuses_;
  Array<uint32_t> account_controls_slots_;
  Array<Card> cards_;
  Array<EncryptedPan> card_pans_;  // Parallel to cards_: cold data off the hot lines.
  Array<Controls> controls_;
  Array<uint32_t> free_controls_slots_;  // Released by clearing controls; reused first.
  SlotIndex tenant_index_;
  SlotIndex program_index_;
  SlotIndex user_index_;
  SlotIndex account_index_;
  SlotIndex card_index_;
  SlotIndex token_index_;
  SlotIndex ledger_index_;
};

}  // namespace tangelo::issuing
