// EngineCore: the api::Core of `tangelo serve`, backed by the durable engine
// running authorizer::CoreStateMachine. Each request becomes one engine entry
// (entries.h): issuing commands for programs, users, accounts, cards, their
// statuses and controls; kFundAccount; kAuthorize; kReverse (after a
// kLookupAuthorization that finds the card); kLookupBalance. The reply comes
// back on the journal thread once durable; that thread only appends it to a
// queue (ReplySink::Complete must be quick), and this object's completion
// thread does the directory reads, the JSON and the hand-off to HTTP.
//
// What the core does not have yet (README "Hooks": API keys, webhook
// endpoints, reads of programs/users/cards, transaction listings) goes to a
// `directory` Core (MemoryCore today), and every change the engine accepts is
// mirrored into it so those reads see it. The directory is NOT durable: API
// keys and webhooks are lost on restart until the authorizer journals them.
//
// Thread safety: Submit from any thread. The engine, vault and directory
// must outlive this object, and the engine must be stopped (all replies
// delivered) before it is destroyed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "api/core.h"
#include "engine/engine.h"
#include "issuing/pan.h"

namespace tangelo::api {

struct EngineCoreOptions {
  engine::Engine* engine = nullptr;            // Required; started by the caller.
  const issuing::PanVault* pan_vault = nullptr;  // Required to issue cards.
  Core* directory = nullptr;                   // Required (see above).
  // First digits of generated PANs (the issuer's BIN). 999999 is not a
  // real network range, so test cards can never be mistaken for live ones.
  std::string card_bin = "999999";
  std::function<uint64_t()> now_ms;  // Null: the system clock.
};

class EngineCore final : public Core, private engine::ReplySink {
 public:
  explicit EngineCore(EngineCoreOptions options);
  ~EngineCore() override;

  void Submit(CoreRequest request, CoreCallback done) override;
  std::vector<ApiKey> LoadApiKeys() override;

 private:
  struct Operation;
  // Journal thread: queues the reply for the completion thread. The queue
  // holds at most one item per entry in flight, so the engine's intake
  // capacity bounds it.
  void Complete(uint64_t tag, const engine::Reply& reply) override;
  void CompletionLoop();
  void Process(uint64_t tag, const engine::Reply& reply);
  // Queues `kind` with `payload` for `operation` (owned by the engine from
  // here until Complete); answers overload or shutdown at once.
  void Enqueue(Operation* operation, uint16_t kind, std::span<const std::byte> payload);
  void EnqueueIssuing(Operation* operation, const void* command);
  void Mirror(Operation& operation, CoreCallback done);
  CoreReply Directory(CoreRequest request);

  EngineCoreOptions options_;
  std::atomic<uint64_t> in_flight_{0};

  std::mutex completions_mutex_;
  std::condition_variable completions_ready_;
  std::deque<std::pair<uint64_t, engine::Reply>> completions_;
  bool stopping_ = false;
  std::thread completion_thread_;
};

}  // namespace tangelo::api
