#include "app/serve.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

#include "api/api_server.h"
#include "api/engine_core.h"
#include "api/memory_core.h"
#include "app/demo.h"
#include "authorizer/core_state_machine.h"
#include "console/console.h"
#include "console/instrumented_core.h"
#include "engine/engine.h"
#include "gateway/iso8583_server.h"
#include "gateway/iso8583_spec.h"
#include "io/clock.h"
#include "io/env.h"
#include "issuing/pan.h"
#include "net/http_server.h"
#include "telemetry/prometheus.h"
#include "telemetry/registry.h"
#include "telemetry/slo_engine.h"

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

// Samples the registry into the SLO engine every interval on its own thread
// (the console reads the engine; sampling must not wait for a page view).
class SloSampler {
 public:
  SloSampler(telemetry::SloEngine* engine, const telemetry::Registry* registry, io::Clock* clock,
             uint64_t interval_ms)
      : thread_([=, this] {
          std::unique_lock lock(mutex_);
          while (!wake_.wait_for(lock, std::chrono::milliseconds(interval_ms),
                                 [this] { return stop_; })) {
            base::Status sampled = engine->Sample(*registry, clock);
            if (!sampled.ok()) LogLine("warn", "slo_sample_failed", "\"message\":\"" +
                                                                       sampled.ToString() + "\"");
          }
        }) {}
  ~SloSampler() { Stop(); }
  void Stop() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

// How often the SLO engine samples: every second, so the console moves at
// once (the fine ring then holds 6 h at 1 s, ~10 MB with the shipped file).
constexpr uint64_t kSloSampleIntervalMs = 1'000;

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
  api::EngineCore engine_core(core_options);
  // Every core request is measured as application "api" (console/instrumented_core.h).
  console::InstrumentedCore core(&engine_core, registry, &clock);

  // Critical-path SLOs for the console. Without the file Tangelo still
  // serves; only the console and the probe are off.
  std::unique_ptr<telemetry::SloEngine> slo_engine;
  std::unique_ptr<console::Console> console;
  auto critical_paths = telemetry::LoadCriticalPaths(&env, options.critical_paths);
  if (critical_paths.ok()) {
    slo_engine = std::make_unique<telemetry::SloEngine>(
        std::move(*critical_paths), registry,
        telemetry::SloEngineOptions{.sample_interval_ms = kSloSampleIntervalMs});
    console = std::make_unique<console::Console>(console::ConsoleOptions{
        .slo_engine = slo_engine.get(), .clock = &clock});
  } else {
    LogLine("warn", "console_disabled",
            "\"message\":\"" + critical_paths.status().ToString() + "\"");
  }
  std::unique_ptr<Probe> probe;
  if (slo_engine != nullptr) {
    const telemetry::CriticalPathSpec* authorization =
        slo_engine->config().Find(telemetry::CriticalPath::kAuthorization);
    const uint64_t interval_ms = options.probe_interval_ms != 0 ? options.probe_interval_ms
                                 : authorization != nullptr     ? authorization->probe_interval_ms
                                                                : 0;
    if (interval_ms != 0) {
      probe = std::make_unique<Probe>(&core, slo_engine.get(), interval_ms);
      base::Status set_up = probe->Setup(&directory);
      if (!set_up.ok()) return Fail("probe: " + set_up.ToString());
    }
  }
  // Demo objects exist before the API starts: it loads the API keys at start.
  std::unique_ptr<DemoTraffic> demo;
  if (options.demo) {
    if (options.demo_rate_per_second == 0 || options.demo_rate_per_second > kDemoRatePerSecondMax) {
      return Fail("--demo-rate must be in 1.." + std::to_string(kDemoRatePerSecondMax));
    }
    demo = std::make_unique<DemoTraffic>(&core, options.demo_rate_per_second);
    base::Status set_up = demo->Setup(options.data_directory, &directory);
    if (!set_up.ok()) return Fail(set_up.ToString());
  }

  api::ApiOptions api_options;
  api_options.host = http_host;
  api_options.port = http_port;
  if (console != nullptr) {
    api_options.extra_routes = [&console](const net::HttpRequest& request,
                                          net::HttpResponder& responder) {
      return console->Handle(request, responder);
    };
  }
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

  std::unique_ptr<SloSampler> sampler;
  if (slo_engine != nullptr) {
    base::Status sampled = slo_engine->Sample(registry, &clock);  // The zero point.
    if (!sampled.ok()) return Fail(sampled.ToString());
    sampler = std::make_unique<SloSampler>(slo_engine.get(), &registry, &clock,
                                           kSloSampleIntervalMs);
  }
  if (probe != nullptr) probe->Start();
  if (demo != nullptr) {
    demo->Start();
    const std::string url = "http://" + (http_host.empty() ? std::string("127.0.0.1") : http_host) +
                            ":" + std::to_string(api_server.port());
    LogLine("info", "demo",
            "\"console\":\"" + url + "/console\",\"api\":\"" + url +
                "\",\"tenant_id\":" + std::to_string(demo->tenant_id()) +
                ",\"rate_per_second\":" + std::to_string(options.demo_rate_per_second));
    std::fprintf(stderr,
                 "\nTangelo demo is running.\n  Console:      %s/console\n"
                 "  REST API:     %s (docs at %s/docs)\n"
                 "  Demo API key: %s (Authorization: Bearer; kept in %s/demo-api-key)\n\n",
                 url.c_str(), url.c_str(), url.c_str(), demo->api_key().c_str(),
                 options.data_directory.c_str());
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LogLine("info", "stopping", "\"signal\":" + std::to_string(signal_number));
  if (demo != nullptr) demo->Stop();
  if (probe != nullptr) probe->Stop();
  if (sampler != nullptr) sampler->Stop();
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
  serve->add_option("--critical-paths", options.critical_paths,
                    "Critical-path SLO file for the console and the probe")
      ->capture_default_str();
  serve->add_option("--probe-interval-ms", options.probe_interval_ms,
                    "Synthetic probe interval (0: the file's probe_interval_ms)")
      ->capture_default_str();
  serve->add_flag("--demo", options.demo,
                  "Demo mode: a demo tenant with steady synthetic card traffic");
  serve->add_option("--demo-rate", options.demo_rate_per_second,
                    "Demo authorizations per second")
      ->capture_default_str();
  serve->callback([] { std::exit(RunServe(options)); });
}

}  // namespace tangelo::app
