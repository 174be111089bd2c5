// Link, network and transport layers: frame parsing (pcap link types, Ethernet+VLAN, IPv4, IPv6,
// UDP) into a view of offsets and spans, and the header writers replies are built with.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "dataplane/wire/address.h"
#include "dataplane/wire/byte_reader.h"
#include "dataplane/wire/checksum.h"
#include "dataplane/wire/wire_error.h"

namespace t38relay::dataplane {

// pcap LINKTYPE_* values (tcpdump.org/linktypes.html) that captures of this traffic use.
enum class LinkType : uint16_t {
  kNull = 0,  // BSD loopback: 4-byte address family in the capturing host's byte order
  kEthernet = 1,
  kRaw = 101,  // bare IPv4 or IPv6, told apart by the version nibble
  kLinuxSll = 113,
  kIpv4 = 228,
  kIpv6 = 229,
  kLinuxSll2 = 276,
};

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;  // 802.1Q customer tag
inline constexpr uint16_t kEtherTypeQinQ = 0x88A8;  // 802.1ad service tag
inline constexpr uint16_t kEtherTypeIpv6 = 0x86DD;

inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;

inline constexpr size_t kMaxVlanTags = 2;
inline constexpr size_t kIpv4MinHeaderLength = 20;
inline constexpr size_t kIpv6HeaderLength = 40;
inline constexpr size_t kUdpHeaderLength = 8;
// More IPv6 extension headers than this in one packet is kIpv6TooManyExtensions.
inline constexpr int kMaxIpv6Extensions = 8;

using MacAddress = std::array<uint8_t, 6>;

struct VlanTag {
  uint16_t tpid = kEtherTypeVlan;
  uint16_t tci = 0;  // priority (3 bits), DEI (1 bit), VLAN id (12 bits)
  uint16_t id() const { return tci & 0x0FFF; }
};

// An Ethernet II header with up to two tags, outermost first. Parsing fills it for kEthernet
// frames; replies copy it with the addresses swapped so they leave on the same VLANs.
struct EthernetHeader {
  MacAddress dst{};
  MacAddress src{};
  uint8_t vlan_count = 0;
  std::array<VlanTag, kMaxVlanTags> vlans{};
};

// What ParseFrame found. Offsets count from the start of the frame; spans point into it. Fields of
// layers that were not reached keep their defaults.
struct PacketView {
  LinkType link_type = LinkType::kEthernet;
  EthernetHeader ethernet;  // addresses for kEthernet only; tags for any link that carries them
  uint16_t ethertype = 0;   // after the tags; implied by the link type for the others
  size_t l3_offset = 0;
  // The L3 packet without link padding: the ARP packet, or the IP header and its payload.
  Bytes l3;

  IpFamily family = IpFamily::kNone;
  IpAddress src;
  IpAddress dst;
  uint8_t ttl = 0;  // IPv4 TTL or IPv6 hop limit
  // IPv4 MF or offset != 0; IPv6 fragment header. L4 is located only for the first fragment,
  // and its UDP length and checksum cannot be checked (the rest of the datagram is elsewhere).
  bool fragment = false;
  bool first_fragment = false;
  bool ipv4_checksum_ok = false;  // IPv4 only

  // The upper-layer protocol (after IPv6 extension headers), known for every IP packet; l4 and
  // l4_offset are set when the L4 header was located (not for non-first fragments).
  uint8_t l4_protocol = 0;
  size_t l4_offset = 0;
  Bytes l4;  // to the end of the IP payload; for UDP, the datagram by its length field

  // UDP only.
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  Bytes payload;
  bool udp_checksum_checked = false;  // false for a zero checksum on IPv4 and for fragments
  bool udp_checksum_ok = false;
  uint16_t udp_checksum = 0;  // the received checksum field
};

struct ParseOptions {
  // False: the UDP checksum is not verified (udp_checksum_checked stays false): for a caller that
  // verifies it later only where it matters (UdpChecksumVerifies), or carries it over to a rebuilt
  // datagram (UdpPayloadSum), or relies on a stronger check (an AEAD tag).
  bool verify_udp_checksum = true;
};

// Parses one captured frame (RFC 791 section 3.1, RFC 8200 sections 3-4, RFC 768). Returns the
// first structural error, with the view filled up to the layer that failed. A bad IPv4 header
// checksum, a bad UDP checksum or a zero UDP checksum over IPv6 (RFC 8200 section 8.1) is a
// flag plus an error: the view is complete (the inspector still shows the datagram and prints
// the error), and the return value is kIpv4BadChecksum, kUdpBadChecksum or kUdpZeroChecksumIpv6
// (the dataplane drops on any error). ARP, non-UDP and fragmented IP packets parse kOk with what
// could be located; anything but ARP, IPv4 and IPv6 is kNotIp.
WireError ParseFrame(LinkType link_type, Bytes frame, PacketView* out, ParseOptions options = {});

// Whether a parsed UDP datagram's checksum holds (a zero checksum on IPv4 means none: true).
bool UdpChecksumVerifies(const PacketView& v);
// The RFC 1071 sum of the payload, derived from the received checksum without reading the payload
// (RFC 1624): a datagram rebuilt with other addresses and ports (UdpFrameSpec::payload_sum) keeps
// a checksum that fails at the receiver exactly when the original one was wrong. nullopt when the
// datagram carries no checksum. Inline: run for every datagram relayed as it came.
inline std::optional<uint32_t> UdpPayloadSum(const PacketView& v) {
  if (v.udp_checksum == 0 || v.l4.size() < kUdpHeaderLength) return std::nullopt;
  // checksum = ~(header + payload), so payload = ~checksum - header = ~checksum + ~header; the
  // header is the pseudo-header and the UDP header without its checksum field.
  const uint8_t* udp = v.l4.data();
  const uint32_t header = ChecksumCombine(
      PseudoHeaderSum(v.src, v.dst, kIpProtoUdp, static_cast<uint32_t>(v.l4.size())),
      ChecksumCombine(LoadBe16(udp) + LoadBe16(udp + 2), LoadBe16(udp + 4)));
  return ChecksumCombine(static_cast<uint16_t>(~v.udp_checksum), static_cast<uint16_t>(~header));
}

// The dataplane's verdict on a parsed frame: kOk only for a whole UDP datagram.
inline WireError RequireUdpDatagram(const PacketView& v) {
  if (v.family == IpFamily::kNone) return WireError::kNotIp;
  if (v.fragment) return WireError::kIpFragment;
  if (v.l4_protocol != kIpProtoUdp) return WireError::kNotUdp;
  return WireError::kOk;
}

// Ethernet II (+ tags) followed by the ethertype.
size_t EthernetHeaderLength(const EthernetHeader& h);
bool WriteEthernetHeader(const EthernetHeader& h, uint16_t ethertype, ByteWriter* w);
// The header a reply to a frame with header `request` carries: back to its sender, from our_mac,
// on the same VLAN tags.
EthernetHeader ReplyEthernetHeader(const EthernetHeader& request, const MacAddress& our_mac);

// 20 bytes for IPv4 (no options), 40 for IPv6.
size_t IpHeaderLength(IpFamily family);
// An IPv4 header (DF set, identification 0 as RFC 6864 allows for atomic datagrams, checksum
// computed) or an IPv6 header for payload_length bytes of `protocol`. src and dst share a family.
bool WriteIpHeader(const IpAddress& src, const IpAddress& dst, uint8_t protocol, uint8_t ttl,
                   size_t payload_length, ByteWriter* w);

// A UDP datagram in an Ethernet frame.
struct UdpFrameSpec {
  EthernetHeader ethernet;
  SocketAddress src;
  SocketAddress dst;
  uint8_t ttl = 64;
  // The payload's RFC 1071 sum when the caller has it (UdpPayloadSum): the checksum is then
  // computed without reading the payload.
  std::optional<uint32_t> payload_sum;
};

// Ethernet + IP + UDP header bytes before the payload.
size_t UdpFrameHeaderLength(const UdpFrameSpec& spec);
// Writes the frame with both checksums into out. The payload may already sit in place at
// out[UdpFrameHeaderLength(spec)] (then it is not moved) or anywhere else. kPacketBufferTooSmall,
// kUdpBadLength when the datagram does not fit IP's 16-bit length, kNotIp for mixed families.
WireError BuildUdpFrame(const UdpFrameSpec& spec, Bytes payload, MutableBytes out,
                        size_t* written);
// The spec of a reply to a received UDP datagram: addresses and ports swapped, same VLANs.
UdpFrameSpec ReplyUdpSpec(const PacketView& request, const MacAddress& our_mac);

}  // namespace t38relay::dataplane
