// The pool through its public API: values, errors, priorities, cancellation,
// deadlines, scaling, shutdown, stealing and pinning.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <chrono>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tasklets/pool.hpp"
#include "tasklets/topology.hpp"

using namespace tasklets;
using namespace std::chrono_literals;

namespace {

PoolConfig fixed(int n, Placement placement = Placement::none) {
  PoolConfig c;
  c.workers.min = n;
  c.workers.max = n;
  c.placement = placement;
  return c;
}

// Holds every worker of a pool busy until open() is called.
struct Gate {
  std::atomic<bool> is_open{false};
  std::atomic<int> entered{0};
  void block(Pool& pool, int workers) {
    for (int i = 0; i < workers; ++i) {
      pool.post([this] {
        entered.fetch_add(1);
        while (!is_open.load()) std::this_thread::sleep_for(100us);
      });
    }
    while (entered.load() < workers) std::this_thread::sleep_for(100us);
  }
  void open() { is_open = true; }
};

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

}  // namespace

TEST(Scheduler, ReturnsValuesOfEveryKind) {
  Pool pool(fixed(2));
  EXPECT_EQ(pool.submit([] { return 6 * 7; }).get(), 42);
  EXPECT_EQ(pool.submit([] { return std::string(1000, 'x'); }).get().size(), 1000u);
  std::vector<int> big(1 << 16, 3);
  auto h = pool.submit([big] { return big.size(); });  // capture larger than the inline buffer
  EXPECT_EQ(h.get(), big.size());
  std::atomic<int> ran{0};
  pool.submit([&] { ran = 1; }).get();
  EXPECT_EQ(ran.load(), 1);
}

TEST(Scheduler, DeliversTheTasksOwnException) {
  Pool pool(fixed(2));
  auto h = pool.submit([]() -> int { throw std::range_error("out of range: 7"); });
  try {
    h.get();
    FAIL() << "no exception";
  } catch (const std::range_error& e) {
    EXPECT_STREQ(e.what(), "out of range: 7");
  }
  EXPECT_EQ(h.status(), TaskStatus::failed);
  EXPECT_TRUE(eventually([&] { return pool.stats().failed == 1; }));
}

TEST(Scheduler, HandlesWaitPollAndTimeOut) {
  Pool pool(fixed(1));
  Gate gate;
  gate.block(pool, 1);
  auto h = pool.submit([] { return 1; });
  EXPECT_FALSE(h.ready());
  EXPECT_FALSE(h.wait_for(20ms));
  gate.open();
  EXPECT_TRUE(h.wait_for(10s));
  EXPECT_TRUE(h.ready());
  EXPECT_EQ(h.get(), 1);
}

TEST(Scheduler, CompletionCallbackRunsExactlyOncePerTask) {
  Pool pool(fixed(2));
  constexpr int kTasks = 20000;
  std::vector<std::atomic<int>> calls(kTasks);
  struct Ctx {
    std::vector<std::atomic<int>>* calls;
  } ctx{&calls};
  std::atomic<int> done{0};
  for (int i = 0; i < kTasks; ++i) {
    SubmitOptions o;
    o.context = &ctx;
    o.on_complete = [](void* c, detail::TaskBase& t) noexcept {
      EXPECT_TRUE(is_settled(t.status()));
      (*static_cast<Ctx*>(c)->calls)[t.id % kTasks].fetch_add(1);
    };
    (void)o;
    pool.post([&done] { done.fetch_add(1); });
  }
  // Ids are not dense, so count callbacks through a dedicated pass.
  std::atomic<int> callbacks{0};
  std::vector<Handle<int>> handles;
  for (int i = 0; i < kTasks; ++i) {
    SubmitOptions o;
    o.context = &callbacks;
    o.on_complete = [](void* c, detail::TaskBase&) noexcept { static_cast<std::atomic<int>*>(c)->fetch_add(1); };
    handles.push_back(pool.submit([i] { return i; }, o));
  }
  for (int i = 0; i < kTasks; ++i) EXPECT_EQ(handles[i].get(), i);
  EXPECT_TRUE(eventually([&] { return callbacks.load() == kTasks && done.load() == kTasks; }));
}

TEST(Scheduler, HighPriorityRunsBeforeQueuedNormalWork) {
  Pool pool(fixed(1));
  Gate gate;
  gate.block(pool, 1);
  std::mutex m;
  std::vector<char> order;
  auto record = [&](char c) {
    std::lock_guard lock(m);
    order.push_back(c);
  };
  for (int i = 0; i < 5; ++i) pool.post([&] { record('n'); });
  SubmitOptions high;
  high.priority = Priority::high;
  for (int i = 0; i < 3; ++i) pool.post([&] { record('h'); }, high);
  gate.open();
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(m);
    return order.size() == 8;
  }));
  EXPECT_EQ(std::string(order.begin(), order.end()), "hhhnnnnn");
}

TEST(Scheduler, LowPriorityIsNotStarvedByASteadyStream) {
  Pool pool(fixed(1));
  Gate gate;
  gate.block(pool, 1);
  std::atomic<int> normal_before_low{-1};
  std::atomic<int> normal_done{0};
  SubmitOptions low;
  low.priority = Priority::low;
  pool.post([&] { normal_before_low = normal_done.load(); }, low);
  for (int i = 0; i < 1000; ++i) pool.post([&] { normal_done.fetch_add(1); });
  gate.open();
  ASSERT_TRUE(eventually([&] { return normal_done.load() == 1000; }));
  ASSERT_GE(normal_before_low.load(), 0);
  EXPECT_LT(normal_before_low.load(), 1000) << "low ran only after every normal task";
}

TEST(Scheduler, CancelSettlesAQueuedTaskAtOnceAndItNeverRuns) {
  Pool pool(fixed(1));
  Gate gate;
  gate.block(pool, 1);
  std::atomic<bool> ran{false};
  auto h = pool.submit([&] { ran = true; });
  EXPECT_TRUE(h.cancel());
  EXPECT_EQ(h.status(), TaskStatus::cancelled);
  EXPECT_FALSE(h.cancel()) << "a second cancel does nothing";
  try {
    h.get();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::cancelled);
  }
  gate.open();
  pool.shutdown();
  EXPECT_FALSE(ran.load());
  EXPECT_EQ(pool.stats().cancelled, 1u);
}

TEST(Scheduler, CancelDoesNotTouchARunningOrFinishedTask) {
  Pool pool(fixed(1));
  std::atomic<bool> started{false}, release{false};
  auto h = pool.submit([&] {
    started = true;
    while (!release) std::this_thread::sleep_for(100us);
    return 5;
  });
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  EXPECT_FALSE(h.cancel());
  release = true;
  EXPECT_EQ(h.get(), 5);
  EXPECT_FALSE(h.cancel());
}

TEST(Scheduler, AQueuedTaskPastItsDeadlineTimesOutWithoutRunning) {
  Pool pool(fixed(1));
  Gate gate;
  gate.block(pool, 1);
  std::atomic<bool> ran{false};
  SubmitOptions o;
  o.deadline = std::chrono::steady_clock::now() + 20ms;
  auto h = pool.submit([&] { ran = true; }, o);
  // Settled by the deadline while the only worker is still blocked.
  EXPECT_TRUE(h.wait_for(5s));
  EXPECT_EQ(h.status(), TaskStatus::timed_out);
  gate.open();
  try {
    h.get();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::timed_out);
  }
  pool.shutdown();
  EXPECT_FALSE(ran.load());
  EXPECT_EQ(pool.stats().timed_out, 1u);
}

TEST(Scheduler, ATaskThatStartsBeforeItsDeadlineRuns) {
  Pool pool(fixed(2));
  SubmitOptions o;
  o.deadline = std::chrono::steady_clock::now() + 10s;
  EXPECT_EQ(pool.submit([] { return 3; }, o).get(), 3);
}

TEST(Scheduler, BatchSubmissionRunsEveryTaskOnce) {
  Pool pool(fixed(2));
  constexpr int kTasks = 10000;
  std::vector<std::atomic<int>> runs(kTasks);
  std::vector<std::function<int()>> fns;
  for (int i = 0; i < kTasks; ++i) {
    fns.push_back([&runs, i] {
      runs[i].fetch_add(1);
      return i;
    });
  }
  auto handles = pool.submit_batch(std::span(fns));
  ASSERT_EQ(handles.size(), static_cast<std::size_t>(kTasks));
  for (int i = 0; i < kTasks; ++i) EXPECT_EQ(handles[i].get(), i);
  for (int i = 0; i < kTasks; ++i) EXPECT_EQ(runs[i].load(), 1) << i;
}

TEST(Scheduler, ForkJoinInsideTasksDoesNotDeadlock) {
  Pool pool(fixed(2));
  struct Fib {
    Pool& pool;
    long operator()(int n) const {
      if (n < 12) return n < 2 ? n : (*this)(n - 1) + (*this)(n - 2);
      auto left = pool.submit([this, n] { return (*this)(n - 1); });
      const long right = (*this)(n - 2);
      return left.get() + right;
    }
  } fib{pool};
  EXPECT_EQ(pool.submit([&] { return fib(25); }).get(), 75025);
}

TEST(Scheduler, IdleWorkersStealFromABusyWorkersQueue) {
  Pool pool(fixed(2));
  std::atomic<int> done{0};
  // Submitted from inside a task: all land in that worker's own queue.
  pool.submit([&] {
    for (int i = 0; i < 2000; ++i) {
      pool.post([&] {
        std::this_thread::sleep_for(10us);
        done.fetch_add(1);
      });
    }
  }).get();
  ASSERT_TRUE(eventually([&] { return done.load() == 2000; }));
  EXPECT_GT(pool.stats().stolen, 0u);
}

TEST(Scheduler, StealingAcrossSyntheticNumaNodes) {
  PoolConfig c = fixed(4, Placement::scatter);
  c.topology = "synthetic:numa:2 core:2 pu:1";
  Pool pool(c);
  const auto s = pool.stats();
  ASSERT_EQ(s.workers.size(), 4u);
  EXPECT_EQ(s.task_pools.size(), 2u);
  EXPECT_EQ(s.workers[0].numa, 0u);
  EXPECT_EQ(s.workers[1].numa, 1u);
  EXPECT_FALSE(s.workers[0].pinned) << "a synthetic PU is not a real one";
  std::atomic<int> done{0};
  pool.submit([&] {
    for (int i = 0; i < 4000; ++i) pool.post([&] { done.fetch_add(1); std::this_thread::sleep_for(5us); });
  }).get();
  ASSERT_TRUE(eventually([&] { return done.load() == 4000; }));
  EXPECT_GT(pool.stats().stolen, 0u);
}

TEST(Scheduler, WorkersArePinnedOnTheRealTopology) {
  const Topology topo = Topology::system();
  const int n = static_cast<int>(topo.pus().size());
  Pool pool(fixed(n, Placement::compact));
  pool.submit([] {}).get();
  ASSERT_TRUE(eventually([&] {
    for (const auto& w : pool.stats().workers) if (w.bind_error == "not started") return false;
    return true;
  }));
  const auto s = pool.stats();
  std::vector<unsigned> seen;
  for (const auto& w : s.workers) {
    EXPECT_TRUE(w.pinned) << w.bind_error;
    ASSERT_EQ(w.pus.size(), 1u);
    seen.push_back(w.pus[0]);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end()) << "two workers on one PU";
}

TEST(Scheduler, AdaptiveScalingGrowsUnderBacklogAndShrinksWhenIdle) {
  PoolConfig c;
  c.placement = Placement::none;
  c.workers.min = 1;
  c.workers.max = 3;
  c.workers.scaling = Scaling::adaptive;
  c.workers.idle_timeout = 50ms;
  c.workers.tick = 1ms;
  Pool pool(c);
  EXPECT_EQ(pool.stats().active_workers, 1u);
  std::atomic<int> done{0};
  for (int i = 0; i < 400; ++i) {
    pool.post([&] {
      std::this_thread::sleep_for(1ms);
      done.fetch_add(1);
    });
  }
  EXPECT_TRUE(eventually([&] { return pool.stats().active_workers == 3; }));
  ASSERT_TRUE(eventually([&] { return done.load() == 400; }, 30s));
  EXPECT_TRUE(eventually([&] { return pool.stats().active_workers == 1; }, 10s));
  const auto s = pool.stats();
  EXPECT_GE(s.scale_ups, 2u);
  EXPECT_GE(s.scale_downs, 2u);
  // Still serves work after shrinking.
  EXPECT_EQ(pool.submit([] { return 9; }).get(), 9);
}

TEST(Scheduler, ShutdownDrainRunsEverythingAlreadySubmitted) {
  Pool pool(fixed(2));
  std::atomic<int> done{0};
  for (int i = 0; i < 5000; ++i) pool.post([&] { done.fetch_add(1); });
  const auto r = pool.shutdown(ShutdownMode::drain);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(done.load(), 5000);
  EXPECT_EQ(r.cancelled, 0u);
}

TEST(Scheduler, ShutdownCancelSettlesQueuedTasksAsCancelled) {
  Pool pool(fixed(1));
  Gate gate;
  gate.block(pool, 1);
  std::vector<Handle<int>> hs;
  for (int i = 0; i < 100; ++i) hs.push_back(pool.submit([i] { return i; }));
  // The gate opens only once shutdown started (observed, so a slow machine
  // cannot open it before shutdown() was called).
  std::thread opener([&] {
    eventually([&] { return !pool.accepting(); }, 30s);
    gate.open();
  });
  const auto r = pool.shutdown(ShutdownMode::cancel);
  opener.join();
  EXPECT_EQ(r.cancelled, 100u);
  for (auto& h : hs) EXPECT_EQ(h.status(), TaskStatus::cancelled);
}

TEST(Scheduler, ShutdownTimeoutCancelsWhatDrainCouldNotFinish) {
  Pool pool(fixed(1));
  Gate gate;
  gate.block(pool, 1);
  std::vector<Handle<int>> hs;
  for (int i = 0; i < 10; ++i) hs.push_back(pool.submit([i] { return i; }));
  std::thread opener([&] {
    eventually([&] { return !pool.accepting(); }, 30s);
    std::this_thread::sleep_for(200ms);  // well past the 30 ms drain timeout
    gate.open();
  });
  const auto r = pool.shutdown(ShutdownMode::drain, 30ms);
  opener.join();
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.cancelled, 10u);
  for (auto& h : hs) EXPECT_EQ(h.status(), TaskStatus::cancelled);
}

TEST(Scheduler, SubmitAfterShutdownThrows) {
  Pool pool(fixed(1));
  pool.shutdown();
  EXPECT_FALSE(pool.accepting());
  try {
    pool.submit([] { return 1; });
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::shutdown);
  }
  std::vector<std::function<void()>> fns(3, [] {});
  EXPECT_THROW(pool.post_batch(std::span(fns)), Error);
  EXPECT_FALSE(pool.shutdown().timed_out) << "a second shutdown is a no-op";
}

TEST(Scheduler, BadConfigurationsThrowTypedErrors) {
  auto code = [](const PoolConfig& c) {
    try {
      Pool p(c);
    } catch (const Error& e) {
      return e.code();
    }
    return Errc::system;
  };
  PoolConfig zero;
  zero.workers.min = 0;
  EXPECT_EQ(code(zero), Errc::invalid_argument);
  PoolConfig inverted;
  inverted.workers = {.min = 4, .max = 2, .scaling = Scaling::adaptive};
  EXPECT_EQ(code(inverted), Errc::invalid_argument);
  PoolConfig topo;
  topo.topology = "synthetic:pack:x";
  EXPECT_EQ(code(topo), Errc::topology);
  PoolConfig unknown;
  unknown.topology = "remote:host";
  EXPECT_EQ(code(unknown), Errc::invalid_argument);
  EXPECT_THROW(parse_placement("diagonal"), Error);
}

TEST(Scheduler, StatsDescribeThePool) {
  Pool pool(fixed(2));
  for (int i = 0; i < 1000; ++i) pool.submit([] {}).get();
  const auto s = pool.stats();
  EXPECT_EQ(s.executed, 1000u);
  EXPECT_EQ(s.workers.size(), 2u);
  EXPECT_EQ(s.queue_wait.count, 1000u);
  EXPECT_EQ(s.run_time.count, 1000u);
  EXPECT_LE(s.run_time.p50_ns, s.run_time.p99_ns);
  EXPECT_EQ(s.task_pools.size(), s.arenas.size());
  EXPECT_FALSE(s.topology.empty());
  EXPECT_GT(s.task_pools[0].capacity, 0u);
}

TEST(Scheduler, PostBatchRunsEachCallableOnceAndCountsFailures) {
  Pool pool(fixed(2));
  constexpr int kTasks = 10000;
  std::vector<std::atomic<int>> runs(kTasks);
  std::vector<std::function<void()>> fns;
  for (int i = 0; i < kTasks; ++i) {
    fns.push_back([&runs, i] {
      runs[i].fetch_add(1);
      if (i % 10 == 0) throw std::runtime_error("boom");
    });
  }
  pool.post_batch(std::span(fns));
  fns.clear();  // the pool copied them
  pool.shutdown();
  for (int i = 0; i < kTasks; ++i) ASSERT_EQ(runs[i].load(), 1) << i;
  const auto s = pool.stats();
  EXPECT_EQ(s.failed, kTasks / 10u);
  EXPECT_EQ(s.executed, kTasks - kTasks / 10u);
}

TEST(Scheduler, PostBatchSegmentsThatNeverRunReleaseTheirCallables) {
  auto alive = std::make_shared<int>(0);
  {
    Pool pool(fixed(1));
    Gate gate;
    gate.block(pool, 1);
    std::vector<std::function<void()>> fns(500, [alive] {});
    pool.post_batch(std::span(fns));
    fns.clear();
    std::thread opener([&] {
      eventually([&] { return !pool.accepting(); }, 30s);
      gate.open();
    });
    const auto r = pool.shutdown(ShutdownMode::cancel);
    opener.join();
    EXPECT_GT(r.cancelled, 0u);
  }
  EXPECT_EQ(alive.use_count(), 1) << "every copy of the callables was destroyed";
}

TEST(Scheduler, FarDeadlinesDoNotPinTaskObjectsAfterTheTasksRan) {
  Pool pool(fixed(2));
  SubmitOptions o;
  o.deadline = std::chrono::steady_clock::now() + std::chrono::hours(1);
  for (int round = 0; round < 60; ++round) {
    std::vector<Handle<int>> hs;
    for (int i = 0; i < 1000; ++i) hs.push_back(pool.submit([i] { return i; }, o));
    for (auto& h : hs) h.get();
  }
  // 60k tasks ran; without compaction every one would still hold its object.
  const auto capacity = pool.stats().task_pools[0].capacity;
  EXPECT_LT(capacity, 30000u) << capacity;
  std::printf("task objects carved for 60k tasks with far deadlines: %llu\n", static_cast<unsigned long long>(capacity));
}
