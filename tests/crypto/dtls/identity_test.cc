// Identities: generated certificates (anonymous subject, no subjectAltName), PEM loading, pool.
#include "crypto/dtls/identity.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "tests/test_support.h"

namespace t38relay::crypto {
namespace {

using ::t38relay::testing::Shell;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/t38_identity_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf " + path_).c_str()); }
  std::string File(const std::string& name, const std::string& content = "") const {
    const std::string p = path_ + "/" + name;
    if (!content.empty()) std::ofstream(p) << content;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(IdentityTest, GeneratedCertificatesAreAnonymousAndSelfSigned) {
  TempDir dir;
  for (KeyType type : {KeyType::kRsa2048, KeyType::kEcdsaP256}) {
    auto identity = Identity::Generate(type);
    ASSERT_TRUE(identity.ok()) << identity.status();
    EXPECT_EQ((*identity)->key_type(), type);
    const std::string pem_path = dir.File("cert.pem", (*identity)->CertificatePem());
    // OpenSSL's view: a self-signed certificate that verifies against itself, whose subject is
    // a bare random common name, without subjectAltName.
    const std::string text = Shell("openssl x509 -in " + pem_path + " -noout -text 2>&1");
    EXPECT_NE(text.find(type == KeyType::kRsa2048 ? "Public-Key: (2048 bit)" : "prime256v1"),
              std::string::npos) << text;
    EXPECT_EQ(text.find("Subject Alternative Name"), std::string::npos) << text;
    const std::string subject = Shell("openssl x509 -in " + pem_path + " -noout -subject");
    EXPECT_TRUE(subject.starts_with("subject=CN = ")) << subject;
    EXPECT_EQ(subject.size(), std::string("subject=CN = ").size() + 32 + 1) << subject;
    EXPECT_EQ(Shell("openssl verify -CAfile " + pem_path + " " + pem_path + " 2>&1"),
              pem_path + ": OK\n");
    // Our sha-256 fingerprint is OpenSSL's.
    const std::string openssl_fp =
        Shell("openssl x509 -in " + pem_path + " -noout -fingerprint -sha256");
    EXPECT_EQ("sha256 Fingerprint=" + (*identity)->SdpFingerprint().substr(8) + "\n", openssl_fp);
  }
}

TEST(IdentityTest, EachGenerationIsFresh) {
  auto a = Identity::Generate(KeyType::kEcdsaP256);
  auto b = Identity::Generate(KeyType::kEcdsaP256);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->SdpFingerprint(), (*b)->SdpFingerprint());
}

TEST(IdentityTest, LoadsPemFromOpenssl) {
  TempDir dir;
  const std::string cert = dir.File("c.pem"), key = dir.File("k.pem");
  for (const std::string& keyopt :
       {std::string("-newkey rsa:2048"), std::string("-newkey ec -pkeyopt ec_paramgen_curve:P-256")}) {
    ASSERT_EQ(std::system(("openssl req -x509 " + keyopt + " -nodes -days 2 -subj /CN=x -keyout " +
                           key + " -out " + cert + " 2>/dev/null").c_str()), 0);
    auto identity = Identity::LoadPem(cert, key);
    ASSERT_TRUE(identity.ok()) << identity.status();
    EXPECT_EQ((*identity)->key_type(),
              keyopt.find("ec") != std::string::npos && keyopt.find("rsa") == std::string::npos
                  ? KeyType::kEcdsaP256 : KeyType::kRsa2048);
    const std::string openssl_fp = Shell("openssl x509 -in " + cert + " -noout -fingerprint -sha1");
    EXPECT_EQ("sha1 Fingerprint=" + (*identity)->SdpFingerprint(FingerprintHash::kSha1).substr(6) +
                  "\n", openssl_fp);
  }
}

TEST(IdentityTest, LoadPemErrorsNameFileAndProblem) {
  TempDir dir;
  const std::string cert = dir.File("c.pem"), key = dir.File("k.pem"), other = dir.File("o.pem");
  ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=x -keyout " +
                         key + " -out " + cert + " 2>/dev/null && openssl genrsa -out " + other +
                         " 2048 2>/dev/null").c_str()), 0);
  auto missing = Identity::LoadPem(dir.path() + "/none.pem", key);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("none.pem"), std::string::npos);

  auto swapped = Identity::LoadPem(key, cert);
  EXPECT_FALSE(swapped.ok());
  EXPECT_NE(swapped.status().message().find(key), std::string::npos) << swapped.status();

  auto mismatched = Identity::LoadPem(cert, other);
  EXPECT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.status().message().find("does not belong"), std::string::npos)
      << mismatched.status();

  const std::string small = dir.File("s.pem");
  ASSERT_EQ(std::system(("openssl genrsa -out " + small + " 1024 2>/dev/null").c_str()), 0);
  auto weak = Identity::LoadPem(cert, small);
  EXPECT_NE(weak.status().message().find("1024 bits"), std::string::npos) << weak.status();
}

TEST(IdentityPoolTest, FillsInBackgroundAndHandsOutFreshIdentities) {
  IdentityPool pool({.key_type = KeyType::kEcdsaP256, .target = 4});
  ASSERT_TRUE(pool.WaitForAvailable(4, std::chrono::seconds(20)));
  std::set<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    auto identity = pool.Take();
    ASSERT_TRUE(identity.ok()) << identity.status();
    seen.insert((*identity)->SdpFingerprint());
  }
  EXPECT_EQ(seen.size(), 4u);
  // Refilled off the caller's path.
  ASSERT_TRUE(pool.WaitForAvailable(4, std::chrono::seconds(20)));
}

TEST(IdentityPoolTest, EmptyPoolSaysSoInsteadOfBlocking) {
  IdentityPool pool({.key_type = KeyType::kRsa2048, .target = 1});
  ASSERT_TRUE(pool.WaitForAvailable(1, std::chrono::seconds(30)));
  ASSERT_TRUE(pool.Take().ok());
  // The next RSA key takes 20..330 ms: asking at once finds the pool empty.
  auto none = pool.Take();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(none.status().message().find("raise the pool target"), std::string::npos);
  ASSERT_TRUE(pool.WaitForAvailable(1, std::chrono::seconds(30)));
}

}  // namespace
}  // namespace t38relay::crypto
