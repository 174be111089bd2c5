// Why the relay drops a packet: one named counter per reason, per worker lcore and per leg.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace t38relay::dataplane {

// X(enumerator, "stable-name"): names reach the flow socket's stats and leg.get.
#define T38RELAY_DROP_REASONS(X)                                                 \
  X(kMalformedFrame, "malformed-frame")         /* ParseFrame failed */          \
  X(kBadChecksum, "bad-checksum")               /* IPv4 or UDP checksum */       \
  X(kNotForUs, "not-for-us")                    /* not IP/ARP, or not our address */ \
  X(kIpFragment, "ip-fragment")                                                  \
  X(kNotUdp, "not-udp")                         /* other IP protocols */         \
  X(kNoLeg, "no-leg")                           /* UDP to no leg */              \
  X(kUnexpectedSource, "unexpected-source")     /* not the latched remote */     \
  X(kLegFailed, "leg-failed")                   /* the leg's handshake failed */ \
  X(kNoPeer, "no-peer")                         /* leg not linked */             \
  X(kPeerNotReady, "peer-not-ready")            /* peer has no remote or keys yet */ \
  X(kNotEstablished, "not-established")         /* data on a dtls leg before keys */ \
  X(kNotDtls, "not-dtls")                       /* non-DTLS bytes on a dtls leg */ \
  X(kEmptyDatagram, "empty-datagram")           /* UDP without payload */        \
  X(kRecordAuthFailed, "record-auth-failed")                                     \
  X(kRecordReplayed, "record-replayed")                                          \
  X(kRecordStaleEpoch, "record-stale-epoch")   /* previous epoch past its grace */ \
  X(kRecordBackend, "record-backend")           /* crypto device error/timeout */ \
  X(kRecordSealFailed, "record-seal-failed")    /* e.g. sequence numbers exhausted */ \
  X(kStunNoIce, "stun-without-ice")             /* STUN on a leg without ICE */  \
  X(kStunInvalid, "stun-invalid")               /* bad FINGERPRINT, USERNAME or not a request */ \
  X(kStunUnauthorized, "stun-unauthorized")     /* MESSAGE-INTEGRITY fails */    \
  X(kNoRoom, "no-room")                         /* mbuf head/tail room for framing */ \
  X(kNoRoute, "no-route")                       /* no port reaches the remote */ \
  X(kPuntQueueFull, "punt-queue-full")          /* slow-path ring full */        \
  X(kTxQueueFull, "tx-queue-full")                                               \
  X(kWrongWorker, "wrong-worker")               /* hand-off ring to the owner full */

enum class DropReason : uint8_t {
#define T38RELAY_DROP_ENUM(e, name) e,
  T38RELAY_DROP_REASONS(T38RELAY_DROP_ENUM)
#undef T38RELAY_DROP_ENUM
};

inline constexpr size_t kDropReasonCount = 0
#define T38RELAY_DROP_COUNT(e, name) +1
    T38RELAY_DROP_REASONS(T38RELAY_DROP_COUNT)
#undef T38RELAY_DROP_COUNT
    ;

std::string_view DropReasonName(DropReason reason);

}  // namespace t38relay::dataplane
