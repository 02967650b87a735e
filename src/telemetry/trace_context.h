// W3C Trace Context: trace and span ids and the `traceparent` header that
// carries them across every application boundary (HTTP in and out, the ISO
// 8583 private field, engine inputs).
//
//   traceparent: 00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>
//
// Parsing follows https://www.w3.org/TR/trace-context/ (and level 2):
// lowercase hex only; all-zero trace or parent ids are invalid; version ff
// is invalid; version 00 must be exactly 55 characters; a higher version is
// parsed for its first four fields if the rest is separated by '-'. Flag bit
// 0 is "sampled", bit 1 (level 2) "random trace-id". Surrounding spaces and
// tabs (HTTP optional whitespace) are ignored. A header that fails to parse
// must be ignored by the caller, which then starts a new trace.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tangelo::telemetry {

inline constexpr size_t kTraceparentLength = 55;
inline constexpr uint8_t kTraceFlagSampled = 0x01;
inline constexpr uint8_t kTraceFlagRandom = 0x02;

// 16 bytes; all zero means "no trace" (invalid on the wire).
struct TraceId {
  std::array<uint8_t, 16> bytes{};

  bool valid() const;
  // 32 lowercase hex characters.
  std::string ToHex() const;
  void AppendHex(std::string* out) const;
  bool operator==(const TraceId&) const = default;
};

// 8 bytes; all zero means "no span".
struct SpanId {
  std::array<uint8_t, 8> bytes{};

  bool valid() const;
  // 16 lowercase hex characters.
  std::string ToHex() const;
  void AppendHex(std::string* out) const;
  bool operator==(const SpanId&) const = default;
};

// What crosses a boundary: which trace, which span is the parent, and
// whether the trace is sampled. A plain value.
struct SpanContext {
  TraceId trace_id;
  SpanId span_id;
  uint8_t trace_flags = 0;
  // Came from another process (a parsed header) rather than a local span.
  bool remote = false;

  bool valid() const { return trace_id.valid() && span_id.valid(); }
  bool sampled() const { return (trace_flags & kTraceFlagSampled) != 0; }
};

// Parses a traceparent header value. kInvalidArgument, with the reason, for
// anything the spec says to reject. The result has remote = true.
base::Result<SpanContext> ParseTraceparent(std::string_view header);

// Formats version 00: "00-<trace-id>-<span-id>-<flags>". Precondition:
// context.valid().
std::string FormatTraceparent(const SpanContext& context);
// The same into a fixed buffer, without allocating (hot path).
std::array<char, kTraceparentLength> FormatTraceparentChars(const SpanContext& context);

// Parses exactly 32 / 16 lowercase hex characters into a valid (non-zero)
// id; kInvalidArgument otherwise.
base::Result<TraceId> TraceIdFromHex(std::string_view hex);
base::Result<SpanId> SpanIdFromHex(std::string_view hex);

}  // namespace tangelo::telemetry
