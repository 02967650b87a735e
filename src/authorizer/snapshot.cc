// CoreStateMachine::Serialize and ::Restore: the core snapshot
// (docs/authorizer/entries.md, "Snapshot"), format version 1.
//
//   u64 magic "TGCORE01" | u32 version | u32 reserved
//   u64 next_transfer_sequence
//   u64 ledger size   | ledger snapshot (docs/ledger/snapshot.md)
//   u64 issuing size  | issuing snapshot (docs/issuing/commands.md)
//   authorization table | retransmission table | advice outbox
//   u64 end magic "TGCOREND"
//
// The engine's journal frames and checksums the whole payload. Indexes and
// heaps are not written: they are rebuilt, so equal states give equal bytes.
#include <vector>

#include "authorizer/core_state_machine.h"
#include "authorizer/snapshot_io.h"

namespace tangelo::authorizer {
namespace {

constexpr uint64_t kSnapshotMagic = 0x3130'4552'4f43'4754ULL;     // "TGCORE01"
constexpr uint64_t kSnapshotEndMagic = 0x444e'4552'4f43'4754ULL;  // "TGCOREND"
constexpr uint32_t kSnapshotVersion = 1;

}  // namespace

void CoreStateMachine::Serialize(const engine::SnapshotSink& sink) const {
  SnapshotWriter writer(sink);
  writer.U64(kSnapshotMagic);
  writer.U32(kSnapshotVersion);
  writer.U32(0);
  writer.U64(next_transfer_sequence_);

  // The ledger streams itself; its size is measured by a first, counting pass.
  uint64_t ledger_size = 0;
  ledger_->SerializeTo([&ledger_size](const void*, size_t size) { ledger_size += size; });
  writer.U64(ledger_size);
  writer.Flush();
  uint64_t ledger_written = 0;
  ledger_->SerializeTo([&](const void* data, size_t size) {
    sink(data, size);
    ledger_written += size;
  });
  TG_ASSERT_MSG(ledger_written == ledger_size, "the ledger snapshot changed size between passes");

  const std::vector<uint8_t> issuing = issuing_->Serialize();
  writer.U64(issuing.size());
  writer.Bytes(issuing.data(), issuing.size());

  authorizations_.Serialize(writer);
  retransmissions_.Serialize(writer);
  advices_.Serialize(writer);
  writer.U64(kSnapshotEndMagic);
  writer.Flush();
}

base::Status CoreStateMachine::Restore(std::span<const std::byte> snapshot) {
  if (authorizations_.used_slots() != 0 || retransmissions_.size() != 0 || advices_.size() != 0 ||
      ledger_->accounts_count() != 0 || !issuing_->tenants().empty()) {
    return base::FailedPrecondition("core restore: the state machine is not empty");
  }
  SnapshotReader reader(snapshot);
  const uint64_t magic = reader.U64();
  const uint32_t version = reader.U32();
  const uint32_t reserved = reader.U32();
  const uint64_t next_transfer_sequence = reader.U64();
  if (!reader.ok() || magic != kSnapshotMagic || reserved != 0) {
    return base::DataLoss("core snapshot: bad header");
  }
  if (version != kSnapshotVersion) {
    return base::DataLoss("core snapshot: unknown version " + std::to_string(version));
  }
  if (next_transfer_sequence == 0 || next_transfer_sequence >= kHoldTransferIdBase) {
    return base::DataLoss("core snapshot: bad transfer sequence");
  }

  const uint64_t ledger_size = reader.U64();
  const std::span<const std::byte> ledger_bytes = reader.Take(ledger_size);
  if (!reader.ok()) return base::DataLoss("core snapshot: truncated ledger section");
  auto ledger = ledger::Ledger::Deserialize(ledger_bytes, capacities_.ledger);
  if (!ledger.ok()) return ledger.status();

  const uint64_t issuing_size = reader.U64();
  const std::span<const std::byte> issuing_bytes = reader.Take(issuing_size);
  if (!reader.ok()) return base::DataLoss("core snapshot: truncated issuing section");
  auto issuing = issuing::IssuingState::Deserialize(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(issuing_bytes.data()),
                               issuing_bytes.size()),
      capacities_.issuing);
  if (!issuing.ok()) return issuing.status();

  TG_RETURN_IF_ERROR(authorizations_.Restore(reader));
  TG_RETURN_IF_ERROR(retransmissions_.Restore(reader));
  TG_RETURN_IF_ERROR(advices_.Restore(reader));
  if (reader.U64() != kSnapshotEndMagic || !reader.AtEnd()) {
    return base::DataLoss("core snapshot: bad end marker or trailing bytes");
  }
  ledger_ = std::move(ledger).value();
  issuing_ = std::move(issuing).value();
  next_transfer_sequence_ = next_transfer_sequence;
  // Ids the core gives out must never collide with a transfer it gave before.
  for (const ledger::Transfer& transfer : ledger_->transfers()) {
    if (transfer.id >= kHoldTransferIdBase &&
        transfer.id - kHoldTransferIdBase >= next_transfer_sequence_) {
      return base::DataLoss("core snapshot: a hold id is ahead of the transfer sequence");
    }
  }
  TG_RETURN_IF_ERROR(CheckCrossReferences());
  ledger_account_of_slot_.clear();
  for (const issuing::Account& account : issuing_->accounts()) {
    ledger_account_of_slot_.push_back(ledger_->FindAccount(account.ledger_account_id.value()));
  }
  return base::Status::Ok();
}

}  // namespace tangelo::authorizer
