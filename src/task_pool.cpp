#include "tasklets/task_pool.hpp"

#include <array>
#include <cstring>
#include <unordered_map>

#include "tasklets/arena.hpp"

namespace tasklets::detail {

namespace {

// The links of a free object live in its storage bytes. Only the thread
// that owns the object (through a cache, or a chain it took from the depot)
// reads or writes them, so plain accesses are enough.
//   word 0: next object in its chain (0 ends the chain)
//   word 1: (chain heads only) the chain's tail
//   word 2: (chain heads only) the chain's length
//   word 3: (chain heads on the overflow stack) the next chain's head
std::uint32_t& word(TaskBase* t, unsigned i) noexcept {
  return *std::launder(reinterpret_cast<std::uint32_t*>(t->storage + 4 * i));
}
std::uint32_t& link(TaskBase* t) noexcept { return word(t, 0); }

constexpr std::uint64_t pack(std::uint32_t head, std::uint32_t count) noexcept {
  return (std::uint64_t{count} << 32) | head;
}

// Where a thread starts looking in the depot: spreads threads over slots.
thread_local unsigned t_depot_cursor = 0;

std::atomic<std::uint64_t> g_next_uid{1};

// Live pools by uid, so that a thread_local cache can tell whether the pool
// its objects came from still exists. Touched only on cold paths: a thread's
// first submission to a pool, switching pools, thread exit, pool teardown.
struct Registry {
  std::mutex mutex;
  std::unordered_map<std::uint64_t, TaskPool*> live;
};
Registry& registry() {
  static Registry r;
  return r;
}

// Per-thread caches for threads that are not workers of the pool (the Node
// main thread, a C++ producer). Direct-mapped by uid: two pools used by one
// thread land in different slots unless their uids collide modulo kSlots.
struct ExternalCaches {
  static constexpr unsigned kSlots = 8;
  struct Slot {
    std::uint64_t uid = 0;
    TaskPool::Cache cache;
  };
  std::array<Slot, kSlots> slots;

  ~ExternalCaches() {
    for (Slot& s : slots) evict(s);
  }
  static void evict(Slot& s) noexcept {
    if (s.uid == 0) return;
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = r.live.find(s.uid);
    // A dead pool freed its chunks: the cached indices are simply forgotten.
    if (it != r.live.end()) it->second->flush(s.cache);
    s = Slot{};
  }
};
thread_local ExternalCaches t_external;

}  // namespace

TaskPool::TaskPool(ArenaSet& arenas, unsigned node)
    : arenas_(arenas),
      node_(node),
      uid_(g_next_uid.fetch_add(1, std::memory_order_relaxed)),
      chunks_(new std::atomic<TaskBase*>[kMaxChunks]) {
  for (auto& slot : depot_) slot.store(0, std::memory_order_relaxed);
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.live.emplace(uid_, this);
}

TaskPool::~TaskPool() {
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    r.live.erase(uid_);
  }
  const std::uint32_t n = chunk_count_.load(std::memory_order_acquire);
  for (std::uint32_t c = 0; c < n; ++c) {
    arenas_.deallocate(chunks_[c].load(std::memory_order_relaxed), kChunkObjects * kTaskSize, kTaskSize);
  }
}

TaskBase* TaskPool::at(std::uint32_t index1) const noexcept {
  const std::uint32_t i = index1 - 1;
  TaskBase* chunk = chunks_[i >> kChunkShift].load(std::memory_order_relaxed);
  return chunk + (i & (kChunkObjects - 1));
}

void TaskPool::fold(std::int64_t acquired, std::int64_t released) noexcept {
  if (acquired) acquired_.fetch_add(acquired, std::memory_order_relaxed);
  if (released) released_.fetch_add(released, std::memory_order_relaxed);
}

void TaskPool::put_chain(const Chain& c) noexcept {
  if (c.count == 0) return;
  TaskBase* head = at(c.head);
  word(head, 1) = c.tail;
  word(head, 2) = c.count;
  shared_count_.fetch_add(c.count, std::memory_order_relaxed);
  const unsigned start = t_depot_cursor++;
  for (unsigned i = 0; i < kDepotSlots; ++i) {
    auto& slot = depot_[(start + i) % kDepotSlots];
    std::uint64_t empty = 0;
    // release: the chain's links happen-before the thread that takes it.
    if (slot.load(std::memory_order_relaxed) == 0 &&
        slot.compare_exchange_strong(empty, pack(c.head, c.count), std::memory_order_release,
                                     std::memory_order_relaxed)) {
      return;
    }
  }
  std::uint32_t old = overflow_head_.load(std::memory_order_relaxed);
  do {
    word(head, 3) = old;
  } while (!overflow_head_.compare_exchange_weak(old, c.head, std::memory_order_release,
                                                 std::memory_order_relaxed));
}

TaskPool::Chain TaskPool::get_chain() noexcept {
  const unsigned start = t_depot_cursor++;
  for (unsigned i = 0; i < kDepotSlots; ++i) {
    auto& slot = depot_[(start + i) % kDepotSlots];
    if (slot.load(std::memory_order_relaxed) == 0) continue;
    // acquire: pairs with the release that put the chain there.
    const std::uint64_t v = slot.exchange(0, std::memory_order_acquire);
    if (v == 0) continue;
    const auto head = static_cast<std::uint32_t>(v);
    Chain c{head, word(at(head), 1), static_cast<std::uint32_t>(v >> 32)};
    shared_count_.fetch_sub(c.count, std::memory_order_relaxed);
    return c;
  }
  // Every slot empty: take the whole overflow stack, keep its first chain
  // and offer the others back to the depot (cold: only after bursts).
  if (overflow_head_.load(std::memory_order_relaxed) == 0) return Chain{};
  std::uint32_t h = overflow_head_.exchange(0, std::memory_order_acquire);
  if (h == 0) return Chain{};
  Chain first{h, word(at(h), 1), word(at(h), 2)};
  shared_count_.fetch_sub(first.count, std::memory_order_relaxed);
  for (std::uint32_t next = word(at(h), 3); next != 0;) {
    TaskBase* n = at(next);
    const Chain c{next, word(n, 1), word(n, 2)};
    next = word(n, 3);
    shared_count_.fetch_sub(c.count, std::memory_order_relaxed);
    put_chain(c);
  }
  return first;
}

void TaskPool::carve_chunk(Cache& cache) {
  std::lock_guard lock(grow_mutex_);
  const std::uint32_t c = chunk_count_.load(std::memory_order_relaxed);
  if (c == kMaxChunks) throw Error(Errc::allocation, "task pool is full (2^25 live tasks)");
  void* mem = arenas_.allocate(node_, kChunkObjects * kTaskSize, kTaskSize);
  auto* objects = static_cast<TaskBase*>(mem);
  // The chunk pointer is published before any of its indices escape this
  // thread; every other thread learns an index through the depot (an
  // acquire) or a queue, which orders it after this store.
  chunks_[c].store(objects, std::memory_order_relaxed);
  chunk_count_.store(c + 1, std::memory_order_release);
  const std::uint32_t base = c << kChunkShift;
  for (std::uint32_t i = 0; i < kChunkObjects; ++i) {
    TaskBase* t = ::new (static_cast<void*>(objects + i)) TaskBase();
    t->pool_index = base + i + 1;
    t->home_node = static_cast<std::uint16_t>(node_);
  }
  // Cut the chunk into chains: the first becomes the cache's active chain,
  // the others go to the depot for every thread.
  for (std::uint32_t k = 0; k < kChunkObjects; k += kChainSize) {
    for (std::uint32_t i = k; i < k + kChainSize; ++i) {
      link(objects + i) = i + 1 < k + kChainSize ? base + i + 2 : 0;
    }
    const Chain chain{base + k + 1, base + k + kChainSize, kChainSize};
    if (k == 0) {
      cache.active = chain;
    } else {
      put_chain(chain);
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
}

void TaskPool::refill(Cache& cache) {
  if (cache.spare.count) {
    cache.active = std::exchange(cache.spare, Chain{});
    return;
  }
  fold(std::exchange(cache.acquired, 0), std::exchange(cache.released, 0));
  cache.active = get_chain();
  if (cache.active.count == 0) carve_chunk(cache);
}

TaskBase* TaskPool::acquire(Cache& cache) {
  if (cache.active.count == 0) refill(cache);
  Chain& a = cache.active;
  TaskBase* t = at(a.head);
  a.head = link(t);
  // The next object was last written by another core (it was freed there):
  // start pulling its line, for writing, while the caller fills this one.
  if (a.head != 0) __builtin_prefetch(at(a.head), 1, 3);
  if (--a.count == 0) a.tail = 0;
  ++cache.acquired;
  return t;
}

namespace {
TaskPool::Cache& external_cache(std::uint64_t uid) {
  auto& slot = t_external.slots[uid % ExternalCaches::kSlots];
  if (slot.uid != uid) {
    ExternalCaches::evict(slot);
    slot.uid = uid;
  }
  return slot.cache;
}
}  // namespace

TaskBase* TaskPool::acquire_external() { return acquire(external_cache(uid_)); }

void TaskPool::release(Cache& cache, TaskBase* t) noexcept {
  Chain& a = cache.active;
  link(t) = a.head;
  if (a.count == 0) a.tail = t->pool_index;
  a.head = t->pool_index;
  ++cache.released;
  if (++a.count < kChainSize) return;
  // A full chain: keep it as the spare, and hand the old spare to the depot.
  if (cache.spare.count) put_chain(cache.spare);
  cache.spare = std::exchange(a, Chain{});
  fold(std::exchange(cache.acquired, 0), std::exchange(cache.released, 0));
}

void TaskPool::release_external(TaskBase* t) noexcept { release(external_cache(uid_), t); }

void TaskPool::flush(Cache& cache) noexcept {
  put_chain(std::exchange(cache.active, Chain{}));
  put_chain(std::exchange(cache.spare, Chain{}));
  fold(std::exchange(cache.acquired, 0), std::exchange(cache.released, 0));
}

TaskPoolStats TaskPool::stats() const noexcept {
  TaskPoolStats s;
  s.capacity = std::uint64_t{chunk_count_.load(std::memory_order_acquire)} * kChunkObjects;
  const std::int64_t live =
      acquired_.load(std::memory_order_relaxed) - released_.load(std::memory_order_relaxed);
  const std::int64_t shared = shared_count_.load(std::memory_order_relaxed);
  s.live = live > 0 ? static_cast<std::uint64_t>(live) : 0;
  s.free_shared = shared > 0 ? static_cast<std::uint64_t>(shared) : 0;
  const std::uint64_t accounted = s.live + s.free_shared;
  s.cached = s.capacity > accounted ? s.capacity - accounted : 0;
  s.misses = misses_.load(std::memory_order_relaxed);
  s.chunk_bytes = s.capacity * kTaskSize;
  return s;
}

}  // namespace tasklets::detail
