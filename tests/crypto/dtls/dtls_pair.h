// Test helper: a client and a server DtlsEngine joined in memory, with a fake clock, the
// stateless cookie responder in front of the server, and a hook that drops chosen flights.
#pragma once

#include <algorithm>
#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/dtls/dtls_engine.h"
#include "dataplane/wire/dtls_record.h"
#include "gtest/gtest.h"

namespace t38relay::crypto::testing {

// What one engine told its delegate.
struct Observed : DtlsEngine::Delegate {
  std::function<void(dataplane::Bytes)> send;
  std::optional<DtlsRecordKeys> keys;
  std::optional<DtlsFailure> failure;
  std::vector<std::pair<uint8_t, uint8_t>> alerts;
  std::vector<std::string> app_data;

  void SendDatagram(dataplane::Bytes d) override { send(d); }
  void OnEstablished(const DtlsRecordKeys& k) override { keys = k; }
  void OnFailed(DtlsFailure reason) override { failure = reason; }
  void OnAlert(uint8_t level, uint8_t description) override {
    alerts.emplace_back(level, description);
  }
  void OnApplicationDataForTesting(dataplane::Bytes d) override {
    app_data.emplace_back(d.begin(), d.end());
  }
};

struct PairOptions {
  std::shared_ptr<const Identity> client_identity;
  std::shared_ptr<const Identity> server_identity;
  std::string client_ciphers;  // empty: the defaults
  // What each side is told about the other; empty = the other's true sha-256 fingerprint.
  std::optional<std::vector<Fingerprint>> client_expects;  // the server's
  std::optional<std::vector<Fingerprint>> server_expects;  // the client's
  bool keep_session = false;
};

// Flights are numbered from 1 in the order they are sent (a retransmission is a new flight);
// `drop(n, from_client, first_datagram)` returning true loses all datagrams of flight n.
class DtlsPair {
 public:
  enum Side { kClient, kServer };

  DtlsPair(const DtlsContext* context, PairOptions options)
      : context_(context), options_(std::move(options)) {
    client_.send = [this](dataplane::Bytes d) { Sent(kClient, d); };
    server_.send = [this](dataplane::Bytes d) { Sent(kServer, d); };
    DtlsEngineConfig config;
    config.role = DtlsRole::kClient;
    config.identity = options_.client_identity;
    config.peer_fingerprints = options_.client_expects.value_or(
        std::vector<Fingerprint>{Sha256(*options_.server_identity)});
    config.cipher_list = options_.client_ciphers;
    config.keep_session_for_testing = options_.keep_session;
    auto engine = context_->NewEngine(std::move(config), &client_);
    EXPECT_TRUE(engine.ok()) << engine.status();
    client_engine_ = *std::move(engine);
  }

  static Fingerprint Sha256(const Identity& identity) {
    return ComputeFingerprint(FingerprintHash::kSha256, identity.certificate_der());
  }

  std::function<bool(int flight, Side from, dataplane::Bytes first)> drop;
  // The peer address bytes the server side sees for the client.
  std::vector<uint8_t> client_address{198, 18, 0, 1, 0x13, 0x88};

  // Runs until both sides are done (established or failed) or `limit_ms` of fake time passed.
  void Run(uint64_t limit_ms = 200'000) {
    Call([&] { client_engine_->Start(now_); });
    for (int steps = 0; steps < 100'000 && now_ <= limit_ms; ++steps) {
      if (Done()) return;
      if (!queue_.empty()) {
        auto [to, datagram] = std::move(queue_.front());
        queue_.pop_front();
        Deliver(to, datagram);
        continue;
      }
      std::optional<uint64_t> next;
      for (DtlsEngine* e : {client_engine_.get(), server_engine_.get()}) {
        if (e != nullptr && e->timer_deadline()) {
          next = std::min(next.value_or(*e->timer_deadline()), *e->timer_deadline());
        }
      }
      if (!next) return;  // nothing will ever happen
      now_ = std::max(now_, *next);
      for (DtlsEngine* e : {client_engine_.get(), server_engine_.get()}) {
        if (e != nullptr) Call([&] { e->OnTimer(now_); });
      }
    }
  }

  bool Done() const {
    auto done = [](const Observed& o) { return o.keys.has_value() || o.failure.has_value(); };
    return done(client_) && done(server_) && queue_.empty();
  }

  void Deliver(Side to, const std::vector<uint8_t>& datagram) {
    if (to == kClient) {
      Call([&] { client_engine_->Feed(datagram, now_); });
      return;
    }
    if (server_engine_ != nullptr) {
      Call([&] { server_engine_->Feed(datagram, now_); });
      return;
    }
    std::array<uint8_t, DtlsCookieResponder::kMaxResponseLength> response;
    const auto result = context_->cookies().Check(datagram, client_address, response);
    if (result.verdict == DtlsCookieResponder::Verdict::kVerifyRequest) {
      ++verify_requests;
      Call([&] { Sent(kServer, dataplane::Bytes(response.data(), result.response_length)); });
    } else if (result.verdict == DtlsCookieResponder::Verdict::kValidCookie) {
      DtlsEngineConfig config;
      config.role = DtlsRole::kServer;
      config.identity = options_.server_identity;
      config.peer_fingerprints = options_.server_expects.value_or(
          std::vector<Fingerprint>{Sha256(*options_.client_identity)});
      config.peer_address = client_address;
      config.cookie_secret_index = result.secret_index;
      config.keep_session_for_testing = options_.keep_session;
      auto engine = context_->NewEngine(std::move(config), &server_);
      ASSERT_TRUE(engine.ok()) << engine.status();
      server_engine_ = *std::move(engine);
      Call([&] { server_engine_->Feed(datagram, now_); });
    }
  }

  DtlsEngine* client() { return client_engine_.get(); }
  DtlsEngine* server() { return server_engine_.get(); }
  Observed& client_observed() { return client_; }
  Observed& server_observed() { return server_; }
  uint64_t now() const { return now_; }
  void Advance(uint64_t ms) { now_ += ms; }
  // Delivers what is queued, without timers.
  void Flush() {
    while (!queue_.empty()) {
      auto [to, datagram] = std::move(queue_.front());
      queue_.pop_front();
      Deliver(to, datagram);
    }
  }

  int verify_requests = 0;
  int flights = 0;
  int dropped_flights = 0;
  std::vector<std::vector<uint8_t>> sent_by_server;
  std::vector<std::vector<uint8_t>> sent_by_client;

 private:
  template <typename F>
  void Call(F f) {
    flight_open_ = false;
    f();
  }

  void Sent(Side from, dataplane::Bytes d) {
    if (!flight_open_) {
      flight_open_ = true;
      ++flights;
      dropping_ = drop && drop(flights, from, d);
      if (dropping_) ++dropped_flights;
    }
    (from == kServer ? sent_by_server : sent_by_client).emplace_back(d.begin(), d.end());
    if (!dropping_) queue_.emplace_back(from == kClient ? kServer : kClient,
                                        std::vector<uint8_t>(d.begin(), d.end()));
  }

  const DtlsContext* context_;
  PairOptions options_;
  Observed client_, server_;
  std::unique_ptr<DtlsEngine> client_engine_, server_engine_;
  std::deque<std::pair<Side, std::vector<uint8_t>>> queue_;
  uint64_t now_ = 0;
  bool flight_open_ = false;
  bool dropping_ = false;
};

// Whether a datagram holds a ChangeCipherSpec record (the start of a final flight).
inline bool HasChangeCipherSpec(dataplane::Bytes d) {
  dataplane::DtlsDatagram records;
  if (dataplane::SplitDtlsRecords(d, &records) != dataplane::WireError::kOk) return false;
  for (size_t i = 0; i < records.count; ++i) {
    if (records.records[i].content_type == dataplane::kDtlsChangeCipherSpec) return true;
  }
  return false;
}

}  // namespace t38relay::crypto::testing
