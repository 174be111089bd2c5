// Aligned PER (ITU-T X.691) pieces shared by UDPTL and the T.38 IFP codecs.
#include "dataplane/wire/per.h"

namespace t38relay::dataplane {
namespace {

// Bits of the bit field that holds offsets 0..range-1 (X.691 11.5.7.2, range <= 255).
int BitFieldWidth(uint32_t range) {
  int bits = 0;
  while (bits < 8 && (uint32_t{1} << bits) < range) ++bits;
  return bits;
}

}  // namespace

PerStatus ReadPadding(BitReader& in) {
  const int pad = static_cast<int>((8 - (in.bit_offset() & 7)) & 7);
  uint32_t bits;
  if (!in.ReadBits(pad, &bits)) return PerStatus::kTruncated;
  return bits == 0 ? PerStatus::kOk : PerStatus::kNotCanonical;
}

PerStatus ReadPerLength(BitReader& in, size_t* length) {
  if (PerStatus s = ReadPadding(in); s != PerStatus::kOk) return s;
  uint32_t first;
  if (!in.ReadBits(8, &first)) return PerStatus::kTruncated;
  if ((first & 0x80) == 0) {
    *length = first;
    return PerStatus::kOk;
  }
  if ((first & 0xc0) == 0xc0) return PerStatus::kFragmented;
  uint32_t second;
  if (!in.ReadBits(8, &second)) return PerStatus::kTruncated;
  const size_t value = ((first & 0x3f) << 8) | second;
  // 11.9.3.6 says "shall" use the one-octet form below 128.
  if (value < 128) return PerStatus::kNotCanonical;
  *length = value;
  return PerStatus::kOk;
}

bool WritePerLength(BitWriter& out, size_t length) {
  if (length > kPerMaxLength || !out.Align()) return false;
  if (length < 128) return out.WriteBits(8, static_cast<uint32_t>(length));
  return out.WriteBits(16, 0x8000u | static_cast<uint32_t>(length));
}

size_t PerLengthSize(size_t length) { return length < 128 ? 1 : 2; }

PerStatus ReadPerOctets(BitReader& in, size_t max_length, Bytes* out) {
  size_t length;
  if (PerStatus s = ReadPerLength(in, &length); s != PerStatus::kOk) return s;
  if (length > max_length) return PerStatus::kOutOfRange;
  // The determinant left the reader aligned, so this reads no padding.
  return in.ReadAlignedBytes(length, out) ? PerStatus::kOk : PerStatus::kTruncated;
}

bool WritePerOctets(BitWriter& out, Bytes octets) {
  return WritePerLength(out, octets.size()) && out.WriteAlignedBytes(octets);
}

PerStatus ReadConstrainedWholeNumber(BitReader& in, uint32_t range, uint32_t* offset) {
  if (range == 0 || range > 65536) return PerStatus::kOutOfRange;
  int bits;
  if (range <= 255) {
    bits = BitFieldWidth(range);
  } else {
    if (PerStatus s = ReadPadding(in); s != PerStatus::kOk) return s;
    bits = range == 256 ? 8 : 16;
  }
  return in.ReadBits(bits, offset) ? PerStatus::kOk : PerStatus::kTruncated;
}

bool WriteConstrainedWholeNumber(BitWriter& out, uint32_t range, uint32_t offset) {
  if (range == 0 || range > 65536 || offset >= range) return false;
  if (range <= 255) return out.WriteBits(BitFieldWidth(range), offset);
  return out.Align() && out.WriteBits(range == 256 ? 8 : 16, offset);
}

PerStatus ReadNormallySmallNumber(BitReader& in, uint32_t* value) {
  uint32_t large;
  if (!in.ReadBits(1, &large)) return PerStatus::kTruncated;
  if (large != 0) return PerStatus::kOutOfRange;
  return in.ReadBits(6, value) ? PerStatus::kOk : PerStatus::kTruncated;
}

bool WriteNormallySmallNumber(BitWriter& out, uint32_t value) {
  return value < 64 && out.WriteBits(1, 0) && out.WriteBits(6, value);
}

}  // namespace t38relay::dataplane
