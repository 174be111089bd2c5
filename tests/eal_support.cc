// Starts DPDK's EAL once per test program (hugepages when available, else --no-huge).
#include "tests/eal_support.h"

#include <rte_eal.h>
#include <rte_errno.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace t38relay::testing {

bool HugepagesAvailable() {
  const char* no_huge = std::getenv("T38_EAL_NO_HUGE");
  if (no_huge != nullptr && std::string(no_huge) == "1") return false;
  bool mounted = false;
  std::ifstream mounts("/proc/mounts");
  for (std::string line; std::getline(mounts, line);) {
    if (line.find(" hugetlbfs ") != std::string::npos) mounted = true;
  }
  long free_pages = 0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    if (line.rfind("HugePages_Free:", 0) == 0) std::istringstream(line.substr(15)) >> free_pages;
  }
  // A few pages are not enough for EAL's minimum mempools: ask for 64 MB.
  return mounted && free_pages >= 32;
}

std::vector<std::string> EalArgs(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"t38relay-test", "-l", "0", "--no-pci",
                                   "--log-level=lib.eal:error", "--no-telemetry"};
  // Neither form leaves runtime files behind (--in-memory implies --no-shconf).
  if (HugepagesAvailable()) {
    args.push_back("--in-memory");
  } else {
    args.insert(args.end(), {"--no-huge", "--no-shconf", "-m", "256"});
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

bool StartEal(const std::vector<std::string>& extra) {
  static const bool started = [&extra] {
    std::vector<std::string> args = EalArgs(extra);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
      ADD_FAILURE() << "rte_eal_init failed: " << rte_strerror(rte_errno);
      return false;
    }
    std::printf("EAL started with %s\n", HugepagesAvailable() ? "hugepages" : "--no-huge");
    return true;
  }();
  return started;
}

}  // namespace t38relay::testing
