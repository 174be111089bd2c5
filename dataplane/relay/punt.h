// What a worker tells the handshake lcore about an mbuf it hands over (an mbuf dynamic field).
#pragma once

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstdint>

#include "absl/status/status.h"
#include "dataplane/relay/leg.h"

namespace t38relay::dataplane {

enum class PuntKind : uint8_t {
  kReceived,       // a frame as received on port_index: ARP, ICMP, or a DTLS datagram for leg_id
  kBeforeKeys,     // same, a DTLS datagram that came while leg_id had no keys at its worker
  kNeedsNeighbor,  // a complete frame to send on port_index once its next hop's MAC is known
};

struct PuntInfo {
  uint64_t leg_id;  // kNoLegId for frames that belong to no leg
  uint16_t port_index;
  PuntKind kind;
};

// Legs are spread over the handshake lcores by slot: each leg's engine, commands and punted
// datagrams live on one of them.
inline uint16_t HandshakeLcoreOfLeg(uint64_t leg_id, uint16_t count) {
  return static_cast<uint16_t>(LegIndexOf(leg_id) % count);
}
// Frames of no leg (ARP, ICMP) and frames waiting for a next hop: the neighbour responder's,
// which runs on handshake lcore 0.
inline bool ForResponder(uint64_t leg_id, PuntKind kind) {
  return leg_id == kNoLegId || kind == PuntKind::kNeedsNeighbor;
}
// The handshake lcore a punted frame goes to: the responder's, else its leg's.
inline uint16_t HandshakeLcoreOfPunt(uint64_t leg_id, PuntKind kind, uint16_t count) {
  return ForResponder(leg_id, kind) ? 0 : HandshakeLcoreOfLeg(leg_id, count);
}

// Registers the dynamic field (once per process, before any lcore starts).
absl::Status RegisterPuntInfo();
extern int punt_info_offset;

inline PuntInfo& PuntInfoOf(rte_mbuf* m) {
  return *RTE_MBUF_DYNFIELD(m, punt_info_offset, PuntInfo*);
}

}  // namespace t38relay::dataplane
