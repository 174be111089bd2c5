// Micro benchmarks of the per-packet wire work: first-byte demux, DTLS record split, ParseFrame.
#include <array>
#include <cstdint>
#include <vector>

#include "benchmark/benchmark.h"
#include "dataplane/wire/demux.h"
#include "dataplane/wire/dtls_record.h"
#include "dataplane/wire/packet.h"

namespace t38relay::dataplane {
namespace {

// First bytes as they arrive on a DTLS leg with ICE: mostly application data, some STUN
// consent checks, a few stray RTP/UDPTL datagrams.
constexpr std::array<uint8_t, 32> kFirstBytes = {
    23, 23, 23, 0,  23, 23, 23, 23, 1,  23, 128, 23, 23, 22, 23, 23,
    23, 0,  23, 23, 23, 23, 23, 23, 23, 23, 23,  0,  23, 21, 23, 23};

std::vector<std::vector<uint8_t>> MixedDatagrams() {
  std::vector<std::vector<uint8_t>> datagrams;
  for (uint8_t b : kFirstBytes) {
    std::vector<uint8_t> d(124, 0x5A);
    d[0] = b;
    datagrams.push_back(d);
  }
  return datagrams;
}

// One Demux call per datagram of a burst.
void BM_DemuxBurst32(benchmark::State& state) {
  const auto storage = MixedDatagrams();
  std::array<Bytes, 32> burst;
  for (size_t i = 0; i < burst.size(); ++i) burst[i] = storage[i];
  for (auto _ : state) {
    benchmark::DoNotOptimize(burst);
    std::array<DemuxKind, 32> kinds;
    for (size_t i = 0; i < burst.size(); ++i) kinds[i] = Demux(burst[i]);
    benchmark::DoNotOptimize(kinds);
  }
  state.SetItemsProcessed(state.iterations() * 32);
}
BENCHMARK(BM_DemuxBurst32);

// The same burst through DemuxBurst (gather first bytes, then classify them in one loop).
void BM_DemuxBurst32Form(benchmark::State& state) {
  const auto storage = MixedDatagrams();
  std::array<Bytes, 32> burst;
  for (size_t i = 0; i < burst.size(); ++i) burst[i] = storage[i];
  for (auto _ : state) {
    benchmark::DoNotOptimize(burst);
    std::array<DemuxKind, 32> kinds;
    DemuxBurst(burst, kinds.data());
    benchmark::DoNotOptimize(kinds);
  }
  state.SetItemsProcessed(state.iterations() * 32);
}
BENCHMARK(BM_DemuxBurst32Form);

std::vector<uint8_t> DtlsRecordBytes(uint8_t type, uint16_t epoch, uint64_t seq,
                                     const std::vector<uint8_t>& fragment) {
  DtlsRecord r;
  r.content_type = type;
  r.epoch = epoch;
  r.sequence = seq;
  r.length = static_cast<uint16_t>(fragment.size());
  std::vector<uint8_t> out(kDtlsRecordHeaderLength);
  WriteDtlsRecordHeader(r, out);
  out.insert(out.end(), fragment.begin(), fragment.end());
  return out;
}

// A sealed UDPTL datagram: about 100 bytes of plaintext plus the GCM overhead.
void BM_DtlsRecordSplitAppData(benchmark::State& state) {
  const auto datagram =
      DtlsRecordBytes(kDtlsApplicationData, 1, 42, std::vector<uint8_t>(100 + kDtlsGcmOverhead));
  for (auto _ : state) {
    DtlsDatagram d;
    benchmark::DoNotOptimize(SplitDtlsRecords(datagram, &d));
    benchmark::DoNotOptimize(d.count);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DtlsRecordSplitAppData);

// A server flight like OpenSSL's (ServerHello, Certificate, ServerKeyExchange, CertificateRequest,
// ServerHelloDone), split and every handshake header parsed.
void BM_DtlsRecordSplitHandshakeFlight(benchmark::State& state) {
  std::vector<uint8_t> datagram;
  const std::array<std::pair<uint8_t, uint32_t>, 5> messages = {
      {{2, 68}, {11, 684}, {12, 296}, {13, 25}, {14, 0}}};
  uint16_t seq = 0;
  for (const auto& [type, length] : messages) {
    std::vector<uint8_t> hs = {type, 0, static_cast<uint8_t>(length >> 8),
                               static_cast<uint8_t>(length), 0, static_cast<uint8_t>(seq), 0, 0,
                               0, 0, static_cast<uint8_t>(length >> 8),
                               static_cast<uint8_t>(length)};
    hs.resize(12 + length, 0x33);
    const auto record = DtlsRecordBytes(kDtlsHandshake, 0, seq++, hs);
    datagram.insert(datagram.end(), record.begin(), record.end());
  }
  for (auto _ : state) {
    DtlsDatagram d;
    benchmark::DoNotOptimize(SplitDtlsRecords(datagram, &d));
    for (size_t i = 0; i < d.count; ++i) {
      DtlsHandshakeHeader h;
      Bytes rest;
      benchmark::DoNotOptimize(ParseDtlsHandshake(d.records[i].fragment, &h, &rest));
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DtlsRecordSplitHandshakeFlight);

std::vector<uint8_t> UdpFrame(IpFamily family) {
  UdpFrameSpec spec;
  spec.ethernet.dst = {0x02, 0, 0, 0, 0, 0x0b};
  spec.ethernet.src = {0x02, 0, 0, 0, 0, 0x0a};
  if (family == IpFamily::kV4) {
    spec.src = {IpAddress::V4(0xC6120001), 40000};
    spec.dst = {IpAddress::V4(0xC6120002), 50000};
  } else {
    std::array<uint8_t, 16> a = {0x20, 0x01, 0x0d, 0xb8};
    a[15] = 1;
    spec.src = {IpAddress::V6Bytes(a.data()), 40000};
    a[15] = 2;
    spec.dst = {IpAddress::V6Bytes(a.data()), 50000};
  }
  std::vector<uint8_t> payload(100, 0xA5);
  std::vector<uint8_t> frame(256);
  size_t written = 0;
  BuildUdpFrame(spec, payload, frame, &written);
  frame.resize(written);
  return frame;
}

void ParseFrameLoop(benchmark::State& state, const std::vector<uint8_t>& frame) {
  for (auto _ : state) {
    PacketView v;
    benchmark::DoNotOptimize(ParseFrame(LinkType::kEthernet, frame, &v));
    benchmark::DoNotOptimize(v.payload);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(frame.size()));
}

// Ethernet/IPv4/UDP with a 100-byte payload: header and UDP checksums verified.
void BM_ParseFrameIpv4Udp(benchmark::State& state) { ParseFrameLoop(state, UdpFrame(IpFamily::kV4)); }
BENCHMARK(BM_ParseFrameIpv4Udp);

void BM_ParseFrameIpv6Udp(benchmark::State& state) { ParseFrameLoop(state, UdpFrame(IpFamily::kV6)); }
BENCHMARK(BM_ParseFrameIpv6Udp);

}  // namespace
}  // namespace t38relay::dataplane
