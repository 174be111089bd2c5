// Helpers shared by the tests: where the test material lives, files and hex.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace t38relay::testing {

// ../shared/vectors (T38_VECTORS_DIR), or "" when this checkout has no vectors beside it.
std::string VectorsDir();
// tests/data (T38_TEST_DATA_DIR).
std::string TestDataDir();
// The bytes of a file; fails the current test (and returns {}) when it cannot be read.
std::vector<uint8_t> ReadFileBytes(const std::string& path);
std::string ReadFileText(const std::string& path);
// "0a1b..." (whitespace ignored) to bytes; fails the current test on bad hex.
std::vector<uint8_t> FromHex(std::string_view hex);
std::string ToHex(const std::vector<uint8_t>& bytes);
// Fields of a tab- or comma-separated line: "" gives no field, a trailing separator an empty last
// one (tshark's -T fields output).
std::vector<std::string> SplitFields(const std::string& s, char sep);
// Runs a shell command and returns what it wrote to standard output ("" if it cannot start).
std::string Shell(const std::string& command);

}  // namespace t38relay::testing

// Skips the test (visible as SKIPPED in the summary) when the outside vectors are not present.
#define T38_REQUIRE_VECTORS()                                                  \
  do {                                                                         \
    if (::t38relay::testing::VectorsDir().empty())                             \
      GTEST_SKIP() << "test vectors not found (set T38_VECTORS_DIR)";          \
  } while (0)
