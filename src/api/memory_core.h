// MemoryCore: an in-memory api::Core, the reference the REST API is tested
// against end to end, and a way to run the API without the issuing core
// (development, demos). Its authorization decision is deliberately simple
// (card status, currency, per-transaction limit, blocked MCCs and channels,
// funds with partial approval); the real pipeline is src/authorizer's.
//
// Not durable: everything is lost on restart. Thread safety: every method
// may be called from any thread (one mutex; management-path speed only).
// Replies are delivered inline, or, with deliver_on_thread, on an internal
// thread (so tests exercise the asynchronous path the engine takes).
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "api/core.h"

namespace tangelo::api {

struct MemoryCoreOptions {
  bool deliver_on_thread = false;
  // Milliseconds since the Unix epoch for created_at fields; tests pin it.
  std::function<uint64_t()> now_ms;
};

class MemoryCore final : public Core {
 public:
  explicit MemoryCore(MemoryCoreOptions options = {});
  ~MemoryCore() override;

  void Submit(CoreRequest request, CoreCallback done) override;
  std::vector<ApiKey> LoadApiKeys() override;

  // Holds further replies (with deliver_on_thread) until Release(): lets a
  // test keep a request in flight.
  void Pause();
  void Release();
  // Replies queued and not yet delivered (held while paused). Thread safe.
  size_t QueuedReplies();

 private:
  struct TenantState {
    Tenant tenant;
    std::map<uint64_t, ApiKey> keys;
    std::map<uint64_t, Program> programs;
    std::map<uint64_t, User> users;
    std::map<uint64_t, Account> accounts;
    std::map<uint64_t, Card> cards;
    std::map<uint64_t, Authorization> authorizations;
    std::map<uint64_t, Transaction> transactions;  // By id (increasing).
    std::map<uint64_t, WebhookEndpoint> webhooks;
    std::map<uint64_t, bool> fund_transfers;  // Transfer ids seen (idempotent funding).
    uint64_t next_transaction_id = 1;
  };

  CoreReply Apply(CoreRequest& request);
  CoreReply ApplyToTenant(TenantState& state, CoreRequest& request, uint64_t now_ms);
  TenantState* FindTenant(uint64_t tenant_id);
  void AddTransaction(TenantState& state, Transaction transaction);
  void DeliveryLoop();

  MemoryCoreOptions options_;
  std::mutex mutex_;
  std::map<uint64_t, TenantState> tenants_;

  // Delivery thread (deliver_on_thread only).
  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::deque<std::pair<CoreCallback, CoreReply>> queue_;
  bool paused_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tangelo::api
