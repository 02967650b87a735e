#include "net/http_server.h"

#include <string>
#include <utility>

namespace tangelo::net {
namespace {

constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

// Per-thread scratch for serialising responses: grows to the largest
// response once, then serialisation allocates nothing.
std::string& ResponseScratch() {
  thread_local std::string scratch;
  scratch.clear();
  return scratch;
}

}  // namespace

// Counters of one loop, written only by that loop's thread.
struct alignas(64) HttpServer::LoopCounters {
  Counter requests;
  Counter rejected_400;
  Counter rejected_411;
  Counter rejected_413;
  Counter rejected_414;
  Counter rejected_417;
  Counter rejected_431;
  Counter rejected_501;
  Counter rejected_505;
  Counter stray_completions;
};

class HttpServer::Protocol final : public net::Protocol {
 public:
  explicit Protocol(HttpServer* server) : server_(server) {}
  std::unique_ptr<Session> NewSession() override;
  uint32_t InputBytesMax() const override {
    return server_->options_.limits.header_bytes_max + server_->options_.limits.body_bytes_max;
  }
  uint32_t RequestsInFlightMax() const override { return server_->options_.pipeline_depth; }

 private:
  HttpServer* server_;
};

// The HTTP state of one connection slot: the parser's resume point and the
// ring that puts completions back in request order.
class HttpSession final : public Session {
 public:
  explicit HttpSession(HttpServer* server)
      : server_(server),
        mask_(server->options_.pipeline_depth - 1),
        ring_(server->options_.pipeline_depth) {}

  void OnOpen(Connection& connection) override {
    counters_ = server_->counters_[connection.id().loop_index()].get();
    next_sequence_ = 0;
    next_to_write_ = 0;
    head_scanned_ = 0;
    input_closed_ = false;
    continue_sent_ = false;
    for (Pending& pending : ring_) {
      pending.ready = false;
      pending.close_after = false;
      pending.bytes.clear();
    }
  }

  size_t OnData(Connection& connection, std::string_view input) override;
  void OnReply(Connection& connection, uint32_t sequence, std::string_view bytes,
               ReplyKind kind) override;
  void OnClose(Connection& /*connection*/) override {}

 private:
  struct Pending {
    bool ready = false;        // Completed, waiting for earlier responses.
    bool close_after = false;  // Close the connection after this response.
    std::string bytes;
  };

  void Dispatch(Connection& connection);
  void RespondError(Connection& connection, const HttpParseError& error);
  void WriteInOrder(Connection& connection, std::string_view bytes, bool close_after);
  uint32_t in_flight() const { return next_sequence_ - next_to_write_; }

  HttpServer* server_;
  HttpServer::LoopCounters* counters_ = nullptr;
  const uint32_t mask_;
  std::vector<Pending> ring_;
  HttpRequest request_;
  uint32_t next_sequence_ = 0;  // Given to the next request.
  uint32_t next_to_write_ = 0;  // The request whose response goes out next.
  size_t head_scanned_ = 0;     // Bytes of an incomplete head already scanned.
  bool input_closed_ = false;   // After Connection: close or an error.
  bool continue_sent_ = false;
};

std::unique_ptr<Session> HttpServer::Protocol::NewSession() {
  return std::make_unique<HttpSession>(server_);
}

size_t HttpSession::OnData(Connection& connection, std::string_view input) {
  size_t offset = 0;
  while (offset < input.size()) {
    // Nothing after a close request or an error is a request of ours.
    if (input_closed_) return input.size();
    if (!connection.AcceptingRequests()) break;
    const std::string_view rest = input.substr(offset);
    size_t request_bytes = 0;
    HttpParseError error;
    const HttpParseStatus status = ParseHttpRequest(rest, server_->options_.limits, &request_,
                                                    &request_bytes, &error, head_scanned_);
    if (status == HttpParseStatus::kIncomplete) {
      if (request_bytes == 0) {
        head_scanned_ = rest.size();
      } else {
        head_scanned_ = 0;  // Head complete: the body is what is missing.
        // The client waits for our go-ahead before sending the body; only
        // give it when no earlier response is still owed, to keep order.
        if (request_.expects_continue() && !continue_sent_ && in_flight() == 0) {
          connection.Write(kContinueResponse);
          continue_sent_ = true;
        }
      }
      break;
    }
    head_scanned_ = 0;
    continue_sent_ = false;
    if (status == HttpParseStatus::kError) {
      RespondError(connection, error);
      return input.size();
    }
    offset += request_bytes;
    Dispatch(connection);
  }
  return offset;
}

void HttpSession::Dispatch(Connection& connection) {
  counters_->requests.Add();
  const uint32_t sequence = next_sequence_++;
  const bool keep_alive = request_.keep_alive();
  Pending& pending = ring_[sequence & mask_];
  pending.ready = false;
  pending.close_after = !keep_alive;
  if (!keep_alive) input_closed_ = true;
  connection.BeginRequest();
  server_->handler_(request_, HttpResponder(server_, connection.id(), sequence, keep_alive,
                                            request_.is_head(), request_.version_minor()));
}

void HttpSession::RespondError(Connection& connection, const HttpParseError& error) {
  switch (error.status) {
    case 400:
      counters_->rejected_400.Add();
      break;
    case 411:
      counters_->rejected_411.Add();
      break;
    case 413:
      counters_->rejected_413.Add();
      break;
    case 414:
      counters_->rejected_414.Add();
      break;
    case 417:
      counters_->rejected_417.Add();
      break;
    case 431:
      counters_->rejected_431.Add();
      break;
    case 501:
      counters_->rejected_501.Add();
      break;
    case 505:
      counters_->rejected_505.Add();
      break;
    default:
      break;
  }
  input_closed_ = true;
  const uint32_t sequence = next_sequence_++;
  Pending& pending = ring_[sequence & mask_];
  pending.ready = false;
  pending.close_after = true;
  connection.BeginRequest();
  std::string& response = ResponseScratch();
  std::string body(error.reason);
  body.push_back('\n');
  HttpResponseOptions options;
  options.content_type = "text/plain; charset=utf-8";
  options.keep_alive = false;
  options.date = server_->DateHeader();
  SerializeHttpResponse(error.status, body, options, &response);
  OnReply(connection, sequence, response, ReplyKind::kBytes);
}

void HttpSession::OnReply(Connection& connection, uint32_t sequence, std::string_view bytes,
                          ReplyKind kind) {
  const uint32_t position = sequence - next_to_write_;  // Modular: wraps safely.
  if (kind != ReplyKind::kBytes || position >= in_flight() || ring_[sequence & mask_].ready) {
    counters_->stray_completions.Add();
    return;
  }
  Pending& pending = ring_[sequence & mask_];
  if (position != 0) {
    pending.bytes.assign(bytes);  // Keeps its capacity across requests.
    pending.ready = true;
    return;
  }
  WriteInOrder(connection, bytes, pending.close_after);
  ++next_to_write_;
  while (in_flight() > 0) {
    Pending& next = ring_[next_to_write_ & mask_];
    if (!next.ready) break;
    next.ready = false;
    WriteInOrder(connection, next.bytes, next.close_after);
    next.bytes.clear();
    ++next_to_write_;
  }
}

void HttpSession::WriteInOrder(Connection& connection, std::string_view bytes, bool close_after) {
  connection.Write(bytes);
  connection.EndRequest();
  if (close_after) connection.CloseAfterFlush();
}

// ------------------------------------------------------------- HttpResponder

HttpResponder::HttpResponder(HttpResponder&& other) noexcept
    : server_(std::exchange(other.server_, nullptr)),
      connection_(other.connection_),
      sequence_(other.sequence_),
      keep_alive_(other.keep_alive_),
      head_request_(other.head_request_),
      version_minor_(other.version_minor_) {}

HttpResponder& HttpResponder::operator=(HttpResponder&& other) noexcept {
  if (this != &other) {
    if (server_ != nullptr) {
      server_->unanswered_.fetch_add(1, std::memory_order_relaxed);
      Respond(500, "handler did not respond\n", "text/plain; charset=utf-8");
    }
    server_ = std::exchange(other.server_, nullptr);
    connection_ = other.connection_;
    sequence_ = other.sequence_;
    keep_alive_ = other.keep_alive_;
    head_request_ = other.head_request_;
    version_minor_ = other.version_minor_;
  }
  return *this;
}

HttpResponder::~HttpResponder() {
  if (server_ != nullptr) {
    server_->unanswered_.fetch_add(1, std::memory_order_relaxed);
    Respond(500, "handler did not respond\n", "text/plain; charset=utf-8");
  }
}

void HttpResponder::Respond(uint16_t status, std::string_view body, std::string_view content_type,
                            std::span<const HttpHeader> headers) {
  TG_ASSERT_MSG(server_ != nullptr, "HttpResponder used twice, or after a move");
  HttpServer* server = std::exchange(server_, nullptr);
  HttpResponseOptions options;
  options.content_type = content_type;
  options.headers = headers;
  options.keep_alive = keep_alive_ && !server->tcp_.draining();
  options.announce_keep_alive = options.keep_alive && version_minor_ == 0;
  options.head_request = head_request_;
  options.date = server->DateHeader();
  std::string& response = ResponseScratch();
  if (!SerializeHttpResponse(status, body, options, &response)) {
    server->invalid_responses_.fetch_add(1, std::memory_order_relaxed);
    response.clear();
    options.content_type = "text/plain; charset=utf-8";
    options.headers = {};
    SerializeHttpResponse(500, "invalid response header\n", options, &response);
  }
  server->tcp_.Reply(connection_, sequence_, response);
}

// ---------------------------------------------------------------- HttpServer

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      protocol_(std::make_unique<Protocol>(this)),
      tcp_(options_.tcp, protocol_.get()) {
  TG_ASSERT(handler_ != nullptr);
}

HttpServer::~HttpServer() { tcp_.Shutdown(0); }

Status HttpServer::Start() {
  const HttpRequestLimits& limits = options_.limits;
  if (limits.request_line_bytes_max == 0 ||
      limits.request_line_bytes_max > kHttpRequestLineBytesMax || limits.header_bytes_max < 64 ||
      limits.header_bytes_max > kHttpHeaderBytesMax || limits.header_count_max == 0 ||
      limits.header_count_max > kHttpHeaderCountMax || limits.body_bytes_max > kHttpBodyBytesMax) {
    return base::InvalidArgument("HTTP limits out of range (see net/limits.h)");
  }
  const uint32_t depth = options_.pipeline_depth;
  if (depth == 0 || depth > kHttpPipelineDepthMax || (depth & (depth - 1)) != 0) {
    return base::InvalidArgument("pipeline_depth must be a power of two in [1, " +
                                 std::to_string(kHttpPipelineDepthMax) + "]");
  }
  for (uint32_t i = 0; i < options_.tcp.loop_threads && i < kLoopThreadsMax; ++i) {
    counters_.push_back(std::make_unique<LoopCounters>());
  }
  return tcp_.Start();
}

std::string_view HttpServer::DateHeader() {
  if (!options_.date_header) return {};
  struct Cache {
    int64_t second = -1;
    char text[32] = {};
    std::string_view view;
  };
  thread_local Cache cache;
  io::Clock& clock =
      options_.tcp.clock != nullptr ? *options_.tcp.clock : io::SystemClock::Instance();
  const auto second = static_cast<int64_t>(clock.RealtimeNs() / 1'000'000'000ULL);
  if (second != cache.second) {
    cache.view = FormatHttpDate(second, cache.text);
    cache.second = second;
  }
  return cache.view;
}

HttpServerStats HttpServer::Stats() const {
  HttpServerStats stats;
  for (const std::unique_ptr<LoopCounters>& counters : counters_) {
    stats.requests += counters->requests.value();
    stats.rejected_400 += counters->rejected_400.value();
    stats.rejected_411 += counters->rejected_411.value();
    stats.rejected_413 += counters->rejected_413.value();
    stats.rejected_414 += counters->rejected_414.value();
    stats.rejected_417 += counters->rejected_417.value();
    stats.rejected_431 += counters->rejected_431.value();
    stats.rejected_501 += counters->rejected_501.value();
    stats.rejected_505 += counters->rejected_505.value();
    stats.stray_completions += counters->stray_completions.value();
  }
  stats.unanswered_500 = unanswered_.load(std::memory_order_relaxed);
  stats.invalid_response_500 = invalid_responses_.load(std::memory_order_relaxed);
  stats.tcp = tcp_.Stats();
  return stats;
}

}  // namespace tangelo::net
