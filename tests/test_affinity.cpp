#include "tasklets/affinity.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <thread>

#include "tasklets/error.hpp"
#include "tasklets/placement.hpp"

namespace tasklets {
namespace {

const Topology& machine() {
  static const Topology topology = Topology::system();
  return topology;
}

// Remembers the calling thread's binding and puts it back at scope exit, so
// that one test's pinning never leaks into the next.
class ScopedBinding {
 public:
  explicit ScopedBinding(const Topology& topology)
      : topology_(topology), saved_(current_thread_binding(topology)) {}
  ~ScopedBinding() {
    const BindResult result = bind_current_thread(topology_, logical_pus_of(saved_));
    EXPECT_TRUE(result.pinned) << result.error;
    EXPECT_EQ(current_thread_binding(topology_), saved_);
  }
  ScopedBinding(const ScopedBinding&) = delete;
  ScopedBinding& operator=(const ScopedBinding&) = delete;

 private:
  std::vector<unsigned> logical_pus_of(const std::vector<unsigned>& os_indices) const {
    std::vector<unsigned> logical;
    for (const PuInfo& pu : topology_.pus()) {
      if (std::count(os_indices.begin(), os_indices.end(), pu.os_index) != 0) {
        logical.push_back(pu.logical);
      }
    }
    return logical;
  }

  const Topology& topology_;
  std::vector<unsigned> saved_;
};

std::vector<unsigned> os_indices_of(const Topology& topology, const std::vector<unsigned>& pus) {
  std::vector<unsigned> os;
  for (unsigned pu : pus) os.push_back(topology.pus()[pu].os_index);
  std::sort(os.begin(), os.end());
  return os;
}

TEST(Affinity, BindsToEachAllowedPu) {
  const Topology& topology = machine();
  ASSERT_TRUE(topology.is_system());
  ScopedBinding restore(topology);
  for (const PuInfo& pu : topology.pus()) {
    const BindResult result = bind_current_thread(topology, {pu.logical});
    EXPECT_TRUE(result.pinned) << "PU " << pu.logical << ": " << result.error;
    EXPECT_TRUE(result.error.empty());
    EXPECT_EQ(current_thread_binding(topology), std::vector<unsigned>{pu.os_index});
  }
}

TEST(Affinity, NumaPolicyBindsTheWholeNode) {
  const Topology& topology = machine();
  ScopedBinding restore(topology);
  const auto plan = plan_placement(topology, Placement::numa, 1);
  const BindResult result = bind_current_thread(topology, plan[0].pus);
  EXPECT_TRUE(result.pinned) << result.error;
  const auto& node = topology.numa_nodes()[plan[0].numa];
  EXPECT_EQ(current_thread_binding(topology), os_indices_of(topology, node.pus));
}

// What a pool does at start: every worker pins itself, all at once.
TEST(Affinity, WorkersPinThemselvesConcurrently) {
  const Topology& topology = machine();
  const auto plan = plan_placement(topology, Placement::compact,
                                   static_cast<unsigned>(topology.pus().size()));
  std::vector<BindResult> results(plan.size());
  std::vector<std::vector<unsigned>> bindings(plan.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] = bind_current_thread(topology, plan[i].pus);
      bindings[i] = current_thread_binding(topology);
    });
  }
  for (auto& thread : threads) thread.join();
  for (std::size_t i = 0; i < plan.size(); ++i) {
    EXPECT_TRUE(results[i].pinned) << "worker " << i << ": " << results[i].error;
    EXPECT_EQ(bindings[i], os_indices_of(topology, plan[i].pus)) << "worker " << i;
  }
}

TEST(Affinity, SyntheticTopologyIsNeverBound) {
  const Topology& topology = machine();
  ScopedBinding restore(topology);
  const auto before = current_thread_binding(topology);
  const auto synthetic = Topology::synthetic("numa:2 core:2 pu:1");
  const BindResult result = bind_current_thread(synthetic, {0});
  EXPECT_FALSE(result.pinned);
  EXPECT_EQ(result.error, "topology is not this system");
  EXPECT_EQ(current_thread_binding(topology), before);
  try {
    current_thread_binding(synthetic);
    ADD_FAILURE() << "current_thread_binding accepted a synthetic topology";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), Errc::invalid_argument);
  }
}

TEST(Affinity, EmptyPuListIsNoBindingRequested) {
  const BindResult result = bind_current_thread(machine(), {});
  EXPECT_FALSE(result.pinned);
  EXPECT_EQ(result.error, "no binding requested");
}

TEST(Affinity, OutOfRangePuIsReportedNotBound) {
  const Topology& topology = machine();
  ScopedBinding restore(topology);
  const auto before = current_thread_binding(topology);
  const auto count = static_cast<unsigned>(topology.pus().size());
  const BindResult result = bind_current_thread(topology, {0, count});
  EXPECT_FALSE(result.pinned);
  EXPECT_NE(result.error.find("out of range"), std::string::npos) << result.error;
  EXPECT_EQ(current_thread_binding(topology), before);
}

struct FreeDeleter {
  void operator()(void* p) const noexcept { std::free(p); }
};

TEST(Affinity, BindMemoryToNode) {
  const Topology& topology = machine();
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::unique_ptr<void, FreeDeleter> memory(std::aligned_alloc(page, page));
  ASSERT_NE(memory, nullptr);
  EXPECT_TRUE(bind_memory_to_node(topology, memory.get(), page, 0));
  EXPECT_TRUE(bind_memory_to_node(topology, memory.get(), 0, 0));
  const auto nodes = static_cast<unsigned>(topology.numa_nodes().size());
  EXPECT_FALSE(bind_memory_to_node(topology, memory.get(), page, nodes));
  const auto synthetic = Topology::synthetic("numa:2 core:2 pu:1");
  EXPECT_FALSE(bind_memory_to_node(synthetic, memory.get(), page, 1));
}

}  // namespace
}  // namespace tasklets
