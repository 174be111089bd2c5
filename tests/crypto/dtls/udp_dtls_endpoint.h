// Test helper: a DtlsEngine on a real UDP socket on 127.0.0.1, with the stateless cookie
// responder in front of it as a server, driven by the steady clock.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/dtls/dtls_engine.h"
#include "tests/crypto/dtls/child_process.h"

namespace t38relay::crypto::testing {

// A UDP port on 127.0.0.1 that was free a moment ago (for peers that need a port number).
inline uint16_t FreeUdpPort() {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

class UdpDtlsEndpoint : public DtlsEngine::Delegate {
 public:
  // config.role decides client or server; keep_session_for_testing is forced on (application
  // data).
  UdpDtlsEndpoint(const DtlsContext* context, DtlsEngineConfig config)
      : context_(context), config_(std::move(config)) {
    config_.keep_session_for_testing = true;
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~UdpDtlsEndpoint() override { close(fd_); }

  uint16_t port() const { return port_; }
  DtlsEngine* engine() { return engine_.get(); }

  void StartClient(uint16_t remote_port) {
    remote_.sin_family = AF_INET;
    remote_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    remote_.sin_port = htons(remote_port);
    auto engine = context_->NewEngine(config_, this);
    if (!engine.ok()) return;
    engine_ = *std::move(engine);
    engine_->Start(NowMs());
  }

  // Pumps the socket, the engine's timers and the child's output until done() or timeout.
  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                ChildProcess* child) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (child != nullptr) child->Drain();
      if (done()) return true;
      const auto now = std::chrono::steady_clock::now();
      if (now >= end) return false;
      int wait_ms = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(end - now).count());
      wait_ms = std::min(wait_ms, 50);
      if (engine_ != nullptr && engine_->timer_deadline()) {
        const int64_t until = static_cast<int64_t>(*engine_->timer_deadline()) -
                              static_cast<int64_t>(NowMs());
        wait_ms = static_cast<int>(std::clamp<int64_t>(until, 0, wait_ms));
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, wait_ms) > 0) Receive();
      if (engine_ != nullptr) engine_->OnTimer(NowMs());
    }
  }

  bool Write(const std::string& text) {
    return engine_ != nullptr &&
           engine_->WriteForTesting(dataplane::Bytes(reinterpret_cast<const uint8_t*>(text.data()),
                                           text.size()));
  }

  std::optional<DtlsRecordKeys> keys;
  std::optional<DtlsFailure> failure;
  std::vector<std::pair<uint8_t, uint8_t>> alerts;
  std::string received;
  int verify_requests = 0;
  size_t largest_received = 0;

  void SendDatagram(dataplane::Bytes d) override {
    sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&remote_),
           sizeof(remote_));
  }
  void OnEstablished(const DtlsRecordKeys& k) override { keys = k; }
  void OnFailed(DtlsFailure reason) override { failure = reason; }
  void OnAlert(uint8_t level, uint8_t description) override {
    alerts.emplace_back(level, description);
  }
  void OnApplicationDataForTesting(dataplane::Bytes d) override {
    received.append(d.begin(), d.end());
  }

 private:
  uint64_t NowMs() const {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  }

  void Receive() {
    uint8_t buf[9000];
    sockaddr_in from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n = recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from),
                               &from_len);
    if (n <= 0) return;
    largest_received = std::max(largest_received, static_cast<size_t>(n));
    const dataplane::Bytes datagram(buf, static_cast<size_t>(n));
    if (engine_ != nullptr) {
      engine_->Feed(datagram, NowMs());
      return;
    }
    if (config_.role != DtlsRole::kServer) return;
    // Address and port bytes identify the source for the cookie.
    std::vector<uint8_t> peer(6);
    std::memcpy(peer.data(), &from.sin_addr, 4);
    std::memcpy(peer.data() + 4, &from.sin_port, 2);
    std::array<uint8_t, DtlsCookieResponder::kMaxResponseLength> response;
    const auto result = context_->cookies().Check(datagram, peer, response);
    if (result.verdict == DtlsCookieResponder::Verdict::kVerifyRequest) {
      ++verify_requests;
      sendto(fd_, response.data(), result.response_length, 0,
             reinterpret_cast<const sockaddr*>(&from), from_len);
    } else if (result.verdict == DtlsCookieResponder::Verdict::kValidCookie) {
      remote_ = from;
      DtlsEngineConfig config = config_;
      config.peer_address = peer;
      config.cookie_secret_index = result.secret_index;
      auto engine = context_->NewEngine(std::move(config), this);
      if (!engine.ok()) return;
      engine_ = *std::move(engine);
      engine_->Feed(datagram, NowMs());
    }
  }

  const DtlsContext* context_;
  DtlsEngineConfig config_;
  std::unique_ptr<DtlsEngine> engine_;
  int fd_ = -1;
  uint16_t port_ = 0;
  sockaddr_in remote_{};
};

}  // namespace t38relay::crypto::testing
