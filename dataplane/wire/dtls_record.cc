// DTLS 1.2 record layer framing: record split, handshake headers, header writer, GCM AAD.
#include "dataplane/wire/dtls_record.h"

namespace t38relay::dataplane {
namespace {

bool IsKnownContentType(uint8_t type) {
  return type >= kDtlsChangeCipherSpec && type <= kDtlsTls12Cid;
}

bool IsKnownVersion(uint16_t version) {
  return version == kDtls12Version || version == kDtls10Version || version == kDtlsOpenSslBadVersion;
}

}  // namespace

bool HasDtlsRecordStart(Bytes datagram) {
  ByteReader r(datagram);
  uint8_t type = 0;
  uint16_t version = 0;
  return r.ReadU8(&type) && r.ReadU16(&version) && IsKnownContentType(type) &&
         IsKnownVersion(version);
}

// RFC 6347 section 4.1 (DTLSPlaintext) and RFC 9146 section 4 (DTLSCiphertext with a CID):
//   type(1) version(2) epoch(2) sequence_number(6) [cid(n) for tls12_cid] length(2) fragment
WireError SplitDtlsRecords(Bytes datagram, DtlsDatagram* out, size_t cid_length) {
  out->count = 0;
  ByteReader r(datagram);
  while (!r.empty()) {
    if (out->count == kDtlsMaxRecordsPerDatagram) return WireError::kDtlsTooManyRecords;
    DtlsRecord& record = out->records[out->count];
    record = DtlsRecord();
    if (!r.ReadU8(&record.content_type) || !r.ReadU16(&record.version) ||
        !r.ReadU16(&record.epoch) || !r.ReadU48(&record.sequence)) {
      return WireError::kDtlsTruncatedHeader;
    }
    if (!IsKnownContentType(record.content_type)) return WireError::kDtlsBadContentType;
    if (!IsKnownVersion(record.version)) return WireError::kDtlsBadVersion;
    if (record.content_type == kDtlsTls12Cid && !r.ReadBytes(cid_length, &record.cid)) {
      return WireError::kDtlsTruncatedHeader;
    }
    if (!r.ReadU16(&record.length)) return WireError::kDtlsTruncatedHeader;
    if (record.length > kDtlsMaxRecordLength) return WireError::kDtlsRecordTooLong;
    if (!r.ReadBytes(record.length, &record.fragment)) return WireError::kDtlsTruncatedRecord;
    ++out->count;
  }
  return WireError::kOk;
}

WireError WriteDtlsRecordHeader(const DtlsRecord& record, MutableBytes out) {
  ByteWriter w(out);
  w.WriteU8(record.content_type);
  w.WriteU16(record.version);
  w.WriteU16(record.epoch);
  w.WriteU48(record.sequence & kDtlsMaxSequence);
  if (record.content_type == kDtlsTls12Cid) w.WriteBytes(record.cid);
  w.WriteU16(record.length);
  return w.ok() ? WireError::kOk : WireError::kDtlsBufferTooSmall;
}

// additional_data = seq_num(8: epoch || sequence) + type + version + length (RFC 5246 6.2.3.3).
void WriteDtlsAad(uint16_t epoch, uint64_t sequence, uint8_t content_type, uint16_t version,
                  uint16_t plaintext_length, std::span<uint8_t, kDtlsAadLength> out) {
  ByteWriter w(out);
  w.WriteU16(epoch);
  w.WriteU48(sequence & kDtlsMaxSequence);
  w.WriteU8(content_type);
  w.WriteU16(version);
  w.WriteU16(plaintext_length);
}

// RFC 6347 section 4.2.2: msg_type(1) length(3) message_seq(2) fragment_offset(3)
// fragment_length(3) body.
WireError ParseDtlsHandshake(Bytes data, DtlsHandshakeHeader* out, Bytes* rest) {
  ByteReader r(data);
  if (!r.ReadU8(&out->msg_type) || !r.ReadU24(&out->length) || !r.ReadU16(&out->message_seq) ||
      !r.ReadU24(&out->fragment_offset) || !r.ReadU24(&out->fragment_length)) {
    return WireError::kDtlsHandshakeTruncated;
  }
  // 24-bit values: the sum cannot overflow.
  if (out->fragment_offset + out->fragment_length > out->length) {
    return WireError::kDtlsHandshakeBadFragment;
  }
  if (!r.ReadBytes(out->fragment_length, &out->body)) return WireError::kDtlsHandshakeTruncated;
  *rest = r.ReadRemaining();
  return WireError::kOk;
}

std::string_view DtlsContentTypeName(uint8_t content_type) {
  switch (content_type) {
    case kDtlsChangeCipherSpec: return "change_cipher_spec";
    case kDtlsAlert: return "alert";
    case kDtlsHandshake: return "handshake";
    case kDtlsApplicationData: return "application_data";
    case kDtlsHeartbeat: return "heartbeat";
    case kDtlsTls12Cid: return "tls12_cid";
    default: return "unknown";
  }
}

// RFC 5246 section 7.4, RFC 6347 section 4.3.2, RFC 5077, RFC 6066.
std::string_view DtlsHandshakeTypeName(uint8_t msg_type) {
  switch (msg_type) {
    case 0: return "hello_request";
    case kDtlsClientHello: return "client_hello";
    case kDtlsServerHello: return "server_hello";
    case kDtlsHelloVerifyRequest: return "hello_verify_request";
    case 4: return "new_session_ticket";
    case kDtlsCertificate: return "certificate";
    case 12: return "server_key_exchange";
    case 13: return "certificate_request";
    case 14: return "server_hello_done";
    case 15: return "certificate_verify";
    case 16: return "client_key_exchange";
    case kDtlsFinished: return "finished";
    case 21: return "certificate_url";
    case 22: return "certificate_status";
    default: return "unknown";
  }
}

}  // namespace t38relay::dataplane
