#include "tasklets/attached_worker.hpp"

#include <sched.h>

#include "scheduler.hpp"

namespace tasklets {

using detail::TaskBase;

AttachedWorker::AttachedWorker(Pool& pool, unsigned slot, Notify notify, void* context)
    : scheduler_(*pool.scheduler_), worker_(scheduler_.attach(slot, notify, context)) {}

AttachedWorker::~AttachedWorker() {
  if (!left_) scheduler_.detach(worker_);
}

unsigned AttachedWorker::slot() const noexcept { return worker_.id; }
unsigned AttachedWorker::numa() const noexcept { return worker_.placement.numa; }
BindResult AttachedWorker::binding() const {
  std::lock_guard lock(worker_.bind_mutex);
  return worker_.bind;
}

TaskBase* AttachedWorker::take() noexcept {
  detail::Parker& p = worker_.parker;
  if (p.state.load(std::memory_order_acquire) != detail::Parker::kAwake) {
    // Back from parking: woken (NOTIFIED) or polling early (still SLEEPING).
    if (!scheduler_.sleep().cancel(p)) WorkerCounters::add(worker_.counters.woken);
  }
  while (TaskBase* t = scheduler_.find_task(worker_)) {
    const std::int64_t start = scheduler_.start_time(worker_, t);
    if (scheduler_.admit(worker_, t, start, /*hosted=*/true)) {
      // The start time rides in the task until finish(); enqueued_ns is no
      // longer needed once the queue wait was recorded.
      t->enqueued_ns = start;
      rounds_ = 0;
      ++in_flight_;
      return t;
    }
  }
  return nullptr;
}

void AttachedWorker::finish(TaskBase* t, TaskStatus status) noexcept {
  finish(t, status, Scheduler::kNoCpuTime);
}

bool AttachedWorker::measures_cpu() const noexcept { return scheduler_.config().task_cpu_time; }

void AttachedWorker::finish(TaskBase* t, TaskStatus status, std::uint64_t cpu_ns, std::int64_t end_ns) noexcept {
  TASKLETS_ASSERT(in_flight_ > 0 && "finish() of a task this worker did not take");
  TASKLETS_ASSERT((status == TaskStatus::succeeded || status == TaskStatus::failed ||
                   status == TaskStatus::cancelled || status == TaskStatus::timed_out) &&
                  "finish() with a status a running task cannot end with");
  --in_flight_;
  if (status == TaskStatus::failed && !t->error) {
    try {
      t->error = std::make_exception_ptr(Error(Errc::system, "the task failed in an attached worker"));
    } catch (...) {
      // No memory for the marker: the status still says failed.
    }
  }
  scheduler_.complete(worker_, t, status, t->enqueued_ns,
                      scheduler_.config().task_cpu_time ? cpu_ns : Scheduler::kNoCpuTime, end_ns);
}

void AttachedWorker::finish(TaskBase* t, bool failed) noexcept {
  finish(t, failed ? TaskStatus::failed : TaskStatus::succeeded);
}

AttachedWorker::Idle AttachedWorker::idle() noexcept {
  worker_.last_ns = 0;
  // The slot may only be left once every task it took was finished: the
  // counters and the cache of a left slot may belong to its next thread.
  if (in_flight_ > 0 && scheduler_.should_exit(worker_)) return Idle::drain;
  if (scheduler_.should_exit(worker_) && scheduler_.leave(worker_)) {
    left_ = true;
    scheduler_.finish_leave(worker_);
    return Idle::exit;
  }
  const ResolvedConfig& c = scheduler_.config();
  if (rounds_ < c.spin_rounds) {
    ++rounds_;
    detail::cpu_relax();
    return Idle::retry;
  }
  if (rounds_ < c.spin_rounds + c.yield_rounds) {
    ++rounds_;
    sched_yield();
    return Idle::retry;
  }
  rounds_ = 0;
  detail::SleepCoordinator& sc = scheduler_.sleep();
  sc.prepare(worker_.parker);
  if (scheduler_.any_queued() || scheduler_.should_exit(worker_)) {
    sc.cancel(worker_.parker);
    return Idle::retry;
  }
  WorkerCounters::add(worker_.counters.parked);
  return Idle::parked;
}

namespace detail {
void retain(TaskBase& t) noexcept { t.refs.fetch_add(1, std::memory_order_relaxed); }
}  // namespace detail

}  // namespace tasklets
