// DTLS 1.2 AES-GCM records sealed and opened in place, in bursts across many legs (RFC 6347
// section 4.1, RFC 5288): framing, nonces, AAD, epochs and replay windows around an AeadBackend.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "crypto/record/aead_backend.h"
#include "crypto/record/record_keys.h"
#include "crypto/record/record_leg.h"
#include "crypto/record/record_result.h"
#include "dataplane/wire/dtls_record.h"

namespace t38relay::crypto {

// In front of the plaintext: the record header and the explicit nonce; behind it: the tag. The
// same on every leg, so a record opened for one leg is sealed for another without moving bytes.
inline constexpr size_t kRecordPrefixLength =
    dataplane::kDtlsRecordHeaderLength + dataplane::kDtlsGcmExplicitNonceLength;
inline constexpr size_t kRecordSuffixLength = dataplane::kDtlsGcmTagLength;
inline constexpr size_t kRecordOverhead = kRecordPrefixLength + kRecordSuffixLength;
// TLSPlaintext.length limit (RFC 5246 section 6.2.1).
inline constexpr size_t kMaxRecordPlaintext = size_t{1} << 14;
// Records per backend pass: Seal and Open cut longer bursts into slices of this size, so a backend
// is never handed more (AeadBackend::Process callers keep to it).
inline constexpr uint16_t kMaxRecordBurst = 64;

// One record of a burst: kRecordPrefixLength bytes of framing, the plaintext, the tag.
struct RecordJob {
  RecordLeg* leg = nullptr;
  // The mbuf holding the record (single segment), or null for plain memory (software backend).
  rte_mbuf* mbuf = nullptr;
  uint8_t* record = nullptr;
  uint32_t record_length = 0;  // kRecordOverhead + plaintext length
  // Seal: the type to send (application_data or alert). Open: the type received.
  uint8_t content_type = dataplane::kDtlsApplicationData;
  RecordResult result = RecordResult::kOk;

  // Where the plaintext is and how long: meaningful after a kOk result (Seal and Open check the
  // length first). A job shorter than kRecordOverhead has length 0 rather than a wrapped one.
  uint8_t* plaintext() const { return record + kRecordPrefixLength; }
  uint32_t plaintext_length() const {
    return record_length >= kRecordOverhead ? record_length - static_cast<uint32_t>(kRecordOverhead)
                                            : 0;
  }
};

struct RecordOptions {
  // How long the previous epoch's records still open after Install, in the caller's time unit
  // (RFC 7345 section 5.3). 0 drops the previous keys at once.
  uint64_t previous_epoch_grace = 0;
};

// Seals and opens records for the legs of one worker lcore through one backend. Install, Expire
// and Release run on that lcore (or while it does not touch the leg); Seal and Open are the fast
// path: no allocation, no locks, no clock (the caller passes `now`).
class RecordProtector {
 public:
  RecordProtector(AeadBackend& backend, RecordOptions options)
      : backend_(backend), options_(options) {}
  RecordProtector(const RecordProtector&) = delete;
  RecordProtector& operator=(const RecordProtector&) = delete;

  // Installs the keys of a finished handshake or rekey. The current receive epoch becomes the
  // previous one until now + previous_epoch_grace; the send side moves to the new epoch at once.
  // A new association that reuses the current epoch number replaces it outright (records of the
  // old association then fail authentication). On error the leg is unchanged.
  absl::Status Install(RecordLeg& leg, const DtlsRecordKeys& keys, uint64_t now);
  // Frees the previous epoch's keys once its grace deadline has passed.
  void ExpirePrevious(RecordLeg& leg, uint64_t now);
  // Frees every key of the leg (session teardown when the leg goes away).
  void Release(RecordLeg& leg);

  // Seal: jobs carry the plaintext at plaintext() and room for the framing around it; writes
  // header, explicit nonce (epoch||seq) and tag. Open: jobs carry one whole record; on kOk the
  // plaintext is at plaintext() and content_type says what it is. Both set every job's result
  // and return how many are kOk.
  //
  // Open decrypts in place before the tag is known: after kAuthFailed, a kBackend* result or
  // kReplayed for a second copy in the same burst, the payload is no longer the ciphertext.
  // Every other refusal (kUnknownEpoch, kMalformed, ...) leaves the record untouched, so it can
  // still be punted to the handshake lcore. A refused seal consumes no sequence number unless it
  // reached the backend.
  uint16_t Seal(RecordJob* jobs, uint16_t n);
  uint16_t Open(RecordJob* jobs, uint16_t n, uint64_t now);

 private:
  uint16_t SealSlice(RecordJob* jobs, uint16_t n);
  uint16_t OpenSlice(RecordJob* jobs, uint16_t n, uint64_t now);
  RecordResult PrepareOpen(RecordJob& job, uint64_t now, AeadOp& op, uint16_t slot);
  void DestroyKey(AeadKeyHandle& key);

  AeadBackend& backend_;
  RecordOptions options_;
  // Per-slice scratch, reset every slice.
  std::array<AeadOp, kMaxRecordBurst> ops_;
  std::array<uint16_t, kMaxRecordBurst> op_job_;
  std::array<RecordLeg::Receive*, kMaxRecordBurst> op_epoch_;
  std::array<uint64_t, kMaxRecordBurst> op_sequence_;
};

}  // namespace t38relay::crypto
