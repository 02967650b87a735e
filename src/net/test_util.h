// Test helpers for the networking tests (not part of the library): a
// blocking loopback client socket with timeouts, an HTTP response reader, and
// a scripted one-connection-at-a-time raw TCP server for client tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "net/http_parser.h"

namespace tangelo::net::testing {

inline sockaddr_in LoopbackAddress(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// Waits until `predicate` holds or `timeout_ms` passes; returns its value.
inline bool WaitFor(const std::function<bool()>& predicate, int timeout_ms = 3000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return predicate();
}

// A blocking client socket on 127.0.0.1 with read timeouts.
class TestSocket {
 public:
  TestSocket() = default;
  explicit TestSocket(uint16_t port) { Connect(port); }
  TestSocket(TestSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  TestSocket& operator=(TestSocket&& other) noexcept {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    return *this;
  }
  ~TestSocket() { Close(); }

  bool Connect(uint16_t port) {
    Close();
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in address = LoopbackAddress(port);
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      Close();
      return false;
    }
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return true;
  }
  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  bool Send(std::string_view bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads whatever arrives until `done(buffer)` or the timeout or EOF.
  std::string ReadUntil(const std::function<bool(const std::string&)>& done,
                        int timeout_ms = 3000) {
    std::string buffer;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done(buffer)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd poll_fd{fd_, POLLIN, 0};
      if (poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) break;
      char chunk[65536];
      const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        eof_ = true;
        break;
      }
      buffer.append(chunk, static_cast<size_t>(n));
    }
    return buffer;
  }
  std::string ReadBytes(size_t count, int timeout_ms = 3000) {
    return ReadUntil([count](const std::string& buffer) { return buffer.size() >= count; },
                     timeout_ms);
  }

  // True when the peer closed (EOF or reset) within the timeout; unread
  // bytes before the close are discarded.
  bool WaitClosed(int timeout_ms = 3000) {
    ReadUntil([](const std::string&) { return false; }, timeout_ms);
    return eof_;
  }
  // Whether nothing arrives (and no close) for `quiet_ms`.
  bool Quiet(int quiet_ms) {
    pollfd poll_fd{fd_, POLLIN, 0};
    return poll(&poll_fd, 1, quiet_ms) == 0;
  }

  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  // Closes with a reset (SO_LINGER 0) instead of a FIN.
  void Reset() {
    linger option{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &option, sizeof(option));
    Close();
  }

 private:
  int fd_ = -1;
  bool eof_ = false;
};

// One HTTP response as a test reads it off the wire.
struct RawResponse {
  uint16_t status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [header_name, value] : headers) {
      if (EqualsIgnoreCase(header_name, name)) return value;
    }
    return std::nullopt;
  }
};

// Splits `wire` into complete responses (Content-Length framing; `head` says
// which ones answer HEAD requests). Returns the responses found; leftover
// bytes stay in *rest.
inline std::vector<RawResponse> SplitResponses(std::string wire, std::string* rest = nullptr) {
  std::vector<RawResponse> responses;
  for (;;) {
    HttpResponseHead head;
    std::string_view error;
    if (ParseHttpResponseHead(wire, 1 << 20, &head, &error) != HttpParseStatus::kComplete) break;
    const size_t length = static_cast<size_t>(head.content_length.value_or(0));
    if (wire.size() < head.head_bytes + length) break;
    RawResponse response;
    response.status = head.status;
    for (uint32_t i = 0; i < head.header_count; ++i) {
      response.headers.emplace_back(std::string(head.headers[i].name),
                                    std::string(head.headers[i].value));
    }
    response.body = wire.substr(head.head_bytes, length);
    responses.push_back(std::move(response));
    wire.erase(0, head.head_bytes + length);
  }
  if (rest != nullptr) *rest = wire;
  return responses;
}

// Reads until `count` complete responses arrived (or timeout / EOF).
inline std::vector<RawResponse> ReadResponses(TestSocket& socket, size_t count,
                                              int timeout_ms = 3000) {
  const std::string wire = socket.ReadUntil(
      [count](const std::string& buffer) { return SplitResponses(buffer).size() >= count; },
      timeout_ms);
  return SplitResponses(wire);
}

// A raw TCP server on a background thread: for each accepted connection it
// reads one HTTP request head (and its Content-Length body), then calls
// `script(fd, request_text)`, which writes whatever it likes and returns
// whether to keep the connection for another request.
class ScriptedServer {
 public:
  using Script = std::function<bool(int fd, const std::string& request)>;

  explicit ScriptedServer(Script script) : script_(std::move(script)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in address = LoopbackAddress(0);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(listen_fd_, 64);
    socklen_t length = sizeof(address);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    thread_.join();
    for (std::thread& connection : connections_) connection.join();
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

  static void WriteAll(int fd, std::string_view bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }
  static void ResetConnection(int fd) {
    linger option{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, sizeof(option));
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd poll_fd{listen_fd_, POLLIN, 0};
      if (poll(&poll_fd, 1, 50) <= 0) continue;
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      accepted_.fetch_add(1);
      connections_.emplace_back([this, fd] { HandleConnection(fd); });
    }
  }

  // Polls in short slices so the destructor's stop flag is seen quickly.
  bool WaitReadable(int fd) {
    for (int slice = 0; slice < 100 && !stop_; ++slice) {
      pollfd poll_fd{fd, POLLIN, 0};
      if (poll(&poll_fd, 1, 50) > 0) return true;
    }
    return false;
  }

  void HandleConnection(int fd) {
    std::string buffer;
    bool keep = true;
    while (keep && !stop_) {
      size_t head_end;
      while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
        if (!WaitReadable(fd)) {
          close(fd);
          return;
        }
        char chunk[4096];
        const ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0) {
          close(fd);
          return;
        }
        buffer.append(chunk, static_cast<size_t>(n));
      }
      size_t length = 0;
      const size_t at = buffer.find("Content-Length: ");
      if (at != std::string::npos && at < head_end) length = std::stoul(buffer.substr(at + 16));
      while (buffer.size() < head_end + 4 + length) {
        if (!WaitReadable(fd)) break;
        char chunk[4096];
        const ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
        if (n <= 0) break;
        buffer.append(chunk, static_cast<size_t>(n));
      }
      const std::string request = buffer.substr(0, head_end + 4 + length);
      buffer.erase(0, request.size());
      keep = script_(fd, request);
    }
    close(fd);
  }

  Script script_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
  std::vector<std::thread> connections_;  // Touched by the accept thread, then the destructor.
};

}  // namespace tangelo::net::testing
