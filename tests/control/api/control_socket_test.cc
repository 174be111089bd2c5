// ControlSocketServer over a real Unix socket (polled from a thread) against a ControlService
// written here: every command's reply, error mapping, limits, socket file mode.
#include "control/api/control_socket.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "control/flowclient/line_client.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace t38relay::control {
namespace {

using json = nlohmann::json;

class FakeControlService : public ControlService {
 public:
  absl::StatusOr<std::string> Offer(const OfferRequest& request) override {
    std::lock_guard lock(mu);
    offers.push_back(request);
    if (!status.ok()) return status;
    return "v=0\r\nc=IN IP4 198.18.0.1\r\n";
  }
  absl::StatusOr<std::string> Answer(const AnswerRequest& request) override {
    std::lock_guard lock(mu);
    answers.push_back(request);
    if (!status.ok()) return status;
    return "v=0\r\nanswer\r\n";
  }
  absl::Status Delete(const DeleteRequest& request) override {
    std::lock_guard lock(mu);
    deletes.push_back(request);
    return status;
  }
  absl::StatusOr<json> Query(std::string_view call_id) override {
    std::lock_guard lock(mu);
    if (!status.ok()) return status;
    return json{{"call_id", std::string(call_id)}, {"state", "answered"}};
  }
  json List() override { return {{"calls", {{{"call_id", "a"}}, {{"call_id", "b"}}}}}; }
  json Stats() override {
    return {{"calls", 2}, {"dataplane", {{"connected", dataplane_connected.load()}}}};
  }

  std::mutex mu;
  absl::Status status;
  std::atomic<bool> dataplane_connected{true};
  std::vector<OfferRequest> offers;
  std::vector<AnswerRequest> answers;
  std::vector<DeleteRequest> deletes;
};

class ControlSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/t38controlXXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/control.sock";
  }
  void TearDown() override {
    Stop();
    std::filesystem::remove_all(dir_);
  }
  void Start(ControlSocketServer::Options options) {
    options.path = path_;
    auto server = ControlSocketServer::Create(std::move(options), &service_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    thread_ = std::thread([this] {
      while (!stop_) server_->Poll(5);
    });
  }
  void Start() { Start(ControlSocketServer::Options{}); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }
  std::unique_ptr<LineClient> Client() {
    auto client = LineClient::Connect({path_, 2000, size_t{1} << 20});
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }
  // One request (a JSON object without v/id) -> the reply.
  json Request(LineClient& client, json request) {
    const uint64_t id = client.NextId();
    request["v"] = 1;
    request["id"] = id;
    absl::StatusOr<json> reply = client.Call(id, request.dump() + "\n", [](json line) {
      return absl::InternalError("unexpected line " + line.dump());
    });
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? *reply : json();
  }

  std::string dir_;
  std::string path_;
  FakeControlService service_;
  std::unique_ptr<ControlSocketServer> server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(ControlSocketTest, EveryCommand) {
  ControlSocketServer::Options options;
  options.version = "1.2.3";
  Start(options);
  auto c = Client();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(Request(*c, {{"cmd", "hello"}}),
            json::parse(R"({"v":1,"id":1,"ok":true,"server":"t38relay-control","protocol":1,
                            "version":"1.2.3"})"));
  EXPECT_EQ(Request(*c, {{"cmd", "ping"}}),
            json::parse(R"({"v":1,"id":2,"ok":true,"dataplane":{"connected":true}})"));
  service_.dataplane_connected = false;
  EXPECT_EQ(Request(*c, {{"cmd", "ping"}})["dataplane"]["connected"], false);

  EXPECT_EQ(Request(*c, {{"cmd", "offer"},
                         {"call_id", "c1"},
                         {"from_tag", "f1"},
                         {"sip", "INVITE sip:a SIP/2.0\r\n\r\n"},
                         {"transport", "dtls"},
                         {"anonymous", true}}),
            json::parse(R"({"v":1,"id":4,"ok":true,"sdp":"v=0\r\nc=IN IP4 198.18.0.1\r\n"})"));
  EXPECT_EQ(Request(*c, {{"cmd", "answer"},
                         {"call_id", "c1"},
                         {"from_tag", "f1"},
                         {"to_tag", "t1"},
                         {"sdp", "v=0\r\n"}}),
            json::parse(R"({"v":1,"id":5,"ok":true,"sdp":"v=0\r\nanswer\r\n"})"));
  EXPECT_EQ(Request(*c, {{"cmd", "delete"}, {"call_id", "c1"}, {"from_tag", "f1"}}),
            json::parse(R"({"v":1,"id":6,"ok":true,"call_id":"c1"})"));
  EXPECT_EQ(Request(*c, {{"cmd", "query"}, {"call_id", "c1"}}),
            json::parse(R"({"v":1,"id":7,"ok":true,"call":{"call_id":"c1","state":"answered"}})"));
  EXPECT_EQ(Request(*c, {{"cmd", "list"}}),
            json::parse(R"({"v":1,"id":8,"ok":true,"calls":[{"call_id":"a"},{"call_id":"b"}]})"));
  const json stats = Request(*c, {{"cmd", "stats"}});
  EXPECT_EQ(stats["calls"], 2);
  EXPECT_EQ(stats["socket"]["requests"], 9);
  EXPECT_EQ(stats["socket"]["clients"], 1);
  EXPECT_EQ(stats["socket"]["accepted"], 1);

  std::lock_guard lock(service_.mu);
  ASSERT_EQ(service_.offers.size(), 1u);
  EXPECT_EQ(service_.offers[0].call_id, "c1");
  EXPECT_EQ(service_.offers[0].from_tag, "f1");
  EXPECT_EQ(service_.offers[0].body, "INVITE sip:a SIP/2.0\r\n\r\n");
  EXPECT_EQ(service_.offers[0].transport, TransportPolicy::kDtls);
  EXPECT_TRUE(service_.offers[0].anonymous);
  ASSERT_EQ(service_.answers.size(), 1u);
  EXPECT_EQ(service_.answers[0].to_tag, "t1");
  ASSERT_EQ(service_.deletes.size(), 1u);
  EXPECT_EQ(service_.deletes[0].from_tag, "f1");
  EXPECT_EQ(service_.deletes[0].to_tag, std::nullopt);
}

TEST_F(ControlSocketTest, PingFromTheCallback) {
  ControlSocketServer::Options options;
  std::atomic<int> calls{0};
  options.dataplane_connected = [&calls] {
    ++calls;
    return false;
  };
  Start(options);
  auto c = Client();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(Request(*c, {{"cmd", "ping"}})["dataplane"], json::parse(R"({"connected":false})"));
  EXPECT_EQ(calls, 1);
}

TEST_F(ControlSocketTest, ServiceErrorsAndProtocolErrors) {
  Start();
  auto c = Client();
  ASSERT_NE(c, nullptr);
  const std::pair<absl::Status, std::string_view> cases[] = {
      {absl::InvalidArgumentError("line 5: m=image: unsupported proto 'RTP/AVP'"), "bad-request"},
      {absl::NotFoundError("no call 'c9'"), "not-found"},
      {absl::FailedPreconditionError("call c9 has no offer yet"), "invalid-state"},
      {absl::ResourceExhaustedError("no free relay port"), "no-capacity"},
      {absl::UnavailableError("the dataplane is not connected"), "busy"},
      {absl::InternalError("bug"), "internal"},
  };
  for (const auto& [status, code] : cases) {
    {
      std::lock_guard lock(service_.mu);
      service_.status = status;
    }
    const json reply = Request(*c, {{"cmd", "query"}, {"call_id", "c9"}});
    EXPECT_EQ(reply["ok"], false);
    EXPECT_EQ(reply["error"], code);
    EXPECT_EQ(reply["message"], std::string(status.message()));
  }
  const json bad = Request(*c, {{"cmd", "offer"}, {"call_id", "c"}, {"from_tag", "f"}});
  EXPECT_EQ(bad, json::parse(R"js({"v":1,"id":7,"ok":false,"error":"bad-request",
      "message":"sdp: missing: give 'sdp' (an SDP body) or 'sip' (a whole SIP message)"})js"));
  const json unknown = Request(*c, {{"cmd", "legs.list"}});
  EXPECT_EQ(unknown["error"], "unknown-command");
  const json stats = Request(*c, {{"cmd", "stats"}});
  EXPECT_EQ(stats["socket"]["errors"]["not-found"], 1);
  EXPECT_EQ(stats["socket"]["errors"]["bad-request"], 2);
  EXPECT_EQ(stats["socket"]["errors"]["unknown-command"], 1);
  EXPECT_EQ(server_->counters().errors[static_cast<size_t>(dataplane::ErrorCode::kBusy)], 1u);
}

TEST_F(ControlSocketTest, LargeRequestsUpToTheLimit) {
  Start();
  auto c = Client();
  ASSERT_NE(c, nullptr);
  // A 64 KiB SDP of escaped characters stays under 256 KiB and is accepted.
  std::string body(kMaxBodyBytes, '"');
  json reply = Request(*c, {{"cmd", "offer"}, {"call_id", "c"}, {"from_tag", "f"}, {"sdp", body}});
  EXPECT_EQ(reply["ok"], true) << reply.dump().substr(0, 200);
  // A line over 256 KiB is too-large (and the connection goes on).
  const std::string huge = std::string(R"({"v":1,"id":99,"cmd":"list","x":")") +
                           std::string(kMaxControlLine, 'a') + "\"}\n";
  absl::StatusOr<json> refused = c->Call(99, huge, [](json) { return absl::OkStatus(); });
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ((*refused)["error"], "too-large");
  EXPECT_EQ((*refused)["message"],
            "request line longer than 262144 bytes; discarded up to its end");
  EXPECT_EQ(Request(*c, {{"cmd", "hello"}})["ok"], true);
}

TEST_F(ControlSocketTest, SocketFileModeAndErrors) {
  Start();
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  // A second server on the same path is refused, naming the control socket.
  ControlSocketServer::Options options;
  options.path = path_;
  auto second = ControlSocketServer::Create(options, &service_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(second.status().message(), "another server is listening on control socket '" + path_ +
                                           "'; stop it or choose another socket path");
  EXPECT_EQ(ControlSocketServer::Create({}, nullptr).status().message(),
            "control socket: no ControlService");
  Stop();
  EXPECT_FALSE(std::filesystem::exists(path_));  // unlinked on shutdown
}

}  // namespace
}  // namespace t38relay::control
