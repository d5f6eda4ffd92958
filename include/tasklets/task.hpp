// A task: a small callable plus its state, in one pooled 128-byte object.
//
// Life of a task object (docs/architecture.md, "Data path of one task"):
//   acquire from the node's TaskPool -> construct callable inline -> enqueue
//   -> a worker claims it (queued -> running) -> result or exception stored
//   -> status published -> completion callback -> references dropped -> the
//   object returns to a TaskPool cache.
//
// Exactly-once contract: the status leaves `queued` through one successful
// compare-and-swap (to running, cancelled or timed_out), and a task with
// dependencies leaves `waiting` the same way (to queued, cancelled,
// timed_out or dependency_failed). Whoever wins that CAS
// is the only thread that touches the callable and the only one that settles
// the task. A task that left `queued` without running still sits in its queue;
// the worker that dequeues it later only drops the queue's reference.
//
// References: one for the queue entry, one for a Handle, one for the deadline
// tracker. The object is recycled when the last one is dropped.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include "tasklets/error.hpp"

namespace tasklets {

enum class Priority : std::uint8_t { high = 0, normal = 1, low = 2 };
inline constexpr unsigned kPriorityCount = 3;

// waiting: submitted with dependencies (SubmitOptions::depends_on) that have
// not all succeeded yet; not in any queue. dependency_failed: settled
// without running because a dependency did not succeed. The values are
// stable (appended, never reordered): bindings may store them.
enum class TaskStatus : std::uint8_t {
  queued,
  running,
  succeeded,
  failed,
  cancelled,
  timed_out,
  waiting,
  dependency_failed,
};

// Final: succeeded, failed, cancelled, timed_out, dependency_failed.
inline bool is_settled(TaskStatus s) noexcept {
  return s != TaskStatus::queued && s != TaskStatus::running && s != TaskStatus::waiting;
}

class Scheduler;

namespace detail {

struct TaskBase;

struct TaskOps {
  void (*run)(TaskBase&) noexcept;             // call, store value or exception, destroy callable
  void (*drop_callable)(TaskBase&) noexcept;   // the task will never run
  void (*drop_result)(TaskBase&) noexcept;     // the last reference is gone
};

using CompletionFn = void (*)(void* context, TaskBase& task) noexcept;

inline constexpr std::size_t kTaskSize = 128;

// State word: low byte = TaskStatus, bit 8 = a thread waits on the futex,
// bit 9 = other tasks wait for this one (its dependents are listed in the
// scheduler's dependency registry, src/dependencies.hpp), bit 10 = the task
// runs on a hosted slot (an AttachedWorker took it) whose index is in bits
// 16..31. Every transition but publish() preserves the upper bits;
// publish() clears them all and returns them to the settler (a settled
// task has no waiter left to wake, runs nowhere, and takes no more
// dependents).
inline constexpr std::uint32_t kStatusMask = 0xffu;
inline constexpr std::uint32_t kWaiterBit = 0x100u;
inline constexpr std::uint32_t kDependentsBit = 0x200u;
inline constexpr std::uint32_t kHostedBit = 0x400u;
inline constexpr unsigned kSlotShift = 16;

struct alignas(64) TaskBase {
  // --- written at submission, read by the worker (hot) ---
  const TaskOps* ops = nullptr;
  Scheduler* owner = nullptr;
  CompletionFn on_complete = nullptr;
  void* completion_context = nullptr;
  std::uint64_t id = 0;
  std::int64_t enqueued_ns = 0;
  std::int64_t deadline_ns = 0;  // 0: none
  std::atomic<std::uint32_t> state{0};
  std::atomic<std::uint32_t> refs{0};
  std::exception_ptr error;
  // --- pool bookkeeping (the free-list link lives in `storage` while free) ---
  std::uint32_t pool_index = 0;  // own index in the owning TaskPool
  std::uint16_t home_node = 0;   // TaskPool (NUMA node) that owns the memory
  Priority priority = Priority::normal;
  alignas(16) unsigned char storage[kTaskSize - 80];

  TaskStatus status(std::memory_order order = std::memory_order_acquire) const noexcept {
    return static_cast<TaskStatus>(state.load(order) & kStatusMask);
  }
  // queued -> to, or-ing `bits` into the state word. Returns false if the
  // task already left `queued`.
  bool claim(TaskStatus to, std::uint32_t bits = 0) noexcept;
  // waiting -> to (queued when its dependencies succeeded, or a final
  // status). Returns false if the task already left `waiting`.
  bool claim_waiting(TaskStatus to) noexcept;
  // Publish a final status; wakes futex waiters. The caller owns the
  // transition (it won claim()). Returns the state word it replaced.
  std::uint32_t publish(TaskStatus final_status) noexcept;
  void wait() const noexcept;
  bool wait_until_ns(std::int64_t deadline_ns) const noexcept;  // true if settled
};
static_assert(sizeof(TaskBase) == kTaskSize, "a task object is exactly two cache lines");

inline constexpr std::size_t kInlineBytes = sizeof(TaskBase::storage);

template <class T>
inline constexpr bool fits_inline =
    sizeof(T) <= kInlineBytes && alignof(T) <= 16 && std::is_nothrow_move_constructible_v<T>;

// Storage of a T in the task: inline when it fits, otherwise one heap box
// (the only per-task allocation, and only for large captures or results).
template <class T>
struct Slot {
  static T* get(TaskBase& t) noexcept {
    if constexpr (fits_inline<T>) {
      return std::launder(reinterpret_cast<T*>(t.storage));
    } else {
      return *std::launder(reinterpret_cast<T**>(t.storage));
    }
  }
  template <class... A>
  static void emplace(TaskBase& t, A&&... a) {
    if constexpr (fits_inline<T>) {
      ::new (static_cast<void*>(t.storage)) T(std::forward<A>(a)...);
    } else {
      ::new (static_cast<void*>(t.storage)) T*(new T(std::forward<A>(a)...));
    }
  }
  static void destroy(TaskBase& t) noexcept {
    if constexpr (fits_inline<T>) {
      get(t)->~T();
    } else {
      delete get(t);
    }
  }
};

template <class F>
struct Ops {
  using R = std::invoke_result_t<F&>;

  static void run(TaskBase& t) noexcept {
    F* f = Slot<F>::get(t);
    try {
      if constexpr (std::is_void_v<R>) {
        (*f)();
        Slot<F>::destroy(t);
      } else {
        R value = (*f)();
        Slot<F>::destroy(t);
        try {
          Slot<R>::emplace(t, std::move(value));
        } catch (...) {
          // Boxing the result failed; the callable is already gone.
          t.error = std::current_exception();
        }
      }
    } catch (...) {
      // A throw from (*f)() leaves f alive; a throw from emplace does not
      // reach here. Only the first case needs the destroy.
      if (!t.error) {
        t.error = std::current_exception();
        Slot<F>::destroy(t);
      }
    }
  }
  static void drop_callable(TaskBase& t) noexcept { Slot<F>::destroy(t); }
  static void drop_result(TaskBase& t) noexcept {
    if constexpr (!std::is_void_v<R>) {
      if (t.status(std::memory_order_relaxed) == TaskStatus::succeeded) Slot<R>::destroy(t);
    }
  }
  static constexpr TaskOps table{&run, &drop_callable, &drop_result};
};

void release(TaskBase& t) noexcept;  // drop one reference (scheduler.cpp)

}  // namespace detail

// The submitter's view of one task. Move-only; dropping it never cancels.
template <class R>
class Handle {
 public:
  Handle() noexcept = default;
  explicit Handle(detail::TaskBase* t) noexcept : task_(t) {}
  Handle(Handle&& o) noexcept : task_(std::exchange(o.task_, nullptr)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      task_ = std::exchange(o.task_, nullptr);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  bool valid() const noexcept { return task_ != nullptr; }
  // The task object, for the detail:: entry points (interrupt_task) and for
  // SubmitOptions::depends_on. Valid as long as this handle holds it.
  detail::TaskBase* task_base() const noexcept { return task_; }
  std::uint64_t id() const noexcept { return task_->id; }
  TaskStatus status() const noexcept { return task_->status(); }
  bool ready() const noexcept { return is_settled(status()); }
  void wait() const noexcept { task_->wait(); }
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> d) const noexcept {
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    const auto until = std::chrono::duration_cast<std::chrono::nanoseconds>(now + d).count();
    return task_->wait_until_ns(until);
  }
  // Cancels the task if it has not started (queued, or waiting for its
  // dependencies). True if this call cancelled it.
  bool cancel() noexcept;

  // Waits, then returns the value (moved out: call once), rethrows the task's
  // exception, or throws Error(cancelled / timed_out / dependency_failed). A task that a hosted
  // worker stopped while it ran (AttachedWorker::finish with cancelled or
  // timed_out) reads the same as one settled before it ran.
  R get() {
    wait();
    switch (status()) {
      case TaskStatus::succeeded:
        if constexpr (std::is_void_v<R>) {
          return;
        } else {
          return std::move(*detail::Slot<R>::get(*task_));
        }
      case TaskStatus::failed: std::rethrow_exception(task_->error);
      case TaskStatus::cancelled: throw Error(Errc::cancelled, "task was cancelled");
      case TaskStatus::timed_out: throw Error(Errc::timed_out, "task passed its deadline");
      case TaskStatus::dependency_failed:
        throw Error(Errc::dependency_failed, "a task this one depended on did not succeed; it never ran");
      default: TASKLETS_ASSERT(false && "settled task with a non-final status");
    }
  }

 private:
  void reset() noexcept {
    if (task_) detail::release(*std::exchange(task_, nullptr));
  }
  detail::TaskBase* task_ = nullptr;
};

namespace detail {
// Settles `t` as cancelled if it has not started (Handle::cancel). True if
// this call cancelled it. Works on any task pointer the caller keeps alive
// (it holds a reference: a Handle, retain(), a completion list), not only
// through a Handle.
bool cancel_task(TaskBase& t) noexcept;

// Asks the thread running `t` to stop it. Only tasks running on a hosted
// slot (taken by an AttachedWorker) can be asked: then the pool's
// WorkerHost::interrupt(slot, t, why) is called on this thread before this
// returns, and the result is true. Otherwise (queued, waiting, settled, or
// run by a native worker thread, which C++ cannot interrupt) nothing
// happens and the result is false. `why` is the status the caller would
// like the task to end with, normally cancelled or timed_out.
//
// A request, not a settlement: the task stays `running` until its serving
// thread calls AttachedWorker::finish() with whatever status it chooses. The
// task may be finishing concurrently (the host must tolerate being told
// about a task that is about to settle, or that just settled). The caller
// keeps `t` alive during the call; the host must not keep `t` past its
// interrupt() without its own reference (retain()).
bool interrupt_task(TaskBase& t, TaskStatus why) noexcept;
}  // namespace detail

template <class R>
bool Handle<R>::cancel() noexcept {
  return task_ && detail::cancel_task(*task_);
}

// The task objects of some handles, for SubmitOptions::depends_on:
//   const auto deps = tasklets::after(a, b);
//   options.depends_on = deps;
//   pool.submit(f, options);
// The array must live until the submit call returns: a temporary inside
// the submit call's own expression does, but `options.depends_on =
// after(a, b);` as a statement of its own leaves a dangling span. The
// handles keep the tasks alive.
template <class... R>
std::array<detail::TaskBase*, sizeof...(R)> after(const Handle<R>&... handles) noexcept {
  return {handles.task_base()...};
}

}  // namespace tasklets
