#include "net/http_parser.h"

#include <time.h>

#include <charconv>
#include <cstring>

#include "base/assert.h"

namespace tangelo::net {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr size_t kNotFound = std::string_view::npos;
constexpr size_t kChunkLineBytesMax = 1024;
constexpr uint64_t kContentLengthCeiling = 1'000'000'000'000'000'000ULL;

bool IsTokenChar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (const char c : text) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// Field values may hold visible characters, spaces, tabs and obs-text, but
// no other control characters.
bool IsFieldValue(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && byte != '\t') || byte == 0x7f) return false;
  }
  return true;
}

std::string_view TrimWhitespace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Content-Length: one or more digits. Values past the ceiling saturate
// there, which every body limit rejects as too large.
bool ParseContentLength(std::string_view text, uint64_t* value) {
  if (text.empty()) return false;
  uint64_t result = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    result = result * 10 + static_cast<uint64_t>(c - '0');
    if (result > kContentLengthCeiling) result = kContentLengthCeiling;
  }
  *value = result;
  return true;
}

// Calls `visit` for each comma-separated, trimmed, non-empty element.
template <typename Visit>
void ForEachListElement(std::string_view list, Visit visit) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view element = TrimWhitespace(list.substr(0, comma));
    if (!element.empty()) visit(element);
    if (comma == kNotFound) break;
    list.remove_prefix(comma + 1);
  }
}

// The last transfer coding of a Transfer-Encoding value ("gzip, chunked").
std::string_view LastCoding(std::string_view value) {
  std::string_view last;
  ForEachListElement(value, [&](std::string_view element) { last = element; });
  return last;
}

// Finds the blank line ending a message head; returns the offset of its
// "\r\n\r\n" or npos. Starts a little before `scan_from` so a terminator
// split across two reads is still found.
size_t FindHeadEnd(std::string_view input, size_t scan_from) {
  const size_t start = scan_from > 3 ? scan_from - 3 : 0;
  if (start >= input.size()) return kNotFound;
  const void* found = memmem(input.data() + start, input.size() - start, "\r\n\r\n", 4);
  if (found == nullptr) return kNotFound;
  return static_cast<size_t>(static_cast<const char*>(found) - input.data());
}

HttpParseStatus Fail(HttpParseError* error, uint16_t status, std::string_view reason) {
  error->status = status;
  error->reason = reason;
  return HttpParseStatus::kError;
}

// Parses "HTTP/1.x" into the minor version. Returns 0 on success, else the
// status to answer (505 for another well-formed version, 400 for garbage).
uint16_t ParseVersion(std::string_view text, int* minor) {
  if (text.size() != 8 || text.substr(0, 5) != "HTTP/" || text[6] != '.' || text[5] < '0' ||
      text[5] > '9' || text[7] < '0' || text[7] > '9') {
    return 400;
  }
  if (text[5] != '1' || (text[7] != '0' && text[7] != '1')) return 505;
  *minor = text[7] - '0';
  return 0;
}

// Header lines between `begin` and `end` (the offset of the final CRLF of
// the last header line + 2). Calls `visit(name, value)`; stops at the first
// error, returning its reason (empty when all lines are well formed).
// `count_exceeded` is set when more than `count_max` headers appear.
template <typename Visit>
std::string_view ForEachHeaderLine(std::string_view input, size_t begin, size_t end,
                                   uint32_t count_max, bool* count_exceeded, Visit visit) {
  size_t position = begin;
  uint32_t count = 0;
  while (position < end) {
    const size_t line_end = input.find(kCrlf, position);
    if (line_end == kNotFound || line_end >= end) return "malformed header line";
    const std::string_view line = input.substr(position, line_end - position);
    position = line_end + 2;
    if (line.empty()) return "malformed header line";
    if (line.front() == ' ' || line.front() == '\t') return "obsolete header line folding";
    if (line.find('\n') != kNotFound || line.find('\r') != kNotFound) {
      return "bare CR or LF in a header line";
    }
    const size_t colon = line.find(':');
    if (colon == kNotFound) return "header line without a colon";
    const std::string_view name = line.substr(0, colon);
    if (!IsToken(name)) return "invalid header name";
    const std::string_view value = TrimWhitespace(line.substr(colon + 1));
    if (!IsFieldValue(value)) return "control character in a header value";
    if (count == count_max) {
      *count_exceeded = true;
      return "too many headers";
    }
    ++count;
    visit(name, value);
  }
  return {};
}

constexpr const char* kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void AppendDecimal(uint64_t value, std::string* out) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), value);
  out->append(digits, result.ptr);
}

}  // namespace

bool IsHttpToken(std::string_view text) { return IsToken(text); }
bool IsHttpFieldValue(std::string_view text) { return IsFieldValue(text); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

std::optional<std::string_view> HttpRequest::Header(std::string_view name) const {
  for (uint32_t i = 0; i < header_count_; ++i) {
    if (EqualsIgnoreCase(headers_[i].name, name)) return headers_[i].value;
  }
  return std::nullopt;
}

HttpParseStatus ParseHttpRequest(std::string_view input, const HttpRequestLimits& limits,
                                 HttpRequest* request, size_t* consumed, HttpParseError* error,
                                 size_t head_scan_from) {
  TG_ASSERT(limits.header_count_max <= kHttpHeaderCountMax);
  *consumed = 0;

  // Request line, bounded on its own so a huge URI gets 414, not 431.
  const size_t line_search =
      std::min<size_t>(input.size(), size_t{limits.request_line_bytes_max} + 2);
  const void* newline = std::memchr(input.data(), '\n', line_search);
  if (newline == nullptr) {
    if (input.size() > limits.request_line_bytes_max + 1) {
      return Fail(error, 414, "request line too long");
    }
    return HttpParseStatus::kIncomplete;
  }
  const size_t newline_at = static_cast<size_t>(static_cast<const char*>(newline) - input.data());
  if (newline_at == 0 || input[newline_at - 1] != '\r') {
    return Fail(error, 400, "request line must end with CRLF");
  }
  const size_t line_end = newline_at - 1;
  if (line_end > limits.request_line_bytes_max) return Fail(error, 414, "request line too long");

  const size_t head_end = FindHeadEnd(input, head_scan_from);
  if (head_end == kNotFound) {
    if (input.size() >= limits.header_bytes_max)
      return Fail(error, 431, "request headers too large");
    return HttpParseStatus::kIncomplete;
  }
  const size_t head_bytes = head_end + 4;
  if (head_bytes > limits.header_bytes_max) return Fail(error, 431, "request headers too large");

  // METHOD SP target SP version
  const std::string_view line = input.substr(0, line_end);
  const size_t first_space = line.find(' ');
  if (first_space == kNotFound) return Fail(error, 400, "malformed request line");
  const size_t second_space = line.find(' ', first_space + 1);
  if (second_space == kNotFound || line.find(' ', second_space + 1) != kNotFound) {
    return Fail(error, 400, "malformed request line");
  }
  const std::string_view method = line.substr(0, first_space);
  const std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
  const std::string_view version = line.substr(second_space + 1);
  if (!IsToken(method)) return Fail(error, 400, "invalid method");
  if (target.empty()) return Fail(error, 400, "empty request target");
  for (const char c : target) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f)
      return Fail(error, 400, "invalid character in request target");
  }
  if (target.front() != '/' && !(target == "*" && method == "OPTIONS")) {
    return Fail(error, 400, "request target must be an absolute path");
  }
  int version_minor = 1;
  if (const uint16_t status = ParseVersion(version, &version_minor); status != 0) {
    return Fail(error, status,
                status == 505 ? "HTTP version not supported" : "malformed HTTP version");
  }

  request->method_ = method;
  request->target_ = target;
  const size_t question = target.find('?');
  request->path_ = target.substr(0, question);
  request->query_ = question == kNotFound ? std::string_view() : target.substr(question + 1);
  request->version_minor_ = version_minor;
  request->header_count_ = 0;
  request->body_ = {};

  bool has_content_length = false;
  bool content_length_conflict = false;
  bool content_length_invalid = false;
  uint64_t content_length = 0;
  bool has_transfer_encoding = false;
  std::string_view transfer_encoding;
  uint32_t host_count = 0;
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool expects_continue = false;
  bool unknown_expectation = false;
  bool count_exceeded = false;
  const std::string_view header_error =
      ForEachHeaderLine(input, line_end + 2, head_end + 2, limits.header_count_max, &count_exceeded,
                        [&](std::string_view name, std::string_view value) {
                          request->headers_[request->header_count_++] = HttpHeader{name, value};
                          if (EqualsIgnoreCase(name, "content-length")) {
                            uint64_t parsed = 0;
                            if (!ParseContentLength(value, &parsed)) {
                              content_length_invalid = true;
                            } else if (has_content_length && parsed != content_length) {
                              content_length_conflict = true;
                            }
                            has_content_length = true;
                            content_length = parsed;
                          } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
                            has_transfer_encoding = true;
                            transfer_encoding = value;
                          } else if (EqualsIgnoreCase(name, "host")) {
                            ++host_count;
                          } else if (EqualsIgnoreCase(name, "connection")) {
                            ForEachListElement(value, [&](std::string_view token) {
                              if (EqualsIgnoreCase(token, "close")) connection_close = true;
                              if (EqualsIgnoreCase(token, "keep-alive"))
                                connection_keep_alive = true;
                            });
                          } else if (EqualsIgnoreCase(name, "expect")) {
                            if (EqualsIgnoreCase(value, "100-continue")) {
                              expects_continue = true;
                            } else {
                              unknown_expectation = true;
                            }
                          }
                        });
  if (count_exceeded) return Fail(error, 431, "too many request headers");
  if (!header_error.empty()) return Fail(error, 400, header_error);

  if (has_transfer_encoding) {
    if (has_content_length) return Fail(error, 400, "both Transfer-Encoding and Content-Length");
    if (EqualsIgnoreCase(LastCoding(transfer_encoding), "chunked")) {
      return Fail(error, 411, "chunked request bodies are not supported: send Content-Length");
    }
    return Fail(error, 501, "transfer coding not supported");
  }
  if (content_length_invalid) return Fail(error, 400, "invalid Content-Length");
  if (content_length_conflict) return Fail(error, 400, "conflicting Content-Length values");
  if (version_minor == 1 ? host_count != 1 : host_count > 1) {
    return Fail(error, 400, "exactly one Host header is required");
  }
  if (unknown_expectation) return Fail(error, 417, "unsupported expectation");
  if (content_length > limits.body_bytes_max) return Fail(error, 413, "request body too large");

  request->keep_alive_ =
      version_minor == 1 ? !connection_close : (connection_keep_alive && !connection_close);
  request->expects_continue_ = expects_continue && version_minor == 1;
  const size_t total = head_bytes + static_cast<size_t>(content_length);
  *consumed = total;
  if (input.size() < total) return HttpParseStatus::kIncomplete;
  request->body_ = input.substr(head_bytes, static_cast<size_t>(content_length));
  return HttpParseStatus::kComplete;
}

std::string_view HttpReasonPhrase(uint16_t status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

bool SerializeHttpResponse(uint16_t status, std::string_view body,
                           const HttpResponseOptions& options, std::string* out) {
  TG_ASSERT(status >= 100 && status <= 999);
  if (!IsFieldValue(options.content_type) || !IsFieldValue(options.date)) return false;
  for (const HttpHeader& header : options.headers) {
    if (!IsToken(header.name) || !IsFieldValue(header.value)) return false;
  }
  const bool has_body = status >= 200 && status != 204 && status != 304;
  out->append("HTTP/1.1 ");
  AppendDecimal(status, out);
  out->push_back(' ');
  out->append(HttpReasonPhrase(status));
  out->append(kCrlf);
  if (has_body) {
    out->append("Content-Length: ");
    AppendDecimal(body.size(), out);
    out->append(kCrlf);
  }
  if (!options.content_type.empty()) {
    out->append("Content-Type: ");
    out->append(options.content_type);
    out->append(kCrlf);
  }
  if (!options.date.empty()) {
    out->append("Date: ");
    out->append(options.date);
    out->append(kCrlf);
  }
  if (!options.keep_alive) {
    out->append("Connection: close\r\n");
  } else if (options.announce_keep_alive) {
    out->append("Connection: keep-alive\r\n");
  }
  for (const HttpHeader& header : options.headers) {
    out->append(header.name);
    out->append(": ");
    out->append(header.value);
    out->append(kCrlf);
  }
  out->append(kCrlf);
  if (has_body && !options.head_request) out->append(body);
  return true;
}

std::string_view FormatHttpDate(int64_t unix_seconds, char (&out)[32]) {
  const time_t seconds = static_cast<time_t>(unix_seconds);
  tm parts{};
  gmtime_r(&seconds, &parts);
  // Fixed English names: strftime's %a and %b follow the locale.
  const int length =
      snprintf(out, sizeof(out), "%s, %02d %s %04d %02d:%02d:%02d GMT",
               kWeekdays[parts.tm_wday % 7], parts.tm_mday, kMonths[parts.tm_mon % 12],
               parts.tm_year + 1900, parts.tm_hour, parts.tm_min, parts.tm_sec);
  return std::string_view(out, static_cast<size_t>(length));
}

HttpParseStatus ParseHttpResponseHead(std::string_view input, uint32_t header_bytes_max,
                                      HttpResponseHead* head, std::string_view* error) {
  const size_t head_end = FindHeadEnd(input, 0);
  if (head_end == kNotFound) {
    if (input.size() >= header_bytes_max) {
      *error = "response head too large";
      return HttpParseStatus::kError;
    }
    return HttpParseStatus::kIncomplete;
  }
  if (head_end + 4 > header_bytes_max) {
    *error = "response head too large";
    return HttpParseStatus::kError;
  }
  const size_t line_end = input.find(kCrlf);
  const std::string_view line = input.substr(0, line_end);
  // "HTTP/1.x SSS[ reason]"
  int minor = 1;
  if (line.size() < 12 || ParseVersion(line.substr(0, 8), &minor) != 0 || line[8] != ' ' ||
      (line.size() > 12 && line[12] != ' ')) {
    *error = "malformed status line";
    return HttpParseStatus::kError;
  }
  uint16_t status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') {
      *error = "malformed status code";
      return HttpParseStatus::kError;
    }
    status = static_cast<uint16_t>(status * 10 + (line[i] - '0'));
  }
  if (status < 100) {
    *error = "malformed status code";
    return HttpParseStatus::kError;
  }
  head->status = status;
  head->version_minor = minor;
  head->reason = line.size() > 13 ? line.substr(13) : std::string_view();
  head->header_count = 0;
  head->content_length.reset();
  head->chunked = false;
  head->head_bytes = head_end + 4;

  bool length_invalid = false;
  bool length_conflict = false;
  bool coding_unsupported = false;
  bool close = minor == 0;
  bool count_exceeded = false;
  const std::string_view header_error = ForEachHeaderLine(
      input, line_end + 2, head_end + 2, kHttpHeaderCountMax, &count_exceeded,
      [&](std::string_view name, std::string_view value) {
        head->headers[head->header_count++] = HttpHeader{name, value};
        if (EqualsIgnoreCase(name, "content-length")) {
          uint64_t parsed = 0;
          if (!ParseContentLength(value, &parsed)) {
            length_invalid = true;
          } else if (head->content_length.has_value() && *head->content_length != parsed) {
            length_conflict = true;
          } else {
            head->content_length = parsed;
          }
        } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
          if (EqualsIgnoreCase(LastCoding(value), "chunked")) {
            head->chunked = true;
          } else {
            coding_unsupported = true;
          }
        } else if (EqualsIgnoreCase(name, "connection")) {
          ForEachListElement(value, [&](std::string_view token) {
            if (EqualsIgnoreCase(token, "close")) close = true;
            if (EqualsIgnoreCase(token, "keep-alive") && minor == 0) close = false;
          });
        }
      });
  if (count_exceeded) {
    *error = "too many response headers";
    return HttpParseStatus::kError;
  }
  if (!header_error.empty()) {
    *error = header_error;
    return HttpParseStatus::kError;
  }
  if (coding_unsupported) {
    *error = "unsupported transfer coding in response";
    return HttpParseStatus::kError;
  }
  if (!head->chunked && (length_invalid || length_conflict)) {
    *error = length_invalid ? "invalid Content-Length in response"
                            : "conflicting Content-Length values in response";
    return HttpParseStatus::kError;
  }
  // With Transfer-Encoding, Content-Length is ignored (RFC 9112 6.3).
  if (head->chunked) head->content_length.reset();
  head->connection_close = close;
  return HttpParseStatus::kComplete;
}

HttpParseStatus ChunkedDecoder::Feed(std::string_view input, std::string* body, size_t* consumed,
                                     std::string_view* error) {
  size_t position = 0;
  for (;;) {
    switch (state_) {
      case State::kSize: {
        const size_t line_end = input.find(kCrlf, position);
        if (line_end == kNotFound) {
          *consumed = position;
          if (input.size() - position > kChunkLineBytesMax) {
            *error = "chunk size line too long";
            return HttpParseStatus::kError;
          }
          return HttpParseStatus::kIncomplete;
        }
        std::string_view size_text = input.substr(position, line_end - position);
        size_text = TrimWhitespace(size_text.substr(0, size_text.find(';')));
        uint64_t size = 0;
        const auto result =
            std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
        if (size_text.empty() || size_text.size() > 15 || result.ec != std::errc() ||
            result.ptr != size_text.data() + size_text.size()) {
          *consumed = position;
          *error = "malformed chunk size";
          return HttpParseStatus::kError;
        }
        position = line_end + 2;
        if (size == 0) {
          state_ = State::kTrailer;
        } else {
          if (body->size() + size > body_bytes_max_) {
            *consumed = position;
            body_too_large_ = true;
            *error = "body too large";
            return HttpParseStatus::kError;
          }
          chunk_remaining_ = size;
          state_ = State::kData;
        }
        break;
      }
      case State::kData: {
        const size_t available = input.size() - position;
        const size_t take =
            chunk_remaining_ < available ? static_cast<size_t>(chunk_remaining_) : available;
        body->append(input.data() + position, take);
        position += take;
        chunk_remaining_ -= take;
        if (chunk_remaining_ > 0) {
          *consumed = position;
          return HttpParseStatus::kIncomplete;
        }
        state_ = State::kDataEnd;
        break;
      }
      case State::kDataEnd: {
        if (input.size() - position < 2) {
          *consumed = position;
          return HttpParseStatus::kIncomplete;
        }
        if (input.substr(position, 2) != kCrlf) {
          *consumed = position;
          *error = "chunk data not followed by CRLF";
          return HttpParseStatus::kError;
        }
        position += 2;
        state_ = State::kSize;
        break;
      }
      case State::kTrailer: {
        const size_t line_end = input.find(kCrlf, position);
        if (line_end == kNotFound) {
          *consumed = position;
          if (input.size() - position > kHttpClientResponseHeaderBytesMax) {
            *error = "trailer too long";
            return HttpParseStatus::kError;
          }
          return HttpParseStatus::kIncomplete;
        }
        const bool blank = line_end == position;
        position = line_end + 2;
        if (blank) state_ = State::kDone;
        break;
      }
      case State::kDone:
        *consumed = position;
        return HttpParseStatus::kComplete;
    }
  }
}

}  // namespace tangelo::net
