// The dataplane's JSON config: strict parsing, checks, lcore defaults and printing it back.
#include "dataplane/config/relay_config.h"

#include <rte_config.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "dataplane/config/text.h"

namespace t38relay::dataplane {
namespace {

using Json = nlohmann::json;
using config_internal::Cat;
using config_internal::ToStd;

struct Range {
  uint64_t lo;
  uint64_t hi;
};

// One place for every accepted range: the file and the flags are checked against the same ones.
constexpr Range kLegPortFirstRange{1, 65535};
constexpr Range kLegPortCountRange{1, 65535};
constexpr Range kLegCapacityRange{1, 1u << 24};
constexpr Range kIdleTimeoutRange{1, 86400};
constexpr Range kEpochGraceRange{0, 60000};
constexpr Range kMaxClientsRange{1, 1024};
constexpr Range kIdentityPoolRange{1, 1024};
constexpr Range kDtlsMtuRange{256, 9000};
constexpr Range kInitialTimeoutRange{100, 60000};
constexpr Range kMaxTimeoutRange{100, 600000};
constexpr Range kMbufsRange{1023, 1u << 24};
constexpr Range kPortMtuRange{576, 9216};
constexpr uint16_t kMinIpv6PortMtu = 1280;  // RFC 8200 section 5
// sockaddr_un.sun_path holds 108 bytes with the terminating NUL.
constexpr size_t kMaxSocketPathLength = 107;

std::string Key(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : Cat(path, ".", key);
}
std::string Index(std::string_view path, size_t i) { return Cat(path, "[", i, "]"); }

absl::Status Invalid(std::string_view path, std::string_view what) {
  return absl::InvalidArgumentError(Cat(path, ": ", what));
}

absl::Status CheckRange(std::string_view name, uint64_t value, Range range) {
  if (value < range.lo || value > range.hi) {
    return Invalid(name, Cat(value, " is out of range ", range.lo, "..", range.hi));
  }
  return absl::OkStatus();
}

std::string TypeOf(const Json& j) {
  if (j.is_number_float()) return "a fractional number";
  if (j.is_number()) return "a number";
  if (j.is_string()) return Cat("the string ", j.dump());
  if (j.is_boolean()) return j.get<bool>() ? "true" : "false";
  if (j.is_null()) return "null";
  if (j.is_array()) return "an array";
  return "an object";
}

absl::Status WrongType(std::string_view path, std::string_view expected, const Json& j) {
  return Invalid(path, Cat("expected ", expected, ", got ", TypeOf(j)));
}

absl::Status CheckKeys(const Json& object, std::string_view path,
                       std::initializer_list<std::string_view> known) {
  for (const auto& item : object.items()) {
    if (std::find(known.begin(), known.end(), item.key()) == known.end()) {
      std::string names;
      for (std::string_view name : known) names += Cat(names.empty() ? "" : ", ", name);
      return Invalid(Key(path, item.key()), Cat("unknown key (known here: ", names, ")"));
    }
  }
  return absl::OkStatus();
}

// The member `key` of `object`, or nullptr when absent or null (both mean "keep the default").
const Json* Member(const Json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::Status ExpectObject(const Json& j, std::string_view path) {
  if (!j.is_object()) return WrongType(path, "an object", j);
  return absl::OkStatus();
}

template <typename T>
absl::Status GetUnsigned(const Json& j, std::string_view path, Range range, T* out) {
  if (!j.is_number_integer()) return WrongType(path, "an integer", j);
  if (!j.is_number_unsigned() && j.get<int64_t>() < 0) {
    return Invalid(path, Cat(j.get<int64_t>(), " is out of range ", range.lo, "..", range.hi));
  }
  uint64_t value = j.get<uint64_t>();
  if (absl::Status s = CheckRange(path, value, range); !s.ok()) return s;
  *out = static_cast<T>(value);
  return absl::OkStatus();
}

absl::Status GetString(const Json& j, std::string_view path, std::string* out) {
  if (!j.is_string()) return WrongType(path, "a string", j);
  *out = j.get<std::string>();
  if (out->empty()) return Invalid(path, "is empty");
  return absl::OkStatus();
}

absl::Status GetBool(const Json& j, std::string_view path, bool* out) {
  if (!j.is_boolean()) return WrongType(path, "true or false", j);
  *out = j.get<bool>();
  return absl::OkStatus();
}

absl::Status GetLcores(const Json& j, std::string_view path, std::vector<unsigned>* out) {
  if (!j.is_array()) return WrongType(path, "an array of lcore ids", j);
  if (j.empty()) return Invalid(path, "is empty: leave the key out (or null) for the default");
  out->clear();
  for (size_t i = 0; i < j.size(); ++i) {
    unsigned lcore = 0;
    if (absl::Status s = GetUnsigned(j[i], Index(path, i), Range{0, RTE_MAX_LCORE - 1}, &lcore);
        !s.ok()) {
      return s;
    }
    out->push_back(lcore);
  }
  return absl::OkStatus();
}

absl::StatusOr<PortConfig> ParsePort(const Json& j, const std::string& path) {
  if (absl::Status s = ExpectObject(j, path); !s.ok()) return s;
  if (absl::Status s = CheckKeys(j, path, {"device", "addresses", "gateways", "mtu", "rx_queues"});
      !s.ok()) {
    return s;
  }
  PortConfig port;
  const Json* device = Member(j, "device");
  if (device == nullptr) {
    return Invalid(Key(path, "device"), "missing: name the ethdev, e.g. \"net_tap0\"");
  }
  if (absl::Status s = GetString(*device, Key(path, "device"), &port.device); !s.ok()) return s;
  if (const Json* addresses = Member(j, "addresses")) {
    std::string at = Key(path, "addresses");
    if (!addresses->is_array()) return WrongType(at, "an array of \"ADDRESS/PREFIX\"", *addresses);
    for (size_t i = 0; i < addresses->size(); ++i) {
      const Json& a = (*addresses)[i];
      if (!a.is_string()) return WrongType(Index(at, i), "a string \"ADDRESS/PREFIX\"", a);
      absl::StatusOr<InterfaceAddress> address = ParseInterfaceAddress(a.get<std::string>());
      if (!address.ok()) return Invalid(Index(at, i), ToStd(address.status().message()));
      port.addresses.push_back(*address);
    }
  }
  if (const Json* gateways = Member(j, "gateways")) {
    std::string at = Key(path, "gateways");
    if (!gateways->is_array()) return WrongType(at, "an array of IP addresses", *gateways);
    for (size_t i = 0; i < gateways->size(); ++i) {
      const Json& g = (*gateways)[i];
      if (!g.is_string()) return WrongType(Index(at, i), "a string (an IP address)", g);
      std::optional<IpAddress> ip = ParseIpAddress(g.get<std::string>());
      if (!ip) return Invalid(Index(at, i), Cat(g.dump(), " is not an IP address"));
      port.gateways.push_back(*ip);
    }
  }
  if (const Json* mtu = Member(j, "mtu")) {
    if (absl::Status s = GetUnsigned(*mtu, Key(path, "mtu"), kPortMtuRange, &port.mtu); !s.ok()) {
      return s;
    }
  }
  if (const Json* rx_queues = Member(j, "rx_queues")) {
    // PortSet gives every port one RX queue per worker lcore: there is nothing to choose yet.
    return Invalid(Key(path, "rx_queues"),
                   Cat("got ", TypeOf(*rx_queues),
                       ", but each port has one RX queue per worker lcore: leave it null "
                       "and choose the workers"));
  }
  return port;
}

absl::Status ParsePorts(const Json& j, std::vector<PortConfig>* ports) {
  if (!j.is_array()) return WrongType("ports", "an array of port objects", j);
  ports->clear();
  for (size_t i = 0; i < j.size(); ++i) {
    absl::StatusOr<PortConfig> port = ParsePort(j[i], Index("ports", i));
    if (!port.ok()) return port.status();
    ports->push_back(*std::move(port));
  }
  return absl::OkStatus();
}

absl::Status ParseLegPortsObject(const Json& j, RelayConfig* config) {
  if (absl::Status s = ExpectObject(j, "leg_ports"); !s.ok()) return s;
  if (absl::Status s = CheckKeys(j, "leg_ports", {"first", "count"}); !s.ok()) return s;
  if (const Json* first = Member(j, "first")) {
    if (absl::Status s =
            GetUnsigned(*first, "leg_ports.first", kLegPortFirstRange, &config->leg_port_first);
        !s.ok()) {
      return s;
    }
  }
  if (const Json* count = Member(j, "count")) {
    if (absl::Status s =
            GetUnsigned(*count, "leg_ports.count", kLegPortCountRange, &config->leg_port_count);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ParseLegs(const Json& j, RelayConfig* config) {
  if (absl::Status s = ExpectObject(j, "legs"); !s.ok()) return s;
  if (absl::Status s = CheckKeys(j, "legs", {"capacity", "idle_timeout_s", "epoch_grace_ms"});
      !s.ok()) {
    return s;
  }
  if (const Json* v = Member(j, "capacity")) {
    if (absl::Status s = GetUnsigned(*v, "legs.capacity", kLegCapacityRange, &config->leg_capacity);
        !s.ok()) {
      return s;
    }
  }
  if (const Json* v = Member(j, "idle_timeout_s")) {
    if (absl::Status s =
            GetUnsigned(*v, "legs.idle_timeout_s", kIdleTimeoutRange, &config->idle_timeout_s);
        !s.ok()) {
      return s;
    }
  }
  if (const Json* v = Member(j, "epoch_grace_ms")) {
    if (absl::Status s =
            GetUnsigned(*v, "legs.epoch_grace_ms", kEpochGraceRange, &config->epoch_grace_ms);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ParseSocket(const Json& j, RelayConfig* config) {
  if (absl::Status s = ExpectObject(j, "socket"); !s.ok()) return s;
  if (absl::Status s = CheckKeys(j, "socket", {"path", "group", "max_clients"}); !s.ok()) return s;
  if (const Json* v = Member(j, "path")) {
    if (absl::Status s = GetString(*v, "socket.path", &config->socket_path); !s.ok()) return s;
  }
  if (auto it = j.find("group"); it != j.end()) {
    // Here null is a value of its own: "no group", overriding a base that had one.
    if (it->is_null()) {
      config->socket_group.reset();
    } else {
      std::string group;
      if (absl::Status s = GetString(*it, "socket.group", &group); !s.ok()) return s;
      config->socket_group = group;
    }
  }
  if (const Json* v = Member(j, "max_clients")) {
    if (absl::Status s =
            GetUnsigned(*v, "socket.max_clients", kMaxClientsRange, &config->max_clients);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ParseOptionalPath(const Json& object, std::string_view key, std::string_view path,
                               std::optional<std::string>* out) {
  auto it = object.find(key);
  if (it == object.end()) return absl::OkStatus();
  if (it->is_null()) {
    out->reset();
    return absl::OkStatus();
  }
  std::string value;
  if (absl::Status s = GetString(*it, path, &value); !s.ok()) return s;
  *out = value;
  return absl::OkStatus();
}

absl::Status ParseDtls(const Json& j, DtlsSettings* dtls) {
  if (absl::Status s = ExpectObject(j, "dtls"); !s.ok()) return s;
  if (absl::Status s = CheckKeys(j, "dtls",
                                 {"key_type", "certificate", "private_key", "per_call_identity",
                                  "identity_pool", "mtu", "initial_timeout_ms", "max_timeout_ms"});
      !s.ok()) {
    return s;
  }
  if (const Json* v = Member(j, "key_type")) {
    if (v->is_string() && v->get<std::string>() == "rsa2048") {
      dtls->key_type = crypto::KeyType::kRsa2048;
    } else if (v->is_string() && v->get<std::string>() == "ecdsa-p256") {
      dtls->key_type = crypto::KeyType::kEcdsaP256;
    } else {
      return WrongType("dtls.key_type", "\"rsa2048\" or \"ecdsa-p256\"", *v);
    }
  }
  if (absl::Status s = ParseOptionalPath(j, "certificate", "dtls.certificate", &dtls->certificate);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ParseOptionalPath(j, "private_key", "dtls.private_key", &dtls->private_key);
      !s.ok()) {
    return s;
  }
  if (const Json* v = Member(j, "per_call_identity")) {
    if (absl::Status s = GetBool(*v, "dtls.per_call_identity", &dtls->per_call_identity); !s.ok()) {
      return s;
    }
  }
  if (const Json* v = Member(j, "identity_pool")) {
    if (absl::Status s =
            GetUnsigned(*v, "dtls.identity_pool", kIdentityPoolRange, &dtls->identity_pool);
        !s.ok()) {
      return s;
    }
  }
  if (const Json* v = Member(j, "mtu")) {
    if (absl::Status s = GetUnsigned(*v, "dtls.mtu", kDtlsMtuRange, &dtls->mtu); !s.ok()) return s;
  }
  if (const Json* v = Member(j, "initial_timeout_ms")) {
    if (absl::Status s = GetUnsigned(*v, "dtls.initial_timeout_ms", kInitialTimeoutRange,
                                     &dtls->initial_timeout_ms);
        !s.ok()) {
      return s;
    }
  }
  if (const Json* v = Member(j, "max_timeout_ms")) {
    if (absl::Status s =
            GetUnsigned(*v, "dtls.max_timeout_ms", kMaxTimeoutRange, &dtls->max_timeout_ms);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ParseCrypto(const Json& j, RelayConfig* config) {
  if (absl::Status s = ExpectObject(j, "crypto"); !s.ok()) return s;
  if (absl::Status s = CheckKeys(j, "crypto", {"backend", "device"}); !s.ok()) return s;
  if (const Json* v = Member(j, "backend")) {
    std::optional<CryptoBackendKind> kind;
    if (v->is_string()) kind = ParseCryptoBackend(v->get<std::string>());
    if (!kind) return WrongType("crypto.backend", "\"cryptodev\" or \"soft\"", *v);
    config->crypto = *kind;
  }
  if (const Json* v = Member(j, "device")) {
    if (absl::Status s = GetString(*v, "crypto.device", &config->crypto_device); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// nlohmann keeps the last of repeated keys silently; a config that says two things is an error.
struct DuplicateKeyFinder {
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> duplicate;

  bool operator()(int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get<std::string>()).second && !duplicate) {
          duplicate = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return true;
  }
};

std::string LcoreListText(const std::vector<unsigned>& lcores) {
  return absl::StrJoin(lcores, ",");
}

bool Contains(const std::vector<unsigned>& list, unsigned value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

absl::Status CheckLcoreList(const std::vector<unsigned>& lcores, std::string_view name) {
  std::set<unsigned> seen;
  for (unsigned lcore : lcores) {
    if (lcore >= RTE_MAX_LCORE) {
      return Invalid(name, Cat("lcore ", lcore, " is out of range 0..", RTE_MAX_LCORE - 1));
    }
    if (!seen.insert(lcore).second) {
      return Invalid(name, Cat("lcore ", lcore, " is listed twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view KeyTypeConfigName(crypto::KeyType type) {
  return type == crypto::KeyType::kRsa2048 ? "rsa2048" : "ecdsa-p256";
}

std::string_view CryptoBackendName(CryptoBackendKind kind) {
  return kind == CryptoBackendKind::kCryptodev ? "cryptodev" : "soft";
}

std::optional<CryptoBackendKind> ParseCryptoBackend(std::string_view name) {
  if (name == "cryptodev") return CryptoBackendKind::kCryptodev;
  if (name == "soft") return CryptoBackendKind::kSoft;
  return std::nullopt;
}

absl::StatusOr<std::vector<unsigned>> ParseLcoreList(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty lcore list: write e.g. 1 or 1,3-4");
  std::vector<unsigned> lcores;
  auto number = [](std::string_view digits, unsigned* out) {
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *out);
    return !digits.empty() && ec == std::errc() && end == digits.data() + digits.size();
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(pos, comma - pos);
    size_t dash = item.find('-');
    unsigned first = 0;
    unsigned last = 0;
    bool ok = dash == std::string_view::npos
                  ? number(item, &first) && number(item, &last)
                  : number(item.substr(0, dash), &first) && number(item.substr(dash + 1), &last);
    if (!ok) {
      return absl::InvalidArgumentError(
          Cat("'", std::string(text), "': '", std::string(item),
              "' is not an lcore id or FIRST-LAST range (write e.g. 1 or 1,3-4)"));
    }
    if (first > last) {
      return absl::InvalidArgumentError(
          Cat("'", std::string(text), "': range '", std::string(item), "' runs backwards"));
    }
    if (last >= RTE_MAX_LCORE) {
      return absl::InvalidArgumentError(Cat("'", std::string(text), "': lcore ", last,
                                            " is out of range 0..", RTE_MAX_LCORE - 1));
    }
    for (unsigned lcore = first; lcore <= last; ++lcore) {
      if (Contains(lcores, lcore)) {
        return absl::InvalidArgumentError(
            Cat("'", std::string(text), "': lcore ", lcore, " is listed twice"));
      }
      lcores.push_back(lcore);
    }
    pos = comma + 1;
  }
  return lcores;
}

absl::Status CheckPortConfig(const PortConfig& port, std::string_view where) {
  // JSON paths take ".field"; a flag quoted as `--port '...'` takes " field".
  auto at = [&](std::string_view field) {
    return where.substr(0, 2) == "--" ? Cat(where, " ", field) : Cat(where, ".", field);
  };
  if (port.device.empty()) return Invalid(at("device"), "is empty");
  if (absl::Status s = CheckRange(at("mtu"), port.mtu, kPortMtuRange); !s.ok()) return s;
  for (size_t i = 0; i < port.addresses.size(); ++i) {
    const InterfaceAddress& a = port.addresses[i];
    if (a.ip.family == IpFamily::kV6 && port.mtu < kMinIpv6PortMtu) {
      return Invalid(at("mtu"), Cat(port.mtu, " is below ", kMinIpv6PortMtu,
                                    ", the IPv6 minimum, and the port has ", a.ToString()));
    }
    for (size_t k = 0; k < i; ++k) {
      if (port.addresses[k].ip == a.ip) {
        return Invalid(at(Index("addresses", i)),
                       Cat(a.ip.ToString(), " is already addresses[", k, "]"));
      }
    }
  }
  for (size_t i = 0; i < port.gateways.size(); ++i) {
    const IpAddress& gw = port.gateways[i];
    std::string name = at(Index("gateways", i));
    bool on_link = false;
    for (const InterfaceAddress& a : port.addresses) {
      if (a.ip == gw) {
        return Invalid(name, Cat(gw.ToString(), " is an address of this port itself"));
      }
      on_link = on_link || a.OnLink(gw);
    }
    if (!on_link) {
      return Invalid(name, Cat(gw.ToString(), " is not inside any ",
                               gw.family == IpFamily::kV4 ? "IPv4" : "IPv6",
                               " prefix of this port: a gateway must be on-link"));
    }
    for (size_t k = 0; k < i; ++k) {
      if (port.gateways[k] == gw) {
        return Invalid(name, Cat(gw.ToString(), " is already gateways[", k, "]"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckConfig(const RelayConfig& config) {
  for (size_t i = 0; i < config.ports.size(); ++i) {
    const PortConfig& port = config.ports[i];
    std::string where = Index("ports", i);
    if (absl::Status s = CheckPortConfig(port, where); !s.ok()) return s;
    for (size_t k = 0; k < i; ++k) {
      if (config.ports[k].device == port.device) {
        return Invalid(Key(where, "device"), Cat("'", port.device, "' is already ports[", k, "]"));
      }
      for (const InterfaceAddress& a : port.addresses) {
        for (const InterfaceAddress& b : config.ports[k].addresses) {
          if (a.ip == b.ip) {
            return Invalid(Key(where, "addresses"),
                           Cat(a.ip.ToString(), " is already an address of ports[", k, "] (",
                               config.ports[k].device, ")"));
          }
        }
      }
    }
  }
  if (absl::Status s = CheckLcoreList(config.worker_lcores, "workers (--workers)"); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckLcoreList(config.handshake_lcores, "handshake (--handshake)");
      !s.ok()) {
    return s;
  }
  for (unsigned lcore : config.handshake_lcores) {
    if (Contains(config.worker_lcores, lcore)) {
      return Invalid(
          "handshake (--handshake)",
          Cat("lcore ", lcore, " is also a worker (workers: ", LcoreListText(config.worker_lcores),
              "): an lcore is either a worker or a handshake lcore"));
    }
  }
  constexpr std::string_view kLegPorts = "leg_ports (--leg-ports)";
  if (absl::Status s =
          CheckRange("leg_ports.first (--leg-ports)", config.leg_port_first, kLegPortFirstRange);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckRange("leg_ports.count (--leg-ports)", config.leg_port_count, kLegPortCountRange);
      !s.ok()) {
    return s;
  }
  if (uint64_t last = uint64_t{config.leg_port_first} + config.leg_port_count - 1; last > 65535) {
    return Invalid(kLegPorts, Cat("first ", config.leg_port_first, " and count ",
                                  config.leg_port_count, " end at port ", last, ", beyond 65535"));
  }
  if (absl::Status s = CheckRange("legs.capacity (--legs)", config.leg_capacity, kLegCapacityRange);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRange("legs.idle_timeout_s", config.idle_timeout_s, kIdleTimeoutRange);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRange("legs.epoch_grace_ms", config.epoch_grace_ms, kEpochGraceRange);
      !s.ok()) {
    return s;
  }
  if (config.socket_path.empty()) return Invalid("socket.path (--socket)", "is empty");
  if (config.socket_path.size() > kMaxSocketPathLength) {
    return Invalid("socket.path (--socket)",
                   Cat("is ", config.socket_path.size(),
                       " bytes long; a Unix socket path holds at most ", kMaxSocketPathLength));
  }
  if (config.socket_group && config.socket_group->empty()) {
    return Invalid("socket.group (--socket-group)", "is empty");
  }
  if (absl::Status s = CheckRange("socket.max_clients", config.max_clients, kMaxClientsRange);
      !s.ok()) {
    return s;
  }
  const DtlsSettings& dtls = config.dtls;
  if (dtls.certificate.has_value() != dtls.private_key.has_value()) {
    return Invalid(dtls.certificate ? "dtls.private_key" : "dtls.certificate",
                   "missing: dtls.certificate and dtls.private_key go together");
  }
  if (dtls.certificate && dtls.certificate->empty()) return Invalid("dtls.certificate", "is empty");
  if (dtls.private_key && dtls.private_key->empty()) return Invalid("dtls.private_key", "is empty");
  if (dtls.per_call_identity && dtls.certificate) {
    return Invalid("dtls.per_call_identity",
                   "true, but dtls.certificate is set too: a fixed identity or one per call, "
                   "not both");
  }
  if (absl::Status s = CheckRange("dtls.identity_pool", dtls.identity_pool, kIdentityPoolRange);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRange("dtls.mtu", dtls.mtu, kDtlsMtuRange); !s.ok()) return s;
  if (absl::Status s =
          CheckRange("dtls.initial_timeout_ms", dtls.initial_timeout_ms, kInitialTimeoutRange);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRange("dtls.max_timeout_ms", dtls.max_timeout_ms, kMaxTimeoutRange);
      !s.ok()) {
    return s;
  }
  if (dtls.max_timeout_ms < dtls.initial_timeout_ms) {
    return Invalid("dtls.max_timeout_ms",
                   Cat(dtls.max_timeout_ms, " is below dtls.initial_timeout_ms (",
                       dtls.initial_timeout_ms, ")"));
  }
  if (config.crypto_device.empty()) return Invalid("crypto.device", "is empty");
  if (absl::Status s = CheckRange("mbufs", config.mbufs, kMbufsRange); !s.ok()) return s;
  return absl::OkStatus();
}

namespace {

absl::StatusOr<RelayConfig> ParseConfigJsonOrThrow(std::string_view text, const RelayConfig& base) {
  DuplicateKeyFinder finder;
  Json root;
  try {
    root = Json::parse(text.begin(), text.end(), std::ref(finder));
  } catch (const Json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 2, column 5: ..." without the tag
    // (also out_of_range.406, "number overflow parsing '1e500'").
    std::string_view what = e.what();
    if (size_t tag_end = what.find("] ");
        what.substr(0, 1) == "[" && tag_end != std::string_view::npos) {
      what.remove_prefix(tag_end + 2);
    }
    return absl::InvalidArgumentError(Cat("config is not valid JSON: ", what));
  }
  if (finder.duplicate) {
    return absl::InvalidArgumentError(
        Cat(*finder.duplicate, ": key given twice in the same object"));
  }
  if (!root.is_object()) return WrongType("config", "a JSON object", root);
  if (absl::Status s = CheckKeys(root, "",
                                 {"ports", "workers", "handshake", "leg_ports", "legs", "socket",
                                  "dtls", "crypto", "mbufs"});
      !s.ok()) {
    return s;
  }
  RelayConfig config = base;
  if (const Json* v = Member(root, "ports")) {
    if (absl::Status s = ParsePorts(*v, &config.ports); !s.ok()) return s;
  }
  // null asks for the default lcores, overriding a base that named some.
  if (auto it = root.find("workers"); it != root.end()) {
    config.worker_lcores.clear();
    if (!it->is_null()) {
      if (absl::Status s = GetLcores(*it, "workers", &config.worker_lcores); !s.ok()) return s;
    }
  }
  if (auto it = root.find("handshake"); it != root.end()) {
    config.handshake_lcores.clear();
    if (!it->is_null()) {
      if (absl::Status s = GetLcores(*it, "handshake", &config.handshake_lcores); !s.ok()) {
        return s;
      }
    }
  }
  if (const Json* v = Member(root, "leg_ports")) {
    if (absl::Status s = ParseLegPortsObject(*v, &config); !s.ok()) return s;
  }
  if (const Json* v = Member(root, "legs")) {
    if (absl::Status s = ParseLegs(*v, &config); !s.ok()) return s;
  }
  if (const Json* v = Member(root, "socket")) {
    if (absl::Status s = ParseSocket(*v, &config); !s.ok()) return s;
  }
  if (const Json* v = Member(root, "dtls")) {
    if (absl::Status s = ParseDtls(*v, &config.dtls); !s.ok()) return s;
  }
  if (const Json* v = Member(root, "crypto")) {
    if (absl::Status s = ParseCrypto(*v, &config); !s.ok()) return s;
  }
  if (const Json* v = Member(root, "mbufs")) {
    if (absl::Status s = GetUnsigned(*v, "mbufs", kMbufsRange, &config.mbufs); !s.ok()) return s;
  }
  if (absl::Status s = CheckConfig(config); !s.ok()) return s;
  return config;
}

}  // namespace

absl::StatusOr<RelayConfig> ParseConfigJson(std::string_view text, const RelayConfig& base) {
  // The type checks above keep nlohmann from throwing; this keeps a missed case from escaping.
  try {
    return ParseConfigJsonOrThrow(text, base);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(Cat("config: ", e.what()));
  }
}

absl::Status ValidateConfig(RelayConfig* config, const std::vector<unsigned>& enabled_lcores,
                            unsigned main_lcore) {
  if (absl::Status s = CheckConfig(*config); !s.ok()) return s;
  std::vector<unsigned> enabled = enabled_lcores;
  std::sort(enabled.begin(), enabled.end());
  std::string eal_says =
      Cat("EAL enabled lcores ", LcoreListText(enabled), ", main lcore ", main_lcore);
  auto check_lcores = [&](const std::vector<unsigned>& lcores, std::string_view name) {
    for (unsigned lcore : lcores) {
      if (lcore == main_lcore) {
        return Invalid(name, Cat("lcore ", lcore, " is the main lcore (", eal_says,
                                 "): it runs the flow socket, not the fast path"));
      }
      if (!Contains(enabled, lcore)) {
        return Invalid(
            name, Cat("lcore ", lcore, " is not enabled (", eal_says, "): add it to EAL's -l"));
      }
    }
    return absl::OkStatus();
  };
  if (absl::Status s = check_lcores(config->worker_lcores, "workers (--workers)"); !s.ok()) {
    return s;
  }
  if (absl::Status s = check_lcores(config->handshake_lcores, "handshake (--handshake)"); !s.ok()) {
    return s;
  }
  if (config->handshake_lcores.empty()) {
    for (auto it = enabled.rbegin(); it != enabled.rend(); ++it) {
      if (*it != main_lcore && !Contains(config->worker_lcores, *it)) {
        config->handshake_lcores.push_back(*it);
        break;
      }
    }
    if (config->handshake_lcores.empty()) {
      return Invalid(
          "handshake (--handshake)",
          Cat("no lcore left for the handshake lcore (", eal_says, ", workers ",
              LcoreListText(config->worker_lcores), "): enable one more lcore with EAL's -l"));
    }
  }
  if (config->worker_lcores.empty()) {
    for (unsigned lcore : enabled) {
      if (lcore != main_lcore && !Contains(config->handshake_lcores, lcore)) {
        config->worker_lcores.push_back(lcore);
      }
    }
    if (config->worker_lcores.empty()) {
      return Invalid("workers (--workers)",
                     Cat("no lcore left for workers (", eal_says, ", handshake ",
                         LcoreListText(config->handshake_lcores),
                         "): the relay needs a main, a worker and a handshake lcore, "
                         "e.g. EAL -l 0-2"));
    }
  }
  bool addressed = std::any_of(config->ports.begin(), config->ports.end(),
                               [](const PortConfig& p) { return !p.addresses.empty(); });
  if (!addressed) {
    return Invalid("ports (--port)",
                   config->ports.empty()
                       ? "no port: give one with --port DEVICE,ADDR/PREFIX or in the config file"
                       : "no port has an address: the relay would have nothing to listen on");
  }
  return absl::OkStatus();
}

nlohmann::json ConfigToJson(const RelayConfig& config) {
  auto lcores_or_null = [](const std::vector<unsigned>& lcores) {
    return lcores.empty() ? Json(nullptr) : Json(lcores);
  };
  auto optional_or_null = [](const std::optional<std::string>& value) {
    return value ? Json(*value) : Json(nullptr);
  };
  Json ports = Json::array();
  for (const PortConfig& port : config.ports) {
    Json addresses = Json::array();
    for (const InterfaceAddress& a : port.addresses) addresses.push_back(a.ToString());
    Json gateways = Json::array();
    for (const IpAddress& g : port.gateways) gateways.push_back(g.ToString());
    ports.push_back({{"device", port.device},
                     {"addresses", addresses},
                     {"gateways", gateways},
                     {"mtu", port.mtu},
                     {"rx_queues", nullptr}});
  }
  const DtlsSettings& dtls = config.dtls;
  return {
      {"ports", ports},
      {"workers", lcores_or_null(config.worker_lcores)},
      {"handshake", lcores_or_null(config.handshake_lcores)},
      {"leg_ports", {{"first", config.leg_port_first}, {"count", config.leg_port_count}}},
      {"legs",
       {{"capacity", config.leg_capacity},
        {"idle_timeout_s", config.idle_timeout_s},
        {"epoch_grace_ms", config.epoch_grace_ms}}},
      {"socket",
       {{"path", config.socket_path},
        {"group", optional_or_null(config.socket_group)},
        {"max_clients", config.max_clients}}},
      {"dtls",
       {{"key_type", KeyTypeConfigName(dtls.key_type)},
        {"certificate", optional_or_null(dtls.certificate)},
        {"private_key", optional_or_null(dtls.private_key)},
        {"per_call_identity", dtls.per_call_identity},
        {"identity_pool", dtls.identity_pool},
        {"mtu", dtls.mtu},
        {"initial_timeout_ms", dtls.initial_timeout_ms},
        {"max_timeout_ms", dtls.max_timeout_ms}}},
      {"crypto", {{"backend", CryptoBackendName(config.crypto)}, {"device", config.crypto_device}}},
      {"mbufs", config.mbufs},
  };
}

}  // namespace t38relay::dataplane
