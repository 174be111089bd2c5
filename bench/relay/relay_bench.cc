// Relay benchmarks: the real Worker forwarding UDPTL between linked legs (DTLS<->DTLS over 10k and
// 100k legs, DTLS<->plain, plain<->plain) fed by a generator on the other lcore, latency at half
// of the peak rate, the crypto limit (RecordProtector::Open over 10k legs) of the same run, and
// leg.add over the real flow socket of a real Relay. Items are frames delivered at the sink,
// records opened, or legs added. Needs two CPUs: EAL lcore 0 (generator, sink, flow socket
// client) on CPU 0, the worker lcore 1 (and the Relay's handshake lcore 2) on CPU 1.
#include <benchmark/benchmark.h>
#include <rte_lcore.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/relay/relay_rig.h"
#include "crypto/record/record_mbuf.h"
#include "dataplane/eal_args.h"
#include "dataplane/relay/relay.h"
#include "nlohmann/json.hpp"

namespace t38relay::dataplane::bench {
namespace {

constexpr double kWarmupS = 0.05;
constexpr double kWindowS = 0.3;  // per iteration; three iterations per repetition

void ReportTraffic(benchmark::State& state, const std::vector<TrafficResult>& runs,
                   uint32_t legs) {
  uint64_t delivered = 0, drops = 0, punted = 0, checked = 0, failed = 0;
  double empty = 0, backpressure = 0, worker_cpu = 0, generator_cpu = 0;
  for (const TrafficResult& r : runs) {
    worker_cpu += r.worker_cpu_share;
    generator_cpu += r.generator_cpu_share;
    delivered += r.delivered;
    drops += r.drops;
    punted += r.punted;
    checked += r.samples_checked;
    failed += r.samples_failed;
    empty += r.rx_ring_empty;
    backpressure += r.backpressure;
  }
  const double n = runs.empty() ? 1 : static_cast<double>(runs.size());
  state.SetItemsProcessed(static_cast<int64_t>(delivered));
  state.counters["legs"] = legs;
  state.counters["drops"] = static_cast<double>(drops);
  if (punted != 0) state.counters["punted"] = static_cast<double>(punted);
  state.counters["samples_decrypted"] = static_cast<double>(checked);
  state.counters["rx_ring_empty"] = empty / n;
  state.counters["gen_backpressure"] = backpressure / n;
  state.counters["worker_cpu_share"] = worker_cpu / n;
  state.counters["gen_cpu_share"] = generator_cpu / n;
  if (failed != 0) state.SkipWithError("a sampled frame did not decrypt to the UDPTL sent");
}

// One iteration: a window of kWindowS at full speed; the manual time is the window.
bool RunWindow(benchmark::State& state, RelayRig& rig, std::vector<TrafficResult>& runs) {
  TrafficResult r = rig.Run(kWarmupS, kWindowS);
  state.SetIterationTime(r.seconds);
  runs.push_back(r);
  if (r.sink_total != r.worker_tx || r.worker_rx != r.generated) {
    state.SkipWithError(absl::StrCat("frames unaccounted for: generated ", r.generated,
                                     ", worker rx ", r.worker_rx, " tx ", r.worker_tx,
                                     ", sink ", r.sink_total).c_str());
    return false;
  }
  return true;
}

void RelayThroughput(benchmark::State& state, uint32_t legs, LegPairKind kind,
                     uint32_t hello_every = 0) {
  absl::StatusOr<std::unique_ptr<RelayRig>> rig =
      RelayRig::Create({.legs = legs, .kind = kind, .hello_every = hello_every});
  if (!rig.ok()) return state.SkipWithError(std::string(rig.status().message()).c_str());
  std::vector<TrafficResult> runs;
  for (auto _ : state) {
    if (!RunWindow(state, **rig, runs)) break;
  }
  ReportTraffic(state, runs, legs);
}

void BM_RelayDtlsDtls10kLegs(benchmark::State& state) {
  RelayThroughput(state, 10'000, LegPairKind::kDtlsDtls);
}
BENCHMARK(BM_RelayDtlsDtls10kLegs)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_RelayDtlsDtls100kLegs(benchmark::State& state) {
  RelayThroughput(state, 100'000, LegPairKind::kDtlsDtls);
}
BENCHMARK(BM_RelayDtlsDtls100kLegs)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

// The same under a ClientHello flood: one frame in 8 is a ClientHello to an established leg
// (handed to the handshake lcore). Established legs' throughput is what it reports; the target is
// at least 90% of BM_RelayDtlsDtls10kLegs's in the same run.
void BM_RelayDtlsDtlsHelloFlood10kLegs(benchmark::State& state) {
  RelayThroughput(state, 10'000, LegPairKind::kDtlsDtls, /*hello_every=*/8);
}
BENCHMARK(BM_RelayDtlsDtlsHelloFlood10kLegs)
    ->UseManualTime()
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

// Half the legs DTLS, half plain: every frame is opened or sealed once.
void BM_RelayDtlsPlain10kLegs(benchmark::State& state) {
  RelayThroughput(state, 10'000, LegPairKind::kDtlsPlain);
}
BENCHMARK(BM_RelayDtlsPlain10kLegs)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

void BM_RelayPlainPlain10kLegs(benchmark::State& state) {
  RelayThroughput(state, 10'000, LegPairKind::kPlainPlain);
}
BENCHMARK(BM_RelayPlainPlain10kLegs)->UseManualTime()->Iterations(3)->Unit(benchmark::kMillisecond);

// DTLS<->DTLS over 10k legs: the peak first, then frames paced one by one at half of it; each
// frame's latency runs from the generator's enqueue on the RX ring to the sink's dequeue from the
// TX ring (TSC in an mbuf field; both ends on the same lcore).
void BM_RelayLatencyHalfPeak10kLegs(benchmark::State& state) {
  absl::StatusOr<std::unique_ptr<RelayRig>> rig =
      RelayRig::Create({.legs = 10'000, .kind = LegPairKind::kDtlsDtls});
  if (!rig.ok()) return state.SkipWithError(std::string(rig.status().message()).c_str());
  const double peak = (*rig)->Run(kWarmupS, kWindowS).mpps();
  std::vector<TrafficResult> runs;
  for (auto _ : state) {
    TrafficResult r = (*rig)->Run(kWarmupS, 1.0, peak / 2 * 1e6);
    state.SetIterationTime(r.seconds);
    runs.push_back(r);
  }
  ReportTraffic(state, runs, 10'000);
  if (!runs.empty()) {
    state.counters["peak_mpps"] = peak;
    state.counters["offered_mpps"] = peak / 2;
    state.counters["p50_us"] = runs.back().p50_us;
    state.counters["p99_us"] = runs.back().p99_us;
    state.counters["p999_us"] = runs.back().p999_us;
    state.counters["p99_all_frames_us"] = runs.back().p99_all_us;
    state.counters["gen_stalls_per_s"] = runs.back().generator_stalls_per_s;
    state.counters["gen_stall_max_us"] = runs.back().generator_stall_max_us;
  }
}
BENCHMARK(BM_RelayLatencyHalfPeak10kLegs)
    ->UseManualTime()
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// The crypto limit of the DTLS<->DTLS figure, same process and run: RecordProtector::Open on the
// worker's cryptodev queue, 128-byte records, bursts of 32 over 10k legs in shuffled order. The
// records are sealed by the legs' peers between bursts, untimed (as BM_RecordOpenCryptodev does
// for one leg). A relayed frame costs an open and a seal, so the relay's ceiling is about half.
void BM_CryptoLimitOpen10kLegs(benchmark::State& state) {
  constexpr uint32_t kLegs = 10'000;
  constexpr uint16_t kBurst = 32;
  crypto::CryptodevQueue& queue = BenchCryptodev().queue(0);
  crypto::RecordProtector protector(queue, crypto::RecordOptions{});
  std::vector<crypto::RecordLeg> receivers(kLegs), senders(kLegs);
  for (uint32_t i = 0; i < kLegs; ++i) {
    if (!protector.Install(receivers[i], BenchLegKeys(i, false), 0).ok() ||
        !protector.Install(senders[i], BenchLegKeys(i, true), 0).ok()) {
      return state.SkipWithError("install");
    }
  }
  const std::vector<uint32_t> order = ShuffledLegOrder(kLegs);
  rte_mempool* pool = rte_pktmbuf_pool_create(UniqueName("climit").c_str(), 63, 0, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  rte_mbuf* m[kBurst];
  if (pool == nullptr || rte_pktmbuf_alloc_bulk(pool, m, kBurst) != 0) {
    return state.SkipWithError("mbufs");
  }
  for (rte_mbuf* b : m) {
    std::memset(rte_pktmbuf_append(b, kUdptlBytes + crypto::kRecordOverhead), 0x42,
                kUdptlBytes + crypto::kRecordOverhead);
  }
  crypto::RecordJob jobs[kBurst];
  size_t next = 0;
  for (auto _ : state) {
    const size_t first = next;
    for (uint16_t i = 0; i < kBurst; ++i) {
      jobs[i] = crypto::RecordJobFor(&senders[order[next]], m[i]);
      next = next + 1 == order.size() ? 0 : next + 1;
    }
    protector.Seal(jobs, kBurst);
    next = first;
    for (uint16_t i = 0; i < kBurst; ++i) {
      jobs[i] = crypto::RecordJobFor(&receivers[order[next]], m[i]);
      next = next + 1 == order.size() ? 0 : next + 1;
    }
    const auto start = std::chrono::steady_clock::now();
    const uint16_t ok = protector.Open(jobs, kBurst, 0);
    const auto end = std::chrono::steady_clock::now();
    if (ok != kBurst) state.SkipWithError("open failed");
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
  }
  rte_pktmbuf_free_bulk(m, kBurst);
  rte_mempool_free(pool);
  for (uint32_t i = 0; i < kLegs; ++i) {
    protector.Release(receivers[i]);
    protector.Release(senders[i]);
  }
  state.SetItemsProcessed(state.iterations() * kBurst);
}
BENCHMARK(BM_CryptoLimitOpen10kLegs)->UseManualTime();

// A blocking client of the flow socket: one JSON line out, one line back.
class FlowSocketClient {
 public:
  ~FlowSocketClient() {
    if (fd_ >= 0) close(fd_);
  }
  bool Connect(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
    return fd_ >= 0 &&
           connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  bool Send(const std::string& lines) {
    size_t done = 0;
    while (done < lines.size()) {
      ssize_t n = write(fd_, lines.data() + done, lines.size() - done);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  // The next reply line (without "\n"), or "" when the connection broke.
  std::string ReadLine() {
    for (;;) {
      size_t newline = buffer_.find('\n', start_);
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(start_, newline - start_);
        start_ = newline + 1;
        if (start_ == buffer_.size()) {
          buffer_.clear();
          start_ = 0;
        }
        return line;
      }
      char chunk[65536];
      ssize_t n = read(fd_, chunk, sizeof(chunk));
      if (n <= 0) return "";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buffer_;
  size_t start_ = 0;
};

// A DTLS leg as an offer creates it: our setup actpass, the peer's address and fingerprint known.
std::string LegAddLine(uint64_t id, uint32_t n) {
  static const std::string kFingerprint =
      "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:"
      "67:89";
  return absl::StrCat(R"({"v":1,"id":)", id,
                      R"(,"cmd":"leg.add","transport":"dtls","remote":{"ip":"198.19.)",
                      1 + (n / 250) % 250, ".", 1 + n % 250, R"(","port":)", 20000 + n % 40000,
                      R"(},"fingerprints":[{"hash":"sha-256","value":")", kFingerprint,
                      "\"}]}\n");
}

// leg.add over the flow socket of a real Relay (Relay::Create, Relay::Run on its own thread, its
// worker on lcore 1 and handshake lcore on lcore 2), from a client thread on CPU 0. `depth`
// requests are written before their replies are read (1: strict request/reply). Each iteration
// adds 1000 legs; the table keeps them (20k at the end).
void FlowSocketLegAdds(benchmark::State& state, size_t depth) {
  constexpr uint32_t kPerIteration = 1000;
  absl::StatusOr<RingPort> ring_port = CreateRingPort(UniqueName("lg"), 1024, 1024, 2);
  if (!ring_port.ok()) return state.SkipWithError(std::string(ring_port.status().message()).c_str());
  RelayConfig config;
  PortConfig port;
  port.device = ring_port->device;
  port.addresses.push_back(InterfaceAddress{IpAddress::V4(0xC6120001u), 15});
  config.ports = {port};
  config.worker_lcores = {1};
  config.handshake_lcores = {2};
  config.leg_port_first = 10000;
  config.leg_port_count = 50000;
  config.leg_capacity = 50000;
  config.idle_timeout_s = 0;
  config.socket_path = absl::StrCat("/tmp/t38relay_bench_", getpid(), ".sock");
  config.dtls.key_type = crypto::KeyType::kEcdsaP256;
  config.crypto = CryptoBackendKind::kSoft;  // leg.add creates no keys: handshakes do
  config.mbufs = 4095;
  {
    absl::StatusOr<std::unique_ptr<Relay>> relay = Relay::Create(config);
    if (!relay.ok()) {
      FreeRingPort(*ring_port);
      return state.SkipWithError(std::string(relay.status().message()).c_str());
    }
    std::atomic<bool> stop{false};
    absl::Status run_status;
    std::thread server([&] { run_status = (*relay)->Run(stop); });
    FlowSocketClient client;
    if (!client.Connect(config.socket_path)) {
      state.SkipWithError("cannot connect to the flow socket");
    } else {
      uint64_t id = 1;
      uint32_t added = 0;
      std::string batch;
      for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        for (uint32_t done = 0; done < kPerIteration;) {
          const uint32_t n = static_cast<uint32_t>(std::min<size_t>(depth, kPerIteration - done));
          batch.clear();
          for (uint32_t k = 0; k < n; ++k) batch += LegAddLine(id++, added + done + k);
          if (!client.Send(batch)) {
            state.SkipWithError("write to the flow socket failed");
            break;
          }
          for (uint32_t k = 0; k < n; ++k) {
            std::string reply = client.ReadLine();
            if (reply.find(R"("ok":true)") == std::string::npos) {
              state.SkipWithError(absl::StrCat("leg.add failed: ", reply).c_str());
              break;
            }
          }
          done += n;
        }
        const auto end = std::chrono::steady_clock::now();
        state.SetIterationTime(std::chrono::duration<double>(end - start).count());
        added += kPerIteration;
      }
      // The legs are real: the relay lists them.
      client.Send(R"({"v":1,"id":0,"cmd":"stats"})" "\n");
      nlohmann::json stats = nlohmann::json::parse(client.ReadLine(), nullptr, false);
      if (stats.is_discarded() || stats["legs"]["active"] != added) {
        state.SkipWithError("stats does not count the legs added");
      }
      state.counters["legs_at_end"] = added;
      state.counters["pipeline_depth"] = static_cast<double>(depth);
    }
    stop.store(true);
    server.join();
  }
  FreeRingPort(*ring_port);
  state.SetItemsProcessed(state.iterations() * kPerIteration);
}

void BM_FlowSocketLegAdd(benchmark::State& state) { FlowSocketLegAdds(state, 1); }
BENCHMARK(BM_FlowSocketLegAdd)->UseManualTime()->Iterations(20)->Unit(benchmark::kMillisecond);

void BM_FlowSocketLegAddPipelined32(benchmark::State& state) { FlowSocketLegAdds(state, 32); }
BENCHMARK(BM_FlowSocketLegAddPipelined32)
    ->UseManualTime()
    ->Iterations(20)
    ->Unit(benchmark::kMillisecond);

bool StartBenchEal() {
  // The session pool for 100k legs on both ends (~0.5 GB) and the mbuf pools.
  std::vector<std::string> args =
      EalArgs("relay_bench", 1024, {"--vdev=crypto_aesni_gcm0"});
  // Lcore 0 on CPU 0 (generator, sink, flow socket); the worker (1) and the Relay's handshake
  // lcore (2) share CPU 1, where the handshake lcore naps while idle.
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "-l") {
      args[i] = "--lcores";
      args[i + 1] = "0@0,1@1,2@1";
    }
  }
  const std::string error = StartEal(args);
  if (!error.empty()) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return false;
  }
  if (rte_lcore_count() < 3) {
    std::fprintf(stderr, "relay_bench needs lcores 0, 1 and 2\n");
    return false;
  }
  (void)BenchCryptodev();
  return true;
}

}  // namespace
}  // namespace t38relay::dataplane::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (!t38relay::dataplane::bench::StartBenchEal()) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
