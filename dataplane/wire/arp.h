// ARP for IPv4 over Ethernet (RFC 826): parsing, and the reply to a request for one of our addresses.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/wire/address.h"
#include "dataplane/wire/byte_reader.h"
#include "dataplane/wire/packet.h"
#include "dataplane/wire/wire_error.h"

namespace t38relay::dataplane {

inline constexpr uint16_t kArpRequest = 1;
inline constexpr uint16_t kArpReply = 2;
inline constexpr size_t kArpLength = 28;

struct ArpPacket {
  uint16_t operation = 0;  // kArpRequest or kArpReply
  MacAddress sender_mac{};
  IpAddress sender_ip;
  MacAddress target_mac{};
  IpAddress target_ip;
};

// Parses PacketView::l3 of an ARP frame. Anything but Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6,
// plen 4) with a request or reply operation is kArpUnsupported.
WireError ParseArp(Bytes l3, ArpPacket* out);

// The Ethernet frame answering `request` (received in `request_frame`) with our_mac: the caller has
// checked that request.target_ip is ours. Padded to the 60-byte Ethernet minimum (without FCS).
WireError BuildArpReply(const PacketView& request_frame, const ArpPacket& request,
                        const MacAddress& our_mac, MutableBytes out, size_t* written);

// The broadcast request asking who has target_ip, from our_mac and our_ip (both IPv4; our_ip may be
// 0.0.0.0 for an RFC 5227 probe), target hardware address zero. Padded to 60 bytes, untagged.
WireError BuildArpRequest(const MacAddress& our_mac, const IpAddress& our_ip,
                          const IpAddress& target_ip, MutableBytes out, size_t* written);

}  // namespace t38relay::dataplane
