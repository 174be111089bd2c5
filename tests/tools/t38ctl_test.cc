// t38ctl in-process against a ControlSocketServer (polled from a thread) with a ControlService
// written here: each command's output, --json, exit codes and one-line errors.
#include "tools/t38ctl.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "control/api/control_socket.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace t38relay::tools {
namespace {

using json = nlohmann::json;

json CallObject() {
  return json::parse(R"({"call_id":"abc@host","from_tag":"f1","to_tag":"t1","state":"answered",
    "created":1700000000,"last_activity":1700000005,"transport_policy":"dtls","anonymous":false,
    "legs":[{"side":"caller","tag":"f1","leg":5,"transport":"plain",
             "local":{"ip":"198.18.0.1","port":20000},"remote":{"ip":"198.18.0.7","port":5004},
             "state":"plain","setup":null,"role":null,
             "rx_packets":10,"forwarded_packets":9,"dropped_packets":1},
            {"side":"callee","tag":"t1","leg":6,"transport":"dtls",
             "local":{"ip":"2001:db8::1","port":20002},"remote":null,
             "state":"established","setup":"passive","role":"server",
             "rx_packets":9,"forwarded_packets":9,"dropped_packets":0}]})");
}

class FakeService : public control::ControlService {
 public:
  absl::StatusOr<std::string> Offer(const control::OfferRequest& request) override {
    std::lock_guard lock(mu);
    offers.push_back(request);
    if (request.call_id == "bad") {
      return absl::InvalidArgumentError("line 5: m=image: unsupported proto 'RTP/AVP'");
    }
    return "v=0\r\nm=image 20000 UDP/TLS/UDPTL t38\r\n";
  }
  absl::StatusOr<std::string> Answer(const control::AnswerRequest& request) override {
    std::lock_guard lock(mu);
    answers.push_back(request);
    return "v=0\r\nm=image 20002 udptl t38\r\n";
  }
  absl::Status Delete(const control::DeleteRequest& request) override {
    std::lock_guard lock(mu);
    deletes.push_back(request);
    if (request.call_id == "nope") return absl::NotFoundError("no call 'nope'");
    return absl::OkStatus();
  }
  absl::StatusOr<json> Query(std::string_view call_id) override {
    if (call_id != "abc@host") return absl::NotFoundError("no call '" + std::string(call_id) + "'");
    return CallObject();
  }
  json List() override { return {{"calls", calls}}; }
  json Stats() override {
    return {
        {"calls", 1}, {"errors", {{"bad-request", 2}}}, {"dataplane", {{"connected", up.load()}}}};
  }

  std::mutex mu;
  std::vector<control::OfferRequest> offers;
  std::vector<control::AnswerRequest> answers;
  std::vector<control::DeleteRequest> deletes;
  json calls = json::array({CallObject()});
  std::atomic<bool> up{true};
};

struct Result {
  int rc = -1;
  std::string out;
  std::string err;
};

class T38ctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/t38ctlXXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/control.sock";
    control::ControlSocketServer::Options options;
    options.path = path_;
    auto server = control::ControlSocketServer::Create(options, &service_);
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
  Result Run(std::vector<std::string> args, const std::string& stdin_text = "") {
    std::istringstream in(stdin_text);
    std::ostringstream out, err;
    Result r;
    r.rc = RunT38ctl(args, path_, in, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }
  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::string dir_;
  std::string path_;
  FakeService service_;
  std::unique_ptr<control::ControlSocketServer> server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(T38ctlTest, OfferPrintsTheSdp) {
  const std::string sdp = WriteFile("offer.sdp", "v=0\r\nm=image 5004 udptl t38\r\n");
  Result r = Run({"offer", "--call-id", "c1", "--from-tag", "f1", "--sdp", sdp, "--transport",
                  "prefer-dtls", "--anonymous"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "v=0\r\nm=image 20000 UDP/TLS/UDPTL t38\r\n");
  EXPECT_EQ(r.err, "");
  std::lock_guard lock(service_.mu);
  ASSERT_EQ(service_.offers.size(), 1u);
  EXPECT_EQ(service_.offers[0].call_id, "c1");
  EXPECT_EQ(service_.offers[0].from_tag, "f1");
  EXPECT_EQ(service_.offers[0].body, "v=0\r\nm=image 5004 udptl t38\r\n");
  EXPECT_EQ(service_.offers[0].transport, control::TransportPolicy::kPreferDtls);
  EXPECT_TRUE(service_.offers[0].anonymous);
}

TEST_F(T38ctlTest, OfferFromStandardInputAsSipWithJson) {
  Result r = Run({"--json", "offer", "--call-id", "c2", "--from-tag", "f", "--sip", "-"},
                 "INVITE sip:b@x SIP/2.0\r\n\r\n");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "{\"sdp\":\"v=0\\r\\nm=image 20000 UDP/TLS/UDPTL t38\\r\\n\"}\n");
  std::lock_guard lock(service_.mu);
  ASSERT_EQ(service_.offers.size(), 1u);
  EXPECT_EQ(service_.offers[0].body, "INVITE sip:b@x SIP/2.0\r\n\r\n");
  EXPECT_EQ(service_.offers[0].transport, control::TransportPolicy::kAsOffered);
  EXPECT_FALSE(service_.offers[0].anonymous);
}

TEST_F(T38ctlTest, Answer) {
  Result r = Run({"answer", "--call-id", "c1", "--from-tag", "f1", "--to-tag", "t1", "--sdp", "-"},
                 "v=0\r\n");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "v=0\r\nm=image 20002 udptl t38\r\n");
  std::lock_guard lock(service_.mu);
  ASSERT_EQ(service_.answers.size(), 1u);
  EXPECT_EQ(service_.answers[0].to_tag, "t1");
}

TEST_F(T38ctlTest, ErrorsAreOneLineWithNonZeroExit) {
  Result r = Run({"offer", "--call-id", "bad", "--from-tag", "f", "--sdp", "-"}, "v=0\r\n");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "t38ctl: offer failed: bad-request: line 5: m=image: unsupported proto "
            "'RTP/AVP'\n");
  r = Run({"offer", "--call-id", "a b", "--from-tag", "f", "--sdp", "-"}, "v=0\r\n");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err,
            "t38ctl: offer failed: bad-request: call_id: character 2 is not printable "
            "ASCII (spaces and control characters are not allowed)\n");
  r = Run({"show", "zzz"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "t38ctl: query failed: not-found: no call 'zzz'\n");
  r = Run({"delete", "--call-id", "nope"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "t38ctl: delete failed: not-found: no call 'nope'\n");
  r = Run({"offer", "--call-id", "c", "--from-tag", "f", "--sdp", dir_ + "/missing.sdp"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "t38ctl: cannot read " + dir_ + "/missing.sdp: No such file or directory\n");
  r = Run({"offer", "--call-id", "c", "--from-tag", "f", "--sdp", "-"}, "");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "t38ctl: standard input is empty\n");
  r = Run({"offer", "--call-id", "c", "--from-tag", "f", "--sdp", "-"},
          std::string(control::kMaxBodyBytes + 1, 'x'));
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "t38ctl: standard input is larger than 65536 bytes\n");
}

TEST_F(T38ctlTest, UsageErrors) {
  Result r = Run({});
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err, "t38ctl: A subcommand is required (see t38ctl --help)\n");
  r = Run({"offer", "--call-id", "c", "--from-tag", "f"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err, "t38ctl: offer: give --sdp FILE or --sip FILE (- for standard input)\n");
  r = Run({"offer", "--call-id", "c", "--from-tag", "f", "--sdp", "a", "--sip", "b"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("excludes"), std::string::npos) << r.err;
  r = Run({"offer", "--call-id", "c", "--from-tag", "f", "--sdp", "-", "--transport", "tls"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err.rfind("t38ctl: --transport: ", 0), 0u) << r.err;
  r = Run({"delete", "--call-id", "c", "--to-tag", "t"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err, "t38ctl: --to-tag requires --from-tag (see t38ctl --help)\n");
  r = Run({"stats", "--watch", "0"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err, "t38ctl: --watch: SECONDS must be a number 0.1..86400, not '0'\n");
  r = Run({"--help"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("offer"), std::string::npos);
}

TEST_F(T38ctlTest, DeleteWithTags) {
  Result r = Run({"delete", "--call-id", "c1", "--from-tag", "f1", "--to-tag", "t1"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "deleted c1\n");
  r = Run({"delete", "--call-id", "c2", "--json"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "{\"call_id\":\"c2\"}\n");
  std::lock_guard lock(service_.mu);
  ASSERT_EQ(service_.deletes.size(), 2u);
  EXPECT_EQ(service_.deletes[0].from_tag, "f1");
  EXPECT_EQ(service_.deletes[0].to_tag, "t1");
  EXPECT_EQ(service_.deletes[1].from_tag, std::nullopt);
}

TEST_F(T38ctlTest, ListTable) {
  Result r = Run({"list"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out,
            "CALL ID   STATE     SIDE    TRANSPORT  LOCAL                REMOTE           "
            "LEG STATE    RX  FWD  DROP\n"
            "abc@host  answered  caller  plain      198.18.0.1:20000     198.18.0.7:5004  "
            "plain        10  9    1\n"
            "                    callee  dtls       [2001:db8::1]:20002  -                "
            "established  9   9    0\n");
  r = Run({"list", "--json"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(json::parse(r.out), json({{"calls", json::array({CallObject()})}}));
  service_.calls = json::array();
  r = Run({"list"});
  EXPECT_EQ(r.out, "no calls\n");
}

TEST_F(T38ctlTest, Show) {
  Result r = Run({"show", "abc@host"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out,
            "call id:           abc@host\n"
            "from tag:          f1\n"
            "to tag:            t1\n"
            "state:             answered\n"
            "transport policy:  dtls\n"
            "anonymous:         no\n"
            "created:           1700000000\n"
            "last activity:     1700000005\n"
            "legs:\n"
            "  SIDE    TAG  LEG  TRANSPORT  LOCAL                REMOTE           STATE        "
            "SETUP    ROLE    RX  FWD  DROP\n"
            "  caller  f1   5    plain      198.18.0.1:20000     198.18.0.7:5004  plain        "
            "-        -       10  9    1\n"
            "  callee  t1   6    dtls       [2001:db8::1]:20002  -                established  "
            "passive  server  9   9    0\n");
  r = Run({"--json", "show", "abc@host"});
  EXPECT_EQ(json::parse(r.out), json({{"call", CallObject()}}));
}

TEST_F(T38ctlTest, StatsAndWatch) {
  Result r = Run({"stats"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out.rfind("calls: 1\ndataplane.connected: true\nerrors.bad-request: 2\n", 0), 0u)
      << r.out;
  EXPECT_NE(r.out.find("\nsocket.requests: 1\n"), std::string::npos) << r.out;
  r = Run({"stats", "--watch", "0.1", "--count", "2", "--json"});
  EXPECT_EQ(r.rc, 0) << r.err;
  std::istringstream lines(r.out);
  std::string first, second, third;
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_FALSE(std::getline(lines, third));
  EXPECT_EQ(json::parse(first)["calls"], 1);
  EXPECT_EQ(json::parse(second)["socket"]["requests"], 3);  // same connection, third request
}

TEST_F(T38ctlTest, Ping) {
  Result r = Run({"ping"});
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "t38relay-control is up; the dataplane is connected\n");
  r = Run({"ping", "--json"});
  EXPECT_EQ(r.out, "{\"dataplane\":{\"connected\":true}}\n");
  service_.up = false;
  r = Run({"ping"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "t38ctl: t38relay-control is up but the dataplane is not connected\n");
}

TEST_F(T38ctlTest, UnreachableSocket) {
  std::istringstream in;
  std::ostringstream out, err;
  const int rc = RunT38ctl({"--socket", dir_ + "/none.sock", "list"}, path_, in, out, err);
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(), "t38ctl: cannot reach t38relay-control at " + dir_ +
                           "/none.sock: No such file or directory\n");
  // --socket also after the subcommand.
  std::ostringstream err2;
  EXPECT_EQ(RunT38ctl({"ping", "--socket", dir_ + "/none.sock"}, path_, in, out, err2), 1);
  EXPECT_EQ(err2.str(), "t38ctl: cannot reach t38relay-control at " + dir_ +
                            "/none.sock: No such file or directory\n");
}

}  // namespace
}  // namespace t38relay::tools
