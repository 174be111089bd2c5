// The one bounds-checked reader and writer under every wire codec: bytes and PER bits.
//
// Every check is written as `n <= size - pos` (no overflow), failure is sticky (after the first
// failed read every later read fails and returns nothing), and reads hand out views, never copies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace t38relay::dataplane {

using Bytes = std::span<const uint8_t>;
using MutableBytes = std::span<uint8_t>;

// The big-endian 16-bit word at p, for fixed-offset reads after the caller checked the length
// (the fast paths of the packet parsers and the checksum sums).
inline uint16_t LoadBe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// Reads big-endian integers and byte views from a buffer it does not own.
class ByteReader {
 public:
  explicit ByteReader(Bytes data) : data_(data) {}

  bool ReadU8(uint8_t* out) { return ReadUint(1, out); }
  bool ReadU16(uint16_t* out) { return ReadUint(2, out); }
  bool ReadU24(uint32_t* out) { return ReadUint(3, out); }
  bool ReadU32(uint32_t* out) { return ReadUint(4, out); }
  bool ReadU48(uint64_t* out) { return ReadUint(6, out); }
  bool ReadU64(uint64_t* out) { return ReadUint(8, out); }

  // A view of the next n bytes.
  bool ReadBytes(size_t n, Bytes* out) {
    const uint8_t* p;
    if (!Take(n, &p)) return false;
    *out = Bytes(p, n);
    return true;
  }
  bool CopyBytes(size_t n, uint8_t* out) {
    const uint8_t* p;
    if (!Take(n, &p)) return false;
    if (n != 0) std::memcpy(out, p, n);
    return true;
  }
  bool Skip(size_t n) {
    const uint8_t* p;
    return Take(n, &p);
  }
  bool PeekU8(uint8_t* out) const {
    if (failed_ || pos_ == data_.size()) return false;
    *out = data_[pos_];
    return true;
  }
  // Everything not yet read (empty after a failure); the reader is then at the end.
  Bytes ReadRemaining() {
    Bytes rest = failed_ ? Bytes() : data_.subspan(pos_);
    pos_ = data_.size();
    return rest;
  }

  // Marks the reader failed, e.g. when a decoded value breaks a rule of the format.
  void Fail() { failed_ = true; }
  bool ok() const { return !failed_; }
  size_t offset() const { return pos_; }
  size_t remaining() const { return failed_ ? 0 : data_.size() - pos_; }
  bool empty() const { return remaining() == 0; }

 private:
  bool Take(size_t n, const uint8_t** p) {
    if (failed_ || n > data_.size() - pos_) {
      failed_ = true;
      return false;
    }
    *p = data_.data() + pos_;
    pos_ += n;
    return true;
  }
  template <typename T>
  bool ReadUint(size_t n, T* out) {
    const uint8_t* p;
    if (!Take(n, &p)) return false;
    T v = 0;
    for (size_t i = 0; i < n; ++i) v = static_cast<T>((v << 8) | p[i]);
    *out = v;
    return true;
  }

  Bytes data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// Writes big-endian integers and bytes into a caller-owned buffer; never allocates.
class ByteWriter {
 public:
  explicit ByteWriter(MutableBytes out) : out_(out) {}

  bool WriteU8(uint8_t v) { return WriteUint(1, v); }
  bool WriteU16(uint16_t v) { return WriteUint(2, v); }
  bool WriteU24(uint32_t v) { return WriteUint(3, v); }
  bool WriteU32(uint32_t v) { return WriteUint(4, v); }
  bool WriteU48(uint64_t v) { return WriteUint(6, v); }
  bool WriteU64(uint64_t v) { return WriteUint(8, v); }
  bool WriteBytes(Bytes b) {
    uint8_t* p;
    if (!Take(b.size(), &p)) return false;
    if (!b.empty()) std::memcpy(p, b.data(), b.size());
    return true;
  }
  bool WriteZeros(size_t n) {
    uint8_t* p;
    if (!Take(n, &p)) return false;
    if (n != 0) std::memset(p, 0, n);
    return true;
  }
  // Overwrites a 16-bit value already written at `at` (for lengths known only at the end).
  bool PatchU16(size_t at, uint16_t v) {
    if (failed_ || at > pos_ || 2 > pos_ - at) {
      failed_ = true;
      return false;
    }
    out_[at] = static_cast<uint8_t>(v >> 8);
    out_[at + 1] = static_cast<uint8_t>(v);
    return true;
  }

  void Fail() { failed_ = true; }
  bool ok() const { return !failed_; }
  size_t length() const { return pos_; }
  size_t remaining() const { return failed_ ? 0 : out_.size() - pos_; }
  // What has been written so far (empty after a failure).
  MutableBytes written() const { return failed_ ? MutableBytes() : out_.first(pos_); }

 private:
  bool Take(size_t n, uint8_t** p) {
    if (failed_ || n > out_.size() - pos_) {
      failed_ = true;
      return false;
    }
    *p = out_.data() + pos_;
    pos_ += n;
    return true;
  }
  template <typename T>
  bool WriteUint(size_t n, T v) {
    uint8_t* p;
    if (!Take(n, &p)) return false;
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
    return true;
  }

  MutableBytes out_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// Reads bit fields most-significant bit first, as ASN.1 PER lays them out, with octet alignment.
class BitReader {
 public:
  explicit BitReader(Bytes data) : data_(data) {}

  // Reads n (0..32) bits into the low bits of *out.
  bool ReadBits(int n, uint32_t* out) {
    if (failed_ || n < 0 || n > 32 || static_cast<size_t>(n) > BitsLeft()) {
      failed_ = true;
      return false;
    }
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      v = (v << 1) | ((data_[bit_ >> 3] >> (7 - (bit_ & 7))) & 1u);
      ++bit_;
    }
    *out = v;
    return true;
  }
  bool ReadBit(bool* out) {
    uint32_t v;
    if (!ReadBits(1, &v)) return false;
    *out = v != 0;
    return true;
  }
  // Moves to the next octet boundary (PER "aligned" fields start there).
  void Align() {
    if (!failed_) bit_ = (bit_ + 7) & ~size_t{7};
  }
  // Aligns, then reads an octet-aligned integer or a view of n octets.
  bool ReadAlignedU8(uint8_t* out) {
    uint32_t v;
    Align();
    if (!ReadBits(8, &v)) return false;
    *out = static_cast<uint8_t>(v);
    return true;
  }
  bool ReadAlignedU16(uint16_t* out) {
    uint32_t v;
    Align();
    if (!ReadBits(16, &v)) return false;
    *out = static_cast<uint16_t>(v);
    return true;
  }
  bool ReadAlignedBytes(size_t n, Bytes* out) {
    Align();
    if (failed_ || n > (data_.size() - (bit_ >> 3))) {
      failed_ = true;
      return false;
    }
    *out = data_.subspan(bit_ >> 3, n);
    bit_ += n * 8;
    return true;
  }

  void Fail() { failed_ = true; }
  bool ok() const { return !failed_; }
  size_t bit_offset() const { return bit_; }
  // Whole octets left after aligning.
  size_t remaining_bytes() const {
    return failed_ ? 0 : data_.size() - ((bit_ + 7) >> 3);
  }

 private:
  // bit_ never passes data_.size() * 8, so this cannot wrap.
  size_t BitsLeft() const { return data_.size() * 8 - bit_; }

  Bytes data_;
  size_t bit_ = 0;
  bool failed_ = false;
};

// Writes bit fields most-significant bit first into a caller-owned buffer; pads with zero bits.
class BitWriter {
 public:
  explicit BitWriter(MutableBytes out) : out_(out) {}

  // Writes the low n (0..32) bits of v.
  bool WriteBits(int n, uint32_t v) {
    if (failed_ || n < 0 || n > 32 || static_cast<size_t>(n) > out_.size() * 8 - bit_) {
      failed_ = true;
      return false;
    }
    for (int i = n - 1; i >= 0; --i) {
      const size_t byte = bit_ >> 3;
      const uint8_t mask = static_cast<uint8_t>(0x80u >> (bit_ & 7));
      if ((bit_ & 7) == 0) out_[byte] = 0;
      if ((v >> i) & 1u) out_[byte] |= mask;
      ++bit_;
    }
    return true;
  }
  bool WriteBit(bool b) { return WriteBits(1, b ? 1 : 0); }
  // Pads with zero bits to the next octet boundary.
  bool Align() {
    const int pad = static_cast<int>((8 - (bit_ & 7)) & 7);
    return WriteBits(pad, 0);
  }
  bool WriteAlignedU8(uint8_t v) { return Align() && WriteBits(8, v); }
  bool WriteAlignedU16(uint16_t v) { return Align() && WriteBits(16, v); }
  bool WriteAlignedBytes(Bytes b) {
    if (!Align()) return false;
    if (failed_ || b.size() > out_.size() - (bit_ >> 3)) {
      failed_ = true;
      return false;
    }
    if (!b.empty()) std::memcpy(out_.data() + (bit_ >> 3), b.data(), b.size());
    bit_ += b.size() * 8;
    return true;
  }

  void Fail() { failed_ = true; }
  bool ok() const { return !failed_; }
  size_t bit_offset() const { return bit_; }
  // Octets used so far, counting a partly written last octet.
  size_t length() const { return (bit_ + 7) >> 3; }
  MutableBytes written() const { return failed_ ? MutableBytes() : out_.first(length()); }

 private:
  MutableBytes out_;
  size_t bit_ = 0;
  bool failed_ = false;
};

}  // namespace t38relay::dataplane
