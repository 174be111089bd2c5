// The cryptodev backend on the software PMD vdevs: byte-identical to the software backend on mixed
// bursts, tag checks on reused ops, in-place relaying in mbufs, session teardown, a queue pair
// smaller than a burst. Runs with hugepages, and with --no-huge when T38_EAL_NO_HUGE=1.
#include "crypto/cryptodev/cryptodev_backend.h"

#include <rte_cryptodev.h>
#include <rte_eal.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include <algorithm>
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
    config.max_idle_polls = 1000;
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
      EXPECT_EQ(device_->queue(0).lost_ops(), 0u);
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
  EXPECT_EQ(protector_->Seal(jobs, kBurst), 0);
  for (const RecordJob& job : jobs) EXPECT_EQ(job.result, RecordResult::kBackendBusy);
  EXPECT_EQ(device_->queue(0).lost_ops(), 0u);
  ASSERT_EQ(rte_cryptodev_start(device_->device_id()), 0);
  rte_log_set_level_pattern("lib.cryptodev*", RTE_LOG_INFO);
  // The queue works again, and the refused records' sequence numbers were simply skipped.
  EXPECT_EQ(protector_->Seal(jobs, kBurst), kBurst);
  rte_pktmbuf_free_bulk(m, kBurst);
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
