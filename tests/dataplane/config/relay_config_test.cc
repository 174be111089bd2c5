// Tests for the dataplane's JSON config: a full file, every error with its key path, lcore lists,
// lcore defaults and the round trip through ConfigToJson.
#include "dataplane/config/relay_config.h"

#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace t38relay::dataplane {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kFullConfig = R"json({
  "ports": [ {"device":"net_tap0","addresses":["198.18.0.1/24","fd00:198:18::1/64"],
              "gateways":["198.18.0.254", "fd00:198:18::fe"],"mtu":1500,"rx_queues":null},
             {"device":"0000:03:00.0","addresses":["198.19.0.1/16"],"mtu":9000} ],
  "workers": [1, 3], "handshake": [2],
  "leg_ports": {"first":30000,"count":500},
  "legs": {"capacity":2000,"idle_timeout_s":30,"epoch_grace_ms":1000},
  "socket": {"path":"/tmp/t38/flow.sock","group":"t38relay","max_clients":8},
  "dtls": {"key_type":"ecdsa-p256","certificate":"/etc/t38/cert.pem",
           "private_key":"/etc/t38/key.pem","per_call_identity":false,"identity_pool":4,
           "mtu":1100,"initial_timeout_ms":500,"max_timeout_ms":30000},
  "crypto": {"backend":"soft","device":"crypto_aesni_mb"},
  "mbufs": 8191
})json";

IpAddress Ip(const char* text) { return *ParseIpAddress(text); }
InterfaceAddress Prefix(const char* text) { return *ParseInterfaceAddress(text); }

void ExpectSameConfig(const RelayConfig& a, const RelayConfig& b) {
  ASSERT_EQ(a.ports.size(), b.ports.size());
  for (size_t i = 0; i < a.ports.size(); ++i) {
    EXPECT_EQ(a.ports[i].device, b.ports[i].device);
    EXPECT_EQ(a.ports[i].addresses, b.ports[i].addresses);
    EXPECT_EQ(a.ports[i].gateways, b.ports[i].gateways);
    EXPECT_EQ(a.ports[i].mtu, b.ports[i].mtu);
  }
  EXPECT_EQ(a.worker_lcores, b.worker_lcores);
  EXPECT_EQ(a.handshake_lcores, b.handshake_lcores);
  EXPECT_EQ(a.leg_port_first, b.leg_port_first);
  EXPECT_EQ(a.leg_port_count, b.leg_port_count);
  EXPECT_EQ(a.leg_capacity, b.leg_capacity);
  EXPECT_EQ(a.idle_timeout_s, b.idle_timeout_s);
  EXPECT_EQ(a.epoch_grace_ms, b.epoch_grace_ms);
  EXPECT_EQ(a.socket_path, b.socket_path);
  EXPECT_EQ(a.socket_group, b.socket_group);
  EXPECT_EQ(a.max_clients, b.max_clients);
  EXPECT_EQ(a.dtls.key_type, b.dtls.key_type);
  EXPECT_EQ(a.dtls.certificate, b.dtls.certificate);
  EXPECT_EQ(a.dtls.private_key, b.dtls.private_key);
  EXPECT_EQ(a.dtls.per_call_identity, b.dtls.per_call_identity);
  EXPECT_EQ(a.dtls.identity_pool, b.dtls.identity_pool);
  EXPECT_EQ(a.dtls.mtu, b.dtls.mtu);
  EXPECT_EQ(a.dtls.initial_timeout_ms, b.dtls.initial_timeout_ms);
  EXPECT_EQ(a.dtls.max_timeout_ms, b.dtls.max_timeout_ms);
  EXPECT_EQ(a.crypto, b.crypto);
  EXPECT_EQ(a.crypto_device, b.crypto_device);
  EXPECT_EQ(a.mbufs, b.mbufs);
}

TEST(RelayConfigTest, ParsesAFullConfig) {
  absl::StatusOr<RelayConfig> config = ParseConfigJson(kFullConfig);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->ports.size(), 2u);
  EXPECT_EQ(config->ports[0].device, "net_tap0");
  EXPECT_THAT(config->ports[0].addresses,
              ElementsAre(Prefix("198.18.0.1/24"), Prefix("fd00:198:18::1/64")));
  EXPECT_THAT(config->ports[0].gateways, ElementsAre(Ip("198.18.0.254"), Ip("fd00:198:18::fe")));
  EXPECT_EQ(config->ports[0].mtu, 1500);
  EXPECT_EQ(config->ports[1].device, "0000:03:00.0");
  EXPECT_THAT(config->ports[1].addresses, ElementsAre(Prefix("198.19.0.1/16")));
  EXPECT_TRUE(config->ports[1].gateways.empty());
  EXPECT_EQ(config->ports[1].mtu, 9000);
  EXPECT_THAT(config->worker_lcores, ElementsAre(1, 3));
  EXPECT_THAT(config->handshake_lcores, ElementsAre(2));
  EXPECT_EQ(config->leg_port_first, 30000);
  EXPECT_EQ(config->leg_port_count, 500u);
  EXPECT_EQ(config->leg_capacity, 2000u);
  EXPECT_EQ(config->idle_timeout_s, 30u);
  EXPECT_EQ(config->epoch_grace_ms, 1000u);
  EXPECT_EQ(config->socket_path, "/tmp/t38/flow.sock");
  EXPECT_EQ(config->socket_group, "t38relay");
  EXPECT_EQ(config->max_clients, 8u);
  EXPECT_EQ(config->dtls.key_type, crypto::KeyType::kEcdsaP256);
  EXPECT_EQ(config->dtls.certificate, "/etc/t38/cert.pem");
  EXPECT_EQ(config->dtls.private_key, "/etc/t38/key.pem");
  EXPECT_FALSE(config->dtls.per_call_identity);
  EXPECT_EQ(config->dtls.identity_pool, 4u);
  EXPECT_EQ(config->dtls.mtu, 1100);
  EXPECT_EQ(config->dtls.initial_timeout_ms, 500u);
  EXPECT_EQ(config->dtls.max_timeout_ms, 30000u);
  EXPECT_EQ(config->crypto, CryptoBackendKind::kSoft);
  EXPECT_EQ(config->crypto_device, "crypto_aesni_mb");
  EXPECT_EQ(config->mbufs, 8191u);
}

TEST(RelayConfigTest, EmptyObjectAndNullsGiveTheDefaults) {
  for (const char* text :
       {"{}", " { } ",
        R"({"ports":null,"workers":null,"handshake":null,"leg_ports":null,"legs":null,
            "socket":{"group":null},"dtls":{"certificate":null,"private_key":null},
            "crypto":null,"mbufs":null})"}) {
    absl::StatusOr<RelayConfig> config = ParseConfigJson(text);
    ASSERT_TRUE(config.ok()) << text << ": " << config.status();
    ExpectSameConfig(*config, RelayConfig());
  }
  RelayConfig defaults;
  EXPECT_TRUE(defaults.ports.empty());
  EXPECT_EQ(defaults.leg_port_first, 20000);
  EXPECT_EQ(defaults.leg_port_count, 10000u);
  EXPECT_EQ(defaults.leg_capacity, 100000u);
  EXPECT_EQ(defaults.socket_path, "/run/t38relay/flow.sock");
  EXPECT_FALSE(defaults.socket_group.has_value());
  EXPECT_EQ(defaults.max_clients, 64u);
  EXPECT_EQ(defaults.dtls.key_type, crypto::KeyType::kRsa2048);
  EXPECT_EQ(defaults.dtls.identity_pool, 16u);
  EXPECT_EQ(defaults.dtls.mtu, 1200);
  EXPECT_EQ(defaults.crypto, CryptoBackendKind::kCryptodev);
  EXPECT_EQ(defaults.crypto_device, "crypto_aesni_gcm");
  EXPECT_EQ(defaults.mbufs, 32767u);
}

TEST(RelayConfigTest, KeysOverrideTheBase) {
  RelayConfig base;
  base.ports.push_back(PortConfig{"net_tap0", {Prefix("198.18.0.1/24")}, {}, 1500});
  base.worker_lcores = {1};
  base.socket_group = "wheel";
  base.leg_capacity = 5;

  absl::StatusOr<RelayConfig> same = ParseConfigJson("{}", base);
  ASSERT_TRUE(same.ok()) << same.status();
  ExpectSameConfig(*same, base);

  absl::StatusOr<RelayConfig> changed = ParseConfigJson(
      R"({"ports":[{"device":"net_ring0","addresses":["10.0.0.1/8"]}],"workers":null,
          "socket":{"group":null},"legs":{"idle_timeout_s":9}})",
      base);
  ASSERT_TRUE(changed.ok()) << changed.status();
  ASSERT_EQ(changed->ports.size(), 1u);
  EXPECT_EQ(changed->ports[0].device, "net_ring0");
  EXPECT_TRUE(changed->worker_lcores.empty());
  EXPECT_FALSE(changed->socket_group.has_value());
  EXPECT_EQ(changed->leg_capacity, 5u);  // untouched key of an object that is present
  EXPECT_EQ(changed->idle_timeout_s, 9u);
}

struct BadConfig {
  const char* json;
  const char* message;  // the error message starts with this
};

void PrintTo(const BadConfig& c, std::ostream* os) { *os << c.json; }

class RelayConfigErrorTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(RelayConfigErrorTest, NamesTheKey) {
  absl::StatusOr<RelayConfig> config = ParseConfigJson(GetParam().json);
  ASSERT_FALSE(config.ok()) << GetParam().json;
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(config.status().message()), StartsWith(GetParam().message))
      << GetParam().json;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, RelayConfigErrorTest,
    ::testing::Values(
        // Syntax and shape.
        BadConfig{"{", "config is not valid JSON: parse error at line 1, column 2"},
        BadConfig{"", "config is not valid JSON: parse error"},
        BadConfig{"[]", "config: expected a JSON object, got an array"},
        BadConfig{R"({"mbufs":1e500})",
                  "config is not valid JSON: number overflow parsing '1e500'"},
        BadConfig{"{\"socket\":{\"path\":\"\xff\"}}", "config is not valid JSON: parse error"},
        BadConfig{R"({"mbufs":2047,"mbufs":4095})", "mbufs: key given twice in the same object"},
        BadConfig{R"({"ports":[{"device":"a","mtu":1500,"mtu":1400}]})", "mtu: key given twice"},
        // Unknown keys, at every level.
        BadConfig{R"({"frobnicate":1})", "frobnicate: unknown key (known here: ports, workers"},
        BadConfig{R"({"ports":[{"device":"net_tap0","adresses":[]}]})",
                  "ports[0].adresses: unknown key (known here: device, addresses"},
        BadConfig{R"({"leg_ports":{"last":3}})", "leg_ports.last: unknown key"},
        BadConfig{R"({"legs":{"timeout":3}})", "legs.timeout: unknown key"},
        BadConfig{R"({"socket":{"mode":"0660"}})", "socket.mode: unknown key"},
        BadConfig{R"({"dtls":{"cipher":"x"}})", "dtls.cipher: unknown key"},
        BadConfig{R"({"crypto":{"queue_pairs":2}})", "crypto.queue_pairs: unknown key"},
        // Wrong types.
        BadConfig{R"({"ports":{}})", "ports: expected an array of port objects, got an object"},
        BadConfig{R"({"ports":["net_tap0"]})",
                  "ports[0]: expected an object, got the string \"net_tap0\""},
        BadConfig{R"({"ports":[{"device":7}]})",
                  "ports[0].device: expected a string, got a number"},
        BadConfig{R"({"ports":[{"device":"a","addresses":"198.18.0.1/24"}]})",
                  "ports[0].addresses: expected an array"},
        BadConfig{R"({"ports":[{"device":"a","addresses":[1]}]})",
                  "ports[0].addresses[0]: expected a string"},
        BadConfig{R"({"ports":[{"device":"a","addresses":["198.18.0.1/24"],"gateways":[true]}]})",
                  "ports[0].gateways[0]: expected a string (an IP address), got true"},
        BadConfig{R"({"workers":"1"})", "workers: expected an array of lcore ids"},
        BadConfig{R"({"workers":[1.0]})", "workers[0]: expected an integer, got a fractional"},
        BadConfig{R"({"legs":{"capacity":"10"}})",
                  "legs.capacity: expected an integer, got the string \"10\""},
        BadConfig{R"({"legs":{"capacity":1.5}})",
                  "legs.capacity: expected an integer, got a fractional number"},
        BadConfig{R"({"legs":[]})", "legs: expected an object, got an array"},
        BadConfig{R"({"socket":{"group":5}})", "socket.group: expected a string, got a number"},
        BadConfig{R"({"socket":{"path":false}})", "socket.path: expected a string, got false"},
        BadConfig{R"({"dtls":{"per_call_identity":"yes"}})",
                  "dtls.per_call_identity: expected true or false"},
        BadConfig{R"({"dtls":{"key_type":"rsa"}})",
                  "dtls.key_type: expected \"rsa2048\" or \"ecdsa-p256\", got the string \"rsa\""},
        BadConfig{R"({"dtls":{"certificate":[]}})", "dtls.certificate: expected a string"},
        BadConfig{R"({"crypto":{"backend":"qat"}})",
                  "crypto.backend: expected \"cryptodev\" or \"soft\""},
        BadConfig{R"({"mbufs":"many"})", "mbufs: expected an integer"},
        // Values.
        BadConfig{R"({"ports":[{"addresses":["198.18.0.1/24"]}]})",
                  "ports[0].device: missing: name the ethdev"},
        BadConfig{R"({"ports":[{"device":""}]})", "ports[0].device: is empty"},
        BadConfig{R"({"ports":[{"device":"a","addresses":["198.18.0.1/24","198.18.0.300/24"]}]})",
                  "ports[0].addresses[1]: '198.18.0.300/24' is not an IP prefix"},
        BadConfig{R"({"ports":[{"device":"a","addresses":["198.18.0.1"]}]})",
                  "ports[0].addresses[0]: '198.18.0.1' has no prefix length"},
        BadConfig{R"({"ports":[{"device":"a","addresses":["198.18.0.1/33"]}]})",
                  "ports[0].addresses[0]: '198.18.0.1/33' is not an IP prefix"},
        BadConfig{R"({"ports":[{"device":"a","addresses":["198.18.0.1/24","198.18.0.1/16"]}]})",
                  "ports[0].addresses[1]: 198.18.0.1 is already addresses[0]"},
        BadConfig{R"({"ports":[{"device":"a","addresses":["198.18.0.1/24"],"gateways":["x"]}]})",
                  "ports[0].gateways[0]: \"x\" is not an IP address"},
        BadConfig{
            R"({"ports":[{"device":"a","addresses":["198.18.0.1/24"],"gateways":["10.0.0.1"]}]})",
            "ports[0].gateways[0]: 10.0.0.1 is not inside any IPv4 prefix of this port"},
        BadConfig{
            R"({"ports":[{"device":"a","addresses":["198.18.0.1/24"],"gateways":["fd00::1"]}]})",
            "ports[0].gateways[0]: fd00::1 is not inside any IPv6 prefix"},
        BadConfig{
            R"({"ports":[{"device":"a","addresses":["198.18.0.1/24"],"gateways":["198.18.0.1"]}]})",
            "ports[0].gateways[0]: 198.18.0.1 is an address of this port itself"},
        BadConfig{R"({"ports":[{"device":"a","addresses":["198.18.0.1/24"],
                                "gateways":["198.18.0.9","198.18.0.9"]}]})",
                  "ports[0].gateways[1]: 198.18.0.9 is already gateways[0]"},
        BadConfig{R"({"ports":[{"device":"a","mtu":100}]})",
                  "ports[0].mtu: 100 is out of range 576..9216"},
        BadConfig{R"({"ports":[{"device":"a","mtu":70000}]})",
                  "ports[0].mtu: 70000 is out of range"},
        BadConfig{R"({"ports":[{"device":"a","addresses":["fd00::1/64"],"mtu":1000}]})",
                  "ports[0].mtu: 1000 is below 1280, the IPv6 minimum"},
        BadConfig{R"({"ports":[{"device":"a","rx_queues":2}]})",
                  "ports[0].rx_queues: got a number, but each port has one RX queue per worker"},
        BadConfig{R"({"ports":[{"device":"a"},{"device":"a"}]})",
                  "ports[1].device: 'a' is already ports[0]"},
        BadConfig{R"({"ports":[{"device":"a","addresses":["198.18.0.1/24"]},
                               {"device":"b","addresses":["198.18.0.1/16"]}]})",
                  "ports[1].addresses: 198.18.0.1 is already an address of ports[0] (a)"},
        BadConfig{R"({"workers":[]})", "workers: is empty: leave the key out"},
        BadConfig{R"({"workers":[-1]})", "workers[0]: -1 is out of range 0..127"},
        BadConfig{R"({"workers":[1,200]})", "workers[1]: 200 is out of range 0..127"},
        BadConfig{R"({"workers":[1,2,1]})", "workers (--workers): lcore 1 is listed twice"},
        BadConfig{R"({"handshake":[3,3]})", "handshake (--handshake): lcore 3 is listed twice"},
        BadConfig{R"({"workers":[1,2],"handshake":[2]})",
                  "handshake (--handshake): lcore 2 is also a worker (workers: 1,2)"},
        BadConfig{R"({"leg_ports":{"first":0}})", "leg_ports.first: 0 is out of range 1..65535"},
        BadConfig{R"({"leg_ports":{"first":70000}})", "leg_ports.first: 70000 is out of range"},
        BadConfig{R"({"leg_ports":{"count":0}})", "leg_ports.count: 0 is out of range 1..65535"},
        BadConfig{R"({"leg_ports":{"first":60000,"count":10000}})",
                  "leg_ports (--leg-ports): first 60000 and count 10000 end at port 69999"},
        BadConfig{R"({"legs":{"capacity":0}})", "legs.capacity: 0 is out of range 1..16777216"},
        BadConfig{R"({"legs":{"capacity":99999999999}})", "legs.capacity: 99999999999 is out of"},
        BadConfig{R"({"legs":{"idle_timeout_s":0}})",
                  "legs.idle_timeout_s: 0 is out of range 1..86400"},
        BadConfig{R"({"legs":{"epoch_grace_ms":60001}})",
                  "legs.epoch_grace_ms: 60001 is out of range 0..60000"},
        BadConfig{R"({"socket":{"path":""}})", "socket.path: is empty"},
        BadConfig{
            R"({"socket":{"path":"/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa)"
            R"(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock"}})",
            "socket.path (--socket): is 116 bytes long; a Unix socket path holds at most 107"},
        BadConfig{R"({"socket":{"group":""}})", "socket.group: is empty"},
        BadConfig{R"({"socket":{"max_clients":0}})",
                  "socket.max_clients: 0 is out of range 1..1024"},
        BadConfig{R"({"dtls":{"certificate":"/c.pem"}})",
                  "dtls.private_key: missing: dtls.certificate and dtls.private_key go together"},
        BadConfig{R"({"dtls":{"private_key":"/k.pem"}})", "dtls.certificate: missing"},
        BadConfig{R"({"dtls":{"certificate":"/c.pem","private_key":"/k.pem",
                              "per_call_identity":true}})",
                  "dtls.per_call_identity: true, but dtls.certificate is set too"},
        BadConfig{R"({"dtls":{"identity_pool":0}})",
                  "dtls.identity_pool: 0 is out of range 1..1024"},
        BadConfig{R"({"dtls":{"mtu":100}})", "dtls.mtu: 100 is out of range 256..9000"},
        BadConfig{R"({"dtls":{"initial_timeout_ms":10}})",
                  "dtls.initial_timeout_ms: 10 is out of range 100..60000"},
        BadConfig{R"({"dtls":{"max_timeout_ms":700000}})",
                  "dtls.max_timeout_ms: 700000 is out of range 100..600000"},
        BadConfig{R"({"dtls":{"initial_timeout_ms":2000,"max_timeout_ms":1000}})",
                  "dtls.max_timeout_ms: 1000 is below dtls.initial_timeout_ms (2000)"},
        BadConfig{R"({"crypto":{"device":""}})", "crypto.device: is empty"},
        BadConfig{R"({"mbufs":100})", "mbufs: 100 is out of range 1023..16777216"},
        BadConfig{R"({"mbufs":-5})", "mbufs: -5 is out of range 1023..16777216"}));

TEST(RelayConfigTest, CheckConfigCatchesWhatTheFlagsCanBreak) {
  RelayConfig config;
  EXPECT_TRUE(CheckConfig(config).ok());
  config.leg_capacity = 0;
  EXPECT_THAT(std::string(CheckConfig(config).message()),
              StartsWith("legs.capacity (--legs): 0 is out of range"));
  config = RelayConfig();
  config.socket_path = "";
  EXPECT_THAT(std::string(CheckConfig(config).message()), StartsWith("socket.path (--socket)"));
  config = RelayConfig();
  config.socket_group = "";
  EXPECT_THAT(std::string(CheckConfig(config).message()),
              StartsWith("socket.group (--socket-group): is empty"));
}

TEST(RelayConfigTest, ParsesLcoreLists) {
  struct Case {
    const char* text;
    std::vector<unsigned> lcores;
  };
  for (const Case& c : {Case{"1", {1}}, Case{"0", {0}}, Case{"1,3-4", {1, 3, 4}},
                        Case{"0-2", {0, 1, 2}}, Case{"5,1", {5, 1}}, Case{"7-7", {7}},
                        Case{"1-2,4-5,9", {1, 2, 4, 5, 9}}, Case{"127", {127}}}) {
    absl::StatusOr<std::vector<unsigned>> lcores = ParseLcoreList(c.text);
    ASSERT_TRUE(lcores.ok()) << c.text << ": " << lcores.status();
    EXPECT_EQ(*lcores, c.lcores) << c.text;
  }
}

TEST(RelayConfigTest, RejectsBadLcoreLists) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c :
       {Case{"", "empty lcore list"}, Case{"1,", "'1,': '' is not an lcore id or FIRST-LAST range"},
        Case{",1", "',1': '' is not an lcore id"}, Case{"a", "'a': 'a' is not an lcore id"},
        Case{" 1", "' 1': ' 1' is not an lcore id"}, Case{"-1", "'-1': '-1' is not an lcore id"},
        Case{"1-", "'1-': '1-' is not an lcore id"},
        Case{"1-2-3", "'1-2-3': '1-2-3' is not an lcore id"},
        Case{"3-1", "'3-1': range '3-1' runs backwards"},
        Case{"1,1", "'1,1': lcore 1 is listed twice"},
        Case{"1-3,2", "'1-3,2': lcore 2 is listed twice"},
        Case{"128", "'128': lcore 128 is out of range 0..127"},
        Case{"0-4000000000", "'0-4000000000': lcore 4000000000 is out of range"},
        Case{"99999999999", "'99999999999': '99999999999' is not an lcore id"}}) {
    absl::StatusOr<std::vector<unsigned>> lcores = ParseLcoreList(c.text);
    ASSERT_FALSE(lcores.ok()) << c.text;
    EXPECT_THAT(std::string(lcores.status().message()), StartsWith(c.message)) << c.text;
  }
}

RelayConfig OnePort() {
  RelayConfig config;
  config.ports.push_back(PortConfig{"net_tap0", {Prefix("198.18.0.1/24")}, {}, 1500});
  return config;
}

TEST(RelayConfigTest, ValidateFillsTheDefaultLcores) {
  RelayConfig config = OnePort();
  ASSERT_TRUE(ValidateConfig(&config, {0, 1, 2}, 0).ok());
  EXPECT_THAT(config.worker_lcores, ElementsAre(1));
  EXPECT_THAT(config.handshake_lcores, ElementsAre(2));

  config = OnePort();
  ASSERT_TRUE(ValidateConfig(&config, {3, 0, 2, 1}, 0).ok());
  EXPECT_THAT(config.worker_lcores, ElementsAre(1, 2));
  EXPECT_THAT(config.handshake_lcores, ElementsAre(3));

  // The main lcore need not be the lowest.
  config = OnePort();
  ASSERT_TRUE(ValidateConfig(&config, {0, 1, 2, 3}, 3).ok());
  EXPECT_THAT(config.worker_lcores, ElementsAre(0, 1));
  EXPECT_THAT(config.handshake_lcores, ElementsAre(2));

  // Workers given: the handshake lcore is the last enabled one that is not a worker.
  config = OnePort();
  config.worker_lcores = {3};
  ASSERT_TRUE(ValidateConfig(&config, {0, 1, 2, 3}, 0).ok());
  EXPECT_THAT(config.worker_lcores, ElementsAre(3));
  EXPECT_THAT(config.handshake_lcores, ElementsAre(2));

  // Handshake given: the workers are all the others.
  config = OnePort();
  config.handshake_lcores = {1};
  ASSERT_TRUE(ValidateConfig(&config, {0, 1, 2, 3}, 0).ok());
  EXPECT_THAT(config.worker_lcores, ElementsAre(2, 3));
  EXPECT_THAT(config.handshake_lcores, ElementsAre(1));

  // Both given: kept as they are, unused lcores allowed.
  config = OnePort();
  config.worker_lcores = {2};
  config.handshake_lcores = {1};
  ASSERT_TRUE(ValidateConfig(&config, {0, 1, 2, 3, 4}, 0).ok());
  EXPECT_THAT(config.worker_lcores, ElementsAre(2));
  EXPECT_THAT(config.handshake_lcores, ElementsAre(1));
}

TEST(RelayConfigTest, ValidateRejects) {
  auto message = [](RelayConfig config, std::vector<unsigned> enabled, unsigned main_lcore) {
    absl::Status status = ValidateConfig(&config, enabled, main_lcore);
    EXPECT_FALSE(status.ok());
    return std::string(status.message());
  };
  EXPECT_THAT(message(OnePort(), {0, 1}, 0),
              StartsWith("workers (--workers): no lcore left for workers (EAL enabled lcores "
                         "0,1, main lcore 0, handshake 1)"));
  EXPECT_THAT(message(OnePort(), {0}, 0),
              StartsWith("handshake (--handshake): no lcore left for the handshake lcore"));
  RelayConfig config = OnePort();
  config.worker_lcores = {0};
  EXPECT_THAT(message(config, {0, 1, 2}, 0),
              StartsWith("workers (--workers): lcore 0 is the main lcore"));
  config = OnePort();
  config.worker_lcores = {5};
  EXPECT_THAT(message(config, {0, 1, 2}, 0),
              StartsWith("workers (--workers): lcore 5 is not enabled (EAL enabled lcores 0,1,2"));
  config = OnePort();
  config.handshake_lcores = {7};
  EXPECT_THAT(message(config, {0, 1, 2}, 0),
              StartsWith("handshake (--handshake): lcore 7 is not enabled"));
  config = OnePort();
  config.handshake_lcores = {2};
  EXPECT_THAT(message(config, {0, 1, 2}, 2),
              StartsWith("handshake (--handshake): lcore 2 is the main"));
  config = OnePort();
  config.worker_lcores = {1, 2};
  EXPECT_THAT(message(config, {0, 1, 2}, 0), StartsWith("handshake (--handshake): no lcore left"));
  EXPECT_THAT(message(RelayConfig(), {0, 1, 2}, 0),
              StartsWith("ports (--port): no port: give one"));
  config = RelayConfig();
  config.ports.push_back(PortConfig{"net_tap0", {}, {}, 1500});
  EXPECT_THAT(message(config, {0, 1, 2}, 0), StartsWith("ports (--port): no port has an address"));
  // CheckConfig runs too.
  config = OnePort();
  config.mbufs = 0;
  EXPECT_THAT(message(config, {0, 1, 2}, 0), StartsWith("mbufs: 0 is out of range"));
}

TEST(RelayConfigTest, RoundTripsThroughConfigToJson) {
  absl::StatusOr<RelayConfig> full = ParseConfigJson(kFullConfig);
  ASSERT_TRUE(full.ok()) << full.status();
  for (const RelayConfig& config : {*full, RelayConfig(), OnePort()}) {
    nlohmann::json json = ConfigToJson(config);
    absl::StatusOr<RelayConfig> again = ParseConfigJson(json.dump(2));
    ASSERT_TRUE(again.ok()) << again.status() << "\n" << json.dump(2);
    ExpectSameConfig(*again, config);
    EXPECT_EQ(ConfigToJson(*again), json);
  }
  RelayConfig with_pool;
  with_pool.dtls.per_call_identity = true;
  with_pool.dtls.key_type = crypto::KeyType::kRsa2048;
  absl::StatusOr<RelayConfig> again = ParseConfigJson(ConfigToJson(with_pool).dump());
  ASSERT_TRUE(again.ok()) << again.status();
  ExpectSameConfig(*again, with_pool);
}

TEST(RelayConfigTest, ConfigToJsonWritesEveryKey) {
  nlohmann::json json = ConfigToJson(OnePort());
  EXPECT_EQ(json.dump(),
            R"({"crypto":{"backend":"cryptodev","device":"crypto_aesni_gcm"},)"
            R"("dtls":{"certificate":null,"identity_pool":16,"initial_timeout_ms":1000,)"
            R"("key_type":"rsa2048","max_timeout_ms":60000,"mtu":1200,"per_call_identity":false,)"
            R"("private_key":null},"handshake":null,"leg_ports":{"count":10000,"first":20000},)"
            R"("legs":{"capacity":100000,"epoch_grace_ms":5000,"idle_timeout_s":60},"mbufs":32767,)"
            R"("ports":[{"addresses":["198.18.0.1/24"],"device":"net_tap0","gateways":[],)"
            R"("mtu":1500,"rx_queues":null}],)"
            R"("socket":{"group":null,"max_clients":64,"path":"/run/t38relay/flow.sock"},)"
            R"("workers":null})");
}

TEST(RelayConfigTest, NamesBackendsAndKeyTypes) {
  EXPECT_EQ(KeyTypeConfigName(crypto::KeyType::kRsa2048), "rsa2048");
  EXPECT_EQ(KeyTypeConfigName(crypto::KeyType::kEcdsaP256), "ecdsa-p256");
  EXPECT_EQ(CryptoBackendName(CryptoBackendKind::kSoft), "soft");
  EXPECT_EQ(ParseCryptoBackend("cryptodev"), CryptoBackendKind::kCryptodev);
  EXPECT_EQ(ParseCryptoBackend("Soft"), std::nullopt);
}

}  // namespace
}  // namespace t38relay::dataplane
