#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "tasklets/arena.hpp"
#include "tasklets/task_pool.hpp"

using namespace tasklets;
using detail::TaskBase;
using detail::TaskPool;

namespace {

struct Fixture : ::testing::Test {
  ArenaSet arenas{1, nullptr, nullptr};
};

}  // namespace

TEST_F(Fixture, ObjectsAreDistinctAlignedAndIndexed) {
  TaskPool pool(arenas, 0);
  TaskPool::Cache cache;
  std::set<TaskBase*> seen;
  for (int i = 0; i < 2000; ++i) {
    TaskBase* t = pool.acquire(cache);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t) % 64, 0u);
    EXPECT_EQ(pool.at(t->pool_index), t);
    EXPECT_EQ(t->home_node, 0);
    EXPECT_TRUE(seen.insert(t).second);
  }
  for (TaskBase* t : seen) pool.release(cache, t);
  pool.flush(cache);
  const auto s = pool.stats();
  EXPECT_EQ(s.live, 0u);
  EXPECT_EQ(s.capacity, 4u * TaskPool::kChunkObjects);  // 2000 objects need 4 chunks
  EXPECT_EQ(s.free_shared, s.capacity);
}

TEST_F(Fixture, SteadyStateCarvesNoNewChunks) {
  TaskPool pool(arenas, 0);
  TaskPool::Cache producer, consumer;
  std::vector<TaskBase*> batch;
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 300; ++i) batch.push_back(pool.acquire(producer));
    for (TaskBase* t : batch) pool.release(consumer, t);
    batch.clear();
    if (round == 10) {
      EXPECT_GT(pool.stats().misses, 0u);
    }
  }
  const auto before = pool.stats().misses;
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 300; ++i) batch.push_back(pool.acquire(producer));
    for (TaskBase* t : batch) pool.release(consumer, t);
    batch.clear();
  }
  EXPECT_EQ(pool.stats().misses, before) << "recycled objects must satisfy a steady load";
}

TEST_F(Fixture, FullChainsMoveBetweenCachesThroughTheDepot) {
  TaskPool pool(arenas, 0);
  TaskPool::Cache a, b;
  std::vector<TaskBase*> got;
  for (std::uint32_t i = 0; i < 3 * TaskPool::kChainSize; ++i) got.push_back(pool.acquire(a));
  const auto carved = pool.stats().misses;
  for (TaskBase* t : got) pool.release(b, t);
  // b keeps one full chain as its spare and one active; the third went to the depot.
  EXPECT_EQ(b.spare.count, TaskPool::kChainSize);
  EXPECT_GE(pool.stats().free_shared, TaskPool::kChainSize);
  // Another cache is served from the depot without carving.
  TaskPool::Cache c;
  for (std::uint32_t i = 0; i < TaskPool::kChainSize; ++i) pool.release(c, pool.acquire(c));
  EXPECT_EQ(pool.stats().misses, carved);
}

TEST_F(Fixture, ExternalReleaseIsReusedByTheSameThread) {
  TaskPool pool(arenas, 0);
  TaskBase* t = pool.acquire_external();
  pool.release_external(t);
  EXPECT_EQ(pool.acquire_external(), t) << "LIFO: the hot object comes back first";
  pool.release_external(t);
}

TEST_F(Fixture, PingPongBetweenTwoThreadsDoesNotGrowThePool) {
  // The fork-join pattern: each side acquires and releases a few at a time.
  TaskPool pool(arenas, 0);
  std::atomic<bool> stop{false};
  auto churn = [&] {
    TaskPool::Cache cache;
    std::vector<TaskBase*> held;
    for (int round = 0; round < 20000; ++round) {
      for (int i = 0; i < 7; ++i) held.push_back(pool.acquire(cache));
      for (TaskBase* t : held) pool.release(cache, t);
      held.clear();
    }
    pool.flush(cache);
  };
  std::thread x(churn), y(churn);
  x.join();
  y.join();
  stop = true;
  EXPECT_LE(pool.stats().capacity, 4u * TaskPool::kChunkObjects);
}

TEST_F(Fixture, ExternalCachesSurviveTheirPool) {
  TaskBase* first;
  {
    TaskPool pool(arenas, 0);
    first = pool.acquire_external();
    pool.release_external(first);
  }
  // A new pool on the same thread must not be handed the dead pool's objects.
  TaskPool pool(arenas, 0);
  TaskBase* t = pool.acquire_external();
  EXPECT_EQ(pool.at(t->pool_index), t);
  pool.release_external(t);
}

TEST_F(Fixture, ProducersAndConsumersOnManyThreadsNeverShareAnObject) {
  TaskPool pool(arenas, 0);
  constexpr int kPerProducer = 100000;
  std::atomic<TaskBase*> slots[64]{};
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> in_use_violations{0};
  auto producer = [&](int seed) {
    for (int i = 0; i < kPerProducer; ++i) {
      TaskBase* t = pool.acquire_external();
      // Mark the object as ours; a double hand-out would see another mark.
      if (t->refs.exchange(1, std::memory_order_relaxed) != 0) in_use_violations.fetch_add(1);
      auto& slot = slots[(seed * 7 + i) % 64];
      TaskBase* expected = nullptr;
      while (!slot.compare_exchange_weak(expected, t, std::memory_order_release)) expected = nullptr;
    }
  };
  auto consumer = [&] {
    TaskPool::Cache cache;
    while (!done.load() || [&] {
      for (auto& s : slots) if (s.load()) return true;
      return false;
    }()) {
      for (auto& s : slots) {
        if (TaskBase* t = s.exchange(nullptr, std::memory_order_acquire)) {
          t->refs.store(0, std::memory_order_relaxed);
          pool.release(cache, t);
        }
      }
    }
    pool.flush(cache);
  };
  std::thread c1(consumer), c2(consumer);
  std::thread p1(producer, 1), p2(producer, 2);
  p1.join();
  p2.join();
  done = true;
  c1.join();
  c2.join();
  EXPECT_EQ(in_use_violations.load(), 0u);
}
