// ARP/NDP/echo answers, neighbour learning and next-hop resolution on the slow-path lcore.
#include "dataplane/port/neighbor_responder.h"

#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "dataplane/wire/arp.h"
#include "dataplane/wire/icmp.h"

namespace t38relay::dataplane {
namespace {

constexpr uint64_t kAgeIntervalMs = 1000;
constexpr size_t kEthernetAddressesLength = 12;

bool IsUnicastMac(const MacAddress& mac) {
  return (mac[0] & 1) == 0 && mac != MacAddress{};
}

bool IsZero(const IpAddress& ip) { return ip.bytes == std::array<uint8_t, 16>{}; }

Bytes FrameBytes(const rte_mbuf* m) {
  return Bytes(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m));
}

// The first segment from its data to the end of its buffer: room for an in-place reply.
MutableBytes ReplyRoom(rte_mbuf* m) {
  return MutableBytes(rte_pktmbuf_mtod(m, uint8_t*),
                      rte_pktmbuf_data_len(m) + rte_pktmbuf_tailroom(m));
}

}  // namespace

NeighborResponder::NeighborResponder(const PortSet& ports, NeighborTable& table,
                                     rte_mempool* pool, Transmit transmit,
                                     NeighborResponderConfig config)
    : ports_(ports),
      table_(table),
      pool_(pool),
      transmit_(std::move(transmit)),
      config_(config),
      pending_(std::max<size_t>(config.max_pending, 1)) {}

NeighborResponder::~NeighborResponder() {
  for (Pending& p : pending_) {
    for (size_t i = 0; i < p.held_count; ++i) rte_pktmbuf_free(p.held[i]);
  }
}

size_t NeighborResponder::pending() const {
  return static_cast<size_t>(
      std::count_if(pending_.begin(), pending_.end(), [](const Pending& p) { return p.active; }));
}

bool NeighborResponder::HandleFrame(size_t port, rte_mbuf* m, uint64_t now_ms) {
  // ARP, NDP and echo requests we answer fit one segment; larger frames are not ours to take.
  if (m->nb_segs != 1 || port >= ports_.size()) return false;
  PacketView v;
  const WireError e = ParseFrame(LinkType::kEthernet, FrameBytes(m), &v);
  if (v.ethertype == kEtherTypeArp) {
    if (e != WireError::kOk) {
      Drop(m, &NeighborCounters::malformed);
      return true;
    }
    return HandleArp(port, m, v, now_ms);
  }
  const bool icmp = (v.family == IpFamily::kV4 && v.l4_protocol == kIpProtoIcmp) ||
                    (v.family == IpFamily::kV6 && v.l4_protocol == kIpProtoIcmpv6);
  if (!icmp) return false;
  if (e != WireError::kOk) {
    Drop(m, &NeighborCounters::malformed);
    return true;
  }
  return HandleIcmp(port, m, v, now_ms);
}

bool NeighborResponder::HandleArp(size_t port, rte_mbuf* m, const PacketView& v,
                                  uint64_t now_ms) {
  ArpPacket arp;
  if (ParseArp(v.l3, &arp) != WireError::kOk || !IsUnicastMac(arp.sender_mac)) {
    Drop(m, &NeighborCounters::malformed);
    return true;
  }
  if (ports_.IsOurAddress(port, arp.sender_ip)) {
    Drop(m, &NeighborCounters::address_conflict);
    return true;
  }
  if (arp.operation == kArpRequest && ports_.IsOurAddress(port, arp.target_ip)) {
    // RFC 826: the requester will talk to us, so it is worth knowing (not for RFC 5227 probes
    // from 0.0.0.0, which are answered all the same).
    if (!IsZero(arp.sender_ip) && OnLink(port, arp.sender_ip)) {
      Learn(port, arp.sender_ip, arp.sender_mac, now_ms, &NeighborCounters::arp_learned);
    }
    size_t written = 0;
    if (BuildArpReply(v, arp, ports_.port(port).mac, ReplyRoom(m), &written) != WireError::kOk) {
      Drop(m, &NeighborCounters::malformed);
      return true;
    }
    ++counters_.arp_requests_answered;
    EmitReply(port, m, written);
    return true;
  }
  // Replies, gratuitous ARP and requests for others: only for neighbours we resolve or know.
  MacAddress known;
  if (FindPending(port, arp.sender_ip) != nullptr) {
    Learn(port, arp.sender_ip, arp.sender_mac, now_ms, &NeighborCounters::arp_learned);
  } else if (table_.Lookup(port, arp.sender_ip, &known)) {
    Learn(port, arp.sender_ip, arp.sender_mac, now_ms, &NeighborCounters::arp_refreshed);
  } else {
    ++counters_.not_for_us;
  }
  rte_pktmbuf_free(m);
  return true;
}

bool NeighborResponder::HandleIcmp(size_t port, rte_mbuf* m, const PacketView& v,
                                   uint64_t now_ms) {
  const MacAddress& our_mac = ports_.port(port).mac;
  // Frames a switch floods to us for another station are not ours to answer.
  if (v.ethernet.dst != our_mac && (v.ethernet.dst[0] & 1) == 0) {
    Drop(m, &NeighborCounters::not_for_us);
    return true;
  }
  const bool v6 = v.family == IpFamily::kV6;
  IcmpMessage message;
  if (ParseIcmp(v, &message) != WireError::kOk) {
    Drop(m, &NeighborCounters::malformed);
    return true;
  }
  size_t written = 0;
  if (v6 && message.type == kNdpNeighborSolicitation) {
    NeighborSolicitation ns;
    if (ParseNeighborSolicitation(v, &ns) != WireError::kOk ||
        (ns.has_source_mac && !IsUnicastMac(ns.source_mac))) {
      Drop(m, &NeighborCounters::malformed);
      return true;
    }
    if (!ports_.IsOurAddress(port, ns.target)) {
      Drop(m, &NeighborCounters::not_for_us);
      return true;
    }
    // RFC 4861 section 7.2.3: the solicitor's link-layer address is worth keeping.
    if (ns.has_source_mac && !IsZero(v.src) && OnLink(port, v.src)) {
      Learn(port, v.src, ns.source_mac, now_ms, &NeighborCounters::ns_learned);
    }
    if (BuildNeighborAdvertisement(v, ns, our_mac, ReplyRoom(m), &written) != WireError::kOk) {
      Drop(m, &NeighborCounters::malformed);
      return true;
    }
    ++counters_.ns_answered;
    EmitReply(port, m, written);
    return true;
  }
  if (v6 && message.type == kNdpNeighborAdvertisement) {
    NeighborAdvertisement na;
    if (ParseNeighborAdvertisement(v, &na) != WireError::kOk ||
        (na.has_target_mac && !IsUnicastMac(na.target_mac))) {
      Drop(m, &NeighborCounters::malformed);
      return true;
    }
    MacAddress known;
    if (ports_.IsOurAddress(port, na.target)) {
      ++counters_.address_conflict;
    } else if (!na.has_target_mac) {
      // Section 7.2.5: without the option there is nothing to learn.
      ++counters_.not_for_us;
    } else if (FindPending(port, na.target) != nullptr) {
      Learn(port, na.target, na.target_mac, now_ms, &NeighborCounters::na_learned);
    } else if (table_.Lookup(port, na.target, &known)) {
      Learn(port, na.target, na.target_mac, now_ms, &NeighborCounters::na_refreshed);
    } else {
      ++counters_.not_for_us;
    }
    rte_pktmbuf_free(m);
    return true;
  }
  const uint8_t echo_request = v6 ? kIcmpv6EchoRequest : kIcmpEchoRequest;
  if (message.type != echo_request) {
    // Echo replies, errors, router and multicast listener messages: nothing to answer.
    Drop(m, &NeighborCounters::icmp_ignored);
    return true;
  }
  if (!ports_.IsOurAddress(port, v.dst)) {
    Drop(m, &NeighborCounters::not_for_us);
    return true;
  }
  IcmpEcho echo;
  // Back to the frame's source MAC: the sender, or the gateway it came through.
  if (ParseIcmpEcho(v, &echo) != WireError::kOk ||
      BuildIcmpEchoReply(v, echo, our_mac, ReplyRoom(m), &written) != WireError::kOk) {
    Drop(m, &NeighborCounters::malformed);
    return true;
  }
  ++counters_.echo_answered;
  EmitReply(port, m, written);
  return true;
}

void NeighborResponder::Learn(size_t port, const IpAddress& ip, const MacAddress& mac,
                              uint64_t now_ms, uint64_t NeighborCounters::*counter) {
  if (!table_.Set(port, ip, mac, now_ms)) {
    ++counters_.table_full;
    return;
  }
  ++(counters_.*counter);
  Pending* p = FindPending(port, ip);
  if (p == nullptr) return;
  for (size_t i = 0; i < p->held_count; ++i) {
    std::memcpy(rte_pktmbuf_mtod(p->held[i], uint8_t*), mac.data(), mac.size());
    ++counters_.held_sent;
    Emit(port, p->held[i]);
  }
  held_ -= p->held_count;
  *p = Pending{};
}

bool NeighborResponder::OnLink(size_t port, const IpAddress& ip) const {
  const auto& addresses = ports_.port(port).config.addresses;
  return std::any_of(addresses.begin(), addresses.end(),
                     [&](const InterfaceAddress& a) { return a.OnLink(ip); });
}

void NeighborResponder::Send(size_t port, const IpAddress& next_hop, rte_mbuf* frame,
                             uint64_t now_ms) {
  if (port >= ports_.size() || next_hop.family == IpFamily::kNone) {
    Drop(frame, &NeighborCounters::no_route);
    return;
  }
  if (rte_pktmbuf_data_len(frame) < kEthernetAddressesLength) {
    Drop(frame, &NeighborCounters::malformed);
    return;
  }
  MacAddress mac;
  if (table_.Lookup(port, next_hop, &mac)) {
    std::memcpy(rte_pktmbuf_mtod(frame, uint8_t*), mac.data(), mac.size());
    ++counters_.sent;
    Emit(port, frame);
    return;
  }
  Pending* p = FindPending(port, next_hop);
  if (p == nullptr) p = StartPending(port, next_hop, now_ms);
  if (p == nullptr) {
    rte_pktmbuf_free(frame);  // StartPending counted why
    return;
  }
  if (p->held_count == kMaxHeldPerNeighbor || held_ >= config_.max_held) {
    Drop(frame, &NeighborCounters::held_dropped);
    return;
  }
  p->held[p->held_count++] = frame;
  ++held_;
}

void NeighborResponder::Resolve(size_t port, const IpAddress& next_hop, uint64_t now_ms) {
  if (port >= ports_.size() || next_hop.family == IpFamily::kNone) {
    ++counters_.no_route;
    return;
  }
  MacAddress mac;
  if (table_.Lookup(port, next_hop, &mac) || FindPending(port, next_hop) != nullptr) return;
  StartPending(port, next_hop, now_ms);
}

void NeighborResponder::OnTimer(uint64_t now_ms) {
  for (Pending& p : pending_) {
    if (!p.active || now_ms < p.next_try_ms) continue;
    if (p.tries >= config_.max_tries) {
      ++counters_.resolution_failed;
      DropPending(&p, &NeighborCounters::neighbor_unresolved);
      continue;
    }
    ++p.tries;
    ++counters_.resolution_retries;
    p.next_try_ms = now_ms + config_.retry_ms;
    SendRequest(p);
  }
  if (now_ms - last_age_ms_ >= kAgeIntervalMs) {
    last_age_ms_ = now_ms;
    counters_.neighbor_expired += table_.Age(now_ms);
  }
}

NeighborResponder::Pending* NeighborResponder::FindPending(size_t port, const IpAddress& ip) {
  for (Pending& p : pending_) {
    if (p.active && p.port == port && p.ip == ip) return &p;
  }
  return nullptr;
}

NeighborResponder::Pending* NeighborResponder::StartPending(size_t port, const IpAddress& ip,
                                                            uint64_t now_ms) {
  if (ports_.SourceAddress(port, ip).family == IpFamily::kNone) {
    ++counters_.no_route;  // no address of that family to ask from
    return nullptr;
  }
  auto free_slot =
      std::find_if(pending_.begin(), pending_.end(), [](const Pending& p) { return !p.active; });
  if (free_slot == pending_.end()) {
    ++counters_.pending_full;
    return nullptr;
  }
  Pending& p = *free_slot;
  p = Pending{};
  p.active = true;
  p.port = port;
  p.ip = ip;
  p.tries = 1;
  p.next_try_ms = now_ms + config_.retry_ms;
  ++counters_.resolutions_started;
  SendRequest(p);
  return &p;
}

bool NeighborResponder::SendRequest(const Pending& p) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) {
    ++counters_.no_mbuf;
    return false;
  }
  const MacAddress& our_mac = ports_.port(p.port).mac;
  const IpAddress source = ports_.SourceAddress(p.port, p.ip);
  const MutableBytes room(rte_pktmbuf_mtod(m, uint8_t*), rte_pktmbuf_tailroom(m));
  size_t written = 0;
  const WireError e = p.ip.family == IpFamily::kV4
                          ? BuildArpRequest(our_mac, source, p.ip, room, &written)
                          : BuildNeighborSolicitation(our_mac, source, p.ip, room, &written);
  if (e != WireError::kOk) {
    Drop(m, &NeighborCounters::no_route);  // e.g. a multicast next hop: nothing to resolve
    return false;
  }
  rte_pktmbuf_append(m, static_cast<uint16_t>(written));
  Emit(p.port, m);
  return true;
}

void NeighborResponder::DropPending(Pending* p, uint64_t NeighborCounters::*counter) {
  for (size_t i = 0; i < p->held_count; ++i) Drop(p->held[i], counter);
  held_ -= p->held_count;
  *p = Pending{};
}

void NeighborResponder::Emit(size_t port, rte_mbuf* m) {
  if (!transmit_(port, m)) Drop(m, &NeighborCounters::tx_failed);
}

void NeighborResponder::EmitReply(size_t port, rte_mbuf* m, size_t length) {
  m->data_len = static_cast<uint16_t>(length);
  m->pkt_len = static_cast<uint32_t>(length);
  m->ol_flags = 0;  // the RX flags describe the request, not the reply
  Emit(port, m);
}

void NeighborResponder::Drop(rte_mbuf* m, uint64_t NeighborCounters::*counter) {
  rte_pktmbuf_free(m);
  ++(counters_.*counter);
}

}  // namespace t38relay::dataplane
