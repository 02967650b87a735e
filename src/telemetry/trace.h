// Spans: what one application did for one request, linked into a trace by
// W3C trace context (telemetry/trace_context.h), kept in a bounded buffer
// for the exporters (OTLP) and the console.
//
// Sampling, decided twice:
// - Head, when a span starts: a span with a parent inherits the parent's
//   sampled flag (so a trace is kept or not as a whole across services); a
//   root span is sampled when its trace id's random low 56 bits fall under
//   head_sampling_ratio (the OpenTelemetry TraceIdRatioBased rule, so any
//   service deciding on the same trace id agrees).
// - Tail, when a span ends: it is kept if it was sampled, or it ended with
//   an error status, or it took at least slow_span_threshold_ns. Every span
//   therefore records its data until it ends; kept spans are copied into the
//   SpanBuffer, the others are discarded and counted.
//
// Spans are fixed-size records (inline text, bounded attributes), so
// starting, annotating, ending and discarding a span never allocates. Text
// is truncated to its limit. A kept span is redacted like a log line before
// it enters the buffer (card numbers masked in the name, status message,
// attribute keys and values, including numbers; attributes whose key names a
// secret replaced by "[REDACTED]"); discarded spans are never redacted
// because nothing of them leaves the process.
#pragma once

#include <array>
#include <atomic>
#include <concepts>
#include <cstdint>
#include <memory>
#include <string_view>
#include <type_traits>
#include <vector>

#include "telemetry/application.h"
#include "telemetry/metrics.h"
#include "telemetry/trace_context.h"

namespace tangelo::io {
class Clock;
}  // namespace tangelo::io

namespace tangelo::telemetry {

inline constexpr uint32_t kSpanNameBytesMax = 64;
inline constexpr uint32_t kSpanAttributesMax = 8;
inline constexpr uint32_t kSpanAttributeKeyBytesMax = 40;
inline constexpr uint32_t kSpanAttributeValueBytesMax = 64;
inline constexpr uint32_t kSpanStatusMessageBytesMax = 128;
inline constexpr uint32_t kSpanBufferCapacityMax = 1u << 16;

// OTLP's numbers (opentelemetry/proto/trace/v1/trace.proto).
enum class SpanKind : uint8_t {
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5,
};

// OTLP's Status.StatusCode numbers.
enum class SpanStatus : uint8_t {
  kUnset = 0,
  kOk = 1,
  kError = 2,
};

// Why a span was kept (the tail decision). Stable numbers.
enum class SpanKeepReason : uint8_t {
  kNotKept = 0,
  kSampled = 1,
  kError = 2,
  kSlow = 3,
};

// Text of at most N bytes stored inline.
template <size_t N>
struct InlineText {
  static_assert(N < 256);
  std::array<char, N> chars{};
  uint8_t size = 0;

  std::string_view view() const { return std::string_view(chars.data(), size); }
};

struct SpanAttribute {
  enum class Type : uint8_t { kString = 0, kInt = 1, kDouble = 2, kBool = 3 };
  InlineText<kSpanAttributeKeyBytesMax> key;
  Type type = Type::kString;
  InlineText<kSpanAttributeValueBytesMax> string_value;  // kString.
  int64_t int_value = 0;                                  // kInt.
  double double_value = 0;                                // kDouble.
  bool bool_value = false;                                // kBool.
};

// A finished (or in-progress) span. Trivially copyable, about 1.3 KiB.
struct SpanRecord {
  SpanContext context;       // This span's own ids and the trace flags.
  SpanId parent_span_id;     // Invalid (zero) for a root span.
  bool parent_remote = false;
  InlineText<kSpanNameBytesMax> name;
  Application application{};
  CriticalPath path = CriticalPath::kNone;
  SpanKind kind = SpanKind::kInternal;
  SpanStatus status = SpanStatus::kUnset;
  SpanKeepReason keep_reason = SpanKeepReason::kNotKept;
  uint64_t start_unix_ns = 0;
  uint64_t end_unix_ns = 0;  // start + monotonic duration, so never before start.
  InlineText<kSpanStatusMessageBytesMax> status_message;
  std::array<SpanAttribute, kSpanAttributesMax> attributes{};
  uint8_t attribute_count = 0;
  uint32_t dropped_attributes_count = 0;

  uint64_t duration_ns() const { return end_unix_ns - start_unix_ns; }
};
static_assert(std::is_trivially_copyable_v<SpanRecord>);

// A bounded multi-producer, multi-consumer queue of kept spans (Vyukov's
// array queue: one CAS per push or pop, no locks). When full, a push is
// dropped and counted: tracing never blocks or grows the request path.
// Thread safe.
class SpanBuffer {
 public:
  // Precondition: capacity is a power of two in [2, kSpanBufferCapacityMax].
  explicit SpanBuffer(uint32_t capacity);
  ~SpanBuffer();
  SpanBuffer(const SpanBuffer&) = delete;
  SpanBuffer& operator=(const SpanBuffer&) = delete;

  // False (and counted in dropped()) when the buffer is full.
  bool TryPush(const SpanRecord& record);
  // False when empty.
  bool TryPop(SpanRecord* record);
  // Pops up to `max` spans onto `out`; returns how many.
  size_t Drain(std::vector<SpanRecord>* out, size_t max);

  uint32_t capacity() const { return capacity_; }
  uint64_t dropped() const { return dropped_.Value(); }

 private:
  struct Slot;
  const uint32_t capacity_;
  std::unique_ptr<Slot[]> slots_;
  alignas(kCacheLineBytes) std::atomic<uint64_t> enqueue_position_{0};
  alignas(kCacheLineBytes) std::atomic<uint64_t> dequeue_position_{0};
  Counter dropped_;
};

struct TracerOptions {
  Application application{};  // Required.
  // Fraction of new traces sampled at the head, in [0, 1].
  double head_sampling_ratio = 0.01;
  // Keep any span at least this slow; 0 disables the rule.
  uint64_t slow_span_threshold_ns = 0;
  // Seed for trace and span ids; 0 seeds from the OS. Tests fix it.
  uint64_t id_seed = 0;
};

class Tracer;

// One span in progress. Movable, not copyable; ending is idempotent and the
// destructor ends a span that was not ended. A default-constructed Span is
// inert: every call is a no-op and its context is invalid. Not thread safe:
// one span belongs to one thread at a time (hand it over by moving).
class Span {
 public:
  Span() = default;
  Span(Span&& other) noexcept;
  Span& operator=(Span&& other) noexcept;
  ~Span() { End(); }

  // This span's context: propagate it (traceparent) and pass it to logs.
  const SpanContext& context() const { return record_.context; }
  bool active() const { return tracer_ != nullptr; }

  // Adds an attribute; past kSpanAttributesMax it is counted as dropped.
  // Keys and values are truncated to their limits (redacted if kept).
  void SetAttribute(std::string_view key, std::string_view value);
  void SetAttribute(std::string_view key, const char* value) {
    SetAttribute(key, std::string_view(value == nullptr ? "" : value));
  }
  void SetAttribute(std::string_view key, bool value);
  void SetAttribute(std::string_view key, double value);
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  void SetAttribute(std::string_view key, T value) {
    SetIntAttribute(key, static_cast<int64_t>(value));
  }

  // The last status set wins. kError makes the tail decision keep the span.
  void SetStatus(SpanStatus status, std::string_view message = {});

  // Records the end time and hands the span to the tail decision.
  void End();

 private:
  friend class Tracer;
  SpanAttribute* NextAttribute(std::string_view key);
  void SetIntAttribute(std::string_view key, int64_t value);

  Tracer* tracer_ = nullptr;
  uint64_t start_monotonic_ns_ = 0;
  SpanRecord record_;
};

// Starts spans for one application and applies the sampling rules. Thread
// safe. The clock and buffer must outlive the Tracer and its spans.
class Tracer {
 public:
  // `clock` nullptr means the system clock.
  Tracer(const TracerOptions& options, SpanBuffer* buffer, io::Clock* clock = nullptr);
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // Starts a span. With a valid `parent` (local or parsed from a header) it
  // joins that trace and inherits its sampling; otherwise it starts a trace.
  Span StartSpan(std::string_view name, SpanKind kind = SpanKind::kInternal,
                 const SpanContext* parent = nullptr, CriticalPath path = CriticalPath::kNone);
  // Starts a span under an incoming traceparent header value. An empty or
  // invalid header starts a new trace (as the spec requires) and counts in
  // invalid_traceparents() if it was not empty.
  Span StartSpanFromTraceparent(std::string_view name, SpanKind kind,
                                std::string_view traceparent,
                                CriticalPath path = CriticalPath::kNone);

  // The head decision for a new trace id (deterministic).
  bool HeadSampled(const TraceId& trace_id) const;

  uint64_t spans_kept() const { return spans_kept_.Value(); }
  uint64_t spans_discarded() const { return spans_discarded_.Value(); }
  uint64_t invalid_traceparents() const { return invalid_traceparents_.Value(); }

 private:
  friend class Span;
  uint64_t ReserveRandom(uint64_t count);
  uint64_t RandomAt(uint64_t sequence) const;
  SpanId NewSpanId(uint64_t sequence);
  TraceId NewTraceId(uint64_t sequence);
  void Finish(SpanRecord& record, uint64_t duration_ns);

  const Application application_;
  const uint64_t head_sampling_threshold_;  // Out of 2^56.
  const uint64_t slow_span_threshold_ns_;
  SpanBuffer* const buffer_;
  io::Clock* const clock_;
  const uint64_t id_seed_;
  std::atomic<uint64_t> id_sequence_{0};
  Counter spans_kept_;
  Counter spans_discarded_;
  Counter invalid_traceparents_;
};

}  // namespace tangelo::telemetry
