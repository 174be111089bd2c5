// Micro benchmarks of the STUN codec and CRC-32: the per-Binding-request work of the dataplane.
#include <array>
#include <cstdint>
#include <string_view>

#include "benchmark/benchmark.h"
#include "dataplane/wire/crc32.h"
#include "dataplane/wire/stun.h"

namespace t38relay::dataplane {
namespace {

// RFC 5769 section 2.1: a Binding request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME,
// MESSAGE-INTEGRITY and FINGERPRINT, the shape of an ICE connectivity check.
constexpr std::array<uint8_t, 108> kRequest = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};

constexpr std::string_view kPassword = "VOkJxbRl1RmTxUk/WvJxBt";

Bytes PasswordBytes() {
  return Bytes(reinterpret_cast<const uint8_t*>(kPassword.data()), kPassword.size());
}

void BM_StunIsStunMessage(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(IsStunMessage(kRequest));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StunIsStunMessage);

void BM_StunParse(benchmark::State& state) {
  StunMessage m;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseStun(kRequest, &m));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StunParse);

// What the dataplane does per Binding request before answering it.
void BM_StunVerifyRequest(benchmark::State& state) {
  StunMessage m;
  const Bytes password = PasswordBytes();
  for (auto _ : state) {
    if (ParseStun(kRequest, &m) != WireError::kOk ||
        VerifyMessageIntegrity(m, password) != WireError::kOk ||
        VerifyFingerprint(m) != WireError::kOk) {
      state.SkipWithError("RFC 5769 2.1 request did not verify");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StunVerifyRequest);

void BM_StunBuildBindingSuccessResponse(benchmark::State& state) {
  const Bytes transaction_id = Bytes(kRequest).subspan(8, kStunTransactionIdSize);
  const SocketAddress mapped{IpAddress::V4(0xC0000201), 32853};
  const Bytes password = PasswordBytes();
  std::array<uint8_t, 128> out;
  size_t length = 0;
  for (auto _ : state) {
    if (BuildBindingSuccessResponse(transaction_id, mapped, password, out, &length) !=
        WireError::kOk) {
      state.SkipWithError("build failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StunBuildBindingSuccessResponse);

void BM_StunCrc32_100Bytes(benchmark::State& state) {
  std::array<uint8_t, 100> data;
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  for (auto _ : state) {
    benchmark::DoNotOptimize(Crc32(data));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size()));
}
BENCHMARK(BM_StunCrc32_100Bytes);

}  // namespace
}  // namespace t38relay::dataplane
