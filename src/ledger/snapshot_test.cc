// Snapshot round trips, and rejection of malformed, truncated, corrupt and forged snapshots:
// forged ones (valid checksums, broken contents) show that CheckAllInvariants catches each
// invariant.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "base/checksum.h"
#include "base/random.h"
#include "ledger/ledger.h"
#include "ledger/ledger_test_util.h"

namespace tangelo::ledger {
namespace {

using testing::kEur;
using testing::kUsd;
using testing::Linked;
using testing::MakeAccount;
using testing::MakePending;
using testing::MakePost;
using testing::MakeTransfer;
using testing::MakeVoid;
using testing::SnapshotBytes;
using AR = CreateAccountResult;
using TR = CreateTransferResult;

constexpr LedgerCapacities kCapacities = {8, 32};
constexpr size_t kHeaderBytes = 128;
constexpr size_t kHeaderChecksumOffset = 120;

// A ledger with every kind of record and state: two currencies, a no-overdraft card,
// single-phase, pending, posted (full and partial), voided and expired holds, a hold still
// pending with a timeout, and stale expiry entries.
class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(harness_.CreateAccounts(
                  {MakeAccount(1), MakeAccount(2, kUsd, AccountFlags::kDebitsMustNotExceedCredits),
                   MakeAccount(3), MakeAccount(5, kEur), MakeAccount(6, kEur)}),
              std::vector<AR>(5, AR::kOk));
    ASSERT_EQ(harness_.CreateTransfers({
                  MakeTransfer(10, 1, 2, 1000),     // Fund the card.
                  MakePending(11, 2, 3, 100, 60),   // Posted in full below.
                  MakePending(12, 2, 3, 200, 60),   // Posted in part below.
                  MakePending(13, 2, 3, 50, 60),    // Voided below.
                  MakePending(14, 2, 3, 70, 5),     // Expires below.
                  MakePending(15, 2, 3, 80, 3600),  // Stays pending.
                  MakePending(16, 5, 6, 30),        // USD on EUR accounts: refused.
                  Linked(MakeTransfer(17, 5, 6, 3, kEur)),
                  MakeTransfer(18, 2, 77, 1),  // Breaks the chain with 17.
                  MakeTransfer(19, 2, 3, 1),
              }),
              (std::vector<TR>{TR::kOk, TR::kOk, TR::kOk, TR::kOk, TR::kOk, TR::kOk,
                               TR::kTransferMustHaveTheSameCurrencyAsAccounts,
                               TR::kLinkedEventFailed, TR::kCreditAccountNotFound, TR::kOk}));
    ASSERT_EQ(harness_.CreateTransfers({MakePending(16, 5, 6, 30, 0, kEur), MakePost(20, 11),
                                        MakePost(21, 12, 150), MakeVoid(22, 13)}),
              std::vector<TR>(4, TR::kOk));
    harness_.AdvanceSeconds(10);
    ASSERT_EQ(ledger().ExpirePending(harness_.now_ns(), 100), 1u);
    ASSERT_EQ(ledger().FindPendingState(14), PendingState::kExpired);
    ASSERT_EQ(ledger().expiry_entries_count(), 4u);  // 15, and stale 11, 12, 13.
  }

  Ledger& ledger() { return harness_.ledger(); }
  std::vector<std::byte> Snapshot() { return SnapshotBytes(ledger()); }

  static base::Status Load(const std::vector<std::byte>& bytes,
                           LedgerCapacities capacities = kCapacities) {
    return Ledger::Deserialize(bytes, capacities).status();
  }

  // Byte offsets of the sections, from the layout in docs/ledger/snapshot.md.
  size_t AccountOffset(uint32_t slot) const {
    return kHeaderBytes + 8 /* two currencies, padded */ + slot * sizeof(Account);
  }
  size_t AccountIndexOffset() const { return AccountOffset(5); }
  size_t PendingStateOffset(uint32_t slot) const {
    return AccountIndexOffset() + IdIndex::CapacityFor(kCapacities.accounts_max) * 8 + slot;
  }
  size_t ResolvedSlotOffset(uint32_t slot) const { return PendingStateOffset(0) + 16 + slot * 4; }
  size_t TransferIndexOffset() const { return ResolvedSlotOffset(0) + 48; }
  size_t ExpiryHeapOffset() const {
    return TransferIndexOffset() + IdIndex::CapacityFor(kCapacities.transfers_max) * 8;
  }
  size_t TransferOffset(uint32_t slot) const {
    return ExpiryHeapOffset() + 4 * 16 + slot * sizeof(Transfer);
  }

  // Recomputes both checksums after a deliberate edit, so only the invariants can object.
  static void Reseal(std::vector<std::byte>& bytes) {
    const uint64_t header_checksum = base::Checksum(bytes.data(), kHeaderChecksumOffset);
    std::memcpy(bytes.data() + kHeaderChecksumOffset, &header_checksum, 8);
    const size_t body_size = bytes.size() - kHeaderBytes - 8;
    const uint64_t body_checksum = base::Checksum(bytes.data() + kHeaderBytes, body_size);
    std::memcpy(bytes.data() + bytes.size() - 8, &body_checksum, 8);
  }

  template <typename T>
  static void Poke(std::vector<std::byte>& bytes, size_t offset, T value) {
    ASSERT_LE(offset + sizeof(T), bytes.size());
    std::memcpy(bytes.data() + offset, &value, sizeof(T));
  }

  // Edits a snapshot, reseals it and expects the load to fail naming `what`.
  template <typename Edit>
  void ExpectForgeryRejected(Edit edit, const std::string& what) {
    std::vector<std::byte> bytes = Snapshot();
    edit(bytes);
    Reseal(bytes);
    const base::Status status = Load(bytes);
    EXPECT_EQ(status.code(), base::StatusCode::kDataLoss) << what;
    EXPECT_NE(status.message().find(what), std::string::npos) << status.ToString();
  }

  // Edits a snapshot, reseals it and expects it to load (CheckAllInvariants reads records
  // sequentially and cannot see a broken reference) but CheckReferences to name `what`.
  template <typename Edit>
  void ExpectReferenceBroken(Edit edit, const std::string& what) {
    std::vector<std::byte> bytes = Snapshot();
    edit(bytes);
    Reseal(bytes);
    auto loaded = Ledger::Deserialize(bytes, kCapacities);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    const base::Status status = (*loaded)->CheckReferences();
    EXPECT_NE(status.message().find(what), std::string::npos) << status.ToString();
  }

  testing::LedgerHarness harness_{kCapacities};
  const uint32_t harness_count_ = 11;  // Transfers stored by SetUp.
};

TEST_F(SnapshotTest, FixtureLayoutIsAsExpected) {
  ASSERT_EQ(ledger().transfers_count(), harness_count_);
  const std::vector<std::byte> bytes = Snapshot();
  Transfer first;
  std::memcpy(&first, bytes.data() + TransferOffset(0), sizeof(first));
  EXPECT_EQ(first.id, 10u);
  Account card;
  std::memcpy(&card, bytes.data() + AccountOffset(1), sizeof(card));
  EXPECT_EQ(card.id, 2u);
  EXPECT_EQ(bytes.size(), TransferOffset(harness_count_) + 8);
}

TEST_F(SnapshotTest, RoundTripIsByteIdenticalAndBehavesTheSame) {
  const std::vector<std::byte> bytes = Snapshot();
  auto loaded = Ledger::Deserialize(bytes, kCapacities);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  Ledger& copy = **loaded;
  EXPECT_EQ(SnapshotBytes(copy), bytes);
  EXPECT_EQ(copy.last_timestamp_ns(), ledger().last_timestamp_ns());
  EXPECT_EQ(copy.FindAccount(2)->debits_pending, 80u);
  EXPECT_EQ(copy.FindPendingState(12), PendingState::kPosted);
  EXPECT_EQ(copy.FindPendingState(14), PendingState::kExpired);
  EXPECT_EQ(copy.NextExpiryNs(), ledger().NextExpiryNs());

  // The same inputs applied to both give the same results and the same state.
  const std::vector<Transfer> more = {MakePost(30, 15, 10), MakePending(31, 2, 3, 5, 1),
                                      MakeTransfer(19, 2, 3, 1), MakeVoid(32, 16)};
  const uint64_t batch_ns = harness_.now_ns() + 1'000'000;
  std::vector<TR> original_results(more.size());
  std::vector<TR> copy_results(more.size());
  ledger().CreateTransfers(more, batch_ns, original_results);
  copy.CreateTransfers(more, batch_ns, copy_results);
  EXPECT_EQ(original_results, copy_results);
  EXPECT_EQ(original_results, (std::vector<TR>{TR::kOk, TR::kOk, TR::kExists, TR::kOk}));
  EXPECT_EQ(ledger().ExpirePending(batch_ns + 100 * testing::kSecondNs, 100),
            copy.ExpirePending(batch_ns + 100 * testing::kSecondNs, 100));
  EXPECT_EQ(SnapshotBytes(copy), Snapshot());
}

TEST_F(SnapshotTest, LargerCapacitiesRebuildTheIndexes) {
  const std::vector<std::byte> bytes = Snapshot();
  auto loaded = Ledger::Deserialize(bytes, {100, 1000});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  Ledger& copy = **loaded;
  ASSERT_EQ(copy.accounts_count(), ledger().accounts_count());
  ASSERT_EQ(copy.transfers_count(), ledger().transfers_count());
  EXPECT_EQ(0, std::memcmp(copy.accounts().data(), ledger().accounts().data(),
                           copy.accounts().size_bytes()));
  EXPECT_EQ(0, std::memcmp(copy.transfers().data(), ledger().transfers().data(),
                           copy.transfers().size_bytes()));
  for (const Transfer& transfer : ledger().transfers()) {
    ASSERT_NE(copy.FindTransfer(transfer.id), nullptr);
    EXPECT_EQ(copy.FindPendingState(transfer.id), ledger().FindPendingState(transfer.id));
  }
  EXPECT_EQ(copy.capacities().transfers_max, 1000u);
}

TEST_F(SnapshotTest, CapacitiesTooSmall) {
  EXPECT_EQ(Load(Snapshot(), {4, 32}).code(), base::StatusCode::kInvalidArgument);
  EXPECT_EQ(Load(Snapshot(), {8, 10}).code(), base::StatusCode::kInvalidArgument);
  EXPECT_EQ(Load(Snapshot(), {0, 12}).code(), base::StatusCode::kInvalidArgument);
}

TEST_F(SnapshotTest, EmptyLedgerRoundTrips) {
  auto empty = Ledger::Create({1, 1}).value();
  const std::vector<std::byte> bytes = SnapshotBytes(*empty);
  auto loaded = Ledger::Deserialize(bytes, {1, 1});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(SnapshotBytes(**loaded), bytes);
}

TEST_F(SnapshotTest, EveryTruncationIsRejected) {
  const std::vector<std::byte> bytes = Snapshot();
  for (size_t size = 0; size < bytes.size(); ++size) {
    const std::vector<std::byte> prefix(bytes.begin(), bytes.begin() + static_cast<long>(size));
    ASSERT_EQ(Load(prefix).code(), base::StatusCode::kDataLoss) << size;
  }
  std::vector<std::byte> longer = bytes;
  longer.push_back(std::byte{0});
  EXPECT_EQ(Load(longer).code(), base::StatusCode::kDataLoss);
}

TEST_F(SnapshotTest, EveryBitFlipIsRejected) {
  const std::vector<std::byte> bytes = Snapshot();
  for (size_t offset = 0; offset < bytes.size(); ++offset) {
    std::vector<std::byte> flipped = bytes;
    flipped[offset] ^= static_cast<std::byte>(1u << (offset % 8));
    ASSERT_EQ(Load(flipped).code(), base::StatusCode::kDataLoss) << offset;
  }
}

TEST_F(SnapshotTest, HeaderChecks) {
  std::vector<std::byte> bytes = Snapshot();
  bytes[0] = std::byte{'X'};
  Reseal(bytes);
  EXPECT_NE(Load(bytes).message().find("magic"), std::string::npos);
  bytes = Snapshot();
  Poke<uint32_t>(bytes, 8, 2);
  Reseal(bytes);
  EXPECT_NE(Load(bytes).message().find("unsupported version 2"), std::string::npos);
  bytes = Snapshot();
  Poke<uint64_t>(bytes, 56, 1);  // A reserved word.
  Reseal(bytes);
  EXPECT_NE(Load(bytes).message().find("header fields"), std::string::npos);
  bytes = Snapshot();
  Poke<uint32_t>(bytes, 40, 33);  // expiry_count > transfers_count.
  Reseal(bytes);
  EXPECT_NE(Load(bytes).message().find("counts"), std::string::npos);
  bytes = Snapshot();
  Poke<uint32_t>(bytes, 36, 14);  // One more transfer than the body holds.
  Reseal(bytes);
  EXPECT_NE(Load(bytes).message().find("size does not match"), std::string::npos);
}

// --- Forgeries: each invariant of CheckAllInvariants ------------------------------------------

TEST_F(SnapshotTest, ForgedBalanceIsRejected) {
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) {
        Poke<uint64_t>(bytes, AccountOffset(2) + offsetof(Account, credits_posted), 1);
      },
      "posted debits != credits");
}

TEST_F(SnapshotTest, ForgedOverdraftIsRejected) {
  // Give the funding account (debited 1000) the no-overdraft flag.
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) {
        Poke<uint16_t>(bytes, AccountOffset(0) + offsetof(Account, flags),
                       AccountFlags::kDebitsMustNotExceedCredits);
      },
      "debits exceed credits");
}

TEST_F(SnapshotTest, ForgedCountersThatDoNotMatchTheTransfersAreRejected) {
  // Move 1 unit of pending from one side to posted on both sides: balanced, but no transfer
  // explains it.
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) {
        Poke<uint64_t>(bytes, AccountOffset(1) + offsetof(Account, debits_pending), 79);
        Poke<uint64_t>(bytes, AccountOffset(1) + offsetof(Account, debits_posted), 252);
        Poke<uint64_t>(bytes, AccountOffset(2) + offsetof(Account, credits_pending), 79);
        Poke<uint64_t>(bytes, AccountOffset(2) + offsetof(Account, credits_posted), 252);
      },
      "transfers do not add up");
}

TEST_F(SnapshotTest, ForgedDoubleResolutionIsRejected) {
  // The void (slot 10, id 22) claims hold 11 (slot 1), which the post at slot 8 resolved.
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) { Poke<uint32_t>(bytes, ResolvedSlotOffset(10), 1); },
      "resolution does not match");
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) {
        // The void becomes a second post of hold 11 with the same amount.
        Poke<uint64_t>(bytes, TransferOffset(10) + offsetof(Transfer, pending_id), 11);
        Poke<uint32_t>(bytes, ResolvedSlotOffset(10), 1);
        Poke<uint64_t>(bytes, TransferOffset(10) + offsetof(Transfer, amount), 100);
        Poke<uint16_t>(bytes, TransferOffset(10) + offsetof(Transfer, flags),
                       TransferFlags::kPostPendingTransfer);
        // Keep the balances consistent with a second post of 100 (and no void).
        Poke<uint64_t>(bytes, AccountOffset(1) + offsetof(Account, debits_posted), 351);
        Poke<uint64_t>(bytes, AccountOffset(2) + offsetof(Account, credits_posted), 351);
      },
      "resolved twice");
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) { Poke<uint32_t>(bytes, ResolvedSlotOffset(10), 10); },
      "resolving transfer state");
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) { Poke<uint32_t>(bytes, ResolvedSlotOffset(0), 3); },
      "resolution link on a transfer that resolves nothing");
  // Only the pending_id changes: the link still names hold 13; the references disagree.
  ExpectReferenceBroken(
      [&](std::vector<std::byte>& bytes) {
        Poke<uint64_t>(bytes, TransferOffset(10) + offsetof(Transfer, pending_id), 11);
      },
      "resolution does not name its pending transfer");
  ExpectReferenceBroken(
      [&](std::vector<std::byte>& bytes) {
        Poke<uint64_t>(bytes, TransferOffset(9) + offsetof(Transfer, amount), 150 + 100);
        Poke<uint64_t>(bytes, AccountOffset(1) + offsetof(Account, debits_posted), 351);
        Poke<uint64_t>(bytes, AccountOffset(2) + offsetof(Account, credits_posted), 351);
      },
      "resolution differs from its pending transfer");
}

TEST_F(SnapshotTest, ForgedPendingStateIsRejected) {
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) { Poke<uint8_t>(bytes, PendingStateOffset(0), 9); },
      "pending state value");
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) { Poke<uint8_t>(bytes, PendingStateOffset(1), 1); },
      "resolution does not match");
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) { Poke<uint8_t>(bytes, PendingStateOffset(0), 1); },
      "single-phase transfer state");
}

// Index cells are checked structurally on load; that every id is reachable is a reference.
TEST_F(SnapshotTest, ForgedIndexesAreRejected) {
  auto first_occupied = [](const std::vector<std::byte>& bytes, size_t offset, size_t capacity) {
    for (size_t cell = 0; cell < capacity; ++cell) {
      uint64_t value = 0;
      std::memcpy(&value, bytes.data() + offset + cell * 8, 8);
      if (value != 0) return cell;
    }
    return capacity;
  };
  const size_t transfer_cells = IdIndex::CapacityFor(kCapacities.transfers_max);
  const size_t account_cells = IdIndex::CapacityFor(kCapacities.accounts_max);
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) {
        // Drop one transfer index cell: a transfer becomes unreachable.
        const size_t cell = first_occupied(bytes, TransferIndexOffset(), transfer_cells);
        Poke<uint64_t>(bytes, TransferIndexOffset() + cell * 8, 0);
      },
      "transfer index count");
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) {
        const size_t cell = first_occupied(bytes, AccountIndexOffset(), account_cells);
        uint64_t value = 0;
        std::memcpy(&value, bytes.data() + AccountIndexOffset() + cell * 8, 8);
        Poke<uint64_t>(bytes, AccountIndexOffset() + cell * 8, value + 1000);
      },
      "account index cell out of range");
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) {
        // A second cell naming the same record (in place of another record's cell).
        const size_t first = first_occupied(bytes, TransferIndexOffset(), transfer_cells);
        uint64_t value = 0;
        std::memcpy(&value, bytes.data() + TransferIndexOffset() + first * 8, 8);
        for (size_t cell = first + 1; cell < transfer_cells; ++cell) {
          uint64_t other = 0;
          std::memcpy(&other, bytes.data() + TransferIndexOffset() + cell * 8, 8);
          if (other != 0) {
            Poke<uint64_t>(bytes, TransferIndexOffset() + cell * 8, value);
            return;
          }
        }
      },
      "transfer index cell out of range or repeated");
  ExpectReferenceBroken(
      [&](std::vector<std::byte>& bytes) {
        // Account 3 takes the id of account 1: a duplicate.
        Poke<uint64_t>(bytes, AccountOffset(2) + offsetof(Account, id), 1);
      },
      "account id duplicated or unreachable");
  ExpectReferenceBroken(
      [&](std::vector<std::byte>& bytes) {
        // Swap two transfer index cells: both records become unreachable by id.
        const size_t first = first_occupied(bytes, TransferIndexOffset(), transfer_cells);
        size_t second = first + 1;
        uint64_t a = 0;
        uint64_t b = 0;
        std::memcpy(&a, bytes.data() + TransferIndexOffset() + first * 8, 8);
        for (; second < transfer_cells; ++second) {
          std::memcpy(&b, bytes.data() + TransferIndexOffset() + second * 8, 8);
          if (b != 0) break;
        }
        Poke<uint64_t>(bytes, TransferIndexOffset() + first * 8, b);
        Poke<uint64_t>(bytes, TransferIndexOffset() + second * 8, a);
      },
      "transfer id duplicated or unreachable");
}

TEST_F(SnapshotTest, ForgedRebuiltIndexDuplicateIsRejected) {
  std::vector<std::byte> bytes = Snapshot();
  Poke<uint64_t>(bytes, TransferOffset(3) + offsetof(Transfer, id), 10);
  Reseal(bytes);
  // Other capacities force a rebuild, which finds the duplicate itself.
  const base::Status status = Load(bytes, {100, 1000});
  EXPECT_NE(status.message().find("transfer id zero or duplicated"), std::string::npos)
      << status.ToString();
}

TEST_F(SnapshotTest, ForgedExpiryHeapIsRejected) {
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) {
        // Swap the root with its first child.
        std::byte root[16];
        std::memcpy(root, bytes.data() + ExpiryHeapOffset(), 16);
        std::memmove(bytes.data() + ExpiryHeapOffset(), bytes.data() + ExpiryHeapOffset() + 16, 16);
        std::memcpy(bytes.data() + ExpiryHeapOffset() + 16, root, 16);
      },
      "expiry heap order");
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) {
        Poke<uint32_t>(bytes, ExpiryHeapOffset() + 8, 500);  // Slot out of range.
      },
      "expiry entry slot");
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) {
        Poke<uint32_t>(bytes, ExpiryHeapOffset() + 8, 6);  // Slot 6 is single-phase.
      },
      "expiry entry for a transfer that cannot expire");
  ExpectReferenceBroken(
      [&](std::vector<std::byte>& bytes) {
        Poke<uint64_t>(bytes, ExpiryHeapOffset(), 1);  // Earlier than its hold's expiry.
      },
      "expiry entry time");
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) {
        Poke<uint32_t>(bytes, 40, 3);  // Drop the last entry (hold 15, still pending).
        bytes.erase(bytes.begin() + static_cast<long>(ExpiryHeapOffset() + 3 * 16),
                    bytes.begin() + static_cast<long>(ExpiryHeapOffset() + 4 * 16));
        uint64_t body_size = 0;
        std::memcpy(&body_size, bytes.data() + 24, 8);
        Poke<uint64_t>(bytes, 24, body_size - 16);
      },
      "expiry");
}

TEST_F(SnapshotTest, ForgedTimestampsAndCurrenciesAreRejected) {
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) {
        Poke<uint64_t>(bytes, TransferOffset(6) + offsetof(Transfer, timestamp), 1);
      },
      "transfer timestamps must increase");
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) {
        Poke<uint64_t>(bytes, 16, 1);  // last_timestamp_ns before the records.
      },
      "timestamps must increase");
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) { Poke<uint16_t>(bytes, kHeaderBytes, 1); },
      "currency list");
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) {
        Poke<uint16_t>(bytes, AccountOffset(4) + offsetof(Account, currency), 5000);
      },
      "account currency");
  ExpectForgeryRejected(
      [&](std::vector<std::byte>& bytes) {
        Poke<uint16_t>(bytes, TransferOffset(0) + offsetof(Transfer, currency), kEur);
      },
      "transfers do not add up");
  ExpectReferenceBroken(
      [&](std::vector<std::byte>& bytes) {
        // The funding now names account 4, which does not exist: sums still add up.
        Poke<uint64_t>(bytes, TransferOffset(0) + offsetof(Transfer, debit_account_id), 4);
      },
      "transfer accounts missing or in another currency");
}

// Random edits with valid checksums: the load either fails cleanly or yields a ledger whose
// invariants hold. Run under ASan, this is the never-crash guarantee.
TEST_F(SnapshotTest, RandomForgeriesNeverCrash) {
  const std::vector<std::byte> original = Snapshot();
  base::Random random(7);
  int accepted = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<std::byte> bytes = original;
    const int edits = 1 + static_cast<int>(random.Uniform(3));
    for (int edit = 0; edit < edits; ++edit) {
      const size_t offset = kHeaderBytes + random.Uniform(bytes.size() - kHeaderBytes - 8);
      bytes[offset] = static_cast<std::byte>(random.Next());
    }
    Reseal(bytes);
    const bool full = round % 2 == 0;
    auto loaded = Ledger::Deserialize(
        bytes, kCapacities,
        full ? Ledger::LoadChecks::kInvariantsAndReferences : Ledger::LoadChecks::kInvariants);
    if (loaded.ok()) {
      ++accepted;
      ASSERT_TRUE((*loaded)->CheckAllInvariants().ok());
      const base::Status references = (*loaded)->CheckReferences();  // Must not crash.
      ASSERT_TRUE(!full || references.ok());
      if (!references.ok()) continue;
      // A fully checked ledger keeps working: retry every transfer (each lookup runs; most
      // return exists) and expire everything.
      std::vector<Transfer> retries((*loaded)->transfers().begin(), (*loaded)->transfers().end());
      for (Transfer& retry : retries) retry.timestamp = 0;
      std::vector<TR> results(retries.size());
      (*loaded)->CreateTransfers(retries, (*loaded)->last_timestamp_ns() + 1, results);
      (*loaded)->ExpirePending(UINT64_MAX, 100);
      ASSERT_TRUE((*loaded)->CheckAllInvariants().ok());
    } else {
      ASSERT_EQ(loaded.status().code(), base::StatusCode::kDataLoss);
    }
  }
  // Some edits are harmless (user_data, codes, unused index cells): both paths ran.
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, 3000);
}

}  // namespace
}  // namespace tangelo::ledger
