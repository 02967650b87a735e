#include "net/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "net/mpsc_queue.h"
#include "net/task.h"
#include "net/timer_heap.h"

namespace tangelo::net {
namespace {

TEST(TaskTest, RunsAndDestroysCapturesOnce) {
  auto counter = std::make_shared<int>(0);
  {
    Task task = [counter] { ++*counter; };
    EXPECT_EQ(counter.use_count(), 2);
    Task moved = std::move(task);
    EXPECT_FALSE(static_cast<bool>(task));
    ASSERT_TRUE(static_cast<bool>(moved));
    moved();
    moved();
    EXPECT_EQ(*counter, 2);
  }
  EXPECT_EQ(counter.use_count(), 1);
}

TEST(TaskTest, MoveAssignmentReleasesPreviousCaptures) {
  auto first = std::make_shared<int>(1);
  auto second = std::make_shared<int>(2);
  Task task = [first] {};
  task = Task([second] {});
  EXPECT_EQ(first.use_count(), 1);
  EXPECT_EQ(second.use_count(), 2);
  task.Reset();
  EXPECT_EQ(second.use_count(), 1);
}

TEST(MpscQueueTest, ReportsFullAndKeepsValue) {
  BoundedMpscQueue<int> queue(4);
  for (int i = 0; i < 4; ++i) {
    int value = i;
    ASSERT_TRUE(queue.TryPush(value));
  }
  int extra = 99;
  EXPECT_FALSE(queue.TryPush(extra));
  EXPECT_EQ(extra, 99);
  int out = -1;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(queue.TryPop(&out));
    EXPECT_EQ(out, i);
  }
  EXPECT_FALSE(queue.TryPop(&out));
}

TEST(MpscQueueTest, ManyProducersLoseNothing) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 10000;
  BoundedMpscQueue<uint64_t> queue(1024);
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&queue, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        uint64_t value = (uint64_t(p) << 32) | uint64_t(i);
        while (!queue.TryPush(value)) std::this_thread::yield();
      }
    });
  }
  std::vector<int> next(static_cast<size_t>(kProducers), 0);
  int received = 0;
  while (received < kProducers * kPerProducer) {
    uint64_t value;
    if (!queue.TryPop(&value)) continue;
    const auto producer = static_cast<size_t>(value >> 32);
    const int index = static_cast<int>(value & 0xffffffff);
    // Per-producer FIFO order.
    EXPECT_EQ(index, next[producer]);
    next[producer] = index + 1;
    ++received;
  }
  for (std::thread& thread : producers) thread.join();
}

TEST(TimerHeapTest, PopsInDeadlineThenInsertionOrder) {
  TimerHeap heap(16);
  std::vector<int> fired;
  heap.Add(30, [&fired] { fired.push_back(3); });
  heap.Add(10, [&fired] { fired.push_back(1); });
  heap.Add(20, [&fired] { fired.push_back(2); });
  heap.Add(20, [&fired] { fired.push_back(22); });
  EXPECT_EQ(heap.NextDeadlineNs(), 10u);
  Task task;
  EXPECT_FALSE(heap.PopExpired(5, &task));
  while (heap.PopExpired(25, &task)) task();
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 22}));
  EXPECT_EQ(heap.size(), 1u);
}

TEST(TimerHeapTest, CancelRemovesAndStaleIdsAreHarmless) {
  TimerHeap heap(4);
  bool fired = false;
  const TimerId id = heap.Add(10, [&fired] { fired = true; });
  const TimerId other = heap.Add(5, [] {});
  EXPECT_TRUE(heap.Cancel(id));
  EXPECT_FALSE(heap.Cancel(id));  // Already cancelled.
  Task task;
  ASSERT_TRUE(heap.PopExpired(100, &task));
  task();
  EXPECT_FALSE(heap.PopExpired(100, &task));
  EXPECT_FALSE(fired);
  EXPECT_FALSE(heap.Cancel(other));  // Already fired.
  // The slot is reused by a new timer; the stale id must not cancel it.
  const TimerId reused = heap.Add(50, [] {});
  EXPECT_TRUE(reused.valid());
  EXPECT_FALSE(heap.Cancel(id));
  EXPECT_EQ(heap.size(), 1u);
  EXPECT_FALSE(heap.Cancel(TimerId{}));
}

TEST(TimerHeapTest, RefusesOverCapacity) {
  TimerHeap heap(2);
  EXPECT_TRUE(heap.Add(1, [] {}).valid());
  EXPECT_TRUE(heap.Add(2, [] {}).valid());
  EXPECT_FALSE(heap.Add(3, [] {}).valid());
}

TEST(TimerHeapTest, RandomCancelsKeepHeapOrdered) {
  TimerHeap heap(1024);
  std::vector<TimerId> ids;
  std::vector<uint64_t> popped;
  uint64_t seed = 12345;
  for (int i = 0; i < 1000; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    const uint64_t deadline = (seed >> 33) % 100000;
    ids.push_back(heap.Add(deadline, [&popped, deadline] { popped.push_back(deadline); }));
  }
  size_t cancelled = 0;
  for (size_t i = 0; i < ids.size(); i += 3, ++cancelled) EXPECT_TRUE(heap.Cancel(ids[i]));
  Task task;
  while (heap.PopExpired(UINT64_MAX - 1, &task)) task();
  EXPECT_EQ(popped.size(), ids.size() - cancelled);
  EXPECT_TRUE(std::is_sorted(popped.begin(), popped.end()));
}

class EventLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto thread = EventLoopThread::Start(EventLoopOptions{}, "test-loop");
    ASSERT_TRUE(thread.ok()) << thread.status().ToString();
    thread_ = std::move(thread).value();
  }
  EventLoop& loop() { return thread_->loop(); }

  // Runs `function` on the loop thread and waits for it.
  template <typename F>
  void RunOnLoop(F function) {
    std::promise<void> done;
    auto* done_pointer = &done;
    auto* function_pointer = &function;
    ASSERT_TRUE(loop().Post([done_pointer, function_pointer] {
      (*function_pointer)();
      done_pointer->set_value();
    }));
    done.get_future().wait();
  }

  std::unique_ptr<EventLoopThread> thread_;
};

TEST_F(EventLoopTest, PostedTasksRunOnTheLoopThreadInOrder) {
  std::vector<int> order;
  std::atomic<bool> wrong_thread{false};
  EventLoop* loop_pointer = &loop();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(loop().Post([&order, &wrong_thread, loop_pointer, i] {
      if (!loop_pointer->InLoopThread()) wrong_thread = true;
      order.push_back(i);
    }));
  }
  RunOnLoop([] {});
  ASSERT_EQ(order.size(), 100u);
  for (size_t i = 0; i < 100; ++i) EXPECT_EQ(order[i], static_cast<int>(i));
  EXPECT_FALSE(wrong_thread);
  EXPECT_FALSE(loop().InLoopThread());
}

TEST_F(EventLoopTest, PostsFromManyThreadsAllRun) {
  std::atomic<int> runs{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([this, &runs] {
      for (int i = 0; i < 5000; ++i) {
        while (!loop().Post([&runs] { runs.fetch_add(1); })) std::this_thread::yield();
      }
    });
  }
  for (std::thread& thread : producers) thread.join();
  RunOnLoop([] {});
  EXPECT_EQ(runs.load(), 20000);
}

TEST_F(EventLoopTest, TimersFireAfterTheirDelayAndCanBeCancelled) {
  std::promise<uint64_t> fired_at;
  auto* fired_pointer = &fired_at;
  std::atomic<bool> cancelled_ran{false};
  uint64_t armed_at = 0;
  RunOnLoop([&] {
    armed_at = loop().clock().MonotonicNs();
    const TimerId cancelled =
        loop().RunAfter(10'000'000, [&cancelled_ran] { cancelled_ran = true; });
    loop().RunAfter(30'000'000, [this, fired_pointer] {
      fired_pointer->set_value(loop().clock().MonotonicNs());
    });
    EXPECT_TRUE(loop().CancelTimer(cancelled));
  });
  const uint64_t at = fired_at.get_future().get();
  EXPECT_GE(at - armed_at, 30'000'000u);
  EXPECT_FALSE(cancelled_ran);
}

struct CountingHandler final : FdHandler {
  int fd = -1;
  std::atomic<int> events{0};
  void OnFdEvents(uint32_t) override {
    uint64_t value;
    [[maybe_unused]] ssize_t n = read(fd, &value, sizeof(value));
    events.fetch_add(1);
  }
};

TEST_F(EventLoopTest, DispatchesFdEventsUntilRemoved) {
  CountingHandler handler;
  handler.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT_GE(handler.fd, 0);
  FdToken token;
  RunOnLoop([&] {
    auto added = loop().AddFd(handler.fd, EPOLLIN, &handler);
    ASSERT_TRUE(added.ok());
    token = added.value();
  });
  const uint64_t one = 1;
  ASSERT_EQ(write(handler.fd, &one, sizeof(one)), 8);
  for (int i = 0; i < 200 && handler.events.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(handler.events.load(), 1);
  RunOnLoop([&] { loop().RemoveFd(token, handler.fd); });
  ASSERT_EQ(write(handler.fd, &one, sizeof(one)), 8);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  RunOnLoop([] {});
  EXPECT_EQ(handler.events.load(), 1);
  close(handler.fd);
}

TEST(EventLoopStopTest, TasksPostedBeforeStopRunAndLaterPostsAreRefused) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  EventLoop* raw = loop->get();
  std::atomic<int> runs{0};
  // Posted before Run(): they run once the loop starts.
  ASSERT_TRUE(raw->Post([&runs] { runs.fetch_add(1); }));
  raw->Stop();
  raw->Run();  // Returns at once: stop was requested, but drains first.
  EXPECT_EQ(runs.load(), 1);
  EXPECT_FALSE(raw->Post([&runs] { runs.fetch_add(1); }));
  EXPECT_EQ(raw->stats().posts_rejected, 1u);
}

TEST(EventLoopStopTest, FullQueueRefusesPosts) {
  EventLoopOptions options;
  options.post_queue_entries = 2;
  auto loop = EventLoop::Create(options);
  ASSERT_TRUE(loop.ok());
  EXPECT_TRUE((*loop)->Post([] {}));
  EXPECT_TRUE((*loop)->Post([] {}));
  EXPECT_FALSE((*loop)->Post([] {}));
}

TEST(EventLoopStopTest, RejectsBadOptions) {
  EventLoopOptions options;
  options.post_queue_entries = 1000;  // Not a power of two.
  EXPECT_EQ(EventLoop::Create(options).status().code(), base::StatusCode::kInvalidArgument);
  options.post_queue_entries = 1024;
  options.timers_max = 0;
  EXPECT_EQ(EventLoop::Create(options).status().code(), base::StatusCode::kInvalidArgument);
}

TEST(EventLoopStopTest, ManualClockTimersFireWhenTimeAdvances) {
  io::ManualClock clock;
  EventLoopOptions options;
  options.clock = &clock;
  auto thread = EventLoopThread::Start(options, "manual");
  ASSERT_TRUE(thread.ok());
  EventLoop& loop = (*thread)->loop();
  std::atomic<bool> fired{false};
  std::promise<void> armed;
  auto* armed_pointer = &armed;
  ASSERT_TRUE(loop.Post([&loop, &fired, armed_pointer] {
    loop.RunAfter(5'000'000'000ULL, [&fired] { fired = true; });
    armed_pointer->set_value();
  }));
  armed.get_future().wait();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(fired);
  clock.Advance(5'000'000'000ULL);
  ASSERT_TRUE(loop.Post([] {}));  // Wake the loop so it re-reads the clock.
  for (int i = 0; i < 200 && !fired; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(fired);
}

}  // namespace
}  // namespace tangelo::net
