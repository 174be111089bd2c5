// The relay's assembly and its control thread (see relay.h).
#include "dataplane/relay/relay.h"

#include <rte_bus_vdev.h>
#include <rte_cryptodev.h>
#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "crypto/cryptodev/cryptodev_backend.h"
#include "crypto/dtls/fingerprint.h"
#include "crypto/soft/soft_backend.h"
#include "dataplane/flowsock/protocol.h"
#include "dataplane/relay/punt.h"

namespace t38relay::dataplane {

namespace {

constexpr uint32_t kMailboxSize = 4096;
constexpr uint32_t kPuntRingSize = 4096;
constexpr uint32_t kHandoffRingSize = 4096;
constexpr uint64_t kIdleScanIntervalMs = 1000;
constexpr size_t kAnonymousPoolTarget = 4;

crypto::SdpSetup ToSdp(DtlsSetup setup) {
  switch (setup) {
    case DtlsSetup::kActive: return crypto::SdpSetup::kActive;
    case DtlsSetup::kPassive: return crypto::SdpSetup::kPassive;
    case DtlsSetup::kActpass: return crypto::SdpSetup::kActpass;
  }
  return crypto::SdpSetup::kActpass;
}

std::string_view FailureReason(uint8_t reason) {
  switch (static_cast<crypto::DtlsFailure>(reason)) {
    case crypto::DtlsFailure::kFingerprintMismatch: return "fingerprint-mismatch";
    case crypto::DtlsFailure::kTimeout: return "handshake-timeout";
    case crypto::DtlsFailure::kAlert: return "alert";
    case crypto::DtlsFailure::kProtocolError: return "protocol-error";
  }
  return "protocol-error";
}

DtlsRole ToProtocolRole(crypto::DtlsRole role) {
  return role == crypto::DtlsRole::kClient ? DtlsRole::kClient : DtlsRole::kServer;
}

// "sha-256 AB:CD" -> {"sha-256", "AB:CD"}.
FingerprintValue SplitSdpFingerprint(const std::string& sdp) {
  size_t space = sdp.find(' ');
  return FingerprintValue{sdp.substr(0, space), sdp.substr(space + 1)};
}

}  // namespace

Relay::Relay(const RelayConfig& config) : config_(config) {}

absl::StatusOr<std::unique_ptr<Relay>> Relay::Create(const RelayConfig& config) {
  std::unique_ptr<Relay> relay(new Relay(config));
  if (absl::Status s = relay->Init(); !s.ok()) return s;
  return relay;
}

absl::Status Relay::Init() {
  const uint16_t worker_count = static_cast<uint16_t>(config_.worker_lcores.size());
  if (worker_count == 0) return absl::InvalidArgumentError("no worker lcore: see --workers");
  const uint16_t handshake_count = static_cast<uint16_t>(config_.handshake_lcores.size());
  if (handshake_count == 0) {
    return absl::InvalidArgumentError("no handshake lcore: see --handshake");
  }
  if (absl::Status s = RegisterPuntInfo(); !s.ok()) return s;

  pool_ = rte_pktmbuf_pool_create("t38_mbufs", config_.mbufs, 256, 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (pool_ == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot allocate ", config_.mbufs, " mbufs: ", rte_strerror(rte_errno),
        " (give EAL more memory with -m, or lower \"mbufs\")"));
  }
  absl::StatusOr<std::unique_ptr<PortSet>> ports =
      PortSet::Open(config_.ports, static_cast<uint16_t>(worker_count + handshake_count),
                    static_cast<uint16_t>(worker_count + handshake_count), pool_);
  if (!ports.ok()) return ports.status();
  ports_ = std::move(*ports);
  neighbors_ = std::make_unique<NeighborTable>(4096);

  // Every relay address, in port order: the leg port ranges live on these.
  for (size_t p = 0; p < ports_->size(); ++p) {
    for (const InterfaceAddress& a : ports_->port(p).config.addresses) {
      RelayAddress address{a.ip, p, {}};
      for (uint32_t i = 0; i < config_.leg_port_count; ++i) {
        address.free_ports.push_back(static_cast<uint16_t>(config_.leg_port_first + i));
      }
      addresses_.push_back(std::move(address));
    }
  }
  if (addresses_.size() > DirectFlowTable::kMaxAddresses) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ports have ", addresses_.size(), " addresses; at most ",
                     DirectFlowTable::kMaxAddresses, " are supported"));
  }

  legs_ = std::make_unique<LegTable>(config_.leg_capacity);
  control_.resize(config_.leg_capacity);
  for (uint32_t i = config_.leg_capacity; i > 0; --i) free_indexes_.push_back(i - 1);

  const uint32_t readers = worker_count + handshake_count;
  size_t qsbr_size = rte_rcu_qsbr_get_memsize(readers);
  qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("t38_qsbr", qsbr_size, RTE_CACHE_LINE_SIZE));
  if (qsbr_ == nullptr || rte_rcu_qsbr_init(qsbr_, readers) != 0) {
    return absl::ResourceExhaustedError("cannot allocate the RCU state");
  }
  DirectFlowTableConfig table_config;
  table_config.port_base = config_.leg_port_first;
  table_config.port_count = config_.leg_port_count;
  for (const RelayAddress& a : addresses_) table_config.addresses.push_back(a.ip);
  table_config.qsbr = qsbr_;
  for (uint16_t w = 0; w < worker_count; ++w) {
    absl::StatusOr<std::unique_ptr<DirectFlowTable>> table = DirectFlowTable::Create(table_config);
    if (!table.ok()) return table.status();
    shards_.push_back(std::move(*table));
  }

  if (absl::Status s = InitBackends(); !s.ok()) return s;

  absl::StatusOr<std::unique_ptr<Mailbox<RelayEvent>>> events =
      Mailbox<RelayEvent>::Create("t38_events", kMailboxSize);
  if (!events.ok()) return events.status();
  events_ = std::move(*events);
  for (uint16_t h = 0; h < handshake_count; ++h) {
    absl::StatusOr<std::unique_ptr<Mailbox<HandshakeCommandRef>>> handshake_mail =
        Mailbox<HandshakeCommandRef>::Create(absl::StrCat("t38_hs", h, "_cmd"), kMailboxSize);
    if (!handshake_mail.ok()) return handshake_mail.status();
    handshake_mail_.push_back(std::move(*handshake_mail));
    rte_ring* punt = rte_ring_create(absl::StrCat("t38_hs", h, "_punt").c_str(), kPuntRingSize,
                                     SOCKET_ID_ANY, RING_F_SC_DEQ);
    if (punt == nullptr) return absl::ResourceExhaustedError("cannot create a punt ring");
    punt_.push_back(punt);
  }
  for (uint16_t w = 0; w < worker_count; ++w) {
    absl::StatusOr<std::unique_ptr<Mailbox<WorkerCommand>>> mail =
        Mailbox<WorkerCommand>::Create(absl::StrCat("t38_w", w, "_cmd"), kMailboxSize);
    if (!mail.ok()) return mail.status();
    worker_mail_.push_back(std::move(*mail));
    rte_ring* handoff = rte_ring_create(absl::StrCat("t38_w", w, "_handoff").c_str(),
                                        kHandoffRingSize, SOCKET_ID_ANY, RING_F_SC_DEQ);
    if (handoff == nullptr) return absl::ResourceExhaustedError("cannot create a hand-off ring");
    handoff_.push_back(handoff);
  }
  for (uint16_t w = 0; w < worker_count; ++w) {
    WorkerContext context;
    context.index = w;
    context.worker_count = worker_count;
    context.ports = ports_.get();
    context.neighbors = neighbors_.get();
    context.legs = legs_.get();
    context.flows = shards_[w].get();
    context.qsbr = qsbr_;
    if (cryptodev_) {
      context.cryptodev = &cryptodev_->queue(w);
      context.backend = context.cryptodev;
    } else {
      context.backend = soft_backends_[w].get();
    }
    context.previous_epoch_grace_ms = config_.epoch_grace_ms;
    context.commands = worker_mail_[w].get();
    context.events = events_.get();
    context.punt = punt_;
    context.handoff = handoff_;
    context.leg_port_first = config_.leg_port_first;
    context.leg_port_count = config_.leg_port_count;
    context.pool = pool_;
    workers_.push_back(std::make_unique<Worker>(context));
  }
  crypto::DtlsContextOptions dtls;
  dtls.mtu = config_.dtls.mtu;
  dtls.initial_timeout_s =
      static_cast<int>(std::max<uint32_t>(1, config_.dtls.initial_timeout_ms / 1000));
  dtls.max_timeout_s = static_cast<int>(std::max<uint32_t>(1, config_.dtls.max_timeout_ms / 1000));
  for (uint16_t h = 0; h < handshake_count; ++h) {
    HandshakeContext hs;
    hs.index = h;
    hs.tx_queue = worker_count + h;
    hs.rx_queue = worker_count + h;
    hs.handoff = handoff_[0];
    hs.qsbr_thread_id = worker_count + h;
    hs.ports = ports_.get();
    hs.neighbors = neighbors_.get();
    hs.legs = legs_.get();
    hs.qsbr = qsbr_;
    hs.pool = pool_;
    hs.punt = punt_[h];
    hs.responder_punt = punt_[0];
    hs.commands = handshake_mail_[h].get();
    for (auto& mail : worker_mail_) hs.workers.push_back(mail.get());
    hs.events = events_.get();
    hs.dtls = dtls;
    absl::StatusOr<std::unique_ptr<HandshakeLcore>> handshake = HandshakeLcore::Create(hs);
    if (!handshake.ok()) return handshake.status();
    handshakes_.push_back(std::move(*handshake));
  }

  if (config_.dtls.certificate) {
    absl::StatusOr<std::shared_ptr<const crypto::Identity>> identity =
        crypto::Identity::LoadPem(*config_.dtls.certificate, *config_.dtls.private_key);
    if (!identity.ok()) return identity.status();
    identity_ = *identity;
  } else if (!config_.dtls.per_call_identity) {
    absl::StatusOr<std::shared_ptr<const crypto::Identity>> identity =
        crypto::Identity::Generate(config_.dtls.key_type);
    if (!identity.ok()) return identity.status();
    identity_ = *identity;
  }
  // Fresh identities: for every dtls leg with dtls.per_call_identity, else for anonymous legs
  // only (a few kept ready: generating RSA keys costs tens of milliseconds each).
  identity_pool_ = std::make_unique<crypto::IdentityPool>(crypto::IdentityPool::Options{
      .key_type = config_.dtls.key_type,
      .target = config_.dtls.per_call_identity
                    ? config_.dtls.identity_pool
                    : std::min<size_t>(config_.dtls.identity_pool, kAnonymousPoolTarget)});

  // The default lives in /run/t38relay, which a fresh machine does not have.
  std::string directory = config_.socket_path.substr(0, config_.socket_path.rfind('/'));
  if (!directory.empty() && mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create the flow socket's directory ", directory, ": ", strerror(errno)));
  }
  FlowSocketServer::Options options;
  options.path = config_.socket_path;
  options.group = config_.socket_group;
  options.max_clients = config_.max_clients;
  absl::StatusOr<std::unique_ptr<FlowSocketServer>> server =
      FlowSocketServer::Create(options, this);
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  return absl::OkStatus();
}

absl::Status Relay::InitBackends() {
  const uint16_t worker_count = static_cast<uint16_t>(config_.worker_lcores.size());
  if (config_.crypto == CryptoBackendKind::kSoft) {
    for (uint16_t w = 0; w < worker_count; ++w) {
      soft_backends_.push_back(std::make_unique<crypto::SoftBackend>());
    }
    return absl::OkStatus();
  }
  std::string device = config_.crypto_device;
  if (rte_cryptodev_get_dev_id(device.c_str()) < 0) {
    std::string vdev = absl::StrCat(device, "0");
    if (rte_cryptodev_get_dev_id(vdev.c_str()) < 0 && rte_vdev_init(vdev.c_str(), nullptr) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "no cryptodev '", device, "' and cannot create the vdev ", vdev,
          ": pass --vdev=", vdev, " to EAL, or use --crypto soft"));
    }
    device = vdev;
  }
  crypto::CryptodevConfig config;
  config.device = device;
  config.queue_pairs = worker_count;
  config.max_keys = std::min<uint32_t>(2 * config_.leg_capacity + 64, 1u << 20);
  absl::StatusOr<std::unique_ptr<crypto::CryptodevDevice>> opened =
      crypto::CryptodevDevice::Open(config);
  if (!opened.ok()) return opened.status();
  cryptodev_ = std::move(*opened);
  return absl::OkStatus();
}

Relay::~Relay() {
  server_.reset();
  // Keys go back to the backends before the backends go: the lcores have stopped, so each
  // worker's protector may be used from here.
  for (uint32_t i = 0; i < (legs_ ? legs_->capacity() : 0); ++i) {
    Leg& leg = (*legs_)[i];
    if (control_[i].life == ControlLeg::Life::kFree) continue;
    if (leg.worker < workers_.size()) workers_[leg.worker]->ReleaseLeg(leg);
    delete leg.ice;
    leg.ice = nullptr;
  }
  handshakes_.clear();
  workers_.clear();
  cryptodev_.reset();
  soft_backends_.clear();
  // Commands still queued own their payloads; the relay is going away with them.
  for (rte_ring* ring : handoff_) {
    void* m;
    while (rte_ring_dequeue(ring, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(ring);
  }
  for (rte_ring* ring : punt_) {
    void* m;
    while (rte_ring_dequeue(ring, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(ring);
  }
  shards_.clear();
  rte_free(qsbr_);
  ports_.reset();
  if (pool_ != nullptr) rte_mempool_free(pool_);
}

absl::Status Relay::Run(const std::atomic<bool>& stop) {
  lcores_stop_.store(false);
  struct Launch {
    Relay* relay;
    bool handshake;
    size_t index;  // of the worker or handshake lcore
    unsigned lcore;
  };
  std::vector<Launch> launches;
  for (size_t w = 0; w < workers_.size(); ++w) {
    launches.push_back({this, false, w, config_.worker_lcores[w]});
  }
  for (size_t h = 0; h < handshakes_.size(); ++h) {
    launches.push_back({this, true, h, config_.handshake_lcores[h]});
  }
  auto body = [](void* arg) -> int {
    auto* launch = static_cast<Launch*>(arg);
    Relay& relay = *launch->relay;
    if (launch->handshake) {
      relay.handshakes_[launch->index]->Run(relay.lcores_stop_);
    } else {
      relay.workers_[launch->index]->Run(relay.lcores_stop_);
    }
    return 0;
  };
  for (Launch& launch : launches) {
    if (rte_eal_remote_launch(body, &launch, launch.lcore) != 0) {
      lcores_stop_.store(true);
      rte_eal_mp_wait_lcore();
      return absl::InternalError(absl::StrCat("cannot launch ",
                                              launch.handshake ? "handshake" : "worker",
                                              " lcore ", launch.lcore));
    }
  }
  while (!stop.load(std::memory_order_relaxed)) {
    server_->Poll(5);
    ControlPass();
  }
  lcores_stop_.store(true);
  rte_eal_mp_wait_lcore();
  for (auto& worker : workers_) worker->SendCloseNotify();
  DrainEvents();
  return absl::OkStatus();
}

void Relay::ControlPass() {
  DrainEvents();
  Reclaim();
  uint64_t now = RelayNowMs();
  if (now >= next_idle_scan_ms_) {
    ScanIdle(now);
    next_idle_scan_ms_ = now + kIdleScanIntervalMs;
  }
}

void Relay::DrainEvents() {
  std::array<RelayEvent, 64> events;
  unsigned n;
  while ((n = events_->Receive(events.data(), events.size())) != 0) {
    for (unsigned i = 0; i < n; ++i) {
      const RelayEvent& e = events[i];
      uint32_t index = LegIndexOf(e.leg_id);
      if (index >= control_.size()) continue;
      ControlLeg& c = control_[index];
      if (e.type == RelayEvent::Type::kReleased) {
        if (c.life == ControlLeg::Life::kDeleting) FreeSlot(index);
        continue;
      }
      if (c.life != ControlLeg::Life::kLive || (*legs_)[index].id.load() != e.leg_id) continue;
      switch (e.type) {
        case RelayEvent::Type::kLatched:
          server_->Publish(MakeLatchedEvent(e.leg_id, e.address));
          break;
        case RelayEvent::Type::kHandshaking:
          // Late news of a leg control has since switched to plain.
          if ((*legs_)[index].transport.load() != LegTransport::kDtls) break;
          c.handshaking = true;
          c.role = static_cast<crypto::DtlsRole>(e.role);
          break;
        case RelayEvent::Type::kEstablished:
          c.role = static_cast<crypto::DtlsRole>(e.role);
          server_->Publish(MakeEstablishedEvent(e.leg_id, ToProtocolRole(*c.role),
                                                e.cipher_suite ? e.cipher_suite : ""));
          break;
        case RelayEvent::Type::kFailed:
          server_->Publish(MakeFailedEvent(e.leg_id, FailureReason(e.reason)));
          break;
        case RelayEvent::Type::kReleased:
          break;
      }
    }
  }
}

void Relay::Reclaim() {
  for (auto& shard : shards_) shard->Reclaim(&release_pending_);
  // No reader holds these legs any more: their owners may free the keys.
  size_t kept = 0;
  for (uint32_t index : release_pending_) {
    uint64_t old_id = uint64_t{control_[index].generation} << 32 | index;
    if (!worker_mail_[(*legs_)[index].worker]->Send(
            WorkerCommand{.type = WorkerCommand::Type::kRelease, .leg_id = old_id})) {
      release_pending_[kept++] = index;  // the worker is busy: next pass
    }
  }
  release_pending_.resize(kept);
}

void Relay::FreeSlot(uint32_t index) {
  ControlLeg& c = control_[index];
  Leg& leg = (*legs_)[index];
  addresses_[c.address_index].free_ports.push_back(leg.local.port);
  uint32_t generation = c.generation;
  c = ControlLeg{};
  c.generation = generation;
  free_indexes_.push_back(index);
}

void Relay::ScanIdle(uint64_t now_ms) {
  if (config_.idle_timeout_s == 0) return;
  const uint64_t limit = uint64_t{config_.idle_timeout_s} * 1000;
  for (uint32_t i = 0; i < control_.size(); ++i) {
    ControlLeg& c = control_[i];
    if (c.life != ControlLeg::Life::kLive) continue;
    uint64_t last = (*legs_)[i].last_rx_ms.load(std::memory_order_relaxed);
    if (last != c.last_seen_rx_ms) {
      c.last_seen_rx_ms = last;
      c.idle_reported = false;
    }
    uint64_t since = std::max(last, c.created_ms);
    if (!c.idle_reported && now_ms - since >= limit) {
      c.idle_reported = true;
      server_->Publish(MakeIdleEvent((*legs_)[i].id.load(), (now_ms - since) / 1000));
    }
  }
}

Leg* Relay::FindLive(uint64_t id) {
  Leg* leg = legs_->Find(id);
  if (leg == nullptr || control_[LegIndexOf(id)].life != ControlLeg::Life::kLive) return nullptr;
  return leg;
}

absl::StatusOr<std::optional<crypto::DtlsRole>> Relay::ResolveRole(
    DtlsSetup local, std::optional<DtlsSetup> remote) const {
  if (remote) {
    absl::StatusOr<crypto::DtlsRole> role = crypto::ResolveDtlsRole(ToSdp(local), ToSdp(*remote));
    if (!role.ok()) return absl::InvalidArgumentError(role.status().message());
    return std::optional<crypto::DtlsRole>(*role);
  }
  if (local == DtlsSetup::kActive) return std::optional<crypto::DtlsRole>(crypto::DtlsRole::kClient);
  if (local == DtlsSetup::kPassive) return std::optional<crypto::DtlsRole>(crypto::DtlsRole::kServer);
  return std::optional<crypto::DtlsRole>();
}

absl::StatusOr<std::vector<crypto::Fingerprint>> Relay::ParseFingerprints(
    const std::vector<FingerprintValue>& values) const {
  std::vector<crypto::Fingerprint> out;
  for (size_t i = 0; i < values.size(); ++i) {
    absl::StatusOr<crypto::Fingerprint> f =
        crypto::ParseFingerprint(absl::StrCat(values[i].hash, " ", values[i].value));
    if (!f.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("fingerprints[", i, "]: ", f.status().message()));
    }
    out.push_back(std::move(*f));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const crypto::Identity>> Relay::TakeIdentity(bool anonymous) {
  if (identity_ && !anonymous) return identity_;
  absl::StatusOr<std::shared_ptr<const crypto::Identity>> identity = identity_pool_->Take();
  if (!identity.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "no per-call identity ready (", identity.status().message(),
        "): retry shortly, or raise dtls.identity_pool"));
  }
  return identity;
}

absl::Status Relay::SendToWorker(const Leg& leg, const WorkerCommand& command) {
  if (worker_mail_[leg.worker]->Send(command)) return absl::OkStatus();
  ++commands_lost_;
  return absl::UnavailableError("the worker's command queue is full: retry");
}

Mailbox<HandshakeCommandRef>& Relay::HandshakeMailOf(uint64_t id) {
  return *handshake_mail_[HandshakeLcoreOfLeg(id, static_cast<uint16_t>(handshake_mail_.size()))];
}

void Relay::ForgetHandshake(uint64_t id) {
  auto* command = new HandshakeCommand;
  command->type = HandshakeCommand::Type::kForget;
  command->leg_id = id;
  if (!HandshakeMailOf(id).Send(HandshakeCommandRef{command})) {
    delete command;
    ++commands_lost_;
  }
}

absl::Status Relay::ConfigureHandshake(uint64_t id, const ControlLeg& control,
                                       std::vector<crypto::Fingerprint> fingerprints,
                                       std::optional<SocketAddress> remote) {
  auto* command = new HandshakeCommand;
  command->type = HandshakeCommand::Type::kConfigure;
  command->leg_id = id;
  command->role = control.role;
  command->identity = control.identity;
  command->peer_fingerprints = std::move(fingerprints);
  command->remote = remote;
  if (HandshakeMailOf(id).Send(HandshakeCommandRef{command})) return absl::OkStatus();
  delete command;
  ++commands_lost_;
  return absl::UnavailableError("the handshake lcore's command queue is full: retry");
}

HelloInfo Relay::Hello() {
  HelloInfo hello;
  hello.version = kRelayVersion;
  hello.workers = static_cast<uint32_t>(workers_.size());
  for (const RelayAddress& a : addresses_) hello.addresses.push_back(a.ip);
  hello.leg_ports_first = config_.leg_port_first;
  hello.leg_ports_count = config_.leg_port_count;
  return hello;
}

absl::StatusOr<LegAddResult> Relay::AddLeg(const LegAddRequest& request) {
  // Which address.
  std::optional<size_t> address_index;
  for (size_t i = 0; i < addresses_.size(); ++i) {
    const IpAddress& ip = addresses_[i].ip;
    if (request.ip ? ip == *request.ip
                   : ip.family == (request.family ? *request.family : IpFamily::kV4)) {
      address_index = i;
      break;
    }
  }
  if (!address_index) {
    std::vector<std::string> ours;
    for (const RelayAddress& a : addresses_) ours.push_back(a.ip.ToString());
    return absl::InvalidArgumentError(absl::StrCat(
        request.ip ? absl::StrCat("ip ", request.ip->ToString(), " is not a relay address")
                   : std::string("the relay has no address of that family"),
        "; the relay's addresses are ", absl::StrJoin(ours, ", ")));
  }
  RelayAddress& address = addresses_[*address_index];
  if (request.remote && request.remote->ip.family != address.ip.family) {
    return absl::InvalidArgumentError(absl::StrCat(
        "remote ", request.remote->ToString(), " is not of the local address's family (",
        address.ip.ToString(), ")"));
  }
  ControlLeg draft;
  std::vector<crypto::Fingerprint> fingerprints;
  if (request.transport == LegTransport::kDtls) {
    absl::StatusOr<std::optional<crypto::DtlsRole>> role =
        ResolveRole(request.setup, request.remote_setup);
    if (!role.ok()) return role.status();
    absl::StatusOr<std::vector<crypto::Fingerprint>> parsed = ParseFingerprints(request.fingerprints);
    if (!parsed.ok()) return parsed.status();
    absl::StatusOr<std::shared_ptr<const crypto::Identity>> identity = TakeIdentity(request.anonymous);
    if (!identity.ok()) return identity.status();
    draft.role = *role;
    draft.setup = request.setup;
    draft.remote_setup = request.remote_setup;
    draft.fingerprints = request.fingerprints;
    draft.identity = *identity;
    draft.local_fingerprint = SplitSdpFingerprint((*identity)->SdpFingerprint());
    fingerprints = std::move(*parsed);
  }
  if (free_indexes_.empty()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "all ", config_.leg_capacity, " legs are in use (legs.capacity)"));
  }
  const uint32_t last_port = config_.leg_port_first + config_.leg_port_count - 1;
  auto port_slot = address.free_ports.begin();
  if (request.port) {
    if (*request.port < config_.leg_port_first || *request.port > last_port) {
      return absl::InvalidArgumentError(absl::StrCat(
          "port ", *request.port, " is outside leg_ports ", config_.leg_port_first, "..",
          last_port));
    }
    // A linear search: only control re-programming a restarted dataplane asks for a port.
    port_slot = std::find(address.free_ports.begin(), address.free_ports.end(), *request.port);
    if (port_slot == address.free_ports.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "port ", *request.port, " on ", address.ip.ToString(), " is in use (or not yet free)"));
    }
  } else if (address.free_ports.empty()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "no free port left on ", address.ip.ToString(), " in ", config_.leg_port_first, "..",
        last_port, " (leg_ports)"));
  }
  uint32_t index = free_indexes_.back();
  uint16_t port = *port_slot;
  Leg& leg = (*legs_)[index];
  ControlLeg& c = control_[index];
  uint32_t generation = c.generation + 1;
  if (generation >= (1u << 21)) generation = 1;  // ids stay below 2^53 (JSON numbers)
  uint64_t id = uint64_t{generation} << 32 | index;

  leg.transport = request.transport;
  leg.port_index = static_cast<uint16_t>(address.port_index);
  leg.local = SocketAddress{address.ip, port};
  leg.worker = OwnerOfPort(port, config_.leg_port_first, static_cast<uint16_t>(workers_.size()));
  leg.peer.store(kNoLegId);
  leg.state.store(request.transport == LegTransport::kPlain ? LegPhase::kPlain
                                                            : LegPhase::kWaiting);
  if (request.remote) {
    leg.remote.Store(*request.remote);
  } else {
    leg.remote.Clear();
  }
  leg.latch = request.latch;
  leg.latched = false;
  delete leg.ice;
  leg.ice = request.ice ? new IceCredentials(*request.ice) : nullptr;
  leg.last_rx_ms.store(0);
  leg.has_udptl_seq = false;
  LegStats& stats = leg.counters;
  for (Counter* counter : {&stats.rx_packets, &stats.rx_bytes, &stats.forwarded_packets,
                           &stats.forwarded_bytes, &stats.stun_answered, &stats.udptl_packets,
                           &stats.udptl_seq_gaps, &stats.udptl_malformed,
                           &stats.udptl_recovered}) {
    counter->Reset();
  }
  for (Counter& drop : leg.drops) drop.Reset();

  leg.id.store(id, std::memory_order_release);
  if (absl::Status s = shards_[leg.worker]->Add(FlowKey::Of(leg.local), index); !s.ok()) {
    leg.id.store(kNoLegId);
    return s;
  }
  free_indexes_.pop_back();
  address.free_ports.erase(port_slot);
  draft.life = ControlLeg::Life::kLive;
  draft.generation = generation;
  draft.address_index = *address_index;
  draft.created_ms = RelayNowMs();
  draft.label = request.label;
  c = std::move(draft);
  if (request.transport == LegTransport::kDtls) {
    if (absl::Status s = ConfigureHandshake(id, c, std::move(fingerprints), request.remote);
        !s.ok()) {
      DeleteLeg(id).IgnoreError();
      return s;
    }
  }
  LegAddResult result;
  result.leg = id;
  result.local = leg.local;
  result.fingerprint = c.local_fingerprint;
  result.setup = request.setup;
  return result;
}

absl::Status Relay::UpdateLeg(const LegUpdateRequest& request) {
  Leg* leg = FindLive(request.leg);
  if (leg == nullptr) return absl::NotFoundError(absl::StrCat("no leg ", request.leg));
  ControlLeg& c = control_[LegIndexOf(request.leg)];
  const LegTransport transport = leg->transport.load();
  std::optional<LegTransport> switch_to;
  if (request.transport && *request.transport != transport) {
    if (*request.transport == LegTransport::kDtls && c.identity == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "leg ", request.leg, " was added plain and has no certificate: add a dtls leg"));
    }
    if (*request.transport == LegTransport::kPlain &&
        (c.handshaking || leg->state.load() == LegPhase::kEstablished)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "leg ", request.leg, " has a DTLS handshake or association: add a plain leg instead"));
    }
    switch_to = request.transport;
  }
  const bool dtls = switch_to.value_or(transport) == LegTransport::kDtls;
  if (!dtls && (request.setup || request.remote_setup || request.fingerprints)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leg ", request.leg, " is plain: setup, remote_setup and fingerprints apply to dtls legs"));
  }
  if (request.remote && request.remote->ip.family != leg->local.ip.family) {
    return absl::InvalidArgumentError(absl::StrCat(
        "remote ", request.remote->ToString(), " is not of the leg's family (local ",
        leg->local.ToString(), ")"));
  }
  // Validate everything first: all or nothing.
  DtlsSetup setup = request.setup.value_or(c.setup);
  std::optional<DtlsSetup> remote_setup = request.remote_setup ? request.remote_setup : c.remote_setup;
  std::optional<crypto::DtlsRole> role = c.role;
  std::vector<crypto::Fingerprint> fingerprints;
  if (dtls) {
    absl::StatusOr<std::optional<crypto::DtlsRole>> resolved = ResolveRole(setup, remote_setup);
    if (!resolved.ok()) return resolved.status();
    if (!c.handshaking) role = *resolved;
    absl::StatusOr<std::vector<crypto::Fingerprint>> parsed =
        ParseFingerprints(request.fingerprints.value_or(c.fingerprints));
    if (!parsed.ok()) return parsed.status();
    fingerprints = std::move(*parsed);
  }
  if (switch_to) {
    if (absl::Status s = SendToWorker(*leg, {.type = WorkerCommand::Type::kSetTransport,
                                             .transport = static_cast<uint8_t>(*switch_to),
                                             .leg_id = request.leg});
        !s.ok()) {
      return s;
    }
    // The certificate and the setup stay with the leg for a switch back (an undo).
    if (*switch_to == LegTransport::kPlain) ForgetHandshake(request.leg);
    c.handshaking = false;
  }
  if (request.remote) {
    if (absl::Status s = SendToWorker(*leg, {.type = WorkerCommand::Type::kSetRemote,
                                             .leg_id = request.leg,
                                             .address = *request.remote});
        !s.ok()) {
      return s;
    }
  }
  if (request.latch) {
    if (absl::Status s = SendToWorker(*leg, {.type = WorkerCommand::Type::kSetLatch,
                                             .latch = static_cast<uint8_t>(*request.latch),
                                             .leg_id = request.leg});
        !s.ok()) {
      return s;
    }
  }
  if (request.ice) {
    auto* ice = new IceCredentials(*request.ice);
    if (absl::Status s = SendToWorker(*leg, {.type = WorkerCommand::Type::kSetIce,
                                             .leg_id = request.leg, .payload = ice});
        !s.ok()) {
      delete ice;
      return s;
    }
  }
  if (request.label) c.label = *request.label;
  if (dtls) {
    c.setup = setup;
    c.remote_setup = remote_setup;
    c.role = role;
    if (request.fingerprints) c.fingerprints = *request.fingerprints;
    std::optional<SocketAddress> remote = request.remote;
    if (!remote) {
      SocketAddress current;
      if (leg->remote.Load(&current)) remote = current;
    }
    return ConfigureHandshake(request.leg, c, std::move(fingerprints), remote);
  }
  return absl::OkStatus();
}

absl::Status Relay::LinkLegs(uint64_t a, uint64_t b) {
  Leg* leg_a = FindLive(a);
  Leg* leg_b = FindLive(b);
  if (leg_a == nullptr) return absl::NotFoundError(absl::StrCat("no leg ", a));
  if (leg_b == nullptr) return absl::NotFoundError(absl::StrCat("no leg ", b));
  uint64_t peer_a = leg_a->peer.load();
  uint64_t peer_b = leg_b->peer.load();
  if (peer_a == b && peer_b == a) return absl::OkStatus();
  if (peer_a != kNoLegId) {
    return absl::FailedPreconditionError(
        absl::StrCat("leg ", a, " is already linked to leg ", peer_a, ": delete one first"));
  }
  if (peer_b != kNoLegId) {
    return absl::FailedPreconditionError(
        absl::StrCat("leg ", b, " is already linked to leg ", peer_b, ": delete one first"));
  }
  leg_a->peer.store(b, std::memory_order_release);
  leg_b->peer.store(a, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status Relay::DeleteLeg(uint64_t id) {
  Leg* leg = FindLive(id);
  if (leg == nullptr) return absl::NotFoundError(absl::StrCat("no leg ", id));
  uint32_t index = LegIndexOf(id);
  ControlLeg& c = control_[index];
  uint64_t peer_id = leg->peer.exchange(kNoLegId);
  if (Leg* peer = legs_->Find(peer_id)) {
    uint64_t expected = id;
    peer->peer.compare_exchange_strong(expected, kNoLegId);
  }
  if (c.identity != nullptr) ForgetHandshake(id);
  // Readers may still hold the index: the owner frees the state once the table has reclaimed it.
  leg->id.store(kNoLegId, std::memory_order_release);
  c.life = ControlLeg::Life::kDeleting;
  c.identity.reset();
  return shards_[leg->worker]->Remove(FlowKey::Of(leg->local));
}

LegInfo Relay::InfoOf(uint32_t index) const {
  const Leg& leg = (*legs_)[index];
  const ControlLeg& c = control_[index];
  LegInfo info;
  info.leg = leg.id.load();
  info.transport = leg.transport.load();
  switch (leg.state.load()) {
    case LegPhase::kPlain: info.state = LegState::kPlain; break;
    case LegPhase::kEstablished:
    case LegPhase::kRekeying: info.state = LegState::kEstablished; break;
    case LegPhase::kFailed: info.state = LegState::kFailed; break;
    default: info.state = c.handshaking ? LegState::kHandshaking : LegState::kWaiting; break;
  }
  info.local = leg.local;
  SocketAddress remote;
  if (leg.remote.Load(&remote)) info.remote = remote;
  info.latched = leg.latched.load();
  if (uint64_t peer = leg.peer.load(); peer != kNoLegId) info.peer = peer;
  info.label = c.label;
  if (info.transport == LegTransport::kDtls) {
    info.setup = c.setup;
    if (c.role) info.role = ToProtocolRole(*c.role);
    info.fingerprint = c.local_fingerprint;
  }
  const LegStats& s = leg.counters;
  info.counters.rx_packets = s.rx_packets.Get();
  info.counters.rx_bytes = s.rx_bytes.Get();
  info.counters.forwarded_packets = s.forwarded_packets.Get();
  info.counters.forwarded_bytes = s.forwarded_bytes.Get();
  for (size_t r = 0; r < kDropReasonCount; ++r) {
    if (uint64_t n = leg.drops[r].Get(); n != 0) {
      info.counters.drops.emplace_back(std::string(DropReasonName(static_cast<DropReason>(r))), n);
    }
  }
  info.udptl.packets = s.udptl_packets.Get();
  info.udptl.seq_gaps = s.udptl_seq_gaps.Get();
  info.udptl.recovered = s.udptl_recovered.Get();
  return info;
}

absl::StatusOr<LegInfo> Relay::GetLeg(uint64_t id) {
  if (FindLive(id) == nullptr) return absl::NotFoundError(absl::StrCat("no leg ", id));
  return InfoOf(LegIndexOf(id));
}

std::vector<LegInfo> Relay::ListLegs() {
  std::vector<LegInfo> out;
  for (uint32_t i = 0; i < control_.size(); ++i) {
    if (control_[i].life == ControlLeg::Life::kLive) out.push_back(InfoOf(i));
  }
  return out;
}

nlohmann::json Relay::Stats() {
  nlohmann::json stats;
  size_t live = 0;
  for (const ControlLeg& c : control_) live += c.life == ControlLeg::Life::kLive;
  stats["legs"] = {{"active", live}, {"capacity", config_.leg_capacity}};
  nlohmann::json workers = nlohmann::json::array();
  for (size_t w = 0; w < workers_.size(); ++w) {
    const WorkerCounters& wc = workers_[w]->counters();
    nlohmann::json drops = nlohmann::json::object();
    for (size_t r = 0; r < kDropReasonCount; ++r) {
      if (uint64_t n = wc.drops[r].Get(); n != 0) {
        drops[std::string(DropReasonName(static_cast<DropReason>(r)))] = n;
      }
    }
    workers.push_back({{"lcore", config_.worker_lcores[w]},
                       {"rx_packets", wc.rx_packets.Get()},
                       {"tx_packets", wc.tx_packets.Get()},
                       {"punted", wc.punted.Get()},
                       {"handed_off", wc.handed_off.Get()},
                       {"commands", wc.commands.Get()},
                       {"drops", drops}});
  }
  stats["workers"] = workers;
  nlohmann::json handshakes = nlohmann::json::array();
  for (size_t h = 0; h < handshakes_.size(); ++h) {
    const HandshakeLcore& lcore = *handshakes_[h];
    const HandshakeCounters& hc = lcore.counters();
    // What control lost on its side (events it could not take, commands it could not send) is
    // counted with the first lcore.
    const uint64_t control_events_lost = h == 0 ? events_->full() : 0;
    const uint64_t control_commands_lost = h == 0 ? commands_lost_ : 0;
    nlohmann::json entry = {{"lcore", config_.handshake_lcores[h]},
                            {"engines", lcore.engines()},
                            {"punted", hc.punted.Get()},
                            {"handshake_datagrams", hc.handshake_datagrams.Get()},
                            {"cookies_sent", hc.cookies_sent.Get()},
                            {"engines_created", hc.engines_created.Get()},
                            {"established", hc.established.Get()},
                            {"failed", hc.failed.Get()},
                            {"alerts", hc.alerts.Get()},
                            {"no_flow", hc.no_flow.Get()},
                            {"wrong_source", hc.wrong_source.Get()},
                            {"not_client_hello", hc.not_client_hello.Get()},
                            {"engine_errors", hc.engine_errors.Get()},
                            {"tx_alloc_failed", hc.tx_alloc_failed.Get()},
                            {"rx_handed_off", hc.rx_handed_off.Get()},
                            {"rx_dropped", hc.rx_dropped.Get()},
                            {"responder_dropped", hc.responder_dropped.Get()},
                            {"tx_dropped", hc.tx_dropped.Get()},
                            {"events_lost", hc.events_lost.Get() + control_events_lost},
                            {"commands_lost", hc.commands_lost.Get() + control_commands_lost},
                            {"late_records", hc.late_records.Get()},
                            {"renewals", hc.renewals.Get()},
                            {"renewals_failed", hc.renewals_failed.Get()}};
    if (const NeighborResponder* responder = lcore.responder()) {
      nlohmann::json neighbor = nlohmann::json::object();
      responder->counters().ForEach(
          [&](std::string_view name, uint64_t value) { neighbor[std::string(name)] = value; });
      entry["neighbor"] = neighbor;
    }
    handshakes.push_back(entry);
  }
  stats["handshake"] = handshakes;
  nlohmann::json ports = nlohmann::json::array();
  for (size_t p = 0; p < ports_->size(); ++p) {
    nlohmann::json port = {{"name", ports_->port(p).name}};
    if (absl::StatusOr<PortStats> ps = ports_->Stats(p); ps.ok()) {
      ps->ForEach([&](std::string_view name, uint64_t value) {
        std::string key(name);
        std::replace(key.begin(), key.end(), '-', '_');
        port[key] = value;
      });
    }
    ports.push_back(port);
  }
  stats["ports"] = ports;
  return stats;
}

}  // namespace t38relay::dataplane
