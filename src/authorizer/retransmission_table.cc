#include "authorizer/retransmission_table.h"

#include <algorithm>
#include <string>

namespace tangelo::authorizer {
namespace {

constexpr uint32_t kTableMagic = 0x52544754;  // Bytes "TGTR".

}  // namespace

RetransmissionTable::RetransmissionTable(uint32_t entries_max, uint64_t window_ns)
    : capacity_(entries_max), window_ns_(window_ns), ring_(entries_max), index_(entries_max) {
  TG_ASSERT(entries_max >= 1 && entries_max < (1u << 31));
  TG_ASSERT(window_ns > 0);
}

RetransmissionEntry* RetransmissionTable::Find(const RequestKey& key, uint64_t now_ns) {
  if (!key.valid()) return nullptr;
  const uint32_t position =
      index_.Find(key.high, [&](uint32_t slot) { return ring_[slot].key() == key; });
  if (position == HashIndex::kNoSlot) return nullptr;
  RetransmissionEntry& entry = ring_[position];
  if (!Expired(entry, now_ns)) return &entry;
  Unindex(position);  // Past its window: forgotten, and the key is free again.
  return nullptr;
}

void RetransmissionTable::Unindex(uint32_t position) {
  RetransmissionEntry& entry = ring_[position];
  if (!entry.key().valid()) return;  // Dead: already unindexed.
  index_.Erase(entry.key_high, position, [this](uint32_t slot) { return ring_[slot].key_high; });
  entry.key_high = 0;
  entry.key_low = 0;
}

void RetransmissionTable::EvictHead() {
  TG_ASSERT(count_ > 0);
  Unindex(head_);
  ring_[head_] = RetransmissionEntry{};
  head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
  --count_;
}

void RetransmissionTable::Insert(const RetransmissionEntry& entry, uint64_t now_ns) {
  TG_ASSERT(entry.key().valid());
  for (uint32_t evicted = 0; evicted < kEvictionsPerInsert && count_ > 0; ++evicted) {
    const RetransmissionEntry& oldest = ring_[head_];
    if (oldest.key().valid() && !Expired(oldest, now_ns)) break;
    EvictHead();
  }
  // Find(key) forgot any expired entry of this key, so the index never
  // holds a key twice (checked in debug builds).
  TG_DASSERT(index_.Find(entry.key_high, [&](uint32_t slot) {
    return ring_[slot].key() == entry.key();
  }) == HashIndex::kNoSlot);
  if (count_ == capacity_) {
    if (ring_[head_].key().valid() && !Expired(ring_[head_], now_ns)) ++evicted_early_;
    EvictHead();
  }
  if (count_ > 0) {
    TG_ASSERT(entry.recorded_at_ns >= ring_[Position(count_ - 1)].recorded_at_ns);
  }
  const uint32_t position = Position(count_);
  ring_[position] = entry;
  index_.Insert(entry.key_high, position);
  ++count_;
}

void RetransmissionTable::Serialize(SnapshotWriter& writer) const {
  writer.U32(kTableMagic);
  writer.U32(count_);
  writer.U64(evicted_early_);
  // Oldest first, in at most two runs of the ring.
  const uint32_t first_run = std::min(count_, capacity_ - head_);
  writer.Bytes(ring_.data() + head_, sizeof(RetransmissionEntry) * first_run);
  writer.Bytes(ring_.data(), sizeof(RetransmissionEntry) * (count_ - first_run));
}

base::Status RetransmissionTable::Restore(SnapshotReader& reader) {
  TG_ASSERT(count_ == 0);
  const uint32_t magic = reader.U32();
  const uint32_t count = reader.U32();
  const uint64_t evicted_early = reader.U64();
  if (!reader.ok() || magic != kTableMagic) {
    return base::DataLoss("retransmission table: bad header");
  }
  if (count > capacity_) {
    return base::ResourceExhausted("retransmission table: " + std::to_string(count) +
                                   " entries do not fit a capacity of " +
                                   std::to_string(capacity_));
  }
  reader.Bytes(ring_.data(), sizeof(RetransmissionEntry) * count);
  if (!reader.ok()) return base::DataLoss("retransmission table: truncated");
  head_ = 0;
  count_ = count;
  evicted_early_ = evicted_early;
  for (uint32_t position = 0; position < count; ++position) {
    const RetransmissionEntry& entry = ring_[position];
    if (entry.reserved != 0 || (position > 0 && entry.recorded_at_ns <
                                                    ring_[position - 1].recorded_at_ns)) {
      return base::DataLoss("retransmission table: entry " + std::to_string(position) +
                            " is out of order or has reserved bits");
    }
    if (!entry.key().valid()) continue;
    const uint32_t duplicate = index_.Find(
        entry.key_high, [&](uint32_t slot) { return ring_[slot].key() == entry.key(); });
    if (duplicate != HashIndex::kNoSlot) {
      return base::DataLoss("retransmission table: duplicate key");
    }
    index_.Insert(entry.key_high, position);
  }
  return base::Status::Ok();
}

}  // namespace tangelo::authorizer
