#include "net/frame_server.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace tangelo::net {
namespace {

constexpr size_t kLengthPrefixBytes = 2;

}  // namespace

class FrameServer::Protocol final : public net::Protocol {
 public:
  explicit Protocol(FrameServer* server) : server_(server) {}
  std::unique_ptr<Session> NewSession() override;
  uint32_t InputBytesMax() const override {
    return server_->options_.frame_bytes_max + static_cast<uint32_t>(kLengthPrefixBytes);
  }
  uint32_t RequestsInFlightMax() const override { return server_->options_.frames_in_flight_max; }

 private:
  FrameServer* server_;
};

// Cuts one connection's input into frames. Frames complete in any order, so
// the session tracks which sequences are in flight with a bitmap indexed by
// sequence modulo frames_in_flight_max: a completion for a frame that is not
// in flight (twice, or never sent) is dropped instead of corrupting the
// in-flight count.
class FrameSession final : public Session {
 public:
  explicit FrameSession(FrameServer* server)
      : server_(server),
        mask_(server->options_.frames_in_flight_max - 1),
        in_flight_bits_((server->options_.frames_in_flight_max + 63) / 64, 0) {}

  void OnOpen(Connection& /*connection*/) override {
    next_sequence_ = 0;
    std::fill(in_flight_bits_.begin(), in_flight_bits_.end(), 0);
  }

  size_t OnData(Connection& connection, std::string_view input) override {
    size_t offset = 0;
    while (input.size() - offset >= kLengthPrefixBytes) {
      const auto high = static_cast<unsigned char>(input[offset]);
      const auto low = static_cast<unsigned char>(input[offset + 1]);
      const uint32_t length = (uint32_t{high} << 8) | low;
      if (length > server_->options_.frame_bytes_max) {
        server_->frames_oversized_.fetch_add(1, std::memory_order_relaxed);
        connection.Close();
        return input.size();
      }
      if (length == 0) {  // Heartbeat.
        offset += kLengthPrefixBytes;
        continue;
      }
      if (input.size() - offset - kLengthPrefixBytes < length) break;
      // The slot of the next sequence must be free: an old frame still in
      // flight after frames_in_flight_max newer ones holds it.
      if (!connection.AcceptingRequests() || InFlight(next_sequence_)) break;
      const uint32_t sequence = next_sequence_++;
      SetInFlight(sequence, true);
      connection.BeginRequest();
      server_->handler_(
          Frame{connection.id(), sequence, input.substr(offset + kLengthPrefixBytes, length)});
      offset += kLengthPrefixBytes + length;
      if (connection.closing()) break;
    }
    return offset;
  }

  void OnReply(Connection& connection, uint32_t sequence, std::string_view bytes,
               ReplyKind kind) override {
    if (!InFlight(sequence) || next_sequence_ - sequence - 1 > mask_) {
      server_->stray_completions_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    SetInFlight(sequence, false);
    connection.EndRequest();
    if (kind == ReplyKind::kNone) return;
    if (bytes.size() > kFrameBytesMax) {
      server_->replies_oversized_.fetch_add(1, std::memory_order_relaxed);
      connection.Close();
      return;
    }
    if (!connection.Reserve(kLengthPrefixBytes + bytes.size())) return;
    char* out = connection.output().write_pointer();
    out[0] = static_cast<char>(bytes.size() >> 8);
    out[1] = static_cast<char>(bytes.size() & 0xFF);
    if (!bytes.empty()) std::memcpy(out + kLengthPrefixBytes, bytes.data(), bytes.size());
    connection.Commit(kLengthPrefixBytes + bytes.size());
  }

  void OnClose(Connection& /*connection*/) override {}

 private:
  bool InFlight(uint32_t sequence) const {
    const uint32_t bit = sequence & mask_;
    return (in_flight_bits_[bit / 64] >> (bit % 64)) & 1;
  }
  void SetInFlight(uint32_t sequence, bool in_flight) {
    const uint32_t bit = sequence & mask_;
    const uint64_t flag = uint64_t{1} << (bit % 64);
    if (in_flight) {
      in_flight_bits_[bit / 64] |= flag;
    } else {
      in_flight_bits_[bit / 64] &= ~flag;
    }
  }

  FrameServer* server_;
  const uint32_t mask_;
  std::vector<uint64_t> in_flight_bits_;
  uint32_t next_sequence_ = 0;
};

std::unique_ptr<Session> FrameServer::Protocol::NewSession() {
  return std::make_unique<FrameSession>(server_);
}

FrameServer::FrameServer(FrameServerOptions options, FrameHandler handler)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      protocol_(std::make_unique<Protocol>(this)),
      tcp_(options_.tcp, protocol_.get()) {
  TG_ASSERT(handler_ != nullptr);
}

FrameServer::~FrameServer() { tcp_.Shutdown(0); }

Status FrameServer::Start() {
  if (options_.frame_bytes_max == 0 || options_.frame_bytes_max > kFrameBytesMax) {
    return base::InvalidArgument("frame_bytes_max must be in [1, 65535]");
  }
  const uint32_t in_flight = options_.frames_in_flight_max;
  if (in_flight == 0 || in_flight > (1u << 20) || (in_flight & (in_flight - 1)) != 0) {
    return base::InvalidArgument("frames_in_flight_max must be a power of two in [1, 2^20]");
  }
  return tcp_.Start();
}

FrameServerStats FrameServer::Stats() const {
  FrameServerStats stats;
  stats.frames_oversized = frames_oversized_.load(std::memory_order_relaxed);
  stats.replies_oversized = replies_oversized_.load(std::memory_order_relaxed);
  stats.stray_completions = stray_completions_.load(std::memory_order_relaxed);
  stats.tcp = tcp_.Stats();
  return stats;
}

}  // namespace tangelo::net
