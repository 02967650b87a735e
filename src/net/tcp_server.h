// TcpServer: a multi-threaded, non-blocking TCP server that carries any
// request/reply protocol (HTTP/1.1, length-prefixed ISO 8583 frames).
//
// Threads: N event loops, each on its own thread. Loop 0 also accepts and
// hands new connections out round-robin, so load spreads evenly even with a
// handful of connections (SO_REUSEPORT hashing does not). A connection lives
// on one loop for its whole life; its buffers and protocol session are only
// touched by that loop's thread.
//
// Data path: sockets are edge-triggered. Input is read into a per-connection
// bounded buffer and handed to the protocol Session, which consumes whole
// messages. Output produced during one loop iteration (immediate replies, and
// replies posted from other threads) is written with one send() per
// connection at the end of the iteration. No allocation per request once a
// connection's buffers have grown to its working size.
//
// Asynchronous replies: a request can be completed later from any thread
// with Reply(connection_id, sequence, bytes). A ConnectionId carries a
// generation, so a reply for a connection that has closed meanwhile (even if
// its slot now serves a new connection) is dropped and counted, never
// delivered to the wrong peer and never a use-after-free.
//
// Limits: connections_max (excess connections are closed at once and
// counted), input buffer bounded by the protocol's largest message, output
// buffer bounded by write_buffer_bytes_max (a peer that does not read its
// replies is disconnected), requests in flight per connection bounded by
// the protocol (reading pauses until replies complete: TCP back-pressure).
#pragma once

#include <atomic>
#include <compare>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/status.h"
#include "io/clock.h"
#include "net/buffer.h"
#include "net/counter.h"
#include "net/event_loop.h"
#include "net/socket.h"

namespace tangelo::net {

class Session;
class TcpServer;
struct ServerLoop;

// Names one connection across threads: loop index (8 bits), slot in that
// loop (24 bits) and the slot's generation (32 bits, never zero). Copyable,
// comparable; zero is "no connection".
class ConnectionId {
 public:
  constexpr ConnectionId() = default;
  static constexpr ConnectionId FromParts(uint32_t loop_index, uint32_t slot, uint32_t generation) {
    return ConnectionId((uint64_t{loop_index} << 56) | (uint64_t{slot & 0xFFFFFFu} << 32) |
                        generation);
  }
  static constexpr ConnectionId FromValue(uint64_t value) { return ConnectionId(value); }

  constexpr uint64_t value() const { return value_; }
  constexpr bool valid() const { return generation() != 0; }
  constexpr uint32_t loop_index() const { return static_cast<uint32_t>(value_ >> 56); }
  constexpr uint32_t slot() const { return static_cast<uint32_t>(value_ >> 32) & 0xFFFFFFu; }
  constexpr uint32_t generation() const { return static_cast<uint32_t>(value_); }
  constexpr auto operator<=>(const ConnectionId&) const = default;

 private:
  constexpr explicit ConnectionId(uint64_t value) : value_(value) {}
  uint64_t value_ = 0;
};

// What a completion carries to the session.
enum class ReplyKind : uint8_t {
  kBytes = 0,  // A reply payload, in the protocol's own terms.
  kNone = 1,   // The request finished without a reply (frames only).
};

// One open connection, as its protocol session sees it. Owned by the server
// (a reused slot); valid only on its loop thread, inside Session callbacks.
// Never keep a Connection& beyond a callback: keep the ConnectionId.
class Connection {
 public:
  ConnectionId id() const;
  EventLoop& loop();
  TcpServer& server() { return *server_; }

  // Appends reply bytes to the output buffer; they are written at the end of
  // the loop iteration. When the output buffer would exceed its limit the
  // peer is not reading: the connection is closed (counted as an output
  // overflow) and false returned.
  bool Write(std::string_view bytes);
  // For serialising in place: Reserve(n) then write at output().write_pointer()
  // and Commit(). Reserve fails (closing as above) over the limit.
  bool Reserve(size_t bytes);
  ByteBuffer& output() { return output_; }
  void Commit(size_t bytes) { output_.Commit(bytes); }

  // Request accounting, for back-pressure, idle timeout and graceful drain.
  // A session calls BeginRequest() for each message it hands to the
  // application and EndRequest() when that request's reply (or finish)
  // arrives. Input is not consumed while requests_in_flight() is at the
  // protocol's maximum.
  void BeginRequest() { ++requests_in_flight_; }
  void EndRequest();
  uint32_t requests_in_flight() const { return requests_in_flight_; }
  // Whether the session may start another request now: below the in-flight
  // maximum, output below its high-water mark, not closing, not draining. A
  // session checks it before each message it takes from OnData's input.
  bool AcceptingRequests() const;

  // Closes as soon as control returns to the loop; unwritten output is lost.
  void Close();
  // Stops consuming input; closes once every request in flight has finished
  // and the output is written (HTTP "Connection: close", protocol errors).
  void CloseAfterFlush();
  bool closing() const { return close_now_ || close_after_flush_; }
  // The server is shutting down: finish what is in flight, start nothing new
  // (HTTP sends "Connection: close").
  bool draining() const;

 private:
  friend class TcpServer;
  friend struct ServerLoop;

  struct IoHandler final : FdHandler {
    Connection* owner = nullptr;
    void OnFdEvents(uint32_t epoll_events) override;
  };

  Connection(TcpServer* server, ServerLoop* loop, uint32_t slot, uint32_t read_initial_bytes,
             uint32_t read_max_bytes, uint32_t write_initial_bytes, uint32_t write_max_bytes);

  TcpServer* server_;
  ServerLoop* loop_;
  const uint32_t slot_;
  uint32_t generation_ = 1;
  int fd_ = -1;
  FdToken token_;
  IoHandler io_handler_;
  ByteBuffer input_;
  ByteBuffer output_;
  std::unique_ptr<Session> session_;
  uint32_t requests_in_flight_ = 0;
  uint64_t last_activity_ns_ = 0;
  bool open_ = false;
  bool readable_ = false;       // The socket may hold unread bytes.
  bool writable_ = false;       // The socket can take bytes (until EAGAIN).
  bool peer_closed_ = false;    // Read returned end of stream.
  bool hangup_seen_ = false;    // epoll reported RDHUP/HUP: read to the end.
  bool input_pending_ = false;  // Buffered input not yet shown to the session.
  bool close_now_ = false;
  bool close_after_flush_ = false;
  bool lingering_ = false;  // Write side shut; discarding input until EOF.
  bool dirty_ = false;      // Queued for end-of-iteration service.
  uint64_t linger_deadline_ns_ = 0;
};

// The protocol side of one connection. A session object is created once per
// connection slot and reused for the slot's later connections (OnOpen and
// OnClose bracket each one), so per-connection state keeps its memory.
// Called only on the connection's loop thread.
class Session {
 public:
  virtual ~Session() = default;
  virtual void OnOpen(Connection& connection) = 0;
  // `input` is every byte received and not yet consumed. Returns how many
  // bytes (whole messages) it consumed; the rest is shown again, with more
  // bytes appended, on a later call. Called only while the connection can
  // take more requests (below its in-flight maximum and output high-water,
  // not closing, not draining); a session must stop consuming when
  // requests_in_flight() reaches the maximum. When the input buffer is full
  // at the protocol's InputBytesMax() and nothing is consumed, the server
  // closes the connection (counted as an input overflow); a protocol should
  // answer an oversized message itself before that.
  virtual size_t OnData(Connection& connection, std::string_view input) = 0;
  // A completion for request `sequence`, from TcpServer::Reply/Finish.
  // Only delivered while the connection is open; replies for a closed
  // connection never reach the session.
  virtual void OnReply(Connection& connection, uint32_t sequence, std::string_view bytes,
                       ReplyKind kind) = 0;
  // The connection is gone: drop its per-connection state.
  virtual void OnClose(Connection& connection) = 0;
};

// A wire protocol: creates sessions and declares its bounds. Shared by all
// loop threads: NewSession() must be thread safe.
class Protocol {
 public:
  virtual ~Protocol() = default;
  virtual std::unique_ptr<Session> NewSession() = 0;
  // The most input a session may need buffered before it can consume (one
  // whole largest message plus its framing).
  virtual uint32_t InputBytesMax() const = 0;
  // Requests in flight per connection before input stops being consumed.
  virtual uint32_t RequestsInFlightMax() const = 0;
};

struct TcpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: the kernel picks a free port; see TcpServer::port().
  uint32_t loop_threads = 1;
  uint32_t connections_max = kConnectionsDefault;
  uint32_t read_buffer_bytes_initial = kReadBufferBytesInitial;
  uint32_t write_buffer_bytes_initial = kWriteBufferBytesInitial;
  // A peer that lets more unread reply bytes pile up is disconnected. Input
  // stops being consumed at half of it (back-pressure before the limit).
  uint32_t write_buffer_bytes_max = kWriteBufferBytesDefaultMax;
  // A connection with nothing in flight and no bytes moved for this long is
  // closed; so is one whose peer has closed its side, even with requests
  // still in flight (it got no reply for that long). 0 disables the idle
  // timeout.
  uint64_t idle_timeout_ms = 60'000;
  uint32_t listen_backlog = kListenBacklogDefault;
  uint32_t post_queue_entries = kPostQueueEntriesDefault;
  std::string thread_name = "tg-net";  // Loop threads are "<name>-<index>".
  io::Clock* clock = nullptr;          // Null: io::SystemClock.
};

// Counters summed over the loops; a relaxed snapshot.
struct TcpServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;  // Over connections_max, or a loop queue full.
  uint64_t connections_open = 0;
  uint64_t connections_closed = 0;
  uint64_t connections_closed_idle = 0;
  uint64_t connections_closed_forced = 0;  // Still busy at the shutdown deadline.
  uint64_t connections_reset = 0;          // A read or write failed (reset by peer).
  uint64_t input_overflows = 0;            // Input buffer full, nothing consumable.
  uint64_t output_overflows = 0;           // Peer not reading its replies.
  uint64_t accept_errors = 0;
  uint64_t replies_delivered = 0;
  uint64_t replies_dropped = 0;  // Connection gone, or its loop's queue stayed full.
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
};

// Thread safety: Start() and Shutdown() from one owning thread. port(),
// StopAccepting(), Reply(), Finish(), CloseConnection() and Stats() from any
// thread. The Protocol must outlive the server; the server must outlive every
// thread that may still call Reply().
class TcpServer {
 public:
  TcpServer(TcpServerOptions options, Protocol* protocol);
  // Shuts down with a zero drain deadline if still running.
  ~TcpServer();
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  // Binds, listens and starts the loop threads. Errors: kInvalidArgument
  // (options out of range, host not numeric), kIoError (bind/listen: address
  // in use, fd limit). Precondition: called once.
  Status Start();

  // The bound port (the chosen one when options.port was 0). After Start().
  uint16_t port() const { return port_; }
  uint32_t loop_count() const { return static_cast<uint32_t>(loops_.size()); }

  // Closes the listening socket: new connections are refused from when this
  // returns; open connections carry on. Idempotent.
  void StopAccepting();

  // Graceful shutdown: stops accepting, stops consuming new requests, lets
  // every connection finish its requests in flight and write its replies,
  // closing each as soon as it is idle; at `drain_deadline_ms` closes the
  // rest; then stops and joins the loops. Returns the number of connections
  // closed forcibly at the deadline. Idempotent.
  uint64_t Shutdown(uint64_t drain_deadline_ms);

  // Completes request `sequence` of connection `id` with `bytes` (copied).
  // Any thread. On the connection's own loop thread the session gets it at
  // once; otherwise it is posted to the loop. Dropped (and counted) when the
  // connection has closed. When the loop's task queue is full, a non-loop
  // thread waits (back-pressure, up to kReplyPostWaitMs) and a loop thread
  // drops the reply, so two loops can never deadlock on each other.
  void Reply(ConnectionId id, uint32_t sequence, std::string_view bytes);
  // Completes request `sequence` without a reply (ReplyKind::kNone).
  void Finish(ConnectionId id, uint32_t sequence);
  // Closes the connection (unwritten output is lost). Any thread.
  void CloseConnection(ConnectionId id);

  bool draining() const { return draining_.load(std::memory_order_relaxed); }
  TcpServerStats Stats() const;

  static constexpr uint64_t kReplyPostWaitMs = 1000;

 private:
  friend class Connection;
  friend struct ServerLoop;
  friend class ReplyBatch;

  Status ValidateOptions() const;
  void AcceptReady();
  void AdoptConnection(ServerLoop& loop, int fd);
  void DeliverOnLoop(ServerLoop& loop, ConnectionId id, uint32_t sequence, std::string_view bytes,
                     ReplyKind kind);
  void Deliver(ConnectionId id, uint32_t sequence, std::string_view bytes, ReplyKind kind);
  // Posts to a loop with the back-pressure policy described at Reply().
  bool PostReliably(ServerLoop& loop, Task& task);
  void CloseListenerOnLoop();

  struct Listener final : FdHandler {
    TcpServer* server = nullptr;
    void OnFdEvents(uint32_t epoll_events) override;
  };

  TcpServerOptions options_;
  Protocol* const protocol_;
  std::vector<std::unique_ptr<ServerLoop>> loops_;
  UniqueFd listen_fd_;
  FdToken listen_token_;
  Listener listener_;
  uint16_t port_ = 0;
  uint32_t next_loop_ = 0;  // Round-robin cursor; loop 0 thread only.
  bool started_ = false;
  bool shut_down_ = false;
  std::atomic<bool> accepting_{false};
  std::atomic<bool> draining_{false};
  std::atomic<uint64_t> connections_open_{0};
  std::atomic<uint64_t> connections_rejected_{0};     // Many writers.
  std::atomic<uint64_t> replies_dropped_posting_{0};  // Many writers.
};

// Collects replies from one producer thread (the engine, after a journal
// batch is durable) and hands them to the loops with one Post per loop per
// Submit(), instead of one per reply. Not thread safe: one per producer.
// Reusable: Submit() empties it (its buffers are handed to the loops).
class ReplyBatch {
 public:
  // May be made before the server starts; Add() requires it started.
  explicit ReplyBatch(TcpServer* server);

  // Queues a reply (bytes are copied) or a reply-less finish.
  void Add(ConnectionId id, uint32_t sequence, std::string_view bytes);
  void AddFinish(ConnectionId id, uint32_t sequence);
  size_t pending() const { return pending_; }

  // Posts everything queued. Returns the number of replies that could not be
  // posted (loop stopped, or its queue stayed full; counted as dropped).
  size_t Submit();

 private:
  void AddRecord(ConnectionId id, uint32_t sequence, std::string_view bytes, ReplyKind kind);

  TcpServer* server_;
  std::vector<std::vector<char>> per_loop_;  // Serialised records per loop.
  std::vector<uint32_t> per_loop_count_;
  size_t pending_ = 0;
};

}  // namespace tangelo::net
