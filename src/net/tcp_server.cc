#include "net/tcp_server.h"

#include <errno.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <future>
#include <thread>

namespace tangelo::net {
namespace {

constexpr uint32_t kConnectionEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
constexpr uint64_t kNsPerMs = 1'000'000;
// When accept() fails for lack of fds or memory, the listener is paused for
// this long instead of spinning on a level-triggered event it cannot clear.
constexpr uint64_t kAcceptPauseMs = 100;

uint32_t NextGeneration(uint32_t generation) {
  return generation == UINT32_MAX ? 1 : generation + 1;
}

// Serialised header of one ReplyBatch record; the bytes follow it.
struct ReplyRecord {
  uint64_t connection_id;
  uint32_t sequence;
  uint32_t length;
  uint8_t kind;
  uint8_t padding[7];
};
static_assert(sizeof(ReplyRecord) == 24, "ReplyRecord has no hidden padding");

}  // namespace

// Per-loop state of the server. Only the loop's thread touches it once the
// loop runs (the owner thread touches it before Start and after the join).
struct ServerLoop final : EndOfIterationHandler {
  TcpServer* server = nullptr;
  uint32_t index = 0;
  std::unique_ptr<EventLoop> loop;
  std::thread thread;
  std::vector<std::unique_ptr<Connection>> connections;  // Stable addresses.
  std::vector<uint32_t> free_slots;
  std::vector<uint32_t> dirty;
  std::vector<uint32_t> servicing;
  uint32_t in_flight_max = 1;
  uint32_t read_max_bytes = 0;
  uint64_t output_high_water = 0;
  uint64_t sweep_interval_ns = 0;

  Counter accepted;
  Counter closed;
  Counter closed_idle;
  Counter closed_forced;
  Counter reset;
  Counter input_overflows;
  Counter output_overflows;
  Counter accept_errors;
  Counter replies_delivered;
  Counter replies_dropped;
  Counter bytes_read;
  Counter bytes_written;

  void OnEndOfIteration() override;
  void MarkDirty(Connection& connection);
  bool CanConsume(const Connection& connection) const;
  void ReadAndProcess(Connection& connection);
  void Service(Connection& connection);
  void Flush(Connection& connection);
  void StartLinger(Connection& connection);
  void DiscardLingeringInput(Connection& connection);
  void CloseNow(Connection& connection);
  void Sweep();
  void ArmSweep();
  Connection* Find(ConnectionId id);
  uint64_t CloseAll();
};

// ---------------------------------------------------------------- Connection

Connection::Connection(TcpServer* server, ServerLoop* loop, uint32_t slot,
                       uint32_t read_initial_bytes, uint32_t read_max_bytes,
                       uint32_t write_initial_bytes, uint32_t write_max_bytes)
    : server_(server),
      loop_(loop),
      slot_(slot),
      input_(read_initial_bytes, read_max_bytes),
      output_(write_initial_bytes, write_max_bytes) {
  io_handler_.owner = this;
}

ConnectionId Connection::id() const {
  return ConnectionId::FromParts(loop_->index, slot_, generation_);
}

EventLoop& Connection::loop() { return *loop_->loop; }

bool Connection::draining() const { return server_->draining(); }

bool Connection::AcceptingRequests() const { return loop_->CanConsume(*this); }

bool Connection::Write(std::string_view bytes) {
  if (!Reserve(bytes.size())) return false;
  if (!bytes.empty()) std::memcpy(output_.write_pointer(), bytes.data(), bytes.size());
  output_.Commit(bytes.size());
  return true;
}

bool Connection::Reserve(size_t bytes) {
  if (close_now_) return false;
  if (!output_.Reserve(bytes)) {
    loop_->output_overflows.Add();
    Close();
    return false;
  }
  loop_->MarkDirty(*this);
  return true;
}

void Connection::EndRequest() {
  TG_ASSERT_MSG(requests_in_flight_ > 0, "EndRequest without a request in flight");
  --requests_in_flight_;
  if (!input_.empty()) input_pending_ = true;
  loop_->MarkDirty(*this);
}

void Connection::Close() {
  close_now_ = true;
  loop_->MarkDirty(*this);
}

void Connection::CloseAfterFlush() {
  close_after_flush_ = true;
  loop_->MarkDirty(*this);
}

void Connection::IoHandler::OnFdEvents(uint32_t epoll_events) {
  Connection& connection = *owner;
  if ((epoll_events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    connection.readable_ = true;
  }
  // The peer's FIN may have come with the last data in one edge: keep
  // reading past a short read until recv() reports the end of stream.
  if ((epoll_events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) connection.hangup_seen_ = true;
  // On an error the next send() reports it, so treat it as writable too.
  if ((epoll_events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) connection.writable_ = true;
  if (connection.lingering_) {
    connection.loop_->DiscardLingeringInput(connection);
  } else {
    connection.loop_->ReadAndProcess(connection);
  }
  connection.loop_->MarkDirty(connection);
}

// ---------------------------------------------------------------- ServerLoop

void ServerLoop::MarkDirty(Connection& connection) {
  if (connection.dirty_) return;
  connection.dirty_ = true;
  dirty.push_back(connection.slot_);
}

bool ServerLoop::CanConsume(const Connection& connection) const {
  return connection.open_ && !connection.close_now_ && !connection.close_after_flush_ &&
         !connection.lingering_ && !server->draining() &&
         connection.requests_in_flight_ < in_flight_max &&
         connection.output_.size() < output_high_water;
}

void ServerLoop::ReadAndProcess(Connection& connection) {
  uint32_t reads = 0;
  for (;;) {
    if (!CanConsume(connection)) return;
    if (connection.input_pending_) {
      connection.input_pending_ = false;
      if (!connection.input_.empty()) {
        const size_t consumed = connection.session_->OnData(connection, connection.input_.view());
        connection.input_.Consume(consumed);
        // The session saw every byte with the state it had; replies it
        // completed inline may have set the flag again, which is moot.
        connection.input_pending_ = false;
        continue;
      }
    }
    if (!connection.readable_ || connection.peer_closed_) return;
    if (reads == kReadsPerWakeupMax) {
      // Fairness: other connections of this loop get their turn first.
      MarkDirty(connection);
      loop->RequestImmediateIteration();
      return;
    }
    const size_t space = connection.input_.PrepareRead();
    if (space == 0) {
      // Full at the protocol's maximum and the session took nothing: the
      // peer sent a message larger than the protocol allows.
      input_overflows.Add();
      connection.Close();
      return;
    }
    const ssize_t received = recv(connection.fd_, connection.input_.write_pointer(), space, 0);
    ++reads;
    if (received > 0) {
      const size_t bytes = static_cast<size_t>(received);
      connection.input_.Commit(bytes);
      bytes_read.Add(bytes);
      connection.last_activity_ns_ = loop->NowNs();
      connection.input_pending_ = true;
      // A short read drained the socket; edge-triggered epoll reports the
      // next arrival.
      if (bytes < space && !connection.hangup_seen_) connection.readable_ = false;
      continue;
    }
    if (received == 0) {
      connection.peer_closed_ = true;
      connection.readable_ = false;
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      connection.readable_ = false;
      return;
    }
    reset.Add();
    connection.Close();
    return;
  }
}

void ServerLoop::Flush(Connection& connection) {
  if (connection.output_.empty() || !connection.writable_ || connection.fd_ < 0) return;
  for (;;) {
    const ssize_t sent =
        send(connection.fd_, connection.output_.data(), connection.output_.size(), MSG_NOSIGNAL);
    if (sent > 0) {
      const size_t bytes = static_cast<size_t>(sent);
      const bool partial = bytes < connection.output_.size();
      connection.output_.Consume(bytes);
      bytes_written.Add(bytes);
      connection.last_activity_ns_ = loop->NowNs();
      // The socket buffer is full; EPOLLOUT (edge) says when it drains.
      if (partial) connection.writable_ = false;
      return;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      connection.writable_ = false;
      return;
    }
    reset.Add();
    connection.close_now_ = true;
    return;
  }
}

void ServerLoop::Service(Connection& connection) {
  if (connection.close_now_) {
    CloseNow(connection);
    return;
  }
  if (connection.lingering_) {
    DiscardLingeringInput(connection);
    if (connection.close_now_) CloseNow(connection);
    return;
  }
  if (connection.input_pending_ || (connection.readable_ && !connection.peer_closed_)) {
    ReadAndProcess(connection);
  }
  const bool was_over_high_water = connection.output_.size() >= output_high_water;
  if (!connection.close_now_) Flush(connection);
  if (connection.close_now_) {
    CloseNow(connection);
    return;
  }
  if (was_over_high_water && connection.output_.size() < output_high_water &&
      !connection.input_.empty()) {
    // Back-pressure released: resume the input that was left waiting.
    connection.input_pending_ = true;
    MarkDirty(connection);
  }
  const bool finishing =
      connection.close_after_flush_ || connection.peer_closed_ || server->draining();
  if (finishing && connection.requests_in_flight_ == 0 && connection.output_.empty()) {
    if (connection.peer_closed_) {
      CloseNow(connection);
    } else {
      StartLinger(connection);
    }
  }
}

void ServerLoop::StartLinger(Connection& connection) {
  // Closing a socket with unread input makes the kernel send a reset, which
  // can destroy the reply the peer has not read yet. So: send FIN, discard
  // input until the peer closes too, then close (bounded by kLingerCloseMs).
  connection.lingering_ = true;
  connection.linger_deadline_ns_ = loop->NowNs() + kLingerCloseMs * kNsPerMs;
  shutdown(connection.fd_, SHUT_WR);
  connection.input_.Clear();
  connection.readable_ = true;
  DiscardLingeringInput(connection);
  if (connection.close_now_) CloseNow(connection);
}

void ServerLoop::DiscardLingeringInput(Connection& connection) {
  char scratch[4096];
  for (uint32_t reads = 0; reads < kReadsPerWakeupMax; ++reads) {
    const ssize_t received = recv(connection.fd_, scratch, sizeof(scratch), 0);
    if (received > 0) continue;
    if (received < 0 && errno == EINTR) continue;
    if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      connection.readable_ = false;
      return;
    }
    connection.close_now_ = true;  // End of stream or error: done lingering.
    MarkDirty(connection);
    return;
  }
  MarkDirty(connection);
  loop->RequestImmediateIteration();
}

void ServerLoop::CloseNow(Connection& connection) {
  if (!connection.open_) return;
  connection.session_->OnClose(connection);
  // Counted before the close, so a peer that sees the close sees the count.
  closed.Add();
  server->connections_open_.fetch_sub(1, std::memory_order_acq_rel);
  loop->RemoveFd(connection.token_, connection.fd_);
  close(connection.fd_);
  connection.fd_ = -1;
  connection.token_ = FdToken{};
  connection.generation_ = NextGeneration(connection.generation_);
  connection.open_ = false;
  connection.readable_ = false;
  connection.writable_ = false;
  connection.peer_closed_ = false;
  connection.hangup_seen_ = false;
  connection.input_pending_ = false;
  connection.close_now_ = false;
  connection.close_after_flush_ = false;
  connection.lingering_ = false;
  connection.requests_in_flight_ = 0;
  connection.input_.Clear();
  connection.output_.Clear();
  free_slots.push_back(connection.slot_);
}

void ServerLoop::OnEndOfIteration() {
  servicing.swap(dirty);
  for (const uint32_t slot : servicing) {
    Connection& connection = *connections[slot];
    connection.dirty_ = false;
    if (connection.open_) Service(connection);
  }
  servicing.clear();
  // Connections marked while servicing (released back-pressure, lingering)
  // are serviced next iteration, which must not wait for an event.
  if (!dirty.empty()) loop->RequestImmediateIteration();
}

void ServerLoop::Sweep() {
  const uint64_t now_ns = loop->NowNs();
  const uint64_t idle_ns = server->options_.idle_timeout_ms * kNsPerMs;
  for (const std::unique_ptr<Connection>& owned : connections) {
    Connection& connection = *owned;
    if (!connection.open_) continue;
    if (connection.lingering_) {
      if (now_ns >= connection.linger_deadline_ns_) CloseNow(connection);
      continue;
    }
    // A peer that closed its side still gets the replies it is owed, but
    // replies that never come must not hold the connection forever.
    if (idle_ns != 0 && (connection.requests_in_flight_ == 0 || connection.peer_closed_) &&
        now_ns - connection.last_activity_ns_ >= idle_ns) {
      closed_idle.Add();
      CloseNow(connection);
    }
  }
  ArmSweep();
}

void ServerLoop::ArmSweep() {
  loop->RunAfter(sweep_interval_ns, [this] { Sweep(); });
}

Connection* ServerLoop::Find(ConnectionId id) {
  if (id.slot() >= connections.size()) return nullptr;
  Connection* connection = connections[id.slot()].get();
  if (!connection->open_ || connection->generation_ != id.generation()) return nullptr;
  return connection;
}

uint64_t ServerLoop::CloseAll() {
  uint64_t count = 0;
  for (const std::unique_ptr<Connection>& owned : connections) {
    if (owned->open_) {
      closed_forced.Add();
      CloseNow(*owned);
      ++count;
    }
  }
  return count;
}

// ----------------------------------------------------------------- TcpServer

TcpServer::TcpServer(TcpServerOptions options, Protocol* protocol)
    : options_(std::move(options)), protocol_(protocol) {
  TG_ASSERT(protocol_ != nullptr);
  listener_.server = this;
}

TcpServer::~TcpServer() { Shutdown(0); }

Status TcpServer::ValidateOptions() const {
  const TcpServerOptions& o = options_;
  if (o.loop_threads == 0 || o.loop_threads > kLoopThreadsMax) {
    return base::InvalidArgument("loop_threads must be in [1, " + std::to_string(kLoopThreadsMax) +
                                 "]");
  }
  if (o.connections_max == 0 || o.connections_max > kConnectionsMax) {
    return base::InvalidArgument("connections_max out of range");
  }
  if (o.read_buffer_bytes_initial == 0 || o.read_buffer_bytes_initial > kBufferBytesMax ||
      protocol_->InputBytesMax() > kBufferBytesMax) {
    return base::InvalidArgument("read buffer size out of range");
  }
  if (o.write_buffer_bytes_initial == 0 || o.write_buffer_bytes_max > kBufferBytesMax ||
      o.write_buffer_bytes_initial > o.write_buffer_bytes_max) {
    return base::InvalidArgument("write buffer sizes out of range");
  }
  if (protocol_->RequestsInFlightMax() == 0) {
    return base::InvalidArgument("protocol allows no request in flight");
  }
  if (o.listen_backlog == 0 || o.listen_backlog > 65535) {
    return base::InvalidArgument("listen_backlog out of range");
  }
  return Status::Ok();
}

Status TcpServer::Start() {
  TG_ASSERT_MSG(!started_, "TcpServer::Start called twice");
  TG_RETURN_IF_ERROR(ValidateOptions());
  Result<SocketAddress> address = SocketAddress::Parse(options_.host, options_.port);
  if (!address.ok()) return address.status();

  EventLoopOptions loop_options;
  loop_options.post_queue_entries = options_.post_queue_entries;
  loop_options.clock = options_.clock;
  // Each connection is one fd registration; the listener one more.
  loop_options.fd_registrations_max = std::min(options_.connections_max + 1, kFdRegistrationsMax);
  const uint32_t read_max =
      std::max(protocol_->InputBytesMax(), options_.read_buffer_bytes_initial);
  const uint64_t idle_ms = options_.idle_timeout_ms;
  uint64_t sweep_ms = idle_ms == 0 ? 250 : std::clamp<uint64_t>(idle_ms / 4, 10, 250);
  for (uint32_t i = 0; i < options_.loop_threads; ++i) {
    Result<std::unique_ptr<EventLoop>> loop = EventLoop::Create(loop_options);
    if (!loop.ok()) return loop.status();
    auto state = std::make_unique<ServerLoop>();
    state->server = this;
    state->index = i;
    state->loop = std::move(loop).value();
    state->in_flight_max = protocol_->RequestsInFlightMax();
    state->read_max_bytes = read_max;
    state->output_high_water = options_.write_buffer_bytes_max / 2;
    state->sweep_interval_ns = sweep_ms * kNsPerMs;
    state->loop->AddEndOfIterationHandler(state.get());
    state->ArmSweep();
    loops_.push_back(std::move(state));
  }

  Result<UniqueFd> listen_fd =
      ListenTcp(address.value(), static_cast<int>(options_.listen_backlog), false);
  if (!listen_fd.ok()) return listen_fd.status();
  listen_fd_ = std::move(listen_fd).value();
  Result<uint16_t> port = LocalPort(listen_fd_.get());
  if (!port.ok()) return port.status();
  port_ = port.value();
  // Level-triggered: a backlog left after kAcceptsPerWakeupMax accepts is
  // reported again on the next iteration.
  Result<FdToken> token = loops_[0]->loop->AddFd(listen_fd_.get(), EPOLLIN, &listener_);
  if (!token.ok()) return token.status();
  listen_token_ = token.value();

  accepting_.store(true, std::memory_order_release);
  started_ = true;
  for (std::unique_ptr<ServerLoop>& state : loops_) {
    ServerLoop* raw = state.get();
    const std::string name =
        (options_.thread_name + "-" + std::to_string(raw->index)).substr(0, 15);
    raw->thread = std::thread([raw, name] {
      pthread_setname_np(pthread_self(), name.c_str());
      raw->loop->Run();
    });
  }
  return Status::Ok();
}

void TcpServer::Listener::OnFdEvents(uint32_t /*epoll_events*/) { server->AcceptReady(); }

void TcpServer::AcceptReady() {
  ServerLoop& acceptor = *loops_[0];
  for (uint32_t i = 0; i < kAcceptsPerWakeupMax; ++i) {
    const int fd = accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      acceptor.accept_errors.Add();
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of fds or memory: the pending connection stays in the backlog
        // and would wake us forever. Pause the listener for a while.
        if (acceptor.loop->ModifyFd(listen_token_, listen_fd_.get(), 0).ok()) {
          acceptor.loop->RunAfter(kAcceptPauseMs * kNsPerMs, [this] {
            if (listen_fd_.valid()) {
              loops_[0]->loop->ModifyFd(listen_token_, listen_fd_.get(), EPOLLIN).IgnoreError();
            }
          });
        }
      }
      return;
    }
    if (!accepting_.load(std::memory_order_acquire)) {
      close(fd);
      continue;
    }
    // Only this thread adds to the count, so check-then-add cannot overshoot.
    if (connections_open_.load(std::memory_order_acquire) >= options_.connections_max) {
      // Counted before the close, so whoever sees the close sees the count.
      connections_rejected_.fetch_add(1, std::memory_order_relaxed);
      close(fd);
      continue;
    }
    connections_open_.fetch_add(1, std::memory_order_acq_rel);
    SetNoDelay(fd);
    ServerLoop& target = *loops_[next_loop_];
    next_loop_ = (next_loop_ + 1) % static_cast<uint32_t>(loops_.size());
    if (&target == &acceptor) {
      AdoptConnection(target, fd);
      continue;
    }
    ServerLoop* target_pointer = &target;
    Task adopt = [this, target_pointer, fd] { AdoptConnection(*target_pointer, fd); };
    if (!target.loop->TryPost(adopt)) {
      connections_rejected_.fetch_add(1, std::memory_order_relaxed);
      connections_open_.fetch_sub(1, std::memory_order_acq_rel);
      close(fd);
    }
  }
}

void TcpServer::AdoptConnection(ServerLoop& state, int fd) {
  if (draining()) {
    connections_rejected_.fetch_add(1, std::memory_order_relaxed);
    connections_open_.fetch_sub(1, std::memory_order_acq_rel);
    close(fd);
    return;
  }
  uint32_t slot;
  if (!state.free_slots.empty()) {
    slot = state.free_slots.back();
    state.free_slots.pop_back();
  } else {
    // A loop never holds more than connections_max connections, because the
    // acceptor admits no more than that in total.
    TG_ASSERT(state.connections.size() < options_.connections_max);
    slot = static_cast<uint32_t>(state.connections.size());
    state.connections.push_back(std::unique_ptr<Connection>(
        new Connection(this, &state, slot, options_.read_buffer_bytes_initial, state.read_max_bytes,
                       options_.write_buffer_bytes_initial, options_.write_buffer_bytes_max)));
  }
  Connection& connection = *state.connections[slot];
  Result<FdToken> token = state.loop->AddFd(fd, kConnectionEvents, &connection.io_handler_);
  if (!token.ok()) {
    state.free_slots.push_back(slot);
    connections_rejected_.fetch_add(1, std::memory_order_relaxed);
    connections_open_.fetch_sub(1, std::memory_order_acq_rel);
    close(fd);
    return;
  }
  connection.fd_ = fd;
  connection.token_ = token.value();
  connection.open_ = true;
  connection.writable_ = true;
  connection.last_activity_ns_ = state.loop->NowNs();
  if (connection.session_ == nullptr) connection.session_ = protocol_->NewSession();
  state.accepted.Add();
  connection.session_->OnOpen(connection);
}

void TcpServer::CloseListenerOnLoop() {
  if (!listen_fd_.valid()) return;
  loops_[0]->loop->RemoveFd(listen_token_, listen_fd_.get());
  listen_fd_.Reset();
}

void TcpServer::StopAccepting() {
  if (!started_) return;
  if (!accepting_.exchange(false, std::memory_order_acq_rel)) return;
  EventLoop& acceptor = *loops_[0]->loop;
  if (acceptor.InLoopThread()) {
    CloseListenerOnLoop();
    return;
  }
  std::promise<void> closed;
  std::promise<void>* closed_pointer = &closed;
  Task task = [this, closed_pointer] {
    CloseListenerOnLoop();
    closed_pointer->set_value();
  };
  if (PostReliably(*loops_[0], task)) {
    closed.get_future().wait();
  }
  // Otherwise the loop has stopped; Shutdown closes the listener after the join.
}

uint64_t TcpServer::Shutdown(uint64_t drain_deadline_ms) {
  if (!started_ || shut_down_) return 0;
  TG_ASSERT_MSG(EventLoop::Current() == nullptr || EventLoop::Current()->stopped(),
                "TcpServer::Shutdown called from an event loop thread");
  shut_down_ = true;
  StopAccepting();
  draining_.store(true, std::memory_order_release);
  // Wake every connection, so the idle ones close now and the busy ones as
  // soon as their last reply is written.
  for (std::unique_ptr<ServerLoop>& state : loops_) {
    ServerLoop* raw = state.get();
    Task wake = [raw] {
      for (const std::unique_ptr<Connection>& owned : raw->connections) {
        if (owned->open_) raw->MarkDirty(*owned);
      }
    };
    PostReliably(*raw, wake);
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(drain_deadline_ms);
  while (connections_open_.load(std::memory_order_acquire) > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (std::unique_ptr<ServerLoop>& state : loops_) {
    ServerLoop* raw = state.get();
    Task close_all = [raw] { raw->CloseAll(); };
    PostReliably(*raw, close_all);
    raw->loop->Stop();
  }
  for (std::unique_ptr<ServerLoop>& state : loops_) {
    if (state->thread.joinable()) state->thread.join();
  }
  // Loops are stopped and joined: whatever is left is ours to close.
  CloseListenerOnLoop();
  uint64_t forced = 0;
  for (std::unique_ptr<ServerLoop>& state : loops_) {
    state->CloseAll();
    forced += state->closed_forced.value();
  }
  return forced;
}

bool TcpServer::PostReliably(ServerLoop& state, Task& task) {
  if (state.loop->TryPost(task)) return true;
  // A loop thread never waits for another loop: two full loops posting to
  // each other would deadlock.
  if (EventLoop::Current() != nullptr) return false;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kReplyPostWaitMs);
  while (!state.loop->stopped() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
    if (state.loop->TryPost(task)) return true;
  }
  return false;
}

void TcpServer::DeliverOnLoop(ServerLoop& state, ConnectionId id, uint32_t sequence,
                              std::string_view bytes, ReplyKind kind) {
  Connection* connection = state.Find(id);
  if (connection == nullptr || connection->close_now_) {
    state.replies_dropped.Add();
    return;
  }
  state.replies_delivered.Add();
  connection->session_->OnReply(*connection, sequence, bytes, kind);
  state.MarkDirty(*connection);
}

void TcpServer::Deliver(ConnectionId id, uint32_t sequence, std::string_view bytes,
                        ReplyKind kind) {
  TG_ASSERT_MSG(started_, "reply to a server that was never started");
  TG_ASSERT_MSG(id.loop_index() < loops_.size(), "ConnectionId from another server");
  ServerLoop& state = *loops_[id.loop_index()];
  if (state.loop->InLoopThread()) {
    DeliverOnLoop(state, id, sequence, bytes, kind);
    return;
  }
  ServerLoop* raw = &state;
  Task task = [this, raw, id, sequence, kind, copy = std::string(bytes)] {
    DeliverOnLoop(*raw, id, sequence, copy, kind);
  };
  if (!PostReliably(state, task)) {
    replies_dropped_posting_.fetch_add(1, std::memory_order_relaxed);
  }
}

void TcpServer::Reply(ConnectionId id, uint32_t sequence, std::string_view bytes) {
  Deliver(id, sequence, bytes, ReplyKind::kBytes);
}

void TcpServer::Finish(ConnectionId id, uint32_t sequence) {
  Deliver(id, sequence, {}, ReplyKind::kNone);
}

void TcpServer::CloseConnection(ConnectionId id) {
  TG_ASSERT_MSG(id.loop_index() < loops_.size(), "ConnectionId from another server");
  ServerLoop* raw = loops_[id.loop_index()].get();
  auto close = [raw, id] {
    Connection* connection = raw->Find(id);
    if (connection != nullptr) connection->Close();
  };
  if (raw->loop->InLoopThread()) {
    close();
    return;
  }
  Task task = close;
  PostReliably(*raw, task);
}

TcpServerStats TcpServer::Stats() const {
  TcpServerStats stats;
  for (const std::unique_ptr<ServerLoop>& state : loops_) {
    stats.connections_accepted += state->accepted.value();
    stats.connections_closed += state->closed.value();
    stats.connections_closed_idle += state->closed_idle.value();
    stats.connections_closed_forced += state->closed_forced.value();
    stats.connections_reset += state->reset.value();
    stats.input_overflows += state->input_overflows.value();
    stats.output_overflows += state->output_overflows.value();
    stats.accept_errors += state->accept_errors.value();
    stats.replies_delivered += state->replies_delivered.value();
    stats.replies_dropped += state->replies_dropped.value();
    stats.bytes_read += state->bytes_read.value();
    stats.bytes_written += state->bytes_written.value();
  }
  stats.connections_open = connections_open_.load(std::memory_order_relaxed);
  stats.connections_rejected = connections_rejected_.load(std::memory_order_relaxed);
  stats.replies_dropped += replies_dropped_posting_.load(std::memory_order_relaxed);
  return stats;
}

// ---------------------------------------------------------------- ReplyBatch

ReplyBatch::ReplyBatch(TcpServer* server) : server_(server) { TG_ASSERT(server != nullptr); }

void ReplyBatch::Add(ConnectionId id, uint32_t sequence, std::string_view bytes) {
  AddRecord(id, sequence, bytes, ReplyKind::kBytes);
}

void ReplyBatch::AddFinish(ConnectionId id, uint32_t sequence) {
  AddRecord(id, sequence, {}, ReplyKind::kNone);
}

void ReplyBatch::AddRecord(ConnectionId id, uint32_t sequence, std::string_view bytes,
                           ReplyKind kind) {
  if (per_loop_.empty()) {
    // Sized on first use: the batch may be made before the server starts.
    TG_ASSERT_MSG(server_->started_, "reply to a server that was never started");
    per_loop_.resize(server_->loops_.size());
    per_loop_count_.assign(server_->loops_.size(), 0);
  }
  TG_ASSERT_MSG(id.loop_index() < per_loop_.size(), "ConnectionId from another server");
  TG_ASSERT(bytes.size() <= UINT32_MAX);
  ReplyRecord record{};
  record.connection_id = id.value();
  record.sequence = sequence;
  record.length = static_cast<uint32_t>(bytes.size());
  record.kind = static_cast<uint8_t>(kind);
  std::vector<char>& records = per_loop_[id.loop_index()];
  const size_t offset = records.size();
  records.resize(offset + sizeof(record) + bytes.size());
  std::memcpy(records.data() + offset, &record, sizeof(record));
  if (!bytes.empty())
    std::memcpy(records.data() + offset + sizeof(record), bytes.data(), bytes.size());
  ++per_loop_count_[id.loop_index()];
  ++pending_;
}

size_t ReplyBatch::Submit() {
  size_t dropped = 0;
  for (size_t i = 0; i < per_loop_.size(); ++i) {
    if (per_loop_[i].empty()) continue;
    ServerLoop* state = server_->loops_[i].get();
    TcpServer* server = server_;
    Task task = [server, state, records = std::move(per_loop_[i])] {
      size_t offset = 0;
      while (offset < records.size()) {
        ReplyRecord record;
        std::memcpy(&record, records.data() + offset, sizeof(record));
        offset += sizeof(record);
        server->DeliverOnLoop(*state, ConnectionId::FromValue(record.connection_id),
                              record.sequence,
                              std::string_view(records.data() + offset, record.length),
                              static_cast<ReplyKind>(record.kind));
        offset += record.length;
      }
    };
    per_loop_[i] = std::vector<char>();
    if (!server_->PostReliably(*state, task)) {
      dropped += per_loop_count_[i];
      server_->replies_dropped_posting_.fetch_add(per_loop_count_[i], std::memory_order_relaxed);
    }
    per_loop_count_[i] = 0;
  }
  pending_ = 0;
  return dropped;
}

}  // namespace tangelo::net
