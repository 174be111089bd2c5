// The command line of t38relay-fax (send, receive, compare) as a library, so tests run it
// in-process.
#pragma once

#include <csignal>
#include <iosfwd>
#include <string>
#include <vector>

namespace t38relay::tools::fax {

// Runs t38relay-fax with `args` (without the program name). The result JSON line goes to `out`,
// progress and errors to `err`. Returns the exit status: 0 fax completed (compare: identical),
// 1 fax failed (compare: different), 2 usage or setup error. `interrupted`, when given, is set by
// the caller's signal handler and ends a running fax as failed.
int RunFaxCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
              const volatile std::sig_atomic_t* interrupted = nullptr);

}  // namespace t38relay::tools::fax
