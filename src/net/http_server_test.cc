// Integration tests of HttpServer: real sockets on 127.0.0.1, port 0.
#include "net/http_server.h"

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "net/test_util.h"

namespace tangelo::net {
namespace {

using testing::RawResponse;
using testing::ReadResponses;
using testing::TestSocket;
using testing::WaitFor;

std::string Get(std::string_view path, std::string_view extra_headers = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra_headers) +
         "\r\n";
}

HttpServerOptions Options() {
  HttpServerOptions options;
  options.tcp.thread_name = "test-http";
  return options;
}

// Echoes method, path and body at once.
void Echo(const HttpRequest& request, HttpResponder responder) {
  std::string body = std::string(request.method()) + " " + std::string(request.path());
  if (!request.body().empty()) body += " " + std::string(request.body());
  if (auto trace = request.Header("x-trace")) body += " trace=" + std::string(*trace);
  responder.Respond(200, body, "text/plain");
}

// Keeps responders to complete them later, from the test thread.
struct HeldRequests {
  std::mutex mutex;
  std::vector<HttpResponder> responders;
  std::vector<std::string> paths;

  void Add(const HttpRequest& request, HttpResponder responder) {
    std::lock_guard<std::mutex> lock(mutex);
    responders.push_back(std::move(responder));
    paths.emplace_back(request.path());
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mutex);
    return responders.size();
  }
};

TEST(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  HttpServer server(Options(), Echo);
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(socket.Send(Get("/v1/accounts/" + std::to_string(i) + "?x=1", "X-Trace: t1\r\n")));
    const std::vector<RawResponse> responses = ReadResponses(socket, 1);
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].status, 200);
    EXPECT_EQ(responses[0].body, "GET /v1/accounts/" + std::to_string(i) + " trace=t1");
    EXPECT_EQ(responses[0].Header("content-type"), "text/plain");
    EXPECT_FALSE(responses[0].Header("connection").has_value());
  }
  const HttpServerStats stats = server.Stats();
  EXPECT_EQ(stats.requests, 3u);
  EXPECT_EQ(stats.tcp.connections_accepted, 1u);
}

TEST(HttpServerTest, PostBodyReachesTheHandler) {
  HttpServer server(Options(), Echo);
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  const std::string body = "{\"amount\":\"12.34\"}";
  ASSERT_TRUE(
      socket.Send("POST /v1/simulate/authorizations HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(socket.Send(body.substr(5)));
  const std::vector<RawResponse> responses = ReadResponses(socket, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].body, "POST /v1/simulate/authorizations " + body);
}

TEST(HttpServerTest, PipelinedOutOfOrderCompletionsAreAnsweredInOrder) {
  HeldRequests held;
  HttpServer server(Options(), [&held](const HttpRequest& request, HttpResponder responder) {
    held.Add(request, std::move(responder));
  });
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  std::string burst;
  for (int i = 0; i < 8; ++i) burst += Get("/r" + std::to_string(i));
  ASSERT_TRUE(socket.Send(burst));
  ASSERT_TRUE(WaitFor([&] { return held.size() == 8; }));
  // Complete from another thread, last first; nothing may leave before /r0.
  std::thread completer([&] {
    std::lock_guard<std::mutex> lock(held.mutex);
    for (size_t i = 8; i-- > 1;) held.responders[i].Respond(200, "done " + held.paths[i]);
  });
  completer.join();
  EXPECT_TRUE(socket.Quiet(50));
  {
    std::lock_guard<std::mutex> lock(held.mutex);
    held.responders[0].Respond(200, "done " + held.paths[0]);
  }
  const std::vector<RawResponse> responses = ReadResponses(socket, 8);
  ASSERT_EQ(responses.size(), 8u);
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(responses[i].body, "done /r" + std::to_string(i));
}

TEST(HttpServerTest, PipelineDepthBoundsRequestsInFlight) {
  HeldRequests held;
  HttpServerOptions options = Options();
  options.pipeline_depth = 2;
  HttpServer server(options, [&held](const HttpRequest& request, HttpResponder responder) {
    held.Add(request, std::move(responder));
  });
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  ASSERT_TRUE(socket.Send(Get("/a") + Get("/b") + Get("/c") + Get("/d")));
  ASSERT_TRUE(WaitFor([&] { return held.size() == 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(held.size(), 2u);
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(WaitFor([&] { return held.size() > i; }));
    std::lock_guard<std::mutex> lock(held.mutex);
    held.responders[i].Respond(200, held.paths[i]);
  }
  const std::vector<RawResponse> responses = ReadResponses(socket, 4);
  ASSERT_EQ(responses.size(), 4u);
  EXPECT_EQ(responses[3].body, "/d");
}

TEST(HttpServerTest, ConnectionCloseIsHonoured) {
  HttpServer server(Options(), Echo);
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  // The request after "Connection: close" is never answered.
  ASSERT_TRUE(socket.Send(Get("/bye", "Connection: close\r\n") + Get("/ignored")));
  const std::vector<RawResponse> responses = ReadResponses(socket, 2, 500);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].body, "GET /bye");
  EXPECT_EQ(responses[0].Header("connection"), "close");
  EXPECT_TRUE(socket.WaitClosed());
  EXPECT_EQ(server.Stats().requests, 1u);
}

TEST(HttpServerTest, Http10ClosesUnlessKeepAliveIsAsked) {
  HttpServer server(Options(), Echo);
  ASSERT_TRUE(server.Start().ok());
  TestSocket keep(server.port());
  ASSERT_TRUE(
      keep.Send("GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n"));
  const std::vector<RawResponse> responses = ReadResponses(keep, 2);
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].Header("connection"), "keep-alive");
  EXPECT_EQ(responses[1].Header("connection"), "close");
  EXPECT_TRUE(keep.WaitClosed());
}

TEST(HttpServerTest, HeadGetsLengthWithoutBody) {
  HttpServer server(Options(), [](const HttpRequest&, HttpResponder responder) {
    responder.Respond(200, "twelve bytes");
  });
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  ASSERT_TRUE(socket.Send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n" + Get("/")));
  const std::string wire = socket.ReadUntil(
      [](const std::string& buffer) { return buffer.find("twelve bytes") != std::string::npos; });
  EXPECT_EQ(wire,
            "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"
            "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\ntwelve bytes");
}

struct LimitCase {
  std::string request;
  uint16_t status;
};

TEST(HttpServerTest, EveryLimitAndMalformationGetsItsStatusAndCloses) {
  HttpServerOptions options = Options();
  options.limits.request_line_bytes_max = 256;
  options.limits.header_bytes_max = 1024;
  options.limits.header_count_max = 8;
  options.limits.body_bytes_max = 64;
  HttpServer server(options, Echo);
  ASSERT_TRUE(server.Start().ok());
  std::string many_headers = "GET / HTTP/1.1\r\nHost: t\r\n";
  for (int i = 0; i < 9; ++i) many_headers += "X-" + std::to_string(i) + ": v\r\n";
  many_headers += "\r\n";
  const std::vector<LimitCase> cases = {
      {"GET /" + std::string(300, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n", 414},
      {"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(2000, 'b') + "\r\n\r\n", 431},
      {many_headers, 431},
      {"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 65\r\n\r\n", 413},
      {"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
       411},
      {"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
      {"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505},
      {"BLAH\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: t\r\nExpect: magic\r\n\r\n", 417},
      {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(300, '\x01'),
       414},
  };
  for (const LimitCase& limit_case : cases) {
    SCOPED_TRACE(limit_case.request.substr(0, 40));
    TestSocket socket(server.port());
    ASSERT_TRUE(socket.Send(limit_case.request + Get("/after")));
    const std::vector<RawResponse> responses = ReadResponses(socket, 2, 500);
    ASSERT_EQ(responses.size(), 1u);  // Nothing after the error is answered.
    EXPECT_EQ(responses[0].status, limit_case.status);
    EXPECT_EQ(responses[0].Header("connection"), "close");
    EXPECT_FALSE(responses[0].body.empty());
    EXPECT_TRUE(socket.WaitClosed());
  }
  const HttpServerStats stats = server.Stats();
  EXPECT_EQ(stats.rejected_414, 2u);
  EXPECT_EQ(stats.rejected_431, 2u);
  EXPECT_EQ(stats.rejected_413, 1u);
  EXPECT_EQ(stats.rejected_411, 1u);
  EXPECT_EQ(stats.rejected_501, 1u);
  EXPECT_EQ(stats.rejected_505, 1u);
  EXPECT_EQ(stats.rejected_400, 3u);
  EXPECT_EQ(stats.rejected_417, 1u);
  EXPECT_EQ(stats.requests, 0u);
  // The server is still serving.
  TestSocket socket(server.port());
  ASSERT_TRUE(socket.Send(Get("/ok")));
  ASSERT_EQ(ReadResponses(socket, 1).size(), 1u);
}

TEST(HttpServerTest, ErrorAfterPipelinedRequestsWaitsForTheirResponses) {
  HeldRequests held;
  HttpServer server(Options(), [&held](const HttpRequest& request, HttpResponder responder) {
    held.Add(request, std::move(responder));
  });
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  ASSERT_TRUE(socket.Send(Get("/first") + "GARBAGE\r\n\r\n"));
  ASSERT_TRUE(WaitFor([&] { return held.size() == 1; }));
  EXPECT_TRUE(socket.Quiet(30));  // The 400 waits for /first's response.
  held.responders[0].Respond(200, "first");
  const std::vector<RawResponse> responses = ReadResponses(socket, 2);
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].body, "first");
  EXPECT_EQ(responses[1].status, 400);
  EXPECT_TRUE(socket.WaitClosed());
}

TEST(HttpServerTest, DroppedResponderAnswers500) {
  HttpServer server(Options(), [](const HttpRequest&, HttpResponder) {});
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  ASSERT_TRUE(socket.Send(Get("/forgotten") + Get("/again")));
  const std::vector<RawResponse> responses = ReadResponses(socket, 2);
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].status, 500);
  EXPECT_EQ(responses[1].status, 500);
  EXPECT_EQ(server.Stats().unanswered_500, 2u);
}

TEST(HttpServerTest, HeaderInjectionBecomes500) {
  HttpServer server(Options(), [](const HttpRequest&, HttpResponder responder) {
    const HttpHeader headers[] = {{"Location", "/x\r\nSet-Cookie: stolen=1"}};
    responder.Respond(302, "", "", headers);
  });
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  ASSERT_TRUE(socket.Send(Get("/")));
  const std::vector<RawResponse> responses = ReadResponses(socket, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 500);
  EXPECT_FALSE(responses[0].Header("set-cookie").has_value());
  EXPECT_EQ(server.Stats().invalid_response_500, 1u);
}

TEST(HttpServerTest, ResponseForAClosedConnectionIsDroppedSafely) {
  HeldRequests held;
  HttpServerOptions options = Options();
  options.tcp.idle_timeout_ms = 50;
  HttpServer server(options, [&held](const HttpRequest& request, HttpResponder responder) {
    held.Add(request, std::move(responder));
  });
  ASSERT_TRUE(server.Start().ok());
  {
    TestSocket socket(server.port());
    ASSERT_TRUE(socket.Send(Get("/gone")));
    ASSERT_TRUE(WaitFor([&] { return held.size() == 1; }));
  }
  ASSERT_TRUE(WaitFor([&] { return server.Stats().tcp.connections_open == 0; }));
  std::thread late([&] { held.responders[0].Respond(200, "nobody listens"); });
  late.join();
  ASSERT_TRUE(WaitFor([&] { return server.Stats().tcp.replies_dropped == 1; }));
}

TEST(HttpServerTest, ExpectContinueGetsAnInterimResponse) {
  HttpServer server(Options(), Echo);
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  ASSERT_TRUE(socket.Send(
      "PUT /upload HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  const std::string interim = socket.ReadUntil(
      [](const std::string& buffer) { return buffer.find("\r\n\r\n") != std::string::npos; });
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(socket.Send("data"));
  const std::vector<RawResponse> responses = ReadResponses(socket, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].body, "PUT /upload data");
}

TEST(HttpServerTest, DateHeaderWhenAsked) {
  HttpServerOptions options = Options();
  options.date_header = true;
  io::ManualClock clock(784111777ULL * 1'000'000'000ULL);
  options.tcp.clock = &clock;
  HttpServer server(options, Echo);
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  ASSERT_TRUE(socket.Send(Get("/")));
  const std::vector<RawResponse> responses = ReadResponses(socket, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].Header("date"), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(HttpServerTest, GracefulShutdownAnswersInFlightWithConnectionClose) {
  HeldRequests held;
  HttpServer server(Options(), [&held](const HttpRequest& request, HttpResponder responder) {
    held.Add(request, std::move(responder));
  });
  ASSERT_TRUE(server.Start().ok());
  TestSocket socket(server.port());
  ASSERT_TRUE(socket.Send(Get("/slow")));
  ASSERT_TRUE(WaitFor([&] { return held.size() == 1; }));
  std::atomic<uint64_t> forced{99};
  std::thread stopper([&] { forced = server.Shutdown(3000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  // New requests on the open connection are no longer read.
  ASSERT_TRUE(socket.Send(Get("/too-late")));
  held.responders[0].Respond(200, "finished");
  const std::vector<RawResponse> responses = ReadResponses(socket, 2, 500);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].body, "finished");
  EXPECT_EQ(responses[0].Header("connection"), "close");
  EXPECT_TRUE(socket.WaitClosed());
  stopper.join();
  EXPECT_EQ(forced.load(), 0u);
  EXPECT_EQ(held.size(), 1u);
}

TEST(HttpServerTest, RejectsBadOptions) {
  HttpServerOptions options = Options();
  options.pipeline_depth = 3;
  HttpServer server(options, Echo);
  EXPECT_EQ(server.Start().code(), base::StatusCode::kInvalidArgument);
  HttpServerOptions limits = Options();
  limits.limits.header_count_max = kHttpHeaderCountMax + 1;
  HttpServer other(limits, Echo);
  EXPECT_EQ(other.Start().code(), base::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tangelo::net
