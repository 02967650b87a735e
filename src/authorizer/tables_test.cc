// The authorizer's bounded tables: HashIndex deletion, IndexedHeap order,
// AuthorizationTable ids and slots, RetransmissionTable expiry and eviction,
// AdviceOutbox overflow, and each table's snapshot round trip and rejection
// of corrupt bytes.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "authorizer/advice_outbox.h"
#include "authorizer/authorization_table.h"
#include "authorizer/hash_index.h"
#include "authorizer/indexed_heap.h"
#include "authorizer/retransmission_table.h"
#include "base/random.h"

namespace tangelo::authorizer {
namespace {

std::vector<std::byte> Bytes(const auto& serialize) {
  std::vector<std::byte> out;
  const engine::SnapshotSink sink = [&](const void* data, size_t size) {
    const auto* begin = static_cast<const std::byte*>(data);
    out.insert(out.end(), begin, begin + size);
  };
  {
    SnapshotWriter writer(sink);
    serialize(writer);
  }
  return out;
}

// ---------------------------------------------------------------- HashIndex

TEST(HashIndexTest, InsertFindEraseAgainstAModel) {
  // Hashes are chosen to collide heavily (few distinct low bits), so erases
  // exercise the backward shift over long runs and across the wrap.
  constexpr uint32_t kSlots = 512;
  HashIndex index(kSlots);
  std::vector<uint64_t> hash_of_slot(kSlots, 0);
  std::set<uint32_t> present;
  base::Random random(42);
  for (int step = 0; step < 20000; ++step) {
    const uint32_t slot = static_cast<uint32_t>(random.Uniform(kSlots));
    const auto matches = [&](uint32_t candidate) { return candidate == slot; };
    if (present.count(slot) == 0) {
      if (index.size() >= kSlots) continue;
      hash_of_slot[slot] = (random.Uniform(8) * 131) | (random.Next() << 32);
      index.Insert(hash_of_slot[slot], slot);
      present.insert(slot);
    } else {
      index.Erase(hash_of_slot[slot], slot, [&](uint32_t other) { return hash_of_slot[other]; });
      present.erase(slot);
    }
    ASSERT_EQ(index.size(), present.size());
    // Every present slot is still found through its own hash.
    if (step % 97 == 0) {
      for (uint32_t live : present) {
        ASSERT_EQ(index.Find(hash_of_slot[live], [&](uint32_t c) { return c == live; }), live);
      }
    }
    (void)matches;
  }
  for (uint32_t live : present) {
    EXPECT_EQ(index.Find(hash_of_slot[live], [&](uint32_t c) { return c == live; }), live);
  }
}

TEST(HashIndexTest, MissReturnsNoSlot) {
  HashIndex index(8);
  EXPECT_EQ(index.Find(5, [](uint32_t) { return true; }), HashIndex::kNoSlot);
  index.Insert(5, 3);
  EXPECT_EQ(index.Find(5, [](uint32_t slot) { return slot == 4; }), HashIndex::kNoSlot);
}

// ---------------------------------------------------------------- IndexedHeap

TEST(IndexedHeapTest, PopsInTimeThenSlotOrderWithUpdatesAndRemovals) {
  IndexedHeap heap(100, 100);
  base::Random random(7);
  std::map<uint32_t, uint64_t> model;
  for (int step = 0; step < 5000; ++step) {
    const uint32_t slot = static_cast<uint32_t>(random.Uniform(100));
    if (random.Chance(30)) {
      heap.Remove(slot);
      model.erase(slot);
    } else {
      const uint64_t time = random.Uniform(50);  // Many ties.
      heap.Set(slot, time);
      model[slot] = time;
    }
    ASSERT_TRUE(heap.Valid());
    ASSERT_EQ(heap.size(), model.size());
  }
  std::vector<std::pair<uint64_t, uint32_t>> expected;
  for (const auto& [slot, time] : model) expected.emplace_back(time, slot);
  std::sort(expected.begin(), expected.end());
  for (const auto& [time, slot] : expected) {
    ASSERT_EQ(heap.TopTimeNs(), time);
    ASSERT_EQ(heap.TopSlot(), slot);
    heap.Remove(slot);
  }
  EXPECT_TRUE(heap.empty());
  EXPECT_EQ(heap.TopTimeNs(), UINT64_MAX);
}

TEST(IndexedHeapTest, FullHeapRefusesOnlyNewSlots) {
  IndexedHeap heap(10, 2);
  heap.Set(1, 5);
  heap.Set(2, 6);
  EXPECT_TRUE(heap.full());
  heap.Set(1, 9);  // Moving a present slot is fine when full.
  EXPECT_EQ(heap.TopSlot(), 2u);
  EXPECT_DEATH(heap.Set(3, 1), "full");
}

// ---------------------------------------------------------------- AuthorizationTable

TEST(AuthorizationTableTest, IdsNameOneAuthorizationEvenAfterSlotReuse) {
  AuthorizationTable table(4, 2);
  const uint32_t slot = table.Allocate();
  const AuthorizationId first = table.IdOf(slot);
  EXPECT_NE(first.value(), 0u);
  EXPECT_EQ(table.Find(first), slot);
  table.Release(slot);
  EXPECT_EQ(table.Find(first), AuthorizationTable::kNoSlot);
  const uint32_t reused = table.Allocate();
  EXPECT_EQ(reused, slot);  // Last freed, first reused.
  const AuthorizationId second = table.IdOf(reused);
  EXPECT_NE(second, first);
  EXPECT_EQ(table.Find(first), AuthorizationTable::kNoSlot);
  EXPECT_EQ(table.Find(second), reused);
  // Ids that were never issued.
  EXPECT_EQ(table.Find(AuthorizationId(0)), AuthorizationTable::kNoSlot);
  EXPECT_EQ(table.Find(AuthorizationId(3)), AuthorizationTable::kNoSlot);
  EXPECT_EQ(table.Find(AuthorizationId(~0ULL)), AuthorizationTable::kNoSlot);
}

TEST(AuthorizationTableTest, FullTableAllocatesNothing) {
  AuthorizationTable table(2, 1);
  EXPECT_NE(table.Allocate(), AuthorizationTable::kNoSlot);
  EXPECT_NE(table.Allocate(), AuthorizationTable::kNoSlot);
  EXPECT_TRUE(table.full());
  EXPECT_EQ(table.Allocate(), AuthorizationTable::kNoSlot);
}

TEST(AuthorizationTableTest, KeyIndexAndHeapsFollowReleases) {
  AuthorizationTable table(8, 4);
  const uint32_t a = table.Allocate();
  const uint32_t b = table.Allocate();
  table.record(a).key_high = 11;
  table.record(a).key_low = 12;
  table.IndexKey(a);
  table.record(b).key_high = 21;
  table.record(b).key_low = 22;
  table.IndexKey(b);
  table.record(a).hold_transfer_id = 1;
  table.record(a).held_amount_minor = 5;
  table.record(b).hold_transfer_id = 2;
  table.record(b).held_amount_minor = 5;
  table.SetExpiry(a, 300);
  table.SetExpiry(b, 200);
  table.record(a).state = AuthorizationState::kPendingClientDecision;
  table.SetDeadline(a, 50);
  EXPECT_EQ(table.FindByKey(RequestKey{11, 12}), a);
  EXPECT_EQ(table.FindByKey(RequestKey{11, 13}), AuthorizationTable::kNoSlot);
  EXPECT_EQ(table.NextExpirySlot(), b);
  EXPECT_EQ(table.NextDeadlineNs(), 50u);
  EXPECT_TRUE(table.CheckConsistency().ok());
  table.Release(a);
  EXPECT_EQ(table.FindByKey(RequestKey{11, 12}), AuthorizationTable::kNoSlot);
  EXPECT_EQ(table.FindByKey(RequestKey{21, 22}), b);
  EXPECT_EQ(table.NextDeadlineNs(), UINT64_MAX);
  EXPECT_EQ(table.pending_count(), 0u);
  EXPECT_TRUE(table.CheckConsistency().ok());
}

TEST(AuthorizationTableTest, SnapshotRoundTripKeepsSlotsGenerationsAndFreeList) {
  AuthorizationTable table(8, 4);
  for (int i = 0; i < 5; ++i) {
    const uint32_t slot = table.Allocate();
    AuthorizationRecord& record = table.record(slot);
    record.decision = static_cast<uint8_t>(Decision::kApproved);
    record.hold_transfer_id = 100 + static_cast<uint64_t>(i);
    record.held_amount_minor = 10;
    record.confirmed_amount_minor = 10;
    record.key_high = 1000 + static_cast<uint64_t>(i);
    record.key_low = 1;
    table.IndexKey(slot);
    table.SetExpiry(slot, 500 - static_cast<uint64_t>(i));
  }
  table.Release(1);
  table.Release(3);
  const auto bytes = Bytes([&](SnapshotWriter& writer) { table.Serialize(writer); });

  AuthorizationTable restored(8, 4);
  SnapshotReader reader(bytes);
  ASSERT_TRUE(restored.Restore(reader).ok());
  EXPECT_TRUE(reader.AtEnd());
  EXPECT_TRUE(restored.CheckConsistency().ok());
  EXPECT_EQ(restored.live_count(), 3u);
  EXPECT_EQ(restored.NextExpirySlot(), table.NextExpirySlot());
  EXPECT_EQ(restored.FindByKey(RequestKey{1004, 1}), 4u);
  // Both continue identically: same next slot, same id.
  const uint32_t next = table.Allocate();
  EXPECT_EQ(restored.Allocate(), next);
  EXPECT_EQ(restored.IdOf(next), table.IdOf(next));
  EXPECT_EQ(Bytes([&](SnapshotWriter& writer) { restored.Serialize(writer); }),
            Bytes([&](SnapshotWriter& writer) { table.Serialize(writer); }));
}

TEST(AuthorizationTableTest, RestoreRejectsCorruptBytes) {
  AuthorizationTable table(8, 4);
  const uint32_t slot = table.Allocate();
  table.record(slot).decision = static_cast<uint8_t>(Decision::kApproved);
  const auto good = Bytes([&](SnapshotWriter& writer) { table.Serialize(writer); });

  // Truncated at every length.
  for (size_t size = 0; size < good.size(); ++size) {
    AuthorizationTable restored(8, 4);
    SnapshotReader reader(std::span(good.data(), size));
    EXPECT_FALSE(restored.Restore(reader).ok()) << size;
  }
  // An unknown state byte (offset: 16 header bytes + the state's offset).
  auto bad_state = good;
  bad_state[16 + offsetof(AuthorizationRecord, state)] = std::byte{9};
  AuthorizationTable restored(8, 4);
  SnapshotReader reader(bad_state);
  EXPECT_EQ(restored.Restore(reader).code(), base::StatusCode::kDataLoss);
  // More slots than the capacity.
  AuthorizationTable small(0 + 1, 1);
  AuthorizationTable big(8, 4);
  big.Allocate();
  big.Allocate();
  const auto two = Bytes([&](SnapshotWriter& writer) { big.Serialize(writer); });
  SnapshotReader two_reader(two);
  EXPECT_EQ(small.Restore(two_reader).code(), base::StatusCode::kResourceExhausted);
}

// ---------------------------------------------------------------- RetransmissionTable

RetransmissionEntry EntryOf(uint64_t key, uint64_t at_ns, uint64_t amount = 0) {
  RetransmissionEntry entry;
  entry.key_high = key;
  entry.key_low = key * 3 + 1;
  entry.recorded_at_ns = at_ns;
  entry.amount_minor = amount;
  return entry;
}

TEST(RetransmissionTableTest, RemembersForTheWindowOnly) {
  RetransmissionTable table(16, 1000);
  table.Insert(EntryOf(1, 100, 7), 100);
  ASSERT_NE(table.Find(EntryOf(1, 0).key(), 500), nullptr);
  EXPECT_EQ(table.Find(EntryOf(1, 0).key(), 500)->amount_minor, 7u);
  EXPECT_NE(table.Find(EntryOf(1, 0).key(), 1099), nullptr);
  EXPECT_EQ(table.Find(EntryOf(1, 0).key(), 1100), nullptr);  // Window over.
  EXPECT_EQ(table.Find(EntryOf(2, 0).key(), 500), nullptr);
  EXPECT_EQ(table.Find(RequestKey{}, 500), nullptr);
  // The same key may be recorded again once expired; the old one is dead.
  table.Insert(EntryOf(1, 1200, 9), 1200);
  EXPECT_EQ(table.Find(EntryOf(1, 0).key(), 1300)->amount_minor, 9u);
}

TEST(RetransmissionTableTest, FullTableEvictsOldestAndCountsEarlyEvictions) {
  RetransmissionTable table(4, 1'000'000);
  for (uint64_t key = 1; key <= 6; ++key) table.Insert(EntryOf(key, key * 10), key * 10);
  EXPECT_EQ(table.size(), 4u);
  EXPECT_EQ(table.evicted_early(), 2u);
  EXPECT_EQ(table.Find(EntryOf(1, 0).key(), 100), nullptr);
  EXPECT_EQ(table.Find(EntryOf(2, 0).key(), 100), nullptr);
  EXPECT_NE(table.Find(EntryOf(6, 0).key(), 100), nullptr);
}

TEST(RetransmissionTableTest, ExpiredEntriesLeaveAsNewOnesArrive) {
  RetransmissionTable table(1000, 50);
  for (uint64_t key = 1; key <= 300; ++key) table.Insert(EntryOf(key, key * 10), key * 10);
  // Entries older than 50 ns leave at most two per insert, never all at once.
  EXPECT_LT(table.size(), 300u);
  EXPECT_EQ(table.evicted_early(), 0u);
}

TEST(RetransmissionTableTest, SnapshotRoundTripAcrossTheRingWrap) {
  RetransmissionTable table(8, 1'000'000);
  for (uint64_t key = 1; key <= 13; ++key) table.Insert(EntryOf(key, key), key);
  const auto bytes = Bytes([&](SnapshotWriter& writer) { table.Serialize(writer); });
  RetransmissionTable restored(8, 1'000'000);
  SnapshotReader reader(bytes);
  ASSERT_TRUE(restored.Restore(reader).ok());
  for (uint64_t key = 6; key <= 13; ++key) {
    EXPECT_NE(restored.Find(EntryOf(key, 0).key(), 20), nullptr) << key;
  }
  EXPECT_EQ(Bytes([&](SnapshotWriter& writer) { restored.Serialize(writer); }), bytes);
  // Out-of-order entries are corruption.
  auto swapped = bytes;
  std::swap_ranges(swapped.begin() + 16, swapped.begin() + 16 + 64, swapped.begin() + 16 + 64);
  RetransmissionTable bad(8, 1'000'000);
  SnapshotReader bad_reader(swapped);
  EXPECT_EQ(bad.Restore(bad_reader).code(), base::StatusCode::kDataLoss);
}

// ---------------------------------------------------------------- AdviceOutbox

TEST(AdviceOutboxTest, ReadsInOrderAcknowledgesAndOverwritesOldestWhenFull) {
  AdviceOutbox outbox(3);
  for (uint64_t amount = 1; amount <= 5; ++amount) {
    AdviceRecord record;
    record.kind = static_cast<uint8_t>(AdviceKind::kNetworkStandIn);
    record.amount_minor = amount;
    EXPECT_EQ(outbox.Append(record), amount);
  }
  EXPECT_EQ(outbox.size(), 3u);
  EXPECT_EQ(outbox.overwritten(), 2u);
  ASSERT_NE(outbox.ReadFrom(1), nullptr);
  EXPECT_EQ(outbox.ReadFrom(1)->sequence, 3u);  // 1 and 2 were overwritten.
  EXPECT_EQ(outbox.ReadFrom(4)->amount_minor, 4u);
  EXPECT_EQ(outbox.ReadFrom(6), nullptr);
  EXPECT_EQ(outbox.Acknowledge(4), 2u);
  EXPECT_EQ(outbox.ReadFrom(0)->sequence, 5u);
  const auto bytes = Bytes([&](SnapshotWriter& writer) { outbox.Serialize(writer); });
  AdviceOutbox restored(3);
  SnapshotReader reader(bytes);
  ASSERT_TRUE(restored.Restore(reader).ok());
  EXPECT_EQ(restored.next_sequence(), 6u);
  EXPECT_EQ(restored.ReadFrom(0)->amount_minor, 5u);
  auto bad = bytes;
  bad[bad.size() - 64] = std::byte{0x7f};  // The record's sequence no longer follows.
  AdviceOutbox corrupt(3);
  SnapshotReader bad_reader(bad);
  EXPECT_FALSE(corrupt.Restore(bad_reader).ok());
}

}  // namespace
}  // namespace tangelo::authorizer
