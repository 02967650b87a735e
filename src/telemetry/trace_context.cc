#include "telemetry/trace_context.h"

#include <algorithm>

#include "base/assert.h"

namespace tangelo::telemetry {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Lowercase hex only: the spec rejects uppercase.
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

template <size_t N>
bool DecodeHex(std::string_view hex, std::array<uint8_t, N>* bytes) {
  if (hex.size() != 2 * N) return false;
  for (size_t i = 0; i < N; ++i) {
    const int high = HexValue(hex[2 * i]);
    const int low = HexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    (*bytes)[i] = static_cast<uint8_t>((high << 4) | low);
  }
  return true;
}

template <size_t N>
void EncodeHex(const std::array<uint8_t, N>& bytes, char* out) {
  for (size_t i = 0; i < N; ++i) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 0x0F];
  }
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

base::Status Invalid(std::string_view why) {
  return base::InvalidArgument("traceparent: " + std::string(why));
}

}  // namespace

bool TraceId::valid() const { return !AllZero(bytes); }
bool SpanId::valid() const { return !AllZero(bytes); }

std::string TraceId::ToHex() const {
  std::string out;
  AppendHex(&out);
  return out;
}

void TraceId::AppendHex(std::string* out) const {
  char hex[32];
  EncodeHex(bytes, hex);
  out->append(hex, sizeof(hex));
}

std::string SpanId::ToHex() const {
  std::string out;
  AppendHex(&out);
  return out;
}

void SpanId::AppendHex(std::string* out) const {
  char hex[16];
  EncodeHex(bytes, hex);
  out->append(hex, sizeof(hex));
}

base::Result<TraceId> TraceIdFromHex(std::string_view hex) {
  TraceId id;
  if (!DecodeHex(hex, &id.bytes)) return Invalid("trace-id is not 32 lowercase hex digits");
  if (!id.valid()) return Invalid("trace-id is all zeros");
  return id;
}

base::Result<SpanId> SpanIdFromHex(std::string_view hex) {
  SpanId id;
  if (!DecodeHex(hex, &id.bytes)) return Invalid("parent-id is not 16 lowercase hex digits");
  if (!id.valid()) return Invalid("parent-id is all zeros");
  return id;
}

base::Result<SpanContext> ParseTraceparent(std::string_view header) {
  // HTTP optional whitespace around the value.
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t')) {
    header.remove_prefix(1);
  }
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) {
    header.remove_suffix(1);
  }
  if (header.size() < kTraceparentLength) return Invalid("too short");
  std::array<uint8_t, 1> version{};
  if (!DecodeHex(header.substr(0, 2), &version)) return Invalid("version is not 2 lowercase hex");
  if (version[0] == 0xFF) return Invalid("version ff is invalid");
  if (version[0] == 0x00 && header.size() != kTraceparentLength) {
    return Invalid("version 00 must be exactly 55 characters");
  }
  // A future version may append fields, but only after a '-'.
  if (header.size() > kTraceparentLength && header[kTraceparentLength] != '-') {
    return Invalid("unexpected data after the flags");
  }
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') {
    return Invalid("fields must be separated by '-'");
  }
  base::Result<TraceId> trace_id = TraceIdFromHex(header.substr(3, 32));
  if (!trace_id.ok()) return trace_id.status();
  base::Result<SpanId> span_id = SpanIdFromHex(header.substr(36, 16));
  if (!span_id.ok()) return span_id.status();
  std::array<uint8_t, 1> flags{};
  if (!DecodeHex(header.substr(53, 2), &flags)) return Invalid("flags are not 2 lowercase hex");
  SpanContext context;
  context.trace_id = *trace_id;
  context.span_id = *span_id;
  // Version 00 defines bits 0 and 1 only; unknown bits are not propagated.
  context.trace_flags = static_cast<uint8_t>(flags[0] & (kTraceFlagSampled | kTraceFlagRandom));
  context.remote = true;
  return context;
}

std::array<char, kTraceparentLength> FormatTraceparentChars(const SpanContext& context) {
  TG_ASSERT(context.valid());
  std::array<char, kTraceparentLength> out{};
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  EncodeHex(context.trace_id.bytes, out.data() + 3);
  out[35] = '-';
  EncodeHex(context.span_id.bytes, out.data() + 36);
  out[52] = '-';
  const std::array<uint8_t, 1> flags = {context.trace_flags};
  EncodeHex(flags, out.data() + 53);
  return out;
}

std::string FormatTraceparent(const SpanContext& context) {
  const std::array<char, kTraceparentLength> chars = FormatTraceparentChars(context);
  return std::string(chars.data(), chars.size());
}

}  // namespace tangelo::telemetry
