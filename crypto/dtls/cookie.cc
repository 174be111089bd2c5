// Stateless HelloVerifyRequest responder with the cookie wolfSSL 5.5.4 computes itself.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/random.h>

#include "crypto/dtls/cookie.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "crypto/record/record_keys.h"
#include "dataplane/wire/dtls_record.h"

namespace t38relay::crypto {
namespace {

using dataplane::ByteReader;
using dataplane::ByteWriter;
using dataplane::Bytes;

static_assert(kCookieLength == WC_SHA256_DIGEST_SIZE, "the cookie is one HMAC-SHA256 output");
using Cookie = std::array<uint8_t, kCookieLength>;

absl::Status RngError(std::string_view what, int code) {
  return absl::InternalError(absl::StrCat("DTLS cookie secret: ", std::string(what), " failed: ",
                                          wc_GetErrorString(code), " (", code, ")"));
}

// Fills *secret only on success: on failure it is left as it was.
absl::Status RandomSecret(CookieSecret* secret) {
  WC_RNG rng;
  if (int rc = wc_InitRng(&rng); rc != 0) return RngError("wc_InitRng", rc);
  CookieSecret fresh;
  const int rc = wc_RNG_GenerateBlock(&rng, fresh.data(), static_cast<word32>(fresh.size()));
  wc_FreeRng(&rng);
  if (rc == 0) *secret = fresh;
  SecureWipe(fresh.data(), fresh.size());
  if (rc != 0) return RngError("wc_RNG_GenerateBlock", rc);
  return absl::OkStatus();
}

// The ClientHello fields the cookie covers (RFC 6347 section 4.2.1 body layout).
struct HelloFields {
  Bytes version, random, session_id, cookie, cipher_suites, compression;
};

bool ParseHello(Bytes body, HelloFields* out) {
  ByteReader r(body);
  uint8_t sid_len = 0, cookie_len = 0, comp_len = 0;
  uint16_t suites_len = 0;
  r.ReadBytes(2, &out->version);
  r.ReadBytes(32, &out->random);
  r.ReadU8(&sid_len);
  r.ReadBytes(sid_len, &out->session_id);
  r.ReadU8(&cookie_len);
  r.ReadBytes(cookie_len, &out->cookie);
  r.ReadU16(&suites_len);
  r.ReadBytes(suites_len, &out->cipher_suites);
  r.ReadU8(&comp_len);
  r.ReadBytes(comp_len, &out->compression);
  return r.ok() && sid_len <= 32;
}

// wolfSSL's DTLS 1.2 cookie: HMAC-SHA256(secret, peer || version || random || session_id ||
// cipher_suites || compression_methods), the vectors without their length bytes.
// The HMAC state holds the keyed inner/outer hashes, as good as the secret: wiped after use.
bool ComputeCookie(const CookieSecret& secret, Bytes peer, const HelloFields& f, Cookie* out) {
  Hmac hmac;
  if (wc_HmacInit(&hmac, nullptr, INVALID_DEVID) != 0) return false;
  bool ok = wc_HmacSetKey(&hmac, WC_SHA256, secret.data(), kCookieSecretLength) == 0;
  for (Bytes part : {peer, f.version, f.random, f.session_id, f.cipher_suites, f.compression}) {
    ok = ok && wc_HmacUpdate(&hmac, part.data(), static_cast<word32>(part.size())) == 0;
  }
  ok = ok && wc_HmacFinal(&hmac, out->data()) == 0;
  wc_HmacFree(&hmac);
  SecureWipe(&hmac, sizeof(hmac));
  return ok;
}

// `a` has kCookieLength bytes.
bool SameCookie(Bytes a, const Cookie& b) {
  uint8_t diff = 0;
  for (size_t i = 0; i < kCookieLength; ++i) diff |= a[i] ^ b[i];
  return diff == 0;
}

}  // namespace

absl::StatusOr<DtlsCookieResponder> DtlsCookieResponder::Create() {
  DtlsCookieResponder responder;
  if (absl::Status status = RandomSecret(&responder.current_); !status.ok()) return status;
  return responder;
}

DtlsCookieResponder::~DtlsCookieResponder() {
  SecureWipe(current_.data(), current_.size());
  SecureWipe(previous_.data(), previous_.size());
}

DtlsCookieResponder::DtlsCookieResponder(DtlsCookieResponder&& other) noexcept
    : current_(other.current_), previous_(other.previous_), has_previous_(other.has_previous_) {
  SecureWipe(other.current_.data(), other.current_.size());
  SecureWipe(other.previous_.data(), other.previous_.size());
}

absl::Status DtlsCookieResponder::Rotate() {
  CookieSecret next;
  absl::Status status = RandomSecret(&next);
  if (status.ok()) {
    previous_ = current_;
    has_previous_ = true;
    current_ = next;
  }
  SecureWipe(next.data(), next.size());
  return status;
}

DtlsCookieResponder::Result DtlsCookieResponder::Check(
    Bytes datagram, Bytes peer, std::span<uint8_t, kMaxResponseLength> response) const {
  Result result;
  dataplane::DtlsDatagram records;
  if (dataplane::SplitDtlsRecords(datagram, &records) != dataplane::WireError::kOk) return result;
  if (records.count == 0) return result;
  const dataplane::DtlsRecord& record = records.records[0];
  if (record.content_type != dataplane::kDtlsHandshake || record.epoch != 0) {
    return result;
  }
  dataplane::DtlsHandshakeHeader hs;
  Bytes rest;
  if (dataplane::ParseDtlsHandshake(record.fragment, &hs, &rest) != dataplane::WireError::kOk ||
      hs.msg_type != dataplane::kDtlsClientHello || hs.fragment_offset != 0 ||
      hs.fragment_length != hs.length) {
    return result;
  }
  HelloFields fields;
  if (!ParseHello(hs.body, &fields)) return result;
  std::memcpy(result.client_random.data(), fields.random.data(), result.client_random.size());

  Cookie expected;
  if (fields.cookie.size() == kCookieLength) {
    for (int index = 0; index < (has_previous_ ? 2 : 1); ++index) {
      if (ComputeCookie(secret(index), peer, fields, &expected) &&
          SameCookie(fields.cookie, expected)) {
        result.verdict = Verdict::kValidCookie;
        result.secret_index = index;
        return result;
      }
    }
  }
  if (!ComputeCookie(current_, peer, fields, &expected)) return result;

  // HelloVerifyRequest: the record takes the ClientHello's record sequence number and the
  // message its message_seq, so that the server keeps no state (RFC 6347 section 4.2.1); the
  // version is DTLS 1.0 as the RFC recommends for any DTLS version.
  constexpr uint32_t kBodyLength = 2 + 1 + kCookieLength;
  ByteWriter w(response);
  w.WriteU8(dataplane::kDtlsHandshake);
  w.WriteU16(dataplane::kDtls10Version);
  w.WriteU16(0);
  w.WriteU48(record.sequence);
  w.WriteU16(12 + kBodyLength);
  w.WriteU8(dataplane::kDtlsHelloVerifyRequest);
  w.WriteU24(kBodyLength);
  w.WriteU16(hs.message_seq);
  w.WriteU24(0);
  w.WriteU24(kBodyLength);
  w.WriteU16(dataplane::kDtls10Version);
  w.WriteU8(kCookieLength);
  w.WriteBytes(Bytes(expected.data(), kCookieLength));
  if (!w.ok()) return result;
  result.verdict = Verdict::kVerifyRequest;
  result.response_length = w.length();
  return result;
}

}  // namespace t38relay::crypto
