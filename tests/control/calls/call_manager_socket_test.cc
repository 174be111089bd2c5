// CallManager through the real flow socket (FlowClient -> FlowSocketServer -> in-memory
// dataplane): what control sends passes the protocol's strict validation, labels survive the
// round trip, and a second control rebuilds the calls over its own connection.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "control/calls/call_manager.h"
#include "control/flowclient/flow_client.h"
#include "control/sdp/sdp.h"
#include "dataplane/flowsock/server.h"
#include "gtest/gtest.h"
#include "tests/control/calls/fake_flow_service.h"

namespace t38relay::control::calls {
namespace {

class CallManagerSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/t38callsXXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    dataplane::FlowSocketServer::Options options;
    options.path = dir_ + "/flow.sock";
    auto server = dataplane::FlowSocketServer::Create(options, &fake_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    thread_ = std::thread([this] {
      while (!stop_) server_->Poll(5);
    });
  }
  void TearDown() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<FlowClient> Connect() {
    FlowClient::Options options;
    options.path = dir_ + "/flow.sock";
    auto client = FlowClient::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }
  // The fake is touched by the server thread only while it runs: read it after StopServer().
  void StopServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  std::string dir_;
  testing::FakeFlowService fake_;
  std::unique_ptr<dataplane::FlowSocketServer> server_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

TEST_F(CallManagerSocketTest, OfferAnswerRecoverDeleteOverTheSocket) {
  const std::string offer =
      "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
      "m=image 6056 UDP/TLS/UDPTL t38\r\na=setup:actpass\r\n"
      "a=fingerprint:SHA-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB\r\n"
      "a=ice-ufrag:alic\r\na=ice-pwd:alicepassword0123456789\r\n"
      "a=T38FaxMaxDatagram:1472\r\n";
  const std::string answer =
      "v=0\r\no=- 2 2 IN IP4 198.51.100.20\r\ns=-\r\nc=IN IP4 198.51.100.20\r\nt=0 0\r\n"
      "m=image 7000 udptl t38\r\n";
  std::unique_ptr<FlowClient> client = Connect();
  ASSERT_NE(client, nullptr);
  CallManager manager({}, client.get());
  absl::StatusOr<std::string> out =
      manager.Offer({"call-1", "tag-a", offer, TransportPolicy::kPlain, true});
  ASSERT_TRUE(out.ok()) << out.status();
  absl::StatusOr<std::string> back = manager.Answer({"call-1", "tag-a", "tag-b", answer});
  ASSERT_TRUE(back.ok()) << back.status();
  absl::StatusOr<sdp::SessionDescription> s = sdp::ParseSdp(*back);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->media[0].port, 20000);
  EXPECT_EQ(s->media[0].FindAttribute("setup")->value, "active");

  std::unique_ptr<FlowClient> second = Connect();
  ASSERT_NE(second, nullptr);
  CallManager restarted({}, second.get());
  absl::StatusOr<size_t> n = restarted.Recover();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1u);
  absl::StatusOr<nlohmann::json> q = restarted.Query("call-1");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)["state"], "answered");
  EXPECT_EQ((*q)["anonymous"], true);
  EXPECT_EQ((*q)["legs"][0]["transport"], "dtls");
  EXPECT_EQ((*q)["legs"][1]["remote"]["port"], 7000);
  EXPECT_TRUE(restarted.Delete({"call-1", std::nullopt, std::nullopt}).ok());
  StopServer();
  EXPECT_TRUE(fake_.legs.empty());
  ASSERT_GE(fake_.adds.size(), 2u);
  EXPECT_EQ(fake_.adds[0].fingerprints[0].hash, "sha-1");
  EXPECT_EQ(fake_.adds[0].ice->remote_ufrag, "alic");
  EXPECT_TRUE(fake_.adds[0].anonymous);
  EXPECT_FALSE(fake_.adds[1].anonymous);
}

}  // namespace
}  // namespace t38relay::control::calls
