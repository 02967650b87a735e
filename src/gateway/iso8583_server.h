// Iso8583Server: the ISO 8583 network door. Card networks connect over TCP
// (2-byte big-endian length prefix, net::FrameServer); each frame is decoded
// with the configured dialect, turned into an authorizer engine entry
// (0100/0200 kAuthorize, 0120 kAdvice, 0400/0420 kReverse), submitted to the
// engine, and answered (0110/0210/0130/0410/0430) when the engine's batch is
// durable. 0800 network management (sign-on, sign-off, echo) is answered at
// once with 0810.
//
// Pipelining: many requests may be in flight per connection; each response
// leaves as soon as its batch is durable, in any order, matched by the echoed
// STAN (11) and RRN (37). A decoded message points into its frame, so every
// request in flight owns a slot of a pool allocated at construction holding
// its frame bytes and decoded message until its response is encoded. The pool
// bounds the requests in flight of the whole server; FrameServer bounds them
// per connection (frames_in_flight_max).
//
// Bad input never crashes the process:
//   - undecodable message whose MTI is a known request: response code 30
//     (format error) echoing whatever decoded; same for a missing required
//     field or a field whose content is invalid (bad amount, currency, date);
//   - MTI unknown to the dialect or not a request, or a response that cannot
//     be built: the connection is closed (counted);
//   - frame over kIso8583FrameSizeMax: FrameServer closes the connection.
// Business-level answers decided here, not by the engine: an invalid PAN is
// 14, an unsupported processing code 12, engine back-pressure (intake queue
// full, engine stopping) or no free slot is 91 (issuer unavailable; the
// network stands in or retries), an engine operating error is 96.
//
// The PAN is tokenized on arrival (issuing::PanVault::TokenizeInto) and never
// logged or kept beyond the request's slot.
//
// Threads: frames are handled on the FrameServer's loop threads; engine
// replies complete on the engine's journal thread, which encodes the response
// and posts it to the connection's loop (one post per reply, or one per loop
// per durable batch when `batch_replies` is set and the owner calls
// FlushReplies() from EngineOptions::on_batch_durable).
//
// Ownership: the server owns its FrameServer and slot pool; spec, engine,
// vault, clock and registry are borrowed and must outlive it. Order at
// shutdown: server Shutdown() (drains while the engine still answers), then
// Engine::Stop() (delivers every queued reply; replies for closed connections
// are dropped), then destroy the server: no completion may run on a
// destroyed sink.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/status.h"
#include "engine/engine.h"
#include "gateway/iso8583_codec.h"
#include "gateway/iso8583_fields.h"
#include "gateway/iso8583_message.h"
#include "gateway/iso8583_response.h"
#include "gateway/iso8583_spec.h"
#include "io/clock.h"
#include "issuing/pan.h"
#include "net/frame_server.h"
#include "telemetry/metrics.h"
#include "telemetry/registry.h"

namespace tangelo::gateway {

// Requests in flight over the whole server (slots of the pool). Each slot
// holds one frame of up to kIso8583FrameSizeMax bytes and its decoded message
// (~6.5 KiB); pages are touched only when used.
inline constexpr uint32_t kIso8583ServerRequestsInFlightDefault = 16384;
inline constexpr uint32_t kIso8583ServerRequestsInFlightMax = 1u << 18;
// Per connection, before FrameServer stops reading (TCP back-pressure).
inline constexpr uint32_t kIso8583ConnectionRequestsInFlightDefault = 1024;

struct Iso8583ServerOptions {
  // Host, port (0 = any free port), loop threads, connection limits.
  // frame_bytes_max is forced to kIso8583FrameSizeMax.
  net::FrameServerOptions frames;
  const Iso8583Spec* spec = nullptr;             // Required.
  engine::Engine* engine = nullptr;              // Required; a CoreStateMachine engine.
  const issuing::PanVault* pan_vault = nullptr;  // Required.
  io::Clock* clock = nullptr;                    // Null: io::SystemClock.
  telemetry::Registry* registry = nullptr;       // Null: a private registry.
  uint32_t requests_in_flight_max = kIso8583ServerRequestsInFlightDefault;
  // See the threads note above. False: each reply is posted on its own.
  bool batch_replies = false;
};

// Counters, summed (relaxed reads).
struct Iso8583ServerStats {
  uint64_t requests = 0;            // Frames handed to the server.
  uint64_t responses = 0;           // Responses sent (immediate or from the engine).
  uint64_t format_errors = 0;       // Answered with code 30.
  uint64_t closed_malformed = 0;    // Connections closed for unanswerable input.
  uint64_t engine_rejected = 0;     // Answered 91: queue full, stopped, or no slot.
  uint64_t engine_errors = 0;       // Engine reply with an operating error: 96.
  uint64_t network_management = 0;  // 0800 answered.
  net::FrameServerStats frames;
};

// Thread safety: Start/Shutdown from the owning thread; FlushReplies from the
// engine's journal thread only; Stats/port from any thread.
class Iso8583Server final : public engine::ReplySink {
 public:
  // Precondition: spec, engine and pan_vault set; requests_in_flight_max in
  // 1..kIso8583ServerRequestsInFlightMax.
  explicit Iso8583Server(Iso8583ServerOptions options);
  ~Iso8583Server() override;
  Iso8583Server(const Iso8583Server&) = delete;
  Iso8583Server& operator=(const Iso8583Server&) = delete;

  // Binds and starts the loops. Errors: as net::FrameServer::Start.
  base::Status Start();
  uint16_t port() const { return frames_->port(); }
  // Stops accepting, drains in-flight requests up to the deadline. Returns the
  // connections closed forcibly.
  uint64_t Shutdown(uint64_t drain_deadline_ms) { return frames_->Shutdown(drain_deadline_ms); }

  // Posts the replies gathered since the last call (batch_replies only).
  // Journal thread: wire it into EngineOptions::on_batch_durable.
  void FlushReplies();

  Iso8583ServerStats Stats() const;

  // engine::ReplySink: the engine's answer to request slot `tag`.
  void Complete(uint64_t tag, const engine::Reply& reply) override;

 private:
  struct Slot;
  struct Metrics;
  class SlotPool;

  void OnFrame(const net::Frame& frame);
  // Answers `request` at once on the loop thread with `code` (and balances).
  void AnswerNow(const net::Frame& frame, const Iso8583Message& request, Iso8583ResponseCode code,
                 uint64_t start_ns);
  // Builds, encodes and sends the response; false when it cannot be built.
  bool SendResponse(net::ConnectionId connection, uint32_t sequence, const Iso8583Message& request,
                    const Iso8583ResponseFields& fields, uint64_t start_ns, bool from_engine);
  void CloseMalformed(const net::Frame& frame);

  Iso8583ServerOptions options_;
  io::Clock* clock_;
  std::unique_ptr<telemetry::Registry> own_registry_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<SlotPool> pool_;
  std::unique_ptr<net::FrameServer> frames_;
  std::unique_ptr<net::ReplyBatch> reply_batch_;  // Journal thread only.
  telemetry::CallbackGaugeHandle connections_gauge_;
};

// The year-less ISO 8583 date-time (field 7, field 90) as UTC nanoseconds:
// the year that puts it closest to `now_ns` (networks send it without one).
// 0 for an impossible date (30 February).
uint64_t TransmissionTimeNs(const TransmissionDateTime& date_time, uint64_t now_ns);

}  // namespace tangelo::gateway
