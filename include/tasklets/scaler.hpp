// Adaptive scaling policy: a pure function of what the housekeeper observed,
// so that it is tested without threads (tests/test_scaler.cpp).
//
// Grow by one worker when work has been waiting for grow_after_ticks
// consecutive ticks while no worker slept; work "waits" when the backlog
// exceeds backlog_per_worker per active worker, or when a task waited in a
// queue longer than wait_threshold. Shrink by one worker when the pool has
// had a sleeping worker and an empty backlog for idle_timeout, counted from
// the later of "idle began" and "last change" (the hysteresis that keeps it
// from flapping: one step down per idle_timeout at most).
#pragma once

#include <cstdint>

#include "tasklets/config.hpp"

namespace tasklets {

struct ScalerInput {
  unsigned active = 0;           // workers serving slots now
  unsigned min = 0, max = 0;     // resolved bounds
  unsigned sleeping = 0;         // parked workers
  std::uint64_t backlog = 0;     // queued tasks, every priority
  std::uint64_t max_wait_ns = 0; // longest queue wait seen since the last tick
  std::int64_t now_ns = 0;
};

struct ScalerState {
  unsigned waiting_ticks = 0;
  std::int64_t idle_since_ns = -1;  // -1: not idle
  std::int64_t last_change_ns = 0;
};

enum class ScaleAction { none, grow, shrink };

ScaleAction decide_scaling(const WorkersConfig& knobs, const ScalerInput& in, ScalerState& state) noexcept;

}  // namespace tasklets
