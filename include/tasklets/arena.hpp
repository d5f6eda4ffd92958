// One jemalloc arena per NUMA node.
//
// The runtime links a private, prefixed (tlje_) static jemalloc (see
// .ci/jemalloc.sh and docs/building.md for why Debian's cannot be used in a
// dlopen'ed addon). This header does not include jemalloc: src/arena.cpp is
// the only file that does.
//
// Contracts for users (the scheduler, the task pool):
//  * allocate/deallocate are thread-safe and never use a thread cache
//    (MALLOCX_TCACHE_NONE), so a block may be freed by any thread and nothing
//    of an arena hides in a thread's cache when the set is destroyed.
//  * deallocate must get the size and alignment that allocate got.
//  * Before an ArenaSet is destroyed every block must be freed, and every
//    thread that called bind_current_thread must have exited or called
//    unbind_current_thread (jemalloc refuses to destroy an arena that a
//    thread is still attached to). The destructor does this for the calling
//    thread itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace tasklets {

// Binds [addr, addr+len) to a NUMA node; supplied by the topology module.
// Called from inside jemalloc (under its locks, possibly on any thread that
// allocates), so it must not allocate through tlje_* and should not throw;
// an exception is caught and counted as a failed binding.
using MemoryBinder = bool (*)(void* ctx, void* addr, std::size_t len, unsigned numa) /*noexcept*/;

struct ArenaStats {
  std::uint64_t allocated_bytes;  // bytes in live allocations (small + large)
  std::uint64_t active_bytes;     // pages backing live allocations
  std::uint64_t resident_bytes;   // pages jemalloc believes are in RAM
  std::uint64_t mapped_bytes;     // address space mapped by the arena(s)
  std::uint64_t bind_failures;    // extents the binder could not bind
};

class ArenaSet {
 public:
  // Creates one arena per node with "arenas.create". When binder is non-null
  // and node_count > 1 the arenas get extent hooks that take every new extent
  // from jemalloc's default hooks and then bind it to the arena's node; a
  // failed binding keeps the (unbound) memory and is counted. Otherwise the
  // arenas use the default hooks unchanged.
  // Throws Error(Errc::invalid_argument) for node_count == 0 and
  // Error(Errc::allocation) if jemalloc refuses an arena.
  ArenaSet(unsigned node_count, MemoryBinder binder, void* binder_ctx);

  // Destroys the arenas ("arena.<i>.destroy", which returns all their memory
  // to the OS). If jemalloc refuses (a thread is still attached), that arena
  // is purged and left alive with its hooks leaked, never freed under it.
  ~ArenaSet();

  ArenaSet(const ArenaSet&) = delete;
  ArenaSet& operator=(const ArenaSet&) = delete;
  ArenaSet(ArenaSet&&) = delete;
  ArenaSet& operator=(ArenaSet&&) = delete;

  unsigned node_count() const noexcept { return node_count_; }

  // jemalloc's index of the node's arena. Throws invalid_argument for a bad node.
  unsigned arena_index(unsigned node) const;

  // A block of at least size bytes from the node's arena, aligned to
  // alignment (a power of two). size 0 is served as 1 byte.
  // Throws Error(Errc::allocation) when jemalloc has no memory,
  // Error(Errc::invalid_argument) for a bad node or alignment.
  void* allocate(unsigned node, std::size_t size,
                 std::size_t alignment = alignof(std::max_align_t));

  // Frees a block from allocate (of any set still alive); size and alignment
  // must be the ones given to allocate. nullptr is ignored.
  void deallocate(void* p, std::size_t size,
                  std::size_t alignment = alignof(std::max_align_t)) noexcept;

  // Makes the calling thread's own tlje_malloc/new-style allocations use the
  // node's arena ("thread.arena"). Throws invalid_argument for a bad node and
  // Error(Errc::system) if jemalloc refuses.
  void bind_current_thread(unsigned node);

  // Flushes the calling thread's jemalloc cache and moves it back to arena 0,
  // so that an ArenaSet it was bound to can be destroyed while it lives on.
  static void unbind_current_thread() noexcept;

  // Figures of the node's arena after an "epoch" refresh (not a hot path: the
  // refresh takes jemalloc's global ctl lock).
  ArenaStats stats(unsigned node) const;

  // Returns the node's idle (dirty and muzzy) pages to the OS.
  void purge(unsigned node) noexcept;

  struct Node;  // per-arena state; defined in arena.cpp

 private:
  void destroy_arenas(unsigned count) noexcept;
  const Node& checked_node(unsigned node) const;

  unsigned node_count_;
  std::unique_ptr<Node[]> nodes_;
};

// Process-wide jemalloc figures (stats.allocated/active/resident/mapped after
// an epoch refresh); bind_failures sums every ArenaSet ever created.
ArenaStats allocator_totals();

// Every jemalloc arena of the process (the per-node ones of every pool and
// the default ones that hold payload bytes) gives its unused dirty pages
// back to the system (memory.cleanup 'aggressive').
void purge_all_arenas() noexcept;

// Byte buffers from the calling thread's arena: a worker's is its NUMA
// node's (ArenaSet::bind_current_thread), so a buffer a worker fills is
// local to the node that reads it first. For payloads that cross threads
// (the addon's argument and result bytes); any thread may free them.
// Null on failure, like malloc.
void* thread_local_bytes(std::size_t size) noexcept;
void* resize_bytes(void* p, std::size_t size) noexcept;
void free_bytes(void* p) noexcept;

}  // namespace tasklets
