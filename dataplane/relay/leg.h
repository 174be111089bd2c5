// One leg of a call as the lcores share it: identity and addresses, the latched remote, the
// peer link, ICE-lite credentials, DTLS record state and counters; and the fixed array of legs.
#pragma once

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_prefetch.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "crypto/record/record_leg.h"
#include "dataplane/flowsock/flow_types.h"
#include "dataplane/relay/drop_reason.h"
#include "dataplane/relay/prefetch.h"
#include "dataplane/wire/address.h"
#include "dataplane/wire/packet.h"

namespace t38relay::dataplane {

// The millisecond clock every lcore and the control thread share (the TSC): leg timestamps such
// as last_rx_ms and all timers use it.
inline uint64_t RelayNowMs() { return rte_get_tsc_cycles() / (rte_get_tsc_hz() / 1000); }

// A counter with one writer (the owning lcore) and any number of readers (stats): a relaxed
// load and store, never a locked read-modify-write.
class Counter {
 public:
  void Add(uint64_t n = 1) { value_.store(value_.load(std::memory_order_relaxed) + n,
                                          std::memory_order_relaxed); }
  uint64_t Get() const { return value_.load(std::memory_order_relaxed); }
  void Reset() { value_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A remote address with one writer and lock-free readers on other lcores (a sequence lock over
// atomic words, so readers never see a torn address).
class RemoteSlot {
 public:
  // Writer only (Clear: no address known).
  void Store(const SocketAddress& address);
  void Clear();
  // Any lcore: false when no address is known. `version`, when given, identifies the stored value:
  // it changes with every Store and Clear and never repeats for a slot (no reset, 2^31 stores).
  // Inline, the words kept in registers: every relayed datagram reads the slot twice.
  bool Load(SocketAddress* out, uint32_t* version = nullptr) const {
    uint64_t w0, w1, w2;
    const uint32_t sequence = Read(w0, w1, w2);
    if (version != nullptr) *version = sequence;
    if ((w2 >> 32) == 0) return false;
    out->ip.family = static_cast<IpFamily>((w2 >> 16) & 0xFF);
    std::memcpy(out->ip.bytes.data(), &w0, 8);
    std::memcpy(out->ip.bytes.data() + 8, &w1, 8);
    out->port = static_cast<uint16_t>(w2);
    return true;
  }
  // Any lcore: whether ip:port is the address held (false when none is known).
  bool Holds(const IpAddress& ip, uint16_t port) const {
    uint64_t w0, w1, w2;
    Read(w0, w1, w2);
    const Words a = Pack(ip, port);
    return w0 == a.w0 && w1 == a.w1 && w2 == a.w2;
  }

 private:
  // The address bytes, then a known bit (an empty slot is all zeros), the family and the port.
  struct Words {
    uint64_t w0, w1, w2;
  };
  static Words Pack(const IpAddress& ip, uint16_t port) {
    Words w;
    std::memcpy(&w.w0, ip.bytes.data(), 8);
    std::memcpy(&w.w1, ip.bytes.data() + 8, 8);
    w.w2 = uint64_t{1} << 32 | uint64_t{static_cast<uint8_t>(ip.family)} << 16 | port;
    return w;
  }
  // One consistent read of the words; returns the (even) sequence they were read under.
  uint32_t Read(uint64_t& w0, uint64_t& w1, uint64_t& w2) const {
    for (;;) {
      const uint32_t before = sequence_.load(std::memory_order_acquire);
      if (before & 1) continue;
      w0 = words_[0].load(std::memory_order_relaxed);
      w1 = words_[1].load(std::memory_order_relaxed);
      w2 = words_[2].load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (sequence_.load(std::memory_order_relaxed) == before) return before;
    }
  }

  std::atomic<uint32_t> sequence_{0};
  std::array<std::atomic<uint64_t>, 3> words_{};
};

// What the packet path needs to know of a leg's life (the flow socket shows more).
enum class LegPhase : uint8_t {
  kFree,         // not in use
  kPlain,        // a plain leg: relays as soon as it has a remote
  kWaiting,      // a dtls leg without keys yet
  kEstablished,  // keys installed: application data flows
  // A new association's keys wait until no worker can still be sealing with the old ones:
  // records are punted (and come back once the keys are in), nothing is sealed to the leg.
  kRekeying,
  kFailed,       // handshake failed: everything is dropped until control deletes the leg
};
std::string_view LegPhaseName(LegPhase state);

// The counters of a leg's packets; the first five are updated for every packet (drops are
// Leg::drops, which are rare).
struct LegStats {
  Counter rx_packets;
  Counter rx_bytes;
  Counter forwarded_packets;
  Counter forwarded_bytes;
  Counter udptl_packets;
  Counter stun_answered;
  Counter udptl_seq_gaps;
  Counter udptl_malformed;  // relayed anyway: the endpoints judge their payload
  Counter udptl_recovered;
};

// The Ethernet + IP + UDP header of the last datagram relayed to a leg, kept to be copied onto
// the next one instead of looking up route and neighbour and writing each field again. Written
// and read only by the worker that relays to the leg (the owner of its peer). An untagged IPv4
// header and what tells whether it still holds fit the first cache line.
struct alignas(RTE_CACHE_LINE_SIZE) TxHeader {
  static constexpr size_t kMaxLength = 14 + 4 * kMaxVlanTags + kIpv6HeaderLength + kUdpHeaderLength;
  uint64_t neighbor_version = 0;  // NeighborTable::version() before the MAC was looked up
  // The leg's RemoteSlot version it was built for: another remote, or another incarnation of the
  // leg (whose remote is stored or cleared anew), has another version.
  uint32_t remote_version = 0;
  uint8_t length = 0;     // header bytes; 0: nothing cached
  uint8_t ip_offset = 0;  // the IP header's offset in `bytes`
  // Sums without the length fields (and checksums), folded: the IPv4 header's; the UDP
  // pseudo-header's plus the ports.
  uint16_t ip_sum = 0;
  uint16_t udp_sum = 0;
  std::array<uint8_t, kMaxLength> bytes{};
};

// Leg ids carry a generation so that a reused slot never answers to an old id:
// id = generation << 32 | index, generation >= 1 (0 is "no leg").
inline constexpr uint64_t kNoLegId = 0;
inline uint32_t LegIndexOf(uint64_t id) { return static_cast<uint32_t>(id); }

// Ownership: fields marked [control] are written by the control thread before the leg is
// published in a flow table and stay constant while it is; [owner] fields are written only by
// the worker lcore that owns the leg (control changes them by a command to that worker); [any]
// fields are atomics any lcore may read.
//
// Laid out by what a packet touches, a cache line each: a datagram from the leg's remote reads
// line 0 and updates line 1; one relayed to the leg reads line 0 and the cached header's first
// line (its second for tagged or IPv6 headers); DTLS records also use `record`. The rest is read
// by control and on rare paths.
struct alignas(RTE_CACHE_LINE_SIZE) Leg {
  // Line 0.
  std::atomic<uint64_t> id{kNoLegId};  // [control] published last, cleared first
  std::atomic<uint64_t> peer{kNoLegId};  // [any] written by control (leg.link / leg.del)
  RemoteSlot remote;                     // [owner], read by the peer's worker and handshake
  // [owner] after the leg is published (control switches it by a command to the owner while no
  // DTLS association runs on the leg); read by the peer's worker.
  std::atomic<LegTransport> transport{LegTransport::kPlain};
  std::atomic<LegPhase> state{LegPhase::kFree};  // [owner], read by the peer's worker
  Latch latch = Latch::kLearn;                   // [owner]
  // [owner] The remote was confirmed by an authenticated packet or an ICE check (control reads it).
  std::atomic<bool> latched{false};
  // [control] The port the local address is on. Like `local`, set only with a new remote version
  // (Relay::AddLeg stores or clears the remote): the header cached for the leg is keyed by it.
  uint16_t port_index = 0;
  uint16_t worker = 0;  // [control] the owning worker

  // Line 1, and the rare counters on line 2.
  alignas(RTE_CACHE_LINE_SIZE) std::atomic<uint64_t> last_rx_ms{0};  // [owner], read by control
  // [owner] ICE-lite (RFC 8445 section 7.2.2), or null; the owner deletes it when replaced.
  IceCredentials* ice = nullptr;
  // [owner] Written for every UDPTL datagram: here, not on line 0, which the peer's worker reads.
  bool has_udptl_seq = false;
  uint16_t last_udptl_seq = 0;
  LegStats counters;  // [owner] (forwarded_*: the owner, as the forwarding side)
  SocketAddress local;  // [control] see port_index

  crypto::RecordLeg record;  // receive side [owner]; send side [the peer's owner]
  TxHeader tx_header;  // [the peer's owner]
  std::array<Counter, kDropReasonCount> drops;  // [owner]

  void Drop(DropReason reason) { drops[static_cast<size_t>(reason)].Add(); }
  // Start loading what a packet touches, without reading the leg: one from the leg's remote
  // (PrefetchReceive), one relayed to the leg (PrefetchSend), and the record state of a DTLS leg
  // (PrefetchRecord).
  void PrefetchReceive() const {
    rte_prefetch0(this);
    rte_prefetch0(&last_rx_ms);
  }
  void PrefetchSend() const {
    rte_prefetch0(this);
    rte_prefetch0(&tx_header);  // its second line only for tagged or IPv6 headers
  }
  void PrefetchRecord() const { PrefetchLines(&record, sizeof(record)); }
};
static_assert(offsetof(Leg, last_rx_ms) == RTE_CACHE_LINE_SIZE, "line 0 overflows");
static_assert(offsetof(Leg, counters) + offsetof(LegStats, stun_answered) <=
                  2 * RTE_CACHE_LINE_SIZE,
              "the per-packet counters leave line 1");
static_assert(offsetof(TxHeader, bytes) + 14 + kIpv4MinHeaderLength + kUdpHeaderLength <=
                  RTE_CACHE_LINE_SIZE,
              "an untagged IPv4 header leaves the cached header's first line");

// The legs of the process: a fixed array (no reallocation under readers), indexed by leg index.
class LegTable {
 public:
  explicit LegTable(uint32_t capacity);
  uint32_t capacity() const { return capacity_; }
  Leg& operator[](uint32_t index) { return legs_[index]; }
  const Leg& operator[](uint32_t index) const { return legs_[index]; }
  // The leg with this id, or nullptr when the id is stale or out of range (any lcore).
  Leg* Find(uint64_t id) {
    const uint32_t index = LegIndexOf(id);
    if (id == kNoLegId || index >= capacity_) return nullptr;
    Leg& leg = legs_[index];
    return leg.id.load(std::memory_order_acquire) == id ? &leg : nullptr;
  }
  const Leg* Find(uint64_t id) const { return const_cast<LegTable*>(this)->Find(id); }
  // The slot `id` would be in, without checking that it is still that leg (to prefetch it).
  const Leg* SlotOf(uint64_t id) const {
    const uint32_t index = LegIndexOf(id);
    return id != kNoLegId && index < capacity_ ? &legs_[index] : nullptr;
  }

 private:
  uint32_t capacity_;
  std::unique_ptr<Leg[]> legs_;
};

}  // namespace t38relay::dataplane
