// CRC-32 (IEEE 802.3, the polynomial and conventions of zlib's crc32()), as STUN FINGERPRINT uses it.
#pragma once

#include <cstdint>

#include "dataplane/wire/byte_reader.h"

namespace t38relay::dataplane {

// The CRC-32 of `data`: Crc32("123456789") == 0xCBF43926, Crc32({}) == 0.
uint32_t Crc32(Bytes data);

// Continues a CRC over more bytes, as zlib's crc32(crc, ...):
// Crc32Extend(Crc32(a), b) == Crc32(a followed by b), and Crc32Extend(0, a) == Crc32(a).
uint32_t Crc32Extend(uint32_t crc, Bytes data);

}  // namespace t38relay::dataplane
