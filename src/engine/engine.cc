#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "base/assert.h"
#include "engine/journal_adapter.h"

namespace tangelo::engine {

// One batch on its way from the engine thread to durability. Preallocated at
// Open: a batch never allocates.
struct Engine::BatchBuffer {
  BatchBuffer(uint32_t buffer_index, uint32_t entries_max)
      : index(buffer_index),
        arena(static_cast<size_t>(entries_max) * kRequestPayloadMax),
        entries(entries_max),
        sinks(entries_max),
        tags(entries_max),
        replies(entries_max) {}

  uint32_t index;                 // Which journal builder encodes this batch.
  std::vector<std::byte> arena;   // Payload bytes of this batch's entries.
  std::vector<EntryRef> entries;  // Views into arena.
  std::vector<ReplySink*> sinks;
  std::vector<uint64_t> tags;
  std::vector<Reply> replies;
  uint32_t count = 0;
  std::span<const std::byte> journal_bytes;  // Empty when nothing is journaled.
  uint64_t cut_ns = 0;
};

Engine::Engine(EngineOptions options, StateMachine* state_machine)
    : options_(std::move(options)),
      state_machine_(state_machine),
      intake_(options_.intake_capacity) {}

Engine::~Engine() {
  if (engine_thread_.joinable()) Stop();
}

base::Result<std::unique_ptr<Engine>> Engine::Open(EngineOptions options,
                                                   StateMachine* state_machine) {
  TG_ASSERT(options.env != nullptr);
  TG_ASSERT(options.clock != nullptr);
  TG_ASSERT(state_machine != nullptr);
  if (options.batch_entries_max == 0 || options.batch_entries_max > base::kBatchEntriesMax) {
    return base::InvalidArgument("batch_entries_max must be in [1, " +
                                 std::to_string(base::kBatchEntriesMax) + "]");
  }
  if (options.batches_in_flight_max < 2 || options.batches_in_flight_max > 64) {
    return base::InvalidArgument("batches_in_flight_max must be in [2, 64]");
  }
  const uint32_t capacity = options.intake_capacity;
  if (capacity < 2 * options.batch_entries_max || (capacity & (capacity - 1)) != 0) {
    return base::InvalidArgument(
        "intake_capacity must be a power of two of at least two batches");
  }
  std::unique_ptr<Engine> engine(new Engine(std::move(options), state_machine));
  TG_RETURN_IF_ERROR(engine->Recover());
  // Requests may queue from now on; they are applied once Start() runs.
  engine->accepting_.store(true, std::memory_order_release);
  for (uint32_t index = 0; index < engine->options_.batches_in_flight_max; ++index) {
    engine->buffers_.push_back(std::make_unique<BatchBuffer>(index, engine->options_.batch_entries_max));
    engine->free_buffers_.push_back(engine->buffers_.back().get());
  }
  return engine;
}

base::Status Engine::Recover() {
  const uint64_t start_ns = options_.clock->MonotonicNs();
  journal_ = std::make_unique<JournalAdapter>(*options_.env, options_.directory);
  auto recovered = journal_->Recover(state_machine_);
  if (!recovered.ok()) return recovered.status();
  recovery_ = *recovered;
  next_sequence_ = recovery_.next_sequence;
  previous_checksum_ = journal_->last_checksum();
  last_timestamp_ns_ = journal_->last_timestamp_ns();
  next_timestamp_ns_ = journal_->next_timestamp_ns();
  state_machine_->CheckInvariants();
  recovery_.duration_ns = options_.clock->MonotonicNs() - start_ns;
  return base::Status::Ok();
}

void Engine::Start() {
  TG_ASSERT(!engine_thread_.joinable());
  TG_ASSERT(!stopping_.load());
  journal_thread_ = std::thread([this] { JournalLoop(); });
  engine_thread_ = std::thread([this] { EngineLoop(); });
}

SubmitResult Engine::TrySubmit(uint16_t kind, std::span<const std::byte> payload,
                               ReplySink* sink, uint64_t tag) {
  if (payload.size() > kRequestPayloadMax) return SubmitResult::kPayloadTooLarge;
  submitting_.fetch_add(1, std::memory_order_seq_cst);
  if (!accepting_.load(std::memory_order_seq_cst)) {
    submitting_.fetch_sub(1, std::memory_order_release);
    return SubmitResult::kStopped;
  }
  const bool pushed = intake_.TryPush([&](Request& request) {
    request.sink = sink;
    request.tag = tag;
    request.kind = kind;
    request.size = static_cast<uint16_t>(payload.size());
    std::memcpy(request.payload, payload.data(), payload.size());
  });
  submitting_.fetch_sub(1, std::memory_order_release);
  if (!pushed) {
    stats_.submit_queue_full.fetch_add(1, std::memory_order_relaxed);
    return SubmitResult::kQueueFull;
  }
  // Dekker-style hand-shake with the engine's sleep: it sets the flag, then
  // re-checks the queue; we push, then check the flag.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (engine_sleeping_.load(std::memory_order_relaxed)) {
    std::lock_guard lock(sleep_mutex_);
    sleep_ready_.notify_one();
  }
  return SubmitResult::kAccepted;
}

Engine::BatchBuffer* Engine::AcquireFreeBuffer() {
  std::unique_lock lock(mutex_);
  free_ready_.wait(lock, [this] { return !free_buffers_.empty(); });
  BatchBuffer* buffer = free_buffers_.back();
  free_buffers_.pop_back();
  return buffer;
}

bool Engine::CutAndApply(BatchBuffer& buffer, bool draining) {
  buffer.count = 0;
  auto take = [&](const Request& request) {
    const uint32_t index = buffer.count++;
    std::byte* slot = buffer.arena.data() + static_cast<size_t>(index) * kRequestPayloadMax;
    std::memcpy(slot, request.payload, request.size);
    buffer.entries[index] = EntryRef{request.kind, std::span<const std::byte>(slot, request.size)};
    buffer.sinks[index] = request.sink;
    buffer.tags[index] = request.tag;
  };
  const uint32_t entries_max = options_.batch_entries_max;
  intake_.PopMany(entries_max, take);
  if (buffer.count > 0 && buffer.count < entries_max && options_.batch_linger_us > 0 &&
      !draining) {
    // Group-commit time bound: wait a little for the batch to fill.
    const uint64_t deadline_ns =
        options_.clock->MonotonicNs() + uint64_t{options_.batch_linger_us} * 1000;
    while (buffer.count < entries_max && options_.clock->MonotonicNs() < deadline_ns) {
      if (intake_.PopMany(entries_max - buffer.count, take) == 0) std::this_thread::yield();
    }
  }
  intake_.PublishDequeuePosition();

  const uint64_t now_ns = options_.clock->RealtimeNs();
  const bool timer_due = state_machine_->NextTimerNs() <= now_ns;
  if (buffer.count == 0 && !timer_due) return false;

  buffer.cut_ns = options_.clock->MonotonicNs();
  // Strictly increasing batch timestamps, whatever the wall clock does: the
  // state machine may hand entry i the timestamp timestamp + i.
  const uint64_t timestamp_ns = std::max(now_ns, next_timestamp_ns_);

  uint32_t journaled = 0;
  journal_->BeginBatch(buffer.index, next_sequence_, timestamp_ns, previous_checksum_);
  for (uint32_t index = 0; index < buffer.count; ++index) {
    const EntryRef& entry = buffer.entries[index];
    if (state_machine_->IsReadOnly(entry.kind)) continue;
    journal_->AddEntry(entry.kind, entry.payload);
    ++journaled;
  }
  // A batch with only reads is not journaled; an empty batch cut for a timer
  // is, so replay repeats the time-driven work at the same timestamp.
  if (journaled > 0 || buffer.count == 0) {
    buffer.journal_bytes = journal_->FinishBatch(&previous_checksum_);
    ++next_sequence_;
    ++batches_since_snapshot_;
  } else {
    buffer.journal_bytes = {};
  }

  std::fill_n(buffer.replies.begin(), buffer.count, Reply{});
  const uint64_t used = state_machine_->ApplyBatch(timestamp_ns,
                             std::span<const EntryRef>(buffer.entries.data(), buffer.count),
                             std::span<Reply>(buffer.replies.data(), buffer.count));
  next_timestamp_ns_ = timestamp_ns + std::max<uint64_t>(used, 1);
  last_timestamp_ns_ = timestamp_ns;
  state_machine_->CheckInvariants();
  stats_.batches_applied.fetch_add(1, std::memory_order_relaxed);
  stats_.entries_applied.fetch_add(buffer.count, std::memory_order_relaxed);
  return true;
}

void Engine::EngineLoop() {
  BatchBuffer* buffer = nullptr;
  for (;;) {
    if (buffer == nullptr) buffer = AcquireFreeBuffer();
    const bool draining = stopping_.load(std::memory_order_acquire);
    if (CutAndApply(*buffer, draining)) {
      {
        std::lock_guard lock(mutex_);
        ready_buffers_.push_back(buffer);
        ++handed_off_;
      }
      work_ready_.notify_one();
      buffer = nullptr;
      const bool snapshot_due =
          (options_.snapshot_every_batches > 0 &&
           batches_since_snapshot_ >= options_.snapshot_every_batches) ||
          snapshot_requested_.exchange(false, std::memory_order_acq_rel);
      if (snapshot_due) TakeSnapshot();
      continue;
    }
    if (draining && submitting_.load(std::memory_order_acquire) == 0 &&
        intake_.SizeApprox() == 0) {
      break;
    }
    // Nothing queued: sleep until a producer wakes us, a timer is due, or a
    // short safety bound passes.
    engine_sleeping_.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    {
      std::unique_lock lock(sleep_mutex_);
      if (intake_.SizeApprox() == 0 && !stopping_.load(std::memory_order_acquire)) {
        uint64_t wait_ns = 1'000'000;  // 1 ms safety bound.
        const uint64_t timer_ns = state_machine_->NextTimerNs();
        const uint64_t now_ns = options_.clock->RealtimeNs();
        if (timer_ns > now_ns) wait_ns = std::min(wait_ns, timer_ns - now_ns);
        sleep_ready_.wait_for(lock, std::chrono::nanoseconds(wait_ns));
      }
    }
    engine_sleeping_.store(false, std::memory_order_relaxed);
  }
  if (buffer != nullptr) {
    std::lock_guard lock(mutex_);
    free_buffers_.push_back(buffer);
  }
  WaitUntilDurable();
}

void Engine::JournalLoop() {
  std::vector<BatchBuffer*> taken;
  std::vector<std::span<const std::byte>> writes;
  taken.reserve(options_.batches_in_flight_max);
  writes.reserve(options_.batches_in_flight_max);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [this] {
        return !ready_buffers_.empty() || journal_stop_.load(std::memory_order_acquire);
      });
      if (ready_buffers_.empty()) return;  // Stopping and drained.
      taken.assign(ready_buffers_.begin(), ready_buffers_.end());
      ready_buffers_.clear();
    }
    // Group commit: every batch that is ready goes out in one write and one
    // fdatasync.
    writes.clear();
    uint64_t bytes = 0;
    for (BatchBuffer* buffer : taken) {
      if (!buffer->journal_bytes.empty()) {
        writes.push_back(buffer->journal_bytes);
        bytes += buffer->journal_bytes.size();
      }
    }
    if (!writes.empty()) {
      base::Status status = journal_->Write(writes);
      if (!status.ok()) TG_FATAL(("journal write failed: " + status.ToString()).c_str());
      status = journal_->Sync();
      if (!status.ok()) TG_FATAL(("journal fdatasync failed: " + status.ToString()).c_str());
      stats_.fsyncs.fetch_add(1, std::memory_order_relaxed);
      stats_.journal_bytes.fetch_add(bytes, std::memory_order_relaxed);
    }
    const uint64_t durable_ns = options_.clock->MonotonicNs();
    for (BatchBuffer* buffer : taken) {
      for (uint32_t index = 0; index < buffer->count; ++index) {
        if (buffer->sinks[index] != nullptr) {
          buffer->sinks[index]->Complete(buffer->tags[index], buffer->replies[index]);
        }
      }
      if (options_.on_batch_durable) {
        options_.on_batch_durable(buffer->count, durable_ns - buffer->cut_ns);
      }
    }
    stats_.batches_durable.fetch_add(taken.size(), std::memory_order_relaxed);
    {
      std::lock_guard lock(mutex_);
      for (BatchBuffer* buffer : taken) free_buffers_.push_back(buffer);
      durable_ += taken.size();
    }
    free_ready_.notify_all();
    durable_ready_.notify_all();
  }
}

void Engine::WaitUntilDurable() {
  std::unique_lock lock(mutex_);
  durable_ready_.wait(lock, [this] { return durable_ == handed_off_; });
}

void Engine::TakeSnapshot() {
  // The snapshot covers every batch up to next_sequence_ - 1; those batches
  // must be durable first, or a crash could leave a snapshot ahead of a
  // journal with a hole in it.
  WaitUntilDurable();
  const uint64_t sequence = next_sequence_ - 1;
  if (sequence == 0) return;
  base::Status status =
      journal_->WriteSnapshot(sequence, previous_checksum_, next_timestamp_ns_, *state_machine_);
  if (!status.ok()) TG_FATAL(("snapshot failed: " + status.ToString()).c_str());
  batches_since_snapshot_ = 0;
  stats_.snapshots.fetch_add(1, std::memory_order_relaxed);
}

void Engine::Stop() {
  if (stopped_) return;
  stopped_ = true;
  // Requests accepted before Start() are still answered.
  if (!engine_thread_.joinable()) Start();
  accepting_.store(false, std::memory_order_seq_cst);
  stopping_.store(true, std::memory_order_release);
  {
    std::lock_guard lock(sleep_mutex_);
    sleep_ready_.notify_one();
  }
  if (engine_thread_.joinable()) engine_thread_.join();
  journal_stop_.store(true, std::memory_order_release);
  {
    std::lock_guard lock(mutex_);
    work_ready_.notify_one();
  }
  if (journal_thread_.joinable()) journal_thread_.join();
  base::Status status = journal_->Close();
  if (!status.ok()) TG_FATAL(("journal close failed: " + status.ToString()).c_str());
}

}  // namespace tangelo::engine
