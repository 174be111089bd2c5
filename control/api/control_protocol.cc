// Control socket protocol v1: request parsing and validation, request formatting.
#include "control/api/control_protocol.h"

#include <array>
#include <utility>

#include "dataplane/flowsock/field_parser.h"

namespace t38relay::control {
namespace {

using json = nlohmann::json;
using dataplane::ErrorCode;
using dataplane::FieldParser;
using dataplane::ProtocolError;

constexpr std::array<std::string_view, kControlCommandCount> kCommandNames = {
    "hello", "ping", "offer", "answer", "delete", "query", "list", "stats",
};

constexpr std::array<std::string_view, 4> kPolicyNames = {"as-offered", "dtls", "plain",
                                                          "prefer-dtls"};

bool Token(FieldParser& p, const json& object, std::string_view key, bool required,
           std::optional<std::string>* out) {
  const json* v = p.Find(object, key);
  if (v == nullptr) {
    if (required) p.Require(object, key, "");
    return !required;
  }
  std::string text;
  if (!p.String(*v, key, &text)) return false;
  const std::string problem = CheckCallToken(text);
  if (!problem.empty()) return p.Fail(key, problem);
  *out = std::move(text);
  return true;
}

bool RequiredToken(FieldParser& p, const json& object, std::string_view key, std::string* out) {
  std::optional<std::string> value;
  if (!Token(p, object, key, true, &value)) return false;
  *out = std::move(*value);
  return true;
}

// Exactly one of "sdp" and "sip".
bool Body(FieldParser& p, const json& object, std::string* body, BodyKind* kind) {
  const json* sdp = p.Find(object, "sdp");
  const json* sip = p.Find(object, "sip");
  if (sdp != nullptr && sip != nullptr) return p.Fail("sdp", "give 'sdp' or 'sip', not both");
  if (sdp == nullptr && sip == nullptr) {
    return p.Fail("sdp", "missing: give 'sdp' (an SDP body) or 'sip' (a whole SIP message)");
  }
  const std::string_view field = sdp != nullptr ? "sdp" : "sip";
  *kind = sdp != nullptr ? BodyKind::kSdp : BodyKind::kSip;
  if (!p.String(sdp != nullptr ? *sdp : *sip, field, body)) return false;
  if (body->empty()) return p.Fail(field, "must not be empty");
  if (body->size() > kMaxBodyBytes) {
    return p.Fail(field, "at most " + std::to_string(kMaxBodyBytes) + " bytes, not " +
                             std::to_string(body->size()));
  }
  if (body->find('\0') != std::string::npos) return p.Fail(field, "contains a NUL character");
  return true;
}

bool ParseOffer(const json& j, FieldParser& p, OfferArgs* args) {
  OfferRequest& r = args->request;
  if (!p.OnlyFields(
          j, {"v", "id", "cmd", "call_id", "from_tag", "sdp", "sip", "transport", "anonymous"},
          "") ||
      !RequiredToken(p, j, "call_id", &r.call_id) ||
      !RequiredToken(p, j, "from_tag", &r.from_tag) || !Body(p, j, &r.body, &args->kind)) {
    return false;
  }
  if (const json* transport = p.Find(j, "transport")) {
    size_t index = 0;
    if (!p.Enum(*transport, "transport", {"as-offered", "dtls", "plain", "prefer-dtls"}, &index)) {
      return false;
    }
    r.transport = static_cast<TransportPolicy>(index);
  }
  if (const json* anonymous = p.Find(j, "anonymous")) {
    if (!p.Bool(*anonymous, "anonymous", &r.anonymous)) return false;
  }
  return true;
}

bool ParseAnswer(const json& j, FieldParser& p, AnswerArgs* args) {
  AnswerRequest& r = args->request;
  return p.OnlyFields(j, {"v", "id", "cmd", "call_id", "from_tag", "to_tag", "sdp", "sip"}, "") &&
         RequiredToken(p, j, "call_id", &r.call_id) &&
         RequiredToken(p, j, "from_tag", &r.from_tag) && RequiredToken(p, j, "to_tag", &r.to_tag) &&
         Body(p, j, &r.body, &args->kind);
}

bool ParseDelete(const json& j, FieldParser& p, DeleteRequest* r) {
  if (!p.OnlyFields(j, {"v", "id", "cmd", "call_id", "from_tag", "to_tag"}, "") ||
      !RequiredToken(p, j, "call_id", &r->call_id) ||
      !Token(p, j, "from_tag", false, &r->from_tag) || !Token(p, j, "to_tag", false, &r->to_tag)) {
    return false;
  }
  if (r->to_tag && !r->from_tag) return p.Fail("to_tag", "only together with from_tag");
  return true;
}

bool ParseQuery(const json& j, FieldParser& p, QueryArgs* r) {
  return p.OnlyFields(j, {"v", "id", "cmd", "call_id"}, "") &&
         RequiredToken(p, j, "call_id", &r->call_id);
}

// Runs `parse` into a fresh Args and stores it (also when it failed: the error is what counts).
template <typename Args, typename Parse>
bool ParseInto(const json& j, FieldParser& p, Parse parse, ControlArgs* out) {
  Args args;
  const bool ok = parse(j, p, &args);
  *out = std::move(args);
  return ok;
}

bool SameArgs(const ControlArgs& a, const ControlArgs& b) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<OfferArgs>(&a)) {
    const auto& y = std::get<OfferArgs>(b);
    return x->kind == y.kind && x->request.call_id == y.request.call_id &&
           x->request.from_tag == y.request.from_tag && x->request.body == y.request.body &&
           x->request.transport == y.request.transport &&
           x->request.anonymous == y.request.anonymous;
  }
  if (const auto* x = std::get_if<AnswerArgs>(&a)) {
    const auto& y = std::get<AnswerArgs>(b);
    return x->kind == y.kind && x->request.call_id == y.request.call_id &&
           x->request.from_tag == y.request.from_tag && x->request.to_tag == y.request.to_tag &&
           x->request.body == y.request.body;
  }
  if (const auto* x = std::get_if<DeleteRequest>(&a)) {
    const auto& y = std::get<DeleteRequest>(b);
    return x->call_id == y.call_id && x->from_tag == y.from_tag && x->to_tag == y.to_tag;
  }
  if (const auto* x = std::get_if<QueryArgs>(&a))
    return x->call_id == std::get<QueryArgs>(b).call_id;
  return true;
}

}  // namespace

std::string_view ControlCommandName(ControlCommand command) {
  const size_t i = static_cast<size_t>(command);
  return i < kCommandNames.size() ? kCommandNames[i] : "";
}

std::string_view TransportPolicyName(TransportPolicy policy) {
  const size_t i = static_cast<size_t>(policy);
  return i < kPolicyNames.size() ? kPolicyNames[i] : "as-offered";
}

std::optional<TransportPolicy> TransportPolicyFromName(std::string_view name) {
  for (size_t i = 0; i < kPolicyNames.size(); ++i) {
    if (kPolicyNames[i] == name) return static_cast<TransportPolicy>(i);
  }
  return std::nullopt;
}

std::string CheckCallToken(std::string_view value) {
  if (value.empty()) return "must not be empty (1.." + std::to_string(kMaxCallIdBytes) + " bytes)";
  if (value.size() > kMaxCallIdBytes) {
    return "at most " + std::to_string(kMaxCallIdBytes) + " bytes, not " +
           std::to_string(value.size());
  }
  for (size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c <= 0x20 || c >= 0x7f) {
      return "character " + std::to_string(i + 1) +
             " is not printable ASCII (spaces and control characters are not allowed)";
    }
  }
  return "";
}

bool operator==(const ControlRequest& a, const ControlRequest& b) {
  return a.id == b.id && a.command == b.command && SameArgs(a.args, b.args);
}

ParsedControlRequest ParseControlRequest(std::string_view line) {
  std::variant<dataplane::RequestEnvelope, ProtocolError> envelope =
      dataplane::ParseRequestEnvelope(line, kCommandNames);
  if (auto* error = std::get_if<ProtocolError>(&envelope)) return std::move(*error);
  const auto& parsed = std::get<dataplane::RequestEnvelope>(envelope);
  const json& j = parsed.object;
  ControlRequest request;
  request.id = parsed.id;
  request.command = static_cast<ControlCommand>(parsed.command);
  FieldParser p;
  bool ok = true;
  switch (request.command) {
    case ControlCommand::kOffer:
      ok = ParseInto<OfferArgs>(j, p, ParseOffer, &request.args);
      break;
    case ControlCommand::kAnswer:
      ok = ParseInto<AnswerArgs>(j, p, ParseAnswer, &request.args);
      break;
    case ControlCommand::kDelete:
      ok = ParseInto<DeleteRequest>(j, p, ParseDelete, &request.args);
      break;
    case ControlCommand::kQuery:
      ok = ParseInto<QueryArgs>(j, p, ParseQuery, &request.args);
      break;
    case ControlCommand::kHello:
    case ControlCommand::kPing:
    case ControlCommand::kList:
    case ControlCommand::kStats:
      ok = p.OnlyFields(j, {"v", "id", "cmd"}, "");
      break;
  }
  if (!ok) return ProtocolError{request.id, ErrorCode::kBadRequest, p.error()};
  return request;
}

std::string FormatControlRequest(const ControlRequest& request) {
  json j = {{"v", kControlProtocolVersion},
            {"id", request.id},
            {"cmd", std::string(ControlCommandName(request.command))}};
  if (const auto* offer = std::get_if<OfferArgs>(&request.args)) {
    j["call_id"] = offer->request.call_id;
    j["from_tag"] = offer->request.from_tag;
    j[offer->kind == BodyKind::kSip ? "sip" : "sdp"] = offer->request.body;
    j["transport"] = TransportPolicyName(offer->request.transport);
    if (offer->request.anonymous) j["anonymous"] = true;
  } else if (const auto* answer = std::get_if<AnswerArgs>(&request.args)) {
    j["call_id"] = answer->request.call_id;
    j["from_tag"] = answer->request.from_tag;
    j["to_tag"] = answer->request.to_tag;
    j[answer->kind == BodyKind::kSip ? "sip" : "sdp"] = answer->request.body;
  } else if (const auto* del = std::get_if<DeleteRequest>(&request.args)) {
    j["call_id"] = del->call_id;
    if (del->from_tag) j["from_tag"] = *del->from_tag;
    if (del->to_tag) j["to_tag"] = *del->to_tag;
  } else if (const auto* query = std::get_if<QueryArgs>(&request.args)) {
    j["call_id"] = query->call_id;
  }
  return dataplane::DumpJson(j) + "\n";
}

}  // namespace t38relay::control
