#include "tasklets/placement.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "tasklets/error.hpp"

namespace tasklets {
namespace {

constexpr std::array<std::string_view, 4> kNames = {"compact", "scatter", "numa", "none"};

// PUs of one node grouped by core, cores and PUs in logical order.
using CoreGroups = std::vector<std::vector<unsigned>>;

void append_core_groups(const Topology& topology, const NumaNodeInfo& node, CoreGroups& groups) {
  const std::size_t first = groups.size();
  for (unsigned pu : node.pus) {
    const unsigned core = topology.pus()[pu].core;
    // PUs are numbered in hwloc tree order, so a core's PUs are contiguous.
    if (groups.size() == first || topology.pus()[groups.back().front()].core != core) {
      groups.emplace_back();
    }
    groups.back().push_back(pu);
  }
}

// Round r takes the r-th PU of every core that has one: each core gets a
// worker before any SMT sibling does, since siblings share a core's pipeline
// and caches.
std::vector<unsigned> core_slots(const CoreGroups& groups) {
  std::vector<unsigned> slots;
  for (std::size_t round = 0;; ++round) {
    const std::size_t before = slots.size();
    for (const auto& core : groups) {
      if (round < core.size()) slots.push_back(core[round]);
    }
    if (slots.size() == before) return slots;
  }
}

std::vector<unsigned> node_slots(const Topology& topology, const NumaNodeInfo& node) {
  CoreGroups groups;
  append_core_groups(topology, node, groups);
  return core_slots(groups);
}

std::vector<WorkerPlacement> plan_compact(const Topology& topology, unsigned workers) {
  CoreGroups groups;
  for (const NumaNodeInfo& node : topology.numa_nodes()) append_core_groups(topology, node, groups);
  const std::vector<unsigned> slots = core_slots(groups);
  std::vector<WorkerPlacement> plan;
  for (unsigned i = 0; i < workers; ++i) {
    const unsigned pu = slots[i % slots.size()];
    plan.push_back({{pu}, topology.pus()[pu].numa});
  }
  return plan;
}

std::vector<WorkerPlacement> plan_scatter(const Topology& topology, unsigned workers) {
  const auto& nodes = topology.numa_nodes();
  std::vector<std::vector<unsigned>> slots;
  for (const NumaNodeInfo& node : nodes) slots.push_back(node_slots(topology, node));
  std::vector<WorkerPlacement> plan;
  for (unsigned i = 0; i < workers; ++i) {
    const auto node = static_cast<unsigned>(i % nodes.size());
    const auto& own = slots[node];
    plan.push_back({{own[(i / nodes.size()) % own.size()]}, node});
  }
  return plan;
}

std::vector<WorkerPlacement> plan_numa(const Topology& topology, unsigned workers) {
  const auto& nodes = topology.numa_nodes();
  const auto count = static_cast<unsigned>(nodes.size());
  std::vector<WorkerPlacement> plan;
  for (unsigned node = 0; node < count; ++node) {
    const unsigned block = workers / count + (node < workers % count ? 1 : 0);
    for (unsigned k = 0; k < block; ++k) plan.push_back({nodes[node].pus, node});
  }
  return plan;
}

std::vector<WorkerPlacement> plan_none(const Topology& topology, unsigned workers) {
  const auto count = static_cast<unsigned>(topology.numa_nodes().size());
  std::vector<WorkerPlacement> plan;
  for (unsigned i = 0; i < workers; ++i) plan.push_back({{}, i % count});
  return plan;
}

}  // namespace

Placement parse_placement(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Placement>(i);
  }
  throw Error(Errc::invalid_argument, "unknown placement \"" + std::string(name) +
                                          "\" (expected compact, scatter, numa or none)");
}

std::string_view placement_name(Placement placement) noexcept {
  return kNames[static_cast<std::size_t>(placement)];
}

std::vector<WorkerPlacement> plan_placement(const Topology& topology, Placement placement,
                                            unsigned workers) {
  if (workers == 0) throw Error(Errc::invalid_argument, "a pool needs at least 1 worker, got 0");
  switch (placement) {
    case Placement::compact: return plan_compact(topology, workers);
    case Placement::scatter: return plan_scatter(topology, workers);
    case Placement::numa: return plan_numa(topology, workers);
    case Placement::none: return plan_none(topology, workers);
  }
  throw Error(Errc::invalid_argument, "unknown placement value " +
                                          std::to_string(static_cast<int>(placement)));
}

std::vector<WorkerPlacement> extend_plan(const Topology& topology, Placement placement,
                                         std::vector<WorkerPlacement> plan, unsigned workers) {
  if (workers < plan.size()) {
    throw Error(Errc::invalid_argument, "a plan of " + std::to_string(plan.size()) + " workers cannot shrink to " +
                                            std::to_string(workers));
  }
  if (workers == plan.size()) return plan;
  if (plan.empty() || placement != Placement::numa) {
    auto full = plan_placement(topology, placement, workers);
    plan.insert(plan.end(), full.begin() + static_cast<std::ptrdiff_t>(plan.size()), full.end());
    return plan;
  }
  const auto& nodes = topology.numa_nodes();
  std::vector<unsigned> count(nodes.size(), 0);
  for (const auto& worker : plan) ++count[worker.numa];
  while (plan.size() < workers) {
    const auto node = static_cast<unsigned>(std::min_element(count.begin(), count.end()) - count.begin());
    ++count[node];
    plan.push_back({nodes[node].pus, node});
  }
  return plan;
}

std::vector<unsigned> steal_order(const std::vector<WorkerPlacement>& plan, unsigned self) {
  if (self >= plan.size()) {
    throw Error(Errc::invalid_argument, "worker " + std::to_string(self) + " is not in a plan of " +
                                            std::to_string(plan.size()) + " workers");
  }
  const auto workers = static_cast<unsigned>(plan.size());
  unsigned nodes = 0;
  for (const auto& worker : plan) nodes = std::max(nodes, worker.numa + 1);
  std::vector<unsigned> order;
  for (unsigned hop = 0; hop < nodes; ++hop) {
    const unsigned node = (plan[self].numa + hop) % nodes;
    for (unsigned offset = 1; offset < workers; ++offset) {
      const unsigned victim = (self + offset) % workers;
      if (plan[victim].numa == node) order.push_back(victim);
    }
  }
  return order;
}

}  // namespace tasklets
