// Interop with OpenSSL's DTLS 1.2: an in-memory OpenSSL client/server pair completes a handshake,
// the fast path takes over one side with keys derived from the master secret (TLS 1.2 PRF), and
// OpenSSL reads what the fast path seals and the fast path opens what OpenSSL writes.
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "crypto/record/record_protector.h"
#include "crypto/soft/soft_backend.h"
#include "dataplane/wire/dtls_record.h"
#include "gtest/gtest.h"

namespace t38relay::crypto {
namespace {

using Datagram = std::vector<uint8_t>;
using Queue = std::deque<Datagram>;

// A BIO with datagram semantics over two queues: each write is one datagram, each read takes one.
// Everything written is also logged in `sent`.
struct DatagramEnds {
  Queue* in;
  Queue* out;
  std::vector<Datagram> sent;
};

int DatagramWrite(BIO* bio, const char* data, int length) {
  auto* ends = static_cast<DatagramEnds*>(BIO_get_data(bio));
  ends->out->emplace_back(data, data + length);
  ends->sent.push_back(ends->out->back());
  return length;
}

int DatagramRead(BIO* bio, char* data, int length) {
  auto* ends = static_cast<DatagramEnds*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (ends->in->empty()) {
    BIO_set_retry_read(bio);
    return -1;
  }
  Datagram d = std::move(ends->in->front());
  ends->in->pop_front();
  const int n = std::min<int>(length, static_cast<int>(d.size()));
  std::memcpy(data, d.data(), n);
  return n;
}

long DatagramCtrl(BIO*, int command, long, void*) {  // NOLINT(runtime/int): OpenSSL's signature
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

int DatagramCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* DatagramMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "test datagrams");
    BIO_meth_set_write(m, DatagramWrite);
    BIO_meth_set_read(m, DatagramRead);
    BIO_meth_set_ctrl(m, DatagramCtrl);
    BIO_meth_set_create(m, DatagramCreate);
    return m;
  }();
  return method;
}

struct Identity {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
};

// One self-signed RSA-2048 identity for the whole program (key generation is slow).
const Identity& ServerIdentity() {
  static const Identity identity = [] {
    Identity id;
    id.key = EVP_RSA_gen(2048);
    id.cert = X509_new();
    X509_set_version(id.cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(id.cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(id.cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(id.cert), 3600);
    X509_set_pubkey(id.cert, id.key);
    X509_NAME* name = X509_get_subject_name(id.cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("t38relay test"), -1, -1, 0);
    X509_set_issuer_name(id.cert, name);
    X509_sign(id.cert, id.key, EVP_sha256());
    return id;
  }();
  return identity;
}

struct Suite {
  const char* name;
  AeadCipher cipher;
  const char* prf_digest;
};

struct InteropCase {
  Suite suite;
  bool fast_path_is_server;
};

std::string CaseName(const ::testing::TestParamInfo<InteropCase>& info) {
  std::string name = info.param.suite.name;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name + (info.param.fast_path_is_server ? "_FastPathServer" : "_FastPathClient");
}

class OpensslInteropTest : public ::testing::TestWithParam<InteropCase> {
 protected:
  void SetUp() override {
    const Suite& suite = GetParam().suite;
    server_ctx_ = SSL_CTX_new(DTLS_server_method());
    client_ctx_ = SSL_CTX_new(DTLS_client_method());
    for (SSL_CTX* ctx : {server_ctx_, client_ctx_}) {
      ASSERT_NE(ctx, nullptr);
      ASSERT_EQ(SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION), 1);
      ASSERT_EQ(SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION), 1);
      ASSERT_EQ(SSL_CTX_set_cipher_list(ctx, suite.name), 1);
    }
    ASSERT_EQ(SSL_CTX_use_certificate(server_ctx_, ServerIdentity().cert), 1);
    ASSERT_EQ(SSL_CTX_use_PrivateKey(server_ctx_, ServerIdentity().key), 1);
    server_ = SSL_new(server_ctx_);
    client_ = SSL_new(client_ctx_);
    Attach(server_, &server_ends_);
    Attach(client_, &client_ends_);
    SSL_set_accept_state(server_);
    SSL_set_connect_state(client_);
  }

  void TearDown() override {
    protector_.Release(leg_);
    EXPECT_EQ(backend_.live_keys(), 0u);
    SSL_free(server_);
    SSL_free(client_);
    SSL_CTX_free(server_ctx_);
    SSL_CTX_free(client_ctx_);
  }

  static void Attach(SSL* ssl, DatagramEnds* ends) {
    BIO* bio = BIO_new(DatagramMethod());
    BIO_set_data(bio, ends);
    SSL_set_bio(ssl, bio, bio);
    SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
    DTLS_set_link_mtu(ssl, 1400);
  }

  bool Handshake() {
    bool client_done = false, server_done = false;
    for (int round = 0; round < 50 && !(client_done && server_done); ++round) {
      if (!client_done) client_done = Step(client_, SSL_connect(client_));
      if (!server_done) server_done = Step(server_, SSL_accept(server_));
    }
    return client_done && server_done;
  }
  static bool Step(SSL* ssl, int rc) {
    if (rc == 1) return true;
    const int error = SSL_get_error(ssl, rc);
    EXPECT_EQ(error, SSL_ERROR_WANT_READ) << ERR_error_string(ERR_get_error(), nullptr);
    return false;
  }

  // The key block of RFC 5246 section 6.3 for an AEAD suite: client_write_key,
  // server_write_key, client_write_IV, server_write_IV (no MAC keys).
  DtlsRecordKeys FastPathKeys(uint64_t next_send_sequence) {
    const Suite& suite = GetParam().suite;
    uint8_t master[48];
    EXPECT_EQ(SSL_SESSION_get_master_key(SSL_get_session(client_), master, sizeof(master)), 48u);
    std::vector<uint8_t> seed = {'k', 'e', 'y', ' ', 'e', 'x', 'p', 'a', 'n', 's', 'i', 'o', 'n'};
    uint8_t random[32];
    EXPECT_EQ(SSL_get_server_random(client_, random, 32), 32u);
    seed.insert(seed.end(), random, random + 32);
    EXPECT_EQ(SSL_get_client_random(client_, random, 32), 32u);
    seed.insert(seed.end(), random, random + 32);

    const size_t key_length = AeadKeyLength(suite.cipher);
    std::vector<uint8_t> block(2 * key_length + 8);
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "TLS1-PRF", nullptr);
    EVP_KDF_CTX* kctx = EVP_KDF_CTX_new(kdf);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                         const_cast<char*>(suite.prf_digest), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, master, sizeof(master)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed.data(), seed.size()),
        OSSL_PARAM_construct_end()};
    EXPECT_EQ(EVP_KDF_derive(kctx, block.data(), block.size(), params), 1);
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);

    AeadKeyMaterial client_write, server_write;
    client_write.cipher = server_write.cipher = suite.cipher;
    std::memcpy(client_write.key.data(), block.data(), key_length);
    std::memcpy(server_write.key.data(), block.data() + key_length, key_length);
    std::memcpy(client_write.salt.data(), block.data() + 2 * key_length, 4);
    std::memcpy(server_write.salt.data(), block.data() + 2 * key_length + 4, 4);

    DtlsRecordKeys keys;
    const bool server = GetParam().fast_path_is_server;
    keys.send = server ? server_write : client_write;
    keys.receive = server ? client_write : server_write;
    keys.epoch = 1;
    keys.next_send_sequence = next_send_sequence;
    return keys;
  }

  // What the side the fast path replaces sent in epoch 1 (its Finished): the next number to use.
  static uint64_t NextSequenceAfter(const std::vector<Datagram>& sent) {
    uint64_t next = 0;
    for (const Datagram& d : sent) {
      dataplane::DtlsDatagram records;
      EXPECT_EQ(dataplane::SplitDtlsRecords(d, &records), dataplane::WireError::kOk);
      for (size_t i = 0; i < records.count; ++i) {
        if (records.records[i].epoch == 1) next = std::max(next, records.records[i].sequence + 1);
      }
    }
    return next;
  }

  // Seals one record as the fast path and hands the datagram to the OpenSSL peer.
  void SealToPeer(const std::string& text, uint8_t type) {
    Datagram d(kRecordOverhead + text.size());
    std::memcpy(d.data() + kRecordPrefixLength, text.data(), text.size());
    RecordJob job;
    job.leg = &leg_;
    job.record = d.data();
    job.record_length = static_cast<uint32_t>(d.size());
    job.content_type = type;
    ASSERT_EQ(protector_.Seal(&job, 1), 1) << RecordResultName(job.result);
    peer_in().push_back(std::move(d));
  }

  // Opens the one datagram the OpenSSL peer has sent.
  std::string OpenFromPeer(uint8_t* type) {
    EXPECT_EQ(peer_out().size(), 1u);
    if (peer_out().empty()) return "";
    Datagram d = std::move(peer_out().front());
    peer_out().pop_front();
    RecordJob job;
    job.leg = &leg_;
    job.record = d.data();
    job.record_length = static_cast<uint32_t>(d.size());
    EXPECT_EQ(protector_.Open(&job, 1, 0), 1) << RecordResultName(job.result);
    *type = job.content_type;
    return std::string(reinterpret_cast<char*>(job.plaintext()), job.plaintext_length());
  }

  SSL* peer() { return GetParam().fast_path_is_server ? client_ : server_; }
  // The peer's inbound and outbound queues.
  Queue& peer_in() { return GetParam().fast_path_is_server ? to_client_ : to_server_; }
  Queue& peer_out() { return GetParam().fast_path_is_server ? to_server_ : to_client_; }

  Queue to_server_, to_client_;
  DatagramEnds server_ends_{&to_server_, &to_client_, {}};
  DatagramEnds client_ends_{&to_client_, &to_server_, {}};
  SSL_CTX* server_ctx_ = nullptr;
  SSL_CTX* client_ctx_ = nullptr;
  SSL* server_ = nullptr;
  SSL* client_ = nullptr;
  SoftBackend backend_;
  RecordProtector protector_{backend_, RecordOptions{}};
  RecordLeg leg_;
};

TEST_P(OpensslInteropTest, RecordsCrossBothWays) {
  ASSERT_TRUE(Handshake()) << "the OpenSSL handshake did not complete";
  ASSERT_TRUE(to_server_.empty() && to_client_.empty());
  EXPECT_STREQ(SSL_get_cipher_name(client_), GetParam().suite.name);

  // The fast path continues the epoch-1 sequence of the side it replaces.
  const uint64_t next = NextSequenceAfter(
      GetParam().fast_path_is_server ? server_ends_.sent : client_ends_.sent);
  ASSERT_GE(next, 1u);
  ASSERT_TRUE(protector_.Install(leg_, FastPathKeys(next), 0).ok());

  char buffer[2048];
  for (const std::string& text :
       std::vector<std::string>{"hello from the fast path", "x", std::string(1400, 'F')}) {
    SealToPeer(text, dataplane::kDtlsApplicationData);
    const int n = SSL_read(peer(), buffer, sizeof(buffer));
    ASSERT_EQ(n, static_cast<int>(text.size())) << SSL_get_error(peer(), n);
    EXPECT_EQ(std::string(buffer, n), text);
  }
  for (const std::string& text :
       std::vector<std::string>{"hello from OpenSSL", "y", std::string(1400, 'O')}) {
    ASSERT_EQ(SSL_write(peer(), text.data(), static_cast<int>(text.size())),
              static_cast<int>(text.size()));
    uint8_t type = 0;
    EXPECT_EQ(OpenFromPeer(&type), text);
    EXPECT_EQ(type, dataplane::kDtlsApplicationData);
  }

  // close_notify (warning level 1, description 0) both ways.
  SealToPeer(std::string("\x01\x00", 2), dataplane::kDtlsAlert);
  const int n = SSL_read(peer(), buffer, sizeof(buffer));
  EXPECT_EQ(n, 0);
  EXPECT_EQ(SSL_get_error(peer(), n), SSL_ERROR_ZERO_RETURN);
  EXPECT_GE(SSL_shutdown(peer()), 0);
  uint8_t type = 0;
  EXPECT_EQ(OpenFromPeer(&type), std::string("\x01\x00", 2));
  EXPECT_EQ(type, dataplane::kDtlsAlert);
}

const Suite kAes128{"ECDHE-RSA-AES128-GCM-SHA256", AeadCipher::kAes128Gcm, "SHA256"};
const Suite kAes256{"ECDHE-RSA-AES256-GCM-SHA384", AeadCipher::kAes256Gcm, "SHA384"};

INSTANTIATE_TEST_SUITE_P(Suites, OpensslInteropTest,
                         ::testing::Values(InteropCase{kAes128, true}, InteropCase{kAes128, false},
                                           InteropCase{kAes256, true},
                                           InteropCase{kAes256, false}),
                         CaseName);

}  // namespace
}  // namespace t38relay::crypto
