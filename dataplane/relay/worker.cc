// The worker lcore's packet path (see worker.h).
#include "dataplane/relay/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include <cstring>

#include "crypto/cryptodev/cryptodev_backend.h"
#include "crypto/dtls/dtls_engine.h"
#include "crypto/record/record_keys.h"
#include "dataplane/relay/prefetch.h"
#include "dataplane/relay/punt.h"
#include "dataplane/wire/checksum.h"
#include "dataplane/wire/demux.h"
#include "dataplane/wire/dtls_record.h"
#include "dataplane/wire/stun.h"
#include "dataplane/wire/udptl.h"

namespace t38relay::dataplane {

namespace {

using crypto::RecordJob;
using crypto::RecordResult;

constexpr uint16_t kStunBindingMethod = 0x001;
// How often an idle worker gives a cryptodev queue the chance to return late operations.
constexpr uint64_t kReapIntervalMs = 100;

DropReason DropFor(RecordResult result) {
  switch (result) {
    case RecordResult::kAuthFailed: return DropReason::kRecordAuthFailed;
    case RecordResult::kReplayed:
    case RecordResult::kTooOld: return DropReason::kRecordReplayed;
    case RecordResult::kEpochExpired: return DropReason::kRecordStaleEpoch;
    case RecordResult::kNoRoom: return DropReason::kNoRoom;
    case RecordResult::kBackendBusy:
    case RecordResult::kBackendError:
    case RecordResult::kBackendTimeout: return DropReason::kRecordBackend;
    default: return DropReason::kRecordSealFailed;
  }
}

// Frees the keys a kInstallKeys command carried, wiping them first.
void FreeKeys(void* payload) {
  auto* keys = static_cast<crypto::DtlsRecordKeys*>(payload);
  crypto::WipeKeys(*keys);
  delete keys;
}

}  // namespace

Worker::Worker(const WorkerContext& context)
    : context_(context),
      protector_(*context.backend,
                 crypto::RecordOptions{.previous_epoch_grace = context.previous_epoch_grace_ms}),
      tx_(context.ports->size()) {}

void Worker::Run(const std::atomic<bool>& stop) {
  rte_rcu_qsbr_thread_register(context_.qsbr, context_.index);
  rte_rcu_qsbr_thread_online(context_.qsbr, context_.index);
  while (!stop.load(std::memory_order_relaxed)) {
    uint64_t now = RelayNowMs();
    if (PollOnce(now) == 0 && context_.cryptodev != nullptr &&
        now - last_reap_ms_ >= kReapIntervalMs) {
      context_.cryptodev->ReapStaleOps();
      last_reap_ms_ = now;
    }
  }
  rte_rcu_qsbr_thread_offline(context_.qsbr, context_.index);
  rte_rcu_qsbr_thread_unregister(context_.qsbr, context_.index);
}

uint16_t Worker::PollOnce(uint64_t now_ms) {
  ProcessCommands(now_ms);
  uint16_t received = 0;
  std::array<rte_mbuf*, kBurstSize> mbufs;
  for (uint16_t p = 0; p < context_.ports->size(); ++p) {
    uint16_t n = rte_eth_rx_burst(context_.ports->port(p).port_id, context_.index, mbufs.data(),
                                  kBurstSize);
    if (n == 0) continue;
    received += n;
    ProcessBurst(mbufs.data(), n, p, now_ms);
  }
  rte_ring* handoff = context_.handoff[context_.index];
  unsigned n = rte_ring_sc_dequeue_burst(handoff, reinterpret_cast<void**>(mbufs.data()),
                                         kBurstSize, nullptr);
  if (n != 0) ProcessBurst(mbufs.data(), static_cast<uint16_t>(n), std::nullopt, now_ms);
  received += static_cast<uint16_t>(n);
  FlushTx();
  rte_rcu_qsbr_quiescent(context_.qsbr, context_.index);
  return received;
}

void Worker::ProcessCommands(uint64_t now_ms) {
  if (!pending_keys_.empty()) [[unlikely]] InstallPendingKeys(now_ms);
  std::array<WorkerCommand, 16> commands;
  std::array<rte_mbuf*, 16> late;  // kLateRecord mbufs, relayed once every command is in
  uint16_t late_count = 0;
  unsigned n = context_.commands->Receive(commands.data(), commands.size());
  for (unsigned i = 0; i < n; ++i) {
    WorkerCommand& c = commands[i];
    counters_.commands.Add();
    Leg* leg = context_.legs->Find(c.leg_id);
    if (c.type == WorkerCommand::Type::kRelease) {
      // Control cleared the id before sending this: use the index.
      Leg& gone = (*context_.legs)[LegIndexOf(c.leg_id)];
      // The call is over: an established association is closed, as on SIGTERM. No other worker
      // seals with its keys any more (the table let go of the leg before this command).
      if (gone.state.load(std::memory_order_relaxed) == LegPhase::kEstablished) {
        SendCloseNotify(gone);
      }
      protector_.Release(gone.record);
      delete gone.ice;
      gone.ice = nullptr;
      gone.remote.Clear();
      gone.latched = false;
      gone.has_udptl_seq = false;
      gone.state.store(LegPhase::kFree, std::memory_order_release);
      SendEvent({.type = RelayEvent::Type::kReleased, .worker = context_.index,
                 .leg_id = c.leg_id});
      continue;
    }
    if (leg == nullptr) {
      // The leg went away after the command was sent: free what it carried.
      if (c.type == WorkerCommand::Type::kSetIce) delete static_cast<IceCredentials*>(c.payload);
      if (c.type == WorkerCommand::Type::kInstallKeys) FreeKeys(c.payload);
      if (c.type == WorkerCommand::Type::kLateRecord) {
        Drop(static_cast<rte_mbuf*>(c.payload), nullptr, DropReason::kNoLeg);
      }
      continue;
    }
    switch (c.type) {
      case WorkerCommand::Type::kSetRemote:
        leg->remote.Store(c.address);
        leg->latched = false;
        break;
      case WorkerCommand::Type::kClearRemote:
        leg->remote.Clear();
        leg->latched = false;
        break;
      case WorkerCommand::Type::kSetLatch:
        leg->latch = static_cast<Latch>(c.latch);
        break;
      case WorkerCommand::Type::kSetTransport: {
        // Keys a leg may still hold stay until it is released: the peer's worker may be sealing
        // with them right now, and a plain leg never reads them.
        const auto transport = static_cast<LegTransport>(c.transport);
        leg->transport.store(transport, std::memory_order_relaxed);
        leg->state.store(transport == LegTransport::kPlain ? LegPhase::kPlain : LegPhase::kWaiting,
                         std::memory_order_release);
        break;
      }
      case WorkerCommand::Type::kSetIce:
        delete leg->ice;
        leg->ice = static_cast<IceCredentials*>(c.payload);
        break;
      case WorkerCommand::Type::kInstallKeys:
        if (leg->transport.load(std::memory_order_relaxed) == LegTransport::kPlain) {
          // A handshake that finished just as control switched the leg to plain.
          FreeKeys(c.payload);
          break;
        }
        if (leg->state.load(std::memory_order_relaxed) == LegPhase::kEstablished) {
          leg->state.store(LegPhase::kRekeying, std::memory_order_release);
          pending_keys_.push_back({c, rte_rcu_qsbr_start(context_.qsbr)});
          break;
        }
        InstallKeys(*leg, c, now_ms);
        break;
      case WorkerCommand::Type::kFail:
        if (leg->transport.load(std::memory_order_relaxed) == LegTransport::kDtls) {
          leg->state.store(LegPhase::kFailed, std::memory_order_release);
        }
        SendEvent({.type = RelayEvent::Type::kFailed, .reason = c.reason, .role = c.role,
                   .worker = context_.index, .leg_id = c.leg_id});
        break;
      case WorkerCommand::Type::kLateRecord: {
        auto* m = static_cast<rte_mbuf*>(c.payload);
        if (leg->state.load(std::memory_order_relaxed) == LegPhase::kEstablished) {
          late[late_count++] = m;
        } else {
          Drop(m, leg, DropReason::kNotEstablished);  // the keys never came (or failed)
        }
        break;
      }
      case WorkerCommand::Type::kRelease:
        break;
    }
  }
  if (late_count != 0) ProcessBurst(late.data(), late_count, std::nullopt, now_ms, true);
}

void Worker::InstallKeys(Leg& leg, const WorkerCommand& c, uint64_t now_ms) {
  auto* keys = static_cast<crypto::DtlsRecordKeys*>(c.payload);
  const bool renewed = leg.state.load(std::memory_order_relaxed) == LegPhase::kRekeying;
  absl::Status installed = protector_.Install(leg.record, *keys, now_ms);
  FreeKeys(keys);
  if (!installed.ok()) {
    leg.state.store(LegPhase::kFailed, std::memory_order_release);
    SendEvent({.type = RelayEvent::Type::kFailed,
               .reason = static_cast<uint8_t>(crypto::DtlsFailure::kProtocolError),
               .worker = context_.index, .leg_id = c.leg_id});
    return;
  }
  // A restarted client numbers its UDPTL afresh.
  if (renewed) leg.has_udptl_seq = false;
  // The handshake authenticated this address (fingerprint checked).
  SocketAddress current;
  const bool known = leg.remote.Load(&current);
  if (leg.ice == nullptr && (!known || (current != c.address && leg.latch == Latch::kLearn))) {
    LatchTo(leg, c.address);
  } else {
    leg.latched = true;
  }
  leg.state.store(LegPhase::kEstablished, std::memory_order_release);
  SendEvent({.type = RelayEvent::Type::kEstablished, .role = c.role, .worker = context_.index,
             .leg_id = c.leg_id, .cipher_suite = c.cipher_suite});
}

void Worker::InstallPendingKeys(uint64_t now_ms) {
  size_t kept = 0;
  for (PendingKeys& p : pending_keys_) {
    if (rte_rcu_qsbr_check(context_.qsbr, p.token, false) != 1) {
      pending_keys_[kept++] = p;
      continue;
    }
    Leg* leg = context_.legs->Find(p.command.leg_id);
    if (leg == nullptr || leg->state.load(std::memory_order_relaxed) != LegPhase::kRekeying) {
      FreeKeys(p.command.payload);  // released, failed or switched meanwhile
      continue;
    }
    InstallKeys(*leg, p.command, now_ms);
  }
  pending_keys_.resize(kept);
}

Worker::~Worker() {
  for (PendingKeys& p : pending_keys_) FreeKeys(p.command.payload);
}

void Worker::ProcessBurst(rte_mbuf** mbufs, uint16_t n, std::optional<uint16_t> port_index,
                          uint64_t now_ms, bool counted) {
  item_count_ = 0;
  open_count_ = 0;
  seal_count_ = 0;
  std::array<FlowKey, kBurstSize> keys;
  std::array<uint32_t, kBurstSize> leg_index;
  std::array<PacketView, kBurstSize>& views = views_;
  // The frames were written by another core (a NIC's DMA, or a generator): the whole burst's
  // mbufs, then their first data line, are requested before the first one is parsed, for
  // writing, as both get written (lengths, headers).
  for (uint16_t i = 0; i < n; ++i) PrefetchForWrite(mbufs[i]);
  for (uint16_t i = 0; i < n; ++i) PrefetchForWrite(rte_pktmbuf_mtod(mbufs[i], void*));
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = mbufs[i];
    // A handed-off mbuf keeps the port index it was received on in its punt field.
    const uint16_t rx_port = port_index ? *port_index : PuntInfoOf(m).port_index;
    if (!counted) counters_.rx_packets.Add();
    if (m->nb_segs != 1) {
      Drop(m, nullptr, DropReason::kMalformedFrame);
      continue;
    }
    PacketView& view = views[item_count_];
    // UDP checksums are checked where they matter (see Forward): DTLS records carry an AEAD tag,
    // STUN a FINGERPRINT and MESSAGE-INTEGRITY, and plain UDPTL keeps its checksum end to end.
    WireError error = ParseFrame(LinkType::kEthernet,
                                 Bytes(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len), &view,
                                 {.verify_udp_checksum = false});
    if (error == WireError::kIpv4BadChecksum || error == WireError::kUdpBadChecksum ||
        error == WireError::kUdpZeroChecksumIpv6) {
      Drop(m, nullptr, DropReason::kBadChecksum);
      continue;
    }
    if (error == WireError::kNotIp) {
      Drop(m, nullptr, DropReason::kNotForUs);
      continue;
    }
    if (error != WireError::kOk) {
      Drop(m, nullptr, DropReason::kMalformedFrame);
      continue;
    }
    if (view.ethertype == kEtherTypeArp ||
        (view.family != IpFamily::kNone && !view.fragment &&
         (view.l4_protocol == kIpProtoIcmp || view.l4_protocol == kIpProtoIcmpv6))) {
      Punt(m, kNoLegId, rx_port, PuntKind::kReceived);
      continue;
    }
    if (RequireUdpDatagram(view) != WireError::kOk) {
      Drop(m, nullptr,
           view.family == IpFamily::kNone ? DropReason::kNotForUs
           : view.fragment                ? DropReason::kIpFragment
                                          : DropReason::kNotUdp);
      continue;
    }
    Item& item = items_[item_count_];
    item.m = m;
    item.leg = nullptr;
    item.rx_port_index = rx_port;
    item.view = &view;
    item.payload = const_cast<uint8_t*>(view.payload.data());
    item.payload_length = static_cast<uint32_t>(view.payload.size());
    keys[item_count_] = FlowKey::Of(view.dst, view.dst_port);
    ++item_count_;
  }
  if (item_count_ == 0) return;
  context_.flows->LookupBulk(keys.data(), item_count_, leg_index.data());
  // Legs are scattered over a large array: every miss would stall the loop below, so the whole
  // burst's legs are requested at once, then their peers (for relaying) once the peer ids load.
  LegTable& legs = *context_.legs;
  for (uint16_t i = 0; i < item_count_; ++i) {
    if (leg_index[i] == kNoLeg) continue;
    const Leg& leg = legs[leg_index[i]];
    leg.PrefetchReceive();
    if (DemuxFirstByte(items_[i].payload_length != 0 ? items_[i].payload[0] : 0) ==
        DemuxKind::kDtls) {
      leg.PrefetchRecord();
    }
  }
  for (uint16_t i = 0; i < item_count_; ++i) {
    if (leg_index[i] == kNoLeg) continue;
    if (const Leg* peer = legs.SlotOf(legs[leg_index[i]].peer.load(std::memory_order_relaxed))) {
      peer->PrefetchSend();
    }
  }

  for (uint16_t i = 0; i < item_count_; ++i) {
    Item& item = items_[i];
    if (leg_index[i] == kNoLeg) {
      uint16_t dst_port = keys[i].port;
      uint16_t owner = OwnerOfPort(dst_port, context_.leg_port_first, context_.worker_count);
      if (context_.worker_count > 1 && owner != context_.index &&
          static_cast<uint16_t>(dst_port - context_.leg_port_first) < context_.leg_port_count) {
        PuntInfoOf(item.m) = PuntInfo{kNoLegId, item.rx_port_index, PuntKind::kReceived};
        if (rte_ring_mp_enqueue(context_.handoff[owner], item.m) == 0) {
          counters_.handed_off.Add();
        } else {
          Drop(item.m, nullptr, DropReason::kWrongWorker);
        }
        continue;
      }
      Drop(item.m, nullptr, DropReason::kNoLeg);
      continue;
    }
    Leg& leg = legs[leg_index[i]];
    item.leg = &leg;
    if (!counted) {
      leg.counters.rx_packets.Add();
      leg.counters.rx_bytes.Add(item.payload_length);
      leg.last_rx_ms.store(now_ms, std::memory_order_relaxed);
    }
    Classify(item, views[i]);
  }
  OpenRecords(now_ms);
  SealRecords();
}

void Worker::Classify(Item& item, const PacketView& view) {
  Leg& leg = *item.leg;
  LegPhase state = leg.state.load(std::memory_order_acquire);
  const LegTransport transport = leg.transport.load(std::memory_order_relaxed);
  if (item.payload_length == 0) {
    Drop(item.m, &leg, DropReason::kEmptyDatagram);
    return;
  }
  switch (DemuxFirstByte(item.payload[0])) {
    case DemuxKind::kStun:
      // UDPTL with a sequence number below 1024 starts with 0..3 too: without ICE (or without
      // the magic cookie) a plain leg relays it as fax data.
      if (leg.ice != nullptr && HasStunCookie(Bytes(item.payload, item.payload_length))) {
        AnswerStun(item, view);
        return;
      }
      if (transport == LegTransport::kDtls) {
        Drop(item.m, &leg, leg.ice != nullptr ? DropReason::kStunInvalid : DropReason::kStunNoIce);
        return;
      }
      break;
    case DemuxKind::kDtls:
      if (transport != LegTransport::kDtls) break;  // plain legs relay any UDPTL bytes
      if (state == LegPhase::kFailed) {
        Drop(item.m, &leg, DropReason::kLegFailed);
        return;
      }
      // A handshake datagram may come from a new address (learning); records must not.
      if (!AcceptSource(leg, view, /*authenticated=*/false)) {
        Drop(item.m, &leg, DropReason::kUnexpectedSource);
        return;
      }
      if (state == LegPhase::kEstablished && item.payload[0] == dataplane::kDtlsApplicationData &&
          item.payload_length >= kDtlsRecordHeaderLength &&
          HasDtlsRecordStart(Bytes(item.payload, item.payload_length))) {
        uint16_t record_length = static_cast<uint16_t>(item.payload[11] << 8 | item.payload[12]);
        if (record_length + kDtlsRecordHeaderLength == item.payload_length) {
          RecordJob& job = open_jobs_[open_count_];
          job = RecordJob{};
          job.leg = &leg.record;
          job.mbuf = item.m;
          job.record = item.payload;
          job.record_length = item.payload_length;
          // The backend reads all of it (and the tag last) once the burst's records are in.
          PrefetchLines(item.payload, item.payload_length);
          open_items_[open_count_++] = static_cast<uint16_t>(&item - items_.data());
          return;
        }
      }
      // Handshake records, alerts in clear, several records in one datagram, other epochs, and
      // records that came before the keys (the handshake lcore sends those back once they are in).
      Punt(item.m, leg.id.load(std::memory_order_relaxed), item.rx_port_index,
           state == LegPhase::kEstablished ? PuntKind::kReceived : PuntKind::kBeforeKeys);
      return;
    default:
      break;
  }
  if (transport == LegTransport::kDtls) {
    Drop(item.m, &leg, state == LegPhase::kEstablished ? DropReason::kNotDtls
                                                         : DropReason::kNotEstablished);
    return;
  }
  if (!AcceptSource(leg, view, /*authenticated=*/true)) {
    Drop(item.m, &leg, DropReason::kUnexpectedSource);
    return;
  }
  Forward(item, item.payload, item.payload_length);
}

bool Worker::AcceptSource(Leg& leg, const PacketView& view, bool authenticated) {
  if (leg.remote.Holds(view.src, view.src_port)) {
    if (authenticated && !leg.latched) leg.latched = true;
    return true;
  }
  if (leg.ice != nullptr) return false;  // only a valid Binding request moves an ICE leg
  if (leg.latched || leg.latch == Latch::kStrict) return false;
  if (authenticated) LatchTo(leg, SocketAddress{view.src, view.src_port});
  return true;
}

void Worker::LatchTo(Leg& leg, const SocketAddress& source) {
  leg.remote.Store(source);
  leg.latched = true;
  SendEvent({.type = RelayEvent::Type::kLatched, .worker = context_.index,
             .leg_id = leg.id.load(std::memory_order_relaxed), .address = source});
}

void Worker::AnswerStun(Item& item, const PacketView& view) {
  Leg& leg = *item.leg;
  Bytes datagram(item.payload, item.payload_length);
  StunMessage msg;
  if (ParseStun(datagram, &msg) != WireError::kOk || !msg.has_cookie ||
      msg.message_class != StunClass::kRequest || msg.method != kStunBindingMethod ||
      !msg.fingerprint || VerifyFingerprint(msg) != WireError::kOk || !msg.username ||
      !msg.message_integrity) {
    Drop(item.m, &leg, DropReason::kStunInvalid);
    return;
  }
  const IceCredentials& ice = *leg.ice;
  std::string_view username(reinterpret_cast<const char*>(msg.username->data()),
                            msg.username->size());
  bool user_ok = username.size() > ice.ufrag.size() &&
                 username.substr(0, ice.ufrag.size()) == ice.ufrag &&
                 username[ice.ufrag.size()] == ':' &&
                 (ice.remote_ufrag.empty() ||
                  username.substr(ice.ufrag.size() + 1) == ice.remote_ufrag);
  Bytes key(reinterpret_cast<const uint8_t*>(ice.pwd.data()), ice.pwd.size());
  if (!user_ok || VerifyMessageIntegrity(msg, key) != WireError::kOk) {
    Drop(item.m, &leg, DropReason::kStunUnauthorized);
    return;
  }
  // The controlling agent nominates with USE-CANDIDATE; before any nomination the first valid
  // check picks the address, so that media can flow as soon as ICE has found a path.
  const SocketAddress source{view.src, view.src_port};
  if (msg.use_candidate || !leg.latched) {
    if (!leg.remote.Holds(source.ip, source.port) || !leg.latched) LatchTo(leg, source);
  }
  std::array<uint8_t, 128> response;
  size_t response_length = 0;
  std::array<uint8_t, 12> transaction_id;
  std::memcpy(transaction_id.data(), msg.transaction_id.data(), transaction_id.size());
  if (BuildBindingSuccessResponse(transaction_id, source, key, response,
                                  &response_length) != WireError::kOk) {
    Drop(item.m, &leg, DropReason::kStunInvalid);
    return;
  }
  UdpFrameSpec spec = ReplyUdpSpec(view, context_.ports->port(item.rx_port_index).mac);
  size_t header = UdpFrameHeaderLength(spec);
  rte_mbuf* m = item.m;
  uint8_t* start = rte_pktmbuf_mtod(m, uint8_t*);
  size_t total = header + response_length;
  if (total > static_cast<size_t>(m->buf_len - m->data_off)) {
    Drop(m, &leg, DropReason::kNoRoom);
    return;
  }
  m->data_len = static_cast<uint16_t>(total);
  m->pkt_len = static_cast<uint32_t>(total);
  size_t written = 0;
  if (BuildUdpFrame(spec, Bytes(response.data(), response_length), MutableBytes(start, total),
                    &written) != WireError::kOk) {
    Drop(m, &leg, DropReason::kNoRoom);
    return;
  }
  leg.counters.stun_answered.Add();
  Transmit(item.rx_port_index, m);
}

void Worker::OpenRecords(uint64_t now_ms) {
  if (open_count_ == 0) return;
  protector_.Open(open_jobs_.data(), open_count_, now_ms);
  for (uint16_t j = 0; j < open_count_; ++j) {
    RecordJob& job = open_jobs_[j];
    Item& item = items_[open_items_[j]];
    switch (job.result) {
      case RecordResult::kOk:
        // Only application_data records reach Open (alerts are punted), so this is UDPTL.
        if (!AcceptSource(*item.leg, *item.view, /*authenticated=*/true)) {
          Drop(item.m, item.leg, DropReason::kUnexpectedSource);
          continue;
        }
        Forward(item, job.plaintext(), job.plaintext_length());
        continue;
      case RecordResult::kUnknownEpoch:
      case RecordResult::kMalformed:
      case RecordResult::kBadContentType:
      case RecordResult::kNoKeys:
        // Untouched: the handshake lcore knows what to do with it.
        Punt(item.m, item.leg->id.load(std::memory_order_relaxed), item.rx_port_index,
             PuntKind::kReceived);
        continue;
      default:
        Drop(item.m, item.leg, DropFor(job.result));
        continue;
    }
  }
}

void Worker::CountUdptl(Leg& leg, const uint8_t* payload, uint32_t length) {
  UdptlHeader header;
  if (DecodeUdptlHeader(Bytes(payload, length), &header) != WireError::kOk) {
    leg.counters.udptl_malformed.Add();
    return;
  }
  leg.counters.udptl_packets.Add();
  if (leg.has_udptl_seq) {
    uint16_t expected = static_cast<uint16_t>(leg.last_udptl_seq + 1);
    uint16_t ahead = static_cast<uint16_t>(header.seq - expected);
    // A jump forward of less than half the space is a gap; anything else a late or repeated one.
    if (ahead >= 0x8000) return;
    if (ahead != 0) [[unlikely]] {
      leg.counters.udptl_seq_gaps.Add(ahead);
      // What the receiving endpoint can rebuild from this packet's redundancy or FEC.
      UdptlPacket packet;
      if (DecodeUdptl(Bytes(payload, length), &packet) == WireError::kOk) {
        leg.counters.udptl_recovered.Add(UdptlRecoverable(packet, expected, ahead));
      }
    }
  }
  leg.has_udptl_seq = true;
  leg.last_udptl_seq = header.seq;
}

void Worker::Forward(Item& item, uint8_t* plaintext, uint32_t length) {
  Leg& from = *item.leg;
  CountUdptl(from, plaintext, length);
  Leg* to = context_.legs->Find(from.peer.load(std::memory_order_acquire));
  if (to == nullptr) {
    Drop(item.m, &from, DropReason::kNoPeer);
    return;
  }
  SocketAddress remote;
  uint32_t remote_version;
  if (!to->remote.Load(&remote, &remote_version)) {
    Drop(item.m, &from, DropReason::kPeerNotReady);
    return;
  }
  LegPhase to_state = to->state.load(std::memory_order_acquire);
  // A datagram relayed as it came keeps its checksum (RFC 1624 carry-over), so a receiver still
  // detects damage; one about to be sealed must be checked now, or the seal would vouch for it.
  const bool unchanged = plaintext == item.payload;
  if (to->transport.load(std::memory_order_relaxed) == LegTransport::kPlain) {
    Emit(item.m, &from, *to, plaintext, length, remote, remote_version,
         unchanged ? UdpPayloadSum(*item.view) : std::nullopt);
    return;
  }
  if (to_state != LegPhase::kEstablished) {
    Drop(item.m, &from, DropReason::kPeerNotReady);
    return;
  }
  if (unchanged && !UdpChecksumVerifies(*item.view)) {
    Drop(item.m, &from, DropReason::kBadChecksum);
    return;
  }
  // Seal in place: the framing goes around the plaintext, into the old headers before it and
  // the tail room after it.
  rte_mbuf* m = item.m;
  uint8_t* buffer_start = static_cast<uint8_t*>(m->buf_addr);
  uint8_t* record = plaintext - crypto::kRecordPrefixLength;
  uint8_t* end = plaintext + length + crypto::kRecordSuffixLength;
  if (record < buffer_start || end > buffer_start + m->buf_len) {
    Drop(m, &from, DropReason::kNoRoom);
    return;
  }
  to->PrefetchRecord();  // used when the burst's records are sealed together
  RecordJob& job = seal_jobs_[seal_count_];
  job = RecordJob{};
  job.leg = &to->record;
  job.mbuf = m;
  job.record = record;
  job.record_length = length + static_cast<uint32_t>(crypto::kRecordOverhead);
  job.content_type = kDtlsApplicationData;
  // The backend needs the mbuf to cover what it touches: from the record to the tag.
  m->data_off = static_cast<uint16_t>(record - buffer_start);
  m->data_len = static_cast<uint16_t>(job.record_length);
  m->pkt_len = job.record_length;
  seal_mbufs_[seal_count_] = m;
  seal_from_[seal_count_] = &from;
  seal_peers_[seal_count_] = to;
  seal_remotes_[seal_count_] = remote;
  seal_remote_versions_[seal_count_] = remote_version;
  ++seal_count_;
}

void Worker::SealRecords() {
  if (seal_count_ == 0) return;
  protector_.Seal(seal_jobs_.data(), seal_count_);
  for (uint16_t j = 0; j < seal_count_; ++j) {
    RecordJob& job = seal_jobs_[j];
    if (job.result != RecordResult::kOk) {
      Drop(seal_mbufs_[j], seal_from_[j], DropFor(job.result));
      continue;
    }
    Emit(seal_mbufs_[j], seal_from_[j], *seal_peers_[j], job.record, job.record_length,
         seal_remotes_[j], seal_remote_versions_[j], std::nullopt);
  }
}

void Worker::Emit(rte_mbuf* m, Leg* from, Leg& to, uint8_t* payload, uint32_t length,
                  const SocketAddress& remote, uint32_t remote_version,
                  const std::optional<uint32_t>& payload_sum) {
  uint8_t* buffer_start = static_cast<uint8_t*>(m->buf_addr);
  // Relaying (from != nullptr) is done by one worker per destination leg, the owner of its
  // peer: it alone uses the leg's cached header.
  TxHeader* cache = from != nullptr ? &to.tx_header : nullptr;
  const uint64_t neighbor_version = context_.neighbors->version();
  if (cache != nullptr && cache->length != 0 && cache->remote_version == remote_version &&
      cache->neighbor_version == neighbor_version) {
    if (payload - buffer_start < cache->length) {
      Drop(m, from, DropReason::kNoRoom);
      return;
    }
    uint8_t* start = payload - cache->length;
    // The common header (untagged IPv4) as a fixed-size copy; the others as long as they are.
    constexpr size_t kIpv4Header = 14 + kIpv4MinHeaderLength + kUdpHeaderLength;
    if (cache->length == kIpv4Header) {
      std::memcpy(start, cache->bytes.data(), kIpv4Header);
    } else {
      std::memcpy(start, cache->bytes.data(), cache->length);
    }
    PatchLengthsAndChecksums(*cache, start, Bytes(payload, length), payload_sum);
    m->data_off = static_cast<uint16_t>(start - buffer_start);
    m->data_len = static_cast<uint16_t>(cache->length + length);
    m->pkt_len = m->data_len;
    from->counters.forwarded_packets.Add();
    from->counters.forwarded_bytes.Add(length);
    Transmit(to.port_index, m);
    return;
  }
  const PortSet& ports = *context_.ports;
  const PortInfo& port = ports.port(to.port_index);
  UdpFrameSpec spec;
  spec.ethernet.src = port.mac;
  spec.src = to.local;
  spec.dst = remote;
  spec.payload_sum = payload_sum;
  IpAddress next_hop = ports.NextHop(to.port_index, remote.ip);
  bool resolved = next_hop.family != IpFamily::kNone &&
                  context_.neighbors->Lookup(to.port_index, next_hop, &spec.ethernet.dst);
  size_t header = UdpFrameHeaderLength(spec);
  if (payload - buffer_start < static_cast<ptrdiff_t>(header)) {
    Drop(m, from, DropReason::kNoRoom);
    return;
  }
  uint8_t* start = payload - header;
  m->data_off = static_cast<uint16_t>(start - buffer_start);
  m->data_len = static_cast<uint16_t>(header + length);
  m->pkt_len = m->data_len;
  size_t written = 0;
  if (BuildUdpFrame(spec, Bytes(payload, length), MutableBytes(start, header + length),
                    &written) != WireError::kOk ||
      next_hop.family == IpFamily::kNone) {
    Drop(m, from, DropReason::kNoRoute);
    return;
  }
  if (from != nullptr) {
    from->counters.forwarded_packets.Add();
    from->counters.forwarded_bytes.Add(length);
  }
  if (!resolved) {
    Punt(m, to.id.load(std::memory_order_relaxed), to.port_index,
         PuntKind::kNeedsNeighbor);
    return;
  }
  if (cache != nullptr && header <= TxHeader::kMaxLength) {
    FillTxHeader(cache, Bytes(start, header), spec, remote_version, neighbor_version);
  }
  Transmit(to.port_index, m);
}

void Worker::FillTxHeader(TxHeader* cache, Bytes header, const UdpFrameSpec& spec,
                          uint32_t remote_version, uint64_t neighbor_version) {
  cache->neighbor_version = neighbor_version;
  cache->remote_version = remote_version;
  cache->length = static_cast<uint8_t>(header.size());
  std::memcpy(cache->bytes.data(), header.data(), header.size());
  const bool v4 = spec.src.ip.family == IpFamily::kV4;
  const size_t ip_length = v4 ? kIpv4MinHeaderLength : kIpv6HeaderLength;
  cache->ip_offset = static_cast<uint8_t>(header.size() - kUdpHeaderLength - ip_length);
  uint8_t* ip = cache->bytes.data() + cache->ip_offset;
  if (v4) {
    // The sum of the header with total length and checksum taken as zero.
    std::array<uint8_t, kIpv4MinHeaderLength> fields;
    std::memcpy(fields.data(), ip, fields.size());
    fields[2] = fields[3] = fields[10] = fields[11] = 0;
    cache->ip_sum = static_cast<uint16_t>(ChecksumAdd(0, Bytes(fields.data(), fields.size())));
  }
  cache->udp_sum = static_cast<uint16_t>(ChecksumAdd(
      PseudoHeaderSum(spec.src.ip, spec.dst.ip, kIpProtoUdp, 0), Bytes(ip + ip_length, 4)));
}

void Worker::PatchLengthsAndChecksums(const TxHeader& cache, uint8_t* start, Bytes payload,
                                      const std::optional<uint32_t>& payload_sum) {
  auto put16 = [](uint8_t* at, uint32_t value) {
    at[0] = static_cast<uint8_t>(value >> 8);
    at[1] = static_cast<uint8_t>(value);
  };
  const uint32_t udp_length = static_cast<uint32_t>(kUdpHeaderLength + payload.size());
  uint8_t* ip = start + cache.ip_offset;
  uint8_t* udp = start + cache.length - kUdpHeaderLength;
  if (udp - ip == static_cast<ptrdiff_t>(kIpv4MinHeaderLength)) {
    const uint32_t total = kIpv4MinHeaderLength + udp_length;
    put16(ip + 2, total);
    put16(ip + 10, ChecksumFinish(ChecksumCombine(cache.ip_sum, total)));
  } else {
    put16(ip + 4, udp_length);
  }
  put16(udp + 4, udp_length);
  // The length counts twice: in the pseudo-header and in the UDP header.
  uint32_t sum = ChecksumCombine(ChecksumCombine(cache.udp_sum, udp_length), udp_length);
  sum = payload_sum ? ChecksumCombine(sum, *payload_sum) : ChecksumAdd(sum, payload);
  uint16_t checksum = ChecksumFinish(sum);
  put16(udp + 6, checksum == 0 ? 0xFFFF : checksum);  // RFC 768: zero is sent as all ones
}

void Worker::Punt(rte_mbuf* m, uint64_t leg_id, uint16_t port_index, PuntKind kind) {
  PuntInfoOf(m) = PuntInfo{leg_id, port_index, kind};
  const auto lcores = static_cast<uint16_t>(context_.punt.size());
  rte_ring* ring = context_.punt[HandshakeLcoreOfPunt(leg_id, kind, lcores)];
  if (rte_ring_mp_enqueue(ring, m) != 0) {
    Drop(m, nullptr, DropReason::kPuntQueueFull);
    return;
  }
  counters_.punted.Add();
}

void Worker::Drop(rte_mbuf* m, Leg* leg, DropReason reason) {
  counters_.Drop(reason);
  if (leg != nullptr) leg->Drop(reason);
  rte_pktmbuf_free(m);
}

void Worker::Transmit(uint16_t port_index, rte_mbuf* m) {
  TxBuffer& tx = tx_[port_index];
  // One poll can queue more than a buffer holds (a burst from every port, the hand-off ring, late
  // records): a full buffer goes out first.
  if (tx.count == tx.mbufs.size()) FlushPort(port_index);
  tx.mbufs[tx.count++] = m;
}

void Worker::FlushPort(uint16_t port_index) {
  TxBuffer& tx = tx_[port_index];
  if (tx.count == 0) return;
  uint16_t sent = rte_eth_tx_burst(context_.ports->port(port_index).port_id, context_.index,
                                   tx.mbufs.data(), tx.count);
  counters_.tx_packets.Add(sent);
  for (uint16_t i = sent; i < tx.count; ++i) Drop(tx.mbufs[i], nullptr, DropReason::kTxQueueFull);
  tx.count = 0;
}

void Worker::FlushTx() {
  for (uint16_t p = 0; p < tx_.size(); ++p) FlushPort(p);
}

void Worker::SendEvent(const RelayEvent& event) { context_.events->Send(event); }

void Worker::SendCloseNotify() {
  // Stopped relay: this thread is the only one touching legs now.
  const LegTable& table = *context_.legs;
  for (uint32_t i = 0; i < table.capacity(); ++i) {
    Leg& leg = (*context_.legs)[i];
    if (leg.id.load(std::memory_order_relaxed) == kNoLegId || leg.worker != context_.index ||
        leg.state.load(std::memory_order_relaxed) != LegPhase::kEstablished) {
      continue;
    }
    SendCloseNotify(leg);
  }
  FlushTx();
}

void Worker::SendCloseNotify(Leg& leg) {
  SocketAddress remote;
  if (!leg.remote.Load(&remote)) return;
  rte_mbuf* m = rte_pktmbuf_alloc(context_.pool);
  if (m == nullptr) return;
  uint8_t* buffer_start = static_cast<uint8_t*>(m->buf_addr);
  // close_notify: level warning (1), description 0 (RFC 5246 section 7.2.1).
  uint8_t* record = buffer_start + RTE_PKTMBUF_HEADROOM;
  uint8_t* plaintext = record + crypto::kRecordPrefixLength;
  plaintext[0] = 1;
  plaintext[1] = 0;
  RecordJob job;
  job.leg = &leg.record;
  job.mbuf = m;
  job.record = record;
  job.record_length = 2 + static_cast<uint32_t>(crypto::kRecordOverhead);
  job.content_type = kDtlsAlert;
  m->data_off = RTE_PKTMBUF_HEADROOM;
  m->data_len = static_cast<uint16_t>(job.record_length);
  m->pkt_len = job.record_length;
  if (protector_.Seal(&job, 1) != 1) {
    rte_pktmbuf_free(m);
    return;
  }
  Emit(m, nullptr, leg, job.record, job.record_length, remote, /*remote_version=*/0,
       std::nullopt);
}

}  // namespace t38relay::dataplane
