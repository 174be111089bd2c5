// Text forms of IpAddress and SocketAddress (control plane, tools and tests; never per packet).
#include "dataplane/wire/address.h"

#include <arpa/inet.h>

#include <cstring>

namespace t38relay::dataplane {

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == IpFamily::kV4) {
    inet_ntop(AF_INET, bytes.data(), buf, sizeof(buf));
  } else if (family == IpFamily::kV6) {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
  }
  return buf;
}

std::string SocketAddress::ToString() const {
  // Appended piece by piece: gcc 12 -O3 warns (-Wrestrict, falsely) on "[" + std::string.
  std::string out;
  if (ip.family == IpFamily::kV6) out += '[';
  out += ip.ToString();
  if (ip.family == IpFamily::kV6) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

std::optional<IpAddress> ParseIpAddress(std::string_view text) {
  // inet_pton needs a terminated string; the longest IPv6 text is 45 characters.
  char buffer[64];
  if (text.empty() || text.size() >= sizeof(buffer) ||
      text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  IpAddress a;
  if (inet_pton(AF_INET, buffer, a.bytes.data()) == 1) {
    a.family = IpFamily::kV4;
    return a;
  }
  if (inet_pton(AF_INET6, buffer, a.bytes.data()) == 1) {
    a.family = IpFamily::kV6;
    return a;
  }
  return std::nullopt;
}

std::vector<uint8_t> AddressPortBytes(const SocketAddress& a) {
  std::vector<uint8_t> bytes(a.ip.bytes.begin(), a.ip.bytes.begin() + a.ip.size());
  bytes.push_back(static_cast<uint8_t>(a.port >> 8));
  bytes.push_back(static_cast<uint8_t>(a.port));
  return bytes;
}

}  // namespace t38relay::dataplane
