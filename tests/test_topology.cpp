#include "tasklets/topology.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>

#include "support.hpp"
#include "tasklets/error.hpp"

namespace tasklets {
namespace {

using test_support::thrown_error;

// Checks every cross-reference between pus(), numa_nodes() and the cores.
void expect_consistent(const Topology& topology) {
  const auto& pus = topology.pus();
  const auto& nodes = topology.numa_nodes();
  ASSERT_FALSE(pus.empty());
  ASSERT_FALSE(nodes.empty());
  std::set<unsigned> os_indices;
  std::vector<std::optional<unsigned>> node_of_core(topology.core_count());
  for (unsigned i = 0; i < pus.size(); ++i) {
    const PuInfo& pu = pus[i];
    EXPECT_EQ(pu.logical, i);
    EXPECT_TRUE(os_indices.insert(pu.os_index).second) << "duplicate os_index " << pu.os_index;
    ASSERT_LT(pu.core, topology.core_count());
    ASSERT_LT(pu.numa, nodes.size());
    const auto& node = nodes[pu.numa];
    EXPECT_NE(std::find(node.pus.begin(), node.pus.end(), i), node.pus.end());
    EXPECT_NE(std::find(node.cores.begin(), node.cores.end(), pu.core), node.cores.end());
    if (!node_of_core[pu.core]) node_of_core[pu.core] = pu.numa;
    EXPECT_EQ(*node_of_core[pu.core], pu.numa) << "core " << pu.core << " spans two nodes";
  }
  std::size_t pu_total = 0;
  std::size_t core_total = 0;
  for (unsigned n = 0; n < nodes.size(); ++n) {
    EXPECT_EQ(nodes[n].logical, n);
    EXPECT_FALSE(nodes[n].pus.empty());
    EXPECT_TRUE(std::is_sorted(nodes[n].pus.begin(), nodes[n].pus.end()));
    EXPECT_TRUE(std::is_sorted(nodes[n].cores.begin(), nodes[n].cores.end()));
    pu_total += nodes[n].pus.size();
    core_total += nodes[n].cores.size();
  }
  EXPECT_EQ(pu_total, pus.size());
  EXPECT_EQ(core_total, topology.core_count());
}

TEST(Topology, FourNodeSynthetic) {
  const auto topology = Topology::synthetic("pack:2 numa:2 l3:1 core:4 pu:2");
  EXPECT_FALSE(topology.is_system());
  EXPECT_EQ(topology.source(), "synthetic:pack:2 numa:2 l3:1 core:4 pu:2");
  EXPECT_EQ(topology.numa_nodes().size(), 4u);
  EXPECT_EQ(topology.core_count(), 16u);
  EXPECT_EQ(topology.pus().size(), 32u);
  EXPECT_EQ(topology.package_count(), 2u);
  for (const auto& node : topology.numa_nodes()) {
    EXPECT_EQ(node.pus.size(), 8u);
    EXPECT_EQ(node.cores.size(), 4u);
    EXPECT_GT(node.memory_bytes, 0u);
  }
  EXPECT_EQ(topology.summary(),
            "2 packages, 4 NUMA nodes, 16 cores, 32 PUs "
            "(synthetic:pack:2 numa:2 l3:1 core:4 pu:2)");
  expect_consistent(topology);
}

TEST(Topology, SmtSiblingsShareACore) {
  const auto topology = Topology::synthetic("pack:2 numa:2 l3:1 core:4 pu:2");
  for (unsigned i = 0; i < topology.pus().size(); ++i) {
    EXPECT_EQ(topology.pus()[i].core, i / 2);
    EXPECT_EQ(topology.pus()[i].numa, i / 8);
  }
}

TEST(Topology, OneNodeSynthetic) {
  const auto topology = Topology::synthetic("numa:1 core:2 pu:1");
  EXPECT_EQ(topology.numa_nodes().size(), 1u);
  EXPECT_EQ(topology.core_count(), 2u);
  EXPECT_EQ(topology.pus().size(), 2u);
  EXPECT_EQ(topology.summary(),
            "1 package, 1 NUMA node, 2 cores, 2 PUs (synthetic:numa:1 core:2 pu:1)");
  expect_consistent(topology);
}

TEST(Topology, NoNumaLevelIsOneNodeHoldingEveryPu) {
  const auto topology = Topology::synthetic("pack:2 core:2 pu:2");
  ASSERT_EQ(topology.numa_nodes().size(), 1u);
  EXPECT_EQ(topology.numa_nodes()[0].pus.size(), 8u);
  EXPECT_EQ(topology.numa_nodes()[0].cores.size(), 4u);
  EXPECT_EQ(topology.core_count(), 4u);
  expect_consistent(topology);
}

TEST(Topology, TwoNodeSynthetic) {
  const auto topology = Topology::synthetic("numa:2 core:2 pu:2");
  ASSERT_EQ(topology.numa_nodes().size(), 2u);
  for (const auto& node : topology.numa_nodes()) {
    EXPECT_EQ(node.pus.size(), 4u);
    EXPECT_EQ(node.cores.size(), 2u);
  }
  EXPECT_EQ(topology.numa_nodes()[1].os_index, 1u);
  expect_consistent(topology);
}

TEST(Topology, PuWithoutCoreCountsAsOwnCore) {
  const auto topology = Topology::synthetic("pu:3");
  EXPECT_EQ(topology.core_count(), 3u);
  EXPECT_EQ(topology.pus().size(), 3u);
  expect_consistent(topology);
}

TEST(Topology, LoadUnderstandsEachPrefix) {
  EXPECT_EQ(Topology::load("").source(), "system");
  EXPECT_EQ(Topology::load("system").source(), "system");
  const auto synthetic = Topology::load("synthetic:numa:2 core:2 pu:2");
  EXPECT_EQ(synthetic.source(), "synthetic:numa:2 core:2 pu:2");
  EXPECT_EQ(synthetic.numa_nodes().size(), 2u);
  const auto xml = thrown_error([] { Topology::load("xml:/nonexistent/tasklets.xml"); });
  EXPECT_EQ(xml.code(), Errc::topology);
}

TEST(Topology, MalformedSyntheticThrowsTopologyError) {
  for (const char* description : {"pack:x", "", "banana"}) {
    const Error error = thrown_error([&] { Topology::synthetic(description); });
    EXPECT_EQ(error.code(), Errc::topology) << description;
    EXPECT_NE(std::string(error.what()).find("synthetic:" + std::string(description)),
              std::string::npos)
        << error.what();
  }
  EXPECT_EQ(thrown_error([] { Topology::load("synthetic:pack:x"); }).code(), Errc::topology);
}

// Found by tests/fuzz (topology target): hwloc takes minutes to build a
// flat synthetic machine of a few tens of thousands of PUs and never ends
// for a million, so such descriptions are refused before hwloc sees them.
TEST(Topology, OversizedSyntheticIsRefusedAtOnce) {
  const auto start = std::chrono::steady_clock::now();
  for (const char* description : {"773838", "3838", "pu:257", "pack:2 core:64 pu:33", "core:99999999999999999999 pu:1",
                                  "pack:2(memory=1GB) [numa] core:16 pu:129", "pu:0x10", "pu:+5",
                                  "core:2 pu:2(indexes=0,2,1,3666666666666666666666)", "pu:2(indexes=0,65536)"}) {
    const Error error = thrown_error([&] { Topology::synthetic(description); });
    EXPECT_EQ(error.code(), Errc::topology) << description;
  }
  // hwloc stops at a NUL; the check must not read a different string.
  EXPECT_EQ(thrown_error([] { Topology::synthetic(std::string_view("777738\0MemTotal: 38", 19)); }).code(),
            Errc::topology);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(Topology::synthetic("pack:2 numa:2 core:128 pu:8").pus().size(), 4096u);
  EXPECT_EQ(Topology::synthetic("pack:2(memory=1GB) [numa] core:2 pu:2").pus().size(), 8u);
  EXPECT_EQ(Topology::synthetic("core:2 pu:2(indexes=0,2,1,65535)").pus().size(), 4u);
}

TEST(Topology, UnknownLoadPrefixIsInvalidArgument) {
  for (const char* source : {"banana", "numa:2", "synthetic", "XML:/tmp/a.xml", " system"}) {
    const Error error = thrown_error([&] { Topology::load(source); });
    EXPECT_EQ(error.code(), Errc::invalid_argument) << source;
    EXPECT_NE(std::string(error.what()).find(source), std::string::npos) << error.what();
  }
}

std::string temp_path(const char* name) {
  return testing::TempDir() + "tasklets_" + std::to_string(getpid()) + "_" + name;
}

TEST(Topology, XmlRoundTrip) {
  const auto original = Topology::synthetic("pack:2 numa:2 l3:1 core:4 pu:2");
  const std::string path = temp_path("round_trip.xml");
  std::ofstream(path) << original.to_xml();
  const auto loaded = Topology::from_xml(path);
  std::filesystem::remove(path);
  EXPECT_EQ(loaded.source(), "xml:" + path);
  EXPECT_FALSE(loaded.is_system());
  EXPECT_EQ(loaded.core_count(), original.core_count());
  ASSERT_EQ(loaded.pus().size(), original.pus().size());
  for (unsigned i = 0; i < loaded.pus().size(); ++i) {
    EXPECT_EQ(loaded.pus()[i].os_index, original.pus()[i].os_index);
    EXPECT_EQ(loaded.pus()[i].core, original.pus()[i].core);
    EXPECT_EQ(loaded.pus()[i].numa, original.pus()[i].numa);
  }
  ASSERT_EQ(loaded.numa_nodes().size(), original.numa_nodes().size());
  for (unsigned n = 0; n < loaded.numa_nodes().size(); ++n) {
    EXPECT_EQ(loaded.numa_nodes()[n].os_index, original.numa_nodes()[n].os_index);
    EXPECT_EQ(loaded.numa_nodes()[n].pus, original.numa_nodes()[n].pus);
    EXPECT_EQ(loaded.numa_nodes()[n].cores, original.numa_nodes()[n].cores);
    EXPECT_EQ(loaded.numa_nodes()[n].memory_bytes, original.numa_nodes()[n].memory_bytes);
  }
}

TEST(Topology, BadXmlThrowsTopologyError) {
  const Error missing = thrown_error([] { Topology::from_xml("/nonexistent/tasklets.xml"); });
  EXPECT_EQ(missing.code(), Errc::topology);
  EXPECT_NE(std::string(missing.what()).find("/nonexistent/tasklets.xml"), std::string::npos);
  const std::string path = temp_path("garbage.xml");
  std::ofstream(path) << "this is not a topology\n";
  const Error garbage = thrown_error([&] { Topology::from_xml(path); });
  std::filesystem::remove(path);
  EXPECT_EQ(garbage.code(), Errc::topology);
}

TEST(Topology, SystemHasAllowedPus) {
  const auto topology = Topology::system();
  EXPECT_TRUE(topology.is_system());
  EXPECT_EQ(topology.source(), "system");
  EXPECT_GE(topology.pus().size(), 1u);
  EXPECT_GE(topology.core_count(), 1u);
  EXPECT_LE(topology.core_count(), topology.pus().size());
  const std::string summary = topology.summary();
  EXPECT_EQ(summary.substr(summary.size() - 8), "(system)") << summary;
  expect_consistent(topology);
}

TEST(Topology, MoveKeepsTheTopology) {
  auto first = Topology::synthetic("numa:2 core:2 pu:2");
  Topology second = std::move(first);
  EXPECT_EQ(second.pus().size(), 8u);
  first = Topology::synthetic("numa:1 core:2 pu:1");
  second = std::move(first);
  EXPECT_EQ(second.pus().size(), 2u);
}

// Sets or clears an environment variable for one test, then restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Topology, EnvironmentVariableIsHonoured) {
  ScopedEnv env("TASKLETS_TOPOLOGY", "synthetic:numa:2 core:1 pu:1");
  EXPECT_EQ(Topology::from_config_or_env("").numa_nodes().size(), 2u);
  // An explicit source wins over the environment.
  EXPECT_EQ(Topology::from_config_or_env("synthetic:numa:3 core:1 pu:1").numa_nodes().size(), 3u);
}

TEST(Topology, BadEnvironmentVariableIsNamedInTheError) {
  ScopedEnv env("TASKLETS_TOPOLOGY", "banana");
  const Error error = thrown_error([] { Topology::from_config_or_env(""); });
  EXPECT_EQ(error.code(), Errc::invalid_argument);
  EXPECT_NE(std::string(error.what()).find("TASKLETS_TOPOLOGY"), std::string::npos);
}

TEST(Topology, SystemHonoursHwlocVariables) {
  ScopedEnv env("HWLOC_SYNTHETIC", "numa:3 core:1 pu:1");
  const auto topology = Topology::system();
  EXPECT_FALSE(topology.is_system());
  EXPECT_EQ(topology.numa_nodes().size(), 3u);
}

TEST(Topology, WithoutEnvironmentVariableLoadsTheSystem) {
  ScopedEnv env("TASKLETS_TOPOLOGY", nullptr);
  EXPECT_EQ(Topology::from_config_or_env("").source(), "system");
}

}  // namespace
}  // namespace tasklets
