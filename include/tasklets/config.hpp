// Pool configuration: the plain struct users fill in, and its validation.
// Validation lives here (not in the scheduler) so that every caller, the
// Node addon included, gets the same typed errors for the same mistakes.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "tasklets/placement.hpp"

namespace tasklets {

class Topology;

enum class Scaling { fixed, adaptive };
Scaling parse_scaling(std::string_view name);  // "fixed" | "adaptive"
std::string_view scaling_name(Scaling) noexcept;

struct WorkersConfig {
  // nullopt means "auto". max auto = one worker per PU the process may use;
  // min auto = max for fixed scaling, 1 for adaptive scaling.
  std::optional<int> min;
  std::optional<int> max;
  Scaling scaling = Scaling::fixed;
  // Adaptive scaling knobs (docs/tuning.md).
  std::chrono::milliseconds idle_timeout{5000};    // shrink after the pool idled this long
  std::chrono::microseconds tick{2000};            // how often the scaler looks
  unsigned backlog_per_worker = 2;                 // queued tasks per active worker that count as waiting
  std::chrono::microseconds wait_threshold{1000};  // a queue wait above this counts as waiting
  unsigned grow_after_ticks = 2;                   // consecutive waiting ticks before growing
};

// The most workers (and worker slots) a pool may have.
inline constexpr unsigned kMaxWorkers = 1024;

struct PoolConfig {
  WorkersConfig workers;
  Placement placement = Placement::numa;
  // "" (TASKLETS_TOPOLOGY or the real machine), "system",
  // "synthetic:<hwloc synthetic description>", "xml:<path>".
  std::string topology;
  unsigned spin_rounds = 256;   // idle polls before yielding
  unsigned yield_rounds = 16;   // sched_yield polls before parking
  bool latency_metrics = true;  // record queue-wait and run-time histograms
  // Also record each task's thread CPU time (two CPU-clock reads per task:
  // a system call each, about 1 us on some machines, so off by default).
  bool task_cpu_time = false;
  // Worker slots to make at once. 0: workers.max. Pool::resize makes more
  // when it grows past them (up to kMaxWorkers), so this only moves that
  // cost to construction; every slot's queue is scanned when stealing, so
  // more slots than the pool uses cost a little on every steal. Must be 0
  // or at least workers.max, and at most kMaxWorkers.
  unsigned worker_slots = 0;
};

// A validated configuration with every "auto" resolved against a topology.
struct ResolvedConfig {
  unsigned min_workers;
  unsigned max_workers;
  Scaling scaling;
  WorkersConfig workers;  // the knobs, validated
  Placement placement;
  unsigned spin_rounds;
  unsigned yield_rounds;
  bool latency_metrics;
  bool task_cpu_time;
  unsigned worker_slots;  // made at construction; >= max_workers
};

// Throws Error(Errc::invalid_argument) naming the offending field:
// min or max <= 0, min > max, a negative or zero tick, ...
ResolvedConfig resolve_config(const PoolConfig& config, const Topology& topology);

}  // namespace tasklets
