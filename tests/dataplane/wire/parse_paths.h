// ParseFrame's two paths compared: an untagged Ethernet IPv4 frame (the common ones take the
// fixed-offset path) against the same IP packet parsed as bare IPv4 (always the general path).
#pragma once

#include <algorithm>
#include <string>

#include "dataplane/wire/packet.h"

namespace t38relay::testing {

// "" when both parses agree (or the frame is not untagged Ethernet IPv4), else the first field
// that differs.
inline std::string CompareWithBareIpv4Parse(dataplane::Bytes frame,
                                            dataplane::ParseOptions options) {
  using dataplane::Bytes;
  using dataplane::LinkType;
  using dataplane::PacketView;
  using dataplane::WireError;
  if (frame.size() < 14 || frame[12] != 0x08 || frame[13] != 0x00) return "";
  PacketView e, b;
  const WireError ee = dataplane::ParseFrame(LinkType::kEthernet, frame, &e, options);
  const WireError be = dataplane::ParseFrame(LinkType::kIpv4, frame.subspan(14), &b, options);
  if (ee != be) {
    return "error " + std::string(dataplane::WireErrorName(ee)) + " vs " +
           std::string(dataplane::WireErrorName(be));
  }
  const auto same_span = [](Bytes x, Bytes y) {
    return x.data() == y.data() && x.size() == y.size();
  };
  const auto default_tag = [](const dataplane::VlanTag& t) {
    return t.tpid == dataplane::VlanTag().tpid && t.tci == 0;
  };
  // The Ethernet part from the frame itself; then the IP view, offsets 14 apart.
  if (e.link_type != LinkType::kEthernet || e.ethertype != dataplane::kEtherTypeIpv4 ||
      e.l3_offset != 14 || e.ethernet.vlan_count != 0 ||
      !std::all_of(e.ethernet.vlans.begin(), e.ethernet.vlans.end(), default_tag) ||
      !std::equal(e.ethernet.dst.begin(), e.ethernet.dst.end(), frame.begin()) ||
      !std::equal(e.ethernet.src.begin(), e.ethernet.src.end(), frame.begin() + 6)) {
    return "ethernet";
  }
  if (!same_span(e.l3, b.l3)) return "l3";
  if (e.family != b.family || e.src != b.src || e.dst != b.dst || e.ttl != b.ttl) return "ip";
  if (e.fragment != b.fragment || e.first_fragment != b.first_fragment) return "fragment";
  if (e.ipv4_checksum_ok != b.ipv4_checksum_ok) return "ipv4_checksum_ok";
  if (e.l4_protocol != b.l4_protocol) return "l4_protocol";
  if (e.l4_offset != (b.l4_offset == 0 ? 0 : b.l4_offset + 14) || !same_span(e.l4, b.l4)) {
    return "l4";
  }
  if (e.src_port != b.src_port || e.dst_port != b.dst_port || !same_span(e.payload, b.payload)) {
    return "udp";
  }
  if (e.udp_checksum != b.udp_checksum || e.udp_checksum_checked != b.udp_checksum_checked ||
      e.udp_checksum_ok != b.udp_checksum_ok) {
    return "udp checksum";
  }
  return "";
}

}  // namespace t38relay::testing
