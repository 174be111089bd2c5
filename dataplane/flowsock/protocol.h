// Flow socket protocol v1 as pure functions: one request line -> a typed request or a protocol
// error; replies, errors and events -> one line each. No I/O, never throws (fuzzed).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dataplane/flowsock/flow_types.h"
#include "nlohmann/json.hpp"

namespace t38relay::dataplane {

inline constexpr int kFlowProtocolVersion = 1;
inline constexpr std::string_view kFlowServerName = "t38relay-dataplane";
// Request ids and leg ids: integers 0..2^53-1 (exact in every JSON implementation).
inline constexpr uint64_t kMaxJsonId = (uint64_t{1} << 53) - 1;
// Nesting deeper than this is refused before any field is looked at (v1 needs 3).
inline constexpr int kMaxJsonDepth = 8;
// At most this many fingerprints in one request.
inline constexpr size_t kMaxFingerprints = 16;
// A leg's label: at most this many bytes of UTF-8 text.
inline constexpr size_t kMaxLabelBytes = 4096;

enum class ErrorCode : uint8_t {
  kBadJson,
  kBadRequest,
  kUnsupportedVersion,
  kUnknownCommand,
  kTooLarge,
  kNotFound,
  kInvalidState,
  kNoCapacity,
  kPermissionDenied,
  kBusy,
  kInternal,
};
inline constexpr size_t kErrorCodeCount = 11;
// "bad-json", "bad-request", ... as on the wire.
std::string_view ErrorCodeName(ErrorCode code);
// NotFound -> kNotFound, FailedPrecondition -> kInvalidState, ResourceExhausted -> kNoCapacity,
// InvalidArgument -> kBadRequest, PermissionDenied -> kPermissionDenied, Unavailable -> kBusy,
// anything else (OK included) -> kInternal.
ErrorCode ErrorCodeFromStatus(const absl::Status& status);

enum class Command : uint8_t {
  kHello,
  kLegAdd,
  kLegUpdate,
  kLegLink,
  kLegDel,
  kLegGet,
  kLegsList,
  kStats,
  kEventsSubscribe,
  kEventsUnsubscribe,
};
inline constexpr size_t kCommandCount = 10;
// "hello", "leg.add", ... as on the wire.
std::string_view CommandName(Command command);

// Arguments of leg.link.
struct LegLinkRequest {
  uint64_t a = 0;
  uint64_t b = 0;
  friend bool operator==(const LegLinkRequest&, const LegLinkRequest&) = default;
};
// Arguments of leg.del and leg.get.
struct LegRef {
  uint64_t leg = 0;
  friend bool operator==(const LegRef&, const LegRef&) = default;
};
// monostate for the commands without arguments (hello, legs.list, stats, events.*).
using RequestArgs =
    std::variant<std::monostate, LegAddRequest, LegUpdateRequest, LegLinkRequest, LegRef>;

struct Request {
  uint64_t id = 0;
  Command command = Command::kHello;
  RequestArgs args;
  friend bool operator==(const Request&, const Request&) = default;
};

// An error reply: id is nullopt when the request had no usable id (sent as null).
struct ProtocolError {
  std::optional<uint64_t> id;
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

using ParsedRequest = std::variant<Request, ProtocolError>;

// Parses one request line (without its "\n"; a trailing "\r" is ignored). Strict: unknown fields,
// null values, wrong types, out-of-range numbers, bad addresses, ICE characters and fingerprint
// formats are bad-request naming the field ("fingerprints[1].value: ..."). A fingerprint's hash is
// folded to lower case and its hex value to upper case.
ParsedRequest ParseRequest(std::string_view line);

// Formats a request as a client would send it (tests, fuzzing, tools);
// ParseRequest(FormatRequest(r)) gives r back for every r ParseRequest can produce. Ends with "\n".
std::string FormatRequest(const Request& request);

// {"v":1,"id":id,"ok":true, ...results}\n. `results` is an object (or null for none).
std::string FormatReply(uint64_t id, const nlohmann::json& results);
// {"v":1,"id":id|null,"ok":false,"error":code,"message":message}\n
std::string FormatError(const ProtocolError& error);
// {"v":1,"event":name,"leg":leg, ...fields}\n
std::string FormatEvent(const LegEvent& event);

// The "results" part of each reply.
nlohmann::json HelloToJson(const HelloInfo& hello);
nlohmann::json LegAddResultToJson(const LegAddResult& result);
nlohmann::json LegInfoToJson(const LegInfo& info);  // a LEGOBJ
nlohmann::json AddressToJson(const SocketAddress& address);
nlohmann::json FingerprintToJson(const FingerprintValue& fingerprint);

std::string_view LegTransportName(LegTransport transport);
std::string_view SetupName(DtlsSetup setup);
std::string_view LatchName(Latch latch);
std::string_view DtlsRoleName(DtlsRole role);
std::string_view LegStateName(LegState state);

// The v1 events.
LegEvent MakeEstablishedEvent(uint64_t leg, DtlsRole role, std::string_view cipher);
// reason: "fingerprint-mismatch", "handshake-timeout", "alert" or "protocol-error".
LegEvent MakeFailedEvent(uint64_t leg, std::string_view reason);
LegEvent MakeLatchedEvent(uint64_t leg, const SocketAddress& remote);
LegEvent MakeIdleEvent(uint64_t leg, uint64_t seconds);

// The client side (control's FlowClient): the inverse of the formatters above, strict (unknown
// fields, missing fields, wrong types and bad values refused). Errors are Internal
// "<field>: <what is wrong>" (a malformed reply means a broken or foreign dataplane).
// `results` is a reply without its envelope ("v", "id", "ok" are ignored when present).
absl::StatusOr<HelloInfo> ParseHelloInfo(const nlohmann::json& results);
absl::StatusOr<LegAddResult> ParseLegAddResult(const nlohmann::json& results);
absl::StatusOr<LegInfo> ParseLegInfo(const nlohmann::json& leg);  // a LEGOBJ
// An event line's object: {"v":1,"event":name,"leg":leg, ...fields}. The fields of the four v1
// events are checked; other events pass with whatever fields they carry (null when none).
absl::StatusOr<LegEvent> ParseLegEvent(const nlohmann::json& line);

// The inverse of ErrorCodeFromStatus: kNotFound -> NotFound, kInvalidState -> FailedPrecondition,
// kNoCapacity -> ResourceExhausted, kBadJson/kBadRequest/kUnsupportedVersion/kUnknownCommand/
// kTooLarge -> InvalidArgument, kPermissionDenied -> PermissionDenied, kBusy -> Unavailable,
// kInternal -> Internal.
absl::StatusCode StatusCodeFromErrorCode(ErrorCode code);
// "bad-json" -> kBadJson, ...; nullopt for a name this version does not know.
std::optional<ErrorCode> ErrorCodeFromName(std::string_view name);

// Validators shared with the service and tools. Each returns "" when valid, else what is wrong.
// The hash name must already be lower case; `value` any case.
std::string CheckFingerprint(std::string_view hash, std::string_view value);
// Digest length in bytes of a fingerprint hash name (lower case), 0 when unknown.
size_t FingerprintHashSize(std::string_view hash);
bool IsIceChars(std::string_view text);

}  // namespace t38relay::dataplane
