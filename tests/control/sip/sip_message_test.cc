// Tests of control/sip: SIP parsing and SDP extraction over RFC 4475's torture messages and the
// hand-made messages of tests/data/sip.
#include "control/sip/sip_message.h"

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace t38relay::control::sip {
namespace {

using ::t38relay::testing::ReadFileText;
using ::t38relay::testing::TestDataDir;
using ::t38relay::testing::VectorsDir;

std::string DataFile(std::string_view name) {
  return ReadFileText(TestDataDir() + "/sip/" + std::string(name));
}

std::string Rfc4475(std::string_view name) {
  return ReadFileText(VectorsDir() + "/sip/rfc4475/" + std::string(name) + ".dat");
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// What this parser must do with each RFC 4475 message, as far as its scope goes: the start line,
// header syntax of what it reads (Call-ID, From, To, CSeq, Content-Length, Content-Type,
// Content-Encoding), and the body.
enum class Expect {
  kSdp,         // parses, and the body is the SDP
  kNoSdp,       // parses, but carries no application/sdp body
  kReject,      // ParseSipMessage fails with `error` in its message
};

struct TortureCase {
  const char* file;
  Expect expect;
  const char* error;  // kReject: a part of the message
};

const TortureCase kTortureCases[] = {
    // 3.1.1.1 A Short Tortuous INVITE: folding, blanks before ':', compact forms, odd LWS.
    {"wsinv", Expect::kSdp, ""},
    // 3.1.1.2 Wide Range of Valid Characters (NUL, BEL, DEL as quoted-pairs in To).
    {"intmeth", Expect::kNoSdp, ""},
    // 3.1.1.3 Valid Use of the % Escaping Mechanism.
    {"esc01", Expect::kSdp, ""},
    // 3.1.1.4 Escaped Nulls in URIs.
    {"escnull", Expect::kNoSdp, ""},
    // 3.1.1.5 Use of % When It Is Not an Escape.
    {"esc02", Expect::kNoSdp, ""},
    // 3.1.1.6 Message with No LWS between Display Name and <.
    {"lwsdisp", Expect::kNoSdp, ""},
    // 3.1.1.7 Long Values in Header Fields.
    {"longreq", Expect::kSdp, ""},
    // 3.1.1.8 Extra Trailing Octets in a UDP Datagram: Content-Length 0 cuts the second request.
    {"dblreq", Expect::kNoSdp, ""},
    // 3.1.1.9 Semicolon-Separated Parameters in URI User Part.
    {"semiuri", Expect::kNoSdp, ""},
    // 3.1.1.10 Varied and Unknown Transport Types.
    {"transports", Expect::kNoSdp, ""},
    // 3.1.1.11 Multipart MIME Message (text/plain and application/octet-stream, no SDP).
    {"mpart01", Expect::kNoSdp, ""},
    // 3.1.1.12 Unusual Reason Phrase (UTF-8).
    {"unreason", Expect::kSdp, ""},
    // 3.1.1.13 Empty Reason Phrase.
    {"noreason", Expect::kNoSdp, ""},
    // 3.1.2.1 Extraneous Header Field Separators: only in Via and Contact, which this parser does
    // not read, so out of scope; the body is fine.
    {"badinv01", Expect::kSdp, ""},
    // 3.1.2.2 Content Length Larger Than Message.
    {"clerr", Expect::kReject, "Content-Length 9999 but the body has"},
    // 3.1.2.3 Negative Content-Length.
    {"ncl", Expect::kReject, "Content-Length \"-999\" is not a number"},
    // 3.1.2.4 Request Scalar Fields with Overlarge Values (CSeq).
    {"scalar02", Expect::kReject, "CSeq \"36893488147419103232\" is larger than 2^31-1"},
    // 3.1.2.5 Response Scalar Fields with Overlarge Values (CSeq).
    {"scalarlg", Expect::kReject, "CSeq \"9292394834772304023312\" is larger than 2^31-1"},
    // 3.1.2.6 Unterminated Quoted String in Display Name (To).
    {"quotbal", Expect::kReject, "To: unterminated quoted string in the display name"},
    // 3.1.2.7 <> Enclosing Request-URI.
    {"ltgtruri", Expect::kReject, "line 1: bad Request-URI"},
    // 3.1.2.8 Malformed SIP Request-URI (embedded LWS).
    {"lwsruri", Expect::kReject, "line 1: request line"},
    // 3.1.2.9 Multiple SP Separating Request-Line Elements.
    {"lwsstart", Expect::kReject, "line 1: request line"},
    // 3.1.2.10 SP Characters at End of Request-Line.
    {"trws", Expect::kReject, "line 1: request line"},
    // 3.1.2.11 Escaped Headers in SIP Request-URI: URI semantics, out of scope.
    {"escruri", Expect::kSdp, ""},
    // 3.1.2.12 Invalid Time Zone in Date Header Field: Date is not read, out of scope.
    {"baddate", Expect::kSdp, ""},
    // 3.1.2.13 Failure to Enclose name-addr URI in <>: in Contact, not read, out of scope.
    {"regbadct", Expect::kNoSdp, ""},
    // 3.1.2.14 Spaces within addr-spec (To).
    {"badaspec", Expect::kReject, "To: URI \" sip:t.watson@example.org \" contains blanks"},
    // 3.1.2.15 Non-token Characters in Display Name (From).
    {"baddn", Expect::kReject, "From: a display name with characters other than tokens"},
    // 3.1.2.16 Unknown Protocol Version.
    {"badvers", Expect::kReject, "line 1: unsupported SIP version \"SIP/7.0\""},
    // 3.1.2.17 Start Line and CSeq Method Mismatch.
    {"mismatch01", Expect::kReject, "CSeq method \"INVITE\" does not match"},
    // 3.1.2.18 Unknown Method with CSeq Method Mismatch.
    {"mismatch02", Expect::kReject, "CSeq method \"INVITE\" does not match"},
    // 3.1.2.19 Overlarge Response Code.
    {"bigcode", Expect::kReject, "line 1: status line"},
    // 3.2.1 Missing Transaction Identifier: transaction layer, out of scope.
    {"badbranch", Expect::kNoSdp, ""},
    // 3.3.1 Missing Required Header Fields (Call-ID, From, To).
    {"insuf", Expect::kReject, "missing Call-ID header"},
    // 3.3.2 Request-URI with Unknown Scheme.
    {"unkscm", Expect::kNoSdp, ""},
    // 3.3.3 Request-URI with Known but Atypical Scheme.
    {"novelsc", Expect::kNoSdp, ""},
    // 3.3.4 Unknown URI Schemes in Header Fields.
    {"unksm2", Expect::kNoSdp, ""},
    // 3.3.5 Proxy-Require and Require.
    {"bext01", Expect::kNoSdp, ""},
    // 3.3.6 Unknown Content-Type.
    {"invut", Expect::kNoSdp, ""},
    // 3.3.7 Unknown Authorization Scheme.
    {"regaut01", Expect::kNoSdp, ""},
    // 3.3.8 Multiple Values in Single Value Required Fields.
    {"multi01", Expect::kReject, "more than one Call-ID header"},
    // 3.3.9 Multiple Content-Length Values.
    {"mcl01", Expect::kReject, "Content-Length given twice with different values (13 and 5)"},
    // 3.3.10 200 OK Response with Broadcast Via Header Field Value.
    {"bcast", Expect::kSdp, ""},
    // 3.3.11 Max-Forwards of Zero.
    {"zeromf", Expect::kNoSdp, ""},
    // 3.3.12 REGISTER with a Contact Header Parameter.
    {"cparam01", Expect::kNoSdp, ""},
    // 3.3.13 REGISTER with a url-parameter.
    {"cparam02", Expect::kNoSdp, ""},
    // 3.3.14 REGISTER with a URL Escaped Header.
    {"regescrt", Expect::kNoSdp, ""},
    // 3.3.15 Unacceptable Accept Offering.
    {"sdp01", Expect::kSdp, ""},
    // 3.4.1 INVITE with RFC 2543 Syntax (no tags, no Content-Length: body to the end).
    {"inv2543", Expect::kSdp, ""},
    // Not from RFC 4475 (php-sip's own fixture): a request line without the SIP version.
    {"test", Expect::kReject, "line 1: request line"},
};

TEST(SipRfc4475Test, EveryMessageAsTheTableSays) {
  T38_REQUIRE_VECTORS();
  for (const TortureCase& c : kTortureCases) {
    SCOPED_TRACE(c.file);
    const std::string bytes = Rfc4475(c.file);
    ASSERT_FALSE(bytes.empty());
    absl::StatusOr<SipMessage> m = ParseSipMessage(bytes);
    absl::StatusOr<ExtractedSdp> extracted = ExtractFromBody(bytes);
    if (c.expect == Expect::kReject) {
      ASSERT_FALSE(m.ok());
      EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(Message(m.status()).find(c.error), std::string::npos) << m.status();
      ASSERT_FALSE(extracted.ok());
      EXPECT_NE(Message(extracted.status()).find(c.error), std::string::npos)
          << extracted.status();
      continue;
    }
    ASSERT_TRUE(m.ok()) << m.status();
    absl::StatusOr<std::string> sdp = ExtractSdp(*m);
    if (c.expect == Expect::kNoSdp) {
      ASSERT_FALSE(sdp.ok());
      EXPECT_EQ(sdp.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(Message(sdp.status()).find("the message has no application/sdp body"),
                std::string::npos)
          << sdp.status();
      EXPECT_FALSE(extracted.ok());
      continue;
    }
    ASSERT_TRUE(sdp.ok()) << sdp.status();
    EXPECT_EQ(sdp->substr(0, 5), "v=0\r\n");
    const std::optional<std::string_view> length = m->Header("l");
    if (length.has_value()) {
      EXPECT_EQ(std::to_string(sdp->size()), *length);
    }
    ASSERT_TRUE(extracted.ok()) << extracted.status();
    EXPECT_EQ(extracted->sdp, *sdp);
    ASSERT_TRUE(extracted->sip.has_value());
    EXPECT_EQ(extracted->sip->call_id, m->call_id);
  }
}

// Every .dat file is in the table (a new vector file must be classified) and none crashes.
TEST(SipRfc4475Test, TableCoversEveryFile) {
  T38_REQUIRE_VECTORS();
  const std::string listing =
      ::t38relay::testing::Shell("ls " + VectorsDir() + "/sip/rfc4475/ | grep '\\.dat$'");
  size_t files = 0;
  size_t start = 0;
  while (start < listing.size()) {
    size_t end = listing.find('\n', start);
    if (end == std::string::npos) end = listing.size();
    std::string name = listing.substr(start, end - start);
    start = end + 1;
    if (name.empty()) continue;
    ++files;
    name.resize(name.size() - 4);
    bool found = false;
    for (const TortureCase& c : kTortureCases) found = found || name == c.file;
    EXPECT_TRUE(found) << name << ".dat is not in kTortureCases";
  }
  EXPECT_EQ(files, std::size(kTortureCases));
}

TEST(SipRfc4475Test, TortuousInviteValues) {
  T38_REQUIRE_VECTORS();
  absl::StatusOr<SipMessage> m = ParseSipMessage(Rfc4475("wsinv"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->is_request);
  EXPECT_EQ(m->method, "INVITE");
  EXPECT_EQ(m->request_uri, "sip:vivekg@chair-dnrc.example.com;unknownparam");
  EXPECT_EQ(m->call_id, "wsinv.ndaksdj@192.0.2.1");
  EXPECT_EQ(m->to.uri, "sip:vivekg@chair-dnrc.example.com");
  EXPECT_EQ(m->to.tag, "1918181833n");
  EXPECT_EQ(m->from.display_name, "J Rosenberg \\\"");
  EXPECT_EQ(m->from.uri, "sip:jdrosen@example.com");
  EXPECT_EQ(m->from.tag, "98asjd8");
  EXPECT_EQ(m->cseq.number, 9u);
  EXPECT_EQ(m->cseq.method, "INVITE");
  EXPECT_EQ(m->body.size(), 150u);
  // "v:" and "Via" are the same header; "s :" (Subject) is empty.
  EXPECT_EQ(m->HeaderValues("via").size(), 2u);
  EXPECT_EQ(m->HeaderValues("V").size(), 2u);
  ASSERT_TRUE(m->Header("Subject").has_value());
  EXPECT_EQ(*m->Header("subject"), "");
  EXPECT_EQ(*m->Header("NewFangledHeader"), "newfangled value continued newfangled value");
  EXPECT_EQ(*m->Header("m"), "\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam = "
                             "newvalue ; secondparam ; q = 0.33");
}

TEST(SipRfc4475Test, ResponsesAndOddCharacters) {
  T38_REQUIRE_VECTORS();
  absl::StatusOr<SipMessage> noreason = ParseSipMessage(Rfc4475("noreason"));
  ASSERT_TRUE(noreason.ok()) << noreason.status();
  EXPECT_FALSE(noreason->is_request);
  EXPECT_EQ(noreason->status_code, 100);
  EXPECT_EQ(noreason->reason_phrase, "");
  EXPECT_EQ(noreason->method, "");
  EXPECT_EQ(noreason->to.tag, "902jndnke3");

  absl::StatusOr<SipMessage> intmeth = ParseSipMessage(Rfc4475("intmeth"));
  ASSERT_TRUE(intmeth.ok()) << intmeth.status();
  EXPECT_EQ(intmeth->method, "!interesting-Method0123456789_*+`.%indeed'~");
  EXPECT_EQ(intmeth->to.display_name, std::string("BEL:\x07 NUL:\0 DEL:\x7f", 17));
  EXPECT_EQ(intmeth->from.display_name, "token1~` token2'+_ token3*%!.-");
  EXPECT_EQ(intmeth->from.tag, "_token~1'+`*%!-.");
  EXPECT_EQ(intmeth->call_id, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
  EXPECT_EQ(intmeth->cseq.number, 139122385u);

  absl::StatusOr<SipMessage> dblreq = ParseSipMessage(Rfc4475("dblreq"));
  ASSERT_TRUE(dblreq.ok()) << dblreq.status();
  EXPECT_EQ(dblreq->call_id, "dblreq.0ha0isndaksdj99sdfafnl3lk233412");
  EXPECT_EQ(dblreq->body, "");

  absl::StatusOr<SipMessage> inv2543 = ParseSipMessage(Rfc4475("inv2543"));
  ASSERT_TRUE(inv2543.ok()) << inv2543.status();
  EXPECT_EQ(inv2543->from.tag, "");
  EXPECT_EQ(inv2543->from.uri, "sip:+13035551111@ift.client.example.net;user=phone");
  EXPECT_EQ(inv2543->to.uri, "sip:+16505552222@ss1.example.net");

  absl::StatusOr<SipMessage> mpart = ParseSipMessage(Rfc4475("mpart01"));
  ASSERT_TRUE(mpart.ok()) << mpart.status();
  ASSERT_TRUE(mpart->content_type.has_value());
  EXPECT_TRUE(mpart->content_type->Is("multipart", "mixed"));
  EXPECT_EQ(mpart->content_type->Parameter("BOUNDARY"), "7a9cbec02ceef655");
  EXPECT_EQ(mpart->body.size(), 553u);
}

TEST(SipMessageTest, InviteWithSdp) {
  const std::string bytes = DataFile("invite_sdp.sip");
  absl::StatusOr<SipMessage> m = ParseSipMessage(bytes);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->method, "INVITE");
  EXPECT_EQ(m->request_uri, "sip:fax@192.0.2.20:5060");
  EXPECT_EQ(m->HeaderValues("Min-SE"), std::vector<std::string_view>{"181"});
  absl::StatusOr<ExtractedSdp> e = ExtractFromBody(bytes);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->sdp.substr(0, 5), "v=0\r\n");
  EXPECT_NE(e->sdp.find("m=audio 9000 RTP/AVP 0 18 101\r\n"), std::string::npos);
  EXPECT_TRUE(e->sdp.ends_with("\r\na=rtpmap:101 telephone-event/101\r\n"));
  ASSERT_TRUE(e->sip.has_value());
  EXPECT_EQ(e->sip->call_id, "1-1234@192.0.2.10");
  EXPECT_EQ(e->sip->from_tag, "1234SIPpTag001");
  EXPECT_EQ(e->sip->to_tag, "");
  EXPECT_EQ(e->sip->cseq, 101u);
  EXPECT_EQ(e->sip->cseq_method, "INVITE");
  EXPECT_EQ(e->sip->method, "INVITE");
  EXPECT_EQ(e->sip->status_code, 0);
}

TEST(SipMessageTest, ReInviteWithT38) {
  absl::StatusOr<ExtractedSdp> e = ExtractFromBody(DataFile("reinvite_t38.sip"));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_NE(e->sdp.find("m=image 4389 udptl t38\r\na=T38FaxVersion:0\r\n"), std::string::npos);
  EXPECT_EQ(e->sdp.size(), 280u);
  ASSERT_TRUE(e->sip.has_value());
  EXPECT_EQ(e->sip->from_tag, "1234SIPpTag001");
  EXPECT_EQ(e->sip->to_tag, "as5d3f0a1c");
  EXPECT_EQ(e->sip->cseq, 102u);
}

TEST(SipMessageTest, OkWithMultipartMixed) {
  const std::string bytes = DataFile("ok_multipart.sip");
  absl::StatusOr<SipMessage> m = ParseSipMessage(bytes);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(m->is_request);
  EXPECT_EQ(m->status_code, 200);
  EXPECT_EQ(m->reason_phrase, "OK");
  EXPECT_EQ(m->from.display_name, "Alice \"A\" Example");
  EXPECT_EQ(m->from.tag, "1928301774");
  EXPECT_EQ(m->to.display_name, "Bob");
  EXPECT_EQ(m->to.tag, "a6c85cf");
  EXPECT_EQ(m->cseq.number, 314159u);
  ASSERT_TRUE(m->content_type.has_value());
  EXPECT_EQ(m->content_type->Parameter("boundary"), "unique-boundary-1");
  absl::StatusOr<ExtractedSdp> e = ExtractFromBody(bytes);
  ASSERT_TRUE(e.ok()) << e.status();
  // The part's content without the CRLF that belongs to the next delimiter.
  EXPECT_EQ(e->sdp.substr(0, 5), "v=0\r\n");
  EXPECT_TRUE(e->sdp.ends_with("\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n"));
  EXPECT_NE(e->sdp.find("m=image 6000 UDP/TLS/UDPTL t38\r\na=setup:active\r\n"),
            std::string::npos);
  EXPECT_EQ(e->sdp.find("--unique"), std::string::npos);
  ASSERT_TRUE(e->sip.has_value());
  EXPECT_EQ(e->sip->status_code, 200);
  EXPECT_EQ(e->sip->cseq_method, "INVITE");
  EXPECT_EQ(e->sip->to_tag, "a6c85cf");
}

TEST(SipMessageTest, NestedMultipart) {
  absl::StatusOr<ExtractedSdp> e = ExtractFromBody(DataFile("nested_multipart.sip"));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->sdp.substr(0, 5), "v=0\r\n");
  EXPECT_EQ(e->sdp.size(), 280u);  // the T.38 SDP of reinvite_t38.sip
  EXPECT_NE(e->sdp.find("m=image 4389 udptl t38"), std::string::npos);
}

TEST(SipMessageTest, MultipartWithoutBoundary) {
  absl::StatusOr<ExtractedSdp> e = ExtractFromBody(DataFile("multipart_no_boundary.sip"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(Message(e.status()), "SIP message: multipart/mixed without a boundary parameter");
}

TEST(SipMessageTest, CompactHeaders) {
  const std::string bytes = DataFile("compact.sip");
  absl::StatusOr<SipMessage> m = ParseSipMessage(bytes);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->call_id, "compact-1@198.51.100.1");
  EXPECT_EQ(m->from.display_name, "Alice");
  EXPECT_EQ(m->from.tag, "cmp-from");
  EXPECT_EQ(m->to.uri, "sip:fax@example.net");
  EXPECT_EQ(m->to.tag, "");
  EXPECT_EQ(*m->Header("Contact"), "<sip:alice@198.51.100.1>");
  EXPECT_EQ(*m->Header("SUPPORTED"), "timer");
  EXPECT_EQ(m->headers[0].name, "v");
  EXPECT_EQ(m->headers[0].full_name, "via");
  absl::StatusOr<std::string> sdp = ExtractSdp(*m);
  ASSERT_TRUE(sdp.ok()) << sdp.status();
  EXPECT_EQ(sdp->size(), 375u);
  EXPECT_NE(sdp->find("a=setup:actpass\r\n"), std::string::npos);
}

TEST(SipMessageTest, FoldedHeaders) {
  absl::StatusOr<SipMessage> m = ParseSipMessage(DataFile("folded.sip"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(*m->Header("Via"), "SIP/2.0/UDP 198.51.100.1:5060 ;branch=z9hG4bKfolded");
  EXPECT_EQ(m->from.display_name, "Alice");
  EXPECT_EQ(m->from.uri, "sip:alice@example.com");
  EXPECT_EQ(m->from.tag, "fold-from");
  EXPECT_EQ(m->cseq.number, 42u);
  EXPECT_EQ(m->cseq.method, "INVITE");
  ASSERT_TRUE(m->content_type.has_value());
  EXPECT_TRUE(m->content_type->Is("application", "sdp"));
  EXPECT_EQ(m->content_type->Parameter("charset"), "utf-8");
  EXPECT_TRUE(ExtractSdp(*m).ok());
}

TEST(SipMessageTest, LfOnlyLineEnds) {
  absl::StatusOr<ExtractedSdp> e = ExtractFromBody(DataFile("lf_only.sip"));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->sdp.substr(0, 4), "v=0\n");
  EXPECT_EQ(e->sdp.find('\r'), std::string::npos);
  EXPECT_EQ(e->sdp.size(), 269u);
  EXPECT_EQ(e->sip->call_id, "1-1234@192.0.2.10");
}

TEST(SipMessageTest, GzipRejected) {
  absl::StatusOr<ExtractedSdp> e = ExtractFromBody(DataFile("gzip.sip"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(Message(e.status()), "SIP message: unsupported Content-Encoding gzip");
}

TEST(SipMessageTest, DtlsInvite) {
  absl::StatusOr<ExtractedSdp> e = ExtractFromBody(DataFile("dtls_invite.sip"));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_NE(e->sdp.find("m=image 54111 UDP/TLS/UDPTL t38\r\n"), std::string::npos);
  EXPECT_EQ(e->sip->from_tag, "dtls-from");
}

TEST(SipMessageTest, ErrorsNameTheProblem) {
  struct Bad {
    std::string bytes;
    std::string error;
  };
  const std::string head =
      "INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
      "CSeq: 1 INVITE\r\n";
  const Bad cases[] = {
      {"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nno colon here\r\n\r\n",
       "line 3: header without ':'"},
      {head + "Content-Type: application/sdp\r\nContent-Length: 412\r\n\r\n" +
           std::string(300, 'x'),
       "Content-Length 412 but the body has 300 bytes"},
      {head + "Content-Length: 12a\r\n\r\n", "Content-Length \"12a\" is not a number"},
      {head + "l: 0\r\nContent-Length: 1\r\n\r\nx",
       "Content-Length given twice with different values (0 and 1)"},
      {" INVITE sip:a@b SIP/2.0\r\n\r\n", "line 1: request line"},
      {"INVITE sip:a@b SIP/2.0\r\n folded first\r\n\r\n",
       "line 2: continuation line without a header before it"},
      {"INVITE sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n", "line 2: bad header name \"Bad Name\""},
      {"INVITE sip:a@b SIP/2.0\r\nX: a\rb\r\n\r\n", "line 2: a CR that does not end the line"},
      {"SIP/2.0 099 Too Small\r\n\r\n", "line 1: status code 99 is outside 100..699"},
      {"SIP/2.0 2000 OK\r\n\r\n", "line 1: status line"},
      {"SIP/3.0 200 OK\r\n\r\n", "line 1: unsupported SIP version \"SIP/3.0\""},
      {"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nFrom: <sip:a@b>;tag=1\r\nCSeq: 1 INVITE\r\n\r\n",
       "missing To header"},
      {head + "Content-Type: sdp\r\n\r\n", "Content-Type \"sdp\": expected type/subtype"},
      {head + "Content-Type: application/sdp;x=\"open\r\n\r\n",
       "Content-Type: unterminated quoted string in parameter \"x\""},
      {"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nFrom: <sip:a@b;tag=1\r\nTo: <sip:c@d>\r\n"
       "CSeq: 1 INVITE\r\n\r\n",
       "From: missing '>'"},
      {"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nFrom: a@b;tag=1\r\nTo: <sip:c@d>\r\n"
       "CSeq: 1 INVITE\r\n\r\n",
       "From: URI \"a@b\" has no scheme"},
      {"INVITE sip:a@b SIP/2.0\r\nCall-ID: x y\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\n"
       "CSeq: 1 INVITE\r\n\r\n",
       "Call-ID \"x y\" is empty or contains blanks"},
      {head + "CSeq: 1 INVITE\r\n\r\n", "more than one CSeq header"},
      {"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nFrom: <sip:a@b>\r\nTo: <sip:c@d>\r\n"
       "CSeq: INVITE\r\n\r\n",
       "CSeq \"INVITE\": expected a number and a method"},
      {"", "line 1: empty start line"},
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(c.bytes);
    absl::StatusOr<SipMessage> m = ParseSipMessage(c.bytes);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(Message(m.status()).find(c.error), std::string::npos) << m.status();
  }
}

TEST(SipMessageTest, Caps) {
  const std::string head =
      "INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
      "CSeq: 1 INVITE\r\n";
  absl::StatusOr<SipMessage> big =
      ParseSipMessage(head + "\r\n" + std::string(kMaxSipMessageBytes, 'x'));
  ASSERT_FALSE(big.ok());
  EXPECT_NE(Message(big.status()).find("bytes (at most 65536)"), std::string::npos);

  std::string many = head;
  for (int i = 0; i < 260; ++i) many += "X: y\r\n";
  absl::StatusOr<SipMessage> headers = ParseSipMessage(many + "\r\n");
  ASSERT_FALSE(headers.ok());
  EXPECT_EQ(Message(headers.status()), "more than 256 headers");

  absl::StatusOr<SipMessage> line =
      ParseSipMessage(head + "X: " + std::string(8200, 'a') + "\r\n\r\n");
  ASSERT_FALSE(line.ok());
  EXPECT_EQ(Message(line.status()), "line 6: header line longer than 8192 bytes");

  std::string folded = head + "X: a\r\n";
  for (int i = 0; i < 100; ++i) folded += " " + std::string(100, 'b') + "\r\n";
  absl::StatusOr<SipMessage> fold = ParseSipMessage(folded + "\r\n");
  ASSERT_FALSE(fold.ok());
  EXPECT_NE(Message(fold.status()).find("longer than 8192 bytes"), std::string::npos);
}

std::string Sip(std::string_view content_type, std::string_view body) {
  return "SIP/2.0 200 OK\r\nCall-ID: m\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\n"
         "CSeq: 5 INVITE\r\nContent-Type: " +
         std::string(content_type) + "\r\n\r\n" + std::string(body);
}

TEST(SipMultipartTest, Cases) {
  struct Case {
    std::string content_type;
    std::string body;
    std::string sdp_or_error;
    bool ok;
  };
  const std::string sdp = "v=0\r\ns=-\r\n";
  const Case cases[] = {
      // No trailing CRLF after the close delimiter, no preamble.
      {"multipart/mixed;boundary=b",
       "--b\r\nContent-Type: application/sdp\r\n\r\n" + sdp + "\r\n--b--", sdp, true},
      // The SDP's own last CRLF kept; the delimiter's CRLF not.
      {"multipart/mixed; boundary=\"b c\"",
       "--b c\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b c\r\nc: application/sdp\r\n\r\n" +
           sdp + "\r\n--b c--\r\n",
       sdp, true},
      // A line that only starts with the delimiter is content.
      {"multipart/mixed;boundary=b",
       "--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--bx\r\n--b--\r\n",
       "v=0\r\n--bx\r\n",
       true},
      {"multipart/mixed;boundary=b", "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n",
       "the message has no application/sdp body", false},
      {"multipart/mixed;boundary=b", "--b\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n",
       "multipart/mixed body without the closing --b--", false},
      {"multipart/mixed;boundary=b", "no delimiter at all\r\n",
       "multipart/mixed body without a --b delimiter line", false},
      {"multipart/mixed;boundary=b", "--b\r\nbroken header\r\n\r\nx\r\n--b--\r\n",
       "part 1: line 1: header without ':'", false},
      {"multipart/mixed;boundary=b",
       "--b\r\nContent-Type: application/sdp\r\nContent-Encoding: gzip\r\n\r\nx\r\n--b--\r\n",
       "part 1: unsupported Content-Encoding gzip", false},
      {"multipart/mixed;boundary=b",
       "--b\r\nContent-Type: application/sdp\r\nContent-Transfer-Encoding: base64\r\n\r\nx\r\n"
       "--b--\r\n",
       "part 1: unsupported Content-Transfer-Encoding base64", false},
      {"multipart/mixed;boundary=" + std::string(71, 'b'), "",
       "boundary must be 1 to 70 characters", false},
      // Depth 4: refused.
      {"multipart/mixed;boundary=a",
       "--a\r\nContent-Type: multipart/mixed;boundary=b\r\n\r\n"
       "--b\r\nContent-Type: multipart/mixed;boundary=c\r\n\r\n"
       "--c\r\nContent-Type: multipart/mixed;boundary=d\r\n\r\n"
       "--d\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--d--\r\n--c--\r\n--b--\r\n--a--\r\n",
       "multipart nested deeper than 3 levels", false},
      // Depth 3: fine.
      {"multipart/mixed;boundary=a",
       "--a\r\nContent-Type: multipart/mixed;boundary=b\r\n\r\n"
       "--b\r\nContent-Type: multipart/mixed;boundary=c\r\n\r\n"
       "--c\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--c--\r\n--b--\r\n--a--\r\n",
       "v=0\r\n", true},
      {"application/sdp", sdp, sdp, true},
      {"text/plain", sdp, "the message has no application/sdp body", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.content_type + " | " + c.body);
    absl::StatusOr<ExtractedSdp> e = ExtractFromBody(Sip(c.content_type, c.body));
    if (c.ok) {
      ASSERT_TRUE(e.ok()) << e.status();
      EXPECT_EQ(e->sdp, c.sdp_or_error);
    } else {
      ASSERT_FALSE(e.ok());
      EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(Message(e.status()).find(c.sdp_or_error), std::string::npos) << e.status();
    }
  }
}

TEST(SdpFromBodyTest, BareSdpAndErrors) {
  absl::StatusOr<std::string> sdp = SdpFromBody("\r\n\nv=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n");
  ASSERT_TRUE(sdp.ok()) << sdp.status();
  EXPECT_EQ(*sdp, "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n");
  absl::StatusOr<ExtractedSdp> e = ExtractFromBody("v=0\n");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->sip.has_value());

  absl::StatusOr<std::string> bad = SdpFromBody("hello world\r\nmore");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(Message(bad.status()),
            "expected SDP (starting with \"v=\") or a SIP request/response, got \"hello world\"");
  EXPECT_FALSE(SdpFromBody("").ok());
  EXPECT_FALSE(SdpFromBody("\r\n\r\n").ok());
  // A SIP message after blank lines is still a SIP message.
  absl::StatusOr<ExtractedSdp> sip = ExtractFromBody("\r\n" + Sip("application/sdp", "v=0\r\n"));
  ASSERT_TRUE(sip.ok()) << sip.status();
  EXPECT_EQ(sip->sdp, "v=0\r\n");
  EXPECT_EQ(sip->sip->to_tag, "2");
  // A SIP message without a body has no SDP.
  absl::StatusOr<std::string> empty = SdpFromBody(
      "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\n"
      "CSeq: 3 BYE\r\nContent-Length: 0\r\n\r\n");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(Message(empty.status()), "SIP message: the message has no application/sdp body");
}

TEST(SdpFromBodyTest, LooksLikeSip) {
  EXPECT_TRUE(LooksLikeSipMessage("SIP/2.0 200 OK\r\n"));
  EXPECT_TRUE(LooksLikeSipMessage("\r\nINVITE sip:a@b SIP/2.0\r\n"));
  EXPECT_TRUE(LooksLikeSipMessage("INVITE sip:a@b\r\n"));
  EXPECT_TRUE(LooksLikeSipMessage("options sip:a@b sip/2.0\r\n"));
  EXPECT_FALSE(LooksLikeSipMessage("v=0\r\n"));
  EXPECT_FALSE(LooksLikeSipMessage("hello world\r\n"));
}

TEST(NameAddressTest, Forms) {
  absl::StatusOr<NameAddress> a = ParseNameAddress("\"A \\\\ B\" <sip:a@b;lr>;Tag=x1;q=\"1;2\"");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->display_name, "A \\ B");
  EXPECT_EQ(a->uri, "sip:a@b;lr");
  EXPECT_EQ(a->tag, "x1");
  absl::StatusOr<NameAddress> b = ParseNameAddress("sip:a@b ; tag = y2");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->display_name, "");
  EXPECT_EQ(b->uri, "sip:a@b");
  EXPECT_EQ(b->tag, "y2");
  absl::StatusOr<NameAddress> c = ParseNameAddress("<sip:a@b>;x=1;tag=\"q r\"");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(Message(c.status()), "name-addr: tag \"q r\" is not a token");
  EXPECT_FALSE(ParseNameAddress("<sip:a@b>;;tag=1").ok());
  EXPECT_FALSE(ParseNameAddress("").ok());
  EXPECT_FALSE(ParseNameAddress("<>").ok());
}

TEST(MediaTypeTest, Parse) {
  absl::StatusOr<MediaType> t = ParseMediaType(" Multipart / Mixed ; Boundary = \"a\\\"b\" ;x=y");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->type, "multipart");
  EXPECT_EQ(t->subtype, "mixed");
  ASSERT_EQ(t->parameters.size(), 2u);
  EXPECT_EQ(t->parameters[0].first, "boundary");
  EXPECT_EQ(t->parameters[0].second, "a\"b");
  EXPECT_EQ(t->Parameter("X"), "y");
  EXPECT_EQ(t->Parameter("z"), std::nullopt);
  EXPECT_FALSE(ParseMediaType("application/").ok());
  EXPECT_FALSE(ParseMediaType("application/sdp x").ok());
}

TEST(CanonicalHeaderNameTest, CompactForms) {
  // RFC 3261 section 7.3.3 and the compact forms later RFCs registered.
  const std::pair<const char*, const char*> kForms[] = {
      {"i", "call-id"},         {"M", "contact"},         {"e", "content-encoding"},
      {"l", "content-length"},  {"c", "content-type"},    {"f", "from"},
      {"s", "subject"},         {"k", "supported"},       {"t", "to"},
      {"v", "via"},             {"o", "event"},           {"u", "allow-events"},
      {"r", "refer-to"},        {"b", "referred-by"},     {"x", "session-expires"},
      {"y", "identity"},        {"a", "accept-contact"},  {"Content-Length", "content-length"},
      {"q", "q"},
  };
  for (const auto& [name, canonical] : kForms) {
    EXPECT_EQ(CanonicalHeaderName(name), canonical) << name;
  }
}

}  // namespace
}  // namespace t38relay::control::sip
