// IP addresses and UDP endpoints as the wire codecs hand them out (both families, no allocation).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace t38relay::dataplane {

enum class IpFamily : uint8_t { kNone = 0, kV4 = 4, kV6 = 6 };

// An IPv4 address lives in bytes[0..3]; the rest stays zero so that == compares whole values.
struct IpAddress {
  IpFamily family = IpFamily::kNone;
  std::array<uint8_t, 16> bytes{};

  // Built in place (inline): the packet path makes these for every datagram.
  static IpAddress V4(uint32_t host_order) {
    IpAddress a;
    a.family = IpFamily::kV4;
    a.bytes[0] = static_cast<uint8_t>(host_order >> 24);
    a.bytes[1] = static_cast<uint8_t>(host_order >> 16);
    a.bytes[2] = static_cast<uint8_t>(host_order >> 8);
    a.bytes[3] = static_cast<uint8_t>(host_order);
    return a;
  }
  static IpAddress V4Bytes(const uint8_t* p) {
    IpAddress a;
    a.AssignV4Bytes(p);
    return a;
  }
  // The same in place: a parser fills its view without a temporary to copy (and reload).
  void AssignV4Bytes(const uint8_t* p) {
    family = IpFamily::kV4;
    std::memcpy(bytes.data(), p, 4);
    std::memset(bytes.data() + 4, 0, bytes.size() - 4);
  }
  static IpAddress V6Bytes(const uint8_t* p) {
    IpAddress a;
    a.family = IpFamily::kV6;
    std::memcpy(a.bytes.data(), p, 16);
    return a;
  }
  size_t size() const { return family == IpFamily::kV4 ? 4 : family == IpFamily::kV6 ? 16 : 0; }
  // Dotted quad or RFC 5952 text; "" for kNone.
  std::string ToString() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct SocketAddress {
  IpAddress ip;
  uint16_t port = 0;
  // "192.0.2.1:5000" or "[2001:db8::1]:5000".
  std::string ToString() const;
  friend bool operator==(const SocketAddress&, const SocketAddress&) = default;
};

// The address's 4 or 16 bytes, then the port big-endian: what a DTLS cookie is bound to.
std::vector<uint8_t> AddressPortBytes(const SocketAddress& a);

// Dotted quad or any IPv6 text inet_pton takes (no zone, no brackets); nullopt otherwise.
std::optional<IpAddress> ParseIpAddress(std::string_view text);

}  // namespace t38relay::dataplane
