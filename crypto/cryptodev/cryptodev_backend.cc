// The cryptodev AES-GCM backend: sessions per key, ops held per queue pair with IV and AAD in
// their private area (ipsec-secgw's layout), enqueue/dequeue polling bounded in time, and ops a
// device keeps past that bound tracked until it returns them.
#include "crypto/cryptodev/cryptodev_backend.h"

#include <rte_crypto.h>
#include <rte_cryptodev.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "dataplane/wire/dtls_record.h"

namespace t38relay::crypto {
namespace {

// What each op carries after its symmetric part. The IV is read by the PMD at an offset from the
// op; the AAD is addressed by pointer and IOVA, so both must live in memory the device can reach.
struct OpPrivate {
  alignas(16) std::array<uint8_t, 16> iv;
  alignas(16) std::array<uint8_t, 16> aad;
  uint32_t generation;
  uint16_t slot;
};

// The pool's elements are the op, its symmetric part and `priv_size` bytes. Those two structs
// end at 88 bytes (8 mod 16), so OpPrivate starts at the next multiple of its alignment and the
// pool's private size covers the padding. Mempool elements are cache-line aligned (Start checks
// the 16 bytes that matter here).
constexpr size_t kOpHeaderBytes = sizeof(rte_crypto_op) + sizeof(rte_crypto_sym_op);
constexpr uint16_t kPrivateOffset =
    (kOpHeaderBytes + alignof(OpPrivate) - 1) / alignof(OpPrivate) * alignof(OpPrivate);
static_assert(kPrivateOffset % alignof(OpPrivate) == 0 && kPrivateOffset >= kOpHeaderBytes);
constexpr uint16_t kPrivateBytes = kPrivateOffset - kOpHeaderBytes + sizeof(OpPrivate);
// What the session tells the PMD and what the op's AAD IOVA is computed from: both from the one
// aligned offset.
constexpr uint16_t kIvOffset = kPrivateOffset + offsetof(OpPrivate, iv);
constexpr uint16_t kAadOffset = kPrivateOffset + offsetof(OpPrivate, aad);

OpPrivate* PrivateOf(rte_crypto_op* op) {
  return rte_crypto_op_ctod_offset(op, OpPrivate*, kPrivateOffset);
}

RecordResult ResultOf(const rte_crypto_op* op) {
  switch (op->status) {
    case RTE_CRYPTO_OP_STATUS_SUCCESS: return RecordResult::kOk;
    case RTE_CRYPTO_OP_STATUS_AUTH_FAILED: return RecordResult::kAuthFailed;
    // NOT_PROCESSED after dequeue means the PMD skipped the op: never count that as verified.
    default: return RecordResult::kBackendError;
  }
}

// Pool names are global to the process and short (RTE_MEMPOOL_NAMESIZE).
std::string PoolName(const char* kind) {
  static std::atomic<uint32_t> counter{0};
  return absl::StrCat("t38_", kind, "_", counter.fetch_add(1));
}

bool SupportsGcm(uint8_t device_id, uint16_t key_length) {
  rte_cryptodev_sym_capability_idx index{};
  index.type = RTE_CRYPTO_SYM_XFORM_AEAD;
  index.algo.aead = RTE_CRYPTO_AEAD_AES_GCM;
  const rte_cryptodev_symmetric_capability* capability =
      rte_cryptodev_sym_capability_get(device_id, &index);
  return capability != nullptr &&
         rte_cryptodev_sym_capability_check_aead(capability, key_length,
                                                 dataplane::kDtlsGcmTagLength,
                                                 dataplane::kDtlsAadLength, kGcmIvLength) == 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CryptodevDevice>> CryptodevDevice::Open(
    const CryptodevConfig& config) {
  if (config.queue_pairs == 0) return absl::InvalidArgumentError("cryptodev: queue_pairs is 0");
  std::unique_ptr<CryptodevDevice> device(new CryptodevDevice(config));
  absl::Status status = device->Start();
  if (!status.ok()) return status;
  return device;
}

absl::Status CryptodevDevice::Start() {
  const int id = rte_cryptodev_get_dev_id(config_.device.c_str());
  if (id < 0) {
    return absl::NotFoundError(absl::StrCat(
        "no cryptodev named '", config_.device,
        "': start EAL with --vdev=crypto_aesni_gcm0 (or crypto_aesni_mb0), or name a device"));
  }
  device_id_ = static_cast<uint8_t>(id);
  if (!SupportsGcm(device_id_, 16) || !SupportsGcm(device_id_, 32)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cryptodev '", config_.device,
        "' cannot do AES-128/256-GCM with a 12-byte IV, 13-byte AAD and 16-byte tag"));
  }
  rte_cryptodev_info info{};
  rte_cryptodev_info_get(device_id_, &info);
  if (config_.queue_pairs > info.max_nb_queue_pairs) {
    return absl::InvalidArgumentError(absl::StrCat("cryptodev '", config_.device, "' has ",
                                                   info.max_nb_queue_pairs, " queue pairs, ",
                                                   config_.queue_pairs, " asked for"));
  }
  const int socket = rte_cryptodev_socket_id(device_id_);

  session_pool_ = rte_cryptodev_sym_session_pool_create(
      PoolName("sess").c_str(), config_.max_keys,
      rte_cryptodev_sym_get_private_session_size(device_id_), 0, 0, socket);
  if (session_pool_ != nullptr) session_bytes_ = session_pool_->elt_size;
  // No per-lcore cache: the pool holds exactly each queue pair's share (kCryptodevOpsPerQueue),
  // and a cache could hide spares from the queue that needs them.
  op_pool_ = rte_crypto_op_pool_create(PoolName("ops").c_str(), RTE_CRYPTO_OP_TYPE_SYMMETRIC,
                                       uint32_t{kCryptodevOpsPerQueue} * config_.queue_pairs, 0,
                                       kPrivateBytes, socket);
  if (session_pool_ == nullptr || op_pool_ == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cryptodev pools for ", config_.max_keys, " sessions: ", rte_strerror(rte_errno),
        " (lower max_keys or give EAL more memory)"));
  }

  poll_timeout_cycles_ = rte_get_tsc_hz() * config_.poll_timeout_us / 1'000'000;

  rte_cryptodev_config device_config{};
  device_config.socket_id = socket;
  device_config.nb_queue_pairs = config_.queue_pairs;
  if (int rc = rte_cryptodev_configure(device_id_, &device_config); rc < 0) {
    return absl::InternalError(absl::StrCat("rte_cryptodev_configure('", config_.device,
                                            "'): ", rte_strerror(-rc)));
  }
  rte_cryptodev_qp_conf qp_config{};
  qp_config.nb_descriptors = config_.queue_depth;
  qp_config.mp_session = session_pool_;
  for (uint16_t qp = 0; qp < config_.queue_pairs; ++qp) {
    if (int rc = rte_cryptodev_queue_pair_setup(device_id_, qp, &qp_config, socket); rc < 0) {
      return absl::InternalError(absl::StrCat("rte_cryptodev_queue_pair_setup('", config_.device,
                                              "', ", qp, ", depth ", config_.queue_depth,
                                              "): ", rte_strerror(-rc)));
    }
  }
  for (uint16_t qp = 0; qp < config_.queue_pairs; ++qp) {
    std::unique_ptr<CryptodevQueue> queue(new CryptodevQueue(*this, qp));
    if (rte_crypto_op_bulk_alloc(op_pool_, RTE_CRYPTO_OP_TYPE_SYMMETRIC, queue->ops_.data(),
                                 kMaxRecordBurst) != kMaxRecordBurst) {
      return absl::ResourceExhaustedError("cryptodev op pool exhausted at start-up");
    }
    queue->held_ops_ = kMaxRecordBurst;
    if (reinterpret_cast<uintptr_t>(queue->ops_[0]) % alignof(OpPrivate) != 0) {
      return absl::InternalError("cryptodev op pool elements are not 16-byte aligned");
    }
    queues_.push_back(std::move(queue));
  }
  if (int rc = rte_cryptodev_start(device_id_); rc < 0) {
    return absl::InternalError(
        absl::StrCat("rte_cryptodev_start('", config_.device, "'): ", rte_strerror(-rc)));
  }
  started_ = true;
  return absl::OkStatus();
}

CryptodevDevice::~CryptodevDevice() {
  // Give ops a device still holds one more poll timeout to come back, then stop it: after that it
  // touches neither their mbufs nor their sessions, which can go back to their pools.
  if (started_) {
    for (auto& queue : queues_) {
      uint64_t deadline = rte_get_tsc_cycles() + poll_timeout_cycles_;
      while (queue->stale_count_ != 0 && rte_get_tsc_cycles() < deadline) queue->ReapStaleOps();
    }
    rte_cryptodev_stop(device_id_);
  }
  for (auto& queue : queues_) queue->ForgetStaleOps();
  queues_.clear();
  rte_mempool_free(op_pool_);
  rte_mempool_free(session_pool_);
}

size_t CryptodevDevice::live_keys() const { return rte_mempool_in_use_count(session_pool_); }

size_t CryptodevDevice::ops_in_use() const { return rte_mempool_in_use_count(op_pool_); }

CryptodevQueue::~CryptodevQueue() {
  for (rte_crypto_op* op : ops_) rte_crypto_op_free(op);
}

absl::StatusOr<AeadKeyHandle> CryptodevQueue::CreateKey(const AeadKeyMaterial& material,
                                                        AeadDirection direction) {
  rte_crypto_sym_xform xform{};
  xform.type = RTE_CRYPTO_SYM_XFORM_AEAD;
  xform.aead.op = direction == AeadDirection::kSeal ? RTE_CRYPTO_AEAD_OP_ENCRYPT
                                                    : RTE_CRYPTO_AEAD_OP_DECRYPT;
  xform.aead.algo = RTE_CRYPTO_AEAD_AES_GCM;
  xform.aead.key.data = material.key.data();
  xform.aead.key.length = static_cast<uint16_t>(material.key_length());
  xform.aead.iv.offset = kIvOffset;
  xform.aead.iv.length = kGcmIvLength;
  xform.aead.digest_length = dataplane::kDtlsGcmTagLength;
  xform.aead.aad_length = dataplane::kDtlsAadLength;
  void* session =
      rte_cryptodev_sym_session_create(device_.device_id_, &xform, device_.session_pool_);
  if (session == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cryptodev session for '", device_.config_.device, "': ", rte_strerror(rte_errno),
        " (", device_.live_keys(), " of ", device_.config_.max_keys, " sessions in use)"));
  }
  return AeadKeyHandle{session};
}

void CryptodevQueue::DestroyKey(AeadKeyHandle key) {
  // The PMD's session clear wipes the expanded key; a session a stale op may still read waits.
  if (StaleOpsUse(key.impl)) {
    assert(parked_count_ < parked_.size());
    parked_[parked_count_++] = key.impl;
    return;
  }
  rte_cryptodev_sym_session_free(device_.device_id_, key.impl);
}

size_t CryptodevQueue::KeyMemoryBytes() const {
  const rte_mempool* pool = device_.session_pool_;
  return pool->header_size + pool->elt_size + pool->trailer_size;
}

void CryptodevQueue::Process(AeadOp* ops, uint16_t n) {
  // RecordProtector already slices bursts; a second slicing loop here would only hide a caller
  // that breaks the contract.
  assert(n <= kMaxRecordBurst);
  for (uint16_t i = kMaxRecordBurst; i < n; ++i) ops[i].result = RecordResult::kBackendError;
  n = std::min(n, kMaxRecordBurst);

  ++generation_;
  if (missing_ops_ != 0) [[unlikely]] RefillOps();
  std::array<rte_crypto_op*, kMaxRecordBurst> burst;
  uint16_t count = 0;
  const void* last_session = nullptr;
  for (uint16_t i = 0; i < n; ++i) {
    AeadOp& a = ops[i];
    rte_crypto_op* op = ops_[i];
    rte_mbuf* m = a.mbuf;
    // The PMD addresses payload and tag as offsets into the mbuf's first segment.
    uint8_t* base = m == nullptr ? nullptr : rte_pktmbuf_mtod(m, uint8_t*);
    if (op == nullptr || m == nullptr || a.payload < base ||
        a.tag + dataplane::kDtlsGcmTagLength > base + rte_pktmbuf_data_len(m)) {
      a.result = RecordResult::kBackendError;
      continue;
    }
    // With many legs the session (key schedule, GHASH table) is cold, and the PMD reads it only
    // once the whole burst is set up: prefetching all of it here takes 100k legs from 2.3 to
    // 3.4 M records/s. Records of one leg come in runs, and prefetching a session again for each
    // of them costs a hot key 10%, so only a change of key prefetches.
    if (a.key.impl != last_session) {
      last_session = a.key.impl;
      const auto* session = static_cast<const uint8_t*>(a.key.impl);
      for (uint32_t line = 0; line < device_.session_bytes_; line += RTE_CACHE_LINE_SIZE) {
        rte_prefetch0(session + line);
      }
    }
    // Reset on every reuse: crypto_aesni_mb skips the tag check of an op not NOT_PROCESSED.
    op->status = RTE_CRYPTO_OP_STATUS_NOT_PROCESSED;
    rte_crypto_sym_op* sym = op->sym;
    sym->m_src = m;
    sym->m_dst = nullptr;
    rte_crypto_op_attach_sym_session(op, a.key.impl);
    sym->aead.data.offset = static_cast<uint32_t>(a.payload - base);
    sym->aead.data.length = a.payload_length;
    sym->aead.digest.data = a.tag;
    sym->aead.digest.phys_addr = rte_pktmbuf_iova_offset(m, a.tag - base);
    OpPrivate* priv = PrivateOf(op);
    std::memcpy(priv->iv.data(), a.iv.data(), a.iv.size());
    std::memcpy(priv->aad.data(), a.aad.data(), a.aad.size());
    priv->generation = generation_;
    priv->slot = i;
    sym->aead.aad.data = priv->aad.data();
    sym->aead.aad.phys_addr = rte_crypto_op_ctophys_offset(op, kAadOffset);
    // Stays so unless the device returns the op; ops never enqueued become kBackendBusy below.
    a.result = RecordResult::kBackendTimeout;
    burst[count++] = op;
  }

  const uint8_t dev = device_.device_id_;
  uint16_t enqueued = 0;
  uint16_t returned = 0;
  // Set at the first poll without progress and cleared by progress, so a burst the device keeps
  // moving never reads the TSC and a device that stops costs one poll_timeout_us.
  uint64_t deadline = 0;
  while (returned < count) {
    bool progress = false;
    if (enqueued < count) {
      const uint16_t k =
          rte_cryptodev_enqueue_burst(dev, queue_pair_, burst.data() + enqueued, count - enqueued);
      enqueued += k;
      progress = k != 0;
    }
    std::array<rte_crypto_op*, kMaxRecordBurst> out;
    const uint16_t d = rte_cryptodev_dequeue_burst(dev, queue_pair_, out.data(), kMaxRecordBurst);
    for (uint16_t j = 0; j < d; ++j) {
      const OpPrivate* priv = PrivateOf(out[j]);
      if (priv->generation != generation_) [[unlikely]] {
        ReturnStaleOp(out[j]);
        continue;
      }
      ops[priv->slot].result = ResultOf(out[j]);
      ++returned;
    }
    progress = progress || d != 0;
    if (progress) {
      deadline = 0;
    } else if (deadline == 0) {
      deadline = rte_get_tsc_cycles() + device_.poll_timeout_cycles_;
    } else if (rte_get_tsc_cycles() >= deadline) {
      break;
    }
  }
  for (uint16_t j = enqueued; j < count; ++j) {
    ops[PrivateOf(burst[j])->slot].result = RecordResult::kBackendBusy;
  }
  if (returned < enqueued) RecoverLostOps(ops, n);
}

void CryptodevQueue::ReapStaleOps() {
  while (stale_count_ != 0) {
    std::array<rte_crypto_op*, kMaxRecordBurst> out;
    const uint16_t d =
        rte_cryptodev_dequeue_burst(device_.device_id_, queue_pair_, out.data(), kMaxRecordBurst);
    if (d == 0) return;
    // Between bursts every op the device returns is stale.
    for (uint16_t j = 0; j < d; ++j) ReturnStaleOp(out[j]);
  }
}

// Slots emptied by lost ops, and not refilled then, get spares once the pool has them again
// (stale ops came back) and this queue is within its share.
void CryptodevQueue::RefillOps() {
  for (rte_crypto_op*& slot : ops_) {
    if (slot != nullptr) continue;
    if (held_ops_ >= kCryptodevOpsPerQueue) return;
    slot = rte_crypto_op_alloc(device_.op_pool_, RTE_CRYPTO_OP_TYPE_SYMMETRIC);
    if (slot == nullptr) return;
    ++held_ops_;
    --missing_ops_;
  }
}

// The device still owns ops it did not return, and may yet complete them: it would write into
// their mbufs and read their sessions. Their mbufs get a reference of ours, so the caller's free
// of a timed-out record does not hand them to another flow; their sessions are parked by
// DestroyKey while they are out; their slots get fresh ops so later bursts do not hand the
// device an op it is still working on.
void CryptodevQueue::RecoverLostOps(const AeadOp* ops, uint16_t n) {
  for (uint16_t i = 0; i < n; ++i) {
    if (ops[i].result != RecordResult::kBackendTimeout) continue;
    ++lost_ops_;
    assert(stale_count_ < stale_.size());  // held_ops_ bounds both
    rte_mbuf_refcnt_update(ops[i].mbuf, 1);
    stale_[stale_count_++] = {ops_[i], ops[i].mbuf, ops[i].key.impl};
    ops_[i] = nullptr;
    ++missing_ops_;
  }
  RefillOps();
}

void CryptodevQueue::ReturnStaleOp(rte_crypto_op* op) {
  uint16_t k = 0;
  while (k < stale_count_ && stale_[k].op != op) ++k;
  if (k == stale_count_) {
    // An old generation but not given up on: only a device returning an op twice does that.
    // Left alone: freeing it again would corrupt the pool.
    assert(false && "cryptodev returned an op it was never given");
    return;
  }
  rte_pktmbuf_free(stale_[k].mbuf);
  rte_crypto_op_free(op);
  --held_ops_;
  stale_[k] = stale_[--stale_count_];
  for (uint16_t p = 0; p < parked_count_;) {
    if (StaleOpsUse(parked_[p])) {
      ++p;
      continue;
    }
    rte_cryptodev_sym_session_free(device_.device_id_, parked_[p]);
    parked_[p] = parked_[--parked_count_];
  }
}

bool CryptodevQueue::StaleOpsUse(const void* session) const {
  for (uint16_t k = 0; k < stale_count_; ++k) {
    if (stale_[k].session == session) return true;
  }
  return false;
}

// The op memory itself goes with the op pool (the stopped device may still list it).
void CryptodevQueue::ForgetStaleOps() {
  for (uint16_t k = 0; k < stale_count_; ++k) rte_pktmbuf_free(stale_[k].mbuf);
  stale_count_ = 0;
  for (uint16_t p = 0; p < parked_count_; ++p) {
    rte_cryptodev_sym_session_free(device_.device_id_, parked_[p]);
  }
  parked_count_ = 0;
}

}  // namespace t38relay::crypto
