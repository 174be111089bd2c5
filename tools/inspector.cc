// The packet inspector's decoding: one UDP datagram (or captured frame) to one JSON object.
#include "tools/inspector.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "dataplane/wire/demux.h"
#include "dataplane/wire/dtls_record.h"
#include "dataplane/wire/packet.h"
#include "dataplane/wire/stun.h"
#include "dataplane/wire/udptl.h"

namespace t38relay::tools {
namespace {

namespace dp = ::t38relay::dataplane;

std::string Hex(dp::Bytes bytes) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string DtlsVersionName(uint16_t version) {
  switch (version) {
    case dp::kDtls12Version:
      return "DTLS 1.2";
    case dp::kDtls10Version:
      return "DTLS 1.0";
    default:
      return absl::StrFormat("0x%04x", version);
  }
}

// Sets the packet's error unless an earlier layer already named one.
void SetError(Json* out, std::string_view error) {
  if (!out->contains("error")) (*out)["error"] = std::string(error);
}

// RFC 3550 section 5.1: version 2 and a fixed header.
bool LooksLikeRtp(dp::Bytes payload) {
  uint8_t first = 0;
  return payload.size() >= 12 && dp::ByteReader(payload).PeekU8(&first) && (first >> 6) == 2;
}

}  // namespace

Inspector::Inspector(InspectorOptions options) : options_(std::move(options)) {
  if (options_.stun_long_term) {
    const auto key = dp::LongTermKey(options_.stun_long_term->username,
                                     options_.stun_long_term->realm,
                                     options_.stun_long_term->password);
    stun_key_.assign(key.begin(), key.end());
  } else if (options_.stun_password) {
    stun_key_.assign(options_.stun_password->begin(), options_.stun_password->end());
  }
}

std::optional<Json> Inspector::InspectFrame(const PcapFrame& frame) {
  ++frames_;
  dp::PacketView view;
  const dp::WireError error =
      dp::ParseFrame(static_cast<dp::LinkType>(frame.link_type), frame.data, &view);
  const bool udp = view.l4_protocol == dp::kIpProtoUdp;
  // Only frames that are (or may be) UDP are ours to show; the rest are counted.
  if (!udp && (error == dp::WireError::kOk || error == dp::WireError::kNotIp ||
               view.l4_protocol != 0)) {
    ++not_udp_;
    return std::nullopt;
  }

  Json out;
  out["frame"] = frame.number;
  out["time"] = frame.timestamp;
  if (view.family != dp::IpFamily::kNone) {
    out["src"] = dp::SocketAddress{view.src, view.src_port}.ToString();
    out["dst"] = dp::SocketAddress{view.dst, view.dst_port}.ToString();
  }
  if (view.ethernet.vlan_count > 0) {
    Json vlans = Json::array();
    for (size_t i = 0; i < view.ethernet.vlan_count; ++i) vlans.push_back(view.ethernet.vlans[i].id());
    out["vlan"] = vlans;
  }
  if (frame.original_length > frame.data.size()) out["truncated_capture"] = true;
  dp::WireError frame_error = error;
  if (error == dp::WireError::kIpv4BadChecksum || error == dp::WireError::kUdpBadChecksum) {
    if (view.family == dp::IpFamily::kV4) out["ipv4_checksum_ok"] = view.ipv4_checksum_ok;
    if (view.udp_checksum_checked) out["udp_checksum_ok"] = view.udp_checksum_ok;
    if (!options_.check_checksums) frame_error = dp::WireError::kOk;
  }
  if (frame_error != dp::WireError::kOk) out["error"] = std::string(dp::WireErrorName(frame_error));

  if (view.fragment) {
    out["kind"] = "ip-fragment";
  } else if (view.l4.empty() || error == dp::WireError::kUdpTruncated ||
             error == dp::WireError::kUdpBadLength) {
    out["kind"] = "malformed";
  } else {
    bool as_udptl = false;
    for (uint16_t port : options_.udptl_ports) {
      if (view.src_port == port || view.dst_port == port) as_udptl = true;
    }
    Json datagram = InspectDatagram(view.payload, as_udptl);
    for (auto& [key, value] : datagram.items()) {
      if (key == "error" && out.contains("error")) {
        out["payload_error"] = std::move(value);  // the frame's own error stays first
      } else {
        out[key] = std::move(value);
      }
    }
    // InspectDatagram counted the datagram; count only the frame-level error on top.
    if (frame_error != dp::WireError::kOk) ++errors_[std::string(dp::WireErrorName(frame_error))];
    return out;
  }
  Count(out);
  return out;
}

Json Inspector::InspectDatagram(dp::Bytes payload, bool as_udptl) {
  Json out;
  out["length"] = payload.size();
  // RFC 7983 first, also on UDPTL ports (ICE and RFC 7345 share them). Other protocols start
  // with 0..3 or 20..63 too (UDPTL sequence numbers, GTP-U, text): only a STUN cookie (or the
  // exact shape of an RFC 3489 message) makes STUN, only a known record header makes DTLS.
  const dp::DemuxKind kind = dp::Demux(payload);
  if (kind == dp::DemuxKind::kStun &&
      (dp::HasStunCookie(payload) || dp::IsClassicStunMessage(payload))) {
    DecodeStun(payload, &out);
  } else if (kind == dp::DemuxKind::kDtls && dp::HasDtlsRecordStart(payload)) {
    DecodeDtls(payload, &out);
  } else if (as_udptl) {
    DecodeUdptl(payload, &out);
  } else {
    out["kind"] = "other";
    if (kind != dp::DemuxKind::kOther) out["note"] = "first byte says STUN or DTLS, header does not";
  }
  Count(out);
  return out;
}

void Inspector::DecodeStun(dp::Bytes payload, Json* out) {
  (*out)["kind"] = "stun";
  dp::StunMessage msg;
  const dp::WireError error = dp::ParseStun(payload, &msg);
  if (error != dp::WireError::kOk) {
    SetError(out, dp::WireErrorName(error));
    return;
  }
  Json stun;
  stun["class"] = std::string(dp::StunClassName(msg.message_class));
  const std::string_view method = dp::StunMethodName(msg.method);
  stun["method"] = method.empty() ? absl::StrFormat("0x%03x", msg.method) : std::string(method);
  stun["transaction_id"] = Hex(msg.transaction_id);
  if (!msg.has_cookie) stun["rfc3489"] = true;
  Json attributes = Json::array();
  for (const dp::StunAttribute& attr : msg.attribute_list()) {
    Json a;
    const std::string_view name = dp::StunAttributeName(attr.type);
    a["type"] = name.empty() ? absl::StrFormat("0x%04x", attr.type) : std::string(name);
    a["value"] = dp::FormatStunAttributeValue(msg, attr);
    attributes.push_back(std::move(a));
  }
  stun["attributes"] = std::move(attributes);
  if (msg.unknown_required_count > 0) {
    Json unknown = Json::array();
    for (uint16_t type : msg.unknown_required_list()) unknown.push_back(absl::StrFormat("0x%04x", type));
    stun["unknown_comprehension_required"] = std::move(unknown);
  }
  if (msg.ignored_attribute_count > 0) stun["ignored_after_integrity"] = msg.ignored_attribute_count;

  if (msg.fingerprint) {
    const dp::WireError fp = dp::VerifyFingerprint(msg);
    stun["fingerprint_ok"] = fp == dp::WireError::kOk;
    if (fp != dp::WireError::kOk) SetError(out, dp::WireErrorName(fp));
  }
  const bool have_key = !stun_key_.empty();
  if (msg.message_integrity) {
    if (have_key) {
      const dp::WireError mi = dp::VerifyMessageIntegrity(msg, stun_key_);
      stun["integrity_ok"] = mi == dp::WireError::kOk;
      if (mi != dp::WireError::kOk) SetError(out, dp::WireErrorName(mi));
    } else {
      stun["integrity_ok"] = nullptr;  // present, but no credentials to check it with
    }
  }
  if (msg.message_integrity_sha256) {
    if (have_key) {
      const dp::WireError mi = dp::VerifyMessageIntegritySha256(msg, stun_key_);
      stun["integrity_sha256_ok"] = mi == dp::WireError::kOk;
      if (mi != dp::WireError::kOk) SetError(out, dp::WireErrorName(mi));
    } else {
      stun["integrity_sha256_ok"] = nullptr;
    }
  }
  (*out)["stun"] = std::move(stun);
}

void Inspector::DecodeDtls(dp::Bytes payload, Json* out) {
  (*out)["kind"] = "dtls";
  dp::DtlsDatagram datagram;
  const dp::WireError error = dp::SplitDtlsRecords(payload, &datagram);
  if (error != dp::WireError::kOk) SetError(out, dp::WireErrorName(error));
  Json records = Json::array();
  for (size_t i = 0; i < datagram.count; ++i) {
    const dp::DtlsRecord& rec = datagram.records[i];
    Json r;
    r["type"] = std::string(dp::DtlsContentTypeName(rec.content_type));
    r["version"] = DtlsVersionName(rec.version);
    r["epoch"] = rec.epoch;
    r["sequence"] = rec.sequence;
    r["length"] = rec.length;
    // Handshake messages are readable in epoch 0 only; later epochs are encrypted.
    if (rec.content_type == dp::kDtlsHandshake && rec.epoch == 0) {
      Json messages = Json::array();
      dp::Bytes rest = rec.fragment;
      while (!rest.empty()) {
        dp::DtlsHandshakeHeader hs;
        const dp::WireError hs_error = dp::ParseDtlsHandshake(rest, &hs, &rest);
        if (hs_error != dp::WireError::kOk) {
          SetError(out, dp::WireErrorName(hs_error));
          break;
        }
        messages.push_back(Json{{"type", std::string(dp::DtlsHandshakeTypeName(hs.msg_type))},
                                {"length", hs.length},
                                {"message_seq", hs.message_seq},
                                {"fragment_offset", hs.fragment_offset},
                                {"fragment_length", hs.fragment_length}});
      }
      r["handshake"] = std::move(messages);
    }
    records.push_back(std::move(r));
  }
  (*out)["dtls"] = Json{{"records", std::move(records)}};
}

Json Inspector::DecodeIfp(dp::Bytes ifp, std::string* error) {
  // Senders fill redundancy slots for packets that never existed with empty IFPs.
  if (ifp.empty()) return Json{{"empty", true}};
  dp::IfpPacket packet;
  const dp::WireError e = dp::DecodeIfp(ifp, options_.ifp_variant, &packet);
  if (e != dp::WireError::kOk) {
    if (error->empty()) *error = dp::WireErrorName(e);
    return Json{{"error", std::string(dp::WireErrorName(e))}, {"hex", Hex(ifp)}};
  }
  Json j;
  j["type"] = packet.kind == dp::IfpMsgKind::kIndicator ? "t30-indicator" : "t30-data";
  j["value"] = std::string(dp::IfpTypeName(packet));
  j["class"] = std::string(dp::IfpClassName(dp::ClassifyIfp(packet)));
  if (packet.has_data_field) {
    Json fields = Json::array();
    for (const dp::IfpField& f : packet.fields()) {
      Json field;
      field["type"] = std::string(dp::IfpFieldTypeName(f.type));
      if (f.has_data) field["data"] = Hex(f.data);
      fields.push_back(std::move(field));
    }
    j["fields"] = std::move(fields);
  }
  return j;
}

void Inspector::DecodeUdptl(dp::Bytes payload, Json* out) {
  (*out)["kind"] = "udptl";
  dp::UdptlPacket packet;
  const dp::WireError error = dp::DecodeUdptl(payload, &packet);
  if (error != dp::WireError::kOk && LooksLikeRtp(payload)) {
    // A call's audio often used the port before the T.38 re-INVITE; UDPTL sequence numbers
    // 32768..49151 start like RTP, so only a failed UDPTL decode makes it RTP.
    (*out)["kind"] = "rtp";
    (*out)["note"] = "not UDPTL; RTP version 2 header";
    return;
  }
  if (error != dp::WireError::kOk) {
    SetError(out, dp::WireErrorName(error));
    // The sequence number helps find the packet even when the rest is broken.
    dp::UdptlHeader header;
    if (dp::DecodeUdptlHeader(payload, &header) == dp::WireError::kOk) {
      (*out)["udptl"] = Json{{"seq", header.seq}};
    }
    return;
  }
  std::string ifp_error;
  Json udptl;
  udptl["seq"] = packet.seq;
  udptl["primary"] = DecodeIfp(packet.primary, &ifp_error);
  if (packet.recovery == dp::UdptlRecovery::kSecondary) {
    Json secondary = Json::array();
    for (dp::Bytes ifp : packet.secondaries()) secondary.push_back(DecodeIfp(ifp, &ifp_error));
    udptl["redundancy"] = std::move(secondary);
  } else {
    Json entries = Json::array();
    for (dp::Bytes entry : packet.fec_entries()) entries.push_back(Hex(entry));
    udptl["fec"] = Json{{"npackets", packet.fec_span}, {"data", std::move(entries)}};
  }
  if (udptl["primary"].contains("value")) (*out)["t38"] = udptl["primary"]["value"];
  if (!ifp_error.empty()) SetError(out, ifp_error);
  (*out)["udptl"] = std::move(udptl);
}

void Inspector::Count(const Json& packet) {
  ++kinds_[packet.value("kind", "malformed")];
  if (packet.contains("error")) ++errors_[packet["error"].get<std::string>()];
  if (packet.contains("udptl") && packet["udptl"].contains("primary") &&
      packet["udptl"]["primary"].contains("class")) {
    ++t38_classes_[packet["udptl"]["primary"]["class"].get<std::string>()];
  }
}

Json Inspector::Summary() const {
  Json kinds = Json::object();
  uint64_t datagrams = 0;
  for (const auto& [kind, n] : kinds_) {
    kinds[kind] = n;
    datagrams += n;
  }
  Json errors = Json::object();
  uint64_t error_count = 0;
  for (const auto& [error, n] : errors_) {
    errors[error] = n;
    error_count += n;
  }
  Json t38 = Json::object();
  for (const auto& [c, n] : t38_classes_) t38[c] = n;
  Json s;
  s["frames"] = frames_;
  s["not_udp"] = not_udp_;
  s["datagrams"] = datagrams;
  s["kinds"] = std::move(kinds);
  s["errors"] = error_count;
  s["errors_by_name"] = std::move(errors);
  s["t38_classes"] = std::move(t38);
  return Json{{"summary", std::move(s)}};
}

}  // namespace t38relay::tools
