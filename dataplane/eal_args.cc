// DPDK EAL arguments for this machine: hugepages when it has them, --no-huge otherwise.
#include "dataplane/eal_args.h"

#include <sched.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace t38relay::dataplane {

bool HugepagesAvailable(size_t megabytes) {
  const char* no_huge = std::getenv("T38_EAL_NO_HUGE");
  if (no_huge != nullptr && std::string(no_huge) == "1") return false;
  bool mounted = false;
  std::ifstream mounts("/proc/mounts");
  for (std::string line; std::getline(mounts, line);) {
    if (line.find(" hugetlbfs ") != std::string::npos) mounted = true;
  }
  size_t free_pages = 0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    if (line.rfind("HugePages_Free:", 0) == 0) std::istringstream(line.substr(15)) >> free_pages;
  }
  return mounted && free_pages * 2 >= megabytes;
}

std::vector<std::string> EalArgs(const std::string& program, size_t megabytes,
                                 const std::vector<std::string>& extra) {
  std::vector<std::string> args = {program, "-l", "0", "--no-pci", "--log-level=lib.eal:error",
                                   "--no-telemetry"};
  if (HugepagesAvailable(megabytes)) {
    args.push_back("--in-memory");
  } else {
    args.insert(args.end(), {"--no-huge", "--no-shconf", "-m", std::to_string(megabytes)});
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string StartEal(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
    return std::string("rte_eal_init: ") + rte_strerror(rte_errno);
  }
  return "";
}

std::vector<unsigned> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<unsigned> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    }
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

}  // namespace t38relay::dataplane
