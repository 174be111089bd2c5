// The record layer over the software backend: known answers, replay, tampering, epochs, bursts
// across legs, in-place relaying and random input.
#include "crypto/record/record_protector.h"

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "crypto/soft/soft_backend.h"
#include "gtest/gtest.h"
#include "tests/crypto/record/record_test_util.h"
#include "tests/test_support.h"

namespace t38relay::crypto {
namespace {

using ::t38relay::crypto::testing::MakeKeys;
using ::t38relay::crypto::testing::PeerOf;
using ::t38relay::crypto::testing::ReferenceRecord;
using ::t38relay::testing::FromHex;
using ::t38relay::testing::ToHex;
using Buffer = std::vector<uint8_t>;

constexpr uint64_t kGrace = 100;

class RecordProtectorTest : public ::testing::Test {
 protected:
  ~RecordProtectorTest() override {
    for (RecordLeg* leg : {&a_, &b_, &c_, &d_}) protector_.Release(*leg);
    EXPECT_EQ(backend_.live_keys(), 0u);
  }

  // Plaintext framed for sealing: room for header and nonce in front, tag behind.
  static Buffer Framed(const Buffer& plaintext) {
    Buffer b(kRecordOverhead + plaintext.size(), 0xEE);
    std::copy(plaintext.begin(), plaintext.end(), b.begin() + kRecordPrefixLength);
    return b;
  }
  static RecordJob JobFor(RecordLeg* leg, Buffer& b, uint8_t type = dataplane::kDtlsApplicationData) {
    RecordJob job;
    job.leg = leg;
    job.record = b.data();
    job.record_length = static_cast<uint32_t>(b.size());
    job.content_type = type;
    return job;
  }
  Buffer Seal(RecordLeg& leg, const Buffer& plaintext,
              uint8_t type = dataplane::kDtlsApplicationData,
              RecordResult expected = RecordResult::kOk) {
    Buffer b = Framed(plaintext);
    RecordJob job = JobFor(&leg, b, type);
    EXPECT_EQ(protector_.Seal(&job, 1), expected == RecordResult::kOk ? 1 : 0);
    EXPECT_EQ(job.result, expected) << RecordResultName(job.result);
    return b;
  }
  // Opens a copy of `record`; the plaintext (on kOk) goes to *plaintext.
  RecordResult Open(RecordLeg& leg, Buffer record, uint64_t now = 0, Buffer* plaintext = nullptr,
                    uint8_t* type = nullptr) {
    RecordJob job = JobFor(&leg, record);
    protector_.Open(&job, 1, now);
    if (job.result == RecordResult::kOk) {
      if (plaintext) plaintext->assign(job.plaintext(), job.plaintext() + job.plaintext_length());
      if (type) *type = job.content_type;
    }
    return job.result;
  }
  // a and b are the two ends of one association (b's receive key is a's send key).
  void Connect(RecordLeg& a, RecordLeg& b, AeadCipher cipher, uint8_t seed, uint16_t epoch = 1,
               uint64_t now = 0) {
    const DtlsRecordKeys keys = MakeKeys(cipher, seed, epoch);
    ASSERT_TRUE(protector_.Install(a, keys, now).ok());
    ASSERT_TRUE(protector_.Install(b, PeerOf(keys), now).ok());
  }

  SoftBackend backend_;
  RecordProtector protector_{backend_, RecordOptions{.previous_epoch_grace = kGrace}};
  RecordLeg a_, b_, c_, d_;
};

Buffer Text(const std::string& s) { return Buffer(s.begin(), s.end()); }

// Computed outside this code base with Python's `cryptography` package, from RFC 6347/5288:
//   explicit = epoch(2) || seq(6); aad = explicit || type || fe fd || len(plaintext)(2)
//   record = type || fe fd || explicit || len(8 + ct)(2) || explicit ||
//            AESGCM(key).encrypt(salt || explicit, plaintext, aad)
// This one: key 00..0f, salt a0a1a2a3, epoch 1, seq 5.
constexpr char kAes128Record[] =
    "17fefd0001000000000005002c0001000000000005982462be04c2aec4a009939002787d8486cb4b22cb317e29"
    "a40cd981584a8515ec85881a";
constexpr char kAes128Alert[] =  // close_notify, seq 6
    "15fefd0001000000000006001a00010000000000062b98960e09f816f278ad4d5d62ee07513779";
// key 20..3f, salt b0b1b2b3, epoch 2, seq 2^48-1.
constexpr char kAes256Record[] =
    "17fefd0002ffffffffffff00220002ffffffffffff90c03ce818ddbc19118d33ca108430541a62fc2f0a026d1b"
    "b7b3";

DtlsRecordKeys VectorKeys(AeadCipher cipher, uint16_t epoch, uint64_t next_send_sequence) {
  DtlsRecordKeys keys;
  keys.send.cipher = keys.receive.cipher = cipher;
  const uint8_t first = cipher == AeadCipher::kAes128Gcm ? 0x00 : 0x20;
  for (size_t i = 0; i < AeadKeyLength(cipher); ++i) keys.send.key[i] = uint8_t(first + i);
  keys.send.salt = cipher == AeadCipher::kAes128Gcm ? std::array<uint8_t, 4>{0xa0, 0xa1, 0xa2, 0xa3}
                                                    : std::array<uint8_t, 4>{0xb0, 0xb1, 0xb2, 0xb3};
  keys.receive = keys.send;
  keys.epoch = epoch;
  keys.next_send_sequence = next_send_sequence;
  return keys;
}

TEST_F(RecordProtectorTest, Aes128KnownAnswer) {
  ASSERT_TRUE(protector_.Install(a_, VectorKeys(AeadCipher::kAes128Gcm, 1, 5), 0).ok());
  Buffer plaintext;
  uint8_t type = 0;
  ASSERT_EQ(Open(a_, FromHex(kAes128Record), 0, &plaintext, &type), RecordResult::kOk);
  EXPECT_EQ(std::string(plaintext.begin(), plaintext.end()), "T.38 UDPTL over DTLS");
  EXPECT_EQ(type, dataplane::kDtlsApplicationData);
  ASSERT_EQ(Open(a_, FromHex(kAes128Alert), 0, &plaintext, &type), RecordResult::kOk);
  EXPECT_EQ(plaintext, (Buffer{1, 0}));
  EXPECT_EQ(type, dataplane::kDtlsAlert);

  EXPECT_EQ(ToHex(Seal(a_, Text("T.38 UDPTL over DTLS"))), kAes128Record);
  EXPECT_EQ(ToHex(Seal(a_, {1, 0}, dataplane::kDtlsAlert)), kAes128Alert);
  EXPECT_EQ(a_.next_send_sequence(), 7u);
}

TEST_F(RecordProtectorTest, Aes256KnownAnswerAtTheLastSequenceNumber) {
  ASSERT_TRUE(protector_.Install(a_, VectorKeys(AeadCipher::kAes256Gcm, 2,
                                                dataplane::kDtlsMaxSequence), 0).ok());
  Buffer plaintext;
  ASSERT_EQ(Open(a_, FromHex(kAes256Record), 0, &plaintext), RecordResult::kOk);
  EXPECT_EQ(plaintext, Text("fax page 1"));
  EXPECT_EQ(ToHex(Seal(a_, Text("fax page 1"))), kAes256Record);
  // The 48-bit sequence never wraps: the leg needs a rekey now.
  Seal(a_, Text("fax page 2"), dataplane::kDtlsApplicationData, RecordResult::kSequenceExhausted);
  Seal(a_, Text("fax page 2"), dataplane::kDtlsApplicationData, RecordResult::kSequenceExhausted);
}

TEST_F(RecordProtectorTest, MatchesIndependentRecordsForEverySize) {
  std::mt19937 rng(7);
  for (AeadCipher cipher : {AeadCipher::kAes128Gcm, AeadCipher::kAes256Gcm}) {
    const DtlsRecordKeys keys = MakeKeys(cipher, 9, 3, 1000);
    ASSERT_TRUE(protector_.Install(a_, keys, 0).ok());
    ASSERT_TRUE(protector_.Install(b_, PeerOf(keys), 0).ok());
    for (size_t size = 0; size <= 1400; size += 1 + size / 8) {
      Buffer plaintext(size);
      for (uint8_t& byte : plaintext) byte = static_cast<uint8_t>(rng());
      const uint8_t type = size % 3 == 0 ? dataplane::kDtlsAlert : dataplane::kDtlsApplicationData;
      const uint64_t sequence = a_.next_send_sequence();
      const Buffer sealed = Seal(a_, plaintext, type);
      ASSERT_EQ(sealed, ReferenceRecord(keys.send, 3, sequence, type, plaintext)) << size;
      Buffer opened;
      ASSERT_EQ(Open(b_, sealed, 0, &opened), RecordResult::kOk) << size;
      ASSERT_EQ(opened, plaintext);
    }
  }
}

TEST_F(RecordProtectorTest, ReplayedRecordsAreRejected) {
  Connect(a_, b_, AeadCipher::kAes128Gcm, 1);
  const Buffer r1 = Seal(a_, Text("one"));
  const Buffer r2 = Seal(a_, Text("two"));
  EXPECT_EQ(Open(b_, r2), RecordResult::kOk);
  EXPECT_EQ(Open(b_, r2), RecordResult::kReplayed);
  EXPECT_EQ(Open(b_, r1), RecordResult::kOk);  // late, inside the window
  EXPECT_EQ(Open(b_, r1), RecordResult::kReplayed);
  // Push the window 64 records on: r1 is then too old.
  Buffer last;
  for (int i = 0; i < 64; ++i) last = Seal(a_, Text("more"));
  EXPECT_EQ(Open(b_, last), RecordResult::kOk);
  EXPECT_EQ(Open(b_, r1), RecordResult::kTooOld);
}

TEST_F(RecordProtectorTest, DuplicateInsideOneBurstOpensOnce) {
  Connect(a_, b_, AeadCipher::kAes128Gcm, 1);
  const Buffer r = Seal(a_, Text("once"));
  std::vector<Buffer> copies(3, r);
  std::vector<RecordJob> jobs;
  for (Buffer& c : copies) jobs.push_back(JobFor(&b_, c));
  EXPECT_EQ(protector_.Open(jobs.data(), 3, 0), 1);
  EXPECT_EQ(jobs[0].result, RecordResult::kOk);
  EXPECT_EQ(jobs[1].result, RecordResult::kReplayed);
  EXPECT_EQ(jobs[2].result, RecordResult::kReplayed);
}

TEST_F(RecordProtectorTest, EverySingleBitFlipIsRejectedAndLeavesTheWindowAlone) {
  Connect(a_, b_, AeadCipher::kAes128Gcm, 1);
  const Buffer record = Seal(a_, Text("a T.38 IFP packet of some length"));
  for (size_t bit = 0; bit < record.size() * 8; ++bit) {
    Buffer tampered = record;
    tampered[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    ASSERT_NE(Open(b_, tampered), RecordResult::kOk) << "bit " << bit;
  }
  // No forgery (with a sequence number far ahead, say) moved the window: the genuine one opens.
  EXPECT_EQ(Open(b_, record), RecordResult::kOk);
  EXPECT_EQ(Open(b_, record), RecordResult::kReplayed);
}

TEST_F(RecordProtectorTest, ForgedFarFutureRecordDoesNotMoveTheWindow) {
  Connect(a_, b_, AeadCipher::kAes128Gcm, 1);
  const Buffer r1 = Seal(a_, Text("genuine"));
  Buffer forged = r1;
  forged[5] ^= 0x80;  // sequence number += 2^39: fresh for the window, but the tag fails
  forged[13 + 3] ^= 0x80;  // and the explicit nonce to match, as a forger would
  EXPECT_EQ(Open(b_, forged), RecordResult::kAuthFailed);
  EXPECT_EQ(Open(b_, r1), RecordResult::kOk);
}

TEST_F(RecordProtectorTest, PreviousEpochOpensUntilTheGraceDeadline) {
  Connect(a_, b_, AeadCipher::kAes128Gcm, 1, /*epoch=*/1, /*now=*/0);
  const Buffer e1_early = Seal(a_, Text("epoch 1 early"));
  const Buffer e1_late = Seal(a_, Text("epoch 1 late"));
  const Buffer e1_last = Seal(a_, Text("epoch 1 last"));
  // Rekey at t=10: epoch 2 keys on both sides; epoch 1 opens until t=110.
  Connect(a_, b_, AeadCipher::kAes256Gcm, 2, /*epoch=*/2, /*now=*/10);
  EXPECT_EQ(a_.send_epoch(), 2);
  EXPECT_EQ(b_.receive_epoch(), 2);
  ASSERT_TRUE(b_.has_previous_epoch());
  EXPECT_EQ(b_.previous_epoch(), 1);
  EXPECT_EQ(backend_.live_keys(), 6u);  // per leg: send, current receive, previous receive

  const Buffer e2 = Seal(a_, Text("epoch 2"));
  EXPECT_EQ(e2[3], 0);
  EXPECT_EQ(e2[4], 2);
  EXPECT_EQ(Open(b_, e2, 20), RecordResult::kOk);
  EXPECT_EQ(Open(b_, e1_early, 50), RecordResult::kOk);
  EXPECT_EQ(Open(b_, e1_early, 60), RecordResult::kReplayed);  // the old epoch keeps its window
  EXPECT_EQ(Open(b_, e1_late, 109), RecordResult::kOk);
  EXPECT_EQ(Open(b_, e1_last, 110), RecordResult::kEpochExpired);

  protector_.ExpirePrevious(b_, 109);
  EXPECT_TRUE(b_.has_previous_epoch());
  protector_.ExpirePrevious(b_, 110);
  EXPECT_FALSE(b_.has_previous_epoch());
  EXPECT_EQ(backend_.live_keys(), 5u);
  EXPECT_EQ(Open(b_, e1_last, 110), RecordResult::kUnknownEpoch);
}

TEST_F(RecordProtectorTest, SecondRekeyDropsTheOldestEpoch) {
  Connect(a_, b_, AeadCipher::kAes128Gcm, 1, 1, 0);
  const Buffer e1 = Seal(a_, Text("epoch 1"));
  Connect(a_, b_, AeadCipher::kAes128Gcm, 2, 2, 0);
  const Buffer e2 = Seal(a_, Text("epoch 2"));
  Connect(a_, b_, AeadCipher::kAes128Gcm, 3, 3, 0);
  EXPECT_EQ(Open(b_, e1, 1), RecordResult::kUnknownEpoch);
  EXPECT_EQ(Open(b_, e2, 1), RecordResult::kOk);
  EXPECT_EQ(backend_.live_keys(), 6u);
}

TEST_F(RecordProtectorTest, NewAssociationOnTheSameEpochReplacesTheKeys) {
  Connect(a_, b_, AeadCipher::kAes128Gcm, 1, 1, 0);
  const Buffer old_association = Seal(a_, Text("old"));
  Connect(a_, b_, AeadCipher::kAes128Gcm, 50, 1, 0);
  EXPECT_FALSE(b_.has_previous_epoch());
  EXPECT_EQ(Open(b_, old_association, 1), RecordResult::kAuthFailed);
  EXPECT_EQ(Open(b_, Seal(a_, Text("new")), 1), RecordResult::kOk);
}

TEST_F(RecordProtectorTest, ZeroGraceDropsThePreviousEpochAtOnce) {
  RecordProtector strict(backend_, RecordOptions{});
  const DtlsRecordKeys k1 = MakeKeys(AeadCipher::kAes128Gcm, 1, 1);
  ASSERT_TRUE(strict.Install(a_, k1, 0).ok());
  ASSERT_TRUE(strict.Install(a_, MakeKeys(AeadCipher::kAes128Gcm, 2, 2), 0).ok());
  EXPECT_FALSE(a_.has_previous_epoch());
  EXPECT_EQ(backend_.live_keys(), 2u);
  strict.Release(a_);
}

TEST_F(RecordProtectorTest, InstallRejectsWhatTheFastPathCannotSeal) {
  DtlsRecordKeys keys = MakeKeys(AeadCipher::kAes128Gcm, 1);
  keys.version = dataplane::kDtls10Version;
  EXPECT_EQ(protector_.Install(a_, keys, 0).code(), absl::StatusCode::kInvalidArgument);
  keys = MakeKeys(AeadCipher::kAes128Gcm, 1, 0);
  EXPECT_EQ(protector_.Install(a_, keys, 0).code(), absl::StatusCode::kInvalidArgument);
  keys = MakeKeys(AeadCipher::kAes128Gcm, 1, 1, dataplane::kDtlsMaxSequence + 1);
  EXPECT_EQ(protector_.Install(a_, keys, 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(a_.has_keys());
  EXPECT_EQ(backend_.live_keys(), 0u);
}

TEST_F(RecordProtectorTest, MalformedAndUnknownRecordsGetNamedResults) {
  Buffer ok_record;
  {
    Connect(a_, b_, AeadCipher::kAes128Gcm, 1);
    ok_record = Seal(a_, Text("hello"));
  }
  EXPECT_EQ(Open(c_, ok_record), RecordResult::kNoKeys);
  Buffer r = ok_record;
  r.pop_back();  // length field says one byte more than there is
  EXPECT_EQ(Open(b_, r), RecordResult::kMalformed);
  r = ok_record;
  r.push_back(0);  // a trailing byte: not one whole record
  EXPECT_EQ(Open(b_, r), RecordResult::kMalformed);
  EXPECT_EQ(Open(b_, Buffer(ok_record.begin(), ok_record.begin() + 12)), RecordResult::kMalformed);
  EXPECT_EQ(Open(b_, Buffer()), RecordResult::kMalformed);
  r = ok_record;
  r[2] = 0xFF;  // DTLS 1.0
  EXPECT_EQ(Open(b_, r), RecordResult::kMalformed);
  // Shorter than explicit nonce + tag.
  r = {23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 9, 0, 23};
  r.resize(13 + 23);
  EXPECT_EQ(Open(b_, r), RecordResult::kMalformed);
  r = ok_record;
  r[0] = dataplane::kDtlsHandshake;
  EXPECT_EQ(Open(b_, r), RecordResult::kBadContentType);
  r = ok_record;
  r[4] = 7;  // epoch 7
  EXPECT_EQ(Open(b_, r), RecordResult::kUnknownEpoch);
  EXPECT_EQ(Open(b_, ok_record), RecordResult::kOk);
}

TEST_F(RecordProtectorTest, SealRefusesWhatItCannotFrame) {
  Seal(c_, Text("no keys"), dataplane::kDtlsApplicationData, RecordResult::kNoKeys);
  Connect(a_, b_, AeadCipher::kAes128Gcm, 1);
  Seal(a_, Text("hs"), dataplane::kDtlsHandshake, RecordResult::kBadContentType);
  Buffer too_short(kRecordOverhead - 1);
  RecordJob job = JobFor(&a_, too_short);
  EXPECT_EQ(protector_.Seal(&job, 1), 0);
  EXPECT_EQ(job.result, RecordResult::kMalformed);
  Buffer too_long(kRecordOverhead + kMaxRecordPlaintext + 1);
  job = JobFor(&a_, too_long);
  protector_.Seal(&job, 1);
  EXPECT_EQ(job.result, RecordResult::kMalformed);
  EXPECT_EQ(a_.next_send_sequence(), 1u);  // refused records use no sequence number
}

TEST_F(RecordProtectorTest, BurstsAcrossLegsLongerThanOneSlice) {
  Connect(a_, b_, AeadCipher::kAes128Gcm, 1);
  Connect(c_, d_, AeadCipher::kAes256Gcm, 2, /*epoch=*/2);
  constexpr int kRecords = 150;  // three backend slices
  std::vector<Buffer> plaintexts, buffers;
  std::vector<RecordJob> jobs;
  std::mt19937 rng(3);
  for (int i = 0; i < kRecords; ++i) {
    plaintexts.push_back(Buffer(rng() % 1401, static_cast<uint8_t>(i)));
    buffers.push_back(Framed(plaintexts.back()));
  }
  for (int i = 0; i < kRecords; ++i) jobs.push_back(JobFor(i % 2 ? &a_ : &c_, buffers[i]));
  ASSERT_EQ(protector_.Seal(jobs.data(), kRecords), kRecords);
  for (int i = 0; i < kRecords; ++i) jobs[i] = JobFor(i % 2 ? &b_ : &d_, buffers[i]);
  // One record of c_ given to the wrong leg (b_ knows only epoch 1): only it fails.
  jobs[76].leg = &b_;
  EXPECT_EQ(protector_.Open(jobs.data(), kRecords, 0), kRecords - 1);
  for (int i = 0; i < kRecords; ++i) {
    if (i == 76) {
      EXPECT_EQ(jobs[i].result, RecordResult::kUnknownEpoch);
      continue;
    }
    ASSERT_EQ(jobs[i].result, RecordResult::kOk) << i;
    EXPECT_EQ(Buffer(jobs[i].plaintext(), jobs[i].plaintext() + jobs[i].plaintext_length()),
              plaintexts[i]);
  }
}

TEST_F(RecordProtectorTest, RelayOpensForOneLegAndSealsForTheOtherInPlace) {
  // Peer P1 --(a_/b_)--> relay --(c_/d_)--> peer P2: b_ receives from P1, c_ sends to P2.
  Connect(a_, b_, AeadCipher::kAes128Gcm, 1);
  Connect(c_, d_, AeadCipher::kAes256Gcm, 2);
  Buffer wire = Seal(a_, Text("page data"), dataplane::kDtlsAlert);
  const uint8_t* payload_before = wire.data() + kRecordPrefixLength;
  RecordJob job = JobFor(&b_, wire);
  ASSERT_EQ(protector_.Open(&job, 1, 0), 1);
  RecordJob out = JobFor(&c_, wire, job.content_type);
  ASSERT_EQ(protector_.Seal(&out, 1), 1);
  EXPECT_EQ(out.plaintext(), payload_before);
  Buffer plaintext;
  uint8_t type = 0;
  ASSERT_EQ(Open(d_, wire, 0, &plaintext, &type), RecordResult::kOk);
  EXPECT_EQ(plaintext, Text("page data"));
  EXPECT_EQ(type, dataplane::kDtlsAlert);
}

// Random bytes, random lengths and random headers never open (nor crash); neither does any
// random mutation of a genuine record.
TEST_F(RecordProtectorTest, RandomInputNeverOpens) {
  Connect(a_, b_, AeadCipher::kAes128Gcm, 1);
  std::mt19937_64 rng(12345);
  std::set<RecordResult> seen;
  for (int i = 0; i < 20000; ++i) {
    Buffer r(rng() % 120);
    for (uint8_t& byte : r) byte = static_cast<uint8_t>(rng());
    if (r.size() >= 13 && i % 2 == 0) {
      // A plausible header: right type, version, epoch and length, so the tag is reached.
      const size_t length = r.size() - 13;
      const uint8_t head[] = {23, 0xFE, 0xFD, 0, 1};
      std::copy(head, head + 5, r.begin());
      r[11] = static_cast<uint8_t>(length >> 8);
      r[12] = static_cast<uint8_t>(length);
    }
    const RecordResult result = Open(b_, r);
    ASSERT_NE(result, RecordResult::kOk) << ToHex(r);
    seen.insert(result);
  }
  const Buffer genuine = Seal(a_, Text("genuine record"));
  for (int i = 0; i < 5000; ++i) {
    Buffer r = genuine;
    const int changes = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < changes; ++k) r[rng() % r.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    ASSERT_NE(Open(b_, r), RecordResult::kOk) << ToHex(r);
  }
  EXPECT_TRUE(seen.count(RecordResult::kAuthFailed));
  EXPECT_TRUE(seen.count(RecordResult::kMalformed));
  EXPECT_EQ(Open(b_, genuine), RecordResult::kOk);
}

TEST(RecordResultTest, NamesAreDistinct) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kRecordResultCount; ++i) {
    const std::string_view name = RecordResultName(static_cast<RecordResult>(i));
    EXPECT_NE(name, "unknown");
    names.insert(name);
  }
  EXPECT_EQ(names.size(), kRecordResultCount);
  EXPECT_EQ(RecordResultName(RecordResult::kAuthFailed), "auth-failed");
  EXPECT_EQ(RecordResultName(static_cast<RecordResult>(kRecordResultCount)), "unknown");
}

}  // namespace
}  // namespace t38relay::crypto
