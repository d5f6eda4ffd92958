// The machine the runtime schedules on: which PUs it may use, how they group
// into cores and NUMA nodes. hwloc does the discovery; no hwloc type appears
// here (STYLE: hwloc is included only by the topology and affinity files).
//
// Indices. Every "logical" index below is a position in the vectors this class
// returns, counted over the PUs this process may run on: pus()[i].logical == i,
// numa_nodes()[n].logical == n, and core indices run 0..core_count()-1. They
// equal hwloc's logical indices whenever no PU is excluded. os_index is the
// number the OS uses (what taskset and /proc show).
//
// Thread safety: a loaded Topology is immutable; any number of threads may read
// it and bind through it at once. A moved-from Topology may only be destroyed
// or assigned to.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tasklets {

struct PuInfo {
  unsigned logical;   // position in Topology::pus()
  unsigned os_index;  // OS CPU number
  unsigned core;      // logical core index
  unsigned numa;      // index into Topology::numa_nodes()
};

struct NumaNodeInfo {
  unsigned logical;              // position in Topology::numa_nodes()
  unsigned os_index;             // OS node number
  std::vector<unsigned> pus;     // logical PU indices, allowed ones only, ascending
  std::vector<unsigned> cores;   // logical core indices, ascending
  std::uint64_t memory_bytes;    // local memory as hwloc reports it (0 if unknown)
};

class Topology {
 public:
  // The real machine. hwloc's own environment variables (HWLOC_XMLFILE,
  // HWLOC_SYNTHETIC, HWLOC_THISSYSTEM, ...) are honoured, so is_system() may
  // be false even here.
  static Topology system();
  // An hwloc synthetic description, e.g. "pack:2 numa:2 l3:1 core:4 pu:2".
  // Malformed or empty: Error(Errc::topology) naming the description.
  static Topology synthetic(std::string_view description);
  // An XML file written by hwloc (lstopo foo.xml, or to_xml()).
  // Missing or unreadable file: Error(Errc::topology) naming the path.
  static Topology from_xml(const std::string& path);
  // "" or "system" -> system(); "synthetic:<desc>" -> synthetic(desc);
  // "xml:<path>" -> from_xml(path); anything else -> Error(Errc::invalid_argument).
  static Topology load(std::string_view source);
  // load(source), or load($TASKLETS_TOPOLOGY) when source is empty and the
  // variable is set. Errors caused by the variable say so in their message.
  static Topology from_config_or_env(std::string_view source);

  Topology(Topology&&) noexcept;
  Topology& operator=(Topology&&) noexcept;
  ~Topology();

  // True when binding through this topology really binds (hwloc_topology_is_thissystem).
  bool is_system() const noexcept;
  // "system", "synthetic:<desc>" or "xml:<path>".
  const std::string& source() const noexcept;
  // Only the PUs this process may run on, in hwloc logical order. Never empty.
  const std::vector<PuInfo>& pus() const noexcept;
  // Nodes holding at least one allowed PU, in order of their first PU. Never
  // empty: a machine without NUMA information is one node holding every PU.
  const std::vector<NumaNodeInfo>& numa_nodes() const noexcept;
  // Cores holding at least one allowed PU (a PU without a core counts as one).
  unsigned core_count() const noexcept;
  // Packages as hwloc reports them (at least 1).
  unsigned package_count() const noexcept;
  // One line, e.g. "1 package, 1 NUMA node, 2 cores, 2 PUs (system)".
  std::string summary() const;
  // The whole hwloc topology as XML, loadable with from_xml().
  std::string to_xml() const;

  // Defined in src/hwloc_handle.hpp; only the affinity code looks inside.
  struct Impl;
  const Impl& impl() const noexcept;

 private:
  explicit Topology(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tasklets
