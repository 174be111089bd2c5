// JSON line parsing with a depth cap and duplicate-key detection, and the request envelope.
#include "dataplane/flowsock/field_parser.h"

#include <exception>
#include <set>
#include <utility>

namespace t38relay::dataplane {
namespace {

using json = nlohmann::json;

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

}  // namespace

std::variant<JsonLine, ProtocolError> ParseJsonLine(std::string_view line, int max_depth) {
  // nlohmann's lexer takes a NUL byte for the end of input, which would let "{...}\0junk" pass.
  if (line.find('\0') != std::string_view::npos) {
    return Error(std::nullopt, ErrorCode::kBadJson, "invalid JSON: NUL byte in the request line");
  }
  ParseWatch watch;
  json j;
  try {
    j = json::parse(
        line.begin(), line.end(),
        [&watch, max_depth](int depth, json::parse_event_t event, json& parsed) {
          if (depth > max_depth) watch.too_deep = true;
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
                 "JSON nested deeper than " + std::to_string(max_depth) + " levels");
  }
  return JsonLine{std::move(j), std::move(watch.duplicate)};
}

std::variant<RequestEnvelope, ProtocolError> ParseRequestEnvelope(
    std::string_view line, std::span<const std::string_view> commands) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::variant<JsonLine, ProtocolError> parsed_line = ParseJsonLine(line);
  if (auto* error = std::get_if<ProtocolError>(&parsed_line)) return std::move(*error);
  JsonLine& parsed = std::get<JsonLine>(parsed_line);
  const json& j = parsed.value;
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
                   "protocol version " + DumpJson(*v) + " is not supported; this server speaks v1");
    }
  } else {
    return Error(id, ErrorCode::kBadRequest, "v: must be the integer 1");
  }
  if (!id) return Error(std::nullopt, ErrorCode::kBadRequest, id_error);
  if (!parsed.duplicate.empty()) {
    return Error(id, ErrorCode::kBadRequest, "duplicate field " + QuoteText(parsed.duplicate));
  }

  const json* cmd = p.Require(j, "cmd", "");
  if (cmd == nullptr) return Error(id, ErrorCode::kBadRequest, p.error());
  if (!cmd->is_string()) return Error(id, ErrorCode::kBadRequest, "cmd: must be a string");
  const std::string& name = cmd->get_ref<const std::string&>();
  const auto found = std::find(commands.begin(), commands.end(), std::string_view(name));
  if (found == commands.end()) {
    std::string known;
    for (std::string_view n : commands) {
      if (!known.empty()) known += ", ";
      known += n;
    }
    return Error(id, ErrorCode::kUnknownCommand,
                 "unknown command " + QuoteText(name) + " (known: " + known + ")");
  }

  return RequestEnvelope{std::move(parsed.value), *id,
                         static_cast<size_t>(found - commands.begin())};
}

}  // namespace t38relay::dataplane
