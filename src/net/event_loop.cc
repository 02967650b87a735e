#include "net/event_loop.h"

#include <errno.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <utility>

namespace tangelo::net {
namespace {

// epoll data of the wake-up eventfd; registrations use slot | generation << 32
// with a non-zero generation, so they never collide with it.
constexpr uint64_t kWakeEventData = 0;

std::string ErrnoMessage(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

thread_local EventLoop* EventLoop::current_ = nullptr;

Result<std::unique_ptr<EventLoop>> EventLoop::Create(const EventLoopOptions& options) {
  const uint32_t queue = options.post_queue_entries;
  if (queue < 2 || queue > kPostQueueEntriesMax || (queue & (queue - 1)) != 0) {
    return base::InvalidArgument("post_queue_entries must be a power of two in [2, " +
                                 std::to_string(kPostQueueEntriesMax) + "]");
  }
  if (options.timers_max == 0 || options.timers_max > kTimersMax) {
    return base::InvalidArgument("timers_max out of range");
  }
  if (options.fd_registrations_max == 0 || options.fd_registrations_max > kFdRegistrationsMax) {
    return base::InvalidArgument("fd_registrations_max out of range");
  }
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return base::IoError(ErrnoMessage("epoll_create1"));
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    Status status = base::IoError(ErrnoMessage("eventfd"));
    close(epoll_fd);
    return status;
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeEventData;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &event) != 0) {
    Status status = base::IoError(ErrnoMessage("epoll_ctl(eventfd)"));
    close(wake_fd);
    close(epoll_fd);
    return status;
  }
  io::Clock* clock = options.clock != nullptr ? options.clock : &io::SystemClock::Instance();
  return std::unique_ptr<EventLoop>(new EventLoop(options, clock, epoll_fd, wake_fd));
}

EventLoop::EventLoop(const EventLoopOptions& options, io::Clock* clock, int epoll_fd, int wake_fd)
    : clock_(clock),
      epoll_fd_(epoll_fd),
      wake_fd_(wake_fd),
      fd_registrations_max_(options.fd_registrations_max),
      posted_(options.post_queue_entries),
      timers_(options.timers_max),
      now_ns_(clock->MonotonicNs()) {
  end_of_iteration_handlers_.reserve(kEndOfIterationHandlersMax);
}

EventLoop::~EventLoop() {
  TG_ASSERT_MSG(current_ != this, "an EventLoop destroyed from inside its own Run()");
  close(wake_fd_);
  close(epoll_fd_);
}

void EventLoop::Run() {
  TG_ASSERT_MSG(!ran_, "an EventLoop runs once");
  TG_ASSERT_MSG(current_ == nullptr, "one EventLoop per thread");
  ran_ = true;
  running_.store(true, std::memory_order_release);
  current_ = this;
  while (!stop_requested_.load(std::memory_order_acquire)) RunIteration();
  // Refuse new posts, then run what was posted before: a producer whose Post
  // returned true gets its task run, unless it raced with this very line.
  stopped_.store(true, std::memory_order_release);
  DrainPostedTasks();
  current_ = nullptr;
  running_.store(false, std::memory_order_release);
}

void EventLoop::Stop() {
  stop_requested_.store(true, std::memory_order_release);
  const uint64_t one = 1;
  // A failed write means the counter is already non-zero: the loop wakes.
  [[maybe_unused]] ssize_t written = write(wake_fd_, &one, sizeof(one));
}

bool EventLoop::Post(Task task) { return TryPost(task); }

bool EventLoop::TryPost(Task& task) {
  if (stopped_.load(std::memory_order_acquire) || !posted_.TryPush(task)) {
    posts_rejected_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (current_ == this) {
    // The loop drains its queue before it next waits, so no wake-up needed;
    // but a task posted from the end-of-iteration phase must not wait for an
    // unrelated event.
    immediate_iteration_ = true;
    return true;
  }
  // One eventfd write per wake-up: later producers see the flag set and skip
  // the syscall. The loop clears the flag before it drains the queue.
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t written = write(wake_fd_, &one, sizeof(one));
  }
  return true;
}

Result<FdToken> EventLoop::AddFd(int fd, uint32_t epoll_events, FdHandler* handler) {
  TG_ASSERT(handler != nullptr);
  TG_DASSERT(OwnedByCaller());
  uint32_t slot;
  if (!free_registrations_.empty()) {
    slot = free_registrations_.back();
    free_registrations_.pop_back();
  } else if (registrations_.size() < fd_registrations_max_) {
    slot = static_cast<uint32_t>(registrations_.size());
    registrations_.emplace_back();
  } else {
    return base::ResourceExhausted("event loop: fd_registrations_max fds registered");
  }
  Registration& registration = registrations_[slot];
  epoll_event event{};
  event.events = epoll_events;
  event.data.u64 = (uint64_t{registration.generation} << 32) | slot;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    free_registrations_.push_back(slot);
    return base::IoError(ErrnoMessage("epoll_ctl(ADD)"));
  }
  registration.handler = handler;
  registration.in_use = true;
  return FdToken{slot, registration.generation};
}

Status EventLoop::ModifyFd(FdToken token, int fd, uint32_t epoll_events) {
  TG_DASSERT(OwnedByCaller());
  TG_ASSERT(token.valid() && token.slot < registrations_.size() &&
            registrations_[token.slot].generation == token.generation);
  epoll_event event{};
  event.events = epoll_events;
  event.data.u64 = (uint64_t{token.generation} << 32) | token.slot;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) != 0) {
    return base::IoError(ErrnoMessage("epoll_ctl(MOD)"));
  }
  return Status::Ok();
}

void EventLoop::RemoveFd(FdToken token, int fd) {
  TG_DASSERT(OwnedByCaller());
  if (!token.valid() || token.slot >= registrations_.size()) return;
  Registration& registration = registrations_[token.slot];
  if (registration.generation != token.generation || !registration.in_use) return;
  // Ignored error: the fd may already be gone from epoll if it was closed by
  // its owner; the registration is released either way.
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  registration.handler = nullptr;
  registration.in_use = false;
  // Generation zero means "not registered", so skip it on wrap-around.
  registration.generation = registration.generation == UINT32_MAX ? 1 : registration.generation + 1;
  free_registrations_.push_back(token.slot);
}

TimerId EventLoop::RunAt(uint64_t deadline_ns, Task task) {
  TG_DASSERT(OwnedByCaller());
  const TimerId id = timers_.Add(deadline_ns, std::move(task));
  if (!id.valid()) timers_rejected_.Add();
  return id;
}

void EventLoop::AddEndOfIterationHandler(EndOfIterationHandler* handler) {
  TG_DASSERT(OwnedByCaller());
  TG_ASSERT_MSG(end_of_iteration_handlers_.size() < kEndOfIterationHandlersMax,
                "too many end-of-iteration handlers on one loop");
  end_of_iteration_handlers_.push_back(handler);
}

void EventLoop::RemoveEndOfIterationHandler(EndOfIterationHandler* handler) {
  TG_DASSERT(OwnedByCaller());
  std::erase(end_of_iteration_handlers_, handler);
}

EventLoopStats EventLoop::stats() const {
  EventLoopStats stats;
  stats.iterations = iterations_.value();
  stats.tasks_run = tasks_run_.value();
  stats.posts_rejected = posts_rejected_.load(std::memory_order_relaxed);
  stats.timers_fired = timers_fired_.value();
  stats.timers_rejected = timers_rejected_.value();
  return stats;
}

int EventLoop::EpollTimeoutMs() const {
  if (immediate_iteration_) return 0;
  const uint64_t deadline_ns = timers_.NextDeadlineNs();
  if (deadline_ns == UINT64_MAX) return -1;
  if (deadline_ns <= now_ns_) return 0;
  // Round up, so a timer is never woken for early and spun on.
  const uint64_t wait_ms = (deadline_ns - now_ns_ + 999'999) / 1'000'000;
  return wait_ms > 60'000 ? 60'000 : static_cast<int>(wait_ms);
}

void EventLoop::RunIteration() {
  epoll_event events[kEpollEventsPerWaitMax];
  const int timeout_ms = EpollTimeoutMs();
  immediate_iteration_ = false;
  const int count = epoll_wait(epoll_fd_, events, kEpollEventsPerWaitMax, timeout_ms);
  now_ns_ = clock_->MonotonicNs();
  iterations_.Add();
  if (count < 0 && errno != EINTR) TG_FATAL("epoll_wait failed");
  for (int i = 0; i < count; ++i) {
    const uint64_t data = events[i].data.u64;
    if (data == kWakeEventData) {
      uint64_t value;
      [[maybe_unused]] ssize_t read_bytes = read(wake_fd_, &value, sizeof(value));
      // Cleared before the drain below: a producer that finds it false after
      // this point writes the eventfd again, so no wake-up is ever lost.
      wake_pending_.exchange(false, std::memory_order_acq_rel);
      continue;
    }
    const uint32_t slot = static_cast<uint32_t>(data);
    const uint32_t generation = static_cast<uint32_t>(data >> 32);
    if (slot >= registrations_.size()) continue;
    Registration& registration = registrations_[slot];
    // A handler earlier in this batch may have removed this registration.
    if (!registration.in_use || registration.generation != generation) continue;
    registration.handler->OnFdEvents(events[i].events);
  }
  RunDueTimers();
  DrainPostedTasks();
  // By index: a handler may unregister itself (or another) while called.
  for (size_t i = 0; i < end_of_iteration_handlers_.size(); ++i) {
    end_of_iteration_handlers_[i]->OnEndOfIteration();
  }
}

void EventLoop::RunDueTimers() {
  Task task;
  // Only timers due at the start of this iteration: a timer re-armed at
  // zero delay runs next iteration, so I/O is never starved.
  const uint64_t now_ns = now_ns_;
  while (timers_.PopExpired(now_ns, &task)) {
    timers_fired_.Add();
    task();
    task.Reset();
  }
}

void EventLoop::DrainPostedTasks() {
  // At most one queue's worth per iteration, so producers cannot keep the
  // loop from its sockets; if the bound stops us, come straight back.
  Task task;
  size_t run = 0;
  while (posted_.TryPop(&task)) {
    tasks_run_.Add();
    task();
    task.Reset();
    if (++run == posted_.capacity()) {
      immediate_iteration_ = true;
      break;
    }
  }
}

Result<std::unique_ptr<EventLoopThread>> EventLoopThread::Start(const EventLoopOptions& options,
                                                                const std::string& thread_name) {
  Result<std::unique_ptr<EventLoop>> loop = EventLoop::Create(options);
  if (!loop.ok()) return loop.status();
  std::unique_ptr<EventLoopThread> owner(new EventLoopThread(std::move(loop).value()));
  EventLoop* raw = owner->loop_.get();
  const std::string name = thread_name.substr(0, 15);
  owner->thread_ = std::thread([raw, name] {
    pthread_setname_np(pthread_self(), name.c_str());
    raw->Run();
  });
  return owner;
}

EventLoopThread::~EventLoopThread() { Stop(); }

void EventLoopThread::Stop() {
  if (thread_.joinable()) {
    loop_->Stop();
    thread_.join();
  }
}

}  // namespace tangelo::net
