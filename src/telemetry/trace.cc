#include "telemetry/trace.h"

#include <sys/random.h>

#include <chrono>
#include <string>
#include <utility>

#include "base/assert.h"
#include "base/strong_id.h"
#include "io/clock.h"
#include "telemetry/redaction.h"
#include "telemetry/text.h"

namespace tangelo::telemetry {
namespace {

// Copies without masking: redaction runs in Tracer::Finish, only for spans
// that are kept, so the common discarded span never pays for it. The cut
// rule still guarantees a later mask sees every card number whole.
template <size_t N>
void AssignText(InlineText<N>* text, std::string_view value) {
  text->size = static_cast<uint8_t>(CopyPrefixForMasking(value, text->chars.data(), N));
}

template <size_t N>
void MaskText(InlineText<N>* text) {
  MaskCardNumbers(text->chars.data(), text->size);
}

// If `number_text` holds a card number, stores it masked as the
// attribute's string value and returns true.
bool ReplaceCardNumber(SpanAttribute* attribute, std::string number_text) {
  if (MaskCardNumbers(&number_text) == 0) return false;
  attribute->type = SpanAttribute::Type::kString;
  AssignText(&attribute->string_value, number_text);
  return true;
}

// Applies the redaction rules of telemetry/redaction.h to a kept span.
void Redact(SpanRecord* record) {
  MaskText(&record->name);
  MaskText(&record->status_message);
  for (uint8_t i = 0; i < record->attribute_count; ++i) {
    SpanAttribute& attribute = record->attributes[i];
    if (IsSensitiveKey(attribute.key.view())) {
      attribute.type = SpanAttribute::Type::kString;
      AssignText(&attribute.string_value, kRedactedValue);
    } else {
      switch (attribute.type) {
        case SpanAttribute::Type::kString:
          MaskText(&attribute.string_value);
          break;
        case SpanAttribute::Type::kInt:
          ReplaceCardNumber(&attribute, std::to_string(attribute.int_value));
          break;
        case SpanAttribute::Type::kDouble:
          ReplaceCardNumber(&attribute, text::FormatDouble(attribute.double_value));
          break;
        case SpanAttribute::Type::kBool:
          break;
      }
    }
    MaskText(&attribute.key);
  }
}

uint64_t SeedFromOs() {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof(seed), 0) != static_cast<ssize_t>(sizeof(seed))) {
    // getrandom cannot fail for 8 bytes once the pool is ready; fall back to
    // the clock rather than refuse to trace.
    seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  return seed == 0 ? 1 : seed;
}

// The random low 56 bits of a trace id (W3C level 2: the rightmost 7 bytes).
uint64_t TraceIdRandomBits(const TraceId& trace_id) {
  uint64_t bits = 0;
  for (size_t i = 9; i < 16; ++i) bits = (bits << 8) | trace_id.bytes[i];
  return bits;
}

void StoreBigEndian(uint64_t value, uint8_t* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(value & 0xFF);
    value >>= 8;
  }
}

}  // namespace

// ---- SpanBuffer ------------------------------------------------------------

struct SpanBuffer::Slot {
  std::atomic<uint64_t> sequence{0};
  SpanRecord record;
};

SpanBuffer::SpanBuffer(uint32_t capacity)
    : capacity_(capacity), slots_(std::make_unique<Slot[]>(capacity)) {
  TG_ASSERT_MSG(capacity >= 2 && capacity <= kSpanBufferCapacityMax &&
                    (capacity & (capacity - 1)) == 0,
                "SpanBuffer capacity must be a power of two in [2, kSpanBufferCapacityMax]");
  for (uint32_t i = 0; i < capacity; ++i) slots_[i].sequence.store(i, std::memory_order_relaxed);
}

SpanBuffer::~SpanBuffer() = default;

bool SpanBuffer::TryPush(const SpanRecord& record) {
  const uint64_t mask = capacity_ - 1;
  uint64_t position = enqueue_position_.load(std::memory_order_relaxed);
  Slot* slot = nullptr;
  while (true) {
    slot = &slots_[position & mask];
    const uint64_t sequence = slot->sequence.load(std::memory_order_acquire);
    const auto difference = static_cast<int64_t>(sequence - position);
    if (difference == 0) {
      if (enqueue_position_.compare_exchange_weak(position, position + 1,
                                                  std::memory_order_relaxed)) {
        break;
      }
    } else if (difference < 0) {
      dropped_.Increment();  // Full: the consumer is behind.
      return false;
    } else {
      position = enqueue_position_.load(std::memory_order_relaxed);
    }
  }
  slot->record = record;
  slot->sequence.store(position + 1, std::memory_order_release);
  return true;
}

bool SpanBuffer::TryPop(SpanRecord* record) {
  const uint64_t mask = capacity_ - 1;
  uint64_t position = dequeue_position_.load(std::memory_order_relaxed);
  Slot* slot = nullptr;
  while (true) {
    slot = &slots_[position & mask];
    const uint64_t sequence = slot->sequence.load(std::memory_order_acquire);
    const auto difference = static_cast<int64_t>(sequence - (position + 1));
    if (difference == 0) {
      if (dequeue_position_.compare_exchange_weak(position, position + 1,
                                                  std::memory_order_relaxed)) {
        break;
      }
    } else if (difference < 0) {
      return false;  // Empty.
    } else {
      position = dequeue_position_.load(std::memory_order_relaxed);
    }
  }
  *record = slot->record;
  slot->sequence.store(position + mask + 1, std::memory_order_release);
  return true;
}

size_t SpanBuffer::Drain(std::vector<SpanRecord>* out, size_t max) {
  size_t popped = 0;
  SpanRecord record;
  while (popped < max && TryPop(&record)) {
    out->push_back(record);
    ++popped;
  }
  return popped;
}

// ---- Span ------------------------------------------------------------------

Span::Span(Span&& other) noexcept
    : tracer_(std::exchange(other.tracer_, nullptr)),
      start_monotonic_ns_(other.start_monotonic_ns_),
      record_(other.record_) {}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    End();
    tracer_ = std::exchange(other.tracer_, nullptr);
    start_monotonic_ns_ = other.start_monotonic_ns_;
    record_ = other.record_;
  }
  return *this;
}

SpanAttribute* Span::NextAttribute(std::string_view key) {
  if (tracer_ == nullptr) return nullptr;
  if (record_.attribute_count == kSpanAttributesMax) {
    ++record_.dropped_attributes_count;
    return nullptr;
  }
  SpanAttribute* attribute = &record_.attributes[record_.attribute_count++];
  *attribute = SpanAttribute();
  AssignText(&attribute->key, key);
  return attribute;
}

void Span::SetAttribute(std::string_view key, std::string_view value) {
  SpanAttribute* attribute = NextAttribute(key);
  if (attribute == nullptr) return;
  AssignText(&attribute->string_value, value);
}

void Span::SetAttribute(std::string_view key, bool value) {
  SpanAttribute* attribute = NextAttribute(key);
  if (attribute == nullptr) return;
  attribute->type = SpanAttribute::Type::kBool;
  attribute->bool_value = value;
}

void Span::SetAttribute(std::string_view key, double value) {
  SpanAttribute* attribute = NextAttribute(key);
  if (attribute == nullptr) return;
  attribute->type = SpanAttribute::Type::kDouble;
  attribute->double_value = value;
}

void Span::SetIntAttribute(std::string_view key, int64_t value) {
  SpanAttribute* attribute = NextAttribute(key);
  if (attribute == nullptr) return;
  attribute->type = SpanAttribute::Type::kInt;
  attribute->int_value = value;
}

void Span::SetStatus(SpanStatus status, std::string_view message) {
  if (tracer_ == nullptr) return;
  record_.status = status;
  AssignText(&record_.status_message, message);
}

void Span::End() {
  if (tracer_ == nullptr) return;
  Tracer* tracer = std::exchange(tracer_, nullptr);
  const uint64_t now_ns = tracer->clock_->MonotonicNs();
  const uint64_t duration_ns = now_ns - start_monotonic_ns_;
  record_.end_unix_ns = record_.start_unix_ns + duration_ns;
  tracer->Finish(record_, duration_ns);
}

// ---- Tracer ----------------------------------------------------------------

Tracer::Tracer(const TracerOptions& options, SpanBuffer* buffer, io::Clock* clock)
    : application_(options.application),
      head_sampling_threshold_(static_cast<uint64_t>(options.head_sampling_ratio *
                                                     static_cast<double>(uint64_t{1} << 56))),
      slow_span_threshold_ns_(options.slow_span_threshold_ns),
      buffer_(buffer),
      clock_(clock != nullptr ? clock : &io::SystemClock::Instance()),
      id_seed_(options.id_seed != 0 ? options.id_seed : SeedFromOs()) {
  TG_ASSERT_MSG(IsValidApplication(options.application), "a Tracer needs its application");
  TG_ASSERT_MSG(options.head_sampling_ratio >= 0.0 && options.head_sampling_ratio <= 1.0,
                "head_sampling_ratio must be in [0, 1]");
  TG_ASSERT(buffer != nullptr);
}

uint64_t Tracer::ReserveRandom(uint64_t count) {
  // One relaxed add reserves the numbers a span needs; no lock, and a fixed
  // seed gives a reproducible stream in single-threaded tests.
  return id_sequence_.fetch_add(count, std::memory_order_relaxed);
}

uint64_t Tracer::RandomAt(uint64_t sequence) const {
  // splitmix64: a bijective mix of a Weyl sequence, so ids never repeat
  // within 2^64 draws.
  return base::MixHash(id_seed_ + sequence * 0x9e3779b97f4a7c15ULL);
}

SpanId Tracer::NewSpanId(uint64_t sequence) {
  SpanId id;
  StoreBigEndian(RandomAt(sequence), id.bytes.data());
  while (!id.valid()) StoreBigEndian(RandomAt(ReserveRandom(1)), id.bytes.data());
  return id;
}

TraceId Tracer::NewTraceId(uint64_t sequence) {
  TraceId id;
  StoreBigEndian(RandomAt(sequence), id.bytes.data());
  StoreBigEndian(RandomAt(sequence + 1), id.bytes.data() + 8);
  while (!id.valid()) {
    const uint64_t retry = ReserveRandom(2);
    StoreBigEndian(RandomAt(retry), id.bytes.data());
    StoreBigEndian(RandomAt(retry + 1), id.bytes.data() + 8);
  }
  return id;
}

bool Tracer::HeadSampled(const TraceId& trace_id) const {
  return TraceIdRandomBits(trace_id) < head_sampling_threshold_;
}

Span Tracer::StartSpan(std::string_view name, SpanKind kind, const SpanContext* parent,
                       CriticalPath path) {
  Span span;
  span.tracer_ = this;
  SpanRecord& record = span.record_;
  AssignText(&record.name, name);
  record.application = application_;
  record.path = path;
  record.kind = kind;
  const bool has_parent = parent != nullptr && parent->valid();
  const uint64_t sequence = ReserveRandom(has_parent ? 1 : 3);
  if (has_parent) {
    record.context.trace_id = parent->trace_id;
    record.context.trace_flags =
        static_cast<uint8_t>(parent->trace_flags & (kTraceFlagSampled | kTraceFlagRandom));
    record.parent_span_id = parent->span_id;
    record.parent_remote = parent->remote;
  } else {
    record.context.trace_id = NewTraceId(sequence + 1);
    record.context.trace_flags = static_cast<uint8_t>(
        kTraceFlagRandom | (HeadSampled(record.context.trace_id) ? kTraceFlagSampled : 0));
  }
  record.context.span_id = NewSpanId(sequence);
  record.context.remote = false;
  span.start_monotonic_ns_ = clock_->MonotonicNs();
  record.start_unix_ns = clock_->RealtimeNs();
  return span;
}

Span Tracer::StartSpanFromTraceparent(std::string_view name, SpanKind kind,
                                      std::string_view traceparent, CriticalPath path) {
  if (!traceparent.empty()) {
    base::Result<SpanContext> parent = ParseTraceparent(traceparent);
    if (parent.ok()) return StartSpan(name, kind, &*parent, path);
    invalid_traceparents_.Increment();
  }
  return StartSpan(name, kind, nullptr, path);
}

void Tracer::Finish(SpanRecord& record, uint64_t duration_ns) {
  if (record.context.sampled()) {
    record.keep_reason = SpanKeepReason::kSampled;
  } else if (record.status == SpanStatus::kError) {
    record.keep_reason = SpanKeepReason::kError;
  } else if (slow_span_threshold_ns_ != 0 && duration_ns >= slow_span_threshold_ns_) {
    record.keep_reason = SpanKeepReason::kSlow;
  } else {
    record.keep_reason = SpanKeepReason::kNotKept;
    spans_discarded_.Increment();
    return;
  }
  spans_kept_.Increment();
  Redact(&record);
  buffer_->TryPush(record);  // A full buffer counts the drop itself.
}

}  // namespace tangelo::telemetry
