#include "gateway/loadgen_runner.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <thread>
#include <vector>

#include "base/assert.h"
#include "base/random.h"
#include "gateway/iso8583_codec.h"
#include "gateway/iso8583_fields.h"
#include "gateway/iso8583_message.h"
#include "gateway/iso8583_types.h"
#include "io/clock.h"
#include "telemetry/histogram.h"

namespace tangelo::gateway {
namespace {

constexpr uint32_t kStanTableSize = 1u << 16;  // > kLoadDepthMax: no two in flight collide.
constexpr uint32_t kApprovalRingSize = 256;    // Reversal candidates per connection.
constexpr uint64_t kDrainNs = 2'000'000'000ULL;
constexpr size_t kInputBytes = 256 * 1024;

enum class Kind : uint8_t { kNone = 0, kPurchase = 1, kDecline = 2, kReversal = 3 };

struct InFlight {
  uint64_t intended_ns = 0;
  Kind kind = Kind::kNone;
  uint32_t ring_index = 0;  // Purchases: where their ids wait for a reversal.
};

// What a reversal needs of an approved purchase.
struct Approval {
  uint32_t stan = 0;
  uint64_t serial = 0;
  std::array<char, 12> rrn{};
  std::array<char, 10> date_time{};
  bool live = false;
};

struct Shared {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> answered{0};
  std::atomic<bool> stop{false};
  std::atomic<uint32_t> connections_done{0};
};

struct ConnectionResult {
  uint64_t sent = 0;
  uint64_t answered = 0;
  uint64_t approved = 0;
  std::map<std::string, uint64_t> errors;
  std::array<uint64_t, 100> codes{};
  telemetry::Histogram latency_ns;
};

class ConnectionDriver {
 public:
  ConnectionDriver(const LoadOptions& options, uint32_t index, uint64_t start_ns, uint64_t end_ns,
                   Shared* shared)
      : options_(options),
        index_(index),
        start_ns_(start_ns),
        end_ns_(end_ns),
        shared_(shared),
        random_(options.seed * 1'000'003 + index),
        table_(kStanTableSize),
        ring_(kApprovalRingSize),
        input_(kInputBytes) {}

  ConnectionResult Run() {
    if (!Connect()) {
      ++result_.errors["connect"];
      return std::move(result_);
    }
    const uint64_t interval_ns =
        options_.rate_per_second == 0
            ? 0
            : std::max<uint64_t>(
                  1, 1'000'000'000ULL * options_.connections / options_.rate_per_second);
    // Spread the connections' schedules over one interval.
    uint64_t next_send_ns = start_ns_ + interval_ns * index_ / options_.connections;
    bool failed = false;
    while (!failed) {
      const uint64_t now_ns = clock_.MonotonicNs();
      const bool sending = now_ns < end_ns_ && !shared_->stop.load(std::memory_order_relaxed);
      if (!sending && (in_flight_ == 0 || now_ns >= end_ns_ + kDrainNs)) break;
      if (sending) {
        if (interval_ns == 0) {
          while (in_flight_ < options_.depth) Send(now_ns);
        } else {
          while (next_send_ns <= now_ns && next_send_ns < end_ns_ && in_flight_ < options_.depth) {
            Send(next_send_ns);
            next_send_ns += interval_ns;
          }
        }
      }
      if (!Flush()) {
        failed = true;
        break;
      }
      // Wait for responses, or until the next scheduled send.
      int64_t wait_ns = 100'000'000;
      if (sending && interval_ns != 0 && in_flight_ < options_.depth) {
        wait_ns = next_send_ns > now_ns ? static_cast<int64_t>(next_send_ns - now_ns) : 0;
      }
      pollfd poll_fd{fd_, static_cast<short>(POLLIN | (output_.empty() ? 0 : POLLOUT)), 0};
      timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000),
                       static_cast<long>(wait_ns % 1'000'000'000)};
      const int ready = ppoll(&poll_fd, 1, &timeout, nullptr);
      if (ready < 0 && errno != EINTR) {
        failed = true;
        break;
      }
      if (ready > 0 && (poll_fd.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        if (!ReadResponses()) failed = true;
      }
    }
    // Open loop: what the schedule called for but the depth limit held back
    // until the end is reported, not silently dropped.
    if (interval_ns != 0 && next_send_ns < end_ns_) {
      result_.errors["not_sent"] += (end_ns_ - next_send_ns + interval_ns - 1) / interval_ns;
    }
    if (failed) ++result_.errors["closed"];
    if (in_flight_ > 0) result_.errors["unanswered"] += in_flight_;
    ::close(fd_);
    return std::move(result_);
  }

 private:
  bool Connect() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(options_.port);
    if (inet_pton(AF_INET, options_.host.c_str(), &address.sin_addr) != 1) return false;
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      ::close(fd_);
      return false;
    }
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return true;
  }

  uint32_t NextStan() {
    // A STAN whose table cell is free (at most depth are taken).
    do {
      stan_ = stan_ >= 999'999 ? 1 : stan_ + 1;
    } while (table_[stan_ % kStanTableSize].kind != Kind::kNone);
    return stan_;
  }

  void Send(uint64_t intended_ns) {
    const uint32_t roll = static_cast<uint32_t>(random_.Uniform(100));
    Kind kind = Kind::kPurchase;
    if (roll < options_.decline_percent) {
      kind = Kind::kDecline;
    } else if (roll < options_.decline_percent + options_.reversal_percent) {
      kind = Kind::kReversal;
    }
    const uint32_t stan = NextStan();
    InFlight& entry = table_[stan % kStanTableSize];
    entry.intended_ns = intended_ns;
    entry.kind = kind;
    Iso8583Message message;
    char stan_text[16];
    std::snprintf(stan_text, sizeof(stan_text), "%06u", stan);
    char amount_text[32];
    std::snprintf(amount_text, sizeof(amount_text), "%012llu",
                  static_cast<unsigned long long>(options_.amount_minor));
    char currency_text[16];
    std::snprintf(currency_text, sizeof(currency_text), "%03u",
                  unsigned{options_.currency_numeric});
    std::array<char, 10> date_time = DateTimeNow();
    char rrn[32];
    std::snprintf(rrn, sizeof(rrn), "%04u%08u", index_ % 10000, ++rrn_counter_ % 100'000'000);
    std::string pan;
    Approval* original = nullptr;
    if (kind == Kind::kReversal) {
      original = TakeApproval();
      if (original == nullptr) kind = entry.kind = Kind::kPurchase;  // Nothing to reverse yet.
    }
    message.set_mti(kind == Kind::kReversal ? mti::kReversalRequest : mti::kAuthorizationRequest);
    char field90[48];
    if (kind == Kind::kReversal) {
      pan = LoadCardPan(original->serial);
      std::memcpy(rrn, original->rrn.data(), 12);
      std::snprintf(field90, sizeof(field90), "0100%06u%.10s0000012345600000000000", original->stan,
                    original->date_time.data());
      message.SetField(field::kOriginalDataElements, std::string_view(field90, 42));
    } else if (kind == Kind::kDecline) {
      pan = LoadCardPan(999'999'999);  // Never provisioned: 14.
    } else {
      const uint64_t serial = options_.card_serial_first + random_.Uniform(options_.card_count);
      pan = LoadCardPan(serial);
      const uint32_t ring_index = ring_cursor_++ % kApprovalRingSize;
      Approval& approval = ring_[ring_index];
      approval.stan = stan;
      approval.serial = serial;
      approval.live = false;  // Until approved.
      std::memcpy(approval.rrn.data(), rrn, 12);
      approval.date_time = date_time;
      entry.ring_index = ring_index;
    }
    message.SetField(field::kPan, std::string_view(pan));
    message.SetField(field::kProcessingCode, "000000");
    message.SetField(field::kTransactionAmount, std::string_view(amount_text, 12));
    message.SetField(field::kTransmissionDateTime, std::string_view(date_time.data(), 10));
    message.SetField(field::kStan, std::string_view(stan_text, 6));
    message.SetField(field::kAcquirerId, "123456");
    message.SetField(field::kRetrievalReferenceNumber, std::string_view(rrn, 12));
    message.SetField(field::kTerminalId, "TERM0001");
    message.SetField(field::kCardAcceptorId, "MERCHANT0000001");
    message.SetField(field::kCurrencyCode, std::string_view(currency_text, 3));
    if (kind != Kind::kReversal) {
      message.SetField(field::kMerchantCategoryCode, "5411");
      message.SetField(field::kPosEntryMode, "051");
      message.SetField(field::kCardAcceptorNameLocation,
                       "TANGELO LOAD STORE       SPRINGFIELD  US");
    }
    std::array<uint8_t, kIso8583FrameSizeMax + 2> frame;
    auto size = EncodeFrame(*options_.spec, message, frame);
    TG_ASSERT_MSG(size.ok(), "the load generator built an invalid message");
    output_.insert(output_.end(), frame.begin(), frame.begin() + static_cast<ptrdiff_t>(*size));
    ++in_flight_;
    ++result_.sent;
    shared_->sent.fetch_add(1, std::memory_order_relaxed);
  }

  Approval* TakeApproval() {
    for (uint32_t probe = 0; probe < kApprovalRingSize; ++probe) {
      Approval& approval = ring_[(reversal_cursor_ + probe) % kApprovalRingSize];
      if (approval.live) {
        approval.live = false;
        reversal_cursor_ += probe + 1;
        return &approval;
      }
    }
    return nullptr;
  }

  static std::array<char, 10> DateTimeNow() {
    const time_t now = std::time(nullptr);
    tm utc{};
    gmtime_r(&now, &utc);
    std::array<char, 64> text{};
    std::snprintf(text.data(), text.size(), "%02d%02d%02d%02d%02d", utc.tm_mon + 1, utc.tm_mday,
                  utc.tm_hour, utc.tm_min, utc.tm_sec);
    std::array<char, 10> out{};
    std::memcpy(out.data(), text.data(), 10);
    return out;
  }

  bool Flush() {
    size_t written = 0;
    while (written < output_.size()) {
      const ssize_t sent = ::send(fd_, output_.data() + written, output_.size() - written,
                                  MSG_DONTWAIT | MSG_NOSIGNAL);
      if (sent > 0) {
        written += static_cast<size_t>(sent);
      } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      } else if (sent < 0 && errno == EINTR) {
        continue;
      } else {
        return false;
      }
    }
    output_.erase(output_.begin(), output_.begin() + static_cast<ptrdiff_t>(written));
    return true;
  }

  bool ReadResponses() {
    while (true) {
      const ssize_t got =
          ::recv(fd_, input_.data() + input_used_, input_.size() - input_used_, MSG_DONTWAIT);
      if (got == 0) return false;
      if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        return false;
      }
      input_used_ += static_cast<size_t>(got);
      if (!ParseFrames()) return false;
      if (input_used_ == input_.size()) return false;  // A frame larger than the buffer.
    }
    return true;
  }

  bool ParseFrames() {
    const uint64_t now_ns = clock_.MonotonicNs();
    size_t offset = 0;
    Iso8583Message response;
    while (input_used_ - offset >= 2) {
      const size_t length = (size_t{input_[offset]} << 8) | input_[offset + 1];
      if (input_used_ - offset - 2 < length) break;
      const std::span<const uint8_t> bytes(input_.data() + offset + 2, length);
      offset += 2 + length;
      if (!Decode(*options_.spec, bytes, &response).ok()) {
        ++result_.errors["decode"];
        continue;
      }
      auto stan = ReadStan(response);
      auto code = ReadResponseCode(response);
      if (!stan.ok() || !code.ok()) {
        ++result_.errors["decode"];
        continue;
      }
      InFlight& entry = table_[*stan % kStanTableSize];
      if (entry.kind == Kind::kNone) {
        ++result_.errors["unmatched"];
        continue;
      }
      const auto code_value = static_cast<uint8_t>(*code);
      ++result_.codes[code_value % 100];
      if (*code == Iso8583ResponseCode::kApproved ||
          *code == Iso8583ResponseCode::kPartialApproval) {
        ++result_.approved;
        if (entry.kind == Kind::kPurchase) {
          Approval& approval = ring_[entry.ring_index];
          if (approval.stan == *stan) approval.live = true;
        }
      }
      result_.latency_ns.Record(now_ns > entry.intended_ns ? now_ns - entry.intended_ns : 0);
      entry.kind = Kind::kNone;
      --in_flight_;
      ++result_.answered;
      shared_->answered.fetch_add(1, std::memory_order_relaxed);
    }
    std::memmove(input_.data(), input_.data() + offset, input_used_ - offset);
    input_used_ -= offset;
    return true;
  }

  const LoadOptions& options_;
  const uint32_t index_;
  const uint64_t start_ns_;
  const uint64_t end_ns_;
  Shared* shared_;
  io::SystemClock clock_;
  base::Random random_;
  int fd_ = -1;
  uint32_t stan_ = 0;
  uint32_t rrn_counter_ = 0;
  uint32_t in_flight_ = 0;
  uint32_t ring_cursor_ = 0;
  uint32_t reversal_cursor_ = 0;
  std::vector<InFlight> table_;
  std::vector<Approval> ring_;
  std::vector<uint8_t> output_;
  std::vector<uint8_t> input_;
  size_t input_used_ = 0;
  ConnectionResult result_;
};

base::Status Validate(const LoadOptions& options) {
  if (options.spec == nullptr) return base::InvalidArgument("load: no dialect");
  if (options.port == 0) return base::InvalidArgument("load: --port is required");
  if (options.connections == 0 || options.connections > kLoadConnectionsMax) {
    return base::InvalidArgument("load: connections must be 1..1024");
  }
  if (options.depth == 0 || options.depth > kLoadDepthMax) {
    return base::InvalidArgument("load: depth must be 1..4096");
  }
  if (!(options.duration_seconds > 0) || options.duration_seconds > kLoadDurationSecondsMax) {
    return base::InvalidArgument("load: duration must be > 0 and at most a day");
  }
  if (options.decline_percent + options.reversal_percent > 100) {
    return base::InvalidArgument("load: decline + reversal shares exceed 100%");
  }
  if (options.card_count == 0 || options.card_serial_first + options.card_count > 999'999'999) {
    return base::InvalidArgument("load: card serials must be 1..999999998");
  }
  if (options.amount_minor > 999'999'999'999ULL) {
    return base::InvalidArgument("load: amount over 12 digits");
  }
  return base::Status::Ok();
}

}  // namespace

std::string LoadCardPan(uint64_t serial) {
  char body[16];
  std::snprintf(body, sizeof(body), "411111%09llu",
                static_cast<unsigned long long>(serial % 1'000'000'000));
  // Luhn check digit of the 15-digit body.
  int sum = 0;
  for (int position = 0; position < 15; ++position) {
    int digit = body[14 - position] - '0';
    if (position % 2 == 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  std::string pan(body, 15);
  pan.push_back(static_cast<char>('0' + (10 - sum % 10) % 10));
  return pan;
}

std::string LoadReport::ToJson(const LoadOptions& options) const {
  std::string json = "{\"door\":\"iso8583\",\"mode\":\"";
  json += options.rate_per_second == 0 ? "closed" : "open";
  char buffer[512];
  std::snprintf(buffer, sizeof(buffer),
                "\",\"connections\":%u,\"depth\":%u,\"rate_per_second\":%llu,"
                "\"duration_seconds\":%.3f,\"sent\":%llu,\"answered\":%llu,\"approved\":%llu,"
                "\"throughput_per_second\":%.1f,\"latency_ns\":{\"p50\":%llu,\"p99\":%llu,"
                "\"p999\":%llu,\"max\":%llu},\"errors\":{",
                options.connections, options.depth,
                static_cast<unsigned long long>(options.rate_per_second), elapsed_seconds,
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(answered),
                static_cast<unsigned long long>(approved), throughput_per_second,
                static_cast<unsigned long long>(latency_p50_ns),
                static_cast<unsigned long long>(latency_p99_ns),
                static_cast<unsigned long long>(latency_p999_ns),
                static_cast<unsigned long long>(latency_max_ns));
  json += buffer;
  bool first = true;
  for (const auto& [kind, count] : errors) {
    json += (first ? "\"" : ",\"") + kind + "\":" + std::to_string(count);
    first = false;
  }
  json += "},\"response_codes\":{";
  first = true;
  for (const auto& [code, count] : response_codes) {
    json += (first ? "\"" : ",\"") + code + "\":" + std::to_string(count);
    first = false;
  }
  json += "}}";
  return json;
}

base::Result<LoadReport> RunLoad(const LoadOptions& options) {
  TG_RETURN_IF_ERROR(Validate(options));
  io::SystemClock clock;
  const uint64_t start_ns = clock.MonotonicNs();
  const auto duration_ns = static_cast<uint64_t>(options.duration_seconds * 1e9);
  const uint64_t end_ns = start_ns + duration_ns;
  Shared shared;
  std::vector<ConnectionResult> results(options.connections);
  std::vector<std::thread> threads;
  threads.reserve(options.connections);
  for (uint32_t index = 0; index < options.connections; ++index) {
    threads.emplace_back([&, index] {
      ConnectionDriver driver(options, index, start_ns, end_ns, &shared);
      results[index] = driver.Run();
      shared.connections_done.fetch_add(1, std::memory_order_release);
    });
  }
  // Progress, once a second, from this thread.
  uint64_t last_answered = 0;
  uint64_t next_report_ns = start_ns + 1'000'000'000ULL;
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const uint64_t now_ns = clock.MonotonicNs();
    if (now_ns >= end_ns + kDrainNs + 1'000'000'000ULL) break;
    if (shared.connections_done.load(std::memory_order_acquire) == options.connections) break;
    if (options.progress && now_ns >= next_report_ns) {
      const uint64_t answered = shared.answered.load(std::memory_order_relaxed);
      std::fprintf(stderr, "[load] %4.0fs sent=%llu answered=%llu rate=%llu/s in_flight=%llu\n",
                   static_cast<double>(now_ns - start_ns) / 1e9,
                   static_cast<unsigned long long>(shared.sent.load()),
                   static_cast<unsigned long long>(answered),
                   static_cast<unsigned long long>(answered - last_answered),
                   static_cast<unsigned long long>(shared.sent.load() - answered));
      last_answered = answered;
      next_report_ns += 1'000'000'000ULL;
    }
  }
  for (std::thread& thread : threads) thread.join();
  const uint64_t finished_ns = clock.MonotonicNs();

  LoadReport report;
  telemetry::Histogram latency;
  std::array<uint64_t, 100> codes{};
  uint64_t connect_failures = 0;
  for (const ConnectionResult& result : results) {
    report.sent += result.sent;
    report.answered += result.answered;
    report.approved += result.approved;
    for (const auto& [kind, count] : result.errors) report.errors[kind] += count;
    for (size_t code = 0; code < codes.size(); ++code) codes[code] += result.codes[code];
    latency.Merge(result.latency_ns);
    if (result.errors.count("connect") != 0) ++connect_failures;
  }
  if (connect_failures == options.connections) {
    return base::IoError("load: could not connect to " + options.host + ":" +
                         std::to_string(options.port));
  }
  for (size_t code = 0; code < codes.size(); ++code) {
    if (codes[code] == 0) continue;
    report.response_codes[std::string(ResponseCodeText(static_cast<Iso8583ResponseCode>(code)))] =
        codes[code];
  }
  // Throughput over the sending window (the drain adds no new requests).
  report.elapsed_seconds = static_cast<double>(std::min(finished_ns, end_ns) - start_ns) / 1e9;
  report.throughput_per_second = report.elapsed_seconds > 0
                                     ? static_cast<double>(report.answered) / report.elapsed_seconds
                                     : 0;
  if (latency.Count() > 0) {
    report.latency_p50_ns = latency.ValueAtQuantile(0.50);
    report.latency_p99_ns = latency.ValueAtQuantile(0.99);
    report.latency_p999_ns = latency.ValueAtQuantile(0.999);
    report.latency_max_ns = latency.Max();
  }
  return report;
}

}  // namespace tangelo::gateway
