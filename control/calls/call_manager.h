// CallManager: the RFC 7345 call manager — offers and answers become linked dataplane legs, legs'
// events update the calls, and a restarted control rebuilds its calls from the legs' labels.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/api/control_service.h"
#include "control/calls/call_state.h"
#include "dataplane/flowsock/flow_service.h"
#include "dataplane/flowsock/flow_types.h"
#include "nlohmann/json.hpp"

namespace t38relay::control::calls {

class CallManager : public ControlService {
 public:
  struct Options {
    // Our a=setup in offers (RFC 7345 section 4.2: actpass unless we insist on a role).
    dataplane::DtlsSetup offer_setup = dataplane::DtlsSetup::kActpass;
    // Path MTU of every leg, for T38FaxMaxDatagram towards DTLS legs.
    uint32_t mtu = 1500;
    // A call whose legs all reported leg.idle and received nothing for this long is deleted.
    int64_t idle_timeout_s = 60;
    // Unix seconds; tests set a fake clock.
    std::function<int64_t()> clock;
    // One line per call event (stderr in the daemon); none: silent.
    std::function<void(std::string_view)> log;
  };

  // `flow` may be null (dataplane unreachable): requests then fail with Unavailable.
  CallManager(Options options, dataplane::FlowService* flow);

  // The dataplane connection changed (null: lost). After a (re)connect call Recover().
  void SetFlowService(dataplane::FlowService* flow);
  // legs.list -> rebuilds the calls from our labels (legs with other labels are left alone).
  // Calls known in memory whose legs are all gone (a restarted dataplane) are programmed again
  // (Reprogram); those that cannot be, or that lost only some legs, are marked failed ("lost")
  // and counted. Returns how many calls were rebuilt from labels.
  absl::StatusOr<size_t> Recover();
  // The same from a legs.list the caller fetched itself (FlowClient::TryListLegs tells errors).
  size_t RecoverFrom(const std::vector<dataplane::LegInfo>& legs);
  // leg.established / leg.failed / leg.latched / leg.idle.
  void HandleEvent(const dataplane::LegEvent& event);
  // Idle cleanup; call about once a second.
  void Tick();

  // ControlService.
  absl::StatusOr<std::string> Offer(const OfferRequest& request) override;
  absl::StatusOr<std::string> Answer(const AnswerRequest& request) override;
  absl::Status Delete(const DeleteRequest& request) override;
  absl::StatusOr<nlohmann::json> Query(std::string_view call_id) override;
  nlohmann::json List() override;
  nlohmann::json Stats() override;

  size_t call_count() const { return calls_.size(); }
  bool connected() const { return flow_ != nullptr; }

 private:
  struct LegRef {
    std::string call_id;
    size_t stream = 0;
    uint32_t generation = 0;
    Side side = Side::kCaller;
  };
  class Transaction;

  absl::StatusOr<std::string> DoOffer(const OfferRequest& request);
  absl::StatusOr<std::string> DoAnswer(const AnswerRequest& request);
  // Counts and logs the outcome of an offer or answer.
  absl::StatusOr<std::string> Finish(absl::StatusOr<std::string> result, std::string_view what,
                                     std::string_view call_id, uint64_t* counter);
  absl::Status DeleteCallLegs(Call& call);
  // Writes changed labels of the call's legs (best effort: logged on failure).
  void SyncLabels(Call& call);
  void Reindex(const Call& call);
  void Unindex(const Call& call);
  // The dataplane restarted without the call's legs: adds them again on the same local
  // addresses and ports (the peers' SDP stays true) with the peers' state, and links them. On
  // error nothing stays added.
  absl::Status Reprogram(Call& call);
  // Fails the call as lost (once), counted in lost_calls.
  void MarkLost(Call& call, const std::string& why);
  // The new association of a stream is up: delete the old legs.
  void Promote(Call& call, Stream& stream);
  RelayLeg* FindLeg(uint64_t id, Call** call, Stream** stream, bool* pending);
  nlohmann::json CallJson(const Call& call,
                          const std::map<uint64_t, dataplane::LegInfo>& live) const;
  absl::Status Count(absl::Status status);
  int64_t Now() const;
  void Log(std::string_view line) const;

  Options options_;
  dataplane::FlowService* flow_;
  std::map<std::string, Call> calls_;
  std::map<uint64_t, LegRef> legs_;
  uint64_t offers_ = 0;
  uint64_t answers_ = 0;
  uint64_t deletes_ = 0;
  uint64_t lost_calls_ = 0;
  uint64_t idle_deletes_ = 0;
  uint64_t recovered_calls_ = 0;
  uint64_t reprogrammed_calls_ = 0;
  std::map<std::string, uint64_t> errors_;
};

}  // namespace t38relay::control::calls
