// Fax TIFFs decoded with libtiff: checking one can be sent, and comparing two page by page
// (page count, size, resolution and every pixel).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace t38relay::tools::fax {

// Caps on what one file may make us decode (a hostile TIFF must not exhaust memory).
inline constexpr size_t kMaxTiffPages = 1000;
inline constexpr uint32_t kMaxPageWidth = 16384;
inline constexpr uint32_t kMaxPageLength = 65536;

// One page as bilevel pixels: rows of (width + 7) / 8 octets, most significant bit first,
// 1 = black whatever the file's photometric interpretation, bits past the width zero.
struct FaxPage {
  uint32_t width = 0;
  uint32_t length = 0;
  double x_dpi = 0;  // 0 when the file gives no resolution
  double y_dpi = 0;
  std::vector<uint8_t> pixels;
  size_t row_bytes() const { return (width + 7) / 8; }
};

// An open fax TIFF. Errors name the file and libtiff's complaint.
class FaxTiff {
 public:
  static absl::StatusOr<FaxTiff> Open(const std::string& path);
  FaxTiff(FaxTiff&&) noexcept;
  FaxTiff& operator=(FaxTiff&&) noexcept;
  ~FaxTiff();

  size_t pages() const { return pages_; }
  // Decodes page `index` (0-based). Only 1-bit, 1-sample, stripped pages are fax pages.
  absl::StatusOr<FaxPage> ReadPage(size_t index);

 private:
  struct Handle;
  FaxTiff(std::string path, std::unique_ptr<Handle> handle, size_t pages);
  std::string path_;
  std::unique_ptr<Handle> handle_;
  size_t pages_ = 0;
};

// Whether `path` is a fax TIFF spandsp can send: at least one page, every page decodes.
absl::Status CheckSendableTiff(const std::string& path);

struct TiffComparison {
  bool identical = false;
  size_t pages_a = 0;
  size_t pages_b = 0;
  std::vector<size_t> differing_pages;  // 1-based, pages present in both that differ
  std::vector<std::string> notes;       // one line per difference, for people
};

// Compares page count and, for pages present in both, size, resolution (a relative difference
// over 1% counts: 98 vs 196 lines/inch is another page even when the pixels happen to match)
// and pixels.
absl::StatusOr<TiffComparison> CompareFaxTiffs(const std::string& a, const std::string& b);

// {"identical":bool,"pages_a":N,"pages_b":M,"differing_pages":[...]}
nlohmann::ordered_json ComparisonToJson(const TiffComparison& comparison);

}  // namespace t38relay::tools::fax
