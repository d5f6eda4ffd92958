// A worker's local deque for the tasks it spawns itself: a Chase-Lev
// work-stealing deque with the C++ memory orderings of Lê, Pop, Cohen and
// Zappa Nardelli, "Correct and Efficient Work-Stealing for Weak Memory
// Models" (PPoPP 2013). The model of this protocol that spin checks is
// models/deque.pml (run by tests/test_models.cpp).
//
// One owner (the thread serving the slot) pushes and pops at the bottom, in
// LIFO order, so fork-join keeps its freshest, cache-hot task; any thread
// steals at the top, in FIFO order, so a thief takes the oldest (and, in
// fork-join, the largest) piece. The owner's push and pop take no
// read-modify-write at all unless the deque is down to its last element;
// a steal is one CAS on `top`.
//
// Protocol (indices only grow; the element of index i lives in
// buffer[i & mask]):
//   push(x):  b = bottom; t = top (acquire); grow if full;
//             buffer[b] = x; bottom = b + 1 (release: x before the index).
//   pop():    b = bottom - 1; bottom = b; seq_cst fence; t = top;
//             t < b: take buffer[b], no race possible (two or more left);
//             t == b: the last one, race the thieves: CAS top t -> t + 1;
//             either way bottom = t + 1 afterwards (empty, consistent).
//   steal():  t = top (acquire); seq_cst fence; b = bottom (acquire);
//             t < b: x = buffer[t]; CAS top t -> t + 1; x is ours only if
//             the CAS won.
// Invariants:
//   I1 (exactly once) every pushed element is handed out by exactly one
//      pop or steal. A thief takes index t only by winning the CAS of top
//      from t. The owner takes index b without a CAS only when it read
//      top < b after lowering bottom to b; by the store-buffer pattern of
//      the two seq_cst fences (pop's and steal's), a thief whose fence
//      follows the owner's reads the lowered bottom and cannot reach b,
//      and one whose fence precedes it read top before the owner did, so
//      its CAS from a top < b cannot hand out b either. Only the last
//      element (t == b) is reachable by both, and the CAS on top decides.
//   I2 (no torn read) a thief reads buffer[t] only after reading bottom > t
//      with acquire, which pairs with the release store of bottom in
//      push(); a grown buffer is published with release before the new
//      bottom, and an old buffer is kept until the deque dies, so a thief
//      holding it still reads the element it was at index t (the owner
//      never writes an old buffer again).
//   I3 (exact emptiness for the sleep protocol) size() read after a
//      seq_cst fence by a worker about to park is positive if an element
//      pushed before the pusher's own seq_cst fence is still there.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "tasklets/task.hpp"

namespace tasklets::detail {

class WorkDeque {
 public:
  static constexpr std::int64_t kInitialCapacity = 256;

  WorkDeque() : buffer_(new Buffer(kInitialCapacity)) { array_.store(buffer_.get(), std::memory_order_relaxed); }
  WorkDeque(const WorkDeque&) = delete;
  WorkDeque& operator=(const WorkDeque&) = delete;

  // Owner only. Returns true if the deque looked empty before the push (a
  // hint for the caller's wake-up: a thief may have emptied it since).
  // Throws Error(allocation) when it cannot grow, with nothing pushed.
  bool push(TaskBase* x) {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    const std::int64_t t = top_.load(std::memory_order_acquire);
    Buffer* a = array_.load(std::memory_order_relaxed);
    if (b - t >= a->capacity) a = grow(a, t, b);
    a->at(b).store(x, std::memory_order_relaxed);
    bottom_.store(b + 1, std::memory_order_release);
    return b <= t;
  }

  // Owner only. The newest element, or null.
  TaskBase* pop() noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    Buffer* a = array_.load(std::memory_order_relaxed);
    bottom_.store(b, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    std::int64_t t = top_.load(std::memory_order_relaxed);
    if (t > b) {
      bottom_.store(b + 1, std::memory_order_relaxed);
      return nullptr;
    }
    TaskBase* x = a->at(b).load(std::memory_order_relaxed);
    if (t == b) {
      if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {
        x = nullptr;  // a thief took the last one
      }
      bottom_.store(b + 1, std::memory_order_relaxed);
    }
    return x;
  }

  // Any thread. The oldest element, or null when empty or when another
  // thread won the race for it (the caller moves on; the element is not
  // lost: whoever won has it).
  TaskBase* steal() noexcept {
    std::int64_t t = top_.load(std::memory_order_acquire);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const std::int64_t b = bottom_.load(std::memory_order_acquire);
    if (t >= b) return nullptr;
    Buffer* a = array_.load(std::memory_order_acquire);
    TaskBase* x = a->at(t).load(std::memory_order_relaxed);
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {
      return nullptr;
    }
    return x;
  }

  // Elements in the deque, possibly stale; never negative. Exact enough
  // for the sleep protocol when read after a seq_cst fence (I3).
  std::int64_t size() const noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    const std::int64_t t = top_.load(std::memory_order_relaxed);
    return b > t ? b - t : 0;
  }

 private:
  struct Buffer {
    explicit Buffer(std::int64_t cap) : capacity(cap), slots(new std::atomic<TaskBase*>[static_cast<std::size_t>(cap)]) {}
    std::atomic<TaskBase*>& at(std::int64_t i) noexcept { return slots[static_cast<std::size_t>(i & (capacity - 1))]; }
    const std::int64_t capacity;  // a power of two
    std::unique_ptr<std::atomic<TaskBase*>[]> slots;
  };

  // Owner only: twice the room, [t, b) copied, published with release. The
  // old buffer stays (retired_) so that a thief that loaded it can finish.
  Buffer* grow(Buffer* old, std::int64_t t, std::int64_t b) {
    std::unique_ptr<Buffer> bigger;
    try {
      bigger = std::make_unique<Buffer>(old->capacity * 2);
      retired_.reserve(retired_.size() + 1);
    } catch (...) {
      throw Error(Errc::allocation, "a worker's task deque could not grow");
    }
    for (std::int64_t i = t; i < b; ++i) bigger->at(i).store(old->at(i).load(std::memory_order_relaxed), std::memory_order_relaxed);
    Buffer* next = bigger.get();
    array_.store(next, std::memory_order_release);
    retired_.push_back(std::move(buffer_));
    buffer_ = std::move(bigger);
    return next;
  }

  alignas(64) std::atomic<std::int64_t> top_{0};
  alignas(64) std::atomic<std::int64_t> bottom_{0};
  std::atomic<Buffer*> array_{nullptr};
  std::unique_ptr<Buffer> buffer_;              // the current one (owner)
  std::vector<std::unique_ptr<Buffer>> retired_;  // outgrown ones, kept for late thieves
};

}  // namespace tasklets::detail
