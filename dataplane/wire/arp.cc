// ARP for IPv4 over Ethernet (RFC 826): parsing, requests, and the reply to a request for one of
// our addresses.
#include "dataplane/wire/arp.h"

namespace t38relay::dataplane {
namespace {

constexpr uint16_t kArpHardwareEthernet = 1;
constexpr size_t kEthernetMinFrame = 60;

// An Ethernet frame carrying one ARP packet, padded to the minimum frame size.
WireError WriteArpFrame(const EthernetHeader& ethernet, uint16_t operation,
                        const MacAddress& sender_mac, const IpAddress& sender_ip,
                        const MacAddress& target_mac, const IpAddress& target_ip,
                        MutableBytes out, size_t* written) {
  ByteWriter w(out);
  WriteEthernetHeader(ethernet, kEtherTypeArp, &w);
  w.WriteU16(kArpHardwareEthernet);
  w.WriteU16(kEtherTypeIpv4);
  w.WriteU8(6);
  w.WriteU8(4);
  w.WriteU16(operation);
  w.WriteBytes(sender_mac);
  w.WriteBytes(Bytes(sender_ip.bytes.data(), 4));
  w.WriteBytes(target_mac);
  w.WriteBytes(Bytes(target_ip.bytes.data(), 4));
  if (w.length() < kEthernetMinFrame) w.WriteZeros(kEthernetMinFrame - w.length());
  if (!w.ok()) return WireError::kPacketBufferTooSmall;
  *written = w.length();
  return WireError::kOk;
}

}  // namespace

// RFC 826 "Packet format": hrd, pro, hln, pln, op, sha, spa, tha, tpa.
WireError ParseArp(Bytes l3, ArpPacket* out) {
  ByteReader r(l3);
  uint16_t hardware, protocol;
  uint8_t hardware_length, protocol_length;
  if (!r.ReadU16(&hardware) || !r.ReadU16(&protocol) || !r.ReadU8(&hardware_length) ||
      !r.ReadU8(&protocol_length) || !r.ReadU16(&out->operation)) {
    return WireError::kArpTruncated;
  }
  if (hardware != kArpHardwareEthernet || protocol != kEtherTypeIpv4 || hardware_length != 6 ||
      protocol_length != 4 ||
      (out->operation != kArpRequest && out->operation != kArpReply)) {
    return WireError::kArpUnsupported;
  }
  Bytes sender_ip, target_ip;
  if (!r.CopyBytes(6, out->sender_mac.data()) || !r.ReadBytes(4, &sender_ip) ||
      !r.CopyBytes(6, out->target_mac.data()) || !r.ReadBytes(4, &target_ip)) {
    return WireError::kArpTruncated;
  }
  out->sender_ip = IpAddress::V4Bytes(sender_ip.data());
  out->target_ip = IpAddress::V4Bytes(target_ip.data());
  return WireError::kOk;
}

WireError BuildArpReply(const PacketView& request_frame, const ArpPacket& request,
                        const MacAddress& our_mac, MutableBytes out, size_t* written) {
  if (request.sender_ip.family != IpFamily::kV4 || request.target_ip.family != IpFamily::kV4) {
    return WireError::kArpUnsupported;
  }
  EthernetHeader ethernet = ReplyEthernetHeader(request_frame.ethernet, our_mac);
  // RFC 826: the reply goes to the sender hardware address the request carried.
  ethernet.dst = request.sender_mac;
  return WriteArpFrame(ethernet, kArpReply, our_mac, request.target_ip, request.sender_mac,
                       request.sender_ip, out, written);
}

WireError BuildArpRequest(const MacAddress& our_mac, const IpAddress& our_ip,
                          const IpAddress& target_ip, MutableBytes out, size_t* written) {
  if (our_ip.family != IpFamily::kV4 || target_ip.family != IpFamily::kV4) {
    return WireError::kArpUnsupported;
  }
  EthernetHeader ethernet;
  ethernet.dst = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  ethernet.src = our_mac;
  // RFC 826: the target hardware address is what the request asks for (zero).
  return WriteArpFrame(ethernet, kArpRequest, our_mac, our_ip, MacAddress{}, target_ip, out,
                       written);
}

}  // namespace t38relay::dataplane
