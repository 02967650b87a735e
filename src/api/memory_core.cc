#include "api/memory_core.h"

#include <algorithm>
#include <chrono>
#include <cstring>

namespace tangelo::api {
namespace {

uint64_t WallClockMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

CoreReply Status(CoreStatus status) { return CoreReply{status, std::monostate{}}; }

template <typename T>
CoreReply Ok(T object) {
  return CoreReply{CoreStatus::kOk, CoreObject(std::move(object))};
}

// Transitions a real issuer allows (mirrors issuing/card_status.h).
bool CardTransitionAllowed(CardStatusValue from, CardStatusValue to) {
  using S = CardStatusValue;
  if (from == to || from == S::kClosed) return false;
  switch (from) {
    case S::kCreated: return to == S::kActive || to == S::kClosed || to == S::kLost ||
                             to == S::kStolen;
    case S::kActive: return to != S::kCreated;
    case S::kBlocked: return to == S::kActive || to == S::kClosed || to == S::kLost ||
                             to == S::kStolen;
    case S::kLost:
    case S::kStolen:
    case S::kExpired: return to == S::kClosed;
    case S::kClosed: return false;
  }
  return false;
}

}  // namespace

MemoryCore::MemoryCore(MemoryCoreOptions options) : options_(std::move(options)) {
  if (!options_.now_ms) options_.now_ms = WallClockMs;
  if (options_.deliver_on_thread) thread_ = std::thread([this] { DeliveryLoop(); });
}

MemoryCore::~MemoryCore() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(queue_mutex_);
      stopping_ = true;
      paused_ = false;
    }
    queue_ready_.notify_all();
    thread_.join();
  }
}

void MemoryCore::Pause() {
  std::lock_guard lock(queue_mutex_);
  paused_ = true;
}

void MemoryCore::Release() {
  {
    std::lock_guard lock(queue_mutex_);
    paused_ = false;
  }
  queue_ready_.notify_all();
}

size_t MemoryCore::QueuedReplies() {
  std::lock_guard lock(queue_mutex_);
  return queue_.size();
}

void MemoryCore::DeliveryLoop() {
  std::unique_lock lock(queue_mutex_);
  for (;;) {
    queue_ready_.wait(lock, [this] { return stopping_ || (!paused_ && !queue_.empty()); });
    if (queue_.empty() && stopping_) return;
    auto item = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    item.first(std::move(item.second));
    lock.lock();
  }
}

void MemoryCore::Submit(CoreRequest request, CoreCallback done) {
  CoreReply reply;
  {
    std::lock_guard lock(mutex_);
    reply = Apply(request);
  }
  if (!options_.deliver_on_thread) {
    done(std::move(reply));
    return;
  }
  {
    std::lock_guard lock(queue_mutex_);
    queue_.emplace_back(std::move(done), std::move(reply));
  }
  queue_ready_.notify_one();
}

std::vector<ApiKey> MemoryCore::LoadApiKeys() {
  std::lock_guard lock(mutex_);
  std::vector<ApiKey> keys;
  for (const auto& [id, tenant] : tenants_) {
    for (const auto& [key_id, key] : tenant.keys) {
      if (!key.revoked) keys.push_back(key);
    }
  }
  return keys;
}

MemoryCore::TenantState* MemoryCore::FindTenant(uint64_t tenant_id) {
  auto it = tenants_.find(tenant_id);
  return it == tenants_.end() ? nullptr : &it->second;
}

void MemoryCore::AddTransaction(TenantState& state, Transaction transaction) {
  transaction.id = state.next_transaction_id++;
  transaction.created_at_ms = options_.now_ms();
  state.transactions.emplace(transaction.id, std::move(transaction));
}

CoreReply MemoryCore::Apply(CoreRequest& request) {
  const uint64_t now_ms = options_.now_ms();
  return std::visit(
      [&](auto& r) -> CoreReply {
        using R = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<R, CreateTenantRequest>) {
          if (tenants_.count(r.tenant_id) != 0) return Status(CoreStatus::kExists);
          TenantState& state = tenants_[r.tenant_id];
          state.tenant = Tenant{r.tenant_id, r.name, now_ms};
          return Ok(state.tenant);
        } else {
          TenantState* state;
          if constexpr (std::is_same_v<R, CreateApiKeyRequest>) {
            state = FindTenant(r.key.tenant_id);
          } else {
            state = FindTenant(r.tenant_id);
          }
          if (state == nullptr) return Status(CoreStatus::kNotFound);
          return ApplyToTenant(*state, request, now_ms);
        }
      },
      request);
}


CoreReply MemoryCore::ApplyToTenant(TenantState& state, CoreRequest& request, uint64_t now_ms) {
  return std::visit(
      [&](auto& r) -> CoreReply {
        using R = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<R, CreateTenantRequest>) {
          return Status(CoreStatus::kInternal);
        } else if constexpr (std::is_same_v<R, GetTenantRequest>) {
          return Ok(state.tenant);
        } else if constexpr (std::is_same_v<R, CreateApiKeyRequest>) {
          if (state.keys.count(r.key.id) != 0) return Status(CoreStatus::kExists);
          size_t live = 0;
          for (const auto& [id, key] : state.keys) live += key.revoked ? 0 : 1;
          if (live >= kApiKeysPerTenantMax) return Status(CoreStatus::kLimitReached);
          r.key.created_at_ms = now_ms;
          state.keys[r.key.id] = r.key;
          return Ok(r.key);
        } else if constexpr (std::is_same_v<R, RevokeApiKeyRequest>) {
          auto it = state.keys.find(r.key_id);
          if (it == state.keys.end() || it->second.revoked) return Status(CoreStatus::kNotFound);
          it->second.revoked = true;
          return Ok(it->second);
        } else if constexpr (std::is_same_v<R, ListApiKeysRequest>) {
          std::vector<ApiKey> keys;
          for (const auto& [id, key] : state.keys) {
            if (!key.revoked) keys.push_back(key);
          }
          return Ok(std::move(keys));
        } else if constexpr (std::is_same_v<R, CreateProgramRequest>) {
          if (state.programs.count(r.program.id) != 0) return Status(CoreStatus::kExists);
          r.program.created_at_ms = now_ms;
          state.programs[r.program.id] = r.program;
          return Ok(r.program);
        } else if constexpr (std::is_same_v<R, GetProgramRequest>) {
          auto it = state.programs.find(r.program_id);
          if (it == state.programs.end()) return Status(CoreStatus::kNotFound);
          return Ok(it->second);
        } else if constexpr (std::is_same_v<R, CreateUserRequest>) {
          if (state.users.count(r.user.id) != 0) return Status(CoreStatus::kExists);
          r.user.created_at_ms = now_ms;
          state.users[r.user.id] = r.user;
          return Ok(r.user);
        } else if constexpr (std::is_same_v<R, GetUserRequest>) {
          auto it = state.users.find(r.user_id);
          if (it == state.users.end()) return Status(CoreStatus::kNotFound);
          return Ok(it->second);
        } else if constexpr (std::is_same_v<R, SetUserStatusRequest>) {
          auto it = state.users.find(r.user_id);
          if (it == state.users.end()) return Status(CoreStatus::kNotFound);
          if (it->second.status == r.status || it->second.status == UserStatusValue::kDisabled) {
            return Status(CoreStatus::kInvalidState);
          }
          it->second.status = r.status;
          return Ok(it->second);
        } else if constexpr (std::is_same_v<R, CreateAccountRequest>) {
          auto program = state.programs.find(r.account.program_id);
          if (program == state.programs.end()) return Status(CoreStatus::kNotFound);
          if (r.account.user_id != 0 && state.users.count(r.account.user_id) == 0) {
            return Status(CoreStatus::kNotFound);
          }
          if (state.accounts.count(r.account.id) != 0) return Status(CoreStatus::kExists);
          r.account.currency_numeric = program->second.currency_numeric;
          r.account.created_at_ms = now_ms;
          state.accounts[r.account.id] = r.account;
          return Ok(r.account);
        } else if constexpr (std::is_same_v<R, GetAccountRequest>) {
          auto it = state.accounts.find(r.account_id);
          if (it == state.accounts.end()) return Status(CoreStatus::kNotFound);
          return Ok(it->second);
        } else if constexpr (std::is_same_v<R, FundAccountRequest>) {
          auto it = state.accounts.find(r.account_id);
          if (it == state.accounts.end()) return Status(CoreStatus::kNotFound);
          Account& account = it->second;
          if (r.currency_numeric != account.currency_numeric) {
            return Status(CoreStatus::kCurrencyMismatch);
          }
          if (state.fund_transfers.count(r.transfer_id) != 0) return Status(CoreStatus::kExists);
          if (r.credit) {
            if (account.posted_minor + r.amount_minor > kAmountMinorMax * 1000) {
              return Status(CoreStatus::kLimitReached);
            }
            account.posted_minor += r.amount_minor;
            account.available_minor += r.amount_minor;
          } else {
            if (r.amount_minor > account.available_minor) {
              return Status(CoreStatus::kInsufficientFunds);
            }
            account.posted_minor -= r.amount_minor;
            account.available_minor -= r.amount_minor;
          }
          state.fund_transfers[r.transfer_id] = true;
          Transaction transaction;
          transaction.type = r.credit ? TransactionType::kCredit : TransactionType::kDebit;
          transaction.account_id = account.id;
          transaction.amount_minor = r.amount_minor;
          transaction.currency_numeric = r.currency_numeric;
          transaction.status = "posted";
          AddTransaction(state, std::move(transaction));
          return Ok(account);
        } else if constexpr (std::is_same_v<R, CreateCardRequest>) {
          auto user = state.users.find(r.card.user_id);
          auto account = state.accounts.find(r.card.account_id);
          if (user == state.users.end() || account == state.accounts.end()) {
            return Status(CoreStatus::kNotFound);
          }
          if (user->second.status == UserStatusValue::kDisabled) {
            return Status(CoreStatus::kInvalidState);
          }
          if (state.cards.count(r.card.id) != 0) return Status(CoreStatus::kExists);
          r.card.created_at_ms = now_ms;
          state.cards[r.card.id] = r.card;
          return Ok(r.card);
        } else if constexpr (std::is_same_v<R, GetCardRequest>) {
          auto it = state.cards.find(r.card_id);
          if (it == state.cards.end()) return Status(CoreStatus::kNotFound);
          return Ok(it->second);
        } else if constexpr (std::is_same_v<R, SetCardStatusRequest>) {
          auto it = state.cards.find(r.card_id);
          if (it == state.cards.end()) return Status(CoreStatus::kNotFound);
          if (!CardTransitionAllowed(it->second.status, r.status)) {
            return Status(CoreStatus::kInvalidState);
          }
          it->second.status = r.status;
          return Ok(it->second);
        } else if constexpr (std::is_same_v<R, SetCardControlsRequest>) {
          auto it = state.cards.find(r.card_id);
          if (it == state.cards.end()) return Status(CoreStatus::kNotFound);
          it->second.controls = r.controls;
          return Ok(it->second);
        } else if constexpr (std::is_same_v<R, AuthorizeRequest>) {
          auto card_it = state.cards.find(r.card_id);
          if (card_it == state.cards.end()) return Status(CoreStatus::kNotFound);
          if (state.authorizations.count(r.authorization_id) != 0) {
            return Status(CoreStatus::kExists);
          }
          const Card& card = card_it->second;
          Account& account = state.accounts.at(card.account_id);
          Authorization authorization;
          authorization.id = r.authorization_id;
          authorization.card_id = card.id;
          authorization.account_id = account.id;
          authorization.requested_minor = r.amount_minor;
          authorization.currency_numeric = r.currency_numeric;
          authorization.merchant_id = r.merchant_id;
          authorization.merchant_name = r.merchant_name;
          authorization.mcc = r.mcc;
          authorization.created_at_ms = now_ms;
          auto decline = [&](const char* reason, const char* code) {
            authorization.decision = DecisionValue::kDeclined;
            authorization.reason = reason;
            authorization.response_code = {code[0], code[1]};
          };
          const CardControls& controls = card.controls;
          const bool mcc_denied = std::find(controls.mcc_deny.begin(), controls.mcc_deny.end(),
                                            r.mcc) != controls.mcc_deny.end();
          if (card.status != CardStatusValue::kActive) {
            decline(card.status == CardStatusValue::kLost || card.status ==
                    CardStatusValue::kStolen ? "CARD_LOST_OR_STOLEN" : "CARD_INACTIVE",
                    card.status == CardStatusValue::kStolen ? "43" : "62");
          } else if (r.currency_numeric != account.currency_numeric) {
            decline("CURRENCY_MISMATCH", "13");
          } else if (controls.transaction_amount_max != 0 &&
                     r.amount_minor > controls.transaction_amount_max) {
            decline("TRANSACTION_LIMIT_EXCEEDED", "61");
          } else if (mcc_denied) {
            decline("MCC_BLOCKED", "57");
          } else if ((controls.channels_blocked &
                      (1u << static_cast<unsigned>(r.channel))) != 0) {
            decline("CHANNEL_BLOCKED", "57");
          } else if (r.amount_minor > account.available_minor &&
                     (!r.partial_approval_supported || account.available_minor == 0)) {
            decline("INSUFFICIENT_FUNDS", "51");
          } else {
            const uint64_t approved = std::min(r.amount_minor, account.available_minor);
            authorization.decision = approved == r.amount_minor
                                         ? DecisionValue::kApproved
                                         : DecisionValue::kPartiallyApproved;
            authorization.response_code = approved == r.amount_minor
                                              ? std::array<char, 2>{'0', '0'}
                                              : std::array<char, 2>{'1', '0'};
            authorization.approved_minor = approved;
            authorization.held_minor = approved;
            account.pending_minor += approved;
            account.available_minor -= approved;
          }
          authorization.available_after_minor = account.available_minor;
          state.authorizations[authorization.id] = authorization;
          Transaction transaction;
          transaction.type = TransactionType::kAuthorization;
          transaction.account_id = account.id;
          transaction.card_id = card.id;
          transaction.authorization_id = authorization.id;
          transaction.amount_minor = authorization.approved_minor;
          transaction.currency_numeric = r.currency_numeric;
          transaction.status =
              authorization.decision == DecisionValue::kDeclined ? "declined" : "approved";
          AddTransaction(state, std::move(transaction));
          return Ok(std::move(authorization));
        } else if constexpr (std::is_same_v<R, ReverseRequest>) {
          auto it = state.authorizations.find(r.authorization_id);
          if (it == state.authorizations.end()) return Status(CoreStatus::kNotFound);
          Authorization& authorization = it->second;
          if (authorization.held_minor == 0) return Status(CoreStatus::kInvalidState);
          const uint64_t release = r.amount_minor == 0 ? authorization.held_minor
                                                       : r.amount_minor;
          if (release > authorization.held_minor) return Status(CoreStatus::kInvalidState);
          Account& account = state.accounts.at(authorization.account_id);
          authorization.held_minor -= release;
          account.pending_minor -= release;
          account.available_minor += release;
          authorization.available_after_minor = account.available_minor;
          Transaction transaction;
          transaction.type = TransactionType::kReversal;
          transaction.account_id = account.id;
          transaction.card_id = authorization.card_id;
          transaction.authorization_id = authorization.id;
          transaction.amount_minor = release;
          transaction.currency_numeric = authorization.currency_numeric;
          transaction.status = "released";
          AddTransaction(state, std::move(transaction));
          return Ok(authorization);
        } else if constexpr (std::is_same_v<R, GetAuthorizationRequest>) {
          auto it = state.authorizations.find(r.authorization_id);
          if (it == state.authorizations.end()) return Status(CoreStatus::kNotFound);
          return Ok(it->second);
        } else if constexpr (std::is_same_v<R, ListTransactionsRequest>) {
          TransactionPage page;
          for (auto it = state.transactions.upper_bound(r.after_cursor);
               it != state.transactions.end(); ++it) {
            const Transaction& transaction = it->second;
            if (r.account_id != 0 && transaction.account_id != r.account_id) continue;
            if (r.card_id != 0 && transaction.card_id != r.card_id) continue;
            if (r.type && transaction.type != *r.type) continue;
            if (page.items.size() == r.limit) {
              page.next_cursor = page.items.back().id;
              break;
            }
            page.items.push_back(transaction);
          }
          return Ok(std::move(page));
        } else if constexpr (std::is_same_v<R, CreateWebhookRequest>) {
          if (state.webhooks.size() >= kWebhookEndpointsPerTenantMax) {
            return Status(CoreStatus::kLimitReached);
          }
          if (state.webhooks.count(r.endpoint.id) != 0) return Status(CoreStatus::kExists);
          r.endpoint.created_at_ms = now_ms;
          state.webhooks[r.endpoint.id] = r.endpoint;
          return Ok(r.endpoint);
        } else if constexpr (std::is_same_v<R, GetWebhookRequest>) {
          auto it = state.webhooks.find(r.webhook_id);
          if (it == state.webhooks.end()) return Status(CoreStatus::kNotFound);
          return Ok(it->second);
        } else if constexpr (std::is_same_v<R, ListWebhooksRequest>) {
          std::vector<WebhookEndpoint> endpoints;
          for (const auto& [id, endpoint] : state.webhooks) endpoints.push_back(endpoint);
          return Ok(std::move(endpoints));
        } else if constexpr (std::is_same_v<R, DeleteWebhookRequest>) {
          auto it = state.webhooks.find(r.webhook_id);
          if (it == state.webhooks.end()) return Status(CoreStatus::kNotFound);
          WebhookEndpoint endpoint = std::move(it->second);
          state.webhooks.erase(it);
          return Ok(std::move(endpoint));
        }
      },
      request);
}

}  // namespace tangelo::api
