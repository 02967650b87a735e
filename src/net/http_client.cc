#include "net/http_client.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <future>
#include <unordered_map>

#include "net/http_parser.h"
#include "net/socket.h"

namespace tangelo::net {
namespace {

constexpr uint64_t kNsPerMs = 1'000'000;
constexpr uint32_t kConnectionEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
constexpr size_t kReadChunkBytes = 16 * 1024;

struct ParsedUrl {
  std::string host;  // Without brackets.
  uint16_t port = 80;
  std::string host_header;  // As the Host header carries it.
  std::string target;       // Origin-form: "/path?query".
};

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && EqualsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

std::string ToLowerAscii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return lower;
}

// Parses "http://host[:port][/path][?query][#fragment]". Errors are
// human-readable reasons.
bool ParseHttpUrl(std::string_view url, ParsedUrl* parsed, std::string* error) {
  if (StartsWithIgnoreCase(url, "https://")) {
    *error = "https is not supported (no TLS yet): use http://";
    return false;
  }
  if (!StartsWithIgnoreCase(url, "http://")) {
    *error = "URL must start with http://";
    return false;
  }
  std::string_view rest = url.substr(7);
  rest = rest.substr(0, rest.find('#'));
  const size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    *error = "URL has no host, or has user information";
    return false;
  }
  std::string_view host = authority;
  std::string_view port_text;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      *error = "unterminated IPv6 literal";
      return false;
    }
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        *error = "bad authority";
        return false;
      }
      port_text = after.substr(1);
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  if (host.empty()) {
    *error = "URL has no host";
    return false;
  }
  parsed->port = 80;
  if (!port_text.empty() || authority.back() == ':') {
    uint32_t port = 0;
    const auto result =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || result.ec != std::errc() ||
        result.ptr != port_text.data() + port_text.size() || port == 0 || port > 65535) {
      *error = "bad port";
      return false;
    }
    parsed->port = static_cast<uint16_t>(port);
  }
  for (const char c : target) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) {
      *error = "URL path has spaces or control characters";
      return false;
    }
  }
  parsed->host = std::string(host);
  parsed->host_header = std::string(authority);
  if (target.empty()) {
    parsed->target = "/";
  } else if (target.front() == '?') {
    parsed->target = "/" + std::string(target);
  } else {
    parsed->target = std::string(target);
  }
  return true;
}

HttpClientResponse Failure(HttpClientResultCode code, std::string error) {
  HttpClientResponse response;
  response.code = code;
  response.error = std::move(error);
  return response;
}

}  // namespace

std::string_view HttpClientResultCodeName(HttpClientResultCode code) {
  switch (code) {
    case HttpClientResultCode::kOk:
      return "OK";
    case HttpClientResultCode::kTimeout:
      return "TIMEOUT";
    case HttpClientResultCode::kConnectionRefused:
      return "CONNECTION_REFUSED";
    case HttpClientResultCode::kConnectionReset:
      return "CONNECTION_RESET";
    case HttpClientResultCode::kMalformedResponse:
      return "MALFORMED_RESPONSE";
    case HttpClientResultCode::kBodyTooLarge:
      return "BODY_TOO_LARGE";
    case HttpClientResultCode::kInvalidRequest:
      return "INVALID_REQUEST";
    case HttpClientResultCode::kOverloaded:
      return "OVERLOADED";
    case HttpClientResultCode::kShutdown:
      return "SHUTDOWN";
    case HttpClientResultCode::kNetworkError:
      return "NETWORK_ERROR";
  }
  return "UNKNOWN";
}

std::optional<std::string_view> HttpClientResponse::Header(std::string_view name) const {
  for (const auto& [header_name, value] : headers) {
    if (EqualsIgnoreCase(header_name, name)) return std::string_view(value);
  }
  return std::nullopt;
}

// All state lives on the loop thread, except the shut-down flag.
class HttpClient::Impl final : public EndOfIterationHandler {
 public:
  Impl(EventLoop* loop, HttpClientOptions options,
       std::vector<std::pair<std::string, SocketAddress>> hosts)
      : loop_(loop), options_(std::move(options)), hosts_(std::move(hosts)) {}

  ~Impl() = default;

  // Registers for end-of-iteration calls, on the loop thread when the loop
  // runs. Requests posted later queue behind this, so they find it done.
  bool Register(const std::shared_ptr<Impl>& self) {
    if (loop_->InLoopThread() || !loop_->running()) {
      loop_->AddEndOfIterationHandler(this);
      return true;
    }
    Task task = [self] { self->loop_->AddEndOfIterationHandler(self.get()); };
    return loop_->TryPost(task);
  }

  void Send(const std::shared_ptr<Impl>& self, HttpClientRequest request,
            HttpClientCallback callback);
  void Shutdown();
  HttpClientStats Stats() const;
  void OnEndOfIteration() override;

 private:
  struct Pool;
  struct Connection;

  // One request from acceptance to callback. Owned by the Impl (raw
  // pointer, deleted in Complete); referenced by its pool's waiting list or
  // by the connection carrying it, never both.
  struct Pending {
    HttpClientCallback callback;
    std::string wire;  // The serialised request.
    bool head_request = false;
    bool retried = false;
    uint64_t deadline_ms = 0;
    Pool* pool = nullptr;
    Connection* connection = nullptr;
    TimerId timer;
    bool waiting = false;
    Pending* previous = nullptr;  // Waiting list links.
    Pending* next = nullptr;
  };

  enum class BodyMode : uint8_t { kNone, kLength, kChunked, kUntilClose };
  enum class State : uint8_t { kConnecting, kBusy, kIdle, kClosed };

  struct Connection final : FdHandler {
    Impl* impl = nullptr;
    Pool* pool = nullptr;
    int fd = -1;
    FdToken token;
    State state = State::kConnecting;
    Pending* request = nullptr;
    size_t written = 0;
    bool writable = false;
    bool reused = false;        // Has completed an earlier request.
    bool received_any = false;  // Bytes of the current response arrived.
    bool head_done = false;
    bool keep_alive = true;
    bool hangup_seen = false;  // The server shut its side: do not reuse.
    BodyMode mode = BodyMode::kNone;
    uint64_t body_length = 0;
    std::string input;
    std::unique_ptr<HttpResponseHead> head = std::make_unique<HttpResponseHead>();
    std::unique_ptr<ChunkedDecoder> chunked;
    HttpClientResponse response;
    TimerId idle_timer;

    void OnFdEvents(uint32_t epoll_events) override {
      impl->OnConnectionEvents(*this, epoll_events);
    }
  };

  struct Pool {
    SocketAddress address;
    std::vector<std::unique_ptr<Connection>> connections;  // Open ones.
    std::vector<Connection*> idle;                         // Most recently used last.
    Pending* waiting_head = nullptr;
    Pending* waiting_tail = nullptr;
    bool needs_pump = false;
  };

  void Start(HttpClientRequest request, HttpClientCallback callback);
  bool BuildWire(const HttpClientRequest& request, const ParsedUrl& url, std::string* wire,
                 std::string* error) const;
  bool Resolve(const ParsedUrl& url, SocketAddress* address, std::string* error) const;
  void Dispatch(Pending* pending);
  void OpenConnection(Pool& pool, Pending* pending);
  void Assign(Connection& connection, Pending* pending);
  void WriteRequest(Connection& connection);
  void OnConnectionEvents(Connection& connection, uint32_t epoll_events);
  void ReadResponse(Connection& connection);
  bool ProcessInput(Connection& connection);
  bool ProcessHead(Connection& connection);
  void CompleteOk(Connection& connection);
  void FailConnection(Connection& connection, HttpClientResultCode code, std::string error);
  void ReleaseToPool(Connection& connection);
  void RetireConnection(Connection& connection);
  void OnTimeout(Pending* pending);
  void Complete(Pending* pending, HttpClientResponse&& response);
  void Enqueue(Pool& pool, Pending* pending);
  Pending* PopWaiting(Pool& pool);
  void RemoveWaiting(Pending* pending);
  void SchedulePump(Pool& pool);
  void Pump(Pool& pool);
  void ShutdownOnLoop();

  EventLoop* const loop_;
  const HttpClientOptions options_;
  const std::vector<std::pair<std::string, SocketAddress>> hosts_;  // Lower-case names.
  std::unordered_map<std::string, std::unique_ptr<Pool>> pools_;    // By address text.
  std::vector<Pool*> pump_list_;
  std::vector<std::unique_ptr<Connection>> graveyard_;  // Freed at end of iteration.
  uint32_t in_flight_ = 0;
  bool torn_down_ = false;
  std::atomic<bool> shut_down_{false};

  Counter requests_;
  Counter ok_;
  Counter timeouts_;
  Counter refused_;
  Counter resets_;
  Counter malformed_;
  Counter too_large_;
  Counter invalid_;
  Counter overloaded_;
  Counter network_errors_;
  Counter retries_;
  Counter connections_opened_;
  Counter connections_reused_;
  std::atomic<uint64_t> overloaded_posting_{0};  // Written by posting threads.
};

// ------------------------------------------------------------ request start

void HttpClient::Impl::Send(const std::shared_ptr<Impl>& self, HttpClientRequest request,
                            HttpClientCallback callback) {
  TG_ASSERT(callback != nullptr);
  if (shut_down_.load(std::memory_order_acquire)) {
    callback(Failure(HttpClientResultCode::kShutdown, "client shut down"));
    return;
  }
  struct Job {
    HttpClientRequest request;
    HttpClientCallback callback;
  };
  auto job = std::make_unique<Job>(Job{std::move(request), std::move(callback)});
  Job* raw = job.get();
  Task task = [self, job = std::move(job)] {
    self->Start(std::move(job->request), std::move(job->callback));
  };
  if (!loop_->TryPost(task)) {
    overloaded_posting_.fetch_add(1, std::memory_order_relaxed);
    HttpClientCallback failed = std::move(raw->callback);
    task.Reset();
    failed(Failure(HttpClientResultCode::kOverloaded, "client loop queue full or stopped"));
  }
}

void HttpClient::Impl::Start(HttpClientRequest request, HttpClientCallback callback) {
  if (torn_down_) {
    callback(Failure(HttpClientResultCode::kShutdown, "client shut down"));
    return;
  }
  requests_.Add();
  auto refuse = [&](HttpClientResultCode code, std::string error) {
    if (code == HttpClientResultCode::kInvalidRequest) invalid_.Add();
    if (code == HttpClientResultCode::kOverloaded) overloaded_.Add();
    callback(Failure(code, std::move(error)));
  };
  if (request.deadline_ms == 0 || request.deadline_ms > kHttpClientDeadlineMsMax) {
    refuse(HttpClientResultCode::kInvalidRequest, "deadline_ms out of range");
    return;
  }
  ParsedUrl url;
  std::string error;
  SocketAddress address;
  if (!ParseHttpUrl(request.url, &url, &error) || !Resolve(url, &address, &error)) {
    refuse(HttpClientResultCode::kInvalidRequest, error);
    return;
  }
  auto pending = std::make_unique<Pending>();
  if (!BuildWire(request, url, &pending->wire, &error)) {
    refuse(HttpClientResultCode::kInvalidRequest, error);
    return;
  }
  if (in_flight_ >= options_.requests_in_flight_max) {
    refuse(HttpClientResultCode::kOverloaded, "requests_in_flight_max reached");
    return;
  }
  const std::string key = address.ToString();
  auto found = pools_.find(key);
  if (found == pools_.end()) {
    if (pools_.size() >= kHttpClientHostsMax) {
      refuse(HttpClientResultCode::kOverloaded, "too many distinct hosts");
      return;
    }
    auto pool = std::make_unique<Pool>();
    pool->address = address;
    found = pools_.emplace(key, std::move(pool)).first;
  }
  Pending* raw = pending.release();
  raw->callback = std::move(callback);
  raw->head_request = EqualsIgnoreCase(request.method, "HEAD");
  raw->deadline_ms = request.deadline_ms;
  raw->pool = found->second.get();
  ++in_flight_;
  raw->timer = loop_->RunAfter(request.deadline_ms * kNsPerMs, [this, raw] { OnTimeout(raw); });
  if (!raw->timer.valid()) {
    overloaded_.Add();
    Complete(raw, Failure(HttpClientResultCode::kOverloaded, "no timer available"));
    return;
  }
  Dispatch(raw);
}

bool HttpClient::Impl::Resolve(const ParsedUrl& url, SocketAddress* address,
                               std::string* error) const {
  const std::string lower = ToLowerAscii(url.host);
  for (const auto& [name, configured] : hosts_) {
    if (name == lower) {
      *address = configured;
      if (address->family() == AF_INET) {
        reinterpret_cast<sockaddr_in*>(&address->storage)->sin_port = htons(url.port);
      } else {
        reinterpret_cast<sockaddr_in6*>(&address->storage)->sin6_port = htons(url.port);
      }
      return true;
    }
  }
  Result<SocketAddress> parsed = SocketAddress::Parse(url.host, url.port);
  if (!parsed.ok()) {
    *error = "host '" + url.host + "' is neither a loopback address nor a configured host";
    return false;
  }
  if (!parsed->IsLoopback()) {
    *error = "host '" + url.host + "' is not loopback and not in the configured hosts";
    return false;
  }
  *address = parsed.value();
  return true;
}

bool HttpClient::Impl::BuildWire(const HttpClientRequest& request, const ParsedUrl& url,
                                 std::string* wire, std::string* error) const {
  if (!IsHttpToken(request.method)) {
    *error = "invalid method";
    return false;
  }
  for (const auto& [name, value] : request.headers) {
    if (!IsHttpToken(name) || !IsHttpFieldValue(value)) {
      *error = "invalid header '" + name + "'";
      return false;
    }
    if (EqualsIgnoreCase(name, "host") || EqualsIgnoreCase(name, "content-length") ||
        EqualsIgnoreCase(name, "transfer-encoding") || EqualsIgnoreCase(name, "connection")) {
      *error = "header '" + name + "' is set by the client";
      return false;
    }
  }
  wire->reserve(128 + url.target.size() + request.body.size());
  wire->append(request.method).append(" ").append(url.target).append(" HTTP/1.1\r\n");
  wire->append("Host: ").append(url.host_header).append("\r\n");
  bool has_user_agent = false;
  for (const auto& [name, value] : request.headers) {
    if (EqualsIgnoreCase(name, "user-agent")) has_user_agent = true;
  }
  if (!has_user_agent && !options_.user_agent.empty()) {
    wire->append("User-Agent: ").append(options_.user_agent).append("\r\n");
  }
  const bool body_method = EqualsIgnoreCase(request.method, "POST") ||
                           EqualsIgnoreCase(request.method, "PUT") ||
                           EqualsIgnoreCase(request.method, "PATCH");
  if (!request.body.empty() || body_method) {
    wire->append("Content-Length: ").append(std::to_string(request.body.size())).append("\r\n");
  }
  for (const auto& [name, value] : request.headers) {
    wire->append(name).append(": ").append(value).append("\r\n");
  }
  wire->append("\r\n");
  wire->append(request.body);
  return true;
}

// ------------------------------------------------------- connection handling

void HttpClient::Impl::Dispatch(Pending* pending) {
  Pool& pool = *pending->pool;
  if (!pool.idle.empty()) {
    Connection* connection = pool.idle.back();
    pool.idle.pop_back();
    connections_reused_.Add();
    Assign(*connection, pending);
    return;
  }
  if (pool.connections.size() < options_.connections_per_host_max) {
    OpenConnection(pool, pending);
    return;
  }
  Enqueue(pool, pending);
}

void HttpClient::Impl::OpenConnection(Pool& pool, Pending* pending) {
  bool in_progress = false;
  Result<UniqueFd> fd = ConnectTcp(pool.address, &in_progress);
  if (!fd.ok()) {
    const bool refused = fd.status().code() == base::StatusCode::kUnavailable;
    Complete(pending, Failure(refused ? HttpClientResultCode::kConnectionRefused
                                      : HttpClientResultCode::kNetworkError,
                              fd.status().message()));
    return;
  }
  auto connection = std::make_unique<Connection>();
  connection->impl = this;
  connection->pool = &pool;
  Result<FdToken> token = loop_->AddFd(fd->get(), kConnectionEvents, connection.get());
  if (!token.ok()) {
    Complete(pending, Failure(HttpClientResultCode::kNetworkError, token.status().message()));
    return;
  }
  connections_opened_.Add();
  connection->fd = fd->Release();
  connection->token = token.value();
  connection->state = in_progress ? State::kConnecting : State::kBusy;
  connection->writable = !in_progress;
  connection->request = pending;
  pending->connection = connection.get();
  Connection& raw = *connection;
  pool.connections.push_back(std::move(connection));
  if (!in_progress) WriteRequest(raw);
}

void HttpClient::Impl::Assign(Connection& connection, Pending* pending) {
  if (connection.idle_timer.valid()) {
    loop_->CancelTimer(connection.idle_timer);
    connection.idle_timer = TimerId{};
  }
  connection.state = State::kBusy;
  connection.request = pending;
  pending->connection = &connection;
  WriteRequest(connection);
}

void HttpClient::Impl::WriteRequest(Connection& connection) {
  const std::string& wire = connection.request->wire;
  while (connection.written < wire.size() && connection.writable) {
    const ssize_t sent = send(connection.fd, wire.data() + connection.written,
                              wire.size() - connection.written, MSG_NOSIGNAL);
    if (sent > 0) {
      connection.written += static_cast<size_t>(sent);
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      connection.writable = false;
      return;
    }
    const int error = errno;
    FailConnection(connection,
                   error == ECONNREFUSED ? HttpClientResultCode::kConnectionRefused
                                         : HttpClientResultCode::kConnectionReset,
                   std::string("send: ") + std::strerror(error));
    return;
  }
}

void HttpClient::Impl::OnConnectionEvents(Connection& connection, uint32_t epoll_events) {
  if (connection.state == State::kClosed) return;
  const bool readable = (epoll_events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
  if ((epoll_events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) connection.hangup_seen = true;
  if (connection.state == State::kIdle) {
    // The server closed the idle connection, or sent bytes nobody asked for.
    if (readable) {
      Pool& pool = *connection.pool;
      RetireConnection(connection);
      SchedulePump(pool);
    }
    return;
  }
  if (connection.state == State::kConnecting) {
    if ((epoll_events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    const int error = SocketError(connection.fd);
    if (error != 0) {
      FailConnection(connection,
                     error == ECONNREFUSED ? HttpClientResultCode::kConnectionRefused
                                           : HttpClientResultCode::kNetworkError,
                     std::string("connect: ") + std::strerror(error));
      return;
    }
    connection.state = State::kBusy;
    connection.writable = true;
  }
  if ((epoll_events & EPOLLOUT) != 0) connection.writable = true;
  if (connection.request != nullptr && connection.written < connection.request->wire.size()) {
    WriteRequest(connection);
    if (connection.state != State::kBusy) return;
  }
  if (readable) ReadResponse(connection);
}

void HttpClient::Impl::ReadResponse(Connection& connection) {
  char buffer[kReadChunkBytes];
  for (;;) {
    const ssize_t received = recv(connection.fd, buffer, sizeof(buffer), 0);
    if (received > 0) {
      connection.input.append(buffer, static_cast<size_t>(received));
      connection.received_any = true;
      if (!ProcessInput(connection)) return;  // Completed or failed.
      continue;
    }
    if (received == 0) {
      if (connection.head_done && connection.mode == BodyMode::kUntilClose) {
        connection.keep_alive = false;
        CompleteOk(connection);
      } else {
        FailConnection(connection, HttpClientResultCode::kConnectionReset,
                       "connection closed before the response was complete");
      }
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    const int error = errno;
    FailConnection(connection, HttpClientResultCode::kConnectionReset,
                   std::string("recv: ") + std::strerror(error));
    return;
  }
}

bool HttpClient::Impl::ProcessHead(Connection& connection) {
  HttpResponseHead& head = *connection.head;
  for (;;) {
    std::string_view error;
    const HttpParseStatus status =
        ParseHttpResponseHead(connection.input, options_.response_header_bytes_max, &head, &error);
    if (status == HttpParseStatus::kIncomplete) return true;
    if (status == HttpParseStatus::kError) {
      FailConnection(connection, HttpClientResultCode::kMalformedResponse, std::string(error));
      return false;
    }
    if (head.status == 101) {
      FailConnection(connection, HttpClientResultCode::kMalformedResponse,
                     "unexpected 101 Switching Protocols");
      return false;
    }
    if (head.status < 200) {  // Interim (100 Continue): the real head follows.
      connection.input.erase(0, head.head_bytes);
      continue;
    }
    break;
  }
  HttpClientResponse& response = connection.response;
  response.status = head.status;
  response.headers.clear();
  for (uint32_t i = 0; i < head.header_count; ++i) {
    response.headers.emplace_back(std::string(head.headers[i].name),
                                  std::string(head.headers[i].value));
  }
  connection.keep_alive = !head.connection_close;
  if (connection.request->head_request || head.status == 204 || head.status == 304) {
    connection.mode = BodyMode::kNone;
  } else if (head.chunked) {
    connection.mode = BodyMode::kChunked;
    connection.chunked = std::make_unique<ChunkedDecoder>(options_.response_body_bytes_max);
  } else if (head.content_length.has_value()) {
    if (*head.content_length > options_.response_body_bytes_max) {
      FailConnection(connection, HttpClientResultCode::kBodyTooLarge,
                     "Content-Length " + std::to_string(*head.content_length) + " over the limit");
      return false;
    }
    connection.mode = BodyMode::kLength;
    connection.body_length = *head.content_length;
  } else {
    connection.mode = BodyMode::kUntilClose;
    connection.keep_alive = false;
  }
  connection.input.erase(0, head.head_bytes);
  connection.head_done = true;
  return true;
}

bool HttpClient::Impl::ProcessInput(Connection& connection) {
  if (connection.request == nullptr) return false;
  if (!connection.head_done) {
    if (!ProcessHead(connection)) return false;
    if (!connection.head_done) return true;
  }
  HttpClientResponse& response = connection.response;
  switch (connection.mode) {
    case BodyMode::kNone:
      break;
    case BodyMode::kLength: {
      if (connection.input.size() < connection.body_length) return true;
      const auto length = static_cast<size_t>(connection.body_length);
      if (connection.input.size() == length) {
        response.body = std::move(connection.input);
        connection.input = std::string();
      } else {
        response.body.assign(connection.input, 0, length);
        connection.input.erase(0, length);
      }
      break;
    }
    case BodyMode::kChunked: {
      size_t consumed = 0;
      std::string_view error;
      const HttpParseStatus status =
          connection.chunked->Feed(connection.input, &response.body, &consumed, &error);
      connection.input.erase(0, consumed);
      if (status == HttpParseStatus::kIncomplete) return true;
      if (status == HttpParseStatus::kError) {
        FailConnection(connection,
                       connection.chunked->body_too_large()
                           ? HttpClientResultCode::kBodyTooLarge
                           : HttpClientResultCode::kMalformedResponse,
                       std::string(error));
        return false;
      }
      break;
    }
    case BodyMode::kUntilClose:
      if (connection.input.size() > options_.response_body_bytes_max) {
        FailConnection(connection, HttpClientResultCode::kBodyTooLarge,
                       "response body over the limit");
        return false;
      }
      return true;
  }
  // Bytes after a complete response were never asked for: the connection
  // cannot be trusted for the next request.
  if (!connection.input.empty()) connection.keep_alive = false;
  CompleteOk(connection);
  return false;
}

void HttpClient::Impl::CompleteOk(Connection& connection) {
  Pending* pending = connection.request;
  HttpClientResponse response = std::move(connection.response);
  response.code = HttpClientResultCode::kOk;
  if (connection.mode == BodyMode::kUntilClose) response.body = std::move(connection.input);
  connection.request = nullptr;
  pending->connection = nullptr;
  // A server that answered before reading the whole request (an early
  // 413), or that already closed its side, leaves nothing reusable.
  if (connection.written < pending->wire.size() || connection.hangup_seen) {
    connection.keep_alive = false;
  }
  if (connection.keep_alive) {
    ReleaseToPool(connection);
  } else {
    RetireConnection(connection);
  }
  SchedulePump(*pending->pool);
  Complete(pending, std::move(response));
}

void HttpClient::Impl::FailConnection(Connection& connection, HttpClientResultCode code,
                                      std::string error) {
  Pending* pending = connection.request;
  Pool& pool = *connection.pool;
  const bool stale_keep_alive = connection.reused && !connection.received_any;
  RetireConnection(connection);
  SchedulePump(pool);
  if (pending == nullptr) return;
  if (code == HttpClientResultCode::kConnectionReset && stale_keep_alive && !pending->retried) {
    // The server closed an idle connection as we reused it: one retry.
    pending->retried = true;
    retries_.Add();
    Dispatch(pending);
    return;
  }
  Complete(pending, Failure(code, std::move(error)));
}

void HttpClient::Impl::ReleaseToPool(Connection& connection) {
  connection.state = State::kIdle;
  connection.reused = true;
  connection.received_any = false;
  connection.head_done = false;
  connection.written = 0;
  connection.mode = BodyMode::kNone;
  connection.chunked.reset();
  connection.input.clear();
  connection.response = HttpClientResponse();
  Connection* raw = &connection;
  connection.idle_timer = loop_->RunAfter(options_.idle_connection_ms * kNsPerMs, [this, raw] {
    raw->idle_timer = TimerId{};
    Pool& pool = *raw->pool;
    RetireConnection(*raw);
    SchedulePump(pool);
  });
  if (!connection.idle_timer.valid()) {
    RetireConnection(connection);  // No timer to bound its idleness: do not pool it.
    return;
  }
  connection.pool->idle.push_back(&connection);
}

void HttpClient::Impl::RetireConnection(Connection& connection) {
  if (connection.state == State::kClosed) return;
  Pool& pool = *connection.pool;
  if (connection.state == State::kIdle) std::erase(pool.idle, &connection);
  if (connection.idle_timer.valid()) {
    loop_->CancelTimer(connection.idle_timer);
    connection.idle_timer = TimerId{};
  }
  if (connection.request != nullptr) {
    connection.request->connection = nullptr;
    connection.request = nullptr;
  }
  loop_->RemoveFd(connection.token, connection.fd);
  close(connection.fd);
  connection.fd = -1;
  connection.state = State::kClosed;
  // Freed at the end of the iteration: we may be inside its own callback.
  for (auto it = pool.connections.begin(); it != pool.connections.end(); ++it) {
    if (it->get() == &connection) {
      graveyard_.push_back(std::move(*it));
      pool.connections.erase(it);
      break;
    }
  }
}

void HttpClient::Impl::OnTimeout(Pending* pending) {
  pending->timer = TimerId{};
  Pool& pool = *pending->pool;
  if (pending->connection != nullptr) {
    // Discard the connection: a late response must never be read as the
    // answer to the next request sent on it.
    RetireConnection(*pending->connection);
  }
  SchedulePump(pool);
  Complete(pending,
           Failure(HttpClientResultCode::kTimeout,
                   "no complete response within " + std::to_string(pending->deadline_ms) + " ms"));
}

void HttpClient::Impl::Complete(Pending* pending, HttpClientResponse&& response) {
  if (pending->timer.valid()) loop_->CancelTimer(pending->timer);
  if (pending->waiting) RemoveWaiting(pending);
  if (pending->connection != nullptr) {
    pending->connection->request = nullptr;
    pending->connection = nullptr;
  }
  switch (response.code) {
    case HttpClientResultCode::kOk:
      ok_.Add();
      break;
    case HttpClientResultCode::kTimeout:
      timeouts_.Add();
      break;
    case HttpClientResultCode::kConnectionRefused:
      refused_.Add();
      break;
    case HttpClientResultCode::kConnectionReset:
      resets_.Add();
      break;
    case HttpClientResultCode::kMalformedResponse:
      malformed_.Add();
      break;
    case HttpClientResultCode::kBodyTooLarge:
      too_large_.Add();
      break;
    case HttpClientResultCode::kInvalidRequest:
      invalid_.Add();
      break;
    case HttpClientResultCode::kOverloaded:
      break;  // Counted where refused.
    case HttpClientResultCode::kShutdown:
      break;
    case HttpClientResultCode::kNetworkError:
      network_errors_.Add();
      break;
  }
  --in_flight_;
  HttpClientCallback callback = std::move(pending->callback);
  delete pending;
  callback(std::move(response));
}

// ------------------------------------------------------------ waiting lists

void HttpClient::Impl::Enqueue(Pool& pool, Pending* pending) {
  pending->waiting = true;
  pending->previous = pool.waiting_tail;
  pending->next = nullptr;
  if (pool.waiting_tail != nullptr) {
    pool.waiting_tail->next = pending;
  } else {
    pool.waiting_head = pending;
  }
  pool.waiting_tail = pending;
}

HttpClient::Impl::Pending* HttpClient::Impl::PopWaiting(Pool& pool) {
  Pending* pending = pool.waiting_head;
  if (pending != nullptr) RemoveWaiting(pending);
  return pending;
}

void HttpClient::Impl::RemoveWaiting(Pending* pending) {
  Pool& pool = *pending->pool;
  if (pending->previous != nullptr) {
    pending->previous->next = pending->next;
  } else {
    pool.waiting_head = pending->next;
  }
  if (pending->next != nullptr) {
    pending->next->previous = pending->previous;
  } else {
    pool.waiting_tail = pending->previous;
  }
  pending->previous = pending->next = nullptr;
  pending->waiting = false;
}

void HttpClient::Impl::SchedulePump(Pool& pool) {
  if (pool.needs_pump || pool.waiting_head == nullptr) return;
  pool.needs_pump = true;
  pump_list_.push_back(&pool);
}

void HttpClient::Impl::Pump(Pool& pool) {
  while (pool.waiting_head != nullptr &&
         (!pool.idle.empty() || pool.connections.size() < options_.connections_per_host_max)) {
    Dispatch(PopWaiting(pool));
  }
}

void HttpClient::Impl::OnEndOfIteration() {
  // Waiting requests move on to freed capacity here, iteratively: a failure
  // inside Pump schedules another pass instead of recursing.
  while (!pump_list_.empty()) {
    std::vector<Pool*> pools;
    pools.swap(pump_list_);
    for (Pool* pool : pools) {
      pool->needs_pump = false;
      Pump(*pool);
    }
  }
  graveyard_.clear();
}

// ----------------------------------------------------------------- shutdown

void HttpClient::Impl::ShutdownOnLoop() {
  if (torn_down_) return;
  torn_down_ = true;
  for (auto& [key, pool] : pools_) {
    while (Pending* pending = PopWaiting(*pool)) {
      Complete(pending, Failure(HttpClientResultCode::kShutdown, "client shut down"));
    }
    while (!pool->connections.empty()) {
      Connection& connection = *pool->connections.back();
      Pending* pending = connection.request;
      RetireConnection(connection);
      if (pending != nullptr) {
        Complete(pending, Failure(HttpClientResultCode::kShutdown, "client shut down"));
      }
    }
  }
  pump_list_.clear();
  loop_->RemoveEndOfIterationHandler(this);
}

void HttpClient::Impl::Shutdown() {
  shut_down_.store(true, std::memory_order_release);
  if (loop_->InLoopThread() || !loop_->running()) {
    ShutdownOnLoop();
    return;
  }
  std::promise<void> done;
  std::promise<void>* done_pointer = &done;
  Task task = [this, done_pointer] {
    ShutdownOnLoop();
    done_pointer->set_value();
  };
  std::future<void> finished = done.get_future();
  if (loop_->TryPost(task)) {
    while (finished.wait_for(std::chrono::milliseconds(10)) != std::future_status::ready) {
      // The loop stopped with our task unrun: tear down from here.
      if (!loop_->running()) {
        ShutdownOnLoop();
        return;
      }
    }
    return;
  }
  // Queue full or loop stopped. A stopped loop is ours to tear down; a full
  // one will run a later attempt.
  while (loop_->running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    Task retry = [this, done_pointer] {
      ShutdownOnLoop();
      done_pointer->set_value();
    };
    if (loop_->TryPost(retry)) {
      finished.wait();
      return;
    }
  }
  ShutdownOnLoop();
}

HttpClientStats HttpClient::Impl::Stats() const {
  HttpClientStats stats;
  stats.requests = requests_.value();
  stats.ok = ok_.value();
  stats.timeouts = timeouts_.value();
  stats.refused = refused_.value();
  stats.resets = resets_.value();
  stats.malformed = malformed_.value();
  stats.too_large = too_large_.value();
  stats.invalid = invalid_.value();
  stats.overloaded = overloaded_.value() + overloaded_posting_.load(std::memory_order_relaxed);
  stats.network_errors = network_errors_.value();
  stats.retries = retries_.value();
  stats.connections_opened = connections_opened_.value();
  stats.connections_reused = connections_reused_.value();
  return stats;
}

// --------------------------------------------------------------- HttpClient

Result<std::unique_ptr<HttpClient>> HttpClient::Create(EventLoop* loop, HttpClientOptions options) {
  TG_ASSERT(loop != nullptr);
  if (options.connections_per_host_max == 0 ||
      options.connections_per_host_max > kHttpClientConnectionsPerHostMax) {
    return base::InvalidArgument("connections_per_host_max out of range");
  }
  if (options.requests_in_flight_max == 0 ||
      options.requests_in_flight_max > kHttpClientRequestsInFlightMax) {
    return base::InvalidArgument("requests_in_flight_max out of range");
  }
  if (options.response_header_bytes_max < 64 ||
      options.response_header_bytes_max > kHttpClientResponseHeaderBytesMax) {
    return base::InvalidArgument("response_header_bytes_max out of range");
  }
  if (options.response_body_bytes_max > kHttpBodyBytesMax) {
    return base::InvalidArgument("response_body_bytes_max out of range");
  }
  if (options.idle_connection_ms == 0) {
    return base::InvalidArgument("idle_connection_ms must be positive");
  }
  if (!IsHttpFieldValue(options.user_agent)) return base::InvalidArgument("bad user_agent");
  if (options.hosts.size() > kHttpClientHostsMax) return base::InvalidArgument("too many hosts");
  std::vector<std::pair<std::string, SocketAddress>> hosts;
  for (const auto& [name, address_text] : options.hosts) {
    Result<SocketAddress> address = SocketAddress::Parse(address_text, 0);
    if (!address.ok()) {
      return base::InvalidArgument("hosts['" + name + "']: " + address.status().message());
    }
    hosts.emplace_back(ToLowerAscii(name), address.value());
  }
  auto impl = std::make_shared<Impl>(loop, std::move(options), std::move(hosts));
  if (!impl->Register(impl)) return base::Unavailable("client loop queue full or stopped");
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

HttpClient::~HttpClient() { impl_->Shutdown(); }

void HttpClient::Send(HttpClientRequest request, HttpClientCallback callback) {
  impl_->Send(impl_, std::move(request), std::move(callback));
}

void HttpClient::Shutdown() { impl_->Shutdown(); }

HttpClientStats HttpClient::Stats() const { return impl_->Stats(); }

}  // namespace tangelo::net
