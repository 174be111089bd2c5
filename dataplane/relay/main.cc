// t38relay-dataplane: the DPDK primary process (EAL arguments, then the relay's own options).
#include <rte_eal.h>
#include <rte_lcore.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "dataplane/config/command_line.h"
#include "dataplane/config/relay_config.h"
#include "dataplane/relay/relay.h"

namespace {

std::atomic<bool> stop_requested{false};

void OnSignal(int) { stop_requested.store(true); }

}  // namespace

int main(int argc, char** argv) {
  using namespace t38relay::dataplane;
  absl::StatusOr<Invocation> invocation = ParseCommandLine(argc, argv);
  if (!invocation.ok()) {
    std::cerr << "t38relay-dataplane: " << invocation.status().message() << "\n";
    return 2;
  }
  if (!invocation->help.empty()) {
    std::cout << invocation->help;
    return 0;
  }
  if (invocation->check_only) {
    // Paths come from argv and may not be UTF-8: replace what is not.
    std::cout << ConfigToJson(invocation->config)
                     .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
    return 0;
  }
  std::vector<char*> eal_argv;
  for (std::string& arg : invocation->eal_args) eal_argv.push_back(arg.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::cerr << "t38relay-dataplane: EAL initialisation failed: " << rte_strerror(rte_errno)
              << "\n";
    return 1;
  }
  RelayConfig config = invocation->config;
  std::vector<unsigned> lcores;
  unsigned lcore;
  RTE_LCORE_FOREACH(lcore) lcores.push_back(lcore);
  int status = 0;
  if (absl::Status valid = ValidateConfig(&config, lcores, rte_get_main_lcore()); !valid.ok()) {
    std::cerr << "t38relay-dataplane: " << valid.message() << "\n";
    status = 2;
  } else {
    absl::StatusOr<std::unique_ptr<Relay>> relay = Relay::Create(config);
    if (!relay.ok()) {
      std::cerr << "t38relay-dataplane: " << relay.status().message() << "\n";
      status = 1;
    } else {
      std::signal(SIGTERM, OnSignal);
      std::signal(SIGINT, OnSignal);
      std::cout << "t38relay-dataplane " << kRelayVersion << ": " << config.worker_lcores.size()
                << " worker(s), flow socket " << config.socket_path << std::endl;
      if (absl::Status run = (*relay)->Run(stop_requested); !run.ok()) {
        std::cerr << "t38relay-dataplane: " << run.message() << "\n";
        status = 1;
      }
      relay->reset();
      std::cout << "t38relay-dataplane: stopped" << std::endl;
    }
  }
  rte_eal_cleanup();
  return status;
}
