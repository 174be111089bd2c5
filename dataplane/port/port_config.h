// What the relay is told about one port: the ethdev, its addresses with prefixes, its gateways.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/wire/address.h"

namespace t38relay::dataplane {

// An address of ours with the length of its on-link prefix ("198.18.0.1/24").
struct InterfaceAddress {
  IpAddress ip;
  uint8_t prefix_length = 0;
  // Whether `other` (same family) lies in this address's prefix.
  bool OnLink(const IpAddress& other) const;
  std::string ToString() const;
  friend bool operator==(const InterfaceAddress&, const InterfaceAddress&) = default;
};

// "ADDRESS/PREFIX"; the prefix is required (0..32 for IPv4, 0..128 for IPv6).
absl::StatusOr<InterfaceAddress> ParseInterfaceAddress(std::string_view text);

struct PortConfig {
  // An ethdev name as rte_eth_dev_get_port_by_name knows it: "net_tap0", "0000:03:00.0", ...
  std::string device;
  std::vector<InterfaceAddress> addresses;
  // Next hops for destinations outside every prefix, at most one per family is used (the first).
  std::vector<IpAddress> gateways;
  uint16_t mtu = 1500;
};

}  // namespace t38relay::dataplane
