// FieldParser and the request envelope: strict JSON field checks shared by the flow socket's and
// control's protocols (requests on the server side, replies on the client side). Never throws.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "dataplane/flowsock/flow_types.h"
#include "dataplane/flowsock/protocol.h"
#include "nlohmann/json.hpp"

namespace t38relay::dataplane {

// Quoted and cut short, for messages that echo client input.
inline std::string QuoteText(std::string_view text) {
  constexpr size_t kMax = 64;
  std::string out = "'";
  out += text.substr(0, kMax);
  if (text.size() > kMax) out += "...";
  out += "'";
  return out;
}

// Never throws: invalid UTF-8 (only possible in cut-short echoes) becomes U+FFFD.
inline std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Field-level validation of JSON objects (requests, and replies on the client side). Each check
// returns false after setting error() (first error wins) to "<field>: <what is wrong>".
class FieldParser {
 public:
  const std::string& error() const { return error_; }

  // Sets the error to `message` as it is.
  bool FailWith(std::string message) {
    error_ = std::move(message);
    return false;
  }

  bool Fail(std::string_view field, std::string_view what) {
    error_ = std::string(field) + ": " + std::string(what);
    return false;
  }

  // Every key of `object` must be in `allowed`.
  bool OnlyFields(const nlohmann::json& object, std::initializer_list<std::string_view> allowed,
                  std::string_view prefix) {
    for (const auto& item : object.items()) {
      const std::string& key = item.key();
      if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
        error_ = "unknown field " + QuoteText(Join(prefix, key));
        return false;
      }
    }
    return true;
  }

  const nlohmann::json* Find(const nlohmann::json& object, std::string_view key) {
    auto it = object.find(std::string(key));
    return it == object.end() ? nullptr : &*it;
  }

  const nlohmann::json* Require(const nlohmann::json& object, std::string_view key,
                                std::string_view prefix) {
    const nlohmann::json* v = Find(object, key);
    if (v == nullptr) error_ = "missing field " + QuoteText(Join(prefix, key));
    return v;
  }

  static std::string Join(std::string_view prefix, std::string_view key) {
    std::string out(prefix);
    if (!out.empty()) out += '.';
    out += key;
    return out;
  }

  bool Uint(const nlohmann::json& v, std::string_view field, uint64_t min, uint64_t max,
            uint64_t* out) {
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

  bool Id(const nlohmann::json& v, std::string_view field, uint64_t* out) {
    return Uint(v, field, 0, kMaxJsonId, out);
  }

  bool String(const nlohmann::json& v, std::string_view field, std::string* out) {
    if (!v.is_string()) return Fail(field, "must be a string");
    *out = v.get<std::string>();
    return true;
  }

  // One of `names`; returns its index.
  bool Enum(const nlohmann::json& v, std::string_view field,
            std::initializer_list<std::string_view> names, size_t* index) {
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
    if (v.is_string()) what += ", not " + QuoteText(text);
    return Fail(field, what);
  }

  bool SetupValue(const nlohmann::json& v, std::string_view field, DtlsSetup* out) {
    size_t i = 0;
    if (!Enum(v, field, {"active", "passive", "actpass"}, &i)) return false;
    *out = static_cast<DtlsSetup>(i);
    return true;
  }

  bool LatchValue(const nlohmann::json& v, std::string_view field, Latch* out) {
    size_t i = 0;
    if (!Enum(v, field, {"strict", "learn"}, &i)) return false;
    *out = static_cast<Latch>(i);
    return true;
  }

  bool Ip(const nlohmann::json& v, std::string_view field, IpAddress* out) {
    if (!v.is_string()) return Fail(field, "must be an IP address string");
    const std::string& text = v.get_ref<const std::string&>();
    // Only the characters of IPv4/IPv6 text: also keeps an embedded NUL away from inet_pton.
    const bool charset = std::all_of(text.begin(), text.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
    });
    std::optional<IpAddress> ip;
    if (charset) ip = ParseIpAddress(text);
    if (!ip) {
      return Fail(field,
                  QuoteText(text) + " is not an IPv4 or IPv6 address (no brackets, no zone)");
    }
    *out = *ip;
    return true;
  }

  bool Address(const nlohmann::json& v, std::string_view field, SocketAddress* out) {
    if (!v.is_object()) return Fail(field, "must be an address {\"ip\":\"...\",\"port\":N}");
    if (!OnlyFields(v, {"ip", "port"}, field)) return false;
    const nlohmann::json* ip = Require(v, "ip", field);
    if (ip == nullptr || !Ip(*ip, Join(field, "ip"), &out->ip)) return false;
    const nlohmann::json* port = Require(v, "port", field);
    uint64_t n = 0;
    if (port == nullptr || !Uint(*port, Join(field, "port"), 1, 65535, &n)) return false;
    out->port = static_cast<uint16_t>(n);
    return true;
  }

  bool Fingerprints(const nlohmann::json& v, std::string_view field,
                    std::vector<FingerprintValue>* out) {
    if (!v.is_array()) return Fail(field, "must be an array of {\"hash\":...,\"value\":...}");
    if (v.size() > kMaxFingerprints) {
      return Fail(field, "at most " + std::to_string(kMaxFingerprints) + " fingerprints");
    }
    out->clear();
    for (size_t i = 0; i < v.size(); ++i) {
      FingerprintValue fp;
      if (!Fingerprint(v[i], std::string(field) + "[" + std::to_string(i) + "]", &fp)) {
        return false;
      }
      out->push_back(std::move(fp));
    }
    return true;
  }

  // {"hash":...,"value":...}: hash folded to lower case, value to upper case.
  bool Fingerprint(const nlohmann::json& item, const std::string& item_field,
                   FingerprintValue* out) {
    if (!item.is_object()) return Fail(item_field, "must be {\"hash\":...,\"value\":...}");
    if (!OnlyFields(item, {"hash", "value"}, item_field)) return false;
    FingerprintValue fp;
    const nlohmann::json* hash = Require(item, "hash", item_field);
    if (hash == nullptr || !String(*hash, Join(item_field, "hash"), &fp.hash)) return false;
    std::transform(fp.hash.begin(), fp.hash.end(), fp.hash.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (FingerprintHashSize(fp.hash) == 0) {
      return Fail(Join(item_field, "hash"),
                  QuoteText(hash->get_ref<const std::string&>()) +
                      " is not one of sha-1, sha-224, sha-256, sha-384, sha-512");
    }
    const nlohmann::json* value = Require(item, "value", item_field);
    if (value == nullptr || !String(*value, Join(item_field, "value"), &fp.value)) return false;
    const std::string problem = CheckFingerprint(fp.hash, fp.value);
    if (!problem.empty()) return Fail(Join(item_field, "value"), problem);
    std::transform(fp.value.begin(), fp.value.end(), fp.value.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    *out = std::move(fp);
    return true;
  }

  bool Bool(const nlohmann::json& v, std::string_view field, bool* out) {
    if (!v.is_boolean()) return Fail(field, "must be true or false");
    *out = v.get<bool>();
    return true;
  }

  bool Label(const nlohmann::json& v, std::string_view field, std::string* out) {
    if (!String(v, field, out)) return false;
    if (out->size() > kMaxLabelBytes) {
      return Fail(field, "at most " + std::to_string(kMaxLabelBytes) + " bytes");
    }
    return true;
  }

  bool IceText(const nlohmann::json& v, std::string_view field, size_t min, size_t max,
               std::string* out) {
    if (!String(v, field, out)) return false;
    if (out->size() < min || out->size() > max || !IsIceChars(*out)) {
      return Fail(field, "must be " + std::to_string(min) + ".." + std::to_string(max) +
                             " ice-chars (letters, digits, '+', '/'; RFC 8839)");
    }
    return true;
  }

  bool Ice(const nlohmann::json& v, std::string_view field, IceCredentials* out) {
    if (!v.is_object()) {
      return Fail(field, "must be {\"ufrag\":...,\"pwd\":...,\"remote_ufrag\":...}");
    }
    if (!OnlyFields(v, {"ufrag", "pwd", "remote_ufrag"}, field)) return false;
    const nlohmann::json* ufrag = Require(v, "ufrag", field);
    if (ufrag == nullptr || !IceText(*ufrag, Join(field, "ufrag"), 4, 256, &out->ufrag)) {
      return false;
    }
    const nlohmann::json* pwd = Require(v, "pwd", field);
    if (pwd == nullptr || !IceText(*pwd, Join(field, "pwd"), 22, 256, &out->pwd)) return false;
    out->remote_ufrag.clear();
    if (const nlohmann::json* remote = Find(v, "remote_ufrag")) {
      return IceText(*remote, Join(field, "remote_ufrag"), 4, 256, &out->remote_ufrag);
    }
    return true;
  }

 private:
  std::string error_;
};

// One JSON text: refused with bad-json (message "invalid JSON: ...") when malformed, holding a NUL
// byte or nested deeper than max_depth; `duplicate` is the first key repeated within one object
// ("" when none).
struct JsonLine {
  nlohmann::json value;
  std::string duplicate;
};
std::variant<JsonLine, ProtocolError> ParseJsonLine(std::string_view line,
                                                    int max_depth = kMaxJsonDepth);

// A request line's envelope, checked in the flow socket's order: JSON, object, "v" (1), "id",
// duplicate keys, "cmd" (one of `commands`; unknown-command lists them). A trailing "\r" is
// ignored. The caller checks the remaining fields.
struct RequestEnvelope {
  nlohmann::json object;
  uint64_t id = 0;
  size_t command = 0;  // index into `commands`
};
std::variant<RequestEnvelope, ProtocolError> ParseRequestEnvelope(
    std::string_view line, std::span<const std::string_view> commands);

}  // namespace t38relay::dataplane
