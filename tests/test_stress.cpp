// Stress tests that prove exactly-once settlement under contention: every
// task is counted by id, and every accepted task settles exactly once
// whatever races it (cancel, deadline, shutdown, scaling). CI runs this file
// in the normal build and under ThreadSanitizer (smaller counts there).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "tasklets/pool.hpp"
#include "support.hpp"

using namespace tasklets;
using namespace std::chrono_literals;

namespace {

using test_support::kScale;
PoolConfig pool_config(int workers) { return test_support::fixed_pool(workers); }

// Per-task settlement record: runs counts executions of the body, settles
// counts completion callbacks.
struct Ledger {
  explicit Ledger(std::size_t n) : runs(n), settles(n) {}
  std::vector<std::atomic<std::uint32_t>> runs;
  std::vector<std::atomic<std::uint32_t>> settles;
};

struct Tag {
  Ledger* ledger;
  std::size_t index;
};

void on_settle(void* ctx, detail::TaskBase&) noexcept {
  auto* tag = static_cast<Tag*>(ctx);
  tag->ledger->settles[tag->index].fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

TEST(Stress, MillionsOfTasksFromSeveralProducersRunExactlyOnce) {
  const std::size_t kTasks = 2'000'000 / kScale;
  constexpr int kProducers = 4;
  Pool pool(pool_config(2));
  std::vector<std::atomic<std::uint8_t>> runs(kTasks);
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      const std::size_t begin = kTasks * p / kProducers, end = kTasks * (p + 1) / kProducers;
      std::size_t i = begin;
      while (i < end) {
        if (p % 2 == 0) {
          // Bulk submission in chunks of 64.
          std::vector<std::function<void()>> chunk;
          for (std::size_t k = 0; k < 64 && i < end; ++k, ++i) {
            chunk.emplace_back([&runs, i] { runs[i].fetch_add(1, std::memory_order_relaxed); });
          }
          pool.post_batch(std::span(chunk));
        } else {
          pool.post([&runs, i] { runs[i].fetch_add(1, std::memory_order_relaxed); });
          ++i;
        }
      }
    });
  }
  for (auto& t : producers) t.join();
  pool.shutdown(ShutdownMode::drain);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < kTasks; ++i) wrong += runs[i].load() != 1;
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(pool.stats().executed, kTasks);
}

TEST(Stress, CancelRacingExecutionSettlesEachTaskOnce) {
  const std::size_t kTasks = 300'000 / kScale;
  Pool pool(pool_config(2));
  Ledger ledger(kTasks);
  std::vector<Tag> tags(kTasks);
  std::vector<Handle<void>> handles(kTasks);
  std::atomic<std::size_t> submitted{0};
  std::thread producer([&] {
    for (std::size_t i = 0; i < kTasks; ++i) {
      tags[i] = Tag{&ledger, i};
      SubmitOptions o;
      o.on_complete = &on_settle;
      o.context = &tags[i];
      handles[i] = pool.submit([&ledger, i] { ledger.runs[i].fetch_add(1, std::memory_order_relaxed); }, o);
      submitted.store(i + 1, std::memory_order_release);
    }
  });
  std::atomic<std::size_t> cancelled{0};
  std::thread canceller([&] {
    std::mt19937_64 rng(7);
    std::size_t seen = 0;
    while (seen < kTasks) {
      const std::size_t n = submitted.load(std::memory_order_acquire);
      for (; seen < n; ++seen) {
        if (rng() % 2 && handles[seen].cancel()) cancelled.fetch_add(1);
      }
    }
  });
  producer.join();
  canceller.join();
  pool.shutdown(ShutdownMode::drain);
  std::size_t bad = 0, ran = 0;
  for (std::size_t i = 0; i < kTasks; ++i) {
    const auto r = ledger.runs[i].load();
    const auto s = ledger.settles[i].load();
    const auto st = handles[i].status();
    bad += s != 1;
    bad += st == TaskStatus::cancelled ? r != 0 : (st != TaskStatus::succeeded || r != 1);
    ran += r;
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(ran + cancelled.load(), kTasks);
  const auto stats = pool.stats();
  EXPECT_EQ(stats.executed, ran);
  EXPECT_EQ(stats.cancelled, cancelled.load());
}

TEST(Stress, DeadlinesRacingExecutionSettleEachTaskOnce) {
  const std::size_t kTasks = 100'000 / kScale;
  Pool pool(pool_config(2));
  Ledger ledger(kTasks);
  std::vector<Tag> tags(kTasks);
  std::vector<Handle<void>> handles;
  handles.reserve(kTasks);
  std::mt19937 rng(11);
  for (std::size_t i = 0; i < kTasks; ++i) {
    tags[i] = Tag{&ledger, i};
    SubmitOptions o;
    o.on_complete = &on_settle;
    o.context = &tags[i];
    o.deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(rng() % 200);
    handles.push_back(pool.submit(
        [&ledger, i] {
          ledger.runs[i].fetch_add(1, std::memory_order_relaxed);
          std::this_thread::yield();
        },
        o));
  }
  pool.shutdown(ShutdownMode::drain);
  std::size_t bad = 0, timed_out = 0, ran = 0;
  for (std::size_t i = 0; i < kTasks; ++i) {
    const auto st = handles[i].status();
    bad += ledger.settles[i].load() != 1;
    if (st == TaskStatus::timed_out) {
      ++timed_out;
      bad += ledger.runs[i].load() != 0;
    } else {
      bad += st != TaskStatus::succeeded || ledger.runs[i].load() != 1;
      ++ran;
    }
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_GT(timed_out, 0u) << "the test should make some deadlines pass";
  const auto stats = pool.stats();
  EXPECT_EQ(stats.timed_out, timed_out);
  EXPECT_EQ(stats.executed, ran);
}

TEST(Stress, ShutdownRacingProducersLosesNoAcceptedTask) {
  for (int round = 0; round < 20 / kScale + 2; ++round) {
    const std::size_t kPerProducer = 50'000 / kScale;
    auto pool = std::make_unique<Pool>(pool_config(2));
    Ledger ledger(2 * kPerProducer);
    std::vector<Tag> tags(2 * kPerProducer);
    std::atomic<std::size_t> accepted{0}, rejected{0};
    std::vector<std::thread> producers;
    for (int p = 0; p < 2; ++p) {
      producers.emplace_back([&, p] {
        for (std::size_t k = 0; k < kPerProducer; ++k) {
          const std::size_t i = p * kPerProducer + k;
          tags[i] = Tag{&ledger, i};
          SubmitOptions o;
          o.on_complete = &on_settle;
          o.context = &tags[i];
          try {
            pool->post([&ledger, i] { ledger.runs[i].fetch_add(1, std::memory_order_relaxed); }, o);
            accepted.fetch_add(1);
          } catch (const Error& e) {
            EXPECT_EQ(e.code(), Errc::shutdown);
            rejected.fetch_add(1);
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200 * round));
    const auto report = pool->shutdown(round % 2 ? ShutdownMode::cancel : ShutdownMode::drain);
    for (auto& t : producers) t.join();
    std::size_t settled = 0, ran = 0, bad = 0;
    for (std::size_t i = 0; i < 2 * kPerProducer; ++i) {
      settled += ledger.settles[i].load();
      ran += ledger.runs[i].load();
      bad += ledger.settles[i].load() > 1 || ledger.runs[i].load() > ledger.settles[i].load();
    }
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(settled, accepted.load()) << "round " << round;
    EXPECT_EQ(accepted.load() + rejected.load(), 2 * kPerProducer);
    EXPECT_EQ(ran + report.cancelled, accepted.load()) << "round " << round;
  }
}

TEST(Stress, AdaptiveScalingChurnKeepsExactlyOnce) {
  PoolConfig c;
  c.placement = Placement::none;
  c.workers.min = 1;
  c.workers.max = 4;
  c.workers.scaling = Scaling::adaptive;
  c.workers.tick = 500us;
  c.workers.idle_timeout = 2ms;
  c.workers.grow_after_ticks = 1;
  Pool pool(c);
  const std::size_t kBursts = 60 / kScale + 4, kPerBurst = 5000;
  std::vector<std::atomic<std::uint8_t>> runs(kBursts * kPerBurst);
  for (std::size_t b = 0; b < kBursts; ++b) {
    for (std::size_t k = 0; k < kPerBurst; ++k) {
      const std::size_t i = b * kPerBurst + k;
      pool.post([&runs, i] {
        runs[i].fetch_add(1, std::memory_order_relaxed);
        if (i % 64 == 0) std::this_thread::sleep_for(20us);
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(b % 3 == 0 ? 8 : 1));
  }
  pool.shutdown(ShutdownMode::drain);
  std::size_t wrong = 0;
  for (auto& r : runs) wrong += r.load() != 1;
  EXPECT_EQ(wrong, 0u);
  const auto s = pool.stats();
  EXPECT_GT(s.scale_ups, 0u);
  EXPECT_GT(s.scale_downs, 0u);
}

// Tasks spawned inside the pool go to the spawning worker's own deque: the
// owner pops them newest first, the other worker steals them oldest first,
// their spawner cancels a third of them right after the push (racing both),
// and a shutdown(cancel) lands in the middle. Every task that was accepted
// settles exactly once and runs at most once, and only if it succeeded.
TEST(Stress, TasksSpawnedInsideThePoolSettleExactlyOnce) {
  const std::size_t kRoots = 3000 / kScale;
  constexpr std::size_t kChildren = 64;
  const std::size_t n = kRoots * kChildren;
  Ledger ledger(n);
  std::vector<Tag> tags(n);
  std::vector<std::atomic<std::uint8_t>> accepted(n), succeeded(n);
  for (std::size_t i = 0; i < n; ++i) tags[i] = Tag{&ledger, i};
  std::atomic<std::size_t> roots_done{0};
  Pool pool(pool_config(2));
  for (std::size_t r = 0; r < kRoots; ++r) {
    pool.post([&, r] {
      std::vector<Handle<void>> handles;
      handles.reserve(kChildren);
      for (std::size_t c = 0; c < kChildren; ++c) {
        const std::size_t i = r * kChildren + c;
        SubmitOptions o;
        o.on_complete = on_settle;
        o.context = &tags[i];
        try {
          handles.push_back(pool.submit([&ledger, &succeeded, i] {
            ledger.runs[i].fetch_add(1, std::memory_order_relaxed);
            succeeded[i].store(1, std::memory_order_relaxed);
          }, o));
        } catch (const Error&) {
          break;  // shutdown began: this one was never accepted
        }
        accepted[i].store(1, std::memory_order_relaxed);
        if (c % 3 == 0) handles.back().cancel();
      }
      for (auto& h : handles) h.wait();  // helps: runs its own deque meanwhile
      roots_done.fetch_add(1, std::memory_order_relaxed);
    });
  }
  ASSERT_TRUE(test_support::eventually([&] { return roots_done.load() >= kRoots / 2; }));
  pool.shutdown(ShutdownMode::cancel);
  std::size_t wrong = 0, ran = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned runs = ledger.runs[i].load(), settles = ledger.settles[i].load();
    ran += runs;
    if (accepted[i].load()) {
      wrong += settles != 1 || runs > 1;
    } else {
      wrong += settles != 0 || runs != 0;
    }
  }
  EXPECT_EQ(wrong, 0u);
  EXPECT_GT(ran, 0u);
  const PoolStats s = pool.stats();
  EXPECT_EQ(s.executed, ran + roots_done.load());
}
