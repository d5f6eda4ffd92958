// Binding threads to PUs and memory to NUMA nodes. Binding is advisory for the
// runtime: a refused binding (container, restricted cpuset, non-system
// topology) is reported, never thrown, and the pool runs unpinned.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "tasklets/topology.hpp"

namespace tasklets {

struct BindResult {
  bool pinned;        // the binding was applied and read back unchanged
  std::string error;  // why not; empty when pinned
};

// Binds the calling thread to the given logical PUs, then reads the binding
// back and reports pinned only if it matches. Non-system topology: nothing is
// bound, error "topology is not this system". Empty pus: error "no binding
// requested". An out-of-range index or a refusal by the OS is reported in
// error; the thread's binding is then whatever the OS left.
BindResult bind_current_thread(const Topology& topology, const std::vector<unsigned>& pus) noexcept;

// OS indices of the PUs the calling thread may currently run on, ascending.
// Throws Error(Errc::invalid_argument) for a non-system topology and
// Error(Errc::system) if the OS will not say.
std::vector<unsigned> current_thread_binding(const Topology& topology);

// Binds the pages of [addr, addr + len) to NUMA node `numa` (an index into
// numa_nodes()). True when bound, or when there is nothing to do (one node,
// len 0); false when refused, when numa is out of range, or when the topology
// is not this system. Meant for jemalloc extent hooks: it uses nodesets built
// at load time and takes no lock of ours.
bool bind_memory_to_node(const Topology& topology, void* addr, std::size_t len,
                         unsigned numa) noexcept;

}  // namespace tasklets
