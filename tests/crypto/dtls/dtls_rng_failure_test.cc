// A failing RNG: no cookie secret or certificate subject is made of what it did not fill.
// wolfCrypt's RNG entry points are wrapped at link time (-Wl,--wrap) for this executable only.
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/random.h>

#include <array>
#include <vector>

#include "crypto/dtls/cookie.h"
#include "crypto/dtls/dtls_engine.h"
#include "crypto/dtls/identity.h"
#include "gtest/gtest.h"
#include "tests/crypto/dtls/dtls_pair.h"

namespace {
bool fail_init_rng = false;
bool fail_generate_block = false;
}  // namespace

extern "C" {
int __real_wc_InitRng(WC_RNG* rng);
int __real_wc_RNG_GenerateBlock(WC_RNG* rng, byte* b, word32 sz);

int __wrap_wc_InitRng(WC_RNG* rng) {
  return fail_init_rng ? RNG_FAILURE_E : __real_wc_InitRng(rng);
}
int __wrap_wc_RNG_GenerateBlock(WC_RNG* rng, byte* b, word32 sz) {
  return fail_generate_block ? RNG_FAILURE_E : __real_wc_RNG_GenerateBlock(rng, b, sz);
}
}

namespace t38relay::crypto {
namespace {

class RngFailureTest : public ::testing::Test {
 protected:
  void TearDown() override { fail_init_rng = fail_generate_block = false; }
};

TEST_F(RngFailureTest, ContextCreationFailsWithoutACookieSecret) {
  fail_init_rng = true;
  auto context = DtlsContext::Create();
  ASSERT_FALSE(context.ok());
  EXPECT_EQ(context.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(context.status().message().find("cookie secret"), std::string::npos)
      << context.status();
  fail_init_rng = false;
  fail_generate_block = true;
  context = DtlsContext::Create();
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.status().message().find("wc_RNG_GenerateBlock"), std::string::npos)
      << context.status();
}

TEST_F(RngFailureTest, FailedRotationKeepsTheSecretInUse) {
  auto context = DtlsContext::Create();
  ASSERT_TRUE(context.ok()) << context.status();
  const CookieSecret before = (*context)->cookies().secret(0);
  EXPECT_NE(before, CookieSecret{});

  auto identity = Identity::Generate(KeyType::kEcdsaP256);
  ASSERT_TRUE(identity.ok()) << identity.status();
  testing::PairOptions options;
  options.client_identity = *identity;
  options.server_identity = *identity;
  testing::DtlsPair pair(context->get(), options);
  std::vector<uint8_t> second_hello;
  pair.drop = [&](int flight, testing::DtlsPair::Side, dataplane::Bytes d) {
    if (flight == 3) second_hello.assign(d.begin(), d.end());
    return flight >= 3;
  };
  pair.Run(0);
  ASSERT_FALSE(second_hello.empty());

  for (bool fail_init : {true, false}) {
    fail_init_rng = fail_init;
    fail_generate_block = !fail_init;
    EXPECT_FALSE((*context)->cookies().Rotate().ok());
  }
  fail_init_rng = fail_generate_block = false;
  EXPECT_EQ((*context)->cookies().secret(0), before);
  // The cookie handed out before still validates against the unchanged current secret.
  std::array<uint8_t, DtlsCookieResponder::kMaxResponseLength> response;
  const auto result = (*context)->cookies().Check(second_hello, pair.client_address, response);
  EXPECT_EQ(result.verdict, DtlsCookieResponder::Verdict::kValidCookie);
  EXPECT_EQ(result.secret_index, 0);

  ASSERT_TRUE((*context)->cookies().Rotate().ok());
  EXPECT_NE((*context)->cookies().secret(0), before);
  EXPECT_EQ((*context)->cookies().secret(1), before);
}

TEST_F(RngFailureTest, IdentityGenerationFailsWithTheRng) {
  fail_init_rng = true;
  EXPECT_FALSE(Identity::Generate(KeyType::kEcdsaP256).ok());
  fail_init_rng = false;
  // Key generation runs inside wolfCrypt, unwrapped; the random subject is drawn by us.
  fail_generate_block = true;
  auto identity = Identity::Generate(KeyType::kEcdsaP256);
  ASSERT_FALSE(identity.ok());
  EXPECT_NE(identity.status().message().find("random certificate subject"), std::string::npos)
      << identity.status();
}

}  // namespace
}  // namespace t38relay::crypto
