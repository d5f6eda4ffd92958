// The worker-local Chase-Lev deque (src/deque.hpp) on its own: order for the
// owner and for thieves, growth, and exactly-once hand-out when the owner's
// pops race several thieves' steals, most of all over the last element. CI
// runs it in the normal build and under ThreadSanitizer and ASan.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "deque.hpp"
#include "support.hpp"

using tasklets::detail::TaskBase;
using tasklets::detail::WorkDeque;
using tasklets::test_support::kScale;

namespace {

// Distinct task objects to push; only their addresses matter here.
std::vector<std::unique_ptr<TaskBase>> make_tasks(std::size_t n) {
  std::vector<std::unique_ptr<TaskBase>> v;
  v.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    v.push_back(std::make_unique<TaskBase>());
    v.back()->id = i;
  }
  return v;
}

}  // namespace

TEST(Deque, OwnerPopsNewestFirstAndThievesStealOldestFirst) {
  WorkDeque d;
  auto tasks = make_tasks(4);
  EXPECT_TRUE(d.push(tasks[0].get()));  // was empty
  EXPECT_FALSE(d.push(tasks[1].get()));
  d.push(tasks[2].get());
  d.push(tasks[3].get());
  EXPECT_EQ(d.size(), 4);
  EXPECT_EQ(d.steal(), tasks[0].get());
  EXPECT_EQ(d.pop(), tasks[3].get());
  EXPECT_EQ(d.steal(), tasks[1].get());
  EXPECT_EQ(d.pop(), tasks[2].get());
  EXPECT_EQ(d.pop(), nullptr);
  EXPECT_EQ(d.steal(), nullptr);
  EXPECT_EQ(d.size(), 0);
  EXPECT_TRUE(d.push(tasks[0].get()));  // empty again after the last pop
  EXPECT_EQ(d.pop(), tasks[0].get());
}

TEST(Deque, GrowsPastItsInitialCapacityKeepingEveryElementInOrder) {
  WorkDeque d;
  const std::size_t n = WorkDeque::kInitialCapacity * 8 + 3;
  auto tasks = make_tasks(n);
  // Steal a few first so that the live window wraps around the buffer.
  for (std::size_t i = 0; i < 5; ++i) d.push(tasks[i].get());
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(d.steal(), tasks[i].get());
  for (std::size_t i = 0; i < n; ++i) d.push(tasks[i].get());
  EXPECT_EQ(d.size(), static_cast<std::int64_t>(n));
  for (std::size_t i = 0; i < n / 2; ++i) EXPECT_EQ(d.steal(), tasks[i].get());
  for (std::size_t i = n; i-- > n / 2;) EXPECT_EQ(d.pop(), tasks[i].get());
  EXPECT_EQ(d.pop(), nullptr);
}

// Bursts of one and two make the owner and the thieves meet over the last element again and
// again; long bursts make the deque grow while thieves hold the old buffer.
namespace {

// The owner pushes bursts and pops part of each while `thieves` threads
// steal; every element must come out exactly once, whoever takes it.
void race(int thieves_count, std::size_t total) {
  const std::size_t kTotal = total;
  auto tasks = make_tasks(kTotal);
  std::vector<std::atomic<std::uint8_t>> taken(kTotal);
  WorkDeque d;
  std::atomic<bool> done{false};
  std::atomic<std::size_t> stolen{0};
  auto take = [&](TaskBase* t) { taken[t->id].fetch_add(1, std::memory_order_relaxed); };
  std::vector<std::thread> thieves;
  for (int k = 0; k < thieves_count; ++k) {
    thieves.emplace_back([&] {
      std::size_t mine = 0;
      for (;;) {
        if (TaskBase* t = d.steal()) {
          take(t);
          ++mine;
        } else if (done.load(std::memory_order_acquire)) {
          break;
        }
      }
      stolen.fetch_add(mine);
    });
  }
  std::size_t popped = 0, next = 0;
  for (unsigned round = 0; next < kTotal; ++round) {
    const std::size_t burst = round % 1024 == 0 ? 3000 : 1 + round % 2;
    for (std::size_t i = 0; i < burst && next < kTotal; ++i) d.push(tasks[next++].get());
    // Pop about half of what is there; leave the rest to the thieves.
    for (std::size_t i = 0; i < (burst + 1) / 2; ++i) {
      if (TaskBase* t = d.pop()) {
        take(t);
        ++popped;
      }
    }
  }
  while (TaskBase* t = d.pop()) {
    take(t);
    ++popped;
  }
  done.store(true, std::memory_order_release);
  for (auto& t : thieves) t.join();
  std::size_t wrong = 0;
  for (auto& c : taken) wrong += c.load() != 1;
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(popped + stolen.load(), kTotal);
  EXPECT_GT(stolen.load(), 0u);
  EXPECT_EQ(d.size(), 0);
}

}  // namespace

// One thief: on two cores, owner and thief then really run at once, which
// is what it takes for a missing fence to show (the pop's store of bottom
// passing its load of top in the store buffer).
TEST(Deque, EveryElementIsTakenExactlyOnceAgainstOneThief) { race(1, 4'000'000 / kScale); }

TEST(Deque, EveryElementIsTakenExactlyOnceAgainstSeveralThieves) { race(3, 1'000'000 / kScale); }
