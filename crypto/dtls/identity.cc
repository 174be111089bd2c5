// DTLS identities generated with wolfCrypt (keys, self-signed certificates) or loaded from PEM.
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include "crypto/dtls/identity.h"

#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "crypto/record/record_keys.h"

namespace t38relay::crypto {
namespace {

constexpr size_t kMaxDer = 4096;
constexpr int kDaysValid = 365;

absl::Status WolfError(std::string_view what, int code) {
  return absl::InternalError(absl::StrCat(std::string(what), " failed: ", wc_GetErrorString(code), " (", code,
                                          ")"));
}

// Wipes a buffer of private key material (DER or PEM) when it goes out of scope, on every path.
template <typename Buffer>
class WipeOnExit {
 public:
  explicit WipeOnExit(Buffer& buffer) : buffer_(buffer) {}
  ~WipeOnExit() { SecureWipe(buffer_.data(), buffer_.size()); }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  Buffer& buffer_;
};

// Shortens a key buffer to the n bytes an encoder wrote, wiping the rest first.
void ShrinkKeyBuffer(std::vector<uint8_t>& key, size_t n) {
  SecureWipe(key.data() + n, key.size() - n);
  key.resize(n);
}

// A random common name: the subject says nothing about who runs the relay or who calls. Fails
// with the RNG: a constant name would identify the relay.
absl::Status RandomSubject(WC_RNG* rng, Cert* cert) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint8_t random[16];
  if (int rc = wc_RNG_GenerateBlock(rng, random, sizeof(random)); rc != 0) {
    return WolfError("random certificate subject", rc);
  }
  for (size_t i = 0; i < sizeof(random); ++i) {
    cert->subject.commonName[2 * i] = kHex[random[i] >> 4];
    cert->subject.commonName[2 * i + 1] = kHex[random[i] & 0xF];
  }
  cert->subject.commonName[2 * sizeof(random)] = '\0';
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Identity>> GenerateRsa(WC_RNG* rng) {
  RsaKey key;
  if (int rc = wc_InitRsaKey(&key, nullptr); rc != 0) return WolfError("wc_InitRsaKey", rc);
  std::vector<uint8_t> cert_der(kMaxDer), key_der(kMaxDer);
  WipeOnExit wipe_key(key_der);  // what was not moved into the Identity (error paths)
  absl::Status status;
  Cert cert;
  int rc = wc_MakeRsaKey(&key, 2048, WC_RSA_EXPONENT, rng);
  if (rc != 0) status = WolfError("RSA-2048 key generation", rc);
  if (status.ok()) {
    wc_InitCert(&cert);
    status = RandomSubject(rng, &cert);
  }
  if (status.ok()) {
    cert.sigType = CTC_SHA256wRSA;
    cert.daysValid = kDaysValid;
    rc = wc_MakeSelfCert(&cert, cert_der.data(), kMaxDer, &key, rng);
    if (rc < 0) status = WolfError("self-signed RSA certificate", rc);
    else cert_der.resize(rc);
  }
  if (status.ok()) {
    rc = wc_RsaKeyToDer(&key, key_der.data(), kMaxDer);
    if (rc < 0) status = WolfError("RSA key encoding", rc);
    else ShrinkKeyBuffer(key_der, rc);
  }
  wc_FreeRsaKey(&key);
  if (!status.ok()) return status;
  return std::make_shared<const Identity>(KeyType::kRsa2048, std::move(cert_der),
                                          std::move(key_der));
}

absl::StatusOr<std::shared_ptr<const Identity>> GenerateEcdsa(WC_RNG* rng) {
  ecc_key key;
  if (int rc = wc_ecc_init(&key); rc != 0) return WolfError("wc_ecc_init", rc);
  std::vector<uint8_t> cert_der(kMaxDer), key_der(kMaxDer);
  WipeOnExit wipe_key(key_der);  // what was not moved into the Identity (error paths)
  absl::Status status;
  Cert cert;
  int rc = wc_ecc_make_key_ex(rng, 32, &key, ECC_SECP256R1);
  if (rc != 0) status = WolfError("P-256 key generation", rc);
  if (status.ok()) {
    wc_InitCert(&cert);
    status = RandomSubject(rng, &cert);
  }
  if (status.ok()) {
    cert.sigType = CTC_SHA256wECDSA;
    cert.daysValid = kDaysValid;
    cert.selfSigned = 1;  // issuer = subject, as wc_MakeSelfCert does for RSA
    rc = wc_MakeCert_ex(&cert, cert_der.data(), kMaxDer, ECC_TYPE, &key, rng);
    if (rc >= 0) {
      rc = wc_SignCert_ex(cert.bodySz, cert.sigType, cert_der.data(), kMaxDer, ECC_TYPE, &key,
                          rng);
    }
    if (rc < 0) status = WolfError("self-signed ECDSA certificate", rc);
    else cert_der.resize(rc);
  }
  if (status.ok()) {
    rc = wc_EccKeyToDer(&key, key_der.data(), kMaxDer);
    if (rc < 0) status = WolfError("ECDSA key encoding", rc);
    else ShrinkKeyBuffer(key_der, rc);
  }
  wc_ecc_free(&key);
  if (!status.ok()) return status;
  return std::make_shared<const Identity>(KeyType::kEcdsaP256, std::move(cert_der),
                                          std::move(key_der));
}

// Reads into one buffer of the file's size, unbuffered: a private key file leaves no copies in
// grown-and-freed strings or a stream buffer, only the result, which the caller wipes.
absl::StatusOr<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in;
  in.rdbuf()->pubsetbuf(nullptr, 0);
  in.open(path, std::ios::binary | std::ios::ate);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", std::string(what), " file ", path));
  const std::streamoff size = in.tellg();
  std::string contents(size > 0 ? static_cast<size_t>(size) : 0, '\0');
  in.seekg(0);
  if (size < 0 || !in.read(contents.data(), size)) {
    SecureWipe(contents.data(), contents.size());
    return absl::NotFoundError(
        absl::StrCat("cannot read ", std::string(what), " file ", path));
  }
  return contents;
}

}  // namespace

std::string_view KeyTypeName(KeyType type) {
  return type == KeyType::kRsa2048 ? "rsa-2048" : "ecdsa-p256";
}

absl::StatusOr<std::shared_ptr<const Identity>> Identity::Generate(KeyType type) {
  WC_RNG rng;
  if (int rc = wc_InitRng(&rng); rc != 0) return WolfError("wc_InitRng", rc);
  auto identity = type == KeyType::kRsa2048 ? GenerateRsa(&rng) : GenerateEcdsa(&rng);
  wc_FreeRng(&rng);
  return identity;
}

absl::StatusOr<std::shared_ptr<const Identity>> Identity::LoadPem(
    const std::string& certificate_path, const std::string& key_path) {
  auto cert_pem = ReadFile(certificate_path, "certificate");
  if (!cert_pem.ok()) return cert_pem.status();
  auto key_pem = ReadFile(key_path, "private key");
  if (!key_pem.ok()) return key_pem.status();
  WipeOnExit wipe_pem(*key_pem);

  std::vector<uint8_t> cert_der(cert_pem->size()), key_der(key_pem->size());
  WipeOnExit wipe_key(key_der);  // what was not moved into the Identity (error paths)
  int rc = wc_CertPemToDer(reinterpret_cast<const uint8_t*>(cert_pem->data()),
                           static_cast<int>(cert_pem->size()), cert_der.data(),
                           static_cast<int>(cert_der.size()), CERT_TYPE);
  if (rc <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(certificate_path, ": no PEM certificate (BEGIN CERTIFICATE) could be read"));
  }
  cert_der.resize(rc);
  rc = wc_KeyPemToDer(reinterpret_cast<const uint8_t*>(key_pem->data()),
                      static_cast<int>(key_pem->size()), key_der.data(),
                      static_cast<int>(key_der.size()), nullptr);
  if (rc <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        key_path, ": no unencrypted PEM private key (RSA, EC or PKCS#8) could be read"));
  }
  ShrinkKeyBuffer(key_der, rc);
  // PKCS#8 wraps the traditional key: unwrap it so one decoder tells RSA from EC.
  word32 offset = 0;
  if (int length = wc_GetPkcs8TraditionalOffset(key_der.data(), &offset,
                                                static_cast<word32>(key_der.size()));
      length > 0 && offset + length <= key_der.size()) {
    std::vector<uint8_t> traditional(key_der.begin() + offset, key_der.begin() + offset + length);
    SecureWipe(key_der.data(), key_der.size());
    key_der.swap(traditional);  // `traditional` now holds the wiped PKCS#8 buffer
  }

  KeyType type;
  RsaKey rsa;
  wc_InitRsaKey(&rsa, nullptr);
  word32 idx = 0;
  const bool is_rsa =
      wc_RsaPrivateKeyDecode(key_der.data(), &idx, &rsa, static_cast<word32>(key_der.size())) == 0;
  const int rsa_bits = is_rsa ? wc_RsaEncryptSize(&rsa) * 8 : 0;
  wc_FreeRsaKey(&rsa);
  if (is_rsa) {
    if (rsa_bits < 2048) {
      return absl::InvalidArgumentError(
          absl::StrCat(key_path, ": RSA key has ", rsa_bits, " bits; at least 2048 are required"));
    }
    type = KeyType::kRsa2048;
  } else {
    ecc_key ecc;
    wc_ecc_init(&ecc);
    idx = 0;
    const bool is_ecc = wc_EccPrivateKeyDecode(key_der.data(), &idx, &ecc,
                                               static_cast<word32>(key_der.size())) == 0;
    const bool p256 = is_ecc && wc_ecc_get_curve_id(ecc.idx) == ECC_SECP256R1;
    wc_ecc_free(&ecc);
    if (!p256) {
      return absl::InvalidArgumentError(
          absl::StrCat(key_path, ": the key is neither RSA nor ECDSA P-256"));
    }
    type = KeyType::kEcdsaP256;
  }

  // The key must belong to the certificate, or every handshake would fail later.
  WOLFSSL_CTX* ctx = wolfSSL_CTX_new(wolfDTLSv1_2_server_method());
  if (ctx == nullptr) return absl::ResourceExhaustedError("wolfSSL_CTX_new failed");
  const bool cert_ok = wolfSSL_CTX_use_certificate_buffer(
                           ctx, cert_der.data(), static_cast<long>(cert_der.size()),
                           WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS;
  const bool pair_ok =
      cert_ok &&
      wolfSSL_CTX_use_PrivateKey_buffer(ctx, key_der.data(), static_cast<long>(key_der.size()),
                                        WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS &&
      wolfSSL_CTX_check_private_key(ctx) == WOLFSSL_SUCCESS;
  wolfSSL_CTX_free(ctx);
  if (!cert_ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(certificate_path, ": the certificate cannot be parsed"));
  }
  if (!pair_ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        key_path, ": the private key does not belong to the certificate in ", certificate_path));
  }
  return std::make_shared<const Identity>(type, std::move(cert_der), std::move(key_der));
}

Identity::~Identity() { SecureWipe(private_key_der_.data(), private_key_der_.size()); }

std::string Identity::SdpFingerprint(FingerprintHash hash) const {
  return FormatFingerprint(ComputeFingerprint(hash, certificate_der_));
}

std::string Identity::CertificatePem() const {
  std::string pem(certificate_der_.size() * 2 + 128, '\0');
  const int rc = wc_DerToPem(certificate_der_.data(), static_cast<word32>(certificate_der_.size()),
                             reinterpret_cast<uint8_t*>(pem.data()),
                             static_cast<word32>(pem.size()), CERT_TYPE);
  pem.resize(rc > 0 ? rc : 0);
  return pem;
}

IdentityPool::IdentityPool(Options options)
    : options_(options), thread_([this] { Refill(); }) {}

IdentityPool::~IdentityPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

absl::StatusOr<std::shared_ptr<const Identity>> IdentityPool::Take() {
  std::lock_guard lock(mutex_);
  if (ready_.empty()) {
    if (!last_error_.ok()) return last_error_;
    return absl::UnavailableError(absl::StrCat(
        "no ", std::string(KeyTypeName(options_.key_type)),
        " identity ready: calls arrive faster than they are generated; raise the pool target (",
        options_.target, ")"));
  }
  auto identity = std::move(ready_.front());
  ready_.pop_front();
  changed_.notify_all();
  return identity;
}

size_t IdentityPool::available() const {
  std::lock_guard lock(mutex_);
  return ready_.size();
}

bool IdentityPool::WaitForAvailable(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return ready_.size() >= n; });
}

void IdentityPool::Refill() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return stopping_ || ready_.size() < options_.target; });
    if (stopping_) {
#ifdef FP_ECC
      wc_ecc_fp_free();  // this thread's fixed-point ECC tables die with it
#endif
      return;
    }
    lock.unlock();
    auto identity = Identity::Generate(options_.key_type);
    lock.lock();
    if (identity.ok()) {
      ready_.push_back(*std::move(identity));
      last_error_ = absl::OkStatus();
    } else {
      last_error_ = identity.status();
      // A failing RNG or key generation will not heal at once: do not spin on it.
      changed_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
    }
    changed_.notify_all();
  }
}

}  // namespace t38relay::crypto
