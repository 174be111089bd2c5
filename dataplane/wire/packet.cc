// Link, network and transport layers: frame parsing and the header writers replies are built with.
#include "dataplane/wire/packet.h"

#include <cstring>

#include "dataplane/wire/checksum.h"

namespace t38relay::dataplane {
namespace {

// IPv6 extension headers (RFC 8200 section 4; AH is RFC 4302 section 2).
constexpr uint8_t kIpv6HopByHop = 0;
constexpr uint8_t kIpv6Routing = 43;
constexpr uint8_t kIpv6Fragment = 44;
constexpr uint8_t kIpv6Ah = 51;
constexpr uint8_t kIpv6DestinationOptions = 60;

// Address family values of the BSD loopback header: AF_INET everywhere, AF_INET6 differs by OS
// (Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30).
constexpr uint32_t kBsdAfInet = 2;
bool IsBsdAfInet6(uint32_t af) { return af == 10 || af == 24 || af == 28 || af == 30; }

bool IsVlanTpid(uint16_t type) { return type == kEtherTypeVlan || type == kEtherTypeQinQ; }

// 802.1Q clause 9.3 / 802.1ad: TPID, TCI pairs before the real ethertype, outermost first.
WireError ParseVlanTags(ByteReader* r, uint16_t* type, PacketView* out) {
  while (IsVlanTpid(*type)) {
    EthernetHeader& eth = out->ethernet;
    if (eth.vlan_count == kMaxVlanTags) return WireError::kEthernetTooManyVlans;
    VlanTag& tag = eth.vlans[eth.vlan_count];
    tag.tpid = *type;
    if (!r->ReadU16(&tag.tci) || !r->ReadU16(type)) return WireError::kEthernetTruncated;
    ++eth.vlan_count;
  }
  return WireError::kOk;
}

// Leaves r at the L3 packet and sets out->ethertype (implied for the bare IP link types).
WireError ParseLinkHeader(LinkType link_type, ByteReader* r, PacketView* out) {
  uint16_t type = 0;
  switch (link_type) {
    case LinkType::kEthernet:
      // IEEE 802.3 clause 3.2: destination, source, type.
      if (!r->CopyBytes(6, out->ethernet.dst.data()) || !r->CopyBytes(6, out->ethernet.src.data()) ||
          !r->ReadU16(&type)) {
        return WireError::kEthernetTruncated;
      }
      break;
    case LinkType::kLinuxSll:
      // packet type, ARPHRD type, address length, address (8 bytes), protocol.
      if (!r->Skip(14) || !r->ReadU16(&type)) return WireError::kLinkTruncated;
      break;
    case LinkType::kLinuxSll2:
      // protocol, reserved, interface index, ARPHRD type, packet type, address length, address.
      if (!r->ReadU16(&type) || !r->Skip(18)) return WireError::kLinkTruncated;
      break;
    case LinkType::kNull: {
      uint32_t af;
      if (!r->ReadU32(&af)) return WireError::kLinkTruncated;
      // Written in the capturing host's byte order: a little-endian value reads as >= 2^16.
      if (af > 0xFFFF) af = __builtin_bswap32(af);
      if (af == kBsdAfInet) {
        type = kEtherTypeIpv4;
      } else if (IsBsdAfInet6(af)) {
        type = kEtherTypeIpv6;
      } else {
        return WireError::kNotIp;
      }
      break;
    }
    case LinkType::kRaw: {
      uint8_t first;
      if (!r->PeekU8(&first)) return WireError::kIpv4Truncated;
      const uint8_t version = first >> 4;
      if (version == 4) {
        type = kEtherTypeIpv4;
      } else if (version == 6) {
        type = kEtherTypeIpv6;
      } else {
        return WireError::kNotIp;
      }
      break;
    }
    case LinkType::kIpv4:
      type = kEtherTypeIpv4;
      break;
    case LinkType::kIpv6:
      type = kEtherTypeIpv6;
      break;
    default:
      return WireError::kLinkTypeUnsupported;
  }
  if (WireError e = ParseVlanTags(r, &type, out); e != WireError::kOk) return e;
  out->ethertype = type;
  return WireError::kOk;
}

// RFC 768. `l4` is the IP payload; fragments give only the ports.
WireError ParseUdp(Bytes l4, const ParseOptions& options, PacketView* out) {
  ByteReader r(l4);
  uint16_t length, checksum;
  if (!r.ReadU16(&out->src_port) || !r.ReadU16(&out->dst_port) || !r.ReadU16(&length) ||
      !r.ReadU16(&checksum)) {
    return WireError::kUdpTruncated;
  }
  if (out->fragment) return WireError::kOk;
  if (length < kUdpHeaderLength || length > l4.size()) return WireError::kUdpBadLength;
  out->l4 = l4.first(length);
  out->payload = l4.subspan(kUdpHeaderLength, length - kUdpHeaderLength);
  out->udp_checksum = checksum;
  if (checksum == 0) {
    // "No checksum": allowed on IPv4 (RFC 768), not on IPv6 (RFC 8200 section 8.1).
    return out->family == IpFamily::kV6 ? WireError::kUdpZeroChecksumIpv6 : WireError::kOk;
  }
  if (!options.verify_udp_checksum) return WireError::kOk;
  out->udp_checksum_checked = true;
  out->udp_checksum_ok = TransportChecksumVerifies(out->src, out->dst, kIpProtoUdp, out->l4);
  return out->udp_checksum_ok ? WireError::kOk : WireError::kUdpBadChecksum;
}

// Locates the L4 header at l4 (frame offset `offset`) and parses it when it is UDP.
WireError ParseL4(uint8_t protocol, Bytes l4, size_t offset, const ParseOptions& options,
                  PacketView* out) {
  out->l4_protocol = protocol;
  out->l4_offset = offset;
  out->l4 = l4;
  return protocol == kIpProtoUdp ? ParseUdp(l4, options, out) : WireError::kOk;
}

// RFC 791 section 3.1. `data` runs from the IP header to the end of the frame (link padding
// included).
WireError ParseIpv4(Bytes data, const ParseOptions& options, PacketView* out) {
  ByteReader r(data);
  uint8_t version_ihl, tos, protocol;
  uint16_t total_length, id, flags_offset, checksum;
  Bytes src, dst;
  if (!r.ReadU8(&version_ihl) || !r.ReadU8(&tos) || !r.ReadU16(&total_length) ||
      !r.ReadU16(&id) || !r.ReadU16(&flags_offset) || !r.ReadU8(&out->ttl) ||
      !r.ReadU8(&protocol) || !r.ReadU16(&checksum) || !r.ReadBytes(4, &src) ||
      !r.ReadBytes(4, &dst)) {
    return WireError::kIpv4Truncated;
  }
  if (version_ihl >> 4 != 4) return WireError::kIpv4BadVersion;
  const size_t header_length = size_t{version_ihl & 0x0Fu} * 4;
  if (header_length < kIpv4MinHeaderLength) return WireError::kIpv4BadHeaderLength;
  if (header_length > data.size()) return WireError::kIpv4Truncated;
  if (total_length < header_length || total_length > data.size()) {
    return WireError::kIpv4BadTotalLength;
  }
  out->family = IpFamily::kV4;
  out->src = IpAddress::V4Bytes(src.data());
  out->dst = IpAddress::V4Bytes(dst.data());
  out->l3 = data.first(total_length);
  out->ipv4_checksum_ok = ChecksumVerifies(ChecksumAdd(0, data.first(header_length)));

  const bool more_fragments = (flags_offset & 0x2000) != 0;
  const uint16_t fragment_offset = flags_offset & 0x1FFF;
  out->fragment = more_fragments || fragment_offset != 0;
  out->first_fragment = out->fragment && fragment_offset == 0;

  WireError l4_error = WireError::kOk;
  if (out->fragment && !out->first_fragment) {
    out->l4_protocol = protocol;
  } else {
    l4_error = ParseL4(protocol, out->l3.subspan(header_length), out->l3_offset + header_length,
                       options, out);
  }
  // A structural L4 error wins; otherwise the header checksum is the first thing wrong.
  if (l4_error != WireError::kOk && l4_error != WireError::kUdpBadChecksum) return l4_error;
  if (!out->ipv4_checksum_ok) return WireError::kIpv4BadChecksum;
  return l4_error;
}

// RFC 8200 sections 3 and 4: the fixed header, then extension headers up to the upper layer.
WireError ParseIpv6(Bytes data, const ParseOptions& options, PacketView* out) {
  ByteReader r(data);
  uint32_t version_class_flow;
  uint16_t payload_length;
  uint8_t next;
  Bytes src, dst;
  if (!r.ReadU32(&version_class_flow) || !r.ReadU16(&payload_length) || !r.ReadU8(&next) ||
      !r.ReadU8(&out->ttl) || !r.ReadBytes(16, &src) || !r.ReadBytes(16, &dst)) {
    return WireError::kIpv6Truncated;
  }
  if (version_class_flow >> 28 != 6) return WireError::kIpv6BadVersion;
  // Jumbograms (payload length 0 with a Jumbo option, RFC 2675) are not carried by our links.
  if (payload_length > r.remaining()) return WireError::kIpv6BadPayloadLength;
  out->family = IpFamily::kV6;
  out->src = IpAddress::V6Bytes(src.data());
  out->dst = IpAddress::V6Bytes(dst.data());
  out->l3 = data.first(kIpv6HeaderLength + payload_length);

  ByteReader ext(out->l3.subspan(kIpv6HeaderLength));
  for (int count = 0;; ++count) {
    const bool is_extension = next == kIpv6HopByHop || next == kIpv6Routing ||
                              next == kIpv6Fragment || next == kIpv6Ah ||
                              next == kIpv6DestinationOptions;
    if (!is_extension) break;
    if (count == kMaxIpv6Extensions) return WireError::kIpv6TooManyExtensions;
    // Hop-by-Hop Options may only follow the IPv6 header (section 4.3).
    if (next == kIpv6HopByHop && count != 0) return WireError::kIpv6BadExtension;
    uint8_t header_next, length_field;
    if (!ext.ReadU8(&header_next) || !ext.ReadU8(&length_field)) {
      return WireError::kIpv6BadExtension;
    }
    if (next == kIpv6Fragment) {
      // Section 4.5: reserved, offset (13 bits), res (2), M, identification (32).
      uint16_t offset_flags;
      uint32_t id;
      if (!ext.ReadU16(&offset_flags) || !ext.ReadU32(&id)) return WireError::kIpv6BadExtension;
      const uint16_t fragment_offset = offset_flags >> 3;
      const bool more_fragments = (offset_flags & 1) != 0;
      // An atomic fragment (offset 0, M clear) is a whole packet (RFC 6946).
      if (fragment_offset != 0 || more_fragments) {
        out->fragment = true;
        out->first_fragment = fragment_offset == 0;
      }
      if (fragment_offset != 0) {
        out->l4_protocol = header_next;
        return WireError::kOk;
      }
    } else {
      // Lengths in 8-octet units not counting the first 8; AH counts 4-octet units minus 2.
      const size_t length =
          next == kIpv6Ah ? (size_t{length_field} + 2) * 4 : (size_t{length_field} + 1) * 8;
      if (!ext.Skip(length - 2)) return WireError::kIpv6BadExtension;
    }
    next = header_next;
  }
  const size_t l4_start = kIpv6HeaderLength + ext.offset();
  return ParseL4(next, out->l3.subspan(l4_start), out->l3_offset + l4_start, options, out);
}

// The frame nearly every relayed datagram comes in: untagged Ethernet (IEEE 802.3 clause 3.2), a
// 20-byte IPv4 header with a good checksum and no fragmentation (RFC 791 section 3.1), UDP (RFC
// 768; with a good checksum when asked to verify). Read at
// fixed offsets after one length check, every field of `out` written as the general path below
// writes it (tests and the packet fuzzer compare the two); false for any other frame, which the
// general path then parses. `out` is written field by field: building a whole PacketView and
// copying it costs more than the parse.
bool ParseCommonUdpFrame(Bytes frame, const ParseOptions& options, PacketView* out) {
  constexpr size_t kL3 = 14;
  constexpr size_t kL4 = kL3 + kIpv4MinHeaderLength;
  if (frame.size() < kL4 + kUdpHeaderLength) return false;
  const uint8_t* f = frame.data();
  const uint8_t* ip = f + kL3;
  const uint8_t* udp = f + kL4;
  const size_t total_length = LoadBe16(ip + 2);
  if (LoadBe16(f + 12) != kEtherTypeIpv4 || ip[0] != 0x45 || (LoadBe16(ip + 6) & 0x3FFF) != 0 ||
      ip[9] != kIpProtoUdp || total_length < kIpv4MinHeaderLength + kUdpHeaderLength ||
      total_length > frame.size() - kL3) {
    return false;
  }
  const size_t udp_length = LoadBe16(udp + 4);
  if (udp_length < kUdpHeaderLength || udp_length > total_length - kIpv4MinHeaderLength ||
      !ChecksumVerifies(ChecksumAdd(0, Bytes(ip, kIpv4MinHeaderLength)))) {
    return false;
  }
  const Bytes l4 = frame.subspan(kL4, udp_length);
  const uint16_t udp_checksum = LoadBe16(udp + 6);
  // The addresses go straight into `out` (a copy of a just-built IpAddress reloads it through a
  // store-forwarding stall).
  out->src.AssignV4Bytes(ip + 12);
  out->dst.AssignV4Bytes(ip + 16);
  const bool verify = options.verify_udp_checksum && udp_checksum != 0;
  const bool udp_ok = verify && TransportChecksumVerifies(out->src, out->dst, kIpProtoUdp, l4);
  if (verify && !udp_ok) return false;

  out->link_type = LinkType::kEthernet;
  std::memcpy(out->ethernet.dst.data(), f, 6);
  std::memcpy(out->ethernet.src.data(), f + 6, 6);
  out->ethernet.vlan_count = 0;
  out->ethernet.vlans = {};
  out->ethertype = kEtherTypeIpv4;
  out->l3_offset = kL3;
  out->l3 = frame.subspan(kL3, total_length);
  out->family = IpFamily::kV4;
  out->ttl = ip[8];
  out->fragment = false;
  out->first_fragment = false;
  out->ipv4_checksum_ok = true;
  out->l4_protocol = kIpProtoUdp;
  out->l4_offset = kL4;
  out->l4 = l4;
  out->src_port = LoadBe16(udp);
  out->dst_port = LoadBe16(udp + 2);
  out->payload = l4.subspan(kUdpHeaderLength);
  out->udp_checksum_checked = verify;
  out->udp_checksum_ok = udp_ok;
  out->udp_checksum = udp_checksum;
  return true;
}

}  // namespace

WireError ParseFrame(LinkType link_type, Bytes frame, PacketView* out, ParseOptions options) {
  if (link_type == LinkType::kEthernet && ParseCommonUdpFrame(frame, options, out)) {
    return WireError::kOk;
  }
  *out = PacketView();
  out->link_type = link_type;
  ByteReader r(frame);
  if (WireError e = ParseLinkHeader(link_type, &r, out); e != WireError::kOk) return e;
  out->l3_offset = r.offset();
  const Bytes l3 = r.ReadRemaining();
  switch (out->ethertype) {
    case kEtherTypeIpv4:
      return ParseIpv4(l3, options, out);
    case kEtherTypeIpv6:
      return ParseIpv6(l3, options, out);
    case kEtherTypeArp:
      out->l3 = l3;
      return WireError::kOk;
    default:
      return WireError::kNotIp;
  }
}

bool UdpChecksumVerifies(const PacketView& v) {
  if (v.udp_checksum == 0) return v.family == IpFamily::kV4;
  return TransportChecksumVerifies(v.src, v.dst, kIpProtoUdp, v.l4);
}

size_t EthernetHeaderLength(const EthernetHeader& h) { return 14 + 4 * size_t{h.vlan_count}; }

bool WriteEthernetHeader(const EthernetHeader& h, uint16_t ethertype, ByteWriter* w) {
  w->WriteBytes(h.dst);
  w->WriteBytes(h.src);
  for (size_t i = 0; i < h.vlan_count && i < kMaxVlanTags; ++i) {
    w->WriteU16(h.vlans[i].tpid);
    w->WriteU16(h.vlans[i].tci);
  }
  return w->WriteU16(ethertype);
}

EthernetHeader ReplyEthernetHeader(const EthernetHeader& request, const MacAddress& our_mac) {
  EthernetHeader reply = request;
  reply.dst = request.src;
  reply.src = our_mac;
  return reply;
}

size_t IpHeaderLength(IpFamily family) {
  return family == IpFamily::kV4 ? kIpv4MinHeaderLength : kIpv6HeaderLength;
}

bool WriteIpHeader(const IpAddress& src, const IpAddress& dst, uint8_t protocol, uint8_t ttl,
                   size_t payload_length, ByteWriter* w) {
  if (src.family != dst.family || src.family == IpFamily::kNone) return false;
  if (src.family == IpFamily::kV4) {
    if (payload_length > 0xFFFF - kIpv4MinHeaderLength) return false;
    const size_t start = w->length();
    w->WriteU8(0x45);  // version 4, IHL 5
    w->WriteU8(0);
    w->WriteU16(static_cast<uint16_t>(kIpv4MinHeaderLength + payload_length));
    w->WriteU16(0);       // identification
    w->WriteU16(0x4000);  // DF
    w->WriteU8(ttl);
    w->WriteU8(protocol);
    w->WriteU16(0);
    w->WriteBytes(Bytes(src.bytes.data(), 4));
    if (!w->WriteBytes(Bytes(dst.bytes.data(), 4))) return false;
    const uint16_t checksum =
        InternetChecksum(w->written().subspan(start, kIpv4MinHeaderLength));
    return w->PatchU16(start + 10, checksum);
  }
  if (payload_length > 0xFFFF) return false;
  w->WriteU32(0x60000000);  // version 6, traffic class 0, flow label 0
  w->WriteU16(static_cast<uint16_t>(payload_length));
  w->WriteU8(protocol);
  w->WriteU8(ttl);
  w->WriteBytes(Bytes(src.bytes.data(), 16));
  return w->WriteBytes(Bytes(dst.bytes.data(), 16));
}

size_t UdpFrameHeaderLength(const UdpFrameSpec& spec) {
  return EthernetHeaderLength(spec.ethernet) + IpHeaderLength(spec.src.ip.family) +
         kUdpHeaderLength;
}

WireError BuildUdpFrame(const UdpFrameSpec& spec, Bytes payload, MutableBytes out,
                        size_t* written) {
  const IpFamily family = spec.src.ip.family;
  if (family != spec.dst.ip.family || family == IpFamily::kNone) return WireError::kNotIp;
  const size_t udp_length = kUdpHeaderLength + payload.size();
  const size_t ip_overhead = family == IpFamily::kV4 ? kIpv4MinHeaderLength : 0;
  if (udp_length > 0xFFFF - ip_overhead) return WireError::kUdpBadLength;
  const size_t header_length = UdpFrameHeaderLength(spec);
  if (header_length > out.size() || payload.size() > out.size() - header_length) {
    return WireError::kPacketBufferTooSmall;
  }
  uint8_t* payload_at = out.data() + header_length;
  if (!payload.empty() && payload.data() != payload_at) {
    std::memmove(payload_at, payload.data(), payload.size());
  }
  ByteWriter w(out);
  const uint16_t ethertype = family == IpFamily::kV4 ? kEtherTypeIpv4 : kEtherTypeIpv6;
  WriteEthernetHeader(spec.ethernet, ethertype, &w);
  WriteIpHeader(spec.src.ip, spec.dst.ip, kIpProtoUdp, spec.ttl, udp_length, &w);
  const size_t udp_start = w.length();
  w.WriteU16(spec.src.port);
  w.WriteU16(spec.dst.port);
  w.WriteU16(static_cast<uint16_t>(udp_length));
  w.WriteU16(0);
  if (!w.ok()) return WireError::kPacketBufferTooSmall;
  const uint32_t pseudo = PseudoHeaderSum(spec.src.ip, spec.dst.ip, kIpProtoUdp,
                                          static_cast<uint32_t>(udp_length));
  uint16_t checksum =
      spec.payload_sum
          ? ChecksumFinish(ChecksumCombine(
                ChecksumAdd(pseudo, out.subspan(udp_start, kUdpHeaderLength)), *spec.payload_sum))
          : ChecksumFinish(ChecksumAdd(pseudo, out.subspan(udp_start, udp_length)));
  if (checksum == 0) checksum = 0xFFFF;  // RFC 768: a computed zero is sent as all ones
  w.PatchU16(udp_start + 6, checksum);
  *written = header_length + payload.size();
  return WireError::kOk;
}

UdpFrameSpec ReplyUdpSpec(const PacketView& request, const MacAddress& our_mac) {
  UdpFrameSpec spec;
  spec.ethernet = ReplyEthernetHeader(request.ethernet, our_mac);
  spec.src = SocketAddress{request.dst, request.dst_port};
  spec.dst = SocketAddress{request.src, request.src_port};
  return spec;
}

}  // namespace t38relay::dataplane
