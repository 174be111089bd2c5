// The fax endpoint's SDP offer/answer: writing ours, reading the peer's, settling the stream.
#include "tools/fax/endpoint_sdp.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "control/sdp/attributes.h"
#include "control/sdp/sdp.h"
#include "dataplane/flowsock/protocol.h"
#include "dataplane/wire/udptl.h"

namespace t38relay::tools::fax {

namespace sdp = control::sdp;
using dataplane::DtlsSetup;
using dataplane::IpFamily;

crypto::SdpSetup ToCryptoSetup(DtlsSetup setup) {
  switch (setup) {
    case DtlsSetup::kActive: return crypto::SdpSetup::kActive;
    case DtlsSetup::kPassive: return crypto::SdpSetup::kPassive;
    case DtlsSetup::kActpass: return crypto::SdpSetup::kActpass;
  }
  return crypto::SdpSetup::kActpass;
}

std::string WriteEndpointSdp(const LocalSdp& local) {
  const bool v6 = local.address.ip.family == IpFamily::kV6;
  const std::string ip = local.address.ip.ToString();
  sdp::SessionDescription session;
  session.origin = sdp::Origin{"-", local.session_id, "1", "IN", v6 ? "IP6" : "IP4", ip};
  session.session_name = "t38relay-fax";
  session.connection = sdp::Connection{"IN", v6 ? "IP6" : "IP4", ip};
  session.timings.push_back(sdp::Timing{"0", "0", {}});
  sdp::MediaDescription media;
  media.media = "image";
  media.port = local.reject ? 0 : local.address.port;
  media.proto = std::string(control::offer_answer::ProtoName(local.proto));
  media.formats = {"t38"};
  if (!local.reject) {
    if (local.proto == Proto::kDtls) {
      media.AddAttribute(sdp::kSetupAttr,
                         std::string(dataplane::SetupName(local.setup)));
      media.AddAttribute(sdp::kFingerprintAttr, local.fingerprint);
      media.AddAttribute(sdp::kTlsIdAttr, local.tls_id);
    }
    sdp::SetT38Params(local.t38, &media);
  }
  session.media.push_back(std::move(media));
  return sdp::WriteSdp(session);
}

uint32_t EcDepthFor(sdp::T38UdpEc ec, uint32_t depth) {
  // What the UDPTL codec carries: up to 15 secondaries, up to 8 FEC entries spanning up to 8.
  const uint32_t most = ec == sdp::T38UdpEc::kFec
                            ? static_cast<uint32_t>(std::min<size_t>(dataplane::kMaxFecEntries,
                                                                     dataplane::kMaxFecSpan))
                            : static_cast<uint32_t>(dataplane::kMaxSecondary);
  return std::min(depth, most);
}

sdp::T38Params OfferT38Params(sdp::T38UdpEc ec, uint32_t depth) {
  sdp::T38Params p;
  p.version = 0;
  p.max_bit_rate = kOurMaxBitRate;
  p.rate_management = sdp::T38RateManagement::kTransferredTcf;
  p.max_buffer = kOurMaxBuffer;
  p.max_datagram = kOurMaxDatagram;
  p.udp_ec = ec;
  depth = EcDepthFor(ec, depth);
  if (ec != sdp::T38UdpEc::kNone) p.udp_ec_depth = sdp::T38EcDepth{depth, std::nullopt};
  if (ec == sdp::T38UdpEc::kFec) p.udp_fec_max_span = depth;
  return p;
}

sdp::T38Params AnswerT38Params(const sdp::T38Params& offered, uint32_t depth) {
  sdp::T38Params p = OfferT38Params(offered.udp_ec.value_or(sdp::T38UdpEc::kNone), depth);
  // T.38 Annex D: the answer may lower the version and rate, not raise them.
  p.version = std::min<uint32_t>(*p.version, offered.version.value_or(0));
  p.max_bit_rate = std::min<uint32_t>(*p.max_bit_rate, offered.max_bit_rate.value_or(14400));
  if (offered.rate_management.has_value()) p.rate_management = offered.rate_management;
  return p;
}

absl::StatusOr<control::offer_answer::PeerStream> ReadEndpointSdp(std::string_view text,
                                                                  SdpRole role) {
  absl::StatusOr<control::offer_answer::PeerSdp> peer =
      control::offer_answer::ReadPeerSdp(text, role);
  if (!peer.ok()) return peer.status();
  if (peer->streams.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(role == SdpRole::kOffer ? "offer" : "answer",
                     ": no T.38 image stream (m=image <port> UDP/TLS/UDPTL|udptl t38)"));
  }
  return std::move(peer->streams.front());
}

absl::StatusOr<Negotiated> Negotiate(const LocalSdp& local,
                                     const control::offer_answer::PeerStream& peer,
                                     bool local_is_offer) {
  const char* other = local_is_offer ? "answer" : "offer";
  if (peer.port == 0) {
    return absl::FailedPreconditionError(local_is_offer ? "remote rejected the image stream"
                                                        : "the offer's image stream is disabled "
                                                          "(port 0)");
  }
  if (peer.proto != local.proto) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the ", other, " says ", std::string(control::offer_answer::ProtoName(peer.proto)), ", we use ",
        std::string(control::offer_answer::ProtoName(local.proto)), " (--transport)"));
  }
  if (!peer.remote.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the ", other, "'s c= address is not an IP address this endpoint can send to"));
  }
  Negotiated n;
  n.proto = peer.proto;
  n.remote = *peer.remote;
  if (peer.proto == Proto::kDtls) {
    // RFC 4145 section 4: no a=setup means active.
    const DtlsSetup remote_setup = peer.setup.value_or(DtlsSetup::kActive);
    absl::StatusOr<crypto::DtlsRole> role =
        crypto::ResolveDtlsRole(ToCryptoSetup(local.setup), ToCryptoSetup(remote_setup));
    if (!role.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("a=setup:", std::string(dataplane::SetupName(local.setup)),
                       " (ours) and a=setup:", std::string(dataplane::SetupName(remote_setup)), " (the ", other,
                       "'s): ", role.status().message()));
    }
    n.dtls_role = *role;
    for (const dataplane::FingerprintValue& f : peer.fingerprints) {
      absl::StatusOr<crypto::Fingerprint> fp =
          crypto::ParseFingerprint(absl::StrCat(f.hash, " ", f.value));
      if (!fp.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("the ", other, "'s a=fingerprint: ", fp.status().message()));
      }
      n.peer_fingerprints.push_back(*std::move(fp));
    }
  }
  // What we send follows the answer's EC: the offerer sends what it was answered, the answerer
  // what it answered (the offer's).
  n.ec = peer.t38.udp_ec.value_or(sdp::T38UdpEc::kNone);
  if (!local_is_offer) n.ec = local.t38.udp_ec.value_or(sdp::T38UdpEc::kNone);
  n.t38_version = std::min(local.t38.version.value_or(0), peer.t38.version.value_or(0));
  n.max_bit_rate = std::min(local.t38.max_bit_rate.value_or(kOurMaxBitRate),
                            peer.t38.max_bit_rate.value_or(kOurMaxBitRate));
  const sdp::T38RateManagement rate = local_is_offer
      ? peer.t38.rate_management.value_or(sdp::T38RateManagement::kTransferredTcf)
      : local.t38.rate_management.value_or(sdp::T38RateManagement::kTransferredTcf);
  n.transferred_tcf = rate == sdp::T38RateManagement::kTransferredTcf;
  // Some peers announce 65535 or more: we never send more than a 1500-byte IPv4 frame carries
  // (no IP fragments, and an IFP the codec and a DTLS record always take).
  constexpr uint32_t kLargestDatagram = 1472;
  n.peer_max_datagram =
      std::min(peer.t38.max_datagram.value_or(kDefaultPeerMaxDatagram), kLargestDatagram);
  n.peer_max_buffer = peer.t38.max_buffer.value_or(kDefaultPeerMaxBuffer);
  return n;
}

}  // namespace t38relay::tools::fax
