// Helpers shared by the tests: where the test material lives, files and hex.
#include "tests/test_support.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"

namespace t38relay::testing {

std::string VectorsDir() {
  const char* dir = std::getenv("T38_VECTORS_DIR");
  if (dir == nullptr || !std::filesystem::is_directory(dir)) return "";
  return dir;
}

std::string TestDataDir() {
  const char* dir = std::getenv("T38_TEST_DATA_DIR");
  return dir == nullptr ? "tests/data" : dir;
}

std::vector<uint8_t> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

std::string ReadFileText(const std::string& path) {
  const std::vector<uint8_t> bytes = ReadFileBytes(path);
  return std::string(bytes.begin(), bytes.end());
}

std::vector<uint8_t> FromHex(std::string_view hex) {
  std::string clean;
  for (char c : hex) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) clean.push_back(c);
  }
  if (clean.size() % 2 != 0 ||
      clean.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    ADD_FAILURE() << "bad hex: " << hex;
    return {};
  }
  const std::string raw = absl::HexStringToBytes(absl::string_view(clean));
  return std::vector<uint8_t>(raw.begin(), raw.end());
}

std::string ToHex(const std::vector<uint8_t>& bytes) {
  // Debian's Abseil has its own string_view type (not an alias of std::string_view).
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::vector<std::string> SplitFields(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(s);
  while (std::getline(in, field, sep)) out.push_back(field);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

std::string Shell(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

}  // namespace t38relay::testing
