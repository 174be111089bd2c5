// The software AES-GCM backend: one EVP_CIPHER_CTX per key, the IV set per record.
#include "crypto/soft/soft_backend.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "dataplane/wire/dtls_record.h"

namespace t38relay::crypto {
namespace {

struct SoftKey {
  EVP_CIPHER_CTX* ctx;
  AeadDirection direction;
};

std::string OpensslError() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "no OpenSSL error queued";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

// EVP lengths are int: a record's payload (at most 2^14 + 2048) always fits.
bool RunOp(const SoftKey& key, AeadOp& op) {
  EVP_CIPHER_CTX* ctx = key.ctx;
  const bool seal = key.direction == AeadDirection::kSeal;
  int out_length = 0;
  if (EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, op.iv.data(), -1) != 1 ||
      EVP_CipherUpdate(ctx, nullptr, &out_length, op.aad.data(),
                       static_cast<int>(op.aad.size())) != 1) {
    return false;
  }
  if (op.payload_length != 0 &&
      EVP_CipherUpdate(ctx, op.payload, &out_length, op.payload,
                       static_cast<int>(op.payload_length)) != 1) {
    return false;
  }
  if (!seal && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, dataplane::kDtlsGcmTagLength,
                                   op.tag) != 1) {
    return false;
  }
  // GCM produces no bytes at Final; for open, Final is where the tag is checked.
  if (EVP_CipherFinal_ex(ctx, op.payload + op.payload_length, &out_length) != 1) return false;
  return !seal || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, dataplane::kDtlsGcmTagLength,
                                      op.tag) == 1;
}

}  // namespace

SoftBackend::~SoftBackend() = default;

absl::StatusOr<AeadKeyHandle> SoftBackend::CreateKey(const AeadKeyMaterial& material,
                                                     AeadDirection direction) {
  const EVP_CIPHER* cipher =
      material.cipher == AeadCipher::kAes128Gcm ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return absl::ResourceExhaustedError("EVP_CIPHER_CTX_new: out of memory");
  if (EVP_CipherInit_ex(ctx, cipher, nullptr, material.key.data(), nullptr,
                        direction == AeadDirection::kSeal ? 1 : 0) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, kGcmIvLength, nullptr) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return absl::InternalError(absl::StrCat("OpenSSL AES-GCM key setup: ", OpensslError()));
  }
  ++live_keys_;
  return AeadKeyHandle{new SoftKey{ctx, direction}};
}

void SoftBackend::DestroyKey(AeadKeyHandle key) {
  auto* soft = static_cast<SoftKey*>(key.impl);
  // The only copy of the key is the expanded one in the provider's GCM context; freeing the EVP
  // context frees that with OPENSSL_clear_free (OpenSSL 3 aes_gcm_freectx), so it is wiped here.
  // CreateKey keeps no copy of AeadKeyMaterial.
  EVP_CIPHER_CTX_free(soft->ctx);
  delete soft;
  --live_keys_;
}

void SoftBackend::Process(AeadOp* ops, uint16_t n) {
  for (uint16_t i = 0; i < n; ++i) {
    AeadOp& op = ops[i];
    const auto& key = *static_cast<const SoftKey*>(op.key.impl);
    if (RunOp(key, op)) {
      op.result = RecordResult::kOk;
    } else {
      // A failed Final on open is the tag check; EVP errors are not queued for it, but clear
      // anything another failure left so the queue does not grow per packet.
      ERR_clear_error();
      op.result = key.direction == AeadDirection::kOpen ? RecordResult::kAuthFailed
                                                       : RecordResult::kBackendError;
    }
  }
}

// The EVP_CIPHER_CTX, the default provider's GCM context (expanded key, GHASH table) and our
// SoftKey: 1197 bytes for AES-256 with OpenSSL 3.0, measured by soft_backend_test (mallinfo2).
size_t SoftBackend::KeyMemoryBytes() const { return 1280; }

}  // namespace t38relay::crypto
