// Tests of the packet inspector over every capture in the vectors, and of its STUN checks.
#include "tools/inspector.h"

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/dataplane/wire/handmade_frames.h"
#include "tests/test_support.h"
#include "tools/pcap_reader.h"

namespace t38relay::tools {
namespace {

using ::t38relay::testing::FromHex;
using ::t38relay::testing::VectorsDir;

struct Decoded {
  std::vector<Json> packets;
  Json summary;
};

Decoded InspectAll(const std::string& path, InspectorOptions options) {
  Decoded out;
  auto reader = PcapReader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  Inspector inspector(std::move(options));
  PcapFrame frame;
  while (true) {
    auto more = (*reader)->Next(&frame);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    if (auto packet = inspector.InspectFrame(frame)) out.packets.push_back(std::move(*packet));
  }
  out.summary = inspector.Summary()["summary"];
  return out;
}

// frame number -> error, for the packets that have one.
std::map<uint64_t, std::string> Errors(const Decoded& d) {
  std::map<uint64_t, std::string> errors;
  for (const Json& p : d.packets) {
    if (p.contains("error")) errors[p["frame"].get<uint64_t>()] = p["error"].get<std::string>();
  }
  return errors;
}

InspectorOptions Ports(std::vector<uint16_t> ports) {
  InspectorOptions o;
  o.udptl_ports = std::move(ports);
  return o;
}

struct CaptureCase {
  const char* file;                       // under vectors/captures
  std::vector<uint16_t> udptl_ports;      // what tshark needs -d udp.port==N,t38 for
  std::map<uint64_t, std::string> known;  // packets that really are broken
  std::map<std::string, uint64_t> kinds;  // expected counts per kind (subset)
};

class CaptureTest : public ::testing::TestWithParam<CaptureCase> {};

TEST_P(CaptureTest, DecodesWithoutUnexpectedErrors) {
  T38_REQUIRE_VECTORS();
  const CaptureCase& c = GetParam();
  const Decoded d = InspectAll(VectorsDir() + "/captures/" + c.file, Ports(c.udptl_ports));
  EXPECT_EQ(Errors(d), c.known);
  EXPECT_GT(d.summary["frames"].get<uint64_t>(), 0u);
  for (const auto& [kind, n] : c.kinds) {
    EXPECT_EQ(d.summary["kinds"].value(kind, uint64_t{0}), n) << kind;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Vectors, CaptureTest,
    ::testing::Values(
        CaptureCase{"generated/t38_spandsp_ecm_red3.pcap", {7000}, {}, {{"udptl", 2002}}},
        CaptureCase{"generated/t38_spandsp_nonecm_red3.pcap", {7000}, {}, {{"udptl", 1683}}},
        CaptureCase{"generated/sipp-sendfax.pcap", {6000, 7000}, {}, {{"udptl", 1911}}},
        CaptureCase{"generated/dtls12_udptl_openssl_plaintext.pcap", {6000}, {}, {{"udptl", 23}}},
        CaptureCase{"generated/dtls12_udptl_openssl.pcapng", {}, {}, {{"dtls", 34}}},
        // tshark calls 27 of these T.38 by the SDP's port, but they are PCMA RTP (80 08 ...).
        CaptureCase{"ndpi/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap", {16756}, {}, {{"rtp", 1330}}},
        CaptureCase{"ndpi/dtls.pcap", {}, {}, {}},  // DTLS inside GTP-U: not decapsulated
        CaptureCase{"ndpi/dtls2.pcap", {}, {}, {{"dtls", 30}}},
        CaptureCase{"ndpi/dtls_certificate.pcapng", {}, {}, {{"dtls", 1}}},
        CaptureCase{"ndpi/dtls_certificate_fragments.pcap", {}, {}, {{"dtls", 26}}},
        CaptureCase{"ndpi/dtls_old_version.pcapng", {}, {}, {{"dtls", 7}}},
        CaptureCase{"ndpi/dtls_session_id_and_coockie_both.pcap", {}, {}, {{"dtls", 4}}},
        CaptureCase{"ndpi/rtp.pcapng", {}, {}, {}},
        CaptureCase{"ndpi/sip.pcap", {}, {}, {}},
        // Frame 195: its FINGERPRINT is wrong (tshark: "CRC-32 ... incorrect, should be
        // 0x7481f118"); frame 196: a DTLS 1.0 ClientHello whose record length (78) cuts the
        // handshake short, so the next "record" is garbage. Both are broken in the capture.
        CaptureCase{"ndpi/stun.pcap",
                    {},
                    {{195, "stun-bad-fingerprint"}, {196, "dtls-bad-content-type"}},
                    {{"stun", 121}}},
        CaptureCase{"ndpi/stun_classic.pcap", {}, {}, {{"stun", 2}}},
        CaptureCase{"ndpi/stun_dtls_rtp.pcapng", {}, {}, {{"stun", 4}, {"dtls", 23}}},
        CaptureCase{"ndpi/stun_dtls_rtp_unidir.pcapng", {}, {}, {{"stun", 43}}},
        CaptureCase{"ndpi/stun_dtls_unidirectional_client.pcap", {}, {}, {{"stun", 4}, {"dtls", 2}}},
        CaptureCase{"ndpi/stun_dtls_unidirectional_server.pcap", {}, {}, {{"stun", 4}, {"dtls", 2}}},
        CaptureCase{"ndpi/stun_tcp_multiple_msgs_same_pkt.pcap", {}, {}, {}}));

TEST(InspectorTest, ReportsTheMalformedAst2016003Packets) {
  T38_REQUIRE_VECTORS();
  const Decoded d = InspectAll(
      VectorsDir() + "/asterisk-testsuite/ast-2016-003/sipp/crash.pcap", Ports({2}));
  EXPECT_EQ(Errors(d), (std::map<uint64_t, std::string>{{1, "udptl-truncated"},
                                                         {2, "udptl-truncated"}}));
  EXPECT_EQ(d.summary["kinds"]["udptl"].get<uint64_t>(), 128u);
  // Frame 3: seq 1, 15 redundancy slots of which 14 are empty (for packets that never were).
  const Json& f3 = d.packets.at(2);
  EXPECT_EQ(f3["udptl"]["seq"].get<int>(), 1);
  EXPECT_EQ(f3["udptl"]["redundancy"].size(), 15u);
  EXPECT_TRUE(f3["udptl"]["redundancy"][0]["empty"].get<bool>());
  EXPECT_EQ(f3["t38"].get<std::string>(), "no-signal");
}

TEST(InspectorTest, DecodesT38FromSpandsp) {
  T38_REQUIRE_VECTORS();
  const Decoded d =
      InspectAll(VectorsDir() + "/captures/generated/t38_spandsp_ecm_red3.pcap", Ports({7000}));
  ASSERT_GT(d.packets.size(), 10u);
  const Json& first = d.packets[0];
  EXPECT_EQ(first["kind"], "udptl");
  EXPECT_EQ(first["src"], "127.0.0.1:6000");
  EXPECT_EQ(first["dst"], "127.0.0.1:7000");
  EXPECT_EQ(first["udptl"]["seq"].get<int>(), 0);
  const Json& classes = d.summary["t38_classes"];
  EXPECT_GT(classes.value("cng", 0), 0);
  EXPECT_GT(classes.value("ced", 0), 0);
  EXPECT_GT(classes.value("v21-preamble", 0), 0);
  EXPECT_GT(classes.value("hdlc-control", 0), 0);
  EXPECT_GT(classes.value("image-data", 0), 0);
}

TEST(InspectorTest, ChecksStunIntegrityWithShortAndLongTermCredentials) {
  T38_REQUIRE_VECTORS();
  const std::string pcap = VectorsDir() + "/stun/rfc5769_vectors.pcap";
  InspectorOptions short_term;
  short_term.stun_password = "VOkJxbRl1RmTxUk/WvJxBt";
  Decoded d = InspectAll(pcap, short_term);
  ASSERT_EQ(d.packets.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(d.packets[i]["stun"]["integrity_ok"].get<bool>()) << i;
    EXPECT_TRUE(d.packets[i]["stun"]["fingerprint_ok"].get<bool>()) << i;
    EXPECT_FALSE(d.packets[i].contains("error")) << i;
  }
  EXPECT_FALSE(d.packets[3]["stun"]["integrity_ok"].get<bool>());
  EXPECT_EQ(d.packets[3]["error"], "stun-bad-integrity");
  EXPECT_EQ(d.packets[1]["stun"]["attributes"][1]["value"], "192.0.2.1:32853");

  InspectorOptions long_term;
  long_term.stun_long_term =
      InspectorOptions::LongTerm{"\xE3\x83\x9E\xE3\x83\x88\xE3\x83\xAA\xE3\x83\x83\xE3\x82\xAF"
                                 "\xE3\x82\xB9",
                                 "example.org", "TheMatrIX"};
  d = InspectAll(pcap, long_term);
  ASSERT_EQ(d.packets.size(), 4u);
  EXPECT_TRUE(d.packets[3]["stun"]["integrity_ok"].get<bool>());
  EXPECT_FALSE(d.packets[0]["stun"]["integrity_ok"].get<bool>());

  // Without credentials integrity is present but unchecked.
  d = InspectAll(pcap, InspectorOptions{});
  EXPECT_TRUE(d.packets[0]["stun"]["integrity_ok"].is_null());
  EXPECT_EQ(d.summary["errors"].get<uint64_t>(), 0u);
}

TEST(InspectorTest, DatagramsByFirstByteAndAsUdptl) {
  T38_REQUIRE_VECTORS();
  Inspector inspector{InspectorOptions{}};
  const std::vector<uint8_t> stun =
      ::t38relay::testing::ReadFileBytes(VectorsDir() + "/stun/rfc5769_2.2_response_ipv4.bin");
  Json j = inspector.InspectDatagram(stun, false);
  EXPECT_EQ(j["kind"], "stun");
  EXPECT_EQ(j["stun"]["class"], "success-response");
  EXPECT_EQ(j["stun"]["method"], "Binding");

  // spandsp's second UDPTL packet: seq 1, primary cng, one secondary (no-signal).
  j = inspector.InspectDatagram(FromHex("0001010200010100"), true);
  EXPECT_EQ(j["kind"], "udptl");
  EXPECT_FALSE(j.contains("error")) << j.dump();
  EXPECT_EQ(j["udptl"]["seq"].get<int>(), 1);
  EXPECT_EQ(j["t38"], "cng");
  EXPECT_EQ(j["udptl"]["redundancy"][0]["value"], "no-signal");

  // Truncated DTLS header: named error, no crash.
  j = inspector.InspectDatagram(FromHex("16fefd0000"), false);
  EXPECT_EQ(j["kind"], "dtls");
  EXPECT_EQ(j["error"], "dtls-truncated-header");

  // STUN cookie with a wrong length: STUN with an error, not "other".
  j = inspector.InspectDatagram(FromHex("000100082112a442000000000000000000000000"), false);
  EXPECT_EQ(j["kind"], "stun");
  EXPECT_TRUE(j.contains("error"));

  j = inspector.InspectDatagram({}, false);
  EXPECT_EQ(j["kind"], "other");
  EXPECT_EQ(inspector.Summary()["summary"]["datagrams"].get<int>(), 5);
}

TEST(InspectorTest, BrokenUdpHeaderIsMalformedNotDecoded) {
  std::vector<uint8_t> frame = ::t38relay::testing::HandmadeFrame("eth_ipv4_udp");
  ASSERT_GT(frame.size(), 40u);
  frame[38] = 0xff;  // UDP length (Ethernet 14 + IPv4 20 + 4) far past the IP payload
  frame[39] = 0xff;
  InspectorOptions options;
  options.udptl_ports = {0};
  Inspector inspector(options);
  PcapFrame pcap_frame;
  pcap_frame.number = 1;
  pcap_frame.link_type = 1;
  pcap_frame.data = dataplane::Bytes(frame);
  const std::optional<Json> j = inspector.InspectFrame(pcap_frame);
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ((*j)["kind"], "malformed");
  EXPECT_EQ((*j)["error"], "udp-bad-length");
  EXPECT_FALSE(j->contains("payload_error"));
  EXPECT_EQ(inspector.Summary()["summary"]["errors"].get<int>(), 1);
}

TEST(InspectorTest, UnreadableCaptureIsAnError) {
  auto reader = PcapReader::Open("/nonexistent/capture.pcap");
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find("/nonexistent/capture.pcap"), std::string::npos);
  auto not_pcap = PcapReader::Open("/proc/self/status");
  EXPECT_FALSE(not_pcap.ok());
}

}  // namespace
}  // namespace t38relay::tools
