// Task dependencies (SubmitOptions::depends_on): chains, diamonds, fan-in and
// fan-out, failure propagation, cancel and deadline while waiting, shutdown,
// invalid arguments, hosted workers, and randomized stress with concurrent
// submitters, cancels, failures and deadlines. CI runs this file in the
// normal build and under ThreadSanitizer (smaller counts there).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tasklets/attached_worker.hpp"
#include "tasklets/pool.hpp"
#include "support.hpp"

using namespace tasklets;
using namespace std::chrono_literals;
using detail::TaskBase;

namespace {

using test_support::eventually;
using test_support::kScale;
using test_support::error_code_of;
PoolConfig fixed(int n) { return test_support::fixed_pool(n); }

// A task that runs until opened: a dependency still in flight. Its tasks
// share the state, and a Gate opens itself when it goes out of scope, so
// that a failed assertion never leaves a pool draining spinning tasks.
struct Gate {
  struct State {
    std::atomic<bool> is_open{false};
    std::atomic<int> entered{0};
  };
  std::shared_ptr<State> state = std::make_shared<State>();
  bool fail = false;
  ~Gate() { open(); }
  Handle<void> submit(Pool& pool) {
    return pool.submit([s = state, fail = fail] {
      s->entered.fetch_add(1);
      while (!s->is_open.load()) std::this_thread::sleep_for(100us);
      if (fail) throw std::runtime_error("gate failed");
    });
  }
  // Occupies `workers` workers with posts, so that what follows stays queued.
  void hold(Pool& pool, int workers) {
    const int before = state->entered.load();
    for (int i = 0; i < workers; ++i) {
      pool.post([s = state] {
        s->entered.fetch_add(1);
        while (!s->is_open.load()) std::this_thread::sleep_for(100us);
      });
    }
    while (state->entered.load() < before + workers) std::this_thread::sleep_for(100us);
  }
  int entered() const { return state->entered.load(); }
  void open() { state->is_open.store(true); }
};

// Options with only dependencies. on(after(a, b)) is fine inside a submit
// call: the array lives until the call returns.
SubmitOptions on(Dependencies deps) {
  SubmitOptions o;
  o.depends_on = deps;
  return o;
}
SubmitOptions after_tasks(const std::vector<TaskBase*>& deps) { return on(deps); }

// Runs fn on a thread of its own and joins it. Task objects released there
// go back through that thread's cache, which is flushed when it exits: the
// pool's `live` figure is then exact (the leak check of the stress tests).
template <class F>
void on_thread(F fn) {
  std::thread(fn).join();
}

std::uint64_t live_tasks(const Pool& pool) {
  std::uint64_t live = 0;
  for (const auto& p : pool.stats().task_pools) live += p.live;
  return live;
}

struct Counter {
  std::atomic<int> n{0};
  static void bump(void* ctx, TaskBase&) noexcept { static_cast<Counter*>(ctx)->n.fetch_add(1); }
};


}  // namespace

TEST(Dependencies, StatusValuesAreAppendedAndWaitingIsNotSettled) {
  EXPECT_EQ(static_cast<int>(TaskStatus::timed_out), 5) << "existing values never move";
  EXPECT_EQ(static_cast<int>(TaskStatus::waiting), 6);
  EXPECT_EQ(static_cast<int>(TaskStatus::dependency_failed), 7);
  EXPECT_FALSE(is_settled(TaskStatus::queued));
  EXPECT_FALSE(is_settled(TaskStatus::running));
  EXPECT_FALSE(is_settled(TaskStatus::waiting));
  EXPECT_TRUE(is_settled(TaskStatus::succeeded));
  EXPECT_TRUE(is_settled(TaskStatus::failed));
  EXPECT_TRUE(is_settled(TaskStatus::cancelled));
  EXPECT_TRUE(is_settled(TaskStatus::timed_out));
  EXPECT_TRUE(is_settled(TaskStatus::dependency_failed));
  EXPECT_EQ(errc_name(Errc::dependency_failed), "dependency_failed");
}

TEST(Dependencies, AChainRunsInOrder) {
  Pool pool(fixed(2));
  constexpr int kN = 300;
  std::atomic<int> next{0}, out_of_order{0};
  std::vector<Handle<int>> hs;
  for (int i = 0; i < kN; ++i) {
    std::array<TaskBase*, 1> dep{i ? hs.back().task_base() : nullptr};
    SubmitOptions o;
    if (i) o.depends_on = dep;
    hs.push_back(pool.submit(
        [&, i] {
          if (next.load() != i) out_of_order.fetch_add(1);
          next.store(i + 1);
          return i;
        },
        o));
  }
  for (int i = 0; i < kN; ++i) EXPECT_EQ(hs[i].get(), i);
  EXPECT_EQ(out_of_order.load(), 0);
  pool.shutdown();
  const auto s = pool.stats();
  EXPECT_EQ(s.executed, static_cast<std::uint64_t>(kN));
  EXPECT_EQ(s.waiting, 0u);
  EXPECT_EQ(s.dependency_failed, 0u);
}

TEST(Dependencies, ADiamondWaitsForBothSides) {
  Pool pool(fixed(2));
  Gate gate;
  auto a = gate.submit(pool);
  std::atomic<bool> b_done{false}, c_done{false};
  auto b = pool.submit([&] { b_done.store(true); }, on(after(a)));
  auto c = pool.submit([&] { c_done.store(true); }, on(after(a)));
  auto d = pool.submit([&] { return b_done.load() && c_done.load(); }, on(after(b, c)));
  EXPECT_EQ(b.status(), TaskStatus::waiting);
  EXPECT_EQ(c.status(), TaskStatus::waiting);
  EXPECT_EQ(d.status(), TaskStatus::waiting);
  EXPECT_FALSE(d.ready());
  EXPECT_FALSE(d.wait_for(5ms));
  EXPECT_EQ(pool.stats().waiting, 3u);
  gate.open();
  EXPECT_TRUE(d.get());
  EXPECT_EQ(b.status(), TaskStatus::succeeded);
  EXPECT_EQ(pool.stats().waiting, 0u);
}

TEST(Dependencies, FanInOfManyDependencies) {
  Pool pool(fixed(2));
  const int kN = 5000 / kScale;
  std::atomic<int> done{0};
  std::vector<Handle<void>> hs;
  std::vector<TaskBase*> deps;
  for (int i = 0; i < kN; ++i) {
    hs.push_back(pool.submit([&] { done.fetch_add(1); }));
    deps.push_back(hs.back().task_base());
  }
  auto last = pool.submit([&] { return done.load(); }, after_tasks(deps));
  EXPECT_EQ(last.get(), kN);
}

TEST(Dependencies, FanOutWaitsThenAllRun) {
  Pool pool(fixed(2));
  Gate gate;
  auto g = gate.submit(pool);
  const int kN = 2000 / kScale;
  std::atomic<int> ran{0};
  std::vector<Handle<void>> hs;
  for (int i = 0; i < kN; ++i) hs.push_back(pool.submit([&] { ran.fetch_add(1); }, on(after(g))));
  EXPECT_EQ(pool.stats().waiting, static_cast<std::uint64_t>(kN));
  std::this_thread::sleep_for(5ms);
  EXPECT_EQ(ran.load(), 0);
  gate.open();
  for (auto& h : hs) h.get();
  EXPECT_EQ(ran.load(), kN);
  EXPECT_EQ(pool.stats().waiting, 0u);
}

TEST(Dependencies, DependenciesAlreadySettledAtSubmitCountAtOnce) {
  Pool pool(fixed(2));
  auto ok = pool.submit([] {});
  auto bad = pool.submit([] { throw std::runtime_error("no"); });
  ok.wait();
  bad.wait();
  Gate gate;
  gate.hold(pool, 2);
  auto cancelled = pool.submit([] {});
  EXPECT_TRUE(cancelled.cancel());
  SubmitOptions late;
  late.deadline = std::chrono::steady_clock::now() - 1ms;
  auto expired = pool.submit([] {}, late);
  EXPECT_TRUE(eventually([&] { return expired.ready(); }));
  EXPECT_EQ(expired.status(), TaskStatus::timed_out);

  Counter settled;
  std::atomic<int> ran{0};
  const auto body = [&] { ran.fetch_add(1); };
  const auto failing_after = [&](const auto&... deps) {
    std::array<TaskBase*, sizeof...(deps)> list{deps.task_base()...};
    SubmitOptions o;
    o.depends_on = list;
    o.on_complete = &Counter::bump;
    o.context = &settled;
    auto h = pool.submit(body, o);
    // Settled before submit returned, without waiting for a worker (both
    // are busy).
    EXPECT_EQ(h.status(), TaskStatus::dependency_failed);
    return h;
  };
  std::vector<Handle<void>> failed;
  failed.push_back(failing_after(bad));
  failed.push_back(failing_after(cancelled));
  failed.push_back(failing_after(expired));
  failed.push_back(failing_after(ok, bad));
  EXPECT_EQ(settled.n.load(), 4);
  for (auto& h : failed) EXPECT_EQ(error_code_of([&] { h.get(); }), Errc::dependency_failed);
  // One that succeeded: no waiting at all, just queued (behind the gate).
  auto runs = pool.submit(body, on(after(ok)));
  EXPECT_EQ(runs.status(), TaskStatus::queued);
  gate.open();
  runs.get();
  EXPECT_EQ(ran.load(), 1);
  pool.shutdown();
  EXPECT_EQ(pool.stats().dependency_failed, 4u);
  EXPECT_EQ(settled.n.load(), 4);
}

TEST(Dependencies, FailurePropagatesThroughLevelsInOrder) {
  Pool pool(fixed(2));
  Gate gate;
  gate.fail = true;
  auto a = gate.submit(pool);
  auto ok = pool.submit([] {});
  ok.wait();
  std::mutex m;
  std::vector<std::uint64_t> order;
  struct Ctx {
    std::mutex* m;
    std::vector<std::uint64_t>* order;
  } ctx{&m, &order};
  SubmitOptions o;
  o.on_complete = [](void* c, TaskBase& t) noexcept {
    auto* x = static_cast<Ctx*>(c);
    std::lock_guard lock(*x->m);
    x->order->push_back(t.id);
  };
  o.context = &ctx;
  std::atomic<int> ran{0};
  const auto a_deps = after(a);
  o.depends_on = a_deps;
  auto b = pool.submit([&] { ran.fetch_add(1); }, o);
  const auto b_deps = after(b);
  o.depends_on = b_deps;
  auto c = pool.submit([&] { ran.fetch_add(1); }, o);
  const auto c_deps = after(c);
  o.depends_on = c_deps;
  auto d = pool.submit([&] { ran.fetch_add(1); }, o);
  const auto e_deps = after(ok, d);
  o.depends_on = e_deps;
  auto e = pool.submit([&] { ran.fetch_add(1); }, o);
  gate.open();
  EXPECT_THROW(a.get(), std::runtime_error);
  e.wait();
  EXPECT_EQ(ran.load(), 0);
  for (auto* h : {&b, &c, &d, &e}) EXPECT_EQ(h->status(), TaskStatus::dependency_failed);
  pool.shutdown();  // every completion callback returned (they follow publishing)
  {
    std::lock_guard lock(m);
    EXPECT_EQ(order, (std::vector<std::uint64_t>{b.id(), c.id(), d.id(), e.id()}))
        << "a dependent's completion follows its dependency's";
  }
  const auto s = pool.stats();
  EXPECT_EQ(s.dependency_failed, 4u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.executed, 1u);
}

namespace {
// The gate's task, then n tasks each depending on the one before; each
// that runs bumps `ran`.
std::vector<Handle<void>> chain_behind(Pool& pool, Gate& gate, int n, std::atomic<int>& ran) {
  std::vector<Handle<void>> hs;
  hs.reserve(static_cast<std::size_t>(n) + 1);
  hs.push_back(gate.submit(pool));
  for (int i = 0; i < n; ++i) hs.push_back(pool.submit([&ran] { ran.fetch_add(1); }, on(after(hs.back()))));
  return hs;
}
}  // namespace

TEST(Dependencies, ALongFailingChainSettlesWithoutRecursion) {
  // A failure travelling down a chain is resolved iteratively: a recursive
  // implementation would overflow the stack here.
  Pool pool(fixed(2));
  Gate gate;
  gate.fail = true;
  const int kN = 200'000 / kScale;
  std::atomic<int> ran{0};
  std::vector<Handle<void>> hs = chain_behind(pool, gate, kN, ran);
  EXPECT_EQ(pool.stats().waiting, static_cast<std::uint64_t>(kN));
  gate.open();
  hs.back().wait();
  int wrong = 0;
  for (int i = 1; i <= kN; ++i) wrong += hs[i].status() != TaskStatus::dependency_failed;
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(pool.stats().dependency_failed, static_cast<std::uint64_t>(kN));
}

TEST(Dependencies, ALongChainThatSucceedsRunsToTheEnd) {
  Pool pool(fixed(2));
  Gate gate;
  const int kN = 100'000 / kScale;
  std::atomic<int> ran{0};
  std::vector<Handle<void>> hs = chain_behind(pool, gate, kN, ran);
  gate.open();
  hs.back().get();
  EXPECT_EQ(ran.load(), kN);
}

TEST(Dependencies, CancellingAWaitingTask) {
  Pool pool(fixed(2));
  Gate gate;
  auto g = gate.submit(pool);
  std::atomic<int> ran{0};
  Counter settled;
  SubmitOptions o;
  o.on_complete = &Counter::bump;
  o.context = &settled;
  const auto g_deps = after(g);
  o.depends_on = g_deps;
  auto w = pool.submit([&] { ran.fetch_add(1); }, o);
  const auto w_deps = after(w);
  o.depends_on = w_deps;
  auto x = pool.submit([&] { ran.fetch_add(1); }, o);
  EXPECT_EQ(pool.stats().waiting, 2u);
  EXPECT_TRUE(w.cancel());
  EXPECT_FALSE(w.cancel()) << "once";
  EXPECT_EQ(w.status(), TaskStatus::cancelled);
  EXPECT_EQ(x.status(), TaskStatus::dependency_failed) << "its dependent is told at once";
  EXPECT_EQ(error_code_of([&] { w.get(); }), Errc::cancelled);
  EXPECT_EQ(settled.n.load(), 2);
  EXPECT_EQ(pool.stats().waiting, 0u);
  gate.open();
  g.get();
  pool.shutdown();
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(settled.n.load(), 2);
  const auto s = pool.stats();
  EXPECT_EQ(s.cancelled, 1u);
  EXPECT_EQ(s.dependency_failed, 1u);
  EXPECT_EQ(s.executed, 1u);
}

TEST(Dependencies, CancellingADependency) {
  Pool pool(fixed(2));
  Gate gate;
  gate.hold(pool, 2);
  auto d = pool.submit([] {});
  std::atomic<int> ran{0};
  auto w = pool.submit([&] { ran.fetch_add(1); }, on(after(d)));
  EXPECT_EQ(w.status(), TaskStatus::waiting);
  EXPECT_TRUE(d.cancel());
  EXPECT_EQ(w.status(), TaskStatus::dependency_failed);
  gate.open();
  pool.shutdown();
  EXPECT_EQ(ran.load(), 0);
}

TEST(Dependencies, ADeadlineAppliesWhileWaiting) {
  Pool pool(fixed(2));
  Gate gate;
  auto g = gate.submit(pool);
  std::atomic<int> ran{0};
  SubmitOptions o;
  const auto deps = after(g);
  o.depends_on = deps;
  o.deadline = std::chrono::steady_clock::now() + 20ms;
  auto w = pool.submit([&] { ran.fetch_add(1); }, o);
  auto x = pool.submit([&] { ran.fetch_add(1); }, on(after(w)));
  w.wait();
  EXPECT_EQ(w.status(), TaskStatus::timed_out);
  EXPECT_EQ(error_code_of([&] { w.get(); }), Errc::timed_out);
  x.wait();
  EXPECT_EQ(x.status(), TaskStatus::dependency_failed);
  gate.open();
  g.get();
  pool.shutdown();
  EXPECT_EQ(ran.load(), 0);
  const auto s = pool.stats();
  EXPECT_EQ(s.timed_out, 1u);
  EXPECT_EQ(s.dependency_failed, 1u);
  EXPECT_EQ(s.waiting, 0u);
}

TEST(Dependencies, ADrainRunsWaitingChainsToTheEnd) {
  Pool pool(fixed(2));
  Gate gate;
  auto g = gate.submit(pool);
  std::vector<Handle<void>> hs;
  std::atomic<int> ran{0};
  for (int i = 0; i < 50; ++i) {
    const auto deps = i ? after(hs.back()) : after(g);
    hs.push_back(pool.submit([&] { ran.fetch_add(1); }, on(deps)));
  }
  std::thread stopper([&] {
    const auto r = pool.shutdown(ShutdownMode::drain);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.cancelled, 0u);
  });
  EXPECT_TRUE(eventually([&] { return !pool.accepting(); }));
  EXPECT_EQ(error_code_of([&] { pool.submit([] {}, on(after(g))); }), Errc::shutdown);
  gate.open();
  stopper.join();
  EXPECT_EQ(ran.load(), 50);
  for (auto& h : hs) EXPECT_EQ(h.status(), TaskStatus::succeeded);
  EXPECT_EQ(pool.stats().waiting, 0u);
}

TEST(Dependencies, ACancelShutdownCancelsWaitingTasks) {
  Pool pool(fixed(2));
  Gate gate;
  auto g = gate.submit(pool);
  std::vector<Handle<void>> hs;
  std::atomic<int> ran{0};
  for (int i = 0; i < 10; ++i) {
    const auto deps = i % 2 ? after(hs.back()) : after(g);
    hs.push_back(pool.submit([&] { ran.fetch_add(1); }, on(deps)));
  }
  EXPECT_TRUE(eventually([&] { return gate.entered() == 1; })) << "the gate runs (a cancel would skip it)";
  ShutdownReport report;
  std::thread stopper([&] { report = pool.shutdown(ShutdownMode::cancel); });
  EXPECT_TRUE(eventually([&] { return !pool.accepting(); }));
  gate.open();
  stopper.join();
  EXPECT_EQ(g.status(), TaskStatus::succeeded) << "it was running";
  EXPECT_EQ(ran.load(), 0);
  for (auto& h : hs) EXPECT_EQ(h.status(), TaskStatus::cancelled);
  EXPECT_EQ(report.cancelled, 10u);
  const auto s = pool.stats();
  EXPECT_EQ(s.cancelled, 10u);
  EXPECT_EQ(s.dependency_failed, 0u);
  EXPECT_EQ(s.waiting, 0u);
}

TEST(Dependencies, InvalidDependenciesSubmitNothing) {
  Pool pool(fixed(1));
  Pool other(fixed(1));
  auto mine = pool.submit([] {});
  auto theirs = other.submit([] {});
  Handle<void> empty;
  std::atomic<int> ran{0};
  std::function<void()> f = [&] { ran.fetch_add(1); };
  const auto expect_invalid = [&](Dependencies deps) {
    SubmitOptions o;
    o.depends_on = deps;
    EXPECT_EQ(error_code_of([&] { pool.submit(std::move(f), o); }), Errc::invalid_argument);
    EXPECT_TRUE(f) << "the callable was not taken";
    EXPECT_EQ(error_code_of([&] { pool.post(f, o); }), Errc::invalid_argument);
    std::vector<std::function<void()>> fns(3, f);
    EXPECT_EQ(error_code_of([&] { pool.submit_batch(std::span(fns), o); }), Errc::invalid_argument);
    EXPECT_EQ(error_code_of([&] { pool.post_batch(std::span(fns), o); }), Errc::invalid_argument);
    // One bad list among good ones, per task.
    std::array<TaskBase*, 1> good{mine.task_base()};
    std::vector<Dependencies> per_task{Dependencies(good), deps, Dependencies{}};
    EXPECT_EQ(error_code_of([&] { pool.submit_batch(std::span(fns), {}, std::span<const Dependencies>(per_task)); }),
              Errc::invalid_argument);
  };
  std::array<TaskBase*, 1> other_pool{theirs.task_base()};
  expect_invalid(other_pool);
  std::array<TaskBase*, 2> with_null{mine.task_base(), nullptr};
  expect_invalid(with_null);
  std::array<TaskBase*, 1> from_empty{empty.task_base()};
  expect_invalid(from_empty);
  std::vector<TaskBase*> too_many(kMaxDependencies + 1, mine.task_base());
  expect_invalid(too_many);
  // A per-task list for only some of the callables.
  std::vector<std::function<void()>> fns(3, f);
  std::vector<Dependencies> short_list(2);
  EXPECT_EQ(error_code_of([&] { pool.submit_batch(std::span(fns), {}, std::span<const Dependencies>(short_list)); }),
            Errc::invalid_argument);
  pool.shutdown();
  other.shutdown();
  EXPECT_EQ(ran.load(), 0);
  const auto s = pool.stats();
  EXPECT_EQ(s.executed, 1u) << "only `mine` ran";
  EXPECT_EQ(s.cancelled + s.dependency_failed + s.waiting, 0u);
}

TEST(Dependencies, TheLimitItselfIsAccepted) {
  Pool pool(fixed(2));
  auto d = pool.submit([] {});
  std::vector<TaskBase*> many(kMaxDependencies, d.task_base());  // duplicates are allowed
  auto w = pool.submit([] { return 7; }, after_tasks(many));
  EXPECT_EQ(w.get(), 7);
}

TEST(Dependencies, BatchesWithSharedAndPerTaskDependencies) {
  Pool pool(fixed(2));
  Gate gate;
  auto g = gate.submit(pool);
  const auto on_gate = after(g);
  // Every task of a batch waits for options.depends_on.
  std::vector<std::function<int()>> fns;
  for (int i = 0; i < 600; ++i) fns.push_back([i] { return i; });
  auto all = pool.submit_batch(std::span(fns), on(on_gate));
  EXPECT_EQ(pool.stats().waiting, 600u);
  // Per task: odd ones wait for the gate, even ones for nothing.
  std::vector<Dependencies> per_task(fns.size());
  for (std::size_t i = 1; i < fns.size(); i += 2) per_task[i] = on_gate;
  auto mixed = pool.submit_batch(std::span(fns), {}, std::span<const Dependencies>(per_task));
  EXPECT_EQ(mixed.size(), fns.size());
  for (std::size_t i = 0; i < fns.size(); i += 2) EXPECT_EQ(mixed[i].get(), static_cast<int>(i));
  for (std::size_t i = 1; i < fns.size(); i += 2) EXPECT_EQ(mixed[i].status(), TaskStatus::waiting);
  // post and post_batch.
  std::atomic<int> posted{0};
  pool.post([&] { posted.fetch_add(1); }, on(on_gate));
  std::vector<std::function<void()>> many(100, [&] { posted.fetch_add(1); });
  pool.post_batch(std::span(many), on(on_gate));
  std::this_thread::sleep_for(5ms);
  EXPECT_EQ(posted.load(), 0);
  gate.open();
  for (std::size_t i = 0; i < fns.size(); ++i) {
    EXPECT_EQ(all[i].get(), static_cast<int>(i));
    EXPECT_EQ(mixed[i].get(), static_cast<int>(i));
  }
  pool.shutdown();
  EXPECT_EQ(posted.load(), 101);
  EXPECT_EQ(pool.stats().waiting, 0u);
}

TEST(Dependencies, SubmittedFromInsideATask) {
  Pool pool(fixed(2));
  auto outer = pool.submit([&pool] {
    auto a = pool.submit([] { return 20; });
    auto b = pool.submit([] { return 22; });
    std::atomic<int> seen{0};
    auto sum = pool.submit([&] { return seen.load(); }, on(after(a, b)));
    // a and b are settled before sum runs; their values are read after it.
    sum.wait();
    return a.get() + b.get() + sum.get();
  });
  EXPECT_EQ(outer.get(), 42);
}

// ---------------------------------------------------------------- hosted

namespace {

struct Job {
  int finish_as;  // a TaskStatus a hosted thread finishes it with
  std::atomic<int>* taken;
  void operator()() const noexcept {}
};

struct ManualHost : WorkerHost {
  void start(unsigned) override {}
};

// A serving thread's "event loop". It must outlive the pool: a waker may
// still be inside notify() after the slot was left.
struct Loop {
  std::mutex m;
  std::condition_variable cv;
  bool signalled = false;
  static void notify(void* c) noexcept {
    auto* l = static_cast<Loop*>(c);
    std::lock_guard lock(l->m);
    l->signalled = true;
    l->cv.notify_one();
  }
};

// Serves slot 0 until the slot is let go: each task is finished with the
// status its Job names.
void serve(Pool& pool, Loop& loop) {
  AttachedWorker w(pool, 0, &Loop::notify, &loop);
  for (;;) {
    if (TaskBase* t = w.take()) {
      const Job& job = detail::payload<Job>(*t);
      job.taken->fetch_add(1);
      w.finish(t, static_cast<TaskStatus>(job.finish_as));
      continue;
    }
    const auto idle = w.idle();
    if (idle == AttachedWorker::Idle::exit) return;
    if (idle == AttachedWorker::Idle::parked) {
      std::unique_lock lock(loop.m);
      loop.cv.wait(lock, [&] { return loop.signalled; });
      loop.signalled = false;
    }
  }
}

}  // namespace

TEST(Dependencies, OnAHostedPoolAsTheAddonUsesIt) {
  Loop loop;
  Pool pool(fixed(1), std::make_shared<ManualHost>());
  std::atomic<int> taken{0};
  const auto as = [&](TaskStatus s) { return Job{static_cast<int>(s), &taken}; };
  // Raw task pointers, kept alive by handles, as the addon keeps them.
  auto ok = pool.submit(as(TaskStatus::succeeded));
  auto stopped = pool.submit(as(TaskStatus::timed_out));
  auto bad = pool.submit(as(TaskStatus::failed));
  std::vector<TaskBase*> on_ok{ok.task_base()}, on_stopped{stopped.task_base()}, on_bad{bad.task_base()};
  auto runs = pool.submit(as(TaskStatus::succeeded), after_tasks(on_ok));
  auto not1 = pool.submit(as(TaskStatus::succeeded), after_tasks(on_stopped));
  auto not2 = pool.submit(as(TaskStatus::succeeded), after_tasks(on_bad));
  EXPECT_EQ(pool.stats().waiting, 3u);
  std::thread server([&] { serve(pool, loop); });
  for (auto* h : {&runs, &not1, &not2}) h->wait();
  EXPECT_EQ(runs.status(), TaskStatus::succeeded);
  EXPECT_EQ(not1.status(), TaskStatus::dependency_failed);
  EXPECT_EQ(not2.status(), TaskStatus::dependency_failed);
  pool.shutdown();
  server.join();
  EXPECT_EQ(taken.load(), 4) << "the two dependency_failed tasks were never taken";
  const auto s = pool.stats();
  EXPECT_EQ(s.executed, 2u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.timed_out, 1u);
  EXPECT_EQ(s.dependency_failed, 2u);
}

// ---------------------------------------------------------------- stress

namespace {

struct Node {
  Handle<void> handle;
  std::atomic<bool> published{false};
  std::vector<int> deps;
  bool fail = false;
  bool spin = false;
  bool deadline = false;
  std::atomic<int> runs{0}, settles{0}, ran_too_early{0};
  std::atomic<bool> cancelled_by_us{false};
};

void count_settle(void* ctx, TaskBase&) noexcept { static_cast<Node*>(ctx)->settles.fetch_add(1); }

// Submits node i onto random earlier published nodes (most recent ones, so
// that many dependencies are still in flight).
void submit_node(Pool& pool, std::vector<Node>& nodes, int i, std::mt19937& rng) {
  Node& n = nodes[i];
  const int k = static_cast<int>(rng() % 4);  // 0..3 dependencies
  std::vector<TaskBase*> deps;
  for (int tries = 0; tries < 3 * k && static_cast<int>(n.deps.size()) < k && i > 0; ++tries) {
    const int j = i - 1 - static_cast<int>(rng() % std::min(i, 256));
    if (!nodes[j].published.load(std::memory_order_acquire)) continue;
    n.deps.push_back(j);
    deps.push_back(nodes[j].handle.task_base());
  }
  n.fail = rng() % 64 == 0;
  n.spin = rng() % 4 == 0;  // some work, so that a backlog builds up
  SubmitOptions o;
  o.depends_on = deps;
  o.on_complete = &count_settle;
  o.context = &n;
  if (rng() % 32 == 0) {
    n.deadline = true;
    o.deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(rng() % 3000);
  }
  n.handle = pool.submit(
      [&nodes, i] {
        Node& self = nodes[i];
        self.runs.fetch_add(1);
        if (self.spin) {
          const auto until = std::chrono::steady_clock::now() + 20us;
          while (std::chrono::steady_clock::now() < until) {
          }
        }
        for (int j : self.deps) {
          if (nodes[j].handle.status() != TaskStatus::succeeded) self.ran_too_early.fetch_add(1);
        }
        if (self.fail) throw std::runtime_error("random failure");
      },
      o);
  n.published.store(true, std::memory_order_release);
}

struct Tally {
  std::uint64_t succeeded = 0, failed = 0, cancelled = 0, timed_out = 0, dependency_failed = 0;
};

// Checks every node that was submitted; returns the statuses counted.
Tally check_nodes(std::vector<Node>& nodes) {
  Tally t;
  int bad = 0;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    Node& n = nodes[i];
    if (!n.published.load()) continue;
    const TaskStatus st = n.handle.status();
    const int runs = n.runs.load();
    bool ok = n.settles.load() == 1 && n.ran_too_early.load() == 0;
    bool all_deps_succeeded = true;
    for (int j : n.deps) all_deps_succeeded &= nodes[j].handle.status() == TaskStatus::succeeded;
    switch (st) {
      case TaskStatus::succeeded:
        ++t.succeeded;
        ok &= runs == 1 && !n.fail && all_deps_succeeded;
        break;
      case TaskStatus::failed:
        ++t.failed;
        ok &= runs == 1 && n.fail && all_deps_succeeded;
        break;
      case TaskStatus::cancelled:
        ++t.cancelled;
        ok &= runs == 0;
        break;
      case TaskStatus::timed_out:
        ++t.timed_out;
        ok &= runs == 0 && n.deadline;
        break;
      case TaskStatus::dependency_failed:
        ++t.dependency_failed;
        ok &= runs == 0 && !all_deps_succeeded;
        break;
      default: ok = false;
    }
    if (!ok && ++bad <= 10) {  // a few examples, not thousands of lines
      ADD_FAILURE() << "node " << i << ": status " << static_cast<int>(st) << ", runs " << runs << ", settles "
                    << n.settles.load() << ", ran too early " << n.ran_too_early.load() << ", fail " << n.fail
                    << ", deadline " << n.deadline << ", deps " << n.deps.size();
    }
  }
  EXPECT_EQ(bad, 0);
  std::printf("  submitted %llu: succeeded %llu, failed %llu, cancelled %llu, timed_out %llu, dependency_failed %llu\n",
              static_cast<unsigned long long>(t.succeeded + t.failed + t.cancelled + t.timed_out + t.dependency_failed),
              static_cast<unsigned long long>(t.succeeded), static_cast<unsigned long long>(t.failed),
              static_cast<unsigned long long>(t.cancelled), static_cast<unsigned long long>(t.timed_out),
              static_cast<unsigned long long>(t.dependency_failed));
  return t;
}

// The pool's counters agree with the nodes' statuses, and once the handles
// are dropped every task object is back in the pool.
void expect_counted_and_released(Pool& pool, std::vector<Node>& nodes, const Tally& t) {
  const auto s = pool.stats();
  EXPECT_EQ(s.executed, t.succeeded);
  EXPECT_EQ(s.failed, t.failed);
  EXPECT_EQ(s.cancelled, t.cancelled);
  EXPECT_EQ(s.timed_out, t.timed_out);
  EXPECT_EQ(s.dependency_failed, t.dependency_failed);
  EXPECT_EQ(s.waiting, 0u);
  on_thread([&] {
    for (auto& n : nodes) n.handle = {};
  });
  EXPECT_EQ(live_tasks(pool), 0u) << "every task object went back to the pool";
}

}  // namespace

TEST(DependenciesStress, RandomGraphsSettleEveryTaskOnceWithTheRightStatus) {
  const int kTasks = 40'000 / kScale;
  constexpr int kSubmitters = 3;
  Pool pool(fixed(2));
  std::vector<Node> nodes(kTasks);
  std::atomic<int> next{0};
  std::atomic<int> submitters_left{kSubmitters};
  std::vector<std::thread> threads;
  for (int s = 0; s < kSubmitters; ++s) {
    threads.emplace_back([&, s] {
      std::mt19937 rng(1234 + s);
      for (int i; (i = next.fetch_add(1)) < kTasks;) submit_node(pool, nodes, i, rng);
      submitters_left.fetch_sub(1);
    });
  }
  std::atomic<int> cancels{0};
  threads.emplace_back([&] {
    std::mt19937 rng(99);
    while (submitters_left.load() > 0) {
      const int hi = std::min(next.load(), kTasks);
      if (hi == 0) continue;
      const int i = hi - 1 - static_cast<int>(rng() % std::min(hi, 256));
      if (nodes[i].published.load(std::memory_order_acquire) && nodes[i].handle.cancel()) {
        nodes[i].cancelled_by_us.store(true);
        cancels.fetch_add(1);
      }
      if (rng() % 8 == 0) std::this_thread::sleep_for(20us);
    }
  });
  for (auto& t : threads) t.join();
  on_thread([&] { pool.shutdown(ShutdownMode::drain); });
  const Tally t = check_nodes(nodes);
  for (auto& n : nodes) {
    EXPECT_EQ(n.handle.status() == TaskStatus::cancelled, n.cancelled_by_us.load())
        << "only our cancels cancel in a drain";
  }
  EXPECT_EQ(t.cancelled, static_cast<std::uint64_t>(cancels.load()));
  EXPECT_EQ(t.succeeded + t.failed + t.cancelled + t.timed_out + t.dependency_failed,
            static_cast<std::uint64_t>(kTasks));
  EXPECT_GT(t.dependency_failed, 0u) << "the random graph exercised failure propagation";
  EXPECT_GT(t.succeeded, 0u);
  expect_counted_and_released(pool, nodes, t);
}

class DependenciesShutdownRace : public ::testing::TestWithParam<ShutdownMode> {};

TEST_P(DependenciesShutdownRace, EveryAcceptedTaskSettlesOnceAndNoneRunsAfterShutdown) {
  const int kTasks = 40'000 / kScale;
  constexpr int kSubmitters = 3;
  for (int round = 0; round < 3; ++round) {
    Pool pool(fixed(2));
    std::vector<Node> nodes(kTasks);
    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    for (int s = 0; s < kSubmitters; ++s) {
      threads.emplace_back([&, s] {
        std::mt19937 rng(round * 10 + s);
        for (int i; (i = next.fetch_add(1)) < kTasks;) {
          try {
            submit_node(pool, nodes, i, rng);
          } catch (const Error& e) {
            EXPECT_EQ(e.code(), Errc::shutdown);
            break;
          }
        }
      });
    }
    EXPECT_TRUE(eventually([&] { return next.load() > kTasks / (4 + round); }));
    on_thread([&] { pool.shutdown(GetParam()); });
    std::vector<int> runs_at_shutdown(kTasks);
    for (int i = 0; i < kTasks; ++i) runs_at_shutdown[i] = nodes[i].runs.load();
    for (auto& t : threads) t.join();
    int ran_after = 0;
    for (int i = 0; i < kTasks; ++i) ran_after += nodes[i].runs.load() != runs_at_shutdown[i];
    EXPECT_EQ(ran_after, 0) << "no task ran after shutdown returned";
    const Tally t = check_nodes(nodes);
    expect_counted_and_released(pool, nodes, t);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, DependenciesShutdownRace,
                         ::testing::Values(ShutdownMode::drain, ShutdownMode::cancel),
                         [](const auto& info) { return info.param == ShutdownMode::drain ? "drain" : "cancel"; });
