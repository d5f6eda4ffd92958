// Recycles task objects so that submitting a task allocates nothing in the
// steady state. One TaskPool per NUMA node, its memory carved from that
// node's jemalloc arena in chunks of kChunkObjects objects.
//
// Layers (oneTBB's small-object pool is the model):
//   * a Cache per thread that uses the pool: a worker's own, or a
//     thread_local one per submitting (non-worker) thread, keyed by the
//     pool's uid so that it never returns objects to a dead pool. A cache is
//     two private LIFO chains (active and spare), no atomics;
//   * a depot of whole chains of kChainSize objects shared by all threads:
//     a fixed array of slots, each an atomic word holding one chain
//     (head index and count) or 0. Putting a chain is a CAS 0 -> chain,
//     taking one an exchange chain -> 0: a chain is owned by exactly one
//     thread or one slot, and no thread ever reads an object it does not
//     own, so there is no ABA problem;
//   * an overflow stack of chains (push by CAS, take-all by exchange) for
//     when every slot is full.
// A cache moves whole chains to and from the depot, so a thread touches a
// shared word once per kChainSize tasks, and never walks a list. The depot
// and the overflow stack are model-checked by models/task_pool.pml (run by
// tests/test_models.cpp), with the one-chain-at-a-time CAS pop shown to
// fail there (ABA).
// Objects are addressed by 32-bit index (chunk << 9 | slot); the links of a
// free object are kept in its (then unused) storage bytes.
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
  static constexpr std::uint32_t kChainSize = 128;   // objects moved to or from the depot at once
  static constexpr std::uint32_t kDepotSlots = 64;

  // A private list with known ends (indices + 1; 0 = none).
  struct Chain {
    std::uint32_t head = 0;
    std::uint32_t tail = 0;
    std::uint32_t count = 0;
  };
  // Owned by exactly one thread at a time.
  struct Cache {
    Chain active;  // pop and push here
    Chain spare;   // one full chain held back, so a thread that alternates
                   // between acquiring and releasing never hits the depot
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
  void release_external(TaskBase* t) noexcept;          // from any thread without a Cache of this pool
  void flush(Cache& cache) noexcept;                    // everything back to the depot

  TaskPoolStats stats() const noexcept;

  TaskBase* at(std::uint32_t index1) const noexcept;
  void fold(std::int64_t acquired, std::int64_t released) noexcept;

 private:
  void put_chain(const Chain& c) noexcept;
  Chain get_chain() noexcept;
  void refill(Cache& cache);
  void carve_chunk(Cache& cache);

  ArenaSet& arenas_;
  const unsigned node_;
  const std::uint64_t uid_;
  alignas(64) std::atomic<std::uint64_t> depot_[kDepotSlots];
  alignas(64) std::atomic<std::uint32_t> overflow_head_{0};
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
