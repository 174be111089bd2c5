// The per-flow DTLS 1.2 handshake engine around wolfSSL: no sockets, mbufs or clocks. Datagrams
// go in through Feed(), out through a Delegate; keys leave once, through OnEstablished().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "crypto/dtls/cookie.h"
#include "crypto/dtls/fingerprint.h"
#include "crypto/dtls/identity.h"
#include "crypto/record/record_keys.h"
#include "dataplane/wire/byte_reader.h"

// wolfSSL's types, declared here so that code using another TLS library can include this header.
struct WOLFSSL;
struct WOLFSSL_CTX;

namespace t38relay::crypto {

// The DTLS role: client for a=setup:active, server for a=setup:passive (RFC 4145).
enum class DtlsRole : uint8_t { kClient, kServer };
enum class SdpSetup : uint8_t { kActive, kPassive, kActpass, kHoldconn };

// Our role once both setup values are known (RFC 4145 section 4, RFC 5763 section 5): an
// actpass side takes the opposite of the other's active/passive. Errors name the conflict.
absl::StatusOr<DtlsRole> ResolveDtlsRole(SdpSetup local, SdpSetup remote);

// Why a handshake failed; names are stable (they reach control events and counters).
enum class DtlsFailure : uint8_t {
  kFingerprintMismatch,  // the peer's certificate matches none of its a=fingerprint values
  kTimeout,              // retransmissions exhausted
  kAlert,                // the peer sent a fatal alert
  kProtocolError,        // anything else wolfSSL rejected
};
std::string_view DtlsFailureName(DtlsFailure failure);

struct DtlsContextOptions {
  // RFC 6347 section 4.2.4.1 timers: the first wait, doubled per retransmission up to the
  // maximum; the handshake fails when a wait at the maximum expires. wolfSSL counts seconds.
  int initial_timeout_s = 1;
  int max_timeout_s = 60;
  // Largest UDP payload we send during the handshake. This wolfSSL has no wolfSSL_dtls_set_mtu:
  // it cuts a handshake message into records of at most MAX_MTU (1400) bytes and hands a whole
  // flight to one send call; the engine packs those records into datagrams of at most `mtu`
  // bytes. A single record larger than `mtu` still goes out whole: with RSA-2048 and ECDSA
  // identities our largest record is the ~760-byte Certificate, so flights fit 1200.
  size_t mtu = 1200;
  // As a client, ask the server to cut its records to 512 or 1024 bytes (RFC 6066
  // max_fragment_length; wolfSSL then cuts its own too), for paths below ~1100 bytes. Off by
  // default: gnutls 3.7 then misreads datagrams longer than the fragment length.
  bool request_max_fragment_length = false;
  // Empty: ECDHE-RSA-AES128-GCM-SHA256 (preferred), DHE-RSA-AES128-GCM-SHA256 and
  // ECDHE-ECDSA-AES128-GCM-SHA256; the identity's key type selects what a server can use.
  std::string cipher_list;
};

struct DtlsEngineConfig {
  DtlsRole role = DtlsRole::kServer;
  std::shared_ptr<const Identity> identity;
  // The peer's a=fingerprint values. Empty: not known yet (we offered actpass/passive and the
  // answer has not arrived); the handshake may run but success waits for SetPeerFingerprints.
  std::vector<Fingerprint> peer_fingerprints;
  // Server: the source bytes and the secret DtlsCookieResponder::Check validated the cookie with.
  // Required for a server (NewEngine fails without it): wolfSSL binds its cookie to these bytes.
  std::vector<uint8_t> peer_address;
  int cookie_secret_index = 0;
  // Overrides DtlsContextOptions::cipher_list for this flow.
  std::string cipher_list;
  // TESTS AND BENCHMARKS ONLY; never set in the relay. Keeps the WOLFSSL object after
  // OnEstablished so that WriteForTesting() and Delegate::OnApplicationDataForTesting carry
  // application data through wolfSSL (interop tests against foreign peers, checks of the handed
  // off keys against wolfSSL's records, the wolfSSL record benchmark). The keys handed off then
  // describe the moment of the hand-off; wolfSSL and a fast path must never both send on the
  // epoch. Without it (the relay) the engine never reads or writes application data.
  bool keep_session_for_testing = false;
  // Diagnostics only (the fax endpoint's --keylog), never the relay: keeps wolfSSL's handshake
  // secrets to the end of the handshake and hands them once to Delegate::OnKeyLogSecrets, for an
  // SSLKEYLOGFILE that lets Wireshark decrypt the flow.
  bool export_key_log_secrets = false;
};

class DtlsContext;

// One flow's handshake. Not thread-safe: one handshake lcore drives it. The delegate's
// SendDatagram and OnAlert may be called during any call; OnEstablished and OnFailed come last
// in the call that causes them, so the delegate may destroy the engine there. The WOLFSSL object
// (~75 KB) lives from creation until the keys are handed off (or the handshake fails); what is
// left (~0.5 KB) re-sends the server's final flight when the peer repeats its own.
class DtlsEngine {
 public:
  class Delegate {
   public:
    virtual ~Delegate() = default;
    virtual void SendDatagram(dataplane::Bytes datagram) = 0;
    virtual void OnEstablished(const DtlsRecordKeys& keys) = 0;
    virtual void OnFailed(DtlsFailure reason) = 0;
    // level 1 warning, 2 fatal; description as in RFC 5246 section 7.2.
    virtual void OnAlert(uint8_t level, uint8_t description) = 0;
    // keep_session_for_testing only (tests, benchmarks): application data read by wolfSSL.
    virtual void OnApplicationDataForTesting(dataplane::Bytes) {}
    // export_key_log_secrets only: the 32-byte randoms and the 48-byte master secret (RFC 5246
    // section 8.1), once the handshake is done and before OnEstablished or a fingerprint
    // failure. The views die with the call; the delegate must not destroy the engine here.
    virtual void OnKeyLogSecrets(dataplane::Bytes /*client_random*/,
                                 dataplane::Bytes /*server_random*/,
                                 dataplane::Bytes /*master_secret*/) {}
  };

  enum class State : uint8_t { kHandshaking, kAwaitingFingerprint, kEstablished, kFailed };

  ~DtlsEngine();
  DtlsEngine(const DtlsEngine&) = delete;
  DtlsEngine& operator=(const DtlsEngine&) = delete;

  // Client: sends the ClientHello. Server: nothing (it starts on the first Feed).
  void Start(uint64_t now_ms);
  // One UDP payload from the peer. now_ms is any monotonic millisecond clock of the caller.
  void Feed(dataplane::Bytes datagram, uint64_t now_ms);
  // Call at or after timer_deadline(): retransmits the last flight or fails with kTimeout.
  void OnTimer(uint64_t now_ms);
  // When OnTimer wants to run; none when no flight waits for an answer.
  std::optional<uint64_t> timer_deadline() const { return deadline_ms_; }

  // The peer's a=fingerprint values, e.g. from an SDP answer that arrives after the handshake.
  void SetPeerFingerprints(std::vector<Fingerprint> fingerprints);

  // keep_session_for_testing only (tests, benchmarks), once established: sends application
  // data through wolfSSL. False otherwise.
  bool WriteForTesting(dataplane::Bytes data);

  State state() const { return state_; }
  // Whether the WOLFSSL object (~76 KB) still exists.
  bool has_session() const { return ssl_ != nullptr; }
  // The largest datagram sent so far.
  size_t largest_datagram() const { return largest_datagram_; }
  // The negotiated suite in OpenSSL spelling ("ECDHE-RSA-AES128-GCM-SHA256") once the handshake
  // is done, "" before; static storage, valid after the session is freed.
  std::string_view cipher_suite() const { return cipher_suite_; }

 private:
  friend class DtlsContext;
  friend struct WolfCallbacks;
  DtlsEngine(const DtlsContext* context, DtlsEngineConfig config, Delegate* delegate);
  absl::Status Init();

  void Step(uint64_t now_ms, bool first);
  void HandshakeDone();
  void ExportKeyLogSecrets();
  void Establish();
  void Fail(DtlsFailure reason);
  // Reports a newly received alert; true when it was fatal.
  bool ReportAlerts();
  void Emit(dataplane::Bytes datagram);
  void OnWolfSend(dataplane::Bytes data);
  void FreeSession();
  void ReadApplicationDataForTesting(dataplane::Bytes datagram);

  const DtlsContext* context_;
  DtlsEngineConfig config_;
  Delegate* delegate_;
  WOLFSSL* ssl_ = nullptr;
  State state_ = State::kHandshaking;
  bool started_ = false;
  std::optional<uint64_t> deadline_ms_;
  dataplane::Bytes pending_input_;
  bool sent_in_step_ = false;
  bool fingerprint_mismatch_ = false;
  int last_alert_code_ = -1;
  // Records we sent in the epoch of the handshake's Finished, for next_send_sequence.
  uint16_t send_epoch_ = 0;
  uint64_t send_sequence_ = 0;
  size_t largest_datagram_ = 0;
  std::string_view cipher_suite_;
  std::vector<uint8_t> peer_certificate_der_;
  DtlsRecordKeys keys_{};
  // The datagrams of the server's final flight (ChangeCipherSpec + Finished): wolfSSL never
  // re-sends it (defect 1), so we do when the peer repeats its flight.
  std::vector<std::vector<uint8_t>> step_datagrams_;
  std::vector<std::vector<uint8_t>> final_flight_;
};

// What all engines share: the two WOLFSSL_CTX (client, server), options and cookie secrets.
// Used from the handshake lcore; engines must not outlive it.
class DtlsContext {
 public:
  // Fails on bad options, when wolfSSL cannot allocate, or when no cookie secret can be drawn.
  static absl::StatusOr<std::unique_ptr<DtlsContext>> Create(DtlsContextOptions options = {});
  ~DtlsContext();
  DtlsContext(const DtlsContext&) = delete;
  DtlsContext& operator=(const DtlsContext&) = delete;

  // A server engine is created only for a datagram cookies().Check() found kValidCookie.
  absl::StatusOr<std::unique_ptr<DtlsEngine>> NewEngine(DtlsEngineConfig config,
                                                        DtlsEngine::Delegate* delegate) const;

  DtlsCookieResponder& cookies() { return cookies_; }
  const DtlsCookieResponder& cookies() const { return cookies_; }
  const DtlsContextOptions& options() const { return options_; }

 private:
  friend class DtlsEngine;
  DtlsContext(DtlsContextOptions options, DtlsCookieResponder cookies)
      : options_(std::move(options)), cookies_(std::move(cookies)) {}

  DtlsContextOptions options_;
  WOLFSSL_CTX* client_ctx_ = nullptr;
  WOLFSSL_CTX* server_ctx_ = nullptr;
  DtlsCookieResponder cookies_;
};

}  // namespace t38relay::crypto
