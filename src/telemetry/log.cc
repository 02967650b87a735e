#include "telemetry/log.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>

#include "base/assert.h"
#include "io/clock.h"
#include "telemetry/metrics.h"
#include "telemetry/redaction.h"
#include "telemetry/text.h"

namespace tangelo::telemetry {

struct Logger::EventWindow {
  uint64_t window_start_ns = 0;
  uint32_t lines_in_window = 0;
  uint64_t dropped_since_written = 0;
  bool started = false;
};

namespace {

constexpr uint64_t kNanosPerSecond = 1'000'000'000;
constexpr std::string_view kTruncationMarker = "...";
// Keys the logger writes itself; a field with one of these names is renamed.
constexpr std::string_view kReservedKeys[] = {"time",     "level",       "application",
                                              "event",    "message",     "trace_id",
                                              "span_id",  "trace_flags", "dropped",
                                              "fields_dropped"};

bool IsReservedKey(std::string_view key) {
  for (const std::string_view reserved : kReservedKeys) {
    if (key == reserved) return true;
  }
  return false;
}

// Masks card numbers, then bounds the length at a UTF-8 boundary. Masking
// first means truncation can never cut a card number into a shorter,
// unmasked run.
std::string Redacted(std::string_view value) {
  std::string copy(value);
  MaskCardNumbers(&copy);
  if (copy.size() > kLogValueBytesMax) {
    size_t cut = kLogValueBytesMax - kTruncationMarker.size();
    while (cut > 0 && (static_cast<uint8_t>(copy[cut]) & 0xC0u) == 0x80u) --cut;
    copy.resize(cut);
    copy.append(kTruncationMarker);
  }
  return copy;
}

void AppendKey(std::string* out, std::string_view key) {
  out->push_back(',');
  AppendJsonString(out, key);
  out->push_back(':');
}

void AppendRedactedString(std::string* out, std::string_view value) {
  AppendJsonString(out, Redacted(value));
}

// A number in text form: written bare unless it holds a card number, in
// which case the masked text is written as a string.
void AppendNumberText(std::string* out, std::string text) {
  if (MaskCardNumbers(&text) > 0) {
    AppendJsonString(out, text);
  } else {
    out->append(text);
  }
}

void AppendFieldValue(std::string* out, const LogField& field) {
  switch (field.kind()) {
    case LogField::Kind::kString:
      AppendRedactedString(out, field.string_value());
      return;
    case LogField::Kind::kSigned:
      AppendNumberText(out, std::to_string(field.signed_value()));
      return;
    case LogField::Kind::kUnsigned:
      AppendNumberText(out, std::to_string(field.unsigned_value()));
      return;
    case LogField::Kind::kDouble:
      if (!std::isfinite(field.double_value())) {
        AppendJsonString(out, text::FormatDouble(field.double_value()));
      } else {
        AppendNumberText(out, text::FormatDouble(field.double_value()));
      }
      return;
    case LogField::Kind::kBool:
      out->append(field.bool_value() ? "true" : "false");
      return;
  }
}

void AppendTwoDigits(std::string* out, uint64_t value) {
  out->push_back(static_cast<char>('0' + value / 10));
  out->push_back(static_cast<char>('0' + value % 10));
}

}  // namespace

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

void AppendJsonString(std::string* out, std::string_view value) {
  out->push_back('"');
  text::AppendSanitizedUtf8(out, value, [](char c, std::string* escaped) {
    static constexpr char kHex[] = "0123456789abcdef";
    switch (c) {
      case '"':
        escaped->append("\\\"");
        return true;
      case '\\':
        escaped->append("\\\\");
        return true;
      case '\n':
        escaped->append("\\n");
        return true;
      case '\r':
        escaped->append("\\r");
        return true;
      case '\t':
        escaped->append("\\t");
        return true;
      case '\b':
        escaped->append("\\b");
        return true;
      case '\f':
        escaped->append("\\f");
        return true;
      default:
        if (static_cast<uint8_t>(c) >= 0x20) return false;
        // Other control characters: \u00XX.
        escaped->append("\\u00");
        escaped->push_back(kHex[static_cast<uint8_t>(c) >> 4]);
        escaped->push_back(kHex[static_cast<uint8_t>(c) & 0x0F]);
        return true;
    }
  });
  out->push_back('"');
}

std::string FormatRfc3339Millis(uint64_t unix_ns) {
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm),
  // so the result never depends on the process's time zone or locale.
  const uint64_t days = unix_ns / (86400 * kNanosPerSecond);
  const uint64_t nanos_of_day = unix_ns % (86400 * kNanosPerSecond);
  const uint64_t z = days + 719468;
  const uint64_t era = z / 146097;
  const uint64_t day_of_era = z - era * 146097;
  const uint64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const uint64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const uint64_t month_index = (5 * day_of_year + 2) / 153;
  const uint64_t day = day_of_year - (153 * month_index + 2) / 5 + 1;
  const uint64_t month = month_index < 10 ? month_index + 3 : month_index - 9;
  const uint64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);

  const uint64_t seconds_of_day = nanos_of_day / kNanosPerSecond;
  const uint64_t millis = (nanos_of_day % kNanosPerSecond) / 1'000'000;
  std::string out = std::to_string(year);
  out.reserve(24);
  out.push_back('-');
  AppendTwoDigits(&out, month);
  out.push_back('-');
  AppendTwoDigits(&out, day);
  out.push_back('T');
  AppendTwoDigits(&out, seconds_of_day / 3600);
  out.push_back(':');
  AppendTwoDigits(&out, seconds_of_day / 60 % 60);
  out.push_back(':');
  AppendTwoDigits(&out, seconds_of_day % 60);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + millis / 100));
  AppendTwoDigits(&out, millis % 100);
  out.push_back('Z');
  return out;
}

void StderrLogSink::Write(std::string_view line) {
  const char* data = line.data();
  size_t remaining = line.size();
  while (remaining > 0) {
    const ssize_t written = ::write(STDERR_FILENO, data, remaining);
    if (written < 0) {
      if (errno == EINTR) continue;
      return;  // Nowhere left to report a failure to log.
    }
    data += written;
    remaining -= static_cast<size_t>(written);
  }
}

StderrLogSink& StderrLogSink::Instance() {
  static StderrLogSink* sink = new StderrLogSink();
  return *sink;
}

void MemoryLogSink::Write(std::string_view line) {
  std::lock_guard<std::mutex> lock(mutex_);
  lines_.emplace_back(line);
}

std::vector<std::string> MemoryLogSink::Lines() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return lines_;
}

std::string MemoryLogSink::Text() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string text;
  for (const std::string& line : lines_) text += line;
  return text;
}

void MemoryLogSink::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  lines_.clear();
}

Logger::Logger(const LoggerOptions& options, LogSink* sink, io::Clock* clock)
    : application_(options.application),
      lines_per_second_max_(options.lines_per_event_per_second_max),
      dropped_lines_counter_(options.dropped_lines_counter),
      sink_(sink != nullptr ? sink : &StderrLogSink::Instance()),
      clock_(clock != nullptr ? clock : &io::SystemClock::Instance()),
      level_min_(static_cast<uint8_t>(options.level_min)) {
  TG_ASSERT_MSG(IsValidApplication(options.application), "a Logger needs its application");
}

Logger::~Logger() = default;

bool Logger::Enabled(LogLevel level) const {
  return static_cast<uint8_t>(level) >= level_min_.load(std::memory_order_relaxed);
}

void Logger::SetLevel(LogLevel level_min) {
  level_min_.store(static_cast<uint8_t>(level_min), std::memory_order_relaxed);
}

uint64_t Logger::dropped_lines() const { return dropped_lines_.load(std::memory_order_relaxed); }

bool Logger::Admit(std::string_view event, uint64_t* dropped_before) {
  *dropped_before = 0;
  if (lines_per_second_max_ == 0) return true;  // 0: no limit.
  const uint64_t now_ns = clock_->MonotonicNs();
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = windows_.find(std::string(event));
  if (it == windows_.end()) {
    // Past the bound on distinct names, every new name shares one window,
    // so a storm of unique event names cannot grow memory either.
    const std::string key = windows_.size() < kLogEventNamesMax ? std::string(event) : "";
    it = windows_.try_emplace(key).first;
  }
  EventWindow& window = it->second;
  if (!window.started || now_ns - window.window_start_ns >= kNanosPerSecond) {
    window.started = true;
    window.window_start_ns = now_ns;
    window.lines_in_window = 0;
  }
  if (window.lines_in_window >= lines_per_second_max_) {
    ++window.dropped_since_written;
    return false;
  }
  ++window.lines_in_window;
  *dropped_before = window.dropped_since_written;
  window.dropped_since_written = 0;
  return true;
}

void Logger::Log(LogLevel level, std::string_view event, std::string_view message,
                 std::initializer_list<LogField> fields, const SpanContext* trace) {
  if (!Enabled(level)) return;
  uint64_t dropped_before = 0;
  if (!Admit(event, &dropped_before)) {
    dropped_lines_.fetch_add(1, std::memory_order_relaxed);
    if (dropped_lines_counter_ != nullptr) dropped_lines_counter_->Increment();
    return;
  }

  std::string line;
  line.reserve(256);
  line.append("{\"time\":\"");
  line.append(FormatRfc3339Millis(clock_->RealtimeNs()));
  line.append("\",\"level\":\"");
  line.append(LogLevelName(level));
  line.append("\",\"application\":\"");
  line.append(ApplicationName(application_));
  line.push_back('"');
  AppendKey(&line, "event");
  AppendRedactedString(&line, event);
  AppendKey(&line, "message");
  AppendRedactedString(&line, message);
  if (trace != nullptr && trace->valid()) {
    line.append(",\"trace_id\":\"");
    trace->trace_id.AppendHex(&line);
    line.append("\",\"span_id\":\"");
    trace->span_id.AppendHex(&line);
    line.append("\",\"trace_flags\":\"");
    static constexpr char kHex[] = "0123456789abcdef";
    line.push_back(kHex[trace->trace_flags >> 4]);
    line.push_back(kHex[trace->trace_flags & 0x0F]);
    line.push_back('"');
  }
  uint32_t written_fields = 0;
  uint32_t dropped_fields = 0;
  for (const LogField& field : fields) {
    if (written_fields == kLogFieldsMax) {
      ++dropped_fields;
      continue;
    }
    ++written_fields;
    const std::string_view key = field.key();
    AppendKey(&line, IsReservedKey(key) ? Redacted("field_" + std::string(key)) : Redacted(key));
    if (IsSensitiveKey(key)) {
      AppendJsonString(&line, kRedactedValue);
    } else {
      AppendFieldValue(&line, field);
    }
  }
  if (dropped_fields > 0) {
    AppendKey(&line, "fields_dropped");
    line.append(std::to_string(dropped_fields));
  }
  if (dropped_before > 0) {
    AppendKey(&line, "dropped");
    line.append(std::to_string(dropped_before));
  }
  line.append("}\n");
  sink_->Write(line);
}

}  // namespace tangelo::telemetry
