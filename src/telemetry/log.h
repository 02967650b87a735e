// Structured logging: one JSON object per line, correlated with traces, with
// card numbers and secrets redacted before anything is written.
//
// A line (keys in this order; trace fields only when a span is given):
//
//   {"time":"2023-11-14T22:13:20.123Z","level":"warn","application":"authorizer",
//    "event":"client_decision_timeout","message":"...","trace_id":"<32 hex>",
//    "span_id":"<16 hex>","trace_flags":"01","<key>":<value>,...}
//
// - time is RFC 3339 UTC with milliseconds, from the injected clock.
// - event is a stable snake_case name that tools group by; message is prose.
// - trace_id/span_id/trace_flags are the top-level names OpenTelemetry
//   specifies for non-OTLP JSON logs.
// - Fields follow as top-level keys. A field key that collides with one of
//   the keys above is written as "field_<key>". Field values are strings,
//   integers, finite doubles or booleans (NaN and infinities become strings).
// - Strings are JSON-escaped; invalid UTF-8 becomes U+FFFD.
//
// Redaction (telemetry/redaction.h) applies to the message, the event, every
// field key and value: card numbers are masked to first 6 + last 4, and a
// field whose key names a secret (token, password, api_key, authorization,
// pan, ...) is written as "[REDACTED]". Integer fields are checked as digit
// runs too, so a PAN passed as a number is masked (and written as a string).
//
// Bounds: at most kLogFieldsMax fields (extra ones are counted in a
// "fields_dropped" field), each string truncated to kLogValueBytesMax bytes
// (after redaction, at a UTF-8 boundary, marked with "..."), and at most
// lines_per_event_per_second_max lines per event name per second of the
// monotonic clock; the rest are dropped and counted (dropped_lines(), the
// optional drop counter, and a "dropped" field on the event's next line).
#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "telemetry/application.h"
#include "telemetry/trace_context.h"

namespace tangelo::io {
class Clock;
}  // namespace tangelo::io

namespace tangelo::telemetry {

class Counter;

inline constexpr uint32_t kLogFieldsMax = 24;
inline constexpr uint32_t kLogValueBytesMax = 2048;
// Distinct event names with their own rate limit; later ones share one.
inline constexpr uint32_t kLogEventNamesMax = 1024;
inline constexpr uint32_t kLogLinesPerEventPerSecondDefault = 100;

// Stable numbers; ordered by severity.
enum class LogLevel : uint8_t {
  kDebug = 1,
  kInfo = 2,
  kWarn = 3,
  kError = 4,
};
// "debug", "info", "warn", "error".
std::string_view LogLevelName(LogLevel level);

// Where lines go. Write receives one complete line ending in '\n'.
// Implementations must be thread safe.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(std::string_view line) = 0;
};

// Writes each line with one write(2) to stderr, so concurrent lines do not
// interleave. Thread safe.
class StderrLogSink final : public LogSink {
 public:
  void Write(std::string_view line) override;
  // A process-wide instance.
  static StderrLogSink& Instance();
};

// Keeps lines in memory, for tests. Thread safe.
class MemoryLogSink final : public LogSink {
 public:
  void Write(std::string_view line) override;
  std::vector<std::string> Lines() const;
  // Everything written, concatenated.
  std::string Text() const;
  void Clear();

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// One key/value pair. Holds views: the key and any string value must
// outlive the Log call (they are copied into the line before it returns).
class LogField {
 public:
  enum class Kind : uint8_t { kString, kSigned, kUnsigned, kDouble, kBool };

  LogField(std::string_view key, std::string_view value)
      : key_(key), kind_(Kind::kString), string_(value) {}
  LogField(std::string_view key, const char* value)
      : LogField(key, std::string_view(value == nullptr ? "" : value)) {}
  LogField(std::string_view key, const std::string& value)
      : LogField(key, std::string_view(value)) {}
  LogField(std::string_view key, bool value) : key_(key), kind_(Kind::kBool), bool_(value) {}
  LogField(std::string_view key, double value)
      : key_(key), kind_(Kind::kDouble), double_(value) {}
  template <std::signed_integral T>
  LogField(std::string_view key, T value)
      : key_(key), kind_(Kind::kSigned), signed_(static_cast<int64_t>(value)) {}
  template <std::unsigned_integral T>
    requires(!std::same_as<T, bool>)
  LogField(std::string_view key, T value)
      : key_(key), kind_(Kind::kUnsigned), unsigned_(static_cast<uint64_t>(value)) {}

  std::string_view key() const { return key_; }
  Kind kind() const { return kind_; }
  std::string_view string_value() const { return string_; }
  int64_t signed_value() const { return signed_; }
  uint64_t unsigned_value() const { return unsigned_; }
  double double_value() const { return double_; }
  bool bool_value() const { return bool_; }

 private:
  std::string_view key_;
  Kind kind_;
  std::string_view string_;
  union {
    int64_t signed_ = 0;
    uint64_t unsigned_;
    double double_;
    bool bool_;
  };
};

struct LoggerOptions {
  Application application{};  // Required.
  LogLevel level_min = LogLevel::kInfo;
  uint32_t lines_per_event_per_second_max = kLogLinesPerEventPerSecondDefault;
  // Optional: incremented once per dropped line (register it as
  // tangelo_<application>_log_lines_dropped_total). Must outlive the Logger.
  Counter* dropped_lines_counter = nullptr;
};

// Formats, redacts, rate-limits and writes log lines for one application.
// Thread safe. A line below the level threshold costs one atomic load and
// no formatting. Not for the per-request hot path: a written line allocates
// and takes a short lock for its event's rate limit.
class Logger {
 public:
  // `sink` and `clock` must outlive the Logger; nullptr means stderr and the
  // system clock.
  explicit Logger(const LoggerOptions& options, LogSink* sink = nullptr,
                  io::Clock* clock = nullptr);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Writes one line unless the level is below the threshold or the event
  // is over its rate. `trace`, if given and valid, adds the trace fields.
  void Log(LogLevel level, std::string_view event, std::string_view message,
           std::initializer_list<LogField> fields = {}, const SpanContext* trace = nullptr);

  void Debug(std::string_view event, std::string_view message,
             std::initializer_list<LogField> fields = {}, const SpanContext* trace = nullptr) {
    Log(LogLevel::kDebug, event, message, fields, trace);
  }
  void Info(std::string_view event, std::string_view message,
            std::initializer_list<LogField> fields = {}, const SpanContext* trace = nullptr) {
    Log(LogLevel::kInfo, event, message, fields, trace);
  }
  void Warn(std::string_view event, std::string_view message,
            std::initializer_list<LogField> fields = {}, const SpanContext* trace = nullptr) {
    Log(LogLevel::kWarn, event, message, fields, trace);
  }
  void Error(std::string_view event, std::string_view message,
             std::initializer_list<LogField> fields = {}, const SpanContext* trace = nullptr) {
    Log(LogLevel::kError, event, message, fields, trace);
  }

  bool Enabled(LogLevel level) const;
  void SetLevel(LogLevel level_min);
  Application application() const { return application_; }
  // Lines dropped by the rate limit since construction.
  uint64_t dropped_lines() const;

 private:
  struct EventWindow;
  // Returns false to drop; otherwise how many lines of this event were
  // dropped since its last written line (and resets that count).
  bool Admit(std::string_view event, uint64_t* dropped_before);

  const Application application_;
  const uint32_t lines_per_second_max_;
  Counter* const dropped_lines_counter_;
  LogSink* const sink_;
  io::Clock* const clock_;
  std::atomic<uint8_t> level_min_;
  std::atomic<uint64_t> dropped_lines_{0};
  std::mutex mutex_;  // Guards windows_.
  std::unordered_map<std::string, EventWindow> windows_;
};

// Formats Unix nanoseconds as RFC 3339 UTC with milliseconds:
// "2023-11-14T22:13:20.123Z". Exposed for tests and other writers.
std::string FormatRfc3339Millis(uint64_t unix_ns);

// Appends `value` as a JSON string (quotes included): RFC 8259 escaping,
// invalid UTF-8 replaced with U+FFFD. No redaction.
void AppendJsonString(std::string* out, std::string_view value);

}  // namespace tangelo::telemetry
