// The dataplane's command line: EAL arguments, "--", relay options (CLI11) over a JSON config.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/config/relay_config.h"

namespace t38relay::dataplane {

inline constexpr std::string_view kDataplaneProgram = "t38relay-dataplane";

struct Invocation {
  // For rte_eal_init as they are, argv[0] (the program) first.
  std::vector<std::string> eal_args;
  // Defaults, then the --config file, then the flags. Lcore lists may still be empty (the
  // defaults): ValidateConfig fills them once EAL says which lcores it enabled.
  RelayConfig config;
  bool check_only = false;        // --check-config
  bool embedded_default = false;  // no "--": the embedded EAL arguments and port
  // Non-empty when --help was asked for: print it to stdout and exit 0; nothing else is set.
  std::string help;
};

// `t38relay-dataplane [EAL arguments] -- [relay options]`, split at the first "--". Without any
// "--", every argument is a relay option and the embedded default applies: EmbeddedEalArgs and
// EmbeddedDefaultConfig under whatever the options say. Errors name the flag (or, for the
// config file, the file and the key path) and what is wrong.
absl::StatusOr<Invocation> ParseCommandLine(int argc, const char* const* argv);

// EAL arguments of the embedded default: three lcores (main, one worker, one handshake) mapped
// onto `cpus` (the CPUs this process may use; with fewer than three they share), no PCI scan, the
// net_tap port, and memory from hugepages (--in-memory) or, when `hugepages` is false,
// `--no-huge --no-shconf -m 1024` (DPDK 22.11 refuses --in-memory without hugepages).
std::vector<std::string> EmbeddedEalArgs(const std::string& program, bool hugepages,
                                         const std::vector<unsigned>& cpus);
// One port, net_tap0 with 198.18.0.1/24 and fd00:198:18::1/64; everything else the defaults.
RelayConfig EmbeddedDefaultConfig();

// --port SPEC: "DEVICE,ADDR/PREFIX[,ADDR/PREFIX...][,gw=IP...][,mtu=N]", at least one address,
// checked with CheckPortConfig.
absl::StatusOr<PortConfig> ParsePortSpec(std::string_view spec);

// The lcores an EAL argument list enables and its main lcore, for --check-config before (or
// without) rte_eal_init. Understands -l/--lcores with plain lists ("0-2", "0,2"), -c MASK and
// --main-lcore; nullopt when the arguments leave it to EAL (no -l/-c: every CPU) or use a form
// not understood here (--lcores with '@' or groups).
struct EalLcores {
  std::vector<unsigned> enabled;  // ascending
  unsigned main_lcore = 0;        // --main-lcore, else the lowest enabled
};
std::optional<EalLcores> LcoresFromEalArgs(const std::vector<std::string>& eal_args);

}  // namespace t38relay::dataplane
