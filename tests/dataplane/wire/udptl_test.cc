// Tests of the UDPTL codec against tshark golden files (tests/data/udptl), negative cases and FEC.
#include "dataplane/wire/udptl.h"

#include <charconv>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/dataplane/wire/udptl_header_oracle.h"
#include "tests/test_support.h"

namespace t38relay::dataplane {
namespace {

using ::t38relay::testing::FromHex;
using ::t38relay::testing::ReadFileText;
using ::t38relay::testing::TestDataDir;
using ::t38relay::testing::ToHex;
using ::t38relay::testing::UdptlHeaderByPer;
using ::t38relay::testing::VectorsDir;

std::vector<uint8_t> Vec(Bytes b) { return std::vector<uint8_t>(b.begin(), b.end()); }
std::string Hex(Bytes b) { return ToHex(Vec(b)); }

int ToInt(std::string_view s) {
  int v = -1;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  EXPECT_TRUE(ec == std::errc() && end == s.data() + s.size()) << s;
  return v;
}

// One line of a golden file (make_golden.py documents the format).
struct GoldenPacket {
  std::string frame;
  std::vector<uint8_t> payload;
  bool malformed = false;
  int seq = 0;
  std::string recovery;
  std::vector<std::string> ifps;
};

std::vector<GoldenPacket> ReadGolden(const std::string& name) {
  std::vector<GoldenPacket> packets;
  std::istringstream in(ReadFileText(TestDataDir() + "/udptl/" + name));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    if (cols.size() < 3) {
      ADD_FAILURE() << name << ": bad line " << line;
      continue;
    }
    GoldenPacket p;
    p.frame = cols[0];
    p.payload = FromHex(cols[1]);
    p.malformed = cols[2] == "malformed";
    if (!p.malformed) {
      EXPECT_EQ(cols.size(), 6u) << line;
      p.seq = ToInt(cols[3]);
      p.recovery = cols[4];
      p.ifps = absl::StrSplit(cols[5], ';');
    }
    packets.push_back(std::move(p));
  }
  EXPECT_FALSE(packets.empty()) << name;
  return packets;
}

// Describes an IFP in the golden notation: LEN:KINDVALUE[/FIELD[=HEX|#LEN]]...
std::string Describe(Bytes ifp, IfpVariant variant, bool primary) {
  std::string text = std::to_string(ifp.size()) + ":";
  if (ifp.empty()) return text;
  IfpPacket p;
  const WireError e = DecodeIfp(ifp, variant, &p);
  if (e != WireError::kOk) return text + std::string(WireErrorName(e));
  text += p.kind == IfpMsgKind::kData ? "d" + std::to_string(static_cast<int>(p.data_type))
                                      : "i" + std::to_string(static_cast<int>(p.indicator));
  for (const IfpField& f : p.fields()) {
    text += "/" + std::to_string(static_cast<int>(f.type));
    if (f.has_data) text += primary ? "=" + Hex(f.data) : "#" + std::to_string(f.data.size());
  }
  return text;
}

std::string DescribeRecovery(const UdptlPacket& p) {
  if (p.recovery == UdptlRecovery::kSecondary) {
    return "sec:" + std::to_string(p.secondary_count);
  }
  std::string text = "fec:" + std::to_string(p.fec_span) + ":" + std::to_string(p.fec_count) + ":";
  for (size_t i = 0; i < p.fec_count; ++i) text += (i ? "," : "") + Hex(p.fec_entries()[i]);
  return text;
}

std::vector<uint8_t> Encode(const UdptlPacket& p) {
  std::vector<uint8_t> out(20000);
  size_t written = 0;
  EXPECT_EQ(EncodeUdptl(p, out, &written), WireError::kOk);
  out.resize(written);
  return out;
}

// Checks every packet tshark decoded against our decoding, and the byte-exact round trips.
// Returns the error of each packet tshark called malformed, by frame.
std::map<std::string, WireError> CheckGolden(const std::string& name, IfpVariant variant) {
  std::map<std::string, WireError> malformed;
  for (const GoldenPacket& g : ReadGolden(name)) {
    SCOPED_TRACE(name + " frame " + g.frame);
    UdptlPacket p;
    const WireError e = DecodeUdptl(g.payload, &p);
    if (g.malformed) {
      malformed[g.frame] = e;
      continue;
    }
    if (e != WireError::kOk) {
      ADD_FAILURE() << WireErrorName(e);
      continue;
    }
    EXPECT_EQ(p.seq, g.seq);
    if (g.recovery != "-") {
      EXPECT_EQ(DescribeRecovery(p), g.recovery);
    }
    // tshark stops after the primary for "-"; otherwise it lists every secondary.
    const size_t listed = g.recovery == "-" ? 1 : 1 + p.secondary_count;
    if (g.ifps.size() != listed) {
      ADD_FAILURE() << "tshark lists " << g.ifps.size() << " IFPs, we " << listed;
      continue;
    }
    EXPECT_EQ(Describe(p.primary, variant, true), g.ifps[0]);
    for (size_t i = 1; i < listed; ++i) {
      const Bytes ifp = p.secondaries()[i - 1];
      // tshark shows an empty open type as no-signal, the IFP whose encoding is all zero bits;
      // there is nothing to decode, so only the length is compared.
      const std::string want = ifp.empty() ? g.ifps[i].substr(0, 2) : g.ifps[i];
      EXPECT_EQ(Describe(ifp, variant, false), want) << "secondary " << i;
    }
    EXPECT_EQ(Encode(p), g.payload);

    UdptlHeader h;
    EXPECT_EQ(DecodeUdptlHeader(g.payload, &h), WireError::kOk);
    EXPECT_EQ(h.seq, p.seq);
    EXPECT_EQ(h.primary.data(), p.primary.data());
    EXPECT_EQ(h.primary.size(), p.primary.size());
  }
  return malformed;
}

TEST(UdptlGolden, SpandspEcmRedundancy3) {
  EXPECT_TRUE(CheckGolden("spandsp_ecm_red3.txt", IfpVariant::k1998).empty());
}

TEST(UdptlGolden, SpandspNonEcmRedundancy3) {
  EXPECT_TRUE(CheckGolden("spandsp_nonecm_red3.txt", IfpVariant::k1998).empty());
}

TEST(UdptlGolden, SyntheticBothVariantsAndFec) {
  EXPECT_TRUE(CheckGolden("synthetic_1998.txt", IfpVariant::k1998).empty());
  EXPECT_TRUE(CheckGolden("synthetic_2002.txt", IfpVariant::k2002).empty());
}

TEST(UdptlGolden, DtlsPlaintextReplay) {
  // 15 secondaries, 14 of them empty: the AST-2016-003 shape, which must still decode.
  EXPECT_TRUE(CheckGolden("dtls12_plaintext.txt", IfpVariant::k1998).empty());
}

TEST(UdptlGolden, Ast2016003Crash) {
  const auto malformed = CheckGolden("ast_2016_003_crash.txt", IfpVariant::k1998);
  ASSERT_EQ(malformed.size(), 74u);
  std::map<std::string, int> by_error;
  for (const auto& [frame, e] : malformed) {
    if (e == WireError::kOk) continue;
    ++by_error[std::string(WireErrorName(e))];
    EXPECT_TRUE(frame == "1" || frame == "2") << frame << " " << WireErrorName(e);
  }
  // Frame 1 claims a 71-octet primary in 9 octets; frame 2 stops before error-recovery. The other
  // 72 that tshark flags carry 59-octet IFPs that are valid; tshark trips on its T.38 reassembly.
  EXPECT_EQ(by_error, (std::map<std::string, int>{{"udptl-truncated", 2}}));
}

TEST(UdptlGolden, NdpiCallCarriesRtpNotUdptl) {
  // The stream SDP announces as T.38 carries RTP (0x80 first octet, PCMA and comfort noise):
  // tshark calls every packet malformed, and each one gets a named error here.
  const auto malformed = CheckGolden("ndpi_fax_call.txt", IfpVariant::k1998);
  ASSERT_EQ(malformed.size(), 27u);
  for (const auto& [frame, e] : malformed) EXPECT_NE(e, WireError::kOk) << frame;
}

// Valid packets from the ECM capture, for the negative tests.
std::vector<std::vector<uint8_t>> SomeValidPackets() {
  std::vector<std::vector<uint8_t>> out;
  const auto golden = ReadGolden("spandsp_ecm_red3.txt");
  for (size_t i = 0; i < golden.size(); i += 37) out.push_back(golden[i].payload);
  for (const auto& g : ReadGolden("synthetic_2002.txt")) out.push_back(g.payload);
  return out;
}

TEST(Udptl, EveryTruncationFails) {
  for (const auto& packet : SomeValidPackets()) {
    for (size_t n = 0; n < packet.size(); ++n) {
      UdptlPacket p;
      ASSERT_EQ(DecodeUdptl(Bytes(packet).first(n), &p), WireError::kUdptlTruncated)
          << ToHex(packet) << " cut at " << n;
    }
  }
}

// The header decode has a fixed-offset path for one-octet lengths and the PER reader for the
// rest: at every cut of real packets (short and long primaries) it gives what the PER primitives
// give, error or header; and a header error is the full decode's error.
TEST(Udptl, HeaderDecodeAgreesWithThePerReaderAtEveryCut) {
  std::vector<std::vector<uint8_t>> packets = SomeValidPackets();
  // A primary of 128 octets: a two-octet length determinant.
  packets.push_back(FromHex("8001" "8080" + std::string(2 * 128, '5') + "0000"));
  size_t long_lengths = 0, ok = 0, errors = 0;
  for (const auto& packet : packets) {
    long_lengths += packet.size() > 2 && packet[2] >= 0x80;
    for (size_t n = 0; n <= packet.size(); ++n) {
      const Bytes cut = Bytes(packet).first(n);
      UdptlHeader h, reference;
      const WireError error = DecodeUdptlHeader(cut, &h);
      ASSERT_EQ(error, UdptlHeaderByPer(cut, &reference)) << ToHex(packet) << " cut at " << n;
      UdptlPacket p;
      if (error != WireError::kOk) {
        ++errors;
        ASSERT_EQ(DecodeUdptl(cut, &p), error);
        continue;
      }
      ++ok;
      ASSERT_EQ(h.seq, reference.seq);
      ASSERT_EQ(h.primary.data(), reference.primary.data());
      ASSERT_EQ(h.primary.size(), reference.primary.size());
    }
  }
  EXPECT_GE(long_lengths, 1u);
  EXPECT_GT(ok, 0u);
  EXPECT_GT(errors, 0u);
}

TEST(Udptl, TrailingBytesAreAnError) {
  std::vector<uint8_t> packet = FromHex("0001010200010100");
  packet.push_back(0);
  UdptlPacket p;
  EXPECT_EQ(DecodeUdptl(packet, &p), WireError::kUdptlTrailingBytes);
  // The dataplane's header decode does not look that far.
  UdptlHeader h;
  EXPECT_EQ(DecodeUdptlHeader(packet, &h), WireError::kOk);
}

TEST(Udptl, Errors) {
  const std::string kMaxIfp = "85c0" + std::string(2 * kMaxIfpLength, 'a');
  const std::string kTooLong = "85c1" + std::string(2 * (kMaxIfpLength + 1), 'a');
  const struct {
    std::string hex;
    WireError error;
  } kCases[] = {
      {"0001 0102 00 10" + std::string(32, '0'), WireError::kUdptlTooManySecondary},
      {"0001 0102 00 c1", WireError::kUdptlFragmentedLength},
      {"0001 c002", WireError::kUdptlFragmentedLength},
      {"0001 800102 0000", WireError::kUdptlNotCanonical},  // long-form primary length 1
      {"0001 0102 01 00", WireError::kUdptlNotCanonical},   // padding after the CHOICE bit
      {"0001 0102 80 0103 09" + std::string(18, '0'), WireError::kUdptlTooManyFec},
      {"0001 0102 80 0109 00", WireError::kUdptlBadFecCount},  // span 9
      {"0001 0102 80 01ff 00", WireError::kUdptlBadFecCount},  // span -1
      {"0001 0102 80 020003 00", WireError::kUdptlBadFecCount},
      {"0001 0102 80 00 00", WireError::kUdptlBadFecCount},
      {"0001" + kTooLong + "0000", WireError::kUdptlIfpTooLong},
      {"0001 0102 00 01" + kTooLong, WireError::kUdptlIfpTooLong},
      {"0001" + kMaxIfp + "0000", WireError::kOk},
      {"0001 0102 80 0103 01" + kTooLong, WireError::kUdptlIfpTooLong},
      {"ffff47415242414745", WireError::kUdptlTruncated},
  };
  for (const auto& c : kCases) {
    const std::vector<uint8_t> bytes = FromHex(c.hex);
    UdptlPacket p;
    EXPECT_EQ(WireErrorName(DecodeUdptl(bytes, &p)), WireErrorName(c.error)) << c.hex.substr(0, 40);
  }
}

TEST(Udptl, LimitsAreAccepted) {
  // 15 secondaries and 8 FEC entries of span 8 decode and round trip.
  std::string hex = "0001 0102 00 0f";
  for (int i = 0; i < 15; ++i) hex += "0100";
  std::vector<uint8_t> bytes = FromHex(hex);
  UdptlPacket p;
  ASSERT_EQ(DecodeUdptl(bytes, &p), WireError::kOk);
  EXPECT_EQ(p.secondary_count, kMaxSecondary);
  EXPECT_EQ(Encode(p), bytes);

  hex = "0001 0102 80 0108 08";
  for (int i = 0; i < 8; ++i) hex += "02abcd";
  bytes = FromHex(hex);
  ASSERT_EQ(DecodeUdptl(bytes, &p), WireError::kOk);
  EXPECT_EQ(p.fec_span, kMaxFecSpan);
  EXPECT_EQ(p.fec_count, kMaxFecEntries);
  EXPECT_EQ(Encode(p), bytes);
}

TEST(Udptl, LongFormLengthsRoundTrip) {
  for (size_t n : {127u, 128u, 300u, 1472u}) {
    const std::vector<uint8_t> ifp(n, 0x42);
    const std::vector<uint8_t> previous(n / 2 + 1, 0x17);
    const Bytes history[] = {previous, ifp};
    const UdptlPacket p = UdptlWithRedundancy(7, ifp, history);
    const std::vector<uint8_t> bytes = Encode(p);
    EXPECT_EQ(bytes.size(), 2 + (n < 128 ? 1 : 2) + n + 1 + 1 + (previous.size() < 128 ? 1 : 2) +
                                previous.size() + (n < 128 ? 1 : 2) + n);
    UdptlPacket back;
    ASSERT_EQ(DecodeUdptl(bytes, &back), WireError::kOk);
    EXPECT_EQ(Vec(back.primary), ifp);
    ASSERT_EQ(back.secondary_count, 2u);
    EXPECT_EQ(Vec(back.secondaries()[0]), previous);
    EXPECT_EQ(Vec(back.secondaries()[1]), ifp);
  }
}

TEST(Udptl, EncodeErrors) {
  const std::vector<uint8_t> ifp = FromHex("c001800000ff");
  const std::vector<uint8_t> huge(kMaxIfpLength + 1);
  UdptlPacket p = UdptlWithRedundancy(1, ifp, {});
  std::vector<uint8_t> out(4000);
  size_t written;
  const std::vector<uint8_t> full = Encode(p);
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_EQ(EncodeUdptl(p, MutableBytes(out).first(n), &written),
              WireError::kUdptlBufferTooSmall);
  }
  p.primary = huge;
  EXPECT_EQ(EncodeUdptl(p, out, &written), WireError::kUdptlIfpTooLong);
  p.primary = ifp;
  p.secondary_count = kMaxSecondary + 1;
  EXPECT_EQ(EncodeUdptl(p, out, &written), WireError::kUdptlTooManySecondary);
  p.recovery = UdptlRecovery::kFec;
  p.fec_count = kMaxFecEntries + 1;
  EXPECT_EQ(EncodeUdptl(p, out, &written), WireError::kUdptlTooManyFec);
  p.fec_count = 0;
  p.fec_span = kMaxFecSpan + 1;
  EXPECT_EQ(EncodeUdptl(p, out, &written), WireError::kUdptlBadFecCount);
}

// The IFPs one side of a spandsp fax sent, in sequence order.
std::vector<std::vector<uint8_t>> ReadIfpStream(const std::string& log, const std::string& dir) {
  std::istringstream in(ReadFileText(VectorsDir() + "/captures/generated/" + log));
  std::vector<std::vector<uint8_t>> ifps;
  std::string ms, d, seq, count, hex;
  while (in >> ms >> d >> seq >> count >> hex) {
    if (d != dir) continue;
    EXPECT_EQ(ToInt(seq), static_cast<int>(ifps.size()));
    ifps.push_back(FromHex(hex));
  }
  return ifps;
}

struct FecStream {
  std::vector<std::vector<uint8_t>> packets;  // encoded UDPTL payloads
};

FecStream BuildFecStream(const std::vector<std::vector<uint8_t>>& ifps, uint32_t span,
                         size_t entries) {
  FecStream s;
  std::vector<uint8_t> scratch(kMaxFecEntries * kMaxIfpLength);
  for (size_t seq = 0; seq < ifps.size(); ++seq) {
    std::vector<Bytes> previous;
    for (size_t i = 1; i <= seq && i <= span * entries; ++i) previous.push_back(ifps[seq - i]);
    UdptlPacket p;
    p.seq = static_cast<uint16_t>(seq);
    p.primary = ifps[seq];
    EXPECT_EQ(BuildUdptlFec(previous, span, entries, scratch, &p), WireError::kOk);
    s.packets.push_back(Encode(p));
  }
  return s;
}

TEST(UdptlFec, MatchesTheSpandspLayoutTsharkDecoded) {
  // The last synthetic packet is FEC span 3, 2 entries over the IFPs of the packets before it.
  for (const char* name : {"synthetic_1998.txt", "synthetic_2002.txt"}) {
    const auto golden = ReadGolden(name);
    std::vector<UdptlPacket> decoded(golden.size());
    for (size_t i = 0; i < golden.size(); ++i) {
      ASSERT_EQ(DecodeUdptl(golden[i].payload, &decoded[i]), WireError::kOk);
    }
    const UdptlPacket& last = decoded.back();
    std::vector<Bytes> previous;
    for (size_t i = decoded.size() - 1; i-- > 0;) previous.push_back(decoded[i].primary);
    std::vector<uint8_t> scratch(4000);
    UdptlPacket rebuilt;
    rebuilt.seq = last.seq;
    rebuilt.primary = last.primary;
    ASSERT_EQ(BuildUdptlFec(previous, 3, 2, scratch, &rebuilt), WireError::kOk);
    EXPECT_EQ(Encode(rebuilt), golden.back().payload) << name;
  }
}

TEST(UdptlFec, RecoversEveryLostIfpOfSpandspStreams) {
  T38_REQUIRE_VECTORS();
  const struct {
    uint32_t span;
    size_t entries;
  } kConfigs[] = {{3, 3}, {1, 1}, {2, 5}, {5, 1}};
  size_t recovered = 0;
  for (const char* log : {"t38_spandsp_ecm.ifplog", "t38_spandsp_nonecm.ifplog"}) {
    for (const char* dir : {"A>B", "B>A"}) {
      const auto ifps = ReadIfpStream(log, dir);
      ASSERT_GT(ifps.size(), 10u);
      for (const auto& c : kConfigs) {
        SCOPED_TRACE(std::string(log) + " " + dir + " span " + std::to_string(c.span));
        const FecStream stream = BuildFecStream(ifps, c.span, c.entries);
        std::vector<uint8_t> out(kMaxIfpLength);
        for (size_t seq = 0; seq < stream.packets.size(); ++seq) {
          UdptlPacket p;
          ASSERT_EQ(DecodeUdptl(stream.packets[seq], &p), WireError::kOk);
          ASSERT_EQ(Vec(p.primary), ifps[seq]);
          for (size_t j = 0; j < p.fec_count; ++j) {
            std::vector<Bytes> group;
            for (size_t k = 0; k < p.fec_span; ++k) {
              group.push_back(ifps[FecCoveredSeq(p.seq, p.fec_span, p.fec_count, j, k)]);
            }
            // Lose each member in turn and rebuild it from the others.
            for (size_t lost = 0; lost < group.size(); ++lost) {
              size_t length = 0;
              ASSERT_EQ(RecoverUdptlFec(p, j, group, lost, IfpVariant::k1998, out, &length),
                        WireError::kOk);
              ASSERT_EQ(Vec(Bytes(out).first(length)), Vec(group[lost]))
                  << "seq " << seq << " entry " << j << " lost " << lost;
              ++recovered;
            }
          }
        }
      }
    }
  }
  EXPECT_GT(recovered, 50000u);
}

TEST(UdptlFec, DroppedPacketIsRebuiltFromALaterOne) {
  T38_REQUIRE_VECTORS();
  // ECM page data, span 3 and 3 entries: lose packet 500 and rebuild it from the first later
  // packet whose FEC covers it, using only IFPs that arrived.
  const auto ifps = ReadIfpStream("t38_spandsp_ecm.ifplog", "A>B");
  const FecStream stream = BuildFecStream(ifps, 3, 3);
  const size_t dropped = 500;
  ASSERT_LT(dropped + 9, ifps.size());
  bool done = false;
  for (size_t seq = dropped + 1; seq < stream.packets.size() && !done; ++seq) {
    UdptlPacket p;
    ASSERT_EQ(DecodeUdptl(stream.packets[seq], &p), WireError::kOk);
    for (size_t j = 0; j < p.fec_count && !done; ++j) {
      std::vector<Bytes> group;
      size_t lost = p.fec_span;
      for (size_t k = 0; k < p.fec_span; ++k) {
        const uint16_t covered = FecCoveredSeq(p.seq, p.fec_span, p.fec_count, j, k);
        if (covered == dropped) lost = k;
        UdptlPacket arrived;
        EXPECT_EQ(DecodeUdptl(stream.packets[covered], &arrived), WireError::kOk);
        group.push_back(covered == dropped ? Bytes() : arrived.primary);
      }
      if (lost == p.fec_span) continue;
      std::vector<uint8_t> out(kMaxIfpLength);
      size_t length = 0;
      ASSERT_EQ(RecoverUdptlFec(p, j, group, lost, IfpVariant::k1998, out, &length),
                WireError::kOk);
      EXPECT_EQ(Vec(Bytes(out).first(length)), ifps[dropped]);
      EXPECT_GT(ifps[dropped].size(), 6u);  // real page data, not a one-octet indicator
      done = true;
    }
  }
  EXPECT_TRUE(done);
}

TEST(UdptlRecoverable, SecondariesCoverTheNewestLosses) {
  const std::vector<uint8_t> ifp = {0x06, 0x00};
  const Bytes previous[] = {Bytes(ifp), Bytes(ifp), Bytes(ifp)};
  const UdptlPacket p = UdptlWithRedundancy(100, Bytes(ifp), previous);  // carries 99, 98, 97
  EXPECT_EQ(UdptlRecoverable(p, 99, 1), 1u);
  EXPECT_EQ(UdptlRecoverable(p, 97, 3), 3u);
  EXPECT_EQ(UdptlRecoverable(p, 95, 5), 3u);  // 95 and 96 are beyond the redundancy
  EXPECT_EQ(UdptlRecoverable(p, 90, 2), 0u);
  const UdptlPacket none = UdptlWithRedundancy(100, Bytes(ifp), {});
  EXPECT_EQ(UdptlRecoverable(none, 99, 1), 0u);
  // Across the wrap of the 16-bit sequence number.
  const UdptlPacket wrapped = UdptlWithRedundancy(1, Bytes(ifp), previous);  // 0, 65535, 65534
  EXPECT_EQ(UdptlRecoverable(wrapped, 65534, 3), 3u);
}

TEST(UdptlRecoverable, FecRebuildsOneLossPerGroup) {
  UdptlPacket p;
  p.seq = 100;
  p.recovery = UdptlRecovery::kFec;
  p.fec_span = 3;
  p.fec_count = 3;  // entry j covers 91+j, 94+j, 97+j
  EXPECT_EQ(UdptlRecoverable(p, 99, 1), 1u);  // entry 2 (93, 96, 99): one member lost
  EXPECT_EQ(UdptlRecoverable(p, 97, 3), 3u);  // 97, 98, 99: one in each group
  EXPECT_EQ(UdptlRecoverable(p, 96, 4), 2u);  // entry 2 lost 96 and 99: unrecoverable
  EXPECT_EQ(UdptlRecoverable(p, 80, 5), 0u);
}

TEST(UdptlFec, WindsUpLikeSpandsp) {
  const std::vector<uint8_t> a = FromHex("02"), b = FromHex("04"), c = FromHex("06");
  std::vector<uint8_t> scratch(64);
  UdptlPacket p;
  // Fewer than span previous IFPs: span 0, no entries.
  const Bytes two[] = {b, a};
  ASSERT_EQ(BuildUdptlFec(two, 3, 3, scratch, &p), WireError::kOk);
  EXPECT_EQ(p.fec_span, 0u);
  EXPECT_EQ(p.fec_count, 0u);
  // Three: one entry over all three.
  const Bytes three[] = {c, b, a};
  ASSERT_EQ(BuildUdptlFec(three, 3, 3, scratch, &p), WireError::kOk);
  EXPECT_EQ(p.fec_span, 3u);
  ASSERT_EQ(p.fec_count, 1u);
  EXPECT_EQ(Hex(p.fec_entries()[0]), "00");  // 02 ^ 04 ^ 06
  EXPECT_EQ(BuildUdptlFec(three, 3, 3, MutableBytes(scratch).first(0), &p),
            WireError::kUdptlBufferTooSmall);
}

TEST(UdptlFec, Unrecoverable) {
  const std::vector<uint8_t> a = FromHex("c001800000ff"), b = FromHex("02"), c = FromHex("04");
  std::vector<uint8_t> scratch(64), out(64);
  const Bytes previous[] = {c, b, a};
  UdptlPacket p;
  ASSERT_EQ(BuildUdptlFec(previous, 3, 1, scratch, &p), WireError::kOk);
  size_t length;
  const Bytes group[] = {a, b, c};
  ASSERT_EQ(RecoverUdptlFec(p, 0, group, 1, IfpVariant::k1998, out, &length), WireError::kOk);
  EXPECT_EQ(Hex(Bytes(out).first(length)), "02");
  EXPECT_EQ(RecoverUdptlFec(p, 1, group, 1, IfpVariant::k1998, out, &length),
            WireError::kUdptlFecUnrecoverable);
  EXPECT_EQ(RecoverUdptlFec(p, 0, std::span<const Bytes>(group).first(2), 1, IfpVariant::k1998, out,
                            &length),
            WireError::kUdptlFecUnrecoverable);
  const std::vector<uint8_t> longer(7, 0);
  const Bytes wrong[] = {longer, b, c};
  EXPECT_EQ(RecoverUdptlFec(p, 0, wrong, 1, IfpVariant::k1998, out, &length),
            WireError::kUdptlFecUnrecoverable);
  EXPECT_EQ(RecoverUdptlFec(p, 0, group, 1, IfpVariant::k1998, MutableBytes(out).first(3), &length),
            WireError::kUdptlBufferTooSmall);
}

}  // namespace
}  // namespace t38relay::dataplane
