// Tests for the dataplane's command line: the "--" split, the embedded default, flags over the
// config file, --port specs, --help, and the lcores read from EAL arguments.
#include "dataplane/config/command_line.h"
#include "dataplane/eal_args.h"

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace t38relay::dataplane {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

absl::StatusOr<Invocation> Parse(std::vector<std::string> args) {
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data());
}

std::string ErrorOf(std::vector<std::string> args) {
  absl::StatusOr<Invocation> invocation = Parse(args);
  EXPECT_FALSE(invocation.ok());
  if (invocation.ok()) return "";
  EXPECT_EQ(invocation.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(invocation.status().message());
}

IpAddress Ip(const char* text) { return *ParseIpAddress(text); }
InterfaceAddress Prefix(const char* text) { return *ParseInterfaceAddress(text); }

// A config file in a fresh temporary directory, removed with the object.
class TempConfig {
 public:
  explicit TempConfig(const std::string& text) {
    char dir[] = "/tmp/t38_config_test.XXXXXX";
    dir_ = mkdtemp(dir);
    path_ = dir_ + "/relay.json";
    std::ofstream(path_) << text;
  }
  ~TempConfig() {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

class CommandLineTest : public ::testing::Test {
 protected:
  // The embedded default depends on the machine's hugepages; this makes it --no-huge everywhere.
  void SetUp() override { setenv("T38_EAL_NO_HUGE", "1", 1); }
  void TearDown() override { unsetenv("T38_EAL_NO_HUGE"); }
};

TEST_F(CommandLineTest, NoDashDashIsTheEmbeddedDefault) {
  absl::StatusOr<Invocation> invocation = Parse({"/usr/bin/t38relay-dataplane"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->embedded_default);
  EXPECT_FALSE(invocation->check_only);
  EXPECT_TRUE(invocation->help.empty());
  EXPECT_EQ(invocation->eal_args,
            EmbeddedEalArgs("/usr/bin/t38relay-dataplane", HugepagesAvailable(1024), AllowedCpus()));
  const RelayConfig& config = invocation->config;
  ASSERT_EQ(config.ports.size(), 1u);
  EXPECT_EQ(config.ports[0].device, "net_tap0");
  EXPECT_THAT(config.ports[0].addresses,
              ElementsAre(Prefix("198.18.0.1/24"), Prefix("fd00:198:18::1/64")));
  EXPECT_TRUE(config.ports[0].gateways.empty());
  EXPECT_TRUE(config.worker_lcores.empty());
  EXPECT_TRUE(config.handshake_lcores.empty());
  EXPECT_EQ(config.crypto, CryptoBackendKind::kCryptodev);
  EXPECT_EQ(config.socket_path, "/run/t38relay/flow.sock");

  // Its lcores: main 0, and ValidateConfig makes 1 the worker and 2 the handshake lcore.
  std::optional<EalLcores> lcores = LcoresFromEalArgs(invocation->eal_args);
  ASSERT_TRUE(lcores.has_value());
  EXPECT_THAT(lcores->enabled, ElementsAre(0, 1, 2));
  EXPECT_EQ(lcores->main_lcore, 0u);
  RelayConfig effective = invocation->config;
  ASSERT_TRUE(ValidateConfig(&effective, lcores->enabled, lcores->main_lcore).ok());
  EXPECT_THAT(effective.worker_lcores, ElementsAre(1));
  EXPECT_THAT(effective.handshake_lcores, ElementsAre(2));
}

TEST_F(CommandLineTest, EmbeddedEalArgsFitTheMachine) {
  EXPECT_THAT(EmbeddedEalArgs("p", true, {0, 1, 2, 3}),
              ElementsAre("p", "--lcores=0@0,1@1,2@2", "--no-pci",
                          "--vdev=net_tap0,iface=t38tap0", "--in-memory"));
  // Two CPUs: the handshake lcore shares the main lcore's CPU, the worker has its own.
  EXPECT_THAT(EmbeddedEalArgs("p", false, {4, 7}),
              ElementsAre("p", "--lcores=0@4,1@7,2@4", "--no-pci",
                          "--vdev=net_tap0,iface=t38tap0", "--no-huge", "--no-shconf", "-m",
                          "1024"));
  EXPECT_THAT(EmbeddedEalArgs("p", true, {3}),
              ElementsAre("p", "--lcores=0@3,1@3,2@3", "--no-pci",
                          "--vdev=net_tap0,iface=t38tap0", "--in-memory"));
}

TEST_F(CommandLineTest, NoArgvAtAllStillWorks) {
  absl::StatusOr<Invocation> invocation = ParseCommandLine(0, nullptr);
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->embedded_default);
  EXPECT_EQ(invocation->eal_args[0], "t38relay-dataplane");
}

TEST_F(CommandLineTest, RelayOptionsApplyOverTheEmbeddedDefault) {
  absl::StatusOr<Invocation> invocation =
      Parse({"t38relay-dataplane", "--crypto", "soft", "--check-config"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->embedded_default);
  EXPECT_TRUE(invocation->check_only);
  EXPECT_EQ(invocation->config.crypto, CryptoBackendKind::kSoft);
  EXPECT_EQ(invocation->config.ports.size(), 1u);
}

TEST_F(CommandLineTest, SplitsAtTheFirstDashDash) {
  absl::StatusOr<Invocation> invocation =
      Parse({"dp", "-l", "0-3", "--vdev=net_ring0", "--no-huge", "-m", "512", "--", "--port",
             "net_ring0,10.0.0.1/8", "--workers", "1,2"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_FALSE(invocation->embedded_default);
  EXPECT_THAT(invocation->eal_args,
              ElementsAre("dp", "-l", "0-3", "--vdev=net_ring0", "--no-huge", "-m", "512"));
  ASSERT_EQ(invocation->config.ports.size(), 1u);
  EXPECT_EQ(invocation->config.ports[0].device, "net_ring0");
  EXPECT_THAT(invocation->config.worker_lcores, ElementsAre(1, 2));

  // Nothing before "--", nothing after it.
  invocation = Parse({"dp", "--"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_FALSE(invocation->embedded_default);
  EXPECT_THAT(invocation->eal_args, ElementsAre("dp"));
  EXPECT_TRUE(invocation->config.ports.empty());  // ValidateConfig will ask for one

  // A second "--" is not the relay's.
  EXPECT_EQ(ErrorOf({"dp", "--", "--check-config", "--", "x"}),
            "unexpected relay arguments: -- x (see --help)");
}

TEST_F(CommandLineTest, EveryFlag) {
  absl::StatusOr<Invocation> invocation =
      Parse({"dp",
             "--",
             "--port",
             "net_tap0,198.18.0.1/24,fd00:198:18::1/64,gw=198.18.0.254",
             "--port",
             "net_ring0,10.1.0.1/16",
             "--workers",
             "1,3-4",
             "--handshake",
             "2",
             "--leg-ports",
             "40000-40999",
             "--socket",
             "/tmp/x/flow.sock",
             "--socket-group",
             "t38",
             "--crypto",
             "cryptodev",
             "--legs",
             "500",
             "--check-config"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  const RelayConfig& config = invocation->config;
  ASSERT_EQ(config.ports.size(), 2u);
  EXPECT_EQ(config.ports[0].device, "net_tap0");
  EXPECT_THAT(config.ports[0].gateways, ElementsAre(Ip("198.18.0.254")));
  EXPECT_EQ(config.ports[1].device, "net_ring0");
  EXPECT_THAT(config.worker_lcores, ElementsAre(1, 3, 4));
  EXPECT_THAT(config.handshake_lcores, ElementsAre(2));
  EXPECT_EQ(config.leg_port_first, 40000);
  EXPECT_EQ(config.leg_port_count, 1000u);
  EXPECT_EQ(config.socket_path, "/tmp/x/flow.sock");
  EXPECT_EQ(config.socket_group, "t38");
  EXPECT_EQ(config.crypto, CryptoBackendKind::kCryptodev);
  EXPECT_EQ(config.leg_capacity, 500u);
  EXPECT_TRUE(invocation->check_only);

  // CLI11's --opt=value form works too.
  invocation = Parse({"dp", "--", "--legs=7", "--socket=/tmp/s"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->config.leg_capacity, 7u);
  EXPECT_EQ(invocation->config.socket_path, "/tmp/s");
}

constexpr const char* kFileConfig = R"json({
  "ports": [ {"device":"net_tap0","addresses":["198.18.0.1/24"],"gateways":["198.18.0.254"]} ],
  "workers": [1, 2], "handshake": [3],
  "leg_ports": {"first":20000,"count":100},
  "legs": {"capacity":1000,"idle_timeout_s":20},
  "socket": {"path":"/tmp/file.sock","group":"file-group","max_clients":4},
  "dtls": {"key_type":"ecdsa-p256"},
  "crypto": {"backend":"soft"},
  "mbufs": 4095
})json";

TEST_F(CommandLineTest, ReadsTheConfigFile) {
  TempConfig file(kFileConfig);
  absl::StatusOr<Invocation> invocation = Parse({"dp", "-l", "0-3", "--", "--config", file.path()});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  const RelayConfig& config = invocation->config;
  ASSERT_EQ(config.ports.size(), 1u);
  EXPECT_THAT(config.ports[0].gateways, ElementsAre(Ip("198.18.0.254")));
  EXPECT_THAT(config.worker_lcores, ElementsAre(1, 2));
  EXPECT_THAT(config.handshake_lcores, ElementsAre(3));
  EXPECT_EQ(config.leg_port_count, 100u);
  EXPECT_EQ(config.leg_capacity, 1000u);
  EXPECT_EQ(config.idle_timeout_s, 20u);
  EXPECT_EQ(config.socket_path, "/tmp/file.sock");
  EXPECT_EQ(config.socket_group, "file-group");
  EXPECT_EQ(config.max_clients, 4u);
  EXPECT_EQ(config.dtls.key_type, crypto::KeyType::kEcdsaP256);
  EXPECT_EQ(config.crypto, CryptoBackendKind::kSoft);
  EXPECT_EQ(config.mbufs, 4095u);
}

TEST_F(CommandLineTest, FlagsOverrideTheConfigFile) {
  TempConfig file(kFileConfig);
  absl::StatusOr<Invocation> invocation = Parse({"dp",
                                                 "--",
                                                 "--config",
                                                 file.path(),
                                                 "--port",
                                                 "net_ring0,10.0.0.1/8",
                                                 "--workers",
                                                 "4",
                                                 "--handshake",
                                                 "1",
                                                 "--leg-ports",
                                                 "30000-30009",
                                                 "--socket",
                                                 "/tmp/flag.sock",
                                                 "--socket-group",
                                                 "flag-group",
                                                 "--crypto",
                                                 "cryptodev",
                                                 "--legs",
                                                 "99"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  const RelayConfig& config = invocation->config;
  ASSERT_EQ(config.ports.size(), 1u);  // --port replaces the file's ports
  EXPECT_EQ(config.ports[0].device, "net_ring0");
  EXPECT_THAT(config.worker_lcores, ElementsAre(4));
  EXPECT_THAT(config.handshake_lcores, ElementsAre(1));
  EXPECT_EQ(config.leg_port_first, 30000);
  EXPECT_EQ(config.leg_port_count, 10u);
  EXPECT_EQ(config.leg_capacity, 99u);
  EXPECT_EQ(config.socket_path, "/tmp/flag.sock");
  EXPECT_EQ(config.socket_group, "flag-group");
  EXPECT_EQ(config.crypto, CryptoBackendKind::kCryptodev);
  // Keys no flag touches stay as the file says.
  EXPECT_EQ(config.idle_timeout_s, 20u);
  EXPECT_EQ(config.max_clients, 4u);
  EXPECT_EQ(config.dtls.key_type, crypto::KeyType::kEcdsaP256);
  EXPECT_EQ(config.mbufs, 4095u);

  // The order of --config among the flags does not matter.
  invocation = Parse({"dp", "--", "--legs", "98", "--config", file.path()});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->config.leg_capacity, 98u);
}

TEST_F(CommandLineTest, ConfigFileOverTheEmbeddedDefault) {
  TempConfig file(R"({"legs":{"capacity":42}})");
  absl::StatusOr<Invocation> invocation = Parse({"dp", "--config", file.path()});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_TRUE(invocation->embedded_default);
  EXPECT_EQ(invocation->config.leg_capacity, 42u);
  ASSERT_EQ(invocation->config.ports.size(), 1u);  // the embedded port stays
  EXPECT_EQ(invocation->config.ports[0].device, "net_tap0");
}

TEST_F(CommandLineTest, ConfigFileErrors) {
  EXPECT_EQ(ErrorOf({"dp", "--", "--config", "/nonexistent/t38/relay.json"}),
            "--config /nonexistent/t38/relay.json: cannot read it: No such file or directory");
  char dir[] = "/tmp/t38_config_test.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  EXPECT_THAT(ErrorOf({"dp", "--", "--config", dir}), StartsWith(std::string("--config ") + dir));
  rmdir(dir);

  TempConfig bad(R"({"legs":{"capacity":0}})");
  EXPECT_EQ(ErrorOf({"dp", "--", "--config", bad.path()}),
            "--config " + bad.path() + ": legs.capacity: 0 is out of range 1..16777216");
  TempConfig unknown(R"({"port":[]})");
  EXPECT_THAT(ErrorOf({"dp", "--", "--config", unknown.path()}),
              StartsWith("--config " + unknown.path() + ": port: unknown key"));
  TempConfig broken("{\"ports\": [");
  EXPECT_THAT(ErrorOf({"dp", "--", "--config", broken.path()}),
              StartsWith("--config " + broken.path() + ": config is not valid JSON"));
  EXPECT_THAT(ErrorOf({"dp", "--", "--config"}), HasSubstr("--config"));
}

TEST_F(CommandLineTest, FlagsConflictingWithTheFile) {
  TempConfig file(kFileConfig);  // workers 1,2, handshake 3
  EXPECT_THAT(ErrorOf({"dp", "--", "--config", file.path(), "--handshake", "2"}),
              StartsWith("handshake (--handshake): lcore 2 is also a worker (workers: 1,2)"));
  // --port replaces the file's ports, so the file's gateway no longer matters; the new port's does.
  EXPECT_THAT(ErrorOf({"dp", "--", "--config", file.path(), "--port",
                       "net_tap0,10.0.0.1/24,gw=198.18.0.254"}),
              StartsWith("--port 'net_tap0,10.0.0.1/24,gw=198.18.0.254' gateways[0]: "
                         "198.18.0.254 is not inside any IPv4 prefix of this port"));
}

TEST_F(CommandLineTest, FlagErrors) {
  EXPECT_EQ(ErrorOf({"dp", "--", "--workers", "x"}),
            "--workers 'x': 'x' is not an lcore id or FIRST-LAST range (write e.g. 1 or 1,3-4)");
  EXPECT_EQ(ErrorOf({"dp", "--", "--handshake", "2-1"}),
            "--handshake '2-1': range '2-1' runs backwards");
  EXPECT_EQ(ErrorOf({"dp", "--", "--workers", "1,1"}), "--workers '1,1': lcore 1 is listed twice");
  EXPECT_THAT(ErrorOf({"dp", "--", "--workers", "1-2", "--handshake", "2"}),
              StartsWith("handshake (--handshake): lcore 2 is also a worker"));
  EXPECT_EQ(ErrorOf({"dp", "--", "--leg-ports", "20000"}),
            "--leg-ports '20000': expected FIRST-LAST, e.g. 20000-29999");
  EXPECT_EQ(ErrorOf({"dp", "--", "--leg-ports", "a-b"}),
            "--leg-ports 'a-b': expected FIRST-LAST, e.g. 20000-29999");
  EXPECT_EQ(ErrorOf({"dp", "--", "--leg-ports", "0-100"}),
            "--leg-ports '0-100': needs 1 <= FIRST <= LAST <= 65535, e.g. 20000-29999");
  EXPECT_EQ(ErrorOf({"dp", "--", "--leg-ports", "30000-20000"}),
            "--leg-ports '30000-20000': needs 1 <= FIRST <= LAST <= 65535, e.g. 20000-29999");
  EXPECT_EQ(ErrorOf({"dp", "--", "--leg-ports", "60000-70000"}),
            "--leg-ports '60000-70000': needs 1 <= FIRST <= LAST <= 65535, e.g. 20000-29999");
  EXPECT_EQ(ErrorOf({"dp", "--", "--leg-ports", "1-2-3"}),
            "--leg-ports '1-2-3': expected FIRST-LAST, e.g. 20000-29999");
  EXPECT_THAT(ErrorOf({"dp", "--", "--legs", "0"}),
              StartsWith("legs.capacity (--legs): 0 is out of range 1..16777216"));
  EXPECT_EQ(ErrorOf({"dp", "--", "--legs", "many"}),
            "--legs 'many': expected a whole number of legs, e.g. 100000");
  EXPECT_EQ(ErrorOf({"dp", "--", "--legs", "-3"}),
            "--legs '-3': expected a whole number of legs, e.g. 100000");
  EXPECT_EQ(ErrorOf({"dp", "--", "--legs", "5000000000"}),
            "--legs '5000000000': expected a whole number of legs, e.g. 100000");
  EXPECT_THAT(ErrorOf({"dp", "--", "--legs", "16777217"}),
              StartsWith("legs.capacity (--legs): 16777217 is out of range 1..16777216"));
  EXPECT_EQ(ErrorOf({"dp", "--", "--crypto", "qat"}), "--crypto 'qat': expected soft or cryptodev");
  EXPECT_THAT(ErrorOf({"dp", "--", "--socket", ""}),
              StartsWith("socket.path (--socket): is empty"));
  EXPECT_THAT(ErrorOf({"dp", "--", "--socket-group", ""}),
              StartsWith("socket.group (--socket-group): is empty"));
  EXPECT_EQ(ErrorOf({"dp", "--", "--frobnicate"}),
            "unexpected relay argument: --frobnicate (see --help)");
  EXPECT_THAT(ErrorOf({"dp", "--", "--workers"}), HasSubstr("--workers"));
  EXPECT_THAT(ErrorOf({"dp", "--", "--workers", "1", "--workers", "2"}), HasSubstr("--workers"));
  // One SPEC per --port: a second one needs its own flag.
  EXPECT_EQ(ErrorOf({"dp", "--", "--port", "a,10.0.0.1/8", "b,10.1.0.1/16"}),
            "unexpected relay argument: b,10.1.0.1/16 (see --help)");
  // Without "--" EAL arguments are taken for relay options: the error says where they go.
  EXPECT_EQ(ErrorOf({"dp", "-l", "0-2"}),
            "unexpected relay arguments: -l 0-2 (EAL arguments go before \"--\": "
            "t38relay-dataplane [EAL arguments] -- [relay options])");
}

TEST_F(CommandLineTest, HelpIsReturnedForTheCallerToPrint) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"dp", "--help"}, std::vector<std::string>{"dp", "-h"},
        std::vector<std::string>{"dp", "-l", "0", "--", "--help"},
        std::vector<std::string>{"dp", "--legs", "0", "--help"}}) {
    absl::StatusOr<Invocation> invocation = Parse(args);
    ASSERT_TRUE(invocation.ok()) << invocation.status();
    EXPECT_THAT(invocation->help,
                StartsWith("Usage: t38relay-dataplane [EAL arguments] -- [OPTIONS]"));
    EXPECT_THAT(invocation->help, HasSubstr("embedded default"));
    for (const char* flag :
         {"--config", "--port", "--workers", "--handshake", "--leg-ports", "--socket",
          "--socket-group", "--crypto", "--legs", "--check-config"}) {
      EXPECT_THAT(invocation->help, HasSubstr(flag));
    }
    EXPECT_TRUE(invocation->eal_args.empty());
  }
}

TEST(PortSpecTest, Variants) {
  absl::StatusOr<PortConfig> port = ParsePortSpec("net_tap0,198.18.0.1/24");
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_EQ(port->device, "net_tap0");
  EXPECT_THAT(port->addresses, ElementsAre(Prefix("198.18.0.1/24")));
  EXPECT_TRUE(port->gateways.empty());
  EXPECT_EQ(port->mtu, 1500);

  port = ParsePortSpec(
      "0000:03:00.0,198.18.0.1/24,fd00:198:18::1/64,gw=198.18.0.254,gw=fd00:198:18::fe,mtu=9000");
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_EQ(port->device, "0000:03:00.0");
  EXPECT_THAT(port->addresses, ElementsAre(Prefix("198.18.0.1/24"), Prefix("fd00:198:18::1/64")));
  EXPECT_THAT(port->gateways, ElementsAre(Ip("198.18.0.254"), Ip("fd00:198:18::fe")));
  EXPECT_EQ(port->mtu, 9000);

  // Gateways may come before the addresses that put them on-link.
  port = ParsePortSpec("net_ring0,gw=10.0.0.254,10.0.0.1/24");
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_THAT(port->gateways, ElementsAre(Ip("10.0.0.254")));

  port = ParsePortSpec("net_ring0,fd00::1/64");
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_EQ(port->addresses[0].ip.family, IpFamily::kV6);
}

TEST(PortSpecTest, Errors) {
  struct Case {
    const char* spec;
    const char* message;
  };
  for (const Case& c : {
           Case{"", "--port '': no DEVICE"},
           Case{",198.18.0.1/24", "--port ',198.18.0.1/24': no DEVICE"},
           Case{"198.18.0.1/24", "--port '198.18.0.1/24': '198.18.0.1/24' is not an ethdev name"},
           Case{"net_tap0", "--port 'net_tap0': no address: add at least one ADDR/PREFIX"},
           Case{"net_tap0,gw=198.18.0.254", "--port 'net_tap0,gw=198.18.0.254': no address"},
           Case{"net_tap0,198.18.0.1",
                "--port 'net_tap0,198.18.0.1': '198.18.0.1' has no prefix length"},
           Case{"net_tap0,198.18.0.300/24",
                "--port 'net_tap0,198.18.0.300/24': '198.18.0.300/24' is not an IP prefix"},
           Case{"net_tap0,fd00::1/129",
                "--port 'net_tap0,fd00::1/129': 'fd00::1/129' is not an IP prefix"},
           Case{"net_tap0,198.18.0.1/24,gw=x",
                "--port 'net_tap0,198.18.0.1/24,gw=x': 'gw=x': not an IP address after gw="},
           Case{"net_tap0,198.18.0.1/24,gw=10.0.0.1",
                "--port 'net_tap0,198.18.0.1/24,gw=10.0.0.1' gateways[0]: 10.0.0.1 is not "
                "inside any IPv4 prefix of this port: a gateway must be on-link"},
           Case{"net_tap0,198.18.0.1/24,gw=198.18.0.1",
                "--port 'net_tap0,198.18.0.1/24,gw=198.18.0.1' gateways[0]: 198.18.0.1 is an "
                "address of this port itself"},
           Case{"net_tap0,198.18.0.1/24,198.18.0.1/25",
                "--port 'net_tap0,198.18.0.1/24,198.18.0.1/25' addresses[1]: 198.18.0.1 is "
                "already addresses[0]"},
           Case{"net_tap0,198.18.0.1/24,foo=1",
                "--port 'net_tap0,198.18.0.1/24,foo=1': 'foo=1': unknown item (expected "
                "ADDR/PREFIX, gw=IP or mtu=N)"},
           Case{"net_tap0,,198.18.0.1/24", "--port 'net_tap0,,198.18.0.1/24': empty item"},
           Case{"net_tap0,198.18.0.1/24,", "--port 'net_tap0,198.18.0.1/24,': empty item"},
           Case{"net_tap0,198.18.0.1/24,mtu=abc",
                "--port 'net_tap0,198.18.0.1/24,mtu=abc': 'mtu=abc': the MTU must be a number"},
           Case{"net_tap0,198.18.0.1/24,mtu=100",
                "--port 'net_tap0,198.18.0.1/24,mtu=100' mtu: 100 is out of range 576..9216"},
           Case{"net_tap0,fd00::1/64,mtu=1000",
                "--port 'net_tap0,fd00::1/64,mtu=1000' mtu: 1000 is below 1280, the IPv6 "
                "minimum"},
       }) {
    absl::StatusOr<PortConfig> port = ParsePortSpec(c.spec);
    ASSERT_FALSE(port.ok()) << c.spec;
    EXPECT_THAT(std::string(port.status().message()), StartsWith(c.message)) << c.spec;
  }
}

TEST_F(CommandLineTest, PortFlagErrors) {
  EXPECT_THAT(ErrorOf({"dp", "--", "--port", "net_tap0"}),
              StartsWith("--port 'net_tap0': no address"));
  EXPECT_THAT(
      ErrorOf({"dp", "--", "--port", "net_tap0,10.0.0.1/8", "--port", "net_tap0,10.1.0.1/8"}),
      StartsWith("ports[1].device: 'net_tap0' is already ports[0]"));
  EXPECT_THAT(ErrorOf({"dp", "--", "--port", "a,10.0.0.1/8", "--port", "b,10.0.0.1/16"}),
              StartsWith("ports[1].addresses: 10.0.0.1 is already an address of ports[0] (a)"));
}

TEST(EalLcoresTest, ReadsTheLcoresFromEalArguments) {
  struct Case {
    std::vector<std::string> args;
    std::vector<unsigned> enabled;
    unsigned main_lcore;
  };
  for (const Case& c : {
           Case{{"p", "-l", "0-2"}, {0, 1, 2}, 0},
           Case{{"p", "-l1,3-4"}, {1, 3, 4}, 1},
           Case{{"p", "--lcores=4,2-3"}, {2, 3, 4}, 2},
           Case{{"p", "--lcores", "5"}, {5}, 5},
           Case{{"p", "-c", "0x6"}, {1, 2}, 1},
           Case{{"p", "-cf"}, {0, 1, 2, 3}, 0},
           Case{{"p", "-l", "0-3", "--main-lcore", "3"}, {0, 1, 2, 3}, 3},
           Case{{"p", "--main-lcore=2", "-l", "0-3", "--no-huge", "-m", "512"}, {0, 1, 2, 3}, 2},
           Case{{"p", "--vdev=net_ring0", "-l", "0-1", "--in-memory"}, {0, 1}, 0},
       }) {
    std::optional<EalLcores> lcores = LcoresFromEalArgs(c.args);
    ASSERT_TRUE(lcores.has_value()) << c.args[1];
    EXPECT_EQ(lcores->enabled, c.enabled) << c.args[1];
    EXPECT_EQ(lcores->main_lcore, c.main_lcore) << c.args[1];
  }
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"p"},
           {"p", "--no-huge", "-m", "512"},
           {"p", "--lcores", "1@(0-1),2"},
           {"p", "-l", "x"},
           {"p", "-l"},
           {"p", "-c", "zz"},
           {"p", "-c", "0"},
           {"p", "-l", "0-2", "--main-lcore", "x"},
       }) {
    EXPECT_FALSE(LcoresFromEalArgs(args).has_value()) << args.back();
  }
}

}  // namespace
}  // namespace t38relay::dataplane
