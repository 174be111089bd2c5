// Tests of the aligned-PER pieces: length determinants, whole numbers, octets and padding.
#include "dataplane/wire/per.h"

#include <array>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace t38relay::dataplane {
namespace {

using ::t38relay::testing::FromHex;

std::vector<uint8_t> WriteLength(size_t length) {
  std::array<uint8_t, 4> buf{};
  BitWriter w(buf);
  EXPECT_TRUE(WritePerLength(w, length));
  return std::vector<uint8_t>(buf.begin(), buf.begin() + w.length());
}

TEST(PerLength, BothFormsRoundTrip) {
  const struct {
    size_t length;
    const char* hex;
  } kCases[] = {{0, "00"},     {1, "01"},      {127, "7f"},    {128, "8080"},
                {255, "80ff"}, {1472, "85c0"}, {16383, "bfff"}};
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.length);
    const std::vector<uint8_t> bytes = WriteLength(c.length);
    EXPECT_EQ(bytes, FromHex(c.hex));
    EXPECT_EQ(PerLengthSize(c.length), bytes.size());
    BitReader r(bytes);
    size_t length = 0;
    ASSERT_EQ(ReadPerLength(r, &length), PerStatus::kOk);
    EXPECT_EQ(length, c.length);
    EXPECT_EQ(r.remaining_bytes(), 0u);
  }
}

TEST(PerLength, FragmentedFormIsRejected) {
  std::array<uint8_t, 4> buf{};
  BitWriter w(buf);
  EXPECT_FALSE(WritePerLength(w, 16384));
  for (const char* hex : {"c1", "c4", "ff"}) {
    const std::vector<uint8_t> bytes = FromHex(hex);
    BitReader r(bytes);
    size_t length;
    EXPECT_EQ(ReadPerLength(r, &length), PerStatus::kFragmented) << hex;
  }
}

TEST(PerLength, LongFormBelow128IsNotCanonical) {
  const std::vector<uint8_t> bytes = FromHex("8005");
  BitReader r(bytes);
  size_t length;
  EXPECT_EQ(ReadPerLength(r, &length), PerStatus::kNotCanonical);
}

TEST(PerLength, Truncated) {
  for (const char* hex : {"", "80", "bf"}) {
    const std::vector<uint8_t> bytes = FromHex(hex);
    BitReader r(bytes);
    size_t length;
    EXPECT_EQ(ReadPerLength(r, &length), PerStatus::kTruncated) << hex;
  }
}

TEST(PerLength, AlignsAndChecksPadding) {
  // One bit, then padding, then the determinant in the next octet.
  const std::vector<uint8_t> good = FromHex("8005");
  BitReader r(good);
  bool bit;
  ASSERT_TRUE(r.ReadBit(&bit));
  size_t length;
  ASSERT_EQ(ReadPerLength(r, &length), PerStatus::kOk);
  EXPECT_EQ(length, 5u);

  const std::vector<uint8_t> bad = FromHex("8105");
  BitReader r2(bad);
  ASSERT_TRUE(r2.ReadBit(&bit));
  EXPECT_EQ(ReadPerLength(r2, &length), PerStatus::kNotCanonical);
}

TEST(PerOctets, ViewAndLimit) {
  const std::vector<uint8_t> bytes = FromHex("03aabbcc");
  BitReader r(bytes);
  Bytes view;
  ASSERT_EQ(ReadPerOctets(r, 3, &view), PerStatus::kOk);
  EXPECT_EQ(view.data(), bytes.data() + 1);
  EXPECT_EQ(view.size(), 3u);

  BitReader r2(bytes);
  EXPECT_EQ(ReadPerOctets(r2, 2, &view), PerStatus::kOutOfRange);

  const std::vector<uint8_t> short_bytes = FromHex("03aabb");
  BitReader r3(short_bytes);
  EXPECT_EQ(ReadPerOctets(r3, 3, &view), PerStatus::kTruncated);

  std::vector<uint8_t> long_octets(300, 0x5a);
  std::vector<uint8_t> buf(302);
  BitWriter w(buf);
  ASSERT_TRUE(WritePerOctets(w, long_octets));
  EXPECT_EQ(w.length(), 302u);
  BitReader r4(buf);
  ASSERT_EQ(ReadPerOctets(r4, 300, &view), PerStatus::kOk);
  EXPECT_EQ(std::vector<uint8_t>(view.begin(), view.end()), long_octets);
}

TEST(PerConstrainedWholeNumber, BitFieldsAndAlignedOctets) {
  const struct {
    uint32_t range;
    uint32_t offset;
    size_t bits;  // after one leading bit
  } kCases[] = {{1, 0, 1},     {2, 1, 2},      {8, 5, 4},         {9, 8, 5},         {16, 15, 5},
                {255, 254, 9}, {256, 200, 16}, {65535, 1000, 24}, {65536, 65535, 24}};
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.range);
    std::array<uint8_t, 4> buf{};
    BitWriter w(buf);
    ASSERT_TRUE(w.WriteBit(true));
    ASSERT_TRUE(WriteConstrainedWholeNumber(w, c.range, c.offset));
    EXPECT_EQ(w.bit_offset(), c.bits);
    BitReader r(buf);
    bool bit;
    ASSERT_TRUE(r.ReadBit(&bit));
    uint32_t offset = 0;
    ASSERT_EQ(ReadConstrainedWholeNumber(r, c.range, &offset), PerStatus::kOk);
    EXPECT_EQ(offset, c.offset);
  }
  std::array<uint8_t, 4> buf{};
  BitWriter w(buf);
  EXPECT_FALSE(WriteConstrainedWholeNumber(w, 9, 9));
  EXPECT_FALSE(WriteConstrainedWholeNumber(w, 70000, 1));
}

TEST(PerConstrainedWholeNumber, AlignedFormChecksPadding) {
  const std::vector<uint8_t> bytes = FromHex("c0ffff");
  BitReader r(bytes);
  bool bit;
  ASSERT_TRUE(r.ReadBit(&bit));
  uint32_t offset;
  EXPECT_EQ(ReadConstrainedWholeNumber(r, 65536, &offset), PerStatus::kNotCanonical);
}

TEST(PerNormallySmallNumber, SmallFormOnly) {
  std::array<uint8_t, 2> buf{};
  BitWriter w(buf);
  ASSERT_TRUE(WriteNormallySmallNumber(w, 63));
  EXPECT_FALSE(WriteNormallySmallNumber(w, 64));
  BitReader r(buf);
  uint32_t v = 0;
  ASSERT_EQ(ReadNormallySmallNumber(r, &v), PerStatus::kOk);
  EXPECT_EQ(v, 63u);

  const std::vector<uint8_t> large = FromHex("8040");
  BitReader r2(large);
  EXPECT_EQ(ReadNormallySmallNumber(r2, &v), PerStatus::kOutOfRange);
  const std::vector<uint8_t> empty;
  BitReader r3(empty);
  EXPECT_EQ(ReadNormallySmallNumber(r3, &v), PerStatus::kTruncated);
}

TEST(PerPadding, ZeroBitsOnly) {
  const std::vector<uint8_t> bytes = FromHex("80c1");
  BitReader r(bytes);
  EXPECT_EQ(ReadPadding(r), PerStatus::kOk);  // already aligned: nothing to skip
  bool bit;
  ASSERT_TRUE(r.ReadBit(&bit));
  EXPECT_EQ(ReadPadding(r), PerStatus::kOk);
  ASSERT_TRUE(r.ReadBit(&bit));
  EXPECT_EQ(ReadPadding(r), PerStatus::kNotCanonical);
}

}  // namespace
}  // namespace t38relay::dataplane
