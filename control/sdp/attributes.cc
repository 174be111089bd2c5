// Codecs for fingerprint (RFC 8122), setup/connection (RFC 4145), tls-id (RFC 8842) and ICE
// (RFC 8839) attribute values.
#include "control/sdp/attributes.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "control/sdp/sdp_text.h"

namespace t38relay::control::sdp {
namespace {

using internal::Append;
using internal::Cat;
using internal::EqualsIgnoreCase;
using internal::IsIceChar;
using internal::IsToken;
using internal::NamedError;
using internal::ParseDecimal;
using internal::Split;
using internal::StripBlanks;
using internal::ToLower;
using internal::Words;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Largest digest accepted for a hash function this code does not know (sha-512 is 64 bytes).
constexpr size_t kMaxUnknownDigest = 64;

// Checks length and character class of ice-ufrag / ice-pwd / tls-id style values.
absl::Status CheckChars(std::string_view attr, std::string_view value, size_t min, size_t max,
                        bool (*ok)(char), std::string_view allowed) {
  if (value.size() < min || value.size() > max) {
    return NamedError(attr, Cat("length ", value.size(), ", must be ", min, "..", max));
  }
  for (size_t i = 0; i < value.size(); ++i) {
    if (!ok(value[i])) {
      return NamedError(attr, absl::StrFormat("character '%c' at %d is not %s", value[i], i + 1,
                                         std::string(allowed)));
    }
  }
  return absl::OkStatus();
}

bool IsTlsIdChar(char c) { return absl::ascii_isalnum(c) || c == '+' || c == '/' || c == '-' || c == '_'; }

absl::StatusOr<std::string> ValueOf(const Attribute& a) {
  if (!a.value) return NamedError(a.name, "needs a value");
  return *a.value;
}

}  // namespace

std::optional<size_t> FingerprintDigestSize(std::string_view hash_function) {
  static constexpr std::pair<std::string_view, size_t> kSizes[] = {
      {"sha-1", 20},   {"sha-224", 28}, {"sha-256", 32}, {"sha-384", 48},
      {"sha-512", 64}, {"md5", 16},     {"md2", 16},
  };
  for (const auto& [name, size] : kSizes) {
    if (EqualsIgnoreCase(name, hash_function)) return size;
  }
  return std::nullopt;
}

absl::StatusOr<Fingerprint> ParseFingerprint(std::string_view value) {
  std::vector<std::string_view> words = Words(value);
  if (words.size() != 2) {
    return NamedError(kFingerprintAttr, "needs <hash-func> <XX:XX:...> (two fields)");
  }
  if (!IsToken(words[0])) {
    return NamedError(kFingerprintAttr, Cat("hash function '", words[0], "' is not a token"));
  }
  Fingerprint fp;
  fp.hash_function = ToLower(words[0]);
  size_t index = 0;
  for (std::string_view byte : Split(words[1], ':', false)) {
    ++index;
    int hi = byte.size() == 2 ? HexValue(byte[0]) : -1;
    int lo = byte.size() == 2 ? HexValue(byte[1]) : -1;
    if (hi < 0 || lo < 0) {
      return NamedError(kFingerprintAttr, Cat("bad hex byte '", byte, "' at ", index));
    }
    if (fp.digest.size() >= kMaxUnknownDigest) {
      return NamedError(kFingerprintAttr,
                   Cat("digest longer than ", kMaxUnknownDigest, " bytes"));
    }
    fp.digest.push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  if (std::optional<size_t> size = FingerprintDigestSize(fp.hash_function);
      size && *size != fp.digest.size()) {
    return NamedError(kFingerprintAttr, Cat(fp.hash_function, " digest must be ", *size,
                                                " bytes, got ", fp.digest.size()));
  }
  return fp;
}

std::string FormatFingerprint(const Fingerprint& fingerprint) {
  std::string out = fingerprint.hash_function;
  out.push_back(' ');
  for (size_t i = 0; i < fingerprint.digest.size(); ++i) {
    if (i > 0) out.push_back(':');
    absl::StrAppendFormat(&out, "%02X", fingerprint.digest[i]);
  }
  return out;
}

absl::StatusOr<std::vector<Fingerprint>> GetFingerprints(const SessionDescription& session,
                                                         const MediaDescription& media) {
  std::vector<Fingerprint> out;
  for (const Attribute* a : FindMediaOrSessionAttributes(session, media, kFingerprintAttr)) {
    absl::StatusOr<std::string> v = ValueOf(*a);
    if (!v.ok()) return v.status();
    absl::StatusOr<Fingerprint> fp = ParseFingerprint(*v);
    if (!fp.ok()) return fp.status();
    out.push_back(*std::move(fp));
  }
  return out;
}

absl::StatusOr<SetupRole> ParseSetupRole(std::string_view value) {
  std::string_view v = StripBlanks(value);
  for (SetupRole role :
       {SetupRole::kActive, SetupRole::kPassive, SetupRole::kActpass, SetupRole::kHoldconn}) {
    if (EqualsIgnoreCase(v, SetupRoleName(role))) return role;
  }
  return NamedError(kSetupAttr,
               Cat("unknown role '", v, "' (active, passive, actpass, holdconn)"));
}

std::string_view SetupRoleName(SetupRole role) {
  switch (role) {
    case SetupRole::kActive:
      return "active";
    case SetupRole::kPassive:
      return "passive";
    case SetupRole::kActpass:
      return "actpass";
    case SetupRole::kHoldconn:
      return "holdconn";
  }
  return "?";
}

absl::StatusOr<std::optional<SetupRole>> GetSetupRole(const SessionDescription& session,
                                                      const MediaDescription& media) {
  const Attribute* a = FindMediaOrSessionAttribute(session, media, kSetupAttr);
  if (a == nullptr) return std::optional<SetupRole>();
  absl::StatusOr<std::string> v = ValueOf(*a);
  if (!v.ok()) return v.status();
  absl::StatusOr<SetupRole> role = ParseSetupRole(*v);
  if (!role.ok()) return role.status();
  return std::optional<SetupRole>(*role);
}

absl::StatusOr<ConnectionValue> ParseConnectionValue(std::string_view value) {
  std::string_view v = StripBlanks(value);
  if (EqualsIgnoreCase(v, "new")) return ConnectionValue::kNew;
  if (EqualsIgnoreCase(v, "existing")) return ConnectionValue::kExisting;
  return NamedError(kConnectionAttr, Cat("unknown value '", v, "' (new, existing)"));
}

std::string_view ConnectionValueName(ConnectionValue value) {
  return value == ConnectionValue::kNew ? "new" : "existing";
}

absl::Status ValidateTlsId(std::string_view value) {
  return CheckChars(kTlsIdAttr, value, kMinTlsIdLength, kMaxTlsIdLength, IsTlsIdChar,
                    "ALPHA, DIGIT, '+', '/', '-' or '_'");
}

absl::Status ValidateIceUfrag(std::string_view value) {
  return CheckChars(kIceUfragAttr, value, 4, 256, IsIceChar, "ALPHA, DIGIT, '+' or '/'");
}

absl::Status ValidateIcePwd(std::string_view value) {
  return CheckChars(kIcePwdAttr, value, 22, 256, IsIceChar, "ALPHA, DIGIT, '+' or '/'");
}

absl::StatusOr<std::vector<std::string>> ParseIceOptions(std::string_view value) {
  std::vector<std::string> out;
  for (std::string_view tag : Words(value)) {
    if (!IsToken(tag)) {
      return NamedError(kIceOptionsAttr, Cat("option '", tag, "' is not a token"));
    }
    out.emplace_back(tag);
  }
  if (out.empty()) return NamedError(kIceOptionsAttr, "needs at least one option tag");
  return out;
}

std::string FormatIceOptions(const std::vector<std::string>& options) {
  return absl::StrJoin(options, " ");
}

absl::StatusOr<IceCandidate> ParseIceCandidate(std::string_view value) {
  std::vector<std::string_view> f = Words(value);
  if (f.size() < 8) {
    return NamedError(kCandidateAttr,
                 "needs <foundation> <component> <transport> <priority> <address> <port> typ "
                 "<type>");
  }
  IceCandidate c;
  if (f[0].size() > 32 || !std::all_of(f[0].begin(), f[0].end(), IsIceChar)) {
    return NamedError(kCandidateAttr, Cat("foundation '", f[0],
                                              "' must be 1..32 of ALPHA, DIGIT, '+' or '/'"));
  }
  c.foundation = std::string(f[0]);
  std::optional<uint32_t> component = ParseDecimal(f[1], 256);
  if (!component || *component == 0) {
    return NamedError(kCandidateAttr, Cat("component '", f[1], "' is not 1..256"));
  }
  c.component = *component;
  if (!IsToken(f[2])) {
    return NamedError(kCandidateAttr, Cat("transport '", f[2], "' is not a token"));
  }
  c.transport = std::string(f[2]);
  std::optional<uint32_t> priority = ParseDecimal(f[3], 0xffffffffu);
  if (!priority) {
    return NamedError(kCandidateAttr, Cat("priority '", f[3], "' is not 0..4294967295"));
  }
  c.priority = *priority;
  c.address = std::string(f[4]);
  std::optional<uint32_t> port = ParseDecimal(f[5], 65535);
  if (!port) return NamedError(kCandidateAttr, Cat("port '", f[5], "' is not 0..65535"));
  c.port = static_cast<uint16_t>(*port);
  if (f[6] != "typ") {
    return NamedError(kCandidateAttr, Cat("expected 'typ' as field 7, got '", f[6], "'"));
  }
  if (!IsToken(f[7])) {
    return NamedError(kCandidateAttr, Cat("type '", f[7], "' is not a token"));
  }
  c.type = std::string(f[7]);
  size_t i = 8;
  if (i + 1 < f.size() && f[i] == "raddr") {
    c.related_address = std::string(f[i + 1]);
    i += 2;
  }
  if (i + 1 < f.size() && f[i] == "rport") {
    std::optional<uint32_t> rport = ParseDecimal(f[i + 1], 65535);
    if (!rport) {
      return NamedError(kCandidateAttr, Cat("rport '", f[i + 1], "' is not 0..65535"));
    }
    c.related_port = static_cast<uint16_t>(*rport);
    i += 2;
  }
  for (; i < f.size(); i += 2) {
    if (i + 1 >= f.size()) {
      return NamedError(kCandidateAttr, Cat("extension '", f[i], "' has no value"));
    }
    if (!IsToken(f[i])) {
      return NamedError(kCandidateAttr, Cat("extension name '", f[i], "' is not a token"));
    }
    c.extensions.emplace_back(std::string(f[i]), std::string(f[i + 1]));
  }
  return c;
}

std::string FormatIceCandidate(const IceCandidate& c) {
  std::string out = Cat(c.foundation, " ", c.component, " ", c.transport, " ",
                                 c.priority, " ", c.address, " ", c.port, " typ ", c.type);
  if (c.related_address) Append(&out, " raddr ", *c.related_address);
  if (c.related_port) Append(&out, " rport ", *c.related_port);
  for (const auto& [name, value] : c.extensions) Append(&out, " ", name, " ", value);
  return out;
}

absl::StatusOr<IceParams> GetIceParams(const SessionDescription& session,
                                       const MediaDescription& media) {
  IceParams p;
  const Attribute* ufrag = FindMediaOrSessionAttribute(session, media, kIceUfragAttr);
  const Attribute* pwd = FindMediaOrSessionAttribute(session, media, kIcePwdAttr);
  if ((ufrag == nullptr) != (pwd == nullptr)) {
    return absl::InvalidArgumentError(ufrag ? "ice-ufrag without ice-pwd"
                                            : "ice-pwd without ice-ufrag");
  }
  if (ufrag != nullptr) {
    p.ufrag = ufrag->value.value_or("");
    p.pwd = pwd->value.value_or("");
    if (absl::Status s = ValidateIceUfrag(p.ufrag); !s.ok()) return s;
    if (absl::Status s = ValidateIcePwd(p.pwd); !s.ok()) return s;
  }
  p.lite = session.FindAttribute(kIceLiteAttr) != nullptr;
  if (const Attribute* o = FindMediaOrSessionAttribute(session, media, kIceOptionsAttr)) {
    absl::StatusOr<std::vector<std::string>> options = ParseIceOptions(o->value.value_or(""));
    if (!options.ok()) return options.status();
    p.options = *std::move(options);
  }
  for (const Attribute* a : media.FindAttributes(kCandidateAttr)) {
    absl::StatusOr<IceCandidate> c = ParseIceCandidate(a->value.value_or(""));
    if (!c.ok()) return c.status();
    p.candidates.push_back(*std::move(c));
  }
  p.end_of_candidates = media.HasAttribute(kEndOfCandidatesAttr) ||
                        session.FindAttribute(kEndOfCandidatesAttr) != nullptr;
  return p;
}

void SetIceParams(const IceParams& params, SessionDescription* session, MediaDescription* media) {
  auto set_or_remove = [&](std::string_view name, const std::string& value) {
    if (value.empty()) {
      media->RemoveAttributes(name);
    } else {
      media->SetAttribute(name, value);
    }
  };
  set_or_remove(kIceUfragAttr, params.ufrag);
  set_or_remove(kIcePwdAttr, params.pwd);
  set_or_remove(kIceOptionsAttr, FormatIceOptions(params.options));
  media->RemoveAttributes(kCandidateAttr);
  media->RemoveAttributes(kEndOfCandidatesAttr);
  for (const IceCandidate& c : params.candidates) {
    media->AddAttribute(kCandidateAttr, FormatIceCandidate(c));
  }
  if (params.end_of_candidates) media->AddAttribute(kEndOfCandidatesAttr, std::nullopt);
  if (params.lite) {
    session->SetAttribute(kIceLiteAttr, std::nullopt);
  } else {
    session->RemoveAttributes(kIceLiteAttr);
  }
}

}  // namespace t38relay::control::sdp
