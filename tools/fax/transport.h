// The fax endpoint's datagram path: a kernel UDP socket, and for RFC 7345 a DTLS 1.2 association
// on it (handshake by crypto::DtlsEngine, records by crypto::RecordProtector on SoftBackend).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crypto/dtls/dtls_engine.h"
#include "crypto/dtls/identity.h"
#include "dataplane/wire/address.h"
#include "dataplane/wire/byte_reader.h"

namespace t38relay::tools::fax {

// "IP:PORT" (IPv4) or "[IPv6]:PORT"; errors name what is wrong.
absl::StatusOr<dataplane::SocketAddress> ParseSocketAddress(std::string_view text);

// A non-blocking UDP socket bound to one address.
class UdpSocket {
 public:
  // Errors carry strerror and the address ("bind 127.0.0.1:5000: Address already in use").
  static absl::StatusOr<UdpSocket> Bind(const dataplane::SocketAddress& local);
  UdpSocket(UdpSocket&& other) noexcept;
  UdpSocket& operator=(UdpSocket&& other) noexcept;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  ~UdpSocket();

  int fd() const { return fd_; }
  // The bound address (the kernel's port when 0 was asked for).
  const dataplane::SocketAddress& local() const { return local_; }
  absl::Status SendTo(dataplane::Bytes payload, const dataplane::SocketAddress& to);
  // One waiting datagram: its length (cut to the buffer) and source; nullopt when none waits.
  std::optional<size_t> Receive(dataplane::MutableBytes buffer, dataplane::SocketAddress* from);

 private:
  UdpSocket(int fd, dataplane::SocketAddress local) : fd_(fd), local_(local) {}
  int fd_ = -1;
  dataplane::SocketAddress local_;
};

// What a transport counts; every datagram sent or received, including DTLS handshake ones.
struct TransportCounters {
  uint64_t datagrams_sent = 0;
  uint64_t datagrams_received = 0;
  uint64_t payloads_sent = 0;      // UDPTL payloads (one datagram each)
  uint64_t payloads_received = 0;  // UDPTL payloads handed on
  uint64_t foreign = 0;            // from another source than the peer, or not DTLS on dtls
  uint64_t bad_records = 0;        // DTLS records that failed to open
  uint64_t send_errors = 0;
};

// The DTLS side of a transport.
struct DtlsSettings {
  crypto::DtlsRole role = crypto::DtlsRole::kClient;
  std::shared_ptr<const crypto::Identity> identity;
  std::vector<crypto::Fingerprint> peer_fingerprints;
  // Appends "CLIENT_RANDOM <client random> <master secret>" (hex) here once established; "" none.
  std::string keylog_path;
};

// Carries UDPTL payloads to and from the peer at `remote`, in the clear or in DTLS records.
// Datagrams from any other source are dropped. Single-threaded: the caller polls fd().
class FaxTransport {
 public:
  struct Callbacks {
    std::function<void(dataplane::Bytes udptl)> on_payload;
    std::function<void(std::string_view line)> log;  // progress for humans
  };

  static std::unique_ptr<FaxTransport> Plain(UdpSocket* socket, dataplane::SocketAddress remote,
                                             Callbacks callbacks);
  // Fails when the DTLS context or (client) engine cannot be created.
  static absl::StatusOr<std::unique_ptr<FaxTransport>> Dtls(UdpSocket* socket,
                                                            dataplane::SocketAddress remote,
                                                            DtlsSettings settings,
                                                            Callbacks callbacks);
  ~FaxTransport();
  FaxTransport(const FaxTransport&) = delete;
  FaxTransport& operator=(const FaxTransport&) = delete;

  // A DTLS client sends its ClientHello; nothing otherwise.
  void Start(uint64_t now_ms);
  // Reads and handles every datagram waiting on the socket.
  void Poll(uint64_t now_ms);
  // Runs the DTLS handshake timer when due.
  void OnTimer(uint64_t now_ms);
  std::optional<uint64_t> timer_deadline() const;

  // Payloads can flow: plain at once, DTLS once established.
  bool ready() const;
  // Why the association failed ("dtls: fingerprint mismatch", ...); "" while it has not.
  const std::string& failure() const { return failure_; }
  // The peer sent close_notify or another alert after the handshake.
  bool peer_closed() const { return peer_closed_; }
  // The negotiated suite ("ECDHE-ECDSA-AES128-GCM-SHA256"); "" for plain or before.
  std::string_view cipher() const;

  // Sends one UDPTL payload (sealed in a record for DTLS). FailedPrecondition before ready().
  absl::Status Send(dataplane::Bytes udptl);
  // DTLS: sends close_notify once (RFC 5246 section 7.2.1). Nothing for plain.
  void Close();

  const TransportCounters& counters() const { return counters_; }

 private:
  class DtlsPath;
  FaxTransport(UdpSocket* socket, dataplane::SocketAddress remote, Callbacks callbacks);
  void SendDatagram(dataplane::Bytes datagram);
  void HandleDatagram(dataplane::Bytes datagram, uint64_t now_ms);
  void Log(std::string_view line);

  UdpSocket* socket_;
  dataplane::SocketAddress remote_;
  Callbacks callbacks_;
  std::unique_ptr<DtlsPath> dtls_;
  std::string failure_;
  bool peer_closed_ = false;
  bool closed_ = false;
  TransportCounters counters_;
  std::vector<uint8_t> buffer_;
};

}  // namespace t38relay::tools::fax
