// Field encodings shared by the command encoding and the snapshot format
// (docs/issuing/commands.md, "Shared field encodings"). Internal to the
// module. Readers check structure only (counts and lengths within their
// arrays); the state validates meaning.
#pragma once

#include "issuing/controls.h"
#include "issuing/entities.h"
#include "issuing/pan.h"
#include "issuing/program_settings.h"
#include "issuing/wire.h"

namespace tangelo::issuing::codec {

// Writers return false when a count or length exceeds its array (the value
// cannot be encoded); the writer's bytes are then unusable.
bool WriteName(wire::ByteWriter& writer, const Name& name);
void ReadName(wire::ByteReader& reader, Name* name);

bool WriteControls(wire::ByteWriter& writer, const Controls& controls);
void ReadControls(wire::ByteReader& reader, Controls* controls);

bool WriteRealtimeDecision(wire::ByteWriter& writer, const RealtimeDecisionSettings& settings);
void ReadRealtimeDecision(wire::ByteReader& reader, RealtimeDecisionSettings* settings);

bool WriteHoldExpiry(wire::ByteWriter& writer, const HoldExpiryTable& table);
void ReadHoldExpiry(wire::ByteReader& reader, HoldExpiryTable* table);

bool WriteProtectedPan(wire::ByteWriter& writer, const ProtectedPan& pan);
void ReadProtectedPan(wire::ByteReader& reader, ProtectedPan* pan);

bool WriteSpendCounters(wire::ByteWriter& writer, const SpendCounters& counters);
void ReadSpendCounters(wire::ByteReader& reader, SpendCounters* counters);

// A boolean is one byte, 0 or 1; anything else fails the reader.
void WriteBool(wire::ByteWriter& writer, bool value);
bool ReadBool(wire::ByteReader& reader);

}  // namespace tangelo::issuing::codec
