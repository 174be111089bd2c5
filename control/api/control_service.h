// ControlService: what the control socket (t38ctl, SIP proxies) asks of the call manager. The
// socket server parses and validates requests into these types; the call manager implements it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace t38relay::control {

// Transport of the leg an offer is sent out on (the answerer's side). The caller's own leg always
// follows what the caller offered.
//   kAsOffered: the same proto as offered (UDP/TLS/UDPTL or udptl).
//   kDtls: UDP/TLS/UDPTL (RFC 7345). kPlain: udptl.
//   kPreferDtls: both, as RFC 7345 section 5.4 suggests: udptl in the m= line (RFC 5939's actual
//     configuration, what an answerer without capability negotiation takes) and UDP/TLS/UDPTL as
//     the preferred potential configuration (a=tcap/a=acap/a=pcfg); a rejected offer (port 0)
//     can be re-offered plain.
enum class TransportPolicy : uint8_t { kAsOffered, kDtls, kPlain, kPreferDtls };

struct OfferRequest {
  std::string call_id;
  std::string from_tag;
  // A bare SDP body, or a whole SIP request/response (the SDP is taken from its application/sdp
  // body or multipart/mixed part).
  std::string body;
  TransportPolicy transport = TransportPolicy::kAsOffered;
  // A fresh DTLS identity for this call (RFC 7345 section 5.1).
  bool anonymous = false;
};

struct AnswerRequest {
  std::string call_id;
  std::string from_tag;
  std::string to_tag;
  std::string body;  // as in OfferRequest
};

struct DeleteRequest {
  std::string call_id;
  // Only the dialog with this from-tag (and to-tag, when given); none: the whole call.
  std::optional<std::string> from_tag;
  std::optional<std::string> to_tag;
};

// Errors follow the flow socket's mapping (absl code -> protocol error code): InvalidArgument ->
// bad-request (malformed SDP or SIP, missing fingerprint on a DTLS offer, unsupported proto,
// a=connection or holdconn offered), NotFound -> not-found (unknown call), FailedPrecondition ->
// invalid-state, ResourceExhausted -> no-capacity, Unavailable -> busy (dataplane unreachable).
// Messages name the problem in words a user can act on. A failed request programs nothing: no
// half-made call, no leaked leg.
//
// The call object of Query and List:
//   {"call_id":"...","from_tag":"...","to_tag":"..."|null,
//    "state":"offered"|"answered"|"failed",
//    "created":<unix seconds>,"last_activity":<unix seconds>,
//    "transport_policy":"as-offered"|"dtls"|"plain"|"prefer-dtls","anonymous":false,
//    "legs":[{"side":"caller"|"callee","tag":"...","leg":<dataplane leg id>,
//             "transport":"dtls"|"plain","local":{"ip":"...","port":N},
//             "remote":{"ip":"...","port":N}|null,"state":"<dataplane leg state>",
//             "setup":"active"|"passive"|"actpass"|null,"role":"client"|"server"|null,
//             "rx_packets":N,"forwarded_packets":N,"dropped_packets":N}]}
class ControlService {
 public:
  virtual ~ControlService() = default;
  // Returns the SDP to forward to the other side.
  virtual absl::StatusOr<std::string> Offer(const OfferRequest& request) = 0;
  virtual absl::StatusOr<std::string> Answer(const AnswerRequest& request) = 0;
  virtual absl::Status Delete(const DeleteRequest& request) = 0;
  // One call object (with live counters from the dataplane).
  virtual absl::StatusOr<nlohmann::json> Query(std::string_view call_id) = 0;
  // {"calls":[call object...]}
  virtual nlohmann::json List() = 0;
  // {"calls":N,"legs":N,"offers":N,"answers":N,"deletes":N,"errors":{"<code>":N},
  //  "dataplane":{"connected":bool,...}}
  virtual nlohmann::json Stats() = 0;
};

}  // namespace t38relay::control
