// HttpClient: a non-blocking HTTP/1.1 client for outbound calls: the
// client's real-time authorization decision (a POST with a 1.5-2 s
// deadline) and webhook deliveries.
//
// It runs on one EventLoop. Requests to the same host:port share a bounded
// pool of kept-alive connections; a request waits in a per-host queue when
// every connection is busy. Each connection carries one request at a time
// (no client-side pipelining: a slow answer must not hold up the ones
// behind it). Many requests are in flight at once across connections.
//
// Every request has a deadline covering the whole exchange (queueing,
// connect, send, response). At the deadline the callback gets kTimeout and
// the connection, if one was in use, is discarded, so a late answer can
// never be read as the next request's response.
//
// Scope and safety:
// - http:// only. No TLS yet: a client URL with https:// is refused
//   (kInvalidRequest). TLS comes with a later change (OpenSSL is available).
// - No DNS: the host must be a loopback literal (127.0.0.0/8, ::1,
//   "localhost") or a name/address listed in HttpClientOptions::hosts,
//   which maps it to a numeric address. Anything else is refused, so a
//   tenant-supplied URL cannot make Tangelo call arbitrary machines.
// - A request sent on a reused keep-alive connection that the server closed
//   before answering a single byte is retried once on a fresh connection
//   (the server closed an idle connection as we wrote). This can deliver a
//   POST twice when the server processed it and then died: receivers must be
//   idempotent, which client decisions (keyed by authorization id) and
//   webhooks (keyed by webhook-id) are.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/event_loop.h"
#include "net/limits.h"

namespace tangelo::net {

// How a request ended. Stable numbers: they are logged and counted.
enum class HttpClientResultCode : uint8_t {
  kOk = 0,                 // A complete response (any status; 5xx is still kOk).
  kTimeout = 1,            // The deadline passed first.
  kConnectionRefused = 2,  // Nothing listens at host:port.
  kConnectionReset = 3,    // Reset or closed before the response was complete.
  kMalformedResponse = 4,  // Not parseable as HTTP/1.x.
  kBodyTooLarge = 5,       // Response body over response_body_bytes_max.
  kInvalidRequest = 6,     // Bad URL, host not allowed, https, bad header, bad deadline.
  kOverloaded = 7,         // requests_in_flight_max reached, or the loop's queue full.
  kShutdown = 8,           // The client shut down first.
  kNetworkError = 9,       // Another socket error (unreachable, fd limit).
};

std::string_view HttpClientResultCodeName(HttpClientResultCode code);

struct HttpClientRequest {
  std::string method = "GET";
  std::string url;  // "http://127.0.0.1:8080/path?query"
  // Extra headers. Host, Content-Length and Connection are set by the client.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  uint64_t deadline_ms = 2000;  // In (0, kHttpClientDeadlineMsMax].
};

struct HttpClientResponse {
  HttpClientResultCode code = HttpClientResultCode::kOk;
  uint16_t status = 0;  // When code is kOk.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string error;  // A human-readable detail when code is not kOk.

  bool ok() const { return code == HttpClientResultCode::kOk; }
  // The first header named `name` (ASCII case-insensitive).
  std::optional<std::string_view> Header(std::string_view name) const;
};

// Runs on the client's loop thread, exactly once per request. It may call
// Send() again; it must not destroy the client.
using HttpClientCallback = std::function<void(HttpClientResponse&& response)>;

struct HttpClientOptions {
  uint32_t connections_per_host_max = kHttpClientConnectionsPerHostDefault;
  // Requests accepted and not yet completed, over all hosts.
  uint32_t requests_in_flight_max = kHttpClientRequestsInFlightDefault;
  uint32_t response_header_bytes_max = kHttpClientResponseHeaderBytesMax;
  uint32_t response_body_bytes_max = kHttpClientResponseBodyBytesDefaultMax;
  // An idle pooled connection is closed after this long.
  uint64_t idle_connection_ms = kHttpClientIdleConnectionMsDefault;
  // Allowed non-loopback hosts: {name as written in URLs, numeric address}.
  std::vector<std::pair<std::string, std::string>> hosts;
  std::string user_agent = "tangelo";
};

struct HttpClientStats {
  uint64_t requests = 0;
  uint64_t ok = 0;
  uint64_t timeouts = 0;
  uint64_t refused = 0;
  uint64_t resets = 0;
  uint64_t malformed = 0;
  uint64_t too_large = 0;
  uint64_t invalid = 0;
  uint64_t overloaded = 0;
  uint64_t network_errors = 0;
  uint64_t retries = 0;  // Stale keep-alive connection, retried once.
  uint64_t connections_opened = 0;
  uint64_t connections_reused = 0;  // Requests that found an idle connection.
};

// Thread safety: Create(), Send(), Shutdown() and Stats() from any thread;
// callbacks run on the loop thread. The loop must outlive the client, and
// must not be starting (between thread start and Run()) while the client is
// created or shut down from another thread.
class HttpClient {
 public:
  // Errors: kInvalidArgument for options out of range or a `hosts` entry
  // that is not a numeric address; kUnavailable when the loop's queue is
  // full or the loop stopped.
  static Result<std::unique_ptr<HttpClient>> Create(EventLoop* loop, HttpClientOptions options);
  // Shuts down (see Shutdown) first.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts `request`; `callback` gets the outcome on the loop thread. The
  // callback always runs later, never inside Send(), except when the loop's
  // task queue is full or the client is shut down: then it runs at once on
  // the calling thread with kOverloaded or kShutdown.
  void Send(HttpClientRequest request, HttpClientCallback callback);

  // Fails every request in flight with kShutdown (callbacks run on the loop
  // thread, or on the caller if the loop is not running), closes every
  // connection, and refuses later requests. Blocks until done. Idempotent.
  void Shutdown();

  HttpClientStats Stats() const;

 private:
  class Impl;

  explicit HttpClient(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

  // Shared with the tasks Send() posts, so a task that runs after the client
  // is gone finds a shut-down Impl, never freed memory.
  std::shared_ptr<Impl> impl_;
};

}  // namespace tangelo::net
