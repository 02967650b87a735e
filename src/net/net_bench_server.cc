// net_bench_server: a tiny server and load generator for checking the
// networking module's throughput by hand (not a timed test).
//
//   net_bench_server http   [--port N] [--threads T] [--seconds S]
//       Answers every request with 200 "hello, world\n". Measure with wrk:
//       wrk -t1 -c64 -d10s http://127.0.0.1:N/
//   net_bench_server frames [--port N] [--threads T] [--seconds S] [--engine]
//       Echoes length-prefixed frames: inline on the loop thread, or with
//       --engine through a separate thread that answers in batches with
//       ReplyBatch, as the engine does after a journal commit.
//   net_bench_server frame-load --port N [--connections C] [--depth D]
//                               [--seconds S] [--payload-bytes B]
//       Pipelined load on a frames server: keeps D frames in flight per
//       connection and prints one JSON line with frames_per_second.
//
// The servers print "listening on 127.0.0.1:PORT" and run until SIGINT,
// SIGTERM or --seconds.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "net/frame_server.h"
#include "net/http_server.h"
#include "net/test_util.h"

namespace tangelo::net {
namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

struct Flags {
  std::string mode;
  uint16_t port = 0;
  uint32_t threads = 1;
  uint32_t seconds = 0;  // 0: until a signal.
  bool engine = false;
  uint32_t connections = 4;
  uint32_t depth = 256;
  uint32_t payload_bytes = 200;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  if (argc < 2) return false;
  flags->mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string_view flag = argv[i];
    auto next = [&](uint32_t* value) {
      if (i + 1 >= argc) return false;
      *value = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
      return true;
    };
    uint32_t port = 0;
    if (flag == "--port") {
      if (!next(&port)) return false;
      flags->port = static_cast<uint16_t>(port);
    } else if (flag == "--threads") {
      if (!next(&flags->threads)) return false;
    } else if (flag == "--seconds") {
      if (!next(&flags->seconds)) return false;
    } else if (flag == "--connections") {
      if (!next(&flags->connections)) return false;
    } else if (flag == "--depth") {
      if (!next(&flags->depth)) return false;
    } else if (flag == "--payload-bytes") {
      if (!next(&flags->payload_bytes)) return false;
    } else if (flag == "--engine") {
      flags->engine = true;
    } else {
      return false;
    }
  }
  return true;
}

void WaitForStop(uint32_t seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!g_stop.load() && (seconds == 0 || std::chrono::steady_clock::now() < deadline)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

TcpServerOptions ServerOptions(const Flags& flags, const char* name) {
  TcpServerOptions options;
  options.port = flags.port;
  options.loop_threads = flags.threads;
  options.thread_name = name;
  return options;
}

int RunHttp(const Flags& flags) {
  HttpServerOptions options;
  options.tcp = ServerOptions(flags, "bench-http");
  HttpServer server(options, [](const HttpRequest&, HttpResponder responder) {
    responder.Respond(200, "hello, world\n", "text/plain");
  });
  if (Status status = server.Start(); !status.ok()) {
    std::fprintf(stderr, "start: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("listening on 127.0.0.1:%u\n", server.port());
  std::fflush(stdout);
  WaitForStop(flags.seconds);
  server.Shutdown(1000);
  const HttpServerStats stats = server.Stats();
  std::printf("{\"requests\":%llu,\"connections\":%llu}\n",
              static_cast<unsigned long long>(stats.requests),
              static_cast<unsigned long long>(stats.tcp.connections_accepted));
  return 0;
}

// Stands in for the engine: takes frames from the loops, answers each batch
// with one ReplyBatch::Submit().
class FakeEngine {
 public:
  explicit FakeEngine(FrameServer* server) : server_(server) {}

  void Push(const Frame& frame) {
    std::lock_guard<std::mutex> lock(mutex_);
    intake_.push_back({frame.connection, frame.sequence, std::string(frame.payload)});
    if (intake_.size() == 1) ready_.notify_one();
  }

  void Run() {
    ReplyBatch batch(&server_->tcp());
    std::vector<Item> working;
    while (!stop_.load()) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait_for(lock, std::chrono::milliseconds(10), [this] { return !intake_.empty(); });
        working.swap(intake_);
      }
      for (const Item& item : working) batch.Add(item.connection, item.sequence, item.payload);
      batch.Submit();
      working.clear();
    }
  }
  void Stop() { stop_.store(true); }

 private:
  struct Item {
    ConnectionId connection;
    uint32_t sequence;
    std::string payload;
  };
  FrameServer* server_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<Item> intake_;
  std::atomic<bool> stop_{false};
};

int RunFrames(const Flags& flags) {
  FrameServerOptions options;
  options.tcp = ServerOptions(flags, "bench-iso");
  FrameServer* server_pointer = nullptr;
  FakeEngine* engine_pointer = nullptr;
  FrameServer server(options, [&](const Frame& frame) {
    if (engine_pointer != nullptr) {
      engine_pointer->Push(frame);
    } else {
      server_pointer->Reply(frame.connection, frame.sequence, frame.payload);
    }
  });
  server_pointer = &server;
  FakeEngine engine(&server);
  if (flags.engine) engine_pointer = &engine;
  if (Status status = server.Start(); !status.ok()) {
    std::fprintf(stderr, "start: %s\n", status.ToString().c_str());
    return 1;
  }
  std::thread engine_thread;
  if (flags.engine) engine_thread = std::thread([&engine] { engine.Run(); });
  std::printf("listening on 127.0.0.1:%u\n", server.port());
  std::fflush(stdout);
  WaitForStop(flags.seconds);
  server.Shutdown(1000);
  engine.Stop();
  if (engine_thread.joinable()) engine_thread.join();
  const FrameServerStats stats = server.Stats();
  std::printf("{\"replies_delivered\":%llu,\"bytes_read\":%llu,\"bytes_written\":%llu}\n",
              static_cast<unsigned long long>(stats.tcp.replies_delivered),
              static_cast<unsigned long long>(stats.tcp.bytes_read),
              static_cast<unsigned long long>(stats.tcp.bytes_written));
  return 0;
}

// One connection of the load generator, on its own thread: keeps `depth`
// frames in flight, refilling as many as were answered, in one write.
void LoadConnection(const Flags& flags, std::atomic<uint64_t>* answered, std::atomic<bool>* stop) {
  testing::TestSocket socket;
  if (!socket.Connect(flags.port)) {
    std::fprintf(stderr, "connect failed\n");
    return;
  }
  std::string frame;
  frame.push_back(static_cast<char>(flags.payload_bytes >> 8));
  frame.push_back(static_cast<char>(flags.payload_bytes & 0xFF));
  frame.append(flags.payload_bytes, 'x');
  std::string burst;
  for (uint32_t i = 0; i < flags.depth; ++i) burst += frame;
  if (!socket.Send(burst)) return;
  std::vector<char> buffer(1 << 20);
  size_t buffered = 0;
  while (!stop->load()) {
    pollfd poll_fd{socket.fd(), POLLIN, 0};
    if (poll(&poll_fd, 1, 100) <= 0) continue;
    const ssize_t received =
        recv(socket.fd(), buffer.data() + buffered, buffer.size() - buffered, 0);
    if (received <= 0) return;
    buffered += static_cast<size_t>(received);
    size_t offset = 0;
    uint32_t frames = 0;
    while (buffered - offset >= 2) {
      const size_t length = (size_t{static_cast<unsigned char>(buffer[offset])} << 8) |
                            static_cast<unsigned char>(buffer[offset + 1]);
      if (buffered - offset < 2 + length) break;
      offset += 2 + length;
      ++frames;
    }
    std::memmove(buffer.data(), buffer.data() + offset, buffered - offset);
    buffered -= offset;
    if (frames == 0) continue;
    answered->fetch_add(frames, std::memory_order_relaxed);
    burst.clear();
    for (uint32_t i = 0; i < frames; ++i) burst += frame;
    if (!socket.Send(burst)) return;
  }
}

int RunFrameLoad(const Flags& flags) {
  if (flags.port == 0 || flags.payload_bytes > kFrameBytesMax || flags.depth == 0) {
    std::fprintf(stderr, "frame-load needs --port, --depth > 0, --payload-bytes <= 65535\n");
    return 2;
  }
  const uint32_t seconds = flags.seconds == 0 ? 10 : flags.seconds;
  std::atomic<uint64_t> answered{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> connections;
  for (uint32_t i = 0; i < flags.connections; ++i) {
    connections.emplace_back([&] { LoadConnection(flags, &answered, &stop); });
  }
  // Warm up for a second, then measure.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const uint64_t start_count = answered.load();
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const uint64_t end_count = answered.load();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stop.store(true);
  for (std::thread& thread : connections) thread.join();
  std::printf(
      "{\"frames\":%llu,\"seconds\":%.2f,\"frames_per_second\":%.0f,"
      "\"connections\":%u,\"depth\":%u,\"payload_bytes\":%u}\n",
      static_cast<unsigned long long>(end_count - start_count), elapsed,
      static_cast<double>(end_count - start_count) / elapsed, flags.connections, flags.depth,
      flags.payload_bytes);
  return 0;
}

}  // namespace
}  // namespace tangelo::net

int main(int argc, char** argv) {
  using tangelo::net::Flags;
  Flags flags;
  if (!tangelo::net::ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr,
                 "usage: net_bench_server http|frames|frame-load [--port N] [--threads T]\n"
                 "       [--seconds S] [--engine] [--connections C] [--depth D]\n"
                 "       [--payload-bytes B]\n");
    return 2;
  }
  signal(SIGINT, tangelo::net::OnSignal);
  signal(SIGTERM, tangelo::net::OnSignal);
  signal(SIGPIPE, SIG_IGN);
  if (flags.mode == "http") return tangelo::net::RunHttp(flags);
  if (flags.mode == "frames") return tangelo::net::RunFrames(flags);
  if (flags.mode == "frame-load") return tangelo::net::RunFrameLoad(flags);
  std::fprintf(stderr, "unknown mode %s\n", flags.mode.c_str());
  return 2;
}
