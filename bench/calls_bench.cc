// Micro benchmarks of control/offer_answer + control/calls: reading a T.38 DTLS offer, and a whole
// offer + answer + delete through the call manager over a dataplane that answers at once (the
// control-side cost of one call, without the flow socket round trips).
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "control/calls/call_manager.h"
#include "control/offer_answer/offer_answer.h"

namespace t38relay::control::calls {
namespace {

const std::string kOffer =
    "v=0\r\no=- 3919581431 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
    "m=image 40000 UDP/TLS/UDPTL t38\r\na=setup:actpass\r\n"
    "a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:"
    "43:F0:A1:58:D0:A1:2C:19:08\r\na=tls-id:abcdefghijklmnopqrstuvwxyz012345\r\n"
    "a=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\na=T38FaxRateManagement:transferredTCF\r\n"
    "a=T38FaxMaxBuffer:1800\r\na=T38FaxMaxDatagram:400\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n";
const std::string kAnswer =
    "v=0\r\no=- 1 1 IN IP4 198.51.100.20\r\ns=-\r\nc=IN IP4 198.51.100.20\r\nt=0 0\r\n"
    "m=image 7000 udptl t38\r\na=T38FaxVersion:0\r\na=T38FaxMaxDatagram:400\r\n";

// Hands out legs and ports; every other request succeeds.
class NullDataplane : public dataplane::FlowService {
 public:
  dataplane::HelloInfo Hello() override { return {}; }
  absl::StatusOr<dataplane::LegAddResult> AddLeg(const dataplane::LegAddRequest& r) override {
    dataplane::LegAddResult result;
    result.leg = next_++;
    result.local = {dataplane::IpAddress::V4(0xC6120001), static_cast<uint16_t>(next_)};
    if (r.transport == dataplane::LegTransport::kDtls) {
      result.fingerprint = dataplane::FingerprintValue{
          "sha-256",
          "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:"
          "DD:EE:FF:00"};
    }
    return result;
  }
  absl::Status UpdateLeg(const dataplane::LegUpdateRequest&) override { return {}; }
  absl::Status LinkLegs(uint64_t, uint64_t) override { return {}; }
  absl::Status DeleteLeg(uint64_t) override { return {}; }
  absl::StatusOr<dataplane::LegInfo> GetLeg(uint64_t) override { return dataplane::LegInfo{}; }
  std::vector<dataplane::LegInfo> ListLegs() override { return {}; }
  nlohmann::json Stats() override { return nlohmann::json::object(); }

 private:
  uint64_t next_ = 1;
};

void BM_ReadPeerSdp(benchmark::State& state) {
  for (auto _ : state) {
    auto sdp = offer_answer::ReadPeerSdp(kOffer, offer_answer::SdpRole::kOffer);
    benchmark::DoNotOptimize(sdp);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kOffer.size()));
}
BENCHMARK(BM_ReadPeerSdp);

void BM_OfferAnswerDelete(benchmark::State& state) {
  NullDataplane dataplane;
  CallManager::Options options;
  options.clock = [] { return int64_t{1700000000}; };
  CallManager manager(options, &dataplane);
  uint64_t n = 0;
  for (auto _ : state) {
    std::string id = absl::StrCat("call-", n++);
    auto offer = manager.Offer({id, "a", kOffer, TransportPolicy::kPlain, false});
    auto answer = manager.Answer({id, "a", "b", kAnswer});
    benchmark::DoNotOptimize(answer);
    if (!offer.ok() || !answer.ok() || !manager.Delete({id, std::nullopt, std::nullopt}).ok()) {
      state.SkipWithError("offer/answer/delete failed");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_OfferAnswerDelete);

}  // namespace
}  // namespace t38relay::control::calls
