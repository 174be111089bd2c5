// DPDK EAL arguments for this machine: hugepages when it has them, --no-huge otherwise (used by
// tests and benchmarks now, by the dataplane process later).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace t38relay::dataplane {

// True when hugetlbfs is mounted with at least `megabytes` of free 2 MB pages, unless the
// environment says T38_EAL_NO_HUGE=1 (so one machine can test both paths).
bool HugepagesAvailable(size_t megabytes);

// Arguments for rte_eal_init: one lcore (0), no PCI scan, quiet EAL, and memory either from
// hugepages (--in-memory) or `megabytes` of ordinary memory (--no-huge); neither form leaves runtime
// files behind. `extra` is appended (e.g. "--vdev=net_ring0").
std::vector<std::string> EalArgs(const std::string& program, size_t megabytes,
                                 const std::vector<std::string>& extra);

// The CPUs this process may run on (sched_getaffinity), ascending.
std::vector<unsigned> AllowedCpus();

// rte_eal_init with those arguments; "" on success, else what EAL said.
std::string StartEal(std::vector<std::string> args);

}  // namespace t38relay::dataplane
