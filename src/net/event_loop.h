// EventLoop: one thread, one epoll instance, the fds registered on it, its
// timers, and a bounded queue of tasks posted from other threads.
//
// Every socket in Tangelo belongs to exactly one loop and is only touched by
// that loop's thread, so connection state needs no locks. Other threads (the
// engine handing back a finished reply, another loop handing over an
// accepted socket) talk to a loop only through Post(), which pushes onto a
// lock-free bounded queue and wakes the loop through an eventfd, at most one
// eventfd write per wake-up however many tasks are posted.
//
// One iteration of the loop: wait for events (epoll_wait, bounded by the
// nearest timer), dispatch fd events, run due timers, run posted tasks, then
// call the end-of-iteration handlers (where servers flush their batched
// writes, so each connection gets at most one write per iteration).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "io/clock.h"
#include "net/counter.h"
#include "net/limits.h"
#include "net/mpsc_queue.h"
#include "net/task.h"
#include "net/timer_heap.h"

namespace tangelo::net {

using base::Result;
using base::Status;

// Receives the epoll events (EPOLLIN, EPOLLOUT, ...) of one registered fd.
// Called on the loop thread. The handler must outlive its registration.
class FdHandler {
 public:
  virtual void OnFdEvents(uint32_t epoll_events) = 0;

 protected:
  ~FdHandler() = default;
};

// Called once at the end of every loop iteration, on the loop thread.
class EndOfIterationHandler {
 public:
  virtual void OnEndOfIteration() = 0;

 protected:
  ~EndOfIterationHandler() = default;
};

// Names one fd registration. Events still queued for a removed registration
// are dropped, because the generation no longer matches.
struct FdToken {
  uint32_t slot = 0;
  uint32_t generation = 0;  // Zero: not registered.
  bool valid() const { return generation != 0; }
};

struct EventLoopOptions {
  uint32_t post_queue_entries = kPostQueueEntriesDefault;  // Power of two.
  uint32_t timers_max = kTimersDefault;
  uint32_t fd_registrations_max = kFdRegistrationsDefault;
  // Time source for timers. Null means io::SystemClock. With a ManualClock,
  // the loop does not wake up by itself when the test advances time: Post a
  // no-op task after Advance() so the loop re-checks its timers.
  io::Clock* clock = nullptr;
};

// Counters, readable from any thread (relaxed: a snapshot, not a barrier).
struct EventLoopStats {
  uint64_t iterations = 0;
  uint64_t tasks_run = 0;
  uint64_t posts_rejected = 0;  // Queue full or loop stopped.
  uint64_t timers_fired = 0;
  uint64_t timers_rejected = 0;  // timers_max already armed.
};

// Thread safety: Post(), Stop(), InLoopThread() and stats() may be called
// from any thread. Everything else must be called on the loop thread, or
// while the loop is not running (before Run(), or after it returned: the
// owner then tears down what is left).
class EventLoop {
 public:
  // Creates the epoll instance and the wake-up eventfd. Errors: kIoError
  // when the kernel refuses them (fd limit), kInvalidArgument for options
  // out of range.
  static Result<std::unique_ptr<EventLoop>> Create(const EventLoopOptions& options = {});

  // Precondition: Run() is not executing. Posted tasks that never ran are
  // destroyed without running.
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs iterations on the calling thread until Stop(). Before returning it
  // runs the tasks already posted, so a reply posted before Stop() is not
  // lost. Precondition: not running and never stopped before (a loop runs
  // once).
  void Run();

  // Asks Run() to return after the current iteration. Idempotent; any thread.
  void Stop();

  // Queues `task` to run on the loop thread. Returns false, destroying the
  // task on the calling thread, when the queue is full (back-pressure: the
  // caller decides) or the loop has been stopped. Any thread; lock-free.
  bool Post(Task task);
  // As Post(), but on failure leaves `task` with the caller, so it can retry.
  bool TryPost(Task& task);
  // True once Run() has returned or is returning: posts are refused.
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }
  // True from the start of Run() until it has returned.
  bool running() const { return running_.load(std::memory_order_acquire); }

  // True on this loop's thread while Run() executes.
  bool InLoopThread() const { return current_ == this; }
  // The loop running on the calling thread, or null.
  static EventLoop* Current() { return current_; }

  // Registers `fd` for `epoll_events` (EPOLLIN | EPOLLOUT | EPOLLET ...) with
  // `handler`. Errors: kResourceExhausted when fd_registrations_max fds are
  // registered, kIoError when epoll_ctl fails.
  Result<FdToken> AddFd(int fd, uint32_t epoll_events, FdHandler* handler);
  Status ModifyFd(FdToken token, int fd, uint32_t epoll_events);
  // Unregisters (EPOLL_CTL_DEL) before the caller closes the fd. Events of
  // this registration already taken from epoll are not delivered.
  void RemoveFd(FdToken token, int fd);

  // Arms a timer on the loop's clock (monotonic). Returns an invalid id, and
  // counts timers_rejected, when timers_max timers are armed.
  TimerId RunAt(uint64_t deadline_ns, Task task);
  TimerId RunAfter(uint64_t delay_ns, Task task) {
    return RunAt(NowNs() + delay_ns, std::move(task));
  }
  // False when the timer already fired or was cancelled.
  bool CancelTimer(TimerId id) { return timers_.Cancel(id); }

  // Registers a handler called at the end of every iteration (at most
  // kEndOfIterationHandlersMax). The handler must outlive the loop's run.
  void AddEndOfIterationHandler(EndOfIterationHandler* handler);
  void RemoveEndOfIterationHandler(EndOfIterationHandler* handler);
  // Makes the next epoll_wait return at once, for a handler that stopped
  // early to keep the loop fair and has work left.
  void RequestImmediateIteration() { immediate_iteration_ = true; }

  // Monotonic time read at the start of the current iteration (one clock
  // read per iteration, not per event). Loop thread.
  uint64_t NowNs() const { return now_ns_; }
  io::Clock& clock() { return *clock_; }

  EventLoopStats stats() const;

  static constexpr uint32_t kEndOfIterationHandlersMax = 8;

 private:
  struct Registration {
    FdHandler* handler = nullptr;
    uint32_t generation = 1;
    bool in_use = false;
  };

  EventLoop(const EventLoopOptions& options, io::Clock* clock, int epoll_fd, int wake_fd);
  // The calling thread may use loop-thread-only methods: it is the loop
  // thread, or the loop is not running (not started yet, or stopped).
  bool OwnedByCaller() const { return current_ == this || !ran_ || stopped(); }
  void RunIteration();
  void DrainPostedTasks();
  void RunDueTimers();
  int EpollTimeoutMs() const;

  static thread_local EventLoop* current_;

  io::Clock* const clock_;
  const int epoll_fd_;
  const int wake_fd_;
  const uint32_t fd_registrations_max_;
  BoundedMpscQueue<Task> posted_;
  TimerHeap timers_;
  std::vector<Registration> registrations_;
  std::vector<uint32_t> free_registrations_;
  std::vector<EndOfIterationHandler*> end_of_iteration_handlers_;
  uint64_t now_ns_ = 0;
  bool immediate_iteration_ = false;
  bool ran_ = false;

  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> stopped_{false};  // Posts are refused from here on.
  std::atomic<bool> running_{false};
  std::atomic<bool> wake_pending_{false};

  Counter iterations_;
  Counter tasks_run_;
  std::atomic<uint64_t> posts_rejected_{0};  // Many writers: the posting threads.
  Counter timers_fired_;
  Counter timers_rejected_;
};

// An EventLoop running on its own thread. Not thread safe itself: start and
// stop it from one owning thread.
class EventLoopThread {
 public:
  // Creates the loop and starts its thread, named `thread_name` (at most 15
  // characters are kept, the Linux limit).
  static Result<std::unique_ptr<EventLoopThread>> Start(const EventLoopOptions& options,
                                                        const std::string& thread_name);
  // Stops the loop and joins the thread.
  ~EventLoopThread();
  EventLoopThread(const EventLoopThread&) = delete;
  EventLoopThread& operator=(const EventLoopThread&) = delete;

  EventLoop& loop() { return *loop_; }
  // Stops the loop and joins its thread. Idempotent.
  void Stop();

 private:
  explicit EventLoopThread(std::unique_ptr<EventLoop> loop) : loop_(std::move(loop)) {}

  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
};

}  // namespace tangelo::net
