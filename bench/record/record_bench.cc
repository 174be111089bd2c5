// Record layer benchmarks: cryptodev and software seal/open of 128-byte records in bursts of 32,
// 100k legs with a session each, OpenSSL EVP one record at a time, and the memory of a leg.
// Items are records, so items_per_second is records/s.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <rte_mbuf.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dataplane/eal_args.h"
#include "crypto/cryptodev/cryptodev_backend.h"
#include "crypto/record/record_mbuf.h"
#include "crypto/record/record_protector.h"
#include "crypto/soft/soft_backend.h"

namespace t38relay::crypto {
namespace {

constexpr uint16_t kBurst = 32;
constexpr uint16_t kPlaintext = 128;  // a UDPTL packet of T.38 image data
constexpr uint32_t kFlows = 100'000;
constexpr uint16_t kMaxRecordBytes = kPlaintext + kRecordOverhead;

DtlsRecordKeys Keys(uint32_t flow, bool peer = false) {
  DtlsRecordKeys keys;
  for (size_t i = 0; i < 16; ++i) {
    keys.send.key[i] = static_cast<uint8_t>(flow + i);
    keys.receive.key[i] = static_cast<uint8_t>((flow >> 8) + 3 * i);
  }
  keys.send.salt = {1, 2, 3, static_cast<uint8_t>(flow)};
  keys.receive.salt = {4, 5, 6, static_cast<uint8_t>(flow)};
  if (peer) std::swap(keys.send, keys.receive);
  return keys;
}

// Everything the cryptodev benchmarks share: built once, after EAL started.
struct Cryptodev {
  std::unique_ptr<CryptodevDevice> device;
  rte_mempool* mbufs = nullptr;
};

Cryptodev& Dev() {
  static Cryptodev dev = [] {
    Cryptodev d;
    CryptodevConfig config;
    // crypto_aesni_gcm0 by default; T38_BENCH_CRYPTODEV=crypto_aesni_mb0 compares the other PMD.
    const char* name = std::getenv("T38_BENCH_CRYPTODEV");
    config.device = name != nullptr ? name : "crypto_aesni_gcm0";
    config.max_keys = 2 * kFlows + 64;  // send and receive session per leg
    absl::StatusOr<std::unique_ptr<CryptodevDevice>> device = CryptodevDevice::Open(config);
    if (!device.ok()) {
      std::fprintf(stderr, "%s\n", std::string(device.status().message()).c_str());
      std::exit(1);
    }
    d.device = std::move(*device);
    d.mbufs = rte_pktmbuf_pool_create("bench_mbufs", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                      SOCKET_ID_ANY);
    if (d.mbufs == nullptr) std::exit(1);
    return d;
  }();
  return dev;
}

// kBurst mbufs holding framed 128-byte plaintexts.
std::vector<rte_mbuf*> FramedMbufs() {
  std::vector<rte_mbuf*> m(kBurst);
  if (rte_pktmbuf_alloc_bulk(Dev().mbufs, m.data(), kBurst) != 0) std::exit(1);
  for (rte_mbuf* b : m) std::memset(rte_pktmbuf_append(b, kMaxRecordBytes), 0x42, kMaxRecordBytes);
  return m;
}

void SealBursts(benchmark::State& state, RecordProtector& protector, std::vector<RecordLeg*> legs,
                const std::vector<uint32_t>& leg_order) {
  std::vector<rte_mbuf*> m = FramedMbufs();
  RecordJob jobs[kBurst];
  size_t next = 0;
  for (auto _ : state) {
    for (uint16_t i = 0; i < kBurst; ++i) {
      jobs[i] = RecordJobFor(legs[leg_order[next]], m[i]);
      next = next + 1 == leg_order.size() ? 0 : next + 1;
    }
    if (protector.Seal(jobs, kBurst) != kBurst) state.SkipWithError("seal failed");
  }
  rte_pktmbuf_free_bulk(m.data(), kBurst);
  state.SetItemsProcessed(state.iterations() * kBurst);
}

void BM_RecordSealCryptodev(benchmark::State& state) {
  RecordProtector protector(Dev().device->queue(0), RecordOptions{});
  RecordLeg leg;
  if (!protector.Install(leg, Keys(1), 0).ok()) return state.SkipWithError("install");
  SealBursts(state, protector, {&leg}, {0});
  protector.Release(leg);
}
BENCHMARK(BM_RecordSealCryptodev);

// Opening needs fresh records every burst (a replayed one is refused before any crypto), so the
// peer re-seals them between bursts and only Open is timed (manual time from steady_clock, a
// vDSO read; the thread CPU clock is a system call that would cost more than it measures).

void OpenBursts(benchmark::State& state, AeadBackend& backend, bool mbufs) {
  RecordProtector protector(backend, RecordOptions{});
  RecordLeg sender, receiver;
  if (!protector.Install(sender, Keys(2), 0).ok() ||
      !protector.Install(receiver, Keys(2, true), 0).ok()) {
    return state.SkipWithError("install");
  }
  std::vector<rte_mbuf*> m;
  std::vector<std::vector<uint8_t>> raw(kBurst, std::vector<uint8_t>(kMaxRecordBytes, 0x42));
  if (mbufs) m = FramedMbufs();
  RecordJob jobs[kBurst];
  auto job = [&](RecordLeg* leg, uint16_t i) {
    if (mbufs) return RecordJobFor(leg, m[i]);
    RecordJob j;
    j.leg = leg;
    j.record = raw[i].data();
    j.record_length = kMaxRecordBytes;
    return j;
  };
  for (auto _ : state) {
    for (uint16_t i = 0; i < kBurst; ++i) jobs[i] = job(&sender, i);
    protector.Seal(jobs, kBurst);
    for (uint16_t i = 0; i < kBurst; ++i) jobs[i] = job(&receiver, i);
    const auto start = std::chrono::steady_clock::now();
    const uint16_t ok = protector.Open(jobs, kBurst, 0);
    const auto end = std::chrono::steady_clock::now();
    if (ok != kBurst) state.SkipWithError("open failed");
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
  }
  if (mbufs) rte_pktmbuf_free_bulk(m.data(), kBurst);
  protector.Release(sender);
  protector.Release(receiver);
  state.SetItemsProcessed(state.iterations() * kBurst);
}

void BM_RecordOpenCryptodev(benchmark::State& state) {
  OpenBursts(state, Dev().device->queue(0), true);
}
BENCHMARK(BM_RecordOpenCryptodev)->UseManualTime();

void BM_RecordSealCryptodev100kFlows(benchmark::State& state) {
  RecordProtector protector(Dev().device->queue(0), RecordOptions{});
  std::vector<RecordLeg> legs(kFlows);
  std::vector<RecordLeg*> leg_ptrs;
  for (uint32_t f = 0; f < kFlows; ++f) {
    if (!protector.Install(legs[f], Keys(f), 0).ok()) return state.SkipWithError("install");
    leg_ptrs.push_back(&legs[f]);
  }
  std::mt19937 rng(1);
  std::vector<uint32_t> order(1 << 20);
  for (uint32_t& o : order) o = rng() % kFlows;
  SealBursts(state, protector, leg_ptrs, order);
  for (RecordLeg& leg : legs) protector.Release(leg);
}
BENCHMARK(BM_RecordSealCryptodev100kFlows);

// The obvious alternative: one EVP call sequence per record, key schedule kept in the context.
void BM_RecordSealOpensslEvp(benchmark::State& state) {
  const DtlsRecordKeys keys = Keys(3);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, keys.send.key.data(), nullptr);
  std::vector<uint8_t> record(kMaxRecordBytes, 0x42);
  uint64_t sequence = 1;
  for (auto _ : state) {
    uint8_t* r = record.data();
    const uint8_t header[13] = {23, 0xFE, 0xFD, 0, 1, 0, 0, static_cast<uint8_t>(sequence >> 24),
                                static_cast<uint8_t>(sequence >> 16),
                                static_cast<uint8_t>(sequence >> 8),
                                static_cast<uint8_t>(sequence), 0, kPlaintext + 24};
    std::memcpy(r, header, 13);
    std::memcpy(r + 13, header + 3, 8);
    uint8_t iv[12];
    std::memcpy(iv, keys.send.salt.data(), 4);
    std::memcpy(iv + 4, header + 3, 8);
    const uint8_t aad[13] = {header[3], header[4], header[5], header[6], header[7], header[8],
                             header[9], header[10], 23, 0xFE, 0xFD, 0, kPlaintext};
    int n = 0;
    EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv);
    EVP_EncryptUpdate(ctx, nullptr, &n, aad, sizeof(aad));
    EVP_EncryptUpdate(ctx, r + 21, &n, r + 21, kPlaintext);
    EVP_EncryptFinal_ex(ctx, r + 21 + kPlaintext, &n);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, r + 21 + kPlaintext);
    benchmark::DoNotOptimize(record.data());
    ++sequence;
  }
  EVP_CIPHER_CTX_free(ctx);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordSealOpensslEvp);

void BM_RecordSealSoft(benchmark::State& state) {
  SoftBackend backend;
  RecordProtector protector(backend, RecordOptions{});
  RecordLeg leg;
  if (!protector.Install(leg, Keys(4), 0).ok()) return state.SkipWithError("install");
  std::vector<std::vector<uint8_t>> raw(kBurst, std::vector<uint8_t>(kMaxRecordBytes, 0x42));
  RecordJob jobs[kBurst];
  for (auto _ : state) {
    for (uint16_t i = 0; i < kBurst; ++i) {
      jobs[i] = RecordJob{.leg = &leg, .mbuf = nullptr, .record = raw[i].data(),
                          .record_length = kMaxRecordBytes};
    }
    if (protector.Seal(jobs, kBurst) != kBurst) state.SkipWithError("seal failed");
  }
  protector.Release(leg);
  state.SetItemsProcessed(state.iterations() * kBurst);
}
BENCHMARK(BM_RecordSealSoft);

void BM_RecordOpenSoft(benchmark::State& state) {
  SoftBackend backend;
  OpenBursts(state, backend, false);
}
BENCHMARK(BM_RecordOpenSoft)->UseManualTime();

// Bytes per established leg: the RecordLeg itself plus its two cryptodev sessions (send, current
// receive), each a whole session-mempool element (object header, session header, PMD private
// data, trailer) as rte_mempool accounts it. During a rekey's grace period a third session is
// held (bytes_per_leg_in_grace). The loop times installing and releasing a leg's keys.
void BM_RecordLegMemory(benchmark::State& state) {
  CryptodevQueue& queue = Dev().device->queue(0);
  RecordProtector protector(queue, RecordOptions{.previous_epoch_grace = 1});
  RecordLeg leg;
  const size_t before = Dev().device->live_keys();
  if (!protector.Install(leg, Keys(5), 0).ok()) return state.SkipWithError("install");
  const size_t sessions = Dev().device->live_keys() - before;
  protector.Release(leg);
  for (auto _ : state) {
    if (!protector.Install(leg, Keys(5), 0).ok()) state.SkipWithError("install");
    protector.Release(leg);
  }
  const double session_bytes = static_cast<double>(queue.KeyMemoryBytes());
  state.counters["record_leg_bytes"] = sizeof(RecordLeg);
  state.counters["session_bytes"] = session_bytes;
  state.counters["bytes_per_leg"] = sizeof(RecordLeg) + sessions * session_bytes;
  state.counters["bytes_per_leg_in_grace"] = sizeof(RecordLeg) + (sessions + 1) * session_bytes;
  state.counters["soft_key_bytes"] = SoftBackend().KeyMemoryBytes();
}
BENCHMARK(BM_RecordLegMemory);

bool StartBenchEal() {
  // 200k sessions of ~1.2 KB and the pools: 1 GB.
  const std::string error = dataplane::StartEal(dataplane::EalArgs(
      "record_bench", 1024, {"--vdev=crypto_aesni_gcm0", "--vdev=crypto_aesni_mb0"}));
  if (!error.empty()) std::fprintf(stderr, "%s\n", error.c_str());
  return error.empty();
}

}  // namespace
}  // namespace t38relay::crypto

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (!t38relay::crypto::StartBenchEal()) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
