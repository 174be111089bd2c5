// LineServer on its own: a handler that echoes, subscriptions and Publish, too-large lines,
// counters, and socket file errors naming the socket.
#include "dataplane/flowsock/line_server.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "gtest/gtest.h"

namespace t38relay::dataplane {
namespace {

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

class LineServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/t38lineserverXXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/line.sock";
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Start(size_t max_line = 64) {
    LineServer::Options options;
    options.path = path_;
    options.max_line = max_line;
    options.what = "test socket";
    auto server =
        LineServer::Create(options, [this](LineServer::Connection& c, std::string_view line) {
          if (line == "sub") {
            c.set_subscribed(true);
            c.Reply("subscribed\n");
          } else if (line == "pub") {
            server_->Publish("event\n");
            c.Reply("published\n");
          } else if (line == "err") {
            c.Reply(server_->ErrorLine(7, ErrorCode::kNotFound, "no such thing"));
          } else if (line == "throw") {
            throw std::runtime_error("oops");
          } else {
            c.Reply("echo " + std::string(line) + (c.subscribed() ? " (sub)" : "") + "\n");
          }
        });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  // Reads until `n` lines arrived (polling the server meanwhile).
  std::string Read(int fd, size_t n) {
    std::string out;
    for (int i = 0; i < 500 && static_cast<size_t>(std::count(out.begin(), out.end(), '\n')) < n;
         ++i) {
      server_->Poll(2);
      char buffer[4096];
      const ssize_t got = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (got > 0) out.append(buffer, static_cast<size_t>(got));
    }
    return out;
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<LineServer> server_;
};

TEST_F(LineServerTest, HandlerRepliesPublishesAndCounts) {
  Start();
  const int a = ConnectTo(path_);
  const int b = ConnectTo(path_);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  ASSERT_EQ(send(a, "hi\n\nsub\n", 8, 0), 8);
  EXPECT_EQ(Read(a, 2), "echo hi\nsubscribed\n");
  ASSERT_EQ(send(b, "pub\nerr\nthrow\n", 14, 0), 14);
  EXPECT_EQ(
      Read(b, 3),
      "published\n"
      "{\"v\":1,\"id\":7,\"ok\":false,\"error\":\"not-found\",\"message\":\"no such thing\"}\n"
      "{\"v\":1,\"id\":null,\"ok\":false,\"error\":\"internal\",\"message\":\"internal "
      "error: oops\"}\n");
  EXPECT_EQ(Read(a, 1), "event\n");
  EXPECT_EQ(server_->clients(), 2u);
  EXPECT_EQ(server_->subscribers(), 1u);
  const LineServer::Counters& counters = server_->counters();
  EXPECT_EQ(counters.accepted, 2u);
  EXPECT_EQ(counters.requests, 5u);  // the blank line is not a request
  EXPECT_EQ(counters.events, 1u);
  EXPECT_EQ(counters.errors[static_cast<size_t>(ErrorCode::kNotFound)], 1u);
  EXPECT_EQ(counters.errors[static_cast<size_t>(ErrorCode::kInternal)], 1u);
  EXPECT_EQ(server_->Stats()["requests"], 5);
  EXPECT_EQ(server_->Stats()["errors"]["not-found"], 1);
  close(a);
  close(b);
}

TEST_F(LineServerTest, TooLargeLineIsDiscardedUpToItsEnd) {
  Start(8);
  const int fd = ConnectTo(path_);
  const std::string data = "0123456789\nok\n";
  ASSERT_EQ(send(fd, data.data(), data.size(), 0), static_cast<ssize_t>(data.size()));
  EXPECT_EQ(Read(fd, 2),
            "{\"v\":1,\"id\":null,\"ok\":false,\"error\":\"too-large\",\"message\":\"request line "
            "longer than 8 bytes; discarded up to its end\"}\necho ok\n");
  close(fd);
}

TEST_F(LineServerTest, SocketErrorsNameTheSocket) {
  std::ofstream(path_) << "x";
  LineServer::Options options;
  options.path = path_;
  options.what = "test socket";
  auto server = LineServer::Create(options, [](LineServer::Connection&, std::string_view) {});
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().message(),
            "test socket path '" + path_ +
                "' exists and is not a socket; remove it or choose another socket path");
  auto no_handler = LineServer::Create(options, nullptr);
  EXPECT_EQ(no_handler.status().message(), "test socket: no line handler");
}

}  // namespace
}  // namespace t38relay::dataplane
