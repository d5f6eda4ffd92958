// Fire-and-forget bulk submission without a task object per callable.
//
// Pool::post_batch copies the callables into one contiguous block and
// submits *segments* of it: a segment is an ordinary task that runs
// callables [begin, end) of the block in order. Each callable still runs
// exactly once; the segment is the unit of queueing, stealing, priority and
// deadline. post_batch submits one segment per active worker; a running
// segment splits adaptively, as parallel_for does (parallel_for.hpp): while
// it has splits left it posts its right half (a task in the running
// worker's own deque, where idle workers steal it) and goes on with the left
// one, and a segment that was stolen gets a fresh budget. So a batch costs
// a few tasks per worker, and more only where workers ran dry. Pieces of at
// most kMinSplit callables are not split. A callable that throws is counted
// as failed and the segment goes on with the next one.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <thread>
#include <utility>

#include "tasklets/task.hpp"

namespace tasklets::detail {

// Adds to the counters of the worker running the current task: a segment
// reports the callables it ran beyond the one its own completion counts.
void account_batch(std::int64_t executed_delta, std::uint64_t failed) noexcept;

inline constexpr std::uint32_t kMinSplit = 16;

template <class F>
class BatchBlock {
 public:
  static BatchBlock* make(std::span<F> fns, std::uint32_t segments) {
    std::unique_ptr<BatchBlock> b(new BatchBlock(fns.size(), segments));
    b->fns_ = std::allocator<F>().allocate(fns.size());
    try {
      std::uninitialized_copy(fns.begin(), fns.end(), b->fns_);
    } catch (...) {
      std::allocator<F>().deallocate(b->fns_, b->n_);
      b->fns_ = nullptr;
      throw;
    }
    return b.release();
  }
  ~BatchBlock() {
    if (!fns_) return;
    std::destroy_n(fns_, n_);
    std::allocator<F>().deallocate(fns_, n_);
  }
  // Runs [begin, end); drops one reference.
  void run(std::uint32_t begin, std::uint32_t end) noexcept {
    std::uint64_t failed = 0;
    for (std::uint32_t i = begin; i < end; ++i) {
      try {
        fns_[i]();
      } catch (...) {
        ++failed;
      }
    }
    account_batch(static_cast<std::int64_t>(end - begin - failed) - 1, failed);
    release();
  }
  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  BatchBlock(std::size_t n, std::uint32_t refs) : n_(n), refs_(refs) {}
  F* fns_ = nullptr;
  std::size_t n_;
  std::atomic<std::uint32_t> refs_;
};

// P is Pool (complete where a segment runs or is posted).
template <class F, class P>
struct Segment {
  BatchBlock<F>* block;
  std::uint32_t begin;
  std::uint32_t end;
  P* pool;
  unsigned splits;
  Priority priority;
  std::thread::id spawner;  // the thread that made this piece
  // A segment that never runs (cancelled by shutdown, past its deadline)
  // still owns a reference: the copy in the task drops it when destroyed.
  Segment(BatchBlock<F>* b, std::uint32_t s, std::uint32_t e, P* p, unsigned budget, Priority prio,
          std::thread::id from) noexcept
      : block(b), begin(s), end(e), pool(p), splits(budget), priority(prio), spawner(from) {}
  Segment(Segment&& o) noexcept
      : block(std::exchange(o.block, nullptr)),
        begin(o.begin),
        end(o.end),
        pool(o.pool),
        splits(o.splits),
        priority(o.priority),
        spawner(o.spawner) {}
  Segment(const Segment&) = delete;
  ~Segment() {
    if (block) block->release();
  }
  void operator()() noexcept {
    BatchBlock<F>* b = std::exchange(block, nullptr);
    const std::thread::id me = std::this_thread::get_id();
    const unsigned fresh = 4 * std::max(1u, pool->active_workers());
    unsigned left = me != spawner ? std::max(splits, fresh) : splits;
    std::uint32_t e = end;
    while (e - begin > kMinSplit && left > 0) {
      const std::uint32_t mid = begin + (e - begin) / 2;
      left /= 2;
      b->retain();
      try {
        post_piece(*pool, Segment(b, mid, e, pool, left, priority, me), priority);  // pool.hpp
      } catch (...) {
        break;  // not handed out (shutdown, no memory): the temporary dropped its reference; run it here
      }
      e = mid;
    }
    b->run(begin, e);
  }
};

}  // namespace tasklets::detail
