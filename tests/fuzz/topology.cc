// Topology strings: the `topology` pool option and TASKLETS_TOPOLOGY reach
// Topology::load (src/topology.cpp), which hands a synthetic description to
// hwloc. Any string must either load a topology that keeps every promise of
// include/tasklets/topology.hpp or be refused with a tasklets::Error. "xml:"
// sources are left out: they name files to read, not strings to parse.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tasklets/error.hpp"
#include "tasklets/topology.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& source) {
  std::fprintf(stderr, "fuzz invariant broken: %s (topology \"%s\")\n", what, source.c_str());
  std::abort();
}

void check(const tasklets::Topology& t, const std::string& source) {
  const auto& pus = t.pus();
  const auto& nodes = t.numa_nodes();
  if (pus.empty() || nodes.empty()) fail("no PU or no NUMA node", source);
  if (t.package_count() < 1 || t.core_count() < 1 || t.core_count() > pus.size()) fail("core or package count", source);
  std::size_t listed = 0;
  for (std::size_t i = 0; i < pus.size(); ++i) {
    if (pus[i].logical != i || pus[i].numa >= nodes.size() || pus[i].core >= t.core_count()) fail("PU indices", source);
  }
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    const auto& node = nodes[n];
    if (node.logical != n || node.pus.empty()) fail("NUMA node indices", source);
    for (std::size_t k = 0; k < node.pus.size(); ++k) {
      if (node.pus[k] >= pus.size() || pus[node.pus[k]].numa != n) fail("a node lists a PU not on it", source);
      if (k > 0 && node.pus[k] <= node.pus[k - 1]) fail("a node's PUs not ascending", source);
    }
    for (std::size_t k = 1; k < node.cores.size(); ++k) {
      if (node.cores[k] <= node.cores[k - 1]) fail("a node's cores not ascending", source);
    }
    listed += node.pus.size();
  }
  if (listed != pus.size()) fail("PUs not listed by exactly one node", source);
  if (t.summary().empty()) fail("empty summary", source);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  // Most inputs go through the synthetic path; a few exercise load()'s dispatch.
  const std::string source = input.starts_with("!") ? input.substr(1) : "synthetic:" + input;
  if (std::string_view(source).starts_with("xml:")) return 0;
  try {
    check(tasklets::Topology::load(source), source);
  } catch (const tasklets::Error&) {
  }
  return 0;
}
