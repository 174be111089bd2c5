// Tests of the bounds-checked byte and bit readers/writers.
#include "dataplane/wire/byte_reader.h"

#include <array>
#include <vector>

#include "gtest/gtest.h"

namespace t38relay::dataplane {
namespace {

TEST(ByteReaderTest, ReadsBigEndianIntegers) {
  const std::array<uint8_t, 24> data = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                        0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
                                        0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};
  ByteReader r(data);
  uint8_t u8;
  uint16_t u16;
  uint32_t u24, u32;
  uint64_t u48, u64;
  ASSERT_TRUE(r.ReadU8(&u8));
  ASSERT_TRUE(r.ReadU16(&u16));
  ASSERT_TRUE(r.ReadU24(&u24));
  ASSERT_TRUE(r.ReadU32(&u32));
  ASSERT_TRUE(r.ReadU48(&u48));
  ASSERT_TRUE(r.ReadU64(&u64));
  EXPECT_EQ(u8, 0x01);
  EXPECT_EQ(u16, 0x0203);
  EXPECT_EQ(u24, 0x040506u);
  EXPECT_EQ(u32, 0x0708090au);
  EXPECT_EQ(u48, 0x0b0c0d0e0f10u);
  EXPECT_EQ(u64, 0x1112131415161718ull);
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.ok());
}

TEST(ByteReaderTest, FailureIsSticky) {
  const std::array<uint8_t, 3> data = {1, 2, 3};
  ByteReader r(data);
  uint32_t v = 0xdeadbeef;
  EXPECT_FALSE(r.ReadU32(&v));
  EXPECT_EQ(v, 0xdeadbeefu);  // untouched on failure
  uint8_t b;
  EXPECT_FALSE(r.ReadU8(&b));  // bytes remain, but the reader has failed
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_TRUE(r.ReadRemaining().empty());
}

TEST(ByteReaderTest, HugeLengthsDoNotWrap) {
  const std::array<uint8_t, 4> data = {1, 2, 3, 4};
  ByteReader r(data);
  ASSERT_TRUE(r.Skip(2));
  Bytes view;
  EXPECT_FALSE(r.ReadBytes(SIZE_MAX, &view));
  EXPECT_FALSE(r.ok());
  ByteReader r2(data);
  EXPECT_FALSE(r2.Skip(SIZE_MAX - 1));
}

TEST(ByteReaderTest, ViewsPointIntoInput) {
  const std::array<uint8_t, 5> data = {9, 8, 7, 6, 5};
  ByteReader r(data);
  Bytes view;
  ASSERT_TRUE(r.Skip(1));
  ASSERT_TRUE(r.ReadBytes(3, &view));
  EXPECT_EQ(view.data(), data.data() + 1);
  EXPECT_EQ(view.size(), 3u);
  uint8_t peek = 0;
  ASSERT_TRUE(r.PeekU8(&peek));
  EXPECT_EQ(peek, 5);
  EXPECT_EQ(r.offset(), 4u);
  Bytes rest = r.ReadRemaining();
  EXPECT_EQ(rest.size(), 1u);
  EXPECT_FALSE(r.PeekU8(&peek));
}

TEST(ByteWriterTest, WritesAndRefusesOverflow) {
  std::array<uint8_t, 8> buf{};
  ByteWriter w(buf);
  ASSERT_TRUE(w.WriteU16(0x0102));
  ASSERT_TRUE(w.WriteU48(0x030405060708ull));
  EXPECT_EQ(w.remaining(), 0u);
  EXPECT_FALSE(w.WriteU8(9));
  EXPECT_FALSE(w.ok());
  EXPECT_TRUE(w.written().empty());
  EXPECT_EQ(buf, (std::array<uint8_t, 8>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(ByteWriterTest, PatchesLengthsInsideWrittenBytesOnly) {
  std::array<uint8_t, 6> buf{};
  ByteWriter w(buf);
  ASSERT_TRUE(w.WriteU16(0));
  ASSERT_TRUE(w.WriteBytes(std::array<uint8_t, 2>{7, 7}));
  ASSERT_TRUE(w.PatchU16(0, 0xabcd));
  EXPECT_EQ(buf[0], 0xab);
  EXPECT_EQ(buf[1], 0xcd);
  EXPECT_FALSE(w.PatchU16(3, 1));  // would cross the written end
  EXPECT_FALSE(w.ok());
}

TEST(BitReaderTest, ReadsPerFieldsAndAligns) {
  // 0b1011'0010, 0x34, 0x56
  const std::array<uint8_t, 3> data = {0xb2, 0x34, 0x56};
  BitReader r(data);
  bool bit;
  uint32_t v;
  ASSERT_TRUE(r.ReadBit(&bit));
  EXPECT_TRUE(bit);
  ASSERT_TRUE(r.ReadBits(3, &v));
  EXPECT_EQ(v, 0b011u);
  uint8_t u8;
  ASSERT_TRUE(r.ReadAlignedU8(&u8));  // skips the 4 remaining bits of the first octet
  EXPECT_EQ(u8, 0x34);
  EXPECT_EQ(r.remaining_bytes(), 1u);
  Bytes view;
  EXPECT_FALSE(r.ReadAlignedBytes(2, &view));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.ReadBits(1, &v));
}

TEST(BitReaderTest, RejectsBadWidths) {
  const std::array<uint8_t, 8> data{};
  BitReader r(data);
  uint32_t v;
  EXPECT_FALSE(r.ReadBits(33, &v));
  BitReader r2(data);
  EXPECT_FALSE(r2.ReadBits(-1, &v));
}

TEST(BitWriterTest, RoundTripsWithBitReader) {
  std::array<uint8_t, 8> buf;
  buf.fill(0xff);  // the writer must clear what it does not set
  BitWriter w(buf);
  ASSERT_TRUE(w.WriteBit(true));
  ASSERT_TRUE(w.WriteBits(4, 0b0101));
  ASSERT_TRUE(w.WriteAlignedU16(0xbeef));
  ASSERT_TRUE(w.WriteBits(2, 0b10));
  ASSERT_TRUE(w.WriteAlignedBytes(std::array<uint8_t, 2>{0x11, 0x22}));
  EXPECT_EQ(w.length(), 6u);
  const auto out = w.written();
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.end()),
            (std::vector<uint8_t>{0xa8, 0xbe, 0xef, 0x80, 0x11, 0x22}));

  BitReader r(out);
  bool bit;
  uint32_t v;
  uint16_t u16;
  ASSERT_TRUE(r.ReadBit(&bit));
  ASSERT_TRUE(r.ReadBits(4, &v));
  EXPECT_EQ(v, 0b0101u);
  ASSERT_TRUE(r.ReadAlignedU16(&u16));
  EXPECT_EQ(u16, 0xbeef);
}

TEST(BitWriterTest, RefusesOverflow) {
  std::array<uint8_t, 1> buf{};
  BitWriter w(buf);
  ASSERT_TRUE(w.WriteBits(7, 0));
  EXPECT_FALSE(w.WriteBits(2, 0));
  EXPECT_FALSE(w.ok());
  EXPECT_TRUE(w.written().empty());
}

}  // namespace
}  // namespace t38relay::dataplane
