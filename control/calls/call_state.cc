// The leg label codec (JSON, at most 4096 bytes) and names of the call registry's enums.
#include "control/calls/call_state.h"

#include <utility>

#include "control/api/control_protocol.h"
#include "dataplane/flowsock/protocol.h"
#include "nlohmann/json.hpp"

namespace t38relay::control::calls {
namespace {

using nlohmann::json;
using offer_answer::PeerIce;
using offer_answer::Proto;

constexpr size_t kMaxLabelBytes = 4096;
constexpr size_t kMaxLabelFingerprints = 16;

std::optional<dataplane::DtlsSetup> SetupFromText(std::string_view text) {
  if (text == "active") return dataplane::DtlsSetup::kActive;
  if (text == "passive") return dataplane::DtlsSetup::kPassive;
  if (text == "actpass") return dataplane::DtlsSetup::kActpass;
  return std::nullopt;
}

json IceJson(const PeerIce& ice) { return json{{"u", ice.ufrag}, {"p", ice.pwd}}; }

// Typed reads that never throw: a missing or mistyped member gives the fallback.
std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
uint64_t Uint(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}
int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}
bool Bool(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}
std::optional<PeerIce> IceFrom(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_object()) return std::nullopt;
  return PeerIce{Str(*it, "u"), Str(*it, "p")};
}
std::optional<Side> SideFrom(std::string_view text) {
  if (text == "caller") return Side::kCaller;
  if (text == "callee") return Side::kCallee;
  return std::nullopt;
}

json PeerJson(const PeerState& peer, size_t max_fingerprints) {
  json fp = json::array();
  for (size_t i = 0; i < peer.fingerprints.size() && i < max_fingerprints; ++i) {
    fp.push_back(json::array({peer.fingerprints[i].hash, peer.fingerprints[i].value}));
  }
  json j{{"proto", peer.proto == Proto::kDtls ? "dtls" : "plain"},
         {"family", peer.family == dataplane::IpFamily::kV6 ? 6 : 4},
         {"fp", std::move(fp)},
         {"tls_id", peer.tls_id}};
  if (peer.remote.has_value()) {
    j["remote"] = json{{"ip", peer.remote->ip.ToString()}, {"port", peer.remote->port}};
  }
  if (peer.setup.has_value()) j["setup"] = dataplane::SetupName(*peer.setup);
  if (peer.ice.has_value()) j["ice"] = IceJson(*peer.ice);
  return j;
}

PeerState PeerFrom(const json& j) {
  PeerState peer;
  if (!j.is_object()) return peer;
  peer.known = true;
  peer.proto = Str(j, "proto") == "dtls" ? Proto::kDtls : Proto::kPlain;
  peer.family = Uint(j, "family") == 6 ? dataplane::IpFamily::kV6 : dataplane::IpFamily::kV4;
  if (auto it = j.find("remote"); it != j.end() && it->is_object()) {
    std::optional<dataplane::IpAddress> ip = dataplane::ParseIpAddress(Str(*it, "ip"));
    uint64_t port = Uint(*it, "port");
    if (ip.has_value() && port > 0 && port <= 65535) {
      peer.remote = dataplane::SocketAddress{*ip, static_cast<uint16_t>(port)};
    }
  }
  peer.setup = SetupFromText(Str(j, "setup"));
  if (auto it = j.find("fp"); it != j.end() && it->is_array()) {
    for (const json& f : *it) {
      if (f.is_array() && f.size() == 2 && f[0].is_string() && f[1].is_string() &&
          peer.fingerprints.size() < kMaxLabelFingerprints) {
        peer.fingerprints.push_back({f[0].get<std::string>(), f[1].get<std::string>()});
      }
    }
  }
  peer.tls_id = Str(j, "tls_id");
  peer.ice = IceFrom(j, "ice");
  return peer;
}

}  // namespace

std::string_view SideName(Side side) { return side == Side::kCaller ? "caller" : "callee"; }

std::string_view CallStateName(CallState state) {
  switch (state) {
    case CallState::kOffered: return "offered";
    case CallState::kAnswered: return "answered";
    case CallState::kFailed: return "failed";
  }
  return "failed";
}

std::string EncodeLabel(const Call& call, const Stream& stream, const Association& association,
                        bool pending, Side side) {
  const RelayLeg& leg = association.legs[Index(side)];
  const PeerState& peer = stream.peer[Index(side)];
  json j{{"t38relay", 1},
         {"call", call.call_id},
         {"tags", json::array({call.tags[0], call.tags[1]})},
         {"side", SideName(side)},
         {"stream", stream.index},
         {"gen", association.generation},
         {"pending", pending},
         {"state", CallStateName(call.state)},
         {"mc", call.offer_media_count},
         {"policy", TransportPolicyName(call.policy)},
         {"anon", call.anonymous},
         {"refused", call.dtls_refused},
         {"created", call.created},
         {"origin", json{{"id", call.origin[Index(side)].session_id},
                         {"v", call.origin[Index(side)].version}}},
         {"tls_id", leg.tls_id}};
  if (call.offer_from.has_value()) j["offer_from"] = SideName(*call.offer_from);
  if (leg.ice.has_value()) j["ice"] = IceJson(*leg.ice);
  // The label is capped at 4096 bytes: drop peer fingerprints from the end until it fits (the
  // dataplane keeps all of them for verification; a restarted control only loses the ability to
  // tell whether a re-offer changed the dropped ones).
  for (size_t keep = peer.fingerprints.size() + 1; keep-- > 0;) {
    if (peer.known) j["peer"] = PeerJson(peer, keep);
    std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() <= kMaxLabelBytes || keep == 0) return text;
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<DecodedLabel> DecodeLabel(std::string_view label) {
  if (label.empty() || label.front() != '{') return std::nullopt;
  json j = json::parse(label, nullptr, false);
  if (j.is_discarded() || !j.is_object() || Uint(j, "t38relay") != 1) return std::nullopt;
  DecodedLabel out;
  out.call.call_id = Str(j, "call");
  if (out.call.call_id.empty()) return std::nullopt;
  auto tags = j.find("tags");
  if (tags == j.end() || !tags->is_array() || tags->size() != 2 || !(*tags)[0].is_string() ||
      !(*tags)[1].is_string()) {
    return std::nullopt;
  }
  out.call.tags = {(*tags)[0].get<std::string>(), (*tags)[1].get<std::string>()};
  std::optional<Side> side = SideFrom(Str(j, "side"));
  std::optional<TransportPolicy> policy = TransportPolicyFromName(Str(j, "policy"));
  if (!side.has_value() || !policy.has_value()) return std::nullopt;
  out.side = *side;
  out.call.policy = *policy;
  std::string state = Str(j, "state");
  out.call.state = state == "answered" ? CallState::kAnswered
                   : state == "failed" ? CallState::kFailed
                                       : CallState::kOffered;
  out.call.offer_from = SideFrom(Str(j, "offer_from"));
  out.call.offer_media_count = Uint(j, "mc");
  out.call.anonymous = Bool(j, "anon");
  out.call.dtls_refused = Bool(j, "refused");
  out.call.created = Int(j, "created");
  out.call.last_activity = out.call.created;
  if (auto it = j.find("origin"); it != j.end() && it->is_object()) {
    out.call.origin[Index(*side)] = {Str(*it, "id"), Uint(*it, "v")};
  }
  out.stream = Uint(j, "stream");
  out.generation = static_cast<uint32_t>(Uint(j, "gen"));
  out.pending = Bool(j, "pending");
  out.tls_id = Str(j, "tls_id");
  out.ice = IceFrom(j, "ice");
  if (auto it = j.find("peer"); it != j.end()) out.peer = PeerFrom(*it);
  return out;
}

}  // namespace t38relay::control::calls
