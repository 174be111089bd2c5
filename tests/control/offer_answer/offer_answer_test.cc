// offer_answer: reading peers' T.38 SDP with the RFC 7345 checks, and writing the relay's SDP.
#include "control/offer_answer/offer_answer.h"

#include <string>

#include "absl/strings/match.h"
#include "control/sdp/attributes.h"
#include "control/sdp/sdp.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace t38relay::control::offer_answer {
namespace {

using dataplane::DtlsSetup;
using dataplane::IpFamily;

TEST(OfferAnswerTest, AnswerSetupFollowsRfc4145) {
  EXPECT_EQ(AnswerSetupFor(DtlsSetup::kActpass), DtlsSetup::kActive);
  EXPECT_EQ(AnswerSetupFor(DtlsSetup::kActive), DtlsSetup::kPassive);
  EXPECT_EQ(AnswerSetupFor(DtlsSetup::kPassive), DtlsSetup::kActive);
  EXPECT_EQ(AnswerSetupFor(std::nullopt), DtlsSetup::kPassive);  // absent means active
}

TEST(OfferAnswerTest, MaxDatagramLoweredOnlyTowardsDtls) {
  sdp::T38Params p;
  p.max_datagram = 1472;
  LowerMaxDatagram(false, IpFamily::kV4, 1500, &p);
  EXPECT_EQ(p.max_datagram, 1472u);
  LowerMaxDatagram(true, IpFamily::kV4, 1500, &p);
  EXPECT_EQ(p.max_datagram, 1435u);  // 1500 - 20 - 8 - 37
  p.max_datagram = 1472;
  LowerMaxDatagram(true, IpFamily::kV6, 1500, &p);
  EXPECT_EQ(p.max_datagram, 1415u);  // 1500 - 40 - 8 - 37
  p.max_datagram = 300;
  LowerMaxDatagram(true, IpFamily::kV4, 1500, &p);
  EXPECT_EQ(p.max_datagram, 300u);  // never raised
  p.max_datagram.reset();
  LowerMaxDatagram(true, IpFamily::kV4, 576, &p);
  EXPECT_EQ(p.max_datagram, 511u);
  p.max_datagram.reset();
  LowerMaxDatagram(false, IpFamily::kV4, 576, &p);
  EXPECT_FALSE(p.max_datagram.has_value());
}

TEST(OfferAnswerTest, IceHostPriorityAndRandomTokens) {
  EXPECT_EQ(kHostCandidatePriority, 2130706431u);
  std::string ufrag = RandomIceChars(16);
  EXPECT_EQ(ufrag.size(), 16u);
  EXPECT_TRUE(sdp::ValidateIceUfrag(ufrag).ok());
  EXPECT_TRUE(sdp::ValidateIcePwd(RandomIceChars(24)).ok());
  std::string tls_id = RandomTlsId();
  EXPECT_TRUE(sdp::ValidateTlsId(tls_id).ok()) << tls_id;
  EXPECT_NE(RandomTlsId(), tls_id);
  EXPECT_NE(RandomSessionId(), RandomSessionId());
}

TEST(OfferAnswerTest, ReadsRfc7345Offer) {
  std::string text =
      t38relay::testing::ReadFileText(t38relay::testing::TestDataDir() + "/sdp/rfc7345_a2_offer.sdp");
  absl::StatusOr<PeerSdp> sdp = ReadPeerSdp(text, SdpRole::kOffer);
  ASSERT_TRUE(sdp.ok()) << sdp.status();
  ASSERT_EQ(sdp->streams.size(), 1u);
  const PeerStream& s = sdp->streams[0];
  EXPECT_EQ(s.index, 0u);
  EXPECT_EQ(s.proto, Proto::kDtls);
  EXPECT_EQ(s.port, 6056);
  EXPECT_FALSE(s.remote.has_value());  // ua1.example.com
  EXPECT_EQ(s.setup, DtlsSetup::kActpass);
  ASSERT_EQ(s.fingerprints.size(), 1u);
  EXPECT_EQ(s.fingerprints[0].hash, "sha-1");
  EXPECT_EQ(s.t38.rate_management, sdp::T38RateManagement::kTransferredTcf);
}

TEST(OfferAnswerTest, ProtoIsCaseInsensitiveAndDisabledStreamsAreNotChecked) {
  absl::StatusOr<PeerSdp> sdp = ReadPeerSdp(
      "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
      "m=image 4000 UDPTL t38\r\nm=image 0 RTP/SAVP t38\r\n",
      SdpRole::kOffer);
  ASSERT_TRUE(sdp.ok()) << sdp.status();
  ASSERT_EQ(sdp->streams.size(), 2u);
  EXPECT_EQ(sdp->streams[0].proto, Proto::kPlain);
  EXPECT_EQ(sdp->streams[0].remote->ToString(), "10.0.0.1:4000");
  EXPECT_EQ(sdp->streams[1].port, 0);
}

TEST(OfferAnswerTest, ErrorsNameTheLine) {
  absl::StatusOr<PeerSdp> sdp = ReadPeerSdp(
      "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
      "m=audio 5000 RTP/AVP 0\r\nm=image 4000 UDP/TLS/UDPTL t38\r\na=setup:active\r\n",
      SdpRole::kOffer);
  ASSERT_FALSE(sdp.ok());
  EXPECT_EQ(sdp.status().message(),
            "offer: m= line 2 (image UDP/TLS/UDPTL): UDP/TLS/UDPTL needs an a=fingerprint "
            "(RFC 7345 section 4.1)");
  sdp = ReadPeerSdp(
      "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=image 4000 udptl t38\r\n",
      SdpRole::kOffer);
  ASSERT_FALSE(sdp.ok());
  EXPECT_TRUE(absl::StrContains(sdp.status().message(), "no c= line")) << sdp.status();
  sdp = ReadPeerSdp(
      "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
      "m=image 4000 UDP/TLS/UDPTL t38\r\na=fingerprint:md5 "
      "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n",
      SdpRole::kOffer);
  ASSERT_FALSE(sdp.ok());
  EXPECT_TRUE(absl::StrContains(sdp.status().message(), "usable hash")) << sdp.status();
}

TEST(OfferAnswerTest, WriterKeepsPassThroughLinesAndReplacesOurs) {
  absl::StatusOr<sdp::SessionDescription> peer = sdp::ParseSdp(
      "v=0\r\no=alice 1 1 IN IP4 192.0.2.10\r\ns=call\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
      "a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:"
      "89:AB:CD:EF:01:23:45:67:89\r\n"
      "m=audio 49170 UDP/TLS/RTP/SAVP 0\r\na=setup:actpass\r\n"
      "m=image 6056 UDP/TLS/UDPTL t38\r\na=setup:actpass\r\na=connection:new\r\n"
      "a=T38FaxVersion:0\r\n");
  ASSERT_TRUE(peer.ok()) << peer.status();
  LocalStream ls;
  ls.index = 1;
  ls.proto = Proto::kPlain;
  ls.port = 20001;
  ls.address = dataplane::IpAddress::V4(0xC6120001);
  ls.t38.version = 0;
  std::string out = WriteRelaySdp(*peer, {ls}, {"42", 7});
  absl::StatusOr<sdp::SessionDescription> s = sdp::ParseSdp(out);
  ASSERT_TRUE(s.ok()) << s.status() << out;
  EXPECT_EQ(s->origin->username, "-");
  EXPECT_EQ(s->origin->session_id, "42");
  EXPECT_EQ(s->origin->session_version, "7");
  EXPECT_EQ(s->session_name, "call");
  EXPECT_EQ(s->connection->address, "198.18.0.1");
  EXPECT_TRUE(s->attributes.empty());
  // The audio line keeps Alice's address and her session-level fingerprint.
  ASSERT_EQ(s->media[0].connections.size(), 1u);
  EXPECT_EQ(s->media[0].connections[0].address, "192.0.2.10");
  EXPECT_NE(s->media[0].FindAttribute("fingerprint"), nullptr);
  EXPECT_EQ(s->media[0].port, 49170);
  EXPECT_EQ(s->media[1].proto, "udptl");
  EXPECT_EQ(s->media[1].port, 20001);
  EXPECT_EQ(s->media[1].FindAttribute("connection"), nullptr);
  EXPECT_EQ(s->media[1].FindAttribute("setup"), nullptr);
  EXPECT_EQ(s->media[1].FindAttribute("T38FaxVersion")->value, "0");
}

TEST(OfferAnswerTest, WriterRejectsWithPortZero) {
  absl::StatusOr<sdp::SessionDescription> peer = sdp::ParseSdp(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
      "m=image 6056 UDP/TLS/UDPTL t38\r\na=setup:actpass\r\n");
  ASSERT_TRUE(peer.ok());
  LocalStream ls;
  ls.index = 0;
  ls.proto = Proto::kDtls;
  ls.port = 0;
  std::string out = WriteRelaySdp(*peer, {ls}, {"1", 1});
  EXPECT_TRUE(absl::StrContains(out, "m=image 0 UDP/TLS/UDPTL t38\r\n")) << out;
  EXPECT_FALSE(absl::StrContains(out, "a=setup")) << out;
}

}  // namespace
}  // namespace t38relay::control::offer_answer
