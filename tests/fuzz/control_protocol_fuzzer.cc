// libFuzzer target for control's socket protocol: each "\n"-separated line is parsed as the control
// socket would (errors format as one JSON line, requests survive Format -> Parse), and as a reply
// of the dataplane as FlowClient parses it (the flow reply parsers never crash and round-trip).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "control/api/control_protocol.h"
#include "dataplane/flowsock/field_parser.h"
#include "dataplane/flowsock/protocol.h"
#include "nlohmann/json.hpp"

using namespace t38relay;

#define CONTROL_FUZZ_CHECK(cond)                                                        \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace {

using json = nlohmann::json;

json CheckLine(const std::string& line) {
  CONTROL_FUZZ_CHECK(!line.empty() && line.back() == '\n');
  CONTROL_FUZZ_CHECK(line.find('\n') == line.size() - 1);
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  CONTROL_FUZZ_CHECK(j.is_object());
  CONTROL_FUZZ_CHECK(j["v"] == 1);
  return j;
}

void CheckRequest(std::string_view line) {
  const control::ParsedControlRequest parsed = control::ParseControlRequest(line);
  if (const auto* error = std::get_if<dataplane::ProtocolError>(&parsed)) {
    CONTROL_FUZZ_CHECK(!error->message.empty());
    CONTROL_FUZZ_CHECK(!error->id || *error->id <= dataplane::kMaxJsonId);
    json j = CheckLine(dataplane::FormatError(*error));
    CONTROL_FUZZ_CHECK(j["ok"] == false);
    return;
  }
  const control::ControlRequest& request = std::get<control::ControlRequest>(parsed);
  const std::string formatted = control::FormatControlRequest(request);
  CheckLine(formatted);
  const control::ParsedControlRequest again =
      control::ParseControlRequest(std::string_view(formatted).substr(0, formatted.size() - 1));
  CONTROL_FUZZ_CHECK(std::holds_alternative<control::ControlRequest>(again));
  CONTROL_FUZZ_CHECK(std::get<control::ControlRequest>(again) == request);
}

// The same line as a dataplane's reply or event.
void CheckReply(std::string_view line) {
  auto parsed = dataplane::ParseJsonLine(line, 32);
  if (!std::holds_alternative<dataplane::JsonLine>(parsed)) return;
  const json& j = std::get<dataplane::JsonLine>(parsed).value;
  if (auto info = dataplane::ParseLegInfo(j); info.ok()) {
    const json again = dataplane::LegInfoToJson(*info);
    auto reparsed = dataplane::ParseLegInfo(again);
    CONTROL_FUZZ_CHECK(reparsed.ok());
    CONTROL_FUZZ_CHECK(dataplane::LegInfoToJson(*reparsed) == again);
  }
  if (auto added = dataplane::ParseLegAddResult(j); added.ok()) {
    const json again = dataplane::LegAddResultToJson(*added);
    auto reparsed = dataplane::ParseLegAddResult(again);
    CONTROL_FUZZ_CHECK(reparsed.ok());
    CONTROL_FUZZ_CHECK(dataplane::LegAddResultToJson(*reparsed) == again);
  }
  if (auto hello = dataplane::ParseHelloInfo(j); hello.ok()) {
    CONTROL_FUZZ_CHECK(dataplane::ParseHelloInfo(dataplane::HelloToJson(*hello)).ok());
  }
  if (auto event = dataplane::ParseLegEvent(j); event.ok()) {
    const std::string formatted = dataplane::FormatEvent(*event);
    json line_json = CheckLine(formatted);
    auto reparsed = dataplane::ParseLegEvent(line_json);
    CONTROL_FUZZ_CHECK(reparsed.ok());
    CONTROL_FUZZ_CHECK(dataplane::FormatEvent(*reparsed) == formatted);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    CheckRequest(input.substr(start, end - start));
    CheckReply(input.substr(start, end - start));
    start = end + 1;
  }
  return 0;
}
