// Our DtlsEngine against real foreign DTLS 1.2 peers over UDP on 127.0.0.1: openssl s_server and
// s_client, gnutls-cli and gnutls-serv, with both mandatory suites, certificates pinned both ways
// and application data both ways.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "crypto/dtls/dtls_engine.h"
#include "gtest/gtest.h"
#include "tests/crypto/dtls/child_process.h"
#include "tests/crypto/dtls/udp_dtls_endpoint.h"
#include "tests/test_support.h"

namespace t38relay::crypto {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::FreeUdpPort;
using ::t38relay::testing::Shell;
using testing::UdpDtlsEndpoint;

constexpr auto kStep = 10s;  // bound of every wait

struct Suite {
  const char* openssl;  // OpenSSL cipher name
  const char* gnutls;   // GnuTLS key exchange
};

class DtlsInteropTest : public ::testing::TestWithParam<Suite> {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/t38_dtls_interop_XXXXXX";
    dir_ = new std::string(mkdtemp(tmpl));
    // The foreign peer's own self-signed identity, made by OpenSSL.
    peer_cert_ = new std::string(*dir_ + "/peer_cert.pem");
    peer_key_ = new std::string(*dir_ + "/peer_key.pem");
    ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=peer "
                           "-keyout " + *peer_key_ + " -out " + *peer_cert_ + " 2>/dev/null")
                              .c_str()),
              0);
    auto peer = Identity::LoadPem(*peer_cert_, *peer_key_);
    ASSERT_TRUE(peer.ok()) << peer.status();
    // What the SDP would carry: the a=fingerprint line, parsed back.
    peer_fingerprint_ = new Fingerprint(*ParseFingerprint((*peer)->SdpFingerprint()));
    ours_ = new std::shared_ptr<const Identity>(*Identity::Generate(KeyType::kRsa2048));
    our_cert_ = new std::string(*dir_ + "/our_cert.pem");
    std::ofstream(*our_cert_) << (*ours_)->CertificatePem();
    // gnutls checks the name: ours is the random common name.
    const std::string subject = Shell("openssl x509 -noout -subject -in " + *our_cert_);
    our_name_ = new std::string(subject.substr(subject.find("CN = ") + 5, 32));
  }
  static void TearDownTestSuite() {
    std::system(("rm -rf " + *dir_).c_str());
  }

  void SetUp() override { context_ = *DtlsContext::Create(); }

  DtlsEngineConfig Config(DtlsRole role, Fingerprint expected = *peer_fingerprint_) {
    DtlsEngineConfig config;
    config.role = role;
    config.identity = *ours_;
    config.peer_fingerprints = {std::move(expected)};
    return config;
  }

  // Handshake done, then a line each way.
  void ExpectEstablishedAndData(UdpDtlsEndpoint& us, ChildProcess& peer) {
    ASSERT_TRUE(us.RunUntil([&] { return us.keys || us.failure; }, kStep, &peer))
        << peer.output();
    ASSERT_TRUE(us.keys.has_value())
        << DtlsFailureName(*us.failure) << "\npeer said:\n" << peer.output();
    EXPECT_EQ(us.keys->epoch, 1);
    ASSERT_TRUE(us.Write("from-t38relay\n"));
    ASSERT_TRUE(peer.WaitFor("from-t38relay", kStep)) << peer.output();
    peer.Write("from-peer\n");
    ASSERT_TRUE(us.RunUntil([&] { return us.received.find("from-peer") != std::string::npos; },
                            kStep, &peer))
        << "received: " << us.received << "\npeer said:\n" << peer.output();
  }

  std::string GnutlsPriority() const {
    return std::string("NORMAL:-VERS-ALL:+VERS-DTLS1.2:-CIPHER-ALL:+AES-128-GCM:-KX-ALL:+") +
           GetParam().gnutls;
  }

  static std::string* dir_;
  static std::string* peer_cert_;
  static std::string* peer_key_;
  static Fingerprint* peer_fingerprint_;
  static std::shared_ptr<const Identity>* ours_;
  static std::string* our_cert_;
  static std::string* our_name_;
  std::unique_ptr<DtlsContext> context_;
};

std::string* DtlsInteropTest::dir_;
std::string* DtlsInteropTest::peer_cert_;
std::string* DtlsInteropTest::peer_key_;
Fingerprint* DtlsInteropTest::peer_fingerprint_;
std::shared_ptr<const Identity>* DtlsInteropTest::ours_;
std::string* DtlsInteropTest::our_cert_;
std::string* DtlsInteropTest::our_name_;

TEST_P(DtlsInteropTest, OurClientWithOpensslServer) {
  const uint16_t port = FreeUdpPort();
  // -Verify 1: the server demands our certificate and verifies it against our self-signed one.
  ChildProcess peer({"openssl", "s_server", "-dtls1_2", "-accept", "127.0.0.1:" + std::to_string(port),
                     "-cert", *peer_cert_, "-key", *peer_key_, "-cipher", GetParam().openssl,
                     "-Verify", "1", "-CAfile", *our_cert_, "-verify_return_error", "-naccept", "1"});
  ASSERT_TRUE(peer.WaitFor("ACCEPT", kStep)) << peer.output();
  UdpDtlsEndpoint us(context_.get(), Config(DtlsRole::kClient));
  us.StartClient(port);
  ExpectEstablishedAndData(us, peer);
  EXPECT_NE(peer.output().find(std::string("CIPHER is ") + GetParam().openssl), std::string::npos)
      << peer.output();
}

TEST_P(DtlsInteropTest, OurServerWithOpensslClient) {
  UdpDtlsEndpoint us(context_.get(), Config(DtlsRole::kServer));
  ChildProcess peer({"openssl", "s_client", "-dtls1_2", "-connect",
                     "127.0.0.1:" + std::to_string(us.port()), "-cert", *peer_cert_, "-key",
                     *peer_key_, "-cipher", GetParam().openssl, "-CAfile", *our_cert_,
                     "-verify_return_error"});
  ExpectEstablishedAndData(us, peer);
  EXPECT_EQ(us.verify_requests, 1);
  EXPECT_NE(peer.output().find("Verify return code: 0 (ok)"), std::string::npos) << peer.output();
  EXPECT_NE(peer.output().find(std::string("Cipher is ") + GetParam().openssl), std::string::npos)
      << peer.output();
  std::printf("largest datagram to openssl s_client: %zu bytes; largest from it: %zu bytes\n",
              us.engine()->largest_datagram(), us.largest_received);
  EXPECT_LE(us.engine()->largest_datagram(), context_->options().mtu);
}

TEST_P(DtlsInteropTest, OurServerWithGnutlsClient) {
  UdpDtlsEndpoint us(context_.get(), Config(DtlsRole::kServer));
  // --x509cafile and --verify-hostname: gnutls verifies our self-signed certificate and its name.
  ChildProcess peer({"gnutls-cli", "--udp", "-p", std::to_string(us.port()), "127.0.0.1",
                     "--x509certfile", *peer_cert_, "--x509keyfile", *peer_key_, "--x509cafile",
                     *our_cert_, "--verify-hostname", *our_name_, "--priority", GnutlsPriority()});
  ExpectEstablishedAndData(us, peer);
  EXPECT_NE(peer.output().find("Handshake was completed"), std::string::npos) << peer.output();
  std::printf("largest datagram to gnutls-cli: %zu bytes; largest from it: %zu bytes\n",
              us.engine()->largest_datagram(), us.largest_received);
}

TEST_P(DtlsInteropTest, OurClientWithGnutlsServer) {
  const uint16_t port = FreeUdpPort();
  // --echo: what we send comes back, which shows it arrived; --require-client-cert with
  // --verify-client-cert checks our certificate against our self-signed one.
  ChildProcess peer({"gnutls-serv", "--udp", "-p", std::to_string(port), "--x509certfile",
                     *peer_cert_, "--x509keyfile", *peer_key_, "--x509cafile", *our_cert_,
                     "--require-client-cert", "--verify-client-cert", "--echo", "--priority",
                     GnutlsPriority()});
  ASSERT_TRUE(peer.WaitFor("...done", kStep)) << peer.output();
  UdpDtlsEndpoint us(context_.get(), Config(DtlsRole::kClient));
  us.StartClient(port);
  ASSERT_TRUE(us.RunUntil([&] { return us.keys || us.failure; }, kStep, &peer)) << peer.output();
  ASSERT_TRUE(us.keys.has_value()) << DtlsFailureName(*us.failure) << "\n" << peer.output();
  ASSERT_TRUE(us.Write("echo-from-t38relay\n"));
  ASSERT_TRUE(us.RunUntil(
      [&] { return us.received.find("echo-from-t38relay") != std::string::npos; }, kStep, &peer))
      << peer.output();
}

TEST_P(DtlsInteropTest, WrongPeerFingerprintFails) {
  const uint16_t port = FreeUdpPort();
  ChildProcess peer({"openssl", "s_server", "-dtls1_2", "-accept", "127.0.0.1:" + std::to_string(port),
                     "-cert", *peer_cert_, "-key", *peer_key_, "-cipher", GetParam().openssl,
                     "-naccept", "1"});
  ASSERT_TRUE(peer.WaitFor("ACCEPT", kStep)) << peer.output();
  Fingerprint wrong = *peer_fingerprint_;
  wrong.digest[0] ^= 0xFF;
  UdpDtlsEndpoint us(context_.get(), Config(DtlsRole::kClient, wrong));
  us.StartClient(port);
  ASSERT_TRUE(us.RunUntil([&] { return us.keys || us.failure; }, kStep, &peer));
  ASSERT_TRUE(us.failure.has_value());
  EXPECT_EQ(DtlsFailureName(*us.failure), "fingerprint-mismatch");
  // The bad_certificate alert reached OpenSSL.
  EXPECT_TRUE(peer.WaitFor("bad certificate", kStep)) << peer.output();
}

TEST_P(DtlsInteropTest, PeerRejectsCertificateItWasNotGiven) {
  // The peer trusts only its own certificate, not ours: it must refuse us with an alert.
  UdpDtlsEndpoint us(context_.get(), Config(DtlsRole::kServer));
  ChildProcess peer({"openssl", "s_client", "-dtls1_2", "-connect",
                     "127.0.0.1:" + std::to_string(us.port()), "-cert", *peer_cert_, "-key",
                     *peer_key_, "-cipher", GetParam().openssl, "-CAfile", *peer_cert_,
                     "-verify_return_error"});
  ASSERT_TRUE(us.RunUntil([&] { return us.keys || us.failure; }, kStep, &peer)) << peer.output();
  ASSERT_TRUE(us.failure.has_value()) << peer.output();
  EXPECT_EQ(DtlsFailureName(*us.failure), "alert");
  ASSERT_FALSE(us.alerts.empty());
  EXPECT_EQ(us.alerts.back().first, 2) << "fatal";
}

TEST_P(DtlsInteropTest, Dtls10PeerIsRefused) {
  // DTLS 1.2 only: an OpenSSL client limited to DTLS 1.0 cannot complete a handshake with us.
  UdpDtlsEndpoint us(context_.get(), Config(DtlsRole::kServer));
  ChildProcess peer({"openssl", "s_client", "-dtls1", "-connect",
                     "127.0.0.1:" + std::to_string(us.port()), "-cert", *peer_cert_, "-key",
                     *peer_key_, "-CAfile", *our_cert_, "-cipher", "ALL:@SECLEVEL=0"});
  ASSERT_TRUE(us.RunUntil([&] { return us.keys || us.failure; }, kStep, &peer));
  EXPECT_FALSE(us.keys.has_value());
  EXPECT_EQ(DtlsFailureName(*us.failure), "protocol-error");
  // Our handshake_failure alert (40) ended it on OpenSSL's side.
  EXPECT_TRUE(peer.WaitFor("Cipher is (NONE)", kStep)) << peer.output();
  EXPECT_NE(peer.output().find("alert number 40"), std::string::npos) << peer.output();
}

INSTANTIATE_TEST_SUITE_P(MandatorySuites, DtlsInteropTest,
                         ::testing::Values(Suite{"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA"},
                                           Suite{"DHE-RSA-AES128-GCM-SHA256", "DHE-RSA"}),
                         [](const auto& info) { return std::string(info.param.gnutls[0] == 'E'
                                                                       ? "EcdheRsa" : "DheRsa"); });

}  // namespace
}  // namespace t38relay::crypto
