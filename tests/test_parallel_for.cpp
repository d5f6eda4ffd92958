// tasklets::parallel_for (include/tasklets/parallel_for.hpp): every index
// exactly once whatever the shape of the work, adaptive splitting, errors,
// nesting inside tasks, and a pool that is shut down.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support.hpp"
#include "tasklets/parallel_for.hpp"

using namespace tasklets;

namespace {
PoolConfig fixed(int n) { return test_support::fixed_pool(n); }
}  // namespace

TEST(ParallelFor, RunsEveryIndexOnceAndReturnsWhenAllRan) {
  Pool pool(fixed(2));
  for (std::size_t n : {0u, 1u, 2u, 3u, 1000u, 1'000'000u / test_support::kScale}) {
    std::vector<std::atomic<std::uint8_t>> hits(n);
    parallel_for(pool, 0, n, [&](std::size_t i) { hits[i].fetch_add(1, std::memory_order_relaxed); });
    std::size_t wrong = 0;
    for (auto& h : hits) wrong += h.load() != 1;
    EXPECT_EQ(wrong, 0u) << "n = " << n;
  }
}

TEST(ParallelFor, RespectsAnOffsetRangeAndTheGrain) {
  Pool pool(fixed(2));
  std::vector<std::atomic<std::uint8_t>> hits(500);
  parallel_for(pool, 100, 400, [&](std::size_t i) { hits[i].fetch_add(1); }, {.grain = 64});
  for (std::size_t i = 0; i < hits.size(); ++i) EXPECT_EQ(hits[i].load(), i >= 100 && i < 400 ? 1 : 0) << i;
  parallel_for(pool, 7, 7, [&](std::size_t) { FAIL() << "an empty range runs nothing"; });
  parallel_for(pool, 9, 3, [&](std::size_t) { FAIL() << "a reversed range runs nothing"; });
}

// All the work is in the upper half of the range, which the first worker
// hands out as one piece: the other worker gets a share only by stealing,
// and a stolen piece splits again (a fresh budget).
TEST(ParallelFor, UnbalancedWorkIsSharedByStealing) {
  Pool pool(fixed(2));
  const std::size_t n = 2000;
  std::mutex m;
  std::set<std::thread::id> threads;
  parallel_for(pool, 0, n, [&](std::size_t i) {
    if (i < n / 2) return;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::lock_guard lock(m);
    threads.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(threads.size(), 2u);
  EXPECT_GT(pool.stats().stolen, 0u);
}

TEST(ParallelFor, RethrowsTheFirstErrorAfterEveryOtherIndexRan) {
  Pool pool(fixed(2));
  std::atomic<int> ran{0};
  try {
    parallel_for(pool, 0, 1000, [&](std::size_t i) {
      ran.fetch_add(1);
      if (i % 100 == 0) throw std::runtime_error("index " + std::to_string(i));
    });
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("index ", 0), 0u);
  }
  EXPECT_EQ(ran.load(), 1000);
}

TEST(ParallelFor, NestsInsideTasksWithoutBlockingWorkers) {
  Pool pool(fixed(2));
  std::atomic<long> sum{0};
  pool.submit([&] {
    parallel_for(pool, 0, 64, [&](std::size_t i) {
      parallel_for(pool, 0, 64, [&](std::size_t j) { sum.fetch_add(static_cast<long>(i * 64 + j)); });
    });
  }).get();
  EXPECT_EQ(sum.load(), 4096L * 4095 / 2);
}

TEST(ParallelFor, ThrowsShutdownOnAPoolThatIsShutDown) {
  Pool pool(fixed(1));
  pool.shutdown();
  EXPECT_EQ(test_support::error_code_of([&] { parallel_for(pool, 0, 10, [](std::size_t) {}); }), Errc::shutdown);
}
