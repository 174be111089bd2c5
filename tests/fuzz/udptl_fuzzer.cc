// Fuzz target for the UDPTL codec: decode, re-encode byte for byte, and the FEC build/recover
// paths.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dataplane/wire/udptl.h"
#include "tests/dataplane/wire/udptl_header_oracle.h"

using namespace t38relay::dataplane;

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool SameBytes(Bytes a, Bytes b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// Builds FEC over the packet's IFPs (most recent first) and rebuilds every member that is a
// valid IFP from the others: it must come back byte for byte.
void CheckFec(const UdptlPacket& packet, std::span<const Bytes> previous) {
  for (uint32_t span = 1; span <= 3; ++span) {
    const size_t entries = previous.size() / span;
    if (entries == 0 || entries > kMaxFecEntries) continue;
    std::vector<uint8_t> scratch(kMaxFecEntries * kMaxIfpLength);
    UdptlPacket fec;
    fec.seq = packet.seq;
    fec.primary = packet.primary;
    Check(BuildUdptlFec(previous, span, entries, scratch, &fec) == WireError::kOk);
    std::vector<uint8_t> out(kMaxIfpLength);
    for (size_t j = 0; j < fec.fec_count; ++j) {
      std::vector<Bytes> group;
      for (size_t k = 0; k < fec.fec_span; ++k) {
        const uint16_t covered = FecCoveredSeq(fec.seq, fec.fec_span, fec.fec_count, j, k);
        group.push_back(previous[static_cast<uint16_t>(fec.seq - 1 - covered)]);
      }
      for (size_t lost = 0; lost < group.size(); ++lost) {
        IfpPacket ifp;
        size_t length = 0;
        const WireError e = RecoverUdptlFec(fec, j, group, lost, IfpVariant::k1998, out, &length);
        if (DecodeIfp(group[lost], IfpVariant::k1998, &ifp) == WireError::kOk) {
          Check(e == WireError::kOk && SameBytes(Bytes(out).first(length), group[lost]));
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes in(data, size);
  UdptlHeader header, reference;
  const WireError header_error = DecodeUdptlHeader(in, &header);
  // The fixed-offset path against the PER primitives: the same error, or the same header.
  Check(header_error == t38relay::testing::UdptlHeaderByPer(in, &reference));
  if (header_error == WireError::kOk) {
    Check(header.seq == reference.seq && header.primary.data() == reference.primary.data() &&
          header.primary.size() == reference.primary.size());
  }
  UdptlPacket p;
  const WireError error = DecodeUdptl(in, &p);
  // The full decode reads the header first (with the PER reader): a header error is its error.
  if (header_error != WireError::kOk) Check(error == header_error);
  if (error != WireError::kOk) return 0;
  Check(header_error == WireError::kOk && header.seq == p.seq &&
        header.primary.data() == p.primary.data() && header.primary.size() == p.primary.size());

  // The decoder only accepts canonical encodings, so re-encoding gives the input back.
  std::vector<uint8_t> out(size + 16);
  size_t written = 0;
  Check(EncodeUdptl(p, out, &written) == WireError::kOk);
  Check(SameBytes(Bytes(out).first(written), in));

  // The relay's gap accounting: never more than the gap, nor than the packet carries.
  for (uint16_t gap : {uint16_t{1}, uint16_t{5}, uint16_t{300}}) {
    const size_t recoverable = UdptlRecoverable(p, static_cast<uint16_t>(p.seq - gap), gap);
    Check(recoverable <= gap && recoverable <= p.secondary_count + p.fec_count);
  }

  if (p.recovery == UdptlRecovery::kSecondary) {
    CheckFec(p, p.secondaries());
  } else {
    // Recovery from arbitrary entries must fail cleanly or produce a decodable IFP.
    std::vector<uint8_t> rebuilt(kMaxIfpLength);
    std::vector<Bytes> group(p.fec_span, p.primary);
    for (size_t j = 0; j < p.fec_count; ++j) {
      for (size_t lost = 0; lost < group.size(); ++lost) {
        size_t length = 0;
        if (RecoverUdptlFec(p, j, group, lost, IfpVariant::k2002, rebuilt, &length) ==
            WireError::kOk) {
          IfpPacket ifp;
          size_t consumed = 0;
          Check(DecodeIfpPrefix(Bytes(rebuilt).first(length), IfpVariant::k2002, &ifp, &consumed) ==
                    WireError::kOk &&
                consumed == length);
        }
      }
    }
  }
  return 0;
}
