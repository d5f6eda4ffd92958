// A worker's inbox: one moodycamel ConcurrentQueue per priority, each with
// an exact count, where tasks from other threads arrive; and the worker's
// own deque (deque.hpp) for the normal-priority tasks it spawns itself,
// which it pops LIFO and others steal FIFO. This is the only file that
// includes moodycamel.
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
#include <mutex>
#include <unordered_set>

#include "deque.hpp"
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

// Producer tokens of the threads that are not a queue's owner (the Node
// main thread, a C++ producer), cached per thread: without a token,
// moodycamel finds the calling thread's implicit producer through a hash
// of its thread id on every enqueue (the largest single part of an outside
// post: perf/profile_post.sh). A token points into its queue, so a cached
// token is destroyed only while its queue is known to live (the registry
// below, checked under its mutex; touched only when a thread first posts
// to a queue, evicts an entry, or exits). A token whose queue died is
// forgotten without running its destructor.
struct OutsideTokenEntry {
  std::uint64_t uid = 0;
  bool made[kPriorityCount] = {};
  alignas(moodycamel::ProducerToken) unsigned char storage[kPriorityCount][sizeof(moodycamel::ProducerToken)];
  moodycamel::ProducerToken* token(unsigned p) noexcept {
    return std::launder(reinterpret_cast<moodycamel::ProducerToken*>(storage[p]));
  }
};
struct OutsideTokenCache {
  static constexpr unsigned kEntries = 16;  // direct-mapped by queue uid
  OutsideTokenEntry entries[kEntries];
  ~OutsideTokenCache();
};

class OutsideTokens {
 public:
  static constexpr unsigned kEntries = OutsideTokenCache::kEntries;

  static std::uint64_t register_queue() {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    const std::uint64_t uid = ++r.next_uid;
    r.live.insert(uid);
    return uid;
  }
  static void unregister_queue(std::uint64_t uid) noexcept {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    r.live.erase(uid);
  }
  // The calling thread's token for queue `p` of the inbox `uid`, made on
  // first use; null if it could not be made (the caller enqueues without).
  static moodycamel::ProducerToken* get(std::uint64_t uid, unsigned p, MoodyQueue& q) noexcept {
    Entry& e = t_cache.entries[uid % kEntries];
    if (e.uid == uid && e.made[p]) [[likely]] return e.token(p);
    return make(e, uid, p, q);
  }

 private:
  struct Registry {
    std::mutex mutex;
    std::uint64_t next_uid = 0;
    std::unordered_set<std::uint64_t> live;
  };
  static Registry& registry() {
    static Registry r;
    return r;
  }
  using Entry = OutsideTokenEntry;
  friend struct OutsideTokenCache;
  static inline thread_local OutsideTokenCache t_cache;

  static moodycamel::ProducerToken* make(Entry& e, std::uint64_t uid, unsigned p, MoodyQueue& q) noexcept {
    if (e.uid != uid) {
      evict(e);
      e.uid = uid;
    }
    try {
      ::new (static_cast<void*>(e.storage[p])) moodycamel::ProducerToken(q);
    } catch (...) {
      return nullptr;
    }
    if (!e.token(p)->valid()) {
      e.token(p)->~ProducerToken();
      return nullptr;
    }
    e.made[p] = true;
    return e.token(p);
  }
  static void evict(Entry& e) noexcept {
    if (e.uid == 0) return;
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    const bool live = r.live.count(e.uid) != 0;
    for (unsigned p = 0; p < kPriorityCount; ++p) {
      if (e.made[p] && live) e.token(p)->~ProducerToken();
      e.made[p] = false;
    }
    e.uid = 0;
  }
};

inline OutsideTokenCache::~OutsideTokenCache() {
  for (OutsideTokenEntry& e : entries) OutsideTokens::evict(e);
}

class TaskQueue {
 public:
  TaskQueue()
      : queues_{MoodyQueue(QueueTraits::BLOCK_SIZE * 2), MoodyQueue(QueueTraits::BLOCK_SIZE * 4),
                MoodyQueue(QueueTraits::BLOCK_SIZE * 2)},
        uid_(OutsideTokens::register_queue()) {}
  ~TaskQueue() { OutsideTokens::unregister_queue(uid_); }
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

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
    unsigned pops_ = 0;  // every kInboxEvery-th own pop looks at the inbox first
  };

  // Raise the count first; the caller must check for shutdown between
  // reserve() and push() (docs/architecture.md, "Shutdown"). Returns the
  // count before: positive means an earlier submitter's announced task is
  // still there, and that submitter did the wake-up check for it.
  std::int64_t reserve(Priority p, std::int64_t n = 1) noexcept {
    return count(p).fetch_add(n, std::memory_order_seq_cst);
  }
  void unreserve(Priority p, std::int64_t n = 1) noexcept {
    count(p).fetch_sub(n, std::memory_order_relaxed);
  }
  // From a thread that does not serve this queue: through its cached token.
  void push(TaskBase* t) {
    handoff_release(t);
    MoodyQueue& q = queue(t->priority);
    moodycamel::ProducerToken* tok = OutsideTokens::get(uid_, static_cast<unsigned>(t->priority), q);
    if (!(tok ? q.enqueue(*tok, t) : q.enqueue(t))) throw Error(Errc::allocation, "task queue could not grow");
  }
  void push(OwnerTokens& tok, TaskBase* t) {
    handoff_release(t);
    if (!queue(t->priority).enqueue(tok.produce_[static_cast<unsigned>(t->priority)], t)) {
      throw Error(Errc::allocation, "task queue could not grow");
    }
  }
  void push_bulk(Priority p, TaskBase* const* ts, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) handoff_release(ts[i]);
    MoodyQueue& q = queue(p);
    moodycamel::ProducerToken* tok = OutsideTokens::get(uid_, static_cast<unsigned>(p), q);
    // GCC 12 sees a zero-sized destination in moodycamel's inlined block
    // index of the explicit producer, a false -Wstringop-overflow.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
    const bool queued = tok ? q.enqueue_bulk(*tok, ts, n) : q.enqueue_bulk(ts, n);
#pragma GCC diagnostic pop
    if (!queued) throw Error(Errc::allocation, "task queue could not grow");
  }

  // The serving thread's own normal-priority task, into its deque: no
  // count, no read-modify-write. Returns true if the deque looked empty
  // (then idle workers are worth waking to steal). The serving thread
  // cannot leave its slot while the deque holds anything, so no shutdown
  // handshake is needed here (docs/architecture.md, "The local deque").
  bool push_local(OwnerTokens&, TaskBase* t) { return local_.push(t); }

  // A thief's (or shutdown's) pop: normal priority steals from the deque
  // first, then the inbox. Null when both say empty, when the dequeue came
  // back empty, or when another thief won the deque's oldest task.
  // `more`: set when the inbox's count still announces tasks after this one.
  TaskBase* try_pop(Priority p, bool& more) noexcept {
    if (p == Priority::normal) {
      if (TaskBase* t = local_.steal()) return t;
    }
    return try_pop_inbox(p, more);
  }
  TaskBase* try_pop(Priority p) noexcept {
    bool more = false;
    return try_pop(p, more);
  }
  // The serving thread's pop: normal priority takes its newest spawned task
  // first (LIFO: still in cache), except every kInboxEvery-th pop, which
  // looks at the inbox first, so that tasks from outside never starve
  // behind a task that keeps spawning.
  TaskBase* try_pop(OwnerTokens& tok, Priority p, bool& more) noexcept {
    if (p != Priority::normal) return try_pop_inbox(tok, p, more);
    if (++tok.pops_ % kInboxEvery == 0) {
      if (TaskBase* t = try_pop_inbox(tok, p, more)) return t;
    }
    if (TaskBase* t = local_.pop()) return t;
    return try_pop_inbox(tok, p, more);
  }
  TaskBase* try_pop(OwnerTokens& tok, Priority p) noexcept {
    bool more = false;
    return try_pop(tok, p, more);
  }

  std::int64_t depth(Priority p) const noexcept {
    const std::int64_t queued = counts_[static_cast<unsigned>(p)].value.load(std::memory_order_relaxed);
    return p == Priority::normal ? queued + local_.size() : queued;
  }
  // Read after a seq_cst fence by the sleep protocol.
  bool any_reserved() const noexcept {
    for (const auto& c : counts_) {
      if (c.value.load(std::memory_order_relaxed) > 0) return true;
    }
    return local_.size() > 0;
  }

 private:
  static constexpr unsigned kInboxEvery = 32;

  // Null when the count says empty or the dequeue came back empty.
  TaskBase* try_pop_inbox(Priority p, bool& more) noexcept {
    if (count(p).load(std::memory_order_relaxed) <= 0) return nullptr;
    TaskBase* t = nullptr;
    if (!queue(p).try_dequeue(t)) return nullptr;
    more = count(p).fetch_sub(1, std::memory_order_relaxed) > 1;
    handoff_acquire(t);
    return t;
  }
  TaskBase* try_pop_inbox(OwnerTokens& tok, Priority p, bool& more) noexcept {
    if (count(p).load(std::memory_order_relaxed) <= 0) return nullptr;
    TaskBase* t = nullptr;
    if (!queue(p).try_dequeue(tok.consume_[static_cast<unsigned>(p)], t)) return nullptr;
    more = count(p).fetch_sub(1, std::memory_order_relaxed) > 1;
    handoff_acquire(t);
    return t;
  }

  MoodyQueue& queue(Priority p) noexcept { return queues_[static_cast<unsigned>(p)]; }
  std::atomic<std::int64_t>& count(Priority p) noexcept {
    return counts_[static_cast<unsigned>(p)].value;
  }
  struct alignas(64) Count {
    std::atomic<std::int64_t> value{0};
  };
  Count counts_[kPriorityCount];
  MoodyQueue queues_[kPriorityCount];
  WorkDeque local_;
  const std::uint64_t uid_;  // for OutsideTokens
};

}  // namespace tasklets::detail
