// A minimal blocking HTTP/1.1 client over one kept-alive loopback connection,
// for the API's end-to-end tests. Test-only; not thread safe.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tangelo::api::testing {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // Lower-case names.
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpTestClient {
 public:
  explicit HttpTestClient(uint16_t port) : port_(port) {}
  ~HttpTestClient() { Close(); }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
  }

  bool Send(std::string_view method, std::string_view target, std::string_view body,
            const std::vector<std::pair<std::string, std::string>>& headers) {
    if (fd_ < 0 && !Connect()) return false;
    std::string request(method);
    request += ' ';
    request += target;
    request += " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
    if (!body.empty() || method == "POST" || method == "PUT") {
      request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    request += "\r\n";
    request += body;
    size_t sent = 0;
    while (sent < request.size()) {
      const ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads one response; status 0 when the connection failed.
  HttpResult Receive() {
    HttpResult result;
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return result;
    }
    const std::string head = buffer_.substr(0, head_end);
    buffer_.erase(0, head_end + 4);
    size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    result.status = std::stoi(status_line.substr(9, 3));
    size_t position = line_end == std::string::npos ? head.size() : line_end + 2;
    while (position < head.size()) {
      size_t end = head.find("\r\n", position);
      if (end == std::string::npos) end = head.size();
      const std::string line = head.substr(position, end - position);
      const size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      result.headers[name] = value;
      position = end + 2;
    }
    const size_t length = std::stoul(result.Header("content-length").empty()
                                         ? "0" : result.Header("content-length"));
    while (buffer_.size() < length) {
      if (!Fill()) return HttpResult{};
    }
    result.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    if (result.Header("connection") == "close") Close();
    return result;
  }

  HttpResult Call(std::string_view method, std::string_view target, std::string_view body = {},
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    if (!Send(method, target, body, headers)) {
      Close();
      if (!Send(method, target, body, headers)) return HttpResult{};
    }
    return Receive();
  }

 private:
  bool Connect() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      Close();
      return false;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return true;
  }
  bool Fill() {
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  uint16_t port_;
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace tangelo::api::testing
