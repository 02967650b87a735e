#include "engine/intake_queue.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace tangelo::engine {
namespace {

TEST(IntakeQueueTest, FullQueueRefusesInsteadOfGrowing) {
  IntakeQueue<uint64_t> queue(4);
  for (uint64_t value = 0; value < 4; ++value) {
    EXPECT_TRUE(queue.TryPush([&](uint64_t& cell) { cell = value; }));
  }
  EXPECT_FALSE(queue.TryPush([](uint64_t& cell) { cell = 99; }));
  std::vector<uint64_t> taken;
  EXPECT_EQ(queue.PopMany(3, [&](const uint64_t& value) { taken.push_back(value); }), 3u);
  EXPECT_EQ(taken, (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_TRUE(queue.TryPush([](uint64_t& cell) { cell = 4; }));
  EXPECT_EQ(queue.PopMany(10, [&](const uint64_t& value) { taken.push_back(value); }), 2u);
  EXPECT_EQ(taken, (std::vector<uint64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(queue.PopMany(10, [&](const uint64_t&) { FAIL(); }), 0u);
}

// Several producers push tagged values while one consumer drains: every
// value arrives exactly once and each producer's values arrive in order.
TEST(IntakeQueueTest, ManyProducersOneConsumerLoseNothing) {
  constexpr uint64_t kProducers = 3;
  constexpr uint64_t kPerProducer = 200000;
  IntakeQueue<uint64_t> queue(1024);
  std::vector<std::thread> producers;
  for (uint64_t producer = 0; producer < kProducers; ++producer) {
    producers.emplace_back([&, producer] {
      for (uint64_t sequence = 0; sequence < kPerProducer; ++sequence) {
        const uint64_t value = (producer << 32) | sequence;
        while (!queue.TryPush([&](uint64_t& cell) { cell = value; })) std::this_thread::yield();
      }
    });
  }
  std::vector<uint64_t> next(kProducers, 0);
  uint64_t received = 0;
  while (received < kProducers * kPerProducer) {
    received += queue.PopMany(256, [&](const uint64_t& value) {
      const uint64_t producer = value >> 32;
      ASSERT_LT(producer, kProducers);
      ASSERT_EQ(value & 0xffffffffULL, next[producer]);
      next[producer]++;
    });
  }
  for (auto& thread : producers) thread.join();
  for (uint64_t count : next) EXPECT_EQ(count, kPerProducer);
}

}  // namespace
}  // namespace tangelo::engine
