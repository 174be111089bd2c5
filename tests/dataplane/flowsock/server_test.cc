// FlowSocketServer over a real Unix socket in a temporary directory, against a FlowService
// written here: framing, concurrent clients, hostile input, slow readers, events, permissions, socket files.
#include "dataplane/flowsock/server.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace t38relay::dataplane {
namespace {

using json = nlohmann::json;

class FakeService : public FlowService {
 public:
  HelloInfo Hello() override {
    return HelloInfo{"0.1.0", 2, {IpAddress::V4(0xC6120001)}, 20000, 10000};
  }
  absl::StatusOr<LegAddResult> AddLeg(const LegAddRequest& request) override {
    added.push_back(request);
    if (!add_status.ok()) return add_status;
    LegAddResult result;
    result.leg = next_leg++;
    result.local = {IpAddress::V4(0xC6120001), static_cast<uint16_t>(20000 + result.leg)};
    result.setup = request.setup;
    if (request.transport == LegTransport::kDtls) {
      result.fingerprint = FingerprintValue{"sha-256", "AB:CD"};
    }
    return result;
  }
  absl::Status UpdateLeg(const LegUpdateRequest& request) override {
    updated.push_back(request);
    return status;
  }
  absl::Status LinkLegs(uint64_t a, uint64_t b) override {
    linked.emplace_back(a, b);
    return status;
  }
  absl::Status DeleteLeg(uint64_t leg) override {
    deleted.push_back(leg);
    if (on_delete) on_delete(leg);
    return status;
  }
  absl::StatusOr<LegInfo> GetLeg(uint64_t leg) override {
    if (!status.ok()) return status;
    return Info(leg);
  }
  std::vector<LegInfo> ListLegs() override {
    std::vector<LegInfo> legs;
    for (uint64_t i = 0; i < list_size; ++i) legs.push_back(Info(i));
    return legs;
  }
  nlohmann::json Stats() override { return {{"legs", {{"active", 1}, {"capacity", 100}}}}; }

  static LegInfo Info(uint64_t leg) {
    LegInfo info;
    info.leg = leg;
    info.transport = LegTransport::kDtls;
    info.state = LegState::kWaiting;
    info.local = {IpAddress::V4(0xC6120001), static_cast<uint16_t>(20000 + leg % 10000)};
    info.setup = DtlsSetup::kActpass;
    info.fingerprint = FingerprintValue{
        "sha-256",
        "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:"
        "45:67:89"};
    info.counters.drops = {{"replay", leg}};
    return info;
  }

  uint64_t next_leg = 1;
  size_t list_size = 3;
  absl::Status status;
  absl::Status add_status;
  std::vector<LegAddRequest> added;
  std::vector<LegUpdateRequest> updated;
  std::vector<std::pair<uint64_t, uint64_t>> linked;
  std::vector<uint64_t> deleted;
  std::function<void(uint64_t)> on_delete;
};

int ConnectTo(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// A client in the test's thread: every wait pumps the server with Poll.
class TestClient {
 public:
  TestClient(const std::string& path, FlowSocketServer* server)
      : fd_(ConnectTo(path)), server_(server) {}
  ~TestClient() { Close(); }
  bool connected() const { return fd_ >= 0; }
  // The server is gone: waits sleep instead of polling it.
  void Detach() { server_ = nullptr; }
  int fd() const { return fd_; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  // Sends everything, polling the server whenever the socket is full.
  void Send(std::string_view data) {
    size_t pos = 0;
    for (int spins = 0; pos < data.size() && spins < 100000; ++spins) {
      const ssize_t n = send(fd_, data.data() + pos, data.size() - pos, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        pos += static_cast<size_t>(n);
      } else {
        ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);
        server_->Poll(1);
      }
    }
    ASSERT_EQ(pos, data.size());
  }

  // The next line (without "\n"), or nullopt on EOF or after ~2 s.
  std::optional<std::string> ReadLine(size_t chunk = 65536) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      const size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      if (eof_) return std::nullopt;
      if (server_ != nullptr) {
        server_->Poll(2);
      } else {
        usleep(2000);
      }
      std::vector<char> data(chunk);
      const ssize_t n = recv(fd_, data.data(), data.size(), MSG_DONTWAIT);
      if (n > 0) {
        buffer_.append(data.data(), static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        eof_ = true;
      }
    }
    return std::nullopt;
  }

  json ReadJson() {
    std::optional<std::string> line = ReadLine();
    if (!line) {
      ADD_FAILURE() << "no reply";
      return nullptr;
    }
    json j = json::parse(*line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << *line;
    return j;
  }

  json Request(std::string_view line) {
    Send(std::string(line) + "\n");
    return ReadJson();
  }

  // True when the server closed the connection (after any data still queued).
  bool SeesEof() {
    while (ReadLine()) {
    }
    return eof_;
  }

  // Nothing more arrives within a few polls.
  bool Quiet() {
    for (int i = 0; i < 20; ++i) {
      server_->Poll(1);
      char c;
      const ssize_t n = recv(fd_, &c, 1, MSG_DONTWAIT | MSG_PEEK);
      if (n > 0 || !buffer_.empty()) return false;
    }
    return true;
  }

 private:
  int fd_;
  FlowSocketServer* server_;
  std::string buffer_;
  bool eof_ = false;
};

std::string Hello(uint64_t id) {
  return R"({"v":1,"id":)" + std::to_string(id) + R"(,"cmd":"hello"})";
}

class FlowSocketServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/t38flowsockXXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/flow.sock";
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  FlowSocketServer::Options Defaults() {
    FlowSocketServer::Options options;
    options.path = path_;
    return options;
  }

  void Start(FlowSocketServer::Options options) {
    absl::StatusOr<std::unique_ptr<FlowSocketServer>> server =
        FlowSocketServer::Create(std::move(options), &service_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  void Start() { Start(Defaults()); }

  std::string dir_;
  std::string path_;
  FakeService service_;
  std::unique_ptr<FlowSocketServer> server_;
};

TEST_F(FlowSocketServerTest, HelloAndEveryCommand) {
  Start();
  TestClient c(path_, server_.get());
  ASSERT_TRUE(c.connected());
  json r = c.Request(Hello(1));
  EXPECT_EQ(r, json::parse(R"({"v":1,"id":1,"ok":true,"server":"t38relay-dataplane",
      "version":"0.1.0","protocol":1,"workers":2,"addresses":["198.18.0.1"],
      "leg_ports":{"first":20000,"count":10000}})"));

  r = c.Request(R"({"v":1,"id":2,"cmd":"leg.add","transport":"dtls","setup":"passive",)"
                R"("remote":{"ip":"198.18.0.7","port":5004}})");
  EXPECT_EQ(r, json::parse(R"({"v":1,"id":2,"ok":true,"leg":1,
      "local":{"ip":"198.18.0.1","port":20001},"setup":"passive",
      "fingerprint":{"hash":"sha-256","value":"AB:CD"}})"));
  ASSERT_EQ(service_.added.size(), 1u);
  EXPECT_EQ(service_.added[0].remote->ToString(), "198.18.0.7:5004");

  r = c.Request(R"({"v":1,"id":3,"cmd":"leg.add","transport":"plain"})");
  EXPECT_EQ(r["leg"], 2);
  EXPECT_FALSE(r.contains("fingerprint"));

  r = c.Request(R"({"v":1,"id":4,"cmd":"leg.update","leg":1,"latch":"strict"})");
  EXPECT_EQ(r, json::parse(R"({"v":1,"id":4,"ok":true,"leg":1})"));
  EXPECT_EQ(service_.updated.at(0).latch, std::optional<Latch>(Latch::kStrict));

  r = c.Request(R"({"v":1,"id":5,"cmd":"leg.link","legs":[1,2]})");
  EXPECT_EQ(r, json::parse(R"({"v":1,"id":5,"ok":true,"legs":[1,2]})"));
  EXPECT_EQ(service_.linked.at(0), std::make_pair(uint64_t{1}, uint64_t{2}));

  r = c.Request(R"({"v":1,"id":6,"cmd":"leg.get","leg":1})");
  EXPECT_EQ(r["leg"]["leg"], 1);
  EXPECT_EQ(r["leg"]["state"], "waiting");
  EXPECT_EQ(r["leg"]["remote"], nullptr);

  r = c.Request(R"({"v":1,"id":7,"cmd":"legs.list"})");
  EXPECT_EQ(r["legs"].size(), 3u);

  r = c.Request(R"({"v":1,"id":8,"cmd":"leg.del","leg":2})");
  EXPECT_EQ(r, json::parse(R"({"v":1,"id":8,"ok":true,"leg":2})"));
  EXPECT_EQ(service_.deleted, std::vector<uint64_t>{2});

  r = c.Request(R"({"v":1,"id":9,"cmd":"stats"})");
  EXPECT_EQ(r["legs"]["capacity"], 100);
  EXPECT_EQ(r["socket"]["clients"], 1);
  EXPECT_EQ(r["socket"]["requests"], 9);
  EXPECT_EQ(r["socket"]["errors"]["bad-json"], 0);
  EXPECT_EQ(r["socket"]["errors"].size(), kErrorCodeCount);

  EXPECT_EQ(c.Request(R"({"v":1,"id":10,"cmd":"events.subscribe"})")["subscribed"], true);
  EXPECT_EQ(c.Request(R"({"v":1,"id":11,"cmd":"events.unsubscribe"})")["subscribed"], false);
}

TEST_F(FlowSocketServerTest, ServiceErrorsBecomeProtocolErrors) {
  Start();
  TestClient c(path_, server_.get());
  const std::pair<absl::Status, const char*> cases[] = {
      {absl::NotFoundError("no leg 5"), "not-found"},
      {absl::FailedPreconditionError("leg 5 is linked to leg 6"), "invalid-state"},
      {absl::ResourceExhaustedError("all 100000 legs in use"), "no-capacity"},
      {absl::InvalidArgumentError("ip: 10.0.0.1 is not a relay address"), "bad-request"},
      {absl::PermissionDeniedError("no"), "permission-denied"},
      {absl::UnavailableError("handshake lcore busy"), "busy"},
      {absl::DataLossError("oops"), "internal"},
  };
  uint64_t id = 100;
  for (const auto& [status, code] : cases) {
    service_.status = status;
    const json r = c.Request(R"({"v":1,"id":)" + std::to_string(++id) + R"(,"cmd":"leg.get","leg":5})");
    EXPECT_EQ(r["ok"], false);
    EXPECT_EQ(r["id"], id);
    EXPECT_EQ(r["error"], code);
    EXPECT_EQ(r["message"], std::string(status.message()));
  }
  service_.status = absl::OkStatus();
  service_.add_status = absl::ResourceExhaustedError("no ports left");
  const json r = c.Request(R"({"v":1,"id":1,"cmd":"leg.add","transport":"plain"})");
  EXPECT_EQ(r["error"], "no-capacity");
  EXPECT_EQ(server_->counters().errors[static_cast<size_t>(ErrorCode::kNotFound)], 1u);
  EXPECT_EQ(server_->counters().errors[static_cast<size_t>(ErrorCode::kNoCapacity)], 2u);
}

TEST_F(FlowSocketServerTest, GarbageAndValidRequestsInterleaved) {
  Start();
  TestClient c(path_, server_.get());
  c.Send("garbage\n" + Hello(1) + "\n{\"v\":1}\n[1,2]\n" + R"({"v":1,"id":2,"cmd":"nope"})" +
         "\n\n   \n" + R"({"v":2,"id":3,"cmd":"hello"})" + "\n\xff\xfe\n" + Hello(4) + "\n");
  const std::pair<json, const char*> expected[] = {
      {nullptr, "bad-json"},          {1, nullptr},         {nullptr, "bad-request"},
      {nullptr, "bad-request"},       {2, "unknown-command"}, {3, "unsupported-version"},
      {nullptr, "bad-json"},          {4, nullptr},
  };
  for (const auto& [id, error] : expected) {
    const json r = c.ReadJson();
    EXPECT_EQ(r["v"], 1);
    EXPECT_EQ(r["id"], id) << r;
    if (error == nullptr) {
      EXPECT_EQ(r["ok"], true) << r;
    } else {
      EXPECT_EQ(r["ok"], false) << r;
      EXPECT_EQ(r["error"], error) << r;
      EXPECT_TRUE(r["message"].is_string());
    }
  }
  EXPECT_TRUE(c.Quiet());  // blank lines get no reply
  EXPECT_EQ(server_->counters().requests, 8u);
  EXPECT_EQ(server_->counters().errors[static_cast<size_t>(ErrorCode::kBadJson)], 2u);
}

TEST_F(FlowSocketServerTest, OversizeLineThenValidRequestOnSameConnection) {
  Start();
  TestClient c(path_, server_.get());
  TestClient other(path_, server_.get());
  // 200 KiB without a newline, in pieces, then the rest of that line and a valid request.
  const std::string junk(16 * 1024, 'x');
  for (int i = 0; i < 12; ++i) c.Send(junk);
  json r = c.ReadJson();  // reported before the line even ends
  EXPECT_EQ(r["id"], nullptr);
  EXPECT_EQ(r["error"], "too-large");
  EXPECT_NE(r["message"].get<std::string>().find("65536"), std::string::npos);
  // Meanwhile the other client is served.
  EXPECT_EQ(other.Request(Hello(50))["id"], 50);
  c.Send(junk + "}\n" + Hello(3) + "\n");
  r = c.ReadJson();
  EXPECT_EQ(r["id"], 3);
  EXPECT_EQ(r["ok"], true);
  // An oversize line that ends within one read, followed by a request in the same write.
  c.Send(std::string(70000, ' ') + "\n" + Hello(4) + "\n");
  EXPECT_EQ(c.ReadJson()["error"], "too-large");
  EXPECT_EQ(c.ReadJson()["id"], 4);
  EXPECT_TRUE(c.Quiet());
}

TEST_F(FlowSocketServerTest, LineLimitIsExact) {
  FlowSocketServer::Options options = Defaults();
  options.max_line = 100;
  Start(options);
  TestClient c(path_, server_.get());
  std::string line = Hello(1);
  line.resize(100, ' ');  // trailing spaces are valid JSON
  EXPECT_EQ(c.Request(line)["ok"], true);
  line += ' ';
  EXPECT_EQ(c.Request(line)["error"], "too-large");
  EXPECT_EQ(c.Request(Hello(2))["id"], 2);
}

TEST_F(FlowSocketServerTest, PartialLinesFromTwoClientsAtOnce) {
  Start();
  TestClient a(path_, server_.get());
  TestClient b(path_, server_.get());
  const std::string line_a = Hello(1) + "\n";
  const std::string line_b = R"({"v":1,"id":2,"cmd":"leg.get","leg":9})" "\n";
  // Byte by byte, alternating, with the server polling in between.
  for (size_t i = 0; i < std::max(line_a.size(), line_b.size()); ++i) {
    if (i < line_a.size()) a.Send(line_a.substr(i, 1));
    if (i < line_b.size()) b.Send(line_b.substr(i, 1));
    server_->Poll(0);
  }
  EXPECT_EQ(a.ReadJson()["id"], 1);
  const json r = b.ReadJson();
  EXPECT_EQ(r["id"], 2);
  EXPECT_EQ(r["leg"]["leg"], 9);
  // Many requests in one write, answered in order.
  std::string batch;
  for (int i = 0; i < 100; ++i) batch += Hello(1000 + i) + "\n";
  a.Send(batch);
  b.Send(batch);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(a.ReadJson()["id"], 1000 + i);
    EXPECT_EQ(b.ReadJson()["id"], 1000 + i);
  }
}

TEST_F(FlowSocketServerTest, LastLineWithoutNewlineIsAnsweredBeforeClose) {
  Start();
  TestClient c(path_, server_.get());
  c.Send(Hello(7));
  shutdown(c.fd(), SHUT_WR);
  EXPECT_EQ(c.ReadJson()["id"], 7);
  EXPECT_TRUE(c.SeesEof());
  for (int i = 0; i < 5; ++i) server_->Poll(1);
  EXPECT_EQ(server_->clients(), 0u);
}

TEST_F(FlowSocketServerTest, LargeReplyWrittenInPieces) {
  service_.list_size = 5000;  // about 2 MB: many partial writes
  Start();
  TestClient c(path_, server_.get());
  TestClient other(path_, server_.get());
  c.Send(R"({"v":1,"id":1,"cmd":"legs.list"})" "\n" + Hello(2) + "\n");
  // The other client is served while the big reply is still going out.
  EXPECT_EQ(other.Request(Hello(3))["id"], 3);
  const std::optional<std::string> line = c.ReadLine(/*chunk=*/4096);
  ASSERT_TRUE(line.has_value());
  EXPECT_GT(line->size(), 1000000u);
  const json r = json::parse(*line);
  ASSERT_EQ(r["legs"].size(), 5000u);
  EXPECT_EQ(r["legs"][4999]["leg"], 4999);
  EXPECT_EQ(c.ReadJson()["id"], 2);
}

TEST_F(FlowSocketServerTest, OneReplyLargerThanTheCapStillGoesToAReader) {
  service_.list_size = 2000;
  FlowSocketServer::Options options = Defaults();
  options.max_output = 64 * 1024;
  Start(options);
  TestClient c(path_, server_.get());
  const json r = c.Request(R"({"v":1,"id":1,"cmd":"legs.list"})");
  EXPECT_EQ(r["legs"].size(), 2000u);
  EXPECT_EQ(server_->counters().slow_reader_disconnects, 0u);
}

TEST_F(FlowSocketServerTest, SlowReaderIsDisconnectedOthersUndisturbed) {
  service_.list_size = 50;
  FlowSocketServer::Options options = Defaults();
  options.max_output = 256 * 1024;
  Start(options);
  TestClient slow(path_, server_.get());
  TestClient other(path_, server_.get());
  std::string batch;
  for (int i = 0; i < 3000; ++i) batch += R"({"v":1,"id":1,"cmd":"legs.list"})" "\n";
  slow.Send(batch);  // never reads
  for (int i = 0; i < 200 && server_->counters().slow_reader_disconnects == 0; ++i) {
    server_->Poll(1);
    EXPECT_EQ(other.Request(Hello(i))["id"], i);
  }
  EXPECT_EQ(server_->counters().slow_reader_disconnects, 1u);
  EXPECT_EQ(server_->clients(), 1u);
  EXPECT_TRUE(slow.SeesEof());
  EXPECT_EQ(other.Request(Hello(9999))["id"], 9999);
}

TEST_F(FlowSocketServerTest, ClientLeavingMidReplyDoesNotDisturbOthers) {
  service_.list_size = 5000;
  Start();
  TestClient other(path_, server_.get());
  for (int round = 0; round < 3; ++round) {
    TestClient gone(path_, server_.get());
    gone.Send(R"({"v":1,"id":1,"cmd":"legs.list"})" "\n");
    for (int i = 0; i < 3; ++i) server_->Poll(1);  // the reply is partly written
    gone.Close();
    for (int i = 0; i < 3; ++i) server_->Poll(1);
    EXPECT_EQ(other.Request(Hello(round))["id"], round);
  }
  EXPECT_EQ(server_->clients(), 1u);
}

TEST_F(FlowSocketServerTest, EventsGoToSubscribersOnly) {
  Start();
  TestClient subscriber(path_, server_.get());
  TestClient bystander(path_, server_.get());
  EXPECT_EQ(subscriber.Request(R"({"v":1,"id":1,"cmd":"events.subscribe"})")["subscribed"], true);
  EXPECT_EQ(bystander.Request(Hello(1))["id"], 1);
  EXPECT_EQ(server_->subscribers(), 1u);

  server_->Publish(MakeLatchedEvent(4, {IpAddress::V4(0xC6120007), 5004}));
  server_->Publish(MakeIdleEvent(4, 60));
  json e = subscriber.ReadJson();
  EXPECT_EQ(e, json::parse(R"({"v":1,"event":"leg.latched","leg":4,
                               "remote":{"ip":"198.18.0.7","port":5004}})"));
  EXPECT_EQ(subscriber.ReadJson()["event"], "leg.idle");
  // Had the bystander got the event, it would come before this reply.
  EXPECT_EQ(bystander.Request(Hello(2))["id"], 2);
  EXPECT_TRUE(bystander.Quiet());

  // Events published from inside a service call arrive interleaved with replies.
  service_.on_delete = [this](uint64_t leg) {
    server_->Publish(MakeFailedEvent(leg, "alert"));
  };
  subscriber.Send(R"({"v":1,"id":5,"cmd":"leg.del","leg":8})" "\n");
  e = subscriber.ReadJson();
  EXPECT_EQ(e["event"], "leg.failed");
  EXPECT_EQ(e["leg"], 8);
  EXPECT_EQ(subscriber.ReadJson()["id"], 5);

  EXPECT_EQ(subscriber.Request(R"({"v":1,"id":6,"cmd":"events.unsubscribe"})")["subscribed"],
            false);
  server_->Publish(MakeIdleEvent(4, 120));
  EXPECT_TRUE(subscriber.Quiet());
  EXPECT_EQ(server_->counters().events, 3u);
}

TEST_F(FlowSocketServerTest, SocketFileMode) {
  Start();
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_gid, getegid());
}

TEST_F(FlowSocketServerTest, SocketFileGroupAndMode) {
  const group* own = getgrgid(getegid());
  ASSERT_NE(own, nullptr);
  FlowSocketServer::Options options = Defaults();
  options.group = own->gr_name;
  options.mode = 0600;
  Start(options);
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_gid, own->gr_gid);
}

TEST_F(FlowSocketServerTest, UnknownGroupIsRefused) {
  FlowSocketServer::Options options = Defaults();
  options.group = "t38relay-no-such-group";
  auto server = FlowSocketServer::Create(options, &service_);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(server.status().message().find("t38relay-no-such-group"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST(PeerAllowedTest, ContractRule) {
  EXPECT_TRUE(PeerAllowed({0, 100, {}}, 1000, 2000));      // root
  EXPECT_TRUE(PeerAllowed({1000, 100, {}}, 1000, 2000));   // the dataplane's own user
  EXPECT_TRUE(PeerAllowed({1001, 2000, {}}, 1000, 2000));  // primary group is the socket's
  EXPECT_TRUE(PeerAllowed({1001, 100, {5, 2000}}, 1000, 2000));  // supplementary member
  EXPECT_FALSE(PeerAllowed({1001, 100, {5, 6}}, 1000, 2000));
}

TEST_F(FlowSocketServerTest, PeerWithoutPermissionGetsOneErrorAndIsClosed) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to connect as another user";
  FlowSocketServer::Options options = Defaults();
  options.mode = 0666;  // let the file system allow it: the SO_PEERCRED check must refuse
  Start(options);
  ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // As nobody: connect, expect exactly one permission-denied line, then EOF.
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(10);
    const int fd = ConnectTo(path_);
    if (fd < 0) _exit(11);
    timeval timeout{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    std::string got;
    char buf[512];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) got.append(buf, static_cast<size_t>(n));
    if (n < 0 && errno != ECONNRESET) _exit(12);
    const bool ok = got.find("\"error\":\"permission-denied\"") != std::string::npos &&
                    got.find("\"id\":null") != std::string::npos &&
                    std::count(got.begin(), got.end(), '\n') == 1;
    _exit(ok ? 0 : 13);
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (waitpid(child, &status, WNOHANG) == 0 && std::chrono::steady_clock::now() < deadline) {
    server_->Poll(5);
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(server_->counters().peer_cred_rejects, 1u);
  EXPECT_EQ(server_->clients(), 0u);
  EXPECT_EQ(server_->counters().errors[static_cast<size_t>(ErrorCode::kPermissionDenied)], 1u);
  // Root is still welcome.
  TestClient c(path_, server_.get());
  EXPECT_EQ(c.Request(Hello(1))["id"], 1);
}

TEST_F(FlowSocketServerTest, ClientsOverTheLimitAreBusy) {
  FlowSocketServer::Options options = Defaults();
  options.max_clients = 2;
  Start(options);
  TestClient a(path_, server_.get());
  TestClient b(path_, server_.get());
  EXPECT_EQ(a.Request(Hello(1))["id"], 1);
  EXPECT_EQ(b.Request(Hello(2))["id"], 2);
  {
    TestClient c(path_, server_.get());
    const json r = c.ReadJson();
    EXPECT_EQ(r["id"], nullptr);
    EXPECT_EQ(r["error"], "busy");
    EXPECT_TRUE(c.SeesEof());
  }
  EXPECT_EQ(server_->counters().busy_rejects, 1u);
  a.Close();
  for (int i = 0; i < 5; ++i) server_->Poll(1);
  TestClient d(path_, server_.get());
  EXPECT_EQ(d.Request(Hello(4))["id"], 4);
}

TEST_F(FlowSocketServerTest, StaleSocketFileIsReplaced) {
  {
    // A socket file with nobody listening, as a crashed server leaves it.
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path_.data(), path_.size());
    ASSERT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
    close(fd);
  }
  ASSERT_TRUE(std::filesystem::is_socket(path_));
  Start();
  TestClient c(path_, server_.get());
  EXPECT_EQ(c.Request(Hello(1))["id"], 1);
}

TEST_F(FlowSocketServerTest, SecondServerOnALivePathIsRefused) {
  Start();
  FakeService other_service;
  auto second = FlowSocketServer::Create(Defaults(), &other_service);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(second.status().message().find(path_), std::string::npos);
  // The first one keeps its socket and still answers (the probe connection came and went).
  TestClient c(path_, server_.get());
  EXPECT_EQ(c.Request(Hello(1))["id"], 1);
}

TEST_F(FlowSocketServerTest, OtherFilesAtThePathAreLeftAlone) {
  { std::ofstream(path_) << "not a socket"; }
  auto server = FlowSocketServer::Create(Defaults(), &service_);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(std::filesystem::is_regular_file(path_));
}

TEST_F(FlowSocketServerTest, BadPaths) {
  FlowSocketServer::Options options = Defaults();
  options.path = dir_ + "/" + std::string(200, 'a');
  auto server = FlowSocketServer::Create(options, &service_);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  options.path = dir_ + "/missing/flow.sock";
  server = FlowSocketServer::Create(options, &service_);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("directory"), std::string::npos) << server.status();
}

TEST_F(FlowSocketServerTest, DestructorUnlinksOnlyItsOwnSocket) {
  Start();
  TestClient c(path_, server_.get());
  EXPECT_EQ(c.Request(Hello(1))["id"], 1);
  c.Detach();
  server_.reset();
  EXPECT_FALSE(std::filesystem::exists(path_));
  EXPECT_TRUE(c.SeesEof());

  // A server whose file was replaced by a newer server leaves the newer one's file in place.
  Start();
  ASSERT_EQ(unlink(path_.c_str()), 0);
  FakeService newer_service;
  auto newer = FlowSocketServer::Create(Defaults(), &newer_service);
  ASSERT_TRUE(newer.ok()) << newer.status();
  server_.reset();
  EXPECT_TRUE(std::filesystem::is_socket(path_));
  TestClient d(path_, newer->get());
  EXPECT_EQ(d.Request(Hello(2))["id"], 2);
}

}  // namespace
}  // namespace t38relay::dataplane
