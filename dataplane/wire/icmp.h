// ICMP and ICMPv6 echo (RFC 792, RFC 4443 section 4) and NDP neighbor solicitation and
// advertisement (RFC 4861 sections 4.3, 4.4, 7.1.1, 7.2.4): parsing and replies.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/wire/address.h"
#include "dataplane/wire/byte_reader.h"
#include "dataplane/wire/packet.h"
#include "dataplane/wire/wire_error.h"

namespace t38relay::dataplane {

inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmpv6EchoRequest = 128;
inline constexpr uint8_t kIcmpv6EchoReply = 129;
inline constexpr uint8_t kNdpNeighborSolicitation = 135;
inline constexpr uint8_t kNdpNeighborAdvertisement = 136;
// Neighbor Advertisement flags (RFC 4861 section 4.4), first byte of the 32-bit field.
inline constexpr uint8_t kNdpFlagRouter = 0x80;
inline constexpr uint8_t kNdpFlagSolicited = 0x40;
inline constexpr uint8_t kNdpFlagOverride = 0x20;

// An ICMP or ICMPv6 message whose checksum verified (ICMPv6 over the RFC 8200 pseudo-header).
struct IcmpMessage {
  uint8_t type = 0;
  uint8_t code = 0;
  Bytes body;  // after type, code and checksum
};

// Parses packet.l4 of an ICMP (IPv4) or ICMPv6 (IPv6) packet. kIpFragment for fragments (their
// checksum cannot be checked), kIcmpTruncated, kIcmpBadChecksum, kIcmpUnsupported for other L4.
WireError ParseIcmp(const PacketView& packet, IcmpMessage* out);

struct IcmpEcho {
  uint8_t type = 0;  // request or reply of the packet's family
  uint16_t identifier = 0;
  uint16_t sequence = 0;
  Bytes data;
};

// An echo request or reply of either family; other types are kIcmpUnsupported.
WireError ParseIcmpEcho(const PacketView& packet, IcmpEcho* out);

// The frame answering an echo request: same identifier, sequence and data, from the address the
// request was sent to (the caller has checked it is ours) with our_mac, on the request's VLANs.
// out may be the request's own frame (an in-place reply).
WireError BuildIcmpEchoReply(const PacketView& request_packet, const IcmpEcho& request,
                             const MacAddress& our_mac, MutableBytes out, size_t* written);

struct NeighborSolicitation {
  IpAddress target;
  bool has_source_mac = false;  // the Source Link-Layer Address option
  MacAddress source_mac{};
};

// RFC 4861 section 7.1.1 validity: hop limit 255 (kNdpBadHopLimit: proves the sender is on-link),
// code 0, checksum, at least 24 bytes (kNdpTruncated), no option of length 0 or past the end
// (kNdpBadOption), a unicast target (kNdpBadTarget), and, when the source is unspecified
// (duplicate address detection), no source link-layer option and a solicited-node multicast
// destination (kNdpBadDestination).
WireError ParseNeighborSolicitation(const PacketView& packet, NeighborSolicitation* out);

// The Neighbor Advertisement answering `ns` for its target (the caller has checked the target is
// ours): Override set with our_mac as the target link-layer option; Solicited set and sent back to
// the solicitor, or, for duplicate address detection, Solicited clear and sent to all-nodes.
WireError BuildNeighborAdvertisement(const PacketView& ns_packet, const NeighborSolicitation& ns,
                                     const MacAddress& our_mac, MutableBytes out, size_t* written);

// The Neighbor Solicitation resolving `target` (RFC 4861 section 7.2.2): from our_ip with our_mac as
// the source link-layer option, to the target's solicited-node multicast group ff02::1:ffXX:XXXX
// (RFC 4291 section 2.7.1) and its Ethernet mapping 33:33:ff:XX:XX:XX (RFC 2464 section 7), hop
// limit 255, untagged. Both addresses IPv6 (else kIcmpUnsupported), target unicast.
WireError BuildNeighborSolicitation(const MacAddress& our_mac, const IpAddress& our_ip,
                                    const IpAddress& target, MutableBytes out, size_t* written);

struct NeighborAdvertisement {
  uint8_t flags = 0;  // kNdpFlagRouter | kNdpFlagSolicited | kNdpFlagOverride
  IpAddress target;
  bool has_target_mac = false;  // the Target Link-Layer Address option
  MacAddress target_mac{};
};

// RFC 4861 section 7.1.2 validity: hop limit 255 (kNdpBadHopLimit), code 0, checksum, at least 24
// bytes (kNdpTruncated), no option of length 0 or past the end (kNdpBadOption), a unicast target
// (kNdpBadTarget), and Solicited clear when sent to a multicast address (kNdpBadDestination).
WireError ParseNeighborAdvertisement(const PacketView& packet, NeighborAdvertisement* out);

}  // namespace t38relay::dataplane
