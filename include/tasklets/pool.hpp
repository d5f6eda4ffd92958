// The public face of the runtime.
//
//   tasklets::Pool pool({.workers = {.min = 1, .max = 8, .scaling = tasklets::Scaling::adaptive}});
//   auto h = pool.submit([] { return 6 * 7; });
//   int v = h.get();                       // 42, or the task's exception
//   pool.post([] { work(); });             // fire and forget
//   auto d = pool.submit([] { return 1; }, {.depends_on = tasklets::after(h)});  // runs once h succeeded
//   pool.shutdown(tasklets::ShutdownMode::drain);
//
// Thread safety: every member may be called from any thread, including from
// inside a task (a task that waits on another task's handle helps run
// queued work instead of blocking its worker).
// Lifetime: a Handle must not outlive the Pool that made it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "tasklets/batch.hpp"
#include "tasklets/config.hpp"
#include "tasklets/stats.hpp"
#include "tasklets/task.hpp"

namespace tasklets {

class WorkerHost;  // attached_worker.hpp

// Tasks another one waits for (SubmitOptions::depends_on).
using Dependencies = std::span<detail::TaskBase* const>;
inline constexpr std::size_t kMaxDependencies = 65536;  // per task

struct SubmitOptions {
  Priority priority = Priority::normal;
  // A task still queued at this point is settled as timed_out and never runs.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // Called once, on whichever thread settles the task (a worker, the
  // canceller, the deadline thread or shutdown), after the status and the
  // result are published. Must not throw. `task` is valid during the call.
  detail::CompletionFn on_complete = nullptr;
  void* context = nullptr;
  // Tasks of this pool that must succeed before this one runs (handles'
  // task_base(), tasklets::after(h...), or raw task pointers the caller
  // keeps alive during the submit call; read only during the call). Until
  // then the task is `waiting`: in no queue, cancellable, and its deadline
  // applies. When all succeeded it is queued with its own priority; as soon
  // as one ends failed, cancelled, timed_out or dependency_failed it is
  // settled `dependency_failed` without running (on_complete is called as
  // for any settlement; Handle::get() throws Errc::dependency_failed). A
  // dependency already settled counts at once. Empty: no dependencies, the
  // ordinary path. A null task, a task of another pool, or more than
  // kMaxDependencies throw Error(invalid_argument) with nothing submitted.
  // Shutdown: drain runs tasks whose dependencies succeed during the drain;
  // cancel settles waiting tasks as cancelled (docs/architecture.md,
  // "Dependencies"). For submit_batch / post_batch: every task (segment)
  // of the batch waits for all of them.
  Dependencies depends_on{};
};

namespace detail {
// Posts a piece of a batch (batch.hpp) with the batch's priority.
template <class P, class T>
void post_piece(P& pool, T&& piece, Priority priority) {
  SubmitOptions options;
  options.priority = priority;
  pool.post(std::forward<T>(piece), options);
}
}  // namespace detail

enum class ShutdownMode { drain, cancel };

struct ShutdownReport {
  bool timed_out = false;       // drain did not finish in time; the rest was cancelled
  std::uint64_t cancelled = 0;  // queued tasks settled as cancelled by the shutdown
};

class Pool {
 public:
  explicit Pool(const PoolConfig& config = {}, std::shared_ptr<WorkerHost> host = nullptr);
  ~Pool();  // shutdown(drain) unless already shut down
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  template <class F>
  auto submit(F&& fn, const SubmitOptions& options = {}) -> Handle<std::invoke_result_t<std::decay_t<F>&>> {
    using R = std::invoke_result_t<std::decay_t<F>&>;
    if (!options.depends_on.empty()) check_dependencies(options.depends_on, {});
    detail::TaskBase* t = make_task(std::forward<F>(fn), options, /*handle=*/true);
    enqueue_one(t, options.depends_on);
    return Handle<R>(t);
  }

  template <class F>
  void post(F&& fn, const SubmitOptions& options = {}) {
    if (!options.depends_on.empty()) check_dependencies(options.depends_on, {});
    enqueue_one(make_task(std::forward<F>(fn), options, /*handle=*/false), options.depends_on);
  }

  // Bulk submission: tasks enter the queues in bulk operations (one per
  // active worker for every 256 tasks), each with its own handle.
  template <class F>
  auto submit_batch(std::span<F> fns, const SubmitOptions& options = {})
      -> std::vector<Handle<std::invoke_result_t<std::decay_t<F>&>>> {
    return submit_batch(fns, options, {});
  }
  // The same, where task i also waits for depends_on[i] (empty: nothing
  // more than options.depends_on). depends_on is empty (no per-task
  // dependencies) or has one entry per callable. Tasks without any
  // dependency still go in bulk. Every list is checked before anything is
  // submitted (Error(invalid_argument)).
  template <class F>
  auto submit_batch(std::span<F> fns, const SubmitOptions& options, std::span<const Dependencies> depends_on)
      -> std::vector<Handle<std::invoke_result_t<std::decay_t<F>&>>> {
    using R = std::invoke_result_t<std::decay_t<F>&>;
    check_batch_dependencies(fns.size(), options.depends_on, depends_on);
    std::vector<Handle<R>> handles;
    handles.reserve(fns.size());
    submit_each<false>(fns, options, true, [&](detail::TaskBase* t) { handles.emplace_back(t); }, depends_on);
    return handles;
  }
  // Runs every callable once, in segments (batch.hpp): no task object and no
  // handle per callable; one segment per active worker, split adaptively
  // as they run. Callables are copied; the span may die on return.
  template <class F>
  void post_batch(std::span<F> fns, const SubmitOptions& options = {}) {
    using D = std::remove_const_t<F>;
    using S = detail::Segment<D, Pool>;
    if (fns.empty()) return;
    if (!options.depends_on.empty()) check_dependencies(options.depends_on, {});
    const std::size_t count = std::min<std::size_t>(fns.size(), std::max(1u, active_workers()));
    const std::size_t seg = (fns.size() + count - 1) / count;
    auto* block = detail::BatchBlock<D>::make(std::span<D>(const_cast<D*>(fns.data()), fns.size()),
                                              static_cast<std::uint32_t>(count));
    std::vector<S> segments;
    try {
      segments.reserve(count);
    } catch (...) {
      for (std::size_t k = 0; k < count; ++k) block->release();
      throw;
    }
    const unsigned budget = 4 * static_cast<unsigned>(count);
    for (std::size_t k = 0; k < count; ++k) {
      const auto b = static_cast<std::uint32_t>(std::min(fns.size(), k * seg));
      const auto e = static_cast<std::uint32_t>(std::min(fns.size(), (k + 1) * seg));
      segments.emplace_back(block, b, e, this, budget, options.priority, std::this_thread::get_id());
    }
    submit_each<true>(std::span(segments), options, false, [](detail::TaskBase*) {});
  }

  ShutdownReport shutdown(ShutdownMode mode = ShutdownMode::drain,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds::max());
  PoolStats stats() const;
  // New worker bounds for the running pool, as `workers` would give a new
  // pool (min, max, scaling and the adaptive knobs; min auto = max for fixed
  // scaling, 1 for adaptive; max auto = the worker slots made so far),
  // without losing or repeating a task. A max above the slots made so far
  // (PoolConfig::worker_slots, or workers.max, at construction) makes the
  // missing slots first; slots never move and are kept when the pool shrinks.
  // Throws Error(invalid_argument) for min < 1, min > max, a fixed pool with
  // min != max, max above kMaxWorkers or a bad knob, with nothing changed;
  // Error(shutdown) once shutdown started.
  // The active worker count moves to the new bounds before it returns: below
  // min, workers are started (WorkerHost::start for hosted pools) and counted
  // in scale_ups; above max, the highest slots are retired and counted in
  // scale_downs, as adaptive scale-down does (they take no new submissions;
  // an idle one leaves, a busy one first finishes its task and empties its
  // own queue, which the others also steal from). Within the bounds an
  // adaptive pool keeps its size and scales from there. Returns once the
  // bounds are in force, not once every thread started or left. If a worker
  // cannot be started (the host's start() threw), the new bounds stay in
  // force, the error propagates, and the housekeeper retries every tick.
  // stats() reports the current bounds and scaling; config() keeps the
  // configuration the pool was created with. Thread-safe, also from tasks.
  void resize(const WorkersConfig& workers);
  // For pools with a WorkerHost: the thread the host was asked to start for
  // `slot` will never attach (it failed to start). The slot counts as
  // exited; its queue is served by stealing. False if a thread serves it or
  // it was not waiting for one.
  bool abandon_slot(unsigned slot) noexcept;
  const ResolvedConfig& config() const noexcept;
  bool accepting() const noexcept;
  // Workers taking new tasks now (between the current bounds; cheap, unlike
  // stats()).
  unsigned active_workers() const noexcept;

  // submit_batch and post_batch enqueue this many tasks per bulk operation.
  static constexpr std::size_t kBatchChunk = 256;

 private:

  template <class F>
  detail::TaskBase* make_task(F&& fn, const SubmitOptions& options, bool handle) {
    using D = std::decay_t<F>;
    detail::TaskBase* t = acquire(options, handle);
    try {
      detail::Slot<D>::emplace(*t, std::forward<F>(fn));
    } catch (...) {
      discard(t);
      throw;
    }
    t->ops = &detail::Ops<D>::table;
    return t;
  }

  void enqueue_one(detail::TaskBase* t, Dependencies depends_on) {
    if (depends_on.empty()) {
      enqueue(t);
    } else {
      enqueue_after(t, depends_on, {});
    }
  }

  void check_batch_dependencies(std::size_t n, Dependencies common, std::span<const Dependencies> per_task) const {
    if (!per_task.empty() && per_task.size() != n) {
      throw Error(Errc::invalid_argument, "submit_batch: one dependency list per callable, or none");
    }
    if (per_task.empty()) {
      if (!common.empty()) check_dependencies(common, {});
      return;
    }
    for (const Dependencies& own : per_task) {
      if (!common.empty() || !own.empty()) check_dependencies(common, own);
    }
  }

  // Dependencies checked by the caller. Tasks that wait for something are
  // submitted one by one, in order with the bulk chunks of the others.
  template <bool kMove, class F, class Sink>
  void submit_each(std::span<F> fns, const SubmitOptions& options, bool handle, Sink&& sink,
                   std::span<const Dependencies> per_task = {}) {
    if (!options.depends_on.empty() || !per_task.empty()) {
      submit_each_waiting<kMove>(fns, options, handle, sink, per_task);
      return;
    }
    detail::TaskBase* chunk[kBatchChunk];
    std::size_t i = 0;
    while (i < fns.size()) {
      const std::size_t n = std::min(kBatchChunk, fns.size() - i);
      for (std::size_t k = 0; k < n; ++k) {
        try {
          if constexpr (kMove) {
            chunk[k] = make_task(std::move(fns[i + k]), options, handle);
          } else {
            chunk[k] = make_task(fns[i + k], options, handle);
          }
        } catch (...) {
          for (std::size_t j = 0; j < k; ++j) discard_constructed(chunk[j]);
          throw;
        }
      }
      enqueue_bulk(chunk, n);
      for (std::size_t k = 0; k < n; ++k) sink(chunk[k]);
      i += n;
    }
  }

  template <bool kMove, class F, class Sink>
  void submit_each_waiting(std::span<F> fns, const SubmitOptions& options, bool handle, Sink& sink,
                           std::span<const Dependencies> per_task) {
    detail::TaskBase* chunk[kBatchChunk];
    std::size_t n = 0;  // tasks without dependencies made and not yet queued
    auto flush = [&] {
      const std::size_t m = std::exchange(n, 0);
      if (m == 0) return;
      enqueue_bulk(chunk, m);  // on a throw, discards all m
      for (std::size_t k = 0; k < m; ++k) sink(chunk[k]);
    };
    for (std::size_t i = 0; i < fns.size(); ++i) {
      const Dependencies own = per_task.empty() ? Dependencies{} : per_task[i];
      const bool waits = !options.depends_on.empty() || !own.empty();
      if (waits) flush();
      detail::TaskBase* t;
      try {
        if constexpr (kMove) {
          t = make_task(std::move(fns[i]), options, handle);
        } else {
          t = make_task(fns[i], options, handle);
        }
      } catch (...) {
        for (std::size_t k = 0; k < n; ++k) discard_constructed(chunk[k]);
        throw;
      }
      if (waits) {
        enqueue_after(t, options.depends_on, own);  // on a throw, discards t
        sink(t);
      } else {
        chunk[n++] = t;
        if (n == kBatchChunk) flush();
      }
    }
    flush();
  }

  void check_dependencies(Dependencies a, Dependencies b) const;
  void enqueue_after(detail::TaskBase* t, Dependencies a, Dependencies b);
  detail::TaskBase* acquire(const SubmitOptions& options, bool handle);
  void discard(detail::TaskBase* t) noexcept;              // callable not constructed
  void discard_constructed(detail::TaskBase* t) noexcept;  // callable constructed, never enqueued
  void enqueue(detail::TaskBase* t);
  void enqueue_bulk(detail::TaskBase* const* ts, std::size_t n);

  friend class AttachedWorker;
  std::unique_ptr<Scheduler> scheduler_;
};

}  // namespace tasklets
