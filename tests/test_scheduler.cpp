// The pool through its public API: values, errors, priorities, cancellation,
// deadlines, scaling, shutdown, stealing and pinning.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

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
#include "support.hpp"
#include "tasklets/topology.hpp"

using namespace tasklets;
using namespace std::chrono_literals;

namespace {

using test_support::eventually;
PoolConfig fixed(int n, Placement placement = Placement::none) { return test_support::fixed_pool(n, placement); }

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

// A worker's own spawned tasks are popped newest first from its deque; a
// task that keeps re-posting itself must still not starve the tasks that
// outside threads queued to that worker.
TEST(Scheduler, ASelfRespawningTaskDoesNotStarveOutsideTasks) {
  Pool pool(fixed(1));
  std::atomic<bool> stop{false};
  std::atomic<long> spins{0};
  struct Spinner {
    Pool* pool;
    std::atomic<bool>* stop;
    std::atomic<long>* spins;
    void operator()() const {
      spins->fetch_add(1, std::memory_order_relaxed);
      if (!stop->load(std::memory_order_relaxed)) pool->post(*this);
    }
  };
  pool.post(Spinner{&pool, &stop, &spins});
  ASSERT_TRUE(eventually([&] { return spins.load() > 1000; }));
  auto outside = pool.submit([&] { stop.store(true); });
  EXPECT_TRUE(outside.wait_for(30s));
  stop.store(true);
}

TEST(Scheduler, ForkJoinCountsItsSpawnedTasksAsQueuedUntilTheyRun) {
  Pool pool(fixed(1));
  std::atomic<bool> go{false};
  auto parent = pool.submit([&] {
    for (int i = 0; i < 100; ++i) pool.post([] {});
    while (!go.load()) std::this_thread::yield();
  });
  // The 100 children sit in the worker's deque while the parent runs.
  ASSERT_TRUE(eventually([&] { return pool.stats().queued[static_cast<unsigned>(Priority::normal)] == 100; }));
  go.store(true);
  parent.get();
  ASSERT_TRUE(eventually([&] { return pool.stats().executed == 101; }));
  EXPECT_EQ(pool.stats().queued[static_cast<unsigned>(Priority::normal)], 0u);
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

// The wake hint (src/sleep.hpp): a submitter from outside the pool wakes
// the worker that last parked on its own CPU first, wherever the task was
// queued. With one worker pinned per PU, the task must run on the
// submitter's CPU every time; without the hint the round-robin target
// would put it on the other PU about every second round.
TEST(Scheduler, AnOutsideSubmitterWakesTheWorkerParkedOnItsCpu) {
  const Topology topo = Topology::system();
  const int n = static_cast<int>(topo.pus().size());
  if (n < 2) GTEST_SKIP() << "needs two PUs";
  Pool pool(fixed(n, Placement::compact));
  pool.submit([] {}).get();
  ASSERT_TRUE(eventually([&] {
    for (const auto& w : pool.stats().workers) if (w.bind_error == "not started") return false;
    return true;
  }));
  std::vector<unsigned> pus;
  for (const auto& w : pool.stats().workers) {
    if (!w.pinned || w.pus.size() != 1) GTEST_SKIP() << "workers could not be pinned here: " << w.bind_error;
    pus.push_back(w.pus[0]);
  }
  cpu_set_t original;
  ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof original, &original), 0);
  for (int round = 0; round < 4; ++round) {
    for (unsigned pu : pus) {
      cpu_set_t only;
      CPU_ZERO(&only);
      CPU_SET(pu, &only);
      ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof only, &only), 0);
      ASSERT_TRUE(eventually([&] { return pool.stats().sleeping_workers == static_cast<unsigned>(n); }));
      const int ran_on = pool.submit([] { return sched_getcpu(); }).get();
      EXPECT_EQ(ran_on, static_cast<int>(pu)) << "round " << round;
    }
  }
  pthread_setaffinity_np(pthread_self(), sizeof original, &original);
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

// ---------------------------------------------------------------- resize

namespace {

WorkersConfig fixed_workers(int n) { return {.min = n, .max = n, .scaling = Scaling::fixed}; }

unsigned running_workers(const PoolStats& s) {
  return static_cast<unsigned>(std::count_if(s.workers.begin(), s.workers.end(),
                                             [](const WorkerStats& w) { return w.running; }));
}

// Every task of a run counts its own id, so a lost or repeated task shows.
struct ExactlyOnce {
  explicit ExactlyOnce(std::size_t n) : runs(n) {}
  std::vector<std::atomic<int>> runs;
  std::atomic<std::size_t> done{0};
  void post(Pool& pool, std::size_t id, std::chrono::microseconds work = 0us) {
    pool.post([this, id, work] {
      if (work.count() > 0) {
        const auto end = std::chrono::steady_clock::now() + work;
        while (std::chrono::steady_clock::now() < end) {
        }
      }
      runs[id].fetch_add(1);
      done.fetch_add(1);
    });
  }
  void expect_each_ran_once() const {
    for (std::size_t i = 0; i < runs.size(); ++i) ASSERT_EQ(runs[i].load(), 1) << "task " << i;
  }
};

}  // namespace

TEST(Scheduler, ResizeGrowsAndShrinksAFixedPoolWithoutLosingTasks) {
  PoolConfig c = fixed(1);
  c.worker_slots = 3;
  Pool pool(c);
  EXPECT_EQ(pool.config().worker_slots, 3u);
  constexpr std::size_t kTasks = 3000;
  ExactlyOnce tasks(kTasks);
  for (std::size_t i = 0; i < kTasks / 3; ++i) tasks.post(pool, i, 20us);
  pool.resize(fixed_workers(3));  // with a backlog on slot 0
  auto s = pool.stats();
  EXPECT_EQ(s.active_workers, 3u);
  EXPECT_EQ(s.min_workers, 3u);
  EXPECT_EQ(s.max_workers, 3u);
  EXPECT_EQ(s.scaling, Scaling::fixed);
  EXPECT_EQ(s.scale_ups, 2u);
  EXPECT_EQ(s.scale_downs, 0u);
  // Queued on all three slots, then two of them retire with tasks queued.
  for (std::size_t i = kTasks / 3; i < kTasks; ++i) tasks.post(pool, i, 20us);
  pool.resize(fixed_workers(1));
  s = pool.stats();
  EXPECT_EQ(s.active_workers, 1u);
  EXPECT_EQ(s.min_workers, 1u);
  EXPECT_EQ(s.max_workers, 1u);
  EXPECT_EQ(s.scale_ups, 2u);
  EXPECT_EQ(s.scale_downs, 2u);
  ASSERT_TRUE(eventually([&] { return tasks.done.load() == kTasks; }, 60s));
  tasks.expect_each_ran_once();
  EXPECT_TRUE(eventually([&] { return running_workers(pool.stats()) == 1; }));
  EXPECT_EQ(pool.stats().executed, kTasks);
  EXPECT_TRUE(pool.stats().workers[0].running);
  // Grows again onto the slots that were left.
  pool.resize(fixed_workers(3));
  EXPECT_EQ(pool.stats().active_workers, 3u);
  EXPECT_EQ(pool.submit([] { return 5; }).get(), 5);
  pool.shutdown(ShutdownMode::drain);
  EXPECT_EQ(pool.stats().executed, kTasks + 1);
}

TEST(Scheduler, ResizeWithinTheCreatedMaxNeedsNoWorkerSlots) {
  PoolConfig c;
  c.placement = Placement::none;
  c.workers = {.min = 1, .max = 3, .scaling = Scaling::adaptive};
  Pool pool(c);
  EXPECT_EQ(pool.config().worker_slots, 3u);
  pool.resize(fixed_workers(3));
  EXPECT_EQ(pool.stats().active_workers, 3u);
  pool.resize({.min = 2, .scaling = Scaling::fixed});  // fixed with only a min: exactly min
  EXPECT_EQ(pool.stats().active_workers, 2u);
  EXPECT_EQ(pool.stats().max_workers, 2u);
  pool.resize({.scaling = Scaling::adaptive});  // auto: 1 .. capacity
  EXPECT_EQ(pool.stats().min_workers, 1u);
  EXPECT_EQ(pool.stats().max_workers, 3u);
  EXPECT_EQ(pool.stats().active_workers, 2u);  // within the bounds: unchanged
}

TEST(Scheduler, ResizeSwitchesBetweenAdaptiveAndFixed) {
  PoolConfig c;
  c.placement = Placement::none;
  c.workers = {.min = 1, .max = 4, .scaling = Scaling::adaptive, .idle_timeout = 20ms, .tick = 1ms};
  Pool pool(c);
  EXPECT_EQ(pool.stats().active_workers, 1u);
  pool.resize({.min = 3, .max = 3, .scaling = Scaling::fixed, .idle_timeout = 20ms, .tick = 1ms});
  auto s = pool.stats();
  EXPECT_EQ(s.scaling, Scaling::fixed);
  EXPECT_EQ(s.active_workers, 3u);
  // Idle for many idle_timeouts: a fixed pool does not shrink.
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(pool.stats().active_workers, 3u);
  EXPECT_EQ(pool.stats().scale_downs, 0u);
  pool.resize({.min = 1, .max = 4, .scaling = Scaling::adaptive, .idle_timeout = 20ms, .tick = 1ms});
  EXPECT_EQ(pool.stats().scaling, Scaling::adaptive);
  EXPECT_EQ(pool.stats().active_workers, 3u);  // within the bounds; then idle shrinks it
  EXPECT_TRUE(eventually([&] { return pool.stats().active_workers == 1; }));
  // And a backlog grows it again.
  std::atomic<int> done{0};
  for (int i = 0; i < 400; ++i) {
    pool.post([&] {
      std::this_thread::sleep_for(1ms);
      done.fetch_add(1);
    });
  }
  EXPECT_TRUE(eventually([&] { return pool.stats().active_workers > 1; }));
  ASSERT_TRUE(eventually([&] { return done.load() == 400; }, 30s));
  s = pool.stats();
  EXPECT_EQ(s.active_workers + s.scale_downs, 1u + s.scale_ups);
}

TEST(Scheduler, ResizeRejectsInvalidBoundsWithNothingChanged) {
  PoolConfig c = fixed(2);
  c.worker_slots = 4;
  Pool pool(c);
  auto code = [&](const WorkersConfig& w) {
    try {
      pool.resize(w);
    } catch (const Error& e) {
      return e.code();
    }
    return Errc::system;
  };
  EXPECT_EQ(code({.min = 0, .max = 2, .scaling = Scaling::adaptive}), Errc::invalid_argument);
  EXPECT_EQ(code({.min = -1, .max = 2, .scaling = Scaling::adaptive}), Errc::invalid_argument);
  EXPECT_EQ(code({.min = 3, .max = 2, .scaling = Scaling::adaptive}), Errc::invalid_argument);
  EXPECT_EQ(code({.min = 1, .max = 2, .scaling = Scaling::fixed}), Errc::invalid_argument);
  EXPECT_EQ(code({.min = 1, .max = static_cast<int>(kMaxWorkers) + 1, .scaling = Scaling::adaptive}),
            Errc::invalid_argument);
  EXPECT_EQ(code({.min = 1, .max = 2, .scaling = Scaling::adaptive, .tick = 0us}), Errc::invalid_argument);
  const auto s = pool.stats();
  EXPECT_EQ(s.min_workers, 2u);
  EXPECT_EQ(s.max_workers, 2u);
  EXPECT_EQ(s.scaling, Scaling::fixed);
  EXPECT_EQ(s.active_workers, 2u);
  EXPECT_EQ(s.scale_ups + s.scale_downs, 0u);
  EXPECT_EQ(pool.submit([] { return 1; }).get(), 1);
  // worker_slots below workers.max is refused at construction.
  PoolConfig small = fixed(2);
  small.worker_slots = 1;
  EXPECT_THROW(Pool p(small), Error);
}

TEST(Scheduler, ResizeGrowsPastTheSlotsMadeAtCreationWithoutLosingTasks) {
  PoolConfig c = fixed(1);  // one slot made
  Pool pool(c);
  EXPECT_EQ(pool.config().worker_slots, 1u);
  EXPECT_EQ(pool.stats().workers.size(), 1u);
  constexpr std::size_t kTasks = 6000;
  ExactlyOnce tasks(kTasks);
  std::size_t posted = 0;
  auto post = [&](std::size_t n) {
    for (std::size_t end = posted + n; posted < end; ++posted) tasks.post(pool, posted, 10us);
  };
  post(1000);                     // a backlog on the only slot
  pool.resize(fixed_workers(4));  // makes three slots while it is busy
  EXPECT_EQ(pool.stats().workers.size(), 4u);
  EXPECT_EQ(pool.stats().active_workers, 4u);
  post(2000);
  pool.resize(fixed_workers(2));  // retires two with tasks queued; their slots stay
  post(1000);
  pool.resize({.min = 1, .max = 6, .scaling = Scaling::adaptive, .tick = 1ms});
  EXPECT_EQ(pool.stats().workers.size(), 6u);
  pool.resize(fixed_workers(6));
  post(kTasks - posted);
  ASSERT_TRUE(eventually([&] { return tasks.done.load() == kTasks; }, 60s));
  tasks.expect_each_ran_once();
  const auto s = pool.stats();
  EXPECT_EQ(s.executed, kTasks);
  EXPECT_EQ(s.active_workers, 6u);
  EXPECT_EQ(s.workers.size(), 6u);
  EXPECT_TRUE(eventually([&] { return running_workers(pool.stats()) == 6; }));
  // A batch posted from inside a task spreads over every slot made so far.
  std::atomic<int> done{0};
  std::vector<std::function<void()>> jobs;
  for (int i = 0; i < 600; ++i) {
    jobs.emplace_back([&] {
      std::this_thread::sleep_for(200us);
      done.fetch_add(1);
    });
  }
  pool.submit([&] { pool.post_batch(std::span(jobs)); }).get();
  ASSERT_TRUE(eventually([&] { return done.load() == 600; }, 30s));
  pool.shutdown(ShutdownMode::drain);
  EXPECT_EQ(pool.stats().executed, kTasks + 601);
}

TEST(Scheduler, ResizeAfterShutdownThrows) {
  PoolConfig c = fixed(1);
  c.worker_slots = 2;
  Pool pool(c);
  pool.shutdown(ShutdownMode::drain);
  try {
    pool.resize(fixed_workers(2));
    ADD_FAILURE() << "resize after shutdown";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::shutdown);
  }
  EXPECT_EQ(pool.stats().active_workers, 1u);
  EXPECT_EQ(pool.stats().max_workers, 1u);
}

TEST(Scheduler, ResizeRandomlyWhileFourThreadsSubmitRunsEveryTaskOnce) {
  // Created with two slots: the random sizes (1..6) also make slots while
  // tasks are submitted, stolen and run.
  PoolConfig c;
  c.placement = Placement::none;
  c.workers = {.min = 1, .max = 2, .scaling = Scaling::adaptive, .idle_timeout = 5ms, .tick = 1ms};
  Pool pool(c);
  constexpr std::size_t kThreads = 4, kPerThread = 4000;
  ExactlyOnce tasks(kThreads * kPerThread);
  std::atomic<std::size_t> submitters{kThreads};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = 0; i < kPerThread; ++i) {
        tasks.post(pool, t * kPerThread + i, (i % 64 == 0) ? 200us : 0us);
        if (i % 500 == 0) std::this_thread::yield();
      }
      submitters.fetch_sub(1);
    });
  }
  unsigned resizes = 0;
  std::uint32_t seed = 12345;
  auto next = [&] {
    seed = seed * 1664525u + 1013904223u;
    return seed >> 8;
  };
  while (submitters.load() > 0 || resizes < 50) {
    const int a = 1 + static_cast<int>(next() % 6), b = 1 + static_cast<int>(next() % 6);
    if (next() % 2) {
      pool.resize({.min = a, .max = a, .scaling = Scaling::fixed, .tick = 1ms});
      EXPECT_EQ(pool.stats().active_workers, static_cast<unsigned>(a));
    } else {
      pool.resize({.min = std::min(a, b), .max = std::max(a, b), .scaling = Scaling::adaptive,
                   .idle_timeout = 5ms, .tick = 1ms});
    }
    ++resizes;
    std::this_thread::sleep_for(std::chrono::microseconds(next() % 2000));
  }
  for (auto& t : threads) t.join();
  pool.resize(fixed_workers(2));
  ASSERT_TRUE(eventually([&] { return tasks.done.load() == tasks.runs.size(); }, 120s));
  tasks.expect_each_ran_once();
  const auto s = pool.stats();
  EXPECT_EQ(s.executed, kThreads * kPerThread);
  EXPECT_EQ(s.active_workers, 2u);
  EXPECT_EQ(s.active_workers + s.scale_downs, 1u + s.scale_ups);
  EXPECT_TRUE(eventually([&] { return running_workers(pool.stats()) == 2; }));
  pool.shutdown(ShutdownMode::drain);
  EXPECT_EQ(pool.stats().executed, kThreads * kPerThread);
}

TEST(Scheduler, ResizeFromInsideATask) {
  PoolConfig c = fixed(1);
  c.worker_slots = 2;
  Pool pool(c);
  pool.submit([&] { pool.resize(fixed_workers(2)); }).get();
  EXPECT_EQ(pool.stats().active_workers, 2u);
  // Each task may run on the slot it retires.
  for (int i = 0; i < 20; ++i) {
    pool.submit([&] { pool.resize(fixed_workers(1)); }).get();
    pool.submit([&] { pool.resize(fixed_workers(2)); }).get();
  }
  const auto s = pool.stats();
  EXPECT_EQ(s.active_workers, 2u);
  EXPECT_EQ(s.scale_ups, 21u);
  EXPECT_EQ(s.scale_downs, 20u);
  EXPECT_EQ(s.executed, 41u);
}
