// The dataplane's command line: splitting at "--", the embedded default, relay options over the
// config file.
#include "dataplane/config/command_line.h"

#include <rte_config.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "dataplane/config/text.h"
#include "dataplane/eal_args.h"

namespace t38relay::dataplane {
namespace {

using config_internal::Cat;
using config_internal::ToAbsl;
using config_internal::ToStd;

// A config file is a few hundred bytes; anything this big is the wrong file.
constexpr size_t kMaxConfigFileBytes = 1 << 20;

// CLI11 prints "Usage: NAME [OPTIONS]": this name makes that line the real synopsis.
constexpr std::string_view kAppName = "t38relay-dataplane [EAL arguments] --";

constexpr std::string_view kHelpFooter =
    "EAL arguments go to rte_eal_init unchanged (e.g. -l 0-2 --vdev=net_tap0,iface=t38tap0\n"
    "--no-huge -m 512 --in-memory). Without any \"--\" the embedded default applies: EAL\n"
    "-l 0-2 --in-memory --vdev=net_tap0,iface=t38tap0 (--no-huge -m 1024 without hugepages)\n"
    "and one port net_tap0 198.18.0.1/24 fd00:198:18::1/64; relay options still apply over it.\n"
    "Flags override the --config file's keys.";

absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        Cat("--config ", path, ": cannot read it: ", std::strerror(errno)));
  }
  std::string text;
  char buffer[4096];
  while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxConfigFileBytes) {
      return absl::InvalidArgumentError(Cat("--config ", path, ": larger than ",
                                            kMaxConfigFileBytes, " bytes, not a config file"));
    }
  }
  if (in.bad()) {
    return absl::InvalidArgumentError(
        Cat("--config ", path, ": read error: ", std::strerror(errno)));
  }
  return text;
}

bool ParseUnsigned(std::string_view digits, uint64_t* out, int base = 10) {
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *out, base);
  return !digits.empty() && ec == std::errc() && end == digits.data() + digits.size();
}

// --leg-ports FIRST-LAST.
absl::Status ApplyLegPorts(std::string_view text, RelayConfig* config) {
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(ToAbsl(text), absl::MaxSplits('-', 1));
  uint64_t first = 0;
  uint64_t last = 0;
  if (!ParseUnsigned(ToStd(parts.first), &first) || !ParseUnsigned(ToStd(parts.second), &last)) {
    return absl::InvalidArgumentError(
        Cat("--leg-ports '", std::string(text), "': expected FIRST-LAST, e.g. 20000-29999"));
  }
  if (first < 1 || last > 65535 || first > last) {
    return absl::InvalidArgumentError(
        Cat("--leg-ports '", std::string(text),
            "': needs 1 <= FIRST <= LAST <= 65535, e.g. 20000-29999"));
  }
  config->leg_port_first = static_cast<uint16_t>(first);
  config->leg_port_count = static_cast<uint32_t>(last - first + 1);
  return absl::OkStatus();
}

absl::Status ApplyLcores(std::string_view flag, const std::string& text,
                         std::vector<unsigned>* lcores) {
  absl::StatusOr<std::vector<unsigned>> parsed = ParseLcoreList(text);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(Cat(flag, " ", ToStd(parsed.status().message())));
  }
  *lcores = *std::move(parsed);
  return absl::OkStatus();
}

// The value of option `name` at args[*i] ("-l 0-2", "-l0-2", "--lcores=0-2", "--lcores 0-2"),
// advancing *i past a separate value; nullopt when args[*i] is not that option.
std::optional<std::string> OptionValue(const std::vector<std::string>& args, size_t* i,
                                       std::string_view name) {
  const std::string& arg = args[*i];
  if (arg == name) {
    if (*i + 1 >= args.size()) return std::nullopt;
    ++*i;
    return args[*i];
  }
  if (absl::StartsWith(arg, ToAbsl(name))) {
    std::string_view rest = std::string_view(arg).substr(name.size());
    // Short options take the value glued on ("-l0-2"); long ones after '='.
    if (name.substr(0, 2) != "--") return std::string(rest);
    if (!rest.empty() && rest.front() == '=') return std::string(rest.substr(1));
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string> EmbeddedEalArgs(const std::string& program, bool hugepages,
                                         const std::vector<unsigned>& cpus) {
  std::string lcores = "--lcores=";
  for (unsigned lcore = 0; lcore < 3; ++lcore) {
    unsigned cpu = cpus.empty() ? 0 : cpus[lcore % cpus.size()];
    if (cpus.size() == 2 && lcore == 2) cpu = cpus[0];  // the handshake lcore naps: share main's
    absl::StrAppend(&lcores, lcore == 0 ? "" : ",", lcore, "@", cpu);
  }
  std::vector<std::string> args = {program, lcores, "--no-pci", "--vdev=net_tap0,iface=t38tap0"};
  if (hugepages) {
    args.push_back("--in-memory");
  } else {
    args.insert(args.end(), {"--no-huge", "--no-shconf", "-m", "1024"});
  }
  return args;
}

RelayConfig EmbeddedDefaultConfig() {
  RelayConfig config;
  PortConfig port;
  port.device = "net_tap0";
  port.addresses = {*ParseInterfaceAddress("198.18.0.1/24"),
                    *ParseInterfaceAddress("fd00:198:18::1/64")};
  config.ports.push_back(port);
  return config;
}

absl::StatusOr<PortConfig> ParsePortSpec(std::string_view spec) {
  std::string where = Cat("--port '", std::string(spec), "'");
  auto error = [&](std::string_view what) {
    return absl::InvalidArgumentError(Cat(where, ": ", what));
  };
  std::vector<absl::string_view> items = absl::StrSplit(ToAbsl(spec), ',');
  PortConfig port;
  port.device = std::string(items[0]);
  if (port.device.empty()) {
    return error(
        "no DEVICE: write DEVICE,ADDR/PREFIX[,ADDR/PREFIX...][,gw=IP], e.g. "
        "net_tap0,198.18.0.1/24");
  }
  if (port.device.find_first_of("/=") != std::string::npos) {
    return error(Cat("'", port.device,
                     "' is not an ethdev name: the spec starts with DEVICE, e.g. "
                     "net_tap0,198.18.0.1/24"));
  }
  for (size_t i = 1; i < items.size(); ++i) {
    std::string_view item(items[i].data(), items[i].size());
    if (item.empty()) return error("empty item (two commas in a row, or a trailing comma)");
    if (absl::StartsWith(ToAbsl(item), "gw=")) {
      std::optional<IpAddress> gateway = ParseIpAddress(item.substr(3));
      if (!gateway) {
        return error(Cat("'", std::string(item), "': not an IP address after gw="));
      }
      port.gateways.push_back(*gateway);
    } else if (absl::StartsWith(ToAbsl(item), "mtu=")) {
      uint64_t mtu = 0;
      if (!ParseUnsigned(item.substr(4), &mtu) || mtu > 65535) {
        return error(Cat("'", std::string(item), "': the MTU must be a number, e.g. 1500"));
      }
      port.mtu = static_cast<uint16_t>(mtu);
    } else if (item.find('=') != std::string_view::npos) {
      return error(
          Cat("'", std::string(item), "': unknown item (expected ADDR/PREFIX, gw=IP or mtu=N)"));
    } else {
      absl::StatusOr<InterfaceAddress> address = ParseInterfaceAddress(item);
      if (!address.ok()) return error(ToStd(address.status().message()));
      port.addresses.push_back(*address);
    }
  }
  if (port.addresses.empty()) {
    return error("no address: add at least one ADDR/PREFIX, e.g. net_tap0,198.18.0.1/24");
  }
  if (absl::Status s = CheckPortConfig(port, where); !s.ok()) return s;
  return port;
}

std::optional<EalLcores> LcoresFromEalArgs(const std::vector<std::string>& eal_args) {
  std::optional<std::vector<unsigned>> enabled;
  std::optional<unsigned> main_lcore;
  for (size_t i = 1; i < eal_args.size(); ++i) {
    if (std::optional<std::string> list = OptionValue(eal_args, &i, "--lcores");
        list || (list = OptionValue(eal_args, &i, "-l"))) {
      // "0@0,1@1,2@0" (the embedded default's form): the lcores are what stands before each "@".
      // Groups ("(0-2)@(0,1)") are left to EAL.
      if (list->find_first_of("()") != std::string::npos) return std::nullopt;
      std::string ids;
      for (absl::string_view item : absl::StrSplit(ToAbsl(*list), ',')) {
        absl::StrAppend(&ids, ids.empty() ? "" : ",", item.substr(0, item.find('@')));
      }
      absl::StatusOr<std::vector<unsigned>> lcores = ParseLcoreList(ids);
      if (!lcores.ok()) return std::nullopt;
      enabled = *lcores;
    } else if (std::optional<std::string> mask = OptionValue(eal_args, &i, "-c")) {
      std::string_view hex = *mask;
      if (absl::StartsWith(ToAbsl(hex), "0x") || absl::StartsWith(ToAbsl(hex), "0X"))
        hex.remove_prefix(2);
      uint64_t bits = 0;
      if (hex.size() > 16 || !ParseUnsigned(hex, &bits, 16)) return std::nullopt;
      enabled.emplace();
      for (unsigned lcore = 0; lcore < 64; ++lcore) {
        if (bits & (uint64_t{1} << lcore)) enabled->push_back(lcore);
      }
    } else if (std::optional<std::string> main = OptionValue(eal_args, &i, "--main-lcore")) {
      uint64_t id = 0;
      if (!ParseUnsigned(*main, &id) || id >= RTE_MAX_LCORE) return std::nullopt;
      main_lcore = static_cast<unsigned>(id);
    }
  }
  if (!enabled || enabled->empty()) return std::nullopt;
  std::sort(enabled->begin(), enabled->end());
  return EalLcores{*enabled, main_lcore.value_or(enabled->front())};
}

absl::StatusOr<Invocation> ParseCommandLine(int argc, const char* const* argv) {
  std::string program = argc > 0 && argv[0] != nullptr && argv[0][0] != '\0'
                            ? std::string(argv[0])
                            : std::string(kDataplaneProgram);
  Invocation invocation;
  std::vector<const char*> relay_argv = {program.c_str()};
  int dash = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      dash = i;
      break;
    }
  }
  if (dash < 0) {
    invocation.embedded_default = true;
    invocation.eal_args = EmbeddedEalArgs(program, HugepagesAvailable(1024), AllowedCpus());
    invocation.config = EmbeddedDefaultConfig();
    for (int i = 1; i < argc; ++i) relay_argv.push_back(argv[i]);
  } else {
    invocation.eal_args.push_back(program);
    for (int i = 1; i < dash; ++i) invocation.eal_args.push_back(argv[i]);
    for (int i = dash + 1; i < argc; ++i) relay_argv.push_back(argv[i]);
  }

  CLI::App app{"", std::string(kAppName)};
  app.footer(std::string(kHelpFooter));
  std::string config_path;
  std::vector<std::string> port_specs;
  std::string workers;
  std::string handshake;
  std::string leg_ports;
  std::string socket_path;
  std::string socket_group;
  std::string crypto;
  std::string legs;
  bool check_only = false;
  app.add_option("--config", config_path, "JSON config file; the flags below override its keys")
      ->type_name("FILE");
  app.add_option("--port", port_specs,
                 "a port, repeatable (replaces the config's ports): "
                 "DEVICE,ADDR/PREFIX[,ADDR/PREFIX...][,gw=IP...][,mtu=N], e.g. "
                 "net_tap0,198.18.0.1/24,fd00:198:18::1/64,gw=198.18.0.254")
      ->type_name("SPEC")
      ->allow_extra_args(false);
  auto* workers_opt = app.add_option("--workers", workers,
                                     "worker lcore ids, e.g. 1 or 1,3-4 (default: every lcore "
                                     "except the main and the handshake ones)")
                          ->type_name("LIST");
  auto* handshake_opt = app.add_option("--handshake", handshake,
                                       "handshake lcore ids (default: the last enabled lcore)")
                            ->type_name("LIST");
  auto* leg_ports_opt = app.add_option("--leg-ports", leg_ports,
                                       "local UDP port range for legs (default 20000-29999)")
                            ->type_name("FIRST-LAST");
  auto* socket_opt =
      app.add_option("--socket", socket_path, "flow socket path (default /run/t38relay/flow.sock)")
          ->type_name("PATH");
  auto* group_opt = app.add_option("--socket-group", socket_group,
                                   "group owning the flow socket (default: the process's group)")
                        ->type_name("NAME");
  auto* crypto_opt = app.add_option("--crypto", crypto,
                                    "record backend: cryptodev (default; creates the vdev "
                                    "crypto_aesni_gcm when no cryptodev exists) or soft")
                         ->type_name("soft|cryptodev");
  auto* legs_opt = app.add_option("--legs", legs, "leg capacity (default 100000)")->type_name("N");
  app.add_flag("--check-config", check_only,
               "parse and validate, print the effective config as JSON, exit 0 (valid) or 1");
  // Extras are collected and reported here, in order and with a hint where EAL arguments go.
  app.allow_extras();
  try {
    app.parse(static_cast<int>(relay_argv.size()), relay_argv.data());
  } catch (const CLI::CallForHelp&) {
    Invocation help;
    help.help = app.help();
    return help;
  } catch (const CLI::Error& e) {
    return absl::InvalidArgumentError(e.what());
  }
  if (std::vector<std::string> extras = app.remaining(); !extras.empty()) {
    std::string joined;
    for (const std::string& extra : extras) joined += Cat(joined.empty() ? "" : " ", extra);
    return absl::InvalidArgumentError(
        Cat("unexpected relay argument", extras.size() > 1 ? "s" : "", ": ", joined,
            dash < 0 ? " (EAL arguments go before \"--\": t38relay-dataplane [EAL arguments] -- "
                       "[relay options])"
                     : " (see --help)"));
  }
  invocation.check_only = check_only;

  if (!config_path.empty()) {
    absl::StatusOr<std::string> text = ReadConfigFile(config_path);
    if (!text.ok()) return text.status();
    absl::StatusOr<RelayConfig> config = ParseConfigJson(*text, invocation.config);
    if (!config.ok()) {
      return absl::InvalidArgumentError(
          Cat("--config ", config_path, ": ", ToStd(config.status().message())));
    }
    invocation.config = *std::move(config);
  }
  RelayConfig& config = invocation.config;
  if (!port_specs.empty()) {
    config.ports.clear();
    for (const std::string& spec : port_specs) {
      absl::StatusOr<PortConfig> port = ParsePortSpec(spec);
      if (!port.ok()) return port.status();
      config.ports.push_back(*std::move(port));
    }
  }
  if (workers_opt->count() > 0) {
    if (absl::Status s = ApplyLcores("--workers", workers, &config.worker_lcores); !s.ok()) {
      return s;
    }
  }
  if (handshake_opt->count() > 0) {
    if (absl::Status s = ApplyLcores("--handshake", handshake, &config.handshake_lcores); !s.ok()) {
      return s;
    }
  }
  if (leg_ports_opt->count() > 0) {
    if (absl::Status s = ApplyLegPorts(leg_ports, &config); !s.ok()) return s;
  }
  if (socket_opt->count() > 0) config.socket_path = socket_path;
  if (group_opt->count() > 0) config.socket_group = socket_group;
  if (crypto_opt->count() > 0) {
    std::optional<CryptoBackendKind> kind = ParseCryptoBackend(crypto);
    if (!kind) {
      return absl::InvalidArgumentError(Cat("--crypto '", crypto, "': expected soft or cryptodev"));
    }
    config.crypto = *kind;
  }
  if (legs_opt->count() > 0) {
    uint64_t capacity = 0;
    if (!ParseUnsigned(legs, &capacity) || capacity > UINT32_MAX) {
      return absl::InvalidArgumentError(
          Cat("--legs '", legs, "': expected a whole number of legs, e.g. 100000"));
    }
    config.leg_capacity = static_cast<uint32_t>(capacity);
  }
  if (absl::Status s = CheckConfig(config); !s.ok()) return s;
  return invocation;
}

}  // namespace t38relay::dataplane
