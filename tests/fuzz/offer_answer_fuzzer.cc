// libFuzzer target for control/offer_answer and control/calls: the input goes through
// CallManager::Offer (as SDP or SIP), then the same bytes as the answer, over an in-memory
// dataplane; the relay's own SDP must parse back, a failed request must leave no leg behind, and
// the input is also read as a leg label.
#include <cstddef>
#include <cstdint>
#include <string>

#include "control/calls/call_manager.h"
#include "control/calls/call_state.h"
#include "control/offer_answer/offer_answer.h"
#include "control/sdp/sdp.h"
#include "tests/control/calls/fake_flow_service.h"

using namespace t38relay::control;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  (void)calls::DecodeLabel(input);
  t38relay::testing::FakeFlowService fake;
  calls::CallManager::Options options;
  options.clock = [] { return int64_t{1700000000}; };
  calls::CallManager manager(options, &fake);
  // The first byte picks the policy, so every transport path is reached.
  const TransportPolicy policy = static_cast<TransportPolicy>(size > 0 ? data[0] % 4 : 0);
  absl::StatusOr<std::string> offer = manager.Offer({"c", "a", input, policy, size % 2 == 1});
  if (!offer.ok()) {
    if (!fake.legs.empty()) __builtin_trap();
    return 0;
  }
  if (!sdp::ParseSdp(*offer).ok()) __builtin_trap();
  const size_t legs = fake.legs.size();
  absl::StatusOr<std::string> answer = manager.Answer({"c", "a", "b", input});
  if (answer.ok()) {
    if (!sdp::ParseSdp(*answer).ok()) __builtin_trap();
  } else if (fake.legs.size() != legs) {
    __builtin_trap();
  }
  if (!manager.Delete({"c", std::nullopt, std::nullopt}).ok() || !fake.legs.empty()) {
    __builtin_trap();
  }
  return 0;
}
