// HttpServer: an HTTP/1.1 server (keep-alive, pipelining, asynchronous
// completion) on top of TcpServer. The REST API and the console sit on it;
// routing is theirs, this module only hands over parsed requests.
//
// A handler gets each request with an HttpResponder. It may respond at once,
// or move the responder elsewhere (the engine's intake queue) and respond
// later from any thread. Many requests may be in flight per connection, up
// to pipeline_depth; responses always leave in request order, whatever order
// they complete in: each connection keeps a ring of pipeline_depth slots
// where an early completion waits for the ones before it. Reading stops
// while the ring is full.
//
// Parsing rules, limits and the status sent for each violation are listed at
// the top of net/http_parser.h. After an error response the connection
// closes. During Shutdown() every response carries "Connection: close".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "net/http_parser.h"
#include "net/tcp_server.h"

namespace tangelo::net {

class HttpServer;

// The right (and duty) to answer one request. Move-only. Respond() may be
// called from any thread, at most once. A responder destroyed without
// responding answers 500 "handler did not respond", so a forgotten request
// never blocks the responses pipelined behind it. Responding after the
// connection closed is safe: the response is dropped and counted.
// Precondition: the HttpServer outlives its responders.
class HttpResponder {
 public:
  HttpResponder() = default;
  HttpResponder(HttpResponder&& other) noexcept;
  HttpResponder& operator=(HttpResponder&& other) noexcept;
  HttpResponder(const HttpResponder&) = delete;
  HttpResponder& operator=(const HttpResponder&) = delete;
  ~HttpResponder();

  // Sends `status` with `body` (Content-Length is set; HEAD requests get no
  // body). `headers` must not repeat Content-Length, Connection or Date. A
  // header with CR, LF or NUL in it, or an invalid name, is refused: the
  // client gets 500 instead (header injection is a bug, not a response).
  // Precondition: valid() (not yet responded, not moved from).
  void Respond(uint16_t status, std::string_view body, std::string_view content_type = {},
               std::span<const HttpHeader> headers = {});

  bool valid() const { return server_ != nullptr; }
  ConnectionId connection_id() const { return connection_; }

 private:
  friend class HttpSession;
  HttpResponder(HttpServer* server, ConnectionId connection, uint32_t sequence, bool keep_alive,
                bool head_request, int version_minor)
      : server_(server),
        connection_(connection),
        sequence_(sequence),
        keep_alive_(keep_alive),
        head_request_(head_request),
        version_minor_(static_cast<uint8_t>(version_minor)) {}

  HttpServer* server_ = nullptr;
  ConnectionId connection_;
  uint32_t sequence_ = 0;
  bool keep_alive_ = true;
  bool head_request_ = false;
  uint8_t version_minor_ = 1;
};

// Called on a loop thread for every complete request. The request view is
// valid only during the call. Must not block: hand slow work elsewhere and
// respond later.
using HttpHandler = std::function<void(const HttpRequest& request, HttpResponder responder)>;

struct HttpServerOptions {
  TcpServerOptions tcp;
  HttpRequestLimits limits;
  // Requests in flight per connection (power of two, at most
  // kHttpPipelineDepthMax); also the size of the reordering ring.
  uint32_t pipeline_depth = kHttpPipelineDepthDefault;
  bool date_header = false;  // Add a Date header (clock: tcp.clock).
};

// Counters summed over the loops; a relaxed snapshot.
struct HttpServerStats {
  uint64_t requests = 0;              // Complete requests handed to the handler.
  uint64_t rejected_400 = 0;          // Malformed request.
  uint64_t rejected_411 = 0;          // Chunked request body.
  uint64_t rejected_413 = 0;          // Body over the limit.
  uint64_t rejected_414 = 0;          // Request line over the limit.
  uint64_t rejected_417 = 0;          // Unsupported Expect.
  uint64_t rejected_431 = 0;          // Headers over the byte or count limit.
  uint64_t rejected_501 = 0;          // Other transfer coding.
  uint64_t rejected_505 = 0;          // HTTP version.
  uint64_t unanswered_500 = 0;        // Responder dropped without responding.
  uint64_t invalid_response_500 = 0;  // Respond() refused a bad header.
  uint64_t stray_completions = 0;     // A completion for no request in flight.
  TcpServerStats tcp;
};

// Thread safety: as TcpServer (Start/Shutdown from the owner, the rest from
// any thread).
class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Errors: kInvalidArgument for limits or pipeline depth out of range, plus
  // TcpServer::Start's errors.
  Status Start();
  uint16_t port() const { return tcp_.port(); }
  void StopAccepting() { tcp_.StopAccepting(); }
  // See TcpServer::Shutdown.
  uint64_t Shutdown(uint64_t drain_deadline_ms) { return tcp_.Shutdown(drain_deadline_ms); }

  HttpServerStats Stats() const;
  TcpServer& tcp() { return tcp_; }

 private:
  friend class HttpResponder;
  friend class HttpSession;
  struct LoopCounters;
  class Protocol;

  // Current Date header for this thread (cached per second), or empty.
  std::string_view DateHeader();

  HttpServerOptions options_;
  HttpHandler handler_;
  std::unique_ptr<Protocol> protocol_;
  std::vector<std::unique_ptr<LoopCounters>> counters_;  // One per loop.
  std::atomic<uint64_t> invalid_responses_{0};           // Respond() may run on any thread.
  std::atomic<uint64_t> unanswered_{0};
  TcpServer tcp_;
};

}  // namespace tangelo::net
