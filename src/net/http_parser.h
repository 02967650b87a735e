// HTTP/1.1 message parsing (RFC 9112) for the server and the client, and
// response serialisation. Pure functions over byte views: no sockets, no
// allocation, so they are unit-tested and fuzzed on their own.
//
// Request rules (what the server accepts, and the status it answers with):
// - Request line "METHOD SP origin-form SP HTTP/1.x CRLF"; "*" only with
//   OPTIONS. Longer than kHttpRequestLineBytesMax: 414. Other HTTP
//   versions: 505. Anything malformed: 400.
// - Lines end in CRLF (a bare LF is rejected, 400). Obsolete line folding:
//   400. Request line + headers over header_bytes_max, or more than
//   header_count_max headers: 431.
// - HTTP/1.1 requires exactly one Host header (400 otherwise).
// - Bodies only with Content-Length (digits only; repeated values must
//   agree, else 400). Over body_bytes_max: 413, answered as soon as the
//   headers arrive. Transfer-Encoding (chunked request bodies) is not
//   supported: "chunked" gets 411 Length Required (send Content-Length
//   instead), any other coding 501; with Content-Length as well, 400
//   (request smuggling).
// - "Expect: 100-continue" is honoured; any other expectation gets 417.
// - Keep-alive: HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with
//   "Connection: keep-alive".
// After any error the server answers with the status and a one-line reason
// and closes the connection, since the framing can no longer be trusted.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "net/limits.h"

namespace tangelo::net {

struct HttpHeader {
  std::string_view name;
  std::string_view value;
};

// ASCII case-insensitive equality, for header names and tokens.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// An RFC 9110 token (methods, header names): one or more tchar.
bool IsHttpToken(std::string_view text);
// A header value: no control characters other than horizontal tab.
bool IsHttpFieldValue(std::string_view text);

enum class HttpParseStatus : uint8_t {
  kComplete = 0,
  kIncomplete = 1,  // Need more bytes.
  kError = 2,
};

struct HttpRequestLimits {
  uint32_t request_line_bytes_max = kHttpRequestLineBytesMax;
  uint32_t header_bytes_max = kHttpHeaderBytesMax;
  uint32_t header_count_max = kHttpHeaderCountMax;  // At most kHttpHeaderCountMax.
  uint32_t body_bytes_max = kHttpBodyBytesDefaultMax;
};

// Why a request was refused: the status to answer and a static one-line
// reason (for the response body and logs).
struct HttpParseError {
  uint16_t status = 0;
  std::string_view reason;
};

// A parsed request: views into the connection's input buffer, valid only
// during the handler call. Not thread safe; copy what must outlive the call.
class HttpRequest {
 public:
  std::string_view method() const { return method_; }
  // The request target as sent ("/v1/cards?limit=10").
  std::string_view target() const { return target_; }
  // The target before '?', not percent-decoded.
  std::string_view path() const { return path_; }
  // The target after '?' (empty when none), not decoded.
  std::string_view query() const { return query_; }
  int version_minor() const { return version_minor_; }  // 1 or 0.
  std::span<const HttpHeader> headers() const { return {headers_, header_count_}; }
  // The first header named `name` (ASCII case-insensitive), if any.
  std::optional<std::string_view> Header(std::string_view name) const;
  std::string_view body() const { return body_; }
  // Whether the connection stays open after this request's response.
  bool keep_alive() const { return keep_alive_; }
  bool expects_continue() const { return expects_continue_; }
  bool is_head() const { return method_ == "HEAD"; }

 private:
  friend HttpParseStatus ParseHttpRequest(std::string_view, const HttpRequestLimits&, HttpRequest*,
                                          size_t*, HttpParseError*, size_t);

  std::string_view method_;
  std::string_view target_;
  std::string_view path_;
  std::string_view query_;
  std::string_view body_;
  int version_minor_ = 1;
  bool keep_alive_ = true;
  bool expects_continue_ = false;
  uint32_t header_count_ = 0;
  HttpHeader headers_[kHttpHeaderCountMax];
};

// Parses one request from the front of `input`.
// - kComplete: *request describes it (views into `input`); *consumed is its
//   size in bytes (head + body).
// - kIncomplete: more bytes are needed. When the head is complete but the
//   body is not, *request is filled except body(), and *consumed is the
//   total size the request will have (so the caller knows it fits);
//   otherwise *consumed is 0.
// - kError: *error says what to answer.
// `head_scan_from` lets a caller that already saw a prefix of `input` without
// the blank line skip rescanning it (pass the previous input size), so a
// head trickling in byte by byte costs linear, not quadratic, time.
HttpParseStatus ParseHttpRequest(std::string_view input, const HttpRequestLimits& limits,
                                 HttpRequest* request, size_t* consumed, HttpParseError* error,
                                 size_t head_scan_from = 0);

// The standard reason phrase ("Not Found"), or "Unknown".
std::string_view HttpReasonPhrase(uint16_t status);

// What a response serialiser needs beyond status and body.
struct HttpResponseOptions {
  std::string_view content_type;  // Omitted when empty.
  std::span<const HttpHeader> headers;
  bool keep_alive = true;  // false: "Connection: close".
  // Also send "Connection: keep-alive" (an HTTP/1.0 peer needs it to reuse
  // the connection).
  bool announce_keep_alive = false;
  bool head_request = false;  // HEAD: Content-Length of the body, no body.
  std::string_view date;      // An IMF-fixdate, omitted when empty.
};

// Appends a complete response to *out: status line, Content-Length (except
// for 1xx, 204 and 304, which have no body), the given headers, CRLF, body.
// Returns false, appending nothing, when a header name or value contains
// CR, LF or NUL (header injection) or a name is not a token.
bool SerializeHttpResponse(uint16_t status, std::string_view body,
                           const HttpResponseOptions& options, std::string* out);

// Formats `unix_seconds` as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT")
// into `out` (29 bytes). Returns the view of `out`.
std::string_view FormatHttpDate(int64_t unix_seconds, char (&out)[32]);

// ------------------------------------------------------------ response side

// The head of a response, as the client reads it. Views into the input.
struct HttpResponseHead {
  uint16_t status = 0;
  int version_minor = 1;
  std::string_view reason;
  uint32_t header_count = 0;
  HttpHeader headers[kHttpHeaderCountMax];
  std::optional<uint64_t> content_length;
  bool chunked = false;
  bool connection_close = false;  // Or HTTP/1.0 without keep-alive.
  size_t head_bytes = 0;          // Status line + headers + blank line.
};

// Parses a response head from the front of `input`: kComplete with *head,
// kIncomplete, or kError with a static reason in *error (over
// header_bytes_max or kHttpHeaderCountMax headers, bad status line, bad
// header, bad or conflicting Content-Length, unsupported transfer coding).
HttpParseStatus ParseHttpResponseHead(std::string_view input, uint32_t header_bytes_max,
                                      HttpResponseHead* head, std::string_view* error);

// Incremental decoder of a chunked body (RFC 9112 section 7.1). Chunk
// extensions are ignored; trailers are skipped. Not thread safe.
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(uint64_t body_bytes_max) : body_bytes_max_(body_bytes_max) {}

  // Consumes bytes from the front of `input`, appending decoded data to
  // *body, and sets *consumed. Returns kComplete after the last chunk and
  // its trailers, kIncomplete when more input is needed, kError (reason in
  // *error) for malformed framing or a body over body_bytes_max (reason
  // "body too large", see body_too_large()).
  HttpParseStatus Feed(std::string_view input, std::string* body, size_t* consumed,
                       std::string_view* error);
  bool body_too_large() const { return body_too_large_; }

 private:
  enum class State : uint8_t { kSize, kData, kDataEnd, kTrailer, kDone };
  State state_ = State::kSize;
  uint64_t chunk_remaining_ = 0;
  uint64_t body_bytes_max_;
  bool body_too_large_ = false;
};

}  // namespace tangelo::net
