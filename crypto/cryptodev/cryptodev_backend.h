// The DPDK cryptodev AES-GCM backend: device and queue-pair setup, a session per key, bursts
// enqueued and dequeued with polling bounded in time (crypto_aesni_gcm / crypto_aesni_mb here,
// QAT or other hardware in production, same code).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "crypto/record/aead_backend.h"
#include "crypto/record/record_protector.h"

struct rte_crypto_op;
struct rte_mbuf;
struct rte_mempool;

namespace t38relay::crypto {

struct CryptodevConfig {
  // An existing cryptodev: a vdev from the EAL command line (--vdev=crypto_aesni_gcm0) or a device.
  std::string device = "crypto_aesni_gcm0";
  uint16_t queue_pairs = 1;  // one per worker lcore
  uint32_t queue_depth = 256;  // descriptors per queue pair
  uint32_t max_keys = 4096;    // sessions: two per established leg, three during a rekey's grace
  // How long a burst polls a device that makes no progress (takes nothing, returns nothing)
  // before it gives up on what the device still holds: what a wedged device costs each burst.
  // Measured with the TSC, so a preempted worker's lost time is not counted as the device's.
  uint32_t poll_timeout_us = 50;
};

// Ops one queue pair may take from the op pool: a burst's worth in use, and as many again to
// replace ops a wedged device keeps. The pool holds exactly this per queue pair, so one stuck
// queue runs out of spares without starving the others.
inline constexpr uint16_t kCryptodevOpsPerQueue = 2 * kMaxRecordBurst;

class CryptodevDevice;

// One queue pair, driven by one worker lcore. Jobs must carry their mbuf (single segment).
//
// A burst that times out leaves ops with the device, and a device may still complete them later:
// it would then write into their mbufs and read their sessions. So the queue keeps such a "stale"
// op's mbuf alive with a reference of its own (the caller's free of a kBackendTimeout mbuf does
// not return it to its pool) and defers freeing a session a stale op uses; both are let go when
// the op comes back (in a later burst, ReapStaleOps, or when the device is closed).
class CryptodevQueue final : public AeadBackend {
 public:
  CryptodevQueue(const CryptodevQueue&) = delete;
  CryptodevQueue& operator=(const CryptodevQueue&) = delete;
  ~CryptodevQueue() override;

  absl::StatusOr<AeadKeyHandle> CreateKey(const AeadKeyMaterial& material,
                                          AeadDirection direction) override;
  // Frees the session, or parks it until the device has returned every stale op that uses it.
  void DestroyKey(AeadKeyHandle key) override;
  // At most kMaxRecordBurst ops (RecordProtector slices longer bursts; ops past that get
  // kBackendError). After kBackendTimeout the mbuf may still be written by the device: the caller
  // frees it (rte_pktmbuf_free) and must neither send nor read it.
  void Process(AeadOp* ops, uint16_t n) override;
  // A session mempool element: header, PMD private data, mempool header and trailer.
  size_t KeyMemoryBytes() const override;

  // Collects stale ops the device has returned since (a worker without traffic calls this now
  // and then so parked sessions and pinned mbufs go back to their pools). Never blocks.
  void ReapStaleOps();

  // Ops that did not come back within poll_timeout_us, over the queue's life.
  uint64_t lost_ops() const { return lost_ops_; }
  // Of those, how many the device still holds, and the sessions parked for them.
  uint16_t stale_ops() const { return stale_count_; }
  uint16_t parked_keys() const { return parked_count_; }

 private:
  friend class CryptodevDevice;
  // An op given up on: what it uses, recorded when it was lost (its own memory is the device's).
  struct StaleOp {
    rte_crypto_op* op;
    rte_mbuf* mbuf;
    void* session;
  };

  CryptodevQueue(CryptodevDevice& device, uint16_t queue_pair) :
      device_(device), queue_pair_(queue_pair) {}
  void RefillOps();
  void RecoverLostOps(const AeadOp* ops, uint16_t n);
  // A dequeued op from an earlier burst: frees it, its mbuf reference and unused parked sessions.
  void ReturnStaleOp(rte_crypto_op* op);
  bool StaleOpsUse(const void* session) const;
  // After the device has stopped: lets go of every stale op's mbuf and every parked session.
  void ForgetStaleOps();

  CryptodevDevice& device_;
  uint16_t queue_pair_;
  // Bumped every burst: an op the device returns late carries an old generation.
  uint32_t generation_ = 0;
  uint64_t lost_ops_ = 0;
  // Held for the queue's life and reset every burst: no op allocation per packet. A slot is null
  // when no spare could replace a lost op; RefillOps retries at the start of each burst.
  std::array<rte_crypto_op*, kMaxRecordBurst> ops_{};
  uint16_t held_ops_ = 0;     // taken from the op pool: slots and stale ops, <= kCryptodevOpsPerQueue
  uint16_t missing_ops_ = 0;  // null slots
  // Every parked session is used by a stale op, so neither list outgrows the ops held.
  std::array<StaleOp, kCryptodevOpsPerQueue> stale_{};
  uint16_t stale_count_ = 0;
  std::array<void*, kCryptodevOpsPerQueue> parked_{};
  uint16_t parked_count_ = 0;
};

// A configured and started cryptodev with its session and op pools and one queue per lcore. Every
// key must be destroyed before the device; the device itself stays attached (a closed vdev cannot
// be configured again), so a later Open of the same name works.
class CryptodevDevice {
 public:
  static absl::StatusOr<std::unique_ptr<CryptodevDevice>> Open(const CryptodevConfig& config);
  ~CryptodevDevice();
  CryptodevDevice(const CryptodevDevice&) = delete;
  CryptodevDevice& operator=(const CryptodevDevice&) = delete;

  CryptodevQueue& queue(uint16_t queue_pair) { return *queues_[queue_pair]; }
  uint8_t device_id() const { return device_id_; }
  const CryptodevConfig& config() const { return config_; }
  // Sessions in use, parked ones included (tests check that legs release theirs).
  size_t live_keys() const;
  // Ops taken from the op pool (tests check that lost ones come back).
  size_t ops_in_use() const;

 private:
  friend class CryptodevQueue;
  explicit CryptodevDevice(const CryptodevConfig& config) : config_(config) {}
  absl::Status Start();

  CryptodevConfig config_;
  uint8_t device_id_ = 0;
  bool started_ = false;
  rte_mempool* session_pool_ = nullptr;
  uint32_t session_bytes_ = 0;  // a session object: header and PMD private data
  rte_mempool* op_pool_ = nullptr;
  uint64_t poll_timeout_cycles_ = 0;
  std::vector<std::unique_ptr<CryptodevQueue>> queues_;
};

}  // namespace t38relay::crypto
