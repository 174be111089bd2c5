// UdptlSender / UdptlReceiver: in-order delivery, and exactly what redundancy and FEC recover
// for given loss patterns.
#include "tools/fax/udptl_channel.h"

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace t38relay::tools::fax {
namespace {

using dataplane::Bytes;
using dataplane::IfpVariant;

// A distinct, valid IFP per sequence number (FEC recovery re-decodes what it rebuilds): a V.17
// ECM frame chunk whose length and content vary with n.
std::vector<uint8_t> MakeIfp(int n) {
  dataplane::IfpPacket p;
  p.kind = dataplane::IfpMsgKind::kData;
  p.data_type = dataplane::T30Data::kV17_14400;
  p.has_data_field = true;
  p.field_count = 1;
  std::vector<uint8_t> payload(1 + (n * 7) % 40);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(n * 31 + i);
  p.field_storage[0].type = dataplane::IfpFieldType::kHdlcData;
  p.field_storage[0].has_data = true;
  p.field_storage[0].data = payload;
  std::vector<uint8_t> out(256);
  size_t written = 0;
  EXPECT_EQ(dataplane::EncodeIfp(p, IfpVariant::k1998, out, &written), dataplane::WireError::kOk);
  out.resize(written);
  return out;
}

struct Delivered {
  uint16_t seq;
  std::vector<uint8_t> ifp;
};

// Sends IFPs 0..count-1 through a sender and a receiver, dropping the packets in `lost`.
struct Link {
  Link(T38UdpEc ec, size_t depth, size_t max_datagram = 1400)
      : sender(ec, depth, max_datagram),
        receiver(IfpVariant::k1998, [this](uint16_t seq, Bytes ifp) {
          delivered.push_back({seq, std::vector<uint8_t>(ifp.begin(), ifp.end())});
        }) {}

  void Run(int count, const std::set<int>& lost) {
    for (int i = 0; i < count; ++i) {
      const std::vector<uint8_t> ifp = MakeIfp(i);
      absl::StatusOr<Bytes> datagram = sender.Frame(ifp);
      ASSERT_TRUE(datagram.ok()) << datagram.status();
      if (lost.count(i) == 0) {
        ASSERT_TRUE(receiver.Receive(*datagram));
      }
    }
  }

  // The sequence numbers delivered, each checked against the IFP sent with it.
  std::vector<int> DeliveredSeqs() const {
    std::vector<int> seqs;
    for (const Delivered& d : delivered) {
      EXPECT_EQ(d.ifp, MakeIfp(d.seq)) << "seq " << d.seq;
      seqs.push_back(d.seq);
    }
    return seqs;
  }

  UdptlSender sender;
  UdptlReceiver receiver;
  std::vector<Delivered> delivered;
};

std::vector<int> AllExcept(int count, const std::set<int>& missing) {
  std::vector<int> out;
  for (int i = 0; i < count; ++i) {
    if (missing.count(i) == 0) out.push_back(i);
  }
  return out;
}

TEST(UdptlChannelTest, NoLossDeliversEverythingInOrder) {
  Link link(T38UdpEc::kRedundancy, 3);
  link.Run(50, {});
  EXPECT_EQ(link.DeliveredSeqs(), AllExcept(50, {}));
  EXPECT_EQ(link.receiver.counters().recovered, 0u);
  EXPECT_EQ(link.receiver.counters().lost, 0u);
  EXPECT_EQ(link.receiver.counters().packets, 50u);
}

TEST(UdptlChannelTest, WithoutErrorCorrectionLossesAreCountedAndSkipped) {
  Link link(T38UdpEc::kNone, 3);
  link.Run(20, {4, 9, 10});
  EXPECT_EQ(link.DeliveredSeqs(), AllExcept(20, {4, 9, 10}));
  EXPECT_EQ(link.receiver.counters().recovered, 0u);
  EXPECT_EQ(link.receiver.counters().lost, 3u);
}

TEST(UdptlChannelTest, RedundancyRecoversBurstsUpToItsDepth) {
  Link link(T38UdpEc::kRedundancy, 3);
  link.Run(30, {5, 12, 13, 20, 21, 22});
  EXPECT_EQ(link.DeliveredSeqs(), AllExcept(30, {}));
  EXPECT_EQ(link.receiver.counters().recovered, 6u);
  EXPECT_EQ(link.receiver.counters().lost, 0u);
}

TEST(UdptlChannelTest, RedundancyLosesTheOldestOfALongerBurst) {
  // Packet 14 carries 13, 12, 11: 10 is gone for good.
  Link link(T38UdpEc::kRedundancy, 3);
  link.Run(20, {10, 11, 12, 13});
  EXPECT_EQ(link.DeliveredSeqs(), AllExcept(20, {10}));
  EXPECT_EQ(link.receiver.counters().recovered, 3u);
  EXPECT_EQ(link.receiver.counters().lost, 1u);
}

TEST(UdptlChannelTest, FecRecoversSingleLossesAndShortBursts) {
  // Span 3, 3 entries: entry j of packet s covers s-9+j, s-6+j, s-3+j.
  Link link(T38UdpEc::kFec, 3);
  link.Run(60, {20, 30, 31, 40, 41, 42});
  EXPECT_EQ(link.DeliveredSeqs(), AllExcept(60, {}));
  EXPECT_EQ(link.receiver.counters().recovered, 6u);
  EXPECT_EQ(link.receiver.counters().lost, 0u);
}

TEST(UdptlChannelTest, FecCannotRebuildTwoMembersOfOneGroup) {
  // Packet 24's entry 2 covers 17, 20, 23: with 20 and 23 both lost neither comes back; its
  // entries 0 and 1 (15, 18, 21 and 16, 19, 22) rebuild 21 and 22.
  Link link(T38UdpEc::kFec, 3);
  link.Run(40, {20, 21, 22, 23});
  EXPECT_EQ(link.DeliveredSeqs(), AllExcept(40, {20, 23}));
  EXPECT_EQ(link.receiver.counters().recovered, 2u);
  EXPECT_EQ(link.receiver.counters().lost, 2u);
}

TEST(UdptlChannelTest, FecUsesWhatItRebuiltForTheNextGroup) {
  // 20 comes back from packet 21 (14, 17, 20); packet 24 then has 17 and 20 to rebuild 23.
  Link link(T38UdpEc::kFec, 3);
  link.Run(40, {20, 23});
  EXPECT_EQ(link.DeliveredSeqs(), AllExcept(40, {}));
  EXPECT_EQ(link.receiver.counters().recovered, 2u);
}

TEST(UdptlChannelTest, RepeatedPacketsAreDeliveredOnce) {
  UdptlSender sender(T38UdpEc::kRedundancy, 2, 1400);
  std::vector<uint16_t> seqs;
  UdptlReceiver receiver(IfpVariant::k1998, [&](uint16_t seq, Bytes) { seqs.push_back(seq); });
  for (int i = 0; i < 3; ++i) {
    const std::vector<uint8_t> ifp = MakeIfp(i);
    const Bytes d = *sender.Frame(ifp);
    const std::vector<uint8_t> copy(d.begin(), d.end());
    ASSERT_TRUE(receiver.Receive(copy));
    ASSERT_TRUE(receiver.Receive(copy));  // spandsp's repeat count
  }
  EXPECT_EQ(seqs, (std::vector<uint16_t>{0, 1, 2}));
  EXPECT_EQ(receiver.counters().duplicates, 3u);
}

TEST(UdptlChannelTest, SenderTrimsRedundancyToThePeersDatagramLimit) {
  // Each IFP here is 40 + 4 octets; 3 secondaries would need ~180.
  UdptlSender sender(T38UdpEc::kRedundancy, 3, 100);
  std::vector<uint8_t> ifp(40, 0x11);
  size_t largest = 0;
  for (int i = 0; i < 10; ++i) largest = std::max(largest, sender.Frame(ifp)->size());
  EXPECT_LE(largest, 100u);
  EXPECT_GT(sender.trimmed(), 0u);
  dataplane::UdptlPacket packet;
  const Bytes framed = *sender.Frame(ifp);
  const std::vector<uint8_t> last(framed.begin(), framed.end());
  ASSERT_EQ(dataplane::DecodeUdptl(last, &packet), dataplane::WireError::kOk);
  EXPECT_EQ(packet.secondary_count, 1u);
}

TEST(UdptlChannelTest, AStreamJoinedLateStartsWhereItIs) {
  std::vector<uint16_t> seqs;
  UdptlReceiver receiver(IfpVariant::k1998, [&](uint16_t seq, Bytes) { seqs.push_back(seq); });
  const std::vector<uint8_t> ifp = MakeIfp(1);
  std::vector<uint8_t> buffer(64);
  size_t written = 0;
  const dataplane::UdptlPacket p = dataplane::UdptlWithRedundancy(1000, ifp, {});
  ASSERT_EQ(dataplane::EncodeUdptl(p, buffer, &written), dataplane::WireError::kOk);
  buffer.resize(written);
  ASSERT_TRUE(receiver.Receive(buffer));
  EXPECT_EQ(seqs, (std::vector<uint16_t>{1000}));
  EXPECT_EQ(receiver.counters().lost, 0u);
}

// A plain UDPTL packet with sequence number `seq` and `ifp` as primary.
std::vector<uint8_t> PacketAt(uint16_t seq, const std::vector<uint8_t>& ifp) {
  std::vector<uint8_t> buffer(ifp.size() + 16);
  size_t written = 0;
  EXPECT_EQ(dataplane::EncodeUdptl(dataplane::UdptlWithRedundancy(seq, ifp, {}), buffer, &written),
            dataplane::WireError::kOk);
  buffer.resize(written);
  return buffer;
}

TEST(UdptlChannelTest, AStrayFarAheadDoesNotStallTheStream) {
  std::vector<uint16_t> seqs;
  UdptlReceiver receiver(IfpVariant::k1998, [&](uint16_t seq, Bytes) { seqs.push_back(seq); });
  const std::vector<uint8_t> ifp = MakeIfp(1);
  for (uint16_t seq : {0, 1, 2, 40000, 3, 4}) ASSERT_TRUE(receiver.Receive(PacketAt(seq, ifp)));
  EXPECT_EQ(seqs, (std::vector<uint16_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(receiver.counters().out_of_window, 1u);
  EXPECT_EQ(receiver.counters().restarts, 0u);
  EXPECT_EQ(receiver.counters().lost, 0u);
}

TEST(UdptlChannelTest, ANumberingRestartIsTakenOnceItsNextPacketFollows) {
  std::vector<uint16_t> seqs;
  UdptlReceiver receiver(IfpVariant::k1998, [&](uint16_t seq, Bytes) { seqs.push_back(seq); });
  const std::vector<uint8_t> ifp = MakeIfp(2);
  // 5000..5002, then the peer starts again at 0 (its first packet at 0 is dropped: one lost).
  for (uint16_t seq : {5000, 5001, 5002, 0, 1, 2}) {
    ASSERT_TRUE(receiver.Receive(PacketAt(seq, ifp)));
  }
  EXPECT_EQ(seqs, (std::vector<uint16_t>{5000, 5001, 5002, 1, 2}));
  EXPECT_EQ(receiver.counters().restarts, 1u);
  EXPECT_EQ(receiver.counters().out_of_window, 1u);
  EXPECT_EQ(receiver.counters().lost, 1u);
}

TEST(UdptlChannelTest, GarbageIsCountedNotDelivered) {
  int delivered = 0;
  UdptlReceiver receiver(IfpVariant::k1998, [&](uint16_t, Bytes) { ++delivered; });
  const std::vector<uint8_t> garbage = {0x00, 0x01, 0x7f};
  EXPECT_FALSE(receiver.Receive(garbage));
  EXPECT_EQ(receiver.counters().malformed, 1u);
  EXPECT_EQ(delivered, 0);
}

TEST(UdptlChannelTest, OversizedIfpIsRefused) {
  UdptlSender sender(T38UdpEc::kNone, 0, 1400);
  const std::vector<uint8_t> ifp(dataplane::kMaxIfpLength + 1, 0);
  EXPECT_FALSE(sender.Frame(ifp).ok());
}

}  // namespace
}  // namespace t38relay::tools::fax
