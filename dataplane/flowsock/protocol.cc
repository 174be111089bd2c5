// Flow socket protocol v1: request parsing and validation, reply/error/event formatting.
#include "dataplane/flowsock/protocol.h"

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

// Quoted and cut short, for messages that echo client input.
std::string Quote(std::string_view text) {
  constexpr size_t kMax = 64;
  std::string out = "'";
  out += text.substr(0, kMax);
  if (text.size() > kMax) out += "...";
  out += "'";
  return out;
}

// Never throws: invalid UTF-8 (only possible in cut-short echoes) becomes U+FFFD.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Field-level validation. Each Parse* returns false after setting `error_` (first error wins).
class FieldParser {
 public:
  const std::string& error() const { return error_; }

  bool Fail(std::string_view field, std::string_view what) {
    error_ = std::string(field) + ": " + std::string(what);
    return false;
  }

  // Every key of `object` must be in `allowed`.
  bool OnlyFields(const json& object, std::initializer_list<std::string_view> allowed,
                  std::string_view prefix) {
    for (const auto& item : object.items()) {
      const std::string& key = item.key();
      if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
        error_ = "unknown field " + Quote(Join(prefix, key));
        return false;
      }
    }
    return true;
  }

  const json* Find(const json& object, std::string_view key) {
    auto it = object.find(std::string(key));
    return it == object.end() ? nullptr : &*it;
  }

  const json* Require(const json& object, std::string_view key, std::string_view prefix) {
    const json* v = Find(object, key);
    if (v == nullptr) error_ = "missing field " + Quote(Join(prefix, key));
    return v;
  }

  static std::string Join(std::string_view prefix, std::string_view key) {
    std::string out(prefix);
    if (!out.empty()) out += '.';
    out += key;
    return out;
  }

  bool Uint(const json& v, std::string_view field, uint64_t min, uint64_t max, uint64_t* out) {
    if (v.is_number_unsigned()) {
      const uint64_t n = v.get<uint64_t>();
      if (n >= min && n <= max) {
        *out = n;
        return true;
      }
    } else if (v.is_number_integer() && v.get<int64_t>() >= 0) {
      const uint64_t n = static_cast<uint64_t>(v.get<int64_t>());
      if (n >= min && n <= max) {
        *out = n;
        return true;
      }
    }
    return Fail(field, "must be an integer " + std::to_string(min) + ".." + std::to_string(max));
  }

  bool Id(const json& v, std::string_view field, uint64_t* out) {
    return Uint(v, field, 0, kMaxJsonId, out);
  }

  bool String(const json& v, std::string_view field, std::string* out) {
    if (!v.is_string()) return Fail(field, "must be a string");
    *out = v.get<std::string>();
    return true;
  }

  // One of `names`; returns its index.
  bool Enum(const json& v, std::string_view field, std::initializer_list<std::string_view> names,
            size_t* index) {
    std::string text;
    if (v.is_string()) {
      text = v.get<std::string>();
      size_t i = 0;
      for (std::string_view name : names) {
        if (text == name) {
          *index = i;
          return true;
        }
        ++i;
      }
    }
    std::string what = "must be one of";
    bool first = true;
    for (std::string_view name : names) {
      what += first ? " \"" : ", \"";
      what += name;
      what += '"';
      first = false;
    }
    if (v.is_string()) what += ", not " + Quote(text);
    return Fail(field, what);
  }

  bool SetupValue(const json& v, std::string_view field, DtlsSetup* out) {
    size_t i = 0;
    if (!Enum(v, field, {"active", "passive", "actpass"}, &i)) return false;
    *out = static_cast<DtlsSetup>(i);
    return true;
  }

  bool LatchValue(const json& v, std::string_view field, Latch* out) {
    size_t i = 0;
    if (!Enum(v, field, {"strict", "learn"}, &i)) return false;
    *out = static_cast<Latch>(i);
    return true;
  }

  bool Ip(const json& v, std::string_view field, IpAddress* out) {
    if (!v.is_string()) return Fail(field, "must be an IP address string");
    const std::string& text = v.get_ref<const std::string&>();
    // Only the characters of IPv4/IPv6 text: also keeps an embedded NUL away from inet_pton.
    const bool charset = std::all_of(text.begin(), text.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
    });
    std::optional<IpAddress> ip;
    if (charset) ip = ParseIpAddress(text);
    if (!ip) {
      return Fail(field, Quote(text) + " is not an IPv4 or IPv6 address (no brackets, no zone)");
    }
    *out = *ip;
    return true;
  }

  bool Address(const json& v, std::string_view field, SocketAddress* out) {
    if (!v.is_object()) return Fail(field, "must be an address {\"ip\":\"...\",\"port\":N}");
    if (!OnlyFields(v, {"ip", "port"}, field)) return false;
    const json* ip = Require(v, "ip", field);
    if (ip == nullptr || !Ip(*ip, Join(field, "ip"), &out->ip)) return false;
    const json* port = Require(v, "port", field);
    uint64_t n = 0;
    if (port == nullptr || !Uint(*port, Join(field, "port"), 1, 65535, &n)) return false;
    out->port = static_cast<uint16_t>(n);
    return true;
  }

  bool Fingerprints(const json& v, std::string_view field, std::vector<FingerprintValue>* out) {
    if (!v.is_array()) return Fail(field, "must be an array of {\"hash\":...,\"value\":...}");
    if (v.size() > kMaxFingerprints) {
      return Fail(field, "at most " + std::to_string(kMaxFingerprints) + " fingerprints");
    }
    out->clear();
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string item_field = std::string(field) + "[" + std::to_string(i) + "]";
      const json& item = v[i];
      if (!item.is_object()) return Fail(item_field, "must be {\"hash\":...,\"value\":...}");
      if (!OnlyFields(item, {"hash", "value"}, item_field)) return false;
      FingerprintValue fp;
      const json* hash = Require(item, "hash", item_field);
      if (hash == nullptr || !String(*hash, Join(item_field, "hash"), &fp.hash)) return false;
      std::transform(fp.hash.begin(), fp.hash.end(), fp.hash.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (FingerprintHashSize(fp.hash) == 0) {
        return Fail(Join(item_field, "hash"),
                    Quote(hash->get_ref<const std::string&>()) +
                        " is not one of sha-1, sha-224, sha-256, sha-384, sha-512");
      }
      const json* value = Require(item, "value", item_field);
      if (value == nullptr || !String(*value, Join(item_field, "value"), &fp.value)) return false;
      const std::string problem = CheckFingerprint(fp.hash, fp.value);
      if (!problem.empty()) return Fail(Join(item_field, "value"), problem);
      std::transform(fp.value.begin(), fp.value.end(), fp.value.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      out->push_back(std::move(fp));
    }
    return true;
  }

  bool Bool(const json& v, std::string_view field, bool* out) {
    if (!v.is_boolean()) return Fail(field, "must be true or false");
    *out = v.get<bool>();
    return true;
  }

  bool Label(const json& v, std::string_view field, std::string* out) {
    if (!String(v, field, out)) return false;
    if (out->size() > kMaxLabelBytes) {
      return Fail(field, "at most " + std::to_string(kMaxLabelBytes) + " bytes");
    }
    return true;
  }

  bool IceText(const json& v, std::string_view field, size_t min, size_t max, std::string* out) {
    if (!String(v, field, out)) return false;
    if (out->size() < min || out->size() > max || !IsIceChars(*out)) {
      return Fail(field, "must be " + std::to_string(min) + ".." + std::to_string(max) +
                             " ice-chars (letters, digits, '+', '/'; RFC 8839)");
    }
    return true;
  }

  bool Ice(const json& v, std::string_view field, IceCredentials* out) {
    if (!v.is_object()) {
      return Fail(field, "must be {\"ufrag\":...,\"pwd\":...,\"remote_ufrag\":...}");
    }
    if (!OnlyFields(v, {"ufrag", "pwd", "remote_ufrag"}, field)) return false;
    const json* ufrag = Require(v, "ufrag", field);
    if (ufrag == nullptr || !IceText(*ufrag, Join(field, "ufrag"), 4, 256, &out->ufrag)) {
      return false;
    }
    const json* pwd = Require(v, "pwd", field);
    if (pwd == nullptr || !IceText(*pwd, Join(field, "pwd"), 22, 256, &out->pwd)) return false;
    out->remote_ufrag.clear();
    if (const json* remote = Find(v, "remote_ufrag")) {
      return IceText(*remote, Join(field, "remote_ufrag"), 4, 256, &out->remote_ufrag);
    }
    return true;
  }

 private:
  std::string error_;
};

bool ParseLegAdd(const json& j, FieldParser& p, LegAddRequest* r) {
  if (!p.OnlyFields(j, {"v", "id", "cmd", "transport", "ip", "family", "remote", "setup",
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
  if (!p.OnlyFields(j, {"v", "id", "cmd", "leg", "remote", "remote_setup", "setup", "fingerprints",
                        "ice", "latch", "label"},
                    "")) {
    return false;
  }
  const json* leg = p.Require(j, "leg", "");
  if (leg == nullptr || !p.Id(*leg, "leg", &r->leg)) return false;
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
  if (!r->remote && !r->remote_setup && !r->setup && !r->fingerprints && !r->ice && !r->latch &&
      !r->label) {
    return p.Fail("leg.update", "give at least one of remote, remote_setup, setup, fingerprints, "
                                "ice, latch, label");
  }
  return true;
}

bool ParseLegRef(const json& j, FieldParser& p, LegRef* r) {
  if (!p.OnlyFields(j, {"v", "id", "cmd", "leg"}, "")) return false;
  const json* leg = p.Require(j, "leg", "");
  return leg != nullptr && p.Id(*leg, "leg", &r->leg);
}

// Tracks nesting depth and duplicate keys while nlohmann parses (its parser is iterative, so deep
// input costs memory, not stack; we refuse it before walking anything).
struct ParseWatch {
  bool too_deep = false;
  std::string duplicate;
  std::vector<std::set<std::string>> keys;
};

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
    *out += Dump(json(key));
    *out += ':';
    *out += Dump(item.value());
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
    return Quote(hash) + " is not one of sha-1, sha-224, sha-256, sha-384, sha-512";
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
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

  // nlohmann's lexer takes a NUL byte for the end of input, which would let "{...}\0junk" pass.
  if (line.find('\0') != std::string_view::npos) {
    return Error(std::nullopt, ErrorCode::kBadJson, "invalid JSON: NUL byte in the request line");
  }
  ParseWatch watch;
  json j;
  try {
    j = json::parse(
        line.begin(), line.end(),
        [&watch](int depth, json::parse_event_t event, json& parsed) {
          if (depth > kMaxJsonDepth) watch.too_deep = true;
          switch (event) {
            case json::parse_event_t::object_start:
              watch.keys.emplace_back();
              break;
            case json::parse_event_t::object_end:
              if (!watch.keys.empty()) watch.keys.pop_back();
              break;
            case json::parse_event_t::key:
              if (!watch.keys.empty() && parsed.is_string() &&
                  !watch.keys.back().insert(parsed.get<std::string>()).second &&
                  watch.duplicate.empty()) {
                watch.duplicate = parsed.get<std::string>();
              }
              break;
            default:
              break;
          }
          return true;
        },
        /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 5: ..." without the tag.
    std::string_view what = e.what();
    const size_t tag_end = what.find("] ");
    if (tag_end != std::string_view::npos) what.remove_prefix(tag_end + 2);
    if (what.size() > 200) what = what.substr(0, 200);
    return Error(std::nullopt, ErrorCode::kBadJson, "invalid JSON: " + std::string(what));
  } catch (const std::exception&) {
    return Error(std::nullopt, ErrorCode::kBadJson, "invalid JSON");
  }
  if (watch.too_deep) {
    return Error(std::nullopt, ErrorCode::kBadJson,
                 "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  if (!j.is_object()) {
    return Error(std::nullopt, ErrorCode::kBadRequest,
                 "a request is one JSON object: {\"v\":1,\"id\":N,\"cmd\":\"...\", ...}");
  }

  FieldParser p;
  std::optional<uint64_t> id;
  std::string id_error;
  if (const json* id_field = p.Find(j, "id")) {
    uint64_t value = 0;
    if (p.Id(*id_field, "id", &value)) {
      id = value;
    } else {
      id_error = p.error();
    }
  } else {
    id_error = "missing field 'id' (an integer 0.." + std::to_string(kMaxJsonId) + ")";
  }

  const json* v = p.Find(j, "v");
  if (v == nullptr) {
    return Error(id, ErrorCode::kBadRequest, "missing field 'v' (the protocol version, 1)");
  }
  if (v->is_number_integer()) {
    const bool one = v->is_number_unsigned() ? v->get<uint64_t>() == 1 : v->get<int64_t>() == 1;
    if (!one) {
      return Error(id, ErrorCode::kUnsupportedVersion,
                   "protocol version " + Dump(*v) + " is not supported; this server speaks v1");
    }
  } else {
    return Error(id, ErrorCode::kBadRequest, "v: must be the integer 1");
  }
  if (!id) return Error(std::nullopt, ErrorCode::kBadRequest, id_error);
  if (!watch.duplicate.empty()) {
    return Error(id, ErrorCode::kBadRequest, "duplicate field " + Quote(watch.duplicate));
  }

  const json* cmd = p.Require(j, "cmd", "");
  if (cmd == nullptr) return Error(id, ErrorCode::kBadRequest, p.error());
  if (!cmd->is_string()) return Error(id, ErrorCode::kBadRequest, "cmd: must be a string");
  const std::string& name = cmd->get_ref<const std::string&>();
  const auto found = std::find(kCommandNames.begin(), kCommandNames.end(), std::string_view(name));
  if (found == kCommandNames.end()) {
    std::string known;
    for (std::string_view n : kCommandNames) {
      if (!known.empty()) known += ", ";
      known += n;
    }
    return Error(id, ErrorCode::kUnknownCommand,
                 "unknown command " + Quote(name) + " (known: " + known + ")");
  }

  Request request;
  request.id = *id;
  request.command = static_cast<Command>(found - kCommandNames.begin());
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
  return Dump(j) + "\n";
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
  out += Dump(json(error.message));
  out += "}\n";
  return out;
}

std::string FormatEvent(const LegEvent& event) {
  std::string out = "{\"v\":1,\"event\":";
  out += Dump(json(event.name));
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

}  // namespace t38relay::dataplane
