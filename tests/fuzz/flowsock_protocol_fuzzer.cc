// libFuzzer target for the flow socket protocol: each "\n"-separated line is parsed as the server
// would; errors must format as one JSON line, requests must survive FormatRequest -> ParseRequest.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "dataplane/flowsock/protocol.h"
#include "nlohmann/json.hpp"

using namespace t38relay::dataplane;

#define FLOWSOCK_FUZZ_CHECK(cond)                                               \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                     \
      std::abort();                                                            \
    }                                                                          \
  } while (0)

namespace {

// One JSON object on one line, ending with "\n".
nlohmann::json CheckLine(const std::string& line) {
  FLOWSOCK_FUZZ_CHECK(!line.empty() && line.back() == '\n');
  FLOWSOCK_FUZZ_CHECK(line.find('\n') == line.size() - 1);
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  FLOWSOCK_FUZZ_CHECK(j.is_object());
  FLOWSOCK_FUZZ_CHECK(j["v"] == 1);
  return j;
}

void CheckOne(std::string_view line) {
  const ParsedRequest parsed = ParseRequest(line);
  if (const auto* error = std::get_if<ProtocolError>(&parsed)) {
    FLOWSOCK_FUZZ_CHECK(!error->message.empty());
    FLOWSOCK_FUZZ_CHECK(!error->id || *error->id <= kMaxJsonId);
    nlohmann::json j = CheckLine(FormatError(*error));
    FLOWSOCK_FUZZ_CHECK(j["ok"] == false);
    FLOWSOCK_FUZZ_CHECK(j["error"] == std::string(ErrorCodeName(error->code)));
    FLOWSOCK_FUZZ_CHECK(error->id ? j["id"] == *error->id : j["id"].is_null());
    return;
  }
  const Request& request = std::get<Request>(parsed);
  FLOWSOCK_FUZZ_CHECK(request.id <= kMaxJsonId);
  const std::string formatted = FormatRequest(request);
  CheckLine(formatted);
  const ParsedRequest again =
      ParseRequest(std::string_view(formatted).substr(0, formatted.size() - 1));
  FLOWSOCK_FUZZ_CHECK(std::holds_alternative<Request>(again));
  FLOWSOCK_FUZZ_CHECK(std::get<Request>(again) == request);
  nlohmann::json reply = CheckLine(FormatReply(request.id, {{"leg", request.id}}));
  FLOWSOCK_FUZZ_CHECK(reply["ok"] == true && reply["id"] == request.id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    CheckOne(input.substr(start, end - start));
    start = end + 1;
  }
  return 0;
}
