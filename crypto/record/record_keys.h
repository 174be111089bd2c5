// The AEAD keys a DTLS 1.2 association hands from the handshake (crypto/dtls) to the record
// layer (crypto/record): one type both sides share, so keys leave the engine through one struct.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string.h>  // explicit_bzero (glibc 2.25)

namespace t38relay::crypto {

// The AES-GCM suites of RFC 5288 that DTLS 1.2 carries here; RFC 7345 mandates AES-128-GCM.
enum class AeadCipher : uint8_t { kAes128Gcm, kAes256Gcm };

inline constexpr size_t AeadKeyLength(AeadCipher c) { return c == AeadCipher::kAes128Gcm ? 16 : 32; }

// One direction's write key and the 4-byte implicit salt (client/server_write_IV, RFC 5288 3).
struct AeadKeyMaterial {
  AeadCipher cipher = AeadCipher::kAes128Gcm;
  std::array<uint8_t, 32> key{};  // the first AeadKeyLength(cipher) bytes are used
  std::array<uint8_t, 4> salt{};
  size_t key_length() const { return AeadKeyLength(cipher); }
};

// What a finished handshake gives the fast path for one leg.
struct DtlsRecordKeys {
  AeadKeyMaterial send;     // our write key
  AeadKeyMaterial receive;  // the peer's write key
  uint16_t epoch = 1;       // the epoch both keys belong to
  // The first sequence number the fast path may send in `epoch`: wolfSSL has already sent its
  // Finished (and perhaps more) in it, and a peer drops reused numbers as replays.
  uint64_t next_send_sequence = 0;
  uint16_t version = 0xFEFD;  // DTLS 1.2
};

// Zeroes key material in a way the compiler may not drop as a dead store (memset before free or
// end of scope may be removed).
inline void SecureWipe(void* p, size_t n) {
  if (p != nullptr && n != 0) explicit_bzero(p, n);
}

// Wipes both directions' keys and resets the struct to its defaults.
inline void WipeKeys(DtlsRecordKeys& k) {
  SecureWipe(&k, sizeof(k));
  k = DtlsRecordKeys{};
}

}  // namespace t38relay::crypto
