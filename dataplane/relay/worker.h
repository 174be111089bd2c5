// A worker lcore: receives bursts on its queues, finds each datagram's leg, answers ICE-lite
// checks, opens and seals DTLS records, relays UDPTL to the peer leg, and counts every drop.
#pragma once

#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "crypto/record/record_protector.h"
#include "dataplane/flow/flow_table.h"
#include "dataplane/port/neighbor_table.h"
#include "dataplane/port/port_set.h"
#include "dataplane/relay/leg.h"
#include "dataplane/relay/mailbox.h"
#include "dataplane/relay/punt.h"
#include "dataplane/wire/packet.h"

namespace t38relay::crypto {
class CryptodevQueue;
}

namespace t38relay::dataplane {

// Frames a worker takes from a queue at a time. 64 against 32: 1.15x plain<->plain and 1.05x
// DTLS<->DTLS in the relay benchmark (per-poll work amortised over more frames); 128 was slower.
inline constexpr uint16_t kBurstSize = 64;
static_assert(kBurstSize <= kFlowLookupMax);

struct WorkerCounters {
  Counter rx_packets;
  Counter tx_packets;
  Counter punted;
  Counter handed_off;
  Counter commands;
  std::array<Counter, kDropReasonCount> drops;
  void Drop(DropReason reason) { drops[static_cast<size_t>(reason)].Add(); }
};

// What a worker shares with the rest of the relay; everything outlives the worker.
struct WorkerContext {
  uint16_t index = 0;        // 0..workers-1: its RX and TX queue on every port
  uint16_t worker_count = 1;
  const PortSet* ports = nullptr;
  const NeighborTable* neighbors = nullptr;
  LegTable* legs = nullptr;
  // Legs this worker owns; control adds and removes them.
  const DirectFlowTable* flows = nullptr;
  rte_rcu_qsbr* qsbr = nullptr;  // the worker registers itself as reader `index`
  crypto::AeadBackend* backend = nullptr;
  crypto::CryptodevQueue* cryptodev = nullptr;  // when the backend is one: reaped when idle
  uint64_t previous_epoch_grace_ms = 5000;
  Mailbox<WorkerCommand>* commands = nullptr;  // control and handshake -> this worker
  Mailbox<RelayEvent>* events = nullptr;       // -> control
  // One per handshake lcore (mbufs), chosen by HandshakeLcoreOfPunt.
  std::vector<rte_ring*> punt;
  // Hand-off rings (mbufs), one per worker: a datagram for a leg another worker owns goes there.
  std::vector<rte_ring*> handoff;
  uint16_t leg_port_first = 0;
  uint32_t leg_port_count = 0;
  rte_mempool* pool = nullptr;  // for close_notify at shutdown
};

// The worker owning local port p: (p - leg_port_first) % worker_count.
inline uint16_t OwnerOfPort(uint16_t port, uint16_t first, uint16_t workers) {
  return static_cast<uint16_t>(static_cast<uint16_t>(port - first) % workers);
}

class Worker {
 public:
  explicit Worker(const WorkerContext& context);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // The lcore body: polls until stop is set. Registers with the QSBR variable first.
  void Run(const std::atomic<bool>& stop);
  // One pass: commands, every port's RX queue, the hand-off ring, TX flush, quiescent state.
  // Returns the packets received (Run and tests call it).
  uint16_t PollOnce(uint64_t now_ms);
  // After Run returned, on a stopped relay (no other lcore running): seals and sends a
  // close_notify alert on every established leg this worker owns.
  void SendCloseNotify();
  ~Worker();
  // On a stopped relay: frees the leg's record keys through this worker's backend.
  void ReleaseLeg(Leg& leg) { protector_.Release(leg.record); }

  const WorkerCounters& counters() const { return counters_; }
  uint16_t index() const { return context_.index; }

 private:
  // A datagram on its way through the burst.
  struct Item {
    rte_mbuf* m;
    Leg* leg;
    uint16_t rx_port_index;
    const PacketView* view;  // valid during the burst
    uint8_t* payload;
    uint32_t payload_length;
  };

  void ProcessCommands(uint64_t now_ms);
  // kInstallKeys: the keys go into the record layer and the leg relays.
  void InstallKeys(Leg& leg, const WorkerCommand& command, uint64_t now_ms);
  // Installs the waiting keys of new associations whose grace period is over.
  void InstallPendingKeys(uint64_t now_ms);
  // port_index: the port all mbufs came from, or nullopt for hand-off mbufs (each carries its own).
  // counted: the mbufs were counted as received already (late records).
  void ProcessBurst(rte_mbuf** mbufs, uint16_t n, std::optional<uint16_t> port_index,
                    uint64_t now_ms, bool counted = false);
  void Classify(Item& item, const PacketView& view);
  // Whether the datagram's source may send to `leg` (latching it there when allowed).
  bool AcceptSource(Leg& leg, const PacketView& view, bool authenticated);
  void LatchTo(Leg& leg, const SocketAddress& source);
  void AnswerStun(Item& item, const PacketView& view);
  void OpenRecords(uint64_t now_ms);
  void Forward(Item& item, uint8_t* plaintext, uint32_t length);
  void SealRecords();
  // Frames `payload` for `to` and sends it (or hands it to the handshake lcore to resolve the
  // next hop). `from` (null for our own records) is the leg it is forwarded from: counted there.
  // `remote_version`: what RemoteSlot::Load gave with `remote` (the cached header's key; unused
  // when `from` is null). `payload_sum`: the payload's checksum sum when known (an unchanged
  // payload), see UdpPayloadSum.
  void Emit(rte_mbuf* m, Leg* from, Leg& to, uint8_t* payload, uint32_t length,
            const SocketAddress& remote, uint32_t remote_version,
            const std::optional<uint32_t>& payload_sum);
  // The cached header of a leg (see TxHeader): built from a frame Emit wrote, and applied to the
  // next one (lengths and checksums patched in).
  static void FillTxHeader(TxHeader* cache, Bytes header, const UdpFrameSpec& spec,
                           uint32_t remote_version, uint64_t neighbor_version);
  static void PatchLengthsAndChecksums(const TxHeader& cache, uint8_t* start, Bytes payload,
                                       const std::optional<uint32_t>& payload_sum);
  // Seals a close_notify alert with the leg's send keys and sends it to its remote.
  void SendCloseNotify(Leg& leg);
  void CountUdptl(Leg& leg, const uint8_t* payload, uint32_t length);
  void Punt(rte_mbuf* m, uint64_t leg_id, uint16_t port_index, PuntKind kind);
  void Drop(rte_mbuf* m, Leg* leg, DropReason reason);
  void Transmit(uint16_t port_index, rte_mbuf* m);
  // Sends what is queued for one port (FlushPort) or for all (FlushTx); what the queue refuses is
  // dropped as tx-queue-full.
  void FlushPort(uint16_t port_index);
  void FlushTx();
  void SendEvent(const RelayEvent& event);

  WorkerContext context_;
  crypto::RecordProtector protector_;
  WorkerCounters counters_;
  // Keys of a new association on an established leg (a restarted client): the peer's worker may
  // be sealing with the old send keys, so they are installed after a QSBR grace period that
  // starts when the leg stops taking records (kRekeying).
  struct PendingKeys {
    WorkerCommand command;
    uint64_t token;
  };
  std::vector<PendingKeys> pending_keys_;

  // Per-burst scratch.
  std::array<PacketView, kBurstSize> views_;  // ParseFrame writes every field
  std::array<Item, kBurstSize> items_;
  uint16_t item_count_ = 0;
  std::array<crypto::RecordJob, kBurstSize> open_jobs_;
  std::array<uint16_t, kBurstSize> open_items_;
  uint16_t open_count_ = 0;
  std::array<crypto::RecordJob, kBurstSize> seal_jobs_;
  std::array<rte_mbuf*, kBurstSize> seal_mbufs_;
  std::array<Leg*, kBurstSize> seal_from_;
  std::array<Leg*, kBurstSize> seal_peers_;
  std::array<SocketAddress, kBurstSize> seal_remotes_;
  std::array<uint32_t, kBurstSize> seal_remote_versions_;
  uint16_t seal_count_ = 0;
  struct TxBuffer {
    std::array<rte_mbuf*, kBurstSize * 2> mbufs;
    uint16_t count = 0;
  };
  std::vector<TxBuffer> tx_;
  uint64_t last_reap_ms_ = 0;
};

}  // namespace t38relay::dataplane
