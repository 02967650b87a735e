// Small POSIX socket helpers shared by the server and the client: numeric
// address parsing, an owning fd, non-blocking listen and connect.
//
// No name resolution: getaddrinfo() blocks, and a loop thread must never
// block. Addresses are IPv4/IPv6 literals or "localhost".
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tangelo::net {

using base::Result;
using base::Status;

// Owns a file descriptor and closes it on destruction. Not thread safe.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();
  void Reset();

 private:
  int fd_ = -1;
};

// An IPv4 or IPv6 socket address.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  // Parses a numeric host ("127.0.0.1", "::1", "[::1]") or "localhost" (=
  // 127.0.0.1) and a port. Errors: kInvalidArgument for anything else.
  static Result<SocketAddress> Parse(std::string_view host, uint16_t port);
  // Parses "HOST:PORT" ("[v6]:PORT" for IPv6).
  static Result<SocketAddress> ParseHostPort(std::string_view host_port);

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
  uint16_t port() const;
  bool IsLoopback() const;
  std::string ToString() const;  // "127.0.0.1:8080", "[::1]:8080".
};

// A non-blocking, close-on-exec listening TCP socket with SO_REUSEADDR (and
// SO_REUSEPORT when `reuse_port`). Errors: kIoError with the errno text
// (address in use, permission denied).
Result<UniqueFd> ListenTcp(const SocketAddress& address, int backlog, bool reuse_port);

// The local port a socket is bound to (after binding to port 0).
Result<uint16_t> LocalPort(int fd);

// Starts a non-blocking connect. On success *in_progress says whether the
// connection completes later (EPOLLOUT, then SocketError()). Errors:
// kUnavailable for an immediate refusal, kIoError otherwise.
Result<UniqueFd> ConnectTcp(const SocketAddress& address, bool* in_progress);

// Pending socket error (SO_ERROR): 0 when none.
int SocketError(int fd);

// Disables Nagle's algorithm: replies are already batched per loop
// iteration, so waiting for more bytes would only add latency.
void SetNoDelay(int fd);

}  // namespace tangelo::net
