// A plain snapshot of a pool's figures; every field is documented for users
// in docs/architecture.md ("Reading the stats").
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tasklets/arena.hpp"
#include "tasklets/config.hpp"
#include "tasklets/metrics.hpp"
#include "tasklets/task_pool.hpp"

namespace tasklets {

struct WorkerStats {
  unsigned id = 0;
  bool running = false;          // a thread currently serves this slot
  std::vector<unsigned> pus;     // OS indices of the PUs it is bound to (empty: unbound)
  unsigned numa = 0;             // NUMA node index
  bool pinned = false;           // binding requested, applied and read back
  std::string bind_error;        // why it is not pinned, when it asked to be
  WorkerCountersSnapshot counters{};
  std::uint64_t cpu_ns = 0;   // CPU time of the threads that served this slot
  std::uint64_t busy_ns = 0;  // sum of the run times of its tasks
};

struct PoolStats {
  std::string topology;          // Topology::summary()
  Placement placement = Placement::none;
  Scaling scaling = Scaling::fixed;
  unsigned min_workers = 0, max_workers = 0, active_workers = 0, sleeping_workers = 0;
  std::uint64_t scale_ups = 0, scale_downs = 0;
  std::uint64_t replaced_workers = 0;  // hosted workers restarted after their thread died
  std::array<std::uint64_t, 3> queued{};  // by priority: high, normal, low
  std::uint64_t waiting = 0;  // tasks waiting for their dependencies now (in no queue)
  // Totals over workers plus tasks settled outside them (cancel, deadline).
  std::uint64_t executed = 0, failed = 0, cancelled = 0, timed_out = 0, stolen = 0;
  // Tasks settled without running because a dependency did not succeed.
  std::uint64_t dependency_failed = 0;
  LatencySummary queue_wait{};   // submit -> start
  LatencySummary run_time{};     // start -> end
  LatencySummary task_cpu{};     // thread CPU per task (PoolConfig::task_cpu_time)
  // The histograms behind the three summaries (write_prometheus).
  HistogramSnapshot queue_wait_histogram{}, run_time_histogram{}, task_cpu_histogram{};
  std::vector<WorkerStats> workers;
  std::vector<TaskPoolStats> task_pools;  // per NUMA node
  std::vector<ArenaStats> arenas;         // per NUMA node
};

}  // namespace tasklets
