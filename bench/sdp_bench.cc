// Micro benchmarks of control/sdp: parse and write of a typical T.38 offer over DTLS (RFC 7345),
// the per-offer SDP work of the control process.
#include <string>
#include <string_view>

#include "benchmark/benchmark.h"
#include "control/sdp/attributes.h"
#include "control/sdp/sdp.h"
#include "control/sdp/t38_params.h"

namespace t38relay::control::sdp {
namespace {

// tests/data/sdp/t38_dtls_offer.sdp
constexpr std::string_view kOffer =
    "v=0\r\n"
    "o=- 3919581431 1 IN IP4 192.0.2.10\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "m=image 40000 UDP/TLS/UDPTL t38\r\n"
    "a=setup:actpass\r\n"
    "a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:"
    "43:F0:A1:58:D0:A1:2C:19:08\r\n"
    "a=tls-id:abcdefghijklmnopqrstuvwxyz012345\r\n"
    "a=T38FaxVersion:0\r\n"
    "a=T38MaxBitRate:14400\r\n"
    "a=T38FaxRateManagement:transferredTCF\r\n"
    "a=T38FaxMaxBuffer:1800\r\n"
    "a=T38FaxMaxDatagram:400\r\n"
    "a=T38FaxUdpEC:t38UDPRedundancy\r\n"
    "a=T38FaxUdpECDepth:1 2\r\n"
    "a=T38VendorInfo:0 0 0\r\n";

void BM_SdpParse(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<SessionDescription> sd = ParseSdp(kOffer);
    if (!sd.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(sd);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kOffer.size()));
}
BENCHMARK(BM_SdpParse);

void BM_SdpWrite(benchmark::State& state) {
  const SessionDescription sd = *ParseSdp(kOffer);
  for (auto _ : state) {
    std::string out = WriteSdp(sd);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kOffer.size()));
}
BENCHMARK(BM_SdpWrite);

// Parse, read fingerprint/setup/T.38, rewrite port and attributes, write: one leg of an offer.
void BM_SdpParseRewriteWrite(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<SessionDescription> sd = ParseSdp(kOffer);
    if (!sd.ok()) state.SkipWithError("parse failed");
    MediaDescription& m = sd->media[0];
    absl::StatusOr<std::vector<Fingerprint>> fps = GetFingerprints(*sd, m);
    absl::StatusOr<std::optional<SetupRole>> setup = GetSetupRole(*sd, m);
    absl::StatusOr<T38Params> t38 = ParseT38Params(m);
    if (!fps.ok() || !setup.ok() || !t38.ok()) state.SkipWithError("attributes failed");
    m.port = 50000;
    m.SetAttribute("setup", "active");
    t38->max_datagram = 363;
    SetT38Params(*t38, &m);
    std::string out = WriteSdp(*sd);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SdpParseRewriteWrite);

}  // namespace
}  // namespace t38relay::control::sdp
