// Starts DPDK's EAL once per test program: with hugepages when the machine has them, else
// --no-huge; in-memory, no PCI, so tests run side by side and leave nothing behind.
#pragma once

#include <string>
#include <vector>

namespace t38relay::testing {

// The EAL arguments for this machine, plus `extra` (e.g. {"--vdev=net_ring0"}).
std::vector<std::string> EalArgs(const std::vector<std::string>& extra);
// Whether this test program's EAL uses hugepages (dataplane/eal_args.h; T38_EAL_NO_HUGE=1 forces
// the --no-huge path so one machine tests both).
bool HugepagesAvailable();
// rte_eal_init with EalArgs(extra); false (with a gtest failure) when EAL does not start.
bool StartEal(const std::vector<std::string>& extra);

}  // namespace t38relay::testing
