// Starts DPDK's EAL once per test program: with hugepages when the machine has them, else
// --no-huge; in-memory, no PCI, so tests run side by side and leave nothing behind.
#pragma once

#include <string>
#include <vector>

namespace t38relay::testing {

// The EAL arguments for this machine, plus `extra` (e.g. {"--vdev=net_ring0"}).
std::vector<std::string> EalArgs(const std::vector<std::string>& extra);
// True when hugetlbfs is mounted and has free 2 MB pages, unless T38_EAL_NO_HUGE=1 asks for the
// --no-huge path (so one machine can test both).
bool HugepagesAvailable();
// rte_eal_init with EalArgs(extra); false (with a gtest failure) when EAL does not start.
bool StartEal(const std::vector<std::string>& extra);

}  // namespace t38relay::testing
