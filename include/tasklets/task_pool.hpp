// Recycles task objects so that submitting a task allocates nothing in the
// steady state. One TaskPool per NUMA node, its memory carved from that
// node's jemalloc arena in chunks of kChunkObjects objects.
//
// Layers (oneTBB's small-object pool is the model):
//   * a Cache per worker thread: a private LIFO list, no atomics;
//   * a thread_local cache per submitting (non-worker) thread, keyed by the
//     pool's uid so that a cache never returns objects to a dead pool;
//   * one shared free list per pool: a lock-free stack that only supports
//     "push a chain" (CAS) and "take everything" (exchange). With no
//     single-element pop there is no ABA problem and no read of a node that
//     another thread may be reusing.
// Objects are addressed by 32-bit index (chunk << 9 | slot); the link of a
// free object is kept in its (then unused) storage bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "tasklets/task.hpp"

namespace tasklets {

class ArenaSet;

struct TaskPoolStats {
  std::uint64_t capacity = 0;     // objects carved so far
  std::uint64_t live = 0;         // handed out and not yet returned (see docs: lags by cache sizes)
  std::uint64_t free_shared = 0;  // in the shared free list
  std::uint64_t cached = 0;       // in per-thread caches (capacity - live - free_shared)
  std::uint64_t misses = 0;       // refills that had to carve a new chunk
  std::uint64_t chunk_bytes = 0;  // memory taken from the arena
};

namespace detail {

class TaskPool {
 public:
  static constexpr std::uint32_t kChunkShift = 9;
  static constexpr std::uint32_t kChunkObjects = 1u << kChunkShift;
  static constexpr std::uint32_t kMaxChunks = 1u << 16;
  static constexpr std::uint32_t kCacheLimit = 256;  // a worker cache spills half past this

  // Owned by exactly one thread at a time.
  struct Cache {
    std::uint32_t head = 0;  // index + 1; 0 = empty
    std::uint32_t count = 0;
    std::int64_t acquired = 0;  // not yet folded into the pool's totals
    std::int64_t released = 0;
  };

  TaskPool(ArenaSet& arenas, unsigned node);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  unsigned node() const noexcept { return node_; }
  std::uint64_t uid() const noexcept { return uid_; }

  TaskBase* acquire(Cache& cache);                      // worker threads
  TaskBase* acquire_external();                         // any other thread
  void release(Cache& cache, TaskBase* t) noexcept;     // t belongs to this pool
  void release_remote(TaskBase* t) noexcept;            // from a thread with no cache of this pool
  void flush(Cache& cache) noexcept;                    // everything back to the shared list

  TaskPoolStats stats() const noexcept;

  // Internal to task_pool.cpp (the thread_local caches use them).
  void push_chain(std::uint32_t head, std::uint32_t tail, std::uint32_t n) noexcept;
  std::uint32_t take_all() noexcept;
  TaskBase* at(std::uint32_t index1) const noexcept;
  void fold(std::int64_t acquired, std::int64_t released) noexcept;

 private:
  void refill(Cache& cache);
  void carve_chunk(Cache& cache);
  void spill(Cache& cache, std::uint32_t keep) noexcept;

  ArenaSet& arenas_;
  const unsigned node_;
  const std::uint64_t uid_;
  alignas(64) std::atomic<std::uint32_t> shared_head_{0};
  std::atomic<std::int64_t> shared_count_{0};
  alignas(64) std::atomic<std::int64_t> acquired_{0};
  std::atomic<std::int64_t> released_{0};
  std::atomic<std::uint64_t> misses_{0};
  alignas(64) std::mutex grow_mutex_;
  std::atomic<std::uint32_t> chunk_count_{0};
  std::unique_ptr<std::atomic<TaskBase*>[]> chunks_;
};

}  // namespace detail
}  // namespace tasklets
