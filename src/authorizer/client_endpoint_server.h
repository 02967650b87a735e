// A program's client decision endpoint for tests: a real HTTP server on
// 127.0.0.1 (src/net's HttpServer) that checks Tangelo's request signature
// and answers as scripted per authorization: approve, decline, approve a
// smaller amount, a 503, a malformed body, a wrongly signed answer, or no
// answer at all (the caller's deadline passes). Also a URL where nothing
// listens, for refused connections. Test-only.
#pragma once

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <simdjson.h>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "authorizer/client_decision.h"
#include "io/clock.h"
#include "net/http_server.h"

namespace tangelo::authorizer::testing {

class ClientEndpointServer {
 public:
  enum class Behavior : uint8_t {
    kApprove,
    kDecline,
    kApprovePartial,
    kHang,  // Never answers (until the server stops): the caller times out.
    kServerError,
    kMalformed,
    kBadSignature,
  };
  struct Script {
    Behavior behavior = Behavior::kApprove;
    uint64_t partial_amount_minor = 0;
  };

  ClientEndpointServer(std::string secret, io::Clock* clock)
      : secret_(std::move(secret)), clock_(clock) {}
  ~ClientEndpointServer() { Stop(); }

  base::Status Start() {
    net::HttpServerOptions options;
    options.tcp.host = "127.0.0.1";
    options.tcp.port = 0;
    options.tcp.loop_threads = 1;
    server_ = std::make_unique<net::HttpServer>(
        options, [this](const net::HttpRequest& request, net::HttpResponder responder) {
          Handle(request, std::move(responder));
        });
    return server_->Start();
  }

  // Answers the hanging requests (503) and shuts the server down.
  void Stop() {
    if (server_ == nullptr) return;
    std::vector<net::HttpResponder> hanging;
    {
      std::lock_guard lock(mutex_);
      hanging.swap(hanging_);
    }
    for (net::HttpResponder& responder : hanging) responder.Respond(503, "stopping");
    server_->Shutdown(1000);
    server_.reset();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/authorizations";
  }

  // A URL on a port nothing listens on (bound, then closed).
  static std::string RefusingUrl() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    (void)::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    (void)::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/authorizations";
  }

  void SetScript(uint64_t authorization_id, Script script) {
    std::lock_guard lock(mutex_);
    scripts_[authorization_id] = script;
  }
  void SetDefault(Script script) {
    std::lock_guard lock(mutex_);
    default_ = script;
  }

  uint64_t requests() const { return requests_.load(); }
  // Requests whose Tangelo signature did not verify (must stay 0).
  uint64_t bad_request_signatures() const { return bad_request_signatures_.load(); }

 private:
  void Handle(const net::HttpRequest& request, net::HttpResponder responder) {
    requests_.fetch_add(1);
    const std::string body(request.body());
    const std::string timestamp(request.Header("X-Tangelo-Timestamp").value_or(""));
    uint64_t signed_at = 0;
    std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), signed_at);
    if (std::string(request.Header("X-Tangelo-Signature").value_or("")) !=
        SignClientPayload(secret_, signed_at, body)) {
      bad_request_signatures_.fetch_add(1);
    }
    // The authorization id, as the client's own code would read it.
    uint64_t id = 0;
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(body);
    simdjson::ondemand::document document;
    std::string_view id_text;
    if (parser.iterate(padded).get(document) == simdjson::SUCCESS &&
        document["authorization_id"].get_string().get(id_text) == simdjson::SUCCESS) {
      std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    }
    Script script;
    {
      std::lock_guard lock(mutex_);
      const auto found = scripts_.find(id);
      script = found != scripts_.end() ? found->second : default_;
      if (script.behavior == Behavior::kHang) {
        hanging_.push_back(std::move(responder));
        return;
      }
    }
    const AuthorizationId authorization(id);
    std::string answer;
    std::string key = secret_;
    switch (script.behavior) {
      case Behavior::kApprove:
        answer = EncodeClientAnswerBody(authorization, ClientDecisionOutcome::kApprove, 0);
        break;
      case Behavior::kDecline:
        answer = EncodeClientAnswerBody(authorization, ClientDecisionOutcome::kDecline, 0);
        break;
      case Behavior::kApprovePartial:
        answer = EncodeClientAnswerBody(authorization, ClientDecisionOutcome::kApprovePartial,
                                        script.partial_amount_minor);
        break;
      case Behavior::kServerError:
        responder.Respond(503, "{\"error\":\"unavailable\"}", "application/json");
        return;
      case Behavior::kMalformed:
        answer = "{\"decision\":";
        break;
      case Behavior::kBadSignature:
        answer = EncodeClientAnswerBody(authorization, ClientDecisionOutcome::kApprove, 0);
        key = "a-secret-that-is-not-the-program-secret";
        break;
      case Behavior::kHang:
        return;
    }
    const uint64_t now_seconds = clock_->RealtimeNs() / 1'000'000'000;
    const std::string now_text = std::to_string(now_seconds);
    const std::string signature = SignClientPayload(key, now_seconds, answer);
    const net::HttpHeader headers[] = {{"X-Tangelo-Timestamp", now_text},
                                       {"X-Tangelo-Signature", signature}};
    responder.Respond(200, answer, "application/json", headers);
  }

  const std::string secret_;
  io::Clock* clock_;
  std::unique_ptr<net::HttpServer> server_;
  std::mutex mutex_;
  std::map<uint64_t, Script> scripts_;
  Script default_;
  std::vector<net::HttpResponder> hanging_;
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> bad_request_signatures_{0};
};

}  // namespace tangelo::authorizer::testing
