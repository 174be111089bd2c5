// DTLS engine benchmarks: in-memory handshakes per second (server CPU only), wolfSSL's own record
// round trip, and the memory of an engine during and after the handshake.
#include <malloc.h>
#include <time.h>

#include <array>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "crypto/dtls/dtls_engine.h"

namespace t38relay::crypto {
namespace {

using dataplane::Bytes;

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Side : DtlsEngine::Delegate {
  std::deque<std::vector<uint8_t>>* out = nullptr;
  bool established = false;
  bool failed = false;
  size_t app_bytes = 0;
  size_t sent = 0;
  void SendDatagram(Bytes d) override {
    ++sent;
    out->emplace_back(d.begin(), d.end());
  }
  void OnEstablished(const DtlsRecordKeys&) override { established = true; }
  void OnFailed(DtlsFailure) override { failed = true; }
  void OnAlert(uint8_t, uint8_t) override {}
  void OnApplicationDataForTesting(Bytes d) override { app_bytes += d.size(); }
};

// One in-memory handshake through the stateless cookie responder, as the handshake lcore runs it.
class Handshake {
 public:
  Handshake(const DtlsContext* context, std::shared_ptr<const Identity> client_id,
            std::shared_ptr<const Identity> server_id, const std::string& ciphers,
            bool keep_session)
      : context_(context), server_id_(std::move(server_id)), keep_(keep_session) {
    client_.out = &to_server_;
    server_.out = &to_client_;
    DtlsEngineConfig config;
    config.role = DtlsRole::kClient;
    config.identity = std::move(client_id);
    config.peer_fingerprints = {ComputeFingerprint(FingerprintHash::kSha256,
                                                   server_id_->certificate_der())};
    client_fingerprint_ = ComputeFingerprint(FingerprintHash::kSha256,
                                             config.identity->certificate_der());
    config.cipher_list = ciphers;
    config.keep_session_for_testing = keep_session;
    client_engine_ = *context_->NewEngine(std::move(config), &client_);
  }

  // Runs to the end (or until the server engine has sent `stop_after_server_datagrams`);
  // returns the server side's thread CPU seconds, or -1 on failure.
  double Run(size_t stop_after_server_datagrams = SIZE_MAX) {
    double server_cpu = 0;
    client_engine_->Start(0);
    while (!(client_.established && server_.established)) {
      if (client_.failed || server_.failed) return -1;
      if (!to_server_.empty()) {
        std::vector<uint8_t> d = std::move(to_server_.front());
        to_server_.pop_front();
        const double t0 = ThreadCpuSeconds();
        ServerReceive(d);
        server_cpu += ThreadCpuSeconds() - t0;
        if (server_.sent >= stop_after_server_datagrams) return server_cpu;
      } else if (!to_client_.empty()) {
        std::vector<uint8_t> d = std::move(to_client_.front());
        to_client_.pop_front();
        client_engine_->Feed(d, 0);
      } else {
        return -1;
      }
    }
    return server_cpu;
  }

  DtlsEngine* client() { return client_engine_.get(); }
  std::unique_ptr<DtlsEngine> TakeServer() { return std::move(server_engine_); }
  DtlsEngine* server() { return server_engine_.get(); }
  std::deque<std::vector<uint8_t>>& to_server() { return to_server_; }
  Side& server_side() { return server_; }

 private:
  void ServerReceive(const std::vector<uint8_t>& d) {
    if (server_engine_ != nullptr) {
      server_engine_->Feed(d, 0);
    } else {
      std::array<uint8_t, DtlsCookieResponder::kMaxResponseLength> response;
      const auto r = context_->cookies().Check(d, kPeer, response);
      if (r.verdict == DtlsCookieResponder::Verdict::kVerifyRequest) {
        to_client_.emplace_back(response.begin(), response.begin() + r.response_length);
      } else if (r.verdict == DtlsCookieResponder::Verdict::kValidCookie) {
        DtlsEngineConfig config;
        config.role = DtlsRole::kServer;
        config.identity = server_id_;
        config.peer_fingerprints = {client_fingerprint_};
        config.peer_address.assign(kPeer.begin(), kPeer.end());
        config.cookie_secret_index = r.secret_index;
        config.keep_session_for_testing = keep_;
        server_engine_ = *context_->NewEngine(std::move(config), &server_);
        server_engine_->Feed(d, 0);
      }
    }
  }

  static constexpr std::array<uint8_t, 6> kPeer = {198, 18, 0, 1, 0x13, 0x88};
  const DtlsContext* context_;
  std::shared_ptr<const Identity> server_id_;
  Fingerprint client_fingerprint_;
  bool keep_;
  Side client_, server_;
  std::deque<std::vector<uint8_t>> to_server_, to_client_;
  std::unique_ptr<DtlsEngine> client_engine_, server_engine_;
};

void RunHandshakes(benchmark::State& state, KeyType type, const char* ciphers) {
  auto context = *DtlsContext::Create();
  const auto client_id = *Identity::Generate(type);
  const auto server_id = *Identity::Generate(type);
  double both_sides = 0;
  for (auto _ : state) {
    const double t0 = ThreadCpuSeconds();
    Handshake h(context.get(), client_id, server_id, ciphers, false);
    const double server_cpu = h.Run();
    both_sides += ThreadCpuSeconds() - t0;
    if (server_cpu < 0) {
      state.SkipWithError("handshake failed");
      return;
    }
    state.SetIterationTime(server_cpu);
  }
  state.SetItemsProcessed(state.iterations());
  // items_per_second is server CPU only (manual time); this counter is both sides on one core.
  state.counters["both_sides_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) / both_sides);
}

// Server side of full handshakes (cookie exchange, mutual certificates, fingerprint check).
void BM_HandshakeEcdheRsa(benchmark::State& state) {
  RunHandshakes(state, KeyType::kRsa2048, "ECDHE-RSA-AES128-GCM-SHA256");
}
void BM_HandshakeDheRsa(benchmark::State& state) {
  RunHandshakes(state, KeyType::kRsa2048, "DHE-RSA-AES128-GCM-SHA256");
}
void BM_HandshakeEcdheEcdsa(benchmark::State& state) {
  RunHandshakes(state, KeyType::kEcdsaP256, "ECDHE-ECDSA-AES128-GCM-SHA256");
}
BENCHMARK(BM_HandshakeEcdheRsa)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HandshakeDheRsa)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HandshakeEcdheEcdsa)->UseManualTime()->Unit(benchmark::kMillisecond);

// wolfSSL_write on one side and wolfSSL_read on the other of an established in-memory pair: the
// cost the fast path avoids.
void BM_RecordRoundtripWolfssl(benchmark::State& state) {
  auto context = *DtlsContext::Create();
  const auto id = *Identity::Generate(KeyType::kEcdsaP256);
  Handshake h(context.get(), id, id, "ECDHE-ECDSA-AES128-GCM-SHA256", true);
  if (h.Run() < 0) {
    state.SkipWithError("handshake failed");
    return;
  }
  const std::vector<uint8_t> payload(128, 0x5A);
  for (auto _ : state) {
    h.client()->WriteForTesting(payload);
    h.server()->Feed(h.to_server().front(), 0);
    h.to_server().pop_front();
  }
  if (h.server_side().app_bytes != payload.size() * state.iterations()) {
    state.SkipWithError("records lost");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordRoundtripWolfssl);

// Heap bytes per engine: mid-handshake (WOLFSSL alive, after the server's first flight) and
// after the hand-off (WOLFSSL freed; the engine and the copy of the final flight remain).
void BM_EngineMemory(benchmark::State& state) {
  auto context = *DtlsContext::Create();
  const auto client_id = *Identity::Generate(KeyType::kRsa2048);
  const auto server_id = *Identity::Generate(KeyType::kRsa2048);
  constexpr int kPairs = 32;
  double during = 0, after = 0;
  // wolfSSL's per-thread fixed-point ECC cache (FP_ECC) keeps up to ~12 MB of tables after the
  // first handshakes, bounded and shared by all engines: fill it before measuring engines.
  const size_t cold = mallinfo2().uordblks;
  for (int i = 0; i < 64; ++i) Handshake(context.get(), client_id, server_id, "", false).Run();
  state.counters["wolfssl_thread_cache_bytes"] =
      static_cast<double>(mallinfo2().uordblks - cold);
  for (auto _ : state) {
    {
      std::vector<std::unique_ptr<Handshake>> mid;
      const size_t base = mallinfo2().uordblks;
      for (int i = 0; i < kPairs; ++i) {
        mid.push_back(std::make_unique<Handshake>(context.get(), client_id, server_id, "", false));
        mid.back()->Run(/*stop_after_server_datagrams=*/1);
      }
      // Both engines of each pair hold a WOLFSSL in the middle of the handshake.
      during = static_cast<double>(mallinfo2().uordblks - base) / (2.0 * kPairs);
    }
    std::vector<std::unique_ptr<DtlsEngine>> established;
    const size_t base = mallinfo2().uordblks;
    for (int i = 0; i < kPairs; ++i) {
      Handshake h(context.get(), client_id, server_id, "", false);
      h.Run();
      established.push_back(h.TakeServer());
    }
    after = static_cast<double>(mallinfo2().uordblks - base) / kPairs;
  }
  state.counters["bytes_per_engine_handshaking"] = during;
  state.counters["bytes_per_engine_after_handoff"] = after;
}
BENCHMARK(BM_EngineMemory)->Iterations(1);

}  // namespace
}  // namespace t38relay::crypto
