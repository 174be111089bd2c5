// Tests of ARP parsing and replies against hand-made, tshark-checked frames (tests/data/packet).
#include "dataplane/wire/arp.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/dataplane/wire/handmade_frames.h"
#include "tests/test_support.h"

namespace t38relay::dataplane {
namespace {

using ::t38relay::testing::ToHex;

using ::t38relay::testing::kMacA;
using ::t38relay::testing::kMacB;
using ::t38relay::testing::HandmadeFrame;

TEST(ArpTest, RequestParsesAndReplyMatchesKnownGoodFrame) {
  for (const auto& [request_name, reply_name] : {std::pair{"arp_request", "arp_reply"},
                                                 std::pair{"vlan_arp_request", "vlan_arp_reply"}}) {
    SCOPED_TRACE(request_name);
    const std::vector<uint8_t> frame = HandmadeFrame(request_name);
    PacketView v;
    ASSERT_EQ(ParseFrame(LinkType::kEthernet, frame, &v), WireError::kOk);
    EXPECT_EQ(v.ethertype, kEtherTypeArp);
    EXPECT_EQ(v.family, IpFamily::kNone);
    ArpPacket arp;
    ASSERT_EQ(ParseArp(v.l3, &arp), WireError::kOk);
    EXPECT_EQ(arp.operation, kArpRequest);
    EXPECT_EQ(arp.sender_mac, kMacA);
    EXPECT_EQ(arp.sender_ip.ToString(), "198.18.0.1");
    EXPECT_EQ(arp.target_ip.ToString(), "198.18.0.2");

    std::vector<uint8_t> out(100);
    size_t written = 0;
    ASSERT_EQ(BuildArpReply(v, arp, kMacB, out, &written), WireError::kOk);
    out.resize(written);
    EXPECT_EQ(ToHex(out), ToHex(HandmadeFrame(reply_name)));

    PacketView reply_view;
    ASSERT_EQ(ParseFrame(LinkType::kEthernet, out, &reply_view), WireError::kOk);
    ArpPacket reply;
    ASSERT_EQ(ParseArp(reply_view.l3, &reply), WireError::kOk);
    EXPECT_EQ(reply.operation, kArpReply);
    EXPECT_EQ(reply.sender_mac, kMacB);
    EXPECT_EQ(reply.sender_ip, arp.target_ip);
    EXPECT_EQ(reply.target_mac, kMacA);
    EXPECT_EQ(reply.target_ip, arp.sender_ip);

    for (size_t n = 0; n < written; ++n) {
      std::vector<uint8_t> small(n);
      ASSERT_EQ(BuildArpReply(v, arp, kMacB, small, &written), WireError::kPacketBufferTooSmall);
    }
  }
}

TEST(ArpTest, EveryTruncationIsArpTruncated) {
  const std::vector<uint8_t> frame = HandmadeFrame("arp_request");
  const Bytes arp_bytes = Bytes(frame).subspan(14, kArpLength);
  ArpPacket arp;
  for (size_t n = 0; n < kArpLength; ++n) {
    EXPECT_EQ(ParseArp(arp_bytes.first(n), &arp), WireError::kArpTruncated) << n;
  }
  EXPECT_EQ(ParseArp(arp_bytes, &arp), WireError::kOk);
}

TEST(ArpTest, OtherHardwareProtocolsAndOperationsAreUnsupported) {
  const std::vector<uint8_t> frame = HandmadeFrame("arp_request");
  const std::vector<uint8_t> good(frame.begin() + 14, frame.begin() + 14 + kArpLength);
  ArpPacket arp;
  for (size_t at : {1u, 2u, 4u, 5u, 7u}) {  // htype, ptype, hlen, plen, operation
    std::vector<uint8_t> bad = good;
    bad[at] ^= 0x40;
    EXPECT_EQ(ParseArp(bad, &arp), WireError::kArpUnsupported) << at;
  }
  std::vector<uint8_t> rarp = good;
  rarp[7] = 3;  // RARP request
  EXPECT_EQ(ParseArp(rarp, &arp), WireError::kArpUnsupported);
}

TEST(ArpTest, RequestMatchesKnownGoodFrame) {
  const IpAddress ours = *ParseIpAddress("198.18.0.1");
  const IpAddress target = *ParseIpAddress("198.18.0.2");
  std::vector<uint8_t> out(100);
  size_t written = 0;
  ASSERT_EQ(BuildArpRequest(kMacA, ours, target, out, &written), WireError::kOk);
  out.resize(written);
  EXPECT_EQ(ToHex(out), ToHex(HandmadeFrame("arp_request")));

  for (size_t n = 0; n < written; ++n) {
    std::vector<uint8_t> small(n);
    ASSERT_EQ(BuildArpRequest(kMacA, ours, target, small, &written),
              WireError::kPacketBufferTooSmall);
  }
  const IpAddress v6 = *ParseIpAddress("2001:db8::1");
  EXPECT_EQ(BuildArpRequest(kMacA, v6, target, out, &written), WireError::kArpUnsupported);
  EXPECT_EQ(BuildArpRequest(kMacA, ours, IpAddress{}, out, &written), WireError::kArpUnsupported);
}

}  // namespace
}  // namespace t38relay::dataplane
