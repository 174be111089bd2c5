// Records in mbufs whose data is exactly one UDP payload: jobs over them and the framing changes
// for relaying between a DTLS leg and a plain one.
//
// The three relay cases, all in place in the same mbuf:
//   DTLS -> DTLS:  Open(RecordJobFor(a, m)), then Seal(RecordJobFor(b, m, job.content_type)).
//   plain -> DTLS: AddRecordFraming(m), then Seal(RecordJobFor(b, m)).
//   DTLS -> plain: Open(RecordJobFor(a, m)), then StripRecordFraming(m).
#pragma once

#include <rte_mbuf.h>

#include "crypto/record/record_protector.h"

namespace t38relay::crypto {

// A job over the first segment's data (a record to open, or framed plaintext to seal).
inline RecordJob RecordJobFor(RecordLeg* leg, rte_mbuf* m,
                              uint8_t content_type = dataplane::kDtlsApplicationData) {
  RecordJob job;
  job.leg = leg;
  job.mbuf = m;
  job.record = rte_pktmbuf_mtod(m, uint8_t*);
  job.record_length = rte_pktmbuf_data_len(m);
  job.content_type = content_type;
  return job;
}

// Room for the header and explicit nonce in front of the plaintext and the tag behind it: needs
// kRecordPrefixLength bytes of headroom and kRecordSuffixLength of tailroom in a single-segment
// mbuf. False (mbuf unchanged) when they are not there: the caller drops with kNoRoom.
inline bool AddRecordFraming(rte_mbuf* m) {
  if (!rte_pktmbuf_is_contiguous(m) || rte_pktmbuf_headroom(m) < kRecordPrefixLength ||
      rte_pktmbuf_tailroom(m) < kRecordSuffixLength ||
      rte_pktmbuf_data_len(m) > kMaxRecordPlaintext) {
    return false;
  }
  rte_pktmbuf_prepend(m, kRecordPrefixLength);
  rte_pktmbuf_append(m, kRecordSuffixLength);
  return true;
}

// Leaves only the plaintext of an opened record in the mbuf.
inline void StripRecordFraming(rte_mbuf* m) {
  rte_pktmbuf_adj(m, kRecordPrefixLength);
  rte_pktmbuf_trim(m, kRecordSuffixLength);
}

}  // namespace t38relay::crypto
