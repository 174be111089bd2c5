// PortSet on net_ring devices: open, loop a burst, statistics, next hops, close; and the errors
// a user gets for a missing device, bad queues, MTUs and gateways.
#include "dataplane/port/port_set.h"

#include <rte_ethdev.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/dataplane/port/ring_device.h"
#include "tests/eal_support.h"

namespace t38relay::dataplane {
namespace {

using ::t38relay::testing::RingDevice;
using ::t38relay::testing::TestPool;

IpAddress Ip(const char* text) { return *ParseIpAddress(text); }
InterfaceAddress Prefix(const char* text) { return *ParseInterfaceAddress(text); }

PortConfig Config(const std::string& device) {
  PortConfig c;
  c.device = device;
  c.addresses = {Prefix("198.18.0.1/24"), Prefix("fd00:198:18::1/64")};
  c.gateways = {Ip("198.18.0.254")};
  return c;
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

class PortSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::StartEal({}));
    ASSERT_NE(TestPool(), nullptr);
  }
};

TEST_F(PortSetTest, OpensLoopsABurstCountsAndCloses) {
  RingDevice device;
  ASSERT_TRUE(device.ok());
  uint16_t port_id = 0;
  ASSERT_EQ(rte_eth_dev_get_port_by_name(device.name().c_str(), &port_id), 0);
  {
    PortConfig config = Config(device.name());
    config.mtu = 1400;
    absl::StatusOr<std::unique_ptr<PortSet>> ports =
        PortSet::Open({config}, 1, 1, TestPool(), 256, 256);
    ASSERT_TRUE(ports.ok()) << ports.status();
    const PortSet& set = **ports;
    ASSERT_EQ(set.size(), 1u);
    const PortInfo& info = set.port(0);
    EXPECT_EQ(info.name, device.name());
    EXPECT_EQ(info.port_id, port_id);
    EXPECT_EQ(info.config.addresses, config.addresses);
    EXPECT_EQ(info.rx_queues, 1);
    EXPECT_EQ(info.tx_queues, 1);
    EXPECT_FALSE(info.rss);  // one queue
    rte_ether_addr mac;
    ASSERT_EQ(rte_eth_macaddr_get(port_id, &mac), 0);
    if (rte_is_zero_ether_addr(&mac)) {
      // net_ring has no address and takes none: the port gets a random local unicast one.
      EXPECT_NE(info.mac, MacAddress{});
      EXPECT_EQ(info.mac[0] & 0x03, 0x02);
    } else {
      EXPECT_EQ(std::memcmp(info.mac.data(), mac.addr_bytes, 6), 0);
    }
    // What the device offers is what is enabled (net_ring offers no checksum offloads).
    rte_eth_dev_info dev;
    ASSERT_EQ(rte_eth_dev_info_get(port_id, &dev), 0);
    EXPECT_EQ(info.rx_ipv4_checksum, (dev.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) != 0);
    EXPECT_EQ(info.tx_udp_checksum, (dev.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0);
    uint16_t mtu = 0;
    ASSERT_EQ(rte_eth_dev_get_mtu(port_id, &mtu), 0);
    EXPECT_EQ(mtu, 1400);
    EXPECT_EQ(set.IndexOfPortId(port_id), 0u);
    EXPECT_EQ(set.IndexOfPortId(static_cast<uint16_t>(port_id + 100)), std::nullopt);

    // net_ring loops TX queue 0 back to RX queue 0.
    constexpr uint16_t kBurst = 8;
    rte_mbuf* out[kBurst];
    ASSERT_EQ(rte_pktmbuf_alloc_bulk(TestPool(), out, kBurst), 0);
    for (rte_mbuf* m : out) std::memset(rte_pktmbuf_append(m, 64), 0x5a, 64);
    ASSERT_EQ(rte_eth_tx_burst(port_id, 0, out, kBurst), kBurst);
    rte_mbuf* in[kBurst];
    ASSERT_EQ(rte_eth_rx_burst(port_id, 0, in, kBurst), kBurst);
    rte_pktmbuf_free_bulk(in, kBurst);
    absl::StatusOr<PortStats> stats = set.Stats(0);
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_EQ(stats->tx_packets, kBurst);
    EXPECT_EQ(stats->rx_packets, kBurst);
    std::vector<std::string> names;
    stats->ForEach([&](const char* name, uint64_t) { names.push_back(name); });
    EXPECT_EQ(names.size(), 8u);
    EXPECT_EQ(names[0], "rx-packets");
  }
  // Closed: the virtual device's port is released.
  EXPECT_NE(rte_eth_dev_get_port_by_name(device.name().c_str(), &port_id), 0);
}

TEST_F(PortSetTest, SeveralQueues) {
  RingDevice device;
  absl::StatusOr<std::unique_ptr<PortSet>> ports =
      PortSet::Open({Config(device.name())}, 3, 4, TestPool(), 128, 128);
  ASSERT_TRUE(ports.ok()) << ports.status();
  EXPECT_EQ((*ports)->port(0).rx_queues, 3);
  EXPECT_EQ((*ports)->port(0).tx_queues, 4);
  EXPECT_FALSE((*ports)->port(0).rss);  // net_ring has no RSS: everything arrives on queue 0
}

TEST_F(PortSetTest, AMissingDeviceNamesTheOnesThatExist) {
  RingDevice device;
  absl::StatusOr<std::unique_ptr<PortSet>> ports =
      PortSet::Open({Config("net_nosuch0")}, 1, 1, TestPool());
  ASSERT_FALSE(ports.ok());
  EXPECT_EQ(ports.status().code(), absl::StatusCode::kNotFound);
  const std::string message = Message(ports.status());
  EXPECT_NE(message.find("ports[0] (net_nosuch0): no such ethdev"), std::string::npos) << message;
  EXPECT_NE(message.find(device.name()), std::string::npos) << message;
}

TEST_F(PortSetTest, AFailedOpenClosesWhatItOpened) {
  RingDevice device;
  absl::StatusOr<std::unique_ptr<PortSet>> ports =
      PortSet::Open({Config(device.name()), Config("net_nosuch1")}, 1, 1, TestPool(), 128, 128);
  ASSERT_FALSE(ports.ok());
  uint16_t port_id;
  EXPECT_NE(rte_eth_dev_get_port_by_name(device.name().c_str(), &port_id), 0);
}

TEST_F(PortSetTest, TooManyQueues) {
  RingDevice device;
  absl::StatusOr<std::unique_ptr<PortSet>> ports =
      PortSet::Open({Config(device.name())}, 1000, 1, TestPool());
  ASSERT_FALSE(ports.ok());
  EXPECT_NE(Message(ports.status()).find("at most"), std::string::npos) << ports.status();
  // Nothing was configured: the device is still there for a second try.
  ports = PortSet::Open({Config(device.name())}, 1, 1, TestPool(), 128, 128);
  EXPECT_TRUE(ports.ok()) << ports.status();
}

TEST_F(PortSetTest, ConfigurationErrorsSayWhatIsWrong) {
  RingDevice device;
  const std::string name = device.name();
  struct Case {
    std::vector<PortConfig> configs;
    uint16_t rx_queues = 1;
    uint16_t tx_queues = 1;
    bool pool = true;
    std::string expected;
  };
  std::vector<Case> cases;
  cases.push_back({{}, 1, 1, true, "no ports configured"});
  cases.push_back({{Config(name)}, 0, 1, true, "at least one RX"});
  cases.push_back({{Config(name)}, 1, 1, false, "no mbuf pool"});
  PortConfig c = Config("");
  cases.push_back({{c}, 1, 1, true, "ports[0]: no device name"});
  cases.push_back({{Config(name), Config(name)}, 1, 1, true, "is already ports[0]"});
  c = Config(name);
  c.addresses.clear();
  cases.push_back({{c}, 1, 1, true, "has no address"});
  c = Config(name);
  c.gateways = {Ip("198.19.0.254")};
  cases.push_back({{c}, 1, 1, true,
                   "gateway '198.19.0.254' is outside every prefix of the port (198.18.0.1/24, "
                   "fd00:198:18::1/64)"});
  c.gateways = {Ip("198.18.0.1")};
  cases.push_back({{c}, 1, 1, true, "gateway '198.18.0.1' is one of the port's own addresses"});
  c = Config(name);
  c.mtu = 9000;
  cases.push_back({{c}, 1, 1, true, "mtu 9000 does not fit the mbufs' 2048-byte data room"});
  c.mtu = 1000;
  cases.push_back({{c}, 1, 1, true, "mtu 1000 is below 1280 (IPv6 minimum)"});
  for (const Case& k : cases) {
    absl::StatusOr<std::unique_ptr<PortSet>> ports = PortSet::Open(
        k.configs, k.rx_queues, k.tx_queues, k.pool ? TestPool() : nullptr, 128, 128);
    ASSERT_FALSE(ports.ok()) << k.expected;
    EXPECT_NE(Message(ports.status()).find(k.expected), std::string::npos)
        << "want '" << k.expected << "' in: " << ports.status();
  }
  // An IPv4-only port may go below 1280.
  c = Config(name);
  c.addresses = {Prefix("198.18.0.1/24")};
  c.mtu = 1000;
  absl::StatusOr<std::unique_ptr<PortSet>> ports = PortSet::Open({c}, 1, 1, TestPool(), 128, 128);
  EXPECT_TRUE(ports.ok()) << ports.status();
}

TEST_F(PortSetTest, NextHopsAndSourceAddressesAcrossTwoPorts) {
  RingDevice a, b;
  PortConfig ca = Config(a.name());  // 198.18.0.1/24, fd00:198:18::1/64, gw 198.18.0.254
  PortConfig cb;
  cb.device = b.name();
  cb.addresses = {Prefix("198.19.0.1/24"), Prefix("198.19.1.1/24"), Prefix("fd00:198:19::1/64")};
  cb.gateways = {Ip("fd00:198:19::fe")};
  absl::StatusOr<std::unique_ptr<PortSet>> opened =
      PortSet::Open({ca, cb}, 1, 1, TestPool(), 128, 128);
  ASSERT_TRUE(opened.ok()) << opened.status();
  const PortSet& ports = **opened;
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_NE(ports.port(0).port_id, ports.port(1).port_id);
  EXPECT_EQ(ports.IndexOfPortId(ports.port(1).port_id), 1u);

  EXPECT_TRUE(ports.IsOurAddress(0, Ip("198.18.0.1")));
  EXPECT_TRUE(ports.IsOurAddress(0, Ip("fd00:198:18::1")));
  EXPECT_FALSE(ports.IsOurAddress(0, Ip("198.19.0.1")));
  EXPECT_TRUE(ports.IsOurAddress(1, Ip("198.19.1.1")));
  EXPECT_FALSE(ports.IsOurAddress(1, Ip("198.19.1.2")));

  EXPECT_EQ(ports.NextHop(0, Ip("198.18.0.7")), Ip("198.18.0.7"));
  EXPECT_EQ(ports.NextHop(0, Ip("198.19.9.9")), Ip("198.18.0.254"));
  EXPECT_EQ(ports.NextHop(0, Ip("fd00:198:18::7")), Ip("fd00:198:18::7"));
  EXPECT_EQ(ports.NextHop(0, Ip("fd00:198:99::7")).family, IpFamily::kNone);
  EXPECT_EQ(ports.NextHop(1, Ip("198.19.1.7")), Ip("198.19.1.7"));
  EXPECT_EQ(ports.NextHop(1, Ip("198.18.0.7")).family, IpFamily::kNone);
  EXPECT_EQ(ports.NextHop(1, Ip("fd00:198:99::7")), Ip("fd00:198:19::fe"));
  EXPECT_EQ(ports.NextHop(1, IpAddress{}).family, IpFamily::kNone);

  EXPECT_EQ(ports.PortForDestination(Ip("198.18.0.7")), 0u);
  EXPECT_EQ(ports.PortForDestination(Ip("198.19.1.7")), 1u);
  EXPECT_EQ(ports.PortForDestination(Ip("198.19.9.9")), 0u);      // port 0's IPv4 gateway
  EXPECT_EQ(ports.PortForDestination(Ip("fd00:198:18::9")), 0u);  // on-link beats a gateway
  EXPECT_EQ(ports.PortForDestination(Ip("fd00:198:99::9")), 1u);  // port 1's IPv6 gateway
  EXPECT_EQ(ports.PortForDestination(IpAddress{}), std::nullopt);

  EXPECT_EQ(ports.SourceAddress(1, Ip("198.19.1.7")), Ip("198.19.1.1"));
  EXPECT_EQ(ports.SourceAddress(1, Ip("198.18.0.7")), Ip("198.19.0.1"));  // first of the family
  EXPECT_EQ(ports.SourceAddress(1, Ip("fd00:1::1")), Ip("fd00:198:19::1"));
  EXPECT_EQ(ports.SourceAddress(0, IpAddress{}).family, IpFamily::kNone);
}

}  // namespace
}  // namespace t38relay::dataplane
