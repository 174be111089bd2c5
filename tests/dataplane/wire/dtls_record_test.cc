// Tests of DTLS record framing: tshark golden files of real captures (tests/data/dtls) and
// hand-made records.
#include "dataplane/wire/dtls_record.h"

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace t38relay::dataplane {
namespace {

using ::t38relay::testing::FromHex;
using ::t38relay::testing::ReadFileText;
using ::t38relay::testing::SplitFields;
using ::t38relay::testing::TestDataDir;
using ::t38relay::testing::ToHex;

std::string Join(const std::vector<uint64_t>& values, bool hex4 = false) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ",";
    if (hex4) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "0x%04llx", static_cast<unsigned long long>(values[i]));
      out += buf;
    } else {
      out += std::to_string(values[i]);
    }
  }
  return out;
}

// Splits every DTLS datagram tshark dissected and compares records and handshake headers.
TEST(DtlsCaptureTest, RecordsAndHandshakeHeadersAgreeWithTshark) {
  int files = 0, datagrams = 0, records = 0, handshakes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(TestDataDir() + "/dtls")) {
    if (entry.path().extension() != ".tsv") continue;
    ++files;
    std::istringstream in(ReadFileText(entry.path().string()));
    std::string line;
    while (std::getline(in, line)) {
      const auto f = SplitFields(line, '\t');
      ASSERT_EQ(f.size(), 12u) << line.substr(0, 40);
      SCOPED_TRACE(entry.path().filename().string() + " frame " + f[0]);
      const std::vector<uint8_t> payload = FromHex(SplitFields(f[11], ',').back());
      DtlsDatagram d;
      ASSERT_EQ(SplitDtlsRecords(payload, &d), WireError::kOk);
      ++datagrams;
      std::vector<uint64_t> types, versions, epochs, seqs, lengths;
      std::vector<uint64_t> hs_type, hs_seq, hs_off, hs_flen, hs_len;
      size_t tiled = 0;
      for (size_t i = 0; i < d.count; ++i) {
        const DtlsRecord& r = d.records[i];
        EXPECT_EQ(r.fragment.data(), payload.data() + tiled + kDtlsRecordHeaderLength);
        tiled += r.header_length() + r.fragment.size();
        types.push_back(r.content_type);
        versions.push_back(r.version);
        epochs.push_back(r.epoch);
        seqs.push_back(r.sequence);
        lengths.push_back(r.length);
        if (r.content_type != kDtlsHandshake || r.epoch != 0) continue;
        Bytes rest = r.fragment;
        while (!rest.empty()) {
          DtlsHandshakeHeader h;
          ASSERT_EQ(ParseDtlsHandshake(rest, &h, &rest), WireError::kOk);
          hs_type.push_back(h.msg_type);
          hs_seq.push_back(h.message_seq);
          hs_off.push_back(h.fragment_offset);
          hs_flen.push_back(h.fragment_length);
          hs_len.push_back(h.length);
          EXPECT_NE(DtlsHandshakeTypeName(h.msg_type), "unknown");
          ++handshakes;
        }
      }
      records += static_cast<int>(d.count);
      EXPECT_EQ(tiled, payload.size());
      EXPECT_EQ(Join(types), f[1]);
      EXPECT_EQ(Join(versions, true), f[2]);
      EXPECT_EQ(Join(epochs), f[3]);
      EXPECT_EQ(Join(seqs), f[4]);
      EXPECT_EQ(Join(lengths), f[5]);
      EXPECT_EQ(Join(hs_type), f[6]);
      EXPECT_EQ(Join(hs_seq), f[7]);
      EXPECT_EQ(Join(hs_off), f[8]);
      EXPECT_EQ(Join(hs_flen), f[9]);
      EXPECT_EQ(Join(hs_len), f[10]);

      // Every strict prefix fails, unless it ends on a record boundary.
      for (size_t n = 0; n < payload.size(); ++n) {
        DtlsDatagram cut;
        const WireError e = SplitDtlsRecords(Bytes(payload).first(n), &cut);
        size_t boundary = 0;
        bool on_boundary = n == 0;
        for (size_t i = 0; i < d.count && boundary < n; ++i) {
          boundary += d.records[i].header_length() + d.records[i].fragment.size();
          on_boundary = on_boundary || boundary == n;
        }
        if (on_boundary) {
          ASSERT_EQ(e, WireError::kOk) << n;
        } else {
          ASSERT_TRUE(e == WireError::kDtlsTruncatedHeader || e == WireError::kDtlsTruncatedRecord)
              << n << " " << WireErrorName(e);
        }
      }
    }
  }
  std::printf("%d captures, %d DTLS datagrams, %d records, %d handshake messages\n", files,
              datagrams, records, handshakes);
  EXPECT_GE(files, 11);
  EXPECT_GT(datagrams, 150);
}

TEST(DtlsCaptureTest, OldVersion0x0100) {
  // dtls_old_version.pcapng frame 1: a ClientHello in a 0x0100 record (OpenSSL's DTLS1_BAD_VER).
  const std::vector<uint8_t> record = FromHex(
      "160100000000000000000000560100004a000000000000004a01005ee9ea2262f79f376b50167f0617d3426e"
      "3a52f63f66b6afe34a0736863deaa52003c229be15d620515eef0eca0aafdbc938e008fee8f21a81a57206fd"
      "375b6bd800000200350100");
  DtlsDatagram d;
  ASSERT_EQ(SplitDtlsRecords(record, &d), WireError::kOk);
  ASSERT_EQ(d.count, 1u);
  EXPECT_EQ(d.records[0].version, kDtlsOpenSslBadVersion);
  DtlsHandshakeHeader h;
  Bytes rest;
  ASSERT_EQ(ParseDtlsHandshake(d.records[0].fragment, &h, &rest), WireError::kOk);
  EXPECT_EQ(DtlsHandshakeTypeName(h.msg_type), "client_hello");
  EXPECT_EQ(h.length, 0x4au);
}

std::vector<uint8_t> Record(uint8_t type, uint16_t version, uint16_t epoch, uint64_t seq,
                            std::vector<uint8_t> fragment) {
  DtlsRecord r;
  r.content_type = type;
  r.version = version;
  r.epoch = epoch;
  r.sequence = seq;
  r.length = static_cast<uint16_t>(fragment.size());
  std::vector<uint8_t> out(kDtlsRecordHeaderLength);
  EXPECT_EQ(WriteDtlsRecordHeader(r, out), WireError::kOk);
  out.insert(out.end(), fragment.begin(), fragment.end());
  return out;
}

TEST(DtlsRecordTest, HeaderWriterRoundTrips) {
  const std::vector<uint8_t> bytes =
      Record(kDtlsApplicationData, kDtls12Version, 1, 0x0000123456789abcull, {1, 2, 3});
  EXPECT_EQ(ToHex(bytes), "17fefd0001123456789abc0003010203");
  DtlsDatagram d;
  ASSERT_EQ(SplitDtlsRecords(bytes, &d), WireError::kOk);
  ASSERT_EQ(d.count, 1u);
  EXPECT_EQ(d.records[0].content_type, kDtlsApplicationData);
  EXPECT_EQ(d.records[0].epoch, 1);
  EXPECT_EQ(d.records[0].sequence, 0x123456789abcull);
  EXPECT_EQ(d.records[0].length, 3);
  EXPECT_EQ(ToHex(std::vector<uint8_t>(d.records[0].fragment.begin(), d.records[0].fragment.end())),
            "010203");
  for (size_t n = 0; n < kDtlsRecordHeaderLength; ++n) {
    std::vector<uint8_t> small(n);
    EXPECT_EQ(WriteDtlsRecordHeader(d.records[0], small), WireError::kDtlsBufferTooSmall);
  }
}

TEST(DtlsRecordTest, AcceptsEveryListedTypeAndVersionOnly) {
  for (int type = 0; type < 256; ++type) {
    for (uint16_t version : {kDtls10Version, kDtls12Version, kDtlsOpenSslBadVersion, uint16_t{0xFEFC},
                             uint16_t{0x0303}, uint16_t{0x0301}}) {
      const auto bytes = Record(static_cast<uint8_t>(type), version, 0, 0, {0});
      DtlsDatagram d;
      const bool good_type = type >= 20 && type <= 25;
      const bool good_version = version == kDtls10Version || version == kDtls12Version ||
                                version == kDtlsOpenSslBadVersion;
      const WireError expected = !good_type      ? WireError::kDtlsBadContentType
                                 : !good_version ? WireError::kDtlsBadVersion
                                                 : WireError::kOk;
      EXPECT_EQ(SplitDtlsRecords(bytes, &d), expected) << type << " " << version;
    }
  }
  for (int type = 20; type <= 25; ++type) {
    EXPECT_NE(DtlsContentTypeName(static_cast<uint8_t>(type)), "unknown");
  }
  EXPECT_EQ(DtlsContentTypeName(26), "unknown");
  EXPECT_EQ(DtlsHandshakeTypeName(kDtlsHelloVerifyRequest), "hello_verify_request");
  EXPECT_EQ(DtlsHandshakeTypeName(kDtlsClientHello), "client_hello");
  EXPECT_EQ(DtlsHandshakeTypeName(99), "unknown");
}

TEST(DtlsRecordTest, LengthLimitAndRecordCount) {
  std::vector<uint8_t> max = Record(kDtlsApplicationData, kDtls12Version, 1, 1,
                                    std::vector<uint8_t>(kDtlsMaxRecordLength));
  DtlsDatagram d;
  EXPECT_EQ(SplitDtlsRecords(max, &d), WireError::kOk);
  max[11] = static_cast<uint8_t>((kDtlsMaxRecordLength + 1) >> 8);
  max[12] = static_cast<uint8_t>(kDtlsMaxRecordLength + 1);
  max.push_back(0);
  EXPECT_EQ(SplitDtlsRecords(max, &d), WireError::kDtlsRecordTooLong);

  std::vector<uint8_t> many;
  for (size_t i = 0; i < kDtlsMaxRecordsPerDatagram; ++i) {
    const auto r = Record(kDtlsHandshake, kDtls12Version, 0, i, {});
    many.insert(many.end(), r.begin(), r.end());
  }
  ASSERT_EQ(SplitDtlsRecords(many, &d), WireError::kOk);
  EXPECT_EQ(d.count, kDtlsMaxRecordsPerDatagram);
  const auto one_more = Record(kDtlsAlert, kDtls12Version, 0, 99, {});
  many.insert(many.end(), one_more.begin(), one_more.end());
  EXPECT_EQ(SplitDtlsRecords(many, &d), WireError::kDtlsTooManyRecords);
  EXPECT_EQ(SplitDtlsRecords(Bytes(), &d), WireError::kOk);
  EXPECT_EQ(d.count, 0u);
}

TEST(DtlsRecordTest, ConnectionIdRecords) {
  // RFC 9146 section 4: type 25, version, epoch, seq, cid (negotiated length), length.
  const std::vector<uint8_t> bytes = FromHex("19fefd000100000000000ac1d2e3f40002abcd");
  DtlsDatagram d;
  ASSERT_EQ(SplitDtlsRecords(bytes, &d, 4), WireError::kOk);
  ASSERT_EQ(d.count, 1u);
  EXPECT_EQ(ToHex(std::vector<uint8_t>(d.records[0].cid.begin(), d.records[0].cid.end())),
            "c1d2e3f4");
  EXPECT_EQ(d.records[0].header_length(), 17u);
  std::vector<uint8_t> header(17);
  ASSERT_EQ(WriteDtlsRecordHeader(d.records[0], header), WireError::kOk);
  EXPECT_EQ(ToHex(header), ToHex(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 17)));
  EXPECT_EQ(SplitDtlsRecords(Bytes(bytes).first(14), &d, 4), WireError::kDtlsTruncatedHeader);
}

TEST(DtlsRecordTest, GcmLayoutAndAad) {
  EXPECT_EQ(kDtlsRecordHeaderLength, 13u);
  EXPECT_EQ(kDtlsGcmExplicitNonceLength + kDtlsGcmTagLength, kDtlsGcmOverhead);
  EXPECT_EQ(kDtlsGcmOverhead, 24u);
  std::array<uint8_t, kDtlsAadLength> aad;
  // epoch 1, seq 0x0000000000ab, application_data, DTLS 1.2, 100 bytes of plaintext.
  WriteDtlsAad(1, 0xab, kDtlsApplicationData, kDtls12Version, 100, aad);
  EXPECT_EQ(ToHex(std::vector<uint8_t>(aad.begin(), aad.end())), "00010000000000ab17fefd0064");
  // The AAD is the record header with the ciphertext length replaced by the plaintext length.
  const auto record = Record(kDtlsApplicationData, kDtls12Version, 1, 0xab,
                             std::vector<uint8_t>(100 + kDtlsGcmOverhead));
  EXPECT_EQ(std::vector<uint8_t>(aad.begin(), aad.begin() + 8),
            std::vector<uint8_t>(record.begin() + 3, record.begin() + 11));
}

TEST(DtlsHandshakeTest, HeaderFieldsAndErrors) {
  // server_hello_done, message_seq 3, a whole empty message, followed by more bytes.
  const std::vector<uint8_t> bytes = FromHex("0e000000000300000000000000ff");
  DtlsHandshakeHeader h;
  Bytes rest;
  ASSERT_EQ(ParseDtlsHandshake(bytes, &h, &rest), WireError::kOk);
  EXPECT_EQ(h.msg_type, 14);
  EXPECT_EQ(h.message_seq, 3);
  EXPECT_EQ(rest.size(), 2u);
  for (size_t n = 0; n < 12; ++n) {
    EXPECT_EQ(ParseDtlsHandshake(Bytes(bytes).first(n), &h, &rest),
              WireError::kDtlsHandshakeTruncated);
  }
  // length 10, offset 6, fragment_length 5: past the end of the message.
  EXPECT_EQ(ParseDtlsHandshake(FromHex("0b00000a0001000006000005aabbccddee"), &h, &rest),
            WireError::kDtlsHandshakeBadFragment);
  // offset 5 + 5 = 10: the last fragment, but its body is cut short.
  EXPECT_EQ(ParseDtlsHandshake(FromHex("0b00000a0001000005000005aabbccdd"), &h, &rest),
            WireError::kDtlsHandshakeTruncated);
  ASSERT_EQ(ParseDtlsHandshake(FromHex("0b00000a0001000005000005aabbccddee"), &h, &rest),
            WireError::kOk);
  EXPECT_EQ(h.length, 10u);
  EXPECT_EQ(h.fragment_offset, 5u);
  EXPECT_EQ(h.fragment_length, 5u);
  EXPECT_EQ(h.body.size(), 5u);
  EXPECT_TRUE(rest.empty());
}

}  // namespace
}  // namespace t38relay::dataplane
