// Tests of the fingerprint, setup, connection, tls-id and ICE attribute codecs.
#include "control/sdp/attributes.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace t38relay::control::sdp {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

template <typename T>
std::string ErrorOf(const absl::StatusOr<T>& r) {
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : std::string(r.status().message());
}
std::string ErrorOf(const absl::Status& s) { return std::string(s.message()); }

constexpr std::string_view kSha256 =
    "sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:"
    "D0:A1:2C:19:08";

TEST(FingerprintTest, ParsesAndFormats) {
  absl::StatusOr<Fingerprint> fp = ParseFingerprint(kSha256);
  ASSERT_TRUE(fp.ok()) << fp.status();
  EXPECT_EQ(fp->hash_function, "sha-256");
  ASSERT_EQ(fp->digest.size(), 32u);
  EXPECT_EQ(fp->digest[0], 0x6b);
  EXPECT_EQ(fp->digest[31], 0x08);
  EXPECT_EQ(FormatFingerprint(*fp), kSha256);
  // Upper-case hash name, leading blank (RFC 7345's own examples), lower-case hex.
  absl::StatusOr<Fingerprint> sha1 =
      ParseFingerprint(" SHA-1 4a:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB");
  ASSERT_TRUE(sha1.ok()) << sha1.status();
  EXPECT_EQ(FormatFingerprint(*sha1),
            "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB");
  // An unknown hash is kept as text with any digest length.
  absl::StatusOr<Fingerprint> other = ParseFingerprint("sha3-256 01:02");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->hash_function, "sha3-256");
  EXPECT_EQ(FingerprintDigestSize("SHA-512"), 64u);
  EXPECT_EQ(FingerprintDigestSize("sha3-256"), std::nullopt);
}

TEST(FingerprintTest, Errors) {
  EXPECT_EQ(ErrorOf(ParseFingerprint("")), "fingerprint: needs <hash-func> <XX:XX:...> (two fields)");
  EXPECT_EQ(ErrorOf(ParseFingerprint("sha-256")),
            "fingerprint: needs <hash-func> <XX:XX:...> (two fields)");
  EXPECT_EQ(ErrorOf(ParseFingerprint("sha-1 4A:AD:B9")), "fingerprint: sha-1 digest must be 20 bytes, got 3");
  EXPECT_EQ(ErrorOf(ParseFingerprint("sha-1 4A:ZZ")), "fingerprint: bad hex byte 'ZZ' at 2");
  EXPECT_EQ(ErrorOf(ParseFingerprint("sha-1 4A::AD")), "fingerprint: bad hex byte '' at 2");
  EXPECT_EQ(ErrorOf(ParseFingerprint("sha-1 4AD")), "fingerprint: bad hex byte '4AD' at 1");
  EXPECT_EQ(ErrorOf(ParseFingerprint("sh(a 4A")), "fingerprint: hash function 'sh(a' is not a token");
  std::string longest = "x";
  for (int i = 0; i < 65; ++i) longest += i == 0 ? " 00" : ":00";
  EXPECT_EQ(ErrorOf(ParseFingerprint(longest)), "fingerprint: digest longer than 64 bytes");
}

TEST(FingerprintTest, GetFingerprintsFallsBackToSession) {
  SessionDescription sd;
  sd.attributes = {{"fingerprint", std::string(kSha256)},
                   {"fingerprint", "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB"}};
  MediaDescription m;
  absl::StatusOr<std::vector<Fingerprint>> fps = GetFingerprints(sd, m);
  ASSERT_TRUE(fps.ok()) << fps.status();
  ASSERT_EQ(fps->size(), 2u);
  EXPECT_EQ((*fps)[1].hash_function, "sha-1");
  m.AddAttribute("fingerprint", "sha-256 00");
  EXPECT_EQ(ErrorOf(GetFingerprints(sd, m)), "fingerprint: sha-256 digest must be 32 bytes, got 1");
  m.attributes = {{"fingerprint", std::nullopt}};
  EXPECT_EQ(ErrorOf(GetFingerprints(sd, m)), "fingerprint: needs a value");
}

TEST(SetupTest, ParsesEveryRole) {
  EXPECT_EQ(*ParseSetupRole("active"), SetupRole::kActive);
  EXPECT_EQ(*ParseSetupRole("passive"), SetupRole::kPassive);
  EXPECT_EQ(*ParseSetupRole("ACTPASS"), SetupRole::kActpass);
  EXPECT_EQ(*ParseSetupRole("holdconn"), SetupRole::kHoldconn);
  EXPECT_EQ(SetupRoleName(SetupRole::kActpass), "actpass");
  EXPECT_EQ(ErrorOf(ParseSetupRole("both")),
            "setup: unknown role 'both' (active, passive, actpass, holdconn)");
  SessionDescription sd;
  MediaDescription m;
  EXPECT_EQ(*GetSetupRole(sd, m), std::nullopt);
  sd.attributes = {{"setup", "passive"}};
  EXPECT_EQ(*GetSetupRole(sd, m), SetupRole::kPassive);
  m.AddAttribute("setup", "active");
  EXPECT_EQ(*GetSetupRole(sd, m), SetupRole::kActive);
  m.attributes = {{"setup", "x"}};
  EXPECT_EQ(ErrorOf(GetSetupRole(sd, m)), "setup: unknown role 'x' (active, passive, actpass, holdconn)");
}

TEST(ConnectionTest, NewAndExisting) {
  EXPECT_EQ(*ParseConnectionValue("new"), ConnectionValue::kNew);
  EXPECT_EQ(*ParseConnectionValue("existing"), ConnectionValue::kExisting);
  EXPECT_EQ(ConnectionValueName(ConnectionValue::kExisting), "existing");
  EXPECT_EQ(ErrorOf(ParseConnectionValue("old")), "connection: unknown value 'old' (new, existing)");
}

TEST(TlsIdTest, Rfc8842Grammar) {
  EXPECT_TRUE(ValidateTlsId("abcdefghij+/-_0123456").ok());
  EXPECT_TRUE(ValidateTlsId(std::string(255, 'a')).ok());
  EXPECT_EQ(ErrorOf(ValidateTlsId("short")), "tls-id: length 5, must be 20..255");
  EXPECT_EQ(ErrorOf(ValidateTlsId(std::string(256, 'a'))), "tls-id: length 256, must be 20..255");
  EXPECT_EQ(ErrorOf(ValidateTlsId("abcdefghij=0123456789")),
            "tls-id: character '=' at 11 is not ALPHA, DIGIT, '+', '/', '-' or '_'");
}

TEST(IceTest, UfragPwdOptions) {
  EXPECT_TRUE(ValidateIceUfrag("F7gI").ok());
  EXPECT_EQ(ErrorOf(ValidateIceUfrag("abc")), "ice-ufrag: length 3, must be 4..256");
  EXPECT_EQ(ErrorOf(ValidateIceUfrag("ab-c")),
            "ice-ufrag: character '-' at 3 is not ALPHA, DIGIT, '+' or '/'");
  EXPECT_TRUE(ValidateIcePwd("x9cml/YzichV2+XlhiMu8g").ok());
  EXPECT_EQ(ErrorOf(ValidateIcePwd("x9cml/YzichV2+XlhiMu8")), "ice-pwd: length 21, must be 22..256");
  EXPECT_THAT(*ParseIceOptions("trickle google-ice"), ElementsAre("trickle", "google-ice"));
  EXPECT_EQ(FormatIceOptions({"trickle", "ice2"}), "trickle ice2");
  EXPECT_EQ(ErrorOf(ParseIceOptions(" ")), "ice-options: needs at least one option tag");
}

TEST(IceTest, Candidate) {
  const std::string text =
      "2 1 UDP 1686052607 203.0.113.1 54402 typ srflx raddr 192.168.1.145 rport 54402 "
      "generation 0 network-id 3";
  absl::StatusOr<IceCandidate> c = ParseIceCandidate(text);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->foundation, "2");
  EXPECT_EQ(c->component, 1u);
  EXPECT_EQ(c->transport, "UDP");
  EXPECT_EQ(c->priority, 1686052607u);
  EXPECT_EQ(c->address, "203.0.113.1");
  EXPECT_EQ(c->port, 54402);
  EXPECT_EQ(c->type, "srflx");
  EXPECT_EQ(c->related_address, "192.168.1.145");
  EXPECT_EQ(c->related_port, 54402);
  EXPECT_THAT(c->extensions, ElementsAre(Pair("generation", "0"), Pair("network-id", "3")));
  EXPECT_EQ(FormatIceCandidate(*c), text);
  absl::StatusOr<IceCandidate> host = ParseIceCandidate("a+/1 256 tcp 4294967295 ::1 0 typ host");
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_EQ(host->related_address, std::nullopt);
  EXPECT_EQ(FormatIceCandidate(*host), "a+/1 256 tcp 4294967295 ::1 0 typ host");
}

TEST(IceTest, CandidateErrors) {
  EXPECT_EQ(ErrorOf(ParseIceCandidate("1 1 udp 1 h 1 typ")),
            "candidate: needs <foundation> <component> <transport> <priority> <address> <port> "
            "typ <type>");
  EXPECT_EQ(ErrorOf(ParseIceCandidate("1 0 udp 1 h 1 typ host")), "candidate: component '0' is not 1..256");
  EXPECT_EQ(ErrorOf(ParseIceCandidate("1 257 udp 1 h 1 typ host")),
            "candidate: component '257' is not 1..256");
  EXPECT_EQ(ErrorOf(ParseIceCandidate("1 1 udp 4294967296 h 1 typ host")),
            "candidate: priority '4294967296' is not 0..4294967295");
  EXPECT_EQ(ErrorOf(ParseIceCandidate("1 1 udp 1 h 65536 typ host")),
            "candidate: port '65536' is not 0..65535");
  EXPECT_EQ(ErrorOf(ParseIceCandidate("1 1 udp 1 h 1 type host")),
            "candidate: expected 'typ' as field 7, got 'type'");
  EXPECT_EQ(ErrorOf(ParseIceCandidate("1 1 udp 1 h 1 typ host generation")),
            "candidate: extension 'generation' has no value");
  EXPECT_EQ(ErrorOf(ParseIceCandidate("1 1 udp 1 h 1 typ srflx raddr h rport x")),
            "candidate: rport 'x' is not 0..65535");
  EXPECT_EQ(ErrorOf(ParseIceCandidate("a-b 1 udp 1 h 1 typ host")),
            "candidate: foundation 'a-b' must be 1..32 of ALPHA, DIGIT, '+' or '/'");
}

TEST(IceTest, GetAndSetParams) {
  SessionDescription sd;
  sd.attributes = {{"ice-lite", std::nullopt},
                   {"ice-ufrag", "F7gI"},
                   {"ice-pwd", "x9cml/YzichV2+XlhiMu8g"}};
  MediaDescription m;
  m.attributes = {{"candidate", "0 1 UDP 2113667327 203.0.113.1 54400 typ host"},
                  {"end-of-candidates", std::nullopt}};
  absl::StatusOr<IceParams> p = GetIceParams(sd, m);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->lite);
  EXPECT_EQ(p->ufrag, "F7gI");
  EXPECT_EQ(p->pwd, "x9cml/YzichV2+XlhiMu8g");
  ASSERT_EQ(p->candidates.size(), 1u);
  EXPECT_TRUE(p->end_of_candidates);

  IceParams mine;
  mine.ufrag = "abcd";
  mine.pwd = "0123456789012345678901";
  mine.lite = true;
  mine.candidates.push_back(*ParseIceCandidate("1 1 udp 2130706431 192.0.2.1 40000 typ host"));
  mine.end_of_candidates = true;
  SessionDescription out_sd;
  MediaDescription out_m;
  SetIceParams(mine, &out_sd, &out_m);
  EXPECT_EQ(out_sd.attributes, (std::vector<Attribute>{{"ice-lite", std::nullopt}}));
  absl::StatusOr<IceParams> back = GetIceParams(out_sd, out_m);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, mine);

  MediaDescription half;
  half.attributes = {{"ice-ufrag", "abcd"}};
  EXPECT_EQ(ErrorOf(GetIceParams(SessionDescription{}, half)), "ice-ufrag without ice-pwd");
}

}  // namespace
}  // namespace t38relay::control::sdp
