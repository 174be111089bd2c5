// FlowClient: control's connection to the dataplane's flow socket (client side of protocol v1),
// a blocking FlowService whose events are queued for the daemon's poll loop.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/flowclient/line_client.h"
#include "dataplane/flowsock/flow_service.h"
#include "dataplane/flowsock/flow_types.h"
#include "dataplane/flowsock/protocol.h"
#include "nlohmann/json.hpp"

namespace t38relay::control {

// One connection to t38relay-dataplane. Not thread-safe: one thread calls everything.
// A request blocks until its reply (same id) arrives or the reply timeout passes; events that
// arrive meanwhile are queued (TakeEvents). Once the connection breaks (EOF, I/O error, timeout,
// malformed line) every call fails with Unavailable and connected() is false: reconnect by
// calling Connect again.
class FlowClient : public dataplane::FlowService {
 public:
  struct Options {
    std::string path = "/run/t38relay/flow.sock";
    // How long a request waits for its reply (and Connect for each of its replies).
    int reply_timeout_ms = 2000;
    // Longest line accepted from the dataplane (a legs.list reply can be long).
    size_t max_line = size_t{64} << 20;
  };

  // Connects, sends hello (checks server "t38relay-dataplane" and protocol 1), then
  // events.subscribe. Unavailable "cannot reach the dataplane at <path>: <errno text>; is
  // t38relay-dataplane running?" when nobody listens; FailedPrecondition when the peer is not a
  // v1 dataplane; the dataplane's own error (e.g. permission-denied -> PermissionDenied) otherwise.
  static absl::StatusOr<std::unique_ptr<FlowClient>> Connect(Options options);
  ~FlowClient() override;
  FlowClient(const FlowClient&) = delete;
  FlowClient& operator=(const FlowClient&) = delete;

  // dataplane::FlowService. Error replies come back as the absl code the server mapped them from
  // (not-found -> NotFound, invalid-state -> FailedPrecondition, no-capacity -> ResourceExhausted,
  // bad-request/bad-json/unknown-command/unsupported-version/too-large -> InvalidArgument,
  // permission-denied -> PermissionDenied, busy -> Unavailable, internal -> Internal) with the
  // server's message. A malformed reply is Internal naming the field.
  // The cached hello of Connect (no round trip).
  dataplane::HelloInfo Hello() override;
  absl::StatusOr<dataplane::LegAddResult> AddLeg(const dataplane::LegAddRequest& request) override;
  absl::Status UpdateLeg(const dataplane::LegUpdateRequest& request) override;
  absl::Status LinkLegs(uint64_t a, uint64_t b) override;
  absl::Status DeleteLeg(uint64_t leg) override;
  absl::StatusOr<dataplane::LegInfo> GetLeg(uint64_t leg) override;
  // FlowService's signature cannot fail: an empty list on error. Use TryListLegs to tell.
  std::vector<dataplane::LegInfo> ListLegs() override;
  // {"error":"<message>"} on error. Use TryStats to tell.
  nlohmann::json Stats() override;

  // The same as ListLegs and Stats with errors reported.
  absl::StatusOr<std::vector<dataplane::LegInfo>> TryListLegs();
  absl::StatusOr<nlohmann::json> TryStats();

  // Events received so far (in order), removed from the queue.
  std::vector<dataplane::LegEvent> TakeEvents();
  // Readable when the dataplane sent something (events): poll it, then call ReadEvents.
  // -1 once disconnected.
  int fd() const;
  // Reads what is there without blocking and queues the events. Unavailable once the connection
  // is broken (the dataplane went away).
  absl::Status ReadEvents();
  bool connected() const;
  const std::string& path() const { return options_.path; }

 private:
  FlowClient(Options options, std::unique_ptr<LineClient> line);
  // Sends one request, waits for its reply: the reply's JSON object, or the error as a status.
  absl::StatusOr<nlohmann::json> Call(dataplane::Command command, dataplane::RequestArgs args);
  // Queues an event line; a malformed one breaks the connection.
  absl::Status HandleUnsolicited(const nlohmann::json& line);

  Options options_;
  std::unique_ptr<LineClient> line_;
  dataplane::HelloInfo hello_;
  std::deque<dataplane::LegEvent> events_;
};

}  // namespace t38relay::control
