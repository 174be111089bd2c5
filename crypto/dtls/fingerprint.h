// SDP a=fingerprint values (RFC 8122 section 5): hashing a DER certificate, formatting and parsing.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace t38relay::crypto {

// The hash functions RFC 7345 peers may use (RFC 8122 section 5: md2/md5 are not accepted).
enum class FingerprintHash : uint8_t { kSha1, kSha224, kSha256, kSha384, kSha512 };

inline constexpr FingerprintHash kAllFingerprintHashes[] = {
    FingerprintHash::kSha1, FingerprintHash::kSha224, FingerprintHash::kSha256,
    FingerprintHash::kSha384, FingerprintHash::kSha512};

// "sha-1", "sha-224", ... as written in SDP.
std::string_view FingerprintHashName(FingerprintHash hash);
size_t FingerprintHashLength(FingerprintHash hash);

struct Fingerprint {
  FingerprintHash hash = FingerprintHash::kSha256;
  std::vector<uint8_t> digest;
  bool operator==(const Fingerprint&) const = default;
};

// The fingerprint of a DER certificate.
Fingerprint ComputeFingerprint(FingerprintHash hash, std::span<const uint8_t> certificate_der);

// "sha-256 AB:CD:..." (upper-case hex, colon separated): the value of an a=fingerprint line.
std::string FormatFingerprint(const Fingerprint& fingerprint);

// Parses an a=fingerprint value ("sha-256 ab:CD:..."): hash name and hex are case-insensitive,
// the digest must have exactly the hash's length. Unknown hashes (md5, md2) are errors.
absl::StatusOr<Fingerprint> ParseFingerprint(std::string_view value);

// Whether the certificate matches one of the fingerprints offered for it. An empty certificate
// (none received) matches nothing, not even the fingerprint of empty input.
bool MatchesAnyFingerprint(std::span<const Fingerprint> offered,
                           std::span<const uint8_t> certificate_der);

}  // namespace t38relay::crypto
