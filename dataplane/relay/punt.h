// What a worker tells the handshake lcore about an mbuf it hands over (an mbuf dynamic field).
#pragma once

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstdint>

#include "absl/status/status.h"

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

// Registers the dynamic field (once per process, before any lcore starts).
absl::Status RegisterPuntInfo();
extern int punt_info_offset;

inline PuntInfo& PuntInfoOf(rte_mbuf* m) {
  return *RTE_MBUF_DYNFIELD(m, punt_info_offset, PuntInfo*);
}

}  // namespace t38relay::dataplane
