#include "engine/ledger_state_machine.h"

#include <cstring>

#include "base/assert.h"
#include "base/limits.h"

namespace tangelo::engine {
namespace {

constexpr size_t kRecordSize = 64;
static_assert(sizeof(ledger::Account) == kRecordSize);
static_assert(sizeof(ledger::Transfer) == kRecordSize);

bool WellFormedCreate(const EntryRef& entry) {
  const size_t size = entry.payload.size();
  return size > 0 && size % kRecordSize == 0 &&
         size / kRecordSize <= LedgerStateMachine::kEventsPerEntryMax;
}

// A linked chain may not run past its entry: the entry is the unit a client
// submits atomically.
template <typename Record>
bool ChainClosed(const EntryRef& entry, uint16_t linked_flag) {
  Record last;
  std::memcpy(&last, entry.payload.data() + entry.payload.size() - kRecordSize, kRecordSize);
  return (last.flags & linked_flag) == 0;
}

}  // namespace

LedgerStateMachine::LedgerStateMachine(const ledger::LedgerCapacities& capacities)
    : capacities_(capacities) {
  auto created = ledger::Ledger::Create(capacities);
  TG_ASSERT_MSG(created.ok(), created.status().ToString().c_str());
  ledger_ = std::move(created).value();
  const size_t events_max = size_t{base::kBatchEntriesMax} * kEventsPerEntryMax;
  transfers_.resize(events_max);
  accounts_.resize(events_max);
  results_.resize(events_max);
}

bool LedgerStateMachine::IsReadOnly(uint16_t kind) const {
  return kind == kLookupAccount || kind == kLookupTransfer;
}

uint64_t LedgerStateMachine::ApplyBatch(uint64_t timestamp_ns, std::span<const EntryRef> entries,
                                        std::span<Reply> replies) {
  TG_ASSERT(entries.size() == replies.size());
  // Time-driven work first, at the batch timestamp, so replay repeats it.
  ledger_->ExpirePending(timestamp_ns, kExpiriesPerBatchMax);

  uint64_t used = 0;
  size_t index = 0;
  while (index < entries.size()) {
    const EntryRef& entry = entries[index];
    if (IsReadOnly(entry.kind)) {
      Lookup(entry, replies[index]);
      ++index;
      continue;
    }
    const bool creates = entry.kind == kCreateAccounts || entry.kind == kCreateTransfers;
    if (!creates || !WellFormedCreate(entry)) {
      replies[index].code = kMalformedEntry;
      ++index;
      continue;
    }
    // The longest run of well-formed entries of this kind whose chains close
    // inside them goes to the ledger as one call (the fast path); an entry
    // whose chain stays open goes alone, and the ledger reports the open chain.
    size_t end = index + 1;
    size_t run_events = entry.payload.size() / kRecordSize;
    const bool closed = entry.kind == kCreateTransfers
                            ? ChainClosed<ledger::Transfer>(entry, ledger::TransferFlags::kLinked)
                            : ChainClosed<ledger::Account>(entry, ledger::AccountFlags::kLinked);
    if (closed) {
      // One ledger call takes at most Ledger::kBatchEventsMax events.
      while (end < entries.size() && entries[end].kind == entry.kind &&
             WellFormedCreate(entries[end]) &&
             run_events + entries[end].payload.size() / kRecordSize <=
                 ledger::Ledger::kBatchEventsMax &&
             (entry.kind == kCreateTransfers
                  ? ChainClosed<ledger::Transfer>(entries[end], ledger::TransferFlags::kLinked)
                  : ChainClosed<ledger::Account>(entries[end], ledger::AccountFlags::kLinked))) {
        run_events += entries[end].payload.size() / kRecordSize;
        ++end;
      }
    }
    used += ApplyRun(entry.kind, entries.subspan(index, end - index),
                     replies.subspan(index, end - index), timestamp_ns + used);
    index = end;
  }
  return used;
}

uint64_t LedgerStateMachine::ApplyRun(uint16_t kind, std::span<const EntryRef> entries,
                                      std::span<Reply> replies, uint64_t timestamp_ns) {
  size_t events = 0;
  std::byte* scratch = kind == kCreateTransfers ? reinterpret_cast<std::byte*>(transfers_.data())
                                                : reinterpret_cast<std::byte*>(accounts_.data());
  for (const EntryRef& entry : entries) {
    std::memcpy(scratch + events * kRecordSize, entry.payload.data(), entry.payload.size());
    events += entry.payload.size() / kRecordSize;
  }
  static_assert(sizeof(ledger::CreateTransferResult) == sizeof(uint32_t));
  static_assert(sizeof(ledger::CreateAccountResult) == sizeof(uint32_t));
  if (kind == kCreateTransfers) {
    ledger_->CreateTransfers(
        std::span<const ledger::Transfer>(transfers_.data(), events), timestamp_ns,
        std::span<ledger::CreateTransferResult>(
            reinterpret_cast<ledger::CreateTransferResult*>(results_.data()), events));
  } else {
    ledger_->CreateAccounts(
        std::span<const ledger::Account>(accounts_.data(), events), timestamp_ns,
        std::span<ledger::CreateAccountResult>(
            reinterpret_cast<ledger::CreateAccountResult*>(results_.data()), events));
  }
  size_t event = 0;
  for (size_t index = 0; index < entries.size(); ++index) {
    Reply& reply = replies[index];
    const uint32_t count = static_cast<uint32_t>(entries[index].payload.size() / kRecordSize);
    reply.detail = count;
    for (uint32_t offset = 0; offset < count; ++offset, ++event) {
      const uint32_t result = results_[event];
      if (reply.code == 0 && result != 0) reply.code = result;
      reply.values[offset / 4] |= uint64_t{result & 0xffffu} << (16 * (offset % 4));
    }
  }
  return events;
}

void LedgerStateMachine::Lookup(const EntryRef& entry, Reply& reply) const {
  uint64_t id = 0;
  if (entry.payload.size() != sizeof(id)) {
    reply.code = kMalformedEntry;
    return;
  }
  std::memcpy(&id, entry.payload.data(), sizeof(id));
  if (entry.kind == kLookupAccount) {
    const ledger::Account* account = ledger_->FindAccount(id);
    if (account == nullptr) {
      reply.code = kNotFound;
      return;
    }
    reply.values[0] = account->debits_pending;
    reply.values[1] = account->debits_posted;
    reply.values[2] = account->credits_pending;
    reply.values[3] = account->credits_posted;
    reply.values[4] = account->currency;
    reply.values[5] = account->flags;
    reply.values[6] = ledger::CreditNormalAvailable(*account);
    return;
  }
  const ledger::Transfer* transfer = ledger_->FindTransfer(id);
  if (transfer == nullptr) {
    reply.code = kNotFound;
    return;
  }
  reply.values[0] = transfer->amount;
  reply.values[1] = transfer->debit_account_id;
  reply.values[2] = transfer->credit_account_id;
  reply.values[3] = transfer->pending_id;
  reply.values[4] = transfer->flags;
  reply.values[5] = static_cast<uint64_t>(ledger_->FindPendingState(id));
  reply.values[6] = transfer->timestamp;
}

base::Status LedgerStateMachine::Restore(std::span<const std::byte> snapshot) {
  auto loaded = ledger::Ledger::Deserialize(snapshot, capacities_);
  if (!loaded.ok()) return loaded.status();
  ledger_ = std::move(loaded).value();
  return base::Status::Ok();
}

}  // namespace tangelo::engine
