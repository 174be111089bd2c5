// Starts DPDK's EAL once per test program (hugepages when available, else --no-huge).
#include "tests/eal_support.h"

#include <cstdio>

#include "dataplane/eal_args.h"
#include "gtest/gtest.h"

namespace t38relay::testing {
namespace {

// EAL's own needs plus the tests' pools: 256 MB of --no-huge memory, or that much hugepage room.
constexpr size_t kTestEalMegabytes = 256;

}  // namespace

bool HugepagesAvailable() { return dataplane::HugepagesAvailable(kTestEalMegabytes); }

std::vector<std::string> EalArgs(const std::vector<std::string>& extra) {
  return dataplane::EalArgs("t38relay-test", kTestEalMegabytes, extra);
}

bool StartEal(const std::vector<std::string>& extra) {
  static const bool started = [&extra] {
    const std::string error = dataplane::StartEal(EalArgs(extra));
    if (!error.empty()) {
      ADD_FAILURE() << error;
      return false;
    }
    std::printf("EAL started with %s\n", HugepagesAvailable() ? "hugepages" : "--no-huge");
    return true;
  }();
  return started;
}

}  // namespace t38relay::testing
