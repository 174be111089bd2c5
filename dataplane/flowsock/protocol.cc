// Flow socket protocol v1: request parsing and validation, reply/error/event formatting.
#include "dataplane/flowsock/protocol.h"

#include "dataplane/flowsock/field_parser.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <initializer_list>
#include <set>
#include <vector>

namespace t38relay::dataplane {
namespace {

using json = nlohmann::json;

constexpr std::array<std::string_view, kErrorCodeCount> kErrorCodeNames = {
    "bad-json",      "bad-request",   "unsupported-version", "unknown-command",
    "too-large",     "not-found",     "invalid-state",       "no-capacity",
    "permission-denied", "busy",      "internal",
};

constexpr std::array<std::string_view, kCommandCount> kCommandNames = {
    "hello",   "leg.add",   "leg.update", "leg.link",         "leg.del",
    "leg.get", "legs.list", "stats",      "events.subscribe", "events.unsubscribe",
};

bool ParseLegAdd(const json& j, FieldParser& p, LegAddRequest* r) {
  if (!p.OnlyFields(j, {"v", "id", "cmd", "transport", "ip", "family", "port", "remote", "setup",
                        "remote_setup", "fingerprints", "ice", "latch", "anonymous", "label"},
                    "")) {
    return false;
  }
  const json* transport = p.Require(j, "transport", "");
  size_t index = 0;
  if (transport == nullptr || !p.Enum(*transport, "transport", {"dtls", "plain"}, &index)) {
    return false;
  }
  r->transport = static_cast<LegTransport>(index);
  const json* ip = p.Find(j, "ip");
  const json* family = p.Find(j, "family");
  if (ip != nullptr && family != nullptr) {
    return p.Fail("ip", "give 'ip' or 'family', not both");
  }
  if (ip != nullptr) {
    IpAddress address;
    if (!p.Ip(*ip, "ip", &address)) return false;
    r->ip = address;
  }
  if (family != nullptr) {
    if (!p.Enum(*family, "family", {"ipv4", "ipv6"}, &index)) return false;
    r->family = index == 0 ? IpFamily::kV4 : IpFamily::kV6;
  }
  if (const json* port = p.Find(j, "port")) {
    uint64_t n = 0;
    if (!p.Uint(*port, "port", 1, 65535, &n)) return false;
    r->port = static_cast<uint16_t>(n);
  }
  if (const json* remote = p.Find(j, "remote")) {
    SocketAddress address;
    if (!p.Address(*remote, "remote", &address)) return false;
    r->remote = address;
  }
  if (r->transport == LegTransport::kPlain) {
    for (std::string_view dtls_only : {"setup", "remote_setup", "fingerprints", "anonymous"}) {
      if (p.Find(j, dtls_only) != nullptr) return p.Fail(dtls_only, "only for dtls legs");
    }
  }
  if (const json* setup = p.Find(j, "setup")) {
    if (!p.SetupValue(*setup, "setup", &r->setup)) return false;
  }
  if (const json* remote_setup = p.Find(j, "remote_setup")) {
    DtlsSetup value;
    if (!p.SetupValue(*remote_setup, "remote_setup", &value)) return false;
    r->remote_setup = value;
  }
  if (const json* fingerprints = p.Find(j, "fingerprints")) {
    if (!p.Fingerprints(*fingerprints, "fingerprints", &r->fingerprints)) return false;
  }
  if (const json* ice = p.Find(j, "ice")) {
    IceCredentials credentials;
    if (!p.Ice(*ice, "ice", &credentials)) return false;
    r->ice = std::move(credentials);
  }
  if (const json* latch = p.Find(j, "latch")) {
    if (!p.LatchValue(*latch, "latch", &r->latch)) return false;
  }
  if (const json* anonymous = p.Find(j, "anonymous")) {
    if (!p.Bool(*anonymous, "anonymous", &r->anonymous)) return false;
  }
  if (const json* label = p.Find(j, "label")) {
    if (!p.Label(*label, "label", &r->label)) return false;
  }
  return true;
}

bool ParseLegUpdate(const json& j, FieldParser& p, LegUpdateRequest* r) {
  if (!p.OnlyFields(j, {"v", "id", "cmd", "leg", "transport", "remote", "remote_setup", "setup",
                        "fingerprints", "ice", "latch", "label"},
                    "")) {
    return false;
  }
  const json* leg = p.Require(j, "leg", "");
  if (leg == nullptr || !p.Id(*leg, "leg", &r->leg)) return false;
  if (const json* transport = p.Find(j, "transport")) {
    size_t index = 0;
    if (!p.Enum(*transport, "transport", {"dtls", "plain"}, &index)) return false;
    r->transport = static_cast<LegTransport>(index);
  }
  if (const json* remote = p.Find(j, "remote")) {
    SocketAddress address;
    if (!p.Address(*remote, "remote", &address)) return false;
    r->remote = address;
  }
  if (const json* remote_setup = p.Find(j, "remote_setup")) {
    DtlsSetup value;
    if (!p.SetupValue(*remote_setup, "remote_setup", &value)) return false;
    r->remote_setup = value;
  }
  if (const json* setup = p.Find(j, "setup")) {
    DtlsSetup value;
    if (!p.SetupValue(*setup, "setup", &value)) return false;
    r->setup = value;
  }
  if (const json* fingerprints = p.Find(j, "fingerprints")) {
    std::vector<FingerprintValue> values;
    if (!p.Fingerprints(*fingerprints, "fingerprints", &values)) return false;
    r->fingerprints = std::move(values);
  }
  if (const json* ice = p.Find(j, "ice")) {
    IceCredentials credentials;
    if (!p.Ice(*ice, "ice", &credentials)) return false;
    r->ice = std::move(credentials);
  }
  if (const json* latch = p.Find(j, "latch")) {
    Latch value;
    if (!p.LatchValue(*latch, "latch", &value)) return false;
    r->latch = value;
  }
  if (const json* label = p.Find(j, "label")) {
    std::string value;
    if (!p.Label(*label, "label", &value)) return false;
    r->label = std::move(value);
  }
  if (!r->transport && !r->remote && !r->remote_setup && !r->setup && !r->fingerprints &&
      !r->ice && !r->latch && !r->label) {
    return p.Fail("leg.update", "give at least one of transport, remote, remote_setup, setup, "
                                "fingerprints, ice, latch, label");
  }
  return true;
}

bool ParseLegRef(const json& j, FieldParser& p, LegRef* r) {
  if (!p.OnlyFields(j, {"v", "id", "cmd", "leg"}, "")) return false;
  const json* leg = p.Require(j, "leg", "");
  return leg != nullptr && p.Id(*leg, "leg", &r->leg);
}

ProtocolError Error(std::optional<uint64_t> id, ErrorCode code, std::string message) {
  return ProtocolError{id, code, std::move(message)};
}

void AppendUint(std::string* out, uint64_t n) { *out += std::to_string(n); }

void AppendMembers(std::string* out, const json& members,
                   std::initializer_list<std::string_view> reserved) {
  if (!members.is_object()) return;
  for (const auto& item : members.items()) {
    const std::string& key = item.key();
    if (std::find(reserved.begin(), reserved.end(), std::string_view(key)) != reserved.end()) {
      continue;
    }
    *out += ',';
    *out += DumpJson(json(key));
    *out += ':';
    *out += DumpJson(item.value());
  }
}

json FingerprintsToJson(const std::vector<FingerprintValue>& fingerprints) {
  json out = json::array();
  for (const FingerprintValue& fp : fingerprints) out.push_back(FingerprintToJson(fp));
  return out;
}

json IceToJson(const IceCredentials& ice) {
  json out = {{"ufrag", ice.ufrag}, {"pwd", ice.pwd}};
  if (!ice.remote_ufrag.empty()) out["remote_ufrag"] = ice.remote_ufrag;
  return out;
}

}  // namespace

std::string_view ErrorCodeName(ErrorCode code) {
  const size_t i = static_cast<size_t>(code);
  return i < kErrorCodeNames.size() ? kErrorCodeNames[i] : "internal";
}

ErrorCode ErrorCodeFromStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return ErrorCode::kNotFound;
    case absl::StatusCode::kFailedPrecondition:
      return ErrorCode::kInvalidState;
    case absl::StatusCode::kResourceExhausted:
      return ErrorCode::kNoCapacity;
    case absl::StatusCode::kInvalidArgument:
      return ErrorCode::kBadRequest;
    case absl::StatusCode::kPermissionDenied:
      return ErrorCode::kPermissionDenied;
    case absl::StatusCode::kUnavailable:
      return ErrorCode::kBusy;
    default:
      return ErrorCode::kInternal;
  }
}

std::string_view CommandName(Command command) {
  const size_t i = static_cast<size_t>(command);
  return i < kCommandNames.size() ? kCommandNames[i] : "";
}

std::string_view LegTransportName(LegTransport transport) {
  return transport == LegTransport::kDtls ? "dtls" : "plain";
}

std::string_view SetupName(DtlsSetup setup) {
  switch (setup) {
    case DtlsSetup::kActive:
      return "active";
    case DtlsSetup::kPassive:
      return "passive";
    case DtlsSetup::kActpass:
      break;
  }
  return "actpass";
}

std::string_view LatchName(Latch latch) { return latch == Latch::kStrict ? "strict" : "learn"; }

std::string_view DtlsRoleName(DtlsRole role) {
  return role == DtlsRole::kClient ? "client" : "server";
}

std::string_view LegStateName(LegState state) {
  switch (state) {
    case LegState::kPlain:
      return "plain";
    case LegState::kWaiting:
      return "waiting";
    case LegState::kHandshaking:
      return "handshaking";
    case LegState::kEstablished:
      return "established";
    case LegState::kFailed:
      break;
  }
  return "failed";
}

size_t FingerprintHashSize(std::string_view hash) {
  if (hash == "sha-1") return 20;
  if (hash == "sha-224") return 28;
  if (hash == "sha-256") return 32;
  if (hash == "sha-384") return 48;
  if (hash == "sha-512") return 64;
  return 0;
}

std::string CheckFingerprint(std::string_view hash, std::string_view value) {
  const size_t size = FingerprintHashSize(hash);
  if (size == 0) {
    return QuoteText(hash) + " is not one of sha-1, sha-224, sha-256, sha-384, sha-512";
  }
  bool good = value.size() == size * 3 - 1;
  for (size_t i = 0; good && i < value.size(); ++i) {
    const char c = value[i];
    good = i % 3 == 2 ? c == ':' : std::isxdigit(static_cast<unsigned char>(c)) != 0;
  }
  if (good) return "";
  return "must be " + std::to_string(size) + " colon-separated hex bytes for " + std::string(hash) +
         " (AB:CD:...)";
}

bool IsIceChars(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  });
}

ParsedRequest ParseRequest(std::string_view line) {
  std::variant<RequestEnvelope, ProtocolError> envelope = ParseRequestEnvelope(line, kCommandNames);
  if (auto* error = std::get_if<ProtocolError>(&envelope)) return std::move(*error);
  const json& j = std::get<RequestEnvelope>(envelope).object;
  const std::optional<uint64_t> id = std::get<RequestEnvelope>(envelope).id;
  FieldParser p;
  Request request;
  request.id = *id;
  request.command = static_cast<Command>(std::get<RequestEnvelope>(envelope).command);
  bool ok = true;
  switch (request.command) {
    case Command::kLegAdd: {
      LegAddRequest args;
      ok = ParseLegAdd(j, p, &args);
      request.args = std::move(args);
      break;
    }
    case Command::kLegUpdate: {
      LegUpdateRequest args;
      ok = ParseLegUpdate(j, p, &args);
      request.args = std::move(args);
      break;
    }
    case Command::kLegLink: {
      LegLinkRequest args;
      ok = p.OnlyFields(j, {"v", "id", "cmd", "legs"}, "");
      const json* legs = ok ? p.Require(j, "legs", "") : nullptr;
      ok = legs != nullptr;
      if (ok && (!legs->is_array() || legs->size() != 2)) {
        ok = p.Fail("legs", "must be an array of two leg ids [A, B]");
      }
      ok = ok && p.Id((*legs)[0], "legs[0]", &args.a) && p.Id((*legs)[1], "legs[1]", &args.b);
      if (ok && args.a == args.b) {
        // The contract files "two distinct legs" under invalid-state with the link conflicts.
        return Error(id, ErrorCode::kInvalidState, "legs: a leg cannot be linked to itself");
      }
      request.args = args;
      break;
    }
    case Command::kLegDel:
    case Command::kLegGet: {
      LegRef args;
      ok = ParseLegRef(j, p, &args);
      request.args = args;
      break;
    }
    case Command::kHello:
    case Command::kLegsList:
    case Command::kStats:
    case Command::kEventsSubscribe:
    case Command::kEventsUnsubscribe:
      ok = p.OnlyFields(j, {"v", "id", "cmd"}, "");
      break;
  }
  if (!ok) return Error(id, ErrorCode::kBadRequest, p.error());
  return request;
}

std::string FormatRequest(const Request& request) {
  json j = {{"v", kFlowProtocolVersion},
            {"id", request.id},
            {"cmd", std::string(CommandName(request.command))}};
  if (const auto* add = std::get_if<LegAddRequest>(&request.args)) {
    j["transport"] = LegTransportName(add->transport);
    if (add->ip) j["ip"] = add->ip->ToString();
    if (add->family) j["family"] = *add->family == IpFamily::kV6 ? "ipv6" : "ipv4";
    if (add->port) j["port"] = *add->port;
    if (add->remote) j["remote"] = AddressToJson(*add->remote);
    if (add->transport == LegTransport::kDtls) {
      j["setup"] = SetupName(add->setup);
      if (add->remote_setup) j["remote_setup"] = SetupName(*add->remote_setup);
      j["fingerprints"] = FingerprintsToJson(add->fingerprints);
      if (add->anonymous) j["anonymous"] = true;
    }
    if (add->ice) j["ice"] = IceToJson(*add->ice);
    j["latch"] = LatchName(add->latch);
    if (!add->label.empty()) j["label"] = add->label;
  } else if (const auto* update = std::get_if<LegUpdateRequest>(&request.args)) {
    j["leg"] = update->leg;
    if (update->transport) j["transport"] = LegTransportName(*update->transport);
    if (update->remote) j["remote"] = AddressToJson(*update->remote);
    if (update->remote_setup) j["remote_setup"] = SetupName(*update->remote_setup);
    if (update->setup) j["setup"] = SetupName(*update->setup);
    if (update->fingerprints) j["fingerprints"] = FingerprintsToJson(*update->fingerprints);
    if (update->ice) j["ice"] = IceToJson(*update->ice);
    if (update->latch) j["latch"] = LatchName(*update->latch);
    if (update->label) j["label"] = *update->label;
  } else if (const auto* link = std::get_if<LegLinkRequest>(&request.args)) {
    j["legs"] = {link->a, link->b};
  } else if (const auto* ref = std::get_if<LegRef>(&request.args)) {
    j["leg"] = ref->leg;
  }
  return DumpJson(j) + "\n";
}

std::string FormatReply(uint64_t id, const nlohmann::json& results) {
  std::string out = "{\"v\":1,\"id\":";
  AppendUint(&out, id);
  out += ",\"ok\":true";
  AppendMembers(&out, results, {"v", "id", "ok"});
  out += "}\n";
  return out;
}

std::string FormatError(const ProtocolError& error) {
  std::string out = "{\"v\":1,\"id\":";
  if (error.id) {
    AppendUint(&out, *error.id);
  } else {
    out += "null";
  }
  out += ",\"ok\":false,\"error\":\"";
  out += ErrorCodeName(error.code);
  out += "\",\"message\":";
  out += DumpJson(json(error.message));
  out += "}\n";
  return out;
}

std::string FormatEvent(const LegEvent& event) {
  std::string out = "{\"v\":1,\"event\":";
  out += DumpJson(json(event.name));
  out += ",\"leg\":";
  AppendUint(&out, event.leg);
  AppendMembers(&out, event.fields, {"v", "event", "leg"});
  out += "}\n";
  return out;
}

nlohmann::json AddressToJson(const SocketAddress& address) {
  return {{"ip", address.ip.ToString()}, {"port", address.port}};
}

nlohmann::json FingerprintToJson(const FingerprintValue& fingerprint) {
  return {{"hash", fingerprint.hash}, {"value", fingerprint.value}};
}

nlohmann::json HelloToJson(const HelloInfo& hello) {
  json addresses = json::array();
  for (const IpAddress& ip : hello.addresses) addresses.push_back(ip.ToString());
  return {{"server", kFlowServerName},
          {"version", hello.version},
          {"protocol", kFlowProtocolVersion},
          {"workers", hello.workers},
          {"addresses", std::move(addresses)},
          {"leg_ports", {{"first", hello.leg_ports_first}, {"count", hello.leg_ports_count}}}};
}

nlohmann::json LegAddResultToJson(const LegAddResult& result) {
  json out = {{"leg", result.leg},
              {"local", AddressToJson(result.local)},
              {"setup", SetupName(result.setup)}};
  if (result.fingerprint) out["fingerprint"] = FingerprintToJson(*result.fingerprint);
  return out;
}

nlohmann::json LegInfoToJson(const LegInfo& info) {
  json drops = json::object();
  for (const auto& [reason, count] : info.counters.drops) drops[reason] = count;
  return {
      {"leg", info.leg},
      {"transport", LegTransportName(info.transport)},
      {"state", LegStateName(info.state)},
      {"local", AddressToJson(info.local)},
      {"remote", info.remote ? AddressToJson(*info.remote) : json(nullptr)},
      {"latched", info.latched},
      {"peer", info.peer ? json(*info.peer) : json(nullptr)},
      {"setup", info.setup ? json(SetupName(*info.setup)) : json(nullptr)},
      {"role", info.role ? json(DtlsRoleName(*info.role)) : json(nullptr)},
      {"fingerprint", info.fingerprint ? FingerprintToJson(*info.fingerprint) : json(nullptr)},
      {"label", info.label},
      {"counters",
       {{"rx_packets", info.counters.rx_packets},
        {"rx_bytes", info.counters.rx_bytes},
        {"forwarded_packets", info.counters.forwarded_packets},
        {"forwarded_bytes", info.counters.forwarded_bytes},
        {"drops", std::move(drops)}}},
      {"udptl",
       {{"packets", info.udptl.packets},
        {"seq_gaps", info.udptl.seq_gaps},
        {"recovered", info.udptl.recovered}}},
  };
}

LegEvent MakeEstablishedEvent(uint64_t leg, DtlsRole role, std::string_view cipher) {
  return LegEvent{"leg.established", leg,
                  {{"role", DtlsRoleName(role)}, {"cipher", std::string(cipher)}}};
}

LegEvent MakeFailedEvent(uint64_t leg, std::string_view reason) {
  return LegEvent{"leg.failed", leg, {{"reason", std::string(reason)}}};
}

LegEvent MakeLatchedEvent(uint64_t leg, const SocketAddress& remote) {
  return LegEvent{"leg.latched", leg, {{"remote", AddressToJson(remote)}}};
}

LegEvent MakeIdleEvent(uint64_t leg, uint64_t seconds) {
  return LegEvent{"leg.idle", leg, {{"seconds", seconds}}};
}

namespace {

// Reply parsing: the FieldParser's checks, with errors as Internal statuses.
absl::Status ReplyError(const FieldParser& p) { return absl::InternalError(p.error()); }

// Every key of `object` in `allowed` or the envelope's.
bool OnlyReplyFields(FieldParser& p, const json& object,
                     std::initializer_list<std::string_view> allowed, std::string_view prefix) {
  for (const auto& item : object.items()) {
    const std::string& key = item.key();
    if (prefix.empty() && (key == "v" || key == "id" || key == "ok")) continue;
    if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
      return p.FailWith("unknown field " + QuoteText(FieldParser::Join(prefix, key)));
    }
  }
  return true;
}

bool RequireObject(FieldParser& p, const json& v, std::string_view field) {
  return v.is_object() || p.Fail(field.empty() ? "reply" : field, "must be a JSON object");
}

bool ReplyUint(FieldParser& p, const json& object, std::string_view key, std::string_view prefix,
               uint64_t max, uint64_t* out) {
  const json* v = p.Require(object, key, prefix);
  return v != nullptr && p.Uint(*v, FieldParser::Join(prefix, key), 0, max, out);
}

bool ReplyAddress(FieldParser& p, const json& object, std::string_view key,
                  std::optional<SocketAddress>* out) {
  const json* v = p.Require(object, key, "");
  if (v == nullptr) return false;
  if (v->is_null()) {
    out->reset();
    return true;
  }
  SocketAddress address;
  if (!p.Address(*v, key, &address)) return false;
  *out = address;
  return true;
}

template <typename T>
bool ReplyEnum(FieldParser& p, const json& object, std::string_view key,
               std::initializer_list<std::string_view> names, bool nullable,
               std::optional<T>* out) {
  const json* v = p.Require(object, key, "");
  if (v == nullptr) return false;
  if (nullable && v->is_null()) {
    out->reset();
    return true;
  }
  size_t index = 0;
  if (!p.Enum(*v, key, names, &index)) return false;
  *out = static_cast<T>(index);
  return true;
}

}  // namespace

absl::StatusOr<HelloInfo> ParseHelloInfo(const nlohmann::json& results) {
  FieldParser p;
  HelloInfo hello;
  if (!RequireObject(p, results, "") ||
      !OnlyReplyFields(
          p, results, {"server", "version", "protocol", "workers", "addresses", "leg_ports"}, "")) {
    return ReplyError(p);
  }
  std::string server;
  uint64_t protocol = 0;
  uint64_t workers = 0;
  const json* v = nullptr;
  if ((v = p.Require(results, "server", "")) == nullptr || !p.String(*v, "server", &server) ||
      !ReplyUint(p, results, "protocol", "", kMaxJsonId, &protocol) ||
      (v = p.Require(results, "version", "")) == nullptr ||
      !p.String(*v, "version", &hello.version) ||
      !ReplyUint(p, results, "workers", "", UINT32_MAX, &workers)) {
    return ReplyError(p);
  }
  hello.workers = static_cast<uint32_t>(workers);
  const json* addresses = p.Require(results, "addresses", "");
  if (addresses == nullptr) return ReplyError(p);
  if (!addresses->is_array()) {
    p.Fail("addresses", "must be an array of IP address strings");
    return ReplyError(p);
  }
  for (size_t i = 0; i < addresses->size(); ++i) {
    IpAddress ip;
    if (!p.Ip((*addresses)[i], "addresses[" + std::to_string(i) + "]", &ip)) {
      return ReplyError(p);
    }
    hello.addresses.push_back(ip);
  }
  const json* ports = p.Require(results, "leg_ports", "");
  uint64_t first = 0;
  uint64_t count = 0;
  if (ports == nullptr || !RequireObject(p, *ports, "leg_ports") ||
      !p.OnlyFields(*ports, {"first", "count"}, "leg_ports") ||
      !ReplyUint(p, *ports, "first", "leg_ports", 65535, &first) ||
      !ReplyUint(p, *ports, "count", "leg_ports", 65536, &count)) {
    return ReplyError(p);
  }
  hello.leg_ports_first = static_cast<uint16_t>(first);
  hello.leg_ports_count = static_cast<uint32_t>(count);
  return hello;
}

absl::StatusOr<LegAddResult> ParseLegAddResult(const nlohmann::json& results) {
  FieldParser p;
  LegAddResult result;
  std::optional<DtlsSetup> setup;
  const json* local = nullptr;
  if (!RequireObject(p, results, "") ||
      !OnlyReplyFields(p, results, {"leg", "local", "setup", "fingerprint"}, "") ||
      !ReplyUint(p, results, "leg", "", kMaxJsonId, &result.leg) ||
      (local = p.Require(results, "local", "")) == nullptr ||
      !p.Address(*local, "local", &result.local) ||
      !ReplyEnum(p, results, "setup", {"active", "passive", "actpass"}, false, &setup)) {
    return ReplyError(p);
  }
  result.setup = *setup;
  if (const json* fingerprint = p.Find(results, "fingerprint")) {
    FingerprintValue value;
    if (!p.Fingerprint(*fingerprint, "fingerprint", &value)) return ReplyError(p);
    result.fingerprint = std::move(value);
  }
  return result;
}

absl::StatusOr<LegInfo> ParseLegInfo(const nlohmann::json& leg) {
  FieldParser p;
  LegInfo info;
  std::optional<LegTransport> transport;
  std::optional<LegState> state;
  const json* v = nullptr;
  if (!RequireObject(p, leg, "leg") ||
      !p.OnlyFields(leg,
                    {"leg", "transport", "state", "local", "remote", "latched", "peer", "setup",
                     "role", "fingerprint", "label", "counters", "udptl"},
                    "") ||
      !ReplyUint(p, leg, "leg", "", kMaxJsonId, &info.leg) ||
      !ReplyEnum(p, leg, "transport", {"dtls", "plain"}, false, &transport) ||
      !ReplyEnum(p, leg, "state", {"plain", "waiting", "handshaking", "established", "failed"},
                 false, &state) ||
      (v = p.Require(leg, "local", "")) == nullptr || !p.Address(*v, "local", &info.local) ||
      !ReplyAddress(p, leg, "remote", &info.remote) ||
      (v = p.Require(leg, "latched", "")) == nullptr || !p.Bool(*v, "latched", &info.latched) ||
      !ReplyEnum(p, leg, "setup", {"active", "passive", "actpass"}, true, &info.setup) ||
      !ReplyEnum(p, leg, "role", {"client", "server"}, true, &info.role) ||
      (v = p.Require(leg, "label", "")) == nullptr || !p.Label(*v, "label", &info.label)) {
    return ReplyError(p);
  }
  info.transport = *transport;
  info.state = *state;
  if ((v = p.Require(leg, "peer", "")) == nullptr) return ReplyError(p);
  if (!v->is_null()) {
    uint64_t peer = 0;
    if (!p.Id(*v, "peer", &peer)) return ReplyError(p);
    info.peer = peer;
  }
  if ((v = p.Require(leg, "fingerprint", "")) == nullptr) return ReplyError(p);
  if (!v->is_null()) {
    FingerprintValue fingerprint;
    if (!p.Fingerprint(*v, "fingerprint", &fingerprint)) return ReplyError(p);
    info.fingerprint = std::move(fingerprint);
  }
  const json* counters = p.Require(leg, "counters", "");
  if (counters == nullptr || !RequireObject(p, *counters, "counters") ||
      !p.OnlyFields(*counters,
                    {"rx_packets", "rx_bytes", "forwarded_packets", "forwarded_bytes", "drops"},
                    "counters") ||
      !ReplyUint(p, *counters, "rx_packets", "counters", UINT64_MAX, &info.counters.rx_packets) ||
      !ReplyUint(p, *counters, "rx_bytes", "counters", UINT64_MAX, &info.counters.rx_bytes) ||
      !ReplyUint(p, *counters, "forwarded_packets", "counters", UINT64_MAX,
                 &info.counters.forwarded_packets) ||
      !ReplyUint(p, *counters, "forwarded_bytes", "counters", UINT64_MAX,
                 &info.counters.forwarded_bytes)) {
    return ReplyError(p);
  }
  const json* drops = p.Require(*counters, "drops", "counters");
  if (drops == nullptr || !RequireObject(p, *drops, "counters.drops")) return ReplyError(p);
  for (const auto& item : drops->items()) {
    uint64_t count = 0;
    if (!p.Uint(item.value(), "counters.drops." + item.key(), 0, UINT64_MAX, &count)) {
      return ReplyError(p);
    }
    info.counters.drops.emplace_back(item.key(), count);
  }
  const json* udptl = p.Require(leg, "udptl", "");
  if (udptl == nullptr || !RequireObject(p, *udptl, "udptl") ||
      !p.OnlyFields(*udptl, {"packets", "seq_gaps", "recovered"}, "udptl") ||
      !ReplyUint(p, *udptl, "packets", "udptl", UINT64_MAX, &info.udptl.packets) ||
      !ReplyUint(p, *udptl, "seq_gaps", "udptl", UINT64_MAX, &info.udptl.seq_gaps) ||
      !ReplyUint(p, *udptl, "recovered", "udptl", UINT64_MAX, &info.udptl.recovered)) {
    return ReplyError(p);
  }
  return info;
}

absl::StatusOr<LegEvent> ParseLegEvent(const nlohmann::json& line) {
  FieldParser p;
  LegEvent event;
  uint64_t version = 0;
  const json* v = nullptr;
  if (!RequireObject(p, line, "event") || !ReplyUint(p, line, "v", "", kMaxJsonId, &version)) {
    return ReplyError(p);
  }
  if (version != 1)
    return absl::InternalError("v: event of protocol version " + std::to_string(version) +
                               ", not 1");
  if ((v = p.Require(line, "event", "")) == nullptr || !p.String(*v, "event", &event.name) ||
      !ReplyUint(p, line, "leg", "", kMaxJsonId, &event.leg)) {
    return ReplyError(p);
  }
  if (event.name.empty()) return absl::InternalError("event: must not be empty");
  for (const auto& item : line.items()) {
    const std::string& key = item.key();
    if (key == "v" || key == "event" || key == "leg") continue;
    event.fields[key] = item.value();
  }
  const json fields = event.fields.is_null() ? json::object() : event.fields;
  bool ok = true;
  std::optional<DtlsRole> role;
  std::string text;
  SocketAddress remote;
  uint64_t seconds = 0;
  if (event.name == "leg.established") {
    ok = OnlyReplyFields(p, fields, {"role", "cipher"}, "") &&
         ReplyEnum(p, fields, "role", {"client", "server"}, false, &role) &&
         (v = p.Require(fields, "cipher", "")) != nullptr && p.String(*v, "cipher", &text);
  } else if (event.name == "leg.failed") {
    ok = OnlyReplyFields(p, fields, {"reason"}, "") &&
         (v = p.Require(fields, "reason", "")) != nullptr && p.String(*v, "reason", &text);
  } else if (event.name == "leg.latched") {
    ok = OnlyReplyFields(p, fields, {"remote"}, "") &&
         (v = p.Require(fields, "remote", "")) != nullptr && p.Address(*v, "remote", &remote);
  } else if (event.name == "leg.idle") {
    ok = OnlyReplyFields(p, fields, {"seconds"}, "") &&
         ReplyUint(p, fields, "seconds", "", kMaxJsonId, &seconds);
  }
  if (!ok) return absl::InternalError(event.name + " event: " + p.error());
  return event;
}

absl::StatusCode StatusCodeFromErrorCode(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return absl::StatusCode::kNotFound;
    case ErrorCode::kInvalidState:
      return absl::StatusCode::kFailedPrecondition;
    case ErrorCode::kNoCapacity:
      return absl::StatusCode::kResourceExhausted;
    case ErrorCode::kBadJson:
    case ErrorCode::kBadRequest:
    case ErrorCode::kUnsupportedVersion:
    case ErrorCode::kUnknownCommand:
    case ErrorCode::kTooLarge:
      return absl::StatusCode::kInvalidArgument;
    case ErrorCode::kPermissionDenied:
      return absl::StatusCode::kPermissionDenied;
    case ErrorCode::kBusy:
      return absl::StatusCode::kUnavailable;
    case ErrorCode::kInternal:
      break;
  }
  return absl::StatusCode::kInternal;
}

std::optional<ErrorCode> ErrorCodeFromName(std::string_view name) {
  const auto found = std::find(kErrorCodeNames.begin(), kErrorCodeNames.end(), name);
  if (found == kErrorCodeNames.end()) return std::nullopt;
  return static_cast<ErrorCode>(found - kErrorCodeNames.begin());
}

}  // namespace t38relay::dataplane
