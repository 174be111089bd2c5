// Micro benchmarks of the UDPTL and T.38 IFP codecs (dataplane/wire/udptl.h, t38_ifp.h).
#include <string_view>
#include <vector>

#include "benchmark/benchmark.h"
#include "dataplane/wire/t38_ifp.h"
#include "dataplane/wire/udptl.h"

namespace t38relay::dataplane {
namespace {

// Frame 300 of t38_spandsp_ecm_red3.pcap: seq 212, an ECM HDLC chunk at V.17 14400 (49 octets)
// and three 59-octet secondaries; 234 octets, the typical packet of that capture.
constexpr std::string_view kEcmRed3Hex =
    "00d431d00180002b6db6db6db6db6db6db6d888888888888888888888b95bf777777f17c7b3d9ecf67b3d9ec"
    "f67b3d9ecf67b3d900033bd001800035c4711c4711c4711c4711c4711c4711df457068838ed2a209188c4552"
    "2dd4676a48c23b528a1184497b2b0ac2b0ac2adb6db6db6db6db3bd0018000354c2388e2399bcde6f379bcde"
    "6f379bcde6f379bd9ecf67b3d9ecf67b3d9ecf6526472115ddffffffffffffd9c4711c4711c4711c47113bd0"
    "018000359ecf67b3d9ecf67b3d9ecf67b3d9ecf67b3d9ecf67b3a663fffffffffffffe222222222222222221"
    "9482b0ac2b0ac2b0ac2b0ac2932e";

std::vector<uint8_t> Unhex(std::string_view hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    out.push_back(static_cast<uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

const std::vector<uint8_t>& EcmRed3() {
  static const std::vector<uint8_t> bytes = Unhex(kEcmRed3Hex);
  return bytes;
}

void BM_UdptlDecode(benchmark::State& state) {
  const std::vector<uint8_t>& in = EcmRed3();
  UdptlPacket p;
  for (auto _ : state) {
    benchmark::DoNotOptimize(DecodeUdptl(in, &p));
    benchmark::DoNotOptimize(p);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.size()));
}
BENCHMARK(BM_UdptlDecode);

void BM_UdptlDecodeHeader(benchmark::State& state) {
  const std::vector<uint8_t>& in = EcmRed3();
  UdptlHeader h;
  for (auto _ : state) {
    benchmark::DoNotOptimize(DecodeUdptlHeader(in, &h));
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(BM_UdptlDecodeHeader);

void BM_UdptlEncode(benchmark::State& state) {
  UdptlPacket p;
  if (DecodeUdptl(EcmRed3(), &p) != WireError::kOk) state.SkipWithError("decode failed");
  std::vector<uint8_t> out(2048);
  size_t written = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(EncodeUdptl(p, out, &written));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * written));
}
BENCHMARK(BM_UdptlEncode);

void BM_UdptlIfpDecode(benchmark::State& state) {
  UdptlPacket p;
  if (DecodeUdptl(EcmRed3(), &p) != WireError::kOk) state.SkipWithError("decode failed");
  IfpPacket ifp;
  for (auto _ : state) {
    benchmark::DoNotOptimize(DecodeIfp(p.primary, IfpVariant::k1998, &ifp));
    benchmark::DoNotOptimize(ifp);
  }
}
BENCHMARK(BM_UdptlIfpDecode);

// FEC span 3 over the packet's four IFPs and two copies (3 entries would need 9): rebuild one.
void BM_UdptlFecRecover(benchmark::State& state) {
  UdptlPacket red;
  if (DecodeUdptl(EcmRed3(), &red) != WireError::kOk) state.SkipWithError("decode failed");
  const Bytes previous[] = {red.secondaries()[0], red.secondaries()[1], red.secondaries()[2],
                            red.primary,          red.secondaries()[0], red.secondaries()[1]};
  std::vector<uint8_t> scratch(4096);
  UdptlPacket fec;
  fec.seq = 1000;
  fec.primary = red.primary;
  if (BuildUdptlFec(previous, 3, 2, scratch, &fec) != WireError::kOk) {
    state.SkipWithError("FEC build failed");
  }
  std::vector<Bytes> group;
  for (size_t k = 0; k < 3; ++k) {
    const uint16_t covered = FecCoveredSeq(fec.seq, fec.fec_span, fec.fec_count, 0, k);
    group.push_back(previous[static_cast<uint16_t>(fec.seq - 1 - covered)]);
  }
  std::vector<uint8_t> out(kMaxIfpLength);
  size_t length = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(RecoverUdptlFec(fec, 0, group, 1, IfpVariant::k1998, out, &length));
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_UdptlFecRecover);

}  // namespace
}  // namespace t38relay::dataplane
