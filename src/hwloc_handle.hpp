// The hwloc side of Topology, shared by topology.cpp and affinity.cpp only:
// these two files are the single place where hwloc is included (STYLE rule 2).
#pragma once

#include <hwloc.h>

#include <memory>
#include <string>
#include <vector>

#include "tasklets/topology.hpp"

namespace tasklets {
namespace hwloc_handle {

struct TopologyDeleter {
  void operator()(hwloc_topology_t topology) const noexcept { hwloc_topology_destroy(topology); }
};
using TopologyPtr = std::unique_ptr<hwloc_topology, TopologyDeleter>;

struct BitmapDeleter {
  void operator()(hwloc_bitmap_t bitmap) const noexcept { hwloc_bitmap_free(bitmap); }
};
using BitmapPtr = std::unique_ptr<hwloc_bitmap_s, BitmapDeleter>;

}  // namespace hwloc_handle

// Immutable once Topology's factory returns; hwloc allows concurrent reads and
// binding calls on a loaded topology, so no lock guards it.
struct Topology::Impl {
  hwloc_handle::TopologyPtr topology;
  std::string source;
  bool is_system = false;
  std::vector<PuInfo> pus;
  std::vector<NumaNodeInfo> nodes;
  unsigned cores = 0;
  unsigned packages = 1;
  // One single-node nodeset per entry of `nodes` (empty for a node hwloc did
  // not report), built at load time so that bind_memory_to_node, called from
  // jemalloc extent hooks, does not build one on every extent.
  std::vector<hwloc_handle::BitmapPtr> nodesets;
};

}  // namespace tasklets
