// IssuingState::Serialize and IssuingState::Deserialize: the snapshot format
// of docs/issuing/commands.md ("Snapshot"), version 1.

#include <string>

#include "base/checksum.h"
#include "issuing/codec.h"
#include "issuing/state.h"
#include "issuing/wire.h"

namespace tangelo::issuing {
namespace {

using wire::ByteReader;
using wire::ByteWriter;

constexpr uint32_t kSnapshotMagic = 0x53494754;  // Bytes "TGIS".
constexpr uint16_t kSnapshotFormatVersion = 1;
constexpr size_t kSnapshotHeaderSize = 28;
constexpr size_t kSnapshotTrailerSize = 8;

void WriteOptionalControls(ByteWriter& writer, const Controls* controls) {
  codec::WriteBool(writer, controls != nullptr);
  if (controls != nullptr) TG_ASSERT(codec::WriteControls(writer, *controls));
}

base::Status RecordError(std::string_view kind, size_t index, CommandResult result) {
  return base::DataLoss("issuing snapshot: " + std::string(kind) + " record " +
                        std::to_string(index) + " is invalid (" +
                        std::string(CommandResultName(result)) + ")");
}

base::Status Truncated(std::string_view kind, size_t index) {
  return base::DataLoss("issuing snapshot: " + std::string(kind) + " record " +
                        std::to_string(index) + " is truncated or has a count over its maximum");
}

}  // namespace

std::vector<uint8_t> IssuingState::Serialize() const {
  const auto write = [this](ByteWriter& writer) {
    writer.U32(kSnapshotMagic);
    writer.U16(kSnapshotFormatVersion);
    writer.U16(0);  // Reserved.
    writer.U32(static_cast<uint32_t>(tenants_.size()));
    writer.U32(static_cast<uint32_t>(programs_.size()));
    writer.U32(static_cast<uint32_t>(users_.size()));
    writer.U32(static_cast<uint32_t>(accounts_.size()));
    writer.U32(static_cast<uint32_t>(cards_.size()));
    for (const Tenant& tenant : tenants_) {
      writer.U64(tenant.id.value());
      writer.U64(tenant.created_at_ns);
      TG_ASSERT(codec::WriteName(writer, tenant.name));
    }
    for (const Program& program : programs_) {
      writer.U64(program.id.value());
      writer.U64(program.tenant_id.value());
      writer.U64(program.created_at_ns);
      TG_ASSERT(codec::WriteName(writer, program.name));
      writer.U16(program.currency_numeric);
      TG_ASSERT(codec::WriteRealtimeDecision(writer, program.realtime_decision));
      TG_ASSERT(codec::WriteHoldExpiry(writer, program.hold_expiry));
      WriteOptionalControls(writer, ProgramControls(program));
      WriteOptionalControls(writer, ProgramCardDefaultControls(program));
      TG_ASSERT(codec::WriteSpendCounters(writer, program.counters));
    }
    for (const User& user : users_) {
      writer.U64(user.id.value());
      writer.U64(user.tenant_id.value());
      writer.U8(static_cast<uint8_t>(user.status));
      writer.U64(user.created_at_ns);
      writer.U64(user.status_changed_at_ns);
    }
    for (const Account& account : accounts_) {
      writer.U64(account.id.value());
      writer.U64(account.tenant_id.value());
      writer.U64(account.program_id.value());
      writer.U64(account.owner_user_id.value());
      writer.U64(account.ledger_account_id.value());
      writer.U16(account.currency_numeric);
      writer.U64(account.created_at_ns);
      WriteOptionalControls(writer, AccountControls(account));
      TG_ASSERT(codec::WriteSpendCounters(writer, account.counters));
    }
    for (size_t slot = 0; slot < cards_.size(); ++slot) {
      const Card& card = cards_[slot];
      writer.U64(card.id.value());
      writer.U64(card.tenant_id.value());
      writer.U64(card.user_id.value());
      writer.U64(card.account_id.value());
      writer.U8(static_cast<uint8_t>(card.status));
      writer.U8(card.expiry_month);
      writer.U16(card.expiry_year);
      writer.U64(card.created_at_ns);
      writer.U64(card.status_changed_at_ns);
      ProtectedPan pan;
      pan.token = card.pan_token;
      pan.last_four = card.last_four;
      pan.encrypted = card_pans_[slot];
      TG_ASSERT(codec::WriteProtectedPan(writer, pan));
      WriteOptionalControls(writer, CardControls(card));
      TG_ASSERT(codec::WriteSpendCounters(writer, card.counters));
    }
  };

  ByteWriter measure({});
  write(measure);
  std::vector<uint8_t> bytes(measure.position() + kSnapshotTrailerSize);
  ByteWriter writer(bytes);
  write(writer);
  TG_ASSERT(!writer.overflowed() && writer.position() == measure.position());
  const uint64_t checksum = base::Checksum(bytes.data(), writer.position());
  std::memcpy(bytes.data() + writer.position(), &checksum, sizeof(checksum));
  return bytes;
}

base::Result<std::unique_ptr<IssuingState>> IssuingState::Deserialize(
    std::span<const uint8_t> bytes, const IssuingCapacity& capacity) {
  if (!capacity.valid()) return base::InvalidArgument("issuing capacity maxima out of range");
  if (bytes.size() < kSnapshotHeaderSize + kSnapshotTrailerSize) {
    return base::DataLoss("issuing snapshot: shorter than its header and checksum");
  }
  const size_t body_size = bytes.size() - kSnapshotTrailerSize;
  uint64_t stored_checksum = 0;
  std::memcpy(&stored_checksum, bytes.data() + body_size, sizeof(stored_checksum));
  if (base::Checksum(bytes.data(), body_size) != stored_checksum) {
    return base::DataLoss("issuing snapshot: checksum mismatch");
  }

  ByteReader reader(bytes.first(body_size));
  if (reader.U32() != kSnapshotMagic) return base::DataLoss("issuing snapshot: bad magic");
  const uint16_t version = reader.U16();
  if (version != kSnapshotFormatVersion) {
    return base::DataLoss("issuing snapshot: unknown format version " + std::to_string(version));
  }
  if (reader.U16() != 0) return base::DataLoss("issuing snapshot: reserved field not zero");
  const uint32_t tenant_count = reader.U32();
  const uint32_t program_count = reader.U32();
  const uint32_t user_count = reader.U32();
  const uint32_t account_count = reader.U32();
  const uint32_t card_count = reader.U32();
  if (tenant_count > capacity.tenants_max || program_count > capacity.programs_max ||
      user_count > capacity.users_max || account_count > capacity.accounts_max ||
      card_count > capacity.cards_max) {
    return base::ResourceExhausted("issuing snapshot holds more records than the capacity");
  }

  auto state = std::make_unique<IssuingState>(capacity);
  // Reads an optional controls set and stores it in *slot. Present controls
  // must be restrictive: Serialize writes unrestricted ones as absent.
  const auto restore_controls = [&reader, &state](uint32_t* slot) {
    if (!codec::ReadBool(reader)) return CommandResult::kOk;
    Controls controls;
    codec::ReadControls(reader, &controls);
    if (!reader.ok()) return CommandResult::kOk;  // Reported as truncation.
    if (controls.IsUnrestricted()) return CommandResult::kInvalidControls;
    return state->StoreControls(controls, slot);
  };

  for (uint32_t index = 0; index < tenant_count; ++index) {
    Tenant tenant;
    tenant.id = TenantId(reader.U64());
    tenant.created_at_ns = reader.U64();
    codec::ReadName(reader, &tenant.name);
    if (!reader.ok()) return Truncated("tenant", index);
    const CommandResult result = state->InsertTenant(tenant);
    if (result != CommandResult::kOk) return RecordError("tenant", index, result);
  }
  for (uint32_t index = 0; index < program_count; ++index) {
    Program program;
    program.id = ProgramId(reader.U64());
    program.tenant_id = TenantId(reader.U64());
    program.created_at_ns = reader.U64();
    codec::ReadName(reader, &program.name);
    program.currency_numeric = reader.U16();
    codec::ReadRealtimeDecision(reader, &program.realtime_decision);
    codec::ReadHoldExpiry(reader, &program.hold_expiry);
    if (!reader.ok()) return Truncated("program", index);
    CommandResult result = state->InsertProgram(program);
    if (result != CommandResult::kOk) return RecordError("program", index, result);
    Program& stored = state->programs_.back();
    result = restore_controls(&stored.controls_slot);
    if (result == CommandResult::kOk) result = restore_controls(&stored.card_default_controls_slot);
    codec::ReadSpendCounters(reader, &stored.counters);
    if (!reader.ok()) return Truncated("program", index);
    if (result != CommandResult::kOk) return RecordError("program", index, result);
  }
  for (uint32_t index = 0; index < user_count; ++index) {
    User user;
    user.id = UserId(reader.U64());
    user.tenant_id = TenantId(reader.U64());
    user.status = static_cast<UserStatus>(reader.U8());
    user.created_at_ns = reader.U64();
    user.status_changed_at_ns = reader.U64();
    if (!reader.ok()) return Truncated("user", index);
    const CommandResult result = state->InsertUser(user);
    if (result != CommandResult::kOk) return RecordError("user", index, result);
  }
  for (uint32_t index = 0; index < account_count; ++index) {
    Account account;
    account.id = AccountId(reader.U64());
    account.tenant_id = TenantId(reader.U64());
    account.program_id = ProgramId(reader.U64());
    account.owner_user_id = UserId(reader.U64());
    account.ledger_account_id = LedgerAccountId(reader.U64());
    account.currency_numeric = reader.U16();
    account.created_at_ns = reader.U64();
    if (!reader.ok()) return Truncated("account", index);
    CommandResult result = state->InsertAccount(account, Mode::kRestore);
    if (result != CommandResult::kOk) return RecordError("account", index, result);
    Account& stored = state->accounts_.back();
    result = restore_controls(&state->account_controls_slots_.back());
    codec::ReadSpendCounters(reader, &stored.counters);
    if (!reader.ok()) return Truncated("account", index);
    if (result != CommandResult::kOk) return RecordError("account", index, result);
  }
  for (uint32_t index = 0; index < card_count; ++index) {
    Card card;
    card.id = CardId(reader.U64());
    card.tenant_id = TenantId(reader.U64());
    card.user_id = UserId(reader.U64());
    card.account_id = AccountId(reader.U64());
    card.status = static_cast<CardStatus>(reader.U8());
    card.expiry_month = reader.U8();
    card.expiry_year = reader.U16();
    card.created_at_ns = reader.U64();
    card.status_changed_at_ns = reader.U64();
    ProtectedPan pan;
    codec::ReadProtectedPan(reader, &pan);
    if (!reader.ok()) return Truncated("card", index);
    card.pan_token = pan.token;
    card.last_four = pan.last_four;
    CommandResult result = state->InsertCard(card, pan.encrypted, Mode::kRestore, 0);
    if (result != CommandResult::kOk) return RecordError("card", index, result);
    Card& stored = state->cards_.back();
    result = restore_controls(&stored.controls_slot);
    codec::ReadSpendCounters(reader, &stored.counters);
    if (!reader.ok()) return Truncated("card", index);
    if (result != CommandResult::kOk) return RecordError("card", index, result);
  }
  if (!reader.AtEnd()) return base::DataLoss("issuing snapshot: trailing bytes after the records");
  return state;
}

}  // namespace tangelo::issuing
