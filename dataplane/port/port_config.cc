// Parsing and prefix arithmetic for the port configuration.
#include "dataplane/port/port_config.h"

#include <charconv>

#include "absl/strings/str_cat.h"

namespace t38relay::dataplane {

bool InterfaceAddress::OnLink(const IpAddress& other) const {
  if (other.family != ip.family || ip.family == IpFamily::kNone) return false;
  size_t full_bytes = prefix_length / 8;
  for (size_t i = 0; i < full_bytes; ++i) {
    if (ip.bytes[i] != other.bytes[i]) return false;
  }
  int rest = prefix_length % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (ip.bytes[full_bytes] & mask) == (other.bytes[full_bytes] & mask);
}

std::string InterfaceAddress::ToString() const {
  return absl::StrCat(ip.ToString(), "/", prefix_length);
}

absl::StatusOr<InterfaceAddress> ParseInterfaceAddress(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", std::string(text), "' has no prefix length: write it as ADDRESS/PREFIX, e.g. 198.18.0.1/24"));
  }
  std::optional<IpAddress> ip = ParseIpAddress(text.substr(0, slash));
  if (!ip) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", std::string(text), "' is not an IP prefix: bad address"));
  }
  std::string_view digits = text.substr(slash + 1);
  unsigned prefix = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
  unsigned max = ip->family == IpFamily::kV4 ? 32 : 128;
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      prefix > max) {
    return absl::InvalidArgumentError(absl::StrCat("'", std::string(text),
                                                   "' is not an IP prefix: the length must be 0..",
                                                   max));
  }
  return InterfaceAddress{*ip, static_cast<uint8_t>(prefix)};
}

}  // namespace t38relay::dataplane
