// Relay benchmarks: the real Worker forwarding UDPTL between linked legs (DTLS<->DTLS over 10k and
// 100k legs, DTLS<->plain, plain<->plain) fed by a generator on the other lcore, latency at half
// of the peak rate, the crypto limit (RecordProtector::Open over 10k legs) of the same run,
// leg.add over the real flow socket of a real Relay, and offer + answer through an in-process
// control daemon programming that Relay. Items are frames delivered at the sink, records opened,
// legs added, or calls offered and answered. Needs two CPUs: EAL lcore 0 (generator, sink, flow socket
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
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/relay/relay_rig.h"
#include "control/api/control_socket.h"
#include "control/calls/call_manager.h"
#include "control/flowclient/flow_client.h"
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

// A blocking client of a JSON-lines Unix socket (flow or control): lines out, lines back.
class LineSocketClient {
 public:
  ~LineSocketClient() {
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

// A real Relay (Relay::Create on a ring port, Relay::Run serving its flow socket on its own
// thread, its worker on lcore 1 and handshake lcore on lcore 2), for the control-plane benches.
class ServedRelay {
 public:
  ServedRelay() = default;
  ServedRelay(const ServedRelay&) = delete;
  ServedRelay& operator=(const ServedRelay&) = delete;
  ~ServedRelay() {
    if (server_.joinable()) {
      stop_.store(true);
      server_.join();
    }
    relay_.reset();
    if (ring_port_) FreeRingPort(*ring_port_);
  }

  absl::Status Start(const std::string& name) {
    absl::StatusOr<RingPort> ring_port = CreateRingPort(UniqueName(name), 1024, 1024, 2);
    if (!ring_port.ok()) return ring_port.status();
    ring_port_ = *ring_port;
    PortConfig port;
    port.device = ring_port_->device;
    port.addresses.push_back(InterfaceAddress{IpAddress::V4(0xC6120001u), 15});
    config_.ports = {port};
    config_.worker_lcores = {1};
    config_.handshake_lcores = {2};
    config_.leg_port_first = 10000;
    config_.leg_port_count = 50000;
    config_.leg_capacity = 50000;
    config_.idle_timeout_s = 0;
    config_.socket_path = absl::StrCat("/tmp/t38relay_bench_", getpid(), "_", name, ".sock");
    config_.dtls.key_type = crypto::KeyType::kEcdsaP256;
    config_.crypto = CryptoBackendKind::kSoft;  // legs get no keys here: handshakes would
    config_.mbufs = 4095;
    absl::StatusOr<std::unique_ptr<Relay>> relay = Relay::Create(config_);
    if (!relay.ok()) return relay.status();
    relay_ = std::move(*relay);
    server_ = std::thread([this] { run_status_ = relay_->Run(stop_); });
    return absl::OkStatus();
  }
  const std::string& socket_path() const { return config_.socket_path; }

 private:
  std::optional<RingPort> ring_port_;
  RelayConfig config_;
  std::unique_ptr<Relay> relay_;
  std::atomic<bool> stop_{false};
  absl::Status run_status_;
  std::thread server_;
};

// The relay's "legs"."active" from a stats request, or -1.
int64_t ActiveLegs(LineSocketClient& client) {
  client.Send(R"({"v":1,"id":0,"cmd":"stats"})" "\n");
  nlohmann::json stats = nlohmann::json::parse(client.ReadLine(), nullptr, false);
  if (stats.is_discarded() || !stats["legs"]["active"].is_number_integer()) return -1;
  return stats["legs"]["active"].get<int64_t>();
}

// leg.add over the flow socket of a ServedRelay, from a client thread on CPU 0. `depth`
// requests are written before their replies are read (1: strict request/reply). Each iteration
// adds 1000 legs; the table keeps them (20k at the end).
void FlowSocketLegAdds(benchmark::State& state, size_t depth) {
  constexpr uint32_t kPerIteration = 1000;
  ServedRelay relay;
  if (absl::Status s = relay.Start("lg"); !s.ok()) {
    return state.SkipWithError(std::string(s.message()).c_str());
  }
  LineSocketClient client;
  if (!client.Connect(relay.socket_path())) {
    return state.SkipWithError("cannot connect to the flow socket");
  }
  uint64_t id = 1;
  uint32_t added = 0;
  std::string batch;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    for (uint32_t done = 0; done < kPerIteration;) {
      const uint32_t n = static_cast<uint32_t>(std::min<size_t>(depth, kPerIteration - done));
      batch.clear();
      for (uint32_t k = 0; k < n; ++k) batch += LegAddLine(id++, added + done + k);
      if (!client.Send(batch)) return state.SkipWithError("write to the flow socket failed");
      for (uint32_t k = 0; k < n; ++k) {
        std::string reply = client.ReadLine();
        if (reply.find(R"("ok":true)") == std::string::npos) {
          return state.SkipWithError(absl::StrCat("leg.add failed: ", reply).c_str());
        }
      }
      done += n;
    }
    const auto end = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
    added += kPerIteration;
  }
  // The legs are real: the relay counts them.
  if (ActiveLegs(client) != added) state.SkipWithError("stats does not count the legs added");
  state.counters["legs_at_end"] = added;
  state.counters["pipeline_depth"] = static_cast<double>(depth);
  state.SetItemsProcessed(state.iterations() * kPerIteration);
}

void BM_FlowSocketLegAdd(benchmark::State& state) { FlowSocketLegAdds(state, 1); }
BENCHMARK(BM_FlowSocketLegAdd)->UseManualTime()->Iterations(20)->Unit(benchmark::kMillisecond);

void BM_FlowSocketLegAddPipelined32(benchmark::State& state) { FlowSocketLegAdds(state, 32); }
BENCHMARK(BM_FlowSocketLegAddPipelined32)
    ->UseManualTime()
    ->Iterations(20)
    ->Unit(benchmark::kMillisecond);

// One DTLS<->DTLS call as a SIP proxy drives it: the caller's offer (active: the relay answers
// it passive), the callee's answer (active too), each peer on its own address and port.
std::string PeerSdp(uint32_t n, bool caller) {
  const std::string ip = caller ? absl::StrCat("198.19.", 1 + (n / 250) % 250, ".", 1 + n % 250)
                                : absl::StrCat("198.18.", 100 + (n / 250) % 100, ".", 1 + n % 250);
  return absl::StrCat(
      "v=0\r\no=- ", 1000 + n, " 1 IN IP4 ", ip, "\r\ns=-\r\nc=IN IP4 ", ip, "\r\nt=0 0\r\n",
      "m=image ", (caller ? 20000 : 30000) + n % 30000, " UDP/TLS/UDPTL t38\r\n",
      "a=setup:active\r\na=fingerprint:sha-256 ",
      caller ? "6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:"
               "D0:A1:2C:19:08"
             : "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:"
               "BB:CC:DD:EE:FF:00",
      "\r\na=tls-id:", caller ? 100000000 + n : 200000000 + n, "abcdefghijklmnop\r\n",
      "a=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\na=T38FaxRateManagement:transferredTCF\r\n"
      "a=T38FaxMaxDatagram:400\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n");
}

std::string OfferLine(uint64_t id, uint32_t n) {
  nlohmann::json j = {{"v", 1}, {"id", id}, {"cmd", "offer"}, {"call_id", absl::StrCat("call-", n)},
                      {"from_tag", "a"}, {"transport", "dtls"}, {"sdp", PeerSdp(n, true)}};
  return j.dump() + "\n";
}

std::string AnswerLine(uint64_t id, uint32_t n) {
  nlohmann::json j = {{"v", 1}, {"id", id}, {"cmd", "answer"}, {"call_id", absl::StrCat("call-", n)},
                      {"from_tag", "a"}, {"to_tag", "b"}, {"sdp", PeerSdp(n, false)}};
  return j.dump() + "\n";
}

// offer + answer of a DTLS<->DTLS call through the control socket of an in-process
// t38relay-control (ControlSocketServer + CallManager + FlowClient on their own thread, as the
// daemon runs them) programming a ServedRelay over its flow socket; strict request/reply from a
// client on lcore 0, as t38ctl sends them. 250 calls (500 legs) per iteration; they stay.
void BM_ControlOfferAnswer(benchmark::State& state) {
  constexpr uint32_t kCallsPerIteration = 250;
  ServedRelay relay;
  if (absl::Status s = relay.Start("oa"); !s.ok()) {
    return state.SkipWithError(std::string(s.message()).c_str());
  }
  control::FlowClient::Options flow_options;
  flow_options.path = relay.socket_path();
  absl::StatusOr<std::unique_ptr<control::FlowClient>> flow =
      control::FlowClient::Connect(flow_options);
  if (!flow.ok()) return state.SkipWithError(std::string(flow.status().message()).c_str());
  control::calls::CallManager manager({}, flow->get());
  control::ControlSocketServer::Options socket_options;
  socket_options.path = absl::StrCat("/tmp/t38relay_bench_", getpid(), "_control.sock");
  absl::StatusOr<std::unique_ptr<control::ControlSocketServer>> server =
      control::ControlSocketServer::Create(socket_options, &manager);
  if (!server.ok()) return state.SkipWithError(std::string(server.status().message()).c_str());
  std::atomic<bool> stop{false};
  std::thread control_thread([&] {
    while (!stop.load()) (*server)->Poll(10);
  });
  LineSocketClient client;
  LineSocketClient relay_client;
  uint64_t id = 1;
  uint32_t calls = 0;
  std::string error;
  if (!client.Connect(socket_options.path) || !relay_client.Connect(relay.socket_path())) {
    error = "cannot connect to the control or flow socket";
  }
  std::vector<std::string> lines;
  for (auto _ : state) {
    if (!error.empty()) break;
    lines.clear();
    for (uint32_t k = 0; k < kCallsPerIteration; ++k) {
      lines.push_back(OfferLine(id++, calls + k));
      lines.push_back(AnswerLine(id++, calls + k));
    }
    const auto start = std::chrono::steady_clock::now();
    for (const std::string& line : lines) {
      std::string reply;
      if (client.Send(line)) reply = client.ReadLine();
      if (reply.find(R"("ok":true)") == std::string::npos) {
        error = absl::StrCat("request failed: ", reply.substr(0, 300));
        break;
      }
    }
    calls += kCallsPerIteration;
    const auto end = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
  }
  // The calls are real: two legs each in the relay.
  if (error.empty() && ActiveLegs(relay_client) != 2 * int64_t{calls}) {
    error = "the relay does not hold two legs per call";
  }
  stop.store(true);
  control_thread.join();
  if (!error.empty()) return state.SkipWithError(error.c_str());
  state.counters["calls_at_end"] = calls;
  state.SetItemsProcessed(state.iterations() * kCallsPerIteration);
}
BENCHMARK(BM_ControlOfferAnswer)->UseManualTime()->Iterations(20)->Unit(benchmark::kMillisecond);

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
