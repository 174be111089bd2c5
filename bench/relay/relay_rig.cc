// The relay benchmark's rig (see relay_rig.h).
#include "bench/relay/relay_rig.h"

#include <pthread.h>
#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>
#include <rte_memcpy.h>
#include <rte_rcu_qsbr.h>
#include <rte_udp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "dataplane/relay/prefetch.h"
#include "dataplane/relay/punt.h"
#include "dataplane/wire/packet.h"
#include "dataplane/wire/udptl.h"

namespace t38relay::dataplane::bench {
namespace {

using crypto::RecordJob;

constexpr uint16_t kLegPortFirst = 10000;
constexpr uint32_t kLegPortsPerAddress = 50'000;  // two addresses hold kMaxBenchLegs
constexpr uint32_t kRemotesPerPort = 250;          // remote endpoints: 198.19.1.1..250
constexpr uint16_t kRemotePortFirst = 20000;
constexpr size_t kTemplateStride = 256;
constexpr uint16_t kBurst = 32;
constexpr uint32_t kRxRing = 1024;  // what a NIC's RX ring holds
constexpr uint32_t kTxRing = 4096;  // room so the sink never makes the worker drop
constexpr uint32_t kPoolMbufs = 16383;
constexpr uint64_t kSampleMask = 1023;  // the sink decrypts one frame in 1024

uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

void FillKey(crypto::AeadKeyMaterial& material, uint64_t seed) {
  for (size_t i = 0; i < 16; i += 8) {
    uint64_t word = SplitMix(seed * 4 + i);
    std::memcpy(material.key.data() + i, &word, 8);
  }
  uint32_t salt = static_cast<uint32_t>(SplitMix(seed * 4 + 3));
  std::memcpy(material.salt.data(), &salt, 4);
}

IpAddress LocalAddress(uint32_t index) { return IpAddress::V4(0xC6120001u + index); }  // 198.18.0.1+

MacAddress RemoteMac(uint32_t remote) {
  return MacAddress{0x02, 0x00, 0x00, 0x00, 0x01, static_cast<uint8_t>(remote)};
}

// 128 bytes of UDPTL (T.38 clause 9.1): an image-data IFP with two redundant copies.
std::vector<uint8_t> UdptlPayload() {
  std::vector<uint8_t> ifp(200);
  for (size_t i = 0; i < ifp.size(); ++i) ifp[i] = static_cast<uint8_t>(0xA5 ^ i);
  std::vector<uint8_t> out(512);
  for (size_t primary = 1; primary < 100; ++primary) {
    for (size_t secondary = 1; secondary <= primary; ++secondary) {
      Bytes previous[2] = {Bytes(ifp.data(), secondary), Bytes(ifp.data() + 7, secondary)};
      UdptlPacket packet = UdptlWithRedundancy(1000, Bytes(ifp.data(), primary), previous);
      size_t written = 0;
      if (EncodeUdptl(packet, MutableBytes(out.data(), out.size()), &written) == WireError::kOk &&
          written == kUdptlBytes) {
        out.resize(written);
        return out;
      }
    }
  }
  std::fprintf(stderr, "no UDPTL packet of %u bytes\n", kUdptlBytes);
  std::exit(1);
}

int TscField() {
  static const int offset = [] {
    static const rte_mbuf_dynfield kField = {
        .name = "t38relay_bench_tsc", .size = sizeof(uint64_t), .align = alignof(uint64_t),
        .flags = 0};
    int o = rte_mbuf_dynfield_register(&kField);
    if (o < 0) {
      std::fprintf(stderr, "cannot register the bench timestamp field\n");
      std::exit(1);
    }
    return o;
  }();
  return offset;
}

uint64_t& TscOf(rte_mbuf* m, int offset) { return *RTE_MBUF_DYNFIELD(m, offset, uint64_t*); }

void FreeRing(rte_ring* ring) {
  if (ring == nullptr) return;
  void* m;
  while (rte_ring_dequeue(ring, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  rte_ring_free(ring);
}

// CPU seconds a thread has used so far.
double ThreadCpuSeconds(pthread_t thread) {
  clockid_t clock;
  timespec ts{};
  if (pthread_getcpuclockid(thread, &clock) != 0 || clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double Percentile(std::vector<uint32_t>& v, double q) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(k), v.end());
  return v[k] * 1e6 / static_cast<double>(rte_get_tsc_hz());
}

}  // namespace

crypto::CryptodevDevice& BenchCryptodev() {
  static std::unique_ptr<crypto::CryptodevDevice> device = [] {
    crypto::CryptodevConfig config;
    const char* name = std::getenv("T38_BENCH_CRYPTODEV");
    config.device = name != nullptr ? name : "crypto_aesni_gcm0";
    config.queue_pairs = 2;
    // The relay's two keys per leg and the remote ends' two, plus the crypto-limit legs.
    config.max_keys = 4 * kMaxBenchLegs + 4 * 10'000 + 64;
    absl::StatusOr<std::unique_ptr<crypto::CryptodevDevice>> d =
        crypto::CryptodevDevice::Open(config);
    if (!d.ok()) {
      std::fprintf(stderr, "%s\n", std::string(d.status().message()).c_str());
      std::exit(1);
    }
    return std::move(*d);
  }();
  return *device;
}

crypto::DtlsRecordKeys BenchLegKeys(uint32_t leg, bool remote_side) {
  crypto::DtlsRecordKeys keys;
  FillKey(keys.send, uint64_t{leg} * 2);
  FillKey(keys.receive, uint64_t{leg} * 2 + 1);
  keys.epoch = 1;
  keys.next_send_sequence = 1;  // as after a handshake: wolfSSL sent Finished as sequence 0
  if (remote_side) std::swap(keys.send, keys.receive);
  return keys;
}

std::vector<uint32_t> ShuffledLegOrder(uint32_t legs) {
  std::mt19937 rng(legs);
  std::vector<uint32_t> permutation(legs);
  for (uint32_t i = 0; i < legs; ++i) permutation[i] = i;
  std::vector<uint32_t> order;
  while (order.size() < (size_t{1} << 20)) {
    std::shuffle(permutation.begin(), permutation.end(), rng);
    order.insert(order.end(), permutation.begin(), permutation.end());
  }
  return order;
}

std::string UniqueName(const std::string& prefix) {
  static int next = 0;
  return absl::StrCat(prefix, next++);
}

absl::StatusOr<RingPort> CreateRingPort(const std::string& name, uint32_t rx_size,
                                        uint32_t tx_size, uint16_t queues) {
  RingPort port;
  port.rx = rte_ring_create((name + "_rx").c_str(), rx_size, SOCKET_ID_ANY,
                            RING_F_SP_ENQ | RING_F_SC_DEQ);
  port.tx = rte_ring_create((name + "_tx").c_str(), tx_size, SOCKET_ID_ANY,
                            RING_F_SP_ENQ | RING_F_SC_DEQ);
  std::vector<rte_ring*> rx = {port.rx}, tx = {port.tx};
  for (uint16_t q = 1; q < queues; ++q) {
    // Loops: what the queue sends comes back on it.
    rte_ring* ring = rte_ring_create(absl::StrCat(name, "_q", q).c_str(), rx_size, SOCKET_ID_ANY,
                                     RING_F_SP_ENQ | RING_F_SC_DEQ);
    port.more.push_back(ring);
    rx.push_back(ring);
    tx.push_back(ring);
  }
  bool rings = port.rx != nullptr && port.tx != nullptr &&
               std::find(port.more.begin(), port.more.end(), nullptr) == port.more.end();
  if (!rings) {
    FreeRingPort(port);
    return absl::ResourceExhaustedError(absl::StrCat("cannot create the rings of ", name));
  }
  int id = rte_eth_from_rings(name.c_str(), rx.data(), queues, tx.data(), queues,
                              rte_socket_id());
  char device[RTE_ETH_NAME_MAX_LEN];
  if (id < 0 || rte_eth_dev_get_name_by_port(static_cast<uint16_t>(id), device) != 0) {
    FreeRingPort(port);
    return absl::InternalError(absl::StrCat("rte_eth_from_rings(", name, ") failed"));
  }
  port.device = device;
  return port;
}

void FreeRingPort(RingPort& port) {
  FreeRing(port.rx);
  FreeRing(port.tx);
  for (rte_ring* ring : port.more) FreeRing(ring);
  port.rx = port.tx = nullptr;
  port.more.clear();
}

RelayRig::RelayRig(const RigOptions& options) : options_(options) {}

absl::StatusOr<std::unique_ptr<RelayRig>> RelayRig::Create(const RigOptions& options) {
  if (options.legs == 0 || options.legs % 2 != 0 || options.legs > kMaxBenchLegs) {
    return absl::InvalidArgumentError("legs: an even number up to kMaxBenchLegs");
  }
  std::unique_ptr<RelayRig> rig(new RelayRig(options));
  if (absl::Status s = rig->Init(); !s.ok()) return s;
  return rig;
}

bool RelayRig::IsDtls(uint32_t leg) const {
  switch (options_.kind) {
    case LegPairKind::kDtlsDtls: return true;
    case LegPairKind::kDtlsPlain: return leg % 2 == 0;
    case LegPairKind::kPlainPlain: return false;
  }
  return false;
}

SocketAddress RelayRig::LocalOf(uint32_t leg) const {
  return SocketAddress{LocalAddress(leg / kLegPortsPerAddress),
                       static_cast<uint16_t>(kLegPortFirst + leg % kLegPortsPerAddress)};
}

SocketAddress RelayRig::RemoteOf(uint32_t leg) const {
  return SocketAddress{IpAddress::V4(0xC6130101u + leg % kRemotesPerPort),  // 198.19.1.1+
                       static_cast<uint16_t>(kRemotePortFirst + leg / kRemotesPerPort)};
}

uint32_t RelayRig::LegOfRemote(const IpAddress& ip, uint16_t port) const {
  if (ip.family != IpFamily::kV4 || ip.bytes[0] != 198 || ip.bytes[1] != 19 ||
      ip.bytes[2] != 1 || ip.bytes[3] == 0 || ip.bytes[3] > kRemotesPerPort ||
      port < kRemotePortFirst) {
    return UINT32_MAX;
  }
  uint32_t leg = (port - kRemotePortFirst) * kRemotesPerPort + (ip.bytes[3] - 1u);
  return leg < options_.legs ? leg : UINT32_MAX;
}

absl::Status RelayRig::Init() {
  if (absl::Status s = RegisterPuntInfo(); !s.ok()) return s;
  name_ = UniqueName("rb");
  pool_ = rte_pktmbuf_pool_create((name_ + "_mbufs").c_str(), kPoolMbufs, 256, 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (pool_ == nullptr) return absl::ResourceExhaustedError("cannot create the mbuf pool");
  absl::StatusOr<RingPort> ring_port = CreateRingPort(name_, kRxRing, kTxRing);
  if (!ring_port.ok()) return ring_port.status();
  ring_port_ = *ring_port;

  const uint32_t addresses = (options_.legs + kLegPortsPerAddress - 1) / kLegPortsPerAddress;
  PortConfig port;
  port.device = ring_port_.device;
  for (uint32_t a = 0; a < addresses; ++a) {
    port.addresses.push_back(InterfaceAddress{LocalAddress(a), 15});  // 198.18.0.0/15
  }
  absl::StatusOr<std::unique_ptr<PortSet>> ports = PortSet::Open({port}, 1, 1, pool_);
  if (!ports.ok()) return ports.status();
  ports_ = std::move(*ports);
  neighbors_ = std::make_unique<NeighborTable>(1024);
  const uint64_t now_ms = rte_get_tsc_cycles() / (rte_get_tsc_hz() / 1000);
  for (uint32_t r = 1; r <= kRemotesPerPort; ++r) {
    if (!neighbors_->Set(0, IpAddress::V4(0xC6130100u + r), RemoteMac(r), now_ms)) {
      return absl::InternalError("neighbour table full");
    }
  }

  qsbr_ = static_cast<rte_rcu_qsbr*>(
      rte_zmalloc((name_ + "_qsbr").c_str(), rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE));
  if (qsbr_ == nullptr || rte_rcu_qsbr_init(qsbr_, 1) != 0) {
    return absl::ResourceExhaustedError("cannot allocate the RCU state");
  }
  DirectFlowTableConfig table;
  table.port_base = kLegPortFirst;
  table.port_count = std::min(options_.legs, kLegPortsPerAddress);
  for (uint32_t a = 0; a < addresses; ++a) table.addresses.push_back(LocalAddress(a));
  table.qsbr = qsbr_;
  absl::StatusOr<std::unique_ptr<DirectFlowTable>> flows = DirectFlowTable::Create(table);
  if (!flows.ok()) return flows.status();
  flows_ = std::move(*flows);

  absl::StatusOr<std::unique_ptr<Mailbox<WorkerCommand>>> commands =
      Mailbox<WorkerCommand>::Create(name_ + "_cmd", 4096);
  if (!commands.ok()) return commands.status();
  commands_ = std::move(*commands);
  absl::StatusOr<std::unique_ptr<Mailbox<RelayEvent>>> events =
      Mailbox<RelayEvent>::Create(name_ + "_ev", 4096);
  if (!events.ok()) return events.status();
  events_ = std::move(*events);
  punt_ = rte_ring_create((name_ + "_punt").c_str(), 1024, SOCKET_ID_ANY, RING_F_SC_DEQ);
  handoff_ = rte_ring_create((name_ + "_hand").c_str(), 1024, SOCKET_ID_ANY, RING_F_SC_DEQ);
  if (punt_ == nullptr || handoff_ == nullptr) {
    return absl::ResourceExhaustedError("cannot create the punt rings");
  }

  // The legs, as control publishes them: every field first, the id, then the flow table entry.
  legs_ = std::make_unique<LegTable>(options_.legs);
  for (uint32_t i = 0; i < options_.legs; ++i) {
    Leg& leg = (*legs_)[i];
    leg.transport = IsDtls(i) ? LegTransport::kDtls : LegTransport::kPlain;
    leg.port_index = 0;
    leg.worker = 0;
    leg.local = LocalOf(i);
    leg.peer.store(uint64_t{1} << 32 | (i ^ 1u));
    leg.state.store(IsDtls(i) ? LegPhase::kWaiting : LegPhase::kPlain);
    leg.remote.Store(RemoteOf(i));
    leg.latch = Latch::kLearn;
    leg.id.store(uint64_t{1} << 32 | i, std::memory_order_release);
    if (absl::Status s = flows_->Add(FlowKey::Of(leg.local), i); !s.ok()) return s;
  }

  crypto::CryptodevDevice& device = BenchCryptodev();
  WorkerContext context;
  context.index = 0;
  context.worker_count = 1;
  context.ports = ports_.get();
  context.neighbors = neighbors_.get();
  context.legs = legs_.get();
  context.flows = flows_.get();
  context.qsbr = qsbr_;
  context.cryptodev = &device.queue(0);
  context.backend = context.cryptodev;
  context.commands = commands_.get();
  context.events = events_.get();
  context.punt = {punt_};
  context.handoff = {handoff_};
  context.leg_port_first = kLegPortFirst;
  context.leg_port_count = kLegPortsPerAddress;
  context.pool = pool_;
  worker_ = std::make_unique<Worker>(context);

  // The remote endpoints' record state, on the generator's queue.
  peer_protector_ = std::make_unique<crypto::RecordProtector>(device.queue(1),
                                                              crypto::RecordOptions{});
  peers_ = std::make_unique<crypto::RecordLeg[]>(options_.legs);
  for (uint32_t i = 0; i < options_.legs; ++i) {
    if (!IsDtls(i)) continue;
    if (absl::Status s = peer_protector_->Install(peers_[i], BenchLegKeys(i, true), 0); !s.ok()) {
      return s;
    }
  }
  udptl_ = UdptlPayload();
  BuildTemplates();
  order_ = ShuffledLegOrder(options_.legs);
  (void)TscField();

  if (rte_eal_get_lcore_state(options_.worker_lcore) != WAIT) {
    return absl::FailedPreconditionError(
        absl::StrCat("lcore ", options_.worker_lcore, " is busy or not enabled"));
  }
  auto body = [](void* arg) -> int {
    auto* rig = static_cast<RelayRig*>(arg);
    rig->worker_thread_ = pthread_self();
    rig->worker_started_.store(true, std::memory_order_release);
    rig->worker_->Run(rig->stop_);
    return 0;
  };
  if (rte_eal_remote_launch(body, this, options_.worker_lcore) != 0) {
    return absl::InternalError(absl::StrCat("cannot launch lcore ", options_.worker_lcore));
  }
  launched_ = true;
  while (!worker_started_.load(std::memory_order_acquire)) std::this_thread::yield();
  return InstallKeys();
}

absl::Status RelayRig::InstallKeys() {
  // The path a finished handshake takes: a kInstallKeys command to the owning worker.
  for (uint32_t i = 0; i < options_.legs; ++i) {
    if (!IsDtls(i)) continue;
    auto* keys = new crypto::DtlsRecordKeys(BenchLegKeys(i, false));
    WorkerCommand command{.type = WorkerCommand::Type::kInstallKeys,
                          .leg_id = uint64_t{1} << 32 | i,
                          .address = RemoteOf(i),
                          .payload = keys};
    while (!commands_->Send(command)) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  const uint64_t deadline = rte_get_tsc_cycles() + 120 * rte_get_tsc_hz();
  for (uint32_t i = 0; i < options_.legs; ++i) {
    if (!IsDtls(i)) continue;
    LegPhase phase;
    while ((phase = (*legs_)[i].state.load(std::memory_order_acquire)) == LegPhase::kWaiting) {
      if (rte_get_tsc_cycles() > deadline) {
        return absl::DeadlineExceededError("the worker did not install every leg's keys");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    if (phase != LegPhase::kEstablished) {
      return absl::InternalError(absl::StrCat("leg ", i, ": key installation failed"));
    }
  }
  RelayEvent events[64];
  while (events_->Receive(events, 64) != 0) {
  }
  return absl::OkStatus();
}

void RelayRig::BuildTemplates() {
  templates_.assign(size_t{options_.legs} * kTemplateStride, 0);
  frame_lengths_.resize(options_.legs);
  std::vector<uint8_t> record(crypto::kRecordPrefixLength + udptl_.size() +
                              crypto::kRecordSuffixLength, 0);
  std::memcpy(record.data() + crypto::kRecordPrefixLength, udptl_.data(), udptl_.size());
  for (uint32_t i = 0; i < options_.legs; ++i) {
    UdpFrameSpec spec;
    spec.ethernet.dst = ports_->port(0).mac;
    spec.ethernet.src = RemoteMac(i % kRemotesPerPort + 1);
    spec.src = RemoteOf(i);
    spec.dst = LocalOf(i);
    Bytes payload = IsDtls(i) ? Bytes(record.data(), record.size())
                              : Bytes(udptl_.data(), udptl_.size());
    size_t written = 0;
    if (BuildUdpFrame(spec, payload,
                      MutableBytes(&templates_[size_t{i} * kTemplateStride], kTemplateStride),
                      &written) != WireError::kOk) {
      std::fprintf(stderr, "cannot build the frame template\n");
      std::exit(1);
    }
    frame_lengths_[i] = static_cast<uint16_t>(written);
  }
  if (options_.hello_every == 0) return;
  // RFC 6347 section 4.2.2: a ClientHello (no cookie yet) in one epoch-0 handshake record.
  const std::vector<uint8_t> hello_body = [] {
    std::vector<uint8_t> b = {0xFE, 0xFD};                    // client_version DTLS 1.2
    for (int k = 0; k < 32; ++k) b.push_back(static_cast<uint8_t>(k * 7));  // random
    b.insert(b.end(), {0, 0, 0, 4, 0xC0, 0x2F, 0x00, 0x9E, 1, 0});  // session, cookie, suites,
    return b;                                                      // compression
  }();
  std::vector<uint8_t> hello = {kDtlsHandshake, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0};
  const size_t handshake_length = 12 + hello_body.size();
  hello.push_back(static_cast<uint8_t>(handshake_length >> 8));
  hello.push_back(static_cast<uint8_t>(handshake_length));
  const uint8_t n0 = 0, n1 = static_cast<uint8_t>(hello_body.size() >> 8),
                n2 = static_cast<uint8_t>(hello_body.size());
  hello.insert(hello.end(), {1, n0, n1, n2, 0, 0, 0, 0, 0, n0, n1, n2});  // client_hello
  hello.insert(hello.end(), hello_body.begin(), hello_body.end());
  hellos_.assign(size_t{options_.legs} * kTemplateStride, 0);
  hello_lengths_.assign(options_.legs, 0);
  for (uint32_t i = 0; i < options_.legs; ++i) {
    if (!IsDtls(i)) continue;
    UdpFrameSpec spec;
    spec.ethernet.dst = ports_->port(0).mac;
    spec.ethernet.src = RemoteMac(i % kRemotesPerPort + 1);
    spec.src = RemoteOf(i);
    spec.dst = LocalOf(i);
    size_t written = 0;
    if (BuildUdpFrame(spec, Bytes(hello.data(), hello.size()),
                      MutableBytes(&hellos_[size_t{i} * kTemplateStride], kTemplateStride),
                      &written) != WireError::kOk) {
      std::fprintf(stderr, "cannot build the ClientHello template\n");
      std::exit(1);
    }
    hello_lengths_[i] = static_cast<uint16_t>(written);
  }
}

uint16_t RelayRig::Generate(rte_mbuf** out, uint16_t n) {
  if (rte_pktmbuf_alloc_bulk(pool_, out, n) != 0) return 0;
  // The frames' first lines were written by the worker last (headers): request them for writing.
  for (uint16_t k = 0; k < n; ++k) PrefetchForWrite(rte_pktmbuf_mtod(out[k], void*));
  constexpr size_t kHeaders = RTE_ETHER_HDR_LEN + sizeof(rte_ipv4_hdr) + sizeof(rte_udp_hdr);
  RecordJob jobs[kBurst];
  uint16_t sealed = 0;
  for (uint16_t k = 0; k < n; ++k) {
    const uint32_t leg = order_[next_];
    next_ = next_ + 1 == order_.size() ? 0 : next_ + 1;
    rte_mbuf* m = out[k];
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    if (options_.hello_every != 0 && ++generated_frames_ % options_.hello_every == 0 &&
        hello_lengths_[leg] != 0) {
      rte_memcpy(frame, &hellos_[size_t{leg} * kTemplateStride], hello_lengths_[leg]);
      m->data_len = hello_lengths_[leg];
      m->pkt_len = hello_lengths_[leg];
      continue;
    }
    const uint16_t length = frame_lengths_[leg];
    rte_memcpy(frame, &templates_[size_t{leg} * kTemplateStride], length);
    m->data_len = length;
    m->pkt_len = length;
    if (IsDtls(leg)) {
      RecordJob& job = jobs[sealed++];
      job = RecordJob{};
      job.leg = &peers_[leg];
      job.mbuf = m;
      job.record = frame + kHeaders;
      job.record_length = length - static_cast<uint32_t>(kHeaders);
    }
  }
  // The next burst's templates (legs in shuffled order: cold lines) are requested now, to arrive
  // while this burst is sent.
  for (size_t k = 0, at = next_; k < n; ++k, at = at + 1 == order_.size() ? 0 : at + 1) {
    PrefetchLines(&templates_[size_t{order_[at]} * kTemplateStride], frame_lengths_[order_[at]]);
  }
  if (sealed == 0) return n;
  if (peer_protector_->Seal(jobs, sealed) != sealed) ++samples_failed_;
  for (uint16_t j = 0; j < sealed; ++j) {
    uint8_t* frame = rte_pktmbuf_mtod(jobs[j].mbuf, uint8_t*);
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(frame + RTE_ETHER_HDR_LEN);
    auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
    udp->dgram_cksum = 0;
    udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
  }
  return n;
}

bool RelayRig::CheckSample(rte_mbuf* m) {
  PacketView view;
  if (ParseFrame(LinkType::kEthernet, Bytes(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len),
                 &view) != WireError::kOk ||
      RequireUdpDatagram(view) != WireError::kOk) {
    return false;
  }
  uint32_t to = LegOfRemote(view.dst, view.dst_port);
  if (to == UINT32_MAX || SocketAddress{view.src, view.src_port} != LocalOf(to)) return false;
  MacAddress expected_mac = RemoteMac(to % kRemotesPerPort + 1);
  if (std::memcmp(rte_pktmbuf_mtod(m, const uint8_t*), expected_mac.data(), 6) != 0) return false;
  const uint8_t* plaintext = view.payload.data();
  size_t length = view.payload.size();
  if (IsDtls(to)) {
    RecordJob job;
    job.leg = &peers_[to];
    job.mbuf = m;
    job.record = const_cast<uint8_t*>(view.payload.data());
    job.record_length = static_cast<uint32_t>(view.payload.size());
    if (peer_protector_->Open(&job, 1, 0) != 1 ||
        job.content_type != kDtlsApplicationData) {
      return false;
    }
    plaintext = job.plaintext();
    length = job.plaintext_length();
  }
  return length == udptl_.size() && std::memcmp(plaintext, udptl_.data(), length) == 0;
}

unsigned RelayRig::Drain(Latencies* latencies, uint64_t now) {
  constexpr unsigned kMax = 64;
  rte_mbuf* m[kMax];
  unsigned n =
      rte_ring_sc_dequeue_burst(ring_port_.tx, reinterpret_cast<void**>(m), kMax, nullptr);
  const int tsc = TscField();
  for (unsigned i = 0; i < n; ++i) {
    if (latencies != nullptr && latencies->all.size() < latencies->all.capacity()) {
      const uint64_t sent = TscOf(m[i], tsc);
      latencies->all.push_back(static_cast<uint32_t>(now - sent));
      if (!latencies->after_stall || sent >= latencies->stall_start) {
        latencies->clean.push_back(static_cast<uint32_t>(now - sent));
      }
    }
    if ((++sink_seen_ & kSampleMask) == 0) {
      ++samples_checked_;
      if (!CheckSample(m[i])) ++samples_failed_;
    }
  }
  // The ring is empty: whatever arrives next was not waiting for the sink.
  if (latencies != nullptr && n < kMax) latencies->after_stall = false;
  if (n != 0) rte_pktmbuf_free_bulk(m, n);
  // What the worker hands to the handshake lcore (a flood's ClientHellos) is taken as well.
  unsigned punted =
      rte_ring_sc_dequeue_burst(punt_, reinterpret_cast<void**>(m), kMax, nullptr);
  if (punted != 0) rte_pktmbuf_free_bulk(m, punted);
  return n;
}

uint64_t RelayRig::WorkerDrops() const {
  uint64_t drops = 0;
  for (const Counter& c : worker_->counters().drops) drops += c.Get();
  return drops + worker_->counters().punted.Get();
}

TrafficResult RelayRig::Run(double warmup_s, double window_s, double packets_per_second) {
  const WorkerCounters& wc = worker_->counters();
  const uint64_t rx0 = wc.rx_packets.Get();
  const uint64_t tx0 = wc.tx_packets.Get();
  const uint64_t drops0 = WorkerDrops();
  const uint64_t punted0 = worker_->counters().punted.Get();
  const uint64_t sink0 = sink_seen_;
  const uint64_t checked0 = samples_checked_;
  const uint64_t failed0 = samples_failed_;
  const int tsc_field = TscField();
  const bool paced = packets_per_second > 0;
  const uint64_t hz = rte_get_tsc_hz();
  const uint64_t t0 = rte_get_tsc_cycles();
  Latencies latencies;
  if (paced) {
    const size_t expected = static_cast<size_t>(packets_per_second * window_s * 1.2) + 1024;
    latencies.all.reserve(expected);
    latencies.clean.reserve(expected);
  }
  // A loop pass later than this after the previous one: the VM took the generator's CPU.
  const uint64_t stall_cycles = hz / 50'000;
  uint64_t stalls = 0, stall_max = 0, last_pass = t0;
  const uint64_t interval = paced ? static_cast<uint64_t>(hz / packets_per_second) : 0;

  rte_mbuf* staged[kBurst];
  uint16_t staged_count = 0;
  uint16_t staged_pos = 0;
  uint64_t generated = 0, passes = 0, empty_passes = 0, attempts = 0, full_attempts = 0;
  const uint64_t window_start = t0 + static_cast<uint64_t>(warmup_s * hz);
  const uint64_t end = window_start + static_cast<uint64_t>(window_s * hz);
  uint64_t next_send = t0;
  bool in_window = false;
  uint64_t sink_at_start = 0, started = 0, now = t0;
  double worker_cpu0 = 0, generator_cpu0 = 0;
  for (;;) {
    now = rte_get_tsc_cycles();
    if (!in_window && now >= window_start) {
      in_window = true;
      sink_at_start = sink_seen_;
      started = now;
      worker_cpu0 = ThreadCpuSeconds(worker_thread_);
      generator_cpu0 = ThreadCpuSeconds(pthread_self());
    }
    if (now >= end) break;
    if (in_window && now - last_pass > stall_cycles) {
      ++stalls;
      stall_max = std::max(stall_max, now - last_pass);
      latencies.after_stall = true;
      latencies.stall_start = last_pass;
    }
    last_pass = now;
    Drain(in_window && paced ? &latencies : nullptr, now);
    if (staged_pos == staged_count) {
      staged_count = Generate(staged, kBurst);
      staged_pos = 0;
      if (staged_count == 0) continue;  // every mbuf is in flight
    }
    uint16_t offer = static_cast<uint16_t>(staged_count - staged_pos);
    if (paced) {
      // One frame per interval; after a stall do not burst to catch up.
      if (now > next_send + hz / 1000) next_send = now;
      uint16_t due = 0;
      while (due < offer && next_send <= now) {
        ++due;
        next_send += interval;
      }
      if (due == 0) continue;
      offer = due;
    }
    for (uint16_t k = 0; k < offer; ++k) TscOf(staged[staged_pos + k], tsc_field) = now;
    ++passes;
    if (rte_ring_empty(ring_port_.rx)) ++empty_passes;
    unsigned sent = rte_ring_sp_enqueue_burst(ring_port_.rx,
                                              reinterpret_cast<void**>(staged + staged_pos),
                                              offer, nullptr);
    ++attempts;
    staged_pos = static_cast<uint16_t>(staged_pos + sent);
    generated += sent;
    if (sent < offer) {
      // The worker is behind: back off instead of hammering the ring's cache lines it uses.
      ++full_attempts;
      rte_delay_us_block(1);
    }
  }
  TrafficResult result;
  result.seconds = static_cast<double>(now - started) / static_cast<double>(hz);
  result.delivered = sink_seen_ - sink_at_start;
  if (result.seconds > 0) result.generator_stalls_per_s = static_cast<double>(stalls) / result.seconds;
  result.generator_stall_max_us = static_cast<double>(stall_max) * 1e6 / static_cast<double>(hz);
  if (result.seconds > 0) {
    result.worker_cpu_share = (ThreadCpuSeconds(worker_thread_) - worker_cpu0) / result.seconds;
    result.generator_cpu_share =
        (ThreadCpuSeconds(pthread_self()) - generator_cpu0) / result.seconds;
  }
  if (staged_pos < staged_count) rte_pktmbuf_free_bulk(staged + staged_pos, staged_count - staged_pos);

  // Let the worker finish: everything sent was received, and everything forwarded was taken.
  const uint64_t deadline = rte_get_tsc_cycles() + 5 * hz;
  while (rte_get_tsc_cycles() < deadline) {
    Drain(nullptr, rte_get_tsc_cycles());
    const uint64_t rx = wc.rx_packets.Get() - rx0;
    const uint64_t tx = wc.tx_packets.Get() - tx0;
    const uint64_t drops = WorkerDrops() - drops0;
    if (rx == generated && tx + drops == rx && sink_seen_ - sink0 == tx) break;
  }
  RelayEvent events[64];
  while (events_->Receive(events, 64) != 0) {
  }
  result.generated = generated;
  result.sink_total = sink_seen_ - sink0;
  result.worker_rx = wc.rx_packets.Get() - rx0;
  result.worker_tx = wc.tx_packets.Get() - tx0;
  result.punted = worker_->counters().punted.Get() - punted0;
  result.drops = WorkerDrops() - drops0 - result.punted;
  result.samples_checked = samples_checked_ - checked0;
  result.samples_failed = samples_failed_ - failed0;
  result.rx_ring_empty = passes ? static_cast<double>(empty_passes) / passes : 0;
  result.backpressure = attempts ? static_cast<double>(full_attempts) / attempts : 0;
  if (paced) {
    result.p50_us = Percentile(latencies.clean, 0.50);
    result.p99_us = Percentile(latencies.clean, 0.99);
    result.p999_us = Percentile(latencies.clean, 0.999);
    result.p99_all_us = Percentile(latencies.all, 0.99);
  }
  return result;
}

RelayRig::~RelayRig() {
  stop_.store(true);
  if (launched_) rte_eal_wait_lcore(options_.worker_lcore);
  // Commands the worker never took own their keys.
  if (commands_) {
    WorkerCommand left[16];
    unsigned n;
    while ((n = commands_->Receive(left, 16)) != 0) {
      for (unsigned i = 0; i < n; ++i) {
        if (left[i].type == WorkerCommand::Type::kInstallKeys) {
          delete static_cast<crypto::DtlsRecordKeys*>(left[i].payload);
        }
      }
    }
  }
  // Keys go back to their queues (the worker's lcore is stopped: this thread may use queue 0).
  if (legs_ && worker_) {
    crypto::RecordProtector release(BenchCryptodev().queue(0), {});
    for (uint32_t i = 0; i < legs_->capacity(); ++i) release.Release((*legs_)[i].record);
  }
  if (peers_) {
    for (uint32_t i = 0; i < options_.legs; ++i) peer_protector_->Release(peers_[i]);
  }
  worker_.reset();
  FreeRing(punt_);
  FreeRing(handoff_);
  ports_.reset();
  FreeRingPort(ring_port_);
  flows_.reset();
  rte_free(qsbr_);
  commands_.reset();
  events_.reset();
  if (pool_ != nullptr) rte_mempool_free(pool_);
}

}  // namespace t38relay::dataplane::bench
