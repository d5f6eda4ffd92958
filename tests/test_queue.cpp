// Stress tests of the queue wrapper (src/queue.hpp) on its own: many
// producers and consumers on one TaskQueue, every item seen exactly once,
// and the exact counts the sleep protocol relies on back at zero. CI runs it
// in the normal build and under ThreadSanitizer (smaller counts there).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <thread>
#include <vector>

#include "queue.hpp"
#include "support.hpp"

using namespace tasklets;
using namespace tasklets::detail;

namespace {

using test_support::kScale;

constexpr Priority kPriorities[] = {Priority::high, Priority::normal, Priority::low};
constexpr auto kLimit = std::chrono::seconds(120);

// Items are task objects of one array: an item's index is its identity.
struct Items {
  explicit Items(std::size_t n) : tasks(n), seen(n) {
    for (std::size_t i = 0; i < n; ++i) tasks[i].priority = kPriorities[i % 3];
  }
  std::size_t index(const TaskBase* t) const { return static_cast<std::size_t>(t - tasks.data()); }
  std::vector<TaskBase> tasks;
  std::vector<std::atomic<std::uint32_t>> seen;
  std::atomic<std::size_t> taken{0};
};

// Pushes items [begin, end) as a producer must: the count raised first.
// Odd producers push in bulk runs of one priority.
void produce(TaskQueue& q, Items& items, std::size_t begin, std::size_t end, bool bulk) {
  if (!bulk) {
    for (std::size_t i = begin; i < end; ++i) {
      q.reserve(items.tasks[i].priority);
      q.push(&items.tasks[i]);
    }
    return;
  }
  for (Priority p : kPriorities) {
    std::vector<TaskBase*> run;
    for (std::size_t i = begin; i < end; ++i) {
      if (items.tasks[i].priority == p) run.push_back(&items.tasks[i]);
    }
    for (std::size_t at = 0; at < run.size(); at += 64) {
      const std::size_t n = std::min<std::size_t>(64, run.size() - at);
      q.reserve(p, static_cast<std::int64_t>(n));
      q.push_bulk(p, run.data() + at, n);
    }
  }
}

// Pops until every item was taken or the limit passed; with `tokens`, as
// the queue's owner does.
void consume(TaskQueue& q, Items& items, TaskQueue::OwnerTokens* tokens, std::chrono::steady_clock::time_point until) {
  const std::size_t n = items.tasks.size();
  while (items.taken.load(std::memory_order_relaxed) < n && std::chrono::steady_clock::now() < until) {
    bool any = false;
    for (Priority p : kPriorities) {
      TaskBase* t = tokens ? q.try_pop(*tokens, p) : q.try_pop(p);
      if (!t) continue;
      any = true;
      EXPECT_EQ(t->priority, p);
      items.seen[items.index(t)].fetch_add(1, std::memory_order_relaxed);
      items.taken.fetch_add(1, std::memory_order_relaxed);
    }
    if (!any) std::this_thread::yield();
  }
}

void expect_each_seen_once(Items& items, const TaskQueue& q) {
  std::size_t missing = 0, repeated = 0;
  for (const auto& s : items.seen) {
    const std::uint32_t v = s.load();
    if (v == 0) ++missing;
    if (v > 1) ++repeated;
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(repeated, 0u);
  for (Priority p : kPriorities) EXPECT_EQ(q.depth(p), 0) << "priority " << static_cast<int>(p);
  EXPECT_FALSE(q.any_reserved());
}

void run_contended(std::size_t n, int producers, int consumers, bool owner) {
  TaskQueue q;
  Items items(n);
  const auto until = std::chrono::steady_clock::now() + kLimit;
  std::vector<std::thread> threads;
  for (int c = 0; c < consumers; ++c) {
    threads.emplace_back([&, c] {
      if (owner && c == 0) {
        TaskQueue::OwnerTokens tokens(q);
        consume(q, items, &tokens, until);
      } else {
        consume(q, items, nullptr, until);
      }
    });
  }
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] { produce(q, items, n * p / producers, n * (p + 1) / producers, p % 2 == 1); });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(items.taken.load(), n) << "items left in the queue after " << kLimit.count() << " s";
  expect_each_seen_once(items, q);
}

}  // namespace

TEST(Queue, ManyProducersManyConsumersSeeEveryItemOnce) {
  run_contended(400'000 / kScale, 4, 4, /*owner=*/false);
}

TEST(Queue, TheOwnersTokensAndOtherConsumersShareOneQueue) {
  run_contended(400'000 / kScale, 3, 3, /*owner=*/true);
}

// The owner pushes with its producer tokens while thieves pop: what the
// owner pushed is taken once, by whoever gets it first.
TEST(Queue, OwnerPushesWithTokensWhileOthersSteal) {
  const std::size_t n = 300'000 / kScale;
  TaskQueue q;
  Items items(n);
  const auto until = std::chrono::steady_clock::now() + kLimit;
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    TaskQueue::OwnerTokens tokens(q);
    for (std::size_t i = 0; i < n; ++i) {
      q.reserve(items.tasks[i].priority);
      q.push(tokens, &items.tasks[i]);
      if (i % 8 == 0) {
        for (Priority p : kPriorities) {
          if (TaskBase* t = q.try_pop(tokens, p)) {
            items.seen[items.index(t)].fetch_add(1, std::memory_order_relaxed);
            items.taken.fetch_add(1, std::memory_order_relaxed);
          }
        }
      }
    }
    consume(q, items, &tokens, until);
  });
  for (int c = 0; c < 3; ++c) threads.emplace_back([&] { consume(q, items, nullptr, until); });
  for (auto& t : threads) t.join();
  ASSERT_EQ(items.taken.load(), n);
  expect_each_seen_once(items, q);
}

// The count is the sleep protocol's "is there work" signal: once a push has
// returned, the count stays positive until that item is popped, whatever
// other consumers do meanwhile.
TEST(Queue, CountStaysPositiveWhileAnItemIsQueued) {
  const int rounds = 20'000 / kScale;
  TaskQueue q;
  TaskBase item;
  item.priority = Priority::normal;
  std::atomic<bool> stop{false};
  std::atomic<int> stolen{0};
  std::thread thief([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      if (q.try_pop(Priority::normal)) stolen.fetch_add(1, std::memory_order_relaxed);
    }
  });
  int popped_here = 0;
  for (int r = 0; r < rounds; ++r) {
    const int before = stolen.load(std::memory_order_relaxed);
    q.reserve(Priority::normal);
    q.push(&item);
    // Until the thief took it, the count says so.
    while (stolen.load(std::memory_order_relaxed) == before) {
      if (!q.any_reserved()) {
        // Only a pop lowers the count: the thief has the item and is about
        // to say so. An item left in the queue with a zero count could
        // never be popped again (try_pop trusts the count).
        const bool told = test_support::eventually([&] { return stolen.load() != before; }, std::chrono::seconds(5));
        if (told) break;
        ADD_FAILURE() << "round " << r << ": the count reached zero with the item still queued";
        stop = true;
        thief.join();
        return;
      }
      if (q.try_pop(Priority::normal)) {
        ++popped_here;
        break;
      }
    }
  }
  stop = true;
  thief.join();
  EXPECT_EQ(popped_here + stolen.load(), rounds);
  EXPECT_FALSE(q.any_reserved());
}
