// The public face of the runtime.
//
//   tasklets::Pool pool({.workers = {.min = 1, .max = 8, .scaling = tasklets::Scaling::adaptive}});
//   auto h = pool.submit([] { return 6 * 7; });
//   int v = h.get();                       // 42, or the task's exception
//   pool.post([] { work(); });             // fire and forget
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
#include <type_traits>
#include <utility>
#include <vector>

#include "tasklets/batch.hpp"
#include "tasklets/config.hpp"
#include "tasklets/stats.hpp"
#include "tasklets/task.hpp"

namespace tasklets {

class WorkerHost;  // attached_worker.hpp

struct SubmitOptions {
  Priority priority = Priority::normal;
  // A task still queued at this point is settled as timed_out and never runs.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // Called once, on whichever thread settles the task (a worker, the
  // canceller, the deadline thread or shutdown), after the status and the
  // result are published. Must not throw. `task` is valid during the call.
  detail::CompletionFn on_complete = nullptr;
  void* context = nullptr;
};

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
    detail::TaskBase* t = make_task(std::forward<F>(fn), options, /*handle=*/true);
    enqueue(t);
    return Handle<R>(t);
  }

  template <class F>
  void post(F&& fn, const SubmitOptions& options = {}) {
    enqueue(make_task(std::forward<F>(fn), options, /*handle=*/false));
  }

  // Bulk submission: tasks enter the queues in bulk operations (one per
  // active worker for every 256 tasks), each with its own handle.
  template <class F>
  auto submit_batch(std::span<F> fns, const SubmitOptions& options = {})
      -> std::vector<Handle<std::invoke_result_t<std::decay_t<F>&>>> {
    using R = std::invoke_result_t<std::decay_t<F>&>;
    std::vector<Handle<R>> handles;
    handles.reserve(fns.size());
    submit_each<false>(fns, options, true, [&](detail::TaskBase* t) { handles.emplace_back(t); });
    return handles;
  }
  // Runs every callable once, in segments (batch.hpp): no task object and no
  // handle per callable. Callables are copied; the span may die on return.
  template <class F>
  void post_batch(std::span<F> fns, const SubmitOptions& options = {}) {
    using D = std::remove_const_t<F>;
    if (fns.empty()) return;
    const std::size_t seg = segment_size(fns.size());
    const std::size_t count = (fns.size() + seg - 1) / seg;
    auto* block = detail::BatchBlock<D>::make(std::span<D>(const_cast<D*>(fns.data()), fns.size()),
                                              static_cast<std::uint32_t>(count));
    std::vector<detail::Segment<D>> segments;
    try {
      segments.reserve(count);
    } catch (...) {
      for (std::size_t k = 0; k < count; ++k) block->release();
      throw;
    }
    for (std::size_t k = 0; k < count; ++k) {
      const auto b = static_cast<std::uint32_t>(k * seg);
      const auto e = static_cast<std::uint32_t>(std::min(fns.size(), (k + 1) * seg));
      segments.emplace_back(block, b, e);
    }
    submit_each<true>(std::span(segments), options, false, [](detail::TaskBase*) {});
  }

  ShutdownReport shutdown(ShutdownMode mode = ShutdownMode::drain,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds::max());
  PoolStats stats() const;
  // For pools with a WorkerHost: the thread the host was asked to start for
  // `slot` will never attach (it failed to start). The slot counts as
  // exited; its queue is served by stealing. False if a thread serves it or
  // it was not waiting for one.
  bool abandon_slot(unsigned slot) noexcept;
  const ResolvedConfig& config() const noexcept;
  bool accepting() const noexcept;

 private:
  static constexpr std::size_t kBatchChunk = 256;

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

  template <bool kMove, class F, class Sink>
  void submit_each(std::span<F> fns, const SubmitOptions& options, bool handle, Sink&& sink) {
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

  std::size_t segment_size(std::size_t callables) const noexcept;
  detail::TaskBase* acquire(const SubmitOptions& options, bool handle);
  void discard(detail::TaskBase* t) noexcept;              // callable not constructed
  void discard_constructed(detail::TaskBase* t) noexcept;  // callable constructed, never enqueued
  void enqueue(detail::TaskBase* t);
  void enqueue_bulk(detail::TaskBase* const* ts, std::size_t n);

  friend class AttachedWorker;
  std::unique_ptr<Scheduler> scheduler_;
};

}  // namespace tasklets
