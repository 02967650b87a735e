// FrameServer: length-prefixed binary messages over TcpServer, the framing
// card networks use for ISO 8583 (a 2-byte big-endian length, then that many
// bytes). The gateway decodes and answers the frames; this module only cuts
// the byte stream into frames and frames the replies.
//
// Many frames may be in flight per connection (pipelining); replies go out
// as they complete, in any order, because ISO 8583 matches them to requests
// by STAN and RRN, not by position. A zero-length frame is a heartbeat some
// networks send to keep the line up: it is skipped, never handed over.
//
// Each frame handed to the handler must be completed exactly once, by
// Reply() or Finish() (no reply), from any thread, now or later. A frame
// longer than frame_bytes_max closes the connection (counted): the stream
// cannot be resynchronised after a bad length.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "base/status.h"
#include "net/tcp_server.h"

namespace tangelo::net {

// One received frame. `payload` is a view into the connection's input
// buffer, valid only during the handler call.
struct Frame {
  ConnectionId connection;
  uint32_t sequence = 0;  // Names this frame in Reply()/Finish().
  std::string_view payload;
};

// Called on a loop thread for every frame. Must not block.
using FrameHandler = std::function<void(const Frame& frame)>;

struct FrameServerOptions {
  TcpServerOptions tcp;
  uint32_t frame_bytes_max = kFrameBytesMax;  // At most kFrameBytesMax.
  // Frames in flight per connection before reading pauses. Power of two.
  uint32_t frames_in_flight_max = kFramesInFlightPerConnectionDefault;
};

struct FrameServerStats {
  uint64_t frames_oversized = 0;   // Length over frame_bytes_max: connection closed.
  uint64_t replies_oversized = 0;  // Reply over kFrameBytesMax: connection closed.
  uint64_t stray_completions = 0;  // Completion for a frame not in flight.
  TcpServerStats tcp;
};

// Thread safety: as TcpServer.
class FrameServer {
 public:
  FrameServer(FrameServerOptions options, FrameHandler handler);
  ~FrameServer();
  FrameServer(const FrameServer&) = delete;
  FrameServer& operator=(const FrameServer&) = delete;

  // Errors: kInvalidArgument for options out of range, plus TcpServer's.
  Status Start();
  uint16_t port() const { return tcp_.port(); }
  void StopAccepting() { tcp_.StopAccepting(); }
  uint64_t Shutdown(uint64_t drain_deadline_ms) { return tcp_.Shutdown(drain_deadline_ms); }

  // Sends `payload` (the length prefix is added) as the reply to frame
  // `sequence` of `connection`. Any thread; see TcpServer::Reply. A payload
  // over kFrameBytesMax cannot be framed: the connection is closed instead.
  void Reply(ConnectionId connection, uint32_t sequence, std::string_view payload) {
    tcp_.Reply(connection, sequence, payload);
  }
  // Completes a frame that gets no reply.
  void Finish(ConnectionId connection, uint32_t sequence) { tcp_.Finish(connection, sequence); }

  // For batched replies (ReplyBatch(&tcp())), payloads are framed the same way.
  TcpServer& tcp() { return tcp_; }
  FrameServerStats Stats() const;

 private:
  friend class FrameSession;
  class Protocol;

  FrameServerOptions options_;
  FrameHandler handler_;
  std::unique_ptr<Protocol> protocol_;
  std::atomic<uint64_t> frames_oversized_{0};  // Rare: shared counters are fine.
  std::atomic<uint64_t> replies_oversized_{0};
  std::atomic<uint64_t> stray_completions_{0};
  TcpServer tcp_;
};

}  // namespace tangelo::net
