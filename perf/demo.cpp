// The README's demo: a real parallel workload on the pool, then the pool's
// own throughput and latency figures, read from its stats.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <thread>
#include <vector>

#include "tasklets/pool.hpp"

using namespace tasklets;
using Clock = std::chrono::steady_clock;

namespace {

bool is_prime(std::uint64_t n) {
  if (n < 2) return false;
  for (std::uint64_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}

std::uint64_t count_primes(std::uint64_t begin, std::uint64_t end) {
  std::uint64_t c = 0;
  for (std::uint64_t n = begin; n < end; ++n) c += is_prime(n);
  return c;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

constexpr std::uint64_t kLimit = 3'000'000, kChunk = 50'000;

void primes_demo(Pool& pool) {
  auto t0 = Clock::now();
  const std::uint64_t inline_count = count_primes(0, kLimit);
  const double inline_s = seconds_since(t0);

  t0 = Clock::now();
  std::vector<Handle<std::uint64_t>> parts;
  for (std::uint64_t b = 0; b < kLimit; b += kChunk) {
    parts.push_back(pool.submit([b] { return count_primes(b, std::min(b + kChunk, kLimit)); }));
  }
  std::uint64_t parallel_count = 0;
  for (auto& h : parts) parallel_count += h.get();
  const double pool_s = seconds_since(t0);
  std::printf("primes below %llu: %llu (pool) vs %llu (one thread)\n",
              static_cast<unsigned long long>(kLimit), static_cast<unsigned long long>(parallel_count),
              static_cast<unsigned long long>(inline_count));
  std::printf("  one thread %.3f s, pool %.3f s in %zu tasks: speedup %.2fx\n", inline_s, pool_s,
              parts.size(), inline_s / pool_s);
  if (parallel_count != inline_count) std::printf("  MISMATCH: the results differ\n");
}

void throughput_demo(Pool& pool) {
  constexpr int kTasks = 2'000'000;
  std::atomic<long> sum{0};
  std::vector<std::function<void()>> batch;
  auto t0 = Clock::now();
  for (int i = 0; i < kTasks; ++i) pool.post([&sum] { sum.fetch_add(1, std::memory_order_relaxed); });
  while (sum.load() < kTasks) std::this_thread::yield();
  const double single_s = seconds_since(t0);

  struct Inc {
    std::atomic<long>* sum;
    void operator()() const { sum->fetch_add(1, std::memory_order_relaxed); }
  };
  std::vector<Inc> fns(kTasks, Inc{&sum});
  t0 = Clock::now();
  pool.post_batch(std::span(fns));
  while (sum.load() < 2L * kTasks) std::this_thread::yield();
  const double bulk_s = seconds_since(t0);
  std::printf("empty tasks: %.2f M tasks/s submitted one by one, %.2f M tasks/s in bulk\n",
              kTasks / single_s / 1e6, kTasks / bulk_s / 1e6);
}

void latency_demo(Pool& pool) {
  constexpr int kRounds = 20000;
  std::vector<double> rtt;
  rtt.reserve(kRounds);
  for (int i = 0; i < kRounds; ++i) {
    if (i % 1000 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let workers park
    const auto t0 = Clock::now();
    pool.submit([] { return 1; }).get();
    rtt.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(rtt.begin(), rtt.end());
  std::printf("round trip of one task (submit -> get): p50 %.1f us, p99 %.1f us\n", rtt[rtt.size() / 2],
              rtt[rtt.size() * 99 / 100]);
}

void print_stats(const Pool& pool) {
  const PoolStats s = pool.stats();
  std::printf("\npool: %s, placement %s, %u workers (%s)\n", s.topology.c_str(),
              std::string(placement_name(s.placement)).c_str(), s.active_workers,
              std::string(scaling_name(s.scaling)).c_str());
  for (const auto& w : s.workers) {
    std::printf("  worker %u: node %u, PUs", w.id, w.numa);
    for (unsigned pu : w.pus) std::printf(" %u", pu);
    std::printf(", %s, executed %llu, stolen %llu, parked %llu\n",
                w.pinned ? "pinned" : ("unpinned: " + w.bind_error).c_str(),
                static_cast<unsigned long long>(w.counters.executed),
                static_cast<unsigned long long>(w.counters.stolen),
                static_cast<unsigned long long>(w.counters.parked));
  }
  std::printf("  queue wait p50 %.2f us, p99 %.2f us; run time p50 %.2f us, p99 %.2f us\n",
              s.queue_wait.p50_ns / 1e3, s.queue_wait.p99_ns / 1e3, s.run_time.p50_ns / 1e3,
              s.run_time.p99_ns / 1e3);
  for (std::size_t n = 0; n < s.task_pools.size(); ++n) {
    std::printf("  node %zu task pool: %llu objects (%llu KiB), %llu chunk allocations; arena resident %llu KiB\n", n,
                static_cast<unsigned long long>(s.task_pools[n].capacity),
                static_cast<unsigned long long>(s.task_pools[n].chunk_bytes / 1024),
                static_cast<unsigned long long>(s.task_pools[n].misses),
                static_cast<unsigned long long>(s.arenas[n].resident_bytes / 1024));
  }
}

}  // namespace

int main() {
  PoolConfig config;
  config.placement = Placement::compact;
  Pool pool(config);
  std::printf("tasklets demo\n=============\n");
  primes_demo(pool);
  throughput_demo(pool);
  latency_demo(pool);
  print_stats(pool);
  pool.shutdown();
  return 0;
}
