// t38ctl: the command line of t38relay-control (offer, answer, delete, list, show, stats, ping)
// as a library, so tests run it in-process against a control socket.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace t38relay::tools {

inline constexpr const char* kDefaultControlSocket = "/run/t38relay/control.sock";

// Runs t38ctl with `args` (without the program name). `default_socket` is what --socket defaults
// to (the caller applies T38CTL_SOCKET). Reads "-" files from `in`. Returns the exit status: 0
// success, 1 a failed request or an unreachable daemon (one line on `err`), 2 a usage error.
int RunT38ctl(const std::vector<std::string>& args, const std::string& default_socket,
              std::istream& in, std::ostream& out, std::ostream& err);

// The human-readable outputs (exposed for tests).
// list: one row per leg under its call (CALL ID, STATE, SIDE, TRANSPORT, LOCAL, REMOTE,
// LEG STATE, RX, FWD, DROP); "no calls\n" when empty.
std::string FormatCallTable(const nlohmann::json& calls);
// show: the call's fields, then its legs as a table.
std::string FormatCall(const nlohmann::json& call);
// stats: "name: value" per counter, nested objects flattened with dots, sorted.
std::string FormatStats(const nlohmann::json& stats);

}  // namespace t38relay::tools
