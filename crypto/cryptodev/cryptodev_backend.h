// The DPDK cryptodev AES-GCM backend: device and queue-pair setup, a session per key, bursts
// enqueued and dequeued with bounded polling (crypto_aesni_gcm / crypto_aesni_mb here, QAT or other
// hardware in production, same code).
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
struct rte_mempool;

namespace t38relay::crypto {

struct CryptodevConfig {
  // An existing cryptodev: a vdev from the EAL command line (--vdev=crypto_aesni_gcm0) or a device.
  std::string device = "crypto_aesni_gcm0";
  uint16_t queue_pairs = 1;  // one per worker lcore
  uint32_t queue_depth = 256;  // descriptors per queue pair
  uint32_t max_keys = 4096;    // sessions: two per established leg, three during a rekey's grace
  // Consecutive polls without progress before a burst gives up on what the device still holds.
  uint32_t max_idle_polls = 100000;
};

class CryptodevDevice;

// One queue pair, driven by one worker lcore. Jobs must carry their mbuf (single segment).
class CryptodevQueue final : public AeadBackend {
 public:
  CryptodevQueue(const CryptodevQueue&) = delete;
  CryptodevQueue& operator=(const CryptodevQueue&) = delete;
  ~CryptodevQueue() override;

  absl::StatusOr<AeadKeyHandle> CreateKey(const AeadKeyMaterial& material,
                                          AeadDirection direction) override;
  void DestroyKey(AeadKeyHandle key) override;
  void Process(AeadOp* ops, uint16_t n) override;
  // A session mempool element: header, PMD private data, mempool header and trailer.
  size_t KeyMemoryBytes() const override;

  // Ops that did not come back within max_idle_polls, over the queue's life (their memory is
  // the device's until it returns them).
  uint64_t lost_ops() const { return lost_ops_; }

 private:
  friend class CryptodevDevice;
  CryptodevQueue(CryptodevDevice& device, uint16_t queue_pair) :
      device_(device), queue_pair_(queue_pair) {}
  void ProcessSlice(AeadOp* ops, uint16_t n);
  void RecoverLostOps(const AeadOp* ops, uint16_t n);

  CryptodevDevice& device_;
  uint16_t queue_pair_;
  // Bumped every slice: an op the device returns late carries an old generation and is freed.
  uint32_t generation_ = 0;
  uint64_t lost_ops_ = 0;
  // Held for the queue's life and reset every burst: no op allocation per packet.
  std::array<rte_crypto_op*, kMaxRecordBurst> ops_{};
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
  // Sessions in use (tests check that legs release theirs).
  size_t live_keys() const;

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
  std::vector<std::unique_ptr<CryptodevQueue>> queues_;
};

}  // namespace t38relay::crypto
