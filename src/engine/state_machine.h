// StateMachine: what the engine drives. The engine is generic: it batches,
// journals and replies; the state machine (ledger, issuing, authorizer,
// composed in app/) decides. Everything here runs on the engine thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "base/status.h"

namespace tangelo::engine {

// The answer to one request, filled by the state machine. Fixed size so the
// reply buffers are preallocated; the meaning of `code`, `detail` and
// `values` belongs to the entry kind (documented by the state machine).
struct Reply {
  uint32_t code = 0;
  uint32_t detail = 0;
  uint64_t values[7] = {};
};
static_assert(sizeof(Reply) == 64);

// One entry of a batch: its kind and payload bytes (valid during the call).
struct EntryRef {
  uint16_t kind = 0;
  std::span<const std::byte> payload;
};

// Receives snapshot bytes in large chunks.
using SnapshotSink = std::function<void(const void* data, size_t size)>;

class StateMachine {
 public:
  virtual ~StateMachine() = default;

  // Whether entries of `kind` only read state. Read-only entries are applied
  // in order with the batch (so they see every earlier write) but are not
  // journaled; their replies are still released only once the batch is
  // durable, so no reader ever sees state that could vanish in a crash.
  virtual bool IsReadOnly(uint16_t kind) const = 0;

  // Applies one batch and returns how many timestamps it used. The state
  // machine may give the events of the batch the timestamps timestamp_ns,
  // timestamp_ns + 1, ... timestamp_ns + used - 1; the engine gives the next
  // batch a timestamp of at least timestamp_ns + used, so timestamps stay
  // unique and increasing without running ahead of the wall clock. Must be a
  // pure function of (state, timestamp_ns, entries): replay after a crash
  // calls it again with the same arguments (read-only entries left out, so
  // read-only entries must not consume timestamps) and must reach the same
  // state. Time-driven work (hold expiry) happens here, from timestamp_ns,
  // never from a clock. Malformed payloads get an error reply, never an
  // assertion. replies.size() == entries.size().
  virtual uint64_t ApplyBatch(uint64_t timestamp_ns, std::span<const EntryRef> entries,
                              std::span<Reply> replies) = 0;

  // The earliest time (realtime ns) at which ApplyBatch has time-driven work
  // to do even with no entries, or UINT64_MAX. The engine cuts an empty,
  // journaled batch when it passes, so expiry happens without traffic.
  virtual uint64_t NextTimerNs() const = 0;

  // Cheap invariant checks after every batch (always-on assertions).
  virtual void CheckInvariants() const = 0;

  // Writes the whole state; Restore reads it back into an empty machine.
  // Restore rejects malformed bytes with a Status, never an assertion.
  virtual void Serialize(const SnapshotSink& sink) const = 0;
  virtual base::Status Restore(std::span<const std::byte> snapshot) = 0;
};

}  // namespace tangelo::engine
