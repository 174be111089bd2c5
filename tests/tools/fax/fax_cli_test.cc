// t38relay-fax in-process: compare (identical, a changed page, page count, resolution,
// photometric), usage and setup errors (exit 2), and rejected streams (exit 1 with JSON).
#include "tools/fax/fax_cli.h"

#include <tiffio.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/test_support.h"
#include "tools/fax/tiff_compare.h"

namespace t38relay::tools::fax {
namespace {

struct CliRun {
  int code;
  std::string out;
  std::string err;
  nlohmann::json LastJson() const {
    std::istringstream lines(out);
    std::string line, last;
    while (std::getline(lines, line)) {
      if (!line.empty()) last = line;
    }
    return nlohmann::json::parse(last, nullptr, false);
  }
};

CliRun Fax(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = RunFaxCli(args, out, err);
  return {code, out.str(), err.str()};
}

// A synthetic bilevel page: a frame and a diagonal, distinct per `seed`.
FaxPage MakePage(uint32_t width, uint32_t length, int seed) {
  FaxPage p;
  p.width = width;
  p.length = length;
  p.x_dpi = 204;
  p.y_dpi = 196;
  p.pixels.assign(p.row_bytes() * length, 0);
  for (uint32_t y = 0; y < length; ++y) {
    for (uint32_t x = 0; x < width; ++x) {
      const bool black = x < 4 || y < 4 || x + 4 >= width || y + 4 >= length ||
                         (x + static_cast<uint32_t>(seed) * 13) % width == y % width;
      if (black) p.pixels[y * p.row_bytes() + x / 8] |= static_cast<uint8_t>(0x80 >> (x % 8));
    }
  }
  return p;
}

void WriteTiff(const std::string& path, const std::vector<FaxPage>& pages,
               uint16_t compression = COMPRESSION_CCITTFAX4, bool min_is_black = false) {
  TIFF* t = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(t, nullptr);
  for (size_t i = 0; i < pages.size(); ++i) {
    const FaxPage& p = pages[i];
    TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, p.width);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, p.length);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(t, TIFFTAG_COMPRESSION, compression);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC,
                 min_is_black ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_MINISWHITE);
    TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, p.length);
    TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    TIFFSetField(t, TIFFTAG_XRESOLUTION, static_cast<float>(p.x_dpi));
    TIFFSetField(t, TIFFTAG_YRESOLUTION, static_cast<float>(p.y_dpi));
    TIFFSetField(t, TIFFTAG_PAGENUMBER, static_cast<uint16_t>(i),
                 static_cast<uint16_t>(pages.size()));
    std::vector<uint8_t> row(p.row_bytes());
    for (uint32_t y = 0; y < p.length; ++y) {
      std::copy_n(p.pixels.begin() + y * p.row_bytes(), p.row_bytes(), row.begin());
      if (min_is_black) {
        for (uint8_t& b : row) b = static_cast<uint8_t>(~b);
      }
      ASSERT_EQ(TIFFWriteScanline(t, row.data(), y, 0), 1);
    }
    ASSERT_TRUE(TIFFWriteDirectory(t));
  }
  TIFFClose(t);
}

class FaxCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("t38fax_cli_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(FaxCliTest, CompareIdenticalFiles) {
  const FaxPage a = MakePage(1728, 120, 1), b = MakePage(1728, 120, 2);
  WriteTiff(Path("g4.tiff"), {a, b});
  WriteTiff(Path("raw.tiff"), {a, b}, COMPRESSION_NONE);  // other coding, same pixels
  WriteTiff(Path("black.tiff"), {a, b}, COMPRESSION_NONE, /*min_is_black=*/true);
  CliRun r = Fax({"compare", Path("g4.tiff"), Path("raw.tiff")});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"identical\":true,\"pages_a\":2,\"pages_b\":2,\"differing_pages\":[]}\n");
  EXPECT_EQ(Fax({"compare", Path("g4.tiff"), Path("black.tiff")}).code, 0);
}

TEST_F(FaxCliTest, CompareFindsTheChangedPage) {
  const FaxPage a = MakePage(1728, 120, 1), b = MakePage(1728, 120, 2);
  FaxPage changed = b;
  changed.pixels[60 * changed.row_bytes() + 100] ^= 0x10;  // one pixel of row 60
  WriteTiff(Path("a.tiff"), {a, b, a});
  WriteTiff(Path("b.tiff"), {a, changed, a});
  CliRun r = Fax({"compare", Path("a.tiff"), Path("b.tiff")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "{\"identical\":false,\"pages_a\":3,\"pages_b\":3,\"differing_pages\":[2]}\n");
  EXPECT_NE(r.err.find("page 2: 1 of 120 rows differ"), std::string::npos) << r.err;
}

TEST_F(FaxCliTest, CompareReportsPageCountSizeAndResolution) {
  const FaxPage a = MakePage(1728, 120, 1);
  FaxPage coarse = a;
  coarse.y_dpi = 98;  // standard instead of fine: same pixels, another page
  FaxPage shorter = MakePage(1728, 100, 1);
  WriteTiff(Path("one.tiff"), {a});
  WriteTiff(Path("two.tiff"), {a, a});
  WriteTiff(Path("coarse.tiff"), {coarse});
  WriteTiff(Path("short.tiff"), {shorter});
  CliRun r = Fax({"compare", Path("one.tiff"), Path("two.tiff")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.LastJson()["differing_pages"], nlohmann::json::array());
  EXPECT_EQ(r.LastJson()["pages_b"], 2);
  r = Fax({"compare", Path("one.tiff"), Path("coarse.tiff")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.LastJson()["differing_pages"], nlohmann::json::array({1}));
  EXPECT_NE(r.err.find("resolution 204x196 vs 204x98 dpi"), std::string::npos) << r.err;
  r = Fax({"compare", Path("one.tiff"), Path("short.tiff")});
  EXPECT_EQ(r.LastJson()["differing_pages"], nlohmann::json::array({1}));
  EXPECT_NE(r.err.find("1728x120 vs 1728x100"), std::string::npos) << r.err;
}

TEST_F(FaxCliTest, CompareErrors) {
  std::ofstream(Path("junk.tiff")) << "not a tiff";
  CliRun r = Fax({"compare", Path("junk.tiff"), Path("missing.tiff")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not a readable TIFF"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(Fax({"compare", Path("junk.tiff")}).code, 2);
}

// The vectors' page, and a two-page file tiffcp made from it with the second page changed.
TEST_F(FaxCliTest, CompareVectorsPage) {
  T38_REQUIRE_VECTORS();
  const std::string send = testing::VectorsDir() + "/asterisk-testsuite/send.tiff";
  CliRun r = Fax({"compare", send, send});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.LastJson()["pages_a"], 1);

  absl::StatusOr<FaxTiff> tiff = FaxTiff::Open(send);
  ASSERT_TRUE(tiff.ok()) << tiff.status();
  FaxPage page = *tiff->ReadPage(0);
  EXPECT_EQ(page.width, 1728u);
  EXPECT_EQ(page.length, 2156u);
  EXPECT_NEAR(page.y_dpi, 196, 0.5);
  if (testing::Shell("command -v tiffcp").empty()) GTEST_SKIP() << "tiffcp not installed";
  testing::Shell("tiffcp " + send + " " + send + " " + Path("two.tiff"));
  for (size_t i = 0; i < 8; ++i) page.pixels[1000 * page.row_bytes() + i] = 0xFF;
  absl::StatusOr<FaxTiff> two = FaxTiff::Open(Path("two.tiff"));
  ASSERT_TRUE(two.ok());
  WriteTiff(Path("changed.tiff"), {*two->ReadPage(0), page});
  r = Fax({"compare", Path("two.tiff"), Path("changed.tiff")});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "{\"identical\":false,\"pages_a\":2,\"pages_b\":2,\"differing_pages\":[2]}\n");
}

TEST_F(FaxCliTest, UsageErrorsExit2) {
  WriteTiff(Path("doc.tiff"), {MakePage(1728, 50, 1)});
  const std::string doc = Path("doc.tiff");
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"fly"},
      {"send", "--tiff", doc, "--offer-out", "o", "--answer-in", "a"},  // no --local
      {"send", "--tiff", doc, "--local", "127.0.0.1:0"},                // no files
      {"send", "--tiff", doc, "--local", "127.0.0.1:0", "--offer-out", "o", "--answer-in", "a",
       "--offer-in", "x"},
      {"send", "--tiff", doc, "--local", "127.0.0.1:0", "--offer-out", "o"},
      {"send", "--tiff", doc, "--local", "127.0.0.1:0", "--offer-out", "-", "--answer-in", "a"},
      {"receive", "--tiff-out", "x", "--local", "127.0.0.1:0", "--offer-in", "o",
       "--answer-out", "a", "--setup", "actpass"},
      {"send", "--tiff", doc, "--local", "0.0.0.0:5000", "--offer-out", "o", "--answer-in", "a"},
      {"send", "--tiff", doc, "--local", "localhost:5000", "--offer-out", "o", "--answer-in", "a"},
      {"send", "--tiff", doc, "--local", "127.0.0.1:0", "--offer-out", "o", "--answer-in", "a",
       "--transport", "tls"},
      {"send", "--tiff", doc, "--local", "127.0.0.1:0", "--offer-out", "o", "--answer-in", "a",
       "--ec", "fec", "--ec-depth", "9"},
      {"send", "--tiff", doc, "--local", "127.0.0.1:0", "--offer-out", "o", "--answer-in", "a",
       "--ec-depth", "0"},
  };
  for (const auto& args : bad) {
    CliRun r = Fax(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.code, 2) << joined << "\n" << r.err;
    EXPECT_EQ(r.out, "") << joined;
    EXPECT_FALSE(r.err.empty()) << joined;
  }
  EXPECT_EQ(Fax({"--help"}).code, 0);
}

TEST_F(FaxCliTest, SetupErrorsExit2) {
  std::ofstream(Path("junk.tiff")) << "not a tiff";
  CliRun r = Fax({"send", "--tiff", Path("junk.tiff"), "--local", "127.0.0.1:0", "--offer-out",
               Path("o.sdp"), "--answer-in", Path("a.sdp")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--tiff: "), std::string::npos) << r.err;

  WriteTiff(Path("doc.tiff"), {MakePage(1728, 50, 1)});
  // 192.0.2.1 (TEST-NET-1) is not an address of this machine.
  r = Fax({"send", "--tiff", Path("doc.tiff"), "--local", "192.0.2.1:5000", "--offer-out",
           Path("o.sdp"), "--answer-in", Path("a.sdp")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--local: bind 192.0.2.1:5000"), std::string::npos) << r.err;

  r = Fax({"send", "--tiff", Path("doc.tiff"), "--local", "127.0.0.1:0", "--transport", "plain",
           "--offer-out", Path("o.sdp"), "--answer-in", Path("never.sdp"), "--sdp-wait", "0.2"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("did not appear within 0.2 s"), std::string::npos) << r.err;
  // The offer was written whole, by rename.
  EXPECT_NE(testing::ReadFileText(Path("o.sdp")).find("m=image "), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(Path("o.sdp.tmp")));

  std::ofstream(Path("bad_answer.sdp")) << "v=0\r\nthis is no sdp\r\n";
  r = Fax({"send", "--tiff", Path("doc.tiff"), "--local", "127.0.0.1:0", "--transport", "plain",
           "--offer-out", Path("o2.sdp"), "--answer-in", Path("bad_answer.sdp")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("answer SDP: line 2"), std::string::npos) << r.err;
}

TEST_F(FaxCliTest, AnswerOfPortZeroIsARejection) {
  WriteTiff(Path("doc.tiff"), {MakePage(1728, 50, 1)});
  std::ofstream(Path("a.sdp")) << "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                                  "t=0 0\r\nm=image 0 udptl t38\r\n";
  CliRun r = Fax({"send", "--tiff", Path("doc.tiff"), "--local", "127.0.0.1:0", "--transport",
               "plain", "--offer-out", Path("o.sdp"), "--answer-in", Path("a.sdp")});
  EXPECT_EQ(r.code, 1) << r.err;
  const nlohmann::json j = r.LastJson();
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["role"], "send");
  EXPECT_EQ(j["transport"], "plain");
  EXPECT_EQ(j["error"], "remote rejected the image stream");
  EXPECT_EQ(j["pages"], 0);
}

TEST_F(FaxCliTest, AnswererRejectsAnOfferOfTheOtherTransport) {
  std::ofstream(Path("o.sdp")) << "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                                  "t=0 0\r\nm=image 5000 udptl t38\r\na=T38FaxVersion:0\r\n";
  CliRun r = Fax({"receive", "--tiff-out", Path("rx.tiff"), "--local", "127.0.0.1:0",
               "--offer-in", Path("o.sdp"), "--answer-out", Path("a.sdp")});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(r.LastJson()["error"], "the offer says udptl, we use UDP/TLS/UDPTL (--transport)");
  EXPECT_NE(testing::ReadFileText(Path("a.sdp")).find("m=image 0 udptl t38\r\n"),
            std::string::npos);
}

}  // namespace
}  // namespace t38relay::tools::fax
