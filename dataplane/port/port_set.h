// The relay's ethdev ports: opening and configuring them, and where a destination leaves from.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/port/port_config.h"
#include "dataplane/wire/address.h"
#include "dataplane/wire/packet.h"

struct rte_mempool;

namespace t38relay::dataplane {

// One opened port. The offload flags say what the device does for us; workers check them to
// skip software checksums.
struct PortInfo {
  uint16_t port_id = 0;
  std::string name;
  MacAddress mac{};
  PortConfig config;
  uint16_t rx_queues = 0;
  uint16_t tx_queues = 0;
  uint64_t rx_offloads = 0;  // RTE_ETH_RX_OFFLOAD_* enabled
  uint64_t tx_offloads = 0;  // RTE_ETH_TX_OFFLOAD_* enabled
  bool rx_ipv4_checksum = false;  // mbufs carry RTE_MBUF_F_RX_IP_CKSUM_{GOOD,BAD}
  bool rx_l4_checksum = false;    // mbufs carry RTE_MBUF_F_RX_L4_CKSUM_{GOOD,BAD}
  bool tx_ipv4_checksum = false;  // RTE_MBUF_F_TX_IP_CKSUM may be requested
  bool tx_udp_checksum = false;   // RTE_MBUF_F_TX_UDP_CKSUM may be requested
  // Several RX queues spread by RSS on UDP. False with one queue, or when the device cannot:
  // then every packet arrives on queue 0.
  bool rss = false;
};

// rte_eth_stats_get, by name.
struct PortStats {
  uint64_t rx_packets = 0;
  uint64_t rx_bytes = 0;
  uint64_t rx_missed = 0;  // dropped by the device: RX queues full
  uint64_t rx_errors = 0;
  uint64_t rx_no_mbuf = 0;
  uint64_t tx_packets = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_errors = 0;
  template <typename F>
  void ForEach(F&& f) const {
    f("rx-packets", rx_packets);
    f("rx-bytes", rx_bytes);
    f("rx-missed", rx_missed);
    f("rx-errors", rx_errors);
    f("rx-no-mbuf", rx_no_mbuf);
    f("tx-packets", tx_packets);
    f("tx-bytes", tx_bytes);
    f("tx-errors", tx_errors);
  }
};

// Opens the configured ports (started, receiving) and stops and closes them when destroyed.
// Closing releases a virtual device's port: it cannot be opened again in the same process.
// The accessors are const and allocation-free, so worker lcores may call them.
class PortSet {
 public:
  // Every port gets rx_queues RX and tx_queues TX queues of the given ring sizes; RX buffers come
  // from `pool`. Errors name the device and what is wrong (unknown device with the list of the
  // ones EAL knows, too many queues, an MTU the device or the pool's buffers cannot take, a
  // gateway outside every prefix, ...).
  static absl::StatusOr<std::unique_ptr<PortSet>> Open(const std::vector<PortConfig>& configs,
                                                       uint16_t rx_queues, uint16_t tx_queues,
                                                       rte_mempool* pool, uint16_t rx_ring = 1024,
                                                       uint16_t tx_ring = 1024);
  ~PortSet();
  PortSet(const PortSet&) = delete;
  PortSet& operator=(const PortSet&) = delete;

  size_t size() const { return ports_.size(); }
  const PortInfo& port(size_t i) const { return ports_[i]; }
  std::optional<size_t> IndexOfPortId(uint16_t port_id) const;

  // Whether ip is one of port i's addresses.
  bool IsOurAddress(size_t i, const IpAddress& ip) const;
  // Our address on port i to send to dst from: the one whose prefix holds dst, else the first of
  // dst's family; family kNone when port i has none of that family.
  IpAddress SourceAddress(size_t i, const IpAddress& dst) const;
  // dst itself when it is on-link on port i, else port i's first gateway of dst's family, else
  // IpAddress{} (family kNone: unreachable from port i).
  IpAddress NextHop(size_t i, const IpAddress& dst) const;
  // The port dst is on-link on, else the first port with a gateway of dst's family.
  std::optional<size_t> PortForDestination(const IpAddress& dst) const;

  absl::StatusOr<PortStats> Stats(size_t i) const;

 private:
  PortSet() = default;

  std::vector<PortInfo> ports_;
  // Ports configured so far; the destructor stops and closes these (also after a failed Open).
  std::vector<uint16_t> opened_;
};

}  // namespace t38relay::dataplane
