// A worker's inbox: one moodycamel ConcurrentQueue per priority, each with
// an exact count. This is the only file that includes moodycamel.
//
// Why a separate count: moodycamel's dequeue is only eventually consistent
// (a try_dequeue racing another consumer can report empty while an element
// that was enqueued before it is still there). The sleep protocol needs a
// linearizable "is there work" signal, so every queue carries a counter
// that is raised *before* the enqueue and lowered *after* a successful
// dequeue. Invariant: count >= number of elements a consumer can get, and
// count > 0 whenever an element is in the queue. A consumer that sees a
// positive count and an empty dequeue retries instead of parking.
#pragma once

#include <atomic>
#include <concurrentqueue/concurrentqueue.h>
#include <cstdint>
#include <memory>

#include "tasklets/task.hpp"

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace tasklets::detail {

// moodycamel hands elements over with standalone fences, which
// ThreadSanitizer does not model. Under TSan we state the hand-off the queue
// really provides (everything written to a task before its enqueue is
// visible to the thread that dequeues it), so that races on task fields in
// our own code stay detectable; tests/tsan.supp silences the false reports
// inside moodycamel's own frames.
#if defined(__SANITIZE_THREAD__)
inline void handoff_release(TaskBase* t) noexcept { __tsan_release(t); }
inline void handoff_acquire(TaskBase* t) noexcept { __tsan_acquire(t); }
#else
inline void handoff_release(TaskBase*) noexcept {}
inline void handoff_acquire(TaskBase*) noexcept {}
#endif

struct QueueTraits : moodycamel::ConcurrentQueueDefaultTraits {
  // Larger blocks than the default 32: fewer block hand-offs under bulk load.
  static constexpr size_t BLOCK_SIZE = 256;
  static constexpr size_t IMPLICIT_INITIAL_INDEX_SIZE = 64;
};

using MoodyQueue = moodycamel::ConcurrentQueue<TaskBase*, QueueTraits>;

class TaskQueue {
 public:
  TaskQueue() : queues_{MoodyQueue(QueueTraits::BLOCK_SIZE * 2), MoodyQueue(QueueTraits::BLOCK_SIZE * 4), MoodyQueue(QueueTraits::BLOCK_SIZE * 2)} {}

  // The serving thread's own producer and consumer tokens (moodycamel's fast
  // path for a thread that keeps pushing to and popping from one queue).
  // Made and used on that thread only.
  class OwnerTokens {
   public:
    explicit OwnerTokens(TaskQueue& q)
        : produce_{moodycamel::ProducerToken(q.queue(Priority::high)),
                   moodycamel::ProducerToken(q.queue(Priority::normal)),
                   moodycamel::ProducerToken(q.queue(Priority::low))},
          consume_{moodycamel::ConsumerToken(q.queue(Priority::high)),
                   moodycamel::ConsumerToken(q.queue(Priority::normal)),
                   moodycamel::ConsumerToken(q.queue(Priority::low))} {}

   private:
    friend class TaskQueue;
    moodycamel::ProducerToken produce_[kPriorityCount];
    moodycamel::ConsumerToken consume_[kPriorityCount];
  };

  // Raise the count first; the caller must check for shutdown between
  // reserve() and push() (docs/architecture.md, "Shutdown").
  void reserve(Priority p, std::int64_t n = 1) noexcept {
    count(p).fetch_add(n, std::memory_order_seq_cst);
  }
  void unreserve(Priority p, std::int64_t n = 1) noexcept {
    count(p).fetch_sub(n, std::memory_order_relaxed);
  }
  void push(TaskBase* t) {
    handoff_release(t);
    if (!queue(t->priority).enqueue(t)) throw Error(Errc::allocation, "task queue could not grow");
  }
  void push(OwnerTokens& tok, TaskBase* t) {
    handoff_release(t);
    if (!queue(t->priority).enqueue(tok.produce_[static_cast<unsigned>(t->priority)], t)) {
      throw Error(Errc::allocation, "task queue could not grow");
    }
  }
  void push_bulk(Priority p, TaskBase* const* ts, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) handoff_release(ts[i]);
    if (!queue(p).enqueue_bulk(ts, n)) throw Error(Errc::allocation, "task queue could not grow");
  }

  // Null when the count says empty or the dequeue came back empty.
  TaskBase* try_pop(Priority p) noexcept {
    if (count(p).load(std::memory_order_relaxed) <= 0) return nullptr;
    TaskBase* t = nullptr;
    if (!queue(p).try_dequeue(t)) return nullptr;
    count(p).fetch_sub(1, std::memory_order_relaxed);
    handoff_acquire(t);
    return t;
  }
  TaskBase* try_pop(OwnerTokens& tok, Priority p) noexcept {
    if (count(p).load(std::memory_order_relaxed) <= 0) return nullptr;
    TaskBase* t = nullptr;
    if (!queue(p).try_dequeue(tok.consume_[static_cast<unsigned>(p)], t)) return nullptr;
    count(p).fetch_sub(1, std::memory_order_relaxed);
    handoff_acquire(t);
    return t;
  }

  std::int64_t depth(Priority p) const noexcept {
    return counts_[static_cast<unsigned>(p)].value.load(std::memory_order_relaxed);
  }
  // Read after a seq_cst fence by the sleep protocol.
  bool any_reserved() const noexcept {
    for (const auto& c : counts_) {
      if (c.value.load(std::memory_order_relaxed) > 0) return true;
    }
    return false;
  }

 private:
  MoodyQueue& queue(Priority p) noexcept { return queues_[static_cast<unsigned>(p)]; }
  std::atomic<std::int64_t>& count(Priority p) noexcept {
    return counts_[static_cast<unsigned>(p)].value;
  }
  struct alignas(64) Count {
    std::atomic<std::int64_t> value{0};
  };
  Count counts_[kPriorityCount];
  MoodyQueue queues_[kPriorityCount];
};

}  // namespace tasklets::detail
