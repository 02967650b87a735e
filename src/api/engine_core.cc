#include "api/engine_core.h"

#include <openssl/rand.h>

#include <chrono>

#include "authorizer/entries.h"
#include "base/assert.h"
#include "issuing/commands.h"
#include "issuing/decline_reason.h"
#include "ledger/result_codes.h"

namespace tangelo::api {
namespace {

using authorizer::EntryKind;

CoreStatus StatusOfCommand(issuing::CommandResult result) {
  using R = issuing::CommandResult;
  switch (result) {
    case R::kOk:
    case R::kSpendNotExact: return CoreStatus::kOk;
    case R::kTenantNotFound:
    case R::kProgramNotFound:
    case R::kUserNotFound:
    case R::kAccountNotFound:
    case R::kCardNotFound: return CoreStatus::kNotFound;
    case R::kTenantExists:
    case R::kProgramExists:
    case R::kUserExists:
    case R::kAccountExists:
    case R::kCardExists:
    case R::kPanAlreadyIssued:
    case R::kLedgerAccountInUse: return CoreStatus::kExists;
    case R::kCapacityExhausted: return CoreStatus::kLimitReached;
    case R::kCurrencyMismatch: return CoreStatus::kCurrencyMismatch;
    case R::kStatusUnchanged:
    case R::kTransitionNotAllowed:
    case R::kCardClosed:
    case R::kUserDisabled: return CoreStatus::kInvalidState;
    default: return CoreStatus::kInvalidValue;
  }
}

CoreStatus StatusOfReplyCode(uint32_t code) {
  switch (static_cast<authorizer::ReplyCode>(code)) {
    case authorizer::ReplyCode::kOk: return CoreStatus::kOk;
    case authorizer::ReplyCode::kNotFound: return CoreStatus::kNotFound;
    case authorizer::ReplyCode::kLedgerCapacityExhausted: return CoreStatus::kLimitReached;
    case authorizer::ReplyCode::kLedgerAccountExists: return CoreStatus::kExists;
    default: return CoreStatus::kInternal;
  }
}

uint64_t SystemNowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// A random Luhn-valid 16-digit PAN under `bin`.
std::optional<std::string> GeneratePan(const std::string& bin) {
  std::string pan = bin;
  uint8_t random[16];
  if (RAND_bytes(random, sizeof(random)) != 1) return std::nullopt;
  for (size_t i = 0; pan.size() < 15; ++i) pan += static_cast<char>('0' + random[i] % 10);
  const auto check = issuing::LuhnCheckDigit(pan);
  if (!check) return std::nullopt;
  pan += *check;
  return pan;
}

}  // namespace

struct EngineCore::Operation {
  CoreRequest request;
  CoreCallback done;
  enum class Stage : uint8_t { kMain, kReverseLookup } stage = Stage::kMain;
  uint16_t currency_numeric = 0;  // Reversal: the account's currency.
  uint64_t card_id = 0;           // Reversal: the original's card.
  uint64_t account_id = 0;        // Reversal: the card's account.
};

EngineCore::EngineCore(EngineCoreOptions options) : options_(std::move(options)) {
  TG_ASSERT(options_.engine != nullptr && options_.directory != nullptr);
  if (!options_.now_ms) options_.now_ms = SystemNowMs;
  completion_thread_ = std::thread([this] { CompletionLoop(); });
}

EngineCore::~EngineCore() {
  {
    std::lock_guard lock(completions_mutex_);
    stopping_ = true;
  }
  completions_ready_.notify_one();
  completion_thread_.join();
  TG_ASSERT_MSG(in_flight_.load() == 0, "EngineCore destroyed with engine entries in flight");
}

void EngineCore::Complete(uint64_t tag, const engine::Reply& reply) {
  {
    std::lock_guard lock(completions_mutex_);
    completions_.emplace_back(tag, reply);
  }
  completions_ready_.notify_one();
}

void EngineCore::CompletionLoop() {
  std::unique_lock lock(completions_mutex_);
  for (;;) {
    completions_ready_.wait(lock, [this] { return stopping_ || !completions_.empty(); });
    if (completions_.empty()) return;  // Stopping and drained.
    const auto [tag, reply] = completions_.front();
    completions_.pop_front();
    lock.unlock();
    Process(tag, reply);
    lock.lock();
  }
}

std::vector<ApiKey> EngineCore::LoadApiKeys() { return options_.directory->LoadApiKeys(); }

CoreReply EngineCore::Directory(CoreRequest request) {
  CoreReply out{CoreStatus::kInternal, std::monostate{}};
  options_.directory->Submit(std::move(request), [&](CoreReply&& reply) { out = std::move(reply); });
  return out;
}

void EngineCore::Enqueue(Operation* operation, uint16_t kind,
                         std::span<const std::byte> payload) {
  in_flight_.fetch_add(1);
  const engine::SubmitResult result = options_.engine->TrySubmit(
      kind, payload, this, reinterpret_cast<uint64_t>(operation));
  if (result == engine::SubmitResult::kAccepted) return;
  in_flight_.fetch_sub(1);
  std::unique_ptr<Operation> owned(operation);
  const CoreStatus status = result == engine::SubmitResult::kQueueFull ? CoreStatus::kOverloaded
                            : result == engine::SubmitResult::kStopped ? CoreStatus::kUnavailable
                                                                       : CoreStatus::kInternal;
  owned->done(CoreReply{status, std::monostate{}});
}

void EngineCore::EnqueueIssuing(Operation* operation, const void* command_pointer) {
  const auto& command = *static_cast<const issuing::Command*>(command_pointer);
  std::array<uint8_t, issuing::kCommandSizeMax> bytes;
  const auto size = issuing::EncodeCommand(command, bytes);
  if (!size.ok()) {
    std::unique_ptr<Operation> owned(operation);
    owned->done(CoreReply{CoreStatus::kInvalidValue, std::monostate{}});
    return;
  }
  Enqueue(operation, static_cast<uint16_t>(EntryKind::kIssuingCommand),
          std::as_bytes(std::span(bytes.data(), *size)));
}

void EngineCore::Submit(CoreRequest request, CoreCallback done) {
  auto* operation = new Operation{std::move(request), std::move(done)};
  CoreRequest& r = operation->request;
  auto fail = [&](CoreStatus status) {
    std::unique_ptr<Operation> owned(operation);
    owned->done(CoreReply{status, std::monostate{}});
  };
  auto name_of = [](std::string_view text, std::string_view fallback) {
    return issuing::MakeName(text.empty() ? fallback : text);
  };
  if (auto* create_tenant = std::get_if<CreateTenantRequest>(&r)) {
    const auto name = name_of(create_tenant->name, "tenant");
    if (!name) return fail(CoreStatus::kInvalidValue);
    const issuing::Command command =
        issuing::CreateTenant{issuing::TenantId(create_tenant->tenant_id), *name};
    return EnqueueIssuing(operation, &command);
  }
  if (auto* create_program = std::get_if<CreateProgramRequest>(&r)) {
    const auto name = name_of(create_program->program.name, "program");
    if (!name) return fail(CoreStatus::kInvalidValue);
    const issuing::Command command = issuing::CreateProgram{
        issuing::TenantId(create_program->tenant_id),
        issuing::ProgramId(create_program->program.id), *name,
        create_program->program.currency_numeric};
    return EnqueueIssuing(operation, &command);
  }
  if (auto* create_user = std::get_if<CreateUserRequest>(&r)) {
    const issuing::Command command = issuing::CreateUser{
        issuing::TenantId(create_user->tenant_id), issuing::UserId(create_user->user.id)};
    return EnqueueIssuing(operation, &command);
  }
  if (auto* set_user = std::get_if<SetUserStatusRequest>(&r)) {
    const issuing::Command command = issuing::SetUserStatus{
        issuing::TenantId(set_user->tenant_id), issuing::UserId(set_user->user_id),
        static_cast<issuing::UserStatus>(set_user->status)};
    return EnqueueIssuing(operation, &command);
  }
  if (auto* create_account = std::get_if<CreateAccountRequest>(&r)) {
    // The account's currency is its program's; the directory knows it.
    const CoreReply program = Directory(
        GetProgramRequest{create_account->tenant_id, create_account->account.program_id});
    if (program.status != CoreStatus::kOk) return fail(program.status);
    create_account->account.currency_numeric = std::get<Program>(program.object).currency_numeric;
    // The ledger account id: the account id itself (both below 2^62, unique).
    const issuing::Command command = issuing::CreateAccount{
        issuing::TenantId(create_account->tenant_id),
        issuing::AccountId(create_account->account.id),
        issuing::ProgramId(create_account->account.program_id),
        issuing::UserId(create_account->account.user_id),
        issuing::LedgerAccountId(create_account->account.id),
        create_account->account.currency_numeric};
    return EnqueueIssuing(operation, &command);
  }
  if (auto* create_card = std::get_if<CreateCardRequest>(&r)) {
    if (options_.pan_vault == nullptr) return fail(CoreStatus::kInternal);
    const auto pan = GeneratePan(options_.card_bin);
    if (!pan) return fail(CoreStatus::kInternal);
    auto protected_pan = options_.pan_vault->Protect(issuing::TenantId(create_card->tenant_id),
                                                     issuing::CardId(create_card->card.id), *pan);
    if (!protected_pan.ok()) return fail(CoreStatus::kInternal);
    const std::string token = protected_pan->token.ToHex();
    for (size_t i = 0; i < create_card->card.token.size() && i < token.size(); ++i) {
      create_card->card.token[i] = token[i];
    }
    create_card->card.last_four = protected_pan->last_four;
    issuing::CreateCard command_card;
    command_card.tenant_id = issuing::TenantId(create_card->tenant_id);
    command_card.card_id = issuing::CardId(create_card->card.id);
    command_card.user_id = issuing::UserId(create_card->card.user_id);
    command_card.account_id = issuing::AccountId(create_card->card.account_id);
    command_card.expiry_year = create_card->card.expiry_year;
    command_card.expiry_month = create_card->card.expiry_month;
    command_card.initial_status = static_cast<issuing::CardStatus>(create_card->card.status);
    command_card.pan = *protected_pan;
    const issuing::Command command = command_card;
    return EnqueueIssuing(operation, &command);
  }
  if (auto* set_card = std::get_if<SetCardStatusRequest>(&r)) {
    const issuing::Command command = issuing::ChangeCardStatus{
        issuing::TenantId(set_card->tenant_id), issuing::CardId(set_card->card_id),
        static_cast<issuing::CardStatus>(set_card->status)};
    return EnqueueIssuing(operation, &command);
  }
  if (auto* set_controls = std::get_if<SetCardControlsRequest>(&r)) {
    issuing::Controls controls;
    const CardControls& in = set_controls->controls;
    if (in.transaction_amount_max != 0) controls.transaction_amount_max = in.transaction_amount_max;
    if (in.daily_amount_max != 0) controls.daily_amount_max = in.daily_amount_max;
    if (in.monthly_amount_max != 0) controls.monthly_amount_max = in.monthly_amount_max;
    for (uint16_t mcc : in.mcc_deny) {
      if (!controls.DenyMcc(mcc, mcc)) return fail(CoreStatus::kInvalidValue);
    }
    // API channel values 1..3 are bits 1..3 of channels_blocked; issuing's
    // channel bits are 1, 2, 4 for the same channels.
    controls.channels_blocked = static_cast<uint8_t>(in.channels_blocked >> 1);
    const issuing::Command command = issuing::SetControls{
        issuing::TenantId(set_controls->tenant_id), issuing::ControlLevel::kCard,
        set_controls->card_id, controls};
    return EnqueueIssuing(operation, &command);
  }
  if (auto* fund = std::get_if<FundAccountRequest>(&r)) {
    const CoreReply account = Directory(GetAccountRequest{fund->tenant_id, fund->account_id});
    if (account.status != CoreStatus::kOk) return fail(account.status);
    if (std::get<Account>(account.object).currency_numeric != fund->currency_numeric) {
      return fail(CoreStatus::kCurrencyMismatch);
    }
    authorizer::FundAccountRequest entry;
    entry.direction = static_cast<uint8_t>(fund->credit ? authorizer::FundingDirection::kCredit
                                                        : authorizer::FundingDirection::kDebit);
    entry.currency_numeric = fund->currency_numeric;
    entry.tenant_id = fund->tenant_id;
    entry.account_id = fund->account_id;
    entry.transfer_id = fund->transfer_id;
    entry.amount_minor = fund->amount_minor;
    return Enqueue(operation, static_cast<uint16_t>(EntryKind::kFundAccount),
                   authorizer::PayloadOf(entry));
  }
  if (auto* authorize = std::get_if<AuthorizeRequest>(&r)) {
    authorizer::AuthorizationRequest entry;
    entry.type = static_cast<uint8_t>(authorizer::AuthorizationType::kPurchase);
    entry.flags = authorize->partial_approval_supported
                      ? authorizer::RequestFlags::kPartialApprovalSupported : 0;
    entry.channel = static_cast<uint8_t>(authorize->channel);
    entry.currency_numeric = authorize->currency_numeric;
    entry.mcc = authorize->mcc;
    entry.merchant_country_numeric = authorize->merchant_country;
    entry.amount_minor = authorize->amount_minor;
    entry.card = authorizer::CardReference::ById(issuing::TenantId(authorize->tenant_id),
                                                 issuing::CardId(authorize->card_id));
    if (!authorize->idempotency_key.empty()) {
      entry.flags = static_cast<uint8_t>(entry.flags | authorizer::RequestFlags::kHasIdempotencyKey);
      entry.ids = authorizer::RequestIds::FromIdempotencyKey(authorize->idempotency_key);
    }
    for (size_t i = 0; i < authorize->merchant_id.size() && i < 15; ++i) {
      entry.merchant_id[i] = authorize->merchant_id[i];
    }
    return Enqueue(operation, static_cast<uint16_t>(EntryKind::kAuthorize),
                   authorizer::PayloadOf(entry));
  }
  if (auto* reverse = std::get_if<ReverseRequest>(&r)) {
    operation->stage = Operation::Stage::kReverseLookup;
    authorizer::LookupAuthorizationRequest entry;
    entry.tenant_id = reverse->tenant_id;
    entry.authorization_id = reverse->authorization_id;
    return Enqueue(operation, static_cast<uint16_t>(EntryKind::kLookupAuthorization),
                   authorizer::PayloadOf(entry));
  }
  if (auto* get_authorization = std::get_if<GetAuthorizationRequest>(&r)) {
    authorizer::LookupAuthorizationRequest entry;
    entry.tenant_id = get_authorization->tenant_id;
    entry.authorization_id = get_authorization->authorization_id;
    return Enqueue(operation, static_cast<uint16_t>(EntryKind::kLookupAuthorization),
                   authorizer::PayloadOf(entry));
  }
  if (auto* get_account = std::get_if<GetAccountRequest>(&r)) {
    authorizer::LookupBalanceRequest entry;
    entry.tenant_id = get_account->tenant_id;
    entry.account_id = get_account->account_id;
    return Enqueue(operation, static_cast<uint16_t>(EntryKind::kLookupBalance),
                   authorizer::PayloadOf(entry));
  }
  // No engine kind yet: the directory answers (README "Hooks").
  std::unique_ptr<Operation> owned(operation);
  options_.directory->Submit(std::move(owned->request), std::move(owned->done));
}

void EngineCore::Mirror(Operation& operation, CoreCallback done) {
  options_.directory->Submit(std::move(operation.request), std::move(done));
}

void EngineCore::Process(uint64_t tag, const engine::Reply& reply) {
  std::unique_ptr<Operation> operation(reinterpret_cast<Operation*>(tag));
  in_flight_.fetch_sub(1);
  CoreRequest& r = operation->request;
  const CoreStatus code_status = StatusOfReplyCode(reply.code);

  if (auto* authorize = std::get_if<AuthorizeRequest>(&r)) {
    const authorizer::DecisionReply decision = authorizer::DecodeDecisionReply(reply);
    if (code_status != CoreStatus::kOk) return operation->done(CoreReply{code_status, {}});
    if (decision.reason == issuing::DeclineReason::kCardNotFound) {
      return operation->done(CoreReply{CoreStatus::kNotFound, {}});  // Or another tenant's.
    }
    Authorization out;
    out.id = decision.authorization_id.value() != 0 ? decision.authorization_id.value()
                                                    : authorize->authorization_id;
    out.card_id = authorize->card_id;
    out.decision = decision.decision == authorizer::Decision::kApproved ? DecisionValue::kApproved
                   : decision.decision == authorizer::Decision::kPartiallyApproved
                       ? DecisionValue::kPartiallyApproved
                       : DecisionValue::kDeclined;
    if (decision.reason != issuing::DeclineReason::kNone) {
      out.reason = std::string(issuing::DeclineReasonName(decision.reason));
    }
    if (decision.response_code[0] != 0) out.response_code = decision.response_code;
    out.requested_minor = authorize->amount_minor;
    out.approved_minor = decision.approved_amount_minor;
    out.held_minor = decision.held_amount_minor;
    out.currency_numeric = authorize->currency_numeric;
    out.available_after_minor = decision.available_minor;
    out.merchant_id = authorize->merchant_id;
    out.merchant_name = authorize->merchant_name;
    out.mcc = authorize->mcc;
    out.created_at_ms = decision.authorized_at_ns / 1'000'000;
    const CoreReply card = Directory(GetCardRequest{authorize->tenant_id, authorize->card_id});
    if (card.status == CoreStatus::kOk) out.account_id = std::get<Card>(card.object).account_id;
    return operation->done(CoreReply{CoreStatus::kOk, std::move(out)});
  }
  if (auto* reverse = std::get_if<ReverseRequest>(&r)) {
    if (operation->stage == Operation::Stage::kReverseLookup) {
      if (code_status != CoreStatus::kOk) return operation->done(CoreReply{code_status, {}});
      const uint64_t card_id = reply.values[0];
      const CoreReply card = Directory(GetCardRequest{reverse->tenant_id, card_id});
      uint16_t currency = 0;
      if (card.status == CoreStatus::kOk) {
        operation->account_id = std::get<Card>(card.object).account_id;
        const CoreReply account =
            Directory(GetAccountRequest{reverse->tenant_id, operation->account_id});
        if (account.status == CoreStatus::kOk) {
          currency = std::get<Account>(account.object).currency_numeric;
        }
      }
      authorizer::ReversalRequest entry;
      entry.flags = reverse->amount_minor == 0 ? authorizer::RequestFlags::kFullReversal : 0;
      if (!reverse->idempotency_key.empty()) {
        entry.flags =
            static_cast<uint8_t>(entry.flags | authorizer::RequestFlags::kHasIdempotencyKey);
        entry.ids = authorizer::RequestIds::FromIdempotencyKey(reverse->idempotency_key);
      }
      entry.currency_numeric = currency;
      entry.amount_minor = reverse->amount_minor;
      entry.card = authorizer::CardReference::ById(issuing::TenantId(reverse->tenant_id),
                                                   issuing::CardId(card_id));
      entry.original =
          authorizer::OriginalReference::ById(authorizer::AuthorizationId(reverse->authorization_id));
      operation->stage = Operation::Stage::kMain;
      operation->currency_numeric = currency;
      operation->card_id = card_id;
      Operation* raw = operation.release();
      return Enqueue(raw, static_cast<uint16_t>(EntryKind::kReverse),
                     authorizer::PayloadOf(entry));
    }
    const authorizer::ReversalReply reversal = authorizer::DecodeReversalReply(reply);
    if (code_status != CoreStatus::kOk) return operation->done(CoreReply{code_status, {}});
    if (reversal.result != authorizer::ReversalResult::kReleased) {
      return operation->done(CoreReply{CoreStatus::kInvalidState, {}});
    }
    Authorization out;
    out.id = reverse->authorization_id;
    out.card_id = operation->card_id;
    out.account_id = operation->account_id;
    out.decision = DecisionValue::kApproved;
    out.response_code = {'0', '0'};
    out.held_minor = reversal.held_amount_minor;
    out.available_after_minor = reversal.available_minor;
    out.currency_numeric = operation->currency_numeric;
    return operation->done(CoreReply{CoreStatus::kOk, std::move(out)});
  }
  if (auto* get_authorization = std::get_if<GetAuthorizationRequest>(&r)) {
    if (code_status != CoreStatus::kOk) return operation->done(CoreReply{code_status, {}});
    Authorization out;
    out.id = get_authorization->authorization_id;
    out.card_id = reply.values[0];
    const auto decision = static_cast<uint8_t>((reply.detail >> 8) & 0xff);
    out.decision = decision == 1 ? DecisionValue::kApproved
                   : decision == 2 ? DecisionValue::kPartiallyApproved
                                   : DecisionValue::kDeclined;
    out.response_code = decision == 1 ? std::array<char, 2>{'0', '0'}
                        : decision == 2 ? std::array<char, 2>{'1', '0'}
                                        : std::array<char, 2>{'0', '5'};
    out.held_minor = reply.values[1];
    out.approved_minor = reply.values[1] + reply.values[3];
    out.created_at_ms = reply.values[4] / 1'000'000;
    const CoreReply card = Directory(GetCardRequest{get_authorization->tenant_id, out.card_id});
    if (card.status == CoreStatus::kOk) out.account_id = std::get<Card>(card.object).account_id;
    return operation->done(CoreReply{CoreStatus::kOk, std::move(out)});
  }
  if (auto* get_account = std::get_if<GetAccountRequest>(&r)) {
    if (code_status != CoreStatus::kOk) return operation->done(CoreReply{code_status, {}});
    CoreReply directory = Directory(*get_account);
    Account out;
    if (directory.status == CoreStatus::kOk) out = std::get<Account>(directory.object);
    out.id = get_account->account_id;
    out.posted_minor = reply.values[0] - reply.values[1];
    out.pending_minor = reply.values[2];
    out.available_minor = reply.values[3];
    out.currency_numeric = static_cast<uint16_t>(reply.values[4]);
    return operation->done(CoreReply{CoreStatus::kOk, std::move(out)});
  }
  if (auto* fund = std::get_if<FundAccountRequest>(&r)) {
    if (code_status != CoreStatus::kOk) return operation->done(CoreReply{code_status, {}});
    const auto result = static_cast<ledger::CreateTransferResult>(reply.detail);
    if (result == ledger::CreateTransferResult::kExceedsCredits ||
        result == ledger::CreateTransferResult::kExceedsDebits) {
      return operation->done(CoreReply{CoreStatus::kInsufficientFunds, {}});
    }
    if (result != ledger::CreateTransferResult::kOk) {
      return operation->done(CoreReply{CoreStatus::kInvalidState, {}});
    }
    const uint64_t account_id = fund->account_id;
    const uint64_t tenant_id = fund->tenant_id;
    Account balance;
    balance.available_minor = reply.values[1];
    balance.posted_minor = reply.values[2] - reply.values[3];
    balance.pending_minor = reply.values[4];
    // Mirror for the transaction listing, then answer with the ledger's balance.
    Directory(std::move(r));  // Its answer does not matter: the ledger decided.
    CoreReply directory = Directory(GetAccountRequest{tenant_id, account_id});
    Account out = directory.status == CoreStatus::kOk ? std::get<Account>(directory.object)
                                                      : Account{};
    out.id = account_id;
    out.available_minor = balance.available_minor;
    out.posted_minor = balance.posted_minor;
    out.pending_minor = balance.pending_minor;
    return operation->done(CoreReply{CoreStatus::kOk, std::move(out)});
  }
  // Issuing commands.
  if (code_status != CoreStatus::kOk) return operation->done(CoreReply{code_status, {}});
  const CoreStatus status = StatusOfCommand(static_cast<issuing::CommandResult>(reply.detail));
  if (status != CoreStatus::kOk) return operation->done(CoreReply{status, {}});
  Mirror(*operation, std::move(operation->done));
}

}  // namespace tangelo::api
