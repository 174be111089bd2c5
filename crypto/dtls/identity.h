// DTLS identities: self-signed certificates and their keys (generated or loaded from PEM), a pool
// that generates them ahead of the call path, and their a=fingerprint values.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "crypto/dtls/fingerprint.h"

namespace t38relay::crypto {

// RSA-2048 is the default: the suites RFC 7345 mandates authenticate with RSA.
enum class KeyType : uint8_t { kRsa2048, kEcdsaP256 };

std::string_view KeyTypeName(KeyType type);

// A certificate and its private key, both DER. Immutable and shared by the engines that use it.
class Identity {
 public:
  // A fresh self-signed certificate with a random, non-identifying subject and no
  // subjectAltName (RFC 7345 section 5.1). RSA key generation takes 20..330 ms: call it off the
  // call path (IdentityPool does).
  static absl::StatusOr<std::shared_ptr<const Identity>> Generate(KeyType type);

  // Loads a certificate and its RSA or ECDSA private key (PKCS#1, SEC1 or unencrypted PKCS#8)
  // from PEM files; errors name the file and the problem.
  static absl::StatusOr<std::shared_ptr<const Identity>> LoadPem(const std::string& certificate_path,
                                                                 const std::string& key_path);

  KeyType key_type() const { return key_type_; }
  std::span<const uint8_t> certificate_der() const { return certificate_der_; }
  std::span<const uint8_t> private_key_der() const { return private_key_der_; }

  // "sha-256 AB:CD:..." for the local a=fingerprint line.
  std::string SdpFingerprint(FingerprintHash hash = FingerprintHash::kSha256) const;
  // The certificate as PEM, e.g. for a peer that must trust it.
  std::string CertificatePem() const;

  Identity(KeyType type, std::vector<uint8_t> certificate_der, std::vector<uint8_t> key_der)
      : key_type_(type),
        certificate_der_(std::move(certificate_der)),
        private_key_der_(std::move(key_der)) {}
  ~Identity();  // wipes the private key
  Identity(const Identity&) = delete;
  Identity& operator=(const Identity&) = delete;

 private:
  KeyType key_type_;
  std::vector<uint8_t> certificate_der_;
  std::vector<uint8_t> private_key_der_;
};

// Fresh identities generated ahead of time by a background thread, one per call (anonymous
// identities). Control-plane code: Take() never generates, it hands out what is ready.
class IdentityPool {
 public:
  struct Options {
    KeyType key_type = KeyType::kRsa2048;
    size_t target = 16;  // identities kept ready
  };
  explicit IdentityPool(Options options);
  ~IdentityPool();
  IdentityPool(const IdentityPool&) = delete;
  IdentityPool& operator=(const IdentityPool&) = delete;

  // One ready identity, never used before; kUnavailable when the pool is empty (calls arrive
  // faster than the background thread generates: raise `target`), or the generation error.
  absl::StatusOr<std::shared_ptr<const Identity>> Take();

  size_t available() const;
  // Waits until at least n identities are ready; false on timeout.
  bool WaitForAvailable(size_t n, std::chrono::milliseconds timeout) const;

 private:
  void Refill();

  const Options options_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::deque<std::shared_ptr<const Identity>> ready_;
  absl::Status last_error_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace t38relay::crypto
