// ICMP and ICMPv6 echo and NDP neighbor solicitation and advertisement: parsing and replies.
#include "dataplane/wire/icmp.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "dataplane/wire/checksum.h"

namespace t38relay::dataplane {
namespace {

constexpr uint8_t kReplyTtl = 64;
constexpr uint8_t kNdpHopLimit = 255;
constexpr uint8_t kNdpOptionSourceLinkLayer = 1;
constexpr uint8_t kNdpOptionTargetLinkLayer = 2;
constexpr size_t kIcmpHeaderLength = 4;
constexpr size_t kNeighborAdvertisementLength = 32;  // with the target link-layer option

bool IsUnspecified(const IpAddress& ip) {
  return ip.family == IpFamily::kV6 && ip.bytes == std::array<uint8_t, 16>{};
}

// RFC 4291 section 2.7.1: ff02::1:ffXX:XXXX.
bool IsSolicitedNodeMulticast(const IpAddress& ip) {
  static constexpr std::array<uint8_t, 13> kPrefix = {0xff, 0x02, 0, 0, 0, 0, 0, 0,
                                                      0,    0,    0, 1, 0xff};
  return ip.family == IpFamily::kV6 && std::equal(kPrefix.begin(), kPrefix.end(), ip.bytes.begin());
}

// ff02::1 and its Ethernet mapping 33:33:00:00:00:01 (RFC 2464 section 7).
IpAddress AllNodes() {
  std::array<uint8_t, 16> bytes{};
  bytes[0] = 0xFF;
  bytes[1] = 0x02;
  bytes[15] = 0x01;
  return IpAddress::V6Bytes(bytes.data());
}
constexpr MacAddress kAllNodesMac = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};

size_t IcmpFrameHeaderLength(const EthernetHeader& ethernet, IpFamily family) {
  return EthernetHeaderLength(ethernet) + IpHeaderLength(family) + kIcmpHeaderLength;
}

// Writes Ethernet and IP headers and the ICMP header with its checksum in front of the
// body_length bytes the caller has already put at out[IcmpFrameHeaderLength()].
WireError WriteIcmpFrame(const EthernetHeader& ethernet, const IpAddress& src,
                         const IpAddress& dst, uint8_t ttl, uint8_t type, size_t body_length,
                         MutableBytes out, size_t* written) {
  const bool v6 = src.family == IpFamily::kV6;
  const uint8_t protocol = v6 ? kIpProtoIcmpv6 : kIpProtoIcmp;
  const size_t icmp_length = kIcmpHeaderLength + body_length;
  ByteWriter w(out);
  WriteEthernetHeader(ethernet, v6 ? kEtherTypeIpv6 : kEtherTypeIpv4, &w);
  if (!WriteIpHeader(src, dst, protocol, ttl, icmp_length, &w)) {
    return w.ok() ? WireError::kIcmpUnsupported : WireError::kPacketBufferTooSmall;
  }
  const size_t icmp_start = w.length();
  w.WriteU8(type);
  w.WriteU8(0);
  w.WriteU16(0);
  if (!w.ok() || body_length > w.remaining()) return WireError::kPacketBufferTooSmall;
  const Bytes icmp = out.subspan(icmp_start, icmp_length);
  const uint16_t checksum =
      v6 ? TransportChecksum(src, dst, protocol, icmp) : InternetChecksum(icmp);
  w.PatchU16(icmp_start + 2, checksum);
  *written = icmp_start + icmp_length;
  return WireError::kOk;
}

}  // namespace

// RFC 792 and RFC 4443 section 2.1: type, code, checksum, body.
WireError ParseIcmp(const PacketView& packet, IcmpMessage* out) {
  const bool v6 = packet.family == IpFamily::kV6;
  if (packet.l4_protocol != (v6 ? kIpProtoIcmpv6 : kIpProtoIcmp) ||
      packet.family == IpFamily::kNone) {
    return WireError::kIcmpUnsupported;
  }
  if (packet.fragment) return WireError::kIpFragment;
  ByteReader r(packet.l4);
  uint16_t checksum;
  if (!r.ReadU8(&out->type) || !r.ReadU8(&out->code) || !r.ReadU16(&checksum)) {
    return WireError::kIcmpTruncated;
  }
  const bool verifies =
      v6 ? TransportChecksumVerifies(packet.src, packet.dst, kIpProtoIcmpv6, packet.l4)
         : ChecksumVerifies(ChecksumAdd(0, packet.l4));
  if (!verifies) return WireError::kIcmpBadChecksum;
  out->body = r.ReadRemaining();
  return WireError::kOk;
}

// RFC 792 "Echo or Echo Reply Message", RFC 4443 sections 4.1 and 4.2: identifier, sequence, data.
WireError ParseIcmpEcho(const PacketView& packet, IcmpEcho* out) {
  IcmpMessage message;
  if (WireError e = ParseIcmp(packet, &message); e != WireError::kOk) return e;
  const bool v6 = packet.family == IpFamily::kV6;
  const bool is_echo = v6 ? message.type == kIcmpv6EchoRequest || message.type == kIcmpv6EchoReply
                          : message.type == kIcmpEchoRequest || message.type == kIcmpEchoReply;
  if (!is_echo || message.code != 0) return WireError::kIcmpUnsupported;
  ByteReader r(message.body);
  if (!r.ReadU16(&out->identifier) || !r.ReadU16(&out->sequence)) {
    return WireError::kIcmpTruncated;
  }
  out->type = message.type;
  out->data = r.ReadRemaining();
  return WireError::kOk;
}

WireError BuildIcmpEchoReply(const PacketView& request_packet, const IcmpEcho& request,
                             const MacAddress& our_mac, MutableBytes out, size_t* written) {
  const bool v6 = request_packet.family == IpFamily::kV6;
  if (request.type != (v6 ? kIcmpv6EchoRequest : kIcmpEchoRequest)) {
    return WireError::kIcmpUnsupported;
  }
  const EthernetHeader ethernet = ReplyEthernetHeader(request_packet.ethernet, our_mac);
  const size_t body_at = IcmpFrameHeaderLength(ethernet, request_packet.family);
  const size_t body_length = 4 + request.data.size();
  if (body_at > out.size() || body_length > out.size() - body_at) {
    return WireError::kPacketBufferTooSmall;
  }
  // memmove: out may be the request's own frame (an in-place reply), so the data may overlap.
  if (!request.data.empty()) {
    std::memmove(out.data() + body_at + 4, request.data.data(), request.data.size());
  }
  ByteWriter ids(out.subspan(body_at, 4));
  ids.WriteU16(request.identifier);
  ids.WriteU16(request.sequence);
  return WriteIcmpFrame(ethernet, request_packet.dst, request_packet.src, kReplyTtl,
                        v6 ? kIcmpv6EchoReply : kIcmpEchoReply, body_length, out, written);
}

// RFC 4861 section 4.3: reserved (4), target address (16), options.
namespace {

// The NDP options after the fixed part (RFC 4861 section 4.6: type, length in units of 8 octets,
// 0 invalid, data): finds the link-layer address option of `wanted` type; false on a bad option.
bool ReadLinkLayerOption(ByteReader& r, uint8_t wanted, bool* found, MacAddress* mac) {
  *found = false;
  while (!r.empty()) {
    uint8_t type, length;
    Bytes data;
    if (!r.ReadU8(&type) || !r.ReadU8(&length)) return false;
    if (length == 0 || !r.ReadBytes(size_t{length} * 8 - 2, &data)) return false;
    if (type == wanted) {
      *found = true;
      ByteReader(data).CopyBytes(6, mac->data());
    }
  }
  return true;
}

}  // namespace

WireError ParseNeighborSolicitation(const PacketView& packet, NeighborSolicitation* out) {
  if (packet.family != IpFamily::kV6) return WireError::kIcmpUnsupported;
  IcmpMessage message;
  if (WireError e = ParseIcmp(packet, &message); e != WireError::kOk) return e;
  if (message.type != kNdpNeighborSolicitation || message.code != 0) {
    return WireError::kIcmpUnsupported;
  }
  if (packet.ttl != kNdpHopLimit) return WireError::kNdpBadHopLimit;
  ByteReader r(message.body);
  Bytes target;
  if (!r.Skip(4) || !r.ReadBytes(16, &target)) return WireError::kNdpTruncated;
  out->target = IpAddress::V6Bytes(target.data());
  if (target[0] == 0xFF) return WireError::kNdpBadTarget;
  if (!ReadLinkLayerOption(r, kNdpOptionSourceLinkLayer, &out->has_source_mac,
                           &out->source_mac)) {
    return WireError::kNdpBadOption;
  }
  if (IsUnspecified(packet.src)) {
    if (out->has_source_mac) return WireError::kNdpBadOption;
    if (!IsSolicitedNodeMulticast(packet.dst)) return WireError::kNdpBadDestination;
  }
  return WireError::kOk;
}

// RFC 4861 section 4.4: flags (R, S, O) and reserved (4), target address (16), options.
WireError BuildNeighborAdvertisement(const PacketView& ns_packet, const NeighborSolicitation& ns,
                                     const MacAddress& our_mac, MutableBytes out,
                                     size_t* written) {
  if (ns_packet.family != IpFamily::kV6 || ns.target.family != IpFamily::kV6) {
    return WireError::kIcmpUnsupported;
  }
  // Section 7.2.4: a reply to duplicate address detection goes to all-nodes, unsolicited.
  const bool dad = IsUnspecified(ns_packet.src);
  EthernetHeader ethernet = ReplyEthernetHeader(ns_packet.ethernet, our_mac);
  if (dad) {
    ethernet.dst = kAllNodesMac;
  } else if (ns.has_source_mac) {
    ethernet.dst = ns.source_mac;
  }
  const size_t body_at = IcmpFrameHeaderLength(ethernet, IpFamily::kV6);
  constexpr size_t kBodyLength = kNeighborAdvertisementLength - kIcmpHeaderLength;
  if (body_at > out.size() || kBodyLength > out.size() - body_at) {
    return WireError::kPacketBufferTooSmall;
  }
  const IpAddress dst = dad ? AllNodes() : ns_packet.src;
  ByteWriter w(out.subspan(body_at, kBodyLength));
  w.WriteU8(dad ? kNdpFlagOverride : kNdpFlagSolicited | kNdpFlagOverride);
  w.WriteZeros(3);
  w.WriteBytes(Bytes(ns.target.bytes.data(), 16));
  w.WriteU8(kNdpOptionTargetLinkLayer);
  w.WriteU8(1);
  w.WriteBytes(our_mac);
  return WriteIcmpFrame(ethernet, ns.target, dst, kNdpHopLimit, kNdpNeighborAdvertisement,
                        kBodyLength, out, written);
}

// RFC 4861 section 4.3, sent as section 7.2.2 says: reserved (4), target address (16), source
// link-layer address option.
WireError BuildNeighborSolicitation(const MacAddress& our_mac, const IpAddress& our_ip,
                                    const IpAddress& target, MutableBytes out, size_t* written) {
  if (our_ip.family != IpFamily::kV6 || target.family != IpFamily::kV6 || target.bytes[0] == 0xFF) {
    return WireError::kIcmpUnsupported;
  }
  std::array<uint8_t, 16> group = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
  std::copy(target.bytes.begin() + 13, target.bytes.end(), group.begin() + 13);
  EthernetHeader ethernet;
  ethernet.dst = {0x33, 0x33, 0xff, target.bytes[13], target.bytes[14], target.bytes[15]};
  ethernet.src = our_mac;
  const size_t body_at = IcmpFrameHeaderLength(ethernet, IpFamily::kV6);
  constexpr size_t kBodyLength = 4 + 16 + 8;
  if (body_at > out.size() || kBodyLength > out.size() - body_at) {
    return WireError::kPacketBufferTooSmall;
  }
  ByteWriter w(out.subspan(body_at, kBodyLength));
  w.WriteZeros(4);
  w.WriteBytes(Bytes(target.bytes.data(), 16));
  w.WriteU8(kNdpOptionSourceLinkLayer);
  w.WriteU8(1);
  w.WriteBytes(our_mac);
  return WriteIcmpFrame(ethernet, our_ip, IpAddress::V6Bytes(group.data()), kNdpHopLimit,
                        kNdpNeighborSolicitation, kBodyLength, out, written);
}

// RFC 4861 section 4.4: flags (R, S, O) and reserved (4), target address (16), options.
WireError ParseNeighborAdvertisement(const PacketView& packet, NeighborAdvertisement* out) {
  if (packet.family != IpFamily::kV6) return WireError::kIcmpUnsupported;
  IcmpMessage message;
  if (WireError e = ParseIcmp(packet, &message); e != WireError::kOk) return e;
  if (message.type != kNdpNeighborAdvertisement || message.code != 0) {
    return WireError::kIcmpUnsupported;
  }
  if (packet.ttl != kNdpHopLimit) return WireError::kNdpBadHopLimit;
  ByteReader r(message.body);
  Bytes target;
  if (!r.ReadU8(&out->flags) || !r.Skip(3) || !r.ReadBytes(16, &target)) {
    return WireError::kNdpTruncated;
  }
  out->flags &= kNdpFlagRouter | kNdpFlagSolicited | kNdpFlagOverride;
  out->target = IpAddress::V6Bytes(target.data());
  if (target[0] == 0xFF) return WireError::kNdpBadTarget;
  if (!ReadLinkLayerOption(r, kNdpOptionTargetLinkLayer, &out->has_target_mac,
                           &out->target_mac)) {
    return WireError::kNdpBadOption;
  }
  if (packet.dst.bytes[0] == 0xFF && (out->flags & kNdpFlagSolicited) != 0) {
    return WireError::kNdpBadDestination;
  }
  return WireError::kOk;
}

}  // namespace t38relay::dataplane
