// Aligned PER (ITU-T X.691) pieces shared by UDPTL and the T.38 IFP codecs.
//
// Only what T.38 needs: length determinants without fragmentation, constrained whole numbers up to
// a range of 65536, normally small numbers below 64, octet strings (also open types) and padding.
// Decoders are strict: padding bits must be zero and lengths must use their shortest form, so that
// every accepted encoding re-encodes to the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dataplane/wire/byte_reader.h"

namespace t38relay::dataplane {

// Largest length a single determinant carries; 16384 and up needs fragments (X.691 11.9.3.8),
// which no T.38 field ever needs and which the codecs reject.
inline constexpr size_t kPerMaxLength = 16383;

// Why a PER read failed; each codec maps it to its own WireError.
enum class PerStatus : uint8_t {
  kOk,
  kTruncated,     // ran out of input
  kFragmented,    // a length determinant in the fragmented form 11xxxxxx
  kNotCanonical,  // non-zero padding bits, or a long-form length below 128
  kOutOfRange,    // a normally small number in its >= 64 form
};

// X.691 11.9.3.6-7 (aligned): a length < 128 is one octet 0xxxxxxx; 128..16383 is two octets
// 10xxxxxx xxxxxxxx. The determinant is octet-aligned, so the padding before it is checked.
PerStatus ReadPerLength(BitReader& in, size_t* length);
// False when length > kPerMaxLength or the output is full.
bool WritePerLength(BitWriter& out, size_t length);
// Octets the determinant of `length` takes: 1 or 2.
size_t PerLengthSize(size_t length);

// An unconstrained OCTET STRING or an open type (X.691 10.2, 17): a length determinant, then the
// octets, aligned. *out is a view into the input. A length above max_length is kOutOfRange.
PerStatus ReadPerOctets(BitReader& in, size_t max_length, Bytes* out);
bool WritePerOctets(BitWriter& out, Bytes octets);

// A constrained whole number as its offset from the lower bound (X.691 11.5.7, aligned variant):
// range <= 255 is a bit field of the fewest bits that hold range-1, not aligned; range 256 is one
// aligned octet; 257..65536 two aligned octets. Larger ranges are not used by T.38 and fail.
// The caller checks *offset < range when range is not a power of two.
PerStatus ReadConstrainedWholeNumber(BitReader& in, uint32_t range, uint32_t* offset);
bool WriteConstrainedWholeNumber(BitWriter& out, uint32_t range, uint32_t offset);

// A normally small non-negative whole number (X.691 11.6), the index of an extension addition:
// 0 then six bits for values < 64. The 1-prefixed form for larger values is kOutOfRange: no T.38
// version defines that many additions.
PerStatus ReadNormallySmallNumber(BitReader& in, uint32_t* value);
bool WriteNormallySmallNumber(BitWriter& out, uint32_t value);

// Moves to the next octet boundary: kNotCanonical if a skipped padding bit is 1.
PerStatus ReadPadding(BitReader& in);

}  // namespace t38relay::dataplane
