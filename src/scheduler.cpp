#include "scheduler.hpp"

#include "current_worker.hpp"

#include <algorithm>
#include <climits>

#include "tasklets/affinity.hpp"
#include "tasklets/placement.hpp"

namespace tasklets {

using detail::TaskBase;
using detail::Worker;
using detail::t_scheduler;
using detail::t_worker;

namespace {

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
      host_(std::move(host)),
      slots_(std::make_unique<std::atomic<Worker*>[]>(kMaxWorkers)) {
  const auto nodes = static_cast<unsigned>(topology_.numa_nodes().size());
  arenas_ = std::make_unique<ArenaSet>(nodes, &bind_memory, &topology_);
  for (unsigned n = 0; n < nodes; ++n) task_pools_.push_back(std::make_unique<detail::TaskPool>(*arenas_, n));
  std::lock_guard lock(control_mutex_);
  grow_slots(config_.worker_slots);
  min_workers_.store(config_.min_workers, std::memory_order_relaxed);
  max_workers_.store(config_.max_workers, std::memory_order_relaxed);
  scaling_.store(config_.scaling, std::memory_order_relaxed);
  knobs_ = config_.workers;
  for (unsigned i = 0; i < config_.min_workers; ++i) start_worker(i);
  active_.store(config_.min_workers, std::memory_order_release);
  housekeeper_ = std::thread([this] { housekeeper_main(); });
}

Scheduler::~Scheduler() { shutdown(ShutdownMode::drain, std::chrono::milliseconds::max()); }

// ---------------------------------------------------------------- submission

void Scheduler::require_accepting() const {
  if (!accepting()) throw Error(Errc::shutdown, "the pool is shut down; no new tasks are accepted");
}

// Acquire: a slot that a grow published before raising active_ is seen.
unsigned Scheduler::next_outside_slot() noexcept {
  return t_round_robin++ % std::max(1u, active_.load(std::memory_order_acquire));
}

Worker& Scheduler::submit_target() noexcept { return t_scheduler == this ? *t_worker : worker(t_target); }

TaskBase* Scheduler::acquire(const SubmitOptions& options, bool handle) {
  require_accepting();
  TaskBase* t;
  if (t_scheduler == this) {
    t = task_pool(t_worker->placement.numa).acquire(t_worker->cache);
  } else {
    t_target = next_outside_slot();
    t = task_pool(worker(t_target).placement.numa).acquire_external();
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
  t->refs.store(1u + (handle ? 1u : 0u) + (t->deadline_ns ? 1u : 0u), std::memory_order_relaxed);
  t->state.store(static_cast<std::uint32_t>(TaskStatus::queued), std::memory_order_relaxed);
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
  Worker& target = submit_target();
  const Priority p = t->priority;
  const bool tracked = t->deadline_ns != 0;
  t->enqueued_ns = config_.latency_metrics ? detail::now_ns() : 0;
  if (p == Priority::normal && !tracked && t_worker == &target && target.tokens) {
    // Spawned by the worker itself: into its own deque (docs/architecture.md,
    // "The local deque"). Waking others is only worth it when the deque was
    // empty: otherwise the task it held has already called for a thief.
    bool was_empty;
    try {
      was_empty = target.queue.push_local(*target.tokens, t);
    } catch (...) {
      discard_constructed(t);
      throw;
    }
    if (was_empty) wake_after_push(target, 1);
    return;
  }
  adjust_pending(p, 1);
  // Reserve, then check the state: the submit half of the shutdown
  // handshake (docs/architecture.md, "Shutdown").
  const std::int64_t announced = target.queue.reserve(p);
  try {
    require_accepting();
    if (tracked) deadlines_.reserve(1);
    try {
      if (t_worker == &target && target.tokens) {
        target.queue.push(*target.tokens, t);
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
    // A submitter that saw our count positive left the wake-up check to us.
    if (announced <= 0) wake_after_push(target, 1);
    throw;
  }
  if (tracked && deadlines_.add(t)) kick_housekeeper();
  // A count that was already positive holds a task whose submitter makes
  // (or made) the wake-up check after its own push; until that task is
  // taken, some worker stays awake or is woken, and it does not park while
  // the count is positive, so it finds this one too. Only the submitter
  // that raises a count from zero pays the fence (docs/architecture.md,
  // "Sleep and wake").
  if (announced <= 0) wake_after_push(target, 1);
}

void Scheduler::enqueue_bulk(TaskBase* const* ts, std::size_t n) {
  if (n == 0) return;
  const Priority p = ts[0]->priority;
  const bool inside = t_scheduler == this;
  const unsigned active = inside ? 1u : std::max(1u, active_.load(std::memory_order_acquire));
  const unsigned groups = static_cast<unsigned>(std::min<std::size_t>(active, n));
  const std::size_t per = (n + groups - 1) / groups;
  const unsigned first = inside ? t_worker->id : next_outside_slot();
  const unsigned spread = inside ? slot_count() : active;
  auto target_of = [&](unsigned g) -> Worker& { return worker((first + g) % spread); };
  auto span_of = [&](unsigned g) { return std::min(per, n - std::min(n, g * per)); };
  const auto tracked = static_cast<std::size_t>(
      std::count_if(ts, ts + n, [](const TaskBase* t) { return t->deadline_ns != 0; }));
  // One clock read for the whole batch: its tasks are queued together.
  const std::int64_t stamp = config_.latency_metrics ? detail::now_ns() : 0;
  for (std::size_t i = 0; i < n; ++i) ts[i]->enqueued_ns = stamp;
  adjust_pending(p, static_cast<std::int64_t>(n));
  for (unsigned g = 0; g < groups; ++g) target_of(g).queue.reserve(p, static_cast<std::int64_t>(span_of(g)));
  // Tasks with a deadline, listed before any push: once queued, a task
  // without one may run and be recycled at any moment, so nothing of the
  // batch is read after the push except through this list (the tracker's
  // reference keeps these alive).
  std::vector<TaskBase*> with_deadline;
  try {
    require_accepting();
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
  std::size_t woken = 0;
  // From outside the pool, first the worker that last parked on this CPU:
  // its cache is warm here, and a wake-up that stays on the waker's CPU is
  // the cheap one (docs/architecture.md, "Sleep and wake"). It steals the
  // task if the task went to another worker's queue.
  if (t_scheduler != this) {
    detail::Parker* near = sleep_.parked_on_this_cpu();
    if (near != nullptr && near != &target.parker && sleep_.wake(*near)) ++woken;
  }
  if (woken < tasks && sleep_.wake(target.parker)) ++woken;
  for (unsigned s : target.victims()) {
    if (woken >= tasks || sleep_.sleepers() == 0) return;
    if (sleep_.wake(worker(s).parker)) ++woken;
  }
}

void Scheduler::wake_one_more(Worker& w) noexcept {
  for (unsigned s : w.victims()) {
    if (sleep_.wake(worker(s).parker)) return;
  }
}

// ---------------------------------------------------------------- workers

TaskBase* Scheduler::pop_from(Worker& w, unsigned slot, Priority p) noexcept {
  TaskBase* t;
  bool more = false;  // the inbox still announces tasks after this one
  if (slot == w.id) {
    t = w.tokens ? w.queue.try_pop(*w.tokens, p, more) : w.queue.try_pop(p, more);
  } else {
    t = worker(slot).queue.try_pop(p, more);
    if (t) WorkerCounters::add(w.counters.stolen);
  }
  // A submitter that found the count positive left the waking to whoever
  // raised it from zero, which woke one worker: this one passes the wake
  // on while tasks are left, so a burst into one inbox still reaches every
  // idle worker (a hint for parallelism; no wakeup depends on it).
  if (more && sleep_.sleepers() > 0) wake_one_more(w);
  if (t && p != Priority::normal) {
    (p == Priority::high ? pending_high_ : pending_low_).fetch_sub(1, std::memory_order_relaxed);
  }
  return t;
}

TaskBase* Scheduler::scan(Worker& w, Priority p) noexcept {
  if (TaskBase* t = pop_from(w, w.id, p)) return t;
  for (unsigned s : w.victims()) {
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

bool Scheduler::admit(Worker& w, TaskBase* t, std::int64_t start, bool hosted) noexcept {
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
  // A hosted slot's index rides in the state word with the running status
  // (one CAS), so whoever sees `running` also sees where (interrupt()).
  const std::uint32_t where = hosted ? detail::kHostedBit | (w.id << detail::kSlotShift) : 0;
  if (!t->claim(TaskStatus::running, where)) {
    release(*t);  // settled while queued (cancel or deadline): drop the queue's reference
    return false;
  }
  if (config_.latency_metrics) {
    const auto wait = static_cast<std::uint64_t>(std::max<std::int64_t>(0, start - t->enqueued_ns));
    w.queue_wait.record_owned(wait);
    if (wait > w.max_wait_ns.load(std::memory_order_relaxed)) w.max_wait_ns.store(wait, std::memory_order_relaxed);
  }
  return true;
}

void Scheduler::complete(Worker& w, TaskBase* t, TaskStatus done, std::int64_t start,
                         std::uint64_t cpu_ns, std::int64_t end_ns) noexcept {
  if (cpu_ns != kNoCpuTime) w.task_cpu.record_owned(cpu_ns);
  if (config_.latency_metrics) {
    const std::int64_t end = end_ns != 0 ? end_ns : detail::now_ns();
    w.run_time.record_owned(static_cast<std::uint64_t>(std::max<std::int64_t>(0, end - start)));
    w.last_ns = end;
  }
  switch (done) {
    case TaskStatus::succeeded: WorkerCounters::add(w.counters.executed); break;
    case TaskStatus::failed: WorkerCounters::add(w.counters.failed); break;
    // Stopped while it ran on a hosted slot (AttachedWorker::finish).
    case TaskStatus::cancelled: WorkerCounters::add(w.counters.cancelled); break;
    case TaskStatus::timed_out: WorkerCounters::add(w.counters.timed_out); break;
    default: TASKLETS_ASSERT(false && "a task that ran cannot end with this status");
  }
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
  if (!config_.task_cpu_time) [[likely]] {
    t->ops->run(*t);
    complete(w, t, t->error ? TaskStatus::failed : TaskStatus::succeeded, start);
    return;
  }
  const std::uint64_t cpu_start = detail::thread_cpu_now_ns();
  t->ops->run(*t);
  const std::uint64_t cpu = detail::thread_cpu_now_ns() - cpu_start;
  complete(w, t, t->error ? TaskStatus::failed : TaskStatus::succeeded, start, cpu);
}

bool Scheduler::any_queued() const noexcept {
  for (const Worker* w : slots()) {
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
  if (t_worker == &w) w.cpu.unbind_current();
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
  const std::uint32_t was = t.publish(status);
  if (t.on_complete) t.on_complete(t.completion_context, t);
  // Dependents are resolved after the task's own completion callback, so
  // a dependent's callback never runs before its dependency's.
  if (was & detail::kDependentsBit) [[unlikely]] resolve_dependents(t, status);
}

void Scheduler::settle_unrun(TaskBase& t, TaskStatus status) noexcept {
  t.ops->drop_callable(t);
  settle(t, status);
}

bool Scheduler::settle_unstarted(TaskBase& t, TaskStatus to) noexcept {
  for (;;) {
    if (t.claim(to)) break;
    if (t.claim_waiting(to)) {
      // Its Waiter still holds the queue's reference and frees it when the
      // last dependency resolves.
      waiting_.fetch_sub(1, std::memory_order_relaxed);
      break;
    }
    // Neither queued nor waiting when looked at; again only if it moved
    // waiting -> queued in between.
    const TaskStatus now = t.status(std::memory_order_relaxed);
    if (now != TaskStatus::queued && now != TaskStatus::waiting) return false;
  }
  settle_unrun(t, to);
  return true;
}

bool Scheduler::cancel(TaskBase& t) noexcept {
  if (!settle_unstarted(t, TaskStatus::cancelled)) return false;
  cancelled_outside_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool Scheduler::interrupt(TaskBase& t, TaskStatus why) noexcept {
  const std::uint32_t cur = t.state.load(std::memory_order_acquire);
  if ((cur & detail::kStatusMask) != static_cast<std::uint32_t>(TaskStatus::running) ||
      !(cur & detail::kHostedBit) || !host_) {
    return false;
  }
  host_->interrupt(cur >> detail::kSlotShift, t, why);
  return true;
}

void Scheduler::release(TaskBase& t) noexcept {
  // acq_rel: every holder's last use of the task happens-before the recycle.
  if (t.refs.fetch_sub(1, std::memory_order_acq_rel) == 1) recycle(t);
}

void Scheduler::recycle(TaskBase& t) noexcept {
  if (t.ops) t.ops->drop_result(t);
  t.ops = nullptr;
  t.error = nullptr;  // the one place a task's exception is let go
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

}  // namespace tasklets
