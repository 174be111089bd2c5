// UDPTL packets (T.38 clause 9.1, UDPTLPacket) in aligned PER: decode, encode, and the parity FEC
// that T.38 stacks (spandsp, Asterisk) use in the fec-info alternative.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/wire/byte_reader.h"
#include "dataplane/wire/t38_ifp.h"
#include "dataplane/wire/wire_error.h"

namespace t38relay::dataplane {

// Secondary IFPs per packet. spandsp and Asterisk keep a 16-slot history (the primary and 15
// older IFPs), so 15 is the most any of them can send; the AST-2016-003 stream sends exactly 15.
// Real configurations use 1..5 (Cisco ls-redundancy <= 5).
inline constexpr size_t kMaxSecondary = 15;
// fec-data entries and fec-npackets (the span). Asterisk caps both at 5 (MAX_FEC_ENTRIES,
// MAX_FEC_SPAN); 8 leaves room without letting a packet claim an absurd group.
inline constexpr size_t kMaxFecEntries = 8;
inline constexpr uint32_t kMaxFecSpan = 8;
// Largest IFP, secondary or FEC entry: what one unfragmented IPv4 datagram on a 1500-octet link
// carries (Asterisk's LOCAL_FAX_MAX_DATAGRAM is 1400, spandsp's 400).
inline constexpr size_t kMaxIfpLength = 1472;

enum class UdptlRecovery : uint8_t { kSecondary, kFec };

// A decoded UDPTLPacket. Every Bytes is a view into the decoded input (or, when building one, into
// the caller's buffers). Zero-length IFPs are kept as they came: X.691 never produces them, but
// Asterisk and tshark accept them and the AST-2016-003 stream is full of them.
struct UdptlPacket {
  uint16_t seq = 0;
  Bytes primary;
  UdptlRecovery recovery = UdptlRecovery::kSecondary;
  // kSecondary: secondary_storage[i] is the IFP of seq - 1 - i (most recent first).
  std::array<Bytes, kMaxSecondary> secondary_storage{};
  size_t secondary_count = 0;
  // kFec: see FecCoveredSeq for which IFPs entry j covers.
  uint32_t fec_span = 0;  // fec-npackets
  std::array<Bytes, kMaxFecEntries> fec_storage{};
  size_t fec_count = 0;

  std::span<const Bytes> secondaries() const { return {secondary_storage.data(), secondary_count}; }
  std::span<const Bytes> fec_entries() const { return {fec_storage.data(), fec_count}; }
};

// Decodes a whole UDP payload. Octets after the error-recovery field are kUdptlTrailingBytes:
// nothing legitimate follows a UDPTLPacket, and the relay must not forward unseen bytes as fax.
WireError DecodeUdptl(Bytes in, UdptlPacket* out);

// The cheap dataplane path: only seq-number and the primary IFP view; the error-recovery part is
// not looked at (so a packet this accepts may still fail DecodeUdptl).
struct UdptlHeader {
  uint16_t seq = 0;
  Bytes primary;
};
WireError DecodeUdptlHeader(Bytes in, UdptlHeader* out);

// Encodes into `out`; *written is the payload length.
WireError EncodeUdptl(const UdptlPacket& packet, MutableBytes out, size_t* written);

// A packet carrying `primary` with `previous` as redundancy: previous[i] is the IFP of seq - 1 - i.
// Takes at most kMaxSecondary of them; the views must outlive the packet.
UdptlPacket UdptlWithRedundancy(uint16_t seq, Bytes primary, std::span<const Bytes> previous);

// FEC as spandsp and Asterisk send it (udptl_build_packet): with span S and E entries, entry j of
// packet `seq` is the XOR of the S IFPs seq - E*S + j, seq - E*(S-1) + j, ..., seq - E + j, the
// shorter ones zero-padded; the entry is as long as the longest. No length is carried, so a
// rebuilt IFP is cut to the length its own PER encoding states.
// The sequence number of member k (0 = oldest) of entry j.
uint16_t FecCoveredSeq(uint16_t seq, uint32_t span, size_t entries, size_t entry, size_t k);

// Sets packet->recovery to kFec with span and entries computed from `previous` (previous[i] is the
// IFP of packet->seq - 1 - i). Like spandsp, it winds up at the start of a stream: with fewer than
// span*entries previous IFPs it sends previous.size()/span entries (span 0 below span). The
// entries are written into `scratch` and packet->fec_storage views point there.
WireError BuildUdptlFec(std::span<const Bytes> previous, uint32_t span, size_t entries,
                        MutableBytes scratch, UdptlPacket* packet);

// Rebuilds the one lost IFP of FEC entry `entry` of `packet`. group[k] is the IFP with sequence
// FecCoveredSeq(packet.seq, packet.fec_span, packet.fec_count, entry, k); group[missing] is not
// read. kUdptlFecUnrecoverable when the group does not match the entry or the result is not an IFP.
WireError RecoverUdptlFec(const UdptlPacket& packet, size_t entry, std::span<const Bytes> group,
                          size_t missing, IfpVariant variant, MutableBytes out, size_t* length);

// How many of the `count` IFPs with sequence numbers first, first + 1, ... (all lost, and
// nothing else) a receiver can rebuild from `packet` alone: those among its secondaries, or
// those alone in an FEC entry's group. The relay counts this for a gap (udptl.recovered).
size_t UdptlRecoverable(const UdptlPacket& packet, uint16_t first, uint16_t count);

}  // namespace t38relay::dataplane
