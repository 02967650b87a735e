// AdviceOutbox: what a client must be told after the fact, waiting in state
// for the notifier to deliver it (the transactional outbox pattern).
//
// Two kinds of record: the program's stand-in decided instead of the client
// (the client's endpoint timed out, failed or answered badly), and the card
// network decided in stand-in and sent an advice (0120). Records get
// increasing sequence numbers; a reader fetches the oldest undelivered one at
// or after a sequence (kReadAdvice) and acknowledges delivery up to a
// sequence (kAcknowledgeAdvices), which frees them.
//
// Bounded: at most `capacity` undelivered records. When the notifier falls
// that far behind, the oldest undelivered record is overwritten and
// `overwritten` counts it (an alert, not a silent loss); the authorization
// itself is unaffected. Part of the snapshot. Not thread safe.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "authorizer/entries.h"
#include "authorizer/snapshot_io.h"
#include "base/status.h"

namespace tangelo::authorizer {

enum class AdviceKind : uint8_t {
  kClientStandIn = 1,   // Our stand-in decided because the client's decision failed.
  kNetworkStandIn = 2,  // The network decided (an 0120 advice) and we recorded it.
};
std::string_view AdviceKindName(AdviceKind kind);

// One advice (64 bytes).
struct AdviceRecord {
  uint64_t sequence = 0;
  uint64_t authorization_id = 0;  // Zero when nothing could be held (card unknown).
  uint64_t tenant_id = 0;
  uint64_t card_id = 0;
  uint64_t amount_minor = 0;  // Amount decided (approved, or declined).
  uint64_t recorded_at_ns = 0;
  uint16_t reason = 0;        // issuing::DeclineReason (kNone when approved).
  uint16_t currency_numeric = 0;
  uint8_t kind = 0;           // AdviceKind.
  uint8_t decision = 0;       // Decision: approved or declined.
  uint8_t client_outcome = 0; // ClientDecisionOutcome that led to stand-in; 0 for network.
  uint8_t reserved = 0;
  uint64_t reserved2 = 0;
};
static_assert(sizeof(AdviceRecord) == 64);
static_assert(std::has_unique_object_representations_v<AdviceRecord>);

class AdviceOutbox {
 public:
  static constexpr uint32_t kCapacityDefault = 65536;

  explicit AdviceOutbox(uint32_t capacity);  // 1 <= capacity < 2^31.
  AdviceOutbox(const AdviceOutbox&) = delete;
  AdviceOutbox& operator=(const AdviceOutbox&) = delete;

  // Appends, giving the record the next sequence (returned).
  uint64_t Append(AdviceRecord record);
  // The oldest record with sequence >= from_sequence, or nullptr.
  const AdviceRecord* ReadFrom(uint64_t from_sequence) const;
  // Frees every record with sequence <= through_sequence; returns how many.
  uint32_t Acknowledge(uint64_t through_sequence);

  uint32_t size() const { return count_; }
  uint64_t next_sequence() const { return next_sequence_; }
  uint64_t overwritten() const { return overwritten_; }

  void Serialize(SnapshotWriter& writer) const;
  base::Status Restore(SnapshotReader& reader);

 private:
  const AdviceRecord& At(uint32_t logical) const {
    const uint64_t position = uint64_t{head_} + logical;
    return ring_[position >= capacity_ ? position - capacity_ : position];
  }

  uint32_t capacity_;
  uint32_t head_ = 0;
  uint32_t count_ = 0;
  uint64_t next_sequence_ = 1;
  uint64_t overwritten_ = 0;
  std::vector<AdviceRecord> ring_;
};

}  // namespace tangelo::authorizer
