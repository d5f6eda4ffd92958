#include "tasklets/affinity.hpp"

#include <cerrno>
#include <cstdlib>
#include <system_error>

#include "hwloc_handle.hpp"
#include "tasklets/error.hpp"

namespace tasklets {
namespace {

using hwloc_handle::BitmapPtr;

constexpr const char* kNotSystem = "topology is not this system";

std::string failed(const char* call, int err) {
  return std::string(call) + " failed: " + std::generic_category().message(err);
}

std::string list_of(hwloc_const_bitmap_t set) {
  char* text = nullptr;
  if (hwloc_bitmap_list_asprintf(&text, set) < 0) return "?";
  std::string list(text);
  std::free(text);
  return list;
}

// Fills `set` with the OS indices of logical `pus`; returns why not, or "".
std::string fill_cpuset(const Topology::Impl& impl, const std::vector<unsigned>& pus,
                        hwloc_bitmap_t set) {
  for (unsigned pu : pus) {
    if (pu >= impl.pus.size()) {
      return "PU " + std::to_string(pu) + " is out of range (topology has " +
             std::to_string(impl.pus.size()) + " PUs)";
    }
    hwloc_bitmap_set(set, impl.pus[pu].os_index);
  }
  return {};
}

// Applies `wanted` and reads it back: the OS may silently narrow a binding
// (cgroup cpuset, container), and a worker believed pinned but not would skew
// every NUMA decision taken for it.
BindResult apply(hwloc_topology_t topology, hwloc_const_bitmap_t wanted) {
  if (hwloc_set_cpubind(topology, wanted, HWLOC_CPUBIND_THREAD) != 0) {
    return {false, failed("hwloc_set_cpubind", errno)};
  }
  const BitmapPtr actual(hwloc_bitmap_alloc());
  if (!actual) return {false, "out of memory"};
  if (hwloc_get_cpubind(topology, actual.get(), HWLOC_CPUBIND_THREAD) != 0) {
    return {false, failed("hwloc_get_cpubind", errno)};
  }
  if (!hwloc_bitmap_isequal(actual.get(), wanted)) {
    return {false, "bound to PUs " + list_of(actual.get()) + " instead of " + list_of(wanted)};
  }
  return {true, {}};
}

}  // namespace

BindResult bind_current_thread(const Topology& topology,
                               const std::vector<unsigned>& pus) noexcept {
  if (pus.empty()) return {false, "no binding requested"};
  const Topology::Impl& impl = topology.impl();
  if (!impl.is_system) return {false, kNotSystem};
  const BitmapPtr wanted(hwloc_bitmap_alloc());
  if (!wanted) return {false, "out of memory"};
  if (std::string why = fill_cpuset(impl, pus, wanted.get()); !why.empty()) return {false, why};
  return apply(impl.topology.get(), wanted.get());
}

std::vector<unsigned> current_thread_binding(const Topology& topology) {
  const Topology::Impl& impl = topology.impl();
  if (!impl.is_system) {
    throw Error(Errc::invalid_argument, std::string("current_thread_binding: ") + kNotSystem);
  }
  const BitmapPtr set(hwloc_bitmap_alloc());
  if (!set) throw std::bad_alloc();
  if (hwloc_get_cpubind(impl.topology.get(), set.get(), HWLOC_CPUBIND_THREAD) != 0) {
    throw Error(Errc::system, failed("hwloc_get_cpubind", errno));
  }
  std::vector<unsigned> os_indices;
  for (int i = hwloc_bitmap_first(set.get()); i != -1; i = hwloc_bitmap_next(set.get(), i)) {
    os_indices.push_back(static_cast<unsigned>(i));
  }
  return os_indices;
}

bool bind_memory_to_node(const Topology& topology, void* addr, std::size_t len,
                         unsigned numa) noexcept {
  const Topology::Impl& impl = topology.impl();
  if (!impl.is_system || numa >= impl.nodes.size()) return false;
  if (impl.nodes.size() == 1 || len == 0) return true;
  // BIND, not PREFERRED: an arena's pages exist to be local to its workers;
  // a page on the wrong node is a silent slowdown, a refusal is visible.
  return hwloc_set_area_membind(impl.topology.get(), addr, len, impl.nodesets[numa].get(),
                                HWLOC_MEMBIND_BIND, HWLOC_MEMBIND_BYNODESET) == 0;
}

}  // namespace tasklets
