// In-memory DtlsEngine pairs: suites, roles, lost flights, fingerprints, cookies and floods.
#include "crypto/dtls/dtls_engine.h"

#include <malloc.h>

#include <array>

#include "gtest/gtest.h"
#include "tests/crypto/dtls/dtls_pair.h"

namespace t38relay::crypto {
namespace {

using testing::DtlsPair;
using testing::HasChangeCipherSpec;
using testing::PairOptions;

std::shared_ptr<const Identity> Rsa() {
  static const auto identity = *Identity::Generate(KeyType::kRsa2048);
  return identity;
}
std::shared_ptr<const Identity> Rsa2() {
  static const auto identity = *Identity::Generate(KeyType::kRsa2048);
  return identity;
}
std::shared_ptr<const Identity> Ecdsa() {
  static const auto identity = *Identity::Generate(KeyType::kEcdsaP256);
  return identity;
}

class DtlsEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto context = DtlsContext::Create();
    ASSERT_TRUE(context.ok()) << context.status();
    context_ = *std::move(context);
  }

  PairOptions RsaPair(std::string ciphers = "") {
    PairOptions options;
    options.client_identity = Rsa();
    options.server_identity = Rsa2();
    options.client_ciphers = std::move(ciphers);
    return options;
  }

  // Without loss each side sends exactly its Finished in epoch 1; a retransmitted final flight
  // takes further sequence numbers, which the fast path must not reuse.
  static void ExpectEstablished(DtlsPair& pair, bool lossless = true) {
    auto& c = pair.client_observed();
    auto& s = pair.server_observed();
    ASSERT_TRUE(c.keys.has_value()) << (c.failure ? DtlsFailureName(*c.failure) : "no result");
    ASSERT_TRUE(s.keys.has_value()) << (s.failure ? DtlsFailureName(*s.failure) : "no result");
    EXPECT_EQ(c.keys->send.key, s.keys->receive.key);
    EXPECT_EQ(c.keys->send.salt, s.keys->receive.salt);
    EXPECT_EQ(c.keys->receive.key, s.keys->send.key);
    EXPECT_EQ(c.keys->receive.salt, s.keys->send.salt);
    EXPECT_NE(c.keys->send.key, c.keys->receive.key);
    EXPECT_EQ(c.keys->send.cipher, AeadCipher::kAes128Gcm);
    EXPECT_EQ(c.keys->epoch, 1);
    EXPECT_EQ(s.keys->epoch, 1);
    if (lossless) {
      EXPECT_EQ(c.keys->next_send_sequence, 1u);
      EXPECT_EQ(s.keys->next_send_sequence, 1u);
    } else {
      EXPECT_GE(c.keys->next_send_sequence, 1u);
      EXPECT_GE(s.keys->next_send_sequence, 1u);
    }
    EXPECT_FALSE(pair.client()->has_session());
    EXPECT_FALSE(pair.server()->has_session());
    EXPECT_EQ(pair.client()->state(), DtlsEngine::State::kEstablished);
    EXPECT_EQ(pair.server()->state(), DtlsEngine::State::kEstablished);
  }

  std::unique_ptr<DtlsContext> context_;
};

TEST_F(DtlsEngineTest, EcdheRsaCompletesWithCookieExchange) {
  DtlsPair pair(context_.get(), RsaPair("ECDHE-RSA-AES128-GCM-SHA256"));
  pair.Run();
  ExpectEstablished(pair);
  EXPECT_EQ(pair.verify_requests, 1);
  EXPECT_EQ(pair.now(), 0u) << "no retransmission needed without loss";
  // Flights: ClientHello, HelloVerifyRequest, ClientHello, server flight, client flight, final.
  EXPECT_EQ(pair.flights, 6);
}

TEST_F(DtlsEngineTest, DheRsaCompletes) {
  DtlsPair pair(context_.get(), RsaPair("DHE-RSA-AES128-GCM-SHA256"));
  pair.Run();
  ExpectEstablished(pair);
}

TEST_F(DtlsEngineTest, EcdheEcdsaCompletes) {
  PairOptions options;
  options.client_identity = Ecdsa();
  options.server_identity = Ecdsa();
  options.client_ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
  DtlsPair pair(context_.get(), options);
  pair.Run();
  ExpectEstablished(pair);
}

TEST_F(DtlsEngineTest, DefaultListPrefersEcdheRsaForRsaServer) {
  DtlsPair pair(context_.get(), RsaPair());
  pair.Run();
  ExpectEstablished(pair);
}

TEST_F(DtlsEngineTest, RolesSwappedBetweenIdentities) {
  // The same two identities with client and server exchanged (the other role assignment).
  PairOptions options = RsaPair();
  std::swap(options.client_identity, options.server_identity);
  DtlsPair pair(context_.get(), options);
  pair.Run();
  ExpectEstablished(pair);
}

TEST_F(DtlsEngineTest, MixedKeyTypesNegotiate) {
  PairOptions options;
  options.client_identity = Ecdsa();  // an ECDSA client certificate with an RSA server
  options.server_identity = Rsa();
  DtlsPair pair(context_.get(), options);
  pair.Run();
  ExpectEstablished(pair);
}

TEST(DtlsRoleTest, ResolvesSetupValues) {
  EXPECT_EQ(*ResolveDtlsRole(SdpSetup::kActive, SdpSetup::kActpass), DtlsRole::kClient);
  EXPECT_EQ(*ResolveDtlsRole(SdpSetup::kActive, SdpSetup::kPassive), DtlsRole::kClient);
  EXPECT_EQ(*ResolveDtlsRole(SdpSetup::kPassive, SdpSetup::kActpass), DtlsRole::kServer);
  EXPECT_EQ(*ResolveDtlsRole(SdpSetup::kPassive, SdpSetup::kActive), DtlsRole::kServer);
  EXPECT_EQ(*ResolveDtlsRole(SdpSetup::kActpass, SdpSetup::kActive), DtlsRole::kServer);
  EXPECT_EQ(*ResolveDtlsRole(SdpSetup::kActpass, SdpSetup::kPassive), DtlsRole::kClient);
  EXPECT_FALSE(ResolveDtlsRole(SdpSetup::kActpass, SdpSetup::kActpass).ok());
  EXPECT_FALSE(ResolveDtlsRole(SdpSetup::kActive, SdpSetup::kActive).ok());
  EXPECT_FALSE(ResolveDtlsRole(SdpSetup::kPassive, SdpSetup::kPassive).ok());
  EXPECT_FALSE(ResolveDtlsRole(SdpSetup::kHoldconn, SdpSetup::kActive).ok());
}

class LostFlightTest : public DtlsEngineTest, public ::testing::WithParamInterface<int> {};

TEST_P(LostFlightTest, CompletesAfterRetransmission) {
  const int lost = GetParam();
  DtlsPair pair(context_.get(), RsaPair());
  pair.drop = [lost](int flight, DtlsPair::Side, dataplane::Bytes) { return flight == lost; };
  pair.Run();
  EXPECT_EQ(pair.dropped_flights, 1);
  ExpectEstablished(pair, /*lossless=*/false);
  EXPECT_GE(pair.now(), 1000u) << "a lost flight costs one timer";
}

INSTANTIATE_TEST_SUITE_P(EachFlight, LostFlightTest, ::testing::Range(1, 7));

TEST_F(DtlsEngineTest, ServerFinalFlightLostTwiceIsResentFromCopy) {
  DtlsPair pair(context_.get(), RsaPair());
  int finals = 0;
  pair.drop = [&](int, DtlsPair::Side from, dataplane::Bytes first) {
    return from == DtlsPair::kServer && HasChangeCipherSpec(first) && ++finals <= 2;
  };
  pair.Run();
  EXPECT_EQ(finals, 3);
  ExpectEstablished(pair, /*lossless=*/false);
  // The client's Finished went out three times: 0, 1, 2.
  EXPECT_EQ(pair.client_observed().keys->next_send_sequence, 3u);
  // The client waited 1 s, then 2 s, before its retransmissions drew the copies.
  EXPECT_EQ(pair.now(), 3000u);
}

TEST_F(DtlsEngineTest, WrongServerFingerprintFailsOnClient) {
  PairOptions options = RsaPair();
  options.client_expects = std::vector<Fingerprint>{DtlsPair::Sha256(*Ecdsa())};
  DtlsPair pair(context_.get(), options);
  pair.Run();
  ASSERT_TRUE(pair.client_observed().failure.has_value());
  EXPECT_EQ(DtlsFailureName(*pair.client_observed().failure), "fingerprint-mismatch");
  EXPECT_FALSE(pair.client_observed().keys.has_value());
  // The client's bad_certificate alert (42) ends the server's handshake too.
  ASSERT_TRUE(pair.server_observed().failure.has_value());
  EXPECT_EQ(DtlsFailureName(*pair.server_observed().failure), "alert");
  ASSERT_FALSE(pair.server_observed().alerts.empty());
  EXPECT_EQ(pair.server_observed().alerts.back(), std::make_pair(uint8_t{2}, uint8_t{42}));
  EXPECT_FALSE(pair.server_observed().keys.has_value());
}

TEST_F(DtlsEngineTest, WrongClientFingerprintFailsOnServer) {
  PairOptions options = RsaPair();
  options.server_expects = std::vector<Fingerprint>{DtlsPair::Sha256(*Ecdsa())};
  DtlsPair pair(context_.get(), options);
  pair.Run();
  ASSERT_TRUE(pair.server_observed().failure.has_value());
  EXPECT_EQ(DtlsFailureName(*pair.server_observed().failure), "fingerprint-mismatch");
  ASSERT_TRUE(pair.client_observed().failure.has_value());
  EXPECT_FALSE(pair.client_observed().keys.has_value());
  EXPECT_FALSE(pair.server_observed().keys.has_value());
}

TEST_F(DtlsEngineTest, AnyOfferedHashMatches) {
  // The peer offers a wrong sha-256 and a right sha-512: one match is enough.
  for (FingerprintHash hash : kAllFingerprintHashes) {
    PairOptions options = RsaPair();
    options.client_expects = std::vector<Fingerprint>{
        DtlsPair::Sha256(*Ecdsa()), ComputeFingerprint(hash, Rsa2()->certificate_der())};
    DtlsPair pair(context_.get(), options);
    pair.Run();
    EXPECT_TRUE(pair.client_observed().keys.has_value()) << FingerprintHashName(hash);
  }
}

TEST_F(DtlsEngineTest, DeferredFingerprintHoldsKeysUntilItMatches) {
  PairOptions options = RsaPair();
  options.server_expects = std::vector<Fingerprint>{};  // the SDP answer has not arrived
  DtlsPair pair(context_.get(), options);
  pair.Run();
  ASSERT_TRUE(pair.client_observed().keys.has_value());
  EXPECT_FALSE(pair.server_observed().keys.has_value());
  EXPECT_FALSE(pair.server_observed().failure.has_value());
  EXPECT_EQ(pair.server()->state(), DtlsEngine::State::kAwaitingFingerprint);

  pair.server()->SetPeerFingerprints({DtlsPair::Sha256(*Rsa())});
  ExpectEstablished(pair);
}

TEST_F(DtlsEngineTest, DeferredFingerprintMismatchFails) {
  PairOptions options = RsaPair();
  options.server_expects = std::vector<Fingerprint>{};
  DtlsPair pair(context_.get(), options);
  pair.Run();
  ASSERT_EQ(pair.server()->state(), DtlsEngine::State::kAwaitingFingerprint);
  const size_t sent_before = pair.sent_by_server.size();
  pair.server()->SetPeerFingerprints({DtlsPair::Sha256(*Ecdsa())});
  ASSERT_TRUE(pair.server_observed().failure.has_value());
  EXPECT_EQ(DtlsFailureName(*pair.server_observed().failure), "fingerprint-mismatch");
  EXPECT_FALSE(pair.server_observed().keys.has_value());
  EXPECT_FALSE(pair.server()->has_session());
  // It told the peer with an (encrypted, epoch 1) alert record.
  ASSERT_EQ(pair.sent_by_server.size(), sent_before + 1);
  const auto& alert = pair.sent_by_server.back();
  EXPECT_EQ(alert[0], dataplane::kDtlsAlert);
  EXPECT_EQ(alert[4], 1) << "epoch";
}

TEST_F(DtlsEngineTest, FingerprintArrivingDuringHandshakeIsChecked) {
  PairOptions options = RsaPair();
  options.server_expects = std::vector<Fingerprint>{};
  DtlsPair pair(context_.get(), options);
  // Deliver the answer's (wrong) fingerprint as soon as the server engine exists.
  pair.drop = [&](int, DtlsPair::Side from, dataplane::Bytes) {
    if (from == DtlsPair::kServer && pair.server() != nullptr &&
        pair.server()->state() == DtlsEngine::State::kHandshaking) {
      pair.server()->SetPeerFingerprints({DtlsPair::Sha256(*Ecdsa())});
    }
    return false;
  };
  pair.Run();
  ASSERT_TRUE(pair.server_observed().failure.has_value());
  EXPECT_EQ(DtlsFailureName(*pair.server_observed().failure), "fingerprint-mismatch");
}

TEST_F(DtlsEngineTest, HandshakeFlightsFitTheMtu) {
  DtlsPair pair(context_.get(), RsaPair());
  pair.Run();
  ExpectEstablished(pair);
  const size_t largest = std::max(pair.client()->largest_datagram(),
                                  pair.server()->largest_datagram());
  RecordProperty("largest_datagram_rsa2048", static_cast<int>(largest));
  std::printf("largest handshake datagram with RSA-2048 identities: %zu bytes (mtu %zu)\n",
              largest, context_->options().mtu);
  EXPECT_LE(largest, context_->options().mtu);
}

TEST_F(DtlsEngineTest, SmallMtuWithMaxFragmentLength) {
  DtlsContextOptions small;
  small.mtu = 600;
  small.request_max_fragment_length = true;
  auto context = DtlsContext::Create(small);
  ASSERT_TRUE(context.ok());
  DtlsPair pair(context->get(), RsaPair());
  pair.Run();
  ExpectEstablished(pair);
  // With 512-byte fragments negotiated (max_fragment_length) every datagram fits.
  EXPECT_LE(pair.client()->largest_datagram(), 600u);
  EXPECT_LE(pair.server()->largest_datagram(), 600u);
}

TEST_F(DtlsEngineTest, PeerDatagramsOver1400BytesAreRead) {
  // Defect 2: wolfSSL reads at most 1400 bytes of a handshake datagram unless told otherwise.
  // With a large MTU the client's DHE flight (Certificate .. Finished) travels as one datagram
  // of more than 1400 bytes, as OpenSSL peers send them.
  DtlsContextOptions large;
  large.mtu = 2200;
  auto context = DtlsContext::Create(large);
  ASSERT_TRUE(context.ok());
  DtlsPair pair(context->get(), RsaPair("DHE-RSA-AES128-GCM-SHA256"));
  pair.Run();
  EXPECT_GT(pair.client()->largest_datagram(), 1400u);
  ExpectEstablished(pair);
  EXPECT_EQ(pair.now(), 0u) << "nothing was lost";
}

TEST_F(DtlsEngineTest, SilentPeerTimesOutWithDoublingTimers) {
  DtlsContextOptions options;
  options.initial_timeout_s = 1;
  options.max_timeout_s = 4;
  auto context = DtlsContext::Create(options);
  ASSERT_TRUE(context.ok());
  testing::Observed observed;
  int sent = 0;
  observed.send = [&](dataplane::Bytes) { ++sent; };
  DtlsEngineConfig config;
  config.role = DtlsRole::kClient;
  config.identity = Rsa();
  config.peer_fingerprints = {DtlsPair::Sha256(*Rsa2())};
  auto engine = (*context)->NewEngine(config, &observed);
  ASSERT_TRUE(engine.ok());
  (*engine)->Start(0);
  std::vector<uint64_t> deadlines;
  while ((*engine)->timer_deadline() && deadlines.size() < 20) {
    deadlines.push_back(*(*engine)->timer_deadline());
    (*engine)->OnTimer(deadlines.back() - 1);  // early: nothing happens
    (*engine)->OnTimer(deadlines.back());
  }
  // Waits of 1, 2 and 4 s (the maximum), then failure when the wait at the maximum expires.
  EXPECT_EQ(deadlines, (std::vector<uint64_t>{1000, 3000, 7000}));
  EXPECT_EQ(sent, 3);  // ClientHello and two retransmissions
  ASSERT_TRUE(observed.failure.has_value());
  EXPECT_EQ(DtlsFailureName(*observed.failure), "timeout");
}

TEST_F(DtlsEngineTest, GarbageDuringHandshakeIsIgnored) {
  DtlsPair pair(context_.get(), RsaPair());
  pair.drop = [&](int flight, DtlsPair::Side, dataplane::Bytes) {
    if (flight == 4) {
      const std::vector<uint8_t> junk = {22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 9, 0, 3, 1, 2, 3};
      pair.client()->Feed(junk, pair.now());
      pair.server()->Feed(junk, pair.now());
    }
    return false;
  };
  pair.Run();
  ExpectEstablished(pair);
}

// --- Cookies ---

class CookieTest : public DtlsEngineTest {
 protected:
  // The client's first datagram: a ClientHello without a cookie.
  std::vector<uint8_t> FirstClientHello() {
    testing::Observed observed;
    std::vector<uint8_t> hello;
    observed.send = [&](dataplane::Bytes d) { hello.assign(d.begin(), d.end()); };
    DtlsEngineConfig config;
    config.role = DtlsRole::kClient;
    config.identity = Rsa();
    config.peer_fingerprints = {DtlsPair::Sha256(*Rsa2())};
    auto engine = context_->NewEngine(config, &observed);
    (*engine)->Start(0);
    return hello;
  }
};

TEST_F(CookieTest, OurCookieIsTheOneWolfsslComputes) {
  // A wolfSSL server fed the cookie-less ClientHello answers with the same HelloVerifyRequest
  // cookie as the stateless responder, for the same peer bytes and secret.
  const std::vector<uint8_t> hello = FirstClientHello();
  const std::vector<uint8_t> peer = {198, 18, 7, 7, 0x30, 0x39};
  std::array<uint8_t, DtlsCookieResponder::kMaxResponseLength> response;
  const auto result = context_->cookies().Check(hello, peer, response);
  ASSERT_EQ(result.verdict, DtlsCookieResponder::Verdict::kVerifyRequest);

  testing::Observed observed;
  std::vector<uint8_t> wolf_hvr;
  observed.send = [&](dataplane::Bytes d) { wolf_hvr.assign(d.begin(), d.end()); };
  DtlsEngineConfig config;
  config.role = DtlsRole::kServer;
  config.identity = Rsa2();
  config.peer_address = peer;
  auto server = context_->NewEngine(config, &observed);
  ASSERT_TRUE(server.ok());
  (*server)->Feed(hello, 0);
  ASSERT_GE(wolf_hvr.size(), 32u);
  ASSERT_EQ(result.response_length, 13u + 12 + 3 + 32);
  // The cookie is the last 32 bytes of both.
  EXPECT_TRUE(std::equal(wolf_hvr.end() - 32, wolf_hvr.end(),
                         response.begin() + result.response_length - 32));
}

TEST_F(CookieTest, ServerEngineWithoutPeerAddressIsRefused) {
  // wolfSSL's cookie would not be bound to the source: one cookie would serve any spoofed one.
  testing::Observed observed;
  DtlsEngineConfig config;
  config.role = DtlsRole::kServer;
  config.identity = Rsa2();
  auto server = context_->NewEngine(config, &observed);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(server.status().message().find("peer_address"), std::string::npos) << server.status();
  // A client needs none: it talks to the address it was given.
  config.role = DtlsRole::kClient;
  EXPECT_TRUE(context_->NewEngine(config, &observed).ok());
}

TEST_F(CookieTest, RotationAcceptsThePreviousSecretOnce) {
  for (int rotations : {0, 1}) {
    DtlsPair pair(context_.get(), RsaPair());
    std::vector<uint8_t> second_hello;
    // Rotate while the HelloVerifyRequest is on its way to the client.
    pair.drop = [&](int flight, DtlsPair::Side, dataplane::Bytes d) {
      if (flight == 2) {
        for (int i = 0; i < rotations; ++i) EXPECT_TRUE(context_->cookies().Rotate().ok());
      }
      if (flight == 3) second_hello.assign(d.begin(), d.end());
      return false;
    };
    pair.Run();
    ExpectEstablished(pair);
    EXPECT_EQ(pair.verify_requests, 1) << rotations;
    // One more rotation and that cookie is stale: the source is asked again.
    ASSERT_TRUE(context_->cookies().Rotate().ok());
    if (rotations == 0) {
      ASSERT_TRUE(context_->cookies().Rotate().ok());
    }
    std::array<uint8_t, DtlsCookieResponder::kMaxResponseLength> response;
    EXPECT_EQ(context_->cookies().Check(second_hello, pair.client_address, response).verdict,
              DtlsCookieResponder::Verdict::kVerifyRequest);
  }
}

TEST_F(CookieTest, CookieIsBoundToThePeerAddress) {
  DtlsPair pair(context_.get(), RsaPair());
  std::vector<uint8_t> second_hello;
  pair.drop = [&](int flight, DtlsPair::Side, dataplane::Bytes d) {
    if (flight == 3) second_hello.assign(d.begin(), d.end());
    return false;
  };
  pair.Run();
  ExpectEstablished(pair);
  ASSERT_FALSE(second_hello.empty());
  std::array<uint8_t, DtlsCookieResponder::kMaxResponseLength> response;
  EXPECT_EQ(context_->cookies().Check(second_hello, pair.client_address, response).verdict,
            DtlsCookieResponder::Verdict::kValidCookie);
  const std::vector<uint8_t> other = {198, 18, 0, 2, 0x13, 0x88};
  EXPECT_EQ(context_->cookies().Check(second_hello, other, response).verdict,
            DtlsCookieResponder::Verdict::kVerifyRequest);
}

// The verdict carries the hello's random: the same for a repeated hello (with or without its
// cookie), another for a new client (what tells a restarted client from a duplicate).
TEST_F(CookieTest, VerdictCarriesTheClientRandom) {
  DtlsPair pair(context_.get(), RsaPair());
  std::vector<uint8_t> first_hello, second_hello;
  pair.drop = [&](int flight, DtlsPair::Side, dataplane::Bytes d) {
    if (flight == 1) first_hello.assign(d.begin(), d.end());
    if (flight == 3) second_hello.assign(d.begin(), d.end());
    return false;
  };
  pair.Run();
  ExpectEstablished(pair);
  std::array<uint8_t, DtlsCookieResponder::kMaxResponseLength> response;
  const auto first = context_->cookies().Check(first_hello, pair.client_address, response);
  const auto second = context_->cookies().Check(second_hello, pair.client_address, response);
  ASSERT_EQ(second.verdict, DtlsCookieResponder::Verdict::kValidCookie);
  EXPECT_EQ(first.client_random, second.client_random);
  EXPECT_NE(first.client_random, (std::array<uint8_t, 32>{}));
  const auto other = context_->cookies().Check(FirstClientHello(), pair.client_address, response);
  EXPECT_NE(other.client_random, first.client_random);
}

TEST_F(CookieTest, NonHelloIsDropped) {
  std::array<uint8_t, DtlsCookieResponder::kMaxResponseLength> response;
  const std::vector<uint8_t> app = {23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0};
  EXPECT_EQ(context_->cookies().Check(app, {}, response).verdict,
            DtlsCookieResponder::Verdict::kDrop);
  std::vector<uint8_t> hello = FirstClientHello();
  hello.resize(hello.size() - 10);  // cut short
  EXPECT_EQ(context_->cookies().Check(hello, {}, response).verdict,
            DtlsCookieResponder::Verdict::kDrop);
}

TEST_F(CookieTest, FloodOfDistinctSourcesLeavesMemoryFlat) {
  // The real client's second ClientHello carries a cookie bound to its own address: replayed
  // from 100k other sources (and the cookie-less first one from 100k more) it only draws
  // HelloVerifyRequests; nothing is allocated per source and no engine is created.
  DtlsPair probe(context_.get(), RsaPair());
  std::vector<uint8_t> with_cookie;
  probe.drop = [&](int flight, DtlsPair::Side, dataplane::Bytes d) {
    if (flight == 3) with_cookie.assign(d.begin(), d.end());
    return flight >= 3;
  };
  probe.Run(0);
  ASSERT_FALSE(with_cookie.empty());
  const std::vector<uint8_t> hello = FirstClientHello();

  std::array<uint8_t, DtlsCookieResponder::kMaxResponseLength> response;
  std::vector<uint8_t> peer(6);
  int valid = 0, verify = 0;
  const size_t before = mallinfo2().uordblks;
  for (uint32_t i = 0; i < 100'000; ++i) {
    peer[0] = 198;
    peer[1] = static_cast<uint8_t>(18 + (i >> 24 & 1));
    peer[2] = static_cast<uint8_t>(i >> 16);
    peer[3] = static_cast<uint8_t>(i >> 8);
    peer[4] = static_cast<uint8_t>(i);
    peer[5] = 7;
    for (const std::vector<uint8_t>* d : std::initializer_list<const std::vector<uint8_t>*>{&hello, &with_cookie}) {
      const auto r = context_->cookies().Check(*d, peer, response);
      valid += r.verdict == DtlsCookieResponder::Verdict::kValidCookie;
      verify += r.verdict == DtlsCookieResponder::Verdict::kVerifyRequest;
    }
  }
  const size_t after = mallinfo2().uordblks;
  EXPECT_EQ(valid, 0) << "engines created";
  EXPECT_EQ(verify, 200'000);
  EXPECT_EQ(after, before) << "heap bytes in use grew during the flood";

  // The real client behind the flood still completes.
  DtlsPair pair(context_.get(), RsaPair());
  pair.Run();
  ExpectEstablished(pair);
}

}  // namespace
}  // namespace t38relay::crypto
