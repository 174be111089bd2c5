// Tests of the T.38 Annex D attributes: every attribute, mixed-case names, booleans, write-back.
#include "control/sdp/t38_params.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace t38relay::control::sdp {
namespace {

std::string ErrorFor(std::string name, std::optional<std::string> value) {
  MediaDescription m;
  m.AddAttribute(name, std::move(value));
  absl::StatusOr<T38Params> p = ParseT38Params(m);
  EXPECT_FALSE(p.ok()) << name;
  return p.ok() ? "" : std::string(p.status().message());
}

TEST(T38ParamsTest, EveryAttribute) {
  MediaDescription m;
  m.attributes = {
      {"T38FaxVersion", "3"},
      {"T38MaxBitrate", "33600"},  // a spelling seen in the wild
      {"T38FaxFillBitRemoval", std::nullopt},
      {"T38FaxTranscodingMMR", "0"},
      {"T38FaxTranscodingJBIG", "1"},
      {"T38FaxRateManagement", "localTCF"},
      {"T38FaxMaxBuffer", "1800"},
      {"T38FaxMaxDatagram", "400"},
      {"T38FaxMaxIFP", "40"},
      {"T38FaxUdpEC", "t38UDPFEC"},
      {"T38FaxUdpECDepth", "1 2"},
      {"T38FaxUdpFECMaxSpan", "3"},
      {"T38VendorInfo", "0 0 0"},
      {"T38ModemType", "t38G3FaxOnly"},
      {"T38FaxSomethingNew", "x"},
      {"sendrecv", std::nullopt},
  };
  absl::StatusOr<T38Params> p = ParseT38Params(m);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->version, 3u);
  EXPECT_EQ(p->max_bit_rate, 33600u);
  EXPECT_EQ(p->fill_bit_removal, true);
  EXPECT_EQ(p->transcoding_mmr, false);
  EXPECT_EQ(p->transcoding_jbig, true);
  EXPECT_EQ(p->rate_management, T38RateManagement::kLocalTcf);
  EXPECT_EQ(p->max_buffer, 1800u);
  EXPECT_EQ(p->max_datagram, 400u);
  EXPECT_EQ(p->max_ifp, 40u);
  EXPECT_EQ(p->udp_ec, T38UdpEc::kFec);
  EXPECT_EQ(p->udp_ec_depth, (T38EcDepth{1, 2}));
  EXPECT_EQ(p->udp_fec_max_span, 3u);
  EXPECT_EQ(p->vendor_info, "0 0 0");
  EXPECT_EQ(p->modem_type, "t38G3FaxOnly");
  EXPECT_EQ(p->unknown, (std::vector<Attribute>{{"T38FaxSomethingNew", "x"}}));

  std::vector<Attribute> formatted = FormatT38Params(*p);
  ASSERT_EQ(formatted.size(), 15u);
  EXPECT_EQ(formatted[1], (Attribute{"T38MaxBitRate", "33600"}));
  EXPECT_EQ(formatted[2], (Attribute{"T38FaxFillBitRemoval", std::nullopt}));
  EXPECT_EQ(formatted[3], (Attribute{"T38FaxTranscodingMMR", "0"}));
  EXPECT_EQ(formatted[9], (Attribute{"T38FaxUdpEC", "t38UDPFEC"}));
  EXPECT_EQ(formatted[10], (Attribute{"T38FaxUdpECDepth", "1 2"}));
  MediaDescription again;
  again.attributes = formatted;
  EXPECT_EQ(*ParseT38Params(again), *p);
}

TEST(T38ParamsTest, MixedCaseAndValues) {
  MediaDescription m;
  m.attributes = {{"T38faxVersion", "0"},
                  {"t38faxudpec", "T38UDPREDUNDANCY"},
                  {"T38FaxRateManagement", "transferredTCF"},
                  {"T38FaxFillBitRemoval", "1"},
                  {"T38FaxVersion", "3"}};  // repeated: the first counts
  absl::StatusOr<T38Params> p = ParseT38Params(m);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->version, 0u);
  EXPECT_EQ(p->udp_ec, T38UdpEc::kRedundancy);
  EXPECT_EQ(p->rate_management, T38RateManagement::kTransferredTcf);
  EXPECT_EQ(p->fill_bit_removal, true);
  EXPECT_EQ(p->max_datagram, std::nullopt);
  EXPECT_EQ(T38UdpEcName(T38UdpEc::kNone), "t38UDPNoEC");
}

TEST(T38ParamsTest, Errors) {
  EXPECT_EQ(ErrorFor("T38FaxMaxDatagram", "abc"), "T38FaxMaxDatagram: 'abc' is not a number");
  EXPECT_EQ(ErrorFor("T38FaxMaxDatagram", "-1"), "T38FaxMaxDatagram: '-1' is not a number");
  EXPECT_EQ(ErrorFor("T38FaxMaxDatagram", "4294967296"),
            "T38FaxMaxDatagram: '4294967296' is not a number");
  EXPECT_EQ(ErrorFor("T38FaxVersion", std::nullopt), "T38FaxVersion: needs a value");
  EXPECT_EQ(ErrorFor("T38FaxUdpEC", "x"),
            "T38FaxUdpEC: unknown value 'x' (t38UDPFEC, t38UDPRedundancy, t38UDPNoEC)");
  EXPECT_EQ(ErrorFor("T38FaxRateManagement", "both"),
            "T38FaxRateManagement: unknown value 'both' (localTCF, transferredTCF)");
  EXPECT_EQ(ErrorFor("T38FaxFillBitRemoval", "yes"),
            "T38FaxFillBitRemoval: value 'yes' must be absent, 0 or 1");
  EXPECT_EQ(ErrorFor("T38FaxUdpECDepth", "1 2 3"), "T38FaxUdpECDepth: '1 2 3' is not <minred> [<maxred>]");
  EXPECT_EQ(ErrorFor("T38FaxUdpECDepth", "x"), "T38FaxUdpECDepth: 'x' is not <minred> [<maxred>]");
  EXPECT_EQ(ErrorFor("T38VendorInfo", std::nullopt), "T38VendorInfo: needs a value");
}

TEST(T38ParamsTest, SetKeepsPositionsAndSpelling) {
  MediaDescription m;
  m.attributes = {{"setup", "actpass"},
                  {"T38faxVersion", "0"},
                  {"T38FaxMaxDatagram", "1400"},
                  {"T38FaxOther", "y"},
                  {"T38FaxUdpEC", "t38UDPRedundancy"},
                  {"sendrecv", std::nullopt}};
  absl::StatusOr<T38Params> p = ParseT38Params(m);
  ASSERT_TRUE(p.ok()) << p.status();
  p->max_datagram = 1363;  // lowered for DTLS overhead
  p->udp_ec.reset();       // dropped
  p->max_buffer = 1800;    // added
  SetT38Params(*p, &m);
  EXPECT_EQ(m.attributes, (std::vector<Attribute>{{"setup", "actpass"},
                                                  {"T38faxVersion", "0"},
                                                  {"T38FaxMaxDatagram", "1363"},
                                                  {"T38FaxMaxBuffer", "1800"},
                                                  {"T38FaxOther", "y"},
                                                  {"sendrecv", std::nullopt}}));
  EXPECT_EQ(*ParseT38Params(m), *p);
  // On a section without T.38 attributes they are appended.
  MediaDescription empty;
  empty.AddAttribute("sendrecv", std::nullopt);
  SetT38Params(*p, &empty);
  EXPECT_EQ(empty.attributes.size(), 5u);
  EXPECT_EQ(empty.attributes[1].name, "T38FaxVersion");
}

TEST(T38ParamsTest, DtlsOfferFile) {
  absl::StatusOr<SessionDescription> sd =
      ParseSdp(testing::ReadFileText(testing::TestDataDir() + "/sdp/t38_dtls_offer.sdp"));
  ASSERT_TRUE(sd.ok()) << sd.status();
  absl::StatusOr<T38Params> p = ParseT38Params(sd->media.at(0));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->max_datagram, 400u);
  EXPECT_EQ(p->udp_ec_depth, (T38EcDepth{1, 2}));
  EXPECT_EQ(p->vendor_info, "0 0 0");
}

}  // namespace
}  // namespace t38relay::control::sdp
