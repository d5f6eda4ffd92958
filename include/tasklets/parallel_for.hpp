// parallel_for: run fn(i) for every i of a range on a pool, and return when
// all ran.
//
//   tasklets::parallel_for(pool, 0, n, [&](std::size_t i) { out[i] = f(in[i]); });
//
// The range is split adaptively, as rayon's and TBB's auto partitioner do:
// it starts as a few pieces per worker; a piece splits in half (the right
// half becomes a task in the running worker's own deque, where an idle
// worker can steal it) only while it still has splits left, and a piece
// that was stolen gets a fresh budget, because a steal means some worker
// ran out of work. So a balanced loop runs as a handful of tasks, and an
// unbalanced one keeps splitting where the work is. Pieces of at most
// `grain` indices are never split.
//
// Blocking: the caller waits for the whole range. From inside a task of the
// same pool it helps run the pieces meanwhile (never blocks a worker).
// Errors: if fn throws, the other indices still run, and the first
// exception caught is rethrown to the caller once all have finished.
// Throws Error(shutdown) if the pool does not accept tasks.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>

#include "tasklets/pool.hpp"

namespace tasklets {

struct ParallelForOptions {
  std::size_t grain = 1;  // a piece of at most this many indices runs whole
};

namespace detail {

// State shared by every piece of one parallel_for call; lives on the
// caller's stack, which outlives every piece (the caller waits for all).
template <class F>
struct ParallelFor {
  Pool& pool;
  F& fn;
  std::size_t grain;
  unsigned fresh_splits;  // the budget of the first piece and of a stolen one
  std::mutex error_mutex;
  std::exception_ptr error;

  void fail(std::exception_ptr e) noexcept {
    std::lock_guard lock(error_mutex);
    if (!error) error = std::move(e);
  }

  // Runs [begin, end) with `splits` halvings left, on the thread `spawner`
  // made the piece on (a different thread means it was stolen).
  void run(std::size_t begin, std::size_t end, unsigned splits, std::thread::id spawner) noexcept {
    if (std::this_thread::get_id() != spawner) splits = std::max(splits, fresh_splits);
    // Right halves handed out as tasks, waited for below (at most one per
    // halving: a splits budget is far below 64 halvings).
    Handle<void> halves[64];
    unsigned n = 0;
    while (end - begin > grain && splits > 0 && n < 64) {
      const std::size_t mid = begin + (end - begin) / 2;
      splits /= 2;
      try {
        halves[n] = pool.submit([this, mid, end, splits, me = std::this_thread::get_id()] { run(mid, end, splits, me); });
        ++n;
        end = mid;
      } catch (...) {
        break;  // could not hand it out (shutdown, no memory): run it here
      }
    }
    for (std::size_t i = begin; i < end; ++i) {
      try {
        fn(i);
      } catch (...) {
        fail(std::current_exception());
      }
    }
    // Newest first: the last half handed out is on top of this worker's deque.
    while (n > 0) {
      Handle<void>& h = halves[--n];
      try {
        h.get();
      } catch (...) {
        fail(std::current_exception());
      }
    }
  }
};

}  // namespace detail

template <class F>
void parallel_for(Pool& pool, std::size_t begin, std::size_t end, F&& fn, ParallelForOptions options = {}) {
  if (end <= begin) return;
  detail::ParallelFor<std::remove_reference_t<F>> job{pool, fn, std::max<std::size_t>(1, options.grain),
                                                      4 * std::max(1u, pool.active_workers()), {}, {}};
  pool.submit([&job, begin, end] { job.run(begin, end, job.fresh_splits, std::this_thread::get_id()); }).get();
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace tasklets
