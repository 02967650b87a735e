// Integration tests of HttpClient against HttpServer and against scripted
// raw servers that misbehave on purpose: real sockets on 127.0.0.1.
#include "net/http_client.h"

#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "net/http_server.h"
#include "net/test_util.h"

namespace tangelo::net {
namespace {

using testing::ScriptedServer;
using testing::WaitFor;

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoopThread::Start(EventLoopOptions{}, "test-client");
    ASSERT_TRUE(loop.ok());
    loop_ = std::move(loop).value();
    MakeClient(HttpClientOptions{});
  }
  void TearDown() override {
    client_.reset();
    loop_.reset();
  }

  void MakeClient(HttpClientOptions options) {
    client_.reset();
    auto client = HttpClient::Create(&loop_->loop(), std::move(options));
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
  }

  // Sends and waits for the outcome.
  HttpClientResponse Call(HttpClientRequest request) {
    std::promise<HttpClientResponse> promise;
    std::future<HttpClientResponse> future = promise.get_future();
    auto* promise_pointer = &promise;
    client_->Send(std::move(request), [promise_pointer](HttpClientResponse&& response) {
      promise_pointer->set_value(std::move(response));
    });
    return future.get();
  }

  // The outcome of one GET against a raw server that answers `reply`
  // (whatever the request) and closes.
  HttpClientResponse CallScripted(const std::string& reply) {
    ScriptedServer server([reply](int fd, const std::string&) {
      ScriptedServer::WriteAll(fd, reply);
      return false;
    });
    return Call(Get("http://127.0.0.1:" + std::to_string(server.port()) + "/"));
  }

  static HttpClientRequest Get(const std::string& url, uint64_t deadline_ms = 2000) {
    HttpClientRequest request;
    request.url = url;
    request.deadline_ms = deadline_ms;
    return request;
  }

  std::unique_ptr<EventLoopThread> loop_;
  std::unique_ptr<HttpClient> client_;
};

std::string Url(uint16_t port, std::string_view path) {
  return "http://127.0.0.1:" + std::to_string(port) + std::string(path);
}

HttpServerOptions ServerOptions() {
  HttpServerOptions options;
  options.tcp.thread_name = "test-srv";
  return options;
}

TEST_F(HttpClientTest, OkWithStatusHeadersAndBody) {
  HttpServer server(ServerOptions(), [](const HttpRequest& request, HttpResponder responder) {
    const std::string_view signature = request.Header("x-signature").value_or("");
    const HttpHeader headers[] = {{"X-Echo-Signature", signature}};
    responder.Respond(request.method() == "POST" ? 201 : 200,
                      std::string(request.method()) + ":" + std::string(request.body()),
                      "application/json", headers);
  });
  ASSERT_TRUE(server.Start().ok());
  HttpClientRequest request;
  request.method = "POST";
  request.url = Url(server.port(), "/decisions?tenant=1");
  request.headers = {{"X-Signature", "t=1,v1=abc"}, {"Content-Type", "application/json"}};
  request.body = "{\"approve\":true}";
  const HttpClientResponse response = Call(request);
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, "POST:{\"approve\":true}");
  EXPECT_EQ(response.Header("x-echo-signature"), "t=1,v1=abc");
  EXPECT_EQ(response.Header("content-type"), "application/json");

  const HttpClientResponse get = Call(Get(Url(server.port(), "/")));
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "GET:");
  // The second request reused the kept-alive connection.
  const HttpClientStats stats = client_->Stats();
  EXPECT_EQ(stats.connections_opened, 1u);
  EXPECT_EQ(stats.connections_reused, 1u);
  EXPECT_EQ(stats.ok, 2u);
}

TEST_F(HttpClientTest, ManyRequestsInFlightShareABoundedPool) {
  HttpClientOptions options;
  options.connections_per_host_max = 4;
  MakeClient(options);
  HttpServerOptions server_options = ServerOptions();
  server_options.tcp.loop_threads = 2;
  HttpServer server(server_options, [](const HttpRequest& request, HttpResponder responder) {
    // Answer from another thread a little later, as a slow client would.
    std::thread([path = std::string(request.path()), responder = std::move(responder)]() mutable {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      responder.Respond(200, path);
    }).detach();
  });
  ASSERT_TRUE(server.Start().ok());
  constexpr int kRequests = 200;
  std::mutex mutex;
  int ok = 0;
  int wrong = 0;
  std::atomic<int> done{0};
  for (int i = 0; i < kRequests; ++i) {
    const std::string path = "/item/" + std::to_string(i);
    client_->Send(Get(Url(server.port(), path)), [&, path](HttpClientResponse&& response) {
      std::lock_guard<std::mutex> lock(mutex);
      if (response.ok() && response.body == path) {
        ++ok;
      } else {
        ++wrong;
      }
      done.fetch_add(1);
    });
  }
  ASSERT_TRUE(WaitFor([&] { return done.load() == kRequests; }, 10000));
  EXPECT_EQ(ok, kRequests);
  EXPECT_EQ(wrong, 0);
  EXPECT_LE(client_->Stats().connections_opened, 4u);
}

TEST_F(HttpClientTest, TimeoutDiscardsTheConnection) {
  std::mutex mutex;
  std::vector<HttpResponder> held;
  HttpServer server(ServerOptions(), [&](const HttpRequest& request, HttpResponder responder) {
    if (request.path() == "/slow") {
      std::lock_guard<std::mutex> lock(mutex);
      held.push_back(std::move(responder));
      return;
    }
    responder.Respond(200, "fast");
  });
  ASSERT_TRUE(server.Start().ok());
  const auto started = std::chrono::steady_clock::now();
  const HttpClientResponse response = Call(Get(Url(server.port(), "/slow"), 100));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(response.code, HttpClientResultCode::kTimeout);
  EXPECT_GE(elapsed, std::chrono::milliseconds(100));
  EXPECT_LT(elapsed, std::chrono::milliseconds(1000));
  {
    // The late answer goes to a connection the client already dropped.
    std::lock_guard<std::mutex> lock(mutex);
    held[0].Respond(200, "late");
  }
  const HttpClientResponse next = Call(Get(Url(server.port(), "/fast")));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next.body, "fast");
  EXPECT_EQ(client_->Stats().connections_opened, 2u);
  EXPECT_EQ(client_->Stats().timeouts, 1u);
}

TEST_F(HttpClientTest, RefusedOnAClosedPort) {
  // Bind a port and close it: nothing listens there.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = testing::LoopbackAddress(0);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const uint16_t port = ntohs(address.sin_port);
  close(fd);
  const HttpClientResponse response = Call(Get(Url(port, "/")));
  EXPECT_EQ(response.code, HttpClientResultCode::kConnectionRefused) << response.error;
  EXPECT_EQ(client_->Stats().refused, 1u);
}

TEST_F(HttpClientTest, ResetBeforeAnyResponse) {
  ScriptedServer server([](int fd, const std::string&) {
    ScriptedServer::ResetConnection(fd);
    return false;
  });
  const HttpClientResponse response = Call(Get(Url(server.port(), "/")));
  EXPECT_EQ(response.code, HttpClientResultCode::kConnectionReset) << response.error;
}

TEST_F(HttpClientTest, ClosedHalfwayThroughTheBody) {
  const HttpClientResponse response =
      CallScripted("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part");
  EXPECT_EQ(response.code, HttpClientResultCode::kConnectionReset) << response.error;
}

TEST_F(HttpClientTest, MalformedResponses) {
  for (const std::string& reply :
       {std::string("SMTP ready\r\n\r\n"), std::string("HTTP/1.1 2OO OK\r\n\r\n"),
        std::string("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"),
        std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")}) {
    const HttpClientResponse response = CallScripted(reply);
    EXPECT_EQ(response.code, HttpClientResultCode::kMalformedResponse) << reply << response.error;
  }
}

TEST_F(HttpClientTest, BodyTooLarge) {
  HttpClientOptions options;
  options.response_body_bytes_max = 16;
  MakeClient(options);
  for (const std::string& reply :
       {"HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n" + std::string(17, 'x'),
        std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n") +
            std::string(16, 'x') + "\r\n1\r\ny\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(40, 'x')}) {
    const HttpClientResponse response = CallScripted(reply);
    EXPECT_EQ(response.code, HttpClientResultCode::kBodyTooLarge) << response.error;
  }
}

TEST_F(HttpClientTest, ChunkedAndCloseDelimitedBodies) {
  ScriptedServer chunked([](int fd, const std::string&) {
    ScriptedServer::WriteAll(fd,
                             "HTTP/1.1 100 Continue\r\n\r\n"
                             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    return true;
  });
  HttpClientResponse response = Call(Get(Url(chunked.port(), "/")));
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.body, "hello world");
  response = Call(Get(Url(chunked.port(), "/")));  // Reuses the connection.
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.body, "hello world");
  EXPECT_EQ(chunked.accepted(), 1);

  ScriptedServer until_close([](int fd, const std::string&) {
    ScriptedServer::WriteAll(fd, "HTTP/1.0 200 OK\r\n\r\nstreamed until close");
    return false;
  });
  response = Call(Get(Url(until_close.port(), "/")));
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.body, "streamed until close");
}

TEST_F(HttpClientTest, ServerClosingAnIdleConnectionIsSurvived) {
  // Answers with keep-alive, then closes the connection anyway.
  ScriptedServer server([](int fd, const std::string&) {
    ScriptedServer::WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    return false;
  });
  for (int i = 0; i < 5; ++i) {
    const HttpClientResponse response = Call(Get(Url(server.port(), "/")));
    ASSERT_TRUE(response.ok()) << i << ": " << response.error;
    std::this_thread::sleep_for(std::chrono::milliseconds(i % 2 == 0 ? 0 : 10));
  }
  EXPECT_EQ(server.accepted(), 5);
}

TEST_F(HttpClientTest, EarlyErrorResponseBeforeTheBodyIsSent) {
  HttpServerOptions options = ServerOptions();
  options.limits.body_bytes_max = 1024;
  HttpServer server(options, [](const HttpRequest&, HttpResponder responder) {
    responder.Respond(200, "unexpected");
  });
  ASSERT_TRUE(server.Start().ok());
  HttpClientRequest request = Get(Url(server.port(), "/upload"));
  request.method = "POST";
  request.body = std::string(2 * 1024 * 1024, 'b');
  const HttpClientResponse response = Call(request);
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.status, 413);
  // The connection is not reused: its request was never fully sent.
  const HttpClientResponse next = Call(Get(Url(server.port(), "/")));
  ASSERT_TRUE(next.ok()) << next.error;
  EXPECT_EQ(next.body, "unexpected");
  EXPECT_EQ(client_->Stats().connections_opened, 2u);
}

TEST_F(HttpClientTest, InvalidRequestsAreRefusedWithoutANetworkCall) {
  const std::vector<std::string> urls = {
      "https://127.0.0.1:1/",    // No TLS yet.
      "ftp://127.0.0.1/",        // Not HTTP.
      "http://example.com/",     // No DNS, not configured.
      "http://10.0.0.1:80/",     // Not loopback, not configured.
      "http://user@127.0.0.1/",  // User information.
      "http://127.0.0.1:0/",     // Bad port.
      "http://127.0.0.1:99999/", "http:///path",
  };
  for (const std::string& url : urls) {
    const HttpClientResponse response = Call(Get(url));
    EXPECT_EQ(response.code, HttpClientResultCode::kInvalidRequest) << url;
    EXPECT_FALSE(response.error.empty());
  }
  HttpClientRequest bad_header = Get("http://127.0.0.1:1/");
  bad_header.headers = {{"X-Evil", "a\r\nInjected: 1"}};
  EXPECT_EQ(Call(bad_header).code, HttpClientResultCode::kInvalidRequest);
  HttpClientRequest own_length = Get("http://127.0.0.1:1/");
  own_length.headers = {{"Content-Length", "5"}};
  EXPECT_EQ(Call(own_length).code, HttpClientResultCode::kInvalidRequest);
  EXPECT_EQ(Call(Get("http://127.0.0.1:1/", 0)).code, HttpClientResultCode::kInvalidRequest);
  EXPECT_EQ(Call(Get("http://127.0.0.1:1/", kHttpClientDeadlineMsMax + 1)).code,
            HttpClientResultCode::kInvalidRequest);
  EXPECT_EQ(client_->Stats().connections_opened, 0u);
}

TEST_F(HttpClientTest, ConfiguredHostNamesMapToAddresses) {
  HttpClientOptions options;
  options.hosts = {{"Decisions.Client.Example", "127.0.0.1"}};
  MakeClient(options);
  HttpServer server(ServerOptions(), [](const HttpRequest& request, HttpResponder responder) {
    responder.Respond(200, std::string(request.Header("host").value_or("")));
  });
  ASSERT_TRUE(server.Start().ok());
  const HttpClientResponse response =
      Call(Get("http://decisions.client.example:" + std::to_string(server.port()) + "/auth"));
  ASSERT_TRUE(response.ok()) << response.error;
  EXPECT_EQ(response.body, "decisions.client.example:" + std::to_string(server.port()));

  HttpClientOptions bad;
  bad.hosts = {{"x", "not-an-address"}};
  EXPECT_EQ(HttpClient::Create(&loop_->loop(), bad).status().code(),
            base::StatusCode::kInvalidArgument);
}

TEST_F(HttpClientTest, OverloadedWhenTooManyInFlight) {
  HttpClientOptions options;
  options.requests_in_flight_max = 1;
  MakeClient(options);
  std::mutex mutex;
  std::vector<HttpResponder> held;
  HttpServer server(ServerOptions(), [&](const HttpRequest&, HttpResponder responder) {
    std::lock_guard<std::mutex> lock(mutex);
    held.push_back(std::move(responder));
  });
  ASSERT_TRUE(server.Start().ok());
  std::promise<HttpClientResponse> first;
  auto* first_pointer = &first;
  client_->Send(Get(Url(server.port(), "/1")), [first_pointer](HttpClientResponse&& response) {
    first_pointer->set_value(std::move(response));
  });
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mutex);
    return held.size() == 1;
  }));
  EXPECT_EQ(Call(Get(Url(server.port(), "/2"))).code, HttpClientResultCode::kOverloaded);
  {
    std::lock_guard<std::mutex> lock(mutex);
    held[0].Respond(200, "one");
  }
  EXPECT_TRUE(first.get_future().get().ok());
}

TEST_F(HttpClientTest, ShutdownFailsPendingRequestsAndLaterSends) {
  std::mutex mutex;
  std::vector<HttpResponder> held;
  HttpServer server(ServerOptions(), [&](const HttpRequest&, HttpResponder responder) {
    std::lock_guard<std::mutex> lock(mutex);
    held.push_back(std::move(responder));
  });
  ASSERT_TRUE(server.Start().ok());
  std::promise<HttpClientResponse> pending;
  auto* pending_pointer = &pending;
  client_->Send(Get(Url(server.port(), "/"), 10000),
                [pending_pointer](HttpClientResponse&& response) {
                  pending_pointer->set_value(std::move(response));
                });
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mutex);
    return held.size() == 1;
  }));
  client_->Shutdown();
  EXPECT_EQ(pending.get_future().get().code, HttpClientResultCode::kShutdown);
  bool called = false;
  client_->Send(Get(Url(server.port(), "/")), [&called](HttpClientResponse&& response) {
    called = true;
    EXPECT_EQ(response.code, HttpClientResultCode::kShutdown);
  });
  EXPECT_TRUE(called);
  std::lock_guard<std::mutex> lock(mutex);
  held.clear();  // Responders must not outlive their server.
}

}  // namespace
}  // namespace tangelo::net
