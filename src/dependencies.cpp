// The dependency protocol of the scheduler: registering a task that waits
// for others (enqueue_after), resolving the edges of a settled task, and
// queuing or failing a waiting task. The protocol and its invariants:
// src/dependencies.hpp and docs/architecture.md, "Dependencies".
#include <string>

#include "current_worker.hpp"
#include "scheduler.hpp"

namespace tasklets {

using detail::TaskBase;
using detail::Worker;
using detail::t_scheduler;
using detail::t_worker;

namespace {

// Edges whose dependency settled, still to be resolved by this thread.
// Resolving one may settle its dependent (dependency_failed), whose own
// dependents are then appended here instead of being resolved recursively:
// a failure travelling down a chain of a million tasks uses no stack.
struct Resolving {
  detail::Edge* head = nullptr;
  detail::Edge* tail = nullptr;
  bool draining = false;
};
thread_local Resolving t_resolving;

}  // namespace

void Scheduler::check_dependencies(Dependencies a, Dependencies b) const {
  if (a.size() + b.size() > kMaxDependencies) {
    throw Error(Errc::invalid_argument, "a task may depend on at most " + std::to_string(kMaxDependencies) +
                                            " tasks (" + std::to_string(a.size() + b.size()) + " given)");
  }
  for (Dependencies list : {a, b}) {
    for (const TaskBase* d : list) {
      if (!d) throw Error(Errc::invalid_argument, "a dependency is a null task (an empty handle?)");
      if (d->owner != this) throw Error(Errc::invalid_argument, "a dependency belongs to another pool");
    }
  }
}

void Scheduler::enqueue_after(TaskBase* t, Dependencies a, Dependencies b) {
  const bool tracked = t->deadline_ns != 0;
  // The guard: a queue count raised for the whole registration, then the
  // state read, as enqueue() does for a push (the shutdown handshake). While
  // it is up no worker leaves its loop, so a shutdown cannot finish (nor
  // take the deadline entries) before this task is registered, and the task
  // may still be queued here if it becomes ready while the pool drains.
  Worker& guard = submit_target();
  guard.queue.reserve(Priority::normal);
  detail::Waiter* w = nullptr;
  try {
    require_accepting();
    w = detail::Waiter::make(t, a.size() + b.size());
    if (tracked) deadlines_.reserve(1);
  } catch (...) {
    guard.queue.unreserve(Priority::normal);
    detail::Waiter::destroy(w);
    discard_constructed(t);
    throw;
  }
  // From here on the task is submitted: it settles exactly once, whatever
  // happens. The Waiter holds the reference acquire() made for the queue.
  t->state.store(static_cast<std::uint32_t>(TaskStatus::waiting), std::memory_order_relaxed);
  waiting_.fetch_add(1, std::memory_order_relaxed);
  if (tracked && deadlines_.add(t)) kick_housekeeper();
  detail::Edge* edges = w->edges();
  std::uint32_t unlinked = 0;  // edges neither linked nor resolved
  std::size_t k = 0;
  const auto add = [&](TaskBase* d) {
    detail::Edge& e = edges[k++];
    // Settled already (a dependency failed, cancel, deadline): the rest
    // need not be registered.
    if (t->status(std::memory_order_relaxed) != TaskStatus::waiting) {
      ++unlinked;
      return;
    }
    TaskStatus s;
    try {
      s = dependents_.link(*d, e);
    } catch (...) {
      // No memory to record the dependency: cancelled, as a bulk
      // submission whose queue cannot grow.
      fail_waiting(*t, TaskStatus::cancelled);
      ++unlinked;
      return;
    }
    if (s == TaskStatus::waiting) return;  // linked: d's settler resolves it
    e.dep_status = s;
    resolve_edge(e);  // the submitter's hold keeps the Waiter alive
  };
  for (TaskBase* d : a) add(d);
  for (TaskBase* d : b) add(d);
  release_waiter(w, unlinked + 1, /*guarded=*/true);  // and the hold: the task may be queued now
  guard.queue.unreserve(Priority::normal);
}

void Scheduler::resolve_dependents(TaskBase& t, TaskStatus status) noexcept {
  detail::Edge* list = dependents_.take(t);
  if (!list) return;
  detail::Edge* last = list;
  for (detail::Edge* e = list; e; e = e->next) {
    e->dep_status = status;
    last = e;
  }
  Resolving& r = t_resolving;
  (r.tail ? r.tail->next : r.head) = list;
  r.tail = last;
  if (r.draining) return;  // an outer call on this thread resolves them
  r.draining = true;
  while (detail::Edge* e = r.head) {
    r.head = e->next;
    if (!r.head) r.tail = nullptr;
    // Edges of another pool's tasks may be here (a completion callback of
    // this pool cancelled a task of that one).
    e->waiter->task->owner->resolve_edge(*e);
  }
  r.draining = false;
}

void Scheduler::resolve_edge(detail::Edge& e) noexcept {
  detail::Waiter* w = e.waiter;
  if (e.dep_status != TaskStatus::succeeded) fail_waiting(*w->task, TaskStatus::dependency_failed);
  release_waiter(w, 1);  // e may be freed from here on
}

void Scheduler::fail_waiting(TaskBase& t, TaskStatus why) noexcept {
  // A shutdown in cancel mode cancels waiting tasks, whatever their
  // dependencies did.
  const State st = state();
  const TaskStatus to = st == kCancelling || st == kStopped ? TaskStatus::cancelled : why;
  if (!t.claim_waiting(to)) return;  // already settled (cancel, deadline, another failure)
  waiting_.fetch_sub(1, std::memory_order_relaxed);
  (to == TaskStatus::dependency_failed ? dependency_failed_ : cancelled_outside_)
      .fetch_add(1, std::memory_order_relaxed);
  settle_unrun(t, to);
}

void Scheduler::release_waiter(detail::Waiter* w, std::uint32_t n, bool guarded) noexcept {
  // acq_rel: every resolver's use of the Waiter happens-before its free,
  // and the last one sees every failure CAS made before the decrements.
  if (w->pending.fetch_sub(n, std::memory_order_acq_rel) != n) return;
  TaskBase& t = *w->task;
  detail::Waiter::destroy(w);
  // Still waiting: every dependency succeeded (a failure would have moved
  // it first). The Waiter's reference becomes the queue's.
  if (t.claim_waiting(TaskStatus::queued)) {
    waiting_.fetch_sub(1, std::memory_order_relaxed);
    enqueue_ready(t, guarded);
  } else {
    release(t);
  }
}

void Scheduler::enqueue_ready(TaskBase& t, bool guarded) noexcept {
  // Who readies a task: a worker of this pool (its last dependency ran
  // there), or its submitter (every dependency had succeeded by the end of
  // the registration) while it holds the guard of enqueue_after. Either way
  // no worker can leave before this push is counted, so the task is queued
  // while the pool runs or drains. Under a cancel shutdown it is cancelled.
  // (Any other thread queues it only while the pool accepts tasks; none
  // readies tasks today.)
  const bool inside = t_scheduler == this;
  Worker& target = inside ? *t_worker : worker(next_outside_slot());
  const Priority p = t.priority;
  t.enqueued_ns = config_.latency_metrics ? detail::now_ns() : 0;
  adjust_pending(p, 1);
  target.queue.reserve(p);  // then the state: the submit half of the shutdown handshake
  const State st = state();
  bool queued = st == kRunning || (st == kDraining && (inside || guarded));
  if (queued) {
    try {
      if (t_worker == &target && target.tokens) {
        target.queue.push(*target.tokens, &t);
      } else {
        target.queue.push(&t);
      }
    } catch (...) {
      queued = false;  // no memory to grow the queue
    }
  }
  if (!queued) {
    target.queue.unreserve(p);
    adjust_pending(p, -1);
    if (t.claim(TaskStatus::cancelled)) {
      settle_unrun(t, TaskStatus::cancelled);
      cancelled_outside_.fetch_add(1, std::memory_order_relaxed);
    }
    release(t);
    return;
  }
  wake_after_push(target, 1);
}

}  // namespace tasklets
