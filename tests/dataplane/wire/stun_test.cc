// Tests of the STUN codec: RFC 5769 vectors, browser requests, nDPI captures, malformed input, builder.
#include "dataplane/wire/stun.h"

// For truncated MESSAGE-INTEGRITY-SHA256 values the builder does not make. wolfSSL headers only.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hmac.h>

#include <array>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace t38relay::dataplane {

// Failures print "stun-bad-fingerprint", not a byte.
void PrintTo(WireError e, std::ostream* os) { *os << WireErrorName(e); }

namespace {

using ::t38relay::testing::FromHex;
using ::t38relay::testing::ReadFileBytes;
using ::t38relay::testing::ReadFileText;
using ::t38relay::testing::TestDataDir;
using ::t38relay::testing::VectorsDir;

// RFC 5769 section 2 (and vectors/stun/SOURCE.txt).
constexpr std::string_view kShortTermPassword = "VOkJxbRl1RmTxUk/WvJxBt";
constexpr std::string_view kTransactionId = "b7e7a701bc34d686fa87dfae";  // sections 2.1-2.3
constexpr std::string_view kLongTermTransactionId = "78ad3433c6ad72c029da412e";
// U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9 in UTF-8.
constexpr std::string_view kLongTermUsername =
    "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf\xe3\x82\xb9";
constexpr std::string_view kRealm = "example.org";
constexpr std::string_view kNonce = "f//499k954d6OL34oL9FSTvy64sA";
constexpr std::string_view kPreparedPassword = "TheMatrIX";  // SASLprep("The\u00adM\u00aatr\u2168")

Bytes Str(std::string_view s) { return Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }
std::string_view Text(Bytes b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

std::vector<uint8_t> StunVector(const std::string& name) {
  return ReadFileBytes(VectorsDir() + "/stun/" + name);
}

const std::vector<std::string>& VectorNames() {
  static const std::vector<std::string> names = {
      "rfc5769_2.1_request_shortterm.bin", "rfc5769_2.2_response_ipv4.bin",
      "rfc5769_2.3_response_ipv6.bin", "rfc5769_2.4_request_longterm.bin"};
  return names;
}

std::vector<uint16_t> Types(const StunMessage& m) {
  std::vector<uint16_t> types;
  for (const StunAttribute& a : m.attribute_list()) types.push_back(a.type);
  return types;
}

SocketAddress V4(uint32_t ip, uint16_t port) { return SocketAddress{IpAddress::V4(ip), port}; }

SocketAddress Rfc5769V6() {
  const std::vector<uint8_t> ip = FromHex("20010db8123456780011223344556677");
  return SocketAddress{IpAddress::V6Bytes(ip.data()), 32853};
}

// Builds into a 1500-byte buffer and returns the message (empty on failure).
template <typename F>
std::vector<uint8_t> Build(StunClass c, uint16_t method, Bytes transaction_id, F add) {
  std::vector<uint8_t> buf(1500);
  StunBuilder b(buf, c, method, transaction_id);
  add(b);
  size_t length = 0;
  const WireError e = b.Finish(&length);
  EXPECT_EQ(e, WireError::kOk) << WireErrorName(e);
  buf.resize(e == WireError::kOk ? length : 0);
  return buf;
}

// Sets the header length to cover everything after the header.
void FixLength(std::vector<uint8_t>* m) {
  const size_t n = m->size() - kStunHeaderSize;
  (*m)[2] = static_cast<uint8_t>(n >> 8);
  (*m)[3] = static_cast<uint8_t>(n);
}

void AppendAttribute(std::vector<uint8_t>* m, uint16_t type, std::vector<uint8_t> value) {
  m->push_back(static_cast<uint8_t>(type >> 8));
  m->push_back(static_cast<uint8_t>(type));
  m->push_back(static_cast<uint8_t>(value.size() >> 8));
  m->push_back(static_cast<uint8_t>(value.size()));
  m->insert(m->end(), value.begin(), value.end());
  while (m->size() % 4 != 0) m->push_back(0);
  FixLength(m);
}

TEST(StunTest, Rfc5769ShortTermRequest) {
  T38_REQUIRE_VECTORS();
  const std::vector<uint8_t> bytes = StunVector("rfc5769_2.1_request_shortterm.bin");
  ASSERT_TRUE(IsStunMessage(bytes));
  EXPECT_FALSE(IsClassicStunMessage(bytes));
  StunMessage m;
  ASSERT_EQ(ParseStun(bytes, &m), WireError::kOk);
  EXPECT_EQ(m.message_class, StunClass::kRequest);
  EXPECT_EQ(m.method, kStunBinding);
  EXPECT_TRUE(m.has_cookie);
  EXPECT_EQ(std::vector<uint8_t>(m.transaction_id.begin(), m.transaction_id.end()),
            FromHex(kTransactionId));
  EXPECT_EQ(Types(m), (std::vector<uint16_t>{kStunAttrSoftware, kStunAttrPriority,
                                             kStunAttrIceControlled, kStunAttrUsername,
                                             kStunAttrMessageIntegrity, kStunAttrFingerprint}));
  EXPECT_EQ(m.attributes[0].offset, 20u);
  EXPECT_EQ(m.attributes[3].offset, 60u);
  EXPECT_EQ(m.attributes[3].value.size(), 9u);  // the 0x20 padding is not part of the value
  ASSERT_TRUE(m.software);
  EXPECT_EQ(Text(*m.software), "STUN test client");
  ASSERT_TRUE(m.username);
  EXPECT_EQ(Text(*m.username), "evtj:h6vY");
  EXPECT_EQ(m.priority, 0x6e0001ffu);
  EXPECT_EQ(m.ice_controlled, 0x932ff9b151263b36u);
  EXPECT_FALSE(m.ice_controlling);
  EXPECT_FALSE(m.use_candidate);
  EXPECT_EQ(m.unknown_required_count, 0u);
  EXPECT_EQ(m.ignored_attribute_count, 0u);
  ASSERT_TRUE(m.message_integrity);
  EXPECT_EQ(m.message_integrity->offset, 76u);
  ASSERT_TRUE(m.fingerprint);
  EXPECT_EQ(m.fingerprint->offset, 100u);

  EXPECT_EQ(VerifyFingerprint(m), WireError::kOk);
  EXPECT_EQ(VerifyMessageIntegrity(m, Str(kShortTermPassword)), WireError::kOk);
  EXPECT_EQ(VerifyMessageIntegrity(m, Str("VOkJxbRl1RmTxUk/WvJxBu")), WireError::kStunBadIntegrity);
  EXPECT_EQ(VerifyMessageIntegrity(m, Bytes()), WireError::kStunBadIntegrity);
  EXPECT_EQ(VerifyMessageIntegritySha256(m, Str(kShortTermPassword)), WireError::kStunNoIntegrity);

  EXPECT_EQ(FormatStunAttributeValue(m, m.attributes[0]), "\"STUN test client\"");
  EXPECT_EQ(FormatStunAttributeValue(m, m.attributes[1]), "1845494271");
  EXPECT_EQ(FormatStunAttributeValue(m, m.attributes[2]), "0x932ff9b151263b36");
  EXPECT_EQ(FormatStunAttributeValue(m, m.attributes[3]), "\"evtj:h6vY\"");
  EXPECT_EQ(FormatStunAttributeValue(m, m.attributes[4]),
            "9aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2");
  EXPECT_EQ(FormatStunAttributeValue(m, m.attributes[5]), "0xe57a3bcf");
}

TEST(StunTest, Rfc5769Ipv4Response) {
  T38_REQUIRE_VECTORS();
  const std::vector<uint8_t> bytes = StunVector("rfc5769_2.2_response_ipv4.bin");
  StunMessage m;
  ASSERT_EQ(ParseStun(bytes, &m), WireError::kOk);
  EXPECT_EQ(m.message_class, StunClass::kSuccessResponse);
  EXPECT_EQ(m.method, kStunBinding);
  EXPECT_EQ(Types(m), (std::vector<uint16_t>{kStunAttrSoftware, kStunAttrXorMappedAddress,
                                             kStunAttrMessageIntegrity, kStunAttrFingerprint}));
  ASSERT_TRUE(m.software);
  EXPECT_EQ(Text(*m.software), "test vector");
  EXPECT_EQ(m.xor_mapped_address, V4(0xC0000201, 32853));
  EXPECT_EQ(FormatStunAttributeValue(m, m.attributes[1]), "192.0.2.1:32853");
  EXPECT_EQ(VerifyFingerprint(m), WireError::kOk);
  EXPECT_EQ(VerifyMessageIntegrity(m, Str(kShortTermPassword)), WireError::kOk);
  EXPECT_EQ(VerifyMessageIntegrity(m, Str("wrong")), WireError::kStunBadIntegrity);
}

TEST(StunTest, Rfc5769Ipv6Response) {
  T38_REQUIRE_VECTORS();
  const std::vector<uint8_t> bytes = StunVector("rfc5769_2.3_response_ipv6.bin");
  StunMessage m;
  ASSERT_EQ(ParseStun(bytes, &m), WireError::kOk);
  EXPECT_EQ(m.message_class, StunClass::kSuccessResponse);
  EXPECT_EQ(Types(m), (std::vector<uint16_t>{kStunAttrSoftware, kStunAttrXorMappedAddress,
                                             kStunAttrMessageIntegrity, kStunAttrFingerprint}));
  EXPECT_EQ(m.xor_mapped_address, Rfc5769V6());
  EXPECT_EQ(FormatStunAttributeValue(m, m.attributes[1]),
            "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
  EXPECT_EQ(VerifyFingerprint(m), WireError::kOk);
  EXPECT_EQ(VerifyMessageIntegrity(m, Str(kShortTermPassword)), WireError::kOk);
  EXPECT_EQ(VerifyMessageIntegrity(m, Str("wrong")), WireError::kStunBadIntegrity);
}

TEST(StunTest, Rfc5769LongTermRequest) {
  T38_REQUIRE_VECTORS();
  const std::vector<uint8_t> bytes = StunVector("rfc5769_2.4_request_longterm.bin");
  StunMessage m;
  ASSERT_EQ(ParseStun(bytes, &m), WireError::kOk);
  EXPECT_EQ(m.message_class, StunClass::kRequest);
  EXPECT_EQ(m.method, kStunBinding);
  EXPECT_EQ(std::vector<uint8_t>(m.transaction_id.begin(), m.transaction_id.end()),
            FromHex(kLongTermTransactionId));
  EXPECT_EQ(Types(m), (std::vector<uint16_t>{kStunAttrUsername, kStunAttrNonce, kStunAttrRealm,
                                             kStunAttrMessageIntegrity}));
  EXPECT_EQ(Text(m.username.value()), kLongTermUsername);
  EXPECT_EQ(Text(m.nonce.value()), kNonce);
  EXPECT_EQ(Text(m.realm.value()), kRealm);
  EXPECT_EQ(VerifyFingerprint(m), WireError::kStunNoFingerprint);

  const auto key = LongTermKey(kLongTermUsername, kRealm, kPreparedPassword);
  EXPECT_EQ(VerifyMessageIntegrity(m, key), WireError::kOk);
  // The password before SASLprep is not the key's input.
  const auto unprepared =
      LongTermKey(kLongTermUsername, kRealm, "The\xc2\xad" "M\xc2\xaatr\xe2\x85\xa8");
  EXPECT_EQ(VerifyMessageIntegrity(m, unprepared), WireError::kStunBadIntegrity);
  EXPECT_EQ(VerifyMessageIntegrity(m, LongTermKey(kLongTermUsername, "example.com",
                                                  kPreparedPassword)),
            WireError::kStunBadIntegrity);
  EXPECT_EQ(VerifyMessageIntegrity(m, Str(kPreparedPassword)), WireError::kStunBadIntegrity);
}

TEST(StunTest, LongTermKeyIsMd5OfUserRealmPassword) {
  // MD5("user:realm:pass"), as RFC 8489 section 9.2.2 defines it; computed with md5sum.
  const auto key = LongTermKey("user", "realm", "pass");
  EXPECT_EQ(std::vector<uint8_t>(key.begin(), key.end()),
            FromHex("8493fbc53ba582fb4c044c456bdc40eb"));
}

TEST(StunTest, BuildsRfc5769VectorsByteForByte) {
  T38_REQUIRE_VECTORS();
  const std::vector<uint8_t> id = FromHex(kTransactionId);
  const Bytes password = Str(kShortTermPassword);

  EXPECT_EQ(Build(StunClass::kRequest, kStunBinding, id,
                  [&](StunBuilder& b) {
                    b.AddAttribute(kStunAttrSoftware, Str("STUN test client"));
                    b.AddPriority(0x6e0001ff);
                    b.AddIceControlled(0x932ff9b151263b36);
                    b.AddAttribute(kStunAttrUsername, Str("evtj:h6vY"), 0x20);
                    b.AddMessageIntegrity(password);
                    b.AddFingerprint();
                  }),
            StunVector("rfc5769_2.1_request_shortterm.bin"));

  EXPECT_EQ(Build(StunClass::kSuccessResponse, kStunBinding, id,
                  [&](StunBuilder& b) {
                    b.AddAttribute(kStunAttrSoftware, Str("test vector"), 0x20);
                    b.AddXorMappedAddress(V4(0xC0000201, 32853));
                    b.AddMessageIntegrity(password);
                    b.AddFingerprint();
                  }),
            StunVector("rfc5769_2.2_response_ipv4.bin"));

  EXPECT_EQ(Build(StunClass::kSuccessResponse, kStunBinding, id,
                  [&](StunBuilder& b) {
                    b.AddAttribute(kStunAttrSoftware, Str("test vector"), 0x20);
                    b.AddXorMappedAddress(Rfc5769V6());
                    b.AddMessageIntegrity(password);
                    b.AddFingerprint();
                  }),
            StunVector("rfc5769_2.3_response_ipv6.bin"));

  const auto key = LongTermKey(kLongTermUsername, kRealm, kPreparedPassword);
  EXPECT_EQ(Build(StunClass::kRequest, kStunBinding, FromHex(kLongTermTransactionId),
                  [&](StunBuilder& b) {
                    b.AddAttribute(kStunAttrUsername, Str(kLongTermUsername));
                    b.AddAttribute(kStunAttrNonce, Str(kNonce));
                    b.AddAttribute(kStunAttrRealm, Str(kRealm));
                    b.AddMessageIntegrity(key);
                  }),
            StunVector("rfc5769_2.4_request_longterm.bin"));
}

// pion/stun's check that the base64 decoded right: Go's hash/crc64 with the ISO table.
uint64_t Crc64Iso(Bytes data) {
  uint64_t c = ~uint64_t{0};
  for (uint8_t b : data) {
    c ^= b;
    for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ 0xD800000000000000u : c >> 1;
  }
  return ~c;
}

TEST(StunTest, BrowserBindingRequests) {
  T38_REQUIRE_VECTORS();
  std::istringstream csv(ReadFileText(VectorsDir() + "/stun/frombrowsers.csv"));
  std::string line;
  std::getline(csv, line);  // header
  size_t requests = 0;
  size_t with_fingerprint = 0;
  while (std::getline(csv, line)) {
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::istringstream row(line);
    for (std::string f; std::getline(row, f, ',');) fields.push_back(f);
    ASSERT_GE(fields.size(), 3u) << line;
    std::string raw;
    ASSERT_TRUE(absl::Base64Unescape(fields[1], &raw)) << line;
    const Bytes bytes = Str(raw);
    EXPECT_EQ(Crc64Iso(bytes), std::stoull(fields[2])) << line;

    EXPECT_TRUE(IsStunMessage(bytes)) << line;
    StunMessage m;
    ASSERT_EQ(ParseStun(bytes, &m), WireError::kOk) << line;
    EXPECT_EQ(m.message_class, StunClass::kRequest);
    EXPECT_EQ(m.method, kStunBinding);
    if (m.fingerprint) {
      ++with_fingerprint;
      EXPECT_EQ(VerifyFingerprint(m), WireError::kOk) << line;
    }
    ++requests;
  }
  EXPECT_EQ(requests, 14u);
  EXPECT_GT(with_fingerprint, 0u);

  const std::vector<uint8_t> chrome = StunVector("ex1_chrome.stun");
  StunMessage m;
  ASSERT_EQ(ParseStun(chrome, &m), WireError::kOk);
  EXPECT_EQ(m.method, kStunBinding);
  EXPECT_EQ(Types(m), (std::vector<uint16_t>{kStunAttrOrigin}));
  EXPECT_EQ(Text(m.attributes[0].value), "http://localhost:3000/");
  EXPECT_EQ(VerifyFingerprint(m), WireError::kStunNoFingerprint);
}

struct CaptureStats {
  size_t stun = 0;
  size_t classic = 0;
  size_t fingerprints = 0;
};

// Decodes every STUN-looking payload (first byte 0..3, RFC 7983) of a tests/data/stun file; every
// FINGERPRINT must verify except in `bad_fingerprint_frame` (0: none).
CaptureStats DecodeCapture(const std::string& file, int bad_fingerprint_frame = 0) {
  CaptureStats stats;
  std::istringstream in(ReadFileText(TestDataDir() + "/stun/" + file));
  std::string line;
  while (std::getline(in, line)) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos || tab + 1 == line.size()) continue;
    const std::string frame = line.substr(0, tab);
    const std::vector<uint8_t> payload = FromHex(line.substr(tab + 1));
    if (payload.empty() || payload[0] > 3) continue;
    ++stats.stun;
    StunMessage m;
    const WireError e = ParseStun(payload, &m);
    EXPECT_EQ(e, WireError::kOk) << file << " frame " << frame << ": " << WireErrorName(e);
    if (e != WireError::kOk) continue;
    EXPECT_TRUE(IsStunMessage(payload) || IsClassicStunMessage(payload));
    if (!m.has_cookie) ++stats.classic;
    if (m.fingerprint) {
      ++stats.fingerprints;
      EXPECT_EQ(VerifyFingerprint(m), std::stoi(frame) == bad_fingerprint_frame
                                          ? WireError::kStunBadFingerprint
                                          : WireError::kOk)
          << file << " frame " << frame;
    }
    for (const StunAttribute& a : m.attribute_list()) FormatStunAttributeValue(m, a);
  }
  return stats;
}

TEST(StunTest, DecodesEveryStunPayloadOfTheNdpiCaptures) {
  // Frame 195's FINGERPRINT is wrong in the capture itself (tshark: "CRC-32 Status: Bad").
  const CaptureStats stun = DecodeCapture("stun.udp.txt", 195);
  EXPECT_EQ(stun.stun, 122u);
  EXPECT_EQ(stun.fingerprints, 14u);
  EXPECT_GT(stun.fingerprints, 0u);
  const CaptureStats mixed = DecodeCapture("stun_dtls_rtp.udp.txt");
  EXPECT_EQ(mixed.stun, 4u);
  const CaptureStats classic = DecodeCapture("stun_classic.udp.txt");
  EXPECT_EQ(classic.stun, 2u);
  EXPECT_EQ(classic.classic, 2u);
}

TEST(StunTest, ClassicRfc3489Messages) {
  // stun_classic.pcap frames 1 and 2: a Binding request with CHANGE-REQUEST and its response.
  const std::vector<uint8_t> request =
      FromHex("000100089429ef88294dd52632c72931cb8dbb4c0003000400000000");
  const std::vector<uint8_t> response =
      FromHex("0101000c9429ef88294dd52632c72931cb8dbb4c000100080001d70aac103fe0");
  EXPECT_FALSE(IsStunMessage(request));
  EXPECT_TRUE(IsClassicStunMessage(request));
  StunMessage m;
  ASSERT_EQ(ParseStun(request, &m), WireError::kOk);
  EXPECT_FALSE(m.has_cookie);
  EXPECT_EQ(m.transaction_id.size(), 16u);
  EXPECT_EQ(m.transaction_id[0], 0x94);
  EXPECT_EQ(Types(m), (std::vector<uint16_t>{kStunAttrChangeRequest}));
  ASSERT_EQ(ParseStun(response, &m), WireError::kOk);
  EXPECT_EQ(m.message_class, StunClass::kSuccessResponse);
  EXPECT_EQ(m.method, kStunBinding);
  EXPECT_EQ(m.mapped_address, V4(0xAC103FE0, 55050));

  // The builder makes the same response from a 16-byte transaction id.
  const Bytes id = Bytes(request).subspan(4, 16);
  EXPECT_EQ(Build(StunClass::kSuccessResponse, kStunBinding, id,
                  [](StunBuilder& b) { b.AddMappedAddress(V4(0xAC103FE0, 55050)); }),
            response);
}

TEST(StunTest, EveryPrefixOfEveryVectorIsAnError) {
  T38_REQUIRE_VECTORS();
  for (const std::string& name : VectorNames()) {
    const std::vector<uint8_t> bytes = StunVector(name);
    for (size_t n = 0; n < bytes.size(); ++n) {
      // A copy of exactly n bytes, so that the sanitizers see any read past the end.
      const std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
      StunMessage m;
      EXPECT_NE(ParseStun(prefix, &m), WireError::kOk) << name << " prefix " << n;
      EXPECT_FALSE(IsStunMessage(prefix));
    }
  }
}

TEST(StunTest, PrefixWithFixedLengthIsTruncatedAttribute) {
  T38_REQUIRE_VECTORS();
  std::vector<uint8_t> bytes = StunVector("rfc5769_2.1_request_shortterm.bin");
  bytes.resize(bytes.size() - 4);  // FINGERPRINT loses its value
  FixLength(&bytes);
  StunMessage m;
  EXPECT_EQ(ParseStun(bytes, &m), WireError::kStunAttributeTruncated);
}

TEST(StunTest, FlippedBytesBreakFingerprintAndIntegrity) {
  T38_REQUIRE_VECTORS();
  for (const std::string& name : VectorNames()) {
    const std::vector<uint8_t> good = StunVector(name);
    StunMessage m;
    ASSERT_EQ(ParseStun(good, &m), WireError::kOk);
    const bool long_term = !m.fingerprint;
    const auto long_term_key = LongTermKey(kLongTermUsername, kRealm, kPreparedPassword);
    const Bytes key = long_term ? Bytes(long_term_key) : Str(kShortTermPassword);
    const size_t integrity_end = m.message_integrity->offset + 24;
    for (size_t i = 0; i < good.size(); ++i) {
      for (uint8_t flip : {0x01, 0x80, 0xFF}) {
        std::vector<uint8_t> bad = good;
        bad[i] ^= flip;
        if (ParseStun(bad, &m) != WireError::kOk) continue;
        if (!long_term) {
          EXPECT_NE(VerifyFingerprint(m), WireError::kOk) << name << " byte " << i;
        }
        if (i < integrity_end) {
          EXPECT_NE(VerifyMessageIntegrity(m, key), WireError::kOk) << name << " byte " << i;
        }
      }
    }
  }
}

TEST(StunTest, BadHeaders) {
  T38_REQUIRE_VECTORS();
  const std::vector<uint8_t> good = StunVector("rfc5769_2.2_response_ipv4.bin");
  StunMessage m;
  std::vector<uint8_t> bad = good;
  bad[0] |= 0x40;  // top bits must be zero
  EXPECT_EQ(ParseStun(bad, &m), WireError::kStunNotStun);
  EXPECT_FALSE(IsStunMessage(bad));
  EXPECT_FALSE(IsClassicStunMessage(bad));
  bad = good;
  bad[3] += 2;  // not a multiple of 4
  EXPECT_EQ(ParseStun(bad, &m), WireError::kStunBadLength);
  bad[3] += 2;  // longer than the datagram
  EXPECT_EQ(ParseStun(bad, &m), WireError::kStunBadLength);
  bad[3] -= 8;  // shorter than the datagram
  EXPECT_EQ(ParseStun(bad, &m), WireError::kStunBadLength);
  bad = good;
  bad.push_back(0);  // datagram longer than the message
  EXPECT_EQ(ParseStun(bad, &m), WireError::kStunBadLength);
  bad = good;
  bad[4] ^= 1;  // no cookie: still a (classic) message, but not RFC 8489's
  EXPECT_FALSE(IsStunMessage(bad));
  EXPECT_TRUE(IsClassicStunMessage(bad));
  EXPECT_EQ(ParseStun(std::vector<uint8_t>(19, 0), &m), WireError::kStunTruncated);
  EXPECT_EQ(ParseStun(Bytes(), &m), WireError::kStunTruncated);
}

TEST(StunTest, AttributeLengthPastTheEndIsTruncated) {
  T38_REQUIRE_VECTORS();
  std::vector<uint8_t> bad = StunVector("rfc5769_2.2_response_ipv4.bin");
  bad[0x16] = 0x00;
  bad[0x17] = 0x50;  // SOFTWARE claims 80 bytes
  StunMessage m;
  EXPECT_EQ(ParseStun(bad, &m), WireError::kStunAttributeTruncated);
  bad[0x16] = 0xFF;
  bad[0x17] = 0xFF;
  EXPECT_EQ(ParseStun(bad, &m), WireError::kStunAttributeTruncated);
}

TEST(StunTest, NothingMayFollowFingerprint) {
  T38_REQUIRE_VECTORS();
  std::vector<uint8_t> bad = StunVector("rfc5769_2.2_response_ipv4.bin");
  AppendAttribute(&bad, kStunAttrSoftware, {'x'});
  StunMessage m;
  EXPECT_EQ(ParseStun(bad, &m), WireError::kStunAttributeAfterFingerprint);
  bad = StunVector("rfc5769_2.2_response_ipv4.bin");
  AppendAttribute(&bad, kStunAttrFingerprint, {0, 0, 0, 0});
  EXPECT_EQ(ParseStun(bad, &m), WireError::kStunAttributeAfterFingerprint);
}

TEST(StunTest, AttributesAfterIntegrityAreIgnored) {
  const std::vector<uint8_t> id(12, 7);
  const Bytes key = Str("password");
  std::vector<uint8_t> msg = Build(StunClass::kRequest, kStunBinding, id, [&](StunBuilder& b) {
    b.AddAttribute(kStunAttrUsername, Str("a:b"));
    b.AddMessageIntegrity(key);
  });
  // RFC 8489 section 14.5: ignored, including an unknown comprehension-required one and a second
  // MESSAGE-INTEGRITY; MESSAGE-INTEGRITY then still verifies with the length cut at its end.
  AppendAttribute(&msg, kStunAttrSoftware, {'l', 'a', 't', 'e'});
  AppendAttribute(&msg, 0x7777, {1});
  AppendAttribute(&msg, kStunAttrMessageIntegrity, std::vector<uint8_t>(20, 0));
  AppendAttribute(&msg, kStunAttrUsername, {'z'});
  StunMessage m;
  ASSERT_EQ(ParseStun(msg, &m), WireError::kOk);
  EXPECT_EQ(Types(m), (std::vector<uint16_t>{kStunAttrUsername, kStunAttrMessageIntegrity}));
  EXPECT_EQ(m.ignored_attribute_count, 4u);
  EXPECT_EQ(m.unknown_required_count, 0u);
  EXPECT_FALSE(m.software);
  EXPECT_EQ(Text(m.username.value()), "a:b");
  EXPECT_EQ(VerifyMessageIntegrity(m, key), WireError::kOk);

  // After MESSAGE-INTEGRITY-SHA256 only FINGERPRINT counts, not even MESSAGE-INTEGRITY.
  msg = Build(StunClass::kRequest, kStunBinding, id, [&](StunBuilder& b) {
    b.AddMessageIntegritySha256(key);
  });
  AppendAttribute(&msg, kStunAttrMessageIntegrity, std::vector<uint8_t>(20, 0));
  ASSERT_EQ(ParseStun(msg, &m), WireError::kOk);
  EXPECT_EQ(Types(m), (std::vector<uint16_t>{kStunAttrMessageIntegritySha256}));
  EXPECT_EQ(m.ignored_attribute_count, 1u);
  EXPECT_EQ(VerifyMessageIntegritySha256(m, key), WireError::kOk);
  EXPECT_EQ(VerifyMessageIntegrity(m, key), WireError::kStunNoIntegrity);
}

TEST(StunTest, TooManyAttributes) {
  const std::vector<uint8_t> id(12, 1);
  const auto with = [&](size_t n) {
    return Build(StunClass::kIndication, kStunBinding, id, [&](StunBuilder& b) {
      for (size_t i = 0; i < n; ++i) b.AddAttribute(kStunAttrSoftware, Bytes());
    });
  };
  StunMessage m;
  EXPECT_EQ(ParseStun(with(kStunMaxAttributes), &m), WireError::kOk);
  EXPECT_EQ(m.attribute_count, kStunMaxAttributes);
  EXPECT_EQ(ParseStun(with(kStunMaxAttributes + 1), &m), WireError::kStunTooManyAttributes);
}

TEST(StunTest, UnknownComprehensionRequiredAttributesAreReported) {
  const std::vector<uint8_t> id(12, 2);
  const std::vector<uint8_t> msg =
      Build(StunClass::kRequest, kStunBinding, id, [&](StunBuilder& b) {
        b.AddAttribute(0x7FFF, Str("x"));
        b.AddAttribute(0xFF05, Str("optional"));  // comprehension-optional: not reported
        b.AddAttribute(0x0031, Bytes());
        b.AddAttribute(0x7FFF, Str("again"));
        b.AddAttribute(kStunAttrRequestedTransport, FromHex("11000000"));  // known (TURN)
      });
  StunMessage m;
  ASSERT_EQ(ParseStun(msg, &m), WireError::kOk);
  EXPECT_EQ(m.attribute_count, 5u);
  EXPECT_EQ(std::vector<uint16_t>(m.unknown_required_list().begin(),
                                  m.unknown_required_list().end()),
            (std::vector<uint16_t>{0x7FFF, 0x0031}));
  EXPECT_EQ(m.Find(0x0031), &m.attributes[2]);
  EXPECT_EQ(m.Find(0x1234), nullptr);
}

TEST(StunTest, MalformedKnownAttributesAreBadAttribute) {
  const std::vector<uint8_t> id(12, 3);
  const auto parse_with = [&](uint16_t type, const std::vector<uint8_t>& value) {
    const std::vector<uint8_t> msg = Build(StunClass::kRequest, kStunBinding, id,
                                           [&](StunBuilder& b) { b.AddAttribute(type, value); });
    StunMessage m;
    return ParseStun(msg, &m);
  };
  EXPECT_EQ(parse_with(kStunAttrXorMappedAddress, FromHex("0001a147e112a643")), WireError::kOk);
  EXPECT_EQ(parse_with(kStunAttrXorMappedAddress, FromHex("0003a147e112a643")),
            WireError::kStunBadAttribute);  // family 3
  EXPECT_EQ(parse_with(kStunAttrXorMappedAddress, FromHex("0002a147e112a643")),
            WireError::kStunBadAttribute);  // IPv6 with 4 address bytes
  EXPECT_EQ(parse_with(kStunAttrMappedAddress, FromHex("0001a147e112a64300")),
            WireError::kStunBadAttribute);
  EXPECT_EQ(parse_with(kStunAttrMappedAddress, FromHex("0001a1")), WireError::kStunBadAttribute);
  EXPECT_EQ(parse_with(kStunAttrPriority, FromHex("000001")), WireError::kStunBadAttribute);
  EXPECT_EQ(parse_with(kStunAttrUseCandidate, FromHex("00")), WireError::kStunBadAttribute);
  EXPECT_EQ(parse_with(kStunAttrIceControlling, FromHex("00000000")),
            WireError::kStunBadAttribute);
  EXPECT_EQ(parse_with(kStunAttrErrorCode, FromHex("00000401")), WireError::kOk);
  EXPECT_EQ(parse_with(kStunAttrErrorCode, FromHex("00000701")), WireError::kStunBadAttribute);
  EXPECT_EQ(parse_with(kStunAttrErrorCode, FromHex("00000264")), WireError::kStunBadAttribute);
  EXPECT_EQ(parse_with(kStunAttrErrorCode, FromHex("000004")), WireError::kStunBadAttribute);
  EXPECT_EQ(parse_with(kStunAttrMessageIntegrity, std::vector<uint8_t>(19)),
            WireError::kStunBadAttribute);
  EXPECT_EQ(parse_with(kStunAttrMessageIntegritySha256, std::vector<uint8_t>(12)),
            WireError::kStunBadAttribute);
  EXPECT_EQ(parse_with(kStunAttrMessageIntegritySha256, std::vector<uint8_t>(18)),
            WireError::kStunBadAttribute);
  EXPECT_EQ(parse_with(kStunAttrMessageIntegritySha256, std::vector<uint8_t>(36)),
            WireError::kStunBadAttribute);
  EXPECT_EQ(parse_with(kStunAttrFingerprint, std::vector<uint8_t>(5)),
            WireError::kStunBadAttribute);
}

TEST(StunTest, IceAttributesRoundTrip) {
  const std::vector<uint8_t> id = FromHex("0102030405060708090a0b0c");
  const std::vector<uint8_t> msg = Build(StunClass::kRequest, kStunBinding, id, [](StunBuilder& b) {
    b.AddAttribute(kStunAttrUsername, Str("remote:local"));
    b.AddPriority(1853824767);
    b.AddUseCandidate();
    b.AddIceControlling(0x0123456789abcdefu);
    b.AddMessageIntegrity(Str("pw"));
    b.AddFingerprint();
  });
  StunMessage m;
  ASSERT_EQ(ParseStun(msg, &m), WireError::kOk);
  EXPECT_EQ(m.priority, 1853824767u);
  EXPECT_TRUE(m.use_candidate);
  EXPECT_EQ(m.ice_controlling, 0x0123456789abcdefu);
  EXPECT_FALSE(m.ice_controlled);
  EXPECT_EQ(VerifyMessageIntegrity(m, Str("pw")), WireError::kOk);
  EXPECT_EQ(VerifyFingerprint(m), WireError::kOk);
  EXPECT_EQ(FormatStunAttributeValue(m, m.attributes[2]), "");
}

TEST(StunTest, ErrorCodeAndUnknownAttributes) {
  const std::vector<uint8_t> id(12, 4);
  const std::array<uint16_t, 2> unknown = {0x7FFF, 0x0031};
  std::vector<uint8_t> buf(200);
  size_t length = 0;
  ASSERT_EQ(BuildBindingErrorResponse(id, 420, "Unknown Attribute", unknown, Str("local-pw"), buf,
                                      &length),
            WireError::kOk);
  buf.resize(length);
  StunMessage m;
  ASSERT_EQ(ParseStun(buf, &m), WireError::kOk);
  EXPECT_EQ(m.message_class, StunClass::kErrorResponse);
  EXPECT_EQ(m.method, kStunBinding);
  EXPECT_EQ(Types(m), (std::vector<uint16_t>{kStunAttrErrorCode, kStunAttrUnknownAttributes,
                                             kStunAttrMessageIntegrity, kStunAttrFingerprint}));
  ASSERT_TRUE(m.error_code);
  EXPECT_EQ(m.error_code->code, 420);
  EXPECT_EQ(Text(m.error_code->reason), "Unknown Attribute");
  EXPECT_EQ(std::vector<uint8_t>(m.attributes[1].value.begin(), m.attributes[1].value.end()),
            FromHex("7fff0031"));
  EXPECT_EQ(FormatStunAttributeValue(m, m.attributes[0]), "420 \"Unknown Attribute\"");
  EXPECT_EQ(FormatStunAttributeValue(m, m.attributes[1]), "0x7fff,0x0031");
  EXPECT_EQ(VerifyMessageIntegrity(m, Str("local-pw")), WireError::kOk);
  EXPECT_EQ(VerifyFingerprint(m), WireError::kOk);

  // 401: no MESSAGE-INTEGRITY (RFC 8489 section 9.1.4), no UNKNOWN-ATTRIBUTES.
  buf.assign(200, 0);
  ASSERT_EQ(BuildBindingErrorResponse(id, 401, "Unauthorized", {}, Bytes(), buf, &length),
            WireError::kOk);
  buf.resize(length);
  ASSERT_EQ(ParseStun(buf, &m), WireError::kOk);
  EXPECT_EQ(Types(m), (std::vector<uint16_t>{kStunAttrErrorCode, kStunAttrFingerprint}));
  EXPECT_EQ(m.error_code->code, 401);
  EXPECT_EQ(VerifyMessageIntegrity(m, Str("local-pw")), WireError::kStunNoIntegrity);
  EXPECT_EQ(VerifyFingerprint(m), WireError::kOk);

  for (uint16_t code : {400, 487, 300, 699}) {
    buf.assign(200, 0);
    ASSERT_EQ(BuildBindingErrorResponse(id, code, "x", {}, Bytes(), buf, &length), WireError::kOk);
    buf.resize(length);
    ASSERT_EQ(ParseStun(buf, &m), WireError::kOk);
    EXPECT_EQ(m.error_code->code, code);
  }
  buf.assign(200, 0);
  EXPECT_EQ(BuildBindingErrorResponse(id, 700, "x", {}, Bytes(), buf, &length),
            WireError::kStunBadAttribute);
  EXPECT_EQ(BuildBindingErrorResponse(id, 299, "x", {}, Bytes(), buf, &length),
            WireError::kStunBadAttribute);
}

TEST(StunTest, BindingSuccessResponse) {
  T38_REQUIRE_VECTORS();
  const std::vector<uint8_t> request = StunVector("rfc5769_2.1_request_shortterm.bin");
  StunMessage req;
  ASSERT_EQ(ParseStun(request, &req), WireError::kOk);
  for (const SocketAddress& source : {V4(0xC0000201, 32853), Rfc5769V6()}) {
    std::vector<uint8_t> buf(128);
    size_t length = 0;
    ASSERT_EQ(BuildBindingSuccessResponse(req.transaction_id, source, Str(kShortTermPassword), buf,
                                          &length),
              WireError::kOk);
    buf.resize(length);
    StunMessage m;
    ASSERT_EQ(ParseStun(buf, &m), WireError::kOk);
    EXPECT_EQ(m.message_class, StunClass::kSuccessResponse);
    EXPECT_EQ(m.method, kStunBinding);
    EXPECT_TRUE(std::equal(m.transaction_id.begin(), m.transaction_id.end(),
                           req.transaction_id.begin(), req.transaction_id.end()));
    EXPECT_EQ(Types(m), (std::vector<uint16_t>{kStunAttrXorMappedAddress,
                                               kStunAttrMessageIntegrity, kStunAttrFingerprint}));
    EXPECT_EQ(m.xor_mapped_address, source);
    EXPECT_EQ(VerifyMessageIntegrity(m, Str(kShortTermPassword)), WireError::kOk);
    EXPECT_EQ(VerifyFingerprint(m), WireError::kOk);
  }
  // 20 + 12 + 24 + 8 bytes for IPv4: every smaller buffer is refused, nothing written past it.
  for (size_t size = 0; size < 64; ++size) {
    std::vector<uint8_t> buf(size);
    size_t length = 0;
    EXPECT_EQ(BuildBindingSuccessResponse(req.transaction_id, V4(1, 2), Str("pw"), buf, &length),
              WireError::kStunBufferTooSmall)
        << size;
  }
  std::vector<uint8_t> buf(64);
  size_t length = 0;
  EXPECT_EQ(BuildBindingSuccessResponse(req.transaction_id, V4(1, 2), Str("pw"), buf, &length),
            WireError::kOk);
  EXPECT_EQ(length, 64u);
  EXPECT_EQ(BuildBindingSuccessResponse(req.transaction_id, SocketAddress{}, Str("pw"), buf,
                                        &length),
            WireError::kStunBadAttribute);
}

TEST(StunTest, BuilderKeepsRfc8489AttributeOrder) {
  const std::vector<uint8_t> id(12, 5);
  std::vector<uint8_t> buf(200);
  size_t length = 0;
  {
    StunBuilder b(buf, StunClass::kRequest, kStunBinding, id);
    EXPECT_TRUE(b.AddFingerprint());
    EXPECT_FALSE(b.AddAttribute(kStunAttrSoftware, Str("late")));
    EXPECT_FALSE(b.AddFingerprint());
    EXPECT_EQ(b.Finish(&length), WireError::kStunAttributeAfterFingerprint);
  }
  {
    StunBuilder b(buf, StunClass::kRequest, kStunBinding, id);
    EXPECT_TRUE(b.AddMessageIntegrity(Str("k")));
    EXPECT_FALSE(b.AddPriority(1));
    EXPECT_EQ(b.Finish(&length), WireError::kStunAttributeAfterIntegrity);
  }
  {
    StunBuilder b(buf, StunClass::kRequest, kStunBinding, id);
    EXPECT_TRUE(b.AddMessageIntegritySha256(Str("k")));
    EXPECT_FALSE(b.AddMessageIntegrity(Str("k")));
    EXPECT_EQ(b.Finish(&length), WireError::kStunAttributeAfterIntegrity);
  }
  {
    StunBuilder b(buf, StunClass::kRequest, 0x1000, id);  // method is 12 bits
    EXPECT_FALSE(b.ok());
    EXPECT_EQ(b.Finish(&length), WireError::kStunNotStun);
  }
  {
    StunBuilder b(buf, StunClass::kRequest, kStunBinding, Bytes(id).first(11));
    EXPECT_EQ(b.Finish(&length), WireError::kStunNotStun);
  }
  {
    StunBuilder b(buf, StunClass::kRequest, kStunBinding, id);
    const std::vector<uint8_t> big(0x10000);
    EXPECT_FALSE(b.AddAttribute(kStunAttrData, big));
    EXPECT_EQ(b.Finish(&length), WireError::kStunBadAttribute);
  }
}

TEST(StunTest, AllIntegrityAttributesTogether) {
  const std::vector<uint8_t> id(12, 6);
  const Bytes key = Str("shared secret");
  const std::vector<uint8_t> msg = Build(StunClass::kRequest, kStunBinding, id, [&](StunBuilder& b) {
    b.AddAttribute(kStunAttrUsername, Str("u"));
    b.AddMessageIntegrity(key);
    b.AddMessageIntegritySha256(key);
    b.AddFingerprint();
  });
  StunMessage m;
  ASSERT_EQ(ParseStun(msg, &m), WireError::kOk);
  EXPECT_EQ(VerifyMessageIntegrity(m, key), WireError::kOk);
  EXPECT_EQ(VerifyMessageIntegritySha256(m, key), WireError::kOk);
  EXPECT_EQ(VerifyMessageIntegritySha256(m, Str("other")), WireError::kStunBadIntegrity);
  EXPECT_EQ(VerifyFingerprint(m), WireError::kOk);
  // An empty key is still a key.
  const std::vector<uint8_t> empty_key = Build(StunClass::kRequest, kStunBinding, id,
                                               [](StunBuilder& b) {
                                                 b.AddMessageIntegrity(Bytes());
                                                 b.AddMessageIntegritySha256(Bytes());
                                               });
  ASSERT_EQ(ParseStun(empty_key, &m), WireError::kOk);
  EXPECT_EQ(VerifyMessageIntegrity(m, Bytes()), WireError::kOk);
  EXPECT_EQ(VerifyMessageIntegritySha256(m, Bytes()), WireError::kOk);
  EXPECT_EQ(VerifyMessageIntegrity(m, key), WireError::kStunBadIntegrity);
}

// RFC 8489 section 14.6: a MESSAGE-INTEGRITY-SHA256 truncated to 16..28 bytes, computed here
// independently with the header length ending after the truncated attribute.
TEST(StunTest, TruncatedIntegritySha256) {
  const std::vector<uint8_t> id(12, 8);
  const Bytes key = Str("k");
  for (size_t size = 16; size <= 32; size += 4) {
    std::vector<uint8_t> msg = Build(StunClass::kRequest, kStunBinding, id, [](StunBuilder& b) {
      b.AddAttribute(kStunAttrUsername, Str("user"));
    });
    const size_t covered = msg.size();
    AppendAttribute(&msg, kStunAttrMessageIntegritySha256, std::vector<uint8_t>(size, 0));
    Hmac hmac;
    std::array<uint8_t, 32> mac;
    ASSERT_EQ(wc_HmacInit(&hmac, nullptr, INVALID_DEVID), 0);
    ASSERT_EQ(wc_HmacSetKey(&hmac, WC_SHA256, key.data(), 1), 0);
    ASSERT_EQ(wc_HmacUpdate(&hmac, msg.data(), static_cast<word32>(covered)), 0);
    ASSERT_EQ(wc_HmacFinal(&hmac, mac.data()), 0);
    wc_HmacFree(&hmac);
    std::copy(mac.begin(), mac.begin() + static_cast<ptrdiff_t>(size), msg.begin() + covered + 4);
    StunMessage m;
    ASSERT_EQ(ParseStun(msg, &m), WireError::kOk);
    EXPECT_EQ(VerifyMessageIntegritySha256(m, key), WireError::kOk) << size;
    msg[covered + 4 + size - 1] ^= 1;
    ASSERT_EQ(ParseStun(msg, &m), WireError::kOk);
    EXPECT_EQ(VerifyMessageIntegritySha256(m, key), WireError::kStunBadIntegrity) << size;
  }
}

TEST(StunTest, VerifiersRejectAttributesThatDoNotFitTheMessage) {
  // A StunMessage filled by hand must not make the verifiers read out of bounds.
  const std::vector<uint8_t> bytes(24, 0);
  StunMessage m;
  m.raw = bytes;
  m.has_cookie = true;
  const std::vector<uint8_t> value(20, 0);
  m.message_integrity = StunAttribute{kStunAttrMessageIntegrity, 4000, value};
  m.fingerprint = StunAttribute{kStunAttrFingerprint, 4000, Bytes(value).first(4)};
  EXPECT_EQ(VerifyMessageIntegrity(m, Str("k")), WireError::kStunBadIntegrity);
  EXPECT_EQ(VerifyFingerprint(m), WireError::kStunBadFingerprint);
  m.message_integrity->offset = 3;
  m.fingerprint->offset = 3;
  EXPECT_EQ(VerifyMessageIntegrity(m, Str("k")), WireError::kStunBadIntegrity);
  EXPECT_EQ(VerifyFingerprint(m), WireError::kStunBadFingerprint);
}

TEST(StunTest, EveryClassAndMethodRoundTrips) {
  const std::vector<uint8_t> id(12, 9);
  for (uint8_t c = 0; c < 4; ++c) {
    for (uint16_t method = 0; method <= 0x0FFF; ++method) {
      std::array<uint8_t, 20> buf;
      StunBuilder b(buf, static_cast<StunClass>(c), method, id);
      size_t length = 0;
      ASSERT_EQ(b.Finish(&length), WireError::kOk);
      StunMessage m;
      ASSERT_EQ(ParseStun(buf, &m), WireError::kOk);
      ASSERT_EQ(m.message_class, static_cast<StunClass>(c));
      ASSERT_EQ(m.method, method);
    }
  }
  // RFC 8489 section 5: a Binding success response is 0x0101, an error response 0x0111.
  std::array<uint8_t, 20> buf;
  StunBuilder b(buf, StunClass::kErrorResponse, kStunBinding, id);
  EXPECT_EQ(buf[0], 0x01);
  EXPECT_EQ(buf[1], 0x11);
}

TEST(StunTest, Names) {
  EXPECT_EQ(StunClassName(StunClass::kRequest), "request");
  EXPECT_EQ(StunClassName(StunClass::kIndication), "indication");
  EXPECT_EQ(StunClassName(StunClass::kSuccessResponse), "success-response");
  EXPECT_EQ(StunClassName(StunClass::kErrorResponse), "error-response");
  EXPECT_EQ(StunMethodName(kStunBinding), "Binding");
  EXPECT_EQ(StunMethodName(kStunAllocate), "Allocate");
  EXPECT_EQ(StunMethodName(kStunRefresh), "Refresh");
  EXPECT_EQ(StunMethodName(kStunSend), "Send");
  EXPECT_EQ(StunMethodName(kStunData), "Data");
  EXPECT_EQ(StunMethodName(kStunCreatePermission), "CreatePermission");
  EXPECT_EQ(StunMethodName(kStunChannelBind), "ChannelBind");
  EXPECT_EQ(StunMethodName(0x002), "");
  EXPECT_EQ(StunAttributeName(kStunAttrXorMappedAddress), "XOR-MAPPED-ADDRESS");
  EXPECT_EQ(StunAttributeName(kStunAttrMessageIntegritySha256), "MESSAGE-INTEGRITY-SHA256");
  EXPECT_EQ(StunAttributeName(kStunAttrUnknownAttributes), "UNKNOWN-ATTRIBUTES");
  EXPECT_EQ(StunAttributeName(kStunAttrXorRelayedAddress), "XOR-RELAYED-ADDRESS");
  EXPECT_EQ(StunAttributeName(kStunAttrIceControlling), "ICE-CONTROLLING");
  EXPECT_EQ(StunAttributeName(0x7FFF), "");
  EXPECT_EQ(WireErrorName(WireError::kStunNoFingerprint), "stun-no-fingerprint");
}

TEST(StunTest, DecodesTurnAddresses) {
  // The TURN and RFC 5780 address attributes decode through the same function.
  const std::vector<uint8_t> id = FromHex(kTransactionId);
  const std::vector<uint8_t> msg = Build(StunClass::kIndication, kStunSend, id, [](StunBuilder& b) {
    b.AddAttribute(kStunAttrXorPeerAddress, FromHex("0001a147e112a643"));
    b.AddAttribute(kStunAttrAlternateServer, FromHex("00010d960a000001"));
  });
  StunMessage m;
  ASSERT_EQ(ParseStun(msg, &m), WireError::kOk);
  SocketAddress a;
  ASSERT_EQ(DecodeStunAddress(m, m.attributes[0], &a), WireError::kOk);
  EXPECT_EQ(a, V4(0xC0000201, 32853));
  ASSERT_EQ(DecodeStunAddress(m, m.attributes[1], &a), WireError::kOk);
  EXPECT_EQ(a, V4(0x0A000001, 3478));
  EXPECT_EQ(FormatStunAttributeValue(m, m.attributes[1]), "10.0.0.1:3478");
}

}  // namespace
}  // namespace t38relay::dataplane

namespace t38relay::dataplane {
namespace {

TEST(StunReviewTest, ClassicIntegrityIsNamedNotForged) {
  const std::array<uint8_t, 16> txid = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  std::array<uint8_t, 128> buf{};
  StunBuilder b(buf, StunClass::kRequest, kStunBinding, txid);
  const std::array<uint8_t, 4> key = {'p', 'a', 's', 's'};
  ASSERT_TRUE(b.AddMessageIntegrity(key));
  size_t length = 0;
  ASSERT_EQ(b.Finish(&length), WireError::kOk);
  StunMessage m;
  ASSERT_EQ(ParseStun(Bytes(buf.data(), length), &m), WireError::kOk);
  EXPECT_FALSE(m.has_cookie);
  EXPECT_EQ(VerifyMessageIntegrity(m, key), WireError::kStunClassicIntegrity);
}

TEST(StunReviewTest, ErrorResponsesTo400And401CarryNoIntegrity) {
  const std::array<uint8_t, 12> txid = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const std::array<uint8_t, 4> password = {'p', 'a', 's', 's'};
  for (uint16_t code : {400, 401, 420, 487}) {
    std::array<uint8_t, 256> buf{};
    size_t length = 0;
    const std::array<uint16_t, 1> unknown = {0x7777};
    ASSERT_EQ(BuildBindingErrorResponse(txid, code, "x", code == 420 ? unknown : std::span<const uint16_t>(),
                                        password, buf, &length),
              WireError::kOk);
    StunMessage m;
    ASSERT_EQ(ParseStun(Bytes(buf.data(), length), &m), WireError::kOk);
    ASSERT_TRUE(m.error_code);
    EXPECT_EQ(m.error_code->code, code);
    EXPECT_EQ(m.message_integrity.has_value(), code != 400 && code != 401) << code;
    EXPECT_EQ(VerifyFingerprint(m), WireError::kOk);
  }
}

}  // namespace
}  // namespace t38relay::dataplane
