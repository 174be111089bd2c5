// The call registry's data: calls, their T.38 streams, the relay legs of each DTLS association,
// and what each side's peer said; plus the leg label codec that keeps it in the dataplane.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "control/api/control_service.h"
#include "control/offer_answer/offer_answer.h"
#include "dataplane/flowsock/flow_types.h"

namespace t38relay::control::calls {

// The caller sent the initial offer (from-tag); the callee answered it (to-tag). Arrays indexed
// by Side hold one entry per side.
enum class Side : uint8_t { kCaller = 0, kCallee = 1 };
inline Side Other(Side side) { return side == Side::kCaller ? Side::kCallee : Side::kCaller; }
inline size_t Index(Side side) { return static_cast<size_t>(side); }
std::string_view SideName(Side side);  // "caller", "callee"

// What one side's peer said about a stream in its last offer or answer (the part the relay needs
// to program legs and to decide whether a re-offer keeps the DTLS association).
struct PeerState {
  bool known = false;
  offer_answer::Proto proto = offer_answer::Proto::kPlain;
  std::optional<dataplane::SocketAddress> remote;
  dataplane::IpFamily family = dataplane::IpFamily::kV4;
  std::optional<dataplane::DtlsSetup> setup;
  std::vector<dataplane::FingerprintValue> fingerprints;
  std::string tls_id;
  std::optional<offer_answer::PeerIce> ice;
  friend bool operator==(const PeerState&, const PeerState&) = default;
};

// One relay leg (a dataplane leg facing one side).
struct RelayLeg {
  uint64_t id = 0;
  dataplane::LegTransport transport = dataplane::LegTransport::kPlain;
  dataplane::SocketAddress local;
  std::optional<dataplane::FingerprintValue> fingerprint;
  dataplane::DtlsSetup setup = dataplane::DtlsSetup::kActpass;  // ours
  std::string tls_id;                                            // ours (dtls)
  std::optional<offer_answer::PeerIce> ice;                      // ours (ICE-lite)
  std::optional<dataplane::SocketAddress> remote;                // as programmed / latched
  dataplane::LegState state = dataplane::LegState::kPlain;
  std::optional<dataplane::DtlsRole> role;
  std::string failure;  // leg.failed reason
  bool idle = false;
  int64_t idle_since = 0;
  uint64_t idle_rx_packets = 0;
  std::string label;  // as last written to the dataplane
};

// The two legs of one DTLS association (or plain pair), linked in the dataplane.
struct Association {
  uint32_t generation = 0;
  std::array<RelayLeg, 2> legs;  // by Side
};

// One T.38 m= line of the call.
struct Stream {
  size_t index = 0;  // m= line index
  std::array<PeerState, 2> peer;
  std::optional<Association> current;
  // A new association made by a re-offer; replaces `current` once established.
  std::optional<Association> pending;
  uint32_t next_generation = 1;
};

enum class CallState : uint8_t { kOffered, kAnswered, kFailed };
std::string_view CallStateName(CallState state);

struct Call {
  std::string call_id;
  std::array<std::string, 2> tags;  // by Side: from-tag, to-tag ("" until answered)
  CallState state = CallState::kOffered;
  std::string failure;
  int64_t created = 0;
  int64_t last_activity = 0;
  TransportPolicy policy = TransportPolicy::kAsOffered;
  bool anonymous = false;
  // The o= of the SDP we send to each side.
  std::array<offer_answer::OriginState, 2> origin;
  // The side whose offer awaits its answer, and that offer's m= line count.
  std::optional<Side> offer_from;
  size_t offer_media_count = 0;
  // prefer-dtls: the callee refused UDP/TLS/UDPTL; later offers go plain towards it.
  bool dtls_refused = false;
  std::vector<Stream> streams;
};

// The label of a leg: everything a restarted control needs to rebuild the call from legs.list.
// JSON (compact), e.g.
//   {"t38relay":1,"call":"a84b4c76e66710","tags":["1928301774",""],"side":"caller","stream":0,
//    "gen":1,"pending":false,"state":"offered","offer_from":"caller","mc":1,"policy":"dtls",
//    "anon":false,"refused":false,"created":1700000000,"origin":{"id":"4611...","v":2},
//    "tls_id":"...","ice":{"u":"...","p":"..."},
//    "peer":{"proto":"dtls","remote":"192.0.2.1:6056","family":4,"setup":"actpass",
//            "fp":[["sha-1","4A:AD:..."]],"tls_id":"...","ice":{"u":"...","p":"..."}}}
// Peer fingerprints beyond what fits 4096 bytes are dropped (the dataplane keeps them all).
std::string EncodeLabel(const Call& call, const Stream& stream, const Association& association,
                        bool pending, Side side);

// A label read back: the leg's part of the call.
struct DecodedLabel {
  Call call;  // without streams
  size_t stream = 0;
  uint32_t generation = 0;
  bool pending = false;
  Side side = Side::kCaller;
  PeerState peer;
  std::string tls_id;
  std::optional<offer_answer::PeerIce> ice;
};
// nullopt when the label is not one of ours (another user of the dataplane, or garbage).
std::optional<DecodedLabel> DecodeLabel(std::string_view label);

}  // namespace t38relay::control::calls
