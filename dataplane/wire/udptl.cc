// UDPTL packets (T.38 clause 9.1) in aligned PER, and spandsp-style parity FEC.
//
// UDPTLPacket ::= SEQUENCE {
//   seq-number          INTEGER (0..65535),            -> 16 bits, aligned
//   primary-ifp-packet  TYPE-IDENTIFIER.&Type(IFPPacket),  -> open type: length, octets
//   error-recovery CHOICE {                             -> 1 bit
//     secondary-ifp-packets SEQUENCE OF open type,      -> aligned count, open types
//     fec-info SEQUENCE { fec-npackets INTEGER,         -> length (1), one octet
//                         fec-data SEQUENCE OF OCTET STRING } } }  -> count, length + octets each
#include "dataplane/wire/udptl.h"

#include <algorithm>

#include "dataplane/wire/per.h"

namespace t38relay::dataplane {
namespace {

// dst ^= src over src's length; the parity of T.38 FEC is as long as its longest member, so a
// src longer than dst is cut to dst (callers reject that case first: it is another group's IFP).
void XorInto(MutableBytes dst, Bytes src) {
  const size_t n = std::min(dst.size(), src.size());
  for (size_t i = 0; i < n; ++i) dst[i] ^= src[i];
}

WireError MapStatus(PerStatus s, WireError range_error) {
  switch (s) {
    case PerStatus::kOk:
      return WireError::kOk;
    case PerStatus::kTruncated:
      return WireError::kUdptlTruncated;
    case PerStatus::kNotCanonical:
      return WireError::kUdptlNotCanonical;
    case PerStatus::kFragmented:
      return WireError::kUdptlFragmentedLength;
    case PerStatus::kOutOfRange:
      break;
  }
  return range_error;
}

WireError ReadIfp(BitReader& in, Bytes* out) {
  return MapStatus(ReadPerOctets(in, kMaxIfpLength, out), WireError::kUdptlIfpTooLong);
}

WireError ReadCount(BitReader& in, size_t limit, WireError too_many, size_t* count) {
  if (WireError e = MapStatus(ReadPerLength(in, count), too_many); e != WireError::kOk) return e;
  return *count <= limit ? WireError::kOk : too_many;
}

WireError ReadHeader(BitReader& in, uint16_t* seq, Bytes* primary) {
  if (!in.ReadAlignedU16(seq)) return WireError::kUdptlTruncated;
  return ReadIfp(in, primary);
}

WireError ReadFec(BitReader& in, UdptlPacket* out) {
  // fec-npackets is an unconstrained INTEGER (X.691 12.2.6: length, two's complement octets).
  // Every span up to kMaxFecSpan fits one octet, so any other length is out of range or padded.
  size_t octets;
  if (WireError e = MapStatus(ReadPerLength(in, &octets), WireError::kUdptlBadFecCount);
      e != WireError::kOk) {
    return e;
  }
  if (octets != 1) return WireError::kUdptlBadFecCount;
  uint32_t span;
  if (!in.ReadBits(8, &span)) return WireError::kUdptlTruncated;
  if (span > kMaxFecSpan) return WireError::kUdptlBadFecCount;  // also every negative value
  size_t count;
  if (WireError e = ReadCount(in, kMaxFecEntries, WireError::kUdptlTooManyFec, &count);
      e != WireError::kOk) {
    return e;
  }
  for (size_t i = 0; i < count; ++i) {
    if (WireError e = ReadIfp(in, &out->fec_storage[i]); e != WireError::kOk) return e;
  }
  out->fec_span = span;
  out->fec_count = count;
  return WireError::kOk;
}

bool FitsIfp(Bytes b) { return b.size() <= kMaxIfpLength; }

}  // namespace

WireError DecodeUdptlHeader(Bytes in, UdptlHeader* out) {
  // Every packet the relay counts: a primary IFP under 128 octets has a one-octet length
  // determinant (X.691 11.9.3.6), so the header is read at fixed offsets. Anything else takes the
  // PER reader, which gives the same result for these.
  if (in.size() >= 3 && in[2] < 0x80) {
    const size_t length = in[2];
    if (in.size() - 3 < length) return WireError::kUdptlTruncated;
    out->seq = LoadBe16(in.data());
    out->primary = in.subspan(3, length);
    return WireError::kOk;
  }
  BitReader r(in);
  return ReadHeader(r, &out->seq, &out->primary);
}

WireError DecodeUdptl(Bytes in, UdptlPacket* out) {
  BitReader r(in);
  if (WireError e = ReadHeader(r, &out->seq, &out->primary); e != WireError::kOk) return e;
  out->secondary_count = 0;
  out->fec_span = 0;
  out->fec_count = 0;
  bool fec;
  if (!r.ReadBit(&fec)) return WireError::kUdptlTruncated;
  out->recovery = fec ? UdptlRecovery::kFec : UdptlRecovery::kSecondary;
  if (fec) {
    if (WireError e = ReadFec(r, out); e != WireError::kOk) return e;
  } else {
    size_t count;
    if (WireError e = ReadCount(r, kMaxSecondary, WireError::kUdptlTooManySecondary, &count);
        e != WireError::kOk) {
      return e;
    }
    for (size_t i = 0; i < count; ++i) {
      if (WireError e = ReadIfp(r, &out->secondary_storage[i]); e != WireError::kOk) return e;
    }
    out->secondary_count = count;
  }
  // Both alternatives end on an octet boundary.
  return r.remaining_bytes() == 0 ? WireError::kOk : WireError::kUdptlTrailingBytes;
}

WireError EncodeUdptl(const UdptlPacket& packet, MutableBytes out, size_t* written) {
  const bool fec = packet.recovery == UdptlRecovery::kFec;
  if (!FitsIfp(packet.primary)) return WireError::kUdptlIfpTooLong;
  if (fec) {
    if (packet.fec_span > kMaxFecSpan) return WireError::kUdptlBadFecCount;
    if (packet.fec_count > kMaxFecEntries) return WireError::kUdptlTooManyFec;
    if (!std::ranges::all_of(packet.fec_entries(), FitsIfp)) return WireError::kUdptlIfpTooLong;
  } else {
    if (packet.secondary_count > kMaxSecondary) return WireError::kUdptlTooManySecondary;
    if (!std::ranges::all_of(packet.secondaries(), FitsIfp)) return WireError::kUdptlIfpTooLong;
  }

  BitWriter w(out);
  w.WriteAlignedU16(packet.seq);
  WritePerOctets(w, packet.primary);
  w.WriteBit(fec);
  if (fec) {
    WritePerLength(w, 1);
    w.WriteBits(8, packet.fec_span);
    WritePerLength(w, packet.fec_count);
    for (Bytes entry : packet.fec_entries()) WritePerOctets(w, entry);
  } else {
    WritePerLength(w, packet.secondary_count);
    for (Bytes ifp : packet.secondaries()) WritePerOctets(w, ifp);
  }
  // Every value was checked above, so the only way left to fail is running out of room.
  if (!w.ok()) return WireError::kUdptlBufferTooSmall;
  *written = w.length();
  return WireError::kOk;
}

UdptlPacket UdptlWithRedundancy(uint16_t seq, Bytes primary, std::span<const Bytes> previous) {
  UdptlPacket p;
  p.seq = seq;
  p.primary = primary;
  p.secondary_count = std::min(previous.size(), kMaxSecondary);
  std::copy_n(previous.begin(), p.secondary_count, p.secondary_storage.begin());
  return p;
}

uint16_t FecCoveredSeq(uint16_t seq, uint32_t span, size_t entries, size_t entry, size_t k) {
  return static_cast<uint16_t>(seq - entries * (span - k) + entry);
}

size_t UdptlRecoverable(const UdptlPacket& packet, uint16_t first, uint16_t count) {
  auto lost = [&](uint16_t seq) { return static_cast<uint16_t>(seq - first) < count; };
  size_t recoverable = 0;
  if (packet.recovery == UdptlRecovery::kSecondary) {
    for (size_t i = 0; i < packet.secondary_count; ++i) {
      if (lost(static_cast<uint16_t>(packet.seq - 1 - i))) ++recoverable;
    }
    return recoverable;
  }
  // An entry rebuilds its group's one missing member; groups of different entries are disjoint.
  for (size_t entry = 0; entry < packet.fec_count; ++entry) {
    size_t missing = 0;
    for (size_t k = 0; k < packet.fec_span; ++k) {
      if (lost(FecCoveredSeq(packet.seq, packet.fec_span, packet.fec_count, entry, k))) ++missing;
    }
    if (missing == 1) ++recoverable;
  }
  return recoverable;
}

WireError BuildUdptlFec(std::span<const Bytes> previous, uint32_t span, size_t entries,
                        MutableBytes scratch, UdptlPacket* packet) {
  if (span > kMaxFecSpan) return WireError::kUdptlBadFecCount;
  if (entries > kMaxFecEntries) return WireError::kUdptlTooManyFec;
  if (span == 0) entries = 0;
  if (previous.size() < span * entries) {
    // spandsp's wind-up: as many whole groups as the history allows.
    entries = previous.size() / span;
    if (previous.size() < span) span = 0;
  }
  size_t used = 0;
  for (size_t j = 0; j < entries; ++j) {
    size_t length = 0;
    for (size_t k = 0; k < span; ++k) {
      length = std::max(length, previous[entries * (span - k) - j - 1].size());
    }
    if (length > kMaxIfpLength) return WireError::kUdptlIfpTooLong;
    if (length > scratch.size() - used) return WireError::kUdptlBufferTooSmall;
    MutableBytes fec = scratch.subspan(used, length);
    std::fill(fec.begin(), fec.end(), uint8_t{0});
    for (size_t k = 0; k < span; ++k) {
      XorInto(fec, previous[entries * (span - k) - j - 1]);
    }
    packet->fec_storage[j] = fec;
    used += length;
  }
  packet->recovery = UdptlRecovery::kFec;
  packet->fec_span = span;
  packet->fec_count = entries;
  packet->secondary_count = 0;
  return WireError::kOk;
}

WireError RecoverUdptlFec(const UdptlPacket& packet, size_t entry, std::span<const Bytes> group,
                          size_t missing, IfpVariant variant, MutableBytes out, size_t* length) {
  if (packet.recovery != UdptlRecovery::kFec || entry >= packet.fec_count ||
      group.size() != packet.fec_span || missing >= group.size()) {
    return WireError::kUdptlFecUnrecoverable;
  }
  const Bytes parity = packet.fec_entries()[entry];
  if (parity.size() > out.size()) return WireError::kUdptlBufferTooSmall;
  MutableBytes rebuilt = out.first(parity.size());
  std::copy(parity.begin(), parity.end(), rebuilt.begin());
  for (size_t k = 0; k < group.size(); ++k) {
    if (k == missing) continue;
    // The entry is as long as the longest member, so a longer one is from another group.
    if (group[k].size() > parity.size()) return WireError::kUdptlFecUnrecoverable;
    XorInto(rebuilt, group[k]);
  }
  IfpPacket ifp;
  size_t consumed;
  if (DecodeIfpPrefix(rebuilt, variant, &ifp, &consumed) != WireError::kOk) {
    return WireError::kUdptlFecUnrecoverable;
  }
  *length = consumed;
  return WireError::kOk;
}

}  // namespace t38relay::dataplane
