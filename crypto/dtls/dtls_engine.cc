// The per-flow DTLS 1.2 handshake engine: wolfSSL 5.5.4 driven through I/O callbacks.
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/dh.h>

#include "crypto/dtls/dtls_engine.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "dataplane/wire/dtls_record.h"

namespace t38relay::crypto {

using dataplane::Bytes;

namespace {

constexpr char kDefaultCiphers[] =
    "ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256";
// Defect 2: wolfSSL reads at most MAX_MTU (1400) bytes per datagram during the handshake unless
// a read of this size has raised its receive limit; OpenSSL peers send up to ~1800.
constexpr int kLargestPeerDatagram = 9000;
// Record header (13) + handshake header (12) + GCM overhead (24) around a handshake fragment.
constexpr size_t kHandshakeFragmentOverhead = 13 + 12 + 24;

// wolfSSL ends the handshake on a malformed record or handshake header, where RFC 6347 section
// 4.1.2.7 says to discard it: one forged datagram would otherwise kill a flow's handshake.
bool WellFormed(Bytes datagram) {
  dataplane::DtlsDatagram records;
  if (dataplane::SplitDtlsRecords(datagram, &records) != dataplane::WireError::kOk) return false;
  for (size_t i = 0; i < records.count; ++i) {
    const dataplane::DtlsRecord& r = records.records[i];
    if (r.version != dataplane::kDtls12Version && r.version != dataplane::kDtls10Version) {
      return false;
    }
    if (r.content_type != dataplane::kDtlsHandshake || r.epoch != 0) continue;
    Bytes rest = r.fragment;
    while (!rest.empty()) {
      dataplane::DtlsHandshakeHeader hs;
      if (dataplane::ParseDtlsHandshake(rest, &hs, &rest) != dataplane::WireError::kOk) {
        return false;
      }
    }
  }
  return true;
}

// Frees a container's storage (assigning {} keeps the capacity).
template <typename T>
void ReleaseMemory(T& container) {
  T().swap(container);
}

bool HasEpoch0Handshake(Bytes datagram) {
  dataplane::DtlsDatagram records;
  if (dataplane::SplitDtlsRecords(datagram, &records) != dataplane::WireError::kOk) return false;
  for (size_t i = 0; i < records.count; ++i) {
    if (records.records[i].content_type == dataplane::kDtlsHandshake &&
        records.records[i].epoch == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

// wolfSSL's C callbacks, with access to the engine they serve.
struct WolfCallbacks {
  static int Recv(WOLFSSL*, char* buf, int size, void* ctx) {
    auto* engine = static_cast<DtlsEngine*>(ctx);
    if (engine->pending_input_.empty()) return WOLFSSL_CBIO_ERR_WANT_READ;
    // Datagram semantics: whatever does not fit is lost, as with recvfrom().
    const size_t n = std::min(engine->pending_input_.size(), static_cast<size_t>(size));
    std::copy_n(engine->pending_input_.data(), n, reinterpret_cast<uint8_t*>(buf));
    engine->pending_input_ = {};
    return static_cast<int>(n);
  }

  static int Send(WOLFSSL*, char* buf, int size, void* ctx) {
    static_cast<DtlsEngine*>(ctx)->OnWolfSend(Bytes(reinterpret_cast<const uint8_t*>(buf), size));
    return size;
  }

  // Pins the peer's end-entity certificate to its SDP fingerprints: self-signed certificates are
  // the norm (RFC 7345 section 5.1), so the match, not a CA, is what makes it trusted.
  static int Verify(int /*preverify*/, WOLFSSL_X509_STORE_CTX* store) {
    auto* ssl = static_cast<WOLFSSL*>(
        wolfSSL_X509_STORE_CTX_get_ex_data(store, wolfSSL_get_ex_data_X509_STORE_CTX_idx()));
    if (ssl == nullptr) return 0;
    auto* engine = static_cast<DtlsEngine*>(wolfSSL_GetIOReadCtx(ssl));
    if (wolfSSL_X509_STORE_CTX_get_error_depth(store) > 0) return 1;
    WOLFSSL_X509* cert = wolfSSL_X509_STORE_CTX_get_current_cert(store);
    int size = 0;
    const uint8_t* der = cert != nullptr ? wolfSSL_X509_get_der(cert, &size) : nullptr;
    if (der == nullptr || size <= 0) return 0;
    engine->peer_certificate_der_.assign(der, der + size);
    // Not known yet: checked when SetPeerFingerprints() brings them.
    if (engine->config_.peer_fingerprints.empty()) return 1;
    if (MatchesAnyFingerprint(engine->config_.peer_fingerprints, engine->peer_certificate_der_)) {
      return 1;
    }
    engine->fingerprint_mismatch_ = true;
    return 0;
  }
};

absl::StatusOr<DtlsRole> ResolveDtlsRole(SdpSetup local, SdpSetup remote) {
  if (local == SdpSetup::kActive && remote != SdpSetup::kActive && remote != SdpSetup::kHoldconn) {
    return DtlsRole::kClient;
  }
  if (local == SdpSetup::kPassive && remote != SdpSetup::kPassive &&
      remote != SdpSetup::kHoldconn) {
    return DtlsRole::kServer;
  }
  if (local == SdpSetup::kActpass && remote == SdpSetup::kActive) return DtlsRole::kServer;
  if (local == SdpSetup::kActpass && remote == SdpSetup::kPassive) return DtlsRole::kClient;
  return absl::InvalidArgumentError(
      "a=setup values do not give one active and one passive side (RFC 4145 section 4); "
      "an answer must say active or passive");
}

std::string_view DtlsFailureName(DtlsFailure failure) {
  switch (failure) {
    case DtlsFailure::kFingerprintMismatch: return "fingerprint-mismatch";
    case DtlsFailure::kTimeout: return "timeout";
    case DtlsFailure::kAlert: return "alert";
    case DtlsFailure::kProtocolError: return "protocol-error";
  }
  return "unknown";
}

DtlsEngine::DtlsEngine(const DtlsContext* context, DtlsEngineConfig config, Delegate* delegate)
    : context_(context), config_(std::move(config)), delegate_(delegate) {}

// Keys still held here belong to a handshake whose fingerprint never arrived or matched.
DtlsEngine::~DtlsEngine() {
  WipeKeys(keys_);
  FreeSession();
}

absl::Status DtlsEngine::Init() {
  if (config_.identity == nullptr) return absl::InvalidArgumentError("DTLS engine needs an identity");
  // Without the source bytes wolfSSL's cookie is not bound to the source: any spoofed address
  // could replay a cookie handed out to another.
  if (config_.role == DtlsRole::kServer && config_.peer_address.empty()) {
    return absl::InvalidArgumentError(
        "a DTLS server engine needs peer_address: the source bytes its cookie was checked with");
  }
  const bool client = config_.role == DtlsRole::kClient;
  ssl_ = wolfSSL_new(client ? context_->client_ctx_ : context_->server_ctx_);
  if (ssl_ == nullptr) return absl::ResourceExhaustedError("wolfSSL_new failed (out of memory?)");
  wolfSSL_SetIOReadCtx(ssl_, this);
  wolfSSL_SetIOWriteCtx(ssl_, this);
  wolfSSL_dtls_set_using_nonblock(ssl_, 1);
  // wolfSSL frees the master secret and randoms when the handshake ends unless told to keep them.
  if (config_.export_key_log_secrets) wolfSSL_KeepArrays(ssl_);
  const auto cert = config_.identity->certificate_der();
  const auto key = config_.identity->private_key_der();
  if (wolfSSL_use_certificate_buffer(ssl_, cert.data(), static_cast<long>(cert.size()),
                                     WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
      wolfSSL_use_PrivateKey_buffer(ssl_, key.data(), static_cast<long>(key.size()),
                                    WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS) {
    return absl::InvalidArgumentError("wolfSSL rejected the identity's certificate or key");
  }
  // After the key: loading a key resets the suites to wolfSSL's defaults for that key.
  std::string ciphers = config_.cipher_list;
  if (ciphers.empty()) ciphers = context_->options_.cipher_list;
  if (ciphers.empty()) ciphers = kDefaultCiphers;
  if (wolfSSL_set_cipher_list(ssl_, ciphers.c_str()) != WOLFSSL_SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat("no usable cipher suite in '", ciphers, "'"));
  }
  const DtlsContextOptions& options = context_->options_;
  wolfSSL_dtls_set_timeout_init(ssl_, options.initial_timeout_s);
  wolfSSL_dtls_set_timeout_max(ssl_, options.max_timeout_s);
  if (client) {
    if (options.request_max_fragment_length) {
      const size_t room = options.mtu - kHandshakeFragmentOverhead;
      wolfSSL_UseMaxFragment(ssl_, room >= 1024 ? WOLFSSL_MFL_2_10 : WOLFSSL_MFL_2_9);
    }
  } else {
    const CookieSecret& secret = context_->cookies_.secret(config_.cookie_secret_index);
    if (wolfSSL_DTLS_SetCookieSecret(ssl_, secret.data(), secret.size()) != 0) {
      return absl::InternalError("wolfSSL_DTLS_SetCookieSecret failed");
    }
    if (wolfSSL_dtls_set_peer(ssl_, config_.peer_address.data(),
                              static_cast<unsigned>(config_.peer_address.size())) !=
            WOLFSSL_SUCCESS) {
      return absl::InternalError("wolfSSL_dtls_set_peer failed");
    }
  }
  return absl::OkStatus();
}

void DtlsEngine::Start(uint64_t now_ms) {
  if (config_.role != DtlsRole::kClient || started_ || state_ != State::kHandshaking) return;
  started_ = true;
  Step(now_ms, /*first=*/true);
}

void DtlsEngine::Feed(Bytes datagram, uint64_t now_ms) {
  switch (state_) {
    case State::kFailed:
      return;
    case State::kHandshaking: {
      if (!WellFormed(datagram)) return;
      pending_input_ = datagram;
      const bool first = !started_;
      started_ = true;
      Step(now_ms, first);
      return;
    }
    case State::kAwaitingFingerprint:
    case State::kEstablished:
      break;
  }
  // The peer repeats its last flight: our final flight was lost (defect 1).
  if (!final_flight_.empty() && HasEpoch0Handshake(datagram)) {
    for (const auto& d : final_flight_) Emit(d);
    return;
  }
  // The relay never reads application data through wolfSSL: its records go to the fast path.
  if (config_.keep_session_for_testing) ReadApplicationDataForTesting(datagram);
}

void DtlsEngine::ReadApplicationDataForTesting(Bytes datagram) {
  if (state_ != State::kEstablished || ssl_ == nullptr) return;
  pending_input_ = datagram;
  uint8_t buf[kLargestPeerDatagram];
  int n;
  while ((n = wolfSSL_read(ssl_, buf, sizeof(buf))) > 0) {
    delegate_->OnApplicationDataForTesting(Bytes(buf, n));
  }
  pending_input_ = {};
  ReportAlerts();
}

void DtlsEngine::OnTimer(uint64_t now_ms) {
  if (state_ != State::kHandshaking || !deadline_ms_ || now_ms < *deadline_ms_) return;
  if (wolfSSL_dtls_got_timeout(ssl_) != WOLFSSL_SUCCESS) {
    Fail(DtlsFailure::kTimeout);
    return;
  }
  // wolfSSL doubles past the maximum once (32 s -> 64 s); RFC 6347 caps the wait at 60 s.
  const int wait_s = std::min(wolfSSL_dtls_get_current_timeout(ssl_),
                              context_->options_.max_timeout_s);
  deadline_ms_ = now_ms + static_cast<uint64_t>(wait_s) * 1000;
}

void DtlsEngine::Step(uint64_t now_ms, bool first) {
  sent_in_step_ = false;
  step_datagrams_.clear();
  int rc;
  if (first) {
    // Only for defect 2: the first message of a handshake is never application data.
    uint8_t scratch[kLargestPeerDatagram];
    rc = wolfSSL_read(ssl_, scratch, sizeof(scratch));  // starts the handshake too
  } else {
    rc = config_.role == DtlsRole::kClient ? wolfSSL_connect(ssl_) : wolfSSL_accept(ssl_);
  }
  pending_input_ = {};
  const bool fatal_alert = ReportAlerts();
  if (wolfSSL_is_init_finished(ssl_)) {
    deadline_ms_.reset();
    HandshakeDone();
    return;
  }
  const int err = wolfSSL_get_error(ssl_, rc);
  if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) {
    if (sent_in_step_ || !deadline_ms_) {
      const int wait_s = std::min(wolfSSL_dtls_get_current_timeout(ssl_),
                                  context_->options_.max_timeout_s);
      deadline_ms_ = now_ms + static_cast<uint64_t>(wait_s) * 1000;
    }
    return;
  }
  Fail(fingerprint_mismatch_ ? DtlsFailure::kFingerprintMismatch
       : fatal_alert         ? DtlsFailure::kAlert
                             : DtlsFailure::kProtocolError);
}

void DtlsEngine::HandshakeDone() {
  if (config_.role == DtlsRole::kServer) final_flight_ = std::move(step_datagrams_);
  const int key_size = wolfSSL_GetKeySize(ssl_);
  if (wolfSSL_GetBulkCipher(ssl_) != wolfssl_aes_gcm || (key_size != 16 && key_size != 32) ||
      wolfSSL_GetIVSize(ssl_) < 4 || send_epoch_ == 0) {
    Fail(DtlsFailure::kProtocolError);
    return;
  }
  if (config_.export_key_log_secrets) ExportKeyLogSecrets();
  const AeadCipher cipher = key_size == 16 ? AeadCipher::kAes128Gcm : AeadCipher::kAes256Gcm;
  // wolfSSL's cipher suite table is static: the name outlives the session.
  if (const char* name = wolfSSL_get_cipher_name(ssl_)) cipher_suite_ = name;
  AeadKeyMaterial client_write{cipher}, server_write{cipher};
  std::copy_n(wolfSSL_GetClientWriteKey(ssl_), key_size, client_write.key.begin());
  std::copy_n(wolfSSL_GetClientWriteIV(ssl_), 4, client_write.salt.begin());
  std::copy_n(wolfSSL_GetServerWriteKey(ssl_), key_size, server_write.key.begin());
  std::copy_n(wolfSSL_GetServerWriteIV(ssl_), 4, server_write.salt.begin());
  const bool client = wolfSSL_GetSide(ssl_) == WOLFSSL_CLIENT_END;
  keys_.send = client ? client_write : server_write;
  keys_.receive = client ? server_write : client_write;
  SecureWipe(&client_write, sizeof(client_write));
  SecureWipe(&server_write, sizeof(server_write));
  keys_.epoch = send_epoch_;
  keys_.next_send_sequence = send_sequence_ + 1;
  state_ = State::kAwaitingFingerprint;
  if (!config_.peer_fingerprints.empty()) Establish();
}

void DtlsEngine::ExportKeyLogSecrets() {
  unsigned char* master = nullptr;
  unsigned char* server_random = nullptr;
  unsigned char* client_random = nullptr;
  unsigned int master_length = 0, server_random_length = 0, client_random_length = 0;
  if (wolfSSL_get_keys(ssl_, &master, &master_length, &server_random, &server_random_length,
                       &client_random, &client_random_length) == WOLFSSL_SUCCESS) {
    delegate_->OnKeyLogSecrets(Bytes(client_random, client_random_length),
                               Bytes(server_random, server_random_length),
                               Bytes(master, master_length));
  }
  wolfSSL_FreeArrays(ssl_);  // now, not with the session: they are of no further use
}

void DtlsEngine::SetPeerFingerprints(std::vector<Fingerprint> fingerprints) {
  config_.peer_fingerprints = std::move(fingerprints);
  if (state_ == State::kAwaitingFingerprint && !config_.peer_fingerprints.empty()) Establish();
}

void DtlsEngine::Establish() {
  // Also covers fingerprints that arrived during the handshake, after the certificate passed. No
  // certificate never matches: not even a fingerprint of empty input.
  if (peer_certificate_der_.empty() ||
      !MatchesAnyFingerprint(config_.peer_fingerprints, peer_certificate_der_)) {
    // No public API sends a fatal alert after the handshake: close_notify tells the peer.
    if (ssl_ != nullptr) wolfSSL_shutdown(ssl_);
    Fail(DtlsFailure::kFingerprintMismatch);
    return;
  }
  DtlsRecordKeys keys = keys_;
  WipeKeys(keys_);
  state_ = State::kEstablished;
  if (!config_.keep_session_for_testing) {
    // Only the copy of the final flight is still of use: let the rest go.
    FreeSession();
    ReleaseMemory(peer_certificate_der_);
    config_.identity.reset();
    ReleaseMemory(config_.peer_fingerprints);
    ReleaseMemory(config_.peer_address);
    ReleaseMemory(config_.cipher_list);
    ReleaseMemory(step_datagrams_);
  }
  delegate_->OnEstablished(keys);  // may destroy this engine: touch no member after it
  WipeKeys(keys);
}

void DtlsEngine::Fail(DtlsFailure reason) {
  state_ = State::kFailed;
  deadline_ms_.reset();
  WipeKeys(keys_);
  ReleaseMemory(final_flight_);
  ReleaseMemory(peer_certificate_der_);
  FreeSession();
  delegate_->OnFailed(reason);
}

bool DtlsEngine::WriteForTesting(Bytes data) {
  if (!config_.keep_session_for_testing || state_ != State::kEstablished || ssl_ == nullptr) {
    return false;
  }
  return wolfSSL_write(ssl_, data.data(), static_cast<int>(data.size())) ==
         static_cast<int>(data.size());
}

bool DtlsEngine::ReportAlerts() {
  // wolfSSL keeps only the last alert received: a repeat of the same one goes unreported.
  WOLFSSL_ALERT_HISTORY history;
  if (wolfSSL_get_alert_history(ssl_, &history) != WOLFSSL_SUCCESS) return false;
  if (history.last_rx.code < 0 || history.last_rx.code == last_alert_code_) return false;
  last_alert_code_ = history.last_rx.code;
  delegate_->OnAlert(static_cast<uint8_t>(history.last_rx.level),
                     static_cast<uint8_t>(history.last_rx.code));
  return history.last_rx.level == alert_fatal;
}

void DtlsEngine::OnWolfSend(Bytes data) {
  dataplane::DtlsDatagram records;
  if (dataplane::SplitDtlsRecords(data, &records) != dataplane::WireError::kOk) {
    Emit(data);
    return;
  }
  // Pack whole records into datagrams of at most mtu bytes; wolfSSL already cut each handshake
  // message to its fragment size, a record is never split.
  const size_t mtu = context_->options_.mtu;
  size_t start = 0;
  for (size_t i = 0; i < records.count; ++i) {
    const dataplane::DtlsRecord& r = records.records[i];
    if (r.epoch > send_epoch_ || (r.epoch == send_epoch_ && r.sequence > send_sequence_)) {
      send_epoch_ = r.epoch;
      send_sequence_ = r.sequence;
    }
    const size_t begin = static_cast<size_t>(r.fragment.data() - data.data()) - r.header_length();
    const size_t end = begin + r.header_length() + r.fragment.size();
    if (end - start > mtu && begin > start) {
      Emit(data.subspan(start, begin - start));
      start = begin;
    }
  }
  Emit(data.subspan(start));
}

void DtlsEngine::Emit(Bytes datagram) {
  largest_datagram_ = std::max(largest_datagram_, datagram.size());
  sent_in_step_ = true;
  if (state_ == State::kHandshaking && config_.role == DtlsRole::kServer) {
    step_datagrams_.emplace_back(datagram.begin(), datagram.end());
  }
  delegate_->SendDatagram(datagram);
}

void DtlsEngine::FreeSession() {
  if (ssl_ != nullptr) {
    wolfSSL_free(ssl_);
    ssl_ = nullptr;
  }
}

absl::StatusOr<std::unique_ptr<DtlsContext>> DtlsContext::Create(DtlsContextOptions options) {
  if (options.initial_timeout_s < 1 || options.max_timeout_s < options.initial_timeout_s) {
    return absl::InvalidArgumentError(
        "DTLS timers: initial timeout must be >= 1 s and <= the maximum timeout");
  }
  if (options.mtu < 576) {
    return absl::InvalidArgumentError("DTLS path MTU must be at least 576 bytes");
  }
  wolfSSL_Init();
  auto cookies = DtlsCookieResponder::Create();
  if (!cookies.ok()) return cookies.status();
  std::unique_ptr<DtlsContext> context(
      new DtlsContext(std::move(options), *std::move(cookies)));
  context->client_ctx_ = wolfSSL_CTX_new(wolfDTLSv1_2_client_method());
  context->server_ctx_ = wolfSSL_CTX_new(wolfDTLSv1_2_server_method());
  if (context->client_ctx_ == nullptr || context->server_ctx_ == nullptr) {
    return absl::ResourceExhaustedError("wolfSSL_CTX_new failed");
  }
  for (WOLFSSL_CTX* ctx : {context->client_ctx_, context->server_ctx_}) {
    wolfSSL_CTX_SetIORecv(ctx, WolfCallbacks::Recv);
    wolfSSL_CTX_SetIOSend(ctx, WolfCallbacks::Send);
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                           WolfCallbacks::Verify);
    // Sessions are never resumed (a fresh identity per call): no cache, no tickets.
    wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
    wolfSSL_CTX_NoTicketTLSv12(ctx);
  }
  const DhParams* ffdhe = wc_Dh_ffdhe2048_Get();
  if (wolfSSL_CTX_SetTmpDH(context->server_ctx_, ffdhe->p, static_cast<int>(ffdhe->p_len),
                           ffdhe->g, static_cast<int>(ffdhe->g_len)) != WOLFSSL_SUCCESS) {
    return absl::InternalError("wolfSSL_CTX_SetTmpDH(ffdhe2048) failed");
  }
  return context;
}

DtlsContext::~DtlsContext() {
  if (client_ctx_ != nullptr) wolfSSL_CTX_free(client_ctx_);
  if (server_ctx_ != nullptr) wolfSSL_CTX_free(server_ctx_);
}

absl::StatusOr<std::unique_ptr<DtlsEngine>> DtlsContext::NewEngine(
    DtlsEngineConfig config, DtlsEngine::Delegate* delegate) const {
  std::unique_ptr<DtlsEngine> engine(new DtlsEngine(this, std::move(config), delegate));
  if (absl::Status status = engine->Init(); !status.ok()) return status;
  return engine;
}

}  // namespace t38relay::crypto
