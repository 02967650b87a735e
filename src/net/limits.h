// Named maxima and defaults of the networking module. Every queue, buffer,
// connection count and message size in src/net is bounded by a constant
// declared here, so a limit is a reviewed decision, not an accident. Going
// over a limit is a clear error (a status code, an HTTP error response or a
// closed connection) and a counter, never unbounded growth.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tangelo::net {

// Event loop.
inline constexpr uint32_t kLoopThreadsMax = 64;
inline constexpr uint32_t kPostQueueEntriesDefault = 16384;  // Cross-thread tasks per loop.
inline constexpr uint32_t kPostQueueEntriesMax = 1u << 20;
inline constexpr uint32_t kTimersDefault = 65536;  // Pending timers per loop.
inline constexpr uint32_t kTimersMax = 1u << 20;
inline constexpr uint32_t kFdRegistrationsDefault = 65536;  // Registered fds per loop.
inline constexpr uint32_t kFdRegistrationsMax = 1u << 20;
inline constexpr uint32_t kEpollEventsPerWaitMax = 256;  // Events taken per epoll_wait.
inline constexpr size_t kTaskInlineBytesMax = 64;        // Captures of one posted task.

// TCP server.
inline constexpr uint32_t kConnectionsDefault = 10000;  // Open connections per server.
inline constexpr uint32_t kConnectionsMax = 1u << 20;   // Hard ceiling of the option.
inline constexpr uint32_t kReadBufferBytesInitial = 16 * 1024;
inline constexpr uint32_t kWriteBufferBytesInitial = 16 * 1024;
inline constexpr uint32_t kWriteBufferBytesDefaultMax = 4 * 1024 * 1024;
inline constexpr uint32_t kBufferBytesMax = 64 * 1024 * 1024;  // Ceiling of any buffer option.
inline constexpr uint32_t kReadsPerWakeupMax = 4;  // recv() calls per connection per iteration.
inline constexpr uint32_t kListenBacklogDefault = 1024;
inline constexpr uint32_t kAcceptsPerWakeupMax = 64;
// After a server-initiated close (an HTTP error, Connection: close) the write
// side is shut and input discarded until the peer closes, for at most this
// long, so the peer reads the reply instead of a reset.
inline constexpr uint64_t kLingerCloseMs = 1000;

// Length-prefixed framing (ISO 8583 style: 2-byte big-endian length).
inline constexpr uint32_t kFrameBytesMax = 65535;  // What 2 length bytes can say.
inline constexpr uint32_t kFramesInFlightPerConnectionDefault = 4096;

// HTTP/1.1 server.
inline constexpr uint32_t kHttpRequestLineBytesMax = 8 * 1024;     // Over it: 414.
inline constexpr uint32_t kHttpHeaderBytesMax = 16 * 1024;         // Request line + headers: 431.
inline constexpr uint32_t kHttpHeaderCountMax = 64;                // Over it: 431.
inline constexpr uint32_t kHttpBodyBytesDefaultMax = 1024 * 1024;  // Over it: 413.
inline constexpr uint32_t kHttpBodyBytesMax = 32 * 1024 * 1024;    // Ceiling of the option.
// Requests in flight per connection (pipelining), which is also the size of
// the per-connection queue that puts out-of-order completions back in order.
inline constexpr uint32_t kHttpPipelineDepthDefault = 32;
inline constexpr uint32_t kHttpPipelineDepthMax = 1024;

// HTTP/1.1 client.
inline constexpr uint32_t kHttpClientConnectionsPerHostDefault = 32;
inline constexpr uint32_t kHttpClientConnectionsPerHostMax = 1024;
inline constexpr uint32_t kHttpClientHostsMax = 1024;  // Distinct host:port pools.
inline constexpr uint32_t kHttpClientRequestsInFlightDefault = 4096;
inline constexpr uint32_t kHttpClientRequestsInFlightMax = 1u << 20;
inline constexpr uint32_t kHttpClientResponseHeaderBytesMax = 16 * 1024;
inline constexpr uint32_t kHttpClientResponseBodyBytesDefaultMax = 1024 * 1024;
inline constexpr uint64_t kHttpClientDeadlineMsMax = 60'000;
inline constexpr uint64_t kHttpClientIdleConnectionMsDefault = 30'000;

static_assert((kPostQueueEntriesDefault & (kPostQueueEntriesDefault - 1)) == 0,
              "post queue sizes are powers of two");
static_assert((kHttpPipelineDepthDefault & (kHttpPipelineDepthDefault - 1)) == 0,
              "the ordering queue is indexed by sequence modulo its power-of-two size");

}  // namespace tangelo::net
