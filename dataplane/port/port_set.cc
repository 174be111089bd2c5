// Opening ethdev ports (queues, checksum offloads, RSS, MTU) and choosing next hops.
#include "dataplane/port/port_set.h"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace t38relay::dataplane {
namespace {

constexpr uint16_t kMinMtuV4 = 68;     // RFC 791
constexpr uint16_t kMinMtuV6 = 1280;   // RFC 8200 section 5
constexpr size_t kMaxFrameOverhead = RTE_ETHER_HDR_LEN + 2 * 4;  // two VLAN tags at most

std::string Where(size_t index, const PortConfig& config) {
  return absl::StrCat("ports[", index, "] (", config.device, "): ");
}

std::string DpdkError(int ret) { return rte_strerror(ret < 0 ? -ret : ret); }

std::string AvailableDevices() {
  std::vector<std::string> names;
  uint16_t port_id;
  RTE_ETH_FOREACH_DEV(port_id) {
    char name[RTE_ETH_NAME_MAX_LEN];
    if (rte_eth_dev_get_name_by_port(port_id, name) == 0) names.emplace_back(name);
  }
  if (names.empty()) return "EAL knows no ethdev: add one with --vdev or bind a NIC";
  return absl::StrCat("the ethdevs EAL knows are: ", absl::StrJoin(names, ", "));
}

// What can be checked before touching any device.
absl::Status ValidateConfigs(const std::vector<PortConfig>& configs, uint16_t rx_queues,
                             uint16_t tx_queues, rte_mempool* pool) {
  if (configs.empty()) return absl::InvalidArgumentError("no ports configured");
  if (rx_queues == 0 || tx_queues == 0) {
    return absl::InvalidArgumentError("every port needs at least one RX and one TX queue");
  }
  if (pool == nullptr) return absl::InvalidArgumentError("no mbuf pool for the RX queues");
  const size_t room = rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM;
  for (size_t i = 0; i < configs.size(); ++i) {
    const PortConfig& c = configs[i];
    if (c.device.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("ports[", i, "]: no device name"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (configs[j].device == c.device) {
        return absl::InvalidArgumentError(
            absl::StrCat(Where(i, c), "the device is already ports[", j, "]"));
      }
    }
    if (c.addresses.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(Where(i, c), "the port has no address"));
    }
    bool has_v6 = false;
    for (const InterfaceAddress& a : c.addresses) {
      if (a.ip.family == IpFamily::kNone) {
        return absl::InvalidArgumentError(absl::StrCat(Where(i, c), "an address is empty"));
      }
      has_v6 = has_v6 || a.ip.family == IpFamily::kV6;
    }
    for (const IpAddress& gateway : c.gateways) {
      const bool on_link = std::any_of(c.addresses.begin(), c.addresses.end(),
                                       [&](const InterfaceAddress& a) { return a.OnLink(gateway); });
      const bool ours = std::any_of(c.addresses.begin(), c.addresses.end(),
                                    [&](const InterfaceAddress& a) { return a.ip == gateway; });
      if (gateway.family == IpFamily::kNone || !on_link || ours) {
        std::vector<std::string> prefixes;
        for (const InterfaceAddress& a : c.addresses) prefixes.push_back(a.ToString());
        return absl::InvalidArgumentError(absl::StrCat(
            Where(i, c), "gateway '", gateway.ToString(), "' ",
            ours ? "is one of the port's own addresses"
                 : absl::StrCat("is outside every prefix of the port (",
                                absl::StrJoin(prefixes, ", "), ")")));
      }
    }
    const uint16_t min_mtu = has_v6 ? kMinMtuV6 : kMinMtuV4;
    if (c.mtu < min_mtu) {
      return absl::InvalidArgumentError(absl::StrCat(Where(i, c), "mtu ", c.mtu, " is below ",
                                                     min_mtu, has_v6 ? " (IPv6 minimum)" : ""));
    }
    if (c.mtu + kMaxFrameOverhead > room) {
      return absl::InvalidArgumentError(absl::StrCat(
          Where(i, c), "mtu ", c.mtu, " does not fit the mbufs' ", room,
          "-byte data room (frames of up to ", c.mtu + kMaxFrameOverhead, " bytes)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PortSet>> PortSet::Open(const std::vector<PortConfig>& configs,
                                                       uint16_t rx_queues, uint16_t tx_queues,
                                                       rte_mempool* pool, uint16_t rx_ring,
                                                       uint16_t tx_ring) {
  if (absl::Status s = ValidateConfigs(configs, rx_queues, tx_queues, pool); !s.ok()) return s;
  std::unique_ptr<PortSet> set(new PortSet());
  for (size_t i = 0; i < configs.size(); ++i) {
    const PortConfig& c = configs[i];
    const std::string where = Where(i, c);
    PortInfo info;
    info.config = c;
    info.name = c.device;
    info.rx_queues = rx_queues;
    info.tx_queues = tx_queues;
    if (rte_eth_dev_get_port_by_name(c.device.c_str(), &info.port_id) != 0) {
      return absl::NotFoundError(
          absl::StrCat(where, "no such ethdev; ", AvailableDevices()));
    }
    rte_eth_dev_info dev;
    if (int ret = rte_eth_dev_info_get(info.port_id, &dev); ret != 0) {
      return absl::InternalError(absl::StrCat(where, "cannot read device info: ", DpdkError(ret)));
    }
    if (rx_queues > dev.max_rx_queues || tx_queues > dev.max_tx_queues) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, rx_queues, " RX and ", tx_queues, " TX queues asked, the device has at most ",
          dev.max_rx_queues, " and ", dev.max_tx_queues, " (fewer worker or handshake lcores)"));
    }
    if (c.mtu < dev.min_mtu || c.mtu > dev.max_mtu) {
      return absl::InvalidArgumentError(absl::StrCat(where, "mtu ", c.mtu, " is outside the ",
                                                     dev.min_mtu, "..", dev.max_mtu,
                                                     " the device takes"));
    }

    rte_eth_conf conf{};
    conf.rxmode.mtu = c.mtu;
    info.rx_offloads = dev.rx_offload_capa &
                       (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
    info.tx_offloads = dev.tx_offload_capa &
                       (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM);
    info.rx_ipv4_checksum = (info.rx_offloads & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) != 0;
    info.rx_l4_checksum = (info.rx_offloads & RTE_ETH_RX_OFFLOAD_UDP_CKSUM) != 0;
    info.tx_ipv4_checksum = (info.tx_offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
    info.tx_udp_checksum = (info.tx_offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0;
    conf.rxmode.offloads = info.rx_offloads;
    conf.txmode.offloads = info.tx_offloads;
    const uint64_t rss_udp = dev.flow_type_rss_offloads & RTE_ETH_RSS_UDP;
    if (rx_queues > 1 && rss_udp != 0) {
      // Other IP traffic is spread by addresses when the device can; UDP by addresses and ports.
      info.rss = true;
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      conf.rx_adv_conf.rss_conf.rss_hf = rss_udp | (dev.flow_type_rss_offloads & RTE_ETH_RSS_IP);
    }

    // From here on the device is touched: the destructor undoes it if anything fails.
    if (int ret = rte_eth_dev_configure(info.port_id, rx_queues, tx_queues, &conf); ret != 0) {
      return absl::InternalError(absl::StrCat(where, "configure failed: ", DpdkError(ret),
                                              " (is it opened twice?)"));
    }
    set->opened_.push_back(info.port_id);
    uint16_t rx_desc = rx_ring, tx_desc = tx_ring;
    if (int ret = rte_eth_dev_adjust_nb_rx_tx_desc(info.port_id, &rx_desc, &tx_desc); ret != 0) {
      return absl::InternalError(
          absl::StrCat(where, "ring sizes ", rx_ring, "/", tx_ring, " refused: ", DpdkError(ret)));
    }
    // The MTU given to configure is all some drivers (net_ring) keep; others take it here.
    if (int ret = rte_eth_dev_set_mtu(info.port_id, c.mtu); ret != 0 && ret != -ENOTSUP) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "mtu ", c.mtu, " refused: ", DpdkError(ret)));
    }
    const int socket = rte_eth_dev_socket_id(info.port_id);
    rte_eth_rxconf rxconf = dev.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    for (uint16_t q = 0; q < rx_queues; ++q) {
      if (int ret = rte_eth_rx_queue_setup(info.port_id, q, rx_desc, socket, &rxconf, pool);
          ret != 0) {
        return absl::ResourceExhaustedError(absl::StrCat(
            where, "RX queue ", q, " (", rx_desc, " descriptors) failed: ", DpdkError(ret),
            " (the mbuf pool must hold ports x RX queues x ring size, and more)"));
      }
    }
    rte_eth_txconf txconf = dev.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    for (uint16_t q = 0; q < tx_queues; ++q) {
      if (int ret = rte_eth_tx_queue_setup(info.port_id, q, tx_desc, socket, &txconf); ret != 0) {
        return absl::ResourceExhaustedError(absl::StrCat(
            where, "TX queue ", q, " (", tx_desc, " descriptors) failed: ", DpdkError(ret)));
      }
    }
    if (int ret = rte_eth_dev_start(info.port_id); ret != 0) {
      return absl::InternalError(absl::StrCat(where, "start failed: ", DpdkError(ret)));
    }
    // NDP solicitations go to solicited-node multicast groups; devices that cannot say so simply
    // pass every frame already (net_ring, net_tap).
    (void)rte_eth_allmulticast_enable(info.port_id);
    rte_ether_addr mac;
    if (int ret = rte_eth_macaddr_get(info.port_id, &mac); ret != 0) {
      return absl::InternalError(absl::StrCat(where, "no MAC address: ", DpdkError(ret)));
    }
    if (rte_is_zero_ether_addr(&mac)) {
      // Devices without an address of their own (net_ring): a random locally administered one,
      // so that ARP and NDP have something to announce.
      rte_eth_random_addr(mac.addr_bytes);
      (void)rte_eth_dev_default_mac_addr_set(info.port_id, &mac);
    }
    std::memcpy(info.mac.data(), mac.addr_bytes, info.mac.size());
    set->ports_.push_back(std::move(info));
  }
  return set;
}

PortSet::~PortSet() {
  for (uint16_t port_id : opened_) {
    (void)rte_eth_dev_stop(port_id);
    (void)rte_eth_dev_close(port_id);
  }
}

std::optional<size_t> PortSet::IndexOfPortId(uint16_t port_id) const {
  for (size_t i = 0; i < ports_.size(); ++i) {
    if (ports_[i].port_id == port_id) return i;
  }
  return std::nullopt;
}

bool PortSet::IsOurAddress(size_t i, const IpAddress& ip) const {
  for (const InterfaceAddress& a : ports_[i].config.addresses) {
    if (a.ip == ip) return true;
  }
  return false;
}

IpAddress PortSet::SourceAddress(size_t i, const IpAddress& dst) const {
  const IpAddress* first = nullptr;
  for (const InterfaceAddress& a : ports_[i].config.addresses) {
    if (a.ip.family != dst.family) continue;
    if (a.OnLink(dst)) return a.ip;
    if (first == nullptr) first = &a.ip;
  }
  return first != nullptr ? *first : IpAddress{};
}

IpAddress PortSet::NextHop(size_t i, const IpAddress& dst) const {
  const PortConfig& c = ports_[i].config;
  for (const InterfaceAddress& a : c.addresses) {
    if (a.OnLink(dst)) return dst;
  }
  for (const IpAddress& gateway : c.gateways) {
    if (gateway.family == dst.family) return gateway;
  }
  return IpAddress{};
}

std::optional<size_t> PortSet::PortForDestination(const IpAddress& dst) const {
  for (size_t i = 0; i < ports_.size(); ++i) {
    for (const InterfaceAddress& a : ports_[i].config.addresses) {
      if (a.OnLink(dst)) return i;
    }
  }
  for (size_t i = 0; i < ports_.size(); ++i) {
    for (const IpAddress& gateway : ports_[i].config.gateways) {
      if (gateway.family == dst.family) return i;
    }
  }
  return std::nullopt;
}

absl::StatusOr<PortStats> PortSet::Stats(size_t i) const {
  rte_eth_stats s;
  if (int ret = rte_eth_stats_get(ports_[i].port_id, &s); ret != 0) {
    return absl::InternalError(
        absl::StrCat("port ", ports_[i].name, ": cannot read statistics: ", DpdkError(ret)));
  }
  PortStats out;
  out.rx_packets = s.ipackets;
  out.rx_bytes = s.ibytes;
  out.rx_missed = s.imissed;
  out.rx_errors = s.ierrors;
  out.rx_no_mbuf = s.rx_nombuf;
  out.tx_packets = s.opackets;
  out.tx_bytes = s.obytes;
  out.tx_errors = s.oerrors;
  return out;
}

}  // namespace t38relay::dataplane
