// Tests of ICMP/ICMPv6 echo and NDP against hand-made, tshark-checked frames (tests/data/packet).
#include "dataplane/wire/icmp.h"

#include <string>
#include <vector>

#include "dataplane/wire/checksum.h"
#include "gtest/gtest.h"
#include "tests/dataplane/wire/handmade_frames.h"
#include "tests/test_support.h"

namespace t38relay::dataplane {
namespace {

using ::t38relay::testing::ToHex;

using ::t38relay::testing::kMacA;
using ::t38relay::testing::kMacB;
using ::t38relay::testing::HandmadeFrame;

PacketView Parse(Bytes frame) {
  PacketView v;
  EXPECT_EQ(ParseFrame(LinkType::kEthernet, frame, &v), WireError::kOk);
  return v;
}

TEST(IcmpTest, EchoRequestBothFamiliesAndRepliesMatchKnownGoodFrames) {
  for (const auto& [request_name, reply_name] :
       {std::pair{"icmp_echo_request", "icmp_echo_reply"},
        std::pair{"icmpv6_echo_request", "icmpv6_echo_reply"}}) {
    SCOPED_TRACE(request_name);
    const std::vector<uint8_t> frame = HandmadeFrame(request_name);
    const PacketView v = Parse(frame);
    IcmpEcho echo;
    ASSERT_EQ(ParseIcmpEcho(v, &echo), WireError::kOk);
    EXPECT_EQ(echo.type, v.family == IpFamily::kV4 ? kIcmpEchoRequest : kIcmpv6EchoRequest);
    EXPECT_EQ(echo.identifier, 0x4242);
    EXPECT_EQ(echo.sequence, 7);
    ASSERT_EQ(echo.data.size(), 32u);
    EXPECT_EQ(echo.data[31], 31);

    std::vector<uint8_t> out(200);
    size_t written = 0;
    ASSERT_EQ(BuildIcmpEchoReply(v, echo, kMacB, out, &written), WireError::kOk);
    out.resize(written);
    EXPECT_EQ(ToHex(out), ToHex(HandmadeFrame(reply_name)));

    // The reply parses and its checksum verifies; a reply is not answered again.
    const PacketView rv = Parse(out);
    IcmpEcho reply;
    ASSERT_EQ(ParseIcmpEcho(rv, &reply), WireError::kOk);
    EXPECT_EQ(reply.type, v.family == IpFamily::kV4 ? kIcmpEchoReply : kIcmpv6EchoReply);
    EXPECT_EQ(BuildIcmpEchoReply(rv, reply, kMacB, out, &written), WireError::kIcmpUnsupported);

    // In place, over the request's own frame.
    std::vector<uint8_t> in_place = frame;
    in_place.resize(200);
    const PacketView same = Parse(Bytes(in_place).first(frame.size()));
    IcmpEcho in_place_echo;
    ASSERT_EQ(ParseIcmpEcho(same, &in_place_echo), WireError::kOk);
    ASSERT_EQ(BuildIcmpEchoReply(same, in_place_echo, kMacB, in_place, &written), WireError::kOk);
    in_place.resize(written);
    EXPECT_EQ(ToHex(in_place), ToHex(HandmadeFrame(reply_name)));

    for (size_t n = 0; n < HandmadeFrame(reply_name).size(); ++n) {
      std::vector<uint8_t> small(n);
      ASSERT_EQ(BuildIcmpEchoReply(v, echo, kMacB, small, &written),
                WireError::kPacketBufferTooSmall);
    }
  }
}

TEST(IcmpTest, TruncatedAndCorruptedMessages) {
  for (const char* name : {"icmp_echo_request", "icmpv6_echo_request"}) {
    const std::vector<uint8_t> frame = HandmadeFrame(name);
    const PacketView v = Parse(frame);
    IcmpEcho echo;
    for (size_t n = 0; n < v.l4.size(); ++n) {
      PacketView cut = v;
      cut.l4 = v.l4.first(n);
      const WireError e = ParseIcmpEcho(cut, &echo);
      if (n < 4) {
        EXPECT_EQ(e, WireError::kIcmpTruncated) << name << " " << n;
      } else {
        EXPECT_EQ(e, WireError::kIcmpBadChecksum) << name << " " << n;
      }
    }
    std::vector<uint8_t> bad = frame;
    bad.back() ^= 1;
    EXPECT_EQ(ParseIcmpEcho(Parse(bad), &echo), WireError::kIcmpBadChecksum) << name;
  }
  // A correctly summed echo header cut after type and code + checksum: truncated identifier.
  PacketView v = Parse(HandmadeFrame("icmp_echo_request"));
  std::vector<uint8_t> short_echo = {kIcmpEchoRequest, 0, 0, 0, 0x42};
  const uint16_t c = InternetChecksum(short_echo);
  short_echo[2] = static_cast<uint8_t>(c >> 8);
  short_echo[3] = static_cast<uint8_t>(c);
  v.l4 = short_echo;
  IcmpEcho echo;
  EXPECT_EQ(ParseIcmpEcho(v, &echo), WireError::kIcmpTruncated);

  // Not ICMP, and fragments.
  v = Parse(HandmadeFrame("eth_ipv4_udp"));
  EXPECT_EQ(ParseIcmpEcho(v, &echo), WireError::kIcmpUnsupported);
  v = Parse(HandmadeFrame("icmp_echo_request"));
  v.fragment = true;
  v.first_fragment = true;
  EXPECT_EQ(ParseIcmpEcho(v, &echo), WireError::kIpFragment);
  // An NS is ICMPv6 but not an echo.
  EXPECT_EQ(ParseIcmpEcho(Parse(HandmadeFrame("ndp_ns")), &echo), WireError::kIcmpUnsupported);
}

TEST(NdpTest, SolicitationParsesAndAdvertisementMatchesKnownGoodFrame) {
  const PacketView v = Parse(HandmadeFrame("ndp_ns"));
  NeighborSolicitation ns;
  ASSERT_EQ(ParseNeighborSolicitation(v, &ns), WireError::kOk);
  EXPECT_EQ(ns.target.ToString(), "2001:db8::2");
  EXPECT_TRUE(ns.has_source_mac);
  EXPECT_EQ(ns.source_mac, kMacA);

  std::vector<uint8_t> out(200);
  size_t written = 0;
  ASSERT_EQ(BuildNeighborAdvertisement(v, ns, kMacB, out, &written), WireError::kOk);
  out.resize(written);
  EXPECT_EQ(ToHex(out), ToHex(HandmadeFrame("ndp_na")));
  const PacketView na = Parse(out);
  IcmpMessage message;
  ASSERT_EQ(ParseIcmp(na, &message), WireError::kOk);
  EXPECT_EQ(message.type, kNdpNeighborAdvertisement);
  EXPECT_EQ(na.ttl, 255);
  EXPECT_EQ(message.body[0], kNdpFlagSolicited | kNdpFlagOverride);

  for (size_t n = 0; n < written; ++n) {
    std::vector<uint8_t> small(n);
    ASSERT_EQ(BuildNeighborAdvertisement(v, ns, kMacB, small, &written),
              WireError::kPacketBufferTooSmall);
  }
}

TEST(NdpTest, DuplicateAddressDetectionIsAnsweredToAllNodes) {
  const PacketView v = Parse(HandmadeFrame("ndp_ns_dad"));
  NeighborSolicitation ns;
  ASSERT_EQ(ParseNeighborSolicitation(v, &ns), WireError::kOk);
  EXPECT_FALSE(ns.has_source_mac);
  std::vector<uint8_t> out(200);
  size_t written = 0;
  ASSERT_EQ(BuildNeighborAdvertisement(v, ns, kMacB, out, &written), WireError::kOk);
  out.resize(written);
  EXPECT_EQ(ToHex(out), ToHex(HandmadeFrame("ndp_na_dad")));
}

// Re-sums an ICMPv6 message placed in a copy of frame's view so that only the NDP rule is wrong.
PacketView WithMessage(const PacketView& v, std::vector<uint8_t>* message) {
  (*message)[2] = 0;
  (*message)[3] = 0;
  const uint16_t c = TransportChecksum(v.src, v.dst, kIpProtoIcmpv6, *message);
  (*message)[2] = static_cast<uint8_t>(c >> 8);
  (*message)[3] = static_cast<uint8_t>(c);
  PacketView out = v;
  out.l4 = *message;
  return out;
}

TEST(NdpTest, ValidityChecksOfRfc4861Section7_1_1) {
  NeighborSolicitation ns;
  EXPECT_EQ(ParseNeighborSolicitation(Parse(HandmadeFrame("ndp_ns_hop_limit_64")), &ns),
            WireError::kNdpBadHopLimit);
  EXPECT_EQ(ParseNeighborSolicitation(Parse(HandmadeFrame("ndp_ns_option_length_0")), &ns),
            WireError::kNdpBadOption);

  const PacketView v = Parse(HandmadeFrame("ndp_ns"));
  const std::vector<uint8_t> good(v.l4.begin(), v.l4.end());
  // Shorter than 24 bytes, yet correctly summed.
  for (size_t n = 4; n < 24; ++n) {
    std::vector<uint8_t> m(good.begin(), good.begin() + n);
    EXPECT_EQ(ParseNeighborSolicitation(WithMessage(v, &m), &ns), WireError::kNdpTruncated) << n;
  }
  // An option cut short (length says 2 units, 1 present), and an option header cut short.
  std::vector<uint8_t> m = good;
  m[25] = 2;
  EXPECT_EQ(ParseNeighborSolicitation(WithMessage(v, &m), &ns), WireError::kNdpBadOption);
  m = good;
  m.resize(25);
  EXPECT_EQ(ParseNeighborSolicitation(WithMessage(v, &m), &ns), WireError::kNdpBadOption);
  // A multicast target.
  m = good;
  m[8] = 0xFF;
  EXPECT_EQ(ParseNeighborSolicitation(WithMessage(v, &m), &ns), WireError::kNdpBadTarget);
  // Code 1.
  m = good;
  m[1] = 1;
  EXPECT_EQ(ParseNeighborSolicitation(WithMessage(v, &m), &ns), WireError::kIcmpUnsupported);
  // Unknown options are skipped.
  m = good;
  m[24] = 14;  // nonce option type, same length
  ASSERT_EQ(ParseNeighborSolicitation(WithMessage(v, &m), &ns), WireError::kOk);
  EXPECT_FALSE(ns.has_source_mac);
  // A source link-layer option from the unspecified address (duplicate address detection).
  PacketView dad = v;
  dad.src = IpAddress::V6Bytes(std::array<uint8_t, 16>{}.data());
  m = good;
  EXPECT_EQ(ParseNeighborSolicitation(WithMessage(dad, &m), &ns), WireError::kNdpBadOption);
  // Duplicate address detection goes to a solicited-node group (ff02::1:ffXX:XXXX), nowhere else.
  m = good;
  m.resize(24);
  dad.dst = IpAddress::V6Bytes(std::array<uint8_t, 16>{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                                                       0xff, 0, 0, 2}.data());
  EXPECT_EQ(ParseNeighborSolicitation(WithMessage(dad, &m), &ns), WireError::kOk);
  dad.dst = v.src;
  EXPECT_EQ(ParseNeighborSolicitation(WithMessage(dad, &m), &ns), WireError::kNdpBadDestination);
  // A bad checksum.
  std::vector<uint8_t> frame = HandmadeFrame("ndp_ns");
  frame.back() ^= 1;
  EXPECT_EQ(ParseNeighborSolicitation(Parse(frame), &ns), WireError::kIcmpBadChecksum);
  // IPv4 is not NDP.
  EXPECT_EQ(ParseNeighborSolicitation(Parse(HandmadeFrame("icmp_echo_request")), &ns),
            WireError::kIcmpUnsupported);
}

TEST(NdpTest, SolicitationBuilderMatchesKnownGoodFrame) {
  const IpAddress ours = *ParseIpAddress("2001:db8::1");
  const IpAddress target = *ParseIpAddress("2001:db8::2");
  std::vector<uint8_t> out(200);
  size_t written = 0;
  ASSERT_EQ(BuildNeighborSolicitation(kMacA, ours, target, out, &written), WireError::kOk);
  out.resize(written);
  EXPECT_EQ(ToHex(out), ToHex(HandmadeFrame("ndp_ns")));
  NeighborSolicitation ns;
  ASSERT_EQ(ParseNeighborSolicitation(Parse(out), &ns), WireError::kOk);
  EXPECT_EQ(ns.target, target);

  for (size_t n = 0; n < written; ++n) {
    std::vector<uint8_t> small(n);
    ASSERT_EQ(BuildNeighborSolicitation(kMacA, ours, target, small, &written),
              WireError::kPacketBufferTooSmall);
  }
  std::vector<uint8_t> big(200);
  const IpAddress v4 = *ParseIpAddress("198.18.0.1");
  EXPECT_EQ(BuildNeighborSolicitation(kMacA, v4, target, big, &written),
            WireError::kIcmpUnsupported);
  EXPECT_EQ(BuildNeighborSolicitation(kMacA, ours, *ParseIpAddress("ff02::1"), big, &written),
            WireError::kIcmpUnsupported);
}

TEST(NdpTest, AdvertisementParses) {
  NeighborAdvertisement na;
  ASSERT_EQ(ParseNeighborAdvertisement(Parse(HandmadeFrame("ndp_na")), &na), WireError::kOk);
  EXPECT_EQ(na.flags, kNdpFlagSolicited | kNdpFlagOverride);
  EXPECT_EQ(na.target.ToString(), "2001:db8::2");
  EXPECT_TRUE(na.has_target_mac);
  EXPECT_EQ(na.target_mac, kMacB);
  // The answer to duplicate address detection: to all-nodes, Solicited clear.
  ASSERT_EQ(ParseNeighborAdvertisement(Parse(HandmadeFrame("ndp_na_dad")), &na), WireError::kOk);
  EXPECT_EQ(na.flags, kNdpFlagOverride);

  const PacketView v = Parse(HandmadeFrame("ndp_na"));
  const std::vector<uint8_t> good(v.l4.begin(), v.l4.end());
  for (size_t n = 4; n < 24; ++n) {
    std::vector<uint8_t> m(good.begin(), good.begin() + n);
    EXPECT_EQ(ParseNeighborAdvertisement(WithMessage(v, &m), &na), WireError::kNdpTruncated) << n;
  }
  std::vector<uint8_t> m(good.begin(), good.begin() + 24);
  ASSERT_EQ(ParseNeighborAdvertisement(WithMessage(v, &m), &na), WireError::kOk);
  EXPECT_FALSE(na.has_target_mac);
  m = good;
  m[25] = 0;
  EXPECT_EQ(ParseNeighborAdvertisement(WithMessage(v, &m), &na), WireError::kNdpBadOption);
  m = good;
  m[25] = 2;
  EXPECT_EQ(ParseNeighborAdvertisement(WithMessage(v, &m), &na), WireError::kNdpBadOption);
  m = good;
  m[8] = 0xFF;
  EXPECT_EQ(ParseNeighborAdvertisement(WithMessage(v, &m), &na), WireError::kNdpBadTarget);
  m = good;
  m[1] = 1;
  EXPECT_EQ(ParseNeighborAdvertisement(WithMessage(v, &m), &na), WireError::kIcmpUnsupported);
  // Solicited to a multicast destination.
  PacketView multicast = v;
  multicast.dst = *ParseIpAddress("ff02::1");
  m = good;
  EXPECT_EQ(ParseNeighborAdvertisement(WithMessage(multicast, &m), &na),
            WireError::kNdpBadDestination);
  PacketView hop = v;
  hop.ttl = 64;
  EXPECT_EQ(ParseNeighborAdvertisement(hop, &na), WireError::kNdpBadHopLimit);
  std::vector<uint8_t> frame = HandmadeFrame("ndp_na");
  frame.back() ^= 1;
  EXPECT_EQ(ParseNeighborAdvertisement(Parse(frame), &na), WireError::kIcmpBadChecksum);
  EXPECT_EQ(ParseNeighborAdvertisement(Parse(HandmadeFrame("ndp_ns")), &na),
            WireError::kIcmpUnsupported);
  EXPECT_EQ(ParseNeighborAdvertisement(Parse(HandmadeFrame("icmp_echo_request")), &na),
            WireError::kIcmpUnsupported);
}

}  // namespace
}  // namespace t38relay::dataplane
