// Engine: the single-writer sequencer of one ledger shard.
//
//   producers ──TrySubmit──▶ IntakeQueue ──▶ engine thread: cut batch, journal
//   encode, StateMachine::ApplyBatch, invariants ──▶ journal thread: write +
//   ONE fdatasync for every batch ready (group commit) ──▶ replies released.
//
// A request is answered only after the fdatasync of its batch succeeded. An
// fsync error stops the process (TG_FATAL): after a failed fsync the kernel
// may have dropped the dirty pages, so retrying could acknowledge lost data.
// The engine thread applies batch N+1 while the journal thread syncs batch N;
// replies of N+1 wait for N+1's own sync, and replay after a crash yields the
// state of a prefix of batches, so nothing acknowledged is lost and nothing
// is half-applied.
//
// Threads: TrySubmit is safe from any thread. Open/Start/Stop from the
// owning thread. ReplySink::Complete runs on the journal thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "base/limits.h"
#include "base/status.h"
#include "engine/intake_queue.h"
#include "engine/state_machine.h"
#include "io/clock.h"
#include "io/env.h"

namespace tangelo::engine {

// Bytes of one request payload that fit an intake cell. Larger requests are
// refused at submission (kPayloadTooLarge).
inline constexpr uint32_t kRequestPayloadMax = 480;
static_assert(kRequestPayloadMax <= base::kJournalEntrySizeMax);

// Receives replies once their batch is durable. Runs on the journal thread:
// it must be quick and never block (post to an event loop, bump a counter).
class ReplySink {
 public:
  virtual ~ReplySink() = default;
  virtual void Complete(uint64_t tag, const Reply& reply) = 0;
};

struct EngineOptions {
  io::Env* env = nullptr;      // Required.
  io::Clock* clock = nullptr;  // Required.
  std::string directory;       // Journal and snapshots.
  uint32_t batch_entries_max = base::kBatchEntriesMax;
  uint32_t intake_capacity = base::kIntakeQueueEntriesMax;  // Power of two.
  // How long a batch waits for more entries before it is cut (group commit
  // time bound). 0 = cut as soon as the queue is drained.
  uint32_t batch_linger_us = 0;
  // Batch buffers in flight between the engine and journal threads.
  uint32_t batches_in_flight_max = 4;
  // A snapshot is taken after this many journaled batches (0 = never,
  // except on request).
  uint64_t snapshot_every_batches = 0;
  // Called on the journal thread after each batch is durable, with its
  // entry count and the time from cut to durable (for benchmarks/metrics).
  std::function<void(uint32_t entries, uint64_t latency_ns)> on_batch_durable;
};

enum class SubmitResult : uint8_t {
  kAccepted = 0,
  kQueueFull = 1,        // Back-pressure: answer "overloaded", retry later.
  kPayloadTooLarge = 2,  // Over kRequestPayloadMax.
  kStopped = 3,          // The engine is shutting down.
};

struct EngineStats {
  std::atomic<uint64_t> batches_applied{0};
  std::atomic<uint64_t> entries_applied{0};
  std::atomic<uint64_t> batches_durable{0};
  std::atomic<uint64_t> fsyncs{0};
  std::atomic<uint64_t> journal_bytes{0};
  std::atomic<uint64_t> submit_queue_full{0};
  std::atomic<uint64_t> snapshots{0};
};

struct RecoveryInfo {
  uint64_t next_sequence = 0;
  uint64_t batches_replayed = 0;
  uint64_t snapshot_sequence = 0;  // 0 when no snapshot was loaded.
  uint64_t bytes_cut = 0;          // Torn tail removed.
  uint64_t duration_ns = 0;
};

class Engine {
 public:
  // Recovers `state_machine` (which must be empty) from the directory: the
  // newest valid snapshot plus the journal after it. Corruption is a
  // DataLoss status naming the file and offset. Does not start threads.
  static base::Result<std::unique_ptr<Engine>> Open(EngineOptions options,
                                                    StateMachine* state_machine);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const RecoveryInfo& recovery() const { return recovery_; }
  const EngineStats& stats() const { return stats_; }
  uint64_t queue_depth() const { return intake_.SizeApprox(); }

  // Starts the engine and journal threads. Requests submitted between Open
  // and Start wait in the queue.
  void Start();

  // Queues a request. Thread safe, lock free, never blocks.
  SubmitResult TrySubmit(uint16_t kind, std::span<const std::byte> payload, ReplySink* sink,
                         uint64_t tag);

  // Asks for a snapshot after the next batch; returns at once.
  void RequestSnapshot() { snapshot_requested_.store(true, std::memory_order_release); }

  // Graceful stop: refuses new submissions, applies and makes durable every
  // queued request, delivers its reply, then joins the threads.
  void Stop();

 private:
  struct Request {
    ReplySink* sink;
    uint64_t tag;
    uint16_t kind;
    uint16_t size;
    uint32_t reserved;
    alignas(8) std::byte payload[kRequestPayloadMax];
  };
  struct BatchBuffer;

  Engine(EngineOptions options, StateMachine* state_machine);
  base::Status Recover();
  void EngineLoop();
  void JournalLoop();
  // Engine thread: cut, encode, apply one batch into `buffer`. Returns false
  // when there was nothing to do.
  bool CutAndApply(BatchBuffer& buffer, bool draining);
  BatchBuffer* AcquireFreeBuffer();
  void WaitUntilDurable();  // Engine thread: all handed-off batches durable.
  void TakeSnapshot();

  EngineOptions options_;
  StateMachine* state_machine_;
  IntakeQueue<Request> intake_;
  EngineStats stats_;
  RecoveryInfo recovery_;

  // Journal position (engine thread).
  uint64_t next_sequence_ = 1;
  uint64_t previous_checksum_ = 0;
  uint64_t last_timestamp_ns_ = 0;  // Of the last batch applied.
  uint64_t next_timestamp_ns_ = 0;  // The least timestamp the next batch may have.
  uint64_t batches_since_snapshot_ = 0;
  std::unique_ptr<class JournalAdapter> journal_;

  std::vector<std::unique_ptr<BatchBuffer>> buffers_;
  std::mutex mutex_;  // Guards the hand-off lists below (per batch, not per request).
  std::condition_variable free_ready_;
  std::condition_variable work_ready_;
  std::condition_variable durable_ready_;
  std::vector<BatchBuffer*> free_buffers_;
  std::deque<BatchBuffer*> ready_buffers_;
  uint64_t handed_off_ = 0;
  uint64_t durable_ = 0;

  bool stopped_ = false;  // Owner thread only.
  std::atomic<bool> accepting_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> journal_stop_{false};
  std::atomic<bool> snapshot_requested_{false};
  std::atomic<bool> engine_sleeping_{false};
  std::atomic<uint32_t> submitting_{0};  // Producers inside TrySubmit.
  std::mutex sleep_mutex_;
  std::condition_variable sleep_ready_;
  std::thread engine_thread_;
  std::thread journal_thread_;
};

}  // namespace tangelo::engine
