// The software backend on its own: a published GCM vector, tag failures, the memory of a key.
#include "crypto/soft/soft_backend.h"

#include <malloc.h>

#include <vector>

#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace t38relay::crypto {
namespace {

using ::t38relay::testing::FromHex;
using ::t38relay::testing::ToHex;

AeadKeyMaterial Key(const std::vector<uint8_t>& key) {
  AeadKeyMaterial m;
  m.cipher = key.size() == 16 ? AeadCipher::kAes128Gcm : AeadCipher::kAes256Gcm;
  std::copy(key.begin(), key.end(), m.key.begin());
  return m;
}

TEST(SoftBackendTest, SealThenOpenRoundTripsAndDetectsTampering) {
  SoftBackend backend;
  const AeadKeyMaterial material = Key(FromHex("feffe9928665731c6d6a8f9467308308"));
  absl::StatusOr<AeadKeyHandle> seal = backend.CreateKey(material, AeadDirection::kSeal);
  absl::StatusOr<AeadKeyHandle> open = backend.CreateKey(material, AeadDirection::kOpen);
  ASSERT_TRUE(seal.ok() && open.ok());

  // Test case 3 of the GCM specification (McGrew & Viega). The ciphertext does not depend on the
  // AAD, so it must match; the published tag is for empty AAD and an op always carries 13 bytes.
  std::vector<uint8_t> data = FromHex(
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6"
      "b525b16aedf5aa0de657ba637b391aafd255");
  std::vector<uint8_t> tag(16);
  AeadOp op;
  op.key = *seal;
  op.payload = data.data();
  op.payload_length = static_cast<uint32_t>(data.size());
  op.tag = tag.data();
  const std::vector<uint8_t> iv = FromHex("cafebabefacedbaddecaf888");
  std::copy(iv.begin(), iv.end(), op.iv.begin());
  backend.Process(&op, 1);
  ASSERT_EQ(op.result, RecordResult::kOk);
  EXPECT_EQ(ToHex(data),
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5"
            "aac84aa051ba30b396a0aac973d58e091473f5985");

  op.key = *open;
  backend.Process(&op, 1);
  ASSERT_EQ(op.result, RecordResult::kOk);
  EXPECT_EQ(ToHex(data).substr(0, 8), "d9313225");

  // Encrypt again, then break the tag, the AAD or the IV: each fails to open.
  for (int what = 0; what < 3; ++what) {
    op.key = *seal;
    backend.Process(&op, 1);
    op.key = *open;
    if (what == 0) tag[15] ^= 1;
    if (what == 1) op.aad[12] ^= 1;
    if (what == 2) op.iv[0] ^= 1;
    backend.Process(&op, 1);
    EXPECT_EQ(op.result, RecordResult::kAuthFailed) << what;
    if (what == 0) tag[15] ^= 1;
    if (what == 1) op.aad[12] ^= 1;
    if (what == 2) op.iv[0] ^= 1;
    // The failed open left garbage in place; restore the plaintext for the next round.
    op.key = *seal;
  }
  backend.DestroyKey(*seal);
  backend.DestroyKey(*open);
  EXPECT_EQ(backend.live_keys(), 0u);
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kMallinfoWorks = false;  // ASan's allocator does not feed mallinfo2
#elif defined(__has_feature)
constexpr bool kMallinfoWorks = !__has_feature(address_sanitizer);
#else
constexpr bool kMallinfoWorks = true;
#endif

TEST(SoftBackendTest, KeyMemoryBytesCoversWhatAKeyAllocates) {
  if (!kMallinfoWorks) GTEST_SKIP() << "mallinfo2 does not see allocations under ASan";
  SoftBackend backend;
  constexpr int kKeys = 1000;
  std::vector<AeadKeyHandle> keys;
  keys.reserve(kKeys);
  const AeadKeyMaterial material = Key(std::vector<uint8_t>(32, 7));
  // Warm up OpenSSL's one-time allocations (provider, cipher fetch) outside the measurement.
  backend.DestroyKey(*backend.CreateKey(material, AeadDirection::kSeal));
  const size_t before = mallinfo2().uordblks;
  for (int i = 0; i < kKeys; ++i) keys.push_back(*backend.CreateKey(material, AeadDirection::kSeal));
  const size_t per_key = (mallinfo2().uordblks - before) / kKeys;
  for (AeadKeyHandle k : keys) backend.DestroyKey(k);
  std::printf("soft backend: %zu bytes per key\n", per_key);
  EXPECT_GT(per_key, 0u);
  EXPECT_LE(per_key, backend.KeyMemoryBytes());
}

}  // namespace
}  // namespace t38relay::crypto
