// Stress tests of the sleep protocol (src/sleep.hpp, docs/architecture.md
// "Sleep and wake") on its own, with a bare atomic count standing in for
// the queues: no lost wakeup over many park/notify races, and the sleeper
// count back at zero. A lost wakeup leaves every sleeper parked with work
// posted: the poster's wait for its round then times out and the test
// fails (and wakes everyone to finish) instead of hanging. CI runs it in the
// normal build and under ThreadSanitizer (fewer rounds there).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "sleep.hpp"
#include "support.hpp"

using namespace tasklets::detail;

namespace {

using tasklets::test_support::kScale;

constexpr auto kRoundLimit = std::chrono::seconds(10);

// Sleepers take work from `work` as workers take tasks from the queues; a
// poster adds work as a submitter does (count, fence, wake one).
struct Harness {
  explicit Harness(int sleepers) : parkers(sleepers) {}

  SleepCoordinator sc;
  std::vector<Parker> parkers;
  std::atomic<std::int64_t> work{0};
  std::atomic<std::int64_t> done_items{0};
  std::atomic<bool> stop{false};
  // Items taken when a sleeper last found no work: a poster that waits for
  // it to reach the items posted so far posts into that sleeper's way to
  // the park.
  std::atomic<std::int64_t> idle_at{-1};

  bool take() {
    std::int64_t c = work.load(std::memory_order_relaxed);
    while (c > 0) {
      if (work.compare_exchange_weak(c, c - 1, std::memory_order_acq_rel)) return true;
    }
    return false;
  }

  // A worker's loop: take, else park by the protocol (prepare, re-check,
  // cancel or sleep). A pause of varying length between the failed take
  // and the park lets the poster's next post land anywhere in between: the
  // window a missing re-check or fence would lose a wakeup in.
  void sleeper(Parker& p, int spins) {
    std::uint32_t seed = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(&p)) | 1u;
    while (!stop.load(std::memory_order_acquire)) {
      if (take()) {
        done_items.fetch_add(1, std::memory_order_acq_rel);
        continue;
      }
      idle_at.store(done_items.load(std::memory_order_acquire), std::memory_order_release);
      seed ^= seed << 13;
      seed ^= seed >> 17;
      seed ^= seed << 5;
      for (std::uint32_t i = seed % 512; i > 0; --i) cpu_relax();
      bool found = false;
      for (int i = 0; i < spins && !found; ++i) {
        cpu_relax();
        found = work.load(std::memory_order_relaxed) > 0;
      }
      if (found) continue;
      sc.prepare(p);
      if (work.load(std::memory_order_relaxed) > 0 || stop.load(std::memory_order_acquire)) {
        sc.cancel(p);
        continue;
      }
      sc.sleep(p);
    }
  }

  // The submitter's half: the count first, then the fence, then a wake.
  void post(std::int64_t n) {
    work.fetch_add(n, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (sc.sleepers() == 0) return;
    std::int64_t woken = 0;
    for (Parker& p : parkers) {
      if (woken >= n) break;
      if (sc.wake(p)) ++woken;
    }
  }

  // Stops the sleepers, waking any that is parked (after a lost wakeup
  // too: its Parker is still SLEEPING, so a wake reaches it).
  void finish(std::vector<std::thread>& threads) {
    stop.store(true, std::memory_order_seq_cst);
    while (exited.load(std::memory_order_acquire) < static_cast<int>(threads.size())) {
      for (Parker& p : parkers) sc.wake(p);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    for (auto& t : threads) t.join();
  }

  std::vector<std::thread> start(int spins) {
    std::vector<std::thread> threads;
    for (Parker& p : parkers) {
      threads.emplace_back([this, &p, spins] {
        sleeper(p, spins);
        exited.fetch_add(1, std::memory_order_release);
      });
    }
    return threads;
  }

  std::atomic<int> exited{0};
};

// One item per round, posted only once the previous one was taken: by then
// the sleepers are spinning, preparing, re-checking or parked, so every
// round races a post against the park of each of them.
void rounds_of_one(int sleepers, int spins, int rounds) {
  Harness h(sleepers);
  auto threads = h.start(spins);
  int stuck_round = -1;
  for (int r = 1; r <= rounds; ++r) {
    const auto until = std::chrono::steady_clock::now() + kRoundLimit;
    // A sleeper is on its way to the park (or parked) with nothing left.
    while (h.idle_at.load(std::memory_order_acquire) < r - 1 && std::chrono::steady_clock::now() < until) {
      std::this_thread::yield();
    }
    h.post(1);
    while (h.done_items.load(std::memory_order_acquire) < r) {
      if (std::chrono::steady_clock::now() >= until) break;
      std::this_thread::yield();
    }
    if (h.done_items.load(std::memory_order_acquire) < r) {
      stuck_round = r;
      break;
    }
  }
  const int sleeping_when_stuck = h.sc.sleepers();
  h.finish(threads);
  EXPECT_EQ(stuck_round, -1) << "lost wakeup: round " << stuck_round << " was not taken within " << kRoundLimit.count()
                             << " s (" << sleeping_when_stuck << " of " << sleepers << " sleepers parked)";
  EXPECT_EQ(h.sc.sleepers(), 0) << "the sleeper count leaked";
  EXPECT_EQ(h.work.load(), 0);
}

}  // namespace

TEST(Sleep, NoLostWakeupOneSleeperParksEveryRound) {
  rounds_of_one(1, 0, 20'000 / kScale);
}

TEST(Sleep, NoLostWakeupOneSleeperSpinsFirst) {
  rounds_of_one(1, 64, 20'000 / kScale);
}

TEST(Sleep, NoLostWakeupSeveralSleepers) {
  rounds_of_one(4, 16, 20'000 / kScale);
}

// Several posters at once, each waking one sleeper per item: every item is
// taken, and the sleeper count never goes negative nor leaks.
TEST(Sleep, ConcurrentPostersEveryItemTaken) {
  constexpr int kPosters = 3;
  const int per_poster = 20'000 / kScale;
  Harness h(3);
  auto threads = h.start(8);
  std::vector<std::thread> posters;
  std::atomic<int> min_sleepers{0};
  for (int p = 0; p < kPosters; ++p) {
    posters.emplace_back([&] {
      for (int i = 0; i < per_poster; ++i) {
        h.post(1 + i % 2);
        const int s = h.sc.sleepers();
        int m = min_sleepers.load(std::memory_order_relaxed);
        while (s < m && !min_sleepers.compare_exchange_weak(m, s, std::memory_order_relaxed)) {
        }
        if (i % 64 == 0) std::this_thread::yield();
      }
    });
  }
  for (auto& t : posters) t.join();
  std::int64_t total = 0;
  for (int i = 0; i < per_poster; ++i) total += 1 + i % 2;
  total *= kPosters;
  const bool all = tasklets::test_support::eventually(
      [&] { return h.done_items.load() == total; }, std::chrono::seconds(30));
  const std::int64_t taken = h.done_items.load();
  h.finish(threads);
  EXPECT_TRUE(all) << taken << " of " << total << " items taken: a wakeup was lost";
  EXPECT_GE(min_sleepers.load(), 0);
  EXPECT_EQ(h.sc.sleepers(), 0);
}
