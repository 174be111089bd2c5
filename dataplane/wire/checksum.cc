// The internet checksum (RFC 1071), its incremental update (RFC 1624) and pseudo-header sums.
#include "dataplane/wire/checksum.h"

#include <bit>
#include <cstring>

namespace t38relay::dataplane {
namespace {

uint32_t Fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint32_t>(sum);
}

}  // namespace

// RFC 1071 section 2 (B): the sum does not depend on byte order, so the data is summed in native
// (little-endian) 64-bit words with end-around carry and swapped once at the end.
uint32_t ChecksumAdd(uint32_t sum, Bytes data) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; data.size() - i >= 8; i += 8) {
    uint64_t word;
    std::memcpy(&word, data.data() + i, 8);
    acc += word;
    acc += acc < word;  // end-around carry
  }
  if (const size_t rest = data.size() - i; rest != 0) {
    // The tail is zero-padded at the end, as RFC 1071 pads an odd last byte: byte k of it goes to
    // bits 8k of the word (little-endian), read in fixed-size pieces rather than byte by byte.
    static_assert(std::endian::native == std::endian::little);
    const uint8_t* p = data.data() + i;
    uint64_t word = 0;
    if (rest & 4) {
      uint32_t w;
      std::memcpy(&w, p, 4);
      word = w;
    }
    if (rest & 2) {
      uint16_t w;
      std::memcpy(&w, p + (rest & 4), 2);
      word |= uint64_t{w} << (8 * (rest & 4));
    }
    if (rest & 1) word |= uint64_t{p[rest & 6]} << (8 * (rest & 6));
    acc += word;
    acc += acc < word;
  }
  uint32_t native = Fold(acc);
  native = static_cast<uint16_t>((native << 8) | (native >> 8));
  return Fold(uint64_t{sum} + native);
}

uint16_t ChecksumUpdate16(uint16_t checksum, uint16_t old_word, uint16_t new_word) {
  const uint32_t sum = Fold(uint64_t{static_cast<uint16_t>(~checksum)} +
                            static_cast<uint16_t>(~old_word) + new_word);
  return ChecksumFinish(sum);
}

uint16_t ChecksumUpdate(uint16_t checksum, Bytes old_bytes, Bytes new_bytes) {
  // ~(~HC + ~m + m') with m and m' summed over the whole field: ~m's sum is ~(m's sum).
  const uint32_t old_sum = ChecksumAdd(0, old_bytes);
  const uint32_t new_sum = ChecksumAdd(0, new_bytes);
  const uint32_t sum = Fold(uint64_t{static_cast<uint16_t>(~checksum)} +
                            static_cast<uint16_t>(~old_sum) + new_sum);
  return ChecksumFinish(sum);
}

uint32_t PseudoHeaderSum(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                         uint32_t l4_length) {
  // The addresses' 16-bit words, summed directly (2 or 8 of each).
  uint64_t sum = 0;
  for (size_t i = 0; i < src.size(); i += 2) sum += LoadBe16(&src.bytes[i]);
  for (size_t i = 0; i < dst.size(); i += 2) sum += LoadBe16(&dst.bytes[i]);
  sum += protocol;
  sum += l4_length >> 16;
  sum += l4_length & 0xFFFF;
  return Fold(sum);
}

}  // namespace t38relay::dataplane
