// Tests of the T.38 IFP codec: spandsp's IFPs, both ASN.1 variants, names, classes and errors.
#include "dataplane/wire/t38_ifp.h"

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace t38relay::dataplane {
namespace {

using ::t38relay::testing::FromHex;
using ::t38relay::testing::ReadFileText;
using ::t38relay::testing::ToHex;
using ::t38relay::testing::VectorsDir;

// The IFPs of an ifplog ("<ms> A>B|B>A <seq> <count> <hex IFP>"), in file order.
std::vector<std::vector<uint8_t>> ReadIfpLog(const std::string& name) {
  std::istringstream in(ReadFileText(VectorsDir() + "/captures/generated/" + name));
  std::vector<std::vector<uint8_t>> ifps;
  std::string ms, dir, seq, count, hex;
  while (in >> ms >> dir >> seq >> count >> hex) ifps.push_back(FromHex(hex));
  return ifps;
}

std::vector<uint8_t> Encode(const IfpPacket& p, IfpVariant v) {
  std::vector<uint8_t> out(70000);
  size_t written = 0;
  EXPECT_EQ(EncodeIfp(p, v, out, &written), WireError::kOk);
  out.resize(written);
  return out;
}

TEST(T38Ifp, SpandspLogsDecodeAndRoundTrip) {
  T38_REQUIRE_VECTORS();
  for (const char* log : {"t38_spandsp_ecm.ifplog", "t38_spandsp_nonecm.ifplog"}) {
    SCOPED_TRACE(log);
    const auto ifps = ReadIfpLog(log);
    ASSERT_GT(ifps.size(), 1000u);
    std::map<IfpClass, int> classes;
    for (const auto& bytes : ifps) {
      IfpPacket p;
      ASSERT_EQ(DecodeIfp(bytes, IfpVariant::k1998, &p), WireError::kOk) << ToHex(bytes);
      EXPECT_EQ(Encode(p, IfpVariant::k1998), bytes);
      ++classes[ClassifyIfp(p)];
      for (const IfpField& f : p.fields()) {
        if (f.has_data) {
          // Views into the input, never copies.
          EXPECT_GE(f.data.data(), bytes.data());
          EXPECT_LE(f.data.data() + f.data.size(), bytes.data() + bytes.size());
        }
      }
    }
    for (IfpClass c : {IfpClass::kNoSignal, IfpClass::kCng, IfpClass::kCed, IfpClass::kV21Preamble,
                       IfpClass::kTraining, IfpClass::kHdlcControl, IfpClass::kImageData}) {
      EXPECT_GT(classes[c], 0) << IfpClassName(c);
    }
    EXPECT_EQ(classes[IfpClass::kOther], 0);
  }
}

TEST(T38Ifp, KnownSpandspPackets) {
  IfpPacket p;
  const std::vector<uint8_t> cng = FromHex("02");
  ASSERT_EQ(DecodeIfp(cng, IfpVariant::k1998, &p), WireError::kOk);
  EXPECT_EQ(p.kind, IfpMsgKind::kIndicator);
  EXPECT_EQ(p.indicator, T30Indicator::kCng);
  EXPECT_FALSE(p.has_data_field);
  EXPECT_EQ(IfpTypeName(p), "cng");

  const std::vector<uint8_t> training = FromHex("1e");
  ASSERT_EQ(DecodeIfp(training, IfpVariant::k1998, &p), WireError::kOk);
  EXPECT_EQ(IfpTypeName(p), "v17-14400-long-training");
  EXPECT_EQ(ClassifyIfp(p), IfpClass::kTraining);

  const std::vector<uint8_t> hdlc = FromHex("c001800000ff");
  ASSERT_EQ(DecodeIfp(hdlc, IfpVariant::k1998, &p), WireError::kOk);
  EXPECT_EQ(p.data_type, T30Data::kV21);
  ASSERT_EQ(p.fields().size(), 1u);
  EXPECT_EQ(p.fields()[0].type, IfpFieldType::kHdlcData);
  EXPECT_EQ(ToHex({p.fields()[0].data.begin(), p.fields()[0].data.end()}), "ff");
  EXPECT_EQ(ClassifyIfp(p), IfpClass::kHdlcControl);

  const std::vector<uint8_t> tcf = FromHex("d001e0000300000000");
  ASSERT_EQ(DecodeIfp(tcf, IfpVariant::k1998, &p), WireError::kOk);
  EXPECT_EQ(IfpTypeName(p), "v17-14400");
  EXPECT_EQ(p.fields()[0].type, IfpFieldType::kT4NonEcmData);
  EXPECT_EQ(p.fields()[0].data.size(), 4u);
  EXPECT_EQ(ClassifyIfp(p), IfpClass::kImageData);
}

TEST(T38Ifp, VariantsDifferInFieldType) {
  // The same octets are hdlc-fcs-OK-sig-end in 1998 and an extension addition in 2002, and
  // hdlc-fcs-OK-sig-end is c00120 in 2002, which 1998 reads as hdlc-fcs-OK.
  IfpPacket p;
  const std::vector<uint8_t> b1998 = FromHex("c00140");
  ASSERT_EQ(DecodeIfp(b1998, IfpVariant::k1998, &p), WireError::kOk);
  EXPECT_EQ(p.fields()[0].type, IfpFieldType::kHdlcFcsOkSigEnd);
  EXPECT_EQ(Encode(p, IfpVariant::k2002), FromHex("c00120"));
  const std::vector<uint8_t> b2002 = FromHex("c00120");
  ASSERT_EQ(DecodeIfp(b2002, IfpVariant::k1998, &p), WireError::kOk);
  EXPECT_EQ(p.fields()[0].type, IfpFieldType::kHdlcFcsOk);
  ASSERT_EQ(DecodeIfp(b2002, IfpVariant::k2002, &p), WireError::kOk);
  EXPECT_EQ(p.fields()[0].type, IfpFieldType::kHdlcFcsOkSigEnd);
}

TEST(T38Ifp, ExtensionAdditions) {
  IfpPacket p;
  p.kind = IfpMsgKind::kIndicator;
  p.indicator = T30Indicator::kV8Ansam;
  const std::vector<uint8_t> ansam = Encode(p, IfpVariant::k2002);
  EXPECT_EQ(ansam, FromHex("2000"));
  // The type-of-msg enumerations are extensible in both modules, so 1998 reads it alike.
  ASSERT_EQ(DecodeIfp(ansam, IfpVariant::k1998, &p), WireError::kOk);
  EXPECT_EQ(p.indicator, T30Indicator::kV8Ansam);
  EXPECT_EQ(IfpTypeName(p), "v8-ansam");
  EXPECT_EQ(ClassifyIfp(p), IfpClass::kOther);

  p.kind = IfpMsgKind::kData;
  p.data_type = T30Data::kV8;
  p.has_data_field = true;
  p.field_count = 1;
  const std::vector<uint8_t> cm = FromHex("e0c1");
  p.field_storage[0] = {IfpFieldType::kCmMessage, true, cm};
  std::vector<uint8_t> out(16);
  size_t written;
  EXPECT_EQ(EncodeIfp(p, IfpVariant::k1998, out, &written), WireError::kIfpBadFieldType);
  const std::vector<uint8_t> bytes = Encode(p, IfpVariant::k2002);
  IfpPacket back;
  ASSERT_EQ(DecodeIfp(bytes, IfpVariant::k2002, &back), WireError::kOk);
  EXPECT_EQ(back.data_type, T30Data::kV8);
  EXPECT_EQ(back.fields()[0].type, IfpFieldType::kCmMessage);
  EXPECT_EQ(IfpFieldTypeName(back.fields()[0].type), "cm-message");

  // An addition no module defines keeps its number and has no name.
  p.kind = IfpMsgKind::kIndicator;
  p.indicator = static_cast<T30Indicator>(16 + 40);
  p.has_data_field = false;
  p.field_count = 0;
  const std::vector<uint8_t> unknown = Encode(p, IfpVariant::k2002);
  ASSERT_EQ(DecodeIfp(unknown, IfpVariant::k2002, &back), WireError::kOk);
  EXPECT_EQ(static_cast<int>(back.indicator), 56);
  EXPECT_EQ(IfpTypeName(back), "unknown");
}

TEST(T38Ifp, Names) {
  EXPECT_EQ(T30IndicatorName(T30Indicator::kNoSignal), "no-signal");
  EXPECT_EQ(T30IndicatorName(T30Indicator::kCed), "ced");
  EXPECT_EQ(T30IndicatorName(T30Indicator::kV21Preamble), "v21-preamble");
  EXPECT_EQ(T30IndicatorName(T30Indicator::kV33_14400Training), "v33-14400-training");
  EXPECT_EQ(T30DataName(T30Data::kV21), "v21");
  EXPECT_EQ(T30DataName(T30Data::kV34Cc1200), "v34-CC-1200");
  EXPECT_EQ(IfpFieldTypeName(IfpFieldType::kHdlcFcsOkSigEnd), "hdlc-fcs-OK-sig-end");
  EXPECT_EQ(IfpFieldTypeName(IfpFieldType::kT4NonEcmData), "t4-non-ecm-data");
  EXPECT_EQ(IfpFieldTypeName(IfpFieldType::kV34Rate), "v34rate");
  EXPECT_EQ(FindT30Indicator("v17-14400-long-training"), T30Indicator::kV17_14400LongTraining);
  EXPECT_EQ(FindT30Indicator("cng"), T30Indicator::kCng);
  EXPECT_EQ(FindT30Data("v17-9600"), T30Data::kV17_9600);
  EXPECT_EQ(FindIfpFieldType("hdlc-data"), IfpFieldType::kHdlcData);
  EXPECT_EQ(FindT30Indicator("fax"), std::nullopt);
  EXPECT_EQ(IfpClassName(IfpClass::kImageData), "image-data");
}

TEST(T38Ifp, SeveralFieldsPackIntoBits) {
  // hdlc-fcs-OK and hdlc-sig-end without data share one octet after the count (X.691 packs them).
  IfpPacket p;
  p.kind = IfpMsgKind::kData;
  p.data_type = T30Data::kV21;
  p.has_data_field = true;
  p.field_count = 2;
  p.field_storage[0] = {IfpFieldType::kHdlcFcsOk, false, {}};
  p.field_storage[1] = {IfpFieldType::kHdlcSigEnd, false, {}};
  EXPECT_EQ(Encode(p, IfpVariant::k1998), FromHex("c00221"));
  EXPECT_EQ(Encode(p, IfpVariant::k2002), FromHex("c0021040"));
}

TEST(T38Ifp, EveryTruncationFails) {
  for (const char* hex : {"c001800000ff", "d001e0000300000000", "c00221", "2000", "c00140"}) {
    const std::vector<uint8_t> bytes = FromHex(hex);
    for (size_t n = 0; n < bytes.size(); ++n) {
      IfpPacket p;
      EXPECT_EQ(DecodeIfp(Bytes(bytes).first(n), IfpVariant::k1998, &p), WireError::kIfpTruncated)
          << hex << " cut at " << n;
    }
  }
}

TEST(T38Ifp, Errors) {
  const struct {
    const char* hex;
    IfpVariant variant;
    WireError error;
  } kCases[] = {
      {"03", IfpVariant::k1998, WireError::kIfpNotCanonical},  // padding bit set
      {"0001", IfpVariant::k1998, WireError::kIfpTrailingBytes},
      {"52", IfpVariant::k1998, WireError::kIfpBadType},                 // t30-data root index 9
      {"3040", IfpVariant::k1998, WireError::kIfpBadType},               // >= 64 addition form
      {"c011", IfpVariant::k1998, WireError::kIfpTooManyFields},         // 17 fields
      {"c0c1", IfpVariant::k1998, WireError::kIfpTooManyFields},         // fragmented count
      {"c08011", IfpVariant::k1998, WireError::kIfpNotCanonical},        // long-form count 17
      {"c00180ffff", IfpVariant::k1998, WireError::kIfpBadFieldLength},  // 65536 octets
      {"c00181000000", IfpVariant::k1998, WireError::kIfpNotCanonical},  // pad before length
      {"c00160", IfpVariant::k2002, WireError::kIfpBadFieldType},        // >= 64 addition form
      {"c001800001ff", IfpVariant::k1998, WireError::kIfpTruncated},
  };
  for (const auto& c : kCases) {
    const std::vector<uint8_t> bytes = FromHex(c.hex);
    IfpPacket p;
    EXPECT_EQ(WireErrorName(DecodeIfp(bytes, c.variant, &p)), WireErrorName(c.error)) << c.hex;
  }
}

TEST(T38Ifp, EncodeErrors) {
  std::vector<uint8_t> out(64);
  size_t written;
  IfpPacket p;
  p.kind = IfpMsgKind::kData;
  p.has_data_field = true;
  p.field_count = 1;
  p.field_storage[0] = {IfpFieldType::kHdlcData, true, {}};
  EXPECT_EQ(EncodeIfp(p, IfpVariant::k1998, out, &written), WireError::kIfpBadFieldLength);
  p.field_storage[0] = {IfpFieldType::kCiMessage, false, {}};
  EXPECT_EQ(EncodeIfp(p, IfpVariant::k1998, out, &written), WireError::kIfpBadFieldType);
  p.field_count = kMaxIfpFields + 1;
  EXPECT_EQ(EncodeIfp(p, IfpVariant::k2002, out, &written), WireError::kIfpTooManyFields);
  p.field_count = 0;
  p.data_type = static_cast<T30Data>(9 + 64);
  EXPECT_EQ(EncodeIfp(p, IfpVariant::k2002, out, &written), WireError::kIfpBadType);

  const std::vector<uint8_t> data(20, 0x11);
  p.data_type = T30Data::kV17_9600;
  p.field_count = 1;
  p.field_storage[0] = {IfpFieldType::kT4NonEcmData, true, data};
  const std::vector<uint8_t> full = Encode(p, IfpVariant::k1998);
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_EQ(EncodeIfp(p, IfpVariant::k1998, MutableBytes(out).first(n), &written),
              WireError::kIfpBufferTooSmall)
        << n;
  }
}

}  // namespace
}  // namespace t38relay::dataplane
