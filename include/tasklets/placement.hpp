// Where each worker runs, and in which order it steals. Pure functions of a
// Topology and a worker count: no threads, no hwloc, so every policy is
// testable on synthetic topologies (STYLE rule 8).
#pragma once

#include <string_view>
#include <vector>

#include "tasklets/topology.hpp"

namespace tasklets {

enum class Placement { compact, scatter, numa, none };

// "compact" | "scatter" | "numa" | "none"; anything else throws
// Error(Errc::invalid_argument) naming the value and the accepted ones.
Placement parse_placement(std::string_view name);
std::string_view placement_name(Placement placement) noexcept;

struct WorkerPlacement {
  // Logical PU indices the worker is bound to: exactly one for compact and
  // scatter, every PU of its node for numa, empty for none.
  std::vector<unsigned> pus;
  // NUMA node (index into Topology::numa_nodes()) the worker belongs to; for
  // none it is i % node_count so that per-node arenas and queues still spread.
  unsigned numa;
};

// One entry per worker; workers == 0 throws Error(Errc::invalid_argument).
// A node's "core slots" are the first PU of each of its cores, then each
// core's second PU, and so on: SMT siblings are used only once every core
// already has a worker.
//  compact: the core slots of every node, node after node, round by round:
//           all cores of node 0, then of node 1, ... get one worker before
//           any core gets a second; more workers than PUs wrap around.
//  scatter: worker i goes to node i % N, to that node's (i / N)-th core slot
//           (wrapping within the node).
//  numa:    balanced contiguous blocks of workers per node (sizes differ by at
//           most 1, larger blocks first), each bound to its node's whole PU set.
//  none:    no binding.
std::vector<WorkerPlacement> plan_placement(const Topology& topology, Placement placement,
                                            unsigned workers);

// The plan of a pool that grows from plan.size() to `workers` slots: the
// placed ones keep their entries (their workers may be running), the new
// ones are placed as plan_placement places them, except under numa, whose
// blocks depend on the count: there each new worker joins the node that has
// the fewest (the lowest such node). From an empty plan: plan_placement. workers below plan.size() throws
// Error(Errc::invalid_argument).
std::vector<WorkerPlacement> extend_plan(const Topology& topology, Placement placement,
                                         std::vector<WorkerPlacement> plan, unsigned workers);

// The order in which worker `self` visits the other workers' queues when it
// steals: the workers of its own node first (starting after self, wrapping),
// then node by node starting with the node after its own (wrapping), each in
// the same "after self" order. Every other worker appears exactly once; self
// never does. self out of range throws Error(Errc::invalid_argument).
std::vector<unsigned> steal_order(const std::vector<WorkerPlacement>& plan, unsigned self);

}  // namespace tasklets
