// DTLS 1.2 record layer framing (RFC 6347 sections 4.1 and 4.2.2): splitting a datagram into
// records, handshake message headers, the record header writer and the AES-GCM record layout.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/wire/byte_reader.h"
#include "dataplane/wire/wire_error.h"

namespace t38relay::dataplane {

// ContentType (RFC 6347 section 4.1; heartbeat RFC 6520; tls12_cid RFC 9146).
inline constexpr uint8_t kDtlsChangeCipherSpec = 20;
inline constexpr uint8_t kDtlsAlert = 21;
inline constexpr uint8_t kDtlsHandshake = 22;
inline constexpr uint8_t kDtlsApplicationData = 23;
inline constexpr uint8_t kDtlsHeartbeat = 24;
inline constexpr uint8_t kDtlsTls12Cid = 25;

inline constexpr uint16_t kDtls10Version = 0xFEFF;
inline constexpr uint16_t kDtls12Version = 0xFEFD;
// What OpenSSL before 0.9.8f sent (DTLS1_BAD_VER), seen in dtls_old_version.pcapng.
inline constexpr uint16_t kDtlsOpenSslBadVersion = 0x0100;

// type(1) version(2) epoch(2) sequence_number(6) length(2).
inline constexpr size_t kDtlsRecordHeaderLength = 13;
// TLSCiphertext.length may exceed 2^14 by up to 2048 (RFC 5246 section 6.2.3).
inline constexpr size_t kDtlsMaxRecordLength = (1u << 14) + 2048;
inline constexpr size_t kDtlsMaxRecordsPerDatagram = 16;
inline constexpr uint64_t kDtlsMaxSequence = (uint64_t{1} << 48) - 1;

// AES-GCM records (RFC 5288 section 3): explicit nonce || ciphertext || tag, and the AAD of
// RFC 5246 section 6.2.3.3 with DTLS's epoch||seq as seq_num (RFC 6347 section 4.1.2.1).
inline constexpr size_t kDtlsGcmExplicitNonceLength = 8;
inline constexpr size_t kDtlsGcmTagLength = 16;
inline constexpr size_t kDtlsGcmOverhead = kDtlsGcmExplicitNonceLength + kDtlsGcmTagLength;
inline constexpr size_t kDtlsAadLength = 13;

// HandshakeType (RFC 5246 section 7.4, RFC 6347 section 4.2.2).
inline constexpr uint8_t kDtlsClientHello = 1;
inline constexpr uint8_t kDtlsServerHello = 2;
inline constexpr uint8_t kDtlsHelloVerifyRequest = 3;
inline constexpr uint8_t kDtlsCertificate = 11;
inline constexpr uint8_t kDtlsFinished = 20;

// One record: header fields and a view of its fragment inside the datagram.
struct DtlsRecord {
  uint8_t content_type = 0;
  uint16_t version = kDtls12Version;
  uint16_t epoch = 0;
  uint64_t sequence = 0;  // 48 bits
  Bytes cid;              // tls12_cid records only (RFC 9146 section 4)
  uint16_t length = 0;
  Bytes fragment;
  // Header bytes on the wire: 13, plus the connection id.
  size_t header_length() const { return kDtlsRecordHeaderLength + cid.size(); }
};

struct DtlsDatagram {
  size_t count = 0;
  std::array<DtlsRecord, kDtlsMaxRecordsPerDatagram> records;
};

// Whether the datagram starts with a known content type and version: what tells a DTLS record
// from other protocols whose first byte also falls in RFC 7983's 20..63 (GTP-U, text).
bool HasDtlsRecordStart(Bytes datagram);

// Splits one UDP payload into its records; on kOk they tile it exactly. Errors: header cut short
// (kDtlsTruncatedHeader), fragment cut short (kDtlsTruncatedRecord), a content type not listed above
// (kDtlsBadContentType), a version other than DTLS 1.0, 1.2 or 0x0100 (kDtlsBadVersion), a length
// over kDtlsMaxRecordLength (kDtlsRecordTooLong), more than kDtlsMaxRecordsPerDatagram records
// (kDtlsTooManyRecords). `cid_length` is the connection id length negotiated for this peer, read
// from tls12_cid records only (0 when no CID was negotiated, as for our relay).
WireError SplitDtlsRecords(Bytes datagram, DtlsDatagram* out, size_t cid_length = 0);

// Writes a record header for record.length bytes of fragment that follow (record.fragment is not
// used). kDtlsBufferTooSmall when out is shorter than record.header_length().
WireError WriteDtlsRecordHeader(const DtlsRecord& record, MutableBytes out);

// The 13-byte GCM additional data for a record whose plaintext is plaintext_length bytes.
void WriteDtlsAad(uint16_t epoch, uint64_t sequence, uint8_t content_type, uint16_t version,
                  uint16_t plaintext_length, std::span<uint8_t, kDtlsAadLength> out);

// A handshake message header and its fragment (RFC 6347 section 4.2.2).
struct DtlsHandshakeHeader {
  uint8_t msg_type = 0;
  uint32_t length = 0;  // of the whole message, 24 bits
  uint16_t message_seq = 0;
  uint32_t fragment_offset = 0;
  uint32_t fragment_length = 0;
  Bytes body;  // fragment_length bytes
};

// Parses the handshake message at the start of `data`, the fragment of a handshake record of epoch
// 0. Records of a later epoch are encrypted and cannot be parsed here. A record may hold several
// messages: *rest is what follows this one. Errors: kDtlsHandshakeTruncated (header or body cut
// short), kDtlsHandshakeBadFragment (fragment_offset + fragment_length > length).
WireError ParseDtlsHandshake(Bytes data, DtlsHandshakeHeader* out, Bytes* rest);

// "change_cipher_spec", "client_hello", ...; "unknown" for other values.
std::string_view DtlsContentTypeName(uint8_t content_type);
std::string_view DtlsHandshakeTypeName(uint8_t msg_type);

}  // namespace t38relay::dataplane
