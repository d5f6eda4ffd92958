// A worker slot served by a thread the runtime did not start: a Node Worker
// thread (the addon's executors) or any thread with its own event loop.
//
// The runtime still owns the policy: which slot exists (scaling calls the
// pool's WorkerHost to start one), where the thread is pinned (the
// constructor binds it per the placement plan), which arena it uses, which
// queues it takes from, and when it parks. The thread only drives the loop:
//
//   AttachedWorker w(pool, slot, &notify, ctx);     // on the serving thread
//   for (;;) {
//     if (TaskBase* t = w.take()) { run it; w.finish(t, status); continue; }
//     switch (w.idle()) {
//       case Idle::retry: continue;
//       case Idle::parked: return to the event loop; `notify(ctx)` will be
//                          called (from any thread) when there is work; then
//                          call take() again;
//       case Idle::drain: the slot must stop, but tasks it took are not
//                         finished yet (async work): finish them, then call
//                         idle() again (no notify will come);
//       case Idle::exit: destroy w; stop serving.
//     }
//   }
//
// take() and finish() must be called on the thread that constructed the
// object. A task returned by take() is claimed (status running) and must be
// finished exactly once; its payload is read with detail::payload<T>().
//
// Stopping a running task: the runtime cannot stop a foreign thread, so it
// asks the host (WorkerHost::interrupt) when a task running on one of its
// slots passes its deadline, or when someone calls detail::interrupt_task().
// The serving thread then finishes the task with the status it chooses,
// typically finish(t, TaskStatus::timed_out) or finish(t, cancelled).
#pragma once

#include <memory>

#include "tasklets/affinity.hpp"
#include "tasklets/task.hpp"

namespace tasklets {

class Pool;
class Scheduler;
namespace detail {
struct Worker;
}

class AttachedWorker {
 public:
  using Notify = void (*)(void* context) noexcept;
  enum class Idle { retry, parked, drain, exit };

  // Throws Error(invalid_argument) if the slot is not waiting for a thread.
  // `notify(context)` may be called from any thread, and may still be
  // running (a waker that won the wake-up a moment before the slot was
  // left) after this object is destroyed: `context` must stay valid until
  // the pool is shut down.
  AttachedWorker(Pool& pool, unsigned slot, Notify notify, void* context);
  ~AttachedWorker();
  AttachedWorker(const AttachedWorker&) = delete;
  AttachedWorker& operator=(const AttachedWorker&) = delete;

  detail::TaskBase* take() noexcept;
  // Settles a task this worker took. `status` is succeeded, failed (the
  // task's error, or a generic Errc::system error if it has none),
  // cancelled or timed_out (the task was stopped while it ran, e.g. after
  // WorkerHost::interrupt). Counted in the pool's stats under executed,
  // failed, cancelled and timed_out respectively. Any other status aborts.
  void finish(detail::TaskBase* task, TaskStatus status) noexcept;
  // As above, with the thread CPU time the task took (measured by the
  // serving thread, e.g. around its synchronous part; recorded only when
  // the pool was configured with task_cpu_time, see measures_cpu()) and,
  // if the caller read it anyway, when the task ended (nanoseconds of
  // std::chrono::steady_clock; 0: the runtime reads the clock).
  void finish(detail::TaskBase* task, TaskStatus status, std::uint64_t cpu_ns, std::int64_t end_ns = 0) noexcept;
  bool measures_cpu() const noexcept;
  // finish(task, failed ? TaskStatus::failed : TaskStatus::succeeded)
  void finish(detail::TaskBase* task, bool failed) noexcept;
  Idle idle() noexcept;

  unsigned slot() const noexcept;
  unsigned numa() const noexcept;
  BindResult binding() const;

 private:
  Scheduler& scheduler_;
  detail::Worker& worker_;
  unsigned rounds_ = 0;
  unsigned in_flight_ = 0;  // taken and not yet finished
  bool left_ = false;
};

// Starts the thread that will serve a slot, for pools whose workers are not
// native threads. start() is called from the pool's constructor and from its
// housekeeper thread; it must not block, and the thread it starts must
// construct an AttachedWorker for that slot.
class WorkerHost {
 public:
  virtual ~WorkerHost() = default;
  virtual void start(unsigned slot) = 0;
  // `task`, running on `slot` (taken by that slot's AttachedWorker), should
  // stop: it passed its deadline (why = timed_out, called once per task, from
  // the housekeeper thread) or detail::interrupt_task(task, why) was called
  // (on the caller's thread, as often as it is called). A request only: the
  // task stays running until the slot's thread finishes it, normally with
  // finish(task, why). The task may be finishing concurrently on the serving
  // thread; it may even be settled by the time this runs. `task` is valid
  // during the call (the caller holds a reference); keep it longer only with
  // detail::retain(). Must not block, throw, or shut the pool down.
  virtual void interrupt(unsigned slot, detail::TaskBase& task, TaskStatus why) noexcept {
    (void)slot;
    (void)task;
    (void)why;
  }
};

namespace detail {
// The payload of a task submitted with a trivially destructible callable
// type T that an AttachedWorker takes instead of calling.
template <class T>
T& payload(TaskBase& t) noexcept {
  static_assert(std::is_trivially_destructible_v<T> && fits_inline<T>,
                "attached-worker payloads live inline and need no destructor");
  return *Slot<T>::get(t);
}
void retain(TaskBase& t) noexcept;  // one more reference; pair with release()
}  // namespace detail

}  // namespace tasklets
