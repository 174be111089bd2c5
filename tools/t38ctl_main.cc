// t38ctl: talks to t38relay-control over its Unix socket (docs/control-socket.md).
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "tools/t38ctl.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* env = std::getenv("T38CTL_SOCKET");
  const std::string socket =
      env != nullptr && *env != '\0' ? env : t38relay::tools::kDefaultControlSocket;
  return t38relay::tools::RunT38ctl(args, socket, std::cin, std::cout, std::cerr);
}
