// The neighbour responder on a net_ring port, with a Transmit callback that records what leaves:
// ARP/NDP/echo answers, learning, resolution with held frames, retries, limits, and malformed
// input (counted, never a crash, no mbuf leaked).
#include "dataplane/port/neighbor_responder.h"

#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/wire/arp.h"
#include "dataplane/wire/checksum.h"
#include "dataplane/wire/icmp.h"
#include "gtest/gtest.h"
#include "tests/dataplane/port/ring_device.h"
#include "tests/eal_support.h"

namespace t38relay::dataplane {
namespace {

using ::t38relay::testing::RingDevice;
using ::t38relay::testing::TestPool;

constexpr MacAddress kPeerMac = {0x02, 0, 0, 0, 0, 0x0a};
constexpr MacAddress kOtherMac = {0x02, 0, 0, 0, 0, 0x0b};
constexpr MacAddress kGatewayMac = {0x02, 0, 0, 0, 0, 0xfe};

IpAddress Ip(const char* text) { return *ParseIpAddress(text); }

const IpAddress kOurV4 = Ip("198.18.0.1");
const IpAddress kOurV6 = Ip("fd00:198:18::1");
const IpAddress kPeerV4 = Ip("198.18.0.10");
const IpAddress kPeerV6 = Ip("fd00:198:18::10");

std::vector<uint8_t> Contents(const rte_mbuf* m) {
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  return std::vector<uint8_t>(p, p + rte_pktmbuf_data_len(m));
}

rte_mbuf* ToMbuf(const std::vector<uint8_t>& frame) {
  rte_mbuf* m = rte_pktmbuf_alloc(TestPool());
  EXPECT_NE(m, nullptr);
  if (m == nullptr) return nullptr;
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
  EXPECT_NE(p, nullptr);
  if (p != nullptr && !frame.empty()) std::memcpy(p, frame.data(), frame.size());
  return m;
}

std::vector<uint8_t> Build(WireError (*build)(const MacAddress&, const IpAddress&,
                                              const IpAddress&, MutableBytes, size_t*),
                           const MacAddress& mac, const IpAddress& from, const IpAddress& to) {
  std::vector<uint8_t> out(200);
  size_t written = 0;
  EXPECT_EQ(build(mac, from, to, out, &written), WireError::kOk);
  out.resize(written);
  return out;
}
std::vector<uint8_t> ArpRequest(const MacAddress& mac, const IpAddress& from,
                                const IpAddress& to) {
  return Build(BuildArpRequest, mac, from, to);
}
std::vector<uint8_t> Solicitation(const MacAddress& mac, const IpAddress& from,
                                  const IpAddress& to) {
  return Build(BuildNeighborSolicitation, mac, from, to);
}

// An ARP packet of any operation and addresses, in an Ethernet frame to dst_mac.
std::vector<uint8_t> Arp(uint16_t operation, const MacAddress& sender_mac,
                         const IpAddress& sender_ip, const IpAddress& target_ip,
                         const MacAddress& dst_mac) {
  std::vector<uint8_t> out(60);
  ByteWriter w(out);
  EthernetHeader ethernet;
  ethernet.dst = dst_mac;
  ethernet.src = sender_mac;
  WriteEthernetHeader(ethernet, kEtherTypeArp, &w);
  w.WriteU16(1);
  w.WriteU16(kEtherTypeIpv4);
  w.WriteU8(6);
  w.WriteU8(4);
  w.WriteU16(operation);
  w.WriteBytes(sender_mac);
  w.WriteBytes(Bytes(sender_ip.bytes.data(), 4));
  w.WriteZeros(6);
  w.WriteBytes(Bytes(target_ip.bytes.data(), 4));
  EXPECT_TRUE(w.ok());
  return out;
}

// An ICMP or ICMPv6 message (checksum filled in) in an Ethernet frame.
std::vector<uint8_t> Icmp(const MacAddress& src_mac, const MacAddress& dst_mac,
                          const IpAddress& src, const IpAddress& dst, uint8_t type,
                          const std::vector<uint8_t>& body, uint8_t ttl = 64) {
  const bool v6 = src.family == IpFamily::kV6;
  std::vector<uint8_t> icmp = {type, 0, 0, 0};
  icmp.insert(icmp.end(), body.begin(), body.end());
  const uint16_t checksum = v6 ? TransportChecksum(src, dst, kIpProtoIcmpv6, icmp)
                               : InternetChecksum(icmp);
  icmp[2] = static_cast<uint8_t>(checksum >> 8);
  icmp[3] = static_cast<uint8_t>(checksum);
  std::vector<uint8_t> out(14 + 40 + icmp.size());
  ByteWriter w(out);
  EthernetHeader ethernet;
  ethernet.dst = dst_mac;
  ethernet.src = src_mac;
  WriteEthernetHeader(ethernet, v6 ? kEtherTypeIpv6 : kEtherTypeIpv4, &w);
  WriteIpHeader(src, dst, v6 ? kIpProtoIcmpv6 : kIpProtoIcmp, ttl, icmp.size(), &w);
  w.WriteBytes(icmp);
  out.resize(w.length());
  return out;
}

std::vector<uint8_t> EchoBody() {
  std::vector<uint8_t> body = {0x42, 0x42, 0x00, 0x07};  // identifier, sequence
  for (uint8_t i = 0; i < 32; ++i) body.push_back(i);
  return body;
}

// A UDP datagram from us to `to`, destination MAC still zero (what Send is given).
std::vector<uint8_t> Datagram(const MacAddress& our_mac, const IpAddress& from,
                              const IpAddress& to) {
  UdpFrameSpec spec;
  spec.ethernet.src = our_mac;
  spec.src = {from, 20000};
  spec.dst = {to, 6000};
  const std::vector<uint8_t> payload = {0x00, 0x01, 0x02, 0x03, 0x04};
  std::vector<uint8_t> out(200);
  size_t written = 0;
  EXPECT_EQ(BuildUdpFrame(spec, payload, out, &written), WireError::kOk);
  out.resize(written);
  return out;
}

PacketView Parse(const std::vector<uint8_t>& frame) {
  PacketView v;
  EXPECT_EQ(ParseFrame(LinkType::kEthernet, frame, &v), WireError::kOk);
  return v;
}

class NeighborResponderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::StartEal({}));
    ASSERT_NE(TestPool(), nullptr);
    free_at_start_ = rte_mempool_avail_count(TestPool());
    device_ = std::make_unique<RingDevice>();
    ASSERT_TRUE(device_->ok());
    PortConfig config;
    config.device = device_->name();
    config.addresses = {*ParseInterfaceAddress("198.18.0.1/24"),
                        *ParseInterfaceAddress("fd00:198:18::1/64")};
    config.gateways = {Ip("198.18.0.254")};
    absl::StatusOr<std::unique_ptr<PortSet>> ports =
        PortSet::Open({config}, 1, 1, TestPool(), 128, 128);
    ASSERT_TRUE(ports.ok()) << ports.status();
    ports_ = std::move(*ports);
    our_mac_ = ports_->port(0).mac;
    table_ = std::make_unique<NeighborTable>(64, 5000);
    MakeResponder({});
  }

  void TearDown() override {
    FreeSent();
    responder_.reset();
    ports_.reset();
    device_.reset();
    // Every mbuf the test and the responder took went back: nothing leaked, nothing freed twice.
    EXPECT_EQ(rte_mempool_avail_count(TestPool()), free_at_start_);
  }

  void MakeResponder(NeighborResponderConfig config) {
    FreeSent();
    responder_ = std::make_unique<NeighborResponder>(
        *ports_, *table_, TestPool(),
        [this](size_t port, rte_mbuf* m) {
          if (!accept_) return false;
          sent_.emplace_back(port, m);
          return true;
        },
        config);
  }

  bool Handle(const std::vector<uint8_t>& frame, uint64_t now_ms = 0) {
    rte_mbuf* m = ToMbuf(frame);
    const bool taken = responder_->HandleFrame(0, m, now_ms);
    if (!taken) rte_pktmbuf_free(m);
    return taken;
  }

  // What was transmitted since the last call, as bytes (the mbufs are freed).
  std::vector<std::vector<uint8_t>> TakeSent() {
    std::vector<std::vector<uint8_t>> out;
    for (const auto& [port, m] : sent_) {
      EXPECT_EQ(port, 0u);
      out.push_back(Contents(m));
    }
    FreeSent();
    return out;
  }

  void FreeSent() {
    for (const auto& [port, m] : sent_) rte_pktmbuf_free(m);
    sent_.clear();
  }

  const NeighborCounters& counters() const { return responder_->counters(); }

  unsigned free_at_start_ = 0;
  std::unique_ptr<RingDevice> device_;
  std::unique_ptr<PortSet> ports_;
  std::unique_ptr<NeighborTable> table_;
  std::unique_ptr<NeighborResponder> responder_;
  std::vector<std::pair<size_t, rte_mbuf*>> sent_;
  bool accept_ = true;
  MacAddress our_mac_{};
};

TEST_F(NeighborResponderTest, ArpRequestForOurAddressIsAnsweredAndTheSenderLearned) {
  ASSERT_TRUE(Handle(ArpRequest(kPeerMac, kPeerV4, kOurV4)));
  std::vector<std::vector<uint8_t>> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].size(), 60u);
  const PacketView v = Parse(sent[0]);
  EXPECT_EQ(v.ethernet.dst, kPeerMac);
  EXPECT_EQ(v.ethernet.src, our_mac_);
  ArpPacket reply;
  ASSERT_EQ(ParseArp(v.l3, &reply), WireError::kOk);
  EXPECT_EQ(reply.operation, kArpReply);
  EXPECT_EQ(reply.sender_mac, our_mac_);
  EXPECT_EQ(reply.sender_ip, kOurV4);
  EXPECT_EQ(reply.target_mac, kPeerMac);
  EXPECT_EQ(reply.target_ip, kPeerV4);
  EXPECT_EQ(counters().arp_requests_answered, 1u);
  EXPECT_EQ(counters().arp_learned, 1u);
  MacAddress mac;
  ASSERT_TRUE(table_->Lookup(0, kPeerV4, &mac));
  EXPECT_EQ(mac, kPeerMac);

  // For somebody else: taken, not answered, the sender not learned.
  ASSERT_TRUE(Handle(ArpRequest(kOtherMac, Ip("198.18.0.11"), Ip("198.18.0.99"))));
  EXPECT_TRUE(TakeSent().empty());
  EXPECT_EQ(counters().not_for_us, 1u);
  EXPECT_FALSE(table_->Lookup(0, Ip("198.18.0.11"), &mac));

  // From outside our prefix: answered, not learned. An RFC 5227 probe: answered, not learned.
  ASSERT_TRUE(Handle(ArpRequest(kOtherMac, Ip("198.19.0.11"), kOurV4)));
  ASSERT_TRUE(Handle(ArpRequest(kOtherMac, Ip("0.0.0.0"), kOurV4)));
  EXPECT_EQ(TakeSent().size(), 2u);
  EXPECT_EQ(counters().arp_requests_answered, 3u);
  EXPECT_EQ(counters().arp_learned, 1u);
  EXPECT_EQ(table_->size(), 1u);
}

TEST_F(NeighborResponderTest, GratuitousArpRefreshesOnlyKnownNeighbours) {
  ASSERT_TRUE(table_->Set(0, kPeerV4, kPeerMac, 0));
  // The neighbour moved to another card: both forms of gratuitous ARP update it.
  ASSERT_TRUE(Handle(Arp(kArpRequest, kOtherMac, kPeerV4, kPeerV4, {0xff, 0xff, 0xff, 0xff, 0xff,
                                                                    0xff})));
  MacAddress mac;
  ASSERT_TRUE(table_->Lookup(0, kPeerV4, &mac));
  EXPECT_EQ(mac, kOtherMac);
  ASSERT_TRUE(Handle(Arp(kArpReply, kPeerMac, kPeerV4, kPeerV4, {0xff, 0xff, 0xff, 0xff, 0xff,
                                                                 0xff})));
  ASSERT_TRUE(table_->Lookup(0, kPeerV4, &mac));
  EXPECT_EQ(mac, kPeerMac);
  EXPECT_EQ(counters().arp_refreshed, 2u);
  // An unknown one is not added, nor is an unsolicited reply.
  const IpAddress stranger = Ip("198.18.0.77");
  ASSERT_TRUE(Handle(Arp(kArpRequest, kOtherMac, stranger, stranger, {0xff, 0xff, 0xff, 0xff, 0xff,
                                                                      0xff})));
  ASSERT_TRUE(Handle(Arp(kArpReply, kOtherMac, stranger, kOurV4, our_mac_)));
  EXPECT_FALSE(table_->Lookup(0, stranger, &mac));
  EXPECT_EQ(counters().not_for_us, 2u);
  // Somebody claiming our address.
  ASSERT_TRUE(Handle(Arp(kArpReply, kOtherMac, kOurV4, kOurV4, {0xff, 0xff, 0xff, 0xff, 0xff,
                                                                0xff})));
  EXPECT_EQ(counters().address_conflict, 1u);
  EXPECT_TRUE(TakeSent().empty());
}

TEST_F(NeighborResponderTest, SolicitationForOurAddressIsAnsweredWithAnAdvertisement) {
  ASSERT_TRUE(Handle(Solicitation(kPeerMac, kPeerV6, kOurV6)));
  std::vector<std::vector<uint8_t>> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  const PacketView v = Parse(sent[0]);
  EXPECT_EQ(v.ethernet.dst, kPeerMac);
  EXPECT_EQ(v.ethernet.src, our_mac_);
  EXPECT_EQ(v.src, kOurV6);
  EXPECT_EQ(v.dst, kPeerV6);
  EXPECT_EQ(v.ttl, 255);
  NeighborAdvertisement na;
  ASSERT_EQ(ParseNeighborAdvertisement(v, &na), WireError::kOk);  // checksum verified
  EXPECT_EQ(na.target, kOurV6);
  EXPECT_EQ(na.flags, kNdpFlagSolicited | kNdpFlagOverride);
  ASSERT_TRUE(na.has_target_mac);
  EXPECT_EQ(na.target_mac, our_mac_);
  EXPECT_EQ(counters().ns_answered, 1u);
  EXPECT_EQ(counters().ns_learned, 1u);
  MacAddress mac;
  ASSERT_TRUE(table_->Lookup(0, kPeerV6, &mac));
  EXPECT_EQ(mac, kPeerMac);

  // For another target: taken, not answered.
  ASSERT_TRUE(Handle(Solicitation(kPeerMac, kPeerV6, Ip("fd00:198:18::99"))));
  EXPECT_TRUE(TakeSent().empty());
  EXPECT_EQ(counters().not_for_us, 1u);
  // Duplicate address detection must not carry a source link-layer option (RFC 4861 7.1.1).
  ASSERT_TRUE(Handle(Solicitation(kPeerMac, Ip("::"), kOurV6)));
  EXPECT_TRUE(TakeSent().empty());
  EXPECT_EQ(counters().malformed, 1u);
}

TEST_F(NeighborResponderTest, EchoRequestsOfBothFamiliesAreAnswered) {
  const std::vector<uint8_t> body = EchoBody();
  for (const auto& [peer, ours] : {std::pair{kPeerV4, kOurV4}, std::pair{kPeerV6, kOurV6}}) {
    SCOPED_TRACE(ours.ToString());
    const bool v6 = ours.family == IpFamily::kV6;
    ASSERT_TRUE(Handle(Icmp(kPeerMac, our_mac_, peer, ours,
                            v6 ? kIcmpv6EchoRequest : kIcmpEchoRequest, body)));
    std::vector<std::vector<uint8_t>> sent = TakeSent();
    ASSERT_EQ(sent.size(), 1u);
    PacketView v;
    ASSERT_EQ(ParseFrame(LinkType::kEthernet, sent[0], &v), WireError::kOk);  // IPv4 checksum
    EXPECT_EQ(v.ethernet.dst, kPeerMac);
    EXPECT_EQ(v.ethernet.src, our_mac_);
    EXPECT_EQ(v.src, ours);
    EXPECT_EQ(v.dst, peer);
    IcmpEcho echo;
    ASSERT_EQ(ParseIcmpEcho(v, &echo), WireError::kOk);  // ICMP checksum
    EXPECT_EQ(echo.type, v6 ? kIcmpv6EchoReply : kIcmpEchoReply);
    EXPECT_EQ(echo.identifier, 0x4242);
    EXPECT_EQ(echo.sequence, 7);
    EXPECT_EQ(std::vector<uint8_t>(echo.data.begin(), echo.data.end()),
              std::vector<uint8_t>(body.begin() + 4, body.end()));
  }
  EXPECT_EQ(counters().echo_answered, 2u);
}

TEST_F(NeighborResponderTest, EchoThroughAGatewayGoesBackToTheGatewayMac) {
  const IpAddress far = Ip("198.19.5.5");  // outside 198.18.0.0/24
  ASSERT_TRUE(Handle(Icmp(kGatewayMac, our_mac_, far, kOurV4, kIcmpEchoRequest, EchoBody())));
  std::vector<std::vector<uint8_t>> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  const PacketView v = Parse(sent[0]);
  EXPECT_EQ(v.ethernet.dst, kGatewayMac);
  EXPECT_EQ(v.dst, far);
  EXPECT_EQ(counters().echo_answered, 1u);
  EXPECT_EQ(table_->size(), 0u);  // echo teaches nothing
}

TEST_F(NeighborResponderTest, IcmpThatNeedsNoAnswerIsTakenAndCounted) {
  // To an address that is not ours; to another station's MAC; an echo reply; an unreachable.
  ASSERT_TRUE(Handle(Icmp(kPeerMac, our_mac_, kPeerV4, Ip("198.18.0.99"), kIcmpEchoRequest,
                          EchoBody())));
  ASSERT_TRUE(Handle(Icmp(kPeerMac, kOtherMac, kPeerV4, kOurV4, kIcmpEchoRequest, EchoBody())));
  EXPECT_EQ(counters().not_for_us, 2u);
  ASSERT_TRUE(Handle(Icmp(kPeerMac, our_mac_, kPeerV4, kOurV4, kIcmpEchoReply, EchoBody())));
  ASSERT_TRUE(Handle(Icmp(kPeerMac, our_mac_, kPeerV6, kOurV6, kIcmpv6EchoReply, EchoBody())));
  ASSERT_TRUE(Handle(Icmp(kPeerMac, our_mac_, kPeerV4, kOurV4, 3, std::vector<uint8_t>(32, 0))));
  EXPECT_EQ(counters().icmp_ignored, 3u);
  EXPECT_TRUE(TakeSent().empty());
  EXPECT_EQ(counters().echo_answered, 0u);
}

TEST_F(NeighborResponderTest, OtherTrafficIsLeftToTheCaller) {
  const NeighborCounters before = counters();
  EXPECT_FALSE(Handle(Datagram(kPeerMac, kPeerV4, kOurV4)));
  EXPECT_FALSE(Handle(std::vector<uint8_t>(10, 0)));  // too short for Ethernet
  std::vector<uint8_t> lldp(60, 0);
  lldp[12] = 0x88;
  lldp[13] = 0xcc;
  EXPECT_FALSE(Handle(lldp));
  // A chained mbuf is never ours, whatever it holds.
  rte_mbuf* head = ToMbuf(ArpRequest(kPeerMac, kPeerV4, kOurV4));
  rte_mbuf* tail = ToMbuf({0, 0, 0, 0});
  ASSERT_EQ(rte_pktmbuf_chain(head, tail), 0);
  EXPECT_FALSE(responder_->HandleFrame(0, head, 0));
  rte_pktmbuf_free(head);
  EXPECT_TRUE(TakeSent().empty());
  std::vector<uint64_t> a, b;
  before.ForEach([&](const char*, uint64_t v) { a.push_back(v); });
  counters().ForEach([&](const char*, uint64_t v) { b.push_back(v); });
  EXPECT_EQ(a, b);
}

TEST_F(NeighborResponderTest, SendHoldsUntilTheArpReplyArrives) {
  const IpAddress peer = Ip("198.18.0.20");
  const std::vector<uint8_t> datagram = Datagram(our_mac_, kOurV4, peer);
  for (int i = 0; i < 5; ++i) responder_->Send(0, peer, ToMbuf(datagram), 1000);
  std::vector<std::vector<uint8_t>> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);  // one request, however many frames wait
  const PacketView request_view = Parse(sent[0]);
  EXPECT_EQ(request_view.ethernet.dst, (MacAddress{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(request_view.ethernet.src, our_mac_);
  ArpPacket request;
  ASSERT_EQ(ParseArp(request_view.l3, &request), WireError::kOk);
  EXPECT_EQ(request.operation, kArpRequest);
  EXPECT_EQ(request.sender_mac, our_mac_);
  EXPECT_EQ(request.sender_ip, kOurV4);
  EXPECT_EQ(request.target_ip, peer);
  EXPECT_EQ(counters().resolutions_started, 1u);
  EXPECT_EQ(responder_->pending(), 1u);
  EXPECT_EQ(responder_->held(), NeighborResponder::kMaxHeldPerNeighbor);
  EXPECT_EQ(counters().held_dropped, 1u);

  // The peer answers our own request.
  std::vector<uint8_t> reply(60);
  size_t written = 0;
  ASSERT_EQ(BuildArpReply(request_view, request, kOtherMac, reply, &written), WireError::kOk);
  ASSERT_TRUE(Handle(reply, 1200));
  sent = TakeSent();
  ASSERT_EQ(sent.size(), NeighborResponder::kMaxHeldPerNeighbor);
  for (const std::vector<uint8_t>& frame : sent) {
    ASSERT_EQ(frame.size(), datagram.size());
    EXPECT_TRUE(std::equal(frame.begin(), frame.begin() + 6, kOtherMac.begin()));
    EXPECT_TRUE(std::equal(frame.begin() + 6, frame.end(), datagram.begin() + 6));
  }
  EXPECT_EQ(counters().arp_learned, 1u);
  EXPECT_EQ(counters().held_sent, NeighborResponder::kMaxHeldPerNeighbor);
  EXPECT_EQ(responder_->pending(), 0u);
  EXPECT_EQ(responder_->held(), 0u);

  // Known now: straight out.
  responder_->Send(0, peer, ToMbuf(datagram), 1300);
  sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(std::equal(sent[0].begin(), sent[0].begin() + 6, kOtherMac.begin()));
  EXPECT_EQ(counters().sent, 1u);
  // Resolve on a known neighbour does nothing.
  responder_->Resolve(0, peer, 1400);
  EXPECT_TRUE(TakeSent().empty());
}

TEST_F(NeighborResponderTest, SendOverIpv6SolicitsAndTheAdvertisementReleasesTheFrame) {
  const IpAddress peer = Ip("fd00:198:18::20");
  const std::vector<uint8_t> datagram = Datagram(our_mac_, kOurV6, peer);
  responder_->Send(0, peer, ToMbuf(datagram), 0);
  std::vector<std::vector<uint8_t>> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  const PacketView ns_view = Parse(sent[0]);
  EXPECT_EQ(ns_view.ethernet.dst, (MacAddress{0x33, 0x33, 0xff, 0x00, 0x00, 0x20}));
  EXPECT_EQ(ns_view.dst, Ip("ff02::1:ff00:20"));
  EXPECT_EQ(ns_view.src, kOurV6);
  NeighborSolicitation ns;
  ASSERT_EQ(ParseNeighborSolicitation(ns_view, &ns), WireError::kOk);
  EXPECT_EQ(ns.target, peer);
  ASSERT_TRUE(ns.has_source_mac);
  EXPECT_EQ(ns.source_mac, our_mac_);

  std::vector<uint8_t> na(200);
  size_t written = 0;
  ASSERT_EQ(BuildNeighborAdvertisement(ns_view, ns, kOtherMac, na, &written), WireError::kOk);
  na.resize(written);
  ASSERT_TRUE(Handle(na, 10));
  sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(std::equal(sent[0].begin(), sent[0].begin() + 6, kOtherMac.begin()));
  EXPECT_TRUE(std::equal(sent[0].begin() + 6, sent[0].end(), datagram.begin() + 6));
  EXPECT_EQ(counters().na_learned, 1u);
  // Another advertisement for a known neighbour refreshes it; one for an unknown is ignored; one
  // for our own address is a conflict.
  ASSERT_TRUE(Handle(na, 20));
  EXPECT_EQ(counters().na_refreshed, 1u);
  ns.target = Ip("fd00:198:18::77");
  ASSERT_EQ(BuildNeighborAdvertisement(ns_view, ns, kOtherMac, na = std::vector<uint8_t>(200),
                                       &written),
            WireError::kOk);
  na.resize(written);
  ASSERT_TRUE(Handle(na, 30));
  EXPECT_EQ(counters().not_for_us, 1u);
  ns.target = kOurV6;
  ASSERT_EQ(BuildNeighborAdvertisement(ns_view, ns, kOtherMac, na = std::vector<uint8_t>(200),
                                       &written),
            WireError::kOk);
  na.resize(written);
  ASSERT_TRUE(Handle(na, 40));
  EXPECT_EQ(counters().address_conflict, 1u);
  EXPECT_TRUE(TakeSent().empty());
}

TEST_F(NeighborResponderTest, RetriesEverySecondThenGivesUpAndDropsWhatIsHeld) {
  const IpAddress silent = Ip("198.18.0.30");
  responder_->Send(0, silent, ToMbuf(Datagram(our_mac_, kOurV4, silent)), 0);
  responder_->Send(0, silent, ToMbuf(Datagram(our_mac_, kOurV4, silent)), 10);
  EXPECT_EQ(TakeSent().size(), 1u);
  responder_->OnTimer(999);
  EXPECT_TRUE(TakeSent().empty());
  responder_->OnTimer(1000);
  EXPECT_EQ(TakeSent().size(), 1u);
  responder_->OnTimer(1500);
  EXPECT_TRUE(TakeSent().empty());
  responder_->OnTimer(2000);
  std::vector<std::vector<uint8_t>> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  ArpPacket request;
  ASSERT_EQ(ParseArp(Parse(sent[0]).l3, &request), WireError::kOk);
  EXPECT_EQ(request.target_ip, silent);
  EXPECT_EQ(counters().resolution_retries, 2u);
  EXPECT_EQ(responder_->held(), 2u);
  responder_->OnTimer(3000);  // three requests unanswered
  EXPECT_TRUE(TakeSent().empty());
  EXPECT_EQ(counters().resolution_failed, 1u);
  EXPECT_EQ(counters().neighbor_unresolved, 2u);
  EXPECT_EQ(responder_->held(), 0u);
  EXPECT_EQ(responder_->pending(), 0u);
  // A late answer is unsolicited now.
  ASSERT_TRUE(Handle(Arp(kArpReply, kOtherMac, silent, kOurV4, our_mac_), 3500));
  EXPECT_EQ(counters().not_for_us, 1u);
  MacAddress mac;
  EXPECT_FALSE(table_->Lookup(0, silent, &mac));

  // Resolve starts the same cycle without holding anything.
  responder_->Resolve(0, Ip("198.18.0.254"), 4000);
  responder_->Resolve(0, Ip("198.18.0.254"), 4001);  // already under way
  EXPECT_EQ(TakeSent().size(), 1u);
  EXPECT_EQ(responder_->pending(), 1u);
}

TEST_F(NeighborResponderTest, LimitsOnHeldFramesAndPendingNeighbours) {
  NeighborResponderConfig config;
  config.max_held = 6;
  config.max_pending = 2;
  MakeResponder(config);
  const IpAddress a = Ip("198.18.0.31"), b = Ip("198.18.0.32"), c = Ip("198.18.0.33");
  for (int i = 0; i < 4; ++i) responder_->Send(0, a, ToMbuf(Datagram(our_mac_, kOurV4, a)), 0);
  for (int i = 0; i < 4; ++i) responder_->Send(0, b, ToMbuf(Datagram(our_mac_, kOurV4, b)), 0);
  EXPECT_EQ(responder_->held(), 6u);
  EXPECT_EQ(counters().held_dropped, 2u);
  responder_->Send(0, c, ToMbuf(Datagram(our_mac_, kOurV4, c)), 0);
  EXPECT_EQ(counters().pending_full, 1u);
  EXPECT_EQ(TakeSent().size(), 2u);  // a request for a and one for b
  // No next hop, or no address of the family on the port.
  responder_->Send(0, IpAddress{}, ToMbuf(Datagram(our_mac_, kOurV4, c)), 0);
  EXPECT_EQ(counters().no_route, 1u);
  // Frames still held when the responder goes are freed (the TearDown leak check).
}

TEST_F(NeighborResponderTest, TransmitFailuresAreCountedAndFreed) {
  accept_ = false;
  ASSERT_TRUE(Handle(ArpRequest(kPeerMac, kPeerV4, kOurV4)));
  responder_->Send(0, kPeerV4, ToMbuf(Datagram(our_mac_, kOurV4, kPeerV4)), 0);  // known now
  responder_->Send(0, Ip("198.18.0.40"), ToMbuf(Datagram(our_mac_, kOurV4, kPeerV4)), 0);
  EXPECT_EQ(counters().tx_failed, 3u);  // reply, frame, ARP request
  EXPECT_EQ(counters().arp_requests_answered, 1u);
  EXPECT_EQ(counters().sent, 1u);
}

TEST_F(NeighborResponderTest, NeighboursExpireThroughOnTimer) {
  ASSERT_TRUE(Handle(ArpRequest(kPeerMac, kPeerV4, kOurV4), 0));
  TakeSent();
  responder_->OnTimer(4999);
  EXPECT_EQ(counters().neighbor_expired, 0u);
  responder_->OnTimer(6000);
  EXPECT_EQ(counters().neighbor_expired, 1u);
  MacAddress mac;
  EXPECT_FALSE(table_->Lookup(0, kPeerV4, &mac));
}

TEST_F(NeighborResponderTest, MalformedFramesAreCountedNeverACrash) {
  // A truncated ARP packet, a bad ICMP checksum, an NS with hop limit 64, a bad IPv4 checksum.
  std::vector<uint8_t> arp = ArpRequest(kPeerMac, kPeerV4, kOurV4);
  arp.resize(14 + 20);
  ASSERT_TRUE(Handle(arp));
  std::vector<uint8_t> echo = Icmp(kPeerMac, our_mac_, kPeerV4, kOurV4, kIcmpEchoRequest,
                                   EchoBody());
  echo.back() ^= 1;
  ASSERT_TRUE(Handle(echo));
  ASSERT_TRUE(Handle(Icmp(kPeerMac, our_mac_, kPeerV6, kOurV6, kNdpNeighborSolicitation,
                          std::vector<uint8_t>(20, 0), 64)));
  echo = Icmp(kPeerMac, our_mac_, kPeerV4, kOurV4, kIcmpEchoRequest, EchoBody());
  echo[14 + 10] ^= 1;
  ASSERT_TRUE(Handle(echo));
  EXPECT_EQ(counters().malformed, 4u);
  EXPECT_TRUE(TakeSent().empty());

  // Random damage to every kind of frame: each is either left to the caller or taken; what is
  // sent still parses. The TearDown leak check proves every mbuf came back exactly once.
  const std::vector<std::vector<uint8_t>> seeds = {
      ArpRequest(kPeerMac, kPeerV4, kOurV4),
      Arp(kArpReply, kPeerMac, kPeerV4, kOurV4, our_mac_),
      Solicitation(kPeerMac, kPeerV6, kOurV6),
      Icmp(kPeerMac, our_mac_, kPeerV4, kOurV4, kIcmpEchoRequest, EchoBody()),
      Icmp(kPeerMac, our_mac_, kPeerV6, kOurV6, kIcmpv6EchoRequest, EchoBody()),
      Datagram(kPeerMac, kPeerV4, kOurV4),
  };
  std::mt19937 random(7);
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> frame = seeds[random() % seeds.size()];
    const int damage = static_cast<int>(random() % 4);
    for (int d = 0; d <= damage; ++d) frame[random() % frame.size()] ^= 1 << (random() % 8);
    if (random() % 4 == 0) frame.resize(random() % (frame.size() + 1));
    Handle(frame, static_cast<uint64_t>(i));
    for (const std::vector<uint8_t>& out : TakeSent()) {
      PacketView v;
      EXPECT_EQ(ParseFrame(LinkType::kEthernet, out, &v), WireError::kOk);
    }
    if (i % 1000 == 0) responder_->OnTimer(static_cast<uint64_t>(i));
  }
  EXPECT_GT(counters().malformed, 4u);
}

TEST_F(NeighborResponderTest, CountersAreListedByName) {
  std::vector<std::string> names;
  counters().ForEach([&](const char* name, uint64_t value) {
    names.push_back(name);
    EXPECT_EQ(value, 0u);
  });
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  for (const char* expected : {"arp-requests-answered", "arp-learned", "ns-answered",
                               "echo-answered", "resolutions-started", "resolution-failed",
                               "neighbor-unresolved", "held-dropped", "tx-failed", "not-for-us",
                               "malformed"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
}

}  // namespace
}  // namespace t38relay::dataplane
