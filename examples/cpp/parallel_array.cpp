// A C++ program that uses an installed tasklets: it squares and sums a large
// array in parallel with post_batch, runs one task at high priority, cancels
// a task before it starts, and prints the pool's stats. Built three ways by
// tests/consumers/run.sh (pkg-config, meson subproject, CMake find_package);
// docs/building.md, "Using tasklets from C++", shows each.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <future>
#include <latch>
#include <numeric>
#include <span>
#include <vector>

#include <tasklets/pool.hpp>

namespace {

constexpr std::size_t kValues = 1 << 24;  // 16 Mi values, 128 MiB
constexpr std::size_t kJobs = 256;

std::uint64_t sum_of_squares(std::span<const std::uint32_t> values) {
  std::uint64_t sum = 0;
  for (std::uint32_t v : values) sum += std::uint64_t{v} * v;
  return sum;
}

// post_batch returns nothing to wait on: each job writes its own partial
// sum and counts down a latch.
std::uint64_t parallel_sum_of_squares(tasklets::Pool& pool, std::span<const std::uint32_t> values) {
  std::vector<std::uint64_t> partial(kJobs);
  std::latch done(kJobs);
  std::vector<std::function<void()>> jobs;
  jobs.reserve(kJobs);
  const std::size_t per_job = values.size() / kJobs;
  for (std::size_t j = 0; j < kJobs; ++j) {
    jobs.emplace_back([&, j] {
      partial[j] = sum_of_squares(values.subspan(j * per_job, per_job));
      done.count_down();
    });
  }
  pool.post_batch(std::span(jobs));
  done.wait();
  return std::accumulate(partial.begin(), partial.end(), std::uint64_t{0});
}

// A task that waits for another one is in no queue until then, so it can
// always be cancelled before it starts.
bool cancel_a_waiting_task(tasklets::Pool& pool) {
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  auto first = pool.submit([opened] { opened.wait(); });
  tasklets::SubmitOptions after_first;
  const auto deps = tasklets::after(first);
  after_first.depends_on = deps;
  auto second = pool.submit([] { return 1; }, after_first);
  const bool cancelled = second.cancel();
  gate.set_value();
  first.get();
  try {
    second.get();
    return false;
  } catch (const tasklets::Error& e) {
    return cancelled && e.code() == tasklets::Errc::cancelled;
  }
}

}  // namespace

int main() {
  std::vector<std::uint32_t> values(kValues);
  std::iota(values.begin(), values.end(), std::uint32_t{0});
  for (auto& v : values) v %= 1000;

  tasklets::PoolConfig config;
  config.workers = {.min = 2, .max = 2};
  tasklets::Pool pool(config);

  const std::uint64_t parallel = parallel_sum_of_squares(pool, values);
  const std::uint64_t serial = sum_of_squares(values);
  std::printf("sum of squares: %llu (%s)\n", static_cast<unsigned long long>(parallel),
              parallel == serial ? "matches one thread" : "MISMATCH");

  tasklets::SubmitOptions urgent;
  urgent.priority = tasklets::Priority::high;
  const int answer = pool.submit([] { return 6 * 7; }, urgent).get();
  std::printf("high priority task: %d\n", answer);

  const bool cancelled = cancel_a_waiting_task(pool);
  std::printf("cancelled before it started: %s\n", cancelled ? "yes" : "no");

  const tasklets::PoolStats s = pool.stats();
  std::printf("stats: %u workers, %llu executed, %llu cancelled, run time p50 %llu ns\n",
              s.active_workers, static_cast<unsigned long long>(s.executed),
              static_cast<unsigned long long>(s.cancelled),
              static_cast<unsigned long long>(s.run_time.p50_ns));
  pool.shutdown(tasklets::ShutdownMode::drain);
  return parallel == serial && answer == 42 && cancelled ? 0 : 1;
}
