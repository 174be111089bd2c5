// The slow path's link-layer duties: answering ARP, NDP and echo requests to our addresses,
// learning neighbours, and resolving next hops for frames that wait for a MAC address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "dataplane/port/neighbor_table.h"
#include "dataplane/port/port_set.h"
#include "dataplane/wire/address.h"
#include "dataplane/wire/packet.h"

struct rte_mbuf;
struct rte_mempool;

namespace t38relay::dataplane {

// X(field, "printed-name")
#define T38RELAY_NEIGHBOR_COUNTERS(X)                                                   \
  X(arp_requests_answered, "arp-requests-answered")                                     \
  X(arp_learned, "arp-learned")          /* from a reply, or a request for our address */ \
  X(arp_refreshed, "arp-refreshed")      /* a known neighbour's gratuitous or other ARP */ \
  X(ns_answered, "ns-answered")                                                         \
  X(ns_learned, "ns-learned")            /* the solicitor of an NS for our address */    \
  X(na_learned, "na-learned")            /* the answer to our own solicitation */        \
  X(na_refreshed, "na-refreshed")        /* a known neighbour's other advertisements */  \
  X(echo_answered, "echo-answered")                                                     \
  X(icmp_ignored, "icmp-ignored")        /* ICMP to us that needs no answer */           \
  X(not_for_us, "not-for-us")            /* other targets, unsolicited replies */        \
  X(address_conflict, "address-conflict") /* someone else claims one of our addresses */ \
  X(malformed, "malformed")                                                             \
  X(resolutions_started, "resolutions-started")                                         \
  X(resolution_retries, "resolution-retries")                                           \
  X(resolution_failed, "resolution-failed")                                             \
  X(neighbor_unresolved, "neighbor-unresolved") /* held frames dropped on giving up */   \
  X(held_dropped, "held-dropped")        /* beyond the per-neighbour or total limit */   \
  X(pending_full, "pending-full")        /* too many neighbours being resolved at once */ \
  X(sent, "sent")                        /* frames of Send given a known MAC */          \
  X(held_sent, "held-sent")              /* frames of Send transmitted after resolution */ \
  X(no_route, "no-route")                /* Send without a next hop, or no source address */ \
  X(no_mbuf, "no-mbuf")                                                                 \
  X(tx_failed, "tx-failed")                                                             \
  X(table_full, "table-full")                                                           \
  X(neighbor_expired, "neighbor-expired")

struct NeighborCounters {
#define T38RELAY_NEIGHBOR_COUNTER_FIELD(field, name) uint64_t field = 0;
  T38RELAY_NEIGHBOR_COUNTERS(T38RELAY_NEIGHBOR_COUNTER_FIELD)
#undef T38RELAY_NEIGHBOR_COUNTER_FIELD

  // f(const char* name, uint64_t value) for every counter, in the order above.
  template <typename F>
  void ForEach(F&& f) const {
#define T38RELAY_NEIGHBOR_COUNTER_VISIT(field, name) f(name, field);
    T38RELAY_NEIGHBOR_COUNTERS(T38RELAY_NEIGHBOR_COUNTER_VISIT)
#undef T38RELAY_NEIGHBOR_COUNTER_VISIT
  }
};

struct NeighborResponderConfig {
  uint64_t retry_ms = 1000;          // between ARP requests / solicitations for one neighbour
  int max_tries = 3;                 // requests sent before giving up
  size_t max_held = 1024;            // frames waiting for any neighbour
  size_t max_pending = 256;          // neighbours being resolved at once
};

// One per process, run by the first handshake lcore; it is the NeighborTable's only writer.
// Other handshake lcores (and workers) punt their ARP/NDP/ICMP frames and their unresolved sends
// to it. Not thread-safe: every call comes from that one lcore.
//
// Learning follows what hosts do: a neighbour is created from an ARP request or NS for one of our
// addresses (the sender will want an answer from us) or from a reply to our own resolution; other
// ARP and NA only refresh neighbours already known, so the table cannot be filled from the link
// with made-up addresses. Only senders inside one of the port's prefixes are learned.
//
// Entries expire after the table's lifetime unless the neighbour refreshes them (ARP requests and
// solicitations it sends to us do). Entries in use are not re-resolved ahead of expiry: a worker
// that misses hands its frame to Send, which resolves again (one round trip of delay, no loss).
class NeighborResponder {
 public:
  static constexpr size_t kMaxHeldPerNeighbor = 4;

  // Queues a frame on port_index's slow-path TX queue; false when it could not (the responder
  // then frees the mbuf and counts tx_failed).
  using Transmit = std::function<bool(size_t port_index, rte_mbuf* frame)>;

  // `pool` supplies the mbufs of ARP requests and solicitations.
  NeighborResponder(const PortSet& ports, NeighborTable& table, rte_mempool* pool,
                    Transmit transmit, NeighborResponderConfig config = {});
  ~NeighborResponder();  // frees the frames still held
  NeighborResponder(const NeighborResponder&) = delete;
  NeighborResponder& operator=(const NeighborResponder&) = delete;

  // Takes ARP, and ICMP/ICMPv6 (echo and NDP) frames received on port_index: answers (in place, in
  // the same mbuf), learns, or drops with a counter; returns true, the mbuf is consumed. Returns
  // false for anything else (UDP, TCP, other ethertypes, multi-segment mbufs): the caller keeps
  // the mbuf.
  bool HandleFrame(size_t port_index, rte_mbuf* m, uint64_t now_ms);

  // `frame` is a complete single-segment Ethernet frame except its destination MAC. Fills that
  // from the table and transmits; or holds the frame (at most kMaxHeldPerNeighbor per neighbour
  // and config.max_held in all, else dropped and counted) and starts resolving next_hop.
  void Send(size_t port_index, const IpAddress& next_hop, rte_mbuf* frame, uint64_t now_ms);
  // Starts resolving next_hop unless it is known or already being resolved (e.g. gateways at
  // start-up).
  void Resolve(size_t port_index, const IpAddress& next_hop, uint64_t now_ms);
  // Retries every config.retry_ms, gives up after config.max_tries requests (dropping what is
  // held), and ages the table once a second. Call it every few milliseconds.
  void OnTimer(uint64_t now_ms);

  const NeighborCounters& counters() const { return counters_; }
  // Neighbours being resolved, and frames held for them.
  size_t pending() const;
  size_t held() const { return held_; }

 private:
  struct Pending {
    bool active = false;
    size_t port = 0;
    IpAddress ip;
    int tries = 0;
    uint64_t next_try_ms = 0;
    size_t held_count = 0;
    rte_mbuf* held[kMaxHeldPerNeighbor] = {};
  };

  bool HandleArp(size_t port, rte_mbuf* m, const PacketView& v, uint64_t now_ms);
  bool HandleIcmp(size_t port, rte_mbuf* m, const PacketView& v, uint64_t now_ms);
  // Learns ip -> mac (counting `counter`) and transmits what was held for ip.
  void Learn(size_t port, const IpAddress& ip, const MacAddress& mac, uint64_t now_ms,
             uint64_t NeighborCounters::*counter);
  bool OnLink(size_t port, const IpAddress& ip) const;
  Pending* FindPending(size_t port, const IpAddress& ip);
  Pending* StartPending(size_t port, const IpAddress& ip, uint64_t now_ms);
  // Sends one ARP request or solicitation; false when it could not be built or queued.
  bool SendRequest(const Pending& p);
  void DropPending(Pending* p, uint64_t NeighborCounters::*counter);
  void Emit(size_t port, rte_mbuf* m);
  // Sets the mbuf's length to `length` bytes of its first segment and transmits it.
  void EmitReply(size_t port, rte_mbuf* m, size_t length);
  void Drop(rte_mbuf* m, uint64_t NeighborCounters::*counter);

  const PortSet& ports_;
  NeighborTable& table_;
  rte_mempool* pool_;
  Transmit transmit_;
  NeighborResponderConfig config_;
  NeighborCounters counters_;
  std::vector<Pending> pending_;
  size_t held_ = 0;
  uint64_t last_age_ms_ = 0;
};

}  // namespace t38relay::dataplane
