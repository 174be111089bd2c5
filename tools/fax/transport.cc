// UDP socket and the plain / DTLS (RFC 7345) datagram path of the fax endpoint.
#include "tools/fax/transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "crypto/record/record_protector.h"
#include "crypto/soft/soft_backend.h"
#include "dataplane/wire/demux.h"
#include "dataplane/wire/dtls_record.h"

namespace t38relay::tools::fax {

using dataplane::Bytes;
using dataplane::IpFamily;
using dataplane::SocketAddress;

namespace {

// Larger than any UDP payload over IPv4 or IPv6 without jumbograms.
constexpr size_t kMaxDatagram = 65536;
constexpr uint8_t kAlertWarning = 1;
constexpr uint8_t kAlertFatal = 2;
constexpr uint8_t kCloseNotify = 0;

socklen_t ToSockaddr(const SocketAddress& a, sockaddr_storage* out) {
  std::memset(out, 0, sizeof(*out));
  if (a.ip.family == IpFamily::kV6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(out);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(a.port);
    std::memcpy(&s6->sin6_addr, a.ip.bytes.data(), 16);
    return sizeof(sockaddr_in6);
  }
  auto* s4 = reinterpret_cast<sockaddr_in*>(out);
  s4->sin_family = AF_INET;
  s4->sin_port = htons(a.port);
  std::memcpy(&s4->sin_addr, a.ip.bytes.data(), 4);
  return sizeof(sockaddr_in);
}

SocketAddress FromSockaddr(const sockaddr_storage& s) {
  SocketAddress a;
  if (s.ss_family == AF_INET6) {
    const auto& s6 = reinterpret_cast<const sockaddr_in6&>(s);
    a.ip = dataplane::IpAddress::V6Bytes(reinterpret_cast<const uint8_t*>(&s6.sin6_addr));
    a.port = ntohs(s6.sin6_port);
  } else if (s.ss_family == AF_INET) {
    const auto& s4 = reinterpret_cast<const sockaddr_in&>(s);
    a.ip = dataplane::IpAddress::V4Bytes(reinterpret_cast<const uint8_t*>(&s4.sin_addr));
    a.port = ntohs(s4.sin_port);
  }
  return a;
}

// RFC 5246 section 7.2 names of the alerts a peer is likely to send.
std::string AlertName(uint8_t description) {
  switch (description) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    default: return absl::StrCat("alert ", description);
  }
}

std::string ToHex(Bytes bytes) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace

absl::StatusOr<SocketAddress> ParseSocketAddress(std::string_view input) {
  const std::string text(input);
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat("'", text, "': an IPv6 address is written [address]:port"));
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "' needs a port: IP:PORT"));
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", text, "': an IPv6 address is written [address]:port"));
    }
  }
  std::optional<dataplane::IpAddress> ip = dataplane::ParseIpAddress(host);
  if (!ip.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("'", host, "' is not an IP address"));
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("'", port, "' is not a port (0..65535)"));
  }
  return SocketAddress{*ip, static_cast<uint16_t>(value)};
}

absl::StatusOr<UdpSocket> UdpSocket::Bind(const SocketAddress& local) {
  const int family = local.ip.family == IpFamily::kV6 ? AF_INET6 : AF_INET;
  const int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_storage address;
  const socklen_t length = ToSockaddr(local, &address);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0) {
    const int error = errno;
    close(fd);
    return absl::InternalError(
        absl::StrCat("bind ", local.ToString(), ": ", std::strerror(error)));
  }
  // A fax burst (ECM frames with redundancy) must not be lost to a small default buffer.
  const int size = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  sockaddr_storage bound;
  socklen_t bound_length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
  return UdpSocket(fd, FromSockaddr(bound));
}

UdpSocket::UdpSocket(UdpSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), local_(other.local_) {}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    local_ = other.local_;
  }
  return *this;
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) close(fd_);
}

absl::Status UdpSocket::SendTo(Bytes payload, const SocketAddress& to) {
  sockaddr_storage address;
  const socklen_t length = ToSockaddr(to, &address);
  if (sendto(fd_, payload.data(), payload.size(), 0, reinterpret_cast<const sockaddr*>(&address),
             length) < 0) {
    return absl::UnavailableError(
        absl::StrCat("sendto ", to.ToString(), ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::optional<size_t> UdpSocket::Receive(dataplane::MutableBytes buffer, SocketAddress* from) {
  sockaddr_storage address;
  socklen_t length = sizeof(address);
  for (;;) {
    const ssize_t n = recvfrom(fd_, buffer.data(), buffer.size(), 0,
                               reinterpret_cast<sockaddr*>(&address), &length);
    if (n >= 0) {
      *from = FromSockaddr(address);
      return static_cast<size_t>(n);
    }
    // ICMP port unreachable from a peer not yet listening comes back as ECONNREFUSED: ignore it.
    if (errno == EINTR || errno == ECONNREFUSED) continue;
    return std::nullopt;
  }
}

// The DTLS association: handshake engine, then records through the software backend.
class FaxTransport::DtlsPath : public crypto::DtlsEngine::Delegate {
 public:
  DtlsPath(FaxTransport* owner, DtlsSettings settings)
      : owner_(owner), settings_(std::move(settings)), protector_(backend_, {}) {}
  ~DtlsPath() override { protector_.Release(leg_); }

  absl::Status Init() {
    crypto::DtlsContextOptions options;
    // A fax endpoint gives up on a silent peer after ~20 s rather than the relay's minutes.
    options.max_timeout_s = 8;
    absl::StatusOr<std::unique_ptr<crypto::DtlsContext>> context =
        crypto::DtlsContext::Create(options);
    if (!context.ok()) return context.status();
    context_ = *std::move(context);
    if (settings_.role == crypto::DtlsRole::kClient) {
      absl::StatusOr<std::unique_ptr<crypto::DtlsEngine>> engine =
          context_->NewEngine(EngineConfig(), this);
      if (!engine.ok()) return engine.status();
      engine_ = *std::move(engine);
    }
    return absl::OkStatus();
  }

  crypto::DtlsEngineConfig EngineConfig() const {
    crypto::DtlsEngineConfig config;
    config.role = settings_.role;
    config.identity = settings_.identity;
    config.peer_fingerprints = settings_.peer_fingerprints;
    config.export_key_log_secrets = !settings_.keylog_path.empty();
    return config;
  }

  void Start(uint64_t now_ms) {
    if (engine_ != nullptr) engine_->Start(now_ms);
  }

  void Handle(Bytes datagram, uint64_t now_ms) {
    if (dataplane::Demux(datagram) != dataplane::DemuxKind::kDtls) {
      ++owner_->counters_.foreign;
      return;
    }
    if (engine_ == nullptr) {
      Accept(datagram, now_ms);
      return;
    }
    if (!established_) {
      engine_->Feed(datagram, now_ms);
      return;
    }
    OpenRecords(datagram, now_ms);
  }

  void OnTimer(uint64_t now_ms) {
    if (engine_ != nullptr) engine_->OnTimer(now_ms);
  }
  std::optional<uint64_t> deadline() const {
    return engine_ != nullptr ? engine_->timer_deadline() : std::nullopt;
  }
  bool established() const { return established_; }
  std::string_view cipher() const {
    return engine_ != nullptr ? engine_->cipher_suite() : std::string_view();
  }

  absl::Status Seal(Bytes plaintext, uint8_t content_type) {
    std::vector<uint8_t>& record = seal_buffer_;
    record.assign(crypto::kRecordOverhead + plaintext.size(), 0);
    std::copy(plaintext.begin(), plaintext.end(), record.begin() + crypto::kRecordPrefixLength);
    crypto::RecordJob job{.leg = &leg_,
                          .record = record.data(),
                          .record_length = static_cast<uint32_t>(record.size()),
                          .content_type = content_type};
    if (protector_.Seal(&job, 1) != 1) {
      return absl::InternalError(
          absl::StrCat("DTLS record seal: ", std::string(crypto::RecordResultName(job.result))));
    }
    owner_->SendDatagram(record);
    return absl::OkStatus();
  }

  // crypto::DtlsEngine::Delegate
  void SendDatagram(Bytes datagram) override { owner_->SendDatagram(datagram); }
  void OnEstablished(const crypto::DtlsRecordKeys& keys) override {
    if (absl::Status s = protector_.Install(leg_, keys, 0); !s.ok()) {
      owner_->failure_ = absl::StrCat("dtls: record keys: ", std::string(s.message()));
      return;
    }
    established_ = true;
    owner_->Log(absl::StrCat("dtls: established as ",
                             settings_.role == crypto::DtlsRole::kClient ? "client" : "server",
                             ", ", std::string(cipher())));
  }
  void OnFailed(crypto::DtlsFailure reason) override {
    switch (reason) {
      case crypto::DtlsFailure::kFingerprintMismatch:
        owner_->failure_ = "dtls: fingerprint mismatch";
        break;
      case crypto::DtlsFailure::kTimeout:
        owner_->failure_ = "dtls: handshake timeout (no answer from the peer)";
        break;
      case crypto::DtlsFailure::kAlert:
        owner_->failure_ = absl::StrCat("dtls: handshake failed: the peer sent a fatal ",
                                        AlertName(last_alert_), " alert");
        break;
      case crypto::DtlsFailure::kProtocolError:
        owner_->failure_ = "dtls: handshake failed (protocol error)";
        break;
    }
  }
  void OnAlert(uint8_t level, uint8_t description) override {
    last_alert_ = description;
    owner_->Log(absl::StrCat("dtls: ", level == 2 ? "fatal " : "", AlertName(description),
                             " alert from the peer during the handshake"));
  }
  void OnKeyLogSecrets(Bytes client_random, Bytes, Bytes master_secret) override {
    const std::string line =
        absl::StrCat("CLIENT_RANDOM ", ToHex(client_random), " ", ToHex(master_secret), "\n");
    const int fd = open(settings_.keylog_path.c_str(),
                        O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      owner_->Log(absl::StrCat("keylog: cannot append to ", settings_.keylog_path, ": ",
                               std::strerror(errno)));
    }
    if (fd >= 0) close(fd);
  }

 private:
  // Server: a ClientHello passes the stateless cookie exchange before an engine exists.
  void Accept(Bytes datagram, uint64_t now_ms) {
    std::array<uint8_t, crypto::DtlsCookieResponder::kMaxResponseLength> response;
    const std::vector<uint8_t> peer = dataplane::AddressPortBytes(owner_->remote_);
    const auto result = context_->cookies().Check(datagram, peer, response);
    switch (result.verdict) {
      case crypto::DtlsCookieResponder::Verdict::kVerifyRequest:
        owner_->SendDatagram(Bytes(response.data(), result.response_length));
        return;
      case crypto::DtlsCookieResponder::Verdict::kDrop:
        ++owner_->counters_.foreign;
        return;
      case crypto::DtlsCookieResponder::Verdict::kValidCookie:
        break;
    }
    crypto::DtlsEngineConfig config = EngineConfig();
    config.peer_address = peer;
    config.cookie_secret_index = result.secret_index;
    absl::StatusOr<std::unique_ptr<crypto::DtlsEngine>> engine =
        context_->NewEngine(std::move(config), this);
    if (!engine.ok()) {
      owner_->failure_ = absl::StrCat("dtls: ", engine.status().message());
      return;
    }
    engine_ = *std::move(engine);
    engine_->Feed(datagram, now_ms);
  }

  void OpenRecords(Bytes datagram, uint64_t now_ms) {
    dataplane::DtlsDatagram records;
    if (dataplane::SplitDtlsRecords(datagram, &records) != dataplane::WireError::kOk) {
      ++owner_->counters_.bad_records;
      return;
    }
    for (size_t i = 0; i < records.count; ++i) {
      const dataplane::DtlsRecord& r = records.records[i];
      if (r.content_type != dataplane::kDtlsApplicationData &&
          r.content_type != dataplane::kDtlsAlert) {
        // A repeated flight of the peer: the engine re-sends our final flight.
        engine_->Feed(datagram, now_ms);
        return;
      }
      const uint8_t* start = r.fragment.data() - r.header_length();
      open_buffer_.assign(start, r.fragment.data() + r.fragment.size());
      crypto::RecordJob job{.leg = &leg_,
                            .record = open_buffer_.data(),
                            .record_length = static_cast<uint32_t>(open_buffer_.size())};
      if (protector_.Open(&job, 1, now_ms) != 1) {
        ++owner_->counters_.bad_records;
        continue;
      }
      const Bytes plaintext(job.plaintext(), job.plaintext_length());
      if (job.content_type == dataplane::kDtlsAlert) {
        // RFC 5246 section 7.2: close_notify and fatal alerts end the association; a warning
        // does not.
        const uint8_t level = plaintext.size() >= 2 ? plaintext[0] : kAlertFatal;
        const uint8_t description = plaintext.size() >= 2 ? plaintext[1] : 0;
        owner_->Log(absl::StrCat("dtls: ", AlertName(description), " from the peer"));
        if (level == kAlertFatal || description == kCloseNotify) owner_->peer_closed_ = true;
        continue;
      }
      ++owner_->counters_.payloads_received;
      owner_->callbacks_.on_payload(plaintext);
    }
  }

  FaxTransport* owner_;
  DtlsSettings settings_;
  std::unique_ptr<crypto::DtlsContext> context_;
  std::unique_ptr<crypto::DtlsEngine> engine_;
  crypto::SoftBackend backend_;
  crypto::RecordProtector protector_;
  crypto::RecordLeg leg_;
  bool established_ = false;
  uint8_t last_alert_ = 0;
  std::vector<uint8_t> seal_buffer_;
  std::vector<uint8_t> open_buffer_;
};

FaxTransport::FaxTransport(UdpSocket* socket, SocketAddress remote, Callbacks callbacks)
    : socket_(socket), remote_(remote), callbacks_(std::move(callbacks)), buffer_(kMaxDatagram) {}

FaxTransport::~FaxTransport() = default;

std::unique_ptr<FaxTransport> FaxTransport::Plain(UdpSocket* socket, SocketAddress remote,
                                                  Callbacks callbacks) {
  return std::unique_ptr<FaxTransport>(new FaxTransport(socket, remote, std::move(callbacks)));
}

absl::StatusOr<std::unique_ptr<FaxTransport>> FaxTransport::Dtls(UdpSocket* socket,
                                                                 SocketAddress remote,
                                                                 DtlsSettings settings,
                                                                 Callbacks callbacks) {
  std::unique_ptr<FaxTransport> transport(new FaxTransport(socket, remote, std::move(callbacks)));
  transport->dtls_ = std::make_unique<DtlsPath>(transport.get(), std::move(settings));
  if (absl::Status s = transport->dtls_->Init(); !s.ok()) return s;
  return transport;
}

void FaxTransport::Start(uint64_t now_ms) {
  if (dtls_ != nullptr) dtls_->Start(now_ms);
}

void FaxTransport::Poll(uint64_t now_ms) {
  // Bounded: a flood (from anyone) must not keep the caller from its 20 ms fax ticks and timers.
  constexpr int kMostPerPoll = 64;
  SocketAddress from;
  for (int i = 0; i < kMostPerPoll; ++i) {
    std::optional<size_t> n = socket_->Receive(buffer_, &from);
    if (!n.has_value()) break;
    ++counters_.datagrams_received;
    if (from != remote_) {
      ++counters_.foreign;
      continue;
    }
    HandleDatagram(Bytes(buffer_.data(), *n), now_ms);
  }
}

void FaxTransport::HandleDatagram(Bytes datagram, uint64_t now_ms) {
  if (dtls_ != nullptr) {
    dtls_->Handle(datagram, now_ms);
    return;
  }
  ++counters_.payloads_received;
  callbacks_.on_payload(datagram);
}

void FaxTransport::OnTimer(uint64_t now_ms) {
  if (dtls_ != nullptr) dtls_->OnTimer(now_ms);
}

std::optional<uint64_t> FaxTransport::timer_deadline() const {
  return dtls_ != nullptr ? dtls_->deadline() : std::nullopt;
}

bool FaxTransport::ready() const {
  return failure_.empty() && (dtls_ == nullptr || dtls_->established());
}

std::string_view FaxTransport::cipher() const {
  return dtls_ != nullptr ? dtls_->cipher() : std::string_view();
}

absl::Status FaxTransport::Send(Bytes udptl) {
  if (!ready()) return absl::FailedPreconditionError("the transport is not established");
  ++counters_.payloads_sent;
  if (dtls_ == nullptr) {
    SendDatagram(udptl);
    return absl::OkStatus();
  }
  return dtls_->Seal(udptl, dataplane::kDtlsApplicationData);
}

void FaxTransport::Close() {
  if (dtls_ == nullptr || !ready() || closed_) return;
  closed_ = true;
  const uint8_t alert[2] = {kAlertWarning, kCloseNotify};
  (void)dtls_->Seal(alert, dataplane::kDtlsAlert);
}

void FaxTransport::SendDatagram(Bytes datagram) {
  if (absl::Status s = socket_->SendTo(datagram, remote_); !s.ok()) {
    // One report is enough: the peer's port may simply not be open yet.
    if (counters_.send_errors++ == 0) Log(std::string(s.message()));
    return;
  }
  ++counters_.datagrams_sent;
}

void FaxTransport::Log(std::string_view line) {
  if (callbacks_.log) callbacks_.log(line);
}

}  // namespace t38relay::tools::fax
