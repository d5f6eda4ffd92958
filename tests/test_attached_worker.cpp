// Worker slots served by threads the runtime did not start, each with its
// own "event loop" (a condition variable here, a Node Worker in the addon).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "tasklets/attached_worker.hpp"
#include "tasklets/pool.hpp"
#include "support.hpp"

using namespace tasklets;
using namespace std::chrono_literals;
using tasklets::test_support::eventually;

namespace {

// A task as an attached worker sees it: plain data, never called.
struct Job {
  std::atomic<int>* counter;
  int value;
  void operator()() const noexcept {}
};

// One "event loop" per slot: parks on a condition variable until notified.
struct Loop {
  std::mutex m;
  std::condition_variable cv;
  bool signalled = false;
  std::atomic<int> notifications{0};
  static void notify(void* ctx) noexcept {
    auto* l = static_cast<Loop*>(ctx);
    l->notifications.fetch_add(1);
    std::lock_guard lock(l->m);
    l->signalled = true;
    l->cv.notify_one();
  }
  void wait() {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return signalled; });
    signalled = false;
  }
};

// The loop of a hosted thread: runs jobs (a negative value fails) until the
// slot is let go, or until it ran `die_after` tasks (then it returns without
// being asked, as a terminated Node Worker does). Returns how many it ran.
int serve_slot(Pool& pool, unsigned slot, Loop& loop, int die_after = -1) {
  AttachedWorker w(pool, slot, &Loop::notify, &loop);
  int ran = 0;
  for (;;) {
    if (detail::TaskBase* t = w.take()) {
      Job& job = detail::payload<Job>(*t);
      job.counter->fetch_add(job.value);
      w.finish(t, job.value < 0);
      if (++ran == die_after) return ran;  // ~AttachedWorker detaches
      continue;
    }
    const auto idle = w.idle();
    if (idle == AttachedWorker::Idle::exit) return ran;
    if (idle == AttachedWorker::Idle::parked) loop.wait();
  }
}

class ThreadHost : public WorkerHost {
 public:
  explicit ThreadHost(unsigned slots) : loops_(slots) {}
  ~ThreadHost() override {
    for (auto& t : threads_) t.join();
  }
  void bind(Pool* pool) { pool_ = pool; }
  void start(unsigned slot) override {
    std::lock_guard lock(mutex_);
    started_.fetch_add(1);
    threads_.emplace_back([this, slot] { serve(slot); });
  }
  std::atomic<int> started_{0};
  std::atomic<int> exited_{0};
  std::vector<Loop> loops_;

 private:
  void serve(unsigned slot) {
    while (!pool_.load()) std::this_thread::yield();  // the constructor is still running
    serve_slot(*pool_.load(), slot, loops_[slot]);
    exited_.fetch_add(1);
  }
  std::atomic<Pool*> pool_{nullptr};
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

PoolConfig config(int min, int max, Scaling scaling) {
  PoolConfig c;
  c.placement = Placement::none;
  c.workers.min = min;
  c.workers.max = max;
  c.workers.scaling = scaling;
  c.workers.tick = 1ms;
  c.workers.idle_timeout = 20ms;
  c.spin_rounds = 16;
  c.yield_rounds = 2;
  return c;
}

}  // namespace

TEST(AttachedWorker, RunsEveryTaskOnceAndParksBetweenBursts) {
  auto host = std::make_shared<ThreadHost>(2);
  {
    Pool pool(config(2, 2, Scaling::fixed), host);
    host->bind(&pool);
    EXPECT_EQ(host->started_.load(), 2);
    std::atomic<int> sum{0};
    // Each burst is followed by a quiet period that lasts until both hosted
    // threads parked (observed, not guessed: a sanitizer build on a loaded
    // machine can take far longer than any fixed sleep), so the next burst
    // must wake them through their loops' notify.
    for (int burst = 0; burst < 20; ++burst) {
      for (int i = 0; i < 1000; ++i) pool.post(Job{&sum, 1});
      const auto want = 1000u * static_cast<unsigned>(burst + 1);
      ASSERT_TRUE(eventually([&] { return pool.stats().executed == want; })) << "burst " << burst;
      ASSERT_TRUE(eventually([&] { return pool.stats().sleeping_workers == 2; })) << "burst " << burst;
    }
    pool.shutdown(ShutdownMode::drain);
    EXPECT_EQ(sum.load(), 20000);
    const auto s = pool.stats();
    EXPECT_EQ(s.executed, 20000u);
    EXPECT_GT(host->loops_[0].notifications.load() + host->loops_[1].notifications.load(), 0);
  }
  // The pool lets a slot go before its host thread counts itself out.
  EXPECT_TRUE(eventually([&] { return host->exited_.load() == 2; })) << host->exited_.load();
}

TEST(AttachedWorker, FailedTasksAreCountedAndSettled) {
  auto host = std::make_shared<ThreadHost>(1);
  Pool pool(config(1, 1, Scaling::fixed), host);
  host->bind(&pool);
  std::atomic<int> sum{0};
  auto ok = pool.submit(Job{&sum, 2});
  auto bad = pool.submit(Job{&sum, -1});
  ok.wait();
  bad.wait();
  EXPECT_EQ(ok.status(), TaskStatus::succeeded);
  EXPECT_EQ(bad.status(), TaskStatus::failed);
  EXPECT_THROW(bad.get(), Error);
  pool.shutdown();
  EXPECT_EQ(pool.stats().failed, 1u);
}

TEST(AttachedWorker, AdaptiveScalingStartsAndRetiresHostedWorkers) {
  auto host = std::make_shared<ThreadHost>(3);
  Pool pool(config(1, 3, Scaling::adaptive), host);
  host->bind(&pool);
  std::atomic<int> sum{0};
  // Blocking work is simulated by a backlog the single worker cannot clear.
  for (int i = 0; i < 200000; ++i) pool.post(Job{&sum, 1});
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (pool.stats().scale_ups == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_GT(pool.stats().scale_ups, 0u);
  while (sum.load() < 200000 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  while (pool.stats().active_workers > 1 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(pool.stats().active_workers, 1u);
  EXPECT_GT(pool.stats().scale_downs, 0u);
  pool.shutdown();
  EXPECT_EQ(sum.load(), 200000);
}

TEST(AttachedWorker, RejectsASlotThatIsNotWaiting) {
  PoolConfig c = config(1, 2, Scaling::adaptive);
  Pool pool(c);  // native workers: slot 0 is served, slot 1 idle
  try {
    AttachedWorker w(pool, 1, nullptr, nullptr);
    FAIL() << "attached to an idle slot";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument);
  }
  EXPECT_THROW(AttachedWorker(pool, 99, nullptr, nullptr), Error);
}

TEST(AttachedWorker, ASlotWhoseThreadDiesIsStartedAgain) {
  // The first thread of slot 0 takes one task, finishes it and then goes
  // away without being asked to (as a terminated Node Worker does).
  struct DyingHost : WorkerHost {
    std::atomic<Pool*> pool{nullptr};
    std::atomic<int> starts{0};
    std::vector<std::thread> threads;
    std::mutex m;
    Loop loop;
    void start(unsigned slot) override {
      std::lock_guard lock(m);
      const int n = starts.fetch_add(1);
      threads.emplace_back([this, slot, n] {
        while (!pool.load()) std::this_thread::yield();
        serve_slot(*pool.load(), slot, loop, n == 0 ? 1 : -1);  // the first thread dies after one task
      });
    }
    ~DyingHost() override {
      for (auto& t : threads) t.join();
    }
  };
  auto host = std::make_shared<DyingHost>();
  {
    Pool pool(config(1, 1, Scaling::fixed), host);
    host->pool = &pool;
    std::atomic<int> sum{0};
    for (int i = 0; i < 100; ++i) pool.post(Job{&sum, 1});
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (sum.load() < 100 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(sum.load(), 100) << "the replacement served the rest";
    EXPECT_EQ(host->starts.load(), 2);
    EXPECT_EQ(pool.stats().replaced_workers, 1u);
    pool.shutdown();
  }
}

TEST(AttachedWorker, AbandonedSlotLetsShutdownFinishAndOthersServeItsQueue) {
  // The host "starts" slot 1 but its thread never comes; slot 0 is served.
  struct HalfHost : WorkerHost {
    std::atomic<Pool*> pool{nullptr};
    std::vector<std::thread> threads;
    Loop loop;
    void start(unsigned slot) override {
      if (slot == 1) return;  // lost
      threads.emplace_back([this, slot] {
        while (!pool.load()) std::this_thread::yield();
        serve_slot(*pool.load(), slot, loop);
      });
    }
    ~HalfHost() override {
      for (auto& t : threads) t.join();
    }
  };
  auto host = std::make_shared<HalfHost>();
  Pool pool(config(2, 2, Scaling::fixed), host);
  host->pool = &pool;
  EXPECT_TRUE(pool.abandon_slot(1));
  EXPECT_FALSE(pool.abandon_slot(1)) << "only once";
  EXPECT_THROW(AttachedWorker(pool, 1, nullptr, nullptr), Error) << "an abandoned slot takes no thread";
  std::atomic<int> sum{0};
  for (int i = 0; i < 1000; ++i) pool.post(Job{&sum, 1});  // half of them target slot 1
  const auto r = pool.shutdown(ShutdownMode::drain, 10s);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(sum.load(), 1000);
}

TEST(AttachedWorker, ASlotWithUnfinishedTasksDrainsBeforeItLeaves) {
  struct ManualHost : WorkerHost {
    void start(unsigned) override {}
  };
  Pool pool(config(1, 1, Scaling::fixed), std::make_shared<ManualHost>());
  std::atomic<int> sum{0};
  pool.post(Job{&sum, 1});
  std::thread stopper;
  std::thread server([&] {
    AttachedWorker w(pool, 0, nullptr, nullptr);
    detail::TaskBase* held = nullptr;
    while (!(held = w.take())) std::this_thread::yield();  // taken, finished "later" (async work)
    stopper = std::thread([&] { pool.shutdown(); });
    // Until the held task is finished, the slot must not be left.
    AttachedWorker::Idle idle;
    while ((idle = w.idle()) != AttachedWorker::Idle::drain) std::this_thread::yield();
    EXPECT_EQ(w.idle(), AttachedWorker::Idle::drain);
    w.finish(held, false);
    while ((idle = w.idle()) != AttachedWorker::Idle::exit) std::this_thread::yield();
  });
  server.join();
  stopper.join();
  EXPECT_EQ(pool.stats().executed, 1u);
}

// ---------------------------------------------------------------- stopping running tasks

namespace {

// A host whose single slot is served by a thread the test starts itself, and
// that records every interrupt request.
struct InterruptHost : WorkerHost {
  void start(unsigned) override {}
  void interrupt(unsigned slot, detail::TaskBase& task, TaskStatus why) noexcept override {
    std::lock_guard lock(m);
    calls.push_back(Call{slot, &task, why});
    cv.notify_all();
  }
  struct Call {
    unsigned slot;
    detail::TaskBase* task;
    TaskStatus why;
  };
  std::vector<Call> snapshot() {
    std::lock_guard lock(m);
    return calls;
  }
  // Waits until at least n calls were recorded (or 30 s passed).
  bool wait_calls(std::size_t n) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, 30s, [&] { return calls.size() >= n; });
  }
  std::mutex m;
  std::condition_variable cv;
  std::vector<Call> calls;
};

// Serves slot 0 of `pool`: each task taken is handed to `on_task`, which
// finishes it (or not) through the worker; returns when the slot is let go.
// The loop outlives the pool: a waker may still be inside Loop::notify when
// the slot is left.
template <class OnTask>
void serve_with(Pool& pool, Loop& loop, OnTask on_task) {
  AttachedWorker w(pool, 0, &Loop::notify, &loop);
  for (;;) {
    if (detail::TaskBase* t = w.take()) {
      on_task(w, t);
      continue;
    }
    const auto idle = w.idle();
    if (idle == AttachedWorker::Idle::exit) return;
    if (idle == AttachedWorker::Idle::parked) loop.wait();
  }
}

}  // namespace

TEST(AttachedWorker, FinishWithEachStatusIsCountedAndSettled) {
  Loop loop;  // outlives the pool
  auto host = std::make_shared<InterruptHost>();
  Pool pool(config(1, 1, Scaling::fixed), host);
  std::atomic<int> sum{0};
  // Job::value selects the status the serving thread finishes with.
  std::thread server([&] {
    serve_with(pool, loop, [](AttachedWorker& w, detail::TaskBase* t) {
      static constexpr TaskStatus kBy[] = {TaskStatus::succeeded, TaskStatus::failed, TaskStatus::cancelled,
                                           TaskStatus::timed_out};
      w.finish(t, kBy[detail::payload<Job>(*t).value]);
    });
  });
  auto ok = pool.submit(Job{&sum, 0});
  auto bad = pool.submit(Job{&sum, 1});
  auto stopped = pool.submit(Job{&sum, 2});
  auto late = pool.submit(Job{&sum, 3});
  for (auto* h : {&ok, &bad, &stopped, &late}) h->wait();
  EXPECT_EQ(ok.status(), TaskStatus::succeeded);
  EXPECT_EQ(bad.status(), TaskStatus::failed);
  EXPECT_EQ(stopped.status(), TaskStatus::cancelled);
  EXPECT_EQ(late.status(), TaskStatus::timed_out);
  EXPECT_NO_THROW(ok.get());
  try {
    bad.get();
    FAIL() << "a failed task returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::system);
  }
  try {
    stopped.get();
    FAIL() << "a cancelled task returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::cancelled);
  }
  try {
    late.get();
    FAIL() << "a timed-out task returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::timed_out);
  }
  pool.shutdown();
  server.join();
  const auto s = pool.stats();
  EXPECT_EQ(s.executed, 1u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.cancelled, 1u);
  EXPECT_EQ(s.timed_out, 1u);
  EXPECT_EQ(s.workers[0].counters.cancelled, 1u);
  EXPECT_EQ(s.workers[0].counters.timed_out, 1u);
  EXPECT_TRUE(host->snapshot().empty()) << "nobody asked for an interrupt";
}

TEST(AttachedWorker, ARunningHostedTaskPastItsDeadlineIsInterruptedOnce) {
  Loop loop;  // outlives the pool
  auto host = std::make_shared<InterruptHost>();
  Pool pool(config(1, 1, Scaling::fixed), host);
  std::atomic<int> sum{0};
  std::atomic<detail::TaskBase*> taken{nullptr};
  std::atomic<bool> interrupted_before_finish{false};
  std::thread server([&] {
    serve_with(pool, loop, [&](AttachedWorker& w, detail::TaskBase* t) {
      taken.store(t);
      // "Runs" until its host is told to stop it, as a Node executor would
      // run a long JavaScript function until it is terminated.
      interrupted_before_finish.store(host->wait_calls(1));
      w.finish(t, TaskStatus::timed_out);
    });
  });
  SubmitOptions o;
  // Far enough for the serving thread to take it first even on a loaded
  // machine (a task taken after its deadline is timed out without running).
  o.deadline = std::chrono::steady_clock::now() + 1s;
  auto h = pool.submit(Job{&sum, 1}, o);
  h.wait();
  EXPECT_NE(taken.load(), nullptr) << "the serving thread did not take the task before its deadline";
  EXPECT_TRUE(interrupted_before_finish.load());
  EXPECT_EQ(h.status(), TaskStatus::timed_out);
  try {
    h.get();
    FAIL() << "a timed-out task returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::timed_out);
  }
  // Let the housekeeper run a few more passes: it must not ask again.
  std::this_thread::sleep_for(50ms);
  pool.shutdown();
  server.join();
  const auto calls = host->snapshot();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].slot, 0u);
  EXPECT_EQ(calls[0].task, taken.load());
  EXPECT_EQ(calls[0].task, h.task_base());
  EXPECT_EQ(calls[0].why, TaskStatus::timed_out);
  const auto s = pool.stats();
  EXPECT_EQ(s.timed_out, 1u);
  EXPECT_EQ(s.executed, 0u);
  EXPECT_EQ(s.failed, 0u);
}

TEST(AttachedWorker, AHostedTaskFinishedBeforeItsDeadlineIsNotInterrupted) {
  Loop loop;  // outlives the pool
  auto host = std::make_shared<InterruptHost>();
  Pool pool(config(1, 1, Scaling::fixed), host);
  std::atomic<int> sum{0};
  std::thread server([&] { serve_with(pool, loop, [](AttachedWorker& w, detail::TaskBase* t) { w.finish(t, false); }); });
  SubmitOptions o;
  const auto deadline = std::chrono::steady_clock::now() + 200ms;
  o.deadline = deadline;
  auto h = pool.submit(Job{&sum, 1}, o);
  h.wait();
  const bool in_time = std::chrono::steady_clock::now() < deadline;
  std::this_thread::sleep_until(deadline + 50ms);  // the housekeeper pops the entry meanwhile
  pool.shutdown();
  server.join();
  if (in_time) {
    EXPECT_EQ(h.status(), TaskStatus::succeeded);
    EXPECT_TRUE(host->snapshot().empty());
  }
}

TEST(AttachedWorker, InterruptTaskReachesTheHostOnlyForRunningHostedTasks) {
  Loop loop;  // outlives the pool
  auto host = std::make_shared<InterruptHost>();
  Pool pool(config(1, 1, Scaling::fixed), host);
  std::atomic<int> sum{0};
  // Queued (no thread serves the slot yet): nothing to interrupt.
  auto h = pool.submit(Job{&sum, 1});
  EXPECT_FALSE(detail::interrupt_task(*h.task_base(), TaskStatus::cancelled));
  std::atomic<bool> running{false};
  std::thread server([&] {
    serve_with(pool, loop, [&](AttachedWorker& w, detail::TaskBase* t) {
      running.store(true);
      host->wait_calls(2);
      w.finish(t, TaskStatus::cancelled);
    });
  });
  while (!running.load()) std::this_thread::yield();
  EXPECT_TRUE(detail::interrupt_task(*h.task_base(), TaskStatus::cancelled));
  EXPECT_TRUE(detail::interrupt_task(*h.task_base(), TaskStatus::timed_out)) << "every request is passed on";
  h.wait();
  EXPECT_EQ(h.status(), TaskStatus::cancelled);
  EXPECT_FALSE(detail::interrupt_task(*h.task_base(), TaskStatus::cancelled)) << "settled";
  EXPECT_FALSE(h.cancel()) << "a task that ran cannot be cancelled";
  pool.shutdown();
  server.join();
  const auto calls = host->snapshot();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].task, h.task_base());
  EXPECT_EQ(calls[0].why, TaskStatus::cancelled);
  EXPECT_EQ(calls[1].why, TaskStatus::timed_out);
  EXPECT_EQ(pool.stats().cancelled, 1u);
}

TEST(AttachedWorker, InterruptTaskIgnoresTasksOfNativeWorkers) {
  Pool pool(config(1, 1, Scaling::fixed));
  std::atomic<bool> started{false}, release{false};
  auto h = pool.submit([&] {
    started.store(true);
    while (!release.load()) std::this_thread::yield();
  });
  while (!started.load()) std::this_thread::yield();
  EXPECT_EQ(h.status(), TaskStatus::running);
  EXPECT_FALSE(detail::interrupt_task(*h.task_base(), TaskStatus::cancelled));
  release.store(true);
  h.get();
  EXPECT_FALSE(detail::interrupt_task(*h.task_base(), TaskStatus::cancelled));
}

TEST(AttachedWorker, CancelTaskWorksOnARawRetainedPointer) {
  Loop loop;  // outlives the pool
  auto host = std::make_shared<InterruptHost>();
  Pool pool(config(1, 1, Scaling::fixed), host);
  std::atomic<int> sum{0};
  std::atomic<int> settled{0};
  SubmitOptions o;
  o.on_complete = [](void* ctx, detail::TaskBase&) noexcept { static_cast<std::atomic<int>*>(ctx)->fetch_add(1); };
  o.context = &settled;
  // As the addon does: no handle, a raw pointer kept alive by a reference
  // of its own.
  detail::TaskBase* raw;
  {
    auto h = pool.submit(Job{&sum, 1}, o);
    raw = h.task_base();
    detail::retain(*raw);
  }
  EXPECT_TRUE(detail::cancel_task(*raw));
  EXPECT_FALSE(detail::cancel_task(*raw));
  EXPECT_EQ(raw->status(), TaskStatus::cancelled);
  EXPECT_EQ(settled.load(), 1);
  detail::release(*raw);
  std::thread server([&] { serve_with(pool, loop, [](AttachedWorker& w, detail::TaskBase* t) { w.finish(t, false); }); });
  pool.shutdown();
  server.join();
  EXPECT_EQ(sum.load(), 0);
  EXPECT_EQ(pool.stats().cancelled, 1u);
  EXPECT_EQ(pool.stats().executed, 0u);
}

TEST(AttachedWorker, ResizeStartsHostedWorkersAndRetiredOnesExitCleanly) {
  auto host = std::make_shared<ThreadHost>(4);
  const auto running = [](const PoolStats& s) {
    unsigned n = 0;
    for (const auto& w : s.workers) n += w.running ? 1 : 0;
    return n;
  };
  auto fixed = [](int n) { return WorkersConfig{.min = n, .max = n, .scaling = Scaling::fixed, .tick = 1ms}; };
  {
    PoolConfig c = config(1, 1, Scaling::fixed);
    c.worker_slots = 4;
    Pool pool(c, host);
    host->bind(&pool);
    EXPECT_EQ(host->started_.load(), 1);
    std::atomic<int> sum{0};
    for (int i = 0; i < 3000; ++i) pool.post(Job{&sum, 1});
    pool.resize(fixed(3));
    EXPECT_EQ(host->started_.load(), 3) << "WorkerHost::start is called before resize returns";
    EXPECT_EQ(pool.stats().active_workers, 3u);
    for (int i = 0; i < 3000; ++i) pool.post(Job{&sum, 1});  // queued on all three slots
    pool.resize(fixed(1));
    ASSERT_TRUE(eventually([&] { return host->exited_.load() == 2; }));
    ASSERT_TRUE(eventually([&] { return sum.load() == 6000; }));
    auto s = pool.stats();
    EXPECT_EQ(s.executed, 6000u);
    EXPECT_EQ(s.active_workers, 1u);
    EXPECT_EQ(s.scale_ups, 2u);
    EXPECT_EQ(s.scale_downs, 2u);
    EXPECT_EQ(running(s), 1u);
    // A retire right behind the start: the hosted threads may attach to a
    // slot that is already retiring; they leave at once.
    int total = 6000;
    for (int round = 0; round < 10; ++round) {
      const int started = host->started_.load();
      pool.resize(fixed(4));
      EXPECT_EQ(host->started_.load(), started + 3);
      for (int i = 0; i < 400; ++i) pool.post(Job{&sum, 1});
      pool.resize(fixed(1));
      total += 400;
      ASSERT_TRUE(eventually([&] { return host->exited_.load() == host->started_.load() - 1; })) << "round " << round;
      ASSERT_TRUE(eventually([&] { return sum.load() == total; })) << "round " << round;
      EXPECT_EQ(running(pool.stats()), 1u);
    }
    s = pool.stats();
    EXPECT_EQ(s.active_workers + s.scale_downs, 1u + s.scale_ups);
    EXPECT_EQ(s.replaced_workers, 0u);
    pool.shutdown();
    EXPECT_EQ(sum.load(), total);
  }
  // The pool lets a slot go before its host thread counts itself out.
  EXPECT_TRUE(eventually([&] { return host->exited_.load() == host->started_.load(); }))
      << host->exited_.load() << " of " << host->started_.load() << " hosted threads exited";
}

TEST(AttachedWorker, ResizeWhoseHostCannotStartKeepsTheBoundsAndRetries) {
  // start() throws for its first call after construction, then works.
  struct FlakyHost : WorkerHost {
    std::atomic<Pool*> pool{nullptr};
    std::atomic<int> calls{0};
    std::vector<std::thread> threads;
    std::mutex m;
    Loop loops[2];
    void start(unsigned slot) override {
      if (calls.fetch_add(1) == 1) throw Error(Errc::system, "no thread now");
      std::lock_guard lock(m);
      threads.emplace_back([this, slot] {
        while (!pool.load()) std::this_thread::yield();
        serve_slot(*pool.load(), slot, loops[slot]);
      });
    }
    ~FlakyHost() override {
      for (auto& t : threads) t.join();
    }
  };
  auto host = std::make_shared<FlakyHost>();
  {
    PoolConfig c = config(1, 1, Scaling::fixed);
    c.worker_slots = 2;
    Pool pool(c, host);
    host->pool = &pool;
    EXPECT_THROW(pool.resize({.min = 2, .max = 2, .scaling = Scaling::fixed, .tick = 1ms}), Error);
    EXPECT_EQ(pool.stats().min_workers, 2u) << "the bounds are in force";
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (pool.stats().active_workers < 2 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
    EXPECT_EQ(pool.stats().active_workers, 2u) << "the housekeeper started it later";
    EXPECT_EQ(host->calls.load(), 3);
    std::atomic<int> sum{0};
    for (int i = 0; i < 1000; ++i) pool.post(Job{&sum, 1});
    pool.shutdown();
    EXPECT_EQ(sum.load(), 1000);
  }
}
