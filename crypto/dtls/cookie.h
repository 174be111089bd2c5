// Stateless DTLS 1.2 cookie exchange (RFC 6347 section 4.2.1): answers ClientHellos without
// per-source state, with cookies a fresh wolfSSL server object then accepts.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dataplane/wire/byte_reader.h"

namespace t38relay::crypto {

inline constexpr size_t kCookieSecretLength = 32;  // the HMAC key
inline constexpr size_t kCookieLength = 32;        // the cookie: an HMAC-SHA256 output
using CookieSecret = std::array<uint8_t, kCookieSecretLength>;

// Holds the shared cookie secret and the one before it (a cookie handed out just before a
// rotation still works once). Check() is const and allocates nothing: a ClientHello flood from
// any number of sources costs CPU only. Rotate() (e.g. every few minutes) runs on the thread
// that calls Check(). A cookie two rotations old draws a fresh HelloVerifyRequest, which
// OpenSSL clients follow but wolfSSL 5.5.4 clients reject (duplicate handshake message): rotate
// far less often than a handshake lasts. Fragmented ClientHellos are dropped. The secrets are
// wiped when the responder is destroyed.
class DtlsCookieResponder {
 public:
  // With a random secret; fails when the RNG does (a predictable secret would let anyone forge
  // cookies, and each forged cookie creates a ~76 KB engine).
  static absl::StatusOr<DtlsCookieResponder> Create();
  ~DtlsCookieResponder();
  DtlsCookieResponder(DtlsCookieResponder&& other) noexcept;  // wipes `other`'s secrets
  DtlsCookieResponder(const DtlsCookieResponder&) = delete;
  DtlsCookieResponder& operator=(const DtlsCookieResponder&) = delete;
  DtlsCookieResponder& operator=(DtlsCookieResponder&&) = delete;

  // The current secret becomes the previous one; a new random secret becomes current. When the
  // RNG fails nothing changes (the current secret stays in use) and the error is returned.
  absl::Status Rotate();

  enum class Verdict : uint8_t {
    kValidCookie,    // create a server engine (with secret(secret_index)) and feed it the datagram
    kVerifyRequest,  // send response[0, response_length) back to the source; keep nothing
    kDrop,           // not an unfragmented epoch-0 ClientHello
  };
  struct Result {
    Verdict verdict = Verdict::kDrop;
    size_t response_length = 0;
    int secret_index = 0;  // 0 current, 1 previous
    // The ClientHello's random (not kDrop): a repeated hello has the same, a new client another.
    std::array<uint8_t, 32> client_random{};
  };
  // Room for any HelloVerifyRequest this writes.
  static constexpr size_t kMaxResponseLength = 13 + 12 + 3 + kCookieLength;

  // `peer` identifies the source (e.g. address and port bytes); the engine must be given the same
  // bytes, since the cookie is bound to them.
  Result Check(dataplane::Bytes datagram, dataplane::Bytes peer,
               std::span<uint8_t, kMaxResponseLength> response) const;

  const CookieSecret& secret(int index) const { return index == 0 ? current_ : previous_; }

 private:
  DtlsCookieResponder() = default;

  CookieSecret current_;
  CookieSecret previous_;
  bool has_previous_ = false;
};

}  // namespace t38relay::crypto
