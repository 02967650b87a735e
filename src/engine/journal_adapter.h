// JournalAdapter (internal to the engine): the engine's view of the journal
// module — recovery into a StateMachine, batch encoding, group-commit writes
// and snapshots with the engine's own snapshot prefix.
//
// Engine snapshot payload (inside the journal's snapshot file, which frames
// and checksums it): u64 magic "TGENGIN1", u64 format version (1), u64 the
// least timestamp the next batch may have, then the state machine's bytes.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/engine.h"
#include "engine/state_machine.h"
#include "io/env.h"
#include "journal/batch.h"
#include "journal/writer.h"

namespace tangelo::engine {

class JournalAdapter {
 public:
  JournalAdapter(io::Env& env, std::string directory);

  // Replays the directory into `state_machine` and opens the writer.
  base::Result<RecoveryInfo> Recover(StateMachine* state_machine);

  uint64_t last_checksum() const { return last_checksum_; }
  uint64_t last_timestamp_ns() const { return last_timestamp_ns_; }
  uint64_t next_timestamp_ns() const { return next_timestamp_ns_; }

  // Encoding one batch (engine thread). The bytes stay valid until the
  // builder is reused, so each batch buffer gets its own builder: BeginBatch
  // takes the buffer's index.
  void BeginBatch(uint32_t buffer_index, uint64_t sequence, uint64_t timestamp_ns,
                  uint64_t prev_checksum);
  void AddEntry(uint16_t kind, std::span<const std::byte> payload);
  // Returns the batch bytes and updates *checksum to the batch's checksum.
  std::span<const std::byte> FinishBatch(uint64_t* checksum);

  // Journal thread.
  base::Status Write(std::span<const std::span<const std::byte>> batches);
  base::Status Sync();
  base::Status Close() { return base::Status::Ok(); }

  // Engine thread, with every batch up to `sequence` durable.
  base::Status WriteSnapshot(uint64_t sequence, uint64_t last_batch_checksum,
                             uint64_t next_timestamp_ns, const StateMachine& state_machine);

 private:
  static constexpr uint64_t kSnapshotMagic = 0x314e49474e454754ULL;  // "TGENGIN1"
  static constexpr uint64_t kSnapshotVersion = 1;

  io::Env& env_;
  std::string directory_;
  std::unique_ptr<journal::Writer> writer_;
  std::vector<std::unique_ptr<std::byte[]>> buffers_;
  std::vector<std::unique_ptr<journal::BatchBuilder>> builders_;
  journal::BatchBuilder* current_ = nullptr;
  uint64_t last_checksum_ = 0;
  uint64_t last_timestamp_ns_ = 0;
  uint64_t next_timestamp_ns_ = 0;
};

}  // namespace tangelo::engine
