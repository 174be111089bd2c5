// Tests of CRC-32 (IEEE 802.3 / zlib) against published check values and a bitwise reference.
#include "dataplane/wire/crc32.h"

#include <cstring>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace t38relay::dataplane {
namespace {

Bytes Text(std::string_view s) { return Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

// The textbook one-bit-at-a-time CRC, as an independent reference for the sliced tables.
uint32_t BitwiseCrc32(Bytes data) {
  uint32_t c = 0xFFFFFFFFu;
  for (uint8_t b : data) {
    c ^= b;
    for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
  }
  return ~c;
}

TEST(Crc32Test, KnownValues) {
  EXPECT_EQ(Crc32(Text("123456789")), 0xCBF43926u);  // the CRC catalogue's check value
  EXPECT_EQ(Crc32(Bytes()), 0u);
  EXPECT_EQ(Crc32(Text("a")), 0xE8B7BE43u);
  EXPECT_EQ(Crc32(Text("abc")), 0x352441C2u);
  EXPECT_EQ(Crc32(Text("The quick brown fox jumps over the lazy dog")), 0x414FA339u);
  const std::vector<uint8_t> zeros(32, 0);
  EXPECT_EQ(Crc32(Bytes(zeros).first(1)), 0xD202EF8Du);
  EXPECT_EQ(Crc32(zeros), 0x190A55ADu);
  const std::vector<uint8_t> ones(32, 0xFF);
  EXPECT_EQ(Crc32(ones), 0xFF6CAB0Bu);
}

TEST(Crc32Test, MatchesBitwiseReferenceAtEveryLengthAndAlignment) {
  std::vector<uint8_t> data(300);
  uint32_t x = 12345;
  for (auto& b : data) {
    x = x * 1103515245u + 12345u;
    b = static_cast<uint8_t>(x >> 16);
  }
  for (size_t start = 0; start < 8; ++start) {
    for (size_t n = 0; start + n <= data.size(); ++n) {
      const Bytes slice = Bytes(data).subspan(start, n);
      ASSERT_EQ(Crc32(slice), BitwiseCrc32(slice)) << "start " << start << " length " << n;
    }
  }
}

TEST(Crc32Test, ExtendContinuesACrcAtEverySplit) {
  const Bytes text = Text("The quick brown fox jumps over the lazy dog, 0123456789 times over.");
  const uint32_t whole = Crc32(text);
  for (size_t split = 0; split <= text.size(); ++split) {
    EXPECT_EQ(Crc32Extend(Crc32(text.first(split)), text.subspan(split)), whole) << split;
  }
  EXPECT_EQ(Crc32Extend(0, text), whole);
  EXPECT_EQ(Crc32Extend(whole, Bytes()), whole);
}

}  // namespace
}  // namespace t38relay::dataplane
