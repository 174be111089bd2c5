// The fax endpoint's SDP: exact offers, reading them back, answer rules (setup, EC, version),
// rejection, and what Negotiate settles on.
#include "tools/fax/endpoint_sdp.h"

#include <string>

#include "crypto/dtls/identity.h"
#include "gtest/gtest.h"
#include "tools/fax/fax_endpoint.h"
#include "tools/fax/transport.h"

namespace t38relay::tools::fax {
namespace {

namespace sdp = control::sdp;
using control::offer_answer::PeerStream;
using dataplane::DtlsSetup;

dataplane::SocketAddress Address(const char* text) { return *ParseSocketAddress(text); }

LocalSdp PlainOffer() {
  LocalSdp local;
  local.proto = Proto::kPlain;
  local.address = Address("192.0.2.10:5000");
  local.session_id = "42";
  local.t38 = OfferT38Params(sdp::T38UdpEc::kRedundancy, 3);
  return local;
}

LocalSdp DtlsOffer(const crypto::Identity& identity) {
  LocalSdp local = PlainOffer();
  local.proto = Proto::kDtls;
  local.setup = DtlsSetup::kActpass;
  local.fingerprint = identity.SdpFingerprint();
  local.tls_id = "abcdefghijklmnopqrstuvwxyz012345";
  return local;
}

const crypto::Identity& TestIdentity() {
  static const auto identity = *crypto::Identity::Generate(crypto::KeyType::kEcdsaP256);
  return *identity;
}

TEST(EndpointSdpTest, PlainOfferIsExact) {
  EXPECT_EQ(WriteEndpointSdp(PlainOffer()),
            "v=0\r\n"
            "o=- 42 1 IN IP4 192.0.2.10\r\n"
            "s=t38relay-fax\r\n"
            "c=IN IP4 192.0.2.10\r\n"
            "t=0 0\r\n"
            "m=image 5000 udptl t38\r\n"
            "a=T38FaxVersion:0\r\n"
            "a=T38MaxBitRate:14400\r\n"
            "a=T38FaxRateManagement:transferredTCF\r\n"
            "a=T38FaxMaxBuffer:2000\r\n"
            "a=T38FaxMaxDatagram:1400\r\n"
            "a=T38FaxUdpEC:t38UDPRedundancy\r\n"
            "a=T38FaxUdpECDepth:3\r\n");
}

TEST(EndpointSdpTest, DtlsOfferReadsBack) {
  LocalSdp local = DtlsOffer(TestIdentity());
  local.address = Address("[2001:db8::7]:6000");
  local.t38 = OfferT38Params(sdp::T38UdpEc::kFec, 4);
  const std::string text = WriteEndpointSdp(local);
  EXPECT_NE(text.find("c=IN IP6 2001:db8::7\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("m=image 6000 UDP/TLS/UDPTL t38\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=setup:actpass\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=tls-id:abcdefghijklmnopqrstuvwxyz012345\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=T38FaxUdpFECMaxSpan:4\r\n"), std::string::npos) << text;

  absl::StatusOr<PeerStream> peer = ReadEndpointSdp(text, SdpRole::kOffer);
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_EQ(peer->proto, Proto::kDtls);
  EXPECT_EQ(peer->port, 6000);
  ASSERT_TRUE(peer->remote.has_value());
  EXPECT_EQ(*peer->remote, Address("[2001:db8::7]:6000"));
  EXPECT_EQ(peer->setup, DtlsSetup::kActpass);
  ASSERT_EQ(peer->fingerprints.size(), 1u);
  EXPECT_EQ(peer->fingerprints[0].hash + " " + peer->fingerprints[0].value,
            TestIdentity().SdpFingerprint());
  EXPECT_EQ(peer->t38.udp_ec, sdp::T38UdpEc::kFec);
  EXPECT_EQ(peer->t38.udp_ec_depth, (sdp::T38EcDepth{4, std::nullopt}));
  EXPECT_EQ(peer->t38.max_datagram, 1400u);
}

TEST(EndpointSdpTest, SdpWithoutT38StreamIsAnError) {
  const std::string audio =
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 0\r\n";
  absl::StatusOr<PeerStream> peer = ReadEndpointSdp(audio, SdpRole::kAnswer);
  ASSERT_FALSE(peer.ok());
  EXPECT_NE(peer.status().message().find("no T.38 image stream"), std::string::npos);
  EXPECT_FALSE(ReadEndpointSdp("garbage", SdpRole::kOffer).ok());
}

TEST(EndpointSdpTest, AnswerTakesTheOffersEcAndLowersVersionAndRate) {
  sdp::T38Params offered;
  offered.version = 3;
  offered.max_bit_rate = 9600;
  offered.udp_ec = sdp::T38UdpEc::kFec;
  offered.rate_management = sdp::T38RateManagement::kLocalTcf;
  offered.fill_bit_removal = true;
  const sdp::T38Params answer = AnswerT38Params(offered, 2);
  EXPECT_EQ(answer.version, 0u);
  EXPECT_EQ(answer.max_bit_rate, 9600u);
  EXPECT_EQ(answer.udp_ec, sdp::T38UdpEc::kFec);
  EXPECT_EQ(answer.udp_ec_depth, (sdp::T38EcDepth{2, std::nullopt}));
  EXPECT_EQ(answer.rate_management, sdp::T38RateManagement::kLocalTcf);
  EXPECT_FALSE(answer.fill_bit_removal.has_value());  // not ours to turn on

  const sdp::T38Params none = AnswerT38Params(sdp::T38Params{}, 3);
  EXPECT_EQ(none.udp_ec, sdp::T38UdpEc::kNone);
  EXPECT_FALSE(none.udp_ec_depth.has_value());
  EXPECT_EQ(none.max_bit_rate, 14400u);
}

// The offerer's side: our actpass offer against the answer's setup.
TEST(EndpointSdpTest, SetupRulesGiveOneClientAndOneServer) {
  const LocalSdp offer = DtlsOffer(TestIdentity());
  PeerStream answer = *ReadEndpointSdp(WriteEndpointSdp(offer), SdpRole::kOffer);
  answer.setup = DtlsSetup::kActive;
  absl::StatusOr<Negotiated> n = Negotiate(offer, answer, /*local_is_offer=*/true);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->dtls_role, crypto::DtlsRole::kServer);
  ASSERT_EQ(n->peer_fingerprints.size(), 1u);
  EXPECT_EQ(crypto::FormatFingerprint(n->peer_fingerprints[0]), TestIdentity().SdpFingerprint());

  answer.setup = DtlsSetup::kPassive;
  EXPECT_EQ(Negotiate(offer, answer, true)->dtls_role, crypto::DtlsRole::kClient);

  // The answerer's default (RFC 8842 section 5.3: active for actpass) and a conflict.
  EXPECT_EQ(control::offer_answer::AnswerSetupFor(DtlsSetup::kActpass), DtlsSetup::kActive);
  EXPECT_EQ(control::offer_answer::AnswerSetupFor(DtlsSetup::kActive), DtlsSetup::kPassive);
  LocalSdp active = offer;
  active.setup = DtlsSetup::kActive;
  answer.setup = DtlsSetup::kActive;
  absl::StatusOr<Negotiated> conflict = Negotiate(active, answer, false);
  ASSERT_FALSE(conflict.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(conflict.status())) << conflict.status();
  EXPECT_NE(conflict.status().message().find("a=setup:active (ours)"), std::string::npos);
}

TEST(EndpointSdpTest, EcFollowsTheAnswer) {
  LocalSdp offer = PlainOffer();
  PeerStream answer = *ReadEndpointSdp(WriteEndpointSdp(offer), SdpRole::kAnswer);
  answer.t38.udp_ec.reset();
  EXPECT_EQ(Negotiate(offer, answer, true)->ec, sdp::T38UdpEc::kNone);
  answer.t38.udp_ec = sdp::T38UdpEc::kFec;
  EXPECT_EQ(Negotiate(offer, answer, true)->ec, sdp::T38UdpEc::kFec);
  // The answerer sends what it answered.
  LocalSdp our_answer = PlainOffer();
  our_answer.t38 = AnswerT38Params(sdp::T38Params{}, 3);
  EXPECT_EQ(Negotiate(our_answer, answer, false)->ec, sdp::T38UdpEc::kNone);
  // The peer's datagram limit, or Asterisk's default when it gives none.
  answer.t38.max_datagram = 300;
  EXPECT_EQ(Negotiate(offer, answer, true)->peer_max_datagram, 300u);
  answer.t38.max_datagram.reset();
  EXPECT_EQ(Negotiate(offer, answer, true)->peer_max_datagram, kDefaultPeerMaxDatagram);
  // A huge announced limit: never more than a 1500-byte IPv4 frame carries.
  answer.t38.max_datagram = 65535;
  EXPECT_EQ(Negotiate(offer, answer, true)->peer_max_datagram, 1472u);
}

TEST(EndpointSdpTest, EcDepthIsCappedAtWhatTheCodecCarries) {
  sdp::T38Params fec_offer;
  fec_offer.udp_ec = sdp::T38UdpEc::kFec;
  const sdp::T38Params fec = AnswerT38Params(fec_offer, 15);
  EXPECT_EQ(fec.udp_ec_depth, (sdp::T38EcDepth{8, std::nullopt}));
  EXPECT_EQ(fec.udp_fec_max_span, 8u);
  EXPECT_EQ(OfferT38Params(sdp::T38UdpEc::kRedundancy, 99).udp_ec_depth,
            (sdp::T38EcDepth{15, std::nullopt}));
  EXPECT_EQ(EcDepthFor(sdp::T38UdpEc::kRedundancy, 3), 3u);
}

TEST(EndpointSdpTest, PortZeroAnswerIsARejection) {
  LocalSdp rejected = PlainOffer();
  rejected.reject = true;
  const std::string text = WriteEndpointSdp(rejected);
  EXPECT_NE(text.find("m=image 0 udptl t38\r\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("a=T38"), std::string::npos) << text;
  const PeerStream answer = *ReadEndpointSdp(text, SdpRole::kAnswer);
  absl::StatusOr<Negotiated> n = Negotiate(PlainOffer(), answer, true);
  ASSERT_FALSE(n.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(n.status()));
  EXPECT_EQ(n.status().message(), "remote rejected the image stream");
}

TEST(EndpointSdpTest, ProtoMismatchAndUnusableAddress) {
  const LocalSdp dtls = DtlsOffer(TestIdentity());
  PeerStream plain = *ReadEndpointSdp(WriteEndpointSdp(PlainOffer()), SdpRole::kAnswer);
  absl::StatusOr<Negotiated> n = Negotiate(dtls, plain, true);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "the answer says udptl, we use UDP/TLS/UDPTL (--transport)");

  plain.remote.reset();  // c= names a host
  n = Negotiate(PlainOffer(), plain, true);
  ASSERT_FALSE(n.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(n.status())) << n.status();
}

TEST(EndpointSdpTest, PeerMaxIfpLeavesRoomForRedundancy) {
  EXPECT_EQ(PeerMaxIfp(1400, sdp::T38UdpEc::kNone, 3), 1394u);
  EXPECT_EQ(PeerMaxIfp(1400, sdp::T38UdpEc::kRedundancy, 3), 347u);
  EXPECT_EQ(PeerMaxIfp(400, sdp::T38UdpEc::kFec, 3), 97u);
  EXPECT_EQ(PeerMaxIfp(40, sdp::T38UdpEc::kRedundancy, 5), 32u);  // the floor
}

TEST(EndpointSdpTest, SocketAddresses) {
  EXPECT_EQ(Address("127.0.0.1:5000").ToString(), "127.0.0.1:5000");
  EXPECT_EQ(Address("[::1]:0").ToString(), "[::1]:0");
  EXPECT_FALSE(ParseSocketAddress("127.0.0.1").ok());
  EXPECT_FALSE(ParseSocketAddress("::1:5000").ok());
  EXPECT_FALSE(ParseSocketAddress("[::1]5000").ok());
  EXPECT_FALSE(ParseSocketAddress("host:5000").ok());
  EXPECT_FALSE(ParseSocketAddress("127.0.0.1:65536").ok());
  EXPECT_FALSE(ParseSocketAddress("127.0.0.1:").ok());
}

}  // namespace
}  // namespace t38relay::tools::fax
