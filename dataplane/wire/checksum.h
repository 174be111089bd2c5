// The internet checksum (RFC 1071), its incremental update (RFC 1624) and pseudo-header sums.
#pragma once

#include <cstdint>

#include "dataplane/wire/address.h"
#include "dataplane/wire/byte_reader.h"

namespace t38relay::dataplane {

// A running ones' complement sum, folded to 16 bits (0..0xFFFF), in network word order. Sums of
// several pieces chain as long as every piece but the last has an even length.
uint32_t ChecksumAdd(uint32_t sum, Bytes data);

// The checksum field value for a running sum: its ones' complement.
inline uint16_t ChecksumFinish(uint32_t sum) { return static_cast<uint16_t>(~sum); }

// The ones' complement sum of two 16-bit sums (end-around carry).
inline uint32_t ChecksumCombine(uint32_t a, uint32_t b) {
  uint32_t sum = a + b;
  sum = (sum & 0xFFFF) + (sum >> 16);
  return (sum & 0xFFFF) + (sum >> 16);
}

// True when data (checksum field included) sums to all ones (RFC 1071 section 1, "verify").
inline bool ChecksumVerifies(uint32_t sum) { return sum == 0xFFFF; }

inline uint16_t InternetChecksum(Bytes data) { return ChecksumFinish(ChecksumAdd(0, data)); }

// RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'): the new checksum after one 16-bit word changed from
// old_word to new_word, without touching the rest of the data (NAT-style rewrites).
uint16_t ChecksumUpdate16(uint16_t checksum, uint16_t old_word, uint16_t new_word);
// The same for an even-length field (an address) that changed from old_bytes to new_bytes.
uint16_t ChecksumUpdate(uint16_t checksum, Bytes old_bytes, Bytes new_bytes);

// The pseudo-header sum of UDP/ICMPv6 for either family: RFC 768 (IPv4: src, dst, zero, protocol,
// 16-bit length) and RFC 8200 section 8.1 (IPv6: src, dst, 32-bit length, zeros, next header).
// Both families use the same words once the 32-bit length is split, so one function serves both.
uint32_t PseudoHeaderSum(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                         uint32_t l4_length);

// The checksum of an upper-layer message whose checksum field holds zero, over the pseudo-header.
// UDP sends a computed 0 as 0xFFFF (RFC 768); the caller applies that rule.
inline uint16_t TransportChecksum(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                                  Bytes l4) {
  return ChecksumFinish(
      ChecksumAdd(PseudoHeaderSum(src, dst, protocol, static_cast<uint32_t>(l4.size())), l4));
}

// True when an upper-layer message with its checksum field in place verifies over the pseudo-header.
inline bool TransportChecksumVerifies(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                                      Bytes l4) {
  return ChecksumVerifies(
      ChecksumAdd(PseudoHeaderSum(src, dst, protocol, static_cast<uint32_t>(l4.size())), l4));
}

}  // namespace t38relay::dataplane
