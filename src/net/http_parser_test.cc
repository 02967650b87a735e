#include "net/http_parser.h"

#include <string>

#include "gtest/gtest.h"

namespace tangelo::net {
namespace {

struct Parsed {
  HttpParseStatus status;
  size_t consumed = 0;
  HttpParseError error;
};

Parsed Parse(std::string_view input, HttpRequest* request,
             const HttpRequestLimits& limits = HttpRequestLimits{}) {
  Parsed parsed;
  parsed.status = ParseHttpRequest(input, limits, request, &parsed.consumed, &parsed.error);
  return parsed;
}

uint16_t ErrorStatus(std::string_view input,
                     const HttpRequestLimits& limits = HttpRequestLimits{}) {
  HttpRequest request;
  const Parsed parsed = Parse(input, &request, limits);
  if (parsed.status != HttpParseStatus::kError) return 0;
  EXPECT_FALSE(parsed.error.reason.empty());
  return parsed.error.status;
}

TEST(HttpRequestParserTest, ParsesASimpleGet) {
  const std::string input =
      "GET /v1/cards/42?limit=10&cursor=x HTTP/1.1\r\nHost: localhost\r\nX-Trace: abc \r\n\r\n";
  HttpRequest request;
  const Parsed parsed = Parse(input, &request);
  ASSERT_EQ(parsed.status, HttpParseStatus::kComplete);
  EXPECT_EQ(parsed.consumed, input.size());
  EXPECT_EQ(request.method(), "GET");
  EXPECT_EQ(request.target(), "/v1/cards/42?limit=10&cursor=x");
  EXPECT_EQ(request.path(), "/v1/cards/42");
  EXPECT_EQ(request.query(), "limit=10&cursor=x");
  EXPECT_EQ(request.version_minor(), 1);
  EXPECT_TRUE(request.keep_alive());
  EXPECT_EQ(request.headers().size(), 2u);
  EXPECT_EQ(request.Header("x-trace"), "abc");  // Case-insensitive, trimmed.
  EXPECT_EQ(request.Header("HOST"), "localhost");
  EXPECT_FALSE(request.Header("missing").has_value());
  EXPECT_TRUE(request.body().empty());
}

TEST(HttpRequestParserTest, KeepAliveRules) {
  HttpRequest request;
  ASSERT_EQ(Parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", &request).status,
            HttpParseStatus::kComplete);
  EXPECT_FALSE(request.keep_alive());
  ASSERT_EQ(Parse("GET / HTTP/1.0\r\n\r\n", &request).status, HttpParseStatus::kComplete);
  EXPECT_FALSE(request.keep_alive());
  ASSERT_EQ(Parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &request).status,
            HttpParseStatus::kComplete);
  EXPECT_TRUE(request.keep_alive());
  ASSERT_EQ(
      Parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, keep-alive\r\n\r\n", &request).status,
      HttpParseStatus::kComplete);
  EXPECT_TRUE(request.keep_alive());
}

TEST(HttpRequestParserTest, BodyWithContentLengthAndIncompleteBody) {
  const std::string head =
      "POST /v1/simulate/authorizations HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n";
  HttpRequest request;
  Parsed parsed = Parse(head + "hello", &request);
  EXPECT_EQ(parsed.status, HttpParseStatus::kIncomplete);
  EXPECT_EQ(parsed.consumed, head.size() + 11);  // The size it will have.
  const std::string complete = head + "hello world" + "GET";
  parsed = Parse(complete, &request);
  ASSERT_EQ(parsed.status, HttpParseStatus::kComplete);
  EXPECT_EQ(parsed.consumed, head.size() + 11);
  EXPECT_EQ(request.body(), "hello world");
}

TEST(HttpRequestParserTest, PipelinedRequestsParseOneAfterAnother) {
  const std::string one = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string two = "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi";
  const std::string input = one + two;
  HttpRequest request;
  Parsed parsed = Parse(input, &request);
  ASSERT_EQ(parsed.status, HttpParseStatus::kComplete);
  EXPECT_EQ(request.path(), "/a");
  parsed = Parse(std::string_view(input).substr(parsed.consumed), &request);
  ASSERT_EQ(parsed.status, HttpParseStatus::kComplete);
  EXPECT_EQ(request.path(), "/b");
  EXPECT_EQ(request.body(), "hi");
}

TEST(HttpRequestParserTest, ByteByByteCompletesExactlyAtTheEnd) {
  const std::string input = "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
  HttpRequest request;
  for (size_t size = 0; size < input.size(); ++size) {
    size_t consumed = 0;
    HttpParseError error;
    // Resume scanning from the previous size, as the server does.
    const HttpParseStatus status =
        ParseHttpRequest(std::string_view(input).substr(0, size), HttpRequestLimits{}, &request,
                         &consumed, &error, size == 0 ? 0 : size - 1);
    ASSERT_EQ(status, HttpParseStatus::kIncomplete) << size;
  }
  const Parsed parsed = Parse(input, &request);
  ASSERT_EQ(parsed.status, HttpParseStatus::kComplete);
  EXPECT_EQ(request.body(), "abc");
}

TEST(HttpRequestParserTest, LimitsGiveTheirStatus) {
  HttpRequestLimits limits;
  limits.request_line_bytes_max = 64;
  limits.header_bytes_max = 256;
  limits.header_count_max = 4;
  limits.body_bytes_max = 10;
  // Request line too long, even before it ends.
  EXPECT_EQ(ErrorStatus("GET /" + std::string(100, 'a'), limits), 414);
  EXPECT_EQ(ErrorStatus("GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n", limits), 414);
  // Headers too large, complete or not.
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(300, 'b'), limits), 431);
  EXPECT_EQ(
      ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(300, 'b') + "\r\n\r\n", limits),
      431);
  // Too many headers.
  EXPECT_EQ(
      ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", limits),
      431);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits), 0);
  // Body too large: answered from the head alone.
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", limits), 413);
  EXPECT_EQ(
      ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                  limits),
      413);
}

TEST(HttpRequestParserTest, TransferEncodingIsRefused) {
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), 411);
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                        "Content-Length: 3\r\n\r\nabc"),
            400);
}

TEST(HttpRequestParserTest, MalformedRequestsGet400Or505) {
  EXPECT_EQ(ErrorStatus("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 505);
  EXPECT_EQ(ErrorStatus("GET / HTTX/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET /\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET http://x/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\nHost: a\n\n"), 400);                   // Bare LF.
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n"), 400);  // Obs-fold.
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);  // Space before colon.
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01"
                        "b\r\n\r\n"),
            400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\nX: a\nb\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\n\r\n"), 400);                        // No Host.
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);  // Two Hosts.
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400);
  EXPECT_EQ(
      ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
      400);
  EXPECT_EQ(
      ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"),
      0);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n"), 417);
  EXPECT_EQ(ErrorStatus("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
  EXPECT_EQ(ErrorStatus("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
}

TEST(HttpRequestParserTest, ExpectContinueIsFlagged) {
  HttpRequest request;
  const Parsed parsed = Parse(
      "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n", &request);
  EXPECT_EQ(parsed.status, HttpParseStatus::kIncomplete);
  EXPECT_TRUE(request.expects_continue());
}

TEST(HttpResponseWriterTest, SerialisesStatusLengthAndHeaders) {
  std::string out;
  const HttpHeader headers[] = {{"X-Request-Id", "r1"}};
  HttpResponseOptions options;
  options.content_type = "application/json";
  options.headers = headers;
  ASSERT_TRUE(SerializeHttpResponse(201, "{}", options, &out));
  EXPECT_EQ(out,
            "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nContent-Type: application/json\r\n"
            "X-Request-Id: r1\r\n\r\n{}");
}

TEST(HttpResponseWriterTest, CloseHeadAndBodylessStatuses) {
  std::string out;
  HttpResponseOptions options;
  options.keep_alive = false;
  options.head_request = true;
  ASSERT_TRUE(SerializeHttpResponse(200, "hello", options, &out));
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n");
  out.clear();
  ASSERT_TRUE(SerializeHttpResponse(204, "ignored", HttpResponseOptions{}, &out));
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\n\r\n");
  out.clear();
  HttpResponseOptions http10;
  http10.announce_keep_alive = true;
  ASSERT_TRUE(SerializeHttpResponse(404, "", http10, &out));
  EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n");
}

TEST(HttpResponseWriterTest, RefusesHeaderInjection) {
  std::string out;
  const HttpHeader bad_value[] = {{"X-A", "1\r\nSet-Cookie: evil"}};
  HttpResponseOptions options;
  options.headers = bad_value;
  EXPECT_FALSE(SerializeHttpResponse(200, "", options, &out));
  EXPECT_TRUE(out.empty());
  const HttpHeader bad_name[] = {{"X A", "1"}};
  options.headers = bad_name;
  EXPECT_FALSE(SerializeHttpResponse(200, "", options, &out));
  options.headers = {};
  options.content_type = "text/plain\r\nX: y";
  EXPECT_FALSE(SerializeHttpResponse(200, "", options, &out));
}

TEST(HttpDateTest, FormatsImfFixdate) {
  char buffer[32];
  EXPECT_EQ(FormatHttpDate(784111777, buffer), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(HttpResponseParserTest, ParsesHeadAndBodyFraming) {
  HttpResponseHead head;
  std::string_view error;
  const std::string input =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
  ASSERT_EQ(ParseHttpResponseHead(input, 1024, &head, &error), HttpParseStatus::kComplete);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.reason, "OK");
  EXPECT_EQ(head.content_length, 7u);
  EXPECT_FALSE(head.chunked);
  EXPECT_FALSE(head.connection_close);
  EXPECT_EQ(input.substr(head.head_bytes), "{\"a\":1}");

  ASSERT_EQ(ParseHttpResponseHead(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 1024,
                &head, &error),
            HttpParseStatus::kComplete);
  EXPECT_TRUE(head.chunked);
  EXPECT_FALSE(head.content_length.has_value());  // Ignored with chunked.

  ASSERT_EQ(ParseHttpResponseHead("HTTP/1.0 204\r\n\r\n", 1024, &head, &error),
            HttpParseStatus::kComplete);
  EXPECT_EQ(head.status, 204);
  EXPECT_TRUE(head.connection_close);  // HTTP/1.0 default.

  EXPECT_EQ(ParseHttpResponseHead("HTTP/1.1 200 OK\r\nContent-", 1024, &head, &error),
            HttpParseStatus::kIncomplete);
}

TEST(HttpResponseParserTest, RejectsMalformedHeads) {
  HttpResponseHead head;
  std::string_view error;
  EXPECT_EQ(ParseHttpResponseHead("garbage\r\n\r\n", 1024, &head, &error), HttpParseStatus::kError);
  EXPECT_EQ(ParseHttpResponseHead("HTTP/1.1 2x0 OK\r\n\r\n", 1024, &head, &error),
            HttpParseStatus::kError);
  EXPECT_EQ(
      ParseHttpResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                            1024, &head, &error),
      HttpParseStatus::kError);
  EXPECT_EQ(ParseHttpResponseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 1024, &head,
                                  &error),
            HttpParseStatus::kError);
  EXPECT_EQ(
      ParseHttpResponseHead("HTTP/1.1 200 OK\r\nX: " + std::string(2000, 'a'), 1024, &head, &error),
      HttpParseStatus::kError);
  EXPECT_FALSE(error.empty());
}

TEST(ChunkedDecoderTest, DecodesChunksExtensionsAndTrailers) {
  const std::string input = "4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT";
  ChunkedDecoder decoder(1024);
  std::string body;
  size_t consumed = 0;
  std::string_view error;
  ASSERT_EQ(decoder.Feed(input, &body, &consumed, &error), HttpParseStatus::kComplete);
  EXPECT_EQ(body, "Wikipedia");
  EXPECT_EQ(input.substr(consumed), "NEXT");
}

TEST(ChunkedDecoderTest, ByteByByte) {
  const std::string input = "3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n";
  ChunkedDecoder decoder(1024);
  std::string body;
  std::string pending;
  HttpParseStatus status = HttpParseStatus::kIncomplete;
  for (const char c : input) {
    pending.push_back(c);
    size_t consumed = 0;
    std::string_view error;
    status = decoder.Feed(pending, &body, &consumed, &error);
    ASSERT_NE(status, HttpParseStatus::kError);
    pending.erase(0, consumed);
  }
  EXPECT_EQ(status, HttpParseStatus::kComplete);
  EXPECT_EQ(body, "abc0123456789");
}

TEST(ChunkedDecoderTest, RejectsOversizeAndMalformed) {
  std::string body;
  size_t consumed = 0;
  std::string_view error;
  ChunkedDecoder small(4);
  EXPECT_EQ(small.Feed("5\r\nhello\r\n0\r\n\r\n", &body, &consumed, &error),
            HttpParseStatus::kError);
  EXPECT_TRUE(small.body_too_large());
  ChunkedDecoder bad_size(1024);
  EXPECT_EQ(bad_size.Feed("zz\r\n", &body, &consumed, &error), HttpParseStatus::kError);
  EXPECT_FALSE(bad_size.body_too_large());
  ChunkedDecoder bad_end(1024);
  EXPECT_EQ(bad_end.Feed("2\r\nabXX", &body, &consumed, &error), HttpParseStatus::kError);
}

}  // namespace
}  // namespace tangelo::net
