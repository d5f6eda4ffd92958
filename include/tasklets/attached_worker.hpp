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
//     if (TaskBase* t = w.take()) { run it; w.finish(t, failed); continue; }
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
  AttachedWorker(Pool& pool, unsigned slot, Notify notify, void* context);
  ~AttachedWorker();
  AttachedWorker(const AttachedWorker&) = delete;
  AttachedWorker& operator=(const AttachedWorker&) = delete;

  detail::TaskBase* take() noexcept;
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
