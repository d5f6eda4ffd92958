// One jemalloc arena per NUMA node (see include/tasklets/arena.hpp).
//
// How an extent hook finds its binder
// -----------------------------------
// Several ArenaSets (several pools) may live in one process, so a hook must
// know which binder and which node an extent belongs to. jemalloc calls every
// hook with the extent_hooks_t* we gave to "arenas.create", so each arena gets
// its own hooks struct as the first member of its Node and the hook casts the
// pointer back. We deliberately do not use a table keyed by arena_ind:
//  * jemalloc 5.3 allocates an arena's metadata through its hooks during
//    "arenas.create" (metadata_use_hooks), before the call has told us the
//    index, so a table filled afterwards misses those first extents;
//  * "arena.<i>.destroy" recycles indices, so a stale entry would route one
//    set's extents to another set's binder.
// Invariant: the Node fields a hook reads (defaults, binder, binder_ctx, numa)
// are written before "arenas.create" hands &node.hooks to jemalloc and never
// written again; jemalloc publishes the pointer under its ctl mutex and loads
// it with acquire ordering, so every hook call on any thread sees them. A Node
// is freed only after its arena was destroyed (or never, if destroy failed),
// which keeps the hooks struct alive for the arena's whole life as jemalloc
// requires.
#include "tasklets/arena.hpp"

#include <jemalloc/jemalloc.h>

#include <atomic>
#include <bit>
#include <cstdio>
#include <string>
#include <type_traits>

#include "tasklets/error.hpp"

namespace tasklets {

struct ArenaSet::Node {
  // Must stay the first member: alloc_and_bind casts its hooks pointer back.
  extent_hooks_t hooks;
  const extent_hooks_t* defaults;
  MemoryBinder binder;
  void* binder_ctx;
  unsigned numa;
  unsigned arena;
  int flags;  // MALLOCX_ARENA(arena) | MALLOCX_TCACHE_NONE
  std::atomic<std::uint64_t> bind_failures;
};

namespace {

static_assert(std::is_standard_layout_v<ArenaSet::Node>,
              "the hooks pointer must be interconvertible with its Node");

// Sum over every set, for allocator_totals(); a set's own count stays in its Nodes.
std::atomic<std::uint64_t> g_bind_failures{0};

// A mallctl name with an arena index ("arena.3.purge"), built without
// allocating so that it is usable in noexcept paths.
class CtlName {
 public:
  CtlName(const char* prefix, unsigned index, const char* suffix) noexcept {
    std::snprintf(buf_, sizeof buf_, "%s.%u.%s", prefix, index, suffix);
  }
  const char* c_str() const noexcept { return buf_; }

 private:
  char buf_[96];
};

template <class T>
bool ctl_read(const char* name, T& out) noexcept {
  std::size_t len = sizeof(T);
  return tlje_mallctl(name, &out, &len, nullptr, 0) == 0;
}

template <class T>
bool ctl_write(const char* name, T value) noexcept {
  return tlje_mallctl(name, nullptr, nullptr, &value, sizeof(T)) == 0;
}

bool ctl_run(const char* name) noexcept {
  return tlje_mallctl(name, nullptr, nullptr, nullptr, 0) == 0;
}

// Stats are snapshots that jemalloc only refreshes when "epoch" is written.
void refresh_stats() {
  std::uint64_t epoch = 1;
  std::size_t len = sizeof epoch;
  if (tlje_mallctl("epoch", &epoch, &len, &epoch, sizeof epoch) != 0) {
    throw Error(Errc::system, "jemalloc: cannot refresh stats (epoch)");
  }
}

std::uint64_t read_size(const char* name) {
  std::size_t value = 0;
  if (!ctl_read(name, value)) {
    throw Error(Errc::system, std::string("jemalloc: cannot read ") + name);
  }
  return value;
}

void count_bind_failure(ArenaSet::Node& node) noexcept {
  node.bind_failures.fetch_add(1, std::memory_order_relaxed);
  g_bind_failures.fetch_add(1, std::memory_order_relaxed);
}

// The binder comes from another module and runs inside jemalloc: an exception
// must not unwind through jemalloc's C frames (and its held locks).
bool call_binder(const ArenaSet::Node& node, void* addr, std::size_t size) noexcept {
  try {
    return node.binder(node.binder_ctx, addr, size, node.numa);
  } catch (...) {
    return false;
  }
}

// The only hook we replace. New pages are bound before anything touches
// them, so they are first faulted in on the right node; an extent that could
// not be bound is still handed out (unbound memory beats a failed allocation).
void* alloc_and_bind(extent_hooks_t* hooks, void* new_addr, std::size_t size,
                     std::size_t alignment, bool* zero, bool* commit,
                     unsigned arena_ind) noexcept {
  auto& node = *reinterpret_cast<ArenaSet::Node*>(hooks);
  auto* defaults = const_cast<extent_hooks_t*>(node.defaults);
  void* p = defaults->alloc(defaults, new_addr, size, alignment, zero, commit, arena_ind);
  if (p != nullptr && !call_binder(node, p, size)) count_bind_failure(node);
  return p;
}

// jemalloc's default hooks, as installed on the automatic arena 0.
const extent_hooks_t* default_hooks() {
  extent_hooks_t* hooks = nullptr;
  if (!ctl_read("arena.0.extent_hooks", hooks) || hooks == nullptr) {
    throw Error(Errc::allocation, "jemalloc: cannot read the default extent hooks");
  }
  return hooks;
}

// Our hooks are the defaults with alloc replaced: jemalloc keeps its own
// retain/purge/split/merge behaviour, and the default functions ignore the
// hooks pointer they are called with (checked in 5.3.0's ehooks.c; the
// version is pinned by .ci/jemalloc.sh).
bool create_arena(ArenaSet::Node& node, bool bind) noexcept {
  unsigned index = 0;
  std::size_t len = sizeof index;
  int rc;
  if (bind) {
    node.hooks = *node.defaults;
    node.hooks.alloc = &alloc_and_bind;
    extent_hooks_t* mine = &node.hooks;
    rc = tlje_mallctl("arenas.create", &index, &len, &mine, sizeof mine);
  } else {
    rc = tlje_mallctl("arenas.create", &index, &len, nullptr, 0);
  }
  if (rc != 0) return false;
  node.arena = index;
  node.flags = MALLOCX_ARENA(index) | MALLOCX_TCACHE_NONE;
  return true;
}

// size 0 is undefined behaviour for mallocx and sdallocx.
std::size_t nonzero(std::size_t size) noexcept { return size == 0 ? 1 : size; }

int align_flag(std::size_t alignment) noexcept {
  return MALLOCX_LG_ALIGN(std::countr_zero(alignment));
}

[[noreturn, gnu::cold, gnu::noinline]] void throw_bad_node(unsigned node, unsigned count) {
  throw Error(Errc::invalid_argument, "arena: node " + std::to_string(node) +
                                          " out of range (node count " +
                                          std::to_string(count) + ")");
}

[[noreturn, gnu::cold, gnu::noinline]] void throw_bad_alignment(std::size_t alignment) {
  throw Error(Errc::invalid_argument,
              "arena: alignment " + std::to_string(alignment) + " is not a power of two");
}

[[noreturn, gnu::cold, gnu::noinline]] void throw_out_of_memory(unsigned node, std::size_t size) {
  throw Error(Errc::allocation, "arena: cannot allocate " + std::to_string(size) +
                                    " bytes on node " + std::to_string(node));
}

// Moves the calling thread off any of the given arenas so they can be destroyed.
void release_calling_thread(const ArenaSet::Node* nodes, unsigned count) noexcept {
  unsigned current = 0;
  if (!ctl_read("thread.arena", current)) return;
  for (unsigned k = 0; k < count; ++k) {
    if (nodes[k].arena == current) {
      ArenaSet::unbind_current_thread();
      return;
    }
  }
  // Our arenas never feed the tcache through allocate(), but the thread may
  // have freed blocks of them with tlje_free; flushing returns those slots.
  ctl_run("thread.tcache.flush");
}

}  // namespace

ArenaSet::ArenaSet(unsigned node_count, MemoryBinder binder, void* binder_ctx)
    : node_count_(node_count) {
  if (node_count == 0) {
    throw Error(Errc::invalid_argument, "arena: node_count must be at least 1");
  }
  const extent_hooks_t* defaults = default_hooks();
  const bool bind = binder != nullptr && node_count > 1;
  nodes_ = std::make_unique<Node[]>(node_count);
  for (unsigned k = 0; k < node_count; ++k) {
    Node& node = nodes_[k];
    node.defaults = defaults;
    node.binder = binder;
    node.binder_ctx = binder_ctx;
    node.numa = k;
    if (!create_arena(node, bind)) {
      destroy_arenas(k);
      throw Error(Errc::allocation, "jemalloc: arenas.create failed for node " +
                                        std::to_string(k));
    }
  }
}

ArenaSet::~ArenaSet() { destroy_arenas(node_count_); }

void ArenaSet::destroy_arenas(unsigned count) noexcept {
  release_calling_thread(nodes_.get(), count);
  bool all_destroyed = true;
  for (unsigned k = 0; k < count; ++k) {
    const unsigned index = nodes_[k].arena;
    if (ctl_run(CtlName("arena", index, "destroy").c_str())) continue;
    ctl_run(CtlName("arena", index, "purge").c_str());
    std::fprintf(stderr,
                 "tasklets: arena %u still in use when its ArenaSet was destroyed; "
                 "it is kept (and its hooks leaked)\n",
                 index);
    all_destroyed = false;
  }
  // A live arena still calls its hooks: they must never be freed under it.
  if (!all_destroyed) (void)nodes_.release();
}

const ArenaSet::Node& ArenaSet::checked_node(unsigned node) const {
  if (node >= node_count_) [[unlikely]] throw_bad_node(node, node_count_);
  return nodes_[node];
}

unsigned ArenaSet::arena_index(unsigned node) const { return checked_node(node).arena; }

void* ArenaSet::allocate(unsigned node, std::size_t size, std::size_t alignment) {
  const int flags = checked_node(node).flags;
  if (!std::has_single_bit(alignment)) [[unlikely]] throw_bad_alignment(alignment);
  void* p = tlje_mallocx(nonzero(size), flags | align_flag(alignment));
  if (p == nullptr) [[unlikely]] throw_out_of_memory(node, size);
  return p;
}

// The alignment is part of the size class computation, so sdallocx must see
// the same MALLOCX_ALIGN as mallocx did.
void ArenaSet::deallocate(void* p, std::size_t size, std::size_t alignment) noexcept {
  if (p == nullptr) return;
  tlje_sdallocx(p, nonzero(size), MALLOCX_TCACHE_NONE | align_flag(alignment));
}

void ArenaSet::bind_current_thread(unsigned node) {
  const unsigned index = checked_node(node).arena;
  if (!ctl_write("thread.arena", index)) {
    throw Error(Errc::system, "jemalloc: cannot bind the thread to arena " +
                                  std::to_string(index));
  }
}

// Flush first: the thread cache holds free slots of the arena it was bound to.
void ArenaSet::unbind_current_thread() noexcept {
  ctl_run("thread.tcache.flush");
  ctl_write("thread.arena", 0u);
}

ArenaStats ArenaSet::stats(unsigned node) const {
  const Node& n = checked_node(node);
  refresh_stats();
  auto stat = [&](const char* name) {
    return read_size(CtlName("stats.arenas", n.arena, name).c_str());
  };
  ArenaStats s{};
  s.allocated_bytes = stat("small.allocated") + stat("large.allocated");
  s.active_bytes = stat("pactive") * read_size("arenas.page");
  s.resident_bytes = stat("resident");
  s.mapped_bytes = stat("mapped");
  s.bind_failures = n.bind_failures.load(std::memory_order_relaxed);
  return s;
}

void ArenaSet::purge(unsigned node) noexcept {
  if (node >= node_count_) return;
  ctl_run(CtlName("arena", nodes_[node].arena, "purge").c_str());
}

ArenaStats allocator_totals() {
  refresh_stats();
  ArenaStats s{};
  s.allocated_bytes = read_size("stats.allocated");
  s.active_bytes = read_size("stats.active");
  s.resident_bytes = read_size("stats.resident");
  s.mapped_bytes = read_size("stats.mapped");
  s.bind_failures = g_bind_failures.load(std::memory_order_relaxed);
  return s;
}

void purge_all_arenas() noexcept {
  ctl_run(CtlName("arena", MALLCTL_ARENAS_ALL, "purge").c_str());
}

// No thread cache on either side: a payload is often freed by another thread
// than the one that allocated it, and a thread cache holding a region of a
// pool's arena would outlive arena.<i>.destroy when that pool goes away.
void* thread_local_bytes(std::size_t size) noexcept {
  return tlje_mallocx(size ? size : 1, MALLOCX_TCACHE_NONE);
}

void* resize_bytes(void* p, std::size_t size) noexcept {
  if (!p) return thread_local_bytes(size);
  return tlje_rallocx(p, size ? size : 1, MALLOCX_TCACHE_NONE);
}

void free_bytes(void* p) noexcept {
  if (p) tlje_dallocx(p, MALLOCX_TCACHE_NONE);
}

}  // namespace tasklets
