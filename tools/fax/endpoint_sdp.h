// The fax endpoint's SDP: writing its offer or answer for one T.38 image stream, reading the
// other side's (through control/offer_answer's RFC 7345 checks), and what the two settle on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "control/offer_answer/offer_answer.h"
#include "control/sdp/t38_params.h"
#include "crypto/dtls/dtls_engine.h"
#include "crypto/dtls/fingerprint.h"
#include "dataplane/flowsock/flow_types.h"
#include "dataplane/wire/address.h"

namespace t38relay::tools::fax {

using control::offer_answer::Proto;
using control::offer_answer::SdpRole;

// What we announce for our receive side: the octets of one UDPTL datagram (the largest that fits
// a 1500-octet path with IPv6, UDP and DTLS around it) and of the peer-side buffer.
inline constexpr uint32_t kOurMaxDatagram = 1400;
inline constexpr uint32_t kOurMaxBuffer = 2000;
inline constexpr uint32_t kOurMaxBitRate = 14400;
// What we assume of a peer that says nothing (T.38 Annex D gives no default; Asterisk's).
inline constexpr uint32_t kDefaultPeerMaxDatagram = 400;
inline constexpr uint32_t kDefaultPeerMaxBuffer = 200;

// Our side of the stream, as written into our SDP.
struct LocalSdp {
  Proto proto = Proto::kDtls;
  dataplane::SocketAddress address;  // c= and the m= port
  bool reject = false;               // m=image 0: an answer that refuses the offered stream
  dataplane::DtlsSetup setup = dataplane::DtlsSetup::kActpass;  // dtls only
  std::string fingerprint;  // "sha-256 AB:..." (dtls only)
  std::string tls_id;       // RFC 8842 (dtls only)
  control::sdp::T38Params t38;
  std::string session_id;
};

// v=0, o=, s=t38relay-fax, c=, t=0 0, one m=image line; CRLF lines.
std::string WriteEndpointSdp(const LocalSdp& local);

// `depth` capped at what the UDPTL codec carries for `ec` (15 secondaries, 8 FEC entries).
uint32_t EcDepthFor(control::sdp::T38UdpEc ec, uint32_t depth);
// The T.38 attributes of our offer: version 0, 14400 bit/s, transferredTCF, our buffer and
// datagram sizes, the EC mode and its depth, capped by EcDepthFor (T38FaxUdpECDepth; FEC adds
// T38FaxUdpFECMaxSpan).
control::sdp::T38Params OfferT38Params(control::sdp::T38UdpEc ec, uint32_t depth);
// The answer's: the offer's EC (none when it names none), the lower version and bit rate, the
// offer's rate management, our sizes and depth; fill-bit removal and transcoding stay off.
control::sdp::T38Params AnswerT38Params(const control::sdp::T38Params& offered, uint32_t depth);

// The first T.38 image stream of the other side's SDP (a bare SDP or a SIP message). Errors name
// the problem; an SDP without an m=image ... t38 line is one.
absl::StatusOr<control::offer_answer::PeerStream> ReadEndpointSdp(std::string_view text,
                                                                  SdpRole role);

// What both sides settled on, for the transport and the fax engine.
struct Negotiated {
  Proto proto = Proto::kDtls;
  dataplane::SocketAddress remote;
  crypto::DtlsRole dtls_role = crypto::DtlsRole::kClient;  // dtls only
  std::vector<crypto::Fingerprint> peer_fingerprints;      // dtls only
  control::sdp::T38UdpEc ec = control::sdp::T38UdpEc::kNone;
  uint32_t t38_version = 0;
  uint32_t max_bit_rate = kOurMaxBitRate;
  bool transferred_tcf = true;
  uint32_t peer_max_datagram = kDefaultPeerMaxDatagram;
  uint32_t peer_max_buffer = kDefaultPeerMaxBuffer;
};

// Our SDP's stream and the peer's; `local_is_offer`: we wrote the offer. Errors are
// FailedPrecondition when the peer said no or asks for what we cannot do (the fax fails, exit 1):
// port 0 is "remote rejected the image stream", a different proto, a=setup values without one
// active and one passive side; InvalidArgument when its SDP is unusable here (exit 2): a
// fingerprint we cannot parse, a c= that is not an IP address.
absl::StatusOr<Negotiated> Negotiate(const LocalSdp& local,
                                     const control::offer_answer::PeerStream& peer,
                                     bool local_is_offer);

crypto::SdpSetup ToCryptoSetup(dataplane::DtlsSetup setup);

}  // namespace t38relay::tools::fax
