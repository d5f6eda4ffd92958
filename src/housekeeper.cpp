// The housekeeper thread: settles tasks whose deadline passed while they
// were queued, asks the host to stop those running on a hosted slot
// (WorkerHost::interrupt), compacts the deadline heap, and applies the adaptive scaling
// policy every tick (docs/architecture.md, "Scaling").
#include <algorithm>
#include <climits>
#include <new>

#include "scheduler.hpp"

namespace tasklets {

using detail::TaskBase;

void Scheduler::scale_tick(std::int64_t now) noexcept {
  ScalerInput in;
  in.active = active_.load(std::memory_order_relaxed);
  in.min = min_workers_.load(std::memory_order_relaxed);
  in.max = max_workers_.load(std::memory_order_relaxed);
  in.sleeping = static_cast<unsigned>(std::max(0, sleep_.sleepers()));
  in.now_ns = now;
  for (detail::Worker* w : slots()) {
    for (unsigned p = 0; p < kPriorityCount; ++p) {
      in.backlog += static_cast<std::uint64_t>(std::max<std::int64_t>(0, w->queue.depth(static_cast<Priority>(p))));
    }
    in.max_wait_ns = std::max(in.max_wait_ns, w->max_wait_ns.exchange(0, std::memory_order_relaxed));
  }
  switch (decide_scaling(knobs_, in, scaler_state_)) {
    case ScaleAction::grow:
      try {
        start_worker(in.active);
      } catch (...) {
        return;  // no thread could be started: try again next tick
      }
      // Counted before the new size is published: a stats() reader that
      // sees the size (acquire) sees the step that made it.
      scale_ups_.fetch_add(1, std::memory_order_relaxed);
      active_.store(in.active + 1, std::memory_order_release);
      break;
    case ScaleAction::shrink:
      scale_downs_.fetch_add(1, std::memory_order_relaxed);
      active_.store(in.active - 1, std::memory_order_release);
      stop_worker_thread(in.active - 1);
      break;
    case ScaleAction::none: break;
  }
}

void Scheduler::expire_deadlines(std::vector<TaskBase*>& due) noexcept {
  due.clear();
  try {
    if (deadlines_.wants_compaction()) {
      for (TaskBase* t : deadlines_.compact()) release(*t);
    }
    deadlines_.take_due(detail::now_ns(), due);
  } catch (const std::bad_alloc&) {
    // Out of memory: settle what was already collected; the rest waits for
    // the next pass.
  }
  for (TaskBase* t : due) {
    if (settle_unstarted(*t, TaskStatus::timed_out)) {  // queued, or waiting for dependencies
      timed_out_outside_.fetch_add(1, std::memory_order_relaxed);
    } else {
      // Running on a hosted slot: its host is asked to stop it (once: the
      // entry leaves the heap here). The tracker's reference keeps the task
      // alive until interrupt() returns.
      interrupt(*t, TaskStatus::timed_out);
    }
    release(*t);
  }
}

void Scheduler::housekeeper_main() noexcept {
  std::vector<TaskBase*> due;
  due.reserve(64);
  for (;;) {
    {
      // The lock covers only the wait: settling runs completion callbacks,
      // which may submit (and so take this mutex to re-arm us).
      std::unique_lock lock(control_mutex_);
      if (housekeeper_stop_) return;
      // Pool::resize may change both, and notifies us. A fixed pool ticks
      // only while it is below its size (a worker that could not be started).
      const bool ticking = scaling_.load(std::memory_order_relaxed) == Scaling::adaptive ||
                           active_.load(std::memory_order_relaxed) < min_workers_.load(std::memory_order_relaxed);
      const auto tick = std::chrono::duration_cast<std::chrono::nanoseconds>(knobs_.tick).count();
      std::int64_t wake = ticking ? detail::now_ns() + tick : INT64_MAX;
      const std::int64_t next_deadline = deadlines_.next();
      if (next_deadline >= 0) wake = std::min(wake, next_deadline);
      // A request to compact that arrived while we were busy (its notify
      // found nobody waiting) is seen here instead of being lost.
      if (deadlines_.wants_compaction()) wake = 0;
      if (wake == 0) {
        // Nothing to wait for.
      } else if (wake == INT64_MAX) {
        housekeeper_cv_.wait(lock);
      } else {
        housekeeper_cv_.wait_until(lock, std::chrono::steady_clock::time_point(std::chrono::nanoseconds(wake)));
      }
      if (housekeeper_stop_) return;
    }
    expire_deadlines(due);
    {
      // The state is read under the lock: shutdown leaves kRunning under it,
      // so no worker is started once shutdown began.
      std::lock_guard lock(control_mutex_);
      const bool ticking = scaling_.load(std::memory_order_relaxed) == Scaling::adaptive ||
                           active_.load(std::memory_order_relaxed) < min_workers_.load(std::memory_order_relaxed);
      if (ticking && state() == kRunning) scale_tick(detail::now_ns());
    }
  }
}

}  // namespace tasklets
