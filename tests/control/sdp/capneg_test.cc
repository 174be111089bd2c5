// Tests of RFC 5939 capability negotiation: codecs, the RFC examples, pcfg resolution.
#include "control/sdp/capneg.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace t38relay::control::sdp {
namespace {

using ::testing::ElementsAre;

template <typename T>
std::string ErrorOf(const absl::StatusOr<T>& r) {
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(CapnegTest, Tcap) {
  absl::StatusOr<TransportCaps> t = ParseTcap("1 RTP/SAVPF RTP/SAVP RTP/AVPF");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->first_number, 1u);
  EXPECT_THAT(t->protos, ElementsAre("RTP/SAVPF", "RTP/SAVP", "RTP/AVPF"));
  EXPECT_EQ(FormatTcap(*t), "1 RTP/SAVPF RTP/SAVP RTP/AVPF");
  EXPECT_EQ(ErrorOf(ParseTcap("1")), "tcap: needs <number> <proto>...");
  EXPECT_EQ(ErrorOf(ParseTcap("0 udptl")), "tcap: number '0' is not 1..2147483647");
  EXPECT_EQ(ErrorOf(ParseTcap("x udptl")), "tcap: number 'x' is not 1..2147483647");
  EXPECT_EQ(ErrorOf(ParseTcap("2147483647 a b")), "tcap: numbers beyond 2147483647");
  EXPECT_EQ(ErrorOf(ParseTcap("1 UDP//TLS")), "tcap: proto 'UDP//TLS' is not <token>/<token>...");
}

TEST(CapnegTest, Acap) {
  absl::StatusOr<AttributeCap> a =
      ParseAcap("2 fingerprint: SHA-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->number, 2u);
  EXPECT_EQ(a->attribute.name, "fingerprint");
  EXPECT_EQ(a->attribute.value,
            " SHA-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB");
  EXPECT_EQ(FormatAcap(*a),
            "2 fingerprint: SHA-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB");
  absl::StatusOr<AttributeCap> flag = ParseAcap("3 rtcp-mux");
  ASSERT_TRUE(flag.ok()) << flag.status();
  EXPECT_EQ(flag->attribute.value, std::nullopt);
  EXPECT_EQ(FormatAcap(*flag), "3 rtcp-mux");
  EXPECT_EQ(ErrorOf(ParseAcap("1")), "acap: needs <number> <attribute>");
  EXPECT_EQ(ErrorOf(ParseAcap("1 (x):y")), "acap: attribute name '(x)' is not a token");
}

TEST(CapnegTest, Pcfg) {
  absl::StatusOr<PotentialConfig> p = ParsePcfg("1 t=1|2 a=1,[2]|-m:3,[4,5] +x=9");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->number, 1u);
  EXPECT_THAT(p->transports, ElementsAre(1u, 2u));
  ASSERT_EQ(p->attribute_alternatives.size(), 2u);
  EXPECT_THAT(p->attribute_alternatives[0].mandatory, ElementsAre(1u));
  ASSERT_EQ(p->attribute_alternatives[0].optional_groups.size(), 1u);
  EXPECT_THAT(p->attribute_alternatives[0].optional_groups[0], ElementsAre(2u));
  EXPECT_EQ(p->attribute_alternatives[1].delete_attributes, DeleteAttributes::kMedia);
  EXPECT_THAT(p->attribute_alternatives[1].optional_groups[0], ElementsAre(4u, 5u));
  EXPECT_THAT(p->extensions, ElementsAre("+x=9"));
  EXPECT_EQ(FormatPcfg(*p), "1 t=1|2 a=1,[2]|-m:3,[4,5] +x=9");
  absl::StatusOr<PotentialConfig> only_optional = ParsePcfg("3 t=3 a=[2]");
  ASSERT_TRUE(only_optional.ok()) << only_optional.status();
  EXPECT_EQ(FormatPcfg(*only_optional), "3 t=3 a=[2]");
  absl::StatusOr<PotentialConfig> del = ParsePcfg("4 a=-ms");
  ASSERT_TRUE(del.ok()) << del.status();
  EXPECT_EQ(del->attribute_alternatives[0].delete_attributes, DeleteAttributes::kMediaAndSession);
  EXPECT_EQ(FormatPcfg(*del), "4 a=-ms");
  EXPECT_EQ(ErrorOf(ParsePcfg("1 a=1,[2")), "pcfg: '[' without ']' in '1,[2'");
  EXPECT_EQ(ErrorOf(ParsePcfg("1 a=-x:1")), "pcfg: delete marker '-x' is not -m, -s or -ms");
  EXPECT_EQ(ErrorOf(ParsePcfg("1 a=1,")), "pcfg: list ends in ','");
  EXPECT_EQ(ErrorOf(ParsePcfg("1 a=[1]x")), "pcfg: expected ',' at 'x'");
  EXPECT_EQ(ErrorOf(ParsePcfg("1 t=1 t=2")), "pcfg: second t= list");
  EXPECT_EQ(ErrorOf(ParsePcfg("1 t=")), "pcfg: number '' is not 1..2147483647");
  EXPECT_EQ(ErrorOf(ParsePcfg("1 junk")), "pcfg: 'junk' is not t=, a= or <ext>=");
  EXPECT_EQ(ErrorOf(ParsePcfg("")), "pcfg: needs a number");
}

TEST(CapnegTest, AcfgAndOptionTags) {
  absl::StatusOr<ActualConfig> a = ParseAcfg("1 t=1 a=1,2");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->transport, 1u);
  EXPECT_THAT(a->attributes->mandatory, ElementsAre(1u, 2u));
  EXPECT_EQ(FormatAcfg(*a), "1 t=1 a=1,2");
  ActualConfig built;
  built.number = 2;
  built.transport = 3;
  EXPECT_EQ(FormatAcfg(built), "2 t=3");
  EXPECT_EQ(ErrorOf(ParseAcfg("1 t=1 t=2")), "acfg: second t=");
  EXPECT_THAT(*ParseOptionTags("med-v0, foo"), ElementsAre("med-v0", "foo"));
  EXPECT_EQ(FormatOptionTags({"med-v0", "foo"}), "med-v0,foo");
  EXPECT_EQ(ErrorOf(ParseOptionTags("a,,b")), "option tag '' is not a token (csup/creq)");
}

// RFC 5939 example 4.1 (via reSIProcate): three potential configurations.
TEST(CapnegTest, ResolvesRfc5939Example41) {
  T38_REQUIRE_VECTORS();
  absl::StatusOr<SessionDescription> sd = ParseSdp(testing::ReadFileText(
      testing::VectorsDir() + "/sdp/rfc/rfc5939_ex4.1_via_resiprocate.sdp"));
  ASSERT_TRUE(sd.ok()) << sd.status();
  absl::StatusOr<std::vector<ResolvedConfig>> configs =
      ResolvePotentialConfigs(*sd, sd->media.at(0));
  ASSERT_TRUE(configs.ok()) << configs.status();
  ASSERT_EQ(configs->size(), 3u);
  EXPECT_EQ((*configs)[0].proto, "RTP/SAVPF");
  EXPECT_EQ((*configs)[0].attributes.at(0).name, "crypto");
  EXPECT_EQ((*configs)[0].optional_attributes.at(0), (Attribute{"rtcp-fb", "0 nack"}));
  EXPECT_EQ((*configs)[1].proto, "RTP/SAVP");
  EXPECT_TRUE((*configs)[1].optional_attributes.empty());
  EXPECT_EQ((*configs)[2].proto, "RTP/AVPF");
  EXPECT_TRUE((*configs)[2].attributes.empty());
  EXPECT_THAT((*configs)[2].attribute_numbers, ElementsAre(2u));
}

// RFC 5939 example 4.2: session-level tcap/acap used by a media-level pcfg.
TEST(CapnegTest, ResolvesRfc5939Example42SessionLevelCaps) {
  T38_REQUIRE_VECTORS();
  absl::StatusOr<SessionDescription> sd = ParseSdp(testing::ReadFileText(
      testing::VectorsDir() + "/sdp/rfc/rfc5939_ex4.2_dtls_fallback_via_resiprocate.sdp"));
  ASSERT_TRUE(sd.ok()) << sd.status();
  absl::StatusOr<std::vector<ResolvedConfig>> configs =
      ResolvePotentialConfigs(*sd, sd->media.at(0));
  ASSERT_TRUE(configs.ok()) << configs.status();
  ASSERT_EQ(configs->size(), 2u);
  EXPECT_EQ((*configs)[0].proto, "UDP/TLS/RTP/SAVP");
  EXPECT_EQ((*configs)[0].attributes,
            (std::vector<Attribute>{{"setup", "actpass"},
                                    {"fingerprint",
                                     " SHA-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:"
                                     "E5:7C:AB"}}));
  EXPECT_EQ((*configs)[1].proto, "RTP/SAVP");
  EXPECT_EQ((*configs)[1].attributes.at(0).name, "crypto");
}

// RFC 7345 section 5.4: udptl offered, UDP/TLS/UDPTL as the preferred potential configuration.
TEST(CapnegTest, ResolvesT38DtlsFallbackOffer) {
  absl::StatusOr<SessionDescription> sd = ParseSdp(
      testing::ReadFileText(testing::TestDataDir() + "/sdp/t38_dtls_capneg_offer.sdp"));
  ASSERT_TRUE(sd.ok()) << sd.status();
  absl::StatusOr<std::vector<ResolvedConfig>> configs =
      ResolvePotentialConfigs(*sd, sd->media.at(0));
  ASSERT_TRUE(configs.ok()) << configs.status();
  ASSERT_EQ(configs->size(), 1u);
  const ResolvedConfig& c = (*configs)[0];
  EXPECT_EQ(c.config_number, 1u);
  EXPECT_EQ(c.transport_number, 1u);
  EXPECT_EQ(c.proto, "UDP/TLS/UDPTL");
  ASSERT_EQ(c.attributes.size(), 2u);
  EXPECT_EQ(c.attributes[0], (Attribute{"setup", "actpass"}));
  EXPECT_EQ(c.attributes[1].name, "fingerprint");
  ASSERT_EQ(c.optional_attributes.size(), 1u);
  EXPECT_EQ(c.optional_attributes[0].name, "tls-id");
}

TEST(CapnegTest, ResolveOrderAndErrors) {
  SessionDescription sd;
  MediaDescription m;
  m.proto = "udptl";
  m.attributes = {{"tcap", "1 UDP/TLS/UDPTL"},
                  {"acap", "1 setup:actpass"},
                  {"pcfg", "2 a=1"},
                  {"pcfg", "1 t=1"}};
  absl::StatusOr<std::vector<ResolvedConfig>> configs = ResolvePotentialConfigs(sd, m);
  ASSERT_TRUE(configs.ok()) << configs.status();
  ASSERT_EQ(configs->size(), 2u);
  EXPECT_EQ((*configs)[0].config_number, 1u);
  EXPECT_EQ((*configs)[0].proto, "UDP/TLS/UDPTL");
  EXPECT_EQ((*configs)[1].config_number, 2u);
  EXPECT_EQ((*configs)[1].proto, "udptl");  // no t=: the m= line's proto
  EXPECT_EQ((*configs)[1].transport_number, std::nullopt);

  m.attributes.push_back({"pcfg", "3 t=7"});
  EXPECT_EQ(ErrorOf(ResolvePotentialConfigs(sd, m)), "pcfg: 3 refers to tcap 7, which is not defined");
  m.attributes.back() = {"pcfg", "3 a=9"};
  EXPECT_EQ(ErrorOf(ResolvePotentialConfigs(sd, m)), "pcfg: 3 refers to acap 9, which is not defined");
  // t= x a= alternatives are capped.
  std::string big = "4 t=1";
  for (int i = 0; i < 20; ++i) big += "|1";
  big += " a=1";
  for (int i = 0; i < 20; ++i) big += "|1";
  m.attributes.back() = {"pcfg", big};
  EXPECT_EQ(ErrorOf(ResolvePotentialConfigs(sd, m)), "pcfg: more than 256 potential configurations");
}

}  // namespace
}  // namespace t38relay::control::sdp
