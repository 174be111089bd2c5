// SDP a=fingerprint values: wolfCrypt hashes of DER certificates, formatting and parsing.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>

#include "crypto/dtls/fingerprint.h"

#include "absl/status/status.h"

namespace t38relay::crypto {

std::string_view FingerprintHashName(FingerprintHash hash) {
  switch (hash) {
    case FingerprintHash::kSha1: return "sha-1";
    case FingerprintHash::kSha224: return "sha-224";
    case FingerprintHash::kSha256: return "sha-256";
    case FingerprintHash::kSha384: return "sha-384";
    case FingerprintHash::kSha512: return "sha-512";
  }
  return "unknown";
}

size_t FingerprintHashLength(FingerprintHash hash) {
  switch (hash) {
    case FingerprintHash::kSha1: return 20;
    case FingerprintHash::kSha224: return 28;
    case FingerprintHash::kSha256: return 32;
    case FingerprintHash::kSha384: return 48;
    case FingerprintHash::kSha512: return 64;
  }
  return 0;
}

Fingerprint ComputeFingerprint(FingerprintHash hash, std::span<const uint8_t> der) {
  Fingerprint fp{hash, std::vector<uint8_t>(FingerprintHashLength(hash))};
  const auto size = static_cast<word32>(der.size());
  switch (hash) {
    case FingerprintHash::kSha1: wc_ShaHash(der.data(), size, fp.digest.data()); break;
    case FingerprintHash::kSha224: wc_Sha224Hash(der.data(), size, fp.digest.data()); break;
    case FingerprintHash::kSha256: wc_Sha256Hash(der.data(), size, fp.digest.data()); break;
    case FingerprintHash::kSha384: wc_Sha384Hash(der.data(), size, fp.digest.data()); break;
    case FingerprintHash::kSha512: wc_Sha512Hash(der.data(), size, fp.digest.data()); break;
  }
  return fp;
}

std::string FormatFingerprint(const Fingerprint& fingerprint) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out(FingerprintHashName(fingerprint.hash));
  out += ' ';
  for (size_t i = 0; i < fingerprint.digest.size(); ++i) {
    if (i != 0) out += ':';
    out += kHex[fingerprint.digest[i] >> 4];
    out += kHex[fingerprint.digest[i] & 0xF];
  }
  return out;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

absl::StatusOr<Fingerprint> ParseFingerprint(std::string_view value) {
  value = Trim(value);
  const size_t space = value.find(' ');
  if (space == std::string_view::npos) {
    return absl::InvalidArgumentError("a=fingerprint value '" + std::string(value) +
                                      "' has no space between hash and digest");
  }
  const std::string name = Lower(value.substr(0, space));
  const std::string_view hex = Trim(value.substr(space + 1));
  Fingerprint fp;
  bool known = false;
  for (FingerprintHash hash : kAllFingerprintHashes) {
    if (name == FingerprintHashName(hash)) {
      fp.hash = hash;
      known = true;
    }
  }
  if (!known) {
    return absl::InvalidArgumentError("a=fingerprint hash '" + name +
                                      "' is not one of sha-1, sha-224, sha-256, sha-384, sha-512");
  }
  const size_t want = FingerprintHashLength(fp.hash);
  // Exactly want pairs of hex digits separated by single colons.
  if (hex.size() != want * 3 - 1) {
    return absl::InvalidArgumentError("a=fingerprint " + name + " digest must be " +
                                      std::to_string(want) + " colon-separated hex bytes");
  }
  for (size_t i = 0; i < want; ++i) {
    const int hi = HexValue(hex[3 * i]);
    const int lo = HexValue(hex[3 * i + 1]);
    if (hi < 0 || lo < 0 || (i + 1 < want && hex[3 * i + 2] != ':')) {
      return absl::InvalidArgumentError("a=fingerprint digest has a bad character near byte " +
                                        std::to_string(i + 1));
    }
    fp.digest.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return fp;
}

bool MatchesAnyFingerprint(std::span<const Fingerprint> offered,
                           std::span<const uint8_t> certificate_der) {
  // A missing certificate is not the empty string's certificate.
  if (certificate_der.empty()) return false;
  bool match = false;
  for (const Fingerprint& fp : offered) {
    const Fingerprint ours = ComputeFingerprint(fp.hash, certificate_der);
    // Public values: a plain comparison leaks nothing worth hiding.
    if (fp.digest == ours.digest) match = true;
  }
  return match;
}

}  // namespace t38relay::crypto
