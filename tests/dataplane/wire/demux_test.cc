// Tests of the RFC 7983 first-byte demux: every byte value, and the datagrams of real captures.
#include "dataplane/wire/demux.h"

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "dataplane/wire/packet.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace t38relay::dataplane {
namespace {

using ::t38relay::testing::FromHex;
using ::t38relay::testing::ReadFileText;
using ::t38relay::testing::TestDataDir;

TEST(DemuxTest, EveryFirstByte) {
  for (int b = 0; b < 256; ++b) {
    const DemuxKind expected = b <= 3                ? DemuxKind::kStun
                               : b >= 20 && b <= 63 ? DemuxKind::kDtls
                                                    : DemuxKind::kOther;
    EXPECT_EQ(DemuxFirstByte(static_cast<uint8_t>(b)), expected) << b;
    const uint8_t datagram[2] = {static_cast<uint8_t>(b), 0};
    EXPECT_EQ(Demux(datagram), expected) << b;
  }
  EXPECT_EQ(Demux(Bytes()), DemuxKind::kOther);
}

TEST(DemuxTest, BurstFormAgreesWithDemux) {
  // 300 datagrams (several chunks and a tail), every first byte and some empty ones.
  std::vector<std::vector<uint8_t>> storage;
  for (int i = 0; i < 300; ++i) {
    storage.push_back(i % 37 == 0 ? std::vector<uint8_t>() : std::vector<uint8_t>{static_cast<uint8_t>(i), 1});
  }
  std::vector<Bytes> burst(storage.begin(), storage.end());
  std::vector<DemuxKind> kinds(burst.size());
  DemuxBurst(burst, kinds.data());
  for (size_t i = 0; i < burst.size(); ++i) EXPECT_EQ(kinds[i], Demux(burst[i])) << i;
}

// tshark's dissector names for the UDP payloads of the captures, against the first byte. (RTP is
// 128..191 and SIP text starts with a letter: both kOther.)
TEST(DemuxTest, CaptureDatagramsAgreeWithTshark) {
  int stun = 0, dtls = 0, other = 0;
  for (const auto& entry : std::filesystem::directory_iterator(TestDataDir() + "/packet")) {
    if (entry.path().extension() != ".tsv" || entry.path().stem() == "handmade") continue;
    std::istringstream in(ReadFileText(entry.path().string()));
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::istringstream fields(line);
      for (std::string s; std::getline(fields, s, '\t');) f.push_back(s);
      ASSERT_EQ(f.size(), 19u);
      const std::vector<uint8_t> frame = FromHex(f[18]);
      const LinkType link = f[1].rfind("sll", 0) == 0 ? LinkType::kLinuxSll : LinkType::kEthernet;
      PacketView v;
      ParseFrame(link, frame, &v);
      if (RequireUdpDatagram(v) != WireError::kOk) continue;
      // The protocol tshark put right after the outermost udp.
      const size_t at = f[1].find(":udp:");
      if (at == std::string::npos) continue;
      const std::string next = f[1].substr(at + 5, f[1].find(':', at + 5) - (at + 5));
      SCOPED_TRACE(entry.path().filename().string() + " frame " + f[0] + " " + f[1]);
      const DemuxKind kind = Demux(v.payload);
      // tshark names TURN ChannelData (64..79, RFC 7983) "stun" too: not ours, so kOther.
      const bool channel_data = !v.payload.empty() && v.payload[0] >= 64 && v.payload[0] <= 79;
      if ((next == "stun" || next == "classicstun") && !channel_data) {
        EXPECT_EQ(kind, DemuxKind::kStun);
        ++stun;
      } else if (next == "dtls") {
        EXPECT_EQ(kind, DemuxKind::kDtls);
        ++dtls;
      } else if (next == "rtp" || next == "rtcp" || next == "sip" || next == "t38" ||
                 channel_data) {
        EXPECT_EQ(kind, DemuxKind::kOther);
        ++other;
      }
    }
  }
  std::printf("stun %d dtls %d other %d\n", stun, dtls, other);
  EXPECT_GT(stun, 100);
  EXPECT_GT(dtls, 100);
  EXPECT_GT(other, 1000);
}

}  // namespace
}  // namespace t38relay::dataplane
