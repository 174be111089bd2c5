// The UDPTL header (seq-number, primary-ifp-packet) read with the PER primitives alone, as the
// reference DecodeUdptlHeader's fixed-offset path is checked against (tests and the fuzzer).
#pragma once

#include <cstdint>

#include "dataplane/wire/byte_reader.h"
#include "dataplane/wire/per.h"
#include "dataplane/wire/udptl.h"
#include "dataplane/wire/wire_error.h"

namespace t38relay::testing {

// T.38 clause 9.1 in aligned PER: a 16-bit integer, then an open type (X.691 10.9 length and
// octets); errors as udptl.h names them.
inline dataplane::WireError UdptlHeaderByPer(dataplane::Bytes in, dataplane::UdptlHeader* out) {
  using dataplane::PerStatus;
  using dataplane::WireError;
  dataplane::BitReader r(in);
  if (!r.ReadAlignedU16(&out->seq)) return WireError::kUdptlTruncated;
  switch (dataplane::ReadPerOctets(r, dataplane::kMaxIfpLength, &out->primary)) {
    case PerStatus::kOk: return WireError::kOk;
    case PerStatus::kTruncated: return WireError::kUdptlTruncated;
    case PerStatus::kNotCanonical: return WireError::kUdptlNotCanonical;
    case PerStatus::kFragmented: return WireError::kUdptlFragmentedLength;
    case PerStatus::kOutOfRange: return WireError::kUdptlIfpTooLong;
  }
  return WireError::kUdptlTruncated;
}

}  // namespace t38relay::testing
