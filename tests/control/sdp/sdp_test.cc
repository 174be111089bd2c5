// Tests of the SDP parser and writer: every outside vector, RFC 7345 appendix A, hostile input.
#include "control/sdp/sdp.h"

#include <filesystem>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "control/sdp/attributes.h"
#include "control/sdp/t38_params.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace t38relay::control::sdp {
namespace {

using ::testing::HasSubstr;
using ::testing::ElementsAre;

namespace fs = std::filesystem;

std::vector<fs::path> SdpFiles(const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".sdp") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ErrorOf(std::string_view text) {
  absl::StatusOr<SessionDescription> sd = ParseSdp(text);
  EXPECT_FALSE(sd.ok()) << "parsed: " << text;
  return sd.ok() ? "" : std::string(sd.status().message());
}

// Lines ending in bare LF get CR before the LF; a missing final line end is added.
std::string ToCrlf(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out.push_back('\r');
    out.push_back(text[i]);
  }
  if (!out.empty() && !out.ends_with("\r\n")) out.append("\r\n");
  return out;
}

// Not in canonical order (so WriteSdp reorders them), each with why.
const std::set<std::string> kNotCanonical = {
    // reSIProcate swapped c= and t= relative to RFC 5939 (see rfc/SOURCE.txt).
    "rfc5939_ex4.1_via_resiprocate.sdp",
    "rfc5939_ex4.2_dtls_fallback_via_resiprocate.sdp",
    // sdp-transform fixtures with t= before c=.
    "extmap-encrypt.sdp",
    "normal.sdp",
    "simulcast.sdp",
    // sdp-transform fixtures with c= before s=.
    "mediaclk-avbtp.sdp",
    "mediaclk-ptp-v2-w-rate.sdp",
    "mediaclk-ptp-v2.sdp",
    "mediaclk-rtp.sdp",
};

// Every file under sdp/rfc and sdp/sdp-transform parses; the writer round-trips all of them, byte
// for byte where the file is CRLF-terminated and canonical.
TEST(SdpVectorsTest, RfcAndSdpTransformParseAndRoundTrip) {
  T38_REQUIRE_VECTORS();
  int parsed = 0;
  int byte_exact = 0;
  for (const char* sub : {"sdp/rfc", "sdp/sdp-transform"}) {
    for (const fs::path& path : SdpFiles(testing::VectorsDir() + "/" + sub)) {
      const std::string name = path.filename().string();
      const std::string text = testing::ReadFileText(path.string());
      if (name == "invalid.sdp") {
        // sdp-transform's deliberately broken fixture: an f= line. RFC 8866 section 5 says a
        // session description with an unknown type letter is ignored whole, so it must fail.
        EXPECT_EQ(ErrorOf(text), "line 10: unknown type 'f='");
        continue;
      }
      absl::StatusOr<SessionDescription> sd = ParseSdp(text);
      ASSERT_TRUE(sd.ok()) << sub << "/" << name << ": " << sd.status();
      ++parsed;
      const std::string written = WriteSdp(*sd);
      absl::StatusOr<SessionDescription> again = ParseSdp(written);
      ASSERT_TRUE(again.ok()) << name << ": " << again.status();
      EXPECT_EQ(*again, *sd) << name;
      // LF-only files are compared in their CRLF form.
      if (!kNotCanonical.contains(name)) {
        EXPECT_EQ(written, ToCrlf(text)) << name;
        ++byte_exact;
      }
    }
  }
  EXPECT_EQ(parsed, 28);  // 4 + 25 files, less invalid.sdp
  EXPECT_EQ(byte_exact, 28 - static_cast<int>(kNotCanonical.size()));
}

// The real fax call's SDP bodies are H.248 Local/Remote descriptors: several SDP blocks, o=/s=
// optional, "$" for CHOOSE, Megaco braces around them.
TEST(SdpVectorsTest, RealworldH248DescriptorsParseAndRoundTrip) {
  T38_REQUIRE_VECTORS();
  int files = 0;
  int blocks = 0;
  int image = 0;
  for (const fs::path& path : SdpFiles(testing::VectorsDir() + "/sdp/realworld")) {
    const std::string text = testing::ReadFileText(path.string());
    absl::StatusOr<std::vector<SessionDescription>> sds = ParseH248Sdp(text);
    ASSERT_TRUE(sds.ok()) << path << ": " << sds.status();
    ++files;
    ParseOptions h248;
    h248.allow_missing_origin = true;
    for (const SessionDescription& sd : *sds) {
      ++blocks;
      absl::StatusOr<SessionDescription> again = ParseSdp(WriteSdp(sd), h248);
      ASSERT_TRUE(again.ok()) << path << ": " << again.status();
      EXPECT_EQ(*again, sd) << path;
      for (const MediaDescription& m : sd.media) {
        if (m.media == "image") {
          ++image;
          EXPECT_THAT(m.formats, ElementsAre("t38")) << path;
          EXPECT_TRUE(absl::EqualsIgnoreCase(m.proto, "udptl")) << path;
        }
      }
    }
  }
  EXPECT_EQ(files, 24);
  EXPECT_GT(blocks, files);
  EXPECT_GT(image, 10);
}

TEST(SdpVectorsTest, RealworldChoosePortAndAddress) {
  T38_REQUIRE_VECTORS();
  const std::string text =
      testing::ReadFileText(testing::VectorsDir() + "/sdp/realworld/faxcall_frame21.sdp");
  absl::StatusOr<std::vector<SessionDescription>> sds = ParseH248Sdp(text);
  ASSERT_TRUE(sds.ok()) << sds.status();
  ASSERT_EQ(sds->size(), 2u);
  const SessionDescription& fax = (*sds)[1];
  EXPECT_FALSE(fax.origin.has_value());
  ASSERT_EQ(fax.media.size(), 1u);
  EXPECT_EQ(fax.media[0].media, "image");
  EXPECT_EQ(fax.media[0].port, std::nullopt);
  EXPECT_EQ(fax.media[0].proto, "udptl");
  ASSERT_TRUE(fax.connection.has_value());
  EXPECT_EQ(fax.connection->address, "$");
  EXPECT_EQ(WriteSdp(fax), "v=0\r\nc=IN IP4 $\r\nm=image $ udptl t38\r\n");
}

TEST(SdpVectorsTest, RealworldPlainSdpIsByteExact) {
  T38_REQUIRE_VECTORS();
  // A bare SIP-side SDP body from the capture.
  const std::string text =
      testing::ReadFileText(testing::VectorsDir() + "/sdp/realworld/faxcall_frame1400.sdp");
  absl::StatusOr<SessionDescription> sd = ParseSdp(text);
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(WriteSdp(*sd), text);
  ASSERT_EQ(sd->media.size(), 1u);
  EXPECT_EQ(sd->media[0].port, 15580);
  EXPECT_EQ(sd->origin->address, "138.132.169.101");
}

// RFC 7345 appendix A, copied into tests/data/sdp with the "\" continuations joined.
TEST(SdpRfc7345Test, AppendixA2Offer) {
  const std::string text = testing::ReadFileText(testing::TestDataDir() + "/sdp/rfc7345_a2_offer.sdp");
  absl::StatusOr<SessionDescription> sd = ParseSdp(text);
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(WriteSdp(*sd), text);
  EXPECT_EQ(sd->origin->session_id, "1181923068");
  EXPECT_EQ(SessionVersionNumber(*sd->origin), 1181923196u);
  EXPECT_EQ(sd->connection->address, "ua1.example.com");
  ASSERT_EQ(sd->media.size(), 1u);
  const MediaDescription& m = sd->media[0];
  EXPECT_EQ(m.media, "image");
  EXPECT_EQ(m.port, 6056);
  EXPECT_EQ(m.proto, "UDP/TLS/UDPTL");
  EXPECT_THAT(m.formats, ElementsAre("t38"));
  absl::StatusOr<std::optional<SetupRole>> setup = GetSetupRole(*sd, m);
  ASSERT_TRUE(setup.ok()) << setup.status();
  EXPECT_EQ(*setup, SetupRole::kActpass);
  absl::StatusOr<std::vector<Fingerprint>> fps = GetFingerprints(*sd, m);
  ASSERT_TRUE(fps.ok()) << fps.status();
  ASSERT_EQ(fps->size(), 1u);
  EXPECT_EQ((*fps)[0].hash_function, "sha-1");
  EXPECT_EQ(FormatFingerprint((*fps)[0]),
            "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB");
  absl::StatusOr<T38Params> t38 = ParseT38Params(m);
  ASSERT_TRUE(t38.ok()) << t38.status();
  EXPECT_EQ(t38->rate_management, T38RateManagement::kTransferredTcf);
  EXPECT_EQ(t38->version, std::nullopt);
}

TEST(SdpRfc7345Test, AppendixA2Answer) {
  const std::string text =
      testing::ReadFileText(testing::TestDataDir() + "/sdp/rfc7345_a2_answer.sdp");
  absl::StatusOr<SessionDescription> sd = ParseSdp(text);
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(WriteSdp(*sd), text);
  const MediaDescription& m = sd->media.at(0);
  EXPECT_EQ(m.port, 12000);
  EXPECT_EQ(m.proto, "UDP/TLS/UDPTL");
  EXPECT_EQ(*GetSetupRole(*sd, m), SetupRole::kActive);
  absl::StatusOr<std::vector<Fingerprint>> fps = GetFingerprints(*sd, m);
  ASSERT_TRUE(fps.ok()) << fps.status();
  EXPECT_EQ(fps->at(0).digest.at(0), 0xff);
  EXPECT_EQ(fps->at(0).digest.size(), 20u);
}

TEST(SdpRfc7345Test, AppendixA3ReplacesAudio) {
  for (const char* name : {"rfc7345_a3_offer.sdp", "rfc7345_a3_answer.sdp"}) {
    const std::string text = testing::ReadFileText(testing::TestDataDir() + "/sdp/" + name);
    absl::StatusOr<SessionDescription> sd = ParseSdp(text);
    ASSERT_TRUE(sd.ok()) << name << ": " << sd.status();
    EXPECT_EQ(WriteSdp(*sd), text) << name;
    ASSERT_EQ(sd->media.size(), 2u);
    EXPECT_EQ(sd->media[0].media, "audio");
    EXPECT_EQ(sd->media[0].port, 0);
    EXPECT_EQ(sd->media[0].proto, "UDP/TLS/RTP/SAVP");
    EXPECT_TRUE(sd->media[0].attributes.empty());
    EXPECT_EQ(sd->media[1].proto, "UDP/TLS/UDPTL");
    EXPECT_EQ(ParseT38Params(sd->media[1])->rate_management, T38RateManagement::kTransferredTcf);
  }
}

TEST(SdpParseTest, FullModel) {
  const std::string text =
      "v=0\r\n"
      "o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1\r\n"
      "s=Call\r\n"
      "i=info\r\n"
      "u=http://x.example/\r\n"
      "e=a@example.com\r\n"
      "e=b@example.com\r\n"
      "p=+1 555\r\n"
      "c=IN IP4 198.51.100.1\r\n"
      "b=AS:128\r\n"
      "t=0 0\r\n"
      "r=604800 3600 0 90000\r\n"
      "t=3 4\r\n"
      "z=2882844526 -1h\r\n"
      "k=prompt\r\n"
      "a=recvonly\r\n"
      "a=tool:x y\r\n"
      "a=empty:\r\n"
      "m=image 5000/2 UDP/TLS/UDPTL t38\r\n"
      "i=fax\r\n"
      "c=IN IP6 2001:db8::2\r\n"
      "c=IN IP6 2001:db8::3\r\n"
      "b=TIAS:64000\r\n"
      "k=clear:x\r\n"
      "a=T38FaxVersion:0\r\n";
  absl::StatusOr<SessionDescription> sd = ParseSdp(text);
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(WriteSdp(*sd), text);
  EXPECT_EQ(sd->origin->username, "jdoe");
  EXPECT_EQ(sd->origin->addr_type, "IP4");
  EXPECT_EQ(*sd->session_name, "Call");
  EXPECT_THAT(sd->emails, ElementsAre("a@example.com", "b@example.com"));
  ASSERT_EQ(sd->timings.size(), 2u);
  EXPECT_THAT(sd->timings[0].repeats, ElementsAre("604800 3600 0 90000"));
  EXPECT_EQ(sd->bandwidths[0].type, "AS");
  EXPECT_EQ(sd->bandwidths[0].value, "128");
  ASSERT_EQ(sd->attributes.size(), 3u);
  EXPECT_EQ(sd->attributes[0], (Attribute{"recvonly", std::nullopt}));
  EXPECT_EQ(sd->attributes[1], (Attribute{"tool", "x y"}));
  EXPECT_EQ(sd->attributes[2], (Attribute{"empty", ""}));
  const MediaDescription& m = sd->media.at(0);
  EXPECT_EQ(m.port, 5000);
  EXPECT_EQ(m.port_count, 2);
  EXPECT_EQ(m.connections.size(), 2u);
  EXPECT_EQ(*m.key, "clear:x");
  EXPECT_EQ(EffectiveConnection(*sd, m)->address, "2001:db8::2");
}

TEST(SdpParseTest, LfLineEndsMissingFinalEndAndTrailingBlankLines) {
  absl::StatusOr<SessionDescription> a = ParseSdp("v=0\no=- 1 2 IN IP4 h\ns=-\nm=image 9 udptl t38");
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<SessionDescription> b =
      ParseSdp("v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nm=image 9 udptl t38\r\n\r\n\n");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(WriteSdp(*a), "v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nm=image 9 udptl t38\r\n");
}

TEST(SdpParseTest, LenientSessionLineOrder) {
  // c= after t=, attributes before c=: accepted, written back in RFC order.
  absl::StatusOr<SessionDescription> sd =
      ParseSdp("v=0\r\ns=-\r\no=- 1 2 IN IP4 h\r\nt=0 0\r\na=x\r\nc=IN IP4 h\r\n");
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(WriteSdp(*sd), "v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\na=x\r\n");
}

TEST(SdpParseTest, Errors) {
  EXPECT_EQ(ErrorOf(""), "SDP is empty");
  EXPECT_EQ(ErrorOf("\r\n\r\n"), "SDP is empty");
  EXPECT_EQ(ErrorOf("v=1\r\n"), "line 1: must be v=0");
  EXPECT_EQ(ErrorOf("o=- 1 2 IN IP4 h\r\nv=0\r\n"), "line 1: must be v=0");
  EXPECT_EQ(ErrorOf("v=0\r\ns=-\r\n"), "SDP has no o= line");
  EXPECT_EQ(ErrorOf("v=0\r\no=- 1 2 IN IP4 h\r\n"), "SDP has no s= line");
  const std::string head = "v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\n";
  EXPECT_EQ(ErrorOf(head + "m=image 9 udptl\r\n"),
            "line 4: m= needs <media> <port> <proto> <fmt>...");
  EXPECT_EQ(ErrorOf(head + "m=image 65536 udptl t38\r\n"), "line 4: m= port '65536' is not 0..65535");
  EXPECT_EQ(ErrorOf(head + "m=image -1 udptl t38\r\n"), "line 4: m= port '-1' is not 0..65535");
  EXPECT_EQ(ErrorOf(head + "m=image 9/x udptl t38\r\n"), "line 4: m= port count 'x' is not 0..65535");
  EXPECT_EQ(ErrorOf(head + "x=1\r\n"), "line 4: unknown type 'x='");
  EXPECT_EQ(ErrorOf(head + "A=1\r\n"), "line 4: expected <type>=<value> with a lower-case type letter");
  EXPECT_EQ(ErrorOf(head + "a\r\n"), "line 4: expected <type>=<value> with a lower-case type letter");
  EXPECT_EQ(ErrorOf(head + "\r\na=x\r\n"), "line 4: empty line");
  EXPECT_EQ(ErrorOf(head + "a=bad name\r\n"), "line 4: a= attribute name 'bad name' is not a token");
  EXPECT_EQ(ErrorOf(head + "a=\r\n"), "line 4: a= attribute name '' is not a token");
  EXPECT_EQ(ErrorOf(head + "o=- 1 2 IN IP4 h\r\n"), "line 4: second o= at session level");
  EXPECT_EQ(ErrorOf(head + "s=x\r\n"), "line 4: second s= at session level");
  EXPECT_EQ(ErrorOf(head + "v=0\r\n"), "line 4: second v= (v= comes once, first)");
  EXPECT_EQ(ErrorOf(head + "r=1 2\r\n"), "line 4: r= without a t= before it");
  EXPECT_EQ(ErrorOf(head + "t=now 0\r\n"), "line 4: t= needs <start-time> <stop-time> (numbers)");
  EXPECT_EQ(ErrorOf(head + "c=IN IP4\r\n"), "line 4: c= needs <nettype> <addrtype> <connection-address>");
  EXPECT_EQ(ErrorOf(head + "b=AS\r\n"), "line 4: b= needs <bwtype>:<bandwidth> (a number)");
  EXPECT_EQ(ErrorOf(head + "m=image 9 udptl t38\r\no=- 1 2 IN IP4 h\r\n"),
            "line 5: o= is not allowed in a media section (m= at line 4)");
  EXPECT_EQ(ErrorOf(head + "m=image 9 udptl t38\r\ni=a\r\ni=b\r\n"),
            "line 6: second i= in a media section");
  EXPECT_EQ(ErrorOf("v=0\r\no=- x 2 IN IP4 h\r\ns=-\r\n"), "line 2: o= sess-id 'x' is not a number");
  EXPECT_EQ(ErrorOf("v=0\r\no=- 1 2 IN IP4\r\ns=-\r\n"),
            "line 2: o= needs <username> <sess-id> <sess-version> <nettype> <addrtype> <address>");
}

TEST(SdpParseTest, HostileInput) {
  const std::string head = "v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\n";
  // NUL, CR in the middle of a line, other control characters: named with line and column.
  EXPECT_EQ(ErrorOf(head + std::string("s=a\0b\r\n", 7)), "line 4: control character 0x00 at column 4");
  EXPECT_EQ(ErrorOf(head + "a=x\ry\r\n"), "line 4: control character 0x0d at column 4");
  EXPECT_EQ(ErrorOf(head + "a=x\x1b\r\n"), "line 4: control character 0x1b at column 4");
  EXPECT_EQ(ErrorOf(head + "a=x\x7f\r\n"), "line 4: control character 0x7f at column 4");
  EXPECT_TRUE(ParseSdp(head + "a=tab:\tx\r\n").ok());
  // Size, line, media and attribute caps.
  EXPECT_EQ(ErrorOf(std::string(kMaxSdpBytes + 1, 'a')), "SDP is 65537 bytes, more than the 65536 allowed");
  std::string many = head;
  while (many.size() < 10000) many += "a=x\r\n";
  while (many.size() < 20000) many += "e=\r\n";  // over 2048 lines, under 64 KiB
  EXPECT_EQ(ErrorOf(many), "SDP has more than 2048 lines");
  std::string attrs = head;
  for (size_t i = 0; i <= kMaxAttributesPerSection; ++i) attrs += "a=x\r\n";
  EXPECT_EQ(ErrorOf(attrs), "line 516: more than 512 attributes in one section");
  std::string media = head;
  for (size_t i = 0; i <= kMaxMediaSections; ++i) media += "m=image 9 udptl t38\r\n";
  EXPECT_EQ(ErrorOf(media), "line 68: more than 64 media sections");
  // Binary garbage and truncated lines never crash.
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  EXPECT_FALSE(ParseSdp(junk).ok());
  EXPECT_FALSE(ParseSdp("v=0\r\no=").ok());
  EXPECT_FALSE(ParseH248Sdp("}}}}").ok());
  EXPECT_EQ(ParseH248Sdp("}}}}").status().message(), "no SDP block (no v= line)");
  EXPECT_EQ(ParseH248Sdp("c=IN IP4 h\r\n").status().message(),
            "line 1: expected v= to start an SDP block");
}

TEST(SdpParseTest, H248Framing) {
  absl::StatusOr<std::vector<SessionDescription>> sds =
      ParseH248Sdp("v=0\r\nm=audio $ RTP/AVP 8\r\n},R{v=0\r\nc=IN IP4 h\r\nm=image 0 udptl t38\r\n }  } ,r { \r\n");
  ASSERT_TRUE(sds.ok()) << sds.status();
  ASSERT_EQ(sds->size(), 2u);
  EXPECT_EQ((*sds)[1].media.at(0).port, 0);
  // Without the H.248 option, missing o= is refused.
  EXPECT_EQ(ErrorOf("v=0\r\nm=image 9 udptl t38\r\n"), "SDP has no o= line");
}

TEST(SdpModelTest, AttributeHelpers) {
  MediaDescription m;
  m.AddAttribute("T38FaxVersion", "0");
  m.AddAttribute("setup", "actpass");
  m.AddAttribute("T38faxversion", "3");
  EXPECT_EQ(m.FindAttribute("T38FAXVERSION")->value, "0");
  EXPECT_EQ(m.FindAttributes("t38faxversion").size(), 2u);
  EXPECT_EQ(m.FindAttribute("SETUP"), nullptr);  // non-T38 names are case-sensitive
  m.SetAttribute("t38FaxVersion", "1");
  ASSERT_EQ(m.attributes.size(), 2u);
  EXPECT_EQ(m.attributes[0], (Attribute{"T38FaxVersion", "1"}));
  m.SetAttribute("fingerprint", "sha-256 00");
  EXPECT_EQ(m.attributes.back().name, "fingerprint");
  EXPECT_EQ(m.RemoveAttributes("setup"), 1u);
  EXPECT_FALSE(m.HasAttribute("setup"));

  SessionDescription sd;
  sd.attributes = {{"setup", "passive"}, {"fingerprint", "a"}, {"fingerprint", "b"},
                   {"sendonly", std::nullopt}};
  MediaDescription media;
  EXPECT_EQ(FindMediaOrSessionAttribute(sd, media, "setup")->value, "passive");
  EXPECT_EQ(FindMediaOrSessionAttributes(sd, media, "fingerprint").size(), 2u);
  EXPECT_EQ(FindMediaOrSessionAttribute(sd, media, "sendonly"), nullptr);
  media.AddAttribute("fingerprint", "c");
  ASSERT_EQ(FindMediaOrSessionAttributes(sd, media, "fingerprint").size(), 1u);
  EXPECT_EQ(FindMediaOrSessionAttributes(sd, media, "fingerprint")[0]->value, "c");
  EXPECT_EQ(EffectiveConnection(sd, media), nullptr);
}

TEST(SdpModelTest, SessionVersionNumber) {
  Origin o;
  o.session_version = "18446744073709551615";
  EXPECT_EQ(SessionVersionNumber(o), 18446744073709551615u);
  o.session_version = "18446744073709551616";
  EXPECT_EQ(SessionVersionNumber(o), std::nullopt);
}

}  // namespace
}  // namespace t38relay::control::sdp
