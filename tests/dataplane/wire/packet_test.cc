// Tests of frame parsing, checksums and the UDP frame builder: tshark golden files of real
// captures, and hand-made frames (tests/data/packet/handmade.tsv, checked by tshark).
#include "dataplane/wire/packet.h"

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <random>
#include <vector>

#include "dataplane/wire/checksum.h"
#include "gtest/gtest.h"
#include "tests/dataplane/wire/handmade_frames.h"
#include "tests/dataplane/wire/parse_paths.h"
#include "tests/test_support.h"

namespace t38relay::dataplane {
namespace {

using ::t38relay::testing::CompareWithBareIpv4Parse;
using ::t38relay::testing::FromHex;
using ::t38relay::testing::ReadFileText;
using ::t38relay::testing::SplitFields;
using ::t38relay::testing::TestDataDir;
using ::t38relay::testing::ToHex;

std::string First(const std::string& multi) {
  const auto parts = SplitFields(multi, ',');
  return parts.empty() ? "" : parts[0];
}

using ::t38relay::testing::kMacA;
using ::t38relay::testing::kMacB;

class HandmadeTest : public ::testing::Test {
 protected:
  static const std::vector<uint8_t>& Frame(const std::string& name) {
    return ::t38relay::testing::HandmadeFrame(name);
  }
};

const std::string kPayload = "hello t38relay";

std::string Text(Bytes b) { return std::string(b.begin(), b.end()); }

// --- Checksums -------------------------------------------------------------------------------

TEST(ChecksumTest, Rfc1071Example) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
  const std::vector<uint8_t> data = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(ChecksumAdd(0, data), 0xddf2u);
  EXPECT_EQ(InternetChecksum(data), 0x220d);
  std::vector<uint8_t> with_checksum = data;
  with_checksum.push_back(0x22);
  with_checksum.push_back(0x0d);
  EXPECT_TRUE(ChecksumVerifies(ChecksumAdd(0, with_checksum)));
}

TEST(ChecksumTest, OddLengthPadsAndChainsAndMatchesWordSum) {
  std::vector<uint8_t> data;
  for (int i = 0; i < 1001; ++i) data.push_back(static_cast<uint8_t>(i * 37 + 11));
  // Reference: the plain 16-bit word sum of RFC 1071.
  for (size_t n = 0; n <= data.size(); ++n) {
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i += 2) sum += (uint32_t{data[i]} << 8) | (i + 1 < n ? data[i + 1] : 0);
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    const Bytes b(data.data(), n);
    ASSERT_EQ(ChecksumAdd(0, b), sum) << n;
    // Even-length pieces chain.
    const size_t cut = (n / 3) & ~size_t{1};
    ASSERT_EQ(ChecksumAdd(ChecksumAdd(0, b.first(cut)), b.subspan(cut)), sum) << n;
  }
}

TEST(ChecksumTest, IncrementalUpdateMatchesRecomputation) {
  std::vector<uint8_t> data(40);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 13 + 5);
  for (uint32_t seed = 1; seed < 2000; ++seed) {
    const uint16_t before = InternetChecksum(data);
    const size_t at = (seed * 2) % 36;
    std::vector<uint8_t> old_field(data.begin() + at, data.begin() + at + 4);
    const uint16_t w = static_cast<uint16_t>(seed * 2654435761u >> 16);
    data[at] = static_cast<uint8_t>(w >> 8);
    data[at + 1] = static_cast<uint8_t>(w);
    data[at + 2] = static_cast<uint8_t>(seed);
    std::vector<uint8_t> new_field(data.begin() + at, data.begin() + at + 4);
    // RFC 1624 section 3 warns about the -0/+0 ambiguity; both must verify, so compare sums.
    const uint16_t updated = ChecksumUpdate(before, old_field, new_field);
    std::vector<uint8_t> with = data;
    with.push_back(static_cast<uint8_t>(updated >> 8));
    with.push_back(static_cast<uint8_t>(updated));
    ASSERT_TRUE(ChecksumVerifies(ChecksumAdd(0, with))) << seed;
  }
  std::vector<uint8_t> d = {0x12, 0x34, 0x56, 0x78};
  const uint16_t c = InternetChecksum(d);
  d[2] = 0xAB;
  d[3] = 0xCD;
  const uint16_t updated = ChecksumUpdate16(c, 0x5678, 0xABCD);
  d.push_back(static_cast<uint8_t>(updated >> 8));
  d.push_back(static_cast<uint8_t>(updated));
  EXPECT_TRUE(ChecksumVerifies(ChecksumAdd(0, d)));
}

// --- Golden captures -------------------------------------------------------------------------

struct CaptureCounts {
  int frames = 0;
  int udp = 0;
  int checksum_errors = 0;
};

// True for tshark protocol paths like eth:ethertype[:vlan:ethertype...]:ip:udp[:...], where the
// outermost UDP is right on top of the first IP header.
bool IsDirectUdp(const std::string& protocols) {
  const auto t = SplitFields(protocols, ':');
  if (t.size() < 4 || (t[0] != "eth" && t[0] != "sll") || t[1] != "ethertype") return false;
  size_t i = 2;
  while (i + 1 < t.size() && (t[i] == "vlan" || t[i] == "ieee8021ad") && t[i + 1] == "ethertype") {
    i += 2;
  }
  return i + 1 < t.size() && (t[i] == "ip" || t[i] == "ipv6") && t[i + 1] == "udp";
}

// Compares ParseFrame with tshark's fields, frame for frame. tshark marks checksums bad where the
// capturing host offloaded them; our verdict must agree with tshark's, not be zero.
CaptureCounts CheckCapture(const std::filesystem::path& path) {
  CaptureCounts counts;
  std::istringstream in(ReadFileText(path.string()));
  std::string line;
  while (std::getline(in, line)) {
    const auto f = SplitFields(line, '\t');
    if (f.size() != 19) {
      ADD_FAILURE() << path << ": bad line " << line.substr(0, 40);
      continue;
    }
    ++counts.frames;
    SCOPED_TRACE(path.filename().string() + " frame " + f[0] + " " + f[1]);
    const std::vector<uint8_t> frame = FromHex(f[18]);
    const LinkType link = f[1].rfind("sll", 0) == 0 ? LinkType::kLinuxSll : LinkType::kEthernet;
    PacketView v;
    const WireError e = ParseFrame(link, frame, &v);
    if (link == LinkType::kEthernet) {
      for (bool verify : {false, true}) {
        EXPECT_EQ(CompareWithBareIpv4Parse(frame, {.verify_udp_checksum = verify}), "");
      }
    }
    const bool v4 = !f[3].empty();
    const bool direct_udp = IsDirectUdp(f[1]);
    WireError expected = WireError::kOk;
    if (v4 && First(f[9]) == "0") {
      expected = WireError::kIpv4BadChecksum;
    } else if (direct_udp && First(f[17]) == "0") {
      expected = WireError::kUdpBadChecksum;
    }
    EXPECT_EQ(WireErrorName(e), WireErrorName(expected));
    if (expected != WireError::kOk) ++counts.checksum_errors;

    if (!f[2].empty()) {
      const auto ids = SplitFields(f[2], ',');
      EXPECT_EQ(v.ethernet.vlan_count, ids.size());
      for (size_t i = 0; i < ids.size() && i < kMaxVlanTags; ++i) {
        EXPECT_EQ(v.ethernet.vlans[i].id(), std::stoi(ids[i]));
      }
    } else {
      EXPECT_EQ(v.ethernet.vlan_count, 0);
    }
    if (v4) {
      EXPECT_EQ(v.family, IpFamily::kV4);
      EXPECT_EQ(v.src.ToString(), First(f[3]));
      EXPECT_EQ(v.dst.ToString(), First(f[4]));
      EXPECT_EQ(v.ttl, std::stoi(First(f[5])));
      EXPECT_EQ(v.fragment, First(f[6]) == "1" || First(f[7]) != "0");
      EXPECT_EQ(v.l4_protocol, std::stoi(First(f[8])));
    } else if (!f[10].empty()) {
      EXPECT_EQ(v.family, IpFamily::kV6);
      EXPECT_EQ(v.src.ToString(), First(f[10]));
      EXPECT_EQ(v.dst.ToString(), First(f[11]));
      EXPECT_EQ(v.ttl, std::stoi(First(f[12])));
      EXPECT_EQ(v.l4_protocol, std::stoi(First(f[13])));
    } else {
      EXPECT_EQ(v.family, IpFamily::kNone);
    }
    if (direct_udp) {
      ++counts.udp;
      EXPECT_EQ(RequireUdpDatagram(v), WireError::kOk);
      EXPECT_EQ(v.src_port, std::stoi(First(f[14])));
      EXPECT_EQ(v.dst_port, std::stoi(First(f[15])));
      EXPECT_EQ(v.l4.size(), std::stoul(First(f[16])));
      EXPECT_EQ(v.payload.size() + 8, v.l4.size());
      EXPECT_EQ(v.payload.data() + v.payload.size(), v.l4.data() + v.l4.size());
      EXPECT_EQ(v.l4.data(), frame.data() + v.l4_offset);
      const std::string status = First(f[17]);
      EXPECT_EQ(v.udp_checksum_checked, status == "0" || status == "1");
      if (v.udp_checksum_checked) {
        EXPECT_EQ(v.udp_checksum_ok, status == "1");
      }
    }
  }
  return counts;
}

TEST(PacketCaptureTest, EveryFrameAgreesWithTshark) {
  int files = 0, frames = 0, udp = 0;
  for (const auto& entry : std::filesystem::directory_iterator(TestDataDir() + "/packet")) {
    if (entry.path().extension() != ".tsv" || entry.path().stem() == "handmade") continue;
    const CaptureCounts c = CheckCapture(entry.path());
    std::printf("%-40s frames %5d udp %5d checksum errors (as tshark) %4d\n",
                entry.path().filename().c_str(), c.frames, c.udp, c.checksum_errors);
    ++files;
    frames += c.frames;
    udp += c.udp;
  }
  std::printf("%d captures, %d frames, %d UDP datagrams\n", files, frames, udp);
  EXPECT_GE(files, 18);
  EXPECT_GT(udp, 2000);
}

// --- Hand-made frames ------------------------------------------------------------------------

TEST_F(HandmadeTest, Ipv4Udp) {
  const auto& frame = Frame("eth_ipv4_udp");
  PacketView v;
  ASSERT_EQ(ParseFrame(LinkType::kEthernet, frame, &v), WireError::kOk);
  EXPECT_EQ(v.ethernet.dst, kMacB);
  EXPECT_EQ(v.ethernet.src, kMacA);
  EXPECT_EQ(v.ethertype, kEtherTypeIpv4);
  EXPECT_EQ(v.l3_offset, 14u);
  EXPECT_EQ(v.family, IpFamily::kV4);
  EXPECT_EQ(v.src.ToString(), "198.18.0.1");
  EXPECT_EQ(v.dst.ToString(), "198.18.0.2");
  EXPECT_EQ(v.ttl, 64);
  EXPECT_TRUE(v.ipv4_checksum_ok);
  EXPECT_FALSE(v.fragment);
  EXPECT_EQ(v.l4_protocol, kIpProtoUdp);
  EXPECT_EQ(v.l4_offset, 34u);
  EXPECT_EQ(v.src_port, 5000);
  EXPECT_EQ(v.dst_port, 6000);
  EXPECT_EQ(Text(v.payload), kPayload);
  EXPECT_TRUE(v.udp_checksum_checked);
  EXPECT_TRUE(v.udp_checksum_ok);
  EXPECT_EQ(RequireUdpDatagram(v), WireError::kOk);
}

// Every hand-made frame, and every single-byte change of the IPv4 and UDP headers of the untagged
// ones (the IPv4 header checksum made good again, so that the change itself is judged), and every
// cut: the fixed-offset path parses as the general one does, or declines and the general path
// judges.
TEST_F(HandmadeTest, CommonFramePathAgreesWithTheGeneralPath) {
  auto compare = [](const std::vector<uint8_t>& frame) {
    for (bool verify : {false, true}) {
      const std::string diff = CompareWithBareIpv4Parse(frame, {.verify_udp_checksum = verify});
      if (!diff.empty()) return diff;
    }
    return std::string();
  };
  int accepted_changes = 0;
  for (const auto& [name, original] : ::t38relay::testing::HandmadeFrames()) {
    ASSERT_EQ(compare(original), "") << name;
    for (size_t n = 0; n <= original.size(); ++n) {
      ASSERT_EQ(compare(std::vector<uint8_t>(original.begin(), original.begin() + n)), "")
          << name << " cut at " << n;
    }
    if (original.size() < 42 || original[12] != 0x08 || original[13] != 0x00) continue;
    for (size_t at = 14; at < 42; ++at) {
      for (int delta : {1, 0x20, 0x80, 0xFF}) {
        std::vector<uint8_t> frame = original;
        frame[at] = static_cast<uint8_t>(frame[at] + delta);
        if (at != 24 && at != 25) {
          frame[24] = frame[25] = 0;
          const uint16_t checksum = InternetChecksum(Bytes(frame).subspan(14, 20));
          frame[24] = static_cast<uint8_t>(checksum >> 8);
          frame[25] = static_cast<uint8_t>(checksum);
        }
        ASSERT_EQ(compare(frame), "") << name << " byte " << at << " + " << delta;
        PacketView v;
        accepted_changes += ParseFrame(LinkType::kEthernet, frame, &v) == WireError::kOk;
      }
    }
  }
  // Changes the common path takes (TTL, addresses, ports, DF, ...), not only ones it declines.
  EXPECT_GT(accepted_changes, 40);
}

TEST_F(HandmadeTest, VlanAndQinQ) {
  PacketView v;
  ASSERT_EQ(ParseFrame(LinkType::kEthernet, Frame("vlan_ipv4_udp"), &v), WireError::kOk);
  ASSERT_EQ(v.ethernet.vlan_count, 1);
  EXPECT_EQ(v.ethernet.vlans[0].tpid, kEtherTypeVlan);
  EXPECT_EQ(v.ethernet.vlans[0].id(), 100);
  EXPECT_EQ(v.ethernet.vlans[0].tci >> 13, 1);  // priority
  EXPECT_EQ(v.l3_offset, 18u);
  EXPECT_EQ(Text(v.payload), kPayload);

  ASSERT_EQ(ParseFrame(LinkType::kEthernet, Frame("qinq_ipv4_udp"), &v), WireError::kOk);
  ASSERT_EQ(v.ethernet.vlan_count, 2);
  EXPECT_EQ(v.ethernet.vlans[0].tpid, kEtherTypeQinQ);
  EXPECT_EQ(v.ethernet.vlans[0].id(), 200);
  EXPECT_EQ(v.ethernet.vlans[1].tpid, kEtherTypeVlan);
  EXPECT_EQ(v.ethernet.vlans[1].id(), 100);
  EXPECT_EQ(v.l3_offset, 22u);
  EXPECT_EQ(Text(v.payload), kPayload);

  EXPECT_EQ(ParseFrame(LinkType::kEthernet, Frame("three_vlans"), &v),
            WireError::kEthernetTooManyVlans);
}

TEST_F(HandmadeTest, Ipv4OptionsAndPadding) {
  PacketView v;
  ASSERT_EQ(ParseFrame(LinkType::kEthernet, Frame("ipv4_options_udp"), &v), WireError::kOk);
  EXPECT_EQ(v.l4_offset, 14u + 24u);
  EXPECT_EQ(Text(v.payload), kPayload);
  const auto& padded = Frame("ipv4_udp_padded");
  ASSERT_EQ(padded.size(), 60u);
  ASSERT_EQ(ParseFrame(LinkType::kEthernet, padded, &v), WireError::kOk);
  EXPECT_EQ(v.l3.size(), 29u);
  EXPECT_EQ(Text(v.payload), "x");
  EXPECT_TRUE(v.udp_checksum_ok);
}

TEST_F(HandmadeTest, Ipv4Fragments) {
  PacketView v;
  ASSERT_EQ(ParseFrame(LinkType::kEthernet, Frame("ipv4_fragment_first"), &v), WireError::kOk);
  EXPECT_TRUE(v.fragment);
  EXPECT_TRUE(v.first_fragment);
  EXPECT_EQ(v.l4_protocol, kIpProtoUdp);
  EXPECT_EQ(v.l4_offset, 34u);
  EXPECT_EQ(v.src_port, 5000);
  EXPECT_EQ(v.dst_port, 6000);
  EXPECT_TRUE(v.payload.empty());
  EXPECT_FALSE(v.udp_checksum_checked);
  EXPECT_EQ(RequireUdpDatagram(v), WireError::kIpFragment);

  ASSERT_EQ(ParseFrame(LinkType::kEthernet, Frame("ipv4_fragment_later"), &v), WireError::kOk);
  EXPECT_TRUE(v.fragment);
  EXPECT_FALSE(v.first_fragment);
  EXPECT_EQ(v.l4_protocol, kIpProtoUdp);
  EXPECT_TRUE(v.l4.empty());
  EXPECT_EQ(v.l4_offset, 0u);
  EXPECT_EQ(v.src_port, 0);
  EXPECT_EQ(RequireUdpDatagram(v), WireError::kIpFragment);
}

TEST_F(HandmadeTest, BadAndZeroChecksumsAreFlagPlusError) {
  PacketView v;
  EXPECT_EQ(ParseFrame(LinkType::kEthernet, Frame("ipv4_udp_bad_checksum"), &v),
            WireError::kUdpBadChecksum);
  EXPECT_TRUE(v.udp_checksum_checked);
  EXPECT_FALSE(v.udp_checksum_ok);
  EXPECT_EQ(Text(v.payload), kPayload);  // the view is complete

  EXPECT_EQ(ParseFrame(LinkType::kEthernet, Frame("ipv6_udp_bad_checksum"), &v),
            WireError::kUdpBadChecksum);
  EXPECT_FALSE(v.udp_checksum_ok);
  EXPECT_EQ(Text(v.payload), kPayload);

  EXPECT_EQ(ParseFrame(LinkType::kEthernet, Frame("ipv4_udp_zero_checksum"), &v), WireError::kOk);
  EXPECT_FALSE(v.udp_checksum_checked);
  EXPECT_EQ(Text(v.payload), kPayload);

  EXPECT_EQ(ParseFrame(LinkType::kEthernet, Frame("ipv6_udp_zero_checksum"), &v),
            WireError::kUdpZeroChecksumIpv6);
  EXPECT_FALSE(v.udp_checksum_checked);
  EXPECT_EQ(Text(v.payload), kPayload);

  EXPECT_EQ(ParseFrame(LinkType::kEthernet, Frame("ipv4_bad_header_checksum"), &v),
            WireError::kIpv4BadChecksum);
  EXPECT_FALSE(v.ipv4_checksum_ok);
  EXPECT_TRUE(v.udp_checksum_ok);
  EXPECT_EQ(Text(v.payload), kPayload);
}

TEST_F(HandmadeTest, Ipv6ExtensionHeaders) {
  PacketView v;
  ASSERT_EQ(ParseFrame(LinkType::kEthernet, Frame("eth_ipv6_udp"), &v), WireError::kOk);
  EXPECT_EQ(v.family, IpFamily::kV6);
  EXPECT_EQ(v.src.ToString(), "2001:db8::1");
  EXPECT_EQ(v.dst.ToString(), "2001:db8::2");
  EXPECT_EQ(v.l4_offset, 54u);
  EXPECT_TRUE(v.udp_checksum_ok);
  EXPECT_EQ(Text(v.payload), kPayload);

  // Hop-by-Hop 8, Routing 24, Destination Options 8, AH 24.
  ASSERT_EQ(ParseFrame(LinkType::kEthernet, Frame("ipv6_extensions_udp"), &v), WireError::kOk);
  EXPECT_EQ(v.l4_protocol, kIpProtoUdp);
  EXPECT_EQ(v.l4_offset, 54u + 8 + 24 + 8 + 24);
  EXPECT_TRUE(v.udp_checksum_ok);
  EXPECT_EQ(Text(v.payload), kPayload);

  EXPECT_EQ(ParseFrame(LinkType::kEthernet, Frame("ipv6_too_many_extensions"), &v),
            WireError::kIpv6TooManyExtensions);
  EXPECT_EQ(ParseFrame(LinkType::kEthernet, Frame("ipv6_late_hop_by_hop"), &v),
            WireError::kIpv6BadExtension);
}

TEST_F(HandmadeTest, Ipv6Fragments) {
  PacketView v;
  ASSERT_EQ(ParseFrame(LinkType::kEthernet, Frame("ipv6_fragment_first"), &v), WireError::kOk);
  EXPECT_TRUE(v.fragment);
  EXPECT_TRUE(v.first_fragment);
  EXPECT_EQ(v.l4_offset, 54u + 8);
  EXPECT_EQ(v.src_port, 5000);
  EXPECT_FALSE(v.udp_checksum_checked);
  EXPECT_EQ(RequireUdpDatagram(v), WireError::kIpFragment);

  ASSERT_EQ(ParseFrame(LinkType::kEthernet, Frame("ipv6_fragment_later"), &v), WireError::kOk);
  EXPECT_TRUE(v.fragment);
  EXPECT_FALSE(v.first_fragment);
  EXPECT_EQ(v.l4_protocol, kIpProtoUdp);
  EXPECT_TRUE(v.l4.empty());

  // RFC 6946: an atomic fragment is a whole packet.
  ASSERT_EQ(ParseFrame(LinkType::kEthernet, Frame("ipv6_atomic_fragment_udp"), &v),
            WireError::kOk);
  EXPECT_FALSE(v.fragment);
  EXPECT_TRUE(v.udp_checksum_ok);
  EXPECT_EQ(Text(v.payload), kPayload);
}

// Every strict prefix of a frame without link padding fails cleanly with a structural error.
TEST_F(HandmadeTest, EveryPrefixTruncationIsAStructuralError) {
  int prefixes = 0;
  for (const auto& [name, frame] : ::t38relay::testing::HandmadeFrames()) {
    PacketView whole;
    ParseFrame(LinkType::kEthernet, frame, &whole);
    if (whole.family == IpFamily::kNone || whole.l3.data() + whole.l3.size() != frame.data() + frame.size()) {
      continue;  // ARP and padded frames: checked by their own tests
    }
    for (size_t n = 0; n < frame.size(); ++n) {
      std::vector<uint8_t> cut(frame.begin(), frame.begin() + n);
      PacketView v;
      const WireError e = ParseFrame(LinkType::kEthernet, cut, &v);
      ASSERT_NE(e, WireError::kOk) << name << " cut at " << n;
      ASSERT_NE(e, WireError::kUdpBadChecksum) << name << " cut at " << n;
      ASSERT_NE(e, WireError::kIpv4BadChecksum) << name << " cut at " << n;
      ++prefixes;
    }
  }
  EXPECT_GT(prefixes, 1000);
}

// --- Link types ------------------------------------------------------------------------------

TEST_F(HandmadeTest, LinkTypes) {
  const auto& eth4 = Frame("eth_ipv4_udp");
  const auto& eth6 = Frame("eth_ipv6_udp");
  const std::vector<uint8_t> ip4(eth4.begin() + 14, eth4.end());
  const std::vector<uint8_t> ip6(eth6.begin() + 14, eth6.end());
  auto with = [](std::vector<uint8_t> head, const std::vector<uint8_t>& ip) {
    head.insert(head.end(), ip.begin(), ip.end());
    return head;
  };
  struct Case {
    LinkType link;
    std::vector<uint8_t> frame;
    WireError error;
    IpFamily family;
    size_t l3_offset;
  };
  const std::vector<Case> cases = {
      {LinkType::kRaw, ip4, WireError::kOk, IpFamily::kV4, 0},
      {LinkType::kRaw, ip6, WireError::kOk, IpFamily::kV6, 0},
      {LinkType::kIpv4, ip4, WireError::kOk, IpFamily::kV4, 0},
      {LinkType::kIpv6, ip6, WireError::kOk, IpFamily::kV6, 0},
      {LinkType::kIpv4, ip6, WireError::kIpv4BadVersion, IpFamily::kNone, 0},
      {LinkType::kIpv6, ip4, WireError::kIpv6BadVersion, IpFamily::kNone, 0},
      {LinkType::kRaw, {0x10}, WireError::kNotIp, IpFamily::kNone, 0},
      {LinkType::kRaw, {}, WireError::kIpv4Truncated, IpFamily::kNone, 0},
      // BSD loopback: AF_INET in either byte order, Darwin's AF_INET6 30, Linux's 10.
      {LinkType::kNull, with({2, 0, 0, 0}, ip4), WireError::kOk, IpFamily::kV4, 4},
      {LinkType::kNull, with({0, 0, 0, 2}, ip4), WireError::kOk, IpFamily::kV4, 4},
      {LinkType::kNull, with({30, 0, 0, 0}, ip6), WireError::kOk, IpFamily::kV6, 4},
      {LinkType::kNull, with({0, 0, 0, 10}, ip6), WireError::kOk, IpFamily::kV6, 4},
      {LinkType::kNull, with({7, 0, 0, 0}, ip4), WireError::kNotIp, IpFamily::kNone, 0},
      {LinkType::kNull, {2, 0, 0}, WireError::kLinkTruncated, IpFamily::kNone, 0},
      // Linux cooked v1: packet type, ARPHRD_ETHER, address length, address, protocol.
      {LinkType::kLinuxSll,
       with({0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0x0a, 0, 0, 0x08, 0x00}, ip4), WireError::kOk,
       IpFamily::kV4, 16},
      {LinkType::kLinuxSll, {0, 0, 0, 1, 0, 6}, WireError::kLinkTruncated, IpFamily::kNone, 0},
      // Linux cooked v2: protocol, reserved, ifindex, ARPHRD_ETHER, type, address length, address.
      {LinkType::kLinuxSll2,
       with({0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0x0a, 0, 0}, ip6),
       WireError::kOk, IpFamily::kV6, 20},
      {LinkType::kLinuxSll2, {0x86, 0xdd, 0, 0}, WireError::kLinkTruncated, IpFamily::kNone, 0},
      {static_cast<LinkType>(105), ip4, WireError::kLinkTypeUnsupported, IpFamily::kNone, 0},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    PacketView v;
    EXPECT_EQ(WireErrorName(ParseFrame(c.link, c.frame, &v)), WireErrorName(c.error)) << i;
    EXPECT_EQ(v.family, c.family) << i;
    if (c.error == WireError::kOk) {
      EXPECT_EQ(v.link_type, c.link);
      EXPECT_EQ(v.l3_offset, c.l3_offset) << i;
      EXPECT_EQ(Text(v.payload), kPayload) << i;
      EXPECT_TRUE(v.udp_checksum_ok) << i;
    }
  }
}

TEST_F(HandmadeTest, NonIpEthertypes) {
  std::vector<uint8_t> frame = Frame("eth_ipv4_udp");
  PacketView v;
  frame[12] = 0x88;  // LLDP
  frame[13] = 0xcc;
  EXPECT_EQ(ParseFrame(LinkType::kEthernet, frame, &v), WireError::kNotIp);
  frame[12] = 0x00;  // an 802.3 length field
  frame[13] = 0x40;
  EXPECT_EQ(ParseFrame(LinkType::kEthernet, frame, &v), WireError::kNotIp);
  EXPECT_EQ(RequireUdpDatagram(v), WireError::kNotIp);

  ASSERT_EQ(ParseFrame(LinkType::kEthernet, Frame("icmp_echo_request"), &v), WireError::kOk);
  EXPECT_EQ(RequireUdpDatagram(v), WireError::kNotUdp);
}

TEST_F(HandmadeTest, Ipv4HeaderFieldErrors) {
  const auto& good = Frame("eth_ipv4_udp");
  PacketView v;
  std::vector<uint8_t> f = good;
  f[14] = 0x55;  // version 5
  EXPECT_EQ(ParseFrame(LinkType::kEthernet, f, &v), WireError::kIpv4BadVersion);
  f = good;
  f[14] = 0x44;  // IHL 4
  EXPECT_EQ(ParseFrame(LinkType::kEthernet, f, &v), WireError::kIpv4BadHeaderLength);
  f = good;
  f[14] = 0x4F;  // IHL 15: 60 bytes, more than the 42-byte packet
  EXPECT_EQ(ParseFrame(LinkType::kEthernet, f, &v), WireError::kIpv4Truncated);
  f = good;
  f[17] = 19;  // total length below the header
  f[16] = 0;
  EXPECT_EQ(ParseFrame(LinkType::kEthernet, f, &v), WireError::kIpv4BadTotalLength);
  f = good;
  f[38] = 0;  // UDP length 7
  f[39] = 7;
  EXPECT_EQ(ParseFrame(LinkType::kEthernet, f, &v), WireError::kUdpBadLength);
  f[39] = 200;  // past the IP payload
  EXPECT_EQ(ParseFrame(LinkType::kEthernet, f, &v), WireError::kUdpBadLength);
  f = Frame("eth_ipv6_udp");
  f[19] = 200;  // payload length past the frame
  EXPECT_EQ(ParseFrame(LinkType::kEthernet, f, &v), WireError::kIpv6BadPayloadLength);
}

// --- Builders --------------------------------------------------------------------------------

TEST_F(HandmadeTest, BuildUdpFrameMatchesKnownGoodFrames) {
  for (const auto& [request_name, reply_name] :
       {std::pair{"vlan_ipv4_udp", "udp_reply_ipv4"}, std::pair{"eth_ipv6_udp", "udp_reply_ipv6"}}) {
    PacketView request;
    ASSERT_EQ(ParseFrame(LinkType::kEthernet, Frame(request_name), &request), WireError::kOk);
    const UdpFrameSpec spec = ReplyUdpSpec(request, kMacB);
    std::vector<uint8_t> out(200);
    size_t written = 0;
    ASSERT_EQ(BuildUdpFrame(spec, request.payload, out, &written), WireError::kOk);
    out.resize(written);
    EXPECT_EQ(ToHex(out), ToHex(Frame(reply_name))) << reply_name;
    PacketView reply;
    ASSERT_EQ(ParseFrame(LinkType::kEthernet, out, &reply), WireError::kOk);
    EXPECT_TRUE(reply.udp_checksum_ok);
    EXPECT_EQ(reply.src_port, request.dst_port);

    // In place: the payload already sits after the headers.
    std::vector<uint8_t> in_place(200);
    const size_t at = UdpFrameHeaderLength(spec);
    std::copy(request.payload.begin(), request.payload.end(), in_place.begin() + at);
    ASSERT_EQ(BuildUdpFrame(spec, Bytes(in_place).subspan(at, request.payload.size()), in_place,
                            &written),
              WireError::kOk);
    in_place.resize(written);
    EXPECT_EQ(ToHex(in_place), ToHex(Frame(reply_name)));

    // Every buffer shorter than the frame is refused.
    for (size_t n = 0; n < Frame(reply_name).size(); ++n) {
      std::vector<uint8_t> small(n);
      ASSERT_EQ(BuildUdpFrame(spec, request.payload, small, &written),
                WireError::kPacketBufferTooSmall);
    }
  }
}

TEST(BuildUdpFrameTest, RejectsMixedFamiliesAndOversizedPayloads) {
  UdpFrameSpec spec;
  spec.src = {IpAddress::V4(0xC6120001), 1};
  spec.dst = {IpAddress::V4(0xC6120002), 2};
  std::vector<uint8_t> big(70000), out(70100);
  size_t written;
  EXPECT_EQ(BuildUdpFrame(spec, Bytes(big).first(65535 - 28), out, &written), WireError::kOk);
  EXPECT_EQ(BuildUdpFrame(spec, Bytes(big).first(65535 - 27), out, &written),
            WireError::kUdpBadLength);
  std::array<uint8_t, 16> v6{};
  v6[15] = 1;
  spec.dst.ip = IpAddress::V6Bytes(v6.data());
  EXPECT_EQ(BuildUdpFrame(spec, Bytes(big).first(10), out, &written), WireError::kNotIp);
  spec.src.ip = spec.dst.ip;
  EXPECT_EQ(BuildUdpFrame(spec, Bytes(big).first(65535 - 8), out, &written), WireError::kOk);
  EXPECT_EQ(BuildUdpFrame(spec, Bytes(big).first(65535 - 7), out, &written),
            WireError::kUdpBadLength);
}

TEST(BuildUdpFrameTest, ComputedZeroChecksumIsSentAsAllOnes) {
  // Search a payload word that makes the computed checksum zero (RFC 768 sends 0xFFFF).
  UdpFrameSpec spec;
  spec.src = {IpAddress::V4(0xC6120001), 1};
  spec.dst = {IpAddress::V4(0xC6120002), 2};
  std::vector<uint8_t> out(100);
  size_t written;
  bool found = false;
  for (uint32_t w = 0; w <= 0xFFFF && !found; ++w) {
    const uint8_t payload[2] = {static_cast<uint8_t>(w >> 8), static_cast<uint8_t>(w)};
    ASSERT_EQ(BuildUdpFrame(spec, payload, out, &written), WireError::kOk);
    if (out[40] == 0xFF && out[41] == 0xFF) {
      found = true;
      PacketView v;
      ASSERT_EQ(ParseFrame(LinkType::kEthernet, Bytes(out).first(written), &v), WireError::kOk);
      EXPECT_TRUE(v.udp_checksum_checked);
      EXPECT_TRUE(v.udp_checksum_ok);
    }
  }
  EXPECT_TRUE(found);
}

// A datagram rebuilt with other addresses from the payload sum its received checksum implies
// gets the checksum a full computation gives, and keeps failing when the payload was damaged.
TEST(UdpPayloadSumTest, CarriesTheChecksumOverToARebuiltDatagram) {
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    const bool v6 = round % 2 == 1;
    auto address = [&](uint8_t last) {
      std::array<uint8_t, 16> b{};
      for (auto& x : b) x = static_cast<uint8_t>(rng());
      b[15] = last;
      return v6 ? IpAddress::V6Bytes(b.data()) : IpAddress::V4Bytes(b.data());
    };
    std::vector<uint8_t> payload(rng() % 300);
    for (auto& x : payload) x = static_cast<uint8_t>(rng());
    UdpFrameSpec in;
    in.src = {address(1), static_cast<uint16_t>(rng())};
    in.dst = {address(2), static_cast<uint16_t>(rng())};
    std::vector<uint8_t> frame(UdpFrameHeaderLength(in) + payload.size());
    size_t written = 0;
    ASSERT_EQ(BuildUdpFrame(in, payload, frame, &written), WireError::kOk);
    const bool damage = round % 3 == 0 && !payload.empty();
    if (damage) frame[UdpFrameHeaderLength(in) + rng() % payload.size()] ^= 0x10;

    PacketView view;
    ASSERT_EQ(ParseFrame(LinkType::kEthernet, frame, &view, {.verify_udp_checksum = false}),
              WireError::kOk);
    EXPECT_FALSE(view.udp_checksum_checked);
    EXPECT_EQ(UdpChecksumVerifies(view), !damage);
    std::optional<uint32_t> sum = UdpPayloadSum(view);
    ASSERT_TRUE(sum.has_value());

    UdpFrameSpec out;
    out.src = {address(3), static_cast<uint16_t>(rng())};
    out.dst = {address(4), static_cast<uint16_t>(rng())};
    out.payload_sum = sum;
    std::vector<uint8_t> rebuilt(UdpFrameHeaderLength(out) + view.payload.size());
    ASSERT_EQ(BuildUdpFrame(out, view.payload, rebuilt, &written), WireError::kOk);
    PacketView check;
    EXPECT_EQ(ParseFrame(LinkType::kEthernet, rebuilt, &check),
              damage ? WireError::kUdpBadChecksum : WireError::kOk);
    if (!damage) {
      out.payload_sum.reset();
      std::vector<uint8_t> full(rebuilt.size());
      ASSERT_EQ(BuildUdpFrame(out, view.payload, full, &written), WireError::kOk);
      EXPECT_EQ(rebuilt, full);
    }
  }
}

}  // namespace
}  // namespace t38relay::dataplane
