// Fuzzes the DTLS record split (first byte picks the CID length) and handshake header parsing: the
// records must tile the datagram, and each header written back must equal the bytes it came from.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "dataplane/wire/dtls_record.h"

namespace {

using namespace t38relay::dataplane;

void Require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t cid_length = data[0] % 5;
  const Bytes datagram(data + 1, size - 1);
  DtlsDatagram d;
  if (SplitDtlsRecords(datagram, &d, cid_length) != WireError::kOk) return 0;
  size_t at = 0;
  for (size_t i = 0; i < d.count; ++i) {
    const DtlsRecord& r = d.records[i];
    Require(r.fragment.size() == r.length && r.length <= kDtlsMaxRecordLength);
    uint8_t header[kDtlsRecordHeaderLength + 4];
    Require(WriteDtlsRecordHeader(r, header) == WireError::kOk);
    Require(std::memcmp(header, datagram.data() + at, r.header_length()) == 0);
    Require(r.fragment.data() == datagram.data() + at + r.header_length());
    at += r.header_length() + r.length;
    if (r.content_type != kDtlsHandshake || r.epoch != 0) continue;
    Bytes rest = r.fragment;
    while (!rest.empty()) {
      DtlsHandshakeHeader h;
      const size_t before = rest.size();
      if (ParseDtlsHandshake(rest, &h, &rest) != WireError::kOk) break;
      Require(h.fragment_offset + h.fragment_length <= h.length);
      Require(h.body.size() == h.fragment_length && rest.size() == before - 12 - h.body.size());
      DtlsHandshakeTypeName(h.msg_type);
    }
  }
  Require(at == datagram.size());
  return 0;
}
