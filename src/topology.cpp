#include "tasklets/topology.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <system_error>

#include "hwloc_handle.hpp"
#include "tasklets/error.hpp"

namespace tasklets {
namespace {

using hwloc_handle::BitmapPtr;
using hwloc_handle::TopologyPtr;

// Applies a source (synthetic description, XML path) before loading.
using Configure = int (*)(hwloc_topology_t, const char*);

[[noreturn]] void fail_load(const std::string& source, int err) {
  // hwloc does not always set errno; "rejected by hwloc" beats "Success".
  const std::string why = err != 0 ? std::generic_category().message(err) : "rejected by hwloc";
  throw Error(Errc::topology, "cannot load topology \"" + source + "\": " + why);
}

TopologyPtr open_hwloc(const std::string& source, Configure configure, const char* argument) {
  hwloc_topology_t raw = nullptr;
  errno = 0;
  if (hwloc_topology_init(&raw) != 0) fail_load(source, errno);
  TopologyPtr topology(raw);
  if (configure != nullptr && configure(raw, argument) != 0) fail_load(source, errno);
  if (hwloc_topology_load(raw) != 0) fail_load(source, errno);
  return topology;
}

// hwloc 2 hangs NUMA nodes off the tree as memory children, so a node's
// cpuset, not the tree position, says which PUs are local to it.
hwloc_obj_t numa_node_of(hwloc_topology_t topology, unsigned pu_os_index) {
  hwloc_obj_t node = nullptr;
  while ((node = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_NUMANODE, node)) != nullptr) {
    if (node->cpuset != nullptr && hwloc_bitmap_isset(node->cpuset, pu_os_index)) return node;
  }
  return nullptr;
}

// Position of `object` in `seen`, appending it first if new. nullptr is a
// valid key: it stands for "no NUMA node reported".
unsigned dense_index(std::vector<hwloc_obj_t>& seen, hwloc_obj_t object) {
  const auto it = std::find(seen.begin(), seen.end(), object);
  if (it != seen.end()) return static_cast<unsigned>(it - seen.begin());
  seen.push_back(object);
  return static_cast<unsigned>(seen.size() - 1);
}

// hwloc 2 drops disallowed PUs by default; checking the allowed cpuset anyway
// keeps the promise that pus() lists only PUs this process may run on whatever
// flags, XML file or HWLOC_* variables the topology came from.
std::vector<hwloc_obj_t> index_pus(Topology::Impl& impl) {
  hwloc_topology_t topology = impl.topology.get();
  hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(topology);
  std::vector<hwloc_obj_t> cores;
  std::vector<hwloc_obj_t> nodes;
  hwloc_obj_t pu = nullptr;
  while ((pu = hwloc_get_next_obj_by_type(topology, HWLOC_OBJ_PU, pu)) != nullptr) {
    if (!hwloc_bitmap_isset(allowed, pu->os_index)) continue;
    hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topology, HWLOC_OBJ_CORE, pu);
    const auto logical = static_cast<unsigned>(impl.pus.size());
    impl.pus.push_back(PuInfo{logical, pu->os_index, dense_index(cores, core ? core : pu),
                              dense_index(nodes, numa_node_of(topology, pu->os_index))});
  }
  if (impl.pus.empty()) {
    throw Error(Errc::topology, "topology \"" + impl.source + "\" has no allowed PU");
  }
  impl.cores = static_cast<unsigned>(cores.size());
  return nodes;
}

NumaNodeInfo describe_node(hwloc_topology_t topology, hwloc_obj_t node, unsigned logical) {
  if (node == nullptr) {
    return NumaNodeInfo{logical, 0, {}, {}, hwloc_get_root_obj(topology)->total_memory};
  }
  return NumaNodeInfo{logical, node->os_index, {}, {}, node->attr->numanode.local_memory};
}

BitmapPtr nodeset_of(hwloc_obj_t node) {
  BitmapPtr set(hwloc_bitmap_alloc());
  if (!set) throw std::bad_alloc();
  if (node != nullptr) hwloc_bitmap_only(set.get(), node->os_index);
  return set;
}

void index_nodes(Topology::Impl& impl, const std::vector<hwloc_obj_t>& nodes) {
  for (unsigned n = 0; n < nodes.size(); ++n) {
    impl.nodes.push_back(describe_node(impl.topology.get(), nodes[n], n));
    impl.nodesets.push_back(nodeset_of(nodes[n]));
  }
  for (const PuInfo& pu : impl.pus) {
    NumaNodeInfo& node = impl.nodes[pu.numa];
    node.pus.push_back(pu.logical);
    // PUs come in logical order and cores were numbered in that order, so a
    // core already listed is always the last one.
    if (node.cores.empty() || node.cores.back() != pu.core) node.cores.push_back(pu.core);
  }
}

std::unique_ptr<Topology::Impl> make_impl(std::string source, Configure configure,
                                          const char* argument) {
  auto impl = std::make_unique<Topology::Impl>();
  impl->topology = open_hwloc(source, configure, argument);
  impl->source = std::move(source);
  impl->is_system = hwloc_topology_is_thissystem(impl->topology.get()) != 0;
  index_nodes(*impl, index_pus(*impl));
  const int packages = hwloc_get_nbobjs_by_type(impl->topology.get(), HWLOC_OBJ_PACKAGE);
  impl->packages = static_cast<unsigned>(std::max(packages, 1));
  return impl;
}

std::string counted(std::size_t count, const char* noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

// hwloc builds a synthetic machine object by object and inserts each one
// among its siblings by comparing cpusets: a level of n children under one
// parent costs about n * n * PUs / 64 word compares. A flat 4,096 PUs took
// over a second, 16,384 over a minute, a million never ended; a machine of
// 4,096 PUs in levels of at most 256 children loads in well under a second.
// Real machines fit both bounds; they are checked before hwloc sees the string.
constexpr std::uint64_t kMaxSyntheticPus = 4096;
constexpr std::uint64_t kMaxSyntheticArity = 256;
// hwloc sizes a bitmap by the largest OS index an "indexes=" attribute
// names: "pu:2(indexes=0,3666666666)" allocated gigabytes (found by the
// topology fuzz target). Real OS indexes of 4,096 PUs stay far below this.
constexpr std::uint64_t kMaxSyntheticOsIndex = 65535;

// Why the OS indexes of the "indexes=" attributes are refused, or "".
std::string os_index_refusal(std::string_view description) {
  constexpr std::string_view kKey = "indexes=";
  for (std::size_t p = description.find(kKey); p != std::string_view::npos; p = description.find(kKey, p + 1)) {
    std::size_t q = p + kKey.size();
    while (q < description.size() && description[q] != ')' && description[q] != ' ') {
      if (description[q] < '0' || description[q] > '9') {
        ++q;
        continue;
      }
      const std::size_t start = q;
      while (q < description.size() && description[q] >= '0' && description[q] <= '9') ++q;
      std::string_view digits = description.substr(start, q - start);
      digits.remove_prefix(std::min(digits.find_first_not_of('0'), digits.size()));
      const std::uint64_t value = digits.size() > 9 ? UINT64_MAX : std::strtoull(std::string(digits).c_str(), nullptr, 10);
      if (value > kMaxSyntheticOsIndex) return "an OS index above " + std::to_string(kMaxSyntheticOsIndex);
    }
  }
  return "";
}

// Why a synthetic description is refused before hwloc reads it, or "". It
// reads the level arities (the number ending each space-separated level,
// after an optional "type:"), ignoring "(attributes)" and "[memory
// children]"; their product is the PU count. A level that holds digits but
// is not a plain decimal number is refused: hwloc would also read "+5" or
// "0x10", which this count would get wrong. Other malformed levels are
// left to hwloc, which refuses them.
std::string synthetic_refusal(std::string_view description) {
  // hwloc reads a C string: it would stop at a NUL that this check reads past.
  if (description.find('\0') != std::string_view::npos) return "a description cannot hold a NUL character";
  if (std::string why = os_index_refusal(description); !why.empty()) return why;
  std::string levels;
  int depth = 0;
  for (const char c : description) {
    if (c == '(' || c == '[') ++depth;
    if (depth == 0) levels += c;
    if ((c == ')' || c == ']') && depth > 0) --depth;
  }
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  constexpr std::string_view kDigits = "0123456789";
  std::uint64_t pus = 1;
  std::size_t at = 0;
  while ((at = levels.find_first_not_of(kSpace, at)) != std::string::npos) {
    const std::size_t end = std::min(levels.find_first_of(kSpace, at), levels.size());
    std::string_view level(levels.data() + at, end - at);
    at = end;
    if (const std::size_t colon = level.rfind(':'); colon != std::string_view::npos) level.remove_prefix(colon + 1);
    if (level.empty() || level.find_first_not_of(kDigits) != std::string_view::npos) {
      if (level.find_first_of(kDigits) != std::string_view::npos) return "arities must be decimal numbers";
      continue;
    }
    level.remove_prefix(std::min(level.find_first_not_of('0'), level.size()));
    const std::uint64_t arity = level.size() > 9 ? UINT64_MAX : std::strtoull(std::string(level).c_str(), nullptr, 10);
    if (arity > kMaxSyntheticArity) return "a level of more than " + std::to_string(kMaxSyntheticArity) + " children";
    pus *= arity;
    if (pus > kMaxSyntheticPus) return "more than " + std::to_string(kMaxSyntheticPus) + " PUs";
  }
  return "";
}

constexpr std::string_view kSyntheticPrefix = "synthetic:";
constexpr std::string_view kXmlPrefix = "xml:";

}  // namespace

Topology::Topology(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Topology::Topology(Topology&&) noexcept = default;
Topology& Topology::operator=(Topology&&) noexcept = default;
Topology::~Topology() = default;

Topology Topology::system() {
  return Topology(make_impl("system", nullptr, nullptr));
}

Topology Topology::synthetic(std::string_view description) {
  // hwloc itself rejects empty and malformed descriptions with EINVAL.
  const std::string text(description);
  if (const std::string why = synthetic_refusal(text); !why.empty()) {
    throw Error(Errc::topology, "cannot load topology \"" + std::string(kSyntheticPrefix) + text + "\": " + why);
  }
  return Topology(make_impl(std::string(kSyntheticPrefix) + text, hwloc_topology_set_synthetic,
                            text.c_str()));
}

Topology Topology::from_xml(const std::string& path) {
  return Topology(make_impl(std::string(kXmlPrefix) + path, hwloc_topology_set_xml, path.c_str()));
}

Topology Topology::load(std::string_view source) {
  if (source.empty() || source == "system") return system();
  if (source.starts_with(kSyntheticPrefix)) {
    return synthetic(source.substr(kSyntheticPrefix.size()));
  }
  if (source.starts_with(kXmlPrefix)) {
    return from_xml(std::string(source.substr(kXmlPrefix.size())));
  }
  throw Error(Errc::invalid_argument,
              "unknown topology source \"" + std::string(source) +
                  "\" (expected \"system\", \"synthetic:<description>\" or \"xml:<path>\")");
}

Topology Topology::from_config_or_env(std::string_view source) {
  const char* env = source.empty() ? std::getenv("TASKLETS_TOPOLOGY") : nullptr;
  if (env == nullptr) return load(source);
  try {
    return load(env);
  } catch (const Error& error) {
    throw Error(error.code(), std::string("TASKLETS_TOPOLOGY: ") + error.what());
  }
}

bool Topology::is_system() const noexcept { return impl_->is_system; }
const std::string& Topology::source() const noexcept { return impl_->source; }
const std::vector<PuInfo>& Topology::pus() const noexcept { return impl_->pus; }
const std::vector<NumaNodeInfo>& Topology::numa_nodes() const noexcept { return impl_->nodes; }
unsigned Topology::core_count() const noexcept { return impl_->cores; }
unsigned Topology::package_count() const noexcept { return impl_->packages; }
const Topology::Impl& Topology::impl() const noexcept { return *impl_; }

std::string Topology::summary() const {
  return counted(impl_->packages, "package") + ", " + counted(impl_->nodes.size(), "NUMA node") +
         ", " + counted(impl_->cores, "core") + ", " + counted(impl_->pus.size(), "PU") + " (" +
         impl_->source + ")";
}

std::string Topology::to_xml() const {
  char* buffer = nullptr;
  int length = 0;
  if (hwloc_topology_export_xmlbuffer(impl_->topology.get(), &buffer, &length, 0) != 0) {
    throw Error(Errc::system, "cannot export topology \"" + impl_->source + "\" to XML");
  }
  hwloc_topology_t topology = impl_->topology.get();
  const auto release = [topology](char* text) { hwloc_free_xmlbuffer(topology, text); };
  const std::unique_ptr<char, decltype(release)> owned(buffer, release);
  return std::string(owned.get());
}

}  // namespace tasklets
