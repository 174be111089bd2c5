// FlowClient against a real FlowSocketServer (and a raw LineServer posing as a broken dataplane)
// polled from a thread: every method, error mapping, events, timeouts, the dataplane going away.
#include "control/flowclient/flow_client.h"

#include <poll.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "dataplane/flowsock/line_server.h"
#include "dataplane/flowsock/server.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace t38relay::control {
namespace {

using json = nlohmann::json;
namespace dp = ::t38relay::dataplane;

constexpr std::string_view kFingerprint =
    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:"
    "89";

dp::IpAddress Ip(std::string_view text) { return *dp::ParseIpAddress(text); }

dp::LegInfo Info(uint64_t leg) {
  dp::LegInfo info;
  info.leg = leg;
  info.transport = dp::LegTransport::kDtls;
  info.state = dp::LegState::kEstablished;
  info.local = {Ip("198.18.0.1"), static_cast<uint16_t>(20000 + leg)};
  info.remote = dp::SocketAddress{Ip("198.18.0.7"), 5004};
  info.latched = true;
  info.peer = leg + 1;
  info.setup = dp::DtlsSetup::kPassive;
  info.role = dp::DtlsRole::kServer;
  info.fingerprint = dp::FingerprintValue{"sha-256", std::string(kFingerprint)};
  info.label = "call-" + std::to_string(leg);
  info.counters = {10, 1000, 9, 900, {{"replay", 1}}};
  info.udptl = {9, 1, 0};
  return info;
}

// Runs on the server thread. `status` applies to every method that can fail.
class FakeFlowService : public dp::FlowService {
 public:
  dp::HelloInfo Hello() override {
    return dp::HelloInfo{"9.8.7", 4, {Ip("198.18.0.1"), Ip("2001:db8::1")}, 20000, 10000};
  }
  absl::StatusOr<dp::LegAddResult> AddLeg(const dp::LegAddRequest& request) override {
    std::lock_guard lock(mu);
    added.push_back(request);
    if (!status.ok()) return status;
    // An event published while the request runs reaches the client before the reply.
    if (server != nullptr) {
      server->Publish(dp::MakeLatchedEvent(41, {Ip("198.18.0.9"), 6000}));
    }
    dp::LegAddResult result;
    result.leg = 7;
    result.local = {Ip("198.18.0.1"), 20007};
    result.setup = dp::DtlsSetup::kActive;
    result.fingerprint = dp::FingerprintValue{"sha-256", std::string(kFingerprint)};
    return result;
  }
  absl::Status UpdateLeg(const dp::LegUpdateRequest& request) override {
    std::lock_guard lock(mu);
    updated.push_back(request);
    return status;
  }
  absl::Status LinkLegs(uint64_t a, uint64_t b) override {
    std::lock_guard lock(mu);
    linked.emplace_back(a, b);
    return status;
  }
  absl::Status DeleteLeg(uint64_t leg) override {
    std::lock_guard lock(mu);
    deleted.push_back(leg);
    return status;
  }
  absl::StatusOr<dp::LegInfo> GetLeg(uint64_t leg) override {
    if (leg == 999) std::this_thread::sleep_for(std::chrono::milliseconds(600));
    std::lock_guard lock(mu);
    if (!status.ok()) return status;
    return Info(leg);
  }
  std::vector<dp::LegInfo> ListLegs() override { return {Info(1), Info(2)}; }
  json Stats() override { return {{"legs", {{"active", 2}}}}; }

  std::mutex mu;
  absl::Status status;
  dp::FlowSocketServer* server = nullptr;
  std::vector<dp::LegAddRequest> added;
  std::vector<dp::LegUpdateRequest> updated;
  std::vector<std::pair<uint64_t, uint64_t>> linked;
  std::vector<uint64_t> deleted;
};

// Polls a server on its own thread; Run() executes a function there (Publish must be called on
// the Poll thread).
class ServerThread {
 public:
  explicit ServerThread(std::function<void(int)> poll) : poll_(std::move(poll)) {
    thread_ = std::thread([this] {
      while (!stop_) {
        std::vector<std::function<void()>> work;
        {
          std::lock_guard lock(mu_);
          work.swap(work_);
        }
        for (auto& f : work) f();
        poll_(5);
      }
    });
  }
  ~ServerThread() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void Run(std::function<void()> f) {
    std::lock_guard lock(mu_);
    work_.push_back(std::move(f));
  }

 private:
  std::function<void(int)> poll_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::function<void()>> work_;
  std::thread thread_;
};

class FlowClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/t38flowclientXXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/flow.sock";
  }
  void TearDown() override {
    StopServer();
    std::filesystem::remove_all(dir_);
  }

  void StartServer() {
    dp::FlowSocketServer::Options options;
    options.path = path_;
    auto server = dp::FlowSocketServer::Create(options, &service_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    service_.server = server_.get();
    thread_ = std::make_unique<ServerThread>([this](int ms) { server_->Poll(ms); });
  }
  void StopServer() {
    thread_.reset();
    service_.server = nullptr;
    server_.reset();
  }

  std::unique_ptr<FlowClient> MustConnect(int timeout_ms = 2000) {
    FlowClient::Options options;
    options.path = path_;
    options.reply_timeout_ms = timeout_ms;
    auto client = FlowClient::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }

  std::string dir_;
  std::string path_;
  FakeFlowService service_;
  std::unique_ptr<dp::FlowSocketServer> server_;
  std::unique_ptr<ServerThread> thread_;
};

TEST_F(FlowClientTest, ConnectFailsWithoutDataplane) {
  FlowClient::Options options;
  options.path = path_;
  auto client = FlowClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.status().message(),
            "cannot reach the dataplane at " + path_ +
                ": No such file or directory; is t38relay-dataplane running?");
}

TEST_F(FlowClientTest, HelloIsCachedAndSubscribed) {
  StartServer();
  auto client = MustConnect();
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->connected());
  EXPECT_GE(client->fd(), 0);
  const dp::HelloInfo hello = client->Hello();
  EXPECT_EQ(hello.version, "9.8.7");
  EXPECT_EQ(hello.workers, 4u);
  ASSERT_EQ(hello.addresses.size(), 2u);
  EXPECT_EQ(hello.addresses[1].ToString(), "2001:db8::1");
  EXPECT_EQ(hello.leg_ports_first, 20000);
  EXPECT_EQ(hello.leg_ports_count, 10000u);
  // The stats reply counts one subscriber: Connect subscribed.
  absl::StatusOr<json> stats = client->TryStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ((*stats)["legs"]["active"], 2);
  EXPECT_EQ((*stats)["socket"]["subscribers"], 1);
  EXPECT_EQ((*stats)["socket"]["requests"], 3);  // hello, events.subscribe, stats
  EXPECT_FALSE(stats->contains("ok"));
  EXPECT_FALSE(stats->contains("id"));
}

TEST_F(FlowClientTest, EveryMethod) {
  StartServer();
  auto client = MustConnect();
  ASSERT_NE(client, nullptr);

  dp::LegAddRequest add;
  add.transport = dp::LegTransport::kDtls;
  add.ip = Ip("198.18.0.1");
  add.remote = dp::SocketAddress{Ip("198.18.0.7"), 5004};
  add.setup = dp::DtlsSetup::kActive;
  add.remote_setup = dp::DtlsSetup::kPassive;
  add.fingerprints = {{"sha-256", std::string(kFingerprint)}};
  add.ice = dp::IceCredentials{"abcd", "asd88fgpdd777uzjYhagZg", "wxyz"};
  add.latch = dp::Latch::kStrict;
  add.anonymous = true;
  add.label = R"({"call":"a@b","tag":"x"})";
  absl::StatusOr<dp::LegAddResult> added = client->AddLeg(add);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->leg, 7u);
  EXPECT_EQ(added->local.ToString(), "198.18.0.1:20007");
  EXPECT_EQ(added->setup, dp::DtlsSetup::kActive);
  ASSERT_TRUE(added->fingerprint.has_value());
  EXPECT_EQ(added->fingerprint->value, kFingerprint);

  dp::LegUpdateRequest update;
  update.leg = 7;
  update.remote = dp::SocketAddress{Ip("198.18.0.8"), 5006};
  update.label = "moved";
  EXPECT_TRUE(client->UpdateLeg(update).ok());
  EXPECT_TRUE(client->LinkLegs(7, 8).ok());
  EXPECT_TRUE(client->DeleteLeg(8).ok());

  absl::StatusOr<dp::LegInfo> info = client->GetLeg(3);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(dp::LegInfoToJson(*info), dp::LegInfoToJson(Info(3)));

  absl::StatusOr<std::vector<dp::LegInfo>> legs = client->TryListLegs();
  ASSERT_TRUE(legs.ok()) << legs.status();
  ASSERT_EQ(legs->size(), 2u);
  EXPECT_EQ(dp::LegInfoToJson((*legs)[1]), dp::LegInfoToJson(Info(2)));
  EXPECT_EQ(client->ListLegs().size(), 2u);
  EXPECT_EQ(client->Stats()["legs"]["active"], 2);

  std::lock_guard lock(service_.mu);
  ASSERT_EQ(service_.added.size(), 1u);
  EXPECT_EQ(service_.added[0], add);  // every field crossed the socket intact
  ASSERT_EQ(service_.updated.size(), 1u);
  EXPECT_EQ(service_.updated[0], update);
  ASSERT_EQ(service_.linked.size(), 1u);
  EXPECT_EQ(service_.linked[0], std::make_pair(uint64_t{7}, uint64_t{8}));
  EXPECT_EQ(service_.deleted, std::vector<uint64_t>{8});
}

TEST_F(FlowClientTest, ErrorsMapBackToStatusCodes) {
  StartServer();
  auto client = MustConnect();
  ASSERT_NE(client, nullptr);
  const absl::Status cases[] = {
      absl::NotFoundError("no leg 5"),
      absl::FailedPreconditionError("leg 5 is linked"),
      absl::ResourceExhaustedError("no free port"),
      absl::InvalidArgumentError("relay address 10.0.0.1 is not ours"),
      absl::PermissionDeniedError("denied"),
      absl::UnavailableError("handshake lcore busy"),
      absl::DataLossError("boom"),
  };
  const absl::StatusCode expected[] = {
      absl::StatusCode::kNotFound,          absl::StatusCode::kFailedPrecondition,
      absl::StatusCode::kResourceExhausted, absl::StatusCode::kInvalidArgument,
      absl::StatusCode::kPermissionDenied,  absl::StatusCode::kUnavailable,
      absl::StatusCode::kInternal,
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    {
      std::lock_guard lock(service_.mu);
      service_.status = cases[i];
    }
    absl::Status deleted = client->DeleteLeg(5);
    EXPECT_EQ(deleted.code(), expected[i]) << cases[i];
    EXPECT_EQ(deleted.message(), cases[i].message());
    absl::StatusOr<dp::LegInfo> info = client->GetLeg(5);
    EXPECT_EQ(info.status().code(), expected[i]) << cases[i];
    EXPECT_TRUE(client->connected());  // an error reply is not a broken connection
  }
  // A request the server refuses itself: leg.link of a leg to itself is invalid-state.
  EXPECT_EQ(client->LinkLegs(4, 4).code(), absl::StatusCode::kFailedPrecondition);
  // ListLegs cannot report errors; TryListLegs can (the fake's ListLegs cannot fail, so only
  // the Stats fallback is checked here).
  EXPECT_TRUE(client->connected());
}

TEST_F(FlowClientTest, EventsBeforeAReplyAndBetweenRequests) {
  StartServer();
  auto client = MustConnect();
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->TakeEvents().empty());

  dp::LegAddRequest add;
  ASSERT_TRUE(client->AddLeg(add).ok());
  std::vector<dp::LegEvent> events = client->TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name, "leg.latched");
  EXPECT_EQ(events[0].leg, 41u);
  EXPECT_EQ(events[0].fields, json::parse(R"({"remote":{"ip":"198.18.0.9","port":6000}})"));
  EXPECT_TRUE(client->TakeEvents().empty());

  // Events published between requests: fd() turns readable, ReadEvents queues them in order.
  thread_->Run([this] {
    server_->Publish(dp::MakeEstablishedEvent(1, dp::DtlsRole::kClient, "AES128-GCM"));
    server_->Publish(dp::MakeFailedEvent(2, "alert"));
    server_->Publish(dp::MakeIdleEvent(3, 30));
  });
  std::vector<dp::LegEvent> got;
  for (int i = 0; i < 200 && got.size() < 3; ++i) {
    pollfd p{client->fd(), POLLIN, 0};
    if (poll(&p, 1, 10) == 1) {
      ASSERT_TRUE(client->ReadEvents().ok());
      for (auto& e : client->TakeEvents()) got.push_back(std::move(e));
    }
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].name, "leg.established");
  EXPECT_EQ(got[0].fields, json::parse(R"({"role":"client","cipher":"AES128-GCM"})"));
  EXPECT_EQ(got[1].name, "leg.failed");
  EXPECT_EQ(got[1].leg, 2u);
  EXPECT_EQ(got[2].name, "leg.idle");
  EXPECT_EQ(got[2].fields, json::parse(R"({"seconds":30})"));
  // Nothing more to read: ReadEvents does not block.
  EXPECT_TRUE(client->ReadEvents().ok());
  EXPECT_TRUE(client->TakeEvents().empty());
}

TEST_F(FlowClientTest, TimeoutBreaksTheConnection) {
  StartServer();
  auto client = MustConnect(150);
  ASSERT_NE(client, nullptr);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<dp::LegInfo> info = client->GetLeg(999);  // the service sleeps 600 ms
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(info.status().message(),
            "lost the dataplane at " + path_ + " during leg.get: no reply within 150 ms");
  EXPECT_LT(waited, std::chrono::milliseconds(550));
  EXPECT_FALSE(client->connected());
  EXPECT_EQ(client->fd(), -1);
  absl::Status again = client->DeleteLeg(1);
  EXPECT_EQ(again.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(again.message(),
            "not connected to the dataplane at " + path_ + " (the connection was lost); reconnect");
  EXPECT_EQ(client->ReadEvents().code(), absl::StatusCode::kUnavailable);
  // Reconnecting works.
  auto second = MustConnect();
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(second->DeleteLeg(1).ok());
}

TEST_F(FlowClientTest, DataplaneGoingAway) {
  StartServer();
  auto client = MustConnect();
  ASSERT_NE(client, nullptr);
  StopServer();
  // The fd reports the hang-up; ReadEvents sees it.
  pollfd p{client->fd(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 1000), 1);
  absl::Status read = client->ReadEvents();
  EXPECT_EQ(read.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(read.message(),
            "lost the dataplane at " + path_ + ": the server closed the connection");
  EXPECT_FALSE(client->connected());
  EXPECT_TRUE(client->ListLegs().empty());
  EXPECT_EQ(client->TryListLegs().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(client->Stats().contains("error"));
}

TEST_F(FlowClientTest, DataplaneGoingAwayDuringARequest) {
  StartServer();
  auto client = MustConnect();
  ASSERT_NE(client, nullptr);
  // The request is sent to a server that closes instead of answering.
  thread_.reset();
  server_.reset();
  absl::Status status = client->DeleteLeg(3);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(client->connected());
}

// A LineServer posing as a dataplane that answers with `reply(cmd, id)`.
class RawServerTest : public FlowClientTest {
 protected:
  void StartRaw(std::function<std::string(const std::string&, uint64_t)> reply) {
    dp::LineServer::Options options;
    options.path = path_;
    auto server = dp::LineServer::Create(
        options, [reply](dp::LineServer::Connection& c, std::string_view line) {
          const json request = json::parse(line);
          c.Reply(reply(request["cmd"].get<std::string>(), request["id"].get<uint64_t>()));
        });
    ASSERT_TRUE(server.ok()) << server.status();
    raw_ = std::move(*server);
    raw_thread_ = std::make_unique<ServerThread>([this](int ms) { raw_->Poll(ms); });
  }
  void TearDown() override {
    raw_thread_.reset();
    raw_.reset();
    FlowClientTest::TearDown();
  }
  static std::string Ok(uint64_t id, const json& results) { return dp::FormatReply(id, results); }
  static json GoodHello() {
    return dp::HelloToJson(dp::HelloInfo{"1", 1, {Ip("198.18.0.1")}, 20000, 100});
  }

  std::unique_ptr<dp::LineServer> raw_;
  std::unique_ptr<ServerThread> raw_thread_;
};

TEST_F(RawServerTest, NotADataplane) {
  StartRaw([](const std::string&, uint64_t id) {
    return Ok(id, {{"server", "t38relay-control"}, {"protocol", 1}, {"version", "1"}});
  });
  FlowClient::Options options;
  options.path = path_;
  auto client = FlowClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(client.status().message(),
            path_ +
                " is not a t38relay-dataplane flow socket of protocol 1 (hello said server "
                "\"t38relay-control\", protocol 1)");
}

TEST_F(RawServerTest, RefusedConnection) {
  StartRaw([](const std::string&, uint64_t) {
    return dp::FormatError(
        {std::nullopt, dp::ErrorCode::kPermissionDenied, "uid 1000 may not use the flow socket"});
  });
  FlowClient::Options options;
  options.path = path_;
  auto client = FlowClient::Connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client.status().message(), "uid 1000 may not use the flow socket");
}

TEST_F(RawServerTest, MalformedRepliesAreInternalErrorsNamingTheField) {
  StartRaw([](const std::string& cmd, uint64_t id) -> std::string {
    if (cmd == "hello") return Ok(id, GoodHello());
    if (cmd == "events.subscribe") return Ok(id, {{"subscribed", true}});
    if (cmd == "leg.add") {
      return Ok(id,
                {{"leg", 1}, {"local", {{"ip", "198.18.0.1"}, {"port", 0}}}, {"setup", "active"}});
    }
    if (cmd == "leg.get") {
      json leg = dp::LegInfoToJson(Info(1));
      leg["state"] = "dancing";
      return Ok(id, {{"leg", leg}});
    }
    if (cmd == "legs.list") {
      json leg = dp::LegInfoToJson(Info(1));
      leg["colour"] = "red";
      return Ok(id, {{"legs", {dp::LegInfoToJson(Info(2)), leg}}});
    }
    return "not json\n";
  });
  auto client = MustConnect();
  ASSERT_NE(client, nullptr);
  absl::StatusOr<dp::LegAddResult> added = client->AddLeg({});
  EXPECT_EQ(added.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(added.status().message(),
            "malformed leg.add reply from the dataplane: local.port: must be an integer 1..65535");
  absl::StatusOr<dp::LegInfo> info = client->GetLeg(1);
  EXPECT_EQ(info.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(info.status().message(),
            "malformed leg.get reply from the dataplane: state: must be one of \"plain\", "
            "\"waiting\", \"handshaking\", \"established\", \"failed\", not 'dancing'");
  absl::StatusOr<std::vector<dp::LegInfo>> legs = client->TryListLegs();
  EXPECT_EQ(legs.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(legs.status().message(),
            "malformed legs.list reply from the dataplane: legs[1]: unknown field 'colour'");
  EXPECT_TRUE(client->connected());
  // A line that is not JSON breaks the connection.
  EXPECT_EQ(client->DeleteLeg(1).code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(client->connected());
}

}  // namespace
}  // namespace t38relay::control
