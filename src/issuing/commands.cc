#include "issuing/commands.h"

#include <array>
#include <type_traits>

#include "issuing/codec.h"
#include "issuing/wire.h"

namespace tangelo::issuing {
namespace {

using wire::ByteReader;
using wire::ByteWriter;

// The variant's alternatives are in CommandType order, so type = index + 1.
static_assert(std::variant_size_v<Command> == 12);
static_assert(std::is_same_v<std::variant_alternative_t<0, Command>, CreateTenant>);
static_assert(std::is_same_v<std::variant_alternative_t<11, Command>, ReleaseSpend>);

template <typename Id>
void WriteId(ByteWriter& writer, Id id) {
  writer.U64(id.value());
}
template <typename Id>
Id ReadId(ByteReader& reader) {
  return Id(reader.U64());
}

bool WriteBody(ByteWriter& writer, const CreateTenant& command) {
  WriteId(writer, command.tenant_id);
  return codec::WriteName(writer, command.name);
}
bool WriteBody(ByteWriter& writer, const CreateProgram& command) {
  WriteId(writer, command.tenant_id);
  WriteId(writer, command.program_id);
  if (!codec::WriteName(writer, command.name)) return false;
  writer.U16(command.currency_numeric);
  return true;
}
bool WriteBody(ByteWriter& writer, const SetRealtimeDecision& command) {
  WriteId(writer, command.tenant_id);
  WriteId(writer, command.program_id);
  return codec::WriteRealtimeDecision(writer, command.settings);
}
bool WriteBody(ByteWriter& writer, const SetHoldExpiry& command) {
  WriteId(writer, command.tenant_id);
  WriteId(writer, command.program_id);
  return codec::WriteHoldExpiry(writer, command.table);
}
bool WriteBody(ByteWriter& writer, const CreateUser& command) {
  WriteId(writer, command.tenant_id);
  WriteId(writer, command.user_id);
  return true;
}
bool WriteBody(ByteWriter& writer, const SetUserStatus& command) {
  WriteId(writer, command.tenant_id);
  WriteId(writer, command.user_id);
  writer.U8(static_cast<uint8_t>(command.status));
  return true;
}
bool WriteBody(ByteWriter& writer, const CreateAccount& command) {
  WriteId(writer, command.tenant_id);
  WriteId(writer, command.account_id);
  WriteId(writer, command.program_id);
  WriteId(writer, command.owner_user_id);
  WriteId(writer, command.ledger_account_id);
  writer.U16(command.currency_numeric);
  return true;
}
bool WriteBody(ByteWriter& writer, const CreateCard& command) {
  WriteId(writer, command.tenant_id);
  WriteId(writer, command.card_id);
  WriteId(writer, command.user_id);
  WriteId(writer, command.account_id);
  writer.U16(command.expiry_year);
  writer.U8(command.expiry_month);
  writer.U8(static_cast<uint8_t>(command.initial_status));
  return codec::WriteProtectedPan(writer, command.pan);
}
bool WriteBody(ByteWriter& writer, const ChangeCardStatus& command) {
  WriteId(writer, command.tenant_id);
  WriteId(writer, command.card_id);
  writer.U8(static_cast<uint8_t>(command.status));
  return true;
}
bool WriteBody(ByteWriter& writer, const SetControls& command) {
  WriteId(writer, command.tenant_id);
  writer.U8(static_cast<uint8_t>(command.level));
  writer.U64(command.target_id);
  return codec::WriteControls(writer, command.controls);
}
bool WriteBody(ByteWriter& writer, const RecordSpend& command) {
  WriteId(writer, command.tenant_id);
  WriteId(writer, command.card_id);
  writer.U64(command.amount_minor);
  writer.U64(command.authorization_timestamp_ns);
  codec::WriteBool(writer, command.counts_toward_velocity);
  return true;
}
bool WriteBody(ByteWriter& writer, const ReleaseSpend& command) {
  WriteId(writer, command.tenant_id);
  WriteId(writer, command.card_id);
  writer.U64(command.amount_minor);
  writer.U64(command.authorization_timestamp_ns);
  codec::WriteBool(writer, command.release_velocity);
  return true;
}

template <typename T>
T ReadBody(ByteReader& reader);

template <>
CreateTenant ReadBody(ByteReader& reader) {
  CreateTenant command;
  command.tenant_id = ReadId<TenantId>(reader);
  codec::ReadName(reader, &command.name);
  return command;
}
template <>
CreateProgram ReadBody(ByteReader& reader) {
  CreateProgram command;
  command.tenant_id = ReadId<TenantId>(reader);
  command.program_id = ReadId<ProgramId>(reader);
  codec::ReadName(reader, &command.name);
  command.currency_numeric = reader.U16();
  return command;
}
template <>
SetRealtimeDecision ReadBody(ByteReader& reader) {
  SetRealtimeDecision command;
  command.tenant_id = ReadId<TenantId>(reader);
  command.program_id = ReadId<ProgramId>(reader);
  codec::ReadRealtimeDecision(reader, &command.settings);
  return command;
}
template <>
SetHoldExpiry ReadBody(ByteReader& reader) {
  SetHoldExpiry command;
  command.tenant_id = ReadId<TenantId>(reader);
  command.program_id = ReadId<ProgramId>(reader);
  codec::ReadHoldExpiry(reader, &command.table);
  return command;
}
template <>
CreateUser ReadBody(ByteReader& reader) {
  CreateUser command;
  command.tenant_id = ReadId<TenantId>(reader);
  command.user_id = ReadId<UserId>(reader);
  return command;
}
template <>
SetUserStatus ReadBody(ByteReader& reader) {
  SetUserStatus command;
  command.tenant_id = ReadId<TenantId>(reader);
  command.user_id = ReadId<UserId>(reader);
  command.status = static_cast<UserStatus>(reader.U8());
  return command;
}
template <>
CreateAccount ReadBody(ByteReader& reader) {
  CreateAccount command;
  command.tenant_id = ReadId<TenantId>(reader);
  command.account_id = ReadId<AccountId>(reader);
  command.program_id = ReadId<ProgramId>(reader);
  command.owner_user_id = ReadId<UserId>(reader);
  command.ledger_account_id = ReadId<LedgerAccountId>(reader);
  command.currency_numeric = reader.U16();
  return command;
}
template <>
CreateCard ReadBody(ByteReader& reader) {
  CreateCard command;
  command.tenant_id = ReadId<TenantId>(reader);
  command.card_id = ReadId<CardId>(reader);
  command.user_id = ReadId<UserId>(reader);
  command.account_id = ReadId<AccountId>(reader);
  command.expiry_year = reader.U16();
  command.expiry_month = reader.U8();
  command.initial_status = static_cast<CardStatus>(reader.U8());
  codec::ReadProtectedPan(reader, &command.pan);
  return command;
}
template <>
ChangeCardStatus ReadBody(ByteReader& reader) {
  ChangeCardStatus command;
  command.tenant_id = ReadId<TenantId>(reader);
  command.card_id = ReadId<CardId>(reader);
  command.status = static_cast<CardStatus>(reader.U8());
  return command;
}
template <>
SetControls ReadBody(ByteReader& reader) {
  SetControls command;
  command.tenant_id = ReadId<TenantId>(reader);
  command.level = static_cast<ControlLevel>(reader.U8());
  command.target_id = reader.U64();
  codec::ReadControls(reader, &command.controls);
  return command;
}
template <>
RecordSpend ReadBody(ByteReader& reader) {
  RecordSpend command;
  command.tenant_id = ReadId<TenantId>(reader);
  command.card_id = ReadId<CardId>(reader);
  command.amount_minor = reader.U64();
  command.authorization_timestamp_ns = reader.U64();
  command.counts_toward_velocity = codec::ReadBool(reader);
  return command;
}
template <>
ReleaseSpend ReadBody(ByteReader& reader) {
  ReleaseSpend command;
  command.tenant_id = ReadId<TenantId>(reader);
  command.card_id = ReadId<CardId>(reader);
  command.amount_minor = reader.U64();
  command.authorization_timestamp_ns = reader.U64();
  command.release_velocity = codec::ReadBool(reader);
  return command;
}

template <size_t Index = 0>
Command ReadVariant(size_t index, ByteReader& reader) {
  if constexpr (Index < std::variant_size_v<Command>) {
    if (index == Index) return ReadBody<std::variant_alternative_t<Index, Command>>(reader);
    return ReadVariant<Index + 1>(index, reader);
  } else {
    reader.Fail();
    return Command{};
  }
}

constexpr std::array<std::string_view, 12> kCommandTypeNames = {
    "CREATE_TENANT",      "CREATE_PROGRAM",  "SET_REALTIME_DECISION", "SET_HOLD_EXPIRY",
    "CREATE_USER",        "SET_USER_STATUS", "CREATE_ACCOUNT",        "CREATE_CARD",
    "CHANGE_CARD_STATUS", "SET_CONTROLS",    "RECORD_SPEND",          "RELEASE_SPEND",
};

constexpr std::array<std::string_view, 33> kCommandResultNames = {
    "OK",
    "INVALID_ID",
    "INVALID_TIMESTAMP",
    "TENANT_NOT_FOUND",
    "PROGRAM_NOT_FOUND",
    "USER_NOT_FOUND",
    "ACCOUNT_NOT_FOUND",
    "CARD_NOT_FOUND",
    "TENANT_EXISTS",
    "PROGRAM_EXISTS",
    "USER_EXISTS",
    "ACCOUNT_EXISTS",
    "CARD_EXISTS",
    "CAPACITY_EXHAUSTED",
    "INVALID_NAME",
    "INVALID_CURRENCY",
    "CURRENCY_MISMATCH",
    "INVALID_CLIENT_URL",
    "INVALID_DECISION_DEADLINE",
    "INVALID_STAND_IN",
    "INVALID_HOLD_EXPIRY",
    "INVALID_CONTROLS",
    "INVALID_CONTROL_LEVEL",
    "INVALID_STATUS",
    "STATUS_UNCHANGED",
    "TRANSITION_NOT_ALLOWED",
    "CARD_CLOSED",
    "USER_DISABLED",
    "INVALID_EXPIRY_DATE",
    "INVALID_PAN",
    "PAN_ALREADY_ISSUED",
    "LEDGER_ACCOUNT_IN_USE",
    "SPEND_NOT_EXACT",
};

}  // namespace

CommandType TypeOf(const Command& command) { return static_cast<CommandType>(command.index() + 1); }

std::string_view CommandTypeName(CommandType type) {
  const size_t index = static_cast<size_t>(type);
  if (index == 0 || index > kCommandTypeNames.size()) return "UNKNOWN";
  return kCommandTypeNames[index - 1];
}

std::string_view CommandResultName(CommandResult result) {
  const size_t index = static_cast<size_t>(result);
  return index < kCommandResultNames.size() ? kCommandResultNames[index] : "UNKNOWN";
}

base::Result<size_t> EncodeCommand(const Command& command, std::span<uint8_t> out) {
  ByteWriter writer(out);
  writer.U16(static_cast<uint16_t>(TypeOf(command)));
  writer.U16(kCommandFormatVersion);
  writer.U32(0);  // body_size, patched below.
  const bool encodable =
      std::visit([&writer](const auto& typed) { return WriteBody(writer, typed); }, command);
  if (!encodable) return base::InvalidArgument("command has a count or length over its maximum");
  if (writer.overflowed()) return base::InvalidArgument("command buffer too small");
  const uint32_t body_size = static_cast<uint32_t>(writer.position() - kCommandHeaderSize);
  std::memcpy(out.data() + 4, &body_size, sizeof(body_size));
  return writer.position();
}

std::vector<uint8_t> EncodeCommandToVector(const Command& command) {
  std::vector<uint8_t> bytes(kCommandSizeMax);
  base::Result<size_t> size = EncodeCommand(command, bytes);
  TG_ASSERT_MSG(size.ok(), size.status().message().c_str());
  bytes.resize(*size);
  return bytes;
}

base::Result<Command> DecodeCommand(std::span<const uint8_t> bytes) {
  if (bytes.size() < kCommandHeaderSize)
    return base::InvalidArgument("command shorter than its header");
  if (bytes.size() > kCommandSizeMax)
    return base::InvalidArgument("command larger than kCommandSizeMax");
  ByteReader reader(bytes);
  const uint16_t type = reader.U16();
  const uint16_t version = reader.U16();
  const uint32_t body_size = reader.U32();
  if (type == 0 || type > std::variant_size_v<Command>) {
    return base::InvalidArgument("unknown command type " + std::to_string(type));
  }
  if (version != kCommandFormatVersion) {
    return base::InvalidArgument("unknown command format version " + std::to_string(version));
  }
  if (body_size != bytes.size() - kCommandHeaderSize) {
    return base::InvalidArgument("command body size does not match its length");
  }
  Command command = ReadVariant(static_cast<size_t>(type - 1), reader);
  if (!reader.ok()) return base::InvalidArgument("command body truncated or a count too large");
  if (!reader.AtEnd()) return base::InvalidArgument("command body has trailing bytes");
  return command;
}

}  // namespace tangelo::issuing
