// Fuzzes ParseFrame (first byte picks the link type) and the ARP, ICMP and NDP parsers; every reply
// that can be built is built and must parse back with verifying checksums.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dataplane/wire/arp.h"
#include "dataplane/wire/icmp.h"
#include "dataplane/wire/packet.h"
#include "tests/dataplane/wire/parse_paths.h"

namespace {

using namespace t38relay::dataplane;

constexpr LinkType kLinkTypes[] = {LinkType::kEthernet, LinkType::kNull,  LinkType::kRaw,
                                   LinkType::kLinuxSll, LinkType::kIpv4,  LinkType::kIpv6,
                                   LinkType::kLinuxSll2};
constexpr MacAddress kOurMac = {0x02, 0, 0, 0, 0, 0x01};

void Require(bool condition) {
  if (!condition) std::abort();
}

bool Within(Bytes inner, Bytes outer) {
  return inner.empty() || (inner.data() >= outer.data() &&
                           inner.data() + inner.size() <= outer.data() + outer.size());
}

PacketView ParseReply(Bytes reply) {
  PacketView v;
  Require(ParseFrame(LinkType::kEthernet, reply, &v) == WireError::kOk);
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const LinkType link = kLinkTypes[data[0] % std::size(kLinkTypes)];
  const Bytes frame(data + 1, size - 1);
  PacketView v;
  const WireError e = ParseFrame(link, frame, &v);
  // The common frames' fixed-offset path parses as the general path does.
  if (link == LinkType::kEthernet) {
    Require(t38relay::testing::CompareWithBareIpv4Parse(frame, {}).empty());
    Require(t38relay::testing::CompareWithBareIpv4Parse(frame, {.verify_udp_checksum = false})
                .empty());
  }
  Require(Within(v.l3, frame) && Within(v.l4, frame) && Within(v.payload, frame));
  Require(v.ethernet.vlan_count <= kMaxVlanTags);
  const bool checksum_error = e == WireError::kIpv4BadChecksum ||
                              e == WireError::kUdpBadChecksum ||
                              e == WireError::kUdpZeroChecksumIpv6;
  if (e != WireError::kOk && !checksum_error) return 0;

  static std::vector<uint8_t> out(70000);
  size_t written = 0;
  if (v.ethertype == kEtherTypeArp) {
    ArpPacket arp;
    if (ParseArp(v.l3, &arp) == WireError::kOk && arp.operation == kArpRequest) {
      Require(BuildArpReply(v, arp, kOurMac, out, &written) == WireError::kOk);
      const PacketView rv = ParseReply(Bytes(out).first(written));
      ArpPacket reply;
      Require(ParseArp(rv.l3, &reply) == WireError::kOk && reply.operation == kArpReply);
      Require(reply.target_ip == arp.sender_ip && reply.sender_ip == arp.target_ip);
    }
    return 0;
  }
  if (e != WireError::kOk) return 0;

  if (v.l4_protocol == kIpProtoIcmp || v.l4_protocol == kIpProtoIcmpv6) {
    IcmpEcho echo;
    if (ParseIcmpEcho(v, &echo) == WireError::kOk &&
        (echo.type == kIcmpEchoRequest || echo.type == kIcmpv6EchoRequest)) {
      Require(BuildIcmpEchoReply(v, echo, kOurMac, out, &written) == WireError::kOk);
      const PacketView rv = ParseReply(Bytes(out).first(written));
      IcmpEcho reply;
      Require(ParseIcmpEcho(rv, &reply) == WireError::kOk);
      Require(reply.identifier == echo.identifier && reply.sequence == echo.sequence);
      Require(reply.data.size() == echo.data.size() &&
              (echo.data.empty() ||
               std::memcmp(reply.data.data(), echo.data.data(), echo.data.size()) == 0));
    }
    NeighborSolicitation ns;
    if (ParseNeighborSolicitation(v, &ns) == WireError::kOk) {
      Require(BuildNeighborAdvertisement(v, ns, kOurMac, out, &written) == WireError::kOk);
      const PacketView rv = ParseReply(Bytes(out).first(written));
      IcmpMessage na;
      Require(ParseIcmp(rv, &na) == WireError::kOk && na.type == kNdpNeighborAdvertisement);
      Require(rv.ttl == 255);
    }
    return 0;
  }
  if (RequireUdpDatagram(v) == WireError::kOk) {
    const UdpFrameSpec spec = ReplyUdpSpec(v, kOurMac);
    Require(BuildUdpFrame(spec, v.payload, out, &written) == WireError::kOk);
    const PacketView rv = ParseReply(Bytes(out).first(written));
    Require(rv.udp_checksum_checked && rv.udp_checksum_ok);
    Require(rv.src_port == v.dst_port && rv.dst_port == v.src_port);
    Require(rv.payload.size() == v.payload.size());
  }
  return 0;
}
