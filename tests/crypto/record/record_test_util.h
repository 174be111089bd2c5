// Test helpers for the record layer: key sets for a pair of peers and an independent reference
// sealer (one-shot OpenSSL EVP, framing written out by hand from RFC 6347 and RFC 5288).
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <vector>

#include "crypto/record/record_keys.h"
#include "gtest/gtest.h"

namespace t38relay::crypto::testing {

// Deterministic keys for one side; the peer's keys are the same with send and receive swapped.
inline DtlsRecordKeys MakeKeys(AeadCipher cipher, uint8_t seed, uint16_t epoch = 1,
                               uint64_t next_send_sequence = 1) {
  DtlsRecordKeys keys;
  keys.send.cipher = keys.receive.cipher = cipher;
  for (size_t i = 0; i < keys.send.key.size(); ++i) {
    keys.send.key[i] = static_cast<uint8_t>(seed + i);
    keys.receive.key[i] = static_cast<uint8_t>(seed * 3 + 7 * i + 1);
  }
  keys.send.salt = {seed, 0x11, 0x22, 0x33};
  keys.receive.salt = {static_cast<uint8_t>(seed + 1), 0x44, 0x55, 0x66};
  keys.epoch = epoch;
  keys.next_send_sequence = next_send_sequence;
  return keys;
}

inline DtlsRecordKeys PeerOf(const DtlsRecordKeys& keys) {
  DtlsRecordKeys peer = keys;
  std::swap(peer.send, peer.receive);
  return peer;
}

// A DTLS 1.2 AES-GCM record as a peer would send it, built without the record layer.
inline std::vector<uint8_t> ReferenceRecord(const AeadKeyMaterial& key, uint16_t epoch,
                                            uint64_t sequence, uint8_t type,
                                            const std::vector<uint8_t>& plaintext) {
  uint8_t seq[8] = {static_cast<uint8_t>(epoch >> 8), static_cast<uint8_t>(epoch)};
  for (int i = 0; i < 6; ++i) seq[2 + i] = static_cast<uint8_t>(sequence >> (8 * (5 - i)));
  const size_t n = plaintext.size();
  const uint8_t aad[13] = {seq[0], seq[1], seq[2], seq[3], seq[4], seq[5], seq[6], seq[7],
                           type, 0xFE, 0xFD, static_cast<uint8_t>(n >> 8),
                           static_cast<uint8_t>(n)};
  uint8_t iv[12];
  std::copy(key.salt.begin(), key.salt.end(), iv);
  std::copy(seq, seq + 8, iv + 4);

  std::vector<uint8_t> out = {type, 0xFE, 0xFD};
  out.insert(out.end(), seq, seq + 8);
  out.push_back(static_cast<uint8_t>((n + 24) >> 8));
  out.push_back(static_cast<uint8_t>(n + 24));
  out.insert(out.end(), seq, seq + 8);
  out.resize(out.size() + n + 16);
  uint8_t* ct = out.data() + 21;

  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  const EVP_CIPHER* cipher =
      key.cipher == AeadCipher::kAes128Gcm ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
  EXPECT_EQ(EVP_EncryptInit_ex(ctx, cipher, nullptr, key.key.data(), iv), 1);
  EXPECT_EQ(EVP_EncryptUpdate(ctx, nullptr, &len, aad, sizeof(aad)), 1);
  if (n != 0) {
    EXPECT_EQ(EVP_EncryptUpdate(ctx, ct, &len, plaintext.data(), int(n)), 1);
  }
  EXPECT_EQ(EVP_EncryptFinal_ex(ctx, ct + n, &len), 1);
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, ct + n), 1);
  EVP_CIPHER_CTX_free(ctx);
  return out;
}

}  // namespace t38relay::crypto::testing
