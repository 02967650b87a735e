// ApiServer: the REST/JSON front door for clients (docs/api/openapi.yaml is
// its contract). It owns a net::HttpServer, routes each request, checks the
// caller's credentials, rate and Idempotency-Key, validates the JSON body
// strictly, and submits exactly one CoreRequest to the Core; the Core's
// reply, on whatever thread it arrives (the engine's journal thread, once
// durable), becomes the HTTP response through the request's HttpResponder,
// which hands it back to the connection's loop. A loop thread never waits
// for the core.
//
// Request pipeline, in this order (the first failure answers):
//   static files (/openapi.yaml, /docs) → route (404/405) → credentials
//   (401/403) → tenant rate (429 + Retry-After) → query/body validation
//   (400/415/422) → Idempotency-Key (400/409/422/replay) → Core → response.
// Every error is application/problem+json with a stable code
// (docs/api/errors.md). Transport limits (header bytes 431, body bytes 413,
// connections) are enforced by net::HttpServer before routing.
//
// Tenant isolation: the tenant comes only from the API key; every Core
// request carries it, and the Core answers another tenant's id exactly as an
// absent one (404).
//
// Ownership: the server borrows the Core (which must outlive it).
// Thread safety: Start/Shutdown from the owning thread; everything else is
// internal to the loop threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/core.h"
#include "api/idempotency.h"
#include "api/problem.h"
#include "api/rate_limiter.h"
#include "api/router.h"
#include "api/security.h"
#include "base/status.h"
#include "io/clock.h"
#include "net/http_server.h"

namespace tangelo::api {

inline constexpr uint32_t kApiBodyBytesMaxDefault = 64 * 1024;
inline constexpr uint32_t kApiHeaderBytesMaxDefault = 8 * 1024;
inline constexpr uint32_t kApiConnectionsMaxDefault = 10000;
inline constexpr size_t kStaticFileBytesMax = 16 * 1024 * 1024;

struct ApiOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: a free port (see ApiServer::port()).
  uint32_t loop_threads = 1;
  uint32_t connections_max = kApiConnectionsMaxDefault;
  uint32_t body_bytes_max = kApiBodyBytesMaxDefault;
  uint32_t header_bytes_max = kApiHeaderBytesMaxDefault;
  uint32_t pipeline_depth = net::kHttpPipelineDepthDefault;
  uint64_t idle_timeout_ms = 60'000;
  RateLimit tenant_rate;           // Per tenant (per API key's tenant).
  RateLimit admin_rate{100, 200};  // For the admin token.
  // The admin token; when empty, the environment variable TANGELO_ADMIN_TOKEN.
  // With neither, admin endpoints answer 401 to everyone.
  std::string admin_token;
  // The OpenAPI document served at /openapi.yaml, and the directory of the
  // npm package swagger-ui-dist served under /docs. Relative paths are
  // resolved against the working directory. A missing file is not an error:
  // its endpoint answers 404 (logged at start by the caller via warnings()).
  std::string openapi_path = "docs/api/openapi.yaml";
  std::string swagger_ui_dir = "node_modules/swagger-ui-dist";
  io::Clock* clock = nullptr;  // Null: io::SystemClock.
  // Consulted for a path no API route owns (before the 404), e.g. the
  // console's /console pages mounted by `tangelo serve`: returns true when it
  // answered through the responder. Runs on a loop thread: must not block.
  // Null: such paths answer 404 as usual.
  std::function<bool(const net::HttpRequest&, net::HttpResponder&)> extra_routes;
};

struct ApiStats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> responses_2xx{0};
  std::atomic<uint64_t> responses_4xx{0};
  std::atomic<uint64_t> responses_5xx{0};
  std::atomic<uint64_t> rate_limited{0};
  std::atomic<uint64_t> idempotent_replays{0};
  std::atomic<uint64_t> core_overloaded{0};
};

class ApiServer {
 public:
  ApiServer(ApiOptions options, Core* core);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Loads the API key table from the core and the static files, then listens.
  // Errors: the HTTP server's (address in use, bad limits).
  base::Status Start();
  uint16_t port() const { return http_->port(); }
  // Stops accepting, lets in-flight requests finish until the deadline
  // (monotonic ms), closes the rest. Returns connections closed forcibly.
  uint64_t Shutdown(uint64_t drain_deadline_ms) { return http_->Shutdown(drain_deadline_ms); }

  const ApiStats& stats() const { return stats_; }
  net::HttpServerStats http_stats() const { return http_->Stats(); }
  // What Start could not load (missing spec or Swagger UI), for the log.
  const std::string& warnings() const { return warnings_; }

 private:
  struct Pending;
  void Handle(const net::HttpRequest& request, net::HttpResponder responder);
  void HandleRoute(const net::HttpRequest& request, net::HttpResponder& responder,
                   const RouteMatch& match);
  bool ServeStatic(const net::HttpRequest& request, net::HttpResponder& responder);
  void Submit(std::unique_ptr<Pending> pending, CoreRequest core_request);
  void Finish(Pending& pending, CoreReply&& reply);
  void RespondProblem(net::HttpResponder& responder, ApiError error, std::string_view detail,
                      std::string_view instance, uint32_t retry_after_seconds = 0,
                      std::string_view allow = {});
  void Respond(net::HttpResponder& responder, uint16_t status, std::string_view body,
               std::string_view content_type, std::string_view location = {},
               uint32_t retry_after_seconds = 0, std::string_view allow = {});
  uint64_t NowMs();

  ApiOptions options_;
  Core* core_;
  io::SystemClock system_clock_;
  io::Clock* clock_;
  Router router_;
  ApiKeyTable keys_;
  IdempotencyStore idempotency_;
  RateLimiter tenant_limiter_;
  RateLimiter admin_limiter_;
  std::string admin_token_;
  std::string openapi_yaml_;
  std::string docs_index_html_;
  struct StaticFile {
    std::string name;
    std::string content_type;
    std::string bytes;
  };
  std::vector<StaticFile> swagger_files_;
  std::string warnings_;
  ApiStats stats_;
  std::unique_ptr<net::HttpServer> http_;
};

// For `tangelo serve`: builds and starts an ApiServer over `core`.
base::Result<std::unique_ptr<ApiServer>> StartApiServer(const ApiOptions& options, Core& core);

}  // namespace tangelo::api
