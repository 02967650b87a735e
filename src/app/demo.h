// Demo mode and the synthetic probe of `tangelo serve`.
//
// Both talk to the card-issuing core through the API's Core seam (the
// InstrumentedCore that `tangelo serve` hands the REST API), so every
// request crosses api -> engine -> authorizer -> ledger and is measured as
// the REST API's requests are. They do not go over HTTP.
//
// Setup is idempotent: fixed object ids, and "already exists" counts as
// done, so a restart over the same data directory finds its demo tenant.
//
// Thread safety: Setup from the owning thread before Start; Start/Stop from
// the owning thread; the work runs on one thread per object.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/core.h"
#include "base/status.h"
#include "io/clock.h"
#include "telemetry/slo_engine.h"

namespace tangelo::app {

// Demo traffic rate limits (authorizations per second).
inline constexpr uint32_t kDemoRatePerSecondDefault = 200;
inline constexpr uint32_t kDemoRatePerSecondMax = 100'000;
inline constexpr uint32_t kDemoCards = 16;
// Approved authorizations waiting for their reversal (a bounded list).
inline constexpr size_t kDemoPendingReversalsMax = 4096;
// How long a setup step or a probe waits for the core's reply.
inline constexpr uint64_t kCoreReplyTimeoutMs = 5'000;

// Submits `request` and waits up to `timeout_ms` for the reply; a timeout
// is a reply of kUnavailable.
api::CoreReply CallCore(api::Core& core, api::CoreRequest request,
                        uint64_t timeout_ms = kCoreReplyTimeoutMs);

// Steady synthetic card traffic in a demo tenant: authorizations on random
// cards (about 1 in 20 too large for the balance: a decline), half of the
// approvals reversed shortly after.
class DemoTraffic {
 public:
  // Borrows `core` (must outlive this).
  DemoTraffic(api::Core* core, uint32_t rate_per_second);
  ~DemoTraffic();
  DemoTraffic(const DemoTraffic&) = delete;
  DemoTraffic& operator=(const DemoTraffic&) = delete;

  // Creates the demo tenant, its API key, a program, kDemoCards users with a
  // funded account and an active card each. The API key text is kept in
  // <data_directory>/demo-api-key (mode 0600) so a restart shows the same
  // key. `directory`: the API core's directory (api/engine_core.h), into
  // which steps that already existed are replayed after a restart; may be
  // null. Errors: the core's refusal of a step (as Internal naming it), or
  // the key file's I/O error.
  base::Status Setup(const std::string& data_directory, api::Core* directory = nullptr);
  const std::string& api_key() const { return api_key_; }
  uint64_t tenant_id() const;

  void Start();
  void Stop();

  uint64_t authorizations_sent() const { return sent_.load(std::memory_order_relaxed); }

 private:
  void Run();

  api::Core* core_;
  uint32_t rate_per_second_;
  std::string api_key_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::atomic<uint64_t> sent_{0};
  std::mutex reversals_mutex_;
  std::vector<uint64_t> reversals_;  // Approved authorization ids; <= kDemoPendingReversalsMax.
};

// The synthetic probe: every interval, one real authorization of 1 minor
// unit on a probe card in a probe tenant, recorded with
// SloEngine::RecordProbe (ok: approved, answered within the timeout), then
// reversed so the probe account never runs dry.
class Probe {
 public:
  // Borrows `core` and `slo_engine`. Precondition: interval_ms > 0.
  Probe(api::Core* core, telemetry::SloEngine* slo_engine, uint64_t interval_ms);
  ~Probe();
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // Creates the probe tenant, program, user, funded account and card;
  // `directory` as DemoTraffic::Setup.
  base::Status Setup(api::Core* directory = nullptr);
  void Start();
  void Stop();

  // One probe run now (also what the thread does each interval).
  bool RunOnce();

 private:
  api::Core* core_;
  telemetry::SloEngine* slo_engine_;
  uint64_t interval_ms_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
};

}  // namespace tangelo::app
