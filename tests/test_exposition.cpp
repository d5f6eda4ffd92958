// Unit tests for tasklets/exposition.hpp and the CPU figures behind it: the
// fixed `le` buckets derived from the native histograms, the text written by
// write_prometheus (checked by promtool when it is installed), per-worker CPU
// time and per-task CPU time.
#include "tasklets/exposition.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>

#include "support.hpp"
#include "tasklets/pool.hpp"

namespace tasklets {
namespace {

void spin_for(std::chrono::microseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
}

TEST(Exposition, BucketsAreCumulativeAtTheFixedBounds) {
  LatencyHistogram h;
  const std::uint64_t values[] = {500, 900, 3'000, 20'000'000, 2'000'000'000, 100'000'000'000};
  std::uint64_t sum = 0;
  for (std::uint64_t v : values) {
    h.record_owned(v);
    sum += v;
  }
  const ExpositionBuckets b = exposition_buckets(snapshot(h));
  EXPECT_EQ(b.count, 6u);
  EXPECT_EQ(b.sum_ns, sum);
  auto at = [&](std::uint64_t bound_ns) {
    for (std::size_t i = 0; i < kExpositionBoundsNs.size(); ++i)
      if (kExpositionBoundsNs[i] == bound_ns) return b.cumulative[i];
    ADD_FAILURE() << "no bound " << bound_ns;
    return std::uint64_t{0};
  };
  EXPECT_EQ(at(1'000), 2u);
  EXPECT_EQ(at(2'500), 2u);
  EXPECT_EQ(at(5'000), 3u);
  EXPECT_EQ(at(10'000'000), 3u);
  EXPECT_EQ(at(25'000'000), 4u);
  EXPECT_EQ(at(2'500'000'000), 5u);
  EXPECT_EQ(at(60'000'000'000), 5u);  // 100 s is only under +Inf
  for (std::size_t i = 1; i < b.cumulative.size(); ++i) EXPECT_LE(b.cumulative[i - 1], b.cumulative[i]);
}

TEST(Exposition, EmptyHistogramHasZeroBuckets) {
  const ExpositionBuckets b = exposition_buckets(HistogramSnapshot{});
  EXPECT_EQ(b.count, 0u);
  for (std::uint64_t c : b.cumulative) EXPECT_EQ(c, 0u);
}

PoolStats stats_after_tasks(bool task_cpu, int tasks) {
  PoolConfig c = test_support::fixed_pool(2, Placement::none);
  c.task_cpu_time = task_cpu;
  Pool pool(c);
  for (int i = 0; i < tasks; ++i) pool.submit([] { spin_for(std::chrono::microseconds(200)); }).get();
  pool.submit([]() -> int { throw std::runtime_error("x"); }).wait();
  return pool.stats();
}

TEST(Exposition, WritesEveryFamilyWithTheCommonLabels) {
  const PoolStats s = stats_after_tasks(false, 20);
  std::ostringstream out;
  write_prometheus(out, s, {{"pool", "a \"quoted\"\\name"}});
  const std::string text = out.str();
  EXPECT_NE(text.find("# TYPE tasklets_run_time_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("tasklets_run_time_seconds_bucket{pool=\"a \\\"quoted\\\"\\\\name\",le=\"+Inf\"} 21\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("tasklets_run_time_seconds_count{pool=\"a \\\"quoted\\\"\\\\name\"} 21\n"), std::string::npos);
  EXPECT_NE(text.find("tasklets_tasks_total{pool=\"a \\\"quoted\\\"\\\\name\",outcome=\"succeeded\"} 20\n"),
            std::string::npos);
  EXPECT_NE(text.find("tasklets_tasks_total{pool=\"a \\\"quoted\\\"\\\\name\",outcome=\"failed\"} 1\n"),
            std::string::npos);
  // 20 tasks of 200 us each: at least 4 ms of run time, all under 25 ms... or the machine is very slow.
  EXPECT_GE(s.run_time_histogram.sum_ns, 20u * 200'000u);
  EXPECT_THROW(write_prometheus(out, s, {{"bad-name", "x"}}), Error);
}

TEST(Exposition, PromtoolAcceptsTheOutput) {
  if (access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool is not installed";
  std::ostringstream out;
  write_prometheus(out, stats_after_tasks(true, 5), {{"pool", "cpp"}});
  char path[] = "/tmp/tasklets-exposition-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << out.str();
  const std::string cmd = std::string("/usr/bin/promtool check metrics < ") + path + " > " + path + ".out 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream report(std::string(path) + ".out");
  const std::string said((std::istreambuf_iterator<char>(report)), std::istreambuf_iterator<char>());
  std::remove(path);
  std::remove((std::string(path) + ".out").c_str());
  EXPECT_EQ(rc, 0) << said;
}

TEST(Exposition, WorkerCpuTimeIsReadWithoutPerTaskCost) {
  const PoolStats s = stats_after_tasks(false, 20);
  std::uint64_t cpu = 0, busy = 0;
  for (const auto& w : s.workers) {
    cpu += w.cpu_ns;
    busy += w.busy_ns;
  }
  EXPECT_GE(busy, 20u * 200'000u);
  // The spinning tasks burned CPU on the workers' threads.
  EXPECT_GE(cpu, 20u * 150'000u);
  EXPECT_EQ(s.task_cpu.count, 0u);  // per-task CPU time is off by default
}

TEST(Exposition, TaskCpuTimeWhenAskedFor) {
  const PoolStats s = stats_after_tasks(true, 20);
  EXPECT_EQ(s.task_cpu.count, 21u);
  EXPECT_GE(s.task_cpu_histogram.sum_ns, 20u * 150'000u);
  EXPECT_LE(s.task_cpu_histogram.sum_ns, s.run_time_histogram.sum_ns + 1'000'000u);
}

}  // namespace
}  // namespace tasklets

namespace tasklets {
namespace {

// Readers take stats (reading other threads' CPU clocks) while workers start
// and leave their slots: meant for ThreadSanitizer.
TEST(Exposition, CpuClocksReadWhileWorkersComeAndGo) {
  Pool pool(test_support::fixed_pool(2, Placement::none));
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) {
      const PoolStats s = pool.stats();
      for (const auto& w : s.workers) EXPECT_LT(w.cpu_ns, std::uint64_t{1} << 62);
    }
  });
  for (int round = 0; round < 20; ++round) {
    WorkersConfig w;
    w.min = w.max = (round % 2) ? 1 : 2;
    pool.resize(w);
    for (int i = 0; i < 20; ++i) pool.submit([] { spin_for(std::chrono::microseconds(50)); }).get();
  }
  stop.store(true);
  reader.join();
  std::uint64_t cpu = 0;
  for (const auto& w : pool.stats().workers) cpu += w.cpu_ns;
  EXPECT_GT(cpu, 0u);
}

}  // namespace
}  // namespace tasklets
