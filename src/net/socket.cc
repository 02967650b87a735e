#include "net/socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

namespace tangelo::net {
namespace {

std::string ErrnoMessage(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = other.Release();
  }
  return *this;
}

int UniqueFd::Release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::Reset() {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

Result<SocketAddress> SocketAddress::Parse(std::string_view host, uint16_t port) {
  if (host == "localhost") host = "127.0.0.1";
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host.size() >= INET6_ADDRSTRLEN) {
    return base::InvalidArgument("not a numeric host: '" + std::string(host) + "'");
  }
  char text[INET6_ADDRSTRLEN] = {};
  std::memcpy(text, host.data(), host.size());
  SocketAddress address;
  auto* ipv4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  if (inet_pton(AF_INET, text, &ipv4->sin_addr) == 1) {
    ipv4->sin_family = AF_INET;
    ipv4->sin_port = htons(port);
    address.length = sizeof(sockaddr_in);
    return address;
  }
  auto* ipv6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (inet_pton(AF_INET6, text, &ipv6->sin6_addr) == 1) {
    ipv6->sin6_family = AF_INET6;
    ipv6->sin6_port = htons(port);
    address.length = sizeof(sockaddr_in6);
    return address;
  }
  return base::InvalidArgument("not a numeric IPv4/IPv6 host (names are not resolved): '" +
                               std::string(host) + "'");
}

Result<SocketAddress> SocketAddress::ParseHostPort(std::string_view host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == host_port.size()) {
    return base::InvalidArgument("expected HOST:PORT, got '" + std::string(host_port) + "'");
  }
  const std::string_view port_text = host_port.substr(colon + 1);
  uint32_t port = 0;
  const auto [end, error] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return base::InvalidArgument("bad port in '" + std::string(host_port) + "'");
  }
  return Parse(host_port.substr(0, colon), static_cast<uint16_t>(port));
}

uint16_t SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
}

bool SocketAddress::IsLoopback() const {
  if (family() == AF_INET) {
    const uint32_t ip = ntohl(reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr);
    return (ip >> 24) == 127;
  }
  if (family() == AF_INET6) {
    return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr);
  }
  return false;
}

std::string SocketAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, text,
              sizeof(text));
    return std::string(text) + ":" + std::to_string(port());
  }
  inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, text,
            sizeof(text));
  return "[" + std::string(text) + "]:" + std::to_string(port());
}

Result<UniqueFd> ListenTcp(const SocketAddress& address, int backlog, bool reuse_port) {
  UniqueFd fd(socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return base::IoError(ErrnoMessage("socket"));
  const int one = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return base::IoError(ErrnoMessage("setsockopt(SO_REUSEADDR)"));
  }
  if (reuse_port && setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    return base::IoError(ErrnoMessage("setsockopt(SO_REUSEPORT)"));
  }
  if (bind(fd.get(), address.get(), address.length) != 0) {
    return base::IoError(ErrnoMessage(("bind " + address.ToString()).c_str()));
  }
  if (listen(fd.get(), backlog) != 0) return base::IoError(ErrnoMessage("listen"));
  return fd;
}

Result<uint16_t> LocalPort(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    return base::IoError(ErrnoMessage("getsockname"));
  }
  SocketAddress address;
  address.storage = storage;
  address.length = length;
  return address.port();
}

Result<UniqueFd> ConnectTcp(const SocketAddress& address, bool* in_progress) {
  UniqueFd fd(socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return base::IoError(ErrnoMessage("socket"));
  SetNoDelay(fd.get());
  if (connect(fd.get(), address.get(), address.length) == 0) {
    *in_progress = false;
    return fd;
  }
  if (errno == EINPROGRESS) {
    *in_progress = true;
    return fd;
  }
  if (errno == ECONNREFUSED) return base::Unavailable(ErrnoMessage("connect"));
  return base::IoError(ErrnoMessage("connect"));
}

int SocketError(int fd) {
  int error = 0;
  socklen_t length = sizeof(error);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error;
}

void SetNoDelay(int fd) {
  const int one = 1;
  // Best effort: a socket that refuses it still works, only slower.
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

}  // namespace tangelo::net
