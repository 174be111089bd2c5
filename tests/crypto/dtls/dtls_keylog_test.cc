// export_key_log_secrets: the secrets a handshake exports are the ones its keys derive from (the
// TLS 1.2 PRF recomputed with OpenSSL gives the handed-off AES-GCM keys), and nothing leaves
// without the option.
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/dtls/dtls_engine.h"
#include "gtest/gtest.h"

namespace t38relay::crypto {
namespace {

struct Secrets {
  std::vector<uint8_t> client_random, server_random, master;
};

struct Side : DtlsEngine::Delegate {
  std::deque<std::vector<uint8_t>>* out = nullptr;
  std::optional<DtlsRecordKeys> keys;
  std::optional<DtlsFailure> failure;
  std::vector<Secrets> secrets;
  bool established_before_secrets = false;

  void SendDatagram(dataplane::Bytes d) override { out->emplace_back(d.begin(), d.end()); }
  void OnEstablished(const DtlsRecordKeys& k) override { keys = k; }
  void OnFailed(DtlsFailure reason) override { failure = reason; }
  void OnAlert(uint8_t, uint8_t) override {}
  void OnKeyLogSecrets(dataplane::Bytes cr, dataplane::Bytes sr, dataplane::Bytes ms) override {
    established_before_secrets = established_before_secrets || keys.has_value();
    secrets.push_back({{cr.begin(), cr.end()}, {sr.begin(), sr.end()}, {ms.begin(), ms.end()}});
  }
};

// A client and a server engine (behind the cookie responder) joined in memory, no loss.
struct Handshake {
  Handshake(const DtlsContext* context, bool export_secrets) {
    client_identity = *Identity::Generate(KeyType::kEcdsaP256);
    server_identity = *Identity::Generate(KeyType::kEcdsaP256);
    client.out = &to_server;
    server.out = &to_client;
    DtlsEngineConfig config;
    config.role = DtlsRole::kClient;
    config.identity = client_identity;
    config.peer_fingerprints = {
        ComputeFingerprint(FingerprintHash::kSha256, server_identity->certificate_der())};
    config.export_key_log_secrets = export_secrets;
    client_engine = *context->NewEngine(std::move(config), &client);
    client_engine->Start(0);
    for (int i = 0; i < 100 && (!to_server.empty() || !to_client.empty()); ++i) {
      while (!to_server.empty()) {
        std::vector<uint8_t> d = std::move(to_server.front());
        to_server.pop_front();
        ToServer(context, d, export_secrets);
      }
      while (!to_client.empty()) {
        std::vector<uint8_t> d = std::move(to_client.front());
        to_client.pop_front();
        client_engine->Feed(d, 0);
      }
    }
  }

  void ToServer(const DtlsContext* context, const std::vector<uint8_t>& d, bool export_secrets) {
    if (server_engine != nullptr) {
      server_engine->Feed(d, 0);
      return;
    }
    std::array<uint8_t, DtlsCookieResponder::kMaxResponseLength> response;
    const auto result = context->cookies().Check(d, peer, response);
    if (result.verdict == DtlsCookieResponder::Verdict::kVerifyRequest) {
      to_client.emplace_back(response.begin(), response.begin() + result.response_length);
      return;
    }
    ASSERT_EQ(result.verdict, DtlsCookieResponder::Verdict::kValidCookie);
    DtlsEngineConfig config;
    config.role = DtlsRole::kServer;
    config.identity = server_identity;
    config.peer_fingerprints = {
        ComputeFingerprint(FingerprintHash::kSha256, client_identity->certificate_der())};
    config.peer_address = peer;
    config.cookie_secret_index = result.secret_index;
    config.export_key_log_secrets = export_secrets;
    server_engine = *context->NewEngine(std::move(config), &server);
    server_engine->Feed(d, 0);
  }

  std::shared_ptr<const Identity> client_identity, server_identity;
  std::vector<uint8_t> peer{127, 0, 0, 1, 0x13, 0x88};
  std::deque<std::vector<uint8_t>> to_server, to_client;
  Side client, server;
  std::unique_ptr<DtlsEngine> client_engine, server_engine;
};

// The TLS 1.2 key block (RFC 5246 section 6.3) for the suites here: SHA-256 PRF, no MAC keys.
std::vector<uint8_t> KeyBlock(const Secrets& s, size_t length) {
  std::vector<uint8_t> seed = s.server_random;
  seed.insert(seed.end(), s.client_random.begin(), s.client_random.end());
  std::string label = "key expansion";
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "TLS1-PRF", nullptr);
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  std::string digest = "SHA256";
  std::vector<uint8_t> master = s.master;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest.data(), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, master.data(), master.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, label.data(), label.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed.data(), seed.size()),
      OSSL_PARAM_construct_end()};
  std::vector<uint8_t> out(length);
  const int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  EVP_KDF_free(kdf);
  EXPECT_EQ(ok, 1);
  return out;
}

class DtlsKeyLogTest : public ::testing::Test {
 protected:
  void SetUp() override { context_ = *DtlsContext::Create(); }
  std::unique_ptr<DtlsContext> context_;
};

TEST_F(DtlsKeyLogTest, ExportedSecretsDeriveTheHandedOffKeys) {
  Handshake h(context_.get(), /*export_secrets=*/true);
  ASSERT_TRUE(h.client.keys.has_value());
  ASSERT_TRUE(h.server.keys.has_value());
  ASSERT_EQ(h.client.secrets.size(), 1u);
  ASSERT_EQ(h.server.secrets.size(), 1u);
  EXPECT_FALSE(h.client.established_before_secrets);
  EXPECT_FALSE(h.server.established_before_secrets);
  const Secrets& c = h.client.secrets[0];
  const Secrets& s = h.server.secrets[0];
  ASSERT_EQ(c.client_random.size(), 32u);
  ASSERT_EQ(c.server_random.size(), 32u);
  ASSERT_EQ(c.master.size(), 48u);
  EXPECT_EQ(c.client_random, s.client_random);
  EXPECT_EQ(c.server_random, s.server_random);
  EXPECT_EQ(c.master, s.master);
  EXPECT_NE(c.client_random, c.server_random);

  // AES-128-GCM: client_write_key, server_write_key, client_write_IV, server_write_IV.
  const std::vector<uint8_t> block = KeyBlock(c, 16 + 16 + 4 + 4);
  const DtlsRecordKeys& ck = *h.client.keys;
  ASSERT_EQ(ck.send.cipher, AeadCipher::kAes128Gcm);
  EXPECT_TRUE(std::equal(block.begin(), block.begin() + 16, ck.send.key.begin()));
  EXPECT_TRUE(std::equal(block.begin() + 16, block.begin() + 32, ck.receive.key.begin()));
  EXPECT_TRUE(std::equal(block.begin() + 32, block.begin() + 36, ck.send.salt.begin()));
  EXPECT_TRUE(std::equal(block.begin() + 36, block.begin() + 40, ck.receive.salt.begin()));
  const DtlsRecordKeys& sk = *h.server.keys;
  EXPECT_TRUE(std::equal(block.begin(), block.begin() + 16, sk.receive.key.begin()));
  EXPECT_TRUE(std::equal(block.begin() + 16, block.begin() + 32, sk.send.key.begin()));
}

TEST_F(DtlsKeyLogTest, NothingLeavesWithoutTheOption) {
  Handshake h(context_.get(), /*export_secrets=*/false);
  ASSERT_TRUE(h.client.keys.has_value());
  ASSERT_TRUE(h.server.keys.has_value());
  EXPECT_TRUE(h.client.secrets.empty());
  EXPECT_TRUE(h.server.secrets.empty());
}

}  // namespace
}  // namespace t38relay::crypto
