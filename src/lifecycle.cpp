// The scheduler's threads and its end: starting and retiring worker
// threads, attaching foreign ones, shutdown, and the stats snapshot.
#include <algorithm>
#include <climits>
#include <exception>
#include <string>

#include "current_worker.hpp"
#include "scheduler.hpp"

namespace tasklets {

using detail::t_scheduler;
using detail::t_worker;
using detail::TaskBase;
using detail::Worker;

// ---------------------------------------------------------------- threads

void Scheduler::start_worker(unsigned slot) {
  Worker& w = worker(slot);
  std::uint32_t expected = Worker::kRetire;
  if (w.control.compare_exchange_strong(expected, Worker::kServe, std::memory_order_acq_rel)) {
    return;  // its thread had not left yet: it simply keeps serving
  }
  // A thread between deciding to leave and its last write: a few instructions.
  while (w.control.load(std::memory_order_acquire) == Worker::kLeaving) std::this_thread::yield();
  if (w.thread.joinable()) w.thread.join();
  w.control.store(Worker::kServe, std::memory_order_release);
  if (host_) {
    try {
      host_->start(slot);
    } catch (...) {
      w.control.store(Worker::kIdle, std::memory_order_release);
      throw;
    }
    return;
  }
  w.thread = std::thread([this, &w] {
    t_worker = &w;
    t_scheduler = this;
    detail::worker_main(*this, w);
  });
}

Worker& Scheduler::attach(unsigned slot, detail::NotifyFn notify, void* context) {
  if (slot >= slot_count()) throw Error(Errc::invalid_argument, "no worker slot " + std::to_string(slot));
  Worker& w = worker(slot);
  bool unclaimed = false;
  // A slot retired before its thread arrived (Pool::resize right after a
  // grow) is still attached: the thread finds it retiring and leaves at once.
  const std::uint32_t c = w.control.load(std::memory_order_acquire);
  if (t_worker != nullptr || (c != Worker::kServe && c != Worker::kRetire) ||
      !w.claimed.compare_exchange_strong(unclaimed, true, std::memory_order_acq_rel)) {
    throw Error(Errc::invalid_argument,
                "worker slot " + std::to_string(slot) + " is not waiting for a thread, or this thread already serves one");
  }
  w.parker.notify_context.store(context, std::memory_order_release);
  w.parker.notify.store(notify, std::memory_order_release);
  t_worker = &w;
  t_scheduler = this;
  detail::pin(*this, w);
  w.cpu.bind_current();
  w.tokens = std::make_unique<detail::TaskQueue::OwnerTokens>(w.queue);
  w.last_ns = 0;
  return w;
}

void Scheduler::detach(Worker& w) noexcept {
  // A serving thread that goes away without being asked to (its event loop
  // is closing) still leaves the slot in a state shutdown can see.
  std::uint32_t c = w.control.load(std::memory_order_acquire);
  while ((c == Worker::kServe || c == Worker::kRetire) &&
         !w.control.compare_exchange_weak(c, Worker::kLeaving, std::memory_order_acq_rel)) {
  }
  if (c != Worker::kServe && c != Worker::kRetire) return;
  finish_leave(w);
  // A slot the pool still counts on lost its thread (a Node Worker that was
  // terminated, or that exited from inside a task): ask the host for a new
  // one, so that a fixed pool keeps its size. Its queue waits meanwhile, and
  // other workers may steal from it.
  if (c == Worker::kServe && host_) {
    std::lock_guard lock(control_mutex_);
    if (state() == kRunning && w.id < active_.load(std::memory_order_acquire) &&
        w.control.load(std::memory_order_acquire) == Worker::kExited) {
      // Counted first: the replacement may serve (and a reader may look)
      // before start_worker returns.
      replacements_.fetch_add(1, std::memory_order_relaxed);
      try {
        start_worker(w.id);
      } catch (...) {
        replacements_.fetch_sub(1, std::memory_order_relaxed);
        // The host could not start one now; the slot stays empty and its
        // queue is served by stealing.
      }
    }
  }
}

bool Scheduler::abandon_slot(unsigned slot) noexcept {
  if (slot >= slot_count()) return false;
  Worker& w = worker(slot);
  bool unclaimed = false;
  std::uint32_t c = w.control.load(std::memory_order_acquire);
  if ((c != Worker::kServe && c != Worker::kRetire) ||
      !w.claimed.compare_exchange_strong(unclaimed, true, std::memory_order_acq_rel)) {
    return false;  // served (or being served) by a thread, or not waiting at all
  }
  // No thread will ever serve it: it is exited without having run. Other
  // workers steal whatever was queued for it. A CAS, not a store: the scaler
  // may take a retire back (retire -> serve) meanwhile.
  w.claimed.store(false, std::memory_order_release);
  c = w.control.load(std::memory_order_acquire);
  while ((c == Worker::kServe || c == Worker::kRetire) &&
         !w.control.compare_exchange_weak(c, Worker::kExited, std::memory_order_acq_rel)) {
  }
  exited_.fetch_add(1, std::memory_order_release);
  detail::futex_wake(exited_, INT32_MAX);
  return true;
}

void Scheduler::stop_worker_thread(unsigned slot) {
  Worker& w = worker(slot);
  // Only a served slot is retired: one whose thread died or never came
  // (exited, idle) has nothing to stop, and must stay out of serving().
  std::uint32_t expected = Worker::kServe;
  if (!w.control.compare_exchange_strong(expected, Worker::kRetire, std::memory_order_acq_rel)) return;
  // The worker may be parked: wake it so it sees the retire.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  sleep_.wake(w.parker);
}

// ---------------------------------------------------------------- slots

void Scheduler::grow_slots(unsigned count) {
  const unsigned have = slot_count_.load(std::memory_order_relaxed);
  if (count <= have) return;
  // Everything is made before anything is published: running out of memory
  // here leaves the pool as it was.
  auto plan = extend_plan(topology_, config_.placement, plan_, count);
  std::vector<std::unique_ptr<const std::vector<unsigned>>> orders;
  orders.reserve(count);
  for (unsigned i = 0; i < count; ++i) {
    orders.push_back(std::make_unique<const std::vector<unsigned>>(steal_order(plan, i)));
  }
  std::vector<std::unique_ptr<Worker>> made;
  for (unsigned i = have; i < count; ++i) made.push_back(std::make_unique<Worker>(i, plan[i], orders[i].get()));
  owned_.reserve(owned_.size() + made.size());
  steal_orders_.reserve(steal_orders_.size() + orders.size());
  // A record is complete before its pointer is (release), and the pointers
  // before the count; active_ only rises past them after this returns.
  for (auto& w : made) {
    slots_[w->id].store(w.get(), std::memory_order_release);
    owned_.push_back(std::move(w));
  }
  slot_count_.store(count, std::memory_order_release);
  // The placed slots' threads may be scanning their old order right now:
  // it stays alive (steal_orders_), they pick the new one on their next scan.
  for (unsigned i = 0; i < have; ++i) worker(i).steal_order.store(orders[i].get(), std::memory_order_release);
  for (auto& order : orders) steal_orders_.push_back(std::move(order));
  plan_ = std::move(plan);
}

// ---------------------------------------------------------------- resize

void Scheduler::resize(const WorkersConfig& workers) {
  // Validated as a new pool's workers would be, with max auto = the slots
  // made so far.
  PoolConfig wanted;
  wanted.workers = workers;
  if (!workers.max && !(workers.scaling == Scaling::fixed && workers.min)) {
    wanted.workers.max = static_cast<int>(slot_count());
  }
  const ResolvedConfig r = resolve_config(wanted, topology_);
  std::lock_guard lock(control_mutex_);
  if (state() != kRunning) {
    throw Error(Errc::shutdown, "the pool is shut down; its workers cannot be resized");
  }
  grow_slots(r.max_workers);
  knobs_ = r.workers;
  min_workers_.store(r.min_workers, std::memory_order_relaxed);
  max_workers_.store(r.max_workers, std::memory_order_relaxed);
  scaling_.store(r.scaling, std::memory_order_relaxed);
  // Adaptive scaling starts afresh: no step for idle_timeout after this one.
  scaler_state_ = ScalerState{};
  scaler_state_.last_change_ns = detail::now_ns();
  std::exception_ptr failure;
  unsigned active = active_.load(std::memory_order_relaxed);
  while (active < r.min_workers) {
    try {
      start_worker(active);
    } catch (...) {
      failure = std::current_exception();  // the housekeeper retries every tick
      break;
    }
    // Counted before the new size is published, as in scale_tick.
    scale_ups_.fetch_add(1, std::memory_order_relaxed);
    active_.store(++active, std::memory_order_release);
  }
  while (active > r.max_workers) {
    // The slot stops taking submissions first, then its worker is retired:
    // it leaves once its own queue is empty (the others steal from it too).
    scale_downs_.fetch_add(1, std::memory_order_relaxed);
    active_.store(--active, std::memory_order_release);
    stop_worker_thread(active);
  }
  housekeeper_cv_.notify_one();  // the scaling mode or the tick may have changed
  if (failure) std::rethrow_exception(failure);
}

// ---------------------------------------------------------------- shutdown

bool Scheduler::wait_workers_exit(std::int64_t deadline_ns) {
  for (;;) {
    const std::uint32_t seen = exited_.load(std::memory_order_acquire);
    bool all = true;
    for (Worker* w : slots()) {
      if (w->serving()) all = false;
    }
    if (all) return true;
    std::int64_t left = -1;
    if (deadline_ns >= 0) {
      left = deadline_ns - detail::now_ns();
      if (left <= 0) return false;
    }
    detail::futex_wait(exited_, seen, left);
  }
}

std::uint64_t Scheduler::cancel_queued() noexcept {
  std::uint64_t cancelled = 0;
  for (Worker* w : slots()) {
    for (unsigned p = 0; p < kPriorityCount; ++p) {
      while (TaskBase* t = w->queue.try_pop(static_cast<Priority>(p))) {
        if (t->claim(TaskStatus::cancelled)) {
          settle_unrun(*t, TaskStatus::cancelled);
          ++cancelled;
        }
        release(*t);
      }
    }
  }
  cancelled_outside_.fetch_add(cancelled, std::memory_order_relaxed);
  return cancelled;
}

ShutdownReport Scheduler::shutdown(ShutdownMode mode, std::chrono::milliseconds timeout) {
  std::lock_guard guard(shutdown_mutex_);
  ShutdownReport report;
  if (shut_down_) return report;
  if (t_scheduler == this) {
    throw Error(Errc::invalid_argument, "shutdown() cannot be called from inside one of the pool's own tasks");
  }
  const auto before = cancelled_outside_.load(std::memory_order_relaxed);
  std::uint64_t by_workers_before = 0;
  for (Worker* w : slots()) by_workers_before += w->counters.cancelled.load(std::memory_order_relaxed);

  {
    // Under the control mutex: a resize or a scaling tick that saw kRunning
    // has finished starting its workers, and none starts after this.
    std::lock_guard lock(control_mutex_);
    state_.store(mode == ShutdownMode::drain ? kDraining : kCancelling, std::memory_order_seq_cst);
  }
  for (Worker* w : slots()) sleep_.wake(w->parker);
  std::int64_t deadline = -1;
  if (timeout != std::chrono::milliseconds::max()) {
    deadline = detail::now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  }
  if (!wait_workers_exit(deadline)) {
    report.timed_out = true;
    state_.store(kCancelling, std::memory_order_seq_cst);
    for (Worker* w : slots()) sleep_.wake(w->parker);
    wait_workers_exit(-1);
  }
  {
    std::lock_guard lock(control_mutex_);
    housekeeper_stop_ = true;
    housekeeper_cv_.notify_all();
  }
  housekeeper_.join();
  for (Worker* w : slots()) {
    if (w->thread.joinable()) w->thread.join();
  }
  cancel_queued();
  for (TaskBase* t : deadlines_.take_all()) release(*t);
  state_.store(kStopped, std::memory_order_seq_cst);
  std::uint64_t by_workers_after = 0;
  for (Worker* w : slots()) by_workers_after += w->counters.cancelled.load(std::memory_order_relaxed);
  report.cancelled = cancelled_outside_.load(std::memory_order_relaxed) - before +
                     (by_workers_after - by_workers_before);
  shut_down_ = true;
  return report;
}

// ---------------------------------------------------------------- figures

PoolStats Scheduler::stats() const {
  PoolStats s;
  s.topology = topology_.summary();
  s.placement = config_.placement;
  s.scaling = scaling_.load(std::memory_order_relaxed);
  s.min_workers = min_workers_.load(std::memory_order_relaxed);
  s.max_workers = max_workers_.load(std::memory_order_relaxed);
  s.active_workers = active_.load(std::memory_order_acquire);  // before the scale counters (scale_tick)
  s.sleeping_workers = static_cast<unsigned>(std::max(0, sleep_.sleepers()));
  s.scale_ups = scale_ups_.load(std::memory_order_relaxed);
  s.scale_downs = scale_downs_.load(std::memory_order_relaxed);
  s.replaced_workers = replacements_.load(std::memory_order_relaxed);
  HistogramSnapshot wait, run, cpu;
  WorkerCountersSnapshot total{};
  for (const Worker* w : slots()) {
    for (unsigned p = 0; p < kPriorityCount; ++p) {
      s.queued[p] += static_cast<std::uint64_t>(std::max<std::int64_t>(0, w->queue.depth(static_cast<Priority>(p))));
    }
    WorkerStats ws;
    ws.id = w->id;
    ws.running = w->serving();
    ws.numa = w->placement.numa;
    {
      std::lock_guard lock(w->bind_mutex);
      ws.pinned = w->bind.pinned;
      ws.bind_error = w->bind.error;
      ws.pus = w->bound_os_pus;
    }
    ws.counters = snapshot(w->counters);
    ws.cpu_ns = w->cpu.read_ns();
    total.merge(ws.counters);
    wait.merge(snapshot(w->queue_wait));
    const HistogramSnapshot ran = snapshot(w->run_time);
    ws.busy_ns = ran.sum_ns;
    run.merge(ran);
    cpu.merge(snapshot(w->task_cpu));
    s.workers.push_back(std::move(ws));
  }
  s.executed = total.executed;
  s.failed = total.failed;
  s.stolen = total.stolen;
  s.cancelled = total.cancelled + cancelled_outside_.load(std::memory_order_relaxed);
  s.timed_out = total.timed_out + timed_out_outside_.load(std::memory_order_relaxed);
  s.dependency_failed = dependency_failed_.load(std::memory_order_relaxed);
  s.waiting = static_cast<std::uint64_t>(std::max<std::int64_t>(0, waiting_.load(std::memory_order_relaxed)));
  s.queue_wait = summarize(wait);
  s.run_time = summarize(run);
  s.task_cpu = summarize(cpu);
  s.queue_wait_histogram = wait;
  s.run_time_histogram = run;
  s.task_cpu_histogram = cpu;
  for (unsigned n = 0; n < task_pools_.size(); ++n) {
    s.task_pools.push_back(task_pools_[n]->stats());
    s.arenas.push_back(arenas_->stats(n));
  }
  return s;
}

}  // namespace tasklets
