// a=fingerprint hashing, formatting and parsing.
#include "crypto/dtls/fingerprint.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace t38relay::crypto {
namespace {

using ::t38relay::testing::ToHex;

const std::vector<uint8_t> kAbc = {'a', 'b', 'c'};

TEST(FingerprintTest, HashesMatchPublishedDigests) {
  // FIPS 180 "abc" examples.
  EXPECT_EQ(ToHex(ComputeFingerprint(FingerprintHash::kSha1, kAbc).digest),
            "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(ToHex(ComputeFingerprint(FingerprintHash::kSha224, kAbc).digest),
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
  EXPECT_EQ(ToHex(ComputeFingerprint(FingerprintHash::kSha256, kAbc).digest),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(ComputeFingerprint(FingerprintHash::kSha384, kAbc).digest),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
            "8086072ba1e7cc2358baeca134c825a7");
  EXPECT_EQ(ToHex(ComputeFingerprint(FingerprintHash::kSha512, kAbc).digest),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(FingerprintTest, FormatsUpperCaseColonSeparated) {
  EXPECT_EQ(FormatFingerprint(ComputeFingerprint(FingerprintHash::kSha1, kAbc)),
            "sha-1 A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D");
}

TEST(FingerprintTest, ParseRoundTripsEveryHash) {
  for (FingerprintHash hash : kAllFingerprintHashes) {
    const Fingerprint fp = ComputeFingerprint(hash, kAbc);
    auto parsed = ParseFingerprint(FormatFingerprint(fp));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, fp);
  }
}

TEST(FingerprintTest, ParseIsCaseInsensitiveAndTrims) {
  auto parsed = ParseFingerprint(
      "  SHA-1 a9:99:3e:36:47:06:81:6a:ba:3e:25:71:78:50:c2:6c:9c:d0:d8:9d\r\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, ComputeFingerprint(FingerprintHash::kSha1, kAbc));
}

TEST(FingerprintTest, ParseRejectsWhatIsNotAFingerprint) {
  const std::string sha1 = "A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D";
  for (const std::string& bad : std::vector<std::string>{
           "sha-1",                                  // no digest
           "md5 " + sha1,                            // hash we do not accept
           "sha-256 " + sha1,                        // wrong length for the hash
           "sha-1 " + sha1.substr(0, sha1.size() - 3),  // one byte short
           "sha-1 " + sha1 + ":00",                  // one byte long
           "sha-1 G9" + sha1.substr(2),              // not hex
           "sha-1 A9-99" + sha1.substr(5),           // wrong separator
       }) {
    EXPECT_FALSE(ParseFingerprint(bad).ok()) << bad;
  }
}

TEST(FingerprintTest, MatchesAnyOffered) {
  const Fingerprint right = ComputeFingerprint(FingerprintHash::kSha384, kAbc);
  Fingerprint wrong = ComputeFingerprint(FingerprintHash::kSha256, kAbc);
  wrong.digest[31] ^= 1;
  EXPECT_TRUE(MatchesAnyFingerprint(std::vector<Fingerprint>{wrong, right}, kAbc));
  EXPECT_FALSE(MatchesAnyFingerprint(std::vector<Fingerprint>{wrong}, kAbc));
  EXPECT_FALSE(MatchesAnyFingerprint(std::vector<Fingerprint>{}, kAbc));
}

TEST(FingerprintTest, MissingCertificateMatchesNothing) {
  // An SDP fingerprint of empty input must not pass a peer that sent no certificate.
  std::vector<Fingerprint> of_empty;
  for (FingerprintHash hash : kAllFingerprintHashes) {
    of_empty.push_back(ComputeFingerprint(hash, std::span<const uint8_t>()));
  }
  EXPECT_FALSE(MatchesAnyFingerprint(of_empty, std::span<const uint8_t>()));
}

}  // namespace
}  // namespace t38relay::crypto
