// Fire-and-forget bulk submission without a task object per callable.
//
// Pool::post_batch copies the callables into one contiguous block and
// submits *segments* of it: a segment is an ordinary task that runs
// callables [begin, end) of the block in order. Each callable still runs
// exactly once; the segment is the unit of queueing, stealing, priority and
// deadline. Segments are small (at most kMaxSegment callables, and about
// eight per active worker for short batches) so that idle workers can steal
// the rest of a long batch. A callable that throws is counted as failed and
// the segment goes on with the next one.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>

namespace tasklets::detail {

// Adds to the counters of the worker running the current task: a segment
// reports the callables it ran beyond the one its own completion counts.
void account_batch(std::int64_t executed_delta, std::uint64_t failed) noexcept;

inline constexpr std::size_t kMaxSegment = 64;

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
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  BatchBlock(std::size_t n, std::uint32_t refs) : n_(n), refs_(refs) {}
  F* fns_ = nullptr;
  std::size_t n_;
  std::atomic<std::uint32_t> refs_;
};

template <class F>
struct Segment {
  BatchBlock<F>* block;
  std::uint32_t begin;
  std::uint32_t end;
  // A segment that never runs (cancelled by shutdown, past its deadline)
  // still owns a reference: the copy in the task drops it when destroyed.
  Segment(BatchBlock<F>* b, std::uint32_t s, std::uint32_t e) noexcept : block(b), begin(s), end(e) {}
  Segment(Segment&& o) noexcept : block(std::exchange(o.block, nullptr)), begin(o.begin), end(o.end) {}
  Segment(const Segment&) = delete;
  ~Segment() {
    if (block) block->release();
  }
  void operator()() noexcept { std::exchange(block, nullptr)->run(begin, end); }
};

}  // namespace tasklets::detail
