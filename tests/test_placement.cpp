#include "tasklets/placement.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <string>

#include "support.hpp"
#include "tasklets/error.hpp"

namespace tasklets {
namespace {

// Uniform synthetic machines: nodes x cores_per_node x pus_per_core. Their
// logical numbering is regular (PU = (node * cores + core) * smt + sibling),
// which lets the tests below state each policy as a formula.
struct Machine {
  const char* description;
  unsigned nodes;
  unsigned cores_per_node;
  unsigned smt;
};

constexpr Machine kMachines[] = {
    {"numa:1 core:4 pu:2", 1, 4, 2},
    {"numa:2 core:4 pu:2", 2, 4, 2},
    {"pack:2 numa:2 l3:1 core:4 pu:2", 4, 4, 2},
    {"numa:2 core:3 pu:1", 2, 3, 1},
};

// Topologies are loaded once: each hwloc load costs milliseconds.
const Topology& topology_of(const Machine& machine) {
  static std::vector<Topology> loaded = [] {
    std::vector<Topology> all;
    for (const Machine& m : kMachines) all.push_back(Topology::synthetic(m.description));
    return all;
  }();
  return loaded[static_cast<std::size_t>(&machine - kMachines)];
}

std::vector<unsigned> worker_counts(const Machine& m) {
  const unsigned cores = m.nodes * m.cores_per_node;
  const unsigned pus = cores * m.smt;
  return {1, 2, 3, cores, pus, 2 * pus};
}

template <typename Check>
void for_each_case(Placement placement, Check check) {
  for (const Machine& machine : kMachines) {
    for (unsigned workers : worker_counts(machine)) {
      SCOPED_TRACE(std::string(machine.description) + ", " + std::to_string(workers) + " workers");
      const auto plan = plan_placement(topology_of(machine), placement, workers);
      ASSERT_EQ(plan.size(), workers);
      check(machine, topology_of(machine), plan);
    }
  }
}

using test_support::error_code_of;

TEST(Placement, NamesRoundTrip) {
  for (Placement p : {Placement::compact, Placement::scatter, Placement::numa, Placement::none}) {
    EXPECT_EQ(parse_placement(placement_name(p)), p);
  }
  EXPECT_EQ(placement_name(Placement::scatter), "scatter");
}

TEST(Placement, UnknownNameIsInvalidArgument) {
  EXPECT_EQ(error_code_of([] { parse_placement("banana"); }), Errc::invalid_argument);
  EXPECT_EQ(error_code_of([] { parse_placement("Compact"); }), Errc::invalid_argument);
  EXPECT_EQ(error_code_of([] { parse_placement(""); }), Errc::invalid_argument);
  try {
    parse_placement("banana");
  } catch (const Error& error) {
    const std::string message = error.what();
    for (const char* word : {"banana", "compact", "scatter", "numa", "none"}) {
      EXPECT_NE(message.find(word), std::string::npos) << message;
    }
  }
}

TEST(Placement, ZeroWorkersIsInvalidArgument) {
  for (Placement p : {Placement::compact, Placement::scatter, Placement::numa, Placement::none}) {
    EXPECT_EQ(error_code_of([&] { plan_placement(topology_of(kMachines[0]), p, 0); }),
              Errc::invalid_argument);
  }
}

TEST(Placement, CompactExampleOnTwoNodes) {
  const auto topology = Topology::synthetic("numa:2 core:2 pu:2");
  const auto plan = plan_placement(topology, Placement::compact, 9);
  const unsigned expected[] = {0, 2, 4, 6, 1, 3, 5, 7, 0};
  for (unsigned i = 0; i < plan.size(); ++i) {
    EXPECT_EQ(plan[i].pus, std::vector<unsigned>{expected[i]}) << "worker " << i;
    EXPECT_EQ(plan[i].numa, expected[i] / 4) << "worker " << i;
  }
}

TEST(Placement, CompactFillsCoresNodeByNodeBeforeSmtSiblings) {
  for_each_case(Placement::compact, [](const Machine& m, const Topology& t, const auto& plan) {
    const unsigned cores = m.nodes * m.cores_per_node;
    const unsigned pus = cores * m.smt;
    std::set<unsigned> used_cores;
    for (unsigned i = 0; i < plan.size(); ++i) {
      const unsigned slot = i % pus;
      const unsigned pu = (slot % cores) * m.smt + slot / cores;
      ASSERT_EQ(plan[i].pus, std::vector<unsigned>{pu}) << "worker " << i;
      EXPECT_EQ(plan[i].numa, t.pus()[pu].numa);
      // Until every core has a worker, no two workers share a core.
      if (i < cores) {
        EXPECT_TRUE(used_cores.insert(t.pus()[pu].core).second);
      }
      // Node 0 is full (one worker per core) before node 1 gets any.
      if (i < m.cores_per_node) {
        EXPECT_EQ(plan[i].numa, 0u);
      }
    }
  });
}

TEST(Placement, ScatterExampleOnTwoNodes) {
  const auto topology = Topology::synthetic("numa:2 core:2 pu:2");
  const auto plan = plan_placement(topology, Placement::scatter, 9);
  const unsigned expected[] = {0, 4, 2, 6, 1, 5, 3, 7, 0};
  for (unsigned i = 0; i < plan.size(); ++i) {
    EXPECT_EQ(plan[i].pus, std::vector<unsigned>{expected[i]}) << "worker " << i;
    EXPECT_EQ(plan[i].numa, i % 2) << "worker " << i;
  }
}

TEST(Placement, ScatterAlternatesNodes) {
  for_each_case(Placement::scatter, [](const Machine& m, const Topology& t, const auto& plan) {
    const unsigned node_pus = m.cores_per_node * m.smt;
    for (unsigned i = 0; i < plan.size(); ++i) {
      const unsigned node = i % m.nodes;
      const unsigned slot = (i / m.nodes) % node_pus;
      const unsigned core = slot % m.cores_per_node;
      const unsigned pu = node * node_pus + core * m.smt + slot / m.cores_per_node;
      ASSERT_EQ(plan[i].pus, std::vector<unsigned>{pu}) << "worker " << i;
      EXPECT_EQ(plan[i].numa, node);
      EXPECT_EQ(t.pus()[pu].numa, node);
    }
  });
}

TEST(Placement, NumaSplitsBalancedBlocksOverWholeNodes) {
  for_each_case(Placement::numa, [](const Machine& m, const Topology& t, const auto& plan) {
    std::vector<unsigned> per_node(m.nodes, 0);
    for (unsigned i = 0; i < plan.size(); ++i) {
      ASSERT_LT(plan[i].numa, m.nodes);
      EXPECT_EQ(plan[i].pus, t.numa_nodes()[plan[i].numa].pus) << "worker " << i;
      if (i > 0) {
        EXPECT_GE(plan[i].numa, plan[i - 1].numa) << "blocks are contiguous";
      }
      ++per_node[plan[i].numa];
    }
    const auto [low, high] = std::minmax_element(per_node.begin(), per_node.end());
    EXPECT_LE(*high - *low, 1u);
    EXPECT_TRUE(std::is_sorted(per_node.rbegin(), per_node.rend())) << "larger blocks first";
  });
}

TEST(Placement, NoneBindsNothingButSpreadsNodes) {
  for_each_case(Placement::none, [](const Machine& m, const Topology&, const auto& plan) {
    for (unsigned i = 0; i < plan.size(); ++i) {
      EXPECT_TRUE(plan[i].pus.empty());
      EXPECT_EQ(plan[i].numa, i % m.nodes);
    }
  });
}

// Checks the documented steal order of every worker of `plan`.
void expect_steal_orders(const std::vector<WorkerPlacement>& plan) {
  const auto workers = static_cast<unsigned>(plan.size());
  unsigned nodes = 0;
  for (const auto& w : plan) nodes = std::max(nodes, w.numa + 1);
  for (unsigned self = 0; self < workers; ++self) {
    const auto order = steal_order(plan, self);
    std::vector<unsigned> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    std::vector<unsigned> others;
    for (unsigned w = 0; w < workers; ++w) {
      if (w != self) others.push_back(w);
    }
    ASSERT_EQ(sorted, others) << "worker " << self;
    // Node distance from self's node must never go down; within one node,
    // distance from self (wrapping) must go up.
    const auto key = [&](unsigned w) {
      return std::pair((plan[w].numa + nodes - plan[self].numa) % nodes,
                       (w + workers - self) % workers);
    };
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end(),
                               [&](unsigned a, unsigned b) { return key(a) < key(b); }))
        << "worker " << self;
  }
}

TEST(Placement, StealOrderVisitsOwnNodeFirstThenNextNodes) {
  for (Placement p : {Placement::compact, Placement::scatter, Placement::numa, Placement::none}) {
    SCOPED_TRACE(std::string(placement_name(p)));
    for_each_case(p, [](const Machine&, const Topology&, const auto& plan) {
      expect_steal_orders(plan);
    });
  }
}

TEST(Placement, StealOrderExample) {
  // Workers 0..5 on nodes 0,1,0,1,0,1 (scatter on two nodes).
  const auto topology = Topology::synthetic("numa:2 core:3 pu:1");
  const auto plan = plan_placement(topology, Placement::scatter, 6);
  EXPECT_EQ(steal_order(plan, 2), (std::vector<unsigned>{4, 0, 3, 5, 1}));
  EXPECT_EQ(steal_order(plan, 5), (std::vector<unsigned>{1, 3, 0, 2, 4}));
  const auto single = plan_placement(topology, Placement::compact, 1);
  EXPECT_TRUE(steal_order(single, 0).empty());
}

TEST(Placement, ExtendPlanKeepsPlacedWorkersAndPlacesNewOnes) {
  const auto topology = Topology::synthetic("numa:2 core:3 pu:1");
  for (Placement p : {Placement::compact, Placement::scatter, Placement::none}) {
    SCOPED_TRACE(std::string(placement_name(p)));
    const auto grown = extend_plan(topology, p, plan_placement(topology, p, 2), 5);
    const auto fresh = plan_placement(topology, p, 5);
    ASSERT_EQ(grown.size(), 5u);
    for (unsigned i = 0; i < 5; ++i) {
      EXPECT_EQ(grown[i].pus, fresh[i].pus) << i;
      EXPECT_EQ(grown[i].numa, fresh[i].numa) << i;
    }
  }
  // numa: blocks of 3 placed; each new worker joins the smaller node, and
  // the placed ones stay where they run.
  const auto before = plan_placement(topology, Placement::numa, 3);  // nodes 0, 0, 1
  const auto grown = extend_plan(topology, Placement::numa, before, 6);
  std::vector<unsigned> nodes;
  for (const auto& w : grown) nodes.push_back(w.numa);
  EXPECT_EQ(nodes, (std::vector<unsigned>{0, 0, 1, 1, 0, 1}));
  EXPECT_EQ(grown[3].pus, topology.numa_nodes()[1].pus);
  expect_steal_orders(grown);
  EXPECT_EQ(extend_plan(topology, Placement::numa, before, 3).size(), 3u);
  // A pool's first slots are placed exactly as plan_placement places them.
  for (Placement p : {Placement::compact, Placement::scatter, Placement::numa, Placement::none}) {
    const auto first = extend_plan(topology, p, {}, 5);
    const auto fresh = plan_placement(topology, p, 5);
    for (unsigned i = 0; i < 5; ++i) {
      EXPECT_EQ(first[i].numa, fresh[i].numa) << placement_name(p) << " " << i;
      EXPECT_EQ(first[i].pus, fresh[i].pus) << placement_name(p) << " " << i;
    }
  }
  EXPECT_EQ(error_code_of([&] { extend_plan(topology, Placement::numa, before, 2); }), Errc::invalid_argument);
}

TEST(Placement, StealOrderRejectsUnknownWorker) {
  const auto plan = plan_placement(topology_of(kMachines[0]), Placement::compact, 2);
  EXPECT_EQ(error_code_of([&] { steal_order(plan, 2); }), Errc::invalid_argument);
}

}  // namespace
}  // namespace tasklets
