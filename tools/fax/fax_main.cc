// t38relay-fax: a T.38 fax endpoint (send, receive, compare); see tools/fax/fax_cli.h.
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "tools/fax/fax_cli.h"

namespace {

volatile std::sig_atomic_t interrupted = 0;

void OnSignal(int) { interrupted = 1; }

}  // namespace

int main(int argc, char** argv) {
  // A fax being stopped still prints its JSON result (failed, "interrupted").
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::vector<std::string> args(argv + 1, argv + argc);
  return t38relay::tools::fax::RunFaxCli(args, std::cout, std::cerr, &interrupted);
}
