// CallManager over an in-memory dataplane: every RFC 7345 / RFC 8842 rule of issue 5, the RFC 7345
// appendix A flows, rollback, re-offers, events, idle cleanup and restart recovery.
#include "control/calls/call_manager.h"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "control/sdp/sdp.h"
#include "dataplane/flowsock/protocol.h"
#include "gtest/gtest.h"
#include "tests/control/calls/fake_flow_service.h"
#include "tests/test_support.h"

namespace t38relay::control::calls {
namespace {

using dataplane::DtlsSetup;
using dataplane::LegTransport;
using testing::FakeFlowService;

constexpr absl::string_view kOurFp =
    "sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:"
    "DD:EE:FF:00";
constexpr absl::string_view kAliceFp =
    "sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:"
    "23:45:67:89";
constexpr absl::string_view kAliceFp2 =
    "sha-256 CD:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:"
    "23:45:67:89";
constexpr absl::string_view kBobFp =
    "sha-256 FF:FF:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:"
    "23:45:67:89";

// A DTLS offer from Alice (192.0.2.10).
std::string DtlsOffer(int port = 6056, absl::string_view fp = kAliceFp,
                      absl::string_view extra = "a=T38FaxRateManagement:transferredTCF\r\n") {
  return absl::StrCat(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
      "m=image ", port, " UDP/TLS/UDPTL t38\r\na=setup:actpass\r\na=fingerprint:", fp, "\r\n",
      extra);
}
std::string DtlsAnswer(int port = 12000, absl::string_view setup = "active",
                       absl::string_view fp = kBobFp) {
  return absl::StrCat(
      "v=0\r\no=- 2 2 IN IP4 198.51.100.20\r\ns=-\r\nc=IN IP4 198.51.100.20\r\nt=0 0\r\n"
      "m=image ", port, " UDP/TLS/UDPTL t38\r\na=setup:", setup, "\r\na=fingerprint:", fp,
      "\r\na=T38FaxRateManagement:transferredTCF\r\n");
}
std::string PlainSdp(absl::string_view ip, int port, absl::string_view extra = "") {
  return absl::StrCat("v=0\r\no=- 3 3 IN IP4 ", ip, "\r\ns=-\r\nc=IN IP4 ", ip,
                      "\r\nt=0 0\r\nm=image ", port,
                      " udptl t38\r\na=T38FaxVersion:0\r\na=T38FaxMaxDatagram:400\r\n", extra);
}

class CallManagerTest : public ::testing::Test {
 protected:
  CallManagerTest() : manager_(MakeOptions(), &fake_) {}
  CallManager::Options MakeOptions() {
    CallManager::Options o;
    o.clock = [this] { return now_; };
    return o;
  }
  absl::StatusOr<std::string> Offer(std::string body,
                                    TransportPolicy policy = TransportPolicy::kAsOffered,
                                    std::string call = "call-1", std::string from = "tag-a",
                                    bool anonymous = false) {
    OfferRequest r;
    r.call_id = std::move(call);
    r.from_tag = std::move(from);
    r.body = std::move(body);
    r.transport = policy;
    r.anonymous = anonymous;
    return manager_.Offer(r);
  }
  absl::StatusOr<std::string> Answer(std::string body, std::string call = "call-1",
                                     std::string from = "tag-a", std::string to = "tag-b") {
    AnswerRequest r;
    r.call_id = std::move(call);
    r.from_tag = std::move(from);
    r.to_tag = std::move(to);
    r.body = std::move(body);
    return manager_.Answer(r);
  }
  static sdp::SessionDescription Parse(const std::string& text) {
    absl::StatusOr<sdp::SessionDescription> s = sdp::ParseSdp(text);
    EXPECT_TRUE(s.ok()) << s.status() << "\n" << text;
    return s.ok() ? *s : sdp::SessionDescription{};
  }
  void Event(std::string name, uint64_t leg, nlohmann::json fields) {
    manager_.HandleEvent(dataplane::LegEvent{std::move(name), leg, std::move(fields)});
  }
  void Established(uint64_t leg) {
    Event("leg.established", leg, {{"role", "server"}, {"cipher", "ECDHE-RSA-AES128-GCM-SHA256"}});
  }

  int64_t now_ = 1700000000;
  FakeFlowService fake_;
  CallManager manager_;
};

// --- RFC 7345 appendix A ------------------------------------------------------------------------

TEST_F(CallManagerTest, Rfc7345A2InitialInviteWithT38OverDtls) {
  const std::string dir = t38relay::testing::TestDataDir() + "/sdp/";
  absl::StatusOr<std::string> to_bob =
      Offer(t38relay::testing::ReadFileText(dir + "rfc7345_a2_offer.sdp"));
  ASSERT_TRUE(to_bob.ok()) << to_bob.status();
  ASSERT_EQ(fake_.adds.size(), 2u);
  const dataplane::LegAddRequest& alice = fake_.adds[0];
  EXPECT_EQ(alice.transport, LegTransport::kDtls);
  EXPECT_EQ(alice.setup, DtlsSetup::kActive);  // Alice said actpass: we answer active
  EXPECT_EQ(alice.remote_setup, DtlsSetup::kActpass);
  // c=IN IP4 ua1.example.com is a host name: the leg learns Alice's address.
  EXPECT_FALSE(alice.remote.has_value());
  EXPECT_EQ(alice.family, dataplane::IpFamily::kV4);
  // Alice's SHA-1 fingerprint goes to the dataplane for verification.
  ASSERT_EQ(alice.fingerprints.size(), 1u);
  EXPECT_EQ(alice.fingerprints[0].hash, "sha-1");
  EXPECT_EQ(alice.fingerprints[0].value,
            "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB");
  EXPECT_EQ(fake_.adds[1].transport, LegTransport::kDtls);
  EXPECT_EQ(fake_.adds[1].setup, DtlsSetup::kActpass);
  ASSERT_EQ(fake_.links.size(), 1u);
  EXPECT_EQ(fake_.links[0], (std::pair<uint64_t, uint64_t>{1, 2}));

  sdp::SessionDescription offer = Parse(*to_bob);
  ASSERT_EQ(offer.media.size(), 1u);
  EXPECT_EQ(offer.media[0].port, 20001);
  EXPECT_EQ(offer.media[0].proto, "UDP/TLS/UDPTL");
  EXPECT_EQ(offer.connection->address, "198.18.0.1");
  EXPECT_EQ(offer.origin->address, "198.18.0.1");
  EXPECT_EQ(offer.origin->session_version, "1");
  EXPECT_EQ(offer.media[0].FindAttribute("setup")->value, "actpass");
  // sha-256 always, even though Alice used SHA-1 (the dataplane gives only sha-256).
  EXPECT_EQ(offer.media[0].FindAttribute("fingerprint")->value, std::string(kOurFp));
  EXPECT_EQ(offer.media[0].FindAttributes("fingerprint").size(), 1u);
  ASSERT_NE(offer.media[0].FindAttribute("tls-id"), nullptr);
  EXPECT_EQ(offer.media[0].FindAttribute("tls-id")->value->size(), 32u);
  EXPECT_EQ(offer.media[0].FindAttribute("connection"), nullptr);
  EXPECT_EQ(offer.media[0].FindAttribute("T38FaxRateManagement")->value, "transferredTCF");

  absl::StatusOr<std::string> to_alice =
      Answer(t38relay::testing::ReadFileText(dir + "rfc7345_a2_answer.sdp"));
  ASSERT_TRUE(to_alice.ok()) << to_alice.status();
  std::vector<dataplane::LegUpdateRequest> updates = fake_.ProgrammingUpdates();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].leg, 2u);
  EXPECT_EQ(updates[0].remote_setup, DtlsSetup::kActive);
  ASSERT_TRUE(updates[0].fingerprints.has_value());
  EXPECT_EQ((*updates[0].fingerprints)[0].value,
            "FF:FF:FF:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB");
  sdp::SessionDescription answer = Parse(*to_alice);
  EXPECT_EQ(answer.media[0].port, 20000);
  EXPECT_EQ(answer.media[0].proto, "UDP/TLS/UDPTL");
  EXPECT_EQ(answer.media[0].FindAttribute("setup")->value, "active");
  EXPECT_EQ(answer.media[0].FindAttribute("fingerprint")->value, std::string(kOurFp));

  absl::StatusOr<nlohmann::json> q = manager_.Query("call-1");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)["state"], "answered");
  EXPECT_EQ((*q)["to_tag"], "tag-b");
  ASSERT_EQ((*q)["legs"].size(), 2u);
  EXPECT_EQ((*q)["legs"][0]["side"], "caller");
  EXPECT_EQ((*q)["legs"][0]["setup"], "active");
  EXPECT_EQ((*q)["legs"][1]["local"]["port"], 20001);
}

TEST_F(CallManagerTest, Rfc7345A3ReInviteReplacingAudio) {
  const std::string dir = t38relay::testing::TestDataDir() + "/sdp/";
  std::string audio =
      "v=0\r\no=- 2465353433 3524244441 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\n"
      "t=0 0\r\nm=audio 49170 RTP/AVP 0\r\n";
  absl::StatusOr<std::string> first = Offer(audio);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(fake_.adds.empty());  // no T.38 yet: nothing to relay
  sdp::SessionDescription a = Parse(*first);
  // The audio line passes through with Alice's own address.
  EXPECT_EQ(a.media[0].port, 49170);
  ASSERT_EQ(a.media[0].connections.size(), 1u);
  EXPECT_EQ(a.media[0].connections[0].address, "192.0.2.10");
  ASSERT_TRUE(Answer("v=0\r\no=- 5 5 IN IP4 198.51.100.20\r\ns=-\r\nc=IN IP4 198.51.100.20\r\n"
                     "t=0 0\r\nm=audio 5004 RTP/AVP 0\r\n")
                  .ok());

  absl::StatusOr<std::string> reoffer =
      Offer(t38relay::testing::ReadFileText(dir + "rfc7345_a3_offer.sdp"));
  ASSERT_TRUE(reoffer.ok()) << reoffer.status();
  sdp::SessionDescription r = Parse(*reoffer);
  ASSERT_EQ(r.media.size(), 2u);
  EXPECT_EQ(r.media[0].media, "audio");
  EXPECT_EQ(r.media[0].port, 0);
  EXPECT_EQ(r.media[0].proto, "UDP/TLS/RTP/SAVP");
  EXPECT_EQ(r.media[1].proto, "UDP/TLS/UDPTL");
  EXPECT_EQ(r.media[1].port, 20001);
  EXPECT_EQ(r.origin->session_version, "2");  // towards Bob: our second SDP
  absl::StatusOr<std::string> to_alice =
      Answer(t38relay::testing::ReadFileText(dir + "rfc7345_a3_answer.sdp"));
  ASSERT_TRUE(to_alice.ok()) << to_alice.status();
  sdp::SessionDescription ans = Parse(*to_alice);
  ASSERT_EQ(ans.media.size(), 2u);
  EXPECT_EQ(ans.media[0].port, 0);
  EXPECT_EQ(ans.media[1].port, 20000);
  EXPECT_EQ(ans.media[1].FindAttribute("setup")->value, "active");
}

// --- transports ---------------------------------------------------------------------------------

TEST_F(CallManagerTest, DtlsToDtls) {
  ASSERT_TRUE(Offer(DtlsOffer(), TransportPolicy::kDtls).ok());
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  EXPECT_EQ(fake_.legs[1].info.transport, LegTransport::kDtls);
  EXPECT_EQ(fake_.legs[2].info.transport, LegTransport::kDtls);
  EXPECT_EQ(fake_.legs[1].info.remote->ToString(), "192.0.2.10:6056");
  EXPECT_EQ(fake_.legs[2].info.remote->ToString(), "198.51.100.20:12000");
  EXPECT_EQ(fake_.legs[1].info.peer, 2u);
}

TEST_F(CallManagerTest, DtlsToPlainLowersMaxDatagramTowardsDtls) {
  absl::StatusOr<std::string> out =
      Offer(DtlsOffer(6056, kAliceFp, "a=T38FaxMaxDatagram:1472\r\n"), TransportPolicy::kPlain);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(fake_.adds[1].transport, LegTransport::kPlain);
  EXPECT_TRUE(fake_.adds[1].fingerprints.empty());
  sdp::SessionDescription s = Parse(*out);
  EXPECT_EQ(s.media[0].proto, "udptl");
  EXPECT_EQ(s.media[0].FindAttribute("setup"), nullptr);
  EXPECT_EQ(s.media[0].FindAttribute("fingerprint"), nullptr);
  EXPECT_EQ(s.media[0].FindAttribute("tls-id"), nullptr);
  // Bob's datagrams leave towards Alice over DTLS: 1500 - 20 - 8 - 37.
  EXPECT_EQ(s.media[0].FindAttribute("T38FaxMaxDatagram")->value, "1435");
  // Alice's answer carries Bob's 400, which needs no lowering (Bob's leg is plain anyway).
  absl::StatusOr<std::string> back = Answer(PlainSdp("198.51.100.20", 7000));
  ASSERT_TRUE(back.ok()) << back.status();
  sdp::SessionDescription b = Parse(*back);
  EXPECT_EQ(b.media[0].proto, "UDP/TLS/UDPTL");
  EXPECT_EQ(b.media[0].FindAttribute("T38FaxMaxDatagram")->value, "400");
}

TEST_F(CallManagerTest, PlainToPlain) {
  absl::StatusOr<std::string> out = Offer(PlainSdp("192.0.2.10", 4000));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(fake_.adds[0].transport, LegTransport::kPlain);
  EXPECT_EQ(fake_.adds[1].transport, LegTransport::kPlain);
  EXPECT_FALSE(fake_.adds[0].anonymous);
  sdp::SessionDescription s = Parse(*out);
  EXPECT_EQ(s.media[0].proto, "udptl");
  EXPECT_EQ(s.media[0].FindAttribute("T38FaxMaxDatagram")->value, "400");
  EXPECT_EQ(s.media[0].FindAttribute("T38FaxVersion")->value, "0");
  ASSERT_TRUE(Answer(PlainSdp("198.51.100.20", 7000)).ok());
  EXPECT_EQ(fake_.legs[2].info.remote->ToString(), "198.51.100.20:7000");
}

TEST_F(CallManagerTest, PlainToDtlsTrunk) {
  absl::StatusOr<std::string> out = Offer(PlainSdp("10.0.0.5", 4000), TransportPolicy::kDtls);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(fake_.adds[1].transport, LegTransport::kDtls);
  sdp::SessionDescription s = Parse(*out);
  EXPECT_EQ(s.media[0].proto, "UDP/TLS/UDPTL");
  // 400 already fits; never raised.
  EXPECT_EQ(s.media[0].FindAttribute("T38FaxMaxDatagram")->value, "400");
  ASSERT_TRUE(Answer(DtlsAnswer(12000, "passive")).ok());
  EXPECT_EQ(fake_.ProgrammingUpdates()[0].remote_setup, DtlsSetup::kPassive);
}

TEST_F(CallManagerTest, Ipv6OfferGetsIpv6Legs) {
  std::string v6 =
      "v=0\r\no=- 1 1 IN IP6 2001:db8::10\r\ns=-\r\nc=IN IP6 2001:db8::10\r\nt=0 0\r\n"
      "m=image 6000 udptl t38\r\n";
  absl::StatusOr<std::string> out = Offer(v6, TransportPolicy::kDtls);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(fake_.adds[0].family, dataplane::IpFamily::kV6);
  EXPECT_EQ(fake_.adds[0].remote->ToString(), "[2001:db8::10]:6000");
  sdp::SessionDescription s = Parse(*out);
  EXPECT_EQ(s.connection->addr_type, "IP6");
  EXPECT_EQ(s.connection->address, "fd00:198:18::1");
  // Alice's SDP limits what Bob sends her; that goes out on her plain leg: nothing to add.
  EXPECT_EQ(s.media[0].FindAttribute("T38FaxMaxDatagram"), nullptr);
}

// --- RFC 7345 refusals --------------------------------------------------------------------------

TEST_F(CallManagerTest, RefusesConnectionAttribute) {
  absl::StatusOr<std::string> r = Offer(DtlsOffer(6056, kAliceFp, "a=connection:new\r\n"));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "a=connection")) << r.status();
  EXPECT_TRUE(fake_.legs.empty());
  EXPECT_EQ(manager_.call_count(), 0u);
}

TEST_F(CallManagerTest, RefusesHoldconn) {
  std::string offer = absl::StrReplaceAll(DtlsOffer(), {{"setup:actpass", "setup:holdconn"}});
  absl::StatusOr<std::string> r = Offer(offer);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "holdconn")) << r.status();
  EXPECT_TRUE(fake_.legs.empty());
}

TEST_F(CallManagerTest, RefusesDtlsOfferWithoutFingerprint) {
  std::string offer =
      "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
      "m=image 6056 UDP/TLS/UDPTL t38\r\na=setup:actpass\r\n";
  absl::StatusOr<std::string> r = Offer(offer);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "fingerprint")) << r.status();
  EXPECT_TRUE(fake_.legs.empty());
}

TEST_F(CallManagerTest, RefusesDtlsAnswerWithoutFingerprintOrWithActpass) {
  ASSERT_TRUE(Offer(DtlsOffer()).ok());
  std::string no_fp =
      "v=0\r\no=- 2 2 IN IP4 198.51.100.20\r\ns=-\r\nc=IN IP4 198.51.100.20\r\nt=0 0\r\n"
      "m=image 12000 UDP/TLS/UDPTL t38\r\na=setup:active\r\n";
  EXPECT_EQ(Answer(no_fp).status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::string> actpass = Answer(DtlsAnswer(12000, "actpass"));
  EXPECT_EQ(actpass.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(actpass.status().message(), "actpass"));
  EXPECT_TRUE(fake_.ProgrammingUpdates().empty());
  EXPECT_EQ((*manager_.Query("call-1"))["state"], "offered");
}

TEST_F(CallManagerTest, RefusesUnsupportedProtos) {
  for (std::string proto : {"RTP/SAVP", "TCP/TLS/UDPTL", "RTP/AVP"}) {
    std::string offer = absl::StrCat(
        "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
        "m=image 6056 ", proto, " t38\r\n");
    absl::StatusOr<std::string> r = Offer(offer);
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << proto;
    EXPECT_TRUE(absl::StrContains(r.status().message(), proto)) << r.status();
  }
  EXPECT_TRUE(fake_.legs.empty());
}

TEST_F(CallManagerTest, RefusesMalformedSdpAndSip) {
  absl::StatusOr<std::string> r = Offer("v=1\r\n");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  r = Offer("INVITE sip:bob@example.com SIP/2.0\r\nContent-Length: 5\r\n\r\nv=0\r\n");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  r = Offer("hello");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(fake_.legs.empty());
  EXPECT_EQ(manager_.Stats()["errors"]["bad-request"], 3);
}

TEST_F(CallManagerTest, OfferInsideSipMessage) {
  std::string sdp = DtlsOffer();
  std::string sip = absl::StrCat(
      "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1\r\n"
      "To: <sip:bob@example.com>\r\nFrom: <sip:alice@example.com>;tag=tag-a\r\n"
      "Call-ID: call-1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
      "Content-Type: application/sdp\r\nContent-Length: ", sdp.size(), "\r\n\r\n", sdp);
  absl::StatusOr<std::string> r = Offer(sip);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(fake_.adds.size(), 2u);
}

TEST_F(CallManagerTest, UnknownCallIsNotFound) {
  EXPECT_EQ(Answer(DtlsAnswer(), "nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(manager_.Delete({"nope", std::nullopt, std::nullopt}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(manager_.Query("nope").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(Offer(DtlsOffer()).ok());
  EXPECT_EQ(Answer(DtlsAnswer(), "call-1", "other-tag").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CallManagerTest, AnswerWithWrongMediaCountIsRefused) {
  ASSERT_TRUE(Offer(DtlsOffer()).ok());
  std::string two = DtlsAnswer() + "m=audio 0 RTP/AVP 0\r\n";
  absl::StatusOr<std::string> r = Answer(two);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "RFC 3264")) << r.status();
}

// --- setup roles --------------------------------------------------------------------------------

TEST_F(CallManagerTest, SetupRolesFollowTheOffer) {
  struct Case {
    std::string offered;
    DtlsSetup ours;
  } cases[] = {{"actpass", DtlsSetup::kActive},
               {"active", DtlsSetup::kPassive},
               {"passive", DtlsSetup::kActive}};
  int n = 0;
  for (const Case& c : cases) {
    std::string offer = absl::StrReplaceAll(DtlsOffer(), {{"setup:actpass", "setup:" + c.offered}});
    std::string call = absl::StrCat("c", n++);
    absl::StatusOr<std::string> out = Offer(offer, TransportPolicy::kAsOffered, call);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(fake_.adds.back().setup, DtlsSetup::kActpass);  // towards Bob: actpass
    EXPECT_EQ(fake_.adds[fake_.adds.size() - 2].setup, c.ours) << c.offered;
    absl::StatusOr<std::string> back = Answer(DtlsAnswer(), call);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(Parse(*back).media[0].FindAttribute("setup")->value,
              std::string(dataplane::SetupName(c.ours)));
  }
}

TEST_F(CallManagerTest, ConfiguredOfferSetupAndConflictingAnswer) {
  CallManager::Options o = MakeOptions();
  o.offer_setup = DtlsSetup::kPassive;
  CallManager manager(o, &fake_);
  OfferRequest r{"c", "a", DtlsOffer(), TransportPolicy::kAsOffered, false};
  absl::StatusOr<std::string> out = manager.Offer(r);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Parse(*out).media[0].FindAttribute("setup")->value, "passive");
  absl::StatusOr<std::string> bad = manager.Answer({"c", "a", "b", DtlsAnswer(12000, "passive")});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(manager.Answer({"c", "a", "b", DtlsAnswer(12000, "active")}).ok());
}

// --- re-offers ----------------------------------------------------------------------------------

TEST_F(CallManagerTest, ReofferUnchangedKeepsAssociationAndMovesMedia) {
  absl::StatusOr<std::string> first = Offer(DtlsOffer());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  fake_.ResetLog();
  // Same fingerprint, transport, no tls-id change; Alice moved to port 7000.
  absl::StatusOr<std::string> again = Offer(DtlsOffer(7000));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(fake_.adds.empty());
  std::vector<dataplane::LegUpdateRequest> updates = fake_.ProgrammingUpdates();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].leg, 1u);
  EXPECT_EQ(updates[0].remote->ToString(), "192.0.2.10:7000");
  sdp::SessionDescription a = Parse(*first);
  sdp::SessionDescription b = Parse(*again);
  EXPECT_EQ(b.media[0].port, a.media[0].port);
  EXPECT_EQ(b.media[0].FindAttribute("tls-id")->value, a.media[0].FindAttribute("tls-id")->value);
  EXPECT_EQ(b.origin->session_id, a.origin->session_id);
  EXPECT_EQ(b.origin->session_version, "2");
  // Bob moves too, in the re-answer.
  ASSERT_TRUE(Answer(DtlsAnswer(13000)).ok());
  EXPECT_EQ(fake_.legs[2].info.remote->ToString(), "198.51.100.20:13000");
  EXPECT_TRUE(fake_.deletes.empty());
}

TEST_F(CallManagerTest, ReofferNewFingerprintReplacesAssociationAfterEstablished) {
  absl::StatusOr<std::string> first = Offer(DtlsOffer());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  fake_.ResetLog();
  absl::StatusOr<std::string> again = Offer(DtlsOffer(6056, kAliceFp2));
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(fake_.adds.size(), 2u);  // a new association: legs 3 and 4
  EXPECT_EQ(fake_.adds[0].fingerprints[0].value, std::string(kAliceFp2).substr(8));
  sdp::SessionDescription a = Parse(*first);
  sdp::SessionDescription b = Parse(*again);
  EXPECT_NE(b.media[0].port, a.media[0].port);
  EXPECT_NE(b.media[0].FindAttribute("tls-id")->value, a.media[0].FindAttribute("tls-id")->value);
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  // The old legs keep relaying until the new association is up.
  EXPECT_TRUE(fake_.deletes.empty());
  EXPECT_EQ(fake_.legs.size(), 4u);
  Established(3);
  EXPECT_TRUE(fake_.deletes.empty());
  Established(4);
  EXPECT_EQ(fake_.deletes, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(fake_.legs.size(), 2u);
  nlohmann::json q = *manager_.Query("call-1");
  EXPECT_EQ(q["legs"][0]["leg"], 3);
  EXPECT_EQ(q["legs"][1]["leg"], 4);
}

TEST_F(CallManagerTest, ReofferSupersedingAPendingAssociationDeletesIt) {
  ASSERT_TRUE(Offer(DtlsOffer()).ok());
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  ASSERT_TRUE(Offer(DtlsOffer(6056, kAliceFp2)).ok());  // legs 3, 4 (pending)
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  fake_.ResetLog();
  ASSERT_TRUE(Offer(DtlsOffer(6056, kAliceFp2)).ok());  // unchanged against the pending one
  EXPECT_TRUE(fake_.adds.empty());
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  ASSERT_TRUE(Offer(DtlsOffer(6056, kAliceFp)).ok());  // changed again: legs 5, 6
  EXPECT_EQ(fake_.deletes, (std::vector<uint64_t>{3, 4}));
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  Established(5);
  Established(6);
  EXPECT_EQ(fake_.deletes, (std::vector<uint64_t>{3, 4, 1, 2}));
  EXPECT_EQ(fake_.legs.size(), 2u);
  EXPECT_EQ(fake_.legs.count(5) + fake_.legs.count(6), 2u);
}

TEST_F(CallManagerTest, ReofferTlsIdChangeReplacesAndFailedNewOneKeepsOld) {
  const std::string tls1 = "a=tls-id:abcdefghijklmnopqrstuvwxyz012345\r\n";
  const std::string tls2 = "a=tls-id:zzzdefghijklmnopqrstuvwxyz012345\r\n";
  ASSERT_TRUE(Offer(DtlsOffer(6056, kAliceFp, tls1)).ok());
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  fake_.ResetLog();
  ASSERT_TRUE(Offer(DtlsOffer(6056, kAliceFp, tls2)).ok());
  EXPECT_EQ(fake_.adds.size(), 2u);
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  Event("leg.failed", 3, {{"reason", "fingerprint-mismatch"}});
  EXPECT_EQ(fake_.deletes, (std::vector<uint64_t>{3, 4}));
  nlohmann::json q = *manager_.Query("call-1");
  EXPECT_EQ(q["state"], "answered");
  EXPECT_EQ(q["legs"].size(), 2u);
  EXPECT_EQ(q["legs"][0]["leg"], 1);
}

TEST_F(CallManagerTest, ReofferTransportChangeIsNewAssociationPlainSwitchesAtAnswer) {
  ASSERT_TRUE(Offer(DtlsOffer()).ok());
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  fake_.ResetLog();
  ASSERT_TRUE(Offer(PlainSdp("192.0.2.10", 6056)).ok());
  ASSERT_EQ(fake_.adds.size(), 2u);
  EXPECT_EQ(fake_.adds[0].transport, LegTransport::kPlain);
  EXPECT_EQ(fake_.adds[1].transport, LegTransport::kPlain);
  ASSERT_TRUE(Answer(PlainSdp("198.51.100.20", 7000)).ok());
  EXPECT_EQ(fake_.deletes, (std::vector<uint64_t>{1, 2}));  // no handshake to wait for
}

TEST_F(CallManagerTest, NewOfferReplacesAnUnansweredOne) {
  ASSERT_TRUE(Offer(DtlsOffer(), TransportPolicy::kDtls).ok());
  fake_.ResetLog();
  // The callee answered 488; the proxy offers again on the same dialog, plain this time.
  ASSERT_TRUE(Offer(PlainSdp("192.0.2.10", 4000)).ok());
  EXPECT_EQ(fake_.deletes, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(fake_.adds.size(), 2u);
  EXPECT_EQ(fake_.legs.size(), 2u);
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());  // policy dtls kept towards the callee
  EXPECT_EQ(fake_.legs[4].info.transport, LegTransport::kDtls);
}

TEST_F(CallManagerTest, ReofferFromCallee) {
  ASSERT_TRUE(Offer(DtlsOffer()).ok());
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  fake_.ResetLog();
  // Bob re-INVITEs: from-tag is his; his port moved.
  std::string bob = absl::StrReplaceAll(DtlsAnswer(14000, "actpass"), {{"o=- 2 2", "o=- 2 3"}});
  absl::StatusOr<std::string> to_alice = Offer(bob, TransportPolicy::kAsOffered, "call-1", "tag-b");
  ASSERT_TRUE(to_alice.ok()) << to_alice.status();
  EXPECT_TRUE(fake_.adds.empty());
  EXPECT_EQ(fake_.legs[2].info.remote->ToString(), "198.51.100.20:14000");
  sdp::SessionDescription s = Parse(*to_alice);
  EXPECT_EQ(s.media[0].port, 20000);  // Alice's leg
  absl::StatusOr<std::string> to_bob = Answer(DtlsAnswer(6056, "passive", kAliceFp), "call-1",
                                              "tag-b", "tag-a");
  ASSERT_TRUE(to_bob.ok()) << to_bob.status();
  EXPECT_EQ(Parse(*to_bob).media[0].port, 20001);
}

// --- anonymous, ICE -----------------------------------------------------------------------------

TEST_F(CallManagerTest, AnonymousGetsFreshIdentityPerCall) {
  absl::StatusOr<std::string> out =
      Offer(DtlsOffer(), TransportPolicy::kAsOffered, "call-1", "tag-a", true);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(fake_.adds[0].anonymous);
  EXPECT_TRUE(fake_.adds[1].anonymous);
  EXPECT_NE(Parse(*out).media[0].FindAttribute("fingerprint")->value, std::string(kOurFp));
  EXPECT_EQ((*manager_.Query("call-1"))["anonymous"], true);
  // Plain legs never carry it (the dataplane refuses anonymous on plain legs).
  ASSERT_TRUE(Offer(DtlsOffer(), TransportPolicy::kPlain, "call-2", "tag-a", true).ok());
  EXPECT_TRUE(fake_.adds[2].anonymous);
  EXPECT_FALSE(fake_.adds[3].anonymous);
}

std::string IceOffer(absl::string_view ufrag, absl::string_view pwd) {
  return DtlsOffer(6056, kAliceFp,
                   absl::StrCat("a=ice-ufrag:", ufrag, "\r\na=ice-pwd:", pwd,
                                "\r\na=candidate:1 1 UDP 2130706431 192.0.2.10 6056 typ host\r\n"));
}

TEST_F(CallManagerTest, IceOfferIsAnsweredWithIceLite) {
  ASSERT_TRUE(Offer(IceOffer("alic", "alicepassword0123456789")).ok());
  ASSERT_TRUE(fake_.adds[0].ice.has_value());
  const dataplane::IceCredentials ice = *fake_.adds[0].ice;
  EXPECT_EQ(ice.remote_ufrag, "alic");
  EXPECT_EQ(ice.ufrag.size(), 16u);
  EXPECT_EQ(ice.pwd.size(), 24u);
  EXPECT_TRUE(dataplane::IsIceChars(ice.ufrag) && dataplane::IsIceChars(ice.pwd));
  EXPECT_FALSE(fake_.adds[1].ice.has_value());  // Bob did not use ICE
  absl::StatusOr<std::string> back = Answer(DtlsAnswer());
  ASSERT_TRUE(back.ok());
  sdp::SessionDescription s = Parse(*back);
  EXPECT_NE(s.FindAttribute("ice-lite"), nullptr);
  EXPECT_EQ(s.media[0].FindAttribute("ice-ufrag")->value, ice.ufrag);
  EXPECT_EQ(s.media[0].FindAttribute("ice-pwd")->value, ice.pwd);
  EXPECT_EQ(s.media[0].FindAttribute("candidate")->value,
            "1 1 UDP 2130706431 198.18.0.1 20000 typ host");
}

TEST_F(CallManagerTest, IceRestartStartsNewAssociation) {
  ASSERT_TRUE(Offer(IceOffer("alic", "alicepassword0123456789")).ok());
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  fake_.ResetLog();
  ASSERT_TRUE(Offer(IceOffer("alic", "alicepassword0123456789")).ok());
  EXPECT_TRUE(fake_.adds.empty());  // same credentials: kept
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  absl::StatusOr<std::string> restart = Offer(IceOffer("ali2", "alicepassword9999999999"));
  ASSERT_TRUE(restart.ok());
  ASSERT_EQ(fake_.adds.size(), 2u);
  EXPECT_EQ(fake_.adds[0].ice->remote_ufrag, "ali2");
}

// --- prefer-dtls --------------------------------------------------------------------------------

TEST_F(CallManagerTest, PreferDtlsOffersCapnegAndTakesDtls) {
  absl::StatusOr<std::string> out = Offer(PlainSdp("10.0.0.5", 4000), TransportPolicy::kPreferDtls);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(fake_.adds[1].transport, LegTransport::kDtls);
  sdp::SessionDescription s = Parse(*out);
  EXPECT_EQ(s.media[0].proto, "udptl");
  EXPECT_EQ(s.media[0].FindAttribute("tcap")->value, "1 UDP/TLS/UDPTL");
  std::vector<const sdp::Attribute*> acaps = s.media[0].FindAttributes("acap");
  ASSERT_EQ(acaps.size(), 3u);
  EXPECT_EQ(acaps[0]->value, "1 setup:actpass");
  EXPECT_EQ(acaps[1]->value, absl::StrCat("2 fingerprint:", kOurFp));
  EXPECT_TRUE(absl::StartsWith(*acaps[2]->value, "3 tls-id:"));
  EXPECT_EQ(s.media[0].FindAttribute("pcfg")->value, "1 t=1 a=1,2,3");
  EXPECT_EQ(s.media[0].FindAttribute("fingerprint"), nullptr);
  std::string answer = DtlsAnswer() + "a=acfg:1 t=1 a=1,2,3\r\n";
  ASSERT_TRUE(Answer(answer).ok());
  EXPECT_EQ(fake_.legs[2].info.transport, LegTransport::kDtls);
  EXPECT_TRUE(fake_.deletes.empty());
}

TEST_F(CallManagerTest, PreferDtlsFallsBackToPlain) {
  ASSERT_TRUE(Offer(PlainSdp("10.0.0.5", 4000), TransportPolicy::kPreferDtls).ok());
  const uint16_t offered_port = fake_.legs[2].info.local.port;
  fake_.ResetLog();
  ASSERT_TRUE(Answer(PlainSdp("198.51.100.20", 7000)).ok());
  // The callee leg turns plain where the offer put it: no new leg, no new port.
  EXPECT_TRUE(fake_.adds.empty());
  EXPECT_TRUE(fake_.deletes.empty());
  ASSERT_GE(fake_.updates.size(), 1u);
  for (size_t i = 1; i < fake_.updates.size(); ++i) {
    EXPECT_TRUE(fake_.updates[i].label && !fake_.updates[i].transport) << "only labels follow";
  }
  EXPECT_EQ(fake_.updates[0].leg, 2u);
  EXPECT_EQ(fake_.updates[0].transport, std::optional<LegTransport>(LegTransport::kPlain));
  EXPECT_EQ(fake_.updates[0].remote->ToString(), "198.51.100.20:7000");
  EXPECT_EQ(fake_.legs[2].info.transport, LegTransport::kPlain);
  EXPECT_EQ(fake_.legs[2].info.local.port, offered_port);
  EXPECT_EQ(fake_.legs[1].info.peer, 2u);
  // Later offers on this call go plain towards the callee, on the same legs.
  fake_.ResetLog();
  absl::StatusOr<std::string> again = Offer(PlainSdp("10.0.0.5", 4000));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(fake_.adds.empty());
  EXPECT_EQ(Parse(*again).media[0].FindAttribute("tcap"), nullptr);
}

TEST_F(CallManagerTest, PreferDtlsFallbackThatFailsChangesNothing) {
  ASSERT_TRUE(Offer(PlainSdp("10.0.0.5", 4000), TransportPolicy::kPreferDtls).ok());
  fake_.mutations = 0;
  fake_.fail_at = 1;
  EXPECT_FALSE(Answer(PlainSdp("198.51.100.20", 7000)).ok());
  EXPECT_EQ(fake_.legs[2].info.transport, LegTransport::kDtls);
  fake_.fail_at = 0;
  ASSERT_TRUE(Answer(PlainSdp("198.51.100.20", 7000)).ok());
  EXPECT_EQ(fake_.legs[2].info.transport, LegTransport::kPlain);
}

TEST_F(CallManagerTest, PreferDtlsRejectedThenReofferedPlain) {
  ASSERT_TRUE(Offer(PlainSdp("10.0.0.5", 4000), TransportPolicy::kPreferDtls).ok());
  std::string rejected = "v=0\r\no=- 2 2 IN IP4 198.51.100.20\r\ns=-\r\nc=IN IP4 198.51.100.20\r\n"
                         "t=0 0\r\nm=image 0 UDP/TLS/UDPTL t38\r\n";
  absl::StatusOr<std::string> back = Answer(rejected);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(Parse(*back).media[0].port, 0);
  EXPECT_TRUE(fake_.legs.empty());
  fake_.ResetLog();
  absl::StatusOr<std::string> again = Offer(PlainSdp("10.0.0.5", 4000));
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(fake_.adds.size(), 2u);
  EXPECT_EQ(fake_.adds[1].transport, LegTransport::kPlain);
  EXPECT_EQ(Parse(*again).media[0].proto, "udptl");
}

// --- rollback -----------------------------------------------------------------------------------

TEST_F(CallManagerTest, FailedOfferLeavesNothing) {
  // An offer makes three requests (add, add, link): fail each in turn.
  for (int n = 1; n <= 3; ++n) {
    fake_.mutations = 0;
    fake_.fail_at = n;
    absl::StatusOr<std::string> r = Offer(DtlsOffer());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << n;
    EXPECT_TRUE(fake_.legs.empty()) << n;
    EXPECT_EQ(manager_.call_count(), 0u) << n;
  }
  fake_.fail_at = 0;
  EXPECT_TRUE(Offer(DtlsOffer()).ok());
}

TEST_F(CallManagerTest, FailedAnswerAndReofferKeepTheCall) {
  ASSERT_TRUE(Offer(DtlsOffer()).ok());
  fake_.mutations = 0;
  fake_.fail_at = 1;
  EXPECT_FALSE(Answer(DtlsAnswer()).ok());
  EXPECT_EQ((*manager_.Query("call-1"))["state"], "offered");
  fake_.fail_at = 0;
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  // A re-offer with a new association failing at each step keeps the old legs only.
  for (int n = 1; n <= 3; ++n) {
    fake_.mutations = 0;
    fake_.fail_at = n;
    EXPECT_FALSE(Offer(DtlsOffer(6056, kAliceFp2)).ok()) << n;
    EXPECT_EQ(fake_.legs.size(), 2u) << n;
    EXPECT_EQ(fake_.legs.count(1) + fake_.legs.count(2), 2u) << n;
  }
  fake_.fail_at = 0;
  // The call still works: the failed re-offers left no offer outstanding.
  EXPECT_EQ(Answer(DtlsAnswer()).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(manager_.Delete({"call-1", std::nullopt, std::nullopt}).ok());
  EXPECT_TRUE(fake_.legs.empty());
}

TEST_F(CallManagerTest, UnreachableDataplaneIsUnavailable) {
  manager_.SetFlowService(nullptr);
  EXPECT_EQ(Offer(DtlsOffer()).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(manager_.Stats()["dataplane"]["connected"], false);
  EXPECT_EQ(manager_.Stats()["errors"]["busy"], 1);
}

// --- events, idle, delete -----------------------------------------------------------------------

TEST_F(CallManagerTest, FailedLegMarksCallFailed) {
  ASSERT_TRUE(Offer(DtlsOffer()).ok());
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  Event("leg.failed", 2, {{"reason", "handshake-timeout"}});
  nlohmann::json q = *manager_.Query("call-1");
  EXPECT_EQ(q["state"], "failed");
  EXPECT_EQ(q["reason"], "leg 2 failed: handshake-timeout");
  EXPECT_EQ(q["legs"][1]["failure"], "handshake-timeout");
}

TEST_F(CallManagerTest, IdleCallsAreDeleted) {
  ASSERT_TRUE(Offer(PlainSdp("192.0.2.10", 4000)).ok());
  ASSERT_TRUE(Answer(PlainSdp("198.51.100.20", 7000)).ok());
  Event("leg.idle", 1, {{"seconds", 30}});
  Event("leg.idle", 2, {{"seconds", 30}});
  now_ += 29;
  manager_.Tick();
  EXPECT_EQ(manager_.call_count(), 1u);
  now_ += 1;  // 30 + 30 = the 60 s default
  manager_.Tick();
  EXPECT_EQ(manager_.call_count(), 0u);
  EXPECT_TRUE(fake_.legs.empty());
  EXPECT_EQ(manager_.Stats()["idle_deletes"], 1);
}

TEST_F(CallManagerTest, IdleLegThatReceivedAgainIsKept) {
  ASSERT_TRUE(Offer(PlainSdp("192.0.2.10", 4000)).ok());
  Event("leg.idle", 1, {{"seconds", 60}});
  Event("leg.idle", 2, {{"seconds", 60}});
  fake_.legs[1].info.counters.rx_packets = 5;
  manager_.Tick();
  EXPECT_EQ(manager_.call_count(), 1u);
}

TEST_F(CallManagerTest, DeleteRemovesLegsAndChecksTags) {
  ASSERT_TRUE(Offer(DtlsOffer()).ok());
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  EXPECT_EQ(manager_.Delete({"call-1", std::string("zzz"), std::nullopt}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(manager_.Delete({"call-1", std::string("tag-a"), std::string("tag-b")}).ok());
  EXPECT_TRUE(fake_.legs.empty());
  EXPECT_EQ(manager_.List()["calls"].size(), 0u);
  EXPECT_EQ(manager_.Stats()["deletes"], 1);
}

// --- restart safety -----------------------------------------------------------------------------

TEST_F(CallManagerTest, RestartedControlRebuildsCallsFromLabels) {
  ASSERT_TRUE(Offer(DtlsOffer(), TransportPolicy::kDtls).ok());
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  ASSERT_TRUE(Offer(PlainSdp("192.0.2.30", 4000), TransportPolicy::kPlain, "call-2", "x").ok());
  // A leg that is not ours.
  dataplane::LegAddRequest foreign;
  foreign.label = "someone else's";
  ASSERT_TRUE(fake_.AddLeg(foreign).ok());
  const size_t legs_before = fake_.legs.size();

  CallManager restarted(MakeOptions(), &fake_);
  absl::StatusOr<size_t> n = restarted.Recover();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  nlohmann::json q = *restarted.Query("call-1");
  EXPECT_EQ(q["state"], "answered");
  EXPECT_EQ(q["from_tag"], "tag-a");
  EXPECT_EQ(q["to_tag"], "tag-b");
  EXPECT_EQ(q["transport_policy"], "dtls");
  EXPECT_EQ(q["legs"].size(), 2u);
  EXPECT_EQ(fake_.legs.size(), legs_before);

  // An unchanged re-offer keeps the association, with the same tls-id and a newer o= version.
  fake_.ResetLog();
  OfferRequest r{"call-1", "tag-a", DtlsOffer(), TransportPolicy::kAsOffered, false};
  absl::StatusOr<std::string> again = restarted.Offer(r);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(fake_.adds.empty());
  EXPECT_EQ(Parse(*again).origin->session_version, "2");
  EXPECT_EQ(Parse(*again).media[0].FindAttribute("tls-id")->value,
            DecodeLabel(fake_.legs[2].info.label)->tls_id);
  ASSERT_TRUE(restarted.Answer({"call-1", "tag-a", "tag-b", DtlsAnswer()}).ok());
  // The offered call-2 can be answered and deleted by the restarted control.
  ASSERT_TRUE(restarted.Answer({"call-2", "x", "y", PlainSdp("198.51.100.20", 7000)}).ok());
  EXPECT_TRUE(restarted.Delete({"call-1", std::nullopt, std::nullopt}).ok());
  EXPECT_TRUE(restarted.Delete({"call-2", std::nullopt, std::nullopt}).ok());
  EXPECT_EQ(fake_.legs.size(), 1u);  // only the foreign leg is left
}

TEST_F(CallManagerTest, RestartedDataplaneGetsTheCallsAgainOnTheSamePorts) {
  ASSERT_TRUE(Offer(DtlsOffer()).ok());
  ASSERT_TRUE(Answer(DtlsAnswer()).ok());
  ASSERT_TRUE(Offer(PlainSdp("10.0.0.7", 4100), TransportPolicy::kPlain, "call-2").ok());
  std::map<uint64_t, FakeFlowService::Leg> before = fake_.legs;
  ASSERT_EQ(before.size(), 4u);
  fake_.legs.clear();  // the dataplane restarted: every leg is gone, ids start over
  fake_.next_leg = 1;
  fake_.ResetLog();
  absl::StatusOr<size_t> n = manager_.Recover();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  ASSERT_EQ(fake_.adds.size(), 4u);
  ASSERT_EQ(fake_.links.size(), 2u);
  // Each leg again where the SDP put it, with what the peers said.
  for (const auto& [id, old] : before) {
    const auto same = std::find_if(fake_.legs.begin(), fake_.legs.end(), [&](const auto& l) {
      return l.second.info.local == old.info.local;
    });
    ASSERT_NE(same, fake_.legs.end()) << old.info.local.ToString();
    const FakeFlowService::Leg& now = same->second;
    EXPECT_EQ(now.add.port, std::optional<uint16_t>(old.info.local.port));
    EXPECT_EQ(now.info.transport, old.info.transport);
    EXPECT_EQ(now.info.fingerprint, old.info.fingerprint);
    EXPECT_EQ(now.info.setup, old.info.setup);
    EXPECT_TRUE(now.info.peer.has_value());
    if (old.info.transport == LegTransport::kDtls) {
      EXPECT_FALSE(now.add.fingerprints.empty()) << old.info.local.ToString();
    }
    EXPECT_EQ(DecodeLabel(now.info.label)->call.call_id, DecodeLabel(old.info.label)->call.call_id);
  }
  nlohmann::json q = *manager_.Query("call-1");
  EXPECT_EQ(q["state"], "answered") << q;
  EXPECT_EQ(manager_.Stats()["dataplane"]["reprogrammed_calls"], 2);
  EXPECT_EQ(manager_.Stats()["dataplane"]["lost_calls"], 0);
  // The calls go on: a re-offer keeps the new legs, deletes remove them.
  fake_.ResetLog();
  ASSERT_TRUE(Offer(DtlsOffer()).ok());
  EXPECT_TRUE(fake_.adds.empty());
  EXPECT_TRUE(manager_.Delete({"call-1", std::nullopt, std::nullopt}).ok());
  EXPECT_TRUE(manager_.Delete({"call-2", std::nullopt, std::nullopt}).ok());
  EXPECT_TRUE(fake_.legs.empty());
}

TEST_F(CallManagerTest, RestartedDataplaneWithAnotherCertificateLosesDtlsCalls) {
  ASSERT_TRUE(Offer(DtlsOffer()).ok());
  ASSERT_TRUE(Offer(PlainSdp("10.0.0.7", 4100), TransportPolicy::kPlain, "call-2").ok());
  fake_.legs.clear();
  fake_.next_leg = 1;
  fake_.fingerprint = std::string(FakeFlowService::kFingerprint, 94) + "01";
  ASSERT_TRUE(manager_.Recover().ok());
  nlohmann::json q = *manager_.Query("call-1");
  EXPECT_EQ(q["state"], "failed");
  EXPECT_TRUE(absl::StartsWith(q["reason"].get<std::string>(), "lost: the restarted dataplane "
                                                               "has another certificate")) << q;
  EXPECT_EQ(manager_.Stats()["dataplane"]["lost_calls"], 1);
  EXPECT_EQ(manager_.Stats()["dataplane"]["reprogrammed_calls"], 1);
  EXPECT_EQ(fake_.legs.size(), 2u) << "call-1's legs were not rolled back";
  EXPECT_EQ(Offer(DtlsOffer()).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(manager_.Delete({"call-1", std::nullopt, std::nullopt}).ok());
  EXPECT_EQ(fake_.legs.size(), 2u) << "deleting the lost call deleted call-2's legs";
  EXPECT_EQ((*manager_.Query("call-2"))["state"], "offered");
}

TEST_F(CallManagerTest, LabelsRoundTrip) {
  ASSERT_TRUE(Offer(IceOffer("alic", "alicepassword0123456789")).ok());
  std::optional<DecodedLabel> d = DecodeLabel(fake_.legs[1].info.label);
  ASSERT_TRUE(d.has_value()) << fake_.legs[1].info.label;
  EXPECT_EQ(d->call.call_id, "call-1");
  EXPECT_EQ(d->side, Side::kCaller);
  EXPECT_EQ(d->call.offer_from, Side::kCaller);
  EXPECT_EQ(d->peer.remote->ToString(), "192.0.2.10:6056");
  EXPECT_EQ(d->peer.setup, DtlsSetup::kActpass);
  EXPECT_EQ(d->peer.ice->ufrag, "alic");
  EXPECT_EQ(d->ice->ufrag, fake_.adds[0].ice->ufrag);
  EXPECT_LE(fake_.legs[1].info.label.size(), 4096u);
  EXPECT_FALSE(DecodeLabel("").has_value());
  EXPECT_FALSE(DecodeLabel("{\"t38relay\":2}").has_value());
  EXPECT_FALSE(DecodeLabel("{not json").has_value());
}

// --- real-world offers --------------------------------------------------------------------------

TEST_F(CallManagerTest, RealWorldT38OffersGoThroughAsPlain) {
  T38_REQUIRE_VECTORS();
  const std::string dir = t38relay::testing::VectorsDir() + "/sdp/realworld";
  int accepted = 0;
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".sdp") continue;
    std::string text = t38relay::testing::ReadFileText(entry.path().string());
    absl::StatusOr<sdp::SessionDescription> s = sdp::ParseSdp(text);
    if (!s.ok()) continue;  // H.248 descriptors with Megaco punctuation: not SIP SDP
    bool t38 = false;
    for (const auto& m : s->media) t38 = t38 || (m.media == "image" && m.port.value_or(0) != 0);
    if (!t38) continue;
    absl::StatusOr<std::string> out =
        Offer(text, TransportPolicy::kAsOffered, absl::StrCat("rw", n++));
    ASSERT_TRUE(out.ok()) << entry.path() << ": " << out.status();
    EXPECT_EQ(fake_.adds.back().transport, LegTransport::kPlain);
    EXPECT_TRUE(absl::StrContains(*out, "m=image 2")) << *out;
    ++accepted;
  }
  EXPECT_EQ(accepted, 4);
}

}  // namespace
}  // namespace t38relay::control::calls
