// Micro benchmarks of the JSON-lines protocols control speaks: an offer request parsed by the
// control socket, and a leg.add reply and LEGOBJ parsed by FlowClient (per-offer work).
#include <string>

#include "benchmark/benchmark.h"
#include "control/api/control_protocol.h"
#include "dataplane/flowsock/protocol.h"
#include "nlohmann/json.hpp"

namespace t38relay::control {
namespace {

using json = nlohmann::json;

// An RFC 7345 appendix A style offer (T.38 over DTLS) inside an offer request.
std::string OfferLine() {
  const std::string sdp =
      "v=0\r\no=- 2890844526 2890842807 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"
      "t=0 0\r\nm=image 6000 UDP/TLS/UDPTL t38\r\na=setup:actpass\r\n"
      "a=fingerprint:sha-256 "
      "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:"
      "67:89\r\na=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\na=T38FaxRateManagement:transferredTCF"
      "\r\na=T38FaxMaxBuffer:262\r\na=T38FaxMaxDatagram:176\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n";
  return json{{"v", 1},
              {"id", 17},
              {"cmd", "offer"},
              {"call_id", "a84b4c76e66710@pc33.atlanta.com"},
              {"from_tag", "1928301774"},
              {"sdp", sdp},
              {"transport", "dtls"}}
      .dump();
}

void BM_ParseOfferRequest(benchmark::State& state) {
  const std::string line = OfferLine();
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseControlRequest(line));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(line.size()));
}
BENCHMARK(BM_ParseOfferRequest);

void BM_ParseLegAddResult(benchmark::State& state) {
  dataplane::LegAddResult result;
  result.leg = 7;
  result.local = {*dataplane::ParseIpAddress("198.18.0.1"), 20007};
  result.fingerprint = dataplane::FingerprintValue{
      "sha-256",
      "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:"
      "67:89"};
  const std::string line = dataplane::FormatReply(3, dataplane::LegAddResultToJson(result));
  for (auto _ : state) {
    // What FlowClient does per reply: JSON text -> object -> typed result.
    json j = json::parse(line, nullptr, false);
    benchmark::DoNotOptimize(dataplane::ParseLegAddResult(j));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseLegAddResult);

void BM_ParseLegInfo(benchmark::State& state) {
  dataplane::LegInfo info;
  info.leg = 42;
  info.transport = dataplane::LegTransport::kDtls;
  info.state = dataplane::LegState::kEstablished;
  info.local = {*dataplane::ParseIpAddress("198.18.0.1"), 20042};
  info.remote = dataplane::SocketAddress{*dataplane::ParseIpAddress("198.18.0.7"), 5004};
  info.setup = dataplane::DtlsSetup::kPassive;
  info.role = dataplane::DtlsRole::kServer;
  info.label = R"({"call_id":"a84b4c76e66710@pc33.atlanta.com","side":"caller"})";
  info.counters.drops = {{"replay", 1}, {"auth", 2}};
  const json j = dataplane::LegInfoToJson(info);
  for (auto _ : state) {
    benchmark::DoNotOptimize(dataplane::ParseLegInfo(j));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseLegInfo);

}  // namespace
}  // namespace t38relay::control
