// UDPTL framing of T.38 IFPs for the fax endpoint: a sender that adds redundancy or FEC from its
// last primaries, and a receiver that hands IFPs on in sequence order, rebuilding lost ones.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "control/sdp/t38_params.h"
#include "dataplane/wire/byte_reader.h"
#include "dataplane/wire/t38_ifp.h"
#include "dataplane/wire/udptl.h"

namespace t38relay::tools::fax {

using control::sdp::T38UdpEc;

// The most a packet can carry: kMaxSecondary IFPs of redundancy, kMaxFecEntries FEC entries
// spanning kMaxFecSpan packets each.
inline constexpr size_t kMaxRedundancyDepth = dataplane::kMaxSecondary;
inline constexpr size_t kMaxFecDepth = dataplane::kMaxFecEntries;

class UdptlSender {
 public:
  // ec: T38FaxUdpEC, what each packet adds. depth: secondary IFPs per packet, or for FEC both
  // the number of entries and their span (capped at kMaxRedundancyDepth / kMaxFecDepth).
  // max_datagram: the peer's T38FaxMaxDatagram; a packet that would exceed it carries fewer
  // secondaries or entries (never less than the primary).
  UdptlSender(T38UdpEc ec, size_t depth, size_t max_datagram);

  // Frames `ifp` as the next packet (sequence numbers from 0). The view is valid until the next
  // call. Fails only for an IFP longer than kMaxIfpLength.
  absl::StatusOr<dataplane::Bytes> Frame(dataplane::Bytes ifp);

  uint16_t next_seq() const { return next_seq_; }
  // Packets that carried less error recovery than configured to fit max_datagram.
  uint64_t trimmed() const { return trimmed_; }

 private:
  absl::StatusOr<size_t> Encode(dataplane::Bytes ifp, size_t amount);

  T38UdpEc ec_;
  size_t depth_;
  size_t max_datagram_;
  uint16_t next_seq_ = 0;
  uint64_t trimmed_ = 0;
  std::deque<std::vector<uint8_t>> history_;  // most recent first
  std::vector<uint8_t> out_;
  std::vector<uint8_t> fec_scratch_;
};

// Hands IFPs to `deliver` in sequence order, each once. A packet ahead of the next expected
// sequence number first rebuilds what it can of the gap from its own redundancy or FEC (with
// the IFPs received before it); what stays missing is counted lost and skipped, so the fax
// engine sees the gap at once rather than after a jitter delay. Late and repeated packets are
// dropped (counted).
class UdptlReceiver {
 public:
  using Deliver = std::function<void(uint16_t seq, dataplane::Bytes ifp)>;
  // A packet further than this ahead of or behind the expected sequence number is a stray, or the
  // first of a peer that restarted its numbering: it is dropped, and the numbering restarts from
  // it only when the next packet follows on from it (so one stray cannot stall the stream).
  static constexpr int kMaxGap = 512;

  UdptlReceiver(dataplane::IfpVariant variant, Deliver deliver);

  // One UDPTL payload. False when it does not decode (counted in malformed).
  bool Receive(dataplane::Bytes datagram);

  struct Counters {
    uint64_t packets = 0;     // decoded packets, duplicates included
    uint64_t delivered = 0;   // IFPs handed on
    uint64_t recovered = 0;   // of those, rebuilt from redundancy or FEC
    uint64_t lost = 0;        // sequence numbers skipped without their IFP
    uint64_t duplicates = 0;  // packets up to kMaxGap behind the expected sequence number
    uint64_t malformed = 0;
    uint64_t out_of_window = 0;  // packets further than kMaxGap from it (dropped)
    uint64_t restarts = 0;       // numbering restarts (an out-of-window packet, then its next)
  };
  const Counters& counters() const { return counters_; }

 private:
  // The last kWindow IFPs by sequence number: FEC groups reach back at most
  // kMaxFecEntries * kMaxFecSpan packets.
  static constexpr size_t kWindow = 128;
  struct Slot {
    bool present = false;
    bool recovered = false;
    uint16_t seq = 0;
    std::vector<uint8_t> ifp;
  };

  Slot* Find(uint16_t seq);
  void Store(uint16_t seq, dataplane::Bytes ifp, bool recovered);
  void RecoverFromFec(const dataplane::UdptlPacket& packet, uint16_t first_missing);

  dataplane::IfpVariant variant_;
  Deliver deliver_;
  std::optional<uint16_t> expected_;
  std::optional<uint16_t> restart_from_;  // the last out-of-window packet's sequence number
  std::array<Slot, kWindow> window_;
  Counters counters_;
};

}  // namespace t38relay::tools::fax
