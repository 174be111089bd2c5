// The relay benchmark's rig: the real dataplane Worker on its own lcore behind an in-memory port
// (two rte_rings as an ethdev), legs with real record keys installed through the worker's command
// mailbox, and a generator and sink on the calling lcore that play every leg's remote endpoint.
#pragma once

#include <pthread.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crypto/cryptodev/cryptodev_backend.h"
#include "crypto/record/record_protector.h"
#include "dataplane/flow/flow_table.h"
#include "dataplane/port/neighbor_table.h"
#include "dataplane/port/port_set.h"
#include "dataplane/relay/leg.h"
#include "dataplane/relay/mailbox.h"
#include "dataplane/relay/worker.h"

namespace t38relay::dataplane::bench {

// The most legs a rig (and the cryptodev's session pool) is sized for.
inline constexpr uint32_t kMaxBenchLegs = 100'000;
// UDPTL datagram relayed: 128 bytes, as a T.38 image-data packet with redundancy.
inline constexpr uint16_t kUdptlBytes = 128;

// The process's cryptodev (crypto_aesni_gcm0 unless T38_BENCH_CRYPTODEV names another vdev):
// queue 0 is the worker's, queue 1 the generator's and sink's. Exits when it cannot be opened.
crypto::CryptodevDevice& BenchCryptodev();

// An ethdev over rings of our own: frames enqueued on `rx` arrive on RX queue 0, frames sent on
// TX queue 0 land in `tx`; queues 1.. (`queues` > 1, for a Relay's handshake lcore) have rings
// of their own. `name` must be new for each port (a closed port is gone).
struct RingPort {
  rte_ring* rx = nullptr;
  rte_ring* tx = nullptr;
  std::vector<rte_ring*> more;  // the rings of queues 1..
  std::string device;  // the ethdev name to put in a PortConfig
};
absl::StatusOr<RingPort> CreateRingPort(const std::string& name, uint32_t rx_size,
                                        uint32_t tx_size, uint16_t queues = 1);
// Frees the rings (and any mbufs left in them) once the port is closed.
void FreeRingPort(RingPort& port);

// A unique suffix for DPDK object names within the process.
std::string UniqueName(const std::string& prefix);

// Leg `leg`'s record keys as the relay holds them (remote_side: as its remote endpoint does, the
// directions swapped): distinct for every leg, epoch 1.
crypto::DtlsRecordKeys BenchLegKeys(uint32_t leg, bool remote_side);
// At least 2^20 leg indexes: shuffled rounds over [0, legs), so every leg is used equally often.
std::vector<uint32_t> ShuffledLegOrder(uint32_t legs);

enum class LegPairKind { kDtlsDtls, kDtlsPlain, kPlainPlain };

struct RigOptions {
  uint32_t legs = 10'000;  // even: leg 2k is linked to leg 2k+1
  LegPairKind kind = LegPairKind::kDtlsDtls;
  unsigned worker_lcore = 1;
  // A ClientHello flood: every hello_every-th frame (0: none) is a DTLS ClientHello from a DTLS
  // leg's own remote, which the worker hands to the handshake lcore (here: the sink frees it).
  uint32_t hello_every = 0;
};

// What one traffic window measured.
struct TrafficResult {
  double seconds = 0;        // the window
  uint64_t delivered = 0;    // frames the sink received during the window
  uint64_t generated = 0;    // frames the generator handed to the port, whole run
  uint64_t sink_total = 0;   // frames the sink received, whole run
  uint64_t worker_rx = 0;    // the worker's rx_packets and tx_packets over the run
  uint64_t worker_tx = 0;
  uint64_t drops = 0;        // every drop the worker counted over the run
  uint64_t punted = 0;       // frames handed to the handshake lcore (a flood's ClientHellos)
  uint64_t samples_checked = 0;
  uint64_t samples_failed = 0;
  // Generator passes that found the worker's RX ring empty (the worker had caught up: the
  // generator is the limit) and enqueue attempts that could not place the whole burst (the ring
  // was full: the worker is the limit), as fractions.
  double rx_ring_empty = 0;
  double backpressure = 0;
  // CPU time the worker's and the generator's threads got during the window, per second of it:
  // about 1 when each had its CPU to itself; less means the shared machine took some, and the
  // window's figures are low by as much.
  double worker_cpu_share = 0;
  double generator_cpu_share = 0;
  // Paced runs: per-frame latency, generator enqueue to sink dequeue, leaving out the frames the
  // sink would have taken earlier had its own thread not stalled (see Run); p99_all_us keeps them.
  double p50_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double p99_all_us = 0;
  // Passes of the generator/sink loop more than 20 us apart (the VM took its CPU), per second of
  // window, and the longest.
  double generator_stalls_per_s = 0;
  double generator_stall_max_us = 0;
  double mpps() const { return seconds > 0 ? delivered / seconds / 1e6 : 0; }
};

class RelayRig {
 public:
  // Builds the port, legs, flow table and worker, launches the worker on options.worker_lcore
  // (which must be idle), installs every DTLS leg's keys through its mailbox and waits until the
  // worker has them all. Runs on the main lcore.
  static absl::StatusOr<std::unique_ptr<RelayRig>> Create(const RigOptions& options);
  // Stops the worker and releases every key, mbuf, ring and the port.
  ~RelayRig();
  RelayRig(const RelayRig&) = delete;
  RelayRig& operator=(const RelayRig&) = delete;

  // Sends to every leg in a shuffled order for `warmup_s`, then measures for `window_s`, then
  // stops and waits until the worker has handled everything sent. packets_per_second 0: as fast
  // as the worker takes them (the generator keeps the RX ring full); otherwise paced, one frame
  // at a time, with latencies recorded.
  TrafficResult Run(double warmup_s, double window_s, double packets_per_second = 0);

  uint32_t legs() const { return options_.legs; }

 private:
  explicit RelayRig(const RigOptions& options);
  absl::Status Init();
  absl::Status InstallKeys();
  bool IsDtls(uint32_t leg) const;
  SocketAddress LocalOf(uint32_t leg) const;
  SocketAddress RemoteOf(uint32_t leg) const;
  // The leg whose remote endpoint `remote` is, or UINT32_MAX.
  uint32_t LegOfRemote(const IpAddress& ip, uint16_t port) const;
  void BuildTemplates();
  // Fills up to n fresh frames (sealed with fresh sequence numbers); returns how many.
  uint16_t Generate(rte_mbuf** out, uint16_t n);
  // Where Drain puts latencies (cycles): every frame's, and those of frames not held up by a
  // stall of the sink's own thread: enqueued before `stall_start` while `after_stall`.
  struct Latencies {
    std::vector<uint32_t> all;
    std::vector<uint32_t> clean;
    bool after_stall = false;
    uint64_t stall_start = 0;
  };
  // Takes what the worker sent; records latencies when `latencies` is set.
  unsigned Drain(Latencies* latencies, uint64_t now);
  bool CheckSample(rte_mbuf* m);
  uint64_t WorkerDrops() const;

  RigOptions options_;
  std::string name_;
  rte_mempool* pool_ = nullptr;
  RingPort ring_port_;
  std::unique_ptr<PortSet> ports_;
  std::unique_ptr<NeighborTable> neighbors_;
  std::unique_ptr<LegTable> legs_;
  rte_rcu_qsbr* qsbr_ = nullptr;
  std::unique_ptr<DirectFlowTable> flows_;
  std::unique_ptr<Mailbox<WorkerCommand>> commands_;
  std::unique_ptr<Mailbox<RelayEvent>> events_;
  rte_ring* punt_ = nullptr;
  rte_ring* handoff_ = nullptr;
  std::unique_ptr<Worker> worker_;
  std::atomic<bool> stop_{false};
  bool launched_ = false;
  std::atomic<bool> worker_started_{false};
  pthread_t worker_thread_{};

  // The remote endpoints: one record state per leg (sends what the leg receives, receives what
  // it sends), on the generator's own cryptodev queue.
  std::unique_ptr<crypto::RecordProtector> peer_protector_;
  std::unique_ptr<crypto::RecordLeg[]> peers_;
  std::vector<uint8_t> templates_;  // one frame per leg, kTemplateStride apart
  std::vector<uint8_t> hellos_;     // with hello_every: a ClientHello frame per leg, likewise
  std::vector<uint16_t> hello_lengths_;
  uint64_t generated_frames_ = 0;
  std::vector<uint16_t> frame_lengths_;
  std::vector<uint8_t> udptl_;      // the plaintext every frame carries
  std::vector<uint32_t> order_;     // shuffled leg indexes, every leg equally often
  size_t next_ = 0;
  uint64_t sink_seen_ = 0;
  uint64_t samples_checked_ = 0;
  uint64_t samples_failed_ = 0;
};

}  // namespace t38relay::dataplane::bench
