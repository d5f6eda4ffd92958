#include "tasklets/task_pool.hpp"

#include <array>
#include <cstring>
#include <unordered_map>

#include "tasklets/arena.hpp"

namespace tasklets::detail {

namespace {

// The free-list link of a free object lives in its storage bytes. Only the
// thread that owns the object (a cache, or the pusher before its CAS
// publishes the chain) reads or writes it, so plain accesses are enough.
std::uint32_t& link(TaskBase* t) noexcept {
  return *std::launder(reinterpret_cast<std::uint32_t*>(t->storage));
}

// The head of every chain pushed to the shared list also records the chain's
// length and the head of the chain pushed before it, so that a thread taking
// the whole list counts it by hopping from chain to chain instead of
// touching (and missing the cache on) every object.
std::uint32_t& chain_length(TaskBase* t) noexcept {
  return *std::launder(reinterpret_cast<std::uint32_t*>(t->storage + 4));
}
std::uint32_t& next_chain(TaskBase* t) noexcept {
  return *std::launder(reinterpret_cast<std::uint32_t*>(t->storage + 8));
}

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

void TaskPool::push_chain(std::uint32_t head, std::uint32_t tail, std::uint32_t n) noexcept {
  TaskBase* last = at(tail);
  TaskBase* first = at(head);
  chain_length(first) = n;
  std::uint32_t old = shared_head_.load(std::memory_order_relaxed);
  do {
    link(last) = old;
    next_chain(first) = old;
    // release: the links and the objects' last contents happen-before the
    // thread that takes the chain.
  } while (!shared_head_.compare_exchange_weak(old, head, std::memory_order_release,
                                               std::memory_order_relaxed));
  shared_count_.fetch_add(n, std::memory_order_relaxed);
}

std::uint32_t TaskPool::take_all() noexcept {
  if (shared_head_.load(std::memory_order_relaxed) == 0) return 0;
  return shared_head_.exchange(0, std::memory_order_acquire);
}

void TaskPool::fold(std::int64_t acquired, std::int64_t released) noexcept {
  if (acquired) acquired_.fetch_add(acquired, std::memory_order_relaxed);
  if (released) released_.fetch_add(released, std::memory_order_relaxed);
}

void TaskPool::carve_chunk(Cache& cache) {
  std::lock_guard lock(grow_mutex_);
  const std::uint32_t c = chunk_count_.load(std::memory_order_relaxed);
  if (c == kMaxChunks) throw Error(Errc::allocation, "task pool is full (2^25 live tasks)");
  void* mem = arenas_.allocate(node_, kChunkObjects * kTaskSize, kTaskSize);
  auto* objects = static_cast<TaskBase*>(mem);
  // The chunk pointer is published before any of its indices escape this
  // thread; every other thread learns an index through the free list (an
  // acquire) or a queue, which orders it after this store.
  chunks_[c].store(objects, std::memory_order_relaxed);
  chunk_count_.store(c + 1, std::memory_order_release);
  const std::uint32_t base = c << kChunkShift;
  for (std::uint32_t i = 0; i < kChunkObjects; ++i) {
    TaskBase* t = ::new (static_cast<void*>(objects + i)) TaskBase();
    t->pool_index = base + i + 1;
    t->home_node = static_cast<std::uint16_t>(node_);
    link(t) = cache.head;
    cache.head = t->pool_index;
  }
  cache.count += kChunkObjects;
  misses_.fetch_add(1, std::memory_order_relaxed);
}

void TaskPool::refill(Cache& cache) {
  std::uint32_t head = take_all();
  if (head == 0) {
    carve_chunk(cache);
    return;
  }
  std::uint32_t n = 0;
  for (std::uint32_t i = head; i != 0; i = next_chain(at(i))) n += chain_length(at(i));
  shared_count_.fetch_sub(n, std::memory_order_relaxed);
  cache.head = head;
  cache.count = n;
}

TaskBase* TaskPool::acquire(Cache& cache) {
  if (cache.head == 0) {
    fold(std::exchange(cache.acquired, 0), std::exchange(cache.released, 0));
    refill(cache);
  }
  TaskBase* t = at(cache.head);
  cache.head = link(t);
  // The next object was last written by another core (it was freed there):
  // start pulling its line, for writing, while the caller fills this one.
  if (cache.head != 0) __builtin_prefetch(at(cache.head), 1, 3);
  --cache.count;
  ++cache.acquired;
  return t;
}

TaskBase* TaskPool::acquire_external() {
  auto& slot = t_external.slots[uid_ % ExternalCaches::kSlots];
  if (slot.uid != uid_) {
    ExternalCaches::evict(slot);
    slot.uid = uid_;
  }
  return acquire(slot.cache);
}

void TaskPool::spill(Cache& cache, std::uint32_t keep) noexcept {
  if (cache.count <= keep) return;
  const std::uint32_t n = cache.count - keep;
  const std::uint32_t head = cache.head;
  std::uint32_t tail = head;
  for (std::uint32_t i = 1; i < n; ++i) tail = link(at(tail));
  cache.head = link(at(tail));
  cache.count = keep;
  push_chain(head, tail, n);
  fold(std::exchange(cache.acquired, 0), std::exchange(cache.released, 0));
}

void TaskPool::release(Cache& cache, TaskBase* t) noexcept {
  link(t) = cache.head;
  cache.head = t->pool_index;
  ++cache.count;
  ++cache.released;
  if (cache.count > kCacheLimit) spill(cache, kCacheLimit / 2);
}

void TaskPool::release_remote(TaskBase* t) noexcept {
  push_chain(t->pool_index, t->pool_index, 1);
  fold(0, 1);
}

void TaskPool::flush(Cache& cache) noexcept {
  spill(cache, 0);
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
