#include "authorizer/authorization_table.h"

#include <cstring>
#include <string>
#include <utility>

namespace tangelo::authorizer {
namespace {

constexpr uint32_t kTableMagic = 0x41544754;  // Bytes "TGTA".

bool IsZeroExceptGeneration(const AuthorizationRecord& record) {
  AuthorizationRecord zero;
  zero.generation = record.generation;
  return std::memcmp(&zero, &record, sizeof(record)) == 0;
}

}  // namespace

AuthorizationTable::AuthorizationTable(uint32_t authorizations_max,
                                       uint32_t pending_decisions_max)
    : capacity_(authorizations_max),
      records_(authorizations_max),
      key_index_(authorizations_max),
      expiries_(authorizations_max, authorizations_max),
      deadlines_(authorizations_max, pending_decisions_max) {
  TG_ASSERT(authorizations_max >= 1 && authorizations_max < (1u << 31));
  TG_ASSERT(pending_decisions_max >= 1 && pending_decisions_max <= authorizations_max);
  free_slots_.reserve(authorizations_max);
}

uint32_t AuthorizationTable::Allocate() {
  uint32_t slot = kNoSlot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else if (used_slots_ < capacity_) {
    slot = used_slots_++;
  } else {
    return kNoSlot;
  }
  AuthorizationRecord& record = records_[slot];
  TG_ASSERT(record.state == AuthorizationState::kFree);
  record.state = AuthorizationState::kActive;
  ++live_count_;
  return slot;
}

void AuthorizationTable::Release(uint32_t slot) {
  AuthorizationRecord& record = records_[slot];
  TG_ASSERT(record.state != AuthorizationState::kFree);
  if (record.key().valid()) {
    key_index_.Erase(KeyHash(slot), slot, [this](uint32_t other) { return KeyHash(other); });
  }
  expiries_.Remove(slot);
  deadlines_.Remove(slot);
  const uint32_t generation = record.generation + 1;
  record = AuthorizationRecord{};
  record.generation = generation;
  free_slots_.push_back(slot);
  --live_count_;
}

AuthorizationId AuthorizationTable::IdOf(uint32_t slot) const {
  return AuthorizationId((uint64_t{records_[slot].generation} << 32) | (uint64_t{slot} + 1));
}

uint32_t AuthorizationTable::Find(AuthorizationId id) const {
  const uint64_t low = id.value() & 0xffff'ffffULL;
  if (low == 0 || low > used_slots_) return kNoSlot;
  const uint32_t slot = static_cast<uint32_t>(low - 1);
  const AuthorizationRecord& record = records_[slot];
  if (record.state == AuthorizationState::kFree || record.generation != (id.value() >> 32)) {
    return kNoSlot;
  }
  return slot;
}

uint32_t AuthorizationTable::FindByKey(const RequestKey& key) const {
  if (!key.valid()) return kNoSlot;
  return key_index_.Find(key.high, [&](uint32_t slot) { return records_[slot].key() == key; });
}

void AuthorizationTable::IndexKey(uint32_t slot) {
  TG_ASSERT(records_[slot].state != AuthorizationState::kFree && records_[slot].key().valid());
  key_index_.Insert(KeyHash(slot), slot);
}

void AuthorizationTable::SetExpiry(uint32_t slot, uint64_t expires_at_ns) {
  records_[slot].expires_at_ns = expires_at_ns;
  expiries_.Set(slot, expires_at_ns);
}

void AuthorizationTable::ClearExpiry(uint32_t slot) {
  records_[slot].expires_at_ns = 0;
  expiries_.Remove(slot);
}

void AuthorizationTable::SetDeadline(uint32_t slot, uint64_t deadline_ns) {
  records_[slot].deadline_ns = deadline_ns;
  deadlines_.Set(slot, deadline_ns);
}

void AuthorizationTable::ClearDeadline(uint32_t slot) {
  records_[slot].deadline_ns = 0;
  deadlines_.Remove(slot);
}

void AuthorizationTable::Serialize(SnapshotWriter& writer) const {
  writer.U32(kTableMagic);
  writer.U32(used_slots_);
  writer.U32(static_cast<uint32_t>(free_slots_.size()));
  writer.U32(0);  // Reserved.
  writer.Bytes(records_.data(), sizeof(AuthorizationRecord) * used_slots_);
  writer.Bytes(free_slots_.data(), sizeof(uint32_t) * free_slots_.size());
}

base::Status AuthorizationTable::Restore(SnapshotReader& reader) {
  TG_ASSERT(used_slots_ == 0 && live_count_ == 0);
  const uint32_t magic = reader.U32();
  const uint32_t used = reader.U32();
  const uint32_t free_count = reader.U32();
  const uint32_t reserved = reader.U32();
  if (!reader.ok() || magic != kTableMagic || reserved != 0 || free_count > used) {
    return base::DataLoss("authorization table: bad header");
  }
  if (used > capacity_) {
    return base::ResourceExhausted("authorization table: " + std::to_string(used) +
                                   " slots do not fit a capacity of " +
                                   std::to_string(capacity_));
  }
  reader.Bytes(records_.data(), sizeof(AuthorizationRecord) * used);
  std::vector<uint32_t> free_slots(free_count);
  reader.Bytes(free_slots.data(), sizeof(uint32_t) * free_count);
  if (!reader.ok()) return base::DataLoss("authorization table: truncated");
  used_slots_ = used;

  // Records: known states and flags; free ones zero but for the generation.
  uint32_t free_records = 0;
  for (uint32_t slot = 0; slot < used; ++slot) {
    const AuthorizationRecord& record = records_[slot];
    const std::string where = "authorization table: record " + std::to_string(slot);
    switch (record.state) {
      case AuthorizationState::kFree:
        if (!IsZeroExceptGeneration(record)) return base::DataLoss(where + " is free but not zero");
        ++free_records;
        continue;
      case AuthorizationState::kPendingClientDecision:
        if (record.deadline_ns == 0) return base::DataLoss(where + " is pending without deadline");
        break;
      case AuthorizationState::kActive:
        if (record.deadline_ns != 0 || record.pending_key().valid()) {
          return base::DataLoss(where + " has a stray deadline or pending key");
        }
        break;
      default:
        return base::DataLoss(where + " has an unknown state");
    }
    if ((record.flags & ~AuthorizationFlags::kAll) != 0 || record.reserved != 0 ||
        record.reserved2 != 0 || record.mcc > issuing::kMccMax) {
      return base::DataLoss(where + " has invalid flags or fields");
    }
    const Decision decision = static_cast<Decision>(record.decision);
    if (decision != Decision::kApproved && decision != Decision::kPartiallyApproved) {
      return base::DataLoss(where + " has an invalid decision");
    }
    if ((record.hold_transfer_id == 0) != (record.held_amount_minor == 0) ||
        record.stand_in_credit_minor > record.held_amount_minor) {
      return base::DataLoss(where + " has a hold without amount or an amount without hold");
    }
    if (record.confirmed_amount_minor > record.total_held_minor()) {
      return base::DataLoss(where + " confirms more than it holds");
    }
    if ((record.total_held_minor() > 0) != (record.expires_at_ns != 0)) {
      return base::DataLoss(where + " has an expiry without hold or a hold without expiry");
    }
  }
  if (free_records != free_count) return base::DataLoss("authorization table: free list size");
  std::vector<bool> seen(used, false);
  for (uint32_t slot : free_slots) {
    if (slot >= used || records_[slot].state != AuthorizationState::kFree || seen[slot]) {
      return base::DataLoss("authorization table: bad free list entry");
    }
    seen[slot] = true;
  }
  free_slots_ = std::move(free_slots);
  free_slots_.reserve(capacity_);

  // Rebuild the key index and the heaps.
  for (uint32_t slot = 0; slot < used; ++slot) {
    const AuthorizationRecord& record = records_[slot];
    if (record.state == AuthorizationState::kFree) continue;
    ++live_count_;
    if (record.key().valid()) {
      if (FindByKey(record.key()) != kNoSlot) {
        return base::DataLoss("authorization table: two records with one request key");
      }
      key_index_.Insert(KeyHash(slot), slot);
    }
    if (record.expires_at_ns != 0) expiries_.Set(slot, record.expires_at_ns);
    if (record.state == AuthorizationState::kPendingClientDecision) {
      if (deadlines_.full()) {
        return base::ResourceExhausted("authorization table: more pending decisions than fit");
      }
      deadlines_.Set(slot, record.deadline_ns);
    }
  }
  return base::Status::Ok();
}

base::Status AuthorizationTable::CheckConsistency() const {
  uint32_t live = 0;
  uint32_t pending = 0;
  uint32_t with_expiry = 0;
  for (uint32_t slot = 0; slot < used_slots_; ++slot) {
    const AuthorizationRecord& record = records_[slot];
    if (record.state == AuthorizationState::kFree) continue;
    ++live;
    if (record.key().valid() && FindByKey(record.key()) != slot) {
      return base::Internal("authorization table: key index misses slot " + std::to_string(slot));
    }
    if (record.expires_at_ns != 0) {
      ++with_expiry;
      if (!expiries_.Contains(slot)) return base::Internal("expiry heap misses a record");
    }
    if (record.state == AuthorizationState::kPendingClientDecision) {
      ++pending;
      if (!deadlines_.Contains(slot)) return base::Internal("deadline heap misses a record");
    }
  }
  if (live != live_count_ || live + free_slots_.size() != used_slots_) {
    return base::Internal("authorization table: live count or free list out of step");
  }
  if (with_expiry != expiries_.size() || pending != deadlines_.size()) {
    return base::Internal("authorization table: heap sizes out of step");
  }
  if (!expiries_.Valid() || !deadlines_.Valid()) {
    return base::Internal("authorization table: heap order broken");
  }
  return base::Status::Ok();
}

}  // namespace tangelo::authorizer
