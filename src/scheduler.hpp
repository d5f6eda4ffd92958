// The scheduler: owns the topology, the arenas, the task pools, the worker
// slots and the housekeeper thread (deadlines and scaling). Pool is its
// public face; workers and handles call the members below.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "deadlines.hpp"
#include "dependencies.hpp"
#include "sleep.hpp"
#include "tasklets/arena.hpp"
#include "tasklets/attached_worker.hpp"
#include "tasklets/config.hpp"
#include "tasklets/pool.hpp"
#include "tasklets/scaler.hpp"
#include "tasklets/stats.hpp"
#include "tasklets/task_pool.hpp"
#include "tasklets/topology.hpp"
#include "worker.hpp"

namespace tasklets {

class Scheduler {
 public:
  Scheduler(const PoolConfig& config, std::shared_ptr<WorkerHost> host);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // --- submission (any thread) ---
  detail::TaskBase* acquire(const SubmitOptions& options, bool handle);
  void discard(detail::TaskBase* t) noexcept;            // callable not constructed
  void discard_constructed(detail::TaskBase* t) noexcept;  // constructed, never enqueued
  void enqueue(detail::TaskBase* t);
  void enqueue_bulk(detail::TaskBase* const* ts, std::size_t n);
  // Dependencies (src/dependencies.hpp). check_dependencies throws
  // Error(invalid_argument) for a null task, a task of another pool, or more
  // than kMaxDependencies in all. enqueue_after submits a constructed task
  // that waits for every task of `a` and `b` (already checked); it throws
  // (and discards the task) only before anything is registered.
  void check_dependencies(Dependencies a, Dependencies b) const;
  void enqueue_after(detail::TaskBase* t, Dependencies a, Dependencies b);
  void resolve_edge(detail::Edge& e) noexcept;

  // --- settling (any thread) ---
  bool cancel(detail::TaskBase& t) noexcept;
  bool interrupt(detail::TaskBase& t, TaskStatus why) noexcept;
  void release(detail::TaskBase& t) noexcept;
  void wait(const detail::TaskBase& t, std::int64_t deadline_ns) noexcept;

  // --- workers ---
  detail::TaskBase* find_task(detail::Worker& w) noexcept;
  void execute(detail::Worker& w, detail::TaskBase* t) noexcept;
  // The two halves of execute(), for workers that run tasks themselves.
  std::int64_t start_time(detail::Worker& w, const detail::TaskBase* t) const noexcept;
  // hosted: the task is taken by an AttachedWorker (it may be interrupted).
  bool admit(detail::Worker& w, detail::TaskBase* t, std::int64_t start, bool hosted = false) noexcept;
  // cpu_ns: the task's thread CPU time, kNoCpuTime when not measured;
  // end_ns: when it ended (steady clock), 0 to read the clock here.
  static constexpr std::uint64_t kNoCpuTime = UINT64_MAX;
  void complete(detail::Worker& w, detail::TaskBase* t, TaskStatus done, std::int64_t start,
                std::uint64_t cpu_ns = kNoCpuTime, std::int64_t end_ns = 0) noexcept;
  // Attached (foreign) threads: attached_worker.cpp.
  detail::Worker& attach(unsigned slot, detail::NotifyFn notify, void* context);
  void detach(detail::Worker& w) noexcept;
  bool abandon_slot(unsigned slot) noexcept;
  // Slots [0, slot_count()) exist; a slot below active_workers() always does.
  detail::Worker& worker(unsigned slot) noexcept { return *slots_[slot].load(std::memory_order_acquire); }
  unsigned slot_count() const noexcept { return slot_count_.load(std::memory_order_acquire); }
  bool should_exit(detail::Worker& w) const noexcept;
  bool leave(detail::Worker& w) noexcept;  // commits an exit; false if a retire was taken back
  void finish_leave(detail::Worker& w) noexcept;  // the leaving thread's last touch of its slot
  bool any_queued() const noexcept;
  detail::SleepCoordinator& sleep() noexcept { return sleep_; }
  const ResolvedConfig& config() const noexcept { return config_; }
  const Topology& topology() const noexcept { return topology_; }
  ArenaSet& arenas() noexcept { return *arenas_; }
  detail::TaskPool& task_pool(unsigned node) noexcept { return *task_pools_[node]; }

  // --- lifecycle and figures ---
  ShutdownReport shutdown(ShutdownMode mode, std::chrono::milliseconds timeout);
  PoolStats stats() const;
  void resize(const WorkersConfig& workers);  // Pool::resize (lifecycle.cpp)
  unsigned active_workers() const noexcept { return active_.load(std::memory_order_relaxed); }
  bool accepting() const noexcept {
    return state_.load(std::memory_order_acquire) == kRunning;
  }

  enum State : std::uint32_t { kRunning, kDraining, kCancelling, kStopped };
  State state() const noexcept { return static_cast<State>(state_.load(std::memory_order_acquire)); }

 private:
  // Throws Error(shutdown) unless the pool accepts tasks: the one wording
  // of a refused submission.
  void require_accepting() const;
  // The slot an outside submitter queues to next: round robin over the
  // active slots, per thread.
  unsigned next_outside_slot() noexcept;
  // Where the task this thread is submitting goes: a worker's own slot, or
  // the slot acquire() chose for an outside submitter (its memory is that
  // slot's NUMA node's).
  detail::Worker& submit_target() noexcept;
  void kick_housekeeper() noexcept;
  void adjust_pending(Priority p, std::int64_t n) noexcept;
  void wake_after_push(detail::Worker& target, std::size_t tasks) noexcept;
  void wake_one_more(detail::Worker& w) noexcept;  // the nearest sleeper in w's steal order
  detail::TaskBase* pop_from(detail::Worker& w, unsigned slot, Priority p) noexcept;
  detail::TaskBase* scan(detail::Worker& w, Priority p) noexcept;
  void settle(detail::TaskBase& t, TaskStatus status) noexcept;
  void settle_unrun(detail::TaskBase& t, TaskStatus status) noexcept;
  // queued or waiting -> to, and settled here. False if the task had left both.
  bool settle_unstarted(detail::TaskBase& t, TaskStatus to) noexcept;
  void resolve_dependents(detail::TaskBase& t, TaskStatus status) noexcept;
  void fail_waiting(detail::TaskBase& t, TaskStatus why) noexcept;
  void release_waiter(detail::Waiter* w, std::uint32_t n, bool guarded = false) noexcept;
  void enqueue_ready(detail::TaskBase& t, bool guarded) noexcept;
  void recycle(detail::TaskBase& t) noexcept;
  void help_while_waiting(detail::Worker& w, const detail::TaskBase& t, std::int64_t deadline_ns) noexcept;

  detail::SlotView slots() const noexcept { return {slots_.get(), slot_count()}; }
  void grow_slots(unsigned count);  // under control_mutex_ (or in the constructor)
  void start_worker(unsigned slot);
  void stop_worker_thread(unsigned slot);
  void housekeeper_main() noexcept;
  void expire_deadlines(std::vector<detail::TaskBase*>& due) noexcept;
  void scale_tick(std::int64_t now) noexcept;
  std::uint64_t cancel_queued() noexcept;
  bool wait_workers_exit(std::int64_t deadline_ns);

  Topology topology_;
  ResolvedConfig config_;
  std::shared_ptr<WorkerHost> host_;  // null: workers are native threads
  std::unique_ptr<ArenaSet> arenas_;
  std::vector<std::unique_ptr<detail::TaskPool>> task_pools_;
  // Worker slots: a table of pointers for the most slots a pool may have,
  // made with the scheduler; the records (queues, counters, histograms) are
  // made when the pool first needs them (grow_slots). A published record
  // never moves and lives as long as the scheduler, so growing never
  // disturbs a reader.
  std::unique_ptr<std::atomic<detail::Worker*>[]> slots_;
  std::atomic<unsigned> slot_count_{0};
  std::vector<WorkerPlacement> plan_;                          // of the published slots
  std::vector<std::unique_ptr<detail::Worker>> owned_;        // the records
  std::vector<std::unique_ptr<const std::vector<unsigned>>> steal_orders_;  // every order ever published
  detail::SleepCoordinator sleep_;

  alignas(64) std::atomic<std::uint32_t> state_{kRunning};
  std::atomic<unsigned> active_{0};          // slots [0, active) are submission targets
  std::atomic<std::uint32_t> exited_{0};     // futex word: bumped when a worker thread leaves its loop
  // Tasks settled outside any worker (cancel, deadline, shutdown).
  alignas(64) std::atomic<std::uint64_t> cancelled_outside_{0};
  std::atomic<std::uint64_t> timed_out_outside_{0};
  std::atomic<std::uint64_t> dependency_failed_{0};
  std::atomic<std::int64_t> waiting_{0};  // tasks in status waiting
  std::atomic<std::uint64_t> scale_ups_{0}, scale_downs_{0};
  std::atomic<std::uint64_t> replacements_{0};  // hosted workers restarted after their thread died
  // Ready tasks of the rare priorities, so that the common case (normal
  // only) skips scanning the high and low queues of every slot.
  alignas(64) std::atomic<std::int64_t> pending_high_{0};
  std::atomic<std::int64_t> pending_low_{0};

  detail::DeadlineTracker deadlines_;
  detail::DependencyRegistry dependents_;
  // Current worker bounds (Pool::resize changes them; config_ keeps the
  // constructed ones, and config_.max_workers is the slot capacity). Written
  // under control_mutex_; the atomics are for stats().
  std::atomic<unsigned> min_workers_{0}, max_workers_{0};
  std::atomic<Scaling> scaling_{Scaling::fixed};
  WorkersConfig knobs_;  // guarded by control_mutex_
  ScalerState scaler_state_;
  // Thread starts/stops, the bounds above, housekeeper wake-ups, and the
  // move out of kRunning (so that no worker starts after shutdown began).
  std::mutex control_mutex_;
  std::condition_variable housekeeper_cv_;
  bool housekeeper_stop_ = false;
  std::thread housekeeper_;
  std::mutex shutdown_mutex_;
  bool shut_down_ = false;
};

}  // namespace tasklets
