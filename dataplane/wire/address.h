// IP addresses and UDP endpoints as the wire codecs hand them out (both families, no allocation).
#pragma once

#include <array>
#include <cstdint>
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

  static IpAddress V4(uint32_t host_order);
  static IpAddress V4Bytes(const uint8_t* p);
  static IpAddress V6Bytes(const uint8_t* p);
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
