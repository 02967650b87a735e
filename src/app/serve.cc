#include "app/serve.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "api/api_server.h"
#include "api/engine_core.h"
#include "api/memory_core.h"
#include "authorizer/core_state_machine.h"
#include "engine/engine.h"
#include "gateway/iso8583_server.h"
#include "gateway/iso8583_spec.h"
#include "io/clock.h"
#include "io/env.h"
#include "issuing/pan.h"
#include "net/http_server.h"
#include "telemetry/prometheus.h"
#include "telemetry/registry.h"

namespace tangelo::app {
namespace {

void LogLine(const char* level, const char* event, const std::string& fields) {
  const uint64_t now_ms = io::SystemClock::Instance().RealtimeNs() / 1'000'000;
  std::fprintf(stderr,
               "{\"time_ms\":%" PRIu64 ",\"level\":\"%s\",\"application\":\"app\","
               "\"event\":\"%s\"%s%s}\n",
               now_ms, level, event, fields.empty() ? "" : ",", fields.c_str());
}

int Fail(const std::string& message) {
  LogLine("error", "serve_failed", "\"message\":\"" + message + "\"");
  return 1;
}

// "HOST:PORT" → host and port; InvalidArgument otherwise.
base::Status ParseAddress(const std::string& text, std::string* host, uint16_t* port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return base::InvalidArgument("address '" + text + "' is not HOST:PORT");
  }
  const std::string port_text = text.substr(colon + 1);
  char* end = nullptr;
  const unsigned long value = std::strtoul(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || value > 65535) {
    return base::InvalidArgument("port of '" + text + "' is not 0..65535");
  }
  *host = text.substr(0, colon);
  *port = static_cast<uint16_t>(value);
  return base::Status::Ok();
}

// The PAN master key: TANGELO_PAN_KEY, or a key created once in the data
// directory. The key never reaches a log line.
base::Result<issuing::PanKey> LoadPanKey(const std::string& directory) {
  if (const char* hex = std::getenv("TANGELO_PAN_KEY")) return issuing::PanKey::FromHex(hex);
  const std::string path = io::JoinPath(directory, "pan.key");
  uint8_t bytes[32];
  const int existing = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (existing >= 0) {
    const ssize_t got = ::read(existing, bytes, sizeof(bytes));
    ::close(existing);
    if (got != static_cast<ssize_t>(sizeof(bytes))) {
      return base::DataLoss(path + " is not a 32-byte key");
    }
    return issuing::PanKey::FromBytes(bytes);
  }
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return base::Internal("RAND_bytes failed");
  const int created = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (created < 0) return base::IoError("cannot create " + path);
  const bool written = ::write(created, bytes, sizeof(bytes)) == static_cast<ssize_t>(sizeof(bytes)) &&
                       ::fsync(created) == 0;
  ::close(created);
  if (!written) return base::IoError("cannot write " + path);
  LogLine("warn", "pan_key_created",
          "\"path\":\"" + path + "\",\"message\":\"set TANGELO_PAN_KEY in production\"");
  return issuing::PanKey::FromBytes(bytes);
}

base::Status WritePorts(const std::string& directory, uint16_t http, uint16_t iso8583,
                        uint16_t metrics) {
  const std::string text = "{\"http\":" + std::to_string(http) + ",\"iso8583\":" +
                           std::to_string(iso8583) + ",\"metrics\":" + std::to_string(metrics) +
                           "}\n";
  io::Env& env = io::Env::Posix();
  const std::string path = io::JoinPath(directory, "ports.json");
  auto file = env.NewWritableFile(path + ".tmp");
  if (!file.ok()) return file.status();
  TG_RETURN_IF_ERROR((*file)->Append(std::as_bytes(std::span(text.data(), text.size()))));
  TG_RETURN_IF_ERROR((*file)->Sync());
  TG_RETURN_IF_ERROR((*file)->Close());
  return env.Rename(path + ".tmp", path);
}

uint64_t DeadlineMs(uint64_t from_now_ms) {
  return io::SystemClock::Instance().MonotonicNs() / 1'000'000 + from_now_ms;
}

}  // namespace

int RunServe(const ServeOptions& options) {
  // Signals are taken synchronously by this thread (sigwait), before any
  // other thread starts, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::string http_host, iso_host, metrics_host;
  uint16_t http_port = 0, iso_port = 0, metrics_port = 0;
  for (auto [text, host, port] : {std::tuple{&options.http, &http_host, &http_port},
                                  std::tuple{&options.iso8583, &iso_host, &iso_port},
                                  std::tuple{&options.metrics, &metrics_host, &metrics_port}}) {
    base::Status parsed = ParseAddress(*text, host, port);
    if (!parsed.ok()) return Fail(parsed.ToString());
  }
  io::Env& env = io::Env::Posix();
  io::Clock& clock = io::SystemClock::Instance();
  base::Status created = env.CreateDir(options.data_directory);
  if (!created.ok()) return Fail(created.ToString());
  auto pan_key = LoadPanKey(options.data_directory);
  if (!pan_key.ok()) return Fail(pan_key.status().ToString());
  issuing::PanVault vault(*pan_key);
  auto dialect = gateway::Iso8583Spec::LoadFile(options.dialect);
  if (!dialect.ok()) return Fail(dialect.status().ToString());

  telemetry::Registry registry;
  authorizer::CoreStateMachine machine(authorizer::CoreCapacities{});
  std::atomic<gateway::Iso8583Server*> iso_server{nullptr};
  engine::EngineOptions engine_options;
  engine_options.env = &env;
  engine_options.clock = &clock;
  engine_options.directory = options.data_directory;
  engine_options.snapshot_every_batches = options.snapshot_every_batches;
  engine_options.on_batch_durable = [&iso_server](uint32_t, uint64_t) {
    if (gateway::Iso8583Server* server = iso_server.load(std::memory_order_acquire)) {
      server->FlushReplies();
    }
  };
  auto opened = engine::Engine::Open(engine_options, &machine);
  if (!opened.ok()) {
    // Corruption or an I/O error: say exactly what and where, and refuse to
    // serve from a state we cannot trust.
    LogLine("error", "recovery_failed", "\"message\":\"" + opened.status().ToString() + "\"");
    return 2;
  }
  engine::Engine& engine = **opened;
  const engine::RecoveryInfo& recovery = engine.recovery();
  LogLine("info", "recovered",
          "\"data\":\"" + options.data_directory + "\",\"snapshot_sequence\":" +
              std::to_string(recovery.snapshot_sequence) + ",\"batches_replayed\":" +
              std::to_string(recovery.batches_replayed) + ",\"next_sequence\":" +
              std::to_string(recovery.next_sequence) + ",\"duration_ms\":" +
              std::to_string(recovery.duration_ns / 1'000'000));
  engine.Start();

  // The REST door. Reads the core does not journal yet go to an in-memory
  // directory (see api/engine_core.h); everything that moves money or
  // changes a card goes through the engine.
  api::MemoryCore directory;
  api::EngineCoreOptions core_options;
  core_options.engine = &engine;
  core_options.pan_vault = &vault;
  core_options.directory = &directory;
  api::EngineCore core(core_options);
  api::ApiOptions api_options;
  api_options.host = http_host;
  api_options.port = http_port;
  api::ApiServer api_server(api_options, &core);
  base::Status started = api_server.Start();
  if (!started.ok()) return Fail("http " + options.http + ": " + started.ToString());

  // The network door.
  gateway::Iso8583ServerOptions iso_options;
  iso_options.frames.tcp.host = iso_host;
  iso_options.frames.tcp.port = iso_port;
  iso_options.spec = &*dialect;
  iso_options.engine = &engine;
  iso_options.pan_vault = &vault;
  iso_options.registry = &registry;
  iso_options.batch_replies = true;
  gateway::Iso8583Server iso(iso_options);
  started = iso.Start();
  if (!started.ok()) return Fail("iso8583 " + options.iso8583 + ": " + started.ToString());
  iso_server.store(&iso, std::memory_order_release);

  // Prometheus scrapes /metrics.
  net::HttpServerOptions metrics_options;
  metrics_options.tcp.host = metrics_host;
  metrics_options.tcp.port = metrics_port;
  net::HttpServer metrics_server(metrics_options, [&registry](const net::HttpRequest& request,
                                                              net::HttpResponder responder) {
    if (request.path() != "/metrics") {
      responder.Respond(404, "not found\n", "text/plain");
      return;
    }
    responder.Respond(200, telemetry::RenderPrometheus(registry), telemetry::kPrometheusContentType);
  });
  started = metrics_server.Start();
  if (!started.ok()) return Fail("metrics " + options.metrics + ": " + started.ToString());

  base::Status ports = WritePorts(options.data_directory, api_server.port(), iso.port(),
                                  metrics_server.port());
  if (!ports.ok()) return Fail(ports.ToString());
  if (!api_server.warnings().empty()) {
    LogLine("warn", "api_warning", "\"message\":\"" + api_server.warnings() + "\"");
  }
  LogLine("info", "serving",
          "\"http\":" + std::to_string(api_server.port()) + ",\"iso8583\":" +
              std::to_string(iso.port()) + ",\"metrics\":" + std::to_string(metrics_server.port()) +
              ",\"data\":\"" + options.data_directory + "\"");

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LogLine("info", "stopping", "\"signal\":" + std::to_string(signal_number));
  // Stop the doors first (in-flight requests finish), then the engine, which
  // makes everything it accepted durable and answers it.
  const uint64_t forced_http = api_server.Shutdown(DeadlineMs(5'000));
  const uint64_t forced_iso = iso.Shutdown(DeadlineMs(5'000));
  metrics_server.Shutdown(DeadlineMs(1'000));
  engine.Stop();
  iso_server.store(nullptr, std::memory_order_release);
  LogLine("info", "stopped",
          "\"batches_durable\":" + std::to_string(engine.stats().batches_durable.load()) +
              ",\"connections_forced_closed\":" + std::to_string(forced_http + forced_iso));
  return 0;
}

void AddServeCommand(CLI::App& app) {
  static ServeOptions options;
  CLI::App* serve =
      app.add_subcommand("serve", "Run every application over an embedded data directory");
  serve->add_option("--data", options.data_directory, "Data directory (journal, snapshots)")
      ->capture_default_str();
  serve->add_option("--http", options.http, "REST API address (HOST:PORT, port 0 = any)")
      ->capture_default_str();
  serve->add_option("--iso8583", options.iso8583, "ISO 8583 TCP address (HOST:PORT)")
      ->capture_default_str();
  serve->add_option("--metrics", options.metrics, "Prometheus /metrics address (HOST:PORT)")
      ->capture_default_str();
  serve->add_option("--dialect", options.dialect, "ISO 8583 dialect file")
      ->capture_default_str();
  serve->add_option("--snapshot-every", options.snapshot_every_batches,
                    "Write a snapshot every N journaled batches")
      ->capture_default_str();
  serve->callback([] { std::exit(RunServe(options)); });
}

}  // namespace tangelo::app
