// The software AES-GCM backend on OpenSSL 3 EVP: unit tests and builds without a crypto device.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "crypto/record/aead_backend.h"

namespace t38relay::crypto {

// Works on plain memory: AeadOp::mbuf is ignored, so mbuf jobs and raw buffers both work. A key is
// an EVP_CIPHER_CTX holding the expanded key; each op only sets the IV.
class SoftBackend final : public AeadBackend {
 public:
  SoftBackend() = default;
  ~SoftBackend() override;
  SoftBackend(const SoftBackend&) = delete;
  SoftBackend& operator=(const SoftBackend&) = delete;

  absl::StatusOr<AeadKeyHandle> CreateKey(const AeadKeyMaterial& material,
                                          AeadDirection direction) override;
  void DestroyKey(AeadKeyHandle key) override;
  void Process(AeadOp* ops, uint16_t n) override;
  size_t KeyMemoryBytes() const override;

  // Keys created and not yet destroyed (tests check that legs release theirs).
  size_t live_keys() const { return live_keys_; }

 private:
  size_t live_keys_ = 0;
};

}  // namespace t38relay::crypto
