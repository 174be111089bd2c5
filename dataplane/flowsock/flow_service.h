// FlowService: what the flow socket server asks of the dataplane (implemented by the dataplane,
// called only from the thread that runs FlowSocketServer::Poll).
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dataplane/flowsock/flow_types.h"
#include "nlohmann/json.hpp"

namespace t38relay::dataplane {

// Errors become protocol error codes (see ErrorCodeFromStatus in protocol.h), with
// status.message() as the message the client sees, so write messages a user can act on:
//   NotFound -> not-found, FailedPrecondition -> invalid-state, ResourceExhausted -> no-capacity,
//   InvalidArgument -> bad-request, PermissionDenied -> permission-denied, Unavailable -> busy,
//   anything else -> internal.
// Requests arrive validated field by field (types, ranges, addresses, ICE characters, fingerprint
// formats, dtls-only fields absent on plain legs in leg.add); the service checks what needs its
// state (relay addresses, leg ids, transport of an existing leg in leg.update, link states).
class FlowService {
 public:
  virtual ~FlowService() = default;
  virtual HelloInfo Hello() = 0;
  virtual absl::StatusOr<LegAddResult> AddLeg(const LegAddRequest& request) = 0;
  // All or nothing.
  virtual absl::Status UpdateLeg(const LegUpdateRequest& request) = 0;
  // a != b (the protocol checks); each must exist and be unlinked.
  virtual absl::Status LinkLegs(uint64_t a, uint64_t b) = 0;
  virtual absl::Status DeleteLeg(uint64_t leg) = 0;
  virtual absl::StatusOr<LegInfo> GetLeg(uint64_t leg) = 0;
  virtual std::vector<LegInfo> ListLegs() = 0;
  // The dataplane part of the "stats" reply, a JSON object ("legs", "workers", "handshake",
  // "ports"); the server adds "socket".
  virtual nlohmann::json Stats() = 0;
};

}  // namespace t38relay::dataplane
