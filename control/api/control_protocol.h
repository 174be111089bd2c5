// Control socket protocol v1 as pure functions: one request line -> a typed request or a protocol
// error (the flow socket's envelope and error codes). No I/O, never throws (fuzzed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "control/api/control_service.h"
#include "dataplane/flowsock/protocol.h"

namespace t38relay::control {

inline constexpr int kControlProtocolVersion = 1;
inline constexpr std::string_view kControlServerName = "t38relay-control";
// Longest request line (without "\n").
inline constexpr size_t kMaxControlLine = size_t{256} << 10;
// call_id, from_tag, to_tag: 1..256 printable ASCII characters without spaces.
inline constexpr size_t kMaxCallIdBytes = 256;
// "sdp" and "sip": at most this many bytes.
inline constexpr size_t kMaxBodyBytes = size_t{64} << 10;

enum class ControlCommand : uint8_t {
  kHello,
  kPing,
  kOffer,
  kAnswer,
  kDelete,
  kQuery,
  kList,
  kStats,
};
inline constexpr size_t kControlCommandCount = 8;
// "hello", "ping", "offer", ... as on the wire.
std::string_view ControlCommandName(ControlCommand command);

// "as-offered", "dtls", "plain", "prefer-dtls".
std::string_view TransportPolicyName(TransportPolicy policy);
std::optional<TransportPolicy> TransportPolicyFromName(std::string_view name);

// Which field carried the body of an offer or answer.
enum class BodyKind : uint8_t { kSdp, kSip };

struct OfferArgs {
  OfferRequest request;
  BodyKind kind = BodyKind::kSdp;
};
struct AnswerArgs {
  AnswerRequest request;
  BodyKind kind = BodyKind::kSdp;
};
struct QueryArgs {
  std::string call_id;
};
// monostate for hello, ping, list, stats.
using ControlArgs = std::variant<std::monostate, OfferArgs, AnswerArgs, DeleteRequest, QueryArgs>;

struct ControlRequest {
  uint64_t id = 0;
  ControlCommand command = ControlCommand::kHello;
  ControlArgs args;
};
bool operator==(const ControlRequest& a, const ControlRequest& b);

using ParsedControlRequest = std::variant<ControlRequest, dataplane::ProtocolError>;

// Parses one request line (without its "\n"; a trailing "\r" is ignored). Strict like the flow
// socket: unknown fields, null values and wrong types are bad-request naming the field; "v" must
// be 1 (unsupported-version), the id 0..2^53-1, the command known (unknown-command).
ParsedControlRequest ParseControlRequest(std::string_view line);

// The request as a client sends it, ending with "\n"; ParseControlRequest gives it back.
std::string FormatControlRequest(const ControlRequest& request);

// "" when `value` is a valid call id or tag (1..256 printable ASCII, no spaces), else what is
// wrong with it.
std::string CheckCallToken(std::string_view value);

}  // namespace t38relay::control
