// Micro benchmarks of control/sip: what control does per offer or answer that arrives as a whole
// SIP message (parse, then take the SDP out).
#include <string>

#include "benchmark/benchmark.h"
#include "control/sip/sip_message.h"

namespace t38relay::control::sip {
namespace {

// A re-INVITE switching to T.38 over DTLS (RFC 7345 appendix A shape) as a proxy would hand it.
constexpr const char* kHeaders =
    "INVITE sip:bob@192.0.2.20:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK-524287-1---8a1f9c\r\n"
    "Max-Forwards: 70\r\n"
    "Contact: <sip:alice@198.51.100.1:5060>\r\n"
    "To: <sip:bob@example.com>;tag=as5d3f0a1c\r\n"
    "From: \"Alice\" <sip:alice@example.com>;tag=9fxced76sl\r\n"
    "Call-ID: 3848276298220188511@198.51.100.1\r\n"
    "CSeq: 2 INVITE\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE\r\n"
    "Supported: timer, replaces\r\n"
    "User-Agent: t38relay-bench\r\n"
    "Content-Type: application/sdp\r\n";
constexpr const char* kSdp =
    "v=0\r\n"
    "o=alice 2890844526 2890844527 IN IP4 198.51.100.1\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.1\r\n"
    "t=0 0\r\n"
    "m=audio 0 RTP/AVP 0\r\n"
    "m=image 54111 UDP/TLS/UDPTL t38\r\n"
    "a=setup:actpass\r\n"
    "a=fingerprint:sha-256 12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:"
    "3E:5D:49:6B:19:E5:7C:AB:4A:AD\r\n"
    "a=tls-id:abc3de65cddef001be82\r\n"
    "a=T38FaxVersion:2\r\n"
    "a=T38MaxBitRate:14400\r\n"
    "a=T38FaxRateManagement:transferredTCF\r\n"
    "a=T38FaxMaxBuffer:262\r\n"
    "a=T38FaxMaxDatagram:400\r\n"
    "a=T38FaxUdpEC:t38UDPRedundancy\r\n";
const std::string kInvite = std::string(kHeaders) + "Content-Length: " +
                            std::to_string(std::string(kSdp).size()) + "\r\n\r\n" + kSdp;

void BM_SipExtractFromBody(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<ExtractedSdp> e = ExtractFromBody(kInvite);
    if (!e.ok()) {
      state.SkipWithError(std::string(e.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(e->sdp.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kInvite.size()));
}
BENCHMARK(BM_SipExtractFromBody);

void BM_SipParseMessage(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<SipMessage> m = ParseSipMessage(kInvite);
    benchmark::DoNotOptimize(m.ok());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SipParseMessage);

}  // namespace
}  // namespace t38relay::control::sip
