// The cryptodev backend on the software PMD vdevs: byte-identical to the software backend on mixed
// bursts, tag checks on reused ops, in-place relaying in mbufs, session teardown, a queue pair
// smaller than a burst, ops a device keeps past the timeout and completes late. Runs with
// hugepages, and with --no-huge when T38_EAL_NO_HUGE=1.
#include "crypto/cryptodev/cryptodev_backend.h"

#include <rte_cryptodev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "crypto/record/record_mbuf.h"
#include "crypto/record/record_protector.h"
#include "crypto/soft/soft_backend.h"
#include "gtest/gtest.h"
#include "tests/crypto/record/record_test_util.h"
#include "tests/eal_support.h"

namespace t38relay::crypto {
namespace {

using ::t38relay::crypto::testing::MakeKeys;
using ::t38relay::crypto::testing::PeerOf;
using ::t38relay::crypto::testing::ReferenceRecord;
using Buffer = std::vector<uint8_t>;

constexpr uint16_t kLegs = 6;

rte_mempool* MbufPool() {
  static rte_mempool* pool = rte_pktmbuf_pool_create("rec_test_mbufs", 2047, 0, 0,
                                                     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  return pool;
}

// Both PMDs in one EAL (with --no-huge when T38_EAL_NO_HUGE=1: see tests/eal_support.h).
bool StartTestEal() {
  return t38relay::testing::StartEal({"--vdev=crypto_aesni_gcm0", "--vdev=crypto_aesni_mb0"});
}

// An mbuf holding `bytes` at the usual headroom.
rte_mbuf* MbufWith(const Buffer& bytes) {
  rte_mbuf* m = rte_pktmbuf_alloc(MbufPool());
  EXPECT_NE(m, nullptr);
  if (m == nullptr) return nullptr;
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(bytes.size()));
  EXPECT_NE(p, nullptr);
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  return m;
}

Buffer BytesOf(const rte_mbuf* m) {
  const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
  return Buffer(p, p + rte_pktmbuf_data_len(m));
}

// Stands in for a device that keeps ops past the burst's timeout. No software PMD holds an op on
// its own (crypto_aesni_gcm/mb do the work inside dequeue), so a dequeue callback on the real
// dequeue path (rte_cryptodev_add_deq_callback) takes what the PMD returned and reports nothing;
// the test later enqueues those ops to the device again, which runs them once more: a late
// completion that writes into the records' mbufs and reads their sessions.
class HeldOps {
 public:
  HeldOps(uint8_t device_id, uint16_t queue_pair) : device_id_(device_id), queue_pair_(queue_pair) {
    callback_ = rte_cryptodev_add_deq_callback(device_id, queue_pair, &Hold, this);
    EXPECT_NE(callback_, nullptr) << rte_strerror(rte_errno);
  }
  ~HeldOps() {
    if (callback_ != nullptr) {
      EXPECT_EQ(rte_cryptodev_remove_deq_callback(device_id_, queue_pair_, callback_), 0);
    }
  }

  bool hold = true;
  std::vector<rte_crypto_op*> ops;

  // The late completion: everything held goes back to the device, and `queue` collects it (the
  // queue pair may be smaller than what is held).
  void CompleteLate(CryptodevQueue& queue) {
    hold = false;
    for (rte_crypto_op* op : ops) op->status = RTE_CRYPTO_OP_STATUS_NOT_PROCESSED;
    for (size_t done = 0; done < ops.size();) {
      done += rte_cryptodev_enqueue_burst(device_id_, queue_pair_, ops.data() + done,
                                          static_cast<uint16_t>(ops.size() - done));
      queue.ReapStaleOps();
    }
    ops.clear();
  }

 private:
  static uint16_t Hold(uint16_t, uint16_t, rte_crypto_op** ops, uint16_t n, void* arg) {
    auto* self = static_cast<HeldOps*>(arg);
    if (!self->hold) return n;
    self->ops.insert(self->ops.end(), ops, ops + n);
    return 0;
  }

  uint8_t device_id_;
  uint16_t queue_pair_;
  rte_cryptodev_cb* callback_ = nullptr;
};

class CryptodevBackendTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(StartTestEal());
    ASSERT_NE(MbufPool(), nullptr);
    CryptodevConfig config;
    config.device = GetParam();
    // Smaller than a 64-record burst: every full burst meets a full queue pair.
    config.queue_depth = 16;
    config.max_keys = 64;
    config.queue_pairs = 2;  // the second shows one stuck queue does not starve another
    // The software PMDs work inside dequeue, so a healthy burst never waits this long.
    config.poll_timeout_us = 1000;
    absl::StatusOr<std::unique_ptr<CryptodevDevice>> device = CryptodevDevice::Open(config);
    ASSERT_TRUE(device.ok()) << device.status();
    device_ = std::move(*device);
    protector_ = std::make_unique<RecordProtector>(device_->queue(0), RecordOptions{});
  }

  void TearDown() override {
    if (protector_) {
      for (RecordLeg& leg : legs_) protector_->Release(leg);
      for (RecordLeg& leg : peers_) protector_->Release(leg);
    }
    for (RecordLeg& leg : soft_legs_) soft_protector_.Release(leg);
    for (RecordLeg& leg : soft_peers_) soft_protector_.Release(leg);
    if (device_) {
      EXPECT_EQ(device_->live_keys(), 0u);
      EXPECT_EQ(device_->queue(0).lost_ops(), expected_lost_ops_);
      EXPECT_EQ(device_->queue(0).stale_ops(), 0u);
      EXPECT_EQ(device_->queue(0).parked_keys(), 0u);
    }
    protector_.reset();
    device_.reset();
    if (rte_mempool* pool = MbufPool()) {
      EXPECT_EQ(rte_mempool_in_use_count(pool), 0u);
    }
  }

  // legs_[i] seals for peers_[i]; soft_legs_/soft_peers_ hold the same keys on the soft backend.
  void ConnectAll() {
    for (uint16_t i = 0; i < kLegs; ++i) {
      const DtlsRecordKeys keys =
          MakeKeys(i % 2 ? AeadCipher::kAes256Gcm : AeadCipher::kAes128Gcm,
                   static_cast<uint8_t>(10 + i), static_cast<uint16_t>(1 + i % 3), 100 * i);
      ASSERT_TRUE(protector_->Install(legs_[i], keys, 0).ok());
      ASSERT_TRUE(protector_->Install(peers_[i], PeerOf(keys), 0).ok());
      ASSERT_TRUE(soft_protector_.Install(soft_legs_[i], keys, 0).ok());
      ASSERT_TRUE(soft_protector_.Install(soft_peers_[i], PeerOf(keys), 0).ok());
    }
  }

  // Seals kBurst 50-byte records on `leg`; the mbufs go to `m`.
  uint16_t SealFresh(RecordProtector& protector, RecordLeg& leg, uint16_t burst, rte_mbuf** m,
                     RecordJob* jobs) {
    for (uint16_t i = 0; i < burst; ++i) {
      m[i] = MbufWith(Buffer(kRecordOverhead + 50, 1));
      jobs[i] = RecordJobFor(&leg, m[i]);
    }
    return protector.Seal(jobs, burst);
  }

  uint64_t expected_lost_ops_ = 0;
  std::unique_ptr<CryptodevDevice> device_;
  std::unique_ptr<RecordProtector> protector_;
  SoftBackend soft_;
  RecordProtector soft_protector_{soft_, RecordOptions{}};
  RecordLeg legs_[kLegs], peers_[kLegs], soft_legs_[kLegs], soft_peers_[kLegs];
};

TEST_P(CryptodevBackendTest, SameBytesAsTheSoftwareBackendOnMixedBursts) {
  ConnectAll();
  std::mt19937 rng(11);
  for (int round = 0; round < 4; ++round) {
    constexpr uint16_t kBurst = 64;
    std::vector<Buffer> framed(kBurst);
    std::vector<uint16_t> leg_of(kBurst);
    rte_mbuf* mbufs[kBurst];
    RecordJob jobs[kBurst], soft_jobs[kBurst];
    for (uint16_t i = 0; i < kBurst; ++i) {
      const size_t size = i == 0 ? 0 : rng() % 1401;
      framed[i].assign(kRecordOverhead + size, 0);
      for (size_t k = kRecordPrefixLength; k < kRecordPrefixLength + size; ++k) {
        framed[i][k] = static_cast<uint8_t>(rng());
      }
      leg_of[i] = static_cast<uint16_t>(rng() % kLegs);
      const uint8_t type = rng() % 4 == 0 ? dataplane::kDtlsAlert : dataplane::kDtlsApplicationData;
      mbufs[i] = MbufWith(framed[i]);
      ASSERT_NE(mbufs[i], nullptr);
      jobs[i] = RecordJobFor(&legs_[leg_of[i]], mbufs[i], type);
      soft_jobs[i] = {.leg = &soft_legs_[leg_of[i]], .mbuf = nullptr, .record = framed[i].data(),
                      .record_length = static_cast<uint32_t>(framed[i].size()),
                      .content_type = type};
    }
    ASSERT_EQ(protector_->Seal(jobs, kBurst), kBurst);
    ASSERT_EQ(soft_protector_.Seal(soft_jobs, kBurst), kBurst);
    for (uint16_t i = 0; i < kBurst; ++i) {
      ASSERT_EQ(BytesOf(mbufs[i]), framed[i]) << "record " << i << " round " << round;
    }
    // Each opens what the other sealed (they are the same bytes; this checks open on both).
    for (uint16_t i = 0; i < kBurst; ++i) {
      jobs[i] = RecordJobFor(&peers_[leg_of[i]], mbufs[i]);
      soft_jobs[i].leg = &soft_peers_[leg_of[i]];
    }
    ASSERT_EQ(protector_->Open(jobs, kBurst, 0), kBurst);
    ASSERT_EQ(soft_protector_.Open(soft_jobs, kBurst, 0), kBurst);
    for (uint16_t i = 0; i < kBurst; ++i) {
      ASSERT_EQ(BytesOf(mbufs[i]), framed[i]) << "plaintext " << i;
      EXPECT_EQ(jobs[i].content_type, soft_jobs[i].content_type);
    }
    rte_pktmbuf_free_bulk(mbufs, kBurst);
  }
}

TEST_P(CryptodevBackendTest, SealsWhatAnIndependentSealerSeals) {
  ConnectAll();
  const DtlsRecordKeys keys = MakeKeys(AeadCipher::kAes256Gcm, 11, 2, 100);  // legs_[1]
  const Buffer plaintext(300, 0x5A);
  Buffer framed(kRecordOverhead + plaintext.size());
  std::copy(plaintext.begin(), plaintext.end(), framed.begin() + kRecordPrefixLength);
  rte_mbuf* m = MbufWith(framed);
  RecordJob job = RecordJobFor(&legs_[1], m);
  ASSERT_EQ(protector_->Seal(&job, 1), 1);
  EXPECT_EQ(BytesOf(m), ReferenceRecord(keys.send, 2, 100, dataplane::kDtlsApplicationData,
                                        plaintext));
  rte_pktmbuf_free(m);
}

// Ops are reused burst after burst: a forged record after genuine ones (and the other way round)
// must still fail its tag check — the op status reset at work.
TEST_P(CryptodevBackendTest, TamperedAndReplayedRecordsAreRejectedOnReusedOps) {
  ConnectAll();
  for (int round = 0; round < 3; ++round) {
    Buffer framed(kRecordOverhead + 100, 0x33);
    rte_mbuf* m = MbufWith(framed);
    RecordJob job = RecordJobFor(&legs_[0], m);
    ASSERT_EQ(protector_->Seal(&job, 1), 1);
    const Buffer sealed = BytesOf(m);
    rte_pktmbuf_free(m);

    for (size_t at : {size_t{0}, size_t{4}, size_t{10}, size_t{12}, size_t{13}, size_t{20},
                      size_t{21}, sealed.size() - 17, sealed.size() - 1}) {
      Buffer tampered = sealed;
      tampered[at] ^= 0x04;
      rte_mbuf* t = MbufWith(tampered);
      RecordJob open = RecordJobFor(&peers_[0], t);
      EXPECT_EQ(protector_->Open(&open, 1, 0), 0) << "byte " << at;
      EXPECT_NE(open.result, RecordResult::kOk);
      if (at >= dataplane::kDtlsRecordHeaderLength) {
        EXPECT_EQ(open.result, RecordResult::kAuthFailed) << "byte " << at;
      }
      rte_pktmbuf_free(t);
    }
    rte_mbuf* copies[2] = {MbufWith(sealed), MbufWith(sealed)};
    RecordJob opens[2] = {RecordJobFor(&peers_[0], copies[0]), RecordJobFor(&peers_[0], copies[1])};
    EXPECT_EQ(protector_->Open(opens, 2, 0), 1);
    EXPECT_EQ(opens[0].result, RecordResult::kOk);
    EXPECT_EQ(opens[1].result, RecordResult::kReplayed);
    rte_pktmbuf_free_bulk(copies, 2);
  }
}

TEST_P(CryptodevBackendTest, RelaysInPlaceBetweenDtlsAndPlainLegs) {
  ConnectAll();
  const std::string udptl = "\x00\x01\x06\x00\x01\xff";  // some UDPTL bytes
  const Buffer payload(udptl.begin(), udptl.end());

  // plain -> DTLS: the UDPTL payload gets framing and is sealed for legs_[0].
  rte_mbuf* m = MbufWith(payload);
  const uint8_t* first_payload_byte = rte_pktmbuf_mtod(m, uint8_t*);
  ASSERT_TRUE(AddRecordFraming(m));
  RecordJob seal = RecordJobFor(&legs_[0], m);
  ASSERT_EQ(protector_->Seal(&seal, 1), 1);
  EXPECT_EQ(rte_pktmbuf_data_len(m), payload.size() + kRecordOverhead);

  // DTLS -> DTLS: peers_[0] opens, legs_[2] seals in the same bytes, peers_[2] can read it.
  RecordJob open = RecordJobFor(&peers_[0], m);
  ASSERT_EQ(protector_->Open(&open, 1, 0), 1);
  RecordJob reseal = RecordJobFor(&legs_[2], m, open.content_type);
  ASSERT_EQ(protector_->Seal(&reseal, 1), 1);
  EXPECT_EQ(reseal.plaintext(), first_payload_byte);  // the payload never moved

  // DTLS -> plain: peers_[2] opens, the framing goes, the UDPTL payload is what we started with.
  RecordJob last = RecordJobFor(&peers_[2], m);
  ASSERT_EQ(protector_->Open(&last, 1, 0), 1);
  StripRecordFraming(m);
  EXPECT_EQ(BytesOf(m), payload);
  EXPECT_EQ(rte_pktmbuf_mtod(m, uint8_t*), first_payload_byte);
  rte_pktmbuf_free(m);

  // No headroom: AddRecordFraming refuses and leaves the mbuf as it was.
  rte_mbuf* tight = rte_pktmbuf_alloc(MbufPool());
  tight->data_off = 0;
  ASSERT_NE(rte_pktmbuf_append(tight, 10), nullptr);
  EXPECT_FALSE(AddRecordFraming(tight));
  EXPECT_EQ(rte_pktmbuf_data_len(tight), 10u);
  rte_pktmbuf_free(tight);
}

TEST_P(CryptodevBackendTest, JobsWithoutAnMbufGetABackendError) {
  ConnectAll();
  Buffer framed(kRecordOverhead + 10);
  RecordJob job;
  job.leg = &legs_[0];
  job.record = framed.data();
  job.record_length = static_cast<uint32_t>(framed.size());
  EXPECT_EQ(protector_->Seal(&job, 1), 0);
  EXPECT_EQ(job.result, RecordResult::kBackendError);
}

// A device that takes nothing (stopped: DPDK swaps in enqueue/dequeue stubs that return 0) must
// not hang a burst: every record gets backend-busy within the poll bound and no mbuf is kept.
TEST_P(CryptodevBackendTest, ADeviceThatTakesNothingFailsTheBurstWithinTheBound) {
  ConnectAll();
  rte_log_set_level_pattern("lib.cryptodev*", RTE_LOG_EMERG);  // each stub call logs an error
  rte_cryptodev_stop(device_->device_id());
  constexpr uint16_t kBurst = 40;
  rte_mbuf* m[kBurst];
  RecordJob jobs[kBurst];
  for (uint16_t i = 0; i < kBurst; ++i) {
    m[i] = MbufWith(Buffer(kRecordOverhead + 50, 1));
    jobs[i] = RecordJobFor(&legs_[i % kLegs], m[i]);
  }
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(protector_->Seal(jobs, kBurst), 0);
  // One poll_timeout_us (1 ms) per burst; a second leaves room for a loaded sanitizer run.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  for (const RecordJob& job : jobs) EXPECT_EQ(job.result, RecordResult::kBackendBusy);
  EXPECT_EQ(device_->queue(0).lost_ops(), 0u);
  ASSERT_EQ(rte_cryptodev_start(device_->device_id()), 0);
  rte_log_set_level_pattern("lib.cryptodev*", RTE_LOG_INFO);
  // The queue works again, and the refused records' sequence numbers were simply skipped.
  EXPECT_EQ(protector_->Seal(jobs, kBurst), kBurst);
  rte_pktmbuf_free_bulk(m, kBurst);
}

// The reviewer's case: a burst gives up on ops the device completes later. The caller frees the
// timed-out mbufs at once, yet none may go back to the pool (another flow would get a buffer the
// device then writes into), and a session the late ops use must outlive its leg's Release.
TEST_P(CryptodevBackendTest, OpsCompletedAfterTheTimeoutTouchNeitherReusedMbufsNorFreedSessions) {
  ConnectAll();
  CryptodevQueue& queue = device_->queue(0);
  rte_mempool* pool = MbufPool();
  const size_t ops_before = device_->ops_in_use();
  HeldOps held(device_->device_id(), 0);

  constexpr uint16_t kLate = 8;
  rte_mbuf* m[kLate];
  RecordJob jobs[kLate];
  EXPECT_EQ(SealFresh(*protector_, legs_[0], kLate, m, jobs), 0);
  for (const RecordJob& job : jobs) EXPECT_EQ(job.result, RecordResult::kBackendTimeout);
  ASSERT_EQ(held.ops.size(), kLate);
  EXPECT_EQ(queue.lost_ops(), kLate);
  EXPECT_EQ(queue.stale_ops(), kLate);
  EXPECT_EQ(device_->ops_in_use(), ops_before + kLate);  // the slots got spares

  // The caller drops what timed out; the pool still counts those mbufs as in use, and nothing it
  // hands out (all of it, taken now) is one of them.
  rte_pktmbuf_free_bulk(m, kLate);
  EXPECT_EQ(rte_mempool_in_use_count(pool), kLate);
  std::vector<rte_mbuf*> rest(rte_mempool_avail_count(pool));
  ASSERT_EQ(rte_pktmbuf_alloc_bulk(pool, rest.data(), static_cast<unsigned>(rest.size())), 0);
  size_t reused = 0;
  for (rte_mbuf* r : rest) reused += std::count(m, m + kLate, r);
  EXPECT_EQ(reused, 0u);
  rte_pktmbuf_free_bulk(rest.data(), static_cast<unsigned>(rest.size()));

  // The leg goes away meanwhile: its receive session is freed, the send session the held ops
  // use is parked.
  const size_t keys_before = device_->live_keys();
  protector_->Release(legs_[0]);
  EXPECT_EQ(device_->live_keys(), keys_before - 1);
  EXPECT_EQ(queue.parked_keys(), 1u);

  // The device completes them; the next burst meets them and lets go of mbufs, ops and session.
  held.hold = false;
  for (rte_crypto_op* op : held.ops) op->status = RTE_CRYPTO_OP_STATUS_NOT_PROCESSED;
  ASSERT_EQ(rte_cryptodev_enqueue_burst(device_->device_id(), 0, held.ops.data(), kLate), kLate);
  held.ops.clear();
  rte_mbuf* next;
  RecordJob job;
  EXPECT_EQ(SealFresh(*protector_, legs_[1], 1, &next, &job), 1);
  EXPECT_EQ(queue.stale_ops(), 0u);
  EXPECT_EQ(queue.parked_keys(), 0u);
  EXPECT_EQ(device_->live_keys(), keys_before - 2);
  EXPECT_EQ(device_->ops_in_use(), ops_before);
  EXPECT_EQ(rte_mempool_in_use_count(pool), 1u);
  rte_pktmbuf_free(next);
  expected_lost_ops_ = kLate;
}

// More lost ops than a queue's spares: its slots stay empty (backend-error) while the device
// holds them, the other queue pair keeps its share of the op pool, and once the ops come back
// the empty slots are refilled and every op is accounted for.
TEST_P(CryptodevBackendTest, AQueueOutOfSparesRefillsWhenItsOpsComeBackAndStarvesNoOther) {
  ConnectAll();
  CryptodevQueue& queue = device_->queue(0);
  rte_mempool* pool = MbufPool();
  const size_t ops_before = device_->ops_in_use();
  HeldOps held(device_->device_id(), 0);

  constexpr uint16_t kBurst = kMaxRecordBurst;
  std::vector<rte_mbuf*> m(3 * kBurst);
  RecordJob jobs[kBurst];
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(SealFresh(*protector_, legs_[round], kBurst, m.data() + round * kBurst, jobs), 0);
    for (const RecordJob& job : jobs) EXPECT_EQ(job.result, RecordResult::kBackendTimeout);
  }
  EXPECT_EQ(queue.stale_ops(), 2 * kBurst);
  EXPECT_EQ(device_->ops_in_use(), ops_before + kBurst);  // all of queue 0's share
  EXPECT_EQ(SealFresh(*protector_, legs_[2], kBurst, m.data() + 2 * kBurst, jobs), 0);
  for (const RecordJob& job : jobs) EXPECT_EQ(job.result, RecordResult::kBackendError);

  // Queue 1 still has its ops.
  {
    RecordProtector other(device_->queue(1), RecordOptions{});
    RecordLeg a, b;
    const DtlsRecordKeys keys = MakeKeys(AeadCipher::kAes128Gcm, 77);
    ASSERT_TRUE(other.Install(a, keys, 0).ok());
    ASSERT_TRUE(other.Install(b, PeerOf(keys), 0).ok());
    rte_mbuf* o[kBurst];
    EXPECT_EQ(SealFresh(other, a, kBurst, o, jobs), kBurst);
    rte_pktmbuf_free_bulk(o, kBurst);
    other.Release(a);
    other.Release(b);
  }

  rte_pktmbuf_free_bulk(m.data(), static_cast<unsigned>(m.size()));
  EXPECT_EQ(rte_mempool_in_use_count(pool), 2u * kBurst);
  held.CompleteLate(queue);
  EXPECT_EQ(queue.stale_ops(), 0u);
  EXPECT_EQ(rte_mempool_in_use_count(pool), 0u);
  // Every op back in the pool, queue 0's empty slots too: they are filled by its next burst.
  EXPECT_EQ(device_->ops_in_use(), ops_before - kBurst);

  EXPECT_EQ(SealFresh(*protector_, legs_[3], kBurst, m.data(), jobs), kBurst);
  rte_pktmbuf_free_bulk(m.data(), kBurst);
  EXPECT_EQ(device_->ops_in_use(), ops_before);
  expected_lost_ops_ = 2 * kBurst;
}

// Closing the device while it still holds ops: they get one more timeout to come back, then
// the stopped device's mbufs and parked sessions go back to their pools.
TEST_P(CryptodevBackendTest, ClosingTheDeviceReturnsWhatItStillHeld) {
  ConnectAll();
  constexpr uint16_t kLate = 4;
  rte_mbuf* m[kLate];
  RecordJob jobs[kLate];
  {
    HeldOps held(device_->device_id(), 0);
    EXPECT_EQ(SealFresh(*protector_, legs_[2], kLate, m, jobs), 0);
    EXPECT_EQ(device_->queue(0).stale_ops(), kLate);
  }
  rte_pktmbuf_free_bulk(m, kLate);
  for (RecordLeg& leg : legs_) protector_->Release(leg);
  for (RecordLeg& leg : peers_) protector_->Release(leg);
  EXPECT_EQ(device_->queue(0).parked_keys(), 1u);
  EXPECT_EQ(device_->live_keys(), 1u);
  EXPECT_EQ(rte_mempool_in_use_count(MbufPool()), kLate);
  protector_.reset();
  device_.reset();
  EXPECT_EQ(rte_mempool_in_use_count(MbufPool()), 0u);  // TearDown checks it too
}

TEST_P(CryptodevBackendTest, SessionsAreCountedAndReleased) {
  ConnectAll();
  EXPECT_EQ(device_->live_keys(), 4u * kLegs);
  protector_->Release(legs_[0]);
  EXPECT_EQ(device_->live_keys(), 4u * kLegs - 2);
  EXPECT_GT(device_->queue(0).KeyMemoryBytes(), rte_cryptodev_sym_get_private_session_size(
                                                    device_->device_id()));
}

TEST_P(CryptodevBackendTest, RunningOutOfSessionsIsAClearErrorAndLeavesTheLegAlone) {
  RecordLeg extra[40];
  absl::Status status;
  int installed = 0;
  for (RecordLeg& leg : extra) {
    status = protector_->Install(leg, MakeKeys(AeadCipher::kAes128Gcm, 1), 0);
    if (!status.ok()) break;
    ++installed;
  }
  ASSERT_EQ(installed, 32);  // 64 sessions, two per leg
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_FALSE(extra[installed].has_keys());
  for (RecordLeg& leg : extra) protector_->Release(leg);
}

INSTANTIATE_TEST_SUITE_P(Pmds, CryptodevBackendTest,
                         ::testing::Values("crypto_aesni_gcm0", "crypto_aesni_mb0"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param).substr(0, std::string(info.param).size() - 1);
                         });

}  // namespace
}  // namespace t38relay::crypto
