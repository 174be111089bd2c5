// The key a worker lcore steers a packet by: the local (destination) UDP port and local address.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "dataplane/wire/address.h"

namespace t38relay::dataplane {

// 20 bytes with no padding, so that rte_hash can hash and compare it as raw bytes. An IPv4
// address sits in address[0..3] with the rest zero, as in IpAddress.
struct FlowKey {
  uint16_t port = 0;  // host order
  IpFamily family = IpFamily::kNone;
  uint8_t reserved = 0;
  uint8_t address[16] = {};

  static FlowKey Of(const IpAddress& ip, uint16_t port) {
    FlowKey key;
    key.port = port;
    key.family = ip.family;
    std::memcpy(key.address, ip.bytes.data(), sizeof(key.address));
    return key;
  }
  static FlowKey Of(const SocketAddress& local) { return Of(local.ip, local.port); }

  friend bool operator==(const FlowKey& a, const FlowKey& b) {
    return std::memcmp(&a, &b, sizeof(FlowKey)) == 0;
  }
};
static_assert(sizeof(FlowKey) == 20);
static_assert(std::has_unique_object_representations_v<FlowKey>);
static_assert(std::is_trivially_copyable_v<FlowKey>);

}  // namespace t38relay::dataplane
