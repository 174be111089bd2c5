// Reading a peer's T.38 offer/answer and writing the relay's SDP (RFC 3264, RFC 7345, RFC 8842).
#include "control/offer_answer/offer_answer.h"

#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/sdp/attributes.h"
#include "control/sdp/capneg.h"
#include "dataplane/flowsock/protocol.h"

namespace t38relay::control::offer_answer {
namespace {

using dataplane::DtlsSetup;
using dataplane::FingerprintValue;
using dataplane::IpFamily;

constexpr std::string_view kIceChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kTlsIdChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_";

std::string RandomFrom(std::string_view alphabet, size_t length) {
  static thread_local std::mt19937_64 engine{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string out(length, ' ');
  for (char& c : out) c = alphabet[pick(engine)];
  return out;
}

std::string Where(size_t index, const sdp::MediaDescription& media) {
  return absl::StrCat("m= line ", index + 1, " (", media.media, " ", media.proto, ")");
}

bool IsT38Image(const sdp::MediaDescription& media) {
  if (!absl::EqualsIgnoreCase(media.media, "image")) return false;
  for (const std::string& f : media.formats) {
    if (absl::EqualsIgnoreCase(f, "t38")) return true;
  }
  return false;
}

DtlsSetup ToDtlsSetup(sdp::SetupRole role) {
  switch (role) {
    case sdp::SetupRole::kActive: return DtlsSetup::kActive;
    case sdp::SetupRole::kPassive: return DtlsSetup::kPassive;
    default: return DtlsSetup::kActpass;
  }
}

std::string HexColon(const std::vector<uint8_t>& digest) {
  std::string out;
  for (size_t i = 0; i < digest.size(); ++i) {
    if (i > 0) out.push_back(':');
    absl::StrAppendFormat(&out, "%02X", digest[i]);
  }
  return out;
}

// The connection address: a literal gives the remote, a host name or an unspecified address
// leaves it to latching; the family comes from addrtype either way.
absl::Status ReadAddress(const sdp::SessionDescription& session, const sdp::MediaDescription& media,
                         size_t index, PeerStream* stream) {
  const sdp::Connection* c = sdp::EffectiveConnection(session, media);
  if (c == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(index, media), ": no c= line at session or media level"));
  }
  if (!absl::EqualsIgnoreCase(c->net_type, "IN")) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(index, media), ": c= network type '", c->net_type, "' is not IN"));
  }
  if (absl::EqualsIgnoreCase(c->addr_type, "IP4")) {
    stream->family = IpFamily::kV4;
  } else if (absl::EqualsIgnoreCase(c->addr_type, "IP6")) {
    stream->family = IpFamily::kV6;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(index, media), ": c= address type '", c->addr_type, "' is not IP4 or IP6"));
  }
  if (c->address == "$" || absl::StrContains(c->address, '/')) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(index, media), ": c= address '", c->address, "' is not a unicast address"));
  }
  std::optional<dataplane::IpAddress> ip = dataplane::ParseIpAddress(c->address);
  if (ip.has_value()) {
    if (ip->family != stream->family) {
      return absl::InvalidArgumentError(absl::StrCat(Where(index, media), ": c= address '",
                                                     c->address, "' does not match ",
                                                     c->addr_type));
    }
    bool unspecified = true;
    for (uint8_t b : ip->bytes) unspecified = unspecified && b == 0;
    if (!unspecified && stream->port != 0) {
      stream->remote = dataplane::SocketAddress{*ip, stream->port};
    }
  }
  return absl::OkStatus();
}

absl::Status ReadDtls(const sdp::SessionDescription& session, const sdp::MediaDescription& media,
                      size_t index, SdpRole role, PeerStream* stream) {
  absl::StatusOr<std::optional<sdp::SetupRole>> setup = sdp::GetSetupRole(session, media);
  if (!setup.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(index, media), ": ", setup.status().message()));
  }
  if (setup->has_value()) {
    if (**setup == sdp::SetupRole::kHoldconn) {
      return absl::InvalidArgumentError(absl::StrCat(
          Where(index, media), ": a=setup:holdconn is not allowed for UDP/TLS/UDPTL (RFC 7345 "
          "sections 4.2 and 4.3)"));
    }
    if (role == SdpRole::kAnswer && **setup == sdp::SetupRole::kActpass) {
      return absl::InvalidArgumentError(absl::StrCat(
          Where(index, media), ": an answer must say a=setup:active or passive, not actpass "
          "(RFC 7345 section 4.3)"));
    }
    stream->setup = ToDtlsSetup(**setup);
  }
  absl::StatusOr<std::vector<sdp::Fingerprint>> fingerprints =
      sdp::GetFingerprints(session, media);
  if (!fingerprints.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(index, media), ": ", fingerprints.status().message()));
  }
  std::vector<std::string> unusable;
  for (const sdp::Fingerprint& f : *fingerprints) {
    std::optional<size_t> size = sdp::FingerprintDigestSize(f.hash_function);
    // md5/md2 (RFC 8122 says never to use them) and unknown hashes cannot be checked by the
    // dataplane; the others are all handed over.
    if (!size.has_value() || f.hash_function == "md5" || f.hash_function == "md2") {
      unusable.push_back(f.hash_function);
      continue;
    }
    if (stream->fingerprints.size() < 16) {
      stream->fingerprints.push_back(FingerprintValue{f.hash_function, HexColon(f.digest)});
    }
  }
  if (stream->fingerprints.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(index, media),
        unusable.empty() ? ": UDP/TLS/UDPTL needs an a=fingerprint (RFC 7345 section 4.1)"
                         : absl::StrCat(": no a=fingerprint with a usable hash (got ",
                                        unusable.front(), "; use sha-256)")));
  }
  if (const sdp::Attribute* tls_id =
          sdp::FindMediaOrSessionAttribute(session, media, sdp::kTlsIdAttr);
      tls_id != nullptr) {
    std::string value(absl::StripAsciiWhitespace(tls_id->value.value_or("")));
    if (absl::Status s = sdp::ValidateTlsId(value); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(Where(index, media), ": ", s.message()));
    }
    stream->tls_id = std::move(value);
  }
  return absl::OkStatus();
}

absl::StatusOr<PeerStream> ReadStream(const sdp::SessionDescription& session,
                                      const sdp::MediaDescription& media, size_t index,
                                      SdpRole role) {
  PeerStream stream;
  stream.index = index;
  if (!media.port.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(index, media), ": port '$' (H.248 CHOOSE) is not a port; SIP SDP needs a number"));
  }
  stream.port = *media.port;
  if (absl::EqualsIgnoreCase(media.proto, "UDP/TLS/UDPTL")) {
    stream.proto = Proto::kDtls;
  } else if (absl::EqualsIgnoreCase(media.proto, "udptl")) {
    stream.proto = Proto::kPlain;
  } else if (stream.port == 0) {
    stream.proto = Proto::kPlain;  // a disabled stream of any proto: nothing to check
    return stream;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(index, media), ": proto '", media.proto,
        "' is not supported for T.38; use UDP/TLS/UDPTL (RFC 7345) or udptl"));
  }
  if (stream.port == 0) return stream;
  if (FindMediaOrSessionAttribute(session, media, sdp::kConnectionAttr) != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(index, media),
        ": a=connection must not be used with UDPTL (RFC 7345 section 4.1); remove it"));
  }
  if (absl::Status s = ReadAddress(session, media, index, &stream); !s.ok()) return s;
  if (stream.proto == Proto::kDtls) {
    if (absl::Status s = ReadDtls(session, media, index, role, &stream); !s.ok()) return s;
  } else if (absl::StatusOr<std::optional<sdp::SetupRole>> setup =
                 sdp::GetSetupRole(session, media);
             setup.ok() && setup->has_value() && **setup == sdp::SetupRole::kHoldconn) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(index, media), ": a=setup:holdconn is not supported"));
  }
  absl::StatusOr<sdp::IceParams> ice = sdp::GetIceParams(session, media);
  if (!ice.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(index, media), ": ", ice.status().message()));
  }
  if (!ice->ufrag.empty()) stream.ice = PeerIce{ice->ufrag, ice->pwd};
  absl::StatusOr<sdp::T38Params> t38 = sdp::ParseT38Params(media);
  if (!t38.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(index, media), ": ", t38.status().message()));
  }
  stream.t38 = std::move(*t38);
  return stream;
}

bool IsOurAttribute(std::string_view name) {
  static constexpr std::string_view kOurs[] = {
      sdp::kFingerprintAttr, sdp::kSetupAttr,     sdp::kConnectionAttr, sdp::kTlsIdAttr,
      sdp::kIceUfragAttr,    sdp::kIcePwdAttr,    sdp::kIceLiteAttr,    sdp::kIceOptionsAttr,
      sdp::kCandidateAttr,   sdp::kEndOfCandidatesAttr, sdp::kTcapAttr, sdp::kAcapAttr,
      sdp::kPcfgAttr,        sdp::kAcfgAttr,      sdp::kCsupAttr,       sdp::kCreqAttr,
      "remote-candidates",   "rtcp",              "crypto"};
  for (std::string_view n : kOurs) {
    if (name == n) return true;
  }
  return false;
}

sdp::Connection ConnectionFor(const dataplane::IpAddress& address) {
  return sdp::Connection{"IN", address.family == IpFamily::kV6 ? "IP6" : "IP4",
                         address.ToString()};
}

}  // namespace

std::string_view ProtoName(Proto proto) {
  return proto == Proto::kDtls ? "UDP/TLS/UDPTL" : "udptl";
}

dataplane::LegTransport TransportOf(Proto proto) {
  return proto == Proto::kDtls ? dataplane::LegTransport::kDtls : dataplane::LegTransport::kPlain;
}

Proto ProtoOf(dataplane::LegTransport transport) {
  return transport == dataplane::LegTransport::kDtls ? Proto::kDtls : Proto::kPlain;
}

absl::StatusOr<PeerSdp> ReadPeerSdp(std::string_view body, SdpRole role) {
  absl::StatusOr<sip::ExtractedSdp> extracted = sip::ExtractFromBody(body);
  if (!extracted.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        role == SdpRole::kOffer ? "offer: " : "answer: ", extracted.status().message()));
  }
  absl::StatusOr<sdp::SessionDescription> session = sdp::ParseSdp(extracted->sdp);
  if (!session.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        role == SdpRole::kOffer ? "offer SDP: " : "answer SDP: ", session.status().message()));
  }
  PeerSdp out;
  out.sip = std::move(extracted->sip);
  for (size_t i = 0; i < session->media.size(); ++i) {
    const sdp::MediaDescription& media = session->media[i];
    if (!IsT38Image(media)) continue;
    absl::StatusOr<PeerStream> stream = ReadStream(*session, media, i, role);
    if (!stream.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          role == SdpRole::kOffer ? "offer: " : "answer: ", stream.status().message()));
    }
    out.streams.push_back(std::move(*stream));
  }
  out.session = std::move(*session);
  return out;
}

std::string WriteRelaySdp(const sdp::SessionDescription& peer,
                          const std::vector<LocalStream>& streams, const OriginState& origin) {
  sdp::SessionDescription out = peer;
  std::vector<const LocalStream*> ours(out.media.size(), nullptr);
  for (const LocalStream& s : streams) {
    if (s.index < ours.size()) ours[s.index] = &s;
  }
  const LocalStream* first = nullptr;
  for (const LocalStream* s : ours) {
    if (s != nullptr && s->port != 0 && first == nullptr) first = s;
  }
  // Lines we pass through keep what they had from session level: their connection address and
  // the session-level fallback attributes (a=fingerprint of a DTLS-SRTP audio stream, ...), since
  // the session level becomes ours.
  for (size_t i = 0; i < out.media.size(); ++i) {
    if (ours[i] != nullptr) continue;
    sdp::MediaDescription& media = out.media[i];
    if (media.connections.empty() && peer.connection.has_value()) {
      media.connections.push_back(*peer.connection);
    }
    for (const sdp::Attribute& a : peer.attributes) {
      if (sdp::IsSessionFallbackAttribute(a.name) && !media.HasAttribute(a.name)) {
        media.attributes.push_back(a);
      }
    }
  }
  for (auto it = out.attributes.begin(); it != out.attributes.end();) {
    if (sdp::IsSessionFallbackAttribute(it->name) || IsOurAttribute(it->name)) {
      it = out.attributes.erase(it);
    } else {
      ++it;
    }
  }
  dataplane::IpAddress own = first != nullptr ? first->address : dataplane::IpAddress{};
  if (first == nullptr) {
    // Nothing of ours is active: keep the peer's addresses (an all-rejected answer).
    for (const LocalStream* s : ours) {
      if (s != nullptr && s->address.family != IpFamily::kNone) own = s->address;
    }
  }
  sdp::Origin o;
  o.username = "-";
  o.session_id = origin.session_id;
  o.session_version = absl::StrCat(origin.version);
  o.net_type = "IN";
  o.addr_type = own.family == IpFamily::kV6 ? "IP6" : "IP4";
  o.address = own.ToString();
  if (own.family == IpFamily::kNone) {
    // Nothing of ours in this SDP (audio only, all rejected): the peer's origin address.
    o.addr_type = peer.origin.has_value() ? peer.origin->addr_type : "IP4";
    o.address = peer.origin.has_value() ? peer.origin->address : "0.0.0.0";
  }
  out.origin = o;
  if (!out.session_name.has_value() || out.session_name->empty()) out.session_name = "-";
  if (own.family != IpFamily::kNone) out.connection = ConnectionFor(own);
  if (out.timings.empty()) out.timings.push_back(sdp::Timing{"0", "0", {}});

  bool ice_lite = false;
  for (size_t i = 0; i < out.media.size(); ++i) {
    const LocalStream* s = ours[i];
    if (s == nullptr) continue;
    sdp::MediaDescription& media = out.media[i];
    media.port = s->port;
    media.port_count.reset();
    media.proto = std::string(ProtoName(s->dtls_potential ? Proto::kPlain : s->proto));
    for (auto it = media.attributes.begin(); it != media.attributes.end();) {
      it = IsOurAttribute(it->name) ? media.attributes.erase(it) : it + 1;
    }
    media.connections.clear();
    if (s->port == 0) continue;
    if (!(s->address == own)) media.connections.push_back(ConnectionFor(s->address));
    sdp::SetT38Params(s->t38, &media);
    if (s->proto == Proto::kDtls && s->dtls_potential) {
      // RFC 7345 section 5.4 with RFC 5939: "prefers DTLS but is willing to go plain". RFC 5939
      // section 3.1 makes the m= line the actual configuration (what a peer without capability
      // negotiation uses: the fallback) and the potential configurations the preferred ones, so
      // the m= line says udptl and pcfg 1 offers UDP/TLS/UDPTL with its setup, fingerprint and
      // (optional) tls-id as attribute capabilities. A capneg peer that takes it answers
      // UDP/TLS/UDPTL with a=acfg:1; any other peer answers udptl.
      sdp::TransportCaps caps;
      caps.first_number = 1;
      caps.protos = {std::string(ProtoName(Proto::kDtls))};
      media.AddAttribute(sdp::kTcapAttr, sdp::FormatTcap(caps));
      std::vector<sdp::Attribute> acaps;
      acaps.push_back({std::string(sdp::kSetupAttr), std::string(dataplane::SetupName(s->setup))});
      if (s->fingerprint.has_value()) {
        acaps.push_back({std::string(sdp::kFingerprintAttr),
                         absl::StrCat(s->fingerprint->hash, " ", s->fingerprint->value)});
      }
      if (!s->tls_id.empty()) acaps.push_back({std::string(sdp::kTlsIdAttr), s->tls_id});
      sdp::PotentialConfig pcfg;
      pcfg.number = 1;
      pcfg.transports = {1};
      sdp::AttributeConfig config;
      for (uint32_t i = 0; i < acaps.size(); ++i) {
        media.AddAttribute(sdp::kAcapAttr, sdp::FormatAcap({i + 1, acaps[i]}));
        config.mandatory.push_back(i + 1);
      }
      pcfg.attribute_alternatives.push_back(config);
      media.AddAttribute(sdp::kPcfgAttr, sdp::FormatPcfg(pcfg));
    } else if (s->proto == Proto::kDtls) {
      media.AddAttribute(sdp::kSetupAttr, std::string(dataplane::SetupName(s->setup)));
      if (s->fingerprint.has_value()) {
        media.AddAttribute(sdp::kFingerprintAttr,
                           absl::StrCat(s->fingerprint->hash, " ", s->fingerprint->value));
      }
      if (!s->tls_id.empty()) media.AddAttribute(sdp::kTlsIdAttr, s->tls_id);
    }
    if (s->ice.has_value()) {
      ice_lite = true;
      sdp::IceParams ice;
      ice.ufrag = s->ice->ufrag;
      ice.pwd = s->ice->pwd;
      ice.lite = true;
      sdp::IceCandidate candidate;
      candidate.foundation = "1";
      candidate.component = 1;
      candidate.transport = "UDP";
      candidate.priority = kHostCandidatePriority;
      candidate.address = s->address.ToString();
      candidate.port = s->port;
      candidate.type = "host";
      ice.candidates.push_back(std::move(candidate));
      ice.end_of_candidates = true;
      sdp::SetIceParams(ice, &out, &media);
    }
  }
  if (ice_lite && out.FindAttribute(sdp::kIceLiteAttr) == nullptr) {
    out.SetAttribute(sdp::kIceLiteAttr, std::nullopt);
  }
  return sdp::WriteSdp(out);
}

DtlsSetup AnswerSetupFor(std::optional<DtlsSetup> offered) {
  if (!offered.has_value()) return DtlsSetup::kPassive;  // RFC 4145: absent means active
  switch (*offered) {
    case DtlsSetup::kActive: return DtlsSetup::kPassive;
    case DtlsSetup::kPassive: return DtlsSetup::kActive;
    case DtlsSetup::kActpass: return DtlsSetup::kActive;
  }
  return DtlsSetup::kActive;
}

void LowerMaxDatagram(bool towards_dtls, IpFamily family, uint32_t mtu, sdp::T38Params* params) {
  if (!towards_dtls) return;
  const uint32_t headers = (family == IpFamily::kV6 ? 40u : 20u) + 8u + kDtlsOverhead;
  const uint32_t ceiling = mtu > headers ? mtu - headers : 0;
  if (!params->max_datagram.has_value() || *params->max_datagram > ceiling) {
    params->max_datagram = ceiling;
  }
}

std::string RandomIceChars(size_t length) { return RandomFrom(kIceChars, length); }

std::string RandomTlsId() { return RandomFrom(kTlsIdChars, 32); }

std::string RandomSessionId() {
  static thread_local std::mt19937_64 engine{std::random_device{}()};
  return absl::StrCat(1 + (engine() >> 2));
}

}  // namespace t38relay::control::offer_answer
