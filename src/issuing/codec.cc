#include "issuing/codec.h"

namespace tangelo::issuing::codec {
namespace {

using wire::ByteReader;
using wire::ByteWriter;

// Reads a one-byte count and fails the reader when it exceeds `max`.
uint8_t ReadCount(ByteReader& reader, size_t max) {
  const uint8_t count = reader.U8();
  if (count > max) reader.Fail();
  return reader.ok() ? count : 0;
}

template <size_t N>
bool WriteMccRanges(ByteWriter& writer, const std::array<MccRange, N>& list, uint8_t count) {
  if (count > N) return false;
  writer.U8(count);
  for (uint8_t i = 0; i < count; ++i) {
    writer.U16(list[i].first);
    writer.U16(list[i].last);
  }
  return true;
}

template <size_t N>
uint8_t ReadMccRanges(ByteReader& reader, std::array<MccRange, N>* list) {
  const uint8_t count = ReadCount(reader, N);
  for (uint8_t i = 0; i < count; ++i) {
    (*list)[i].first = reader.U16();
    (*list)[i].last = reader.U16();
  }
  return count;
}

template <size_t N>
bool WriteCountries(ByteWriter& writer, const std::array<uint16_t, N>& list, uint8_t count) {
  if (count > N) return false;
  writer.U8(count);
  for (uint8_t i = 0; i < count; ++i) writer.U16(list[i]);
  return true;
}

template <size_t N>
uint8_t ReadCountries(ByteReader& reader, std::array<uint16_t, N>* list) {
  const uint8_t count = ReadCount(reader, N);
  for (uint8_t i = 0; i < count; ++i) (*list)[i] = reader.U16();
  return count;
}

template <size_t N>
bool WriteMerchants(ByteWriter& writer, const std::array<MerchantId, N>& list, uint8_t count) {
  if (count > N) return false;
  writer.U8(count);
  for (uint8_t i = 0; i < count; ++i) writer.Bytes(list[i].bytes.data(), MerchantId::kLengthMax);
  return true;
}

template <size_t N>
uint8_t ReadMerchants(ByteReader& reader, std::array<MerchantId, N>* list) {
  const uint8_t count = ReadCount(reader, N);
  for (uint8_t i = 0; i < count; ++i) {
    reader.Bytes((*list)[i].bytes.data(), MerchantId::kLengthMax);
  }
  return count;
}

}  // namespace

void WriteBool(ByteWriter& writer, bool value) { writer.U8(value ? 1 : 0); }

bool ReadBool(ByteReader& reader) {
  const uint8_t value = reader.U8();
  if (value > 1) reader.Fail();
  return value == 1;
}

bool WriteName(ByteWriter& writer, const Name& name) {
  if (name.length > name.bytes.size()) return false;
  writer.U8(name.length);
  writer.Bytes(name.bytes.data(), name.length);
  return true;
}

void ReadName(ByteReader& reader, Name* name) {
  *name = Name{};
  name->length = ReadCount(reader, kNameLengthMax);
  reader.Bytes(name->bytes.data(), name->length);
}

bool WriteControls(ByteWriter& writer, const Controls& controls) {
  writer.U64(controls.transaction_amount_max);
  writer.U64(controls.daily_amount_max);
  writer.U64(controls.weekly_amount_max);
  writer.U64(controls.monthly_amount_max);
  writer.U64(controls.lifetime_amount_max);
  writer.U8(controls.channels_blocked);
  if (controls.velocity_rule_count > kVelocityRulesMax) return false;
  writer.U8(controls.velocity_rule_count);
  for (uint8_t i = 0; i < controls.velocity_rule_count; ++i) {
    writer.U32(controls.velocity_rules[i].window_seconds);
    writer.U32(controls.velocity_rules[i].count_max);
  }
  if (!WriteMccRanges(writer, controls.mcc_allow, controls.mcc_allow_count) ||
      !WriteMccRanges(writer, controls.mcc_deny, controls.mcc_deny_count)) {
    return false;
  }
  writer.U8(static_cast<uint8_t>(controls.country_mode));
  if (!WriteCountries(writer, controls.countries, controls.country_count)) return false;
  writer.U8(static_cast<uint8_t>(controls.merchant_mode));
  return WriteMerchants(writer, controls.merchants, controls.merchant_count);
}

void ReadControls(ByteReader& reader, Controls* controls) {
  *controls = Controls{};
  controls->transaction_amount_max = reader.U64();
  controls->daily_amount_max = reader.U64();
  controls->weekly_amount_max = reader.U64();
  controls->monthly_amount_max = reader.U64();
  controls->lifetime_amount_max = reader.U64();
  controls->channels_blocked = reader.U8();
  controls->velocity_rule_count = ReadCount(reader, kVelocityRulesMax);
  for (uint8_t i = 0; i < controls->velocity_rule_count; ++i) {
    controls->velocity_rules[i].window_seconds = reader.U32();
    controls->velocity_rules[i].count_max = reader.U32();
  }
  controls->mcc_allow_count = ReadMccRanges(reader, &controls->mcc_allow);
  controls->mcc_deny_count = ReadMccRanges(reader, &controls->mcc_deny);
  controls->country_mode = static_cast<ListMode>(reader.U8());
  controls->country_count = ReadCountries(reader, &controls->countries);
  controls->merchant_mode = static_cast<ListMode>(reader.U8());
  controls->merchant_count = ReadMerchants(reader, &controls->merchants);
}

bool WriteRealtimeDecision(ByteWriter& writer, const RealtimeDecisionSettings& settings) {
  if (settings.url_length > settings.url.size()) return false;
  WriteBool(writer, settings.required);
  writer.U16(settings.deadline_ms);
  writer.U8(static_cast<uint8_t>(settings.stand_in_policy));
  writer.U64(settings.stand_in_amount_max_minor);
  writer.U16(settings.url_length);
  writer.Bytes(settings.url.data(), settings.url_length);
  return true;
}

void ReadRealtimeDecision(ByteReader& reader, RealtimeDecisionSettings* settings) {
  *settings = RealtimeDecisionSettings{};
  settings->required = ReadBool(reader);
  settings->deadline_ms = reader.U16();
  settings->stand_in_policy = static_cast<StandInPolicy>(reader.U8());
  settings->stand_in_amount_max_minor = reader.U64();
  settings->url_length = reader.U16();
  if (settings->url_length > settings->url.size()) {
    reader.Fail();
    settings->url_length = 0;
  }
  reader.Bytes(settings->url.data(), settings->url_length);
}

bool WriteHoldExpiry(ByteWriter& writer, const HoldExpiryTable& table) {
  if (table.rule_count > table.rules.size()) return false;
  writer.U16(table.default_days);
  writer.U8(table.rule_count);
  for (uint8_t i = 0; i < table.rule_count; ++i) {
    writer.U16(table.rules[i].mcc_first);
    writer.U16(table.rules[i].mcc_last);
    writer.U16(table.rules[i].hold_days);
  }
  return true;
}

void ReadHoldExpiry(ByteReader& reader, HoldExpiryTable* table) {
  *table = HoldExpiryTable{};
  table->default_days = reader.U16();
  table->rule_count = ReadCount(reader, kHoldExpiryRulesMax);
  for (uint8_t i = 0; i < table->rule_count; ++i) {
    table->rules[i].mcc_first = reader.U16();
    table->rules[i].mcc_last = reader.U16();
    table->rules[i].hold_days = reader.U16();
  }
}

bool WriteProtectedPan(ByteWriter& writer, const ProtectedPan& pan) {
  if (pan.encrypted.size > pan.encrypted.bytes.size()) return false;
  writer.Bytes(pan.token.bytes.data(), pan.token.bytes.size());
  writer.Bytes(pan.last_four.data(), pan.last_four.size());
  writer.U8(pan.encrypted.size);
  writer.Bytes(pan.encrypted.bytes.data(), pan.encrypted.size);
  return true;
}

void ReadProtectedPan(ByteReader& reader, ProtectedPan* pan) {
  *pan = ProtectedPan{};
  reader.Bytes(pan->token.bytes.data(), pan->token.bytes.size());
  reader.Bytes(pan->last_four.data(), pan->last_four.size());
  pan->encrypted.size = ReadCount(reader, kEncryptedPanSizeMax);
  reader.Bytes(pan->encrypted.bytes.data(), pan->encrypted.size);
}

bool WriteSpendCounters(ByteWriter& writer, const SpendCounters& counters) {
  if (counters.velocity_count > kVelocityRingSize) return false;
  writer.U64(counters.day_amount_minor);
  writer.U64(counters.week_amount_minor);
  writer.U64(counters.month_amount_minor);
  writer.U64(counters.lifetime_amount_minor);
  writer.U32(counters.day_index);
  writer.U32(counters.week_index);
  writer.U32(counters.month_index);
  // The ring is written oldest first from position 0, so two states that
  // remember the same approvals serialize the same whatever their ring start.
  writer.U8(counters.velocity_count);
  for (uint32_t i = 0; i < counters.velocity_count; ++i) writer.U32(counters.VelocityEntry(i));
  return true;
}

void ReadSpendCounters(ByteReader& reader, SpendCounters* counters) {
  *counters = SpendCounters{};
  counters->day_amount_minor = reader.U64();
  counters->week_amount_minor = reader.U64();
  counters->month_amount_minor = reader.U64();
  counters->lifetime_amount_minor = reader.U64();
  counters->day_index = reader.U32();
  counters->week_index = reader.U32();
  counters->month_index = reader.U32();
  counters->velocity_count = ReadCount(reader, kVelocityRingSize);
  for (uint32_t i = 0; i < counters->velocity_count; ++i) {
    counters->velocity_seconds[i] = reader.U32();
  }
}

}  // namespace tangelo::issuing::codec
