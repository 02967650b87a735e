#include "engine/journal_adapter.h"

#include <cstring>

#include "base/assert.h"
#include "journal/recovery.h"
#include "journal/snapshot.h"

namespace tangelo::engine {

namespace {
constexpr uint32_t kBuildersMax = 64;  // >= EngineOptions::batches_in_flight_max.
constexpr size_t kBuilderBytes = base::kJournalBatchSizeMax;
}  // namespace

JournalAdapter::JournalAdapter(io::Env& env, std::string directory)
    : env_(env), directory_(std::move(directory)) {}

base::Result<RecoveryInfo> JournalAdapter::Recover(StateMachine* state_machine) {
  RecoveryInfo info;
  std::vector<EntryRef> entries(base::kBatchEntriesMax);
  std::vector<Reply> replies(base::kBatchEntriesMax);

  auto on_snapshot = [&](std::span<const std::byte> payload, uint64_t sequence) -> base::Status {
    constexpr size_t kPrefix = 3 * sizeof(uint64_t);
    if (payload.size() < kPrefix) return base::DataLoss("engine snapshot prefix truncated");
    uint64_t prefix[3];
    std::memcpy(prefix, payload.data(), kPrefix);
    if (prefix[0] != kSnapshotMagic) return base::DataLoss("engine snapshot magic mismatch");
    if (prefix[1] != kSnapshotVersion) {
      return base::DataLoss("engine snapshot version " + std::to_string(prefix[1]) +
                            " is not supported");
    }
    next_timestamp_ns_ = prefix[2];
    info.snapshot_sequence = sequence;
    return state_machine->Restore(payload.subspan(kPrefix));
  };

  auto on_batch = [&](const journal::BatchView& batch) -> base::Status {
    if (batch.entry_count() > entries.size()) {
      return base::DataLoss("batch " + std::to_string(batch.sequence()) + " has too many entries");
    }
    if (batch.timestamp_ns() < next_timestamp_ns_) {
      return base::DataLoss("batch " + std::to_string(batch.sequence()) +
                            " has a timestamp that goes backwards");
    }
    size_t count = 0;
    for (const journal::EntryView entry : batch) {
      entries[count++] = EntryRef{entry.kind, entry.payload};
    }
    std::fill_n(replies.begin(), count, Reply{});
    const uint64_t used = state_machine->ApplyBatch(
        batch.timestamp_ns(), std::span<const EntryRef>(entries.data(), count),
        std::span<Reply>(replies.data(), count));
    state_machine->CheckInvariants();
    last_timestamp_ns_ = batch.timestamp_ns();
    next_timestamp_ns_ = batch.timestamp_ns() + std::max<uint64_t>(used, 1);
    return base::Status::Ok();
  };

  auto recovered = journal::Recover(env_, directory_, on_snapshot, on_batch);
  if (!recovered.ok()) return recovered.status();
  for (const std::string& warning : recovered->warnings) {
    std::fprintf(stderr, "journal recovery: %s\n", warning.c_str());
  }
  info.next_sequence = recovered->next_sequence;
  info.batches_replayed = recovered->batches_replayed;
  info.bytes_cut = recovered->bytes_cut;
  last_checksum_ = recovered->last_checksum;

  auto writer = journal::Writer::Open(env_, directory_, recovered->next_sequence,
                                      recovered->last_checksum);
  if (!writer.ok()) return writer.status();
  writer_ = std::move(writer).value();
  return info;
}

void JournalAdapter::BeginBatch(uint32_t buffer_index, uint64_t sequence, uint64_t timestamp_ns,
                                uint64_t prev_checksum) {
  TG_ASSERT(buffer_index < kBuildersMax);
  while (builders_.size() <= buffer_index) {
    buffers_.push_back(std::make_unique_for_overwrite<std::byte[]>(kBuilderBytes));
    builders_.push_back(std::make_unique<journal::BatchBuilder>(
        std::span<std::byte>(buffers_.back().get(), kBuilderBytes)));
  }
  current_ = builders_[buffer_index].get();
  current_->Reset(sequence, timestamp_ns, prev_checksum);
}

void JournalAdapter::AddEntry(uint16_t kind, std::span<const std::byte> payload) {
  TG_ASSERT(current_ != nullptr);
  // The engine bounds entries (kRequestPayloadMax) and batches
  // (kBatchEntriesMax), and a full batch of the largest entries fits
  // kJournalBatchSizeMax (base/limits.h), so this cannot fail.
  const bool added = current_->Add(kind, payload);
  TG_ASSERT(added);
}

std::span<const std::byte> JournalAdapter::FinishBatch(uint64_t* checksum) {
  TG_ASSERT(current_ != nullptr);
  const journal::FinishedBatch finished = current_->Finish();
  *checksum = finished.checksum;
  current_ = nullptr;
  return finished.bytes;
}

base::Status JournalAdapter::Write(std::span<const std::span<const std::byte>> batches) {
  return writer_->Write(batches);
}

base::Status JournalAdapter::Sync() { return writer_->Sync(); }

base::Status JournalAdapter::WriteSnapshot(uint64_t sequence, uint64_t last_batch_checksum,
                                           uint64_t next_timestamp_ns,
                                           const StateMachine& state_machine) {
  auto producer = [&](const journal::SnapshotSink& sink) -> base::Status {
    const uint64_t prefix[3] = {kSnapshotMagic, kSnapshotVersion, next_timestamp_ns};
    TG_RETURN_IF_ERROR(sink(std::as_bytes(std::span<const uint64_t>(prefix, 3))));
    base::Status first_error;
    state_machine.Serialize([&](const void* data, size_t size) {
      if (!first_error.ok()) return;
      first_error = sink(std::span<const std::byte>(static_cast<const std::byte*>(data), size));
    });
    return first_error;
  };
  return journal::WriteSnapshot(env_, directory_, sequence, last_batch_checksum, producer);
}

}  // namespace tangelo::engine
