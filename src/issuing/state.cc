#include "issuing/state.h"

#include <cstddef>
#include <string>
#include <utility>

#include "base/money.h"
#include "issuing/calendar.h"
#include "issuing/card_status.h"

namespace tangelo::issuing {
namespace {

static_assert(sizeof(Card) == 256, "a card is four cache lines; see entities.h");
static_assert(offsetof(Card, counters) == 64, "the spend amounts start the second cache line");

CommandResult FromTransition(TransitionResult transition, CommandResult terminal) {
  switch (transition) {
    case TransitionResult::kAllowed:
      return CommandResult::kOk;
    case TransitionResult::kUnchanged:
      return CommandResult::kStatusUnchanged;
    case TransitionResult::kFromTerminal:
      return terminal;
    case TransitionResult::kNotAllowed:
      return CommandResult::kTransitionNotAllowed;
    case TransitionResult::kInvalidStatus:
      return CommandResult::kInvalidStatus;
  }
  return CommandResult::kInvalidStatus;
}

CommandResult FromRealtimeProblem(RealtimeDecisionProblem problem) {
  switch (problem) {
    case RealtimeDecisionProblem::kNone:
      return CommandResult::kOk;
    case RealtimeDecisionProblem::kInvalidUrl:
      return CommandResult::kInvalidClientUrl;
    case RealtimeDecisionProblem::kInvalidDeadline:
      return CommandResult::kInvalidDecisionDeadline;
    case RealtimeDecisionProblem::kInvalidStandIn:
      return CommandResult::kInvalidStandIn;
  }
  return CommandResult::kInvalidStandIn;
}

bool IsKnownCurrency(uint16_t numeric_code) {
  return base::CurrencyFromNumeric(numeric_code).has_value();
}

bool IsValidLastFour(const std::array<char, 4>& last_four) {
  for (char digit : last_four) {
    if (digit < '0' || digit > '9') return false;
  }
  return true;
}

bool IsValidExpiry(uint16_t year, uint8_t month) {
  return month >= 1 && month <= 12 && year >= kExpiryYearMin && year <= kExpiryYearMax;
}

// True when a card valid through (year, month) can no longer be used at
// `timestamp_ns`: the month has ended.
bool IsPastExpiry(uint16_t year, uint8_t month, uint64_t timestamp_ns) {
  return MonthIndexOf(year, month) < CalendarWindowsAt(timestamp_ns).month_index;
}

// Checked before any member is built from the maxima (the indices allocate).
const IssuingCapacity& CheckedCapacity(const IssuingCapacity& capacity) {
  TG_ASSERT_MSG(capacity.valid(), "issuing capacity maxima must be in 1..kEntitiesMax");
  return capacity;
}

}  // namespace

bool IssuingCapacity::valid() const {
  for (uint32_t maximum :
       {tenants_max, programs_max, users_max, accounts_max, cards_max, controls_max}) {
    if (maximum < 1 || maximum > kEntitiesMax) return false;
  }
  return true;
}

IssuingState::IssuingState(const IssuingCapacity& capacity)
    : capacity_(CheckedCapacity(capacity)),
      tenant_index_(capacity.tenants_max),
      program_index_(capacity.programs_max),
      user_index_(capacity.users_max),
      account_index_(capacity.accounts_max),
      card_index_(capacity.cards_max),
      token_index_(capacity.cards_max),
      ledger_index_(capacity.accounts_max) {
  // Reserved once: records never move, so references handed out stay valid.
  tenants_.reserve(capacity.tenants_max);
  programs_.reserve(capacity.programs_max);
  users_.reserve(capacity.users_max);
  accounts_.reserve(capacity.accounts_max);
  user_statuses_.reserve(capacity.users_max);
  account_controls_slots_.reserve(capacity.accounts_max);
  cards_.reserve(capacity.cards_max);
  card_pans_.reserve(capacity.cards_max);
  controls_.reserve(capacity.controls_max);
  free_controls_slots_.reserve(capacity.controls_max);
}

// ---------------------------------------------------------------- lookups

uint64_t IssuingState::TenantHash(TenantId tenant_id) const {
  return base::MixHash(tenant_id.value() ^ capacity_.hash_seed);
}

uint64_t IssuingState::ScopedHash(TenantId tenant_id, uint64_t id) const {
  return base::MixHash(id ^ base::MixHash(tenant_id.value() ^ capacity_.hash_seed));
}

uint64_t IssuingState::TokenHash(const PanToken& token) const {
  return base::MixHash(token.Prefix64() ^ capacity_.hash_seed);
}

uint64_t IssuingState::LedgerHash(LedgerAccountId ledger_account_id) const {
  return base::MixHash(ledger_account_id.value() ^ ~capacity_.hash_seed);
}

uint32_t IssuingState::FindTenantSlot(TenantId tenant_id) const {
  return tenant_index_.Find(TenantHash(tenant_id),
                            [&](uint32_t slot) { return tenants_[slot].id == tenant_id; });
}

uint32_t IssuingState::FindProgramSlot(TenantId tenant_id, ProgramId program_id) const {
  return program_index_.Find(ScopedHash(tenant_id, program_id.value()), [&](uint32_t slot) {
    return programs_[slot].id == program_id && programs_[slot].tenant_id == tenant_id;
  });
}

uint32_t IssuingState::FindUserSlot(TenantId tenant_id, UserId user_id) const {
  return user_index_.Find(ScopedHash(tenant_id, user_id.value()), [&](uint32_t slot) {
    return users_[slot].id == user_id && users_[slot].tenant_id == tenant_id;
  });
}

uint32_t IssuingState::FindAccountSlot(TenantId tenant_id, AccountId account_id) const {
  return account_index_.Find(ScopedHash(tenant_id, account_id.value()), [&](uint32_t slot) {
    return accounts_[slot].id == account_id && accounts_[slot].tenant_id == tenant_id;
  });
}

uint32_t IssuingState::FindCardSlot(TenantId tenant_id, CardId card_id) const {
  return card_index_.Find(ScopedHash(tenant_id, card_id.value()), [&](uint32_t slot) {
    return cards_[slot].id == card_id && cards_[slot].tenant_id == tenant_id;
  });
}

uint32_t IssuingState::FindTokenSlot(const PanToken& token) const {
  return token_index_.Find(TokenHash(token),
                           [&](uint32_t slot) { return cards_[slot].pan_token == token; });
}

uint32_t IssuingState::FindLedgerSlot(LedgerAccountId ledger_account_id) const {
  return ledger_index_.Find(LedgerHash(ledger_account_id), [&](uint32_t slot) {
    return accounts_[slot].ledger_account_id == ledger_account_id;
  });
}

const Tenant* IssuingState::FindTenant(TenantId tenant_id) const {
  const uint32_t slot = FindTenantSlot(tenant_id);
  return slot == kNoSlot ? nullptr : &tenants_[slot];
}

const Program* IssuingState::FindProgram(TenantId tenant_id, ProgramId program_id) const {
  const uint32_t slot = FindProgramSlot(tenant_id, program_id);
  return slot == kNoSlot ? nullptr : &programs_[slot];
}

const User* IssuingState::FindUser(TenantId tenant_id, UserId user_id) const {
  const uint32_t slot = FindUserSlot(tenant_id, user_id);
  return slot == kNoSlot ? nullptr : &users_[slot];
}

const Account* IssuingState::FindAccount(TenantId tenant_id, AccountId account_id) const {
  const uint32_t slot = FindAccountSlot(tenant_id, account_id);
  return slot == kNoSlot ? nullptr : &accounts_[slot];
}

const Card* IssuingState::FindCard(TenantId tenant_id, CardId card_id) const {
  const uint32_t slot = FindCardSlot(tenant_id, card_id);
  return slot == kNoSlot ? nullptr : &cards_[slot];
}

const Account* IssuingState::FindAccountByLedgerAccount(TenantId tenant_id,
                                                        LedgerAccountId ledger_account_id) const {
  const uint32_t slot = FindLedgerSlot(ledger_account_id);
  if (slot == kNoSlot || accounts_[slot].tenant_id != tenant_id) return nullptr;
  return &accounts_[slot];
}

const Card* IssuingState::FindCardByPanToken(TenantId tenant_id, const PanToken& token) const {
  const Card* card = FindCardByPanToken(token);
  return card != nullptr && card->tenant_id == tenant_id ? card : nullptr;
}

const Card* IssuingState::FindCardByPanToken(const PanToken& token) const {
  const uint32_t slot = FindTokenSlot(token);
  return slot == kNoSlot ? nullptr : &cards_[slot];
}

void IssuingState::PrefetchCardCandidates(const PanToken& token) const {
  token_index_.ForEachCandidate(TokenHash(token), [this](uint32_t slot) {
    const char* card = reinterpret_cast<const char*>(&cards_[slot]);
    PrefetchLine(card);       // Identity, status, slots.
    PrefetchLine(card + 64);  // Spend amounts.
  });
}

void IssuingState::PrefetchCardDependents(const Card& card) const {
  PrefetchLine(&user_statuses_[card.user_slot]);
  PrefetchLine(&account_controls_slots_[card.account_slot]);
  PrefetchLine(&accounts_[card.account_slot].counters);  // Counted on approval.
  if (card.controls_slot != kNoSlot) PrefetchLine(&controls_[card.controls_slot]);
}

uint32_t IssuingState::SlotOf(const Account& account) const {
  TG_ASSERT_MSG(&account >= accounts_.data() && &account < accounts_.data() + accounts_.size(),
                "the account is not a record of this state");
  return static_cast<uint32_t>(&account - accounts_.data());
}

uint32_t IssuingState::SlotOf(const Card& card) const {
  TG_ASSERT_MSG(&card >= cards_.data() && &card < cards_.data() + cards_.size(),
                "the card is not a record of this state");
  return static_cast<uint32_t>(&card - cards_.data());
}

// ---------------------------------------------------------------- authorization path

DeclineReason IssuingState::CheckCard(const Card& card, const AuthorizationContext& context) const {
  switch (card.status) {
    case CardStatus::kActive:
      break;
    case CardStatus::kCreated:
      return DeclineReason::kCardNotActive;
    case CardStatus::kBlocked:
      return DeclineReason::kCardBlocked;
    case CardStatus::kLost:
      return DeclineReason::kCardLost;
    case CardStatus::kStolen:
      return DeclineReason::kCardStolen;
    case CardStatus::kExpired:
      return DeclineReason::kCardExpired;
    case CardStatus::kClosed:
      return DeclineReason::kCardClosed;
  }
  if (IsPastExpiry(card.expiry_year, card.expiry_month, context.timestamp_ns)) {
    return DeclineReason::kCardExpired;
  }
  if ((context.expiry_month != 0 || context.expiry_year != 0) &&
      (context.expiry_month != card.expiry_month ||
       context.expiry_year % 100 != card.expiry_year % 100)) {
    return DeclineReason::kCardExpiryMismatch;
  }
  switch (user_statuses_[card.user_slot]) {
    case UserStatus::kActive:
      break;
    case UserStatus::kBlocked:
      return DeclineReason::kUserBlocked;
    case UserStatus::kDisabled:
      return DeclineReason::kUserDisabled;
  }
  if (context.currency_numeric != card.currency_numeric) {
    return DeclineReason::kCurrencyNotSupported;
  }
  return DeclineReason::kNone;
}

DeclineReason IssuingState::EvaluateCardControls(const Card& card,
                                                 const AuthorizationContext& context) const {
  const Program& program = ProgramOf(card);
  // The account record is read only when the account has controls.
  const uint32_t account_controls_slot = account_controls_slots_[card.account_slot];
  const ControlScope scopes[] = {
      {ControlsAt(card.controls_slot), &card.counters},
      {ControlsAt(program.card_default_controls_slot), &card.counters},
      {ControlsAt(account_controls_slot),
       account_controls_slot == kNoSlot ? nullptr : &accounts_[card.account_slot].counters},
      {ControlsAt(program.controls_slot), &program.counters},
  };
  return EvaluateControls(context, scopes);
}

DeclineReason IssuingState::CheckAuthorization(const Card& card,
                                               const AuthorizationContext& context) const {
  const DeclineReason reason = CheckCard(card, context);
  if (reason != DeclineReason::kNone) return reason;
  return EvaluateCardControls(card, context);
}

template <typename Update>
CommandResult IssuingState::UpdateSpend(const Card& card, uint64_t authorization_timestamp_ns,
                                        Update&& update) {
  if (authorization_timestamp_ns >= kTimestampNsMax) return CommandResult::kInvalidTimestamp;
  bool exact = update(&cards_[SlotOf(card)].counters);
  exact &= update(&accounts_[card.account_slot].counters);
  exact &= update(&programs_[card.program_slot].counters);
  return exact ? CommandResult::kOk : CommandResult::kSpendNotExact;
}

CommandResult IssuingState::AddCardSpend(const Card& card, uint64_t amount_minor,
                                         uint64_t authorization_timestamp_ns,
                                         bool counts_toward_velocity) {
  return UpdateSpend(card, authorization_timestamp_ns, [&](SpendCounters* counters) {
    return AddSpend(counters, amount_minor, authorization_timestamp_ns, counts_toward_velocity);
  });
}

CommandResult IssuingState::RemoveCardSpend(const Card& card, uint64_t amount_minor,
                                            uint64_t authorization_timestamp_ns,
                                            bool release_velocity) {
  return UpdateSpend(card, authorization_timestamp_ns, [&](SpendCounters* counters) {
    return RemoveSpend(counters, amount_minor, authorization_timestamp_ns, release_velocity);
  });
}

// ---------------------------------------------------------------- inserts

CommandResult IssuingState::InsertTenant(const Tenant& tenant) {
  if (!tenant.id.valid()) return CommandResult::kInvalidId;
  if (FindTenantSlot(tenant.id) != kNoSlot) return CommandResult::kTenantExists;
  if (!IsValidName(tenant.name)) return CommandResult::kInvalidName;
  if (tenants_.size() >= capacity_.tenants_max) return CommandResult::kCapacityExhausted;
  const uint32_t slot = static_cast<uint32_t>(tenants_.size());
  tenants_.push_back(tenant);
  tenant_index_.Insert(TenantHash(tenant.id), slot);
  return CommandResult::kOk;
}

CommandResult IssuingState::InsertProgram(const Program& program) {
  if (!program.tenant_id.valid() || !program.id.valid()) return CommandResult::kInvalidId;
  const uint32_t tenant_slot = FindTenantSlot(program.tenant_id);
  if (tenant_slot == kNoSlot) return CommandResult::kTenantNotFound;
  if (FindProgramSlot(program.tenant_id, program.id) != kNoSlot) {
    return CommandResult::kProgramExists;
  }
  if (!IsValidName(program.name)) return CommandResult::kInvalidName;
  if (!IsKnownCurrency(program.currency_numeric)) return CommandResult::kInvalidCurrency;
  const CommandResult realtime =
      FromRealtimeProblem(CheckRealtimeDecisionSettings(program.realtime_decision));
  if (realtime != CommandResult::kOk) return realtime;
  if (!IsValidHoldExpiryTable(program.hold_expiry)) return CommandResult::kInvalidHoldExpiry;
  if (programs_.size() >= capacity_.programs_max) return CommandResult::kCapacityExhausted;
  const uint32_t slot = static_cast<uint32_t>(programs_.size());
  programs_.push_back(program);
  Program& stored = programs_.back();
  stored.tenant_slot = tenant_slot;
  stored.controls_slot = kNoSlot;
  stored.card_default_controls_slot = kNoSlot;
  program_index_.Insert(ScopedHash(program.tenant_id, program.id.value()), slot);
  return CommandResult::kOk;
}

CommandResult IssuingState::InsertUser(const User& user) {
  if (!user.tenant_id.valid() || !user.id.valid()) return CommandResult::kInvalidId;
  if (FindTenantSlot(user.tenant_id) == kNoSlot) return CommandResult::kTenantNotFound;
  if (FindUserSlot(user.tenant_id, user.id) != kNoSlot) return CommandResult::kUserExists;
  if (!IsValidUserStatus(static_cast<uint8_t>(user.status))) return CommandResult::kInvalidStatus;
  if (users_.size() >= capacity_.users_max) return CommandResult::kCapacityExhausted;
  const uint32_t slot = static_cast<uint32_t>(users_.size());
  users_.push_back(user);
  user_statuses_.push_back(user.status);
  user_index_.Insert(ScopedHash(user.tenant_id, user.id.value()), slot);
  return CommandResult::kOk;
}

CommandResult IssuingState::InsertAccount(const Account& account, Mode mode) {
  if (!account.tenant_id.valid() || !account.id.valid() || !account.program_id.valid() ||
      !account.ledger_account_id.valid()) {
    return CommandResult::kInvalidId;
  }
  if (FindTenantSlot(account.tenant_id) == kNoSlot) return CommandResult::kTenantNotFound;
  if (FindAccountSlot(account.tenant_id, account.id) != kNoSlot) {
    return CommandResult::kAccountExists;
  }
  const uint32_t program_slot = FindProgramSlot(account.tenant_id, account.program_id);
  if (program_slot == kNoSlot) return CommandResult::kProgramNotFound;
  if (account.owner_user_id.valid()) {
    const uint32_t owner_slot = FindUserSlot(account.tenant_id, account.owner_user_id);
    if (owner_slot == kNoSlot) return CommandResult::kUserNotFound;
    // A restored account may belong to a user disabled after it was opened.
    if (mode == Mode::kCommand && users_[owner_slot].status == UserStatus::kDisabled) {
      return CommandResult::kUserDisabled;
    }
  }
  if (!IsKnownCurrency(account.currency_numeric)) return CommandResult::kInvalidCurrency;
  if (account.currency_numeric != programs_[program_slot].currency_numeric) {
    return CommandResult::kCurrencyMismatch;
  }
  if (FindLedgerSlot(account.ledger_account_id) != kNoSlot) {
    return CommandResult::kLedgerAccountInUse;
  }
  if (accounts_.size() >= capacity_.accounts_max) return CommandResult::kCapacityExhausted;
  const uint32_t slot = static_cast<uint32_t>(accounts_.size());
  accounts_.push_back(account);
  accounts_.back().program_slot = program_slot;
  account_controls_slots_.push_back(kNoSlot);
  account_index_.Insert(ScopedHash(account.tenant_id, account.id.value()), slot);
  ledger_index_.Insert(LedgerHash(account.ledger_account_id), slot);
  return CommandResult::kOk;
}

CommandResult IssuingState::InsertCard(const Card& card, const EncryptedPan& encrypted, Mode mode,
                                       uint64_t timestamp_ns) {
  if (!card.tenant_id.valid() || !card.id.valid() || !card.user_id.valid() ||
      !card.account_id.valid()) {
    return CommandResult::kInvalidId;
  }
  if (FindTenantSlot(card.tenant_id) == kNoSlot) return CommandResult::kTenantNotFound;
  if (FindCardSlot(card.tenant_id, card.id) != kNoSlot) return CommandResult::kCardExists;
  const uint32_t user_slot = FindUserSlot(card.tenant_id, card.user_id);
  if (user_slot == kNoSlot) return CommandResult::kUserNotFound;
  if (mode == Mode::kCommand && users_[user_slot].status == UserStatus::kDisabled) {
    return CommandResult::kUserDisabled;
  }
  const uint32_t account_slot = FindAccountSlot(card.tenant_id, card.account_id);
  if (account_slot == kNoSlot) return CommandResult::kAccountNotFound;
  if (!IsValidExpiry(card.expiry_year, card.expiry_month)) {
    return CommandResult::kInvalidExpiryDate;
  }
  if (mode == Mode::kCommand) {
    // A card must not be born expired; a restored one may have expired since.
    if (IsPastExpiry(card.expiry_year, card.expiry_month, timestamp_ns)) {
      return CommandResult::kInvalidExpiryDate;
    }
    if (card.status != CardStatus::kCreated && card.status != CardStatus::kActive) {
      return CommandResult::kInvalidStatus;
    }
  } else if (!IsValidCardStatus(static_cast<uint8_t>(card.status))) {
    return CommandResult::kInvalidStatus;
  }
  if (!card.pan_token.valid() || !IsValidLastFour(card.last_four) ||
      !IsWellFormedEncryptedPan(encrypted)) {
    return CommandResult::kInvalidPan;
  }
  if (FindTokenSlot(card.pan_token) != kNoSlot) return CommandResult::kPanAlreadyIssued;
  if (cards_.size() >= capacity_.cards_max) return CommandResult::kCapacityExhausted;
  const uint32_t slot = static_cast<uint32_t>(cards_.size());
  cards_.push_back(card);
  Card& stored = cards_.back();
  stored.user_slot = user_slot;
  stored.account_slot = account_slot;
  stored.program_slot = accounts_[account_slot].program_slot;
  stored.currency_numeric = accounts_[account_slot].currency_numeric;
  stored.controls_slot = kNoSlot;
  card_pans_.push_back(encrypted);
  card_index_.Insert(ScopedHash(card.tenant_id, card.id.value()), slot);
  token_index_.Insert(TokenHash(card.pan_token), slot);
  return CommandResult::kOk;
}

CommandResult IssuingState::StoreControls(const Controls& controls, uint32_t* slot) {
  if (!IsValidControls(controls)) return CommandResult::kInvalidControls;
  if (controls.IsUnrestricted()) {
    // No controls at all is represented by no slot, so lookups say nullptr
    // and a restored state is the same as the original.
    if (*slot != kNoSlot) {
      controls_[*slot] = Controls{};
      free_controls_slots_.push_back(*slot);
      *slot = kNoSlot;
    }
    return CommandResult::kOk;
  }
  if (*slot == kNoSlot) {
    if (!free_controls_slots_.empty()) {
      *slot = free_controls_slots_.back();
      free_controls_slots_.pop_back();
    } else if (controls_.size() < capacity_.controls_max) {
      *slot = static_cast<uint32_t>(controls_.size());
      controls_.emplace_back();
    } else {
      return CommandResult::kCapacityExhausted;
    }
  }
  controls_[*slot] = controls.Canonical();
  return CommandResult::kOk;
}

// ---------------------------------------------------------------- commands

CommandResult IssuingState::Apply(const Command& command, uint64_t timestamp_ns) {
  if (timestamp_ns >= kTimestampNsMax) return CommandResult::kInvalidTimestamp;
  return std::visit(
      [this, timestamp_ns](const auto& typed) { return ApplyCommand(typed, timestamp_ns); },
      command);
}

CommandResult IssuingState::ApplyCommand(const CreateTenant& command, uint64_t timestamp_ns) {
  Tenant tenant;
  tenant.id = command.tenant_id;
  tenant.name = command.name;
  tenant.created_at_ns = timestamp_ns;
  return InsertTenant(tenant);
}

CommandResult IssuingState::ApplyCommand(const CreateProgram& command, uint64_t timestamp_ns) {
  Program program;
  program.id = command.program_id;
  program.tenant_id = command.tenant_id;
  program.name = command.name;
  program.currency_numeric = command.currency_numeric;
  program.hold_expiry = StandardHoldExpiryTable();
  program.created_at_ns = timestamp_ns;
  return InsertProgram(program);
}

CommandResult IssuingState::ApplyCommand(const SetRealtimeDecision& command, uint64_t) {
  if (!command.tenant_id.valid() || !command.program_id.valid()) return CommandResult::kInvalidId;
  if (FindTenantSlot(command.tenant_id) == kNoSlot) return CommandResult::kTenantNotFound;
  const uint32_t slot = FindProgramSlot(command.tenant_id, command.program_id);
  if (slot == kNoSlot) return CommandResult::kProgramNotFound;
  const CommandResult result = FromRealtimeProblem(CheckRealtimeDecisionSettings(command.settings));
  if (result != CommandResult::kOk) return result;
  programs_[slot].realtime_decision = command.settings;
  return CommandResult::kOk;
}

CommandResult IssuingState::ApplyCommand(const SetHoldExpiry& command, uint64_t) {
  if (!command.tenant_id.valid() || !command.program_id.valid()) return CommandResult::kInvalidId;
  if (FindTenantSlot(command.tenant_id) == kNoSlot) return CommandResult::kTenantNotFound;
  const uint32_t slot = FindProgramSlot(command.tenant_id, command.program_id);
  if (slot == kNoSlot) return CommandResult::kProgramNotFound;
  if (!IsValidHoldExpiryTable(command.table)) return CommandResult::kInvalidHoldExpiry;
  programs_[slot].hold_expiry = command.table;
  return CommandResult::kOk;
}

CommandResult IssuingState::ApplyCommand(const CreateUser& command, uint64_t timestamp_ns) {
  User user;
  user.id = command.user_id;
  user.tenant_id = command.tenant_id;
  user.status = UserStatus::kActive;
  user.created_at_ns = timestamp_ns;
  user.status_changed_at_ns = timestamp_ns;
  return InsertUser(user);
}

CommandResult IssuingState::ApplyCommand(const SetUserStatus& command, uint64_t timestamp_ns) {
  if (!command.tenant_id.valid() || !command.user_id.valid()) return CommandResult::kInvalidId;
  if (FindTenantSlot(command.tenant_id) == kNoSlot) return CommandResult::kTenantNotFound;
  const uint32_t slot = FindUserSlot(command.tenant_id, command.user_id);
  if (slot == kNoSlot) return CommandResult::kUserNotFound;
  User& user = users_[slot];
  const CommandResult result = FromTransition(CheckUserTransition(user.status, command.status),
                                              CommandResult::kUserDisabled);
  if (result != CommandResult::kOk) return result;
  user.status = command.status;
  user_statuses_[slot] = command.status;
  user.status_changed_at_ns = timestamp_ns;
  return CommandResult::kOk;
}

CommandResult IssuingState::ApplyCommand(const CreateAccount& command, uint64_t timestamp_ns) {
  Account account;
  account.id = command.account_id;
  account.tenant_id = command.tenant_id;
  account.program_id = command.program_id;
  account.owner_user_id = command.owner_user_id;
  account.ledger_account_id = command.ledger_account_id;
  account.currency_numeric = command.currency_numeric;
  account.created_at_ns = timestamp_ns;
  return InsertAccount(account, Mode::kCommand);
}

CommandResult IssuingState::ApplyCommand(const CreateCard& command, uint64_t timestamp_ns) {
  Card card;
  card.id = command.card_id;
  card.tenant_id = command.tenant_id;
  card.user_id = command.user_id;
  card.account_id = command.account_id;
  card.status = command.initial_status;
  card.expiry_month = command.expiry_month;
  card.expiry_year = command.expiry_year;
  card.last_four = command.pan.last_four;
  card.pan_token = command.pan.token;
  card.created_at_ns = timestamp_ns;
  card.status_changed_at_ns = timestamp_ns;
  return InsertCard(card, command.pan.encrypted, Mode::kCommand, timestamp_ns);
}

CommandResult IssuingState::ApplyCommand(const ChangeCardStatus& command, uint64_t timestamp_ns) {
  if (!command.tenant_id.valid() || !command.card_id.valid()) return CommandResult::kInvalidId;
  if (FindTenantSlot(command.tenant_id) == kNoSlot) return CommandResult::kTenantNotFound;
  const uint32_t slot = FindCardSlot(command.tenant_id, command.card_id);
  if (slot == kNoSlot) return CommandResult::kCardNotFound;
  Card& card = cards_[slot];
  const CommandResult result =
      FromTransition(CheckCardTransition(card.status, command.status), CommandResult::kCardClosed);
  if (result != CommandResult::kOk) return result;
  card.status = command.status;
  card.status_changed_at_ns = timestamp_ns;
  return CommandResult::kOk;
}

CommandResult IssuingState::ApplyCommand(const SetControls& command, uint64_t) {
  if (!command.tenant_id.valid() || command.target_id == 0) return CommandResult::kInvalidId;
  if (FindTenantSlot(command.tenant_id) == kNoSlot) return CommandResult::kTenantNotFound;
  uint32_t* controls_slot = nullptr;
  switch (command.level) {
    case ControlLevel::kProgram:
    case ControlLevel::kProgramCardDefault: {
      const uint32_t slot = FindProgramSlot(command.tenant_id, ProgramId(command.target_id));
      if (slot == kNoSlot) return CommandResult::kProgramNotFound;
      controls_slot = command.level == ControlLevel::kProgram
                          ? &programs_[slot].controls_slot
                          : &programs_[slot].card_default_controls_slot;
      break;
    }
    case ControlLevel::kAccount: {
      const uint32_t slot = FindAccountSlot(command.tenant_id, AccountId(command.target_id));
      if (slot == kNoSlot) return CommandResult::kAccountNotFound;
      controls_slot = &account_controls_slots_[slot];
      break;
    }
    case ControlLevel::kCard: {
      const uint32_t slot = FindCardSlot(command.tenant_id, CardId(command.target_id));
      if (slot == kNoSlot) return CommandResult::kCardNotFound;
      controls_slot = &cards_[slot].controls_slot;
      break;
    }
  }
  if (controls_slot == nullptr) return CommandResult::kInvalidControlLevel;
  return StoreControls(command.controls, controls_slot);
}

CommandResult IssuingState::ApplyCommand(const RecordSpend& command, uint64_t) {
  if (!command.tenant_id.valid() || !command.card_id.valid()) return CommandResult::kInvalidId;
  if (FindTenantSlot(command.tenant_id) == kNoSlot) return CommandResult::kTenantNotFound;
  const uint32_t slot = FindCardSlot(command.tenant_id, command.card_id);
  if (slot == kNoSlot) return CommandResult::kCardNotFound;
  return AddCardSpend(cards_[slot], command.amount_minor, command.authorization_timestamp_ns,
                      command.counts_toward_velocity);
}

CommandResult IssuingState::ApplyCommand(const ReleaseSpend& command, uint64_t) {
  if (!command.tenant_id.valid() || !command.card_id.valid()) return CommandResult::kInvalidId;
  if (FindTenantSlot(command.tenant_id) == kNoSlot) return CommandResult::kTenantNotFound;
  const uint32_t slot = FindCardSlot(command.tenant_id, command.card_id);
  if (slot == kNoSlot) return CommandResult::kCardNotFound;
  return RemoveCardSpend(cards_[slot], command.amount_minor, command.authorization_timestamp_ns,
                         command.release_velocity);
}

// ---------------------------------------------------------------- invariants

void IssuingState::CheckInvariants() const {
  TG_ASSERT(tenant_index_.size() == tenants_.size());
  TG_ASSERT(program_index_.size() == programs_.size());
  TG_ASSERT(user_index_.size() == users_.size());
  TG_ASSERT(account_index_.size() == accounts_.size());
  TG_ASSERT(ledger_index_.size() == accounts_.size());
  TG_ASSERT(card_index_.size() == cards_.size());
  TG_ASSERT(token_index_.size() == cards_.size());
  TG_ASSERT(card_pans_.size() == cards_.size());
  TG_ASSERT(free_controls_slots_.size() <= controls_.size());
  uint32_t controls_referenced = 0;
  const auto check_controls = [&](uint32_t slot) {
    if (slot == kNoSlot) return;
    TG_ASSERT(slot < controls_.size());
    TG_ASSERT(IsValidControls(controls_[slot]) && !controls_[slot].IsUnrestricted());
    ++controls_referenced;
  };
  for (size_t slot = 0; slot < tenants_.size(); ++slot) {
    TG_ASSERT(FindTenantSlot(tenants_[slot].id) == slot);
  }
  for (size_t slot = 0; slot < programs_.size(); ++slot) {
    const Program& program = programs_[slot];
    TG_ASSERT(FindProgramSlot(program.tenant_id, program.id) == slot);
    TG_ASSERT(tenants_[program.tenant_slot].id == program.tenant_id);
    check_controls(program.controls_slot);
    check_controls(program.card_default_controls_slot);
  }
  TG_ASSERT(user_statuses_.size() == users_.size());
  for (size_t slot = 0; slot < users_.size(); ++slot) {
    TG_ASSERT(FindUserSlot(users_[slot].tenant_id, users_[slot].id) == slot);
    TG_ASSERT(user_statuses_[slot] == users_[slot].status);
  }
  TG_ASSERT(account_controls_slots_.size() == accounts_.size());
  for (size_t slot = 0; slot < accounts_.size(); ++slot) {
    const Account& account = accounts_[slot];
    TG_ASSERT(FindAccountSlot(account.tenant_id, account.id) == slot);
    TG_ASSERT(FindLedgerSlot(account.ledger_account_id) == slot);
    const Program& program = programs_[account.program_slot];
    TG_ASSERT(program.id == account.program_id && program.tenant_id == account.tenant_id);
    TG_ASSERT(program.currency_numeric == account.currency_numeric);
    if (account.owner_user_id.valid()) {
      TG_ASSERT(FindUserSlot(account.tenant_id, account.owner_user_id) != kNoSlot);
    }
    check_controls(account_controls_slots_[slot]);
  }
  for (size_t slot = 0; slot < cards_.size(); ++slot) {
    const Card& card = cards_[slot];
    TG_ASSERT(FindCardSlot(card.tenant_id, card.id) == slot);
    TG_ASSERT(FindTokenSlot(card.pan_token) == slot);
    const User& user = users_[card.user_slot];
    const Account& account = accounts_[card.account_slot];
    TG_ASSERT(user.id == card.user_id && user.tenant_id == card.tenant_id);
    TG_ASSERT(account.id == card.account_id && account.tenant_id == card.tenant_id);
    TG_ASSERT(card.program_slot == account.program_slot);
    TG_ASSERT(card.currency_numeric == account.currency_numeric);
    TG_ASSERT(IsWellFormedEncryptedPan(card_pans_[slot]));
    check_controls(card.controls_slot);
  }
  TG_ASSERT(controls_referenced + free_controls_slots_.size() == controls_.size());
}

}  // namespace tangelo::issuing
