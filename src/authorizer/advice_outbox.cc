#include "authorizer/advice_outbox.h"

#include <algorithm>
#include <string>

namespace tangelo::authorizer {
namespace {

constexpr uint32_t kOutboxMagic = 0x4f414754;  // Bytes "TGAO".

}  // namespace

std::string_view AdviceKindName(AdviceKind kind) {
  switch (kind) {
    case AdviceKind::kClientStandIn: return "client_stand_in";
    case AdviceKind::kNetworkStandIn: return "network_stand_in";
  }
  return "unknown";
}

AdviceOutbox::AdviceOutbox(uint32_t capacity) : capacity_(capacity), ring_(capacity) {
  TG_ASSERT(capacity >= 1 && capacity < (1u << 31));
}

uint64_t AdviceOutbox::Append(AdviceRecord record) {
  if (count_ == capacity_) {
    // The notifier is a whole outbox behind: the oldest record gives way.
    ++overwritten_;
    head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
    --count_;
  }
  record.sequence = next_sequence_++;
  const uint64_t position = uint64_t{head_} + count_;
  ring_[position >= capacity_ ? position - capacity_ : position] = record;
  ++count_;
  return record.sequence;
}

const AdviceRecord* AdviceOutbox::ReadFrom(uint64_t from_sequence) const {
  if (count_ == 0) return nullptr;
  // Sequences are consecutive in the ring, so the position is arithmetic.
  const uint64_t oldest = At(0).sequence;
  if (from_sequence <= oldest) return &At(0);
  const uint64_t offset = from_sequence - oldest;
  if (offset >= count_) return nullptr;
  return &At(static_cast<uint32_t>(offset));
}

uint32_t AdviceOutbox::Acknowledge(uint64_t through_sequence) {
  uint32_t freed = 0;
  while (count_ > 0 && ring_[head_].sequence <= through_sequence) {
    ring_[head_] = AdviceRecord{};
    head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
    --count_;
    ++freed;
  }
  return freed;
}

void AdviceOutbox::Serialize(SnapshotWriter& writer) const {
  writer.U32(kOutboxMagic);
  writer.U32(count_);
  writer.U64(next_sequence_);
  writer.U64(overwritten_);
  const uint32_t first_run = std::min(count_, capacity_ - head_);
  writer.Bytes(ring_.data() + head_, sizeof(AdviceRecord) * first_run);
  writer.Bytes(ring_.data(), sizeof(AdviceRecord) * (count_ - first_run));
}

base::Status AdviceOutbox::Restore(SnapshotReader& reader) {
  TG_ASSERT(count_ == 0);
  const uint32_t magic = reader.U32();
  const uint32_t count = reader.U32();
  const uint64_t next_sequence = reader.U64();
  const uint64_t overwritten = reader.U64();
  if (!reader.ok() || magic != kOutboxMagic || next_sequence == 0) {
    return base::DataLoss("advice outbox: bad header");
  }
  if (count > capacity_) {
    return base::ResourceExhausted("advice outbox: " + std::to_string(count) +
                                   " records do not fit a capacity of " +
                                   std::to_string(capacity_));
  }
  reader.Bytes(ring_.data(), sizeof(AdviceRecord) * count);
  if (!reader.ok()) return base::DataLoss("advice outbox: truncated");
  for (uint32_t position = 0; position < count; ++position) {
    const AdviceRecord& record = ring_[position];
    const uint64_t expected = next_sequence - count + position;
    if (next_sequence <= count || record.sequence != expected || record.reserved != 0 ||
        record.reserved2 != 0 ||
        (record.kind != static_cast<uint8_t>(AdviceKind::kClientStandIn) &&
         record.kind != static_cast<uint8_t>(AdviceKind::kNetworkStandIn))) {
      return base::DataLoss("advice outbox: record " + std::to_string(position) + " is invalid");
    }
  }
  head_ = 0;
  count_ = count;
  next_sequence_ = next_sequence;
  overwritten_ = overwritten;
  return base::Status::Ok();
}

}  // namespace tangelo::authorizer
