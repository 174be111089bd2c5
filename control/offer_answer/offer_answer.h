// RFC 3264 / RFC 7345 / RFC 8842 offer/answer for T.38 image streams: reading a peer's offer or
// answer into per-stream parameters (with the RFC 7345 checks), and writing the SDP the relay sends
// to the other side. Pure functions: no dataplane, no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "control/sdp/sdp.h"
#include "control/sdp/t38_params.h"
#include "control/sip/sip_message.h"
#include "dataplane/flowsock/flow_types.h"
#include "dataplane/wire/address.h"

namespace t38relay::control::offer_answer {

// The two protos of a T.38 image stream the relay handles.
enum class Proto : uint8_t { kDtls, kPlain };
// "UDP/TLS/UDPTL" (RFC 7345 section 7) or "udptl" (ITU-T T.38 Annex D).
std::string_view ProtoName(Proto proto);
dataplane::LegTransport TransportOf(Proto proto);
Proto ProtoOf(dataplane::LegTransport transport);

// DTLS record overhead per datagram with AES-GCM: 13 header + 8 explicit nonce + 16 tag.
inline constexpr uint32_t kDtlsOverhead = 37;
// The RFC 8445 section 5.1.2.1 priority of a host candidate for component 1 with the highest
// local preference: (2^24)*126 + (2^8)*65535 + (256 - 1).
inline constexpr uint32_t kHostCandidatePriority = (126u << 24) | (65535u << 8) | 255u;

struct PeerIce {
  std::string ufrag;
  std::string pwd;
  friend bool operator==(const PeerIce&, const PeerIce&) = default;
};

// One T.38 image stream (m=image <port> UDP/TLS/UDPTL|udptl t38) as a peer described it.
struct PeerStream {
  size_t index = 0;  // of the m= line in the SDP
  Proto proto = Proto::kPlain;
  uint16_t port = 0;  // 0: the stream is rejected (answer) or disabled (offer)
  // The peer's address; nullopt when c= names a host (RFC 7345's own examples do) or is
  // unspecified (0.0.0.0 / ::): the leg then learns it from the first packet.
  std::optional<dataplane::SocketAddress> remote;
  dataplane::IpFamily family = dataplane::IpFamily::kV4;
  // nullopt: absent (RFC 4145 section 4: the offerer is then active).
  std::optional<dataplane::DtlsSetup> setup;
  // Every fingerprint with a hash the dataplane verifies (sha-1 .. sha-512), in SDP order.
  std::vector<dataplane::FingerprintValue> fingerprints;
  std::string tls_id;  // "" when absent
  std::optional<PeerIce> ice;
  sdp::T38Params t38;
};

// A peer's whole SDP: the parsed session (other m= lines are passed through from it) and the T.38
// streams the relay handles.
struct PeerSdp {
  sdp::SessionDescription session;
  std::vector<PeerStream> streams;
  std::optional<sip::SipContext> sip;
};

enum class SdpRole : uint8_t { kOffer, kAnswer };

// Takes a bare SDP or a whole SIP message (control/sip), parses it and reads every T.38 image
// stream, enforcing RFC 7345: the proto must be UDP/TLS/UDPTL or udptl (any case), a=connection
// and a=setup:holdconn are refused, an answer's DTLS setup must be active or passive, a DTLS
// stream needs at least one a=fingerprint the dataplane can verify. Streams with port 0 are
// reported (port 0) but not checked further. Errors are InvalidArgument naming the m= line.
absl::StatusOr<PeerSdp> ReadPeerSdp(std::string_view body, SdpRole role);

// What the relay says about one of its T.38 streams in the SDP it writes.
struct LocalStream {
  size_t index = 0;  // the m= line it replaces
  Proto proto = Proto::kPlain;
  // 0 rejects the stream (the rest is ignored then).
  uint16_t port = 0;
  dataplane::IpAddress address;
  // dtls: our sha-256 fingerprint, a=setup and a=tls-id.
  std::optional<dataplane::FingerprintValue> fingerprint;
  dataplane::DtlsSetup setup = dataplane::DtlsSetup::kActpass;
  std::string tls_id;
  // ICE-lite: our ufrag and pwd (one host candidate: address/port).
  std::optional<PeerIce> ice;
  // The T.38 parameters carried across from the other side (already lowered).
  sdp::T38Params t38;
  // prefer-dtls offers (proto kDtls): the m= line says udptl and UDP/TLS/UDPTL is offered as
  // RFC 5939 potential configuration 1 (a=tcap, a=acap setup/fingerprint/tls-id, a=pcfg).
  bool dtls_potential = false;
};

// Our o= line towards one side.
struct OriginState {
  std::string session_id;
  uint64_t version = 1;
};

// Writes the SDP for the other side from `peer` (the SDP we received): our origin, s= kept, our
// address in c=, t= copied, every m= line that is not ours passed through untouched (it keeps the
// peer's connection address and session-level fallback attributes as its own), and each of ours
// rewritten from its LocalStream with the T.38 attributes carried across.
std::string WriteRelaySdp(const sdp::SessionDescription& peer,
                          const std::vector<LocalStream>& streams, const OriginState& origin);

// RFC 4145 section 4.1 / RFC 8842: the a=setup we answer with, given the offerer's (absent means
// active): actpass -> active (RFC 8842 section 5.3 recommends the answerer be active),
// active -> passive, passive -> active.
dataplane::DtlsSetup AnswerSetupFor(std::optional<dataplane::DtlsSetup> offered);

// T38FaxMaxDatagram for datagrams the relay carries towards a DTLS leg: it is lowered so that
// datagram + 37 + UDP 8 + IP (20 or 40) fits `mtu`, never raised; absent becomes that ceiling.
// For a plain leg the value is kept as is.
void LowerMaxDatagram(bool towards_dtls, dataplane::IpFamily family, uint32_t mtu,
                      sdp::T38Params* params);

// Random ice-chars (RFC 8839: ALPHA / DIGIT / "+" / "/") and tls-id characters (RFC 8842:
// ALPHA / DIGIT / "+" / "/" / "-" / "_") from the system's random source.
std::string RandomIceChars(size_t length);
std::string RandomTlsId();
// A random decimal session id for o= (up to 2^62, so it never needs 64 bits).
std::string RandomSessionId();

}  // namespace t38relay::control::offer_answer
