// The keys a handshake hands off are the ones wolfSSL uses: records wolfSSL writes open with
// them in the record layer (software backend), records the record layer seals are read by wolfSSL.
#include <array>
#include <string>
#include <vector>

#include "crypto/dtls/dtls_engine.h"
#include "crypto/record/record_protector.h"
#include "crypto/soft/soft_backend.h"
#include "gtest/gtest.h"
#include "tests/crypto/dtls/dtls_pair.h"

namespace t38relay::crypto {
namespace {

using testing::DtlsPair;

class DtlsKeysTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    context_ = *DtlsContext::Create();
    const bool ecdsa = GetParam().find("ECDSA") != std::string::npos;
    const KeyType type = ecdsa ? KeyType::kEcdsaP256 : KeyType::kRsa2048;
    testing::PairOptions options;
    options.client_identity = *Identity::Generate(type);
    options.server_identity = *Identity::Generate(type);
    options.client_ciphers = GetParam();
    options.keep_session = true;  // wolfSSL stays to write and read application data
    pair_ = std::make_unique<DtlsPair>(context_.get(), options);
    pair_->Run();
    ASSERT_TRUE(pair_->client_observed().keys.has_value());
    ASSERT_TRUE(pair_->server_observed().keys.has_value());
    ASSERT_TRUE(protector_.Install(client_leg_, *pair_->client_observed().keys, 0).ok());
    ASSERT_TRUE(protector_.Install(server_leg_, *pair_->server_observed().keys, 0).ok());
  }
  void TearDown() override {
    protector_.Release(client_leg_);
    protector_.Release(server_leg_);
  }

  // Seals `text` for `leg` with the record layer; returns the whole record.
  std::vector<uint8_t> Seal(RecordLeg& leg, const std::string& text) {
    std::vector<uint8_t> record(kRecordOverhead + text.size());
    std::copy(text.begin(), text.end(), record.begin() + kRecordPrefixLength);
    RecordJob job{.leg = &leg, .record = record.data(),
                  .record_length = static_cast<uint32_t>(record.size())};
    EXPECT_EQ(protector_.Seal(&job, 1), 1);
    return record;
  }

  // Opens `record` for `leg`; the plaintext, or the result's name on failure.
  std::string Open(RecordLeg& leg, std::vector<uint8_t> record) {
    RecordJob job{.leg = &leg, .record = record.data(),
                  .record_length = static_cast<uint32_t>(record.size())};
    if (protector_.Open(&job, 1, 0) != 1) return "error:" + std::string(RecordResultName(job.result));
    EXPECT_EQ(job.content_type, dataplane::kDtlsApplicationData);
    return std::string(job.plaintext(), job.plaintext() + job.plaintext_length());
  }

  std::unique_ptr<DtlsContext> context_;
  std::unique_ptr<DtlsPair> pair_;
  SoftBackend backend_;
  RecordProtector protector_{backend_, RecordOptions{}};
  RecordLeg client_leg_, server_leg_;
};

TEST_P(DtlsKeysTest, WolfsslRecordsOpenWithHandedOffKeys) {
  ASSERT_TRUE(pair_->server()->WriteForTesting(dataplane::Bytes(
      reinterpret_cast<const uint8_t*>("t38 from wolfSSL server"), 23)));
  ASSERT_TRUE(pair_->client()->WriteForTesting(dataplane::Bytes(
      reinterpret_cast<const uint8_t*>("t38 from wolfSSL client"), 23)));
  EXPECT_EQ(Open(client_leg_, pair_->sent_by_server.back()), "t38 from wolfSSL server");
  EXPECT_EQ(Open(server_leg_, pair_->sent_by_client.back()), "t38 from wolfSSL client");
  // A changed byte in a record not yet seen fails authentication.
  ASSERT_TRUE(pair_->server()->WriteForTesting(
      dataplane::Bytes(reinterpret_cast<const uint8_t*>("x"), 1)));
  std::vector<uint8_t> tampered = pair_->sent_by_server.back();
  tampered[tampered.size() - 20] ^= 0x01;
  EXPECT_EQ(Open(client_leg_, tampered), "error:auth-failed");
}

TEST_P(DtlsKeysTest, SealedRecordsAreReadByWolfssl) {
  pair_->server()->Feed(Seal(client_leg_, "fast path to server"), 0);
  pair_->client()->Feed(Seal(server_leg_, "fast path to client"), 0);
  pair_->server()->Feed(Seal(client_leg_, "and again"), 0);
  EXPECT_EQ(pair_->server_observed().app_data,
            (std::vector<std::string>{"fast path to server", "and again"}));
  EXPECT_EQ(pair_->client_observed().app_data, (std::vector<std::string>{"fast path to client"}));
}

TEST_P(DtlsKeysTest, NextSendSequenceAvoidsWolfsslReplayDrop) {
  // Sealed at sequence 0, the number wolfSSL's Finished used, the record is a replay to the peer.
  DtlsRecordKeys stale = *pair_->client_observed().keys;
  ASSERT_EQ(stale.next_send_sequence, 1u);
  stale.next_send_sequence = 0;
  RecordLeg stale_leg;
  ASSERT_TRUE(protector_.Install(stale_leg, stale, 0).ok());
  pair_->server()->Feed(Seal(stale_leg, "replayed number"), 0);
  protector_.Release(stale_leg);
  pair_->server()->Feed(Seal(client_leg_, "fresh number"), 0);
  EXPECT_EQ(pair_->server_observed().app_data, (std::vector<std::string>{"fresh number"}));
}

INSTANTIATE_TEST_SUITE_P(Suites, DtlsKeysTest,
                         ::testing::Values("ECDHE-RSA-AES128-GCM-SHA256",
                                           "DHE-RSA-AES128-GCM-SHA256",
                                           "ECDHE-ECDSA-AES128-GCM-SHA256"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::erase(name, '-');
                           return name;
                         });

}  // namespace
}  // namespace t38relay::crypto
