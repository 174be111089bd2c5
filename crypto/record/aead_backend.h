// The interface between the record layer and an AES-GCM engine (crypto/soft, crypto/cryptodev):
// directional keys and bursts of in-place AEAD operations.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "crypto/record/record_keys.h"
#include "crypto/record/record_result.h"
#include "dataplane/wire/dtls_record.h"

struct rte_mbuf;

namespace t38relay::crypto {

enum class AeadDirection : uint8_t { kSeal, kOpen };

// A key prepared by a backend for one direction (a cryptodev session, an EVP context). Opaque to
// the record layer; only the backend that made it may use or destroy it.
struct AeadKeyHandle {
  void* impl = nullptr;
  explicit operator bool() const { return impl != nullptr; }
};

inline constexpr size_t kGcmIvLength = 12;

// One AES-GCM operation on bytes that stay where they are: payload is encrypted or decrypted in
// place and the tag written to or read from `tag`.
struct AeadOp {
  AeadKeyHandle key;
  // The mbuf holding payload and tag (single segment), or null when they are plain memory; the
  // cryptodev backend needs it, the software backend does not.
  rte_mbuf* mbuf = nullptr;
  uint8_t* payload = nullptr;
  uint32_t payload_length = 0;
  uint8_t* tag = nullptr;  // kDtlsGcmTagLength bytes
  std::array<uint8_t, kGcmIvLength> iv{};
  std::array<uint8_t, dataplane::kDtlsAadLength> aad{};
  // Set by the backend: kOk, kAuthFailed (open only), or a kBackend* reason.
  RecordResult result = RecordResult::kOk;
};

// An AES-GCM engine. One instance per worker lcore (Process is not thread-safe); keys may be
// created and destroyed on the control path and are then used by Process on that lcore.
class AeadBackend {
 public:
  virtual ~AeadBackend() = default;

  virtual absl::StatusOr<AeadKeyHandle> CreateKey(const AeadKeyMaterial& material,
                                                  AeadDirection direction) = 0;
  virtual void DestroyKey(AeadKeyHandle key) = 0;
  // Runs ops[0, n) and sets every op's result; never allocates, never blocks without bound.
  virtual void Process(AeadOp* ops, uint16_t n) = 0;
  // Memory one key holds (session or context), for the per-leg memory figure.
  virtual size_t KeyMemoryBytes() const = 0;
};

}  // namespace t38relay::crypto
