// A handshake lcore: runs the DTLS engines and timers of its share of the legs, answers
// ClientHellos with stateless cookies, and hands established keys to the owning worker. The first
// one (index 0) also runs the neighbour responder (ARP, NDP, ICMP echo, next-hop resolution) for
// the frames workers and the other handshake lcores send it.
#pragma once

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "crypto/dtls/dtls_engine.h"
#include "crypto/dtls/fingerprint.h"
#include "crypto/dtls/identity.h"
#include "dataplane/port/neighbor_responder.h"
#include "dataplane/port/port_set.h"
#include "dataplane/relay/leg.h"
#include "dataplane/relay/mailbox.h"

namespace t38relay::dataplane {

// Control -> the handshake lcore, by pointer (the lcore deletes it).
struct HandshakeCommand {
  enum class Type : uint8_t {
    kConfigure,  // the leg's DTLS setup (sent at leg.add and after every leg.update)
    kForget,     // the leg is being deleted: drop its engine
  };
  Type type = Type::kConfigure;
  uint64_t leg_id = 0;
  // Unknown while we offered actpass and no answer came: then we answer ClientHellos as a server
  // (RFC 7345 section 4.1 lets the offerer receive one before the answer).
  std::optional<crypto::DtlsRole> role;
  std::shared_ptr<const crypto::Identity> identity;
  std::vector<crypto::Fingerprint> peer_fingerprints;
  // The remote control programmed, if any (the client connects to it).
  std::optional<SocketAddress> remote;
};
struct HandshakeCommandRef {
  HandshakeCommand* command;
};

struct HandshakeCounters {
  Counter punted;
  Counter handshake_datagrams;
  Counter cookies_sent;
  Counter engines_created;
  Counter established;
  Counter failed;
  Counter alerts;
  Counter no_flow;            // a DTLS datagram for a leg with no DTLS setup
  Counter wrong_source;       // a DTLS datagram from another address than the engine's peer
  Counter not_client_hello;   // dropped by the cookie responder
  Counter engine_errors;
  Counter tx_alloc_failed;
  Counter events_lost;
  Counter commands_lost;      // a worker's mailbox was full
  Counter late_records;       // records sent back to the owner worker after the keys (relayed)
  // A client that restarts sends a new ClientHello to an established leg (RFC 6347 section
  // 4.2.8): the new association replaces the old one once its handshake completes.
  Counter renewals;
  Counter renewals_failed;    // the new handshake failed: the old association stays
  Counter rx_handed_off;      // received on its own RX queue, passed to a worker
  Counter rx_dropped;         // same, but the hand-off ring was full
  Counter responder_dropped;  // a frame for lcore 0's neighbour responder: its ring was full
  Counter tx_dropped;         // frames its TX queue did not take
};

struct HandshakeContext {
  uint16_t index = 0;           // 0..handshake lcores-1
  uint16_t tx_queue = 0;        // its TX queue on every port
  // Its RX queue on every port: some devices (net_tap) need as many RX as TX queues and spread
  // packets over all of them; what arrives there goes to worker 0's hand-off ring.
  uint16_t rx_queue = 0;
  rte_ring* handoff = nullptr;
  uint16_t qsbr_thread_id = 0;  // its reader id on the QSBR variable
  const PortSet* ports = nullptr;
  NeighborTable* neighbors = nullptr;
  LegTable* legs = nullptr;
  rte_rcu_qsbr* qsbr = nullptr;
  rte_mempool* pool = nullptr;
  rte_ring* punt = nullptr;                       // workers -> this lcore (mbufs)
  // Lcore 0's punt ring: an unresolved next hop's frames go there from the other lcores.
  rte_ring* responder_punt = nullptr;
  Mailbox<HandshakeCommandRef>* commands = nullptr;  // control -> this lcore
  std::vector<Mailbox<WorkerCommand>*> workers;   // this lcore -> the owner of a leg
  Mailbox<RelayEvent>* events = nullptr;          // -> control
  crypto::DtlsContextOptions dtls;
  // How often the cookie secret changes (far longer than a handshake lasts).
  uint64_t cookie_rotation_ms = 10 * 60 * 1000;
};

class HandshakeLcore {
 public:
  static absl::StatusOr<std::unique_ptr<HandshakeLcore>> Create(const HandshakeContext& context);
  ~HandshakeLcore();
  HandshakeLcore(const HandshakeLcore&) = delete;
  HandshakeLcore& operator=(const HandshakeLcore&) = delete;

  // The lcore body: polls until stop is set, sleeping briefly when there is nothing to do (it
  // is the slow path, and often shares a core).
  void Run(const std::atomic<bool>& stop);
  // One pass: commands, punted frames, timers, TX flush. Returns the work done.
  unsigned PollOnce(uint64_t now_ms);

  const HandshakeCounters& counters() const { return counters_; }
  // Lcore 0's; null on the others.
  const NeighborResponder* responder() const { return responder_.get(); }
  size_t engines() const { return flows_.size(); }
  uint16_t index() const { return context_.index; }

 private:
  struct Flow;
  HandshakeLcore(const HandshakeContext& context, std::unique_ptr<crypto::DtlsContext> dtls);

  void ProcessCommand(HandshakeCommand& command, uint64_t now_ms);
  void ProcessPunted(rte_mbuf* m, uint64_t now_ms);
  // before_keys: the worker punted it because the leg had no keys yet (PuntKind::kBeforeKeys).
  void ProcessDtls(rte_mbuf* m, Leg& leg, bool before_keys, uint64_t now_ms);
  void MaybeStartClient(Flow& flow, uint64_t now_ms);
  // The stateless answer to a ClientHello (RFC 6347 section 4.2.1): a HelloVerifyRequest, or with
  // a valid cookie a server engine fed the datagram (replacing an established one, whose keys stay
  // in the fast path until the new ones come). False when `datagram` is no ClientHello.
  bool AnswerClientHello(Flow& flow, const SocketAddress& source, dataplane::Bytes datagram,
                         uint64_t now_ms);
  absl::Status CreateEngine(Flow& flow, crypto::DtlsRole role, const SocketAddress& peer);
  void RunTimers(uint64_t now_ms);
  void Reschedule(Flow& flow);
  void SendDatagram(uint64_t leg_id, const SocketAddress& to, dataplane::Bytes payload);
  // A frame complete but for its destination MAC, to next_hop: through the responder on lcore 0;
  // elsewhere sent at once when the neighbour is known, else handed to lcore 0.
  void SendFrame(uint16_t port_index, const IpAddress& next_hop, uint64_t leg_id, rte_mbuf* m);
  // Hands a punted frame to lcore 0 (its neighbour responder's work).
  void PassToResponder(rte_mbuf* m);
  bool Transmit(size_t port_index, rte_mbuf* m);
  void FlushTx();
  void SendEvent(const RelayEvent& event);
  // False when the worker's mailbox is full (counted; what the command carried is freed).
  bool SendToWorker(const Leg& leg, const WorkerCommand& command);
  void Destroy(Flow& flow);

  HandshakeContext context_;
  std::unique_ptr<crypto::DtlsContext> dtls_;
  std::unique_ptr<NeighborResponder> responder_;
  std::map<uint64_t, std::unique_ptr<Flow>> flows_;
  std::set<std::pair<uint64_t, uint64_t>> timers_;  // (deadline ms, leg id)
  std::vector<uint64_t> finished_;                  // flows whose engine may be dropped
  uint64_t now_ms_ = 0;
  uint64_t next_rotation_ms_ = 0;
  HandshakeCounters counters_;
  struct TxBuffer {
    std::vector<rte_mbuf*> mbufs;
  };
  std::vector<TxBuffer> tx_;
};

}  // namespace t38relay::dataplane
