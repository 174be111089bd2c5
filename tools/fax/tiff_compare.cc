// libtiff decoding of fax pages (strips, 1 bit per pixel) and the page-by-page comparison.
#include "tools/fax/tiff_compare.h"

#include <tiffio.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace t38relay::tools::fax {

namespace {

// libtiff reports through process-wide handlers; the last error is kept for the status message.
thread_local std::string last_tiff_error;

void OnTiffError(const char* module, const char* format, va_list args) {
  char text[512];
  std::vsnprintf(text, sizeof(text), format, args);
  last_tiff_error = module != nullptr ? absl::StrCat(module, ": ", text) : std::string(text);
}

void InstallTiffHandlers() {
  static const bool installed = [] {
    TIFFSetErrorHandler(OnTiffError);
    TIFFSetWarningHandler(nullptr);  // unknown tags and the like are not our concern
    return true;
  }();
  (void)installed;
}

double Dpi(float value, uint16_t unit) {
  if (value <= 0) return 0;
  return unit == RESUNIT_CENTIMETER ? value * 2.54 : value;
}

bool ResolutionDiffers(double a, double b) {
  if (a == 0 || b == 0) return a != b;
  return std::fabs(a - b) / std::max(a, b) > 0.01;
}

}  // namespace

struct FaxTiff::Handle {
  TIFF* tif = nullptr;
  ~Handle() {
    if (tif != nullptr) TIFFClose(tif);
  }
};

FaxTiff::FaxTiff(std::string path, std::unique_ptr<Handle> handle, size_t pages)
    : path_(std::move(path)), handle_(std::move(handle)), pages_(pages) {}
FaxTiff::FaxTiff(FaxTiff&&) noexcept = default;
FaxTiff& FaxTiff::operator=(FaxTiff&&) noexcept = default;
FaxTiff::~FaxTiff() = default;

absl::StatusOr<FaxTiff> FaxTiff::Open(const std::string& path) {
  InstallTiffHandlers();
  last_tiff_error.clear();
  auto handle = std::make_unique<Handle>();
  handle->tif = TIFFOpen(path.c_str(), "r");
  if (handle->tif == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not a readable TIFF",
        last_tiff_error.empty() ? "" : absl::StrCat(" (", last_tiff_error, ")")));
  }
  const tdir_t pages = TIFFNumberOfDirectories(handle->tif);
  if (pages > kMaxTiffPages) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", pages, " pages, more than the ", kMaxTiffPages, " handled"));
  }
  return FaxTiff(path, std::move(handle), pages);
}

absl::StatusOr<FaxPage> FaxTiff::ReadPage(size_t index) {
  TIFF* tif = handle_->tif;
  const std::string where = absl::StrCat(path_, " page ", index + 1);
  last_tiff_error.clear();
  if (index >= pages_ || !TIFFSetDirectory(tif, static_cast<tdir_t>(index))) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": cannot be read ", last_tiff_error));
  }
  FaxPage page;
  uint16_t bits = 1, samples = 1, photometric = PHOTOMETRIC_MINISWHITE, unit = RESUNIT_INCH;
  float x_resolution = 0, y_resolution = 0;
  if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &page.width) ||
      !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &page.length)) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": no ImageWidth/ImageLength"));
  }
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &samples);
  TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
  TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
  TIFFGetField(tif, TIFFTAG_XRESOLUTION, &x_resolution);
  TIFFGetField(tif, TIFFTAG_YRESOLUTION, &y_resolution);
  if (bits != 1 || samples != 1) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", samples, " sample(s) of ", bits,
                                                   " bit(s) per pixel; a fax page has 1 of 1"));
  }
  if (TIFFIsTiled(tif)) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": tiled; fax pages are in strips"));
  }
  if (page.width == 0 || page.length == 0 || page.width > kMaxPageWidth ||
      page.length > kMaxPageLength) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %ux%u pixels is outside 1..%u x 1..%u", where, page.width, page.length,
        kMaxPageWidth, kMaxPageLength));
  }
  page.x_dpi = Dpi(x_resolution, unit);
  page.y_dpi = Dpi(y_resolution, unit);
  const size_t row_bytes = page.row_bytes();
  if (static_cast<size_t>(TIFFScanlineSize64(tif)) != row_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": unexpected scanline size"));
  }
  page.pixels.assign(row_bytes * page.length, 0);
  uint32_t rows_per_strip = page.length;
  TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
  rows_per_strip = std::clamp<uint32_t>(rows_per_strip, 1, page.length);
  const uint32_t strips = TIFFNumberOfStrips(tif);
  for (uint32_t row = 0, strip = 0; row < page.length; row += rows_per_strip, ++strip) {
    const uint32_t rows = std::min(rows_per_strip, page.length - row);
    if (strip >= strips ||
        TIFFReadEncodedStrip(tif, strip, page.pixels.data() + row * row_bytes,
                             static_cast<tmsize_t>(rows * row_bytes)) < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": strip ", strip, " does not decode ", last_tiff_error));
    }
  }
  const bool invert = photometric == PHOTOMETRIC_MINISBLACK;
  const uint8_t tail_mask =
      page.width % 8 == 0 ? 0xFF : static_cast<uint8_t>(0xFF << (8 - page.width % 8));
  for (size_t r = 0; r < page.length; ++r) {
    uint8_t* p = page.pixels.data() + r * row_bytes;
    if (invert) {
      for (size_t i = 0; i < row_bytes; ++i) p[i] = static_cast<uint8_t>(~p[i]);
    }
    p[row_bytes - 1] &= tail_mask;
  }
  return page;
}

absl::Status CheckSendableTiff(const std::string& path) {
  absl::StatusOr<FaxTiff> tiff = FaxTiff::Open(path);
  if (!tiff.ok()) return tiff.status();
  if (tiff->pages() == 0) return absl::InvalidArgumentError(absl::StrCat(path, ": no pages"));
  for (size_t i = 0; i < tiff->pages(); ++i) {
    if (absl::StatusOr<FaxPage> page = tiff->ReadPage(i); !page.ok()) return page.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<TiffComparison> CompareFaxTiffs(const std::string& a, const std::string& b) {
  absl::StatusOr<FaxTiff> ta = FaxTiff::Open(a);
  if (!ta.ok()) return ta.status();
  absl::StatusOr<FaxTiff> tb = FaxTiff::Open(b);
  if (!tb.ok()) return tb.status();
  TiffComparison out;
  out.pages_a = ta->pages();
  out.pages_b = tb->pages();
  if (out.pages_a != out.pages_b) {
    out.notes.push_back(absl::StrCat("page count: ", out.pages_a, " vs ", out.pages_b));
  }
  // One page of each in memory at a time.
  for (size_t i = 0; i < std::min(out.pages_a, out.pages_b); ++i) {
    absl::StatusOr<FaxPage> pa = ta->ReadPage(i);
    if (!pa.ok()) return pa.status();
    absl::StatusOr<FaxPage> pb = tb->ReadPage(i);
    if (!pb.ok()) return pb.status();
    const std::string page = absl::StrCat("page ", i + 1, ": ");
    bool differs = false;
    if (pa->width != pb->width || pa->length != pb->length) {
      out.notes.push_back(absl::StrCat(page, pa->width, "x", pa->length, " vs ", pb->width, "x",
                                       pb->length, " pixels"));
      differs = true;
    }
    if (ResolutionDiffers(pa->x_dpi, pb->x_dpi) || ResolutionDiffers(pa->y_dpi, pb->y_dpi)) {
      out.notes.push_back(absl::StrFormat("%sresolution %.0fx%.0f vs %.0fx%.0f dpi", page,
                                          pa->x_dpi, pa->y_dpi, pb->x_dpi, pb->y_dpi));
      differs = true;
    }
    if (pa->width == pb->width && pa->length == pb->length) {
      const size_t row_bytes = pa->row_bytes();
      size_t rows = 0;
      for (size_t r = 0; r < pa->length; ++r) {
        const auto* x = pa->pixels.data() + r * row_bytes;
        const auto* y = pb->pixels.data() + r * row_bytes;
        if (!std::equal(x, x + row_bytes, y)) ++rows;
      }
      if (rows > 0) {
        out.notes.push_back(absl::StrCat(page, rows, " of ", pa->length, " rows differ"));
        differs = true;
      }
    }
    if (differs) out.differing_pages.push_back(i + 1);
  }
  out.identical = out.pages_a == out.pages_b && out.differing_pages.empty();
  return out;
}

nlohmann::ordered_json ComparisonToJson(const TiffComparison& c) {
  return nlohmann::ordered_json{{"identical", c.identical},
                        {"pages_a", c.pages_a},
                        {"pages_b", c.pages_b},
                        {"differing_pages", c.differing_pages}};
}

}  // namespace t38relay::tools::fax
