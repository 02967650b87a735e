// Integration test against a real Prometheus (Debian package `prometheus`):
// a tiny net::HttpServer serves RenderPrometheus of a registry that the test
// moves; Prometheus scrapes it every second; the test queries Prometheus'
// HTTP API and checks it holds the same values, and that the generated rule
// file (deploy/prometheus/tangelo-rules.yml) loads.
//
// The Prometheus child is killed at the end whatever happens (RAII guard,
// plus PR_SET_PDEATHSIG if this process dies first). Skipped when the
// `prometheus` binary is not installed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/event_loop.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "telemetry/prometheus.h"
#include "telemetry/registry.h"
#include "telemetry/slo_metrics.h"

namespace tangelo {
namespace {

using telemetry::Application;
using telemetry::CriticalPath;

constexpr auto kStartTimeout = std::chrono::seconds(15);
constexpr auto kScrapeTimeout = std::chrono::seconds(10);

std::optional<std::string> FindProgram(const std::string& name) {
  if (const char* path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      const std::string candidate = dir + "/" + name;
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return std::nullopt;
}

// A loopback port nobody listens on right now (the kernel's choice).
uint16_t FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// Owns the Prometheus child: SIGKILL and reap on destruction.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_file) {
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      // Dies with the test even if the test is SIGKILLed.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      const int log = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (log >= 0) {
        dup2(log, STDOUT_FILENO);
        dup2(log, STDERR_FILENO);
      }
      std::vector<char*> args;
      for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  bool Running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
};

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char character : text) {
    const auto c = static_cast<unsigned char>(character);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

class PrometheusIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prometheus_ = FindProgram("prometheus");
    if (!prometheus_) GTEST_SKIP() << "prometheus not installed (Debian package `prometheus`)";
    char pattern[] = "/tmp/tangelo-prometheus-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    auto loop = net::EventLoopThread::Start(net::EventLoopOptions{}, "test-client");
    ASSERT_TRUE(loop.ok());
    loop_ = std::move(*loop);
    auto client = net::HttpClient::Create(&loop_->loop(), net::HttpClientOptions{});
    ASSERT_TRUE(client.ok());
    client_ = std::move(*client);
  }

  void TearDown() override {
    if (client_) client_->Shutdown();
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  // A blocking GET against Prometheus.
  net::HttpClientResponse Get(const std::string& path_and_query) {
    net::HttpClientRequest request;
    request.url = "http://127.0.0.1:" + std::to_string(prometheus_port_) + path_and_query;
    request.deadline_ms = 2000;
    std::promise<net::HttpClientResponse> done;
    auto future = done.get_future();
    client_->Send(std::move(request), [&done](net::HttpClientResponse&& response) {
      done.set_value(std::move(response));
    });
    return future.get();
  }

  // The single value of an instant query, or nullopt when it has no result.
  std::optional<double> Query(const std::string& promql) {
    const net::HttpClientResponse response = Get("/api/v1/query?query=" + UrlEncode(promql));
    if (!response.ok() || response.status != 200) return std::nullopt;
    simdjson::dom::element root;
    if (parser_.parse(response.body).get(root) != simdjson::SUCCESS) return std::nullopt;
    simdjson::dom::array result;
    if (root["data"]["result"].get(result) != simdjson::SUCCESS || result.size() != 1) {
      return std::nullopt;
    }
    std::string_view value;
    if (result.at(0)["value"].at(1).get(value) != simdjson::SUCCESS) return std::nullopt;
    return std::stod(std::string(value));
  }

  bool WaitUntil(const std::function<bool()>& predicate, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (predicate()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return predicate();
  }

  std::string Log() {
    std::ifstream log(dir_ + "/prometheus.log");
    std::stringstream text;
    text << log.rdbuf();
    return text.str();
  }

  std::optional<std::string> prometheus_;
  std::string dir_;
  uint16_t prometheus_port_ = 0;
  std::unique_ptr<net::EventLoopThread> loop_;
  std::unique_ptr<net::HttpClient> client_;
  simdjson::dom::parser parser_;
};

TEST_F(PrometheusIntegrationTest, ScrapesTangeloAndLoadsTheGeneratedRules) {
  telemetry::Registry registry;
  telemetry::ApplicationStats gateway(registry, Application::kGateway,
                                      CriticalPath::kAuthorization);
  std::atomic<int> queue_depth{0};
  telemetry::CallbackGaugeHandle queue = gateway.AddQueue(
      "intake", 1024, [&queue_depth] { return static_cast<double>(queue_depth.load()); });

  net::HttpServer server(net::HttpServerOptions{},
                         [&registry](const net::HttpRequest& request, net::HttpResponder responder) {
                           if (request.path() != "/metrics") {
                             responder.Respond(404, "not found\n");
                             return;
                           }
                           responder.Respond(200, telemetry::RenderPrometheus(registry),
                                             telemetry::kPrometheusContentType);
                         });
  ASSERT_TRUE(server.Start().ok());

  const std::string rules =
      std::filesystem::absolute("deploy/prometheus/tangelo-rules.yml").string();
  ASSERT_TRUE(std::filesystem::exists(rules)) << "run from the repository root";
  {
    std::ofstream config(dir_ + "/prometheus.yml");
    config << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
           << "rule_files:\n  - '" << rules << "'\n"
           << "scrape_configs:\n  - job_name: tangelo\n    scrape_interval: 1s\n"
           << "    static_configs:\n      - targets: ['127.0.0.1:" << server.port() << "']\n";
  }
  prometheus_port_ = FreePort();
  ChildProcess prometheus(
      {*prometheus_, "--config.file=" + dir_ + "/prometheus.yml",
       "--storage.tsdb.path=" + dir_ + "/data",
       "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port_),
       "--log.level=warn"},
      dir_ + "/prometheus.log");

  ASSERT_TRUE(WaitUntil(
      [&] {
        const net::HttpClientResponse response = Get("/-/ready");
        return response.ok() && response.status == 200;
      },
      kStartTimeout))
      << "Prometheus did not become ready; log:\n" << Log();

  // Move the registry, then wait for a scrape that saw the moves.
  for (int i = 0; i < 7; ++i) gateway.RecordRequest(true, 3'000'000);      // 3 ms.
  for (int i = 0; i < 2; ++i) gateway.RecordRequest(false, 200'000'000);   // 200 ms.
  gateway.RecordRestart();
  queue_depth = 17;
  const std::string ok_series =
      R"(tangelo_requests_total{job="tangelo",application="gateway",path="authorization",outcome="ok"})";
  ASSERT_TRUE(WaitUntil([&] { return Query(ok_series) == 7.0; }, kScrapeTimeout))
      << "Prometheus never scraped the moved registry; log:\n" << Log();

  EXPECT_EQ(Query(R"(up{job="tangelo"})"), 1.0);
  EXPECT_EQ(Query(R"(tangelo_requests_total{application="gateway",outcome="error"})"), 2.0);
  EXPECT_EQ(Query(R"(tangelo_request_duration_seconds_count{application="gateway"})"), 9.0);
  // The SLO bound is exported as le="0.05" exactly, as the rules select it.
  EXPECT_EQ(Query(R"(tangelo_request_duration_seconds_bucket{application="gateway",le="0.05"})"),
            7.0);
  EXPECT_EQ(Query(R"(tangelo_request_duration_seconds_bucket{application="gateway",le="+Inf"})"),
            9.0);
  EXPECT_EQ(Query(R"(tangelo_queue_depth{application="gateway",queue="intake"})"), 17.0);
  EXPECT_EQ(Query(R"(tangelo_queue_capacity{application="gateway",queue="intake"})"), 1024.0);
  EXPECT_EQ(Query(R"(tangelo_restarts_total{application="gateway"})"), 1.0);

  // Move again: a later scrape carries the new value.
  gateway.RecordRequest(true, 1'000'000);
  ASSERT_TRUE(WaitUntil([&] { return Query(ok_series) == 8.0; }, kScrapeTimeout));

  // The generated rule file loaded: every group and rule of it is there.
  const net::HttpClientResponse response = Get("/api/v1/rules");
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response.status, 200);
  simdjson::dom::element root;
  ASSERT_EQ(parser_.parse(response.body).get(root), simdjson::SUCCESS);
  std::string_view status;
  ASSERT_EQ(root["status"].get(status), simdjson::SUCCESS);
  EXPECT_EQ(status, "success");
  simdjson::dom::array groups;
  ASSERT_EQ(root["data"]["groups"].get(groups), simdjson::SUCCESS);
  size_t rule_count = 0;
  bool saw_authorization = false;
  for (simdjson::dom::element group : groups) {
    std::string_view name;
    ASSERT_EQ(group["name"].get(name), simdjson::SUCCESS);
    saw_authorization = saw_authorization || name == "tangelo-slo-authorization";
    simdjson::dom::array group_rules;
    ASSERT_EQ(group["rules"].get(group_rules), simdjson::SUCCESS);
    rule_count += group_rules.size();
  }
  EXPECT_TRUE(saw_authorization);
  std::ifstream rules_file(rules);
  std::string line;
  size_t expected_rules = 0;
  while (std::getline(rules_file, line)) {
    if (line.find("- alert: ") != std::string::npos ||
        line.find("- record: ") != std::string::npos) {
      ++expected_rules;
    }
  }
  EXPECT_EQ(rule_count, expected_rules);
  EXPECT_TRUE(prometheus.Running()) << Log();
  server.Shutdown(0);
}

}  // namespace
}  // namespace tangelo
