#include "scheduler.hpp"

#include <algorithm>
#include <climits>

#include "tasklets/affinity.hpp"
#include "tasklets/placement.hpp"

namespace tasklets {

using detail::TaskBase;
using detail::Worker;

namespace {

// The worker slot the calling thread serves, if any, and its scheduler.
thread_local Worker* t_worker = nullptr;
thread_local Scheduler* t_scheduler = nullptr;

// Task ids come from per-thread blocks so that submitting does not contend
// on one counter. Unique per process; increasing per thread.
std::atomic<std::uint64_t> g_next_id_block{1};
constexpr std::uint64_t kIdBlock = 4096;
thread_local std::uint64_t t_next_id = 0;
thread_local std::uint64_t t_id_end = 0;

std::uint64_t next_task_id() noexcept {
  if (t_next_id == t_id_end) {
    t_next_id = g_next_id_block.fetch_add(kIdBlock, std::memory_order_relaxed);
    t_id_end = t_next_id + kIdBlock;
  }
  return t_next_id++;
}

// Round-robin target of an outside submitter, chosen when the task object is
// acquired (its memory comes from the target's NUMA node) and used by the
// enqueue that follows on the same thread.
thread_local unsigned t_round_robin = 0;
thread_local unsigned t_target = 0;

// A low-priority task is taken ahead of ready normal ones once every
// kLowPriorityEvery picks, so that low never starves under a steady stream.
constexpr unsigned kLowPriorityEvery = 32;

bool bind_memory(void* ctx, void* addr, std::size_t len, unsigned numa) noexcept {
  return bind_memory_to_node(*static_cast<const Topology*>(ctx), addr, len, numa);
}

}  // namespace

void detail::account_batch(std::int64_t executed_delta, std::uint64_t failed) noexcept {
  if (!t_worker) return;
  // Modular arithmetic: a delta of -1 (every callable of a segment failed)
  // takes back the one execution the segment's own completion will count.
  WorkerCounters::add(t_worker->counters.executed, static_cast<std::uint64_t>(executed_delta));
  WorkerCounters::add(t_worker->counters.failed, failed);
}

Scheduler::Scheduler(const PoolConfig& config, std::shared_ptr<WorkerHost> host)
    : topology_(Topology::from_config_or_env(config.topology)),
      config_(resolve_config(config, topology_)),
      host_(std::move(host)) {
  const auto nodes = static_cast<unsigned>(topology_.numa_nodes().size());
  arenas_ = std::make_unique<ArenaSet>(nodes, &bind_memory, &topology_);
  for (unsigned n = 0; n < nodes; ++n) task_pools_.push_back(std::make_unique<detail::TaskPool>(*arenas_, n));
  const auto plan = plan_placement(topology_, config_.placement, config_.max_workers);
  for (unsigned i = 0; i < config_.max_workers; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, plan[i], steal_order(plan, i)));
  }
  std::lock_guard lock(control_mutex_);
  for (unsigned i = 0; i < config_.min_workers; ++i) start_worker(i);
  active_.store(config_.min_workers, std::memory_order_release);
  housekeeper_ = std::thread([this] { housekeeper_main(); });
}

Scheduler::~Scheduler() { shutdown(ShutdownMode::drain, std::chrono::milliseconds::max()); }

// ---------------------------------------------------------------- submission

TaskBase* Scheduler::acquire(const SubmitOptions& options, bool handle) {
  if (!accepting()) throw Error(Errc::shutdown, "the pool is shut down; no new tasks are accepted");
  TaskBase* t;
  if (t_scheduler == this) {
    t = task_pool(t_worker->placement.numa).acquire(t_worker->cache);
  } else {
    const unsigned active = std::max(1u, active_.load(std::memory_order_relaxed));
    t_target = t_round_robin++ % active;
    t = task_pool(workers_[t_target]->placement.numa).acquire_external();
  }
  t->owner = this;
  t->on_complete = options.on_complete;
  t->completion_context = options.context;
  t->id = next_task_id();
  t->priority = options.priority;
  t->deadline_ns = options.deadline
                       ? std::chrono::duration_cast<std::chrono::nanoseconds>(
                             options.deadline->time_since_epoch()).count()
                       : 0;
  t->enqueued_ns = config_.latency_metrics || t->deadline_ns ? detail::now_ns() : 0;
  t->refs.store(1u + (handle ? 1u : 0u) + (t->deadline_ns ? 1u : 0u), std::memory_order_relaxed);
  t->state.store(static_cast<std::uint32_t>(TaskStatus::queued), std::memory_order_relaxed);
  t->worker = 0xff;
  t->ops = nullptr;
  return t;
}

void Scheduler::discard(TaskBase* t) noexcept {
  t->ops = nullptr;
  recycle(*t);
}

void Scheduler::discard_constructed(TaskBase* t) noexcept {
  t->ops->drop_callable(*t);
  discard(t);
}

void Scheduler::kick_housekeeper() noexcept {
  std::lock_guard lock(control_mutex_);
  housekeeper_cv_.notify_one();
}

void Scheduler::adjust_pending(Priority p, std::int64_t n) noexcept {
  if (p == Priority::high) pending_high_.fetch_add(n, std::memory_order_relaxed);
  if (p == Priority::low) pending_low_.fetch_add(n, std::memory_order_relaxed);
}

void Scheduler::enqueue(TaskBase* t) {
  Worker& target = t_scheduler == this ? *t_worker : *workers_[t_target];
  const Priority p = t->priority;
  const bool tracked = t->deadline_ns != 0;
  adjust_pending(p, 1);
  // Reserve, then check the state: the submit half of the shutdown
  // handshake (docs/architecture.md, "Shutdown").
  target.queue.reserve(p);
  try {
    if (!accepting()) throw Error(Errc::shutdown, "the pool is shut down; no new tasks are accepted");
    if (tracked) deadlines_.reserve(1);
    try {
      if (t_worker == &target && target.tokens) {
        target.queue.push(target.tokens->produce[static_cast<unsigned>(p)], t);
      } else {
        target.queue.push(t);
      }
    } catch (...) {
      if (tracked) deadlines_.unreserve(1);
      throw;
    }
  } catch (...) {
    // Nothing was queued and nobody else knows the task.
    target.queue.unreserve(p);
    adjust_pending(p, -1);
    discard_constructed(t);
    throw;
  }
  if (tracked && deadlines_.add(t)) kick_housekeeper();
  wake_after_push(target, 1);
}

void Scheduler::enqueue_bulk(TaskBase* const* ts, std::size_t n) {
  if (n == 0) return;
  const Priority p = ts[0]->priority;
  const bool inside = t_scheduler == this;
  const unsigned active = inside ? 1u : std::max(1u, active_.load(std::memory_order_relaxed));
  const unsigned groups = static_cast<unsigned>(std::min<std::size_t>(active, n));
  const std::size_t per = (n + groups - 1) / groups;
  const unsigned first = inside ? t_worker->id : t_round_robin++ % active;
  auto target_of = [&](unsigned g) -> Worker& { return *workers_[(first + g) % (inside ? workers_.size() : active)]; };
  auto span_of = [&](unsigned g) { return std::min(per, n - std::min(n, g * per)); };
  const auto tracked = static_cast<std::size_t>(
      std::count_if(ts, ts + n, [](const TaskBase* t) { return t->deadline_ns != 0; }));
  adjust_pending(p, static_cast<std::int64_t>(n));
  for (unsigned g = 0; g < groups; ++g) target_of(g).queue.reserve(p, static_cast<std::int64_t>(span_of(g)));
  // Tasks with a deadline, listed before any push: once queued, a task
  // without one may run and be recycled at any moment, so nothing of the
  // batch is read after the push except through this list (the tracker's
  // reference keeps these alive).
  std::vector<TaskBase*> with_deadline;
  try {
    if (!accepting()) throw Error(Errc::shutdown, "the pool is shut down; no new tasks are accepted");
    if (tracked) {
      with_deadline.reserve(tracked);
      for (std::size_t i = 0; i < n; ++i) {
        if (ts[i]->deadline_ns) with_deadline.push_back(ts[i]);
      }
      deadlines_.reserve(tracked);
    }
  } catch (...) {
    for (unsigned g = 0; g < groups; ++g) target_of(g).queue.unreserve(p, static_cast<std::int64_t>(span_of(g)));
    adjust_pending(p, -static_cast<std::int64_t>(n));
    for (std::size_t i = 0; i < n; ++i) discard_constructed(ts[i]);
    throw;
  }
  std::size_t queued = 0;  // tasks of the groups pushed so far
  for (unsigned g = 0; g < groups && queued == g * per; ++g) {
    const std::size_t m = span_of(g);
    try {
      if (m) target_of(g).queue.push_bulk(p, ts + g * per, m);
      queued += m;
    } catch (...) {
      // Out of memory growing a queue: the groups already pushed run; this
      // one and the rest are settled as cancelled (their submitter still
      // gets its handles, which say so). Unreserved below.
      break;
    }
  }
  // The unqueued tail (if a push failed) was never handed over: it may be
  // read. Its deadline tasks are the last entries of with_deadline.
  const auto unqueued_tracked = static_cast<std::size_t>(
      std::count_if(ts + queued, ts + n, [](const TaskBase* t) { return t->deadline_ns != 0; }));
  bool kick = false;
  for (std::size_t i = 0; i + unqueued_tracked < with_deadline.size(); ++i) kick |= deadlines_.add(with_deadline[i]);
  if (queued < n) {
    for (unsigned g = static_cast<unsigned>(queued / per); g < groups; ++g) {
      target_of(g).queue.unreserve(p, static_cast<std::int64_t>(span_of(g)));
    }
    adjust_pending(p, -static_cast<std::int64_t>(n - queued));
    std::size_t unused = 0;
    for (std::size_t i = queued; i < n; ++i) {
      TaskBase& t = *ts[i];
      const bool had_deadline = t.deadline_ns != 0;
      unused += had_deadline;
      if (t.claim(TaskStatus::cancelled)) {
        settle_unrun(t, TaskStatus::cancelled);
        cancelled_outside_.fetch_add(1, std::memory_order_relaxed);
      }
      release(t);                   // the queue's reference
      if (had_deadline) release(t);  // the tracker's, never handed over
    }
    deadlines_.unreserve(unused);
  }
  if (kick) kick_housekeeper();
  wake_after_push(target_of(0), queued);
}

void Scheduler::wake_after_push(Worker& target, std::size_t tasks) noexcept {
  // The submitter-side fence of the sleep protocol (sleep.hpp).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (sleep_.sleepers() == 0) return;
  std::size_t woken = sleep_.wake(target.parker) ? 1 : 0;
  for (unsigned s : target.steal_order) {
    if (woken >= tasks || sleep_.sleepers() == 0) return;
    if (sleep_.wake(workers_[s]->parker)) ++woken;
  }
}

// ---------------------------------------------------------------- workers

TaskBase* Scheduler::pop_from(Worker& w, unsigned slot, Priority p) noexcept {
  TaskBase* t;
  if (slot == w.id) {
    t = w.tokens ? w.queue.try_pop(w.tokens->consume[static_cast<unsigned>(p)], p) : w.queue.try_pop(p);
  } else {
    t = workers_[slot]->queue.try_pop(p);
    if (t) WorkerCounters::add(w.counters.stolen);
  }
  if (t && p != Priority::normal) {
    (p == Priority::high ? pending_high_ : pending_low_).fetch_sub(1, std::memory_order_relaxed);
  }
  return t;
}

TaskBase* Scheduler::scan(Worker& w, Priority p) noexcept {
  if (TaskBase* t = pop_from(w, w.id, p)) return t;
  for (unsigned s : w.steal_order) {
    if (TaskBase* t = pop_from(w, s, p)) return t;
  }
  return nullptr;
}

TaskBase* Scheduler::find_task(Worker& w) noexcept {
  if (pending_high_.load(std::memory_order_relaxed) > 0) {
    if (TaskBase* t = scan(w, Priority::high)) return t;
  }
  const bool low_waiting = pending_low_.load(std::memory_order_relaxed) > 0;
  if (low_waiting && ++w.picks % kLowPriorityEvery == 0) {
    if (TaskBase* t = scan(w, Priority::low)) return t;
  }
  if (TaskBase* t = scan(w, Priority::normal)) return t;
  // The pending counters are hints; the queue counts are the truth.
  if (TaskBase* t = scan(w, Priority::high)) return t;
  return scan(w, Priority::low);
}

bool Scheduler::admit(Worker& w, TaskBase* t, std::int64_t start) noexcept {
  const State st = state();
  if (st == kCancelling || (t->deadline_ns && start >= t->deadline_ns)) {
    const TaskStatus to = st == kCancelling ? TaskStatus::cancelled : TaskStatus::timed_out;
    if (t->claim(to)) {
      settle_unrun(*t, to);
      WorkerCounters::add(to == TaskStatus::cancelled ? w.counters.cancelled : w.counters.timed_out);
    }
    release(*t);
    return false;
  }
  if (!t->claim(TaskStatus::running)) {
    release(*t);  // settled while queued (cancel or deadline): drop the queue's reference
    return false;
  }
  if (config_.latency_metrics) {
    const auto wait = static_cast<std::uint64_t>(std::max<std::int64_t>(0, start - t->enqueued_ns));
    w.queue_wait.record_owned(wait);
    if (wait > w.max_wait_ns.load(std::memory_order_relaxed)) w.max_wait_ns.store(wait, std::memory_order_relaxed);
  }
  t->worker = static_cast<std::uint8_t>(w.id);
  return true;
}

void Scheduler::complete(Worker& w, TaskBase* t, TaskStatus done, std::int64_t start) noexcept {
  if (config_.latency_metrics) {
    const std::int64_t end = detail::now_ns();
    w.run_time.record_owned(static_cast<std::uint64_t>(std::max<std::int64_t>(0, end - start)));
    w.last_ns = end;
  }
  WorkerCounters::add(done == TaskStatus::failed ? w.counters.failed : w.counters.executed);
  settle(*t, done);
  release(*t);
}

std::int64_t Scheduler::start_time(Worker& w, const TaskBase* t) const noexcept {
  if (!config_.latency_metrics && !t->deadline_ns) return 0;
  return w.last_ns ? w.last_ns : detail::now_ns();
}

void Scheduler::execute(Worker& w, TaskBase* t) noexcept {
  const std::int64_t start = start_time(w, t);
  if (!admit(w, t, start)) return;
  t->ops->run(*t);
  complete(w, t, t->error ? TaskStatus::failed : TaskStatus::succeeded, start);
}

bool Scheduler::any_queued() const noexcept {
  for (const auto& w : workers_) {
    if (w->queue.any_reserved()) return true;
  }
  return false;
}

bool Scheduler::should_exit(Worker& w) const noexcept {
  const State st = state();
  if (st == kStopped) return true;
  if (st != kRunning) return !any_queued();
  return w.control.load(std::memory_order_acquire) == Worker::kRetire && !w.queue.any_reserved();
}

bool Scheduler::leave(Worker& w) noexcept {
  if (state() == kRunning) {
    std::uint32_t expected = Worker::kRetire;
    return w.control.compare_exchange_strong(expected, Worker::kLeaving, std::memory_order_acq_rel);
  }
  w.control.store(Worker::kLeaving, std::memory_order_release);
  return true;
}

void Scheduler::finish_leave(Worker& w) noexcept {
  w.claimed.store(false, std::memory_order_release);
  task_pool(w.placement.numa).flush(w.cache);
  w.tokens.reset();
  w.last_ns = 0;
  if (host_) ArenaSet::unbind_current_thread();
  t_worker = nullptr;
  t_scheduler = nullptr;
  w.control.store(Worker::kExited, std::memory_order_release);
  exited_.fetch_add(1, std::memory_order_release);
  detail::futex_wake(exited_, INT32_MAX);
}

// ---------------------------------------------------------------- settling

void Scheduler::settle(TaskBase& t, TaskStatus status) noexcept {
  t.publish(status);
  if (t.on_complete) t.on_complete(t.completion_context, t);
}

void Scheduler::settle_unrun(TaskBase& t, TaskStatus status) noexcept {
  t.ops->drop_callable(t);
  settle(t, status);
}

bool Scheduler::cancel(TaskBase& t) noexcept {
  if (!t.claim(TaskStatus::cancelled)) return false;
  settle_unrun(t, TaskStatus::cancelled);
  cancelled_outside_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void Scheduler::release(TaskBase& t) noexcept {
  // acq_rel: every holder's last use of the task happens-before the recycle.
  if (t.refs.fetch_sub(1, std::memory_order_acq_rel) == 1) recycle(t);
}

void Scheduler::recycle(TaskBase& t) noexcept {
  if (t.ops) t.ops->drop_result(t);
  t.ops = nullptr;
  t.error = nullptr;
  detail::TaskPool& pool = task_pool(t.home_node);
  if (t_scheduler == this && t_worker->placement.numa == t.home_node) {
    pool.release(t_worker->cache, &t);
  } else {
    pool.release_external(&t);
  }
}

void Scheduler::wait(const TaskBase& t, std::int64_t deadline_ns) noexcept {
  if (t_scheduler == this) {
    help_while_waiting(*t_worker, t, deadline_ns);
    return;
  }
  std::uint32_t cur = t.state.load(std::memory_order_acquire);
  auto& word = const_cast<std::atomic<std::uint32_t>&>(t.state);
  while (!is_settled(static_cast<TaskStatus>(cur & detail::kStatusMask))) {
    if (!(cur & detail::kWaiterBit)) {
      if (!word.compare_exchange_weak(cur, cur | detail::kWaiterBit, std::memory_order_acquire)) continue;
      cur |= detail::kWaiterBit;
    }
    std::int64_t left = -1;
    if (deadline_ns >= 0) {
      left = deadline_ns - detail::now_ns();
      if (left <= 0) return;
    }
    detail::futex_wait(word, cur, left);
    cur = t.state.load(std::memory_order_acquire);
  }
}

void Scheduler::help_while_waiting(Worker& w, const TaskBase& t, std::int64_t deadline_ns) noexcept {
  // A worker that waits for a task runs other queued work meanwhile, so a
  // fork-join task never blocks the thread its children need.
  while (!is_settled(t.status())) {
    if (deadline_ns >= 0 && detail::now_ns() >= deadline_ns) return;
    if (TaskBase* next = find_task(w)) {
      execute(w, next);
      continue;
    }
    detail::cpu_relax();
    std::this_thread::yield();
  }
}

// ---------------------------------------------------------------- threads

void Scheduler::start_worker(unsigned slot) {
  Worker& w = *workers_[slot];
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
  if (slot >= workers_.size()) throw Error(Errc::invalid_argument, "no worker slot " + std::to_string(slot));
  Worker& w = *workers_[slot];
  bool unclaimed = false;
  if (t_worker != nullptr || w.control.load(std::memory_order_acquire) != Worker::kServe ||
      !w.claimed.compare_exchange_strong(unclaimed, true, std::memory_order_acq_rel)) {
    throw Error(Errc::invalid_argument,
                "worker slot " + std::to_string(slot) + " is not waiting for a thread, or this thread already serves one");
  }
  w.parker.notify_context.store(context, std::memory_order_release);
  w.parker.notify.store(notify, std::memory_order_release);
  t_worker = &w;
  t_scheduler = this;
  detail::pin(*this, w);
  w.tokens = std::make_unique<detail::OwnerTokens>(w.queue);
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
  if (c == Worker::kServe && host_ && state() == kRunning) {
    std::lock_guard lock(control_mutex_);
    if (w.id < active_.load(std::memory_order_acquire) &&
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
  if (slot >= workers_.size()) return false;
  Worker& w = *workers_[slot];
  bool unclaimed = false;
  if (w.control.load(std::memory_order_acquire) != Worker::kServe ||
      !w.claimed.compare_exchange_strong(unclaimed, true, std::memory_order_acq_rel)) {
    return false;  // served (or being served) by a thread, or not waiting at all
  }
  // No thread will ever serve it: it is exited without having run. Other
  // workers steal whatever was queued for it.
  w.claimed.store(false, std::memory_order_release);
  w.control.store(Worker::kExited, std::memory_order_release);
  exited_.fetch_add(1, std::memory_order_release);
  detail::futex_wake(exited_, INT32_MAX);
  return true;
}

void Scheduler::stop_worker_thread(unsigned slot) {
  Worker& w = *workers_[slot];
  w.control.store(Worker::kRetire, std::memory_order_release);
  // The worker may be parked: wake it so it sees the retire.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  sleep_.wake(w.parker);
}

void Scheduler::scale_tick(std::int64_t now) noexcept {
  ScalerInput in;
  in.active = active_.load(std::memory_order_relaxed);
  in.min = config_.min_workers;
  in.max = config_.max_workers;
  in.sleeping = static_cast<unsigned>(std::max(0, sleep_.sleepers()));
  in.now_ns = now;
  for (auto& w : workers_) {
    for (unsigned p = 0; p < kPriorityCount; ++p) {
      in.backlog += static_cast<std::uint64_t>(std::max<std::int64_t>(0, w->queue.depth(static_cast<Priority>(p))));
    }
    in.max_wait_ns = std::max(in.max_wait_ns, w->max_wait_ns.exchange(0, std::memory_order_relaxed));
  }
  switch (decide_scaling(config_.workers, in, scaler_state_)) {
    case ScaleAction::grow:
      try {
        start_worker(in.active);
      } catch (...) {
        return;  // no thread could be started: try again next tick
      }
      active_.store(in.active + 1, std::memory_order_release);
      scale_ups_.fetch_add(1, std::memory_order_relaxed);
      break;
    case ScaleAction::shrink:
      active_.store(in.active - 1, std::memory_order_release);
      stop_worker_thread(in.active - 1);
      scale_downs_.fetch_add(1, std::memory_order_relaxed);
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
    if (t->claim(TaskStatus::timed_out)) {
      settle_unrun(*t, TaskStatus::timed_out);
      timed_out_outside_.fetch_add(1, std::memory_order_relaxed);
    }
    release(*t);
  }
}

void Scheduler::housekeeper_main() noexcept {
  std::vector<TaskBase*> due;
  due.reserve(64);
  const bool adaptive = config_.scaling == Scaling::adaptive;
  const auto tick = std::chrono::duration_cast<std::chrono::nanoseconds>(config_.workers.tick).count();
  for (;;) {
    {
      // The lock covers only the wait: settling runs completion callbacks,
      // which may submit (and so take this mutex to re-arm us).
      std::unique_lock lock(control_mutex_);
      if (housekeeper_stop_) return;
      std::int64_t wake = adaptive ? detail::now_ns() + tick : INT64_MAX;
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
    if (adaptive && state() == kRunning) {
      std::lock_guard lock(control_mutex_);
      scale_tick(detail::now_ns());
    }
  }
}

// ---------------------------------------------------------------- shutdown

bool Scheduler::wait_workers_exit(std::int64_t deadline_ns) {
  for (;;) {
    const std::uint32_t seen = exited_.load(std::memory_order_acquire);
    bool all = true;
    for (auto& w : workers_) {
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
  for (auto& w : workers_) {
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
  for (auto& w : workers_) by_workers_before += w->counters.cancelled.load(std::memory_order_relaxed);

  state_.store(mode == ShutdownMode::drain ? kDraining : kCancelling, std::memory_order_seq_cst);
  for (auto& w : workers_) sleep_.wake(w->parker);
  std::int64_t deadline = -1;
  if (timeout != std::chrono::milliseconds::max()) {
    deadline = detail::now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  }
  if (!wait_workers_exit(deadline)) {
    report.timed_out = true;
    state_.store(kCancelling, std::memory_order_seq_cst);
    for (auto& w : workers_) sleep_.wake(w->parker);
    wait_workers_exit(-1);
  }
  {
    std::lock_guard lock(control_mutex_);
    housekeeper_stop_ = true;
    housekeeper_cv_.notify_all();
  }
  housekeeper_.join();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  cancel_queued();
  for (TaskBase* t : deadlines_.take_all()) release(*t);
  state_.store(kStopped, std::memory_order_seq_cst);
  std::uint64_t by_workers_after = 0;
  for (auto& w : workers_) by_workers_after += w->counters.cancelled.load(std::memory_order_relaxed);
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
  s.scaling = config_.scaling;
  s.min_workers = config_.min_workers;
  s.max_workers = config_.max_workers;
  s.active_workers = active_.load(std::memory_order_relaxed);
  s.sleeping_workers = static_cast<unsigned>(std::max(0, sleep_.sleepers()));
  s.scale_ups = scale_ups_.load(std::memory_order_relaxed);
  s.scale_downs = scale_downs_.load(std::memory_order_relaxed);
  s.replaced_workers = replacements_.load(std::memory_order_relaxed);
  HistogramSnapshot wait, run;
  WorkerCountersSnapshot total{};
  for (const auto& w : workers_) {
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
    total.merge(ws.counters);
    wait.merge(snapshot(w->queue_wait));
    run.merge(snapshot(w->run_time));
    s.workers.push_back(std::move(ws));
  }
  s.executed = total.executed;
  s.failed = total.failed;
  s.stolen = total.stolen;
  s.cancelled = total.cancelled + cancelled_outside_.load(std::memory_order_relaxed);
  s.timed_out = total.timed_out + timed_out_outside_.load(std::memory_order_relaxed);
  s.queue_wait = summarize(wait);
  s.run_time = summarize(run);
  for (unsigned n = 0; n < task_pools_.size(); ++n) {
    s.task_pools.push_back(task_pools_[n]->stats());
    s.arenas.push_back(arenas_->stats(n));
  }
  return s;
}

}  // namespace tasklets
