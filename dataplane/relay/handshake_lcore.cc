// The handshake lcore (see handshake_lcore.h).
#include "dataplane/relay/handshake_lcore.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include <cstring>
#include <thread>

#include "crypto/dtls/cookie.h"
#include "crypto/record/record_keys.h"
#include "dataplane/relay/punt.h"
#include "dataplane/wire/packet.h"

namespace t38relay::dataplane {

struct HandshakeLcore::Flow : crypto::DtlsEngine::Delegate {
  HandshakeLcore* lcore = nullptr;
  uint64_t leg_id = 0;
  std::optional<crypto::DtlsRole> role;
  std::shared_ptr<const crypto::Identity> identity;
  std::vector<crypto::Fingerprint> peer_fingerprints;
  std::optional<SocketAddress> remote;  // programmed by control (a client connects to it)
  std::unique_ptr<crypto::DtlsEngine> engine;
  crypto::DtlsRole engine_role = crypto::DtlsRole::kServer;
  SocketAddress peer;
  std::optional<uint64_t> scheduled;  // the deadline in timers_
  bool associated = false;  // an association was established: its keys are in the fast path
  bool renewing = false;    // the engine would replace it
  std::array<uint8_t, 32> client_random{};  // of the ClientHello that started the engine

  void SendDatagram(dataplane::Bytes datagram) override {
    lcore->SendDatagram(leg_id, peer, datagram);
  }
  void OnEstablished(const crypto::DtlsRecordKeys& keys) override {
    if (renewing) lcore->counters_.renewals.Add();
    renewing = false;
    Leg* leg = lcore->context_.legs->Find(leg_id);
    if (leg == nullptr) return;
    auto* copy = new crypto::DtlsRecordKeys(keys);
    // The owner announces leg.established once the keys are in: before that the leg cannot relay.
    const bool sent = lcore->SendToWorker(
        *leg, WorkerCommand{.type = WorkerCommand::Type::kInstallKeys,
                            .role = static_cast<uint8_t>(engine_role), .leg_id = leg_id,
                            .address = peer, .payload = copy,
                            .cipher_suite = engine->cipher_suite().data()});
    // Keys that never reached the worker are no association to keep on a failed renewal.
    associated = associated || sent;
    lcore->counters_.established.Add();
  }
  void OnFailed(crypto::DtlsFailure reason) override {
    if (renewing) {
      // Whoever sent the new ClientHello did not finish the handshake the SDP allows: the leg
      // keeps relaying on the association it has.
      renewing = false;
      lcore->counters_.renewals_failed.Add();
      lcore->finished_.push_back(leg_id);
      return;
    }
    lcore->counters_.failed.Add();
    // The owner announces leg.failed once the leg drops everything (a leg.get after the event
    // says failed); when its mailbox is full, the event goes from here all the same.
    Leg* leg = lcore->context_.legs->Find(leg_id);
    if (leg == nullptr ||
        !lcore->SendToWorker(*leg, WorkerCommand{.type = WorkerCommand::Type::kFail,
                                                 .role = static_cast<uint8_t>(engine_role),
                                                 .reason = static_cast<uint8_t>(reason),
                                                 .leg_id = leg_id})) {
      lcore->SendEvent({.type = RelayEvent::Type::kFailed, .reason = static_cast<uint8_t>(reason),
                        .role = static_cast<uint8_t>(engine_role), .leg_id = leg_id});
    }
    lcore->finished_.push_back(leg_id);
  }
  void OnAlert(uint8_t, uint8_t) override { lcore->counters_.alerts.Add(); }
};

absl::StatusOr<std::unique_ptr<HandshakeLcore>> HandshakeLcore::Create(
    const HandshakeContext& context) {
  absl::StatusOr<std::unique_ptr<crypto::DtlsContext>> dtls =
      crypto::DtlsContext::Create(context.dtls);
  if (!dtls.ok()) return dtls.status();
  return std::unique_ptr<HandshakeLcore>(new HandshakeLcore(context, std::move(*dtls)));
}

HandshakeLcore::HandshakeLcore(const HandshakeContext& context,
                               std::unique_ptr<crypto::DtlsContext> dtls)
    : context_(context), dtls_(std::move(dtls)), tx_(context.ports->size()) {
  if (context_.index != 0) return;
  responder_ = std::make_unique<NeighborResponder>(
      *context_.ports, *context_.neighbors, context_.pool,
      [this](size_t port_index, rte_mbuf* m) { return Transmit(port_index, m); });
}

HandshakeLcore::~HandshakeLcore() {
  for (TxBuffer& tx : tx_) {
    for (rte_mbuf* m : tx.mbufs) rte_pktmbuf_free(m);
  }
}

void HandshakeLcore::Run(const std::atomic<bool>& stop) {
  rte_rcu_qsbr_thread_register(context_.qsbr, context_.qsbr_thread_id);
  rte_rcu_qsbr_thread_online(context_.qsbr, context_.qsbr_thread_id);
  unsigned idle = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    if (PollOnce(RelayNowMs()) != 0) {
      idle = 0;
      continue;
    }
    // Nothing to do: after a short spin, nap. Still well under a millisecond per pass.
    if (++idle > 64) {
      rte_rcu_qsbr_thread_offline(context_.qsbr, context_.qsbr_thread_id);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      rte_rcu_qsbr_thread_online(context_.qsbr, context_.qsbr_thread_id);
    }
  }
  rte_rcu_qsbr_thread_offline(context_.qsbr, context_.qsbr_thread_id);
  rte_rcu_qsbr_thread_unregister(context_.qsbr, context_.qsbr_thread_id);
}

unsigned HandshakeLcore::PollOnce(uint64_t now_ms) {
  now_ms_ = now_ms;
  unsigned work = 0;
  if (now_ms >= next_rotation_ms_) {
    if (next_rotation_ms_ != 0) (void)dtls_->cookies().Rotate();
    next_rotation_ms_ = now_ms + context_.cookie_rotation_ms;
  }
  std::array<HandshakeCommandRef, 32> commands;
  unsigned n = context_.commands->Receive(commands.data(), commands.size());
  for (unsigned i = 0; i < n; ++i) {
    std::unique_ptr<HandshakeCommand> command(commands[i].command);
    ProcessCommand(*command, now_ms);
  }
  work += n;
  std::array<rte_mbuf*, 32> mbufs;
  for (uint16_t p = 0; p < context_.ports->size(); ++p) {
    uint16_t received = rte_eth_rx_burst(context_.ports->port(p).port_id, context_.rx_queue,
                                         mbufs.data(), mbufs.size());
    for (uint16_t i = 0; i < received; ++i) {
      PuntInfoOf(mbufs[i]) = PuntInfo{kNoLegId, p, PuntKind::kReceived};
      if (rte_ring_mp_enqueue(context_.handoff, mbufs[i]) == 0) {
        counters_.rx_handed_off.Add();
      } else {
        counters_.rx_dropped.Add();
        rte_pktmbuf_free(mbufs[i]);
      }
    }
    work += received;
  }
  n = rte_ring_sc_dequeue_burst(context_.punt, reinterpret_cast<void**>(mbufs.data()),
                                mbufs.size(), nullptr);
  for (unsigned i = 0; i < n; ++i) ProcessPunted(mbufs[i], now_ms);
  work += n;
  RunTimers(now_ms);
  if (responder_) responder_->OnTimer(now_ms);
  for (uint64_t leg_id : finished_) {
    auto it = flows_.find(leg_id);
    if (it != flows_.end() && it->second->engine &&
        it->second->engine->state() == crypto::DtlsEngine::State::kFailed) {
      Destroy(*it->second);
    }
  }
  finished_.clear();
  FlushTx();
  rte_rcu_qsbr_quiescent(context_.qsbr, context_.qsbr_thread_id);
  return work;
}

void HandshakeLcore::ProcessCommand(HandshakeCommand& command, uint64_t now_ms) {
  if (command.type == HandshakeCommand::Type::kForget) {
    auto it = flows_.find(command.leg_id);
    if (it == flows_.end()) return;
    Destroy(*it->second);
    flows_.erase(it);
    return;
  }
  std::unique_ptr<Flow>& slot = flows_[command.leg_id];
  if (!slot) {
    slot = std::make_unique<Flow>();
    slot->lcore = this;
    slot->leg_id = command.leg_id;
  }
  Flow& flow = *slot;
  flow.role = command.role;
  if (command.remote) flow.remote = command.remote;
  flow.identity = std::move(command.identity);
  bool had_fingerprints = !flow.peer_fingerprints.empty();
  flow.peer_fingerprints = std::move(command.peer_fingerprints);
  if (flow.engine && !had_fingerprints && !flow.peer_fingerprints.empty()) {
    // The answer arrived after the handshake started (RFC 7345 section 4.1).
    flow.engine->SetPeerFingerprints(flow.peer_fingerprints);
    Reschedule(flow);
  }
  MaybeStartClient(flow, now_ms);
}

void HandshakeLcore::MaybeStartClient(Flow& flow, uint64_t now_ms) {
  if (flow.engine || flow.role != crypto::DtlsRole::kClient) return;
  // The remote comes with the command: the owner worker may not have stored it yet.
  if (!flow.remote || context_.legs->Find(flow.leg_id) == nullptr) return;  // waits for it
  if (absl::Status s = CreateEngine(flow, crypto::DtlsRole::kClient, *flow.remote);
      !s.ok()) {
    counters_.engine_errors.Add();
    flow.OnFailed(crypto::DtlsFailure::kProtocolError);
    return;
  }
  flow.engine->Start(now_ms);
  Reschedule(flow);
}

absl::Status HandshakeLcore::CreateEngine(Flow& flow, crypto::DtlsRole role,
                                          const SocketAddress& peer) {
  crypto::DtlsEngineConfig config;
  config.role = role;
  config.identity = flow.identity;
  config.peer_fingerprints = flow.peer_fingerprints;
  if (role == crypto::DtlsRole::kServer) config.peer_address = AddressPortBytes(peer);
  flow.peer = peer;
  flow.engine_role = role;
  absl::StatusOr<std::unique_ptr<crypto::DtlsEngine>> engine = dtls_->NewEngine(config, &flow);
  if (!engine.ok()) return engine.status();
  flow.engine = std::move(*engine);
  counters_.engines_created.Add();
  SendEvent({.type = RelayEvent::Type::kHandshaking, .role = static_cast<uint8_t>(role),
             .leg_id = flow.leg_id, .address = peer});
  return absl::OkStatus();
}

void HandshakeLcore::ProcessPunted(rte_mbuf* m, uint64_t now_ms) {
  counters_.punted.Add();
  PuntInfo info = PuntInfoOf(m);
  if (info.port_index >= context_.ports->size()) {
    rte_pktmbuf_free(m);
    return;
  }
  if (responder_ == nullptr && ForResponder(info.leg_id, info.kind)) {
    PassToResponder(m);  // workers send these to lcore 0; should one come here, it goes on
    return;
  }
  if (info.kind == PuntKind::kNeedsNeighbor) {
    PacketView view;
    if (ParseFrame(LinkType::kEthernet, Bytes(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len),
                   &view) != WireError::kOk) {
      rte_pktmbuf_free(m);
      return;
    }
    responder_->Send(info.port_index, context_.ports->NextHop(info.port_index, view.dst), m,
                     now_ms);
    return;
  }
  if (info.leg_id == kNoLegId) {
    if (!responder_->HandleFrame(info.port_index, m, now_ms)) rte_pktmbuf_free(m);
    return;
  }
  Leg* leg = context_.legs->Find(info.leg_id);
  if (leg == nullptr) {
    counters_.no_flow.Add();
    rte_pktmbuf_free(m);
    return;
  }
  ProcessDtls(m, *leg, info.kind == PuntKind::kBeforeKeys, now_ms);
}

void HandshakeLcore::ProcessDtls(rte_mbuf* m, Leg& leg, bool before_keys, uint64_t now_ms) {
  counters_.handshake_datagrams.Add();
  uint64_t leg_id = leg.id.load(std::memory_order_relaxed);
  auto it = flows_.find(leg_id);
  PacketView view;
  if (it == flows_.end() ||
      ParseFrame(LinkType::kEthernet, Bytes(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len),
                 &view) != WireError::kOk) {
    counters_.no_flow.Add();
    rte_pktmbuf_free(m);
    return;
  }
  Flow& flow = *it->second;
  SocketAddress source{view.src, view.src_port};
  Bytes datagram = view.payload;
  if (flow.engine) {
    if (source != flow.peer) {
      counters_.wrong_source.Add();
    } else if (before_keys && flow.engine->state() == crypto::DtlsEngine::State::kEstablished &&
               !datagram.empty() && datagram[0] == kDtlsApplicationData) {
      // The peer sent data as soon as it had our last flight, before the owner worker installed
      // the keys: the worker relays it once they are in (its mailbox keeps the order). Only
      // records punted for want of keys come back, so none goes round twice.
      counters_.late_records.Add();
      SendToWorker(leg, WorkerCommand{.type = WorkerCommand::Type::kLateRecord,
                                      .leg_id = leg_id, .payload = m});
      return;
    } else if (flow.engine_role == crypto::DtlsRole::kServer &&
               flow.engine->state() == crypto::DtlsEngine::State::kEstablished &&
               AnswerClientHello(flow, source, datagram, now_ms)) {
      // A ClientHello on an established association: the client restarted (RFC 6347 section
      // 4.2.8). Anything else goes to the engine (a repeated final flight).
    } else {
      flow.engine->Feed(datagram, now_ms);
      Reschedule(flow);
    }
    rte_pktmbuf_free(m);
    return;
  }
  if (flow.role == crypto::DtlsRole::kClient) {
    // We are the client and have not started: a server does not speak first.
    counters_.wrong_source.Add();
    rte_pktmbuf_free(m);
    return;
  }
  if (!AnswerClientHello(flow, source, datagram, now_ms)) counters_.not_client_hello.Add();
  rte_pktmbuf_free(m);
}

bool HandshakeLcore::AnswerClientHello(Flow& flow, const SocketAddress& source, Bytes datagram,
                                       uint64_t now_ms) {
  std::vector<uint8_t> peer = AddressPortBytes(source);
  std::array<uint8_t, crypto::DtlsCookieResponder::kMaxResponseLength> response;
  crypto::DtlsCookieResponder::Result verdict =
      dtls_->cookies().Check(datagram, peer, response);
  // A repeated (or duplicated) hello of the client the engine serves is no new client.
  if (flow.engine != nullptr && verdict.verdict != crypto::DtlsCookieResponder::Verdict::kDrop &&
      verdict.client_random == flow.client_random) {
    return false;
  }
  switch (verdict.verdict) {
    case crypto::DtlsCookieResponder::Verdict::kVerifyRequest:
      counters_.cookies_sent.Add();
      SendDatagram(flow.leg_id, source, Bytes(response.data(), verdict.response_length));
      return true;
    case crypto::DtlsCookieResponder::Verdict::kDrop:
      return false;
    case crypto::DtlsCookieResponder::Verdict::kValidCookie: {
      if (absl::Status s = CreateEngine(flow, crypto::DtlsRole::kServer, source); !s.ok()) {
        counters_.engine_errors.Add();
        return true;
      }
      flow.renewing = flow.associated;
      flow.client_random = verdict.client_random;
      flow.engine->Feed(datagram, now_ms);
      Reschedule(flow);
      return true;
    }
  }
  return false;
}

void HandshakeLcore::Reschedule(Flow& flow) {
  if (flow.scheduled) timers_.erase({*flow.scheduled, flow.leg_id});
  flow.scheduled.reset();
  if (!flow.engine) return;
  std::optional<uint64_t> deadline = flow.engine->timer_deadline();
  if (!deadline) return;
  flow.scheduled = deadline;
  timers_.insert({*deadline, flow.leg_id});
}

void HandshakeLcore::RunTimers(uint64_t now_ms) {
  while (!timers_.empty() && timers_.begin()->first <= now_ms) {
    uint64_t leg_id = timers_.begin()->second;
    timers_.erase(timers_.begin());
    auto it = flows_.find(leg_id);
    if (it == flows_.end() || !it->second->engine) continue;
    Flow& flow = *it->second;
    flow.scheduled.reset();
    flow.engine->OnTimer(now_ms);
    Reschedule(flow);
  }
}

void HandshakeLcore::Destroy(Flow& flow) {
  if (flow.scheduled) timers_.erase({*flow.scheduled, flow.leg_id});
  flow.scheduled.reset();
  flow.engine.reset();
}

void HandshakeLcore::SendDatagram(uint64_t leg_id, const SocketAddress& to, Bytes payload) {
  const Leg* leg = context_.legs->Find(leg_id);
  if (leg == nullptr) return;
  const PortInfo& port = context_.ports->port(leg->port_index);
  UdpFrameSpec spec;
  spec.ethernet.src = port.mac;
  spec.src = leg->local;
  spec.dst = to;
  size_t total = UdpFrameHeaderLength(spec) + payload.size();
  rte_mbuf* m = rte_pktmbuf_alloc(context_.pool);
  if (m == nullptr || total > rte_pktmbuf_tailroom(m)) {
    counters_.tx_alloc_failed.Add();
    rte_pktmbuf_free(m);
    return;
  }
  uint8_t* out = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(total)));
  size_t written = 0;
  if (BuildUdpFrame(spec, payload, MutableBytes(out, total), &written) != WireError::kOk) {
    counters_.tx_alloc_failed.Add();
    rte_pktmbuf_free(m);
    return;
  }
  SendFrame(leg->port_index, context_.ports->NextHop(leg->port_index, to.ip), leg_id, m);
}

void HandshakeLcore::SendFrame(uint16_t port_index, const IpAddress& next_hop, uint64_t leg_id,
                               rte_mbuf* m) {
  if (responder_) {
    responder_->Send(port_index, next_hop, m, now_ms_);
    return;
  }
  MacAddress mac;
  if (next_hop.family != IpFamily::kNone &&
      context_.neighbors->Lookup(port_index, next_hop, &mac)) {
    std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), mac.data(), mac.size());
    if (!Transmit(port_index, m)) {
      counters_.tx_dropped.Add();
      rte_pktmbuf_free(m);
    }
    return;
  }
  PuntInfoOf(m) = PuntInfo{leg_id, port_index, PuntKind::kNeedsNeighbor};
  PassToResponder(m);
}

void HandshakeLcore::PassToResponder(rte_mbuf* m) {
  if (rte_ring_mp_enqueue(context_.responder_punt, m) == 0) return;
  counters_.responder_dropped.Add();
  rte_pktmbuf_free(m);
}

bool HandshakeLcore::Transmit(size_t port_index, rte_mbuf* m) {
  if (port_index >= tx_.size()) return false;
  tx_[port_index].mbufs.push_back(m);
  return true;
}

void HandshakeLcore::FlushTx() {
  for (size_t p = 0; p < tx_.size(); ++p) {
    std::vector<rte_mbuf*>& mbufs = tx_[p].mbufs;
    size_t done = 0;
    while (done < mbufs.size()) {
      uint16_t n = static_cast<uint16_t>(std::min<size_t>(mbufs.size() - done, 64));
      uint16_t sent = rte_eth_tx_burst(context_.ports->port(p).port_id, context_.tx_queue,
                                       mbufs.data() + done, n);
      done += sent;
      if (sent < n) break;
    }
    counters_.tx_dropped.Add(mbufs.size() - done);
    for (size_t i = done; i < mbufs.size(); ++i) rte_pktmbuf_free(mbufs[i]);
    mbufs.clear();
  }
}

void HandshakeLcore::SendEvent(const RelayEvent& event) {
  RelayEvent e = event;
  e.worker = context_.index;
  if (!context_.events->Send(e)) counters_.events_lost.Add();
}

bool HandshakeLcore::SendToWorker(const Leg& leg, const WorkerCommand& command) {
  if (context_.workers[leg.worker]->Send(command)) return true;
  counters_.commands_lost.Add();
  if (command.type == WorkerCommand::Type::kInstallKeys) {
    auto* keys = static_cast<crypto::DtlsRecordKeys*>(command.payload);
    crypto::WipeKeys(*keys);
    delete keys;
  }
  if (command.type == WorkerCommand::Type::kLateRecord) {
    rte_pktmbuf_free(static_cast<rte_mbuf*>(command.payload));
  }
  return false;
}

}  // namespace t38relay::dataplane
