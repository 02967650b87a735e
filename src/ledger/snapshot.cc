// Ledger snapshots: the whole state as a header, raw array dumps and a checksum.
// The format is specified in docs/ledger/snapshot.md; keep the two in step.
//
// Loading is built for cold-start speed: the arrays and both index tables are copied raw (no
// rebuild), and each chunk is checksummed and checked (InvariantScan) right after it is copied,
// while it is still in cache, so the big arrays cross the memory bus once. A corrupt or
// inconsistent snapshot is rejected rather than trusted.
#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include "base/checksum.h"
#include "ledger/invariant_scan.h"
#include "ledger/ledger.h"

namespace tangelo::ledger {
namespace {

static_assert(std::endian::native == std::endian::little,
              "snapshots are little-endian raw dumps; a big-endian port needs a converter");

constexpr uint64_t kSnapshotMagic = 0x52454744454C4754ULL;  // "TGLEDGER" in file order.
constexpr uint32_t kSnapshotVersion = 1;
// Copy and checksum in chunks that stay in the L2 cache between the two passes.
constexpr size_t kLoadChunkBytes = size_t{256} << 10;

struct SnapshotHeader {
  uint64_t magic = kSnapshotMagic;
  uint32_t version = kSnapshotVersion;
  uint32_t header_size = 0;
  uint64_t last_timestamp_ns = 0;
  uint64_t body_size = 0;
  uint32_t accounts_count = 0;
  uint32_t transfers_count = 0;
  uint32_t expiry_count = 0;
  uint32_t currencies_count = 0;
  uint32_t account_index_capacity = 0;
  uint32_t transfer_index_capacity = 0;
  uint64_t reserved[8] = {};
  uint64_t header_checksum = 0;  // XXH3-64 of the bytes before this field.
};
static_assert(sizeof(SnapshotHeader) == 128);
static_assert(std::has_unique_object_representations_v<SnapshotHeader>);
constexpr size_t kHeaderChecksummedBytes = offsetof(SnapshotHeader, header_checksum);

constexpr uint64_t PaddedTo8(uint64_t bytes) { return (bytes + 7) & ~uint64_t{7}; }

// The body's sections, in file order, from the header's counts.
struct Layout {
  uint64_t currencies_bytes;
  uint64_t accounts_bytes;
  uint64_t account_index_bytes;
  uint64_t transfers_bytes;
  uint64_t pending_states_bytes;
  uint64_t resolved_slots_bytes;
  uint64_t transfer_index_bytes;
  uint64_t expiry_heap_bytes;

  explicit Layout(const SnapshotHeader& header)
      : currencies_bytes(PaddedTo8(uint64_t{header.currencies_count} * sizeof(uint16_t))),
        accounts_bytes(uint64_t{header.accounts_count} * sizeof(Account)),
        account_index_bytes(uint64_t{header.account_index_capacity} * sizeof(uint64_t)),
        transfers_bytes(uint64_t{header.transfers_count} * sizeof(Transfer)),
        pending_states_bytes(PaddedTo8(uint64_t{header.transfers_count})),
        resolved_slots_bytes(PaddedTo8(uint64_t{header.transfers_count} * sizeof(uint32_t))),
        transfer_index_bytes(uint64_t{header.transfer_index_capacity} * sizeof(uint64_t)),
        expiry_heap_bytes(uint64_t{header.expiry_count} * 16) {}

  uint64_t body_bytes() const {
    return currencies_bytes + accounts_bytes + account_index_bytes + transfers_bytes +
           pending_states_bytes + resolved_slots_bytes + transfer_index_bytes + expiry_heap_bytes;
  }
};

// Reads the body section by section, copying and checksumming as it goes.
class BodyReader {
 public:
  explicit BodyReader(std::span<const std::byte> body) : body_(body) {}

  // Copies `bytes` into `destination` (null: checksum only) and advances. After each chunk is
  // copied, `on_chunk(first_byte, chunk_bytes)` (offsets within this section) runs while the
  // chunk is still in cache. Chunks hold whole records of every record size (64, 16, 8, 4 and
  // 1 bytes divide kLoadChunkBytes).
  template <typename OnChunk>
  void Read(void* destination, uint64_t bytes, const OnChunk& on_chunk) {
    TG_ASSERT(bytes <= body_.size() - offset_);
    auto* out = static_cast<std::byte*>(destination);
    for (uint64_t done = 0; done < bytes;) {
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(kLoadChunkBytes, bytes - done));
      const std::byte* in = body_.data() + offset_ + done;
      if (out != nullptr) {
        std::memcpy(out + done, in, chunk);
        checksum_.Update(out + done, chunk);
        on_chunk(done, chunk);
      } else {
        checksum_.Update(in, chunk);
      }
      done += chunk;
    }
    offset_ += bytes;
  }
  void Read(void* destination, uint64_t bytes) {
    Read(destination, bytes, [](uint64_t, size_t) {});
  }

  uint64_t Digest() const { return checksum_.Digest(); }

 private:
  std::span<const std::byte> body_;
  uint64_t offset_ = 0;
  base::StreamingChecksum checksum_;
};

// The first failure of a sequence of checks; later checks are skipped once one failed.
class FirstFailure {
 public:
  bool ok() const { return status_.ok(); }
  void Note(base::Status status) {
    if (status_.ok() && !status.ok()) status_ = std::move(status);
  }
  const base::Status& status() const { return status_; }

 private:
  base::Status status_;
};

base::Status Malformed(const std::string& what) {
  return base::DataLoss("ledger snapshot: " + what);
}

}  // namespace

void Ledger::SerializeTo(const SnapshotSink& sink) const {
  static_assert(sizeof(ExpiryEntry) == 16 && std::is_trivially_copyable_v<ExpiryEntry>);
  static_assert(sizeof(PendingState) == 1);
  SnapshotHeader header;
  header.header_size = sizeof(SnapshotHeader);
  header.last_timestamp_ns = last_timestamp_ns_;
  header.accounts_count = accounts_count_;
  header.transfers_count = transfers_count_;
  header.expiry_count = expiry_count_;
  header.currencies_count = currencies_count_;
  header.account_index_capacity = account_index_.capacity();
  header.transfer_index_capacity = transfer_index_.capacity();
  const Layout layout(header);
  header.body_size = layout.body_bytes();
  header.header_checksum = base::Checksum(&header, kHeaderChecksummedBytes);
  sink(&header, sizeof(header));

  base::StreamingChecksum checksum;
  static constexpr uint8_t kZeros[8] = {};
  auto emit = [&](const void* data, uint64_t bytes, uint64_t padded_bytes) {
    TG_ASSERT(padded_bytes >= bytes && padded_bytes - bytes < 8);
    if (bytes > 0) {
      checksum.Update(data, bytes);
      sink(data, bytes);
    }
    if (padded_bytes > bytes) {
      checksum.Update(kZeros, padded_bytes - bytes);
      sink(kZeros, padded_bytes - bytes);
    }
  };
  // Transfers come last so that, when loading, everything their checks read has arrived.
  emit(currencies_.data(), uint64_t{currencies_count_} * sizeof(uint16_t), layout.currencies_bytes);
  emit(accounts_.data(), layout.accounts_bytes, layout.accounts_bytes);
  emit(account_index_.cells(), layout.account_index_bytes, layout.account_index_bytes);
  emit(pending_states_.data(), transfers_count_, layout.pending_states_bytes);
  emit(resolved_slots_.data(), uint64_t{transfers_count_} * sizeof(uint32_t),
       layout.resolved_slots_bytes);
  emit(transfer_index_.cells(), layout.transfer_index_bytes, layout.transfer_index_bytes);
  emit(expiry_heap_.data(), layout.expiry_heap_bytes, layout.expiry_heap_bytes);
  emit(transfers_.data(), layout.transfers_bytes, layout.transfers_bytes);
  const uint64_t digest = checksum.Digest();
  sink(&digest, sizeof(digest));
}

base::Result<std::unique_ptr<Ledger>> Ledger::Deserialize(std::span<const std::byte> snapshot,
                                                          const LedgerCapacities& capacities,
                                                          LoadChecks checks) {
  base::Result<std::unique_ptr<Ledger>> created = Create(capacities);
  if (!created.ok()) return created.status();
  std::unique_ptr<Ledger> ledger = std::move(created).value();
  TG_RETURN_IF_ERROR(ledger->LoadSnapshot(snapshot, checks));
  return ledger;
}

base::Status Ledger::LoadSnapshot(std::span<const std::byte> snapshot, LoadChecks checks) {
  TG_ASSERT(accounts_count_ == 0 && transfers_count_ == 0);
  SnapshotHeader header;
  if (snapshot.size() < sizeof(header) + sizeof(uint64_t)) return Malformed("truncated header");
  std::memcpy(&header, snapshot.data(), sizeof(header));
  if (header.magic != kSnapshotMagic) return Malformed("not a ledger snapshot (bad magic)");
  if (header.version != kSnapshotVersion) {
    return Malformed("unsupported version " + std::to_string(header.version));
  }
  if (header.header_checksum != base::Checksum(&header, kHeaderChecksummedBytes)) {
    return Malformed("header checksum mismatch");
  }
  if (header.header_size != sizeof(header) ||
      std::any_of(std::begin(header.reserved), std::end(header.reserved),
                  [](uint64_t word) { return word != 0; })) {
    return Malformed("bad header fields");
  }
  if (header.currencies_count > kCurrencyCodesMax || header.accounts_count > kAccountsMax ||
      header.transfers_count > kTransfersMax || header.expiry_count > header.transfers_count ||
      header.account_index_capacity <= header.accounts_count ||
      header.transfer_index_capacity <= header.transfers_count) {
    return Malformed("counts out of range");
  }
  const Layout layout(header);
  if (header.body_size != layout.body_bytes() ||
      snapshot.size() != sizeof(header) + header.body_size + sizeof(uint64_t)) {
    return Malformed("size does not match the header (truncated or trailing bytes)");
  }
  if (header.accounts_count > capacities_.accounts_max ||
      header.transfers_count > capacities_.transfers_max) {
    return base::InvalidArgument("ledger snapshot: holds " + std::to_string(header.accounts_count) +
                                 " accounts and " + std::to_string(header.transfers_count) +
                                 " transfers, more than the capacities");
  }

  last_timestamp_ns_ = header.last_timestamp_ns;
  accounts_count_ = header.accounts_count;
  transfers_count_ = header.transfers_count;
  expiry_count_ = header.expiry_count;
  currencies_count_ = header.currencies_count;

  // Copy, checksum and check each chunk in one go. A failed check stops the checking but not
  // the checksumming: corruption is reported as such rather than as the invariant it broke.
  // Index tables sized for other capacities cannot be reused: both are rebuilt afterwards.
  const bool raw_indexes = header.account_index_capacity == account_index_.capacity() &&
                           header.transfer_index_capacity == transfer_index_.capacity();
  InvariantScan scan(*this);
  FirstFailure failure;
  BodyReader reader(snapshot.subspan(sizeof(header), header.body_size));
  const uint64_t currencies_bytes = uint64_t{currencies_count_} * sizeof(uint16_t);
  reader.Read(currencies_.data(), currencies_bytes);
  reader.Read(nullptr, layout.currencies_bytes - currencies_bytes);
  failure.Note(scan.Start());
  // Adapts a range check on records to the reader's chunks; checking stops at the first failure.
  auto by_records = [&failure](size_t record_bytes, auto check) {
    return [&failure, record_bytes, check](uint64_t first_byte, size_t bytes) {
      if (!failure.ok()) return;
      const auto first = static_cast<uint32_t>(first_byte / record_bytes);
      failure.Note(check(first, static_cast<uint32_t>(first + bytes / record_bytes)));
    };
  };
  reader.Read(accounts_.data(), layout.accounts_bytes,
              by_records(sizeof(Account), [&](uint32_t first, uint32_t end) {
                TG_RETURN_IF_ERROR(scan.Accounts(first, end));
                // The running totals are not stored: they are the sums of the (now checked)
                // account counters.
                for (uint32_t slot = first; slot < end; ++slot) {
                  totals_[accounts_[slot].currency].Add(accounts_[slot]);
                }
                return base::Status::Ok();
              }));
  reader.Read(raw_indexes ? account_index_.mutable_cells() : nullptr, layout.account_index_bytes,
              by_records(sizeof(uint64_t), [&](uint32_t first, uint32_t end) {
                return scan.AccountIndexCells(first, end);
              }));
  reader.Read(pending_states_.data(), transfers_count_);
  reader.Read(nullptr, layout.pending_states_bytes - transfers_count_);
  const uint64_t resolved_slots_bytes = uint64_t{transfers_count_} * sizeof(uint32_t);
  reader.Read(resolved_slots_.data(), resolved_slots_bytes);
  reader.Read(nullptr, layout.resolved_slots_bytes - resolved_slots_bytes);
  reader.Read(raw_indexes ? transfer_index_.mutable_cells() : nullptr, layout.transfer_index_bytes,
              by_records(sizeof(uint64_t), [&](uint32_t first, uint32_t end) {
                return scan.TransferIndexCells(first, end);
              }));
  reader.Read(expiry_heap_.data(), layout.expiry_heap_bytes,
              by_records(sizeof(ExpiryEntry), [&](uint32_t first, uint32_t end) {
                return scan.ExpiryEntries(first, end);
              }));
  reader.Read(transfers_.data(), layout.transfers_bytes,
              by_records(sizeof(Transfer),
                         [&](uint32_t first, uint32_t end) { return scan.Transfers(first, end); }));
  uint64_t stored_digest = 0;
  std::memcpy(&stored_digest, snapshot.data() + sizeof(header) + header.body_size,
              sizeof(stored_digest));
  if (reader.Digest() != stored_digest) return Malformed("body checksum mismatch");
  if (!failure.ok()) return Malformed(failure.status().message());

  if (!raw_indexes) {
    TG_RETURN_IF_ERROR(RebuildIndexes());
    failure.Note(scan.AccountIndexCells(0, account_index_.capacity()));
    failure.Note(scan.TransferIndexCells(0, transfer_index_.capacity()));
  }
  failure.Note(scan.Finish());
  if (!failure.ok()) return Malformed(failure.status().message());
  if (checks == LoadChecks::kInvariantsAndReferences) {
    const base::Status references = CheckReferences();
    if (!references.ok()) return Malformed(references.message());
  }
  return base::Status::Ok();
}

// Fills the (empty) index tables from the records, for a snapshot written with other
// capacities. Slower than loading them raw: one random access per record.
base::Status Ledger::RebuildIndexes() {
  for (uint32_t slot = 0; slot < accounts_count_; ++slot) {
    const IdIndex::Probe probe = ProbeAccount(accounts_[slot].id);
    if (accounts_[slot].id == 0 || probe.slot != IdIndex::kNoSlot) {
      return Malformed("account id zero or duplicated");
    }
    account_index_.Insert(probe, slot);
  }
  for (uint32_t slot = 0; slot < transfers_count_; ++slot) {
    if (slot + 16 < transfers_count_) transfer_index_.Prefetch(transfers_[slot + 16].id);
    const IdIndex::Probe probe = ProbeTransfer(transfers_[slot].id);
    if (transfers_[slot].id == 0 || probe.slot != IdIndex::kNoSlot) {
      return Malformed("transfer id zero or duplicated");
    }
    transfer_index_.Insert(probe, slot);
  }
  return base::Status::Ok();
}

}  // namespace tangelo::ledger
