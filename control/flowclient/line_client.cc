// LineClient: connect, send, and read JSON lines with poll() deadlines.
#include "control/flowclient/line_client.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <utility>
#include <variant>

#include "dataplane/flowsock/field_parser.h"

namespace t38relay::control {
namespace {

using json = nlohmann::json;

// Replies (stats, legs.list, call objects) nest deeper than requests do.
constexpr int kMaxReplyDepth = 32;
constexpr size_t kReadChunk = 64 * 1024;

std::string Errno(int error) { return std::strerror(error); }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

LineClient::LineClient(Options options, int fd) : options_(std::move(options)), fd_(fd) {}

LineClient::~LineClient() { Close(); }

void LineClient::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  in_.clear();
}

absl::StatusOr<std::unique_ptr<LineClient>> LineClient::Connect(Options options) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (options.path.empty() || options.path.size() >= sizeof(address.sun_path) ||
      options.path.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("socket path must be 1.." +
                                      std::to_string(sizeof(address.sun_path) - 1) +
                                      " bytes without NUL");
  }
  std::memcpy(address.sun_path, options.path.data(), options.path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError("socket(AF_UNIX): " + Errno(errno));
  int rc = 0;
  do {
    rc = connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int error = errno;
    close(fd);
    return absl::UnavailableError(Errno(error));
  }
  return std::unique_ptr<LineClient>(new LineClient(std::move(options), fd));
}

absl::Status LineClient::Fail(std::string message) {
  Close();
  return absl::UnavailableError(std::move(message));
}

absl::Status LineClient::Send(std::string_view data) {
  const int64_t deadline = NowMs() + options_.reply_timeout_ms;
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n =
        send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const int64_t left = deadline - NowMs();
      if (left <= 0) {
        return Fail("the server took no request for " + std::to_string(options_.reply_timeout_ms) +
                    " ms");
      }
      pollfd p{fd_, POLLOUT, 0};
      poll(&p, 1, static_cast<int>(left));
      continue;
    }
    return Fail("send: " + Errno(errno));
  }
  return absl::OkStatus();
}

absl::Status LineClient::DrainLines(std::optional<uint64_t> awaited, std::optional<json>* reply,
                                    const LineSink& other) {
  size_t start = 0;
  absl::Status status;
  while (status.ok() && !(reply != nullptr && reply->has_value())) {
    const size_t newline = in_.find('\n', start);
    if (newline == std::string::npos) break;
    std::string_view line(in_.data() + start, newline - start);
    start = newline + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    std::variant<dataplane::JsonLine, dataplane::ProtocolError> parsed =
        dataplane::ParseJsonLine(line, kMaxReplyDepth);
    if (auto* error = std::get_if<dataplane::ProtocolError>(&parsed)) {
      status = absl::UnavailableError("malformed line from the server: " + error->message);
      break;
    }
    json& value = std::get<dataplane::JsonLine>(parsed).value;
    if (!value.is_object()) {
      status = absl::UnavailableError("malformed line from the server: not a JSON object");
      break;
    }
    if (awaited) {
      const auto id = value.find("id");
      const bool ours =
          id != value.end() && id->is_number_unsigned() && id->get<uint64_t>() == *awaited;
      const bool refused = id != value.end() && id->is_null() && value.contains("ok");
      if (ours || refused) {
        *reply = std::move(value);
        break;
      }
    }
    status = other(std::move(value));
  }
  in_.erase(0, start);
  if (!status.ok()) return Fail(std::string(status.message()));
  return absl::OkStatus();
}

absl::StatusOr<json> LineClient::Call(uint64_t id, std::string_view line, const LineSink& other) {
  if (fd_ < 0) return absl::UnavailableError("not connected");
  if (absl::Status sent = Send(line); !sent.ok()) return sent;
  const int64_t deadline = NowMs() + options_.reply_timeout_ms;
  std::optional<json> reply;
  std::string buffer(kReadChunk, '\0');
  while (true) {
    if (absl::Status drained = DrainLines(id, &reply, other); !drained.ok()) return drained;
    if (reply) return std::move(*reply);
    if (in_.size() > options_.max_line) {
      return Fail("a line from the server is longer than " + std::to_string(options_.max_line) +
                  " bytes");
    }
    const int64_t left = deadline - NowMs();
    if (left <= 0) {
      return Fail("no reply within " + std::to_string(options_.reply_timeout_ms) + " ms");
    }
    pollfd p{fd_, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno != EINTR) return Fail("poll: " + Errno(errno));
    if (ready <= 0) continue;
    const ssize_t n = recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n > 0) {
      in_.append(buffer.data(), static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return Fail("the server closed the connection");
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
    return Fail("recv: " + Errno(errno));
  }
}

absl::Status LineClient::ReadAvailable(const LineSink& other) {
  if (fd_ < 0) return absl::UnavailableError("not connected");
  std::string buffer(kReadChunk, '\0');
  while (true) {
    const ssize_t n = recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n > 0) {
      in_.append(buffer.data(), static_cast<size_t>(n));
      if (absl::Status drained = DrainLines(std::nullopt, nullptr, other); !drained.ok()) {
        return drained;
      }
      if (in_.size() > options_.max_line) {
        return Fail("a line from the server is longer than " + std::to_string(options_.max_line) +
                    " bytes");
      }
      continue;
    }
    if (n == 0) return Fail("the server closed the connection");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return absl::OkStatus();
    return Fail("recv: " + Errno(errno));
  }
}

}  // namespace t38relay::control
