// LineServer: Unix socket set-up, SO_PEERCRED checks, epoll, line framing, output limits.
#include "dataplane/flowsock/line_server.h"

#include <errno.h>
#include <grp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <utility>

#include "absl/status/status.h"

namespace t38relay::dataplane {
namespace {

using json = nlohmann::json;

constexpr uint64_t kListenToken = 0;
constexpr int kMaxEvents = 64;
// Per client per Poll: reads of kReadChunk bytes, so one busy client cannot starve the others.
constexpr size_t kReadChunk = 64 * 1024;
constexpr int kReadsPerPoll = 16;
constexpr int kAcceptsPerPoll = 64;
// Written output is dropped from the buffer front once this much has gone out.
constexpr size_t kCompactAfter = 1 << 20;

std::string Errno(int error) { return std::strerror(error); }

bool IsBlank(std::string_view line) {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

absl::StatusOr<uint32_t> LookUpGroup(const std::string& name) {
  std::vector<char> buffer(16384);
  struct group entry;
  struct group* found = nullptr;
  int rc = 0;
  while ((rc = getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) == ERANGE &&
         buffer.size() < (1u << 22)) {
    buffer.resize(buffer.size() * 2);
  }
  if (rc != 0) {
    return absl::InternalError("cannot look up socket group '" + name + "': " + Errno(rc));
  }
  if (found == nullptr) {
    return absl::InvalidArgumentError("socket group '" + name + "' does not exist");
  }
  return static_cast<uint32_t>(found->gr_gid);
}

// Whether a socket file at `path` has a live server behind it (connect succeeds or its backlog is
// full), is stale (connection refused), or cannot be judged.
absl::Status RemoveStaleSocket(const std::string& what, const std::string& path,
                               const sockaddr_un& address) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::InternalError("cannot inspect " + what + " path '" + path + "': " + Errno(errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(what + " path '" + path +
                                         "' exists and is not a socket; remove it or choose "
                                         "another socket path");
  }
  const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe < 0) return absl::InternalError("socket(AF_UNIX): " + Errno(errno));
  const int rc = connect(probe, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int error = rc == 0 ? 0 : errno;
  close(probe);
  if (rc == 0 || error == EAGAIN || error == EINPROGRESS) {
    return absl::AlreadyExistsError("another server is listening on " + what + " '" + path +
                                    "'; stop it or choose another socket path");
  }
  if (error != ECONNREFUSED) {
    return absl::FailedPreconditionError("cannot tell whether " + what + " '" + path +
                                         "' is in use: connect: " + Errno(error));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::PermissionDeniedError("cannot remove stale " + what + " '" + path +
                                       "': " + Errno(errno));
  }
  return absl::OkStatus();
}

std::vector<uint32_t> PeerGroups(int fd) {
  std::vector<gid_t> groups(32);
#ifdef SO_PEERGROUPS
  for (int attempt = 0; attempt < 2; ++attempt) {
    socklen_t length = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &length) == 0) {
      groups.resize(length / sizeof(gid_t));
      return std::vector<uint32_t>(groups.begin(), groups.end());
    }
    if (errno != ERANGE) break;
    groups.resize(length / sizeof(gid_t) + 1);
  }
#else
  (void)fd;
#endif
  return {};
}

}  // namespace

bool PeerAllowed(const PeerCredentials& peer, uint32_t server_euid, uint32_t socket_gid) {
  return peer.uid == 0 || peer.uid == server_euid || peer.gid == socket_gid ||
         std::find(peer.groups.begin(), peer.groups.end(), socket_gid) != peer.groups.end();
}

struct LineServer::Client {
  uint64_t token = 0;
  int fd = -1;
  std::string in;           // the start of a line whose "\n" has not come yet
  bool discarding = false;  // inside a too-large line: drop up to its "\n"
  std::string out;
  size_t out_pos = 0;  // out[0, out_pos) is written
  bool subscribed = false;
  bool read_closed = false;  // the peer sent EOF: finish the replies, then close
  bool dead = false;
  uint32_t interest = 0;  // the epoll events registered now

  size_t pending() const { return out.size() - out_pos; }
};

LineServer::LineServer(Options options, LineHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)), read_buffer_(kReadChunk) {}

void LineServer::Connection::Reply(std::string_view line) { server_.Queue(client_, line); }

void LineServer::Connection::set_subscribed(bool subscribed) { client_.subscribed = subscribed; }

bool LineServer::Connection::subscribed() const { return client_.subscribed; }

absl::StatusOr<std::unique_ptr<LineServer>> LineServer::Create(Options options,
                                                               LineHandler handler) {
  if (!handler) return absl::InvalidArgumentError(options.what + ": no line handler");
  const std::string what = options.what;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (options.path.empty() || options.path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(what + " path '" + options.path + "' must be 1.." +
                                      std::to_string(sizeof(address.sun_path) - 1) + " bytes");
  }
  if (options.path.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(what + " path contains a NUL byte");
  }
  if (options.max_clients == 0 || options.max_line == 0 || options.max_output == 0) {
    return absl::InvalidArgumentError(what +
                                      ": max_clients, max_line and max_output must be at least 1");
  }
  std::memcpy(address.sun_path, options.path.data(), options.path.size());

  std::optional<uint32_t> group;
  if (options.group) {
    absl::StatusOr<uint32_t> gid = LookUpGroup(*options.group);
    if (!gid.ok()) return gid.status();
    group = *gid;
  }
  if (absl::Status stale = RemoveStaleSocket(what, options.path, address); !stale.ok())
    return stale;

  std::unique_ptr<LineServer> server(new LineServer(std::move(options), std::move(handler)));
  const std::string& path = server->options_.path;
  server->listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (server->listen_fd_ < 0) return absl::InternalError("socket(AF_UNIX): " + Errno(errno));
  if (bind(server->listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    std::string hint;
    if (error == ENOENT) hint = " (does its directory exist?)";
    if (error == EADDRINUSE) hint = " (another server started at the same time?)";
    return absl::FailedPreconditionError("cannot bind " + what + " '" + path +
                                         "': " + Errno(error) + hint);
  }
  // From here on the file is ours: the destructor unlinks it once its identity is recorded.
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    const int error = errno;
    unlink(path.c_str());
    return absl::InternalError("cannot stat " + what + " '" + path + "': " + Errno(error));
  }
  server->socket_dev_ = st.st_dev;
  server->socket_ino_ = st.st_ino;
  // Mode and group before listen(): until then every connect is refused.
  if (chmod(path.c_str(), server->options_.mode) != 0) {
    return absl::PermissionDeniedError("cannot chmod " + what + " '" + path + "': " + Errno(errno));
  }
  if (group && chown(path.c_str(), static_cast<uid_t>(-1), *group) != 0) {
    return absl::PermissionDeniedError("cannot give " + what + " '" + path + "' to group '" +
                                       *server->options_.group + "': " + Errno(errno));
  }
  server->socket_gid_ = group ? *group : static_cast<uint32_t>(st.st_gid);
  server->euid_ = static_cast<uint32_t>(geteuid());
  if (listen(server->listen_fd_, 128) != 0) {
    return absl::InternalError("cannot listen on " + what + " '" + path + "': " + Errno(errno));
  }
  server->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (server->epoll_fd_ < 0) return absl::InternalError("epoll_create1: " + Errno(errno));
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kListenToken;
  if (epoll_ctl(server->epoll_fd_, EPOLL_CTL_ADD, server->listen_fd_, &event) != 0) {
    return absl::InternalError("epoll_ctl: " + Errno(errno));
  }
  return server;
}

LineServer::~LineServer() {
  for (auto& [token, client] : clients_) {
    if (client->fd >= 0) close(client->fd);
  }
  clients_.clear();
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (listen_fd_ >= 0) close(listen_fd_);
  // Only our own file: a newer server may have replaced it.
  struct stat st;
  if (socket_ino_ != 0 && lstat(options_.path.c_str(), &st) == 0 &&
      static_cast<uint64_t>(st.st_dev) == socket_dev_ &&
      static_cast<uint64_t>(st.st_ino) == socket_ino_) {
    unlink(options_.path.c_str());
  }
}

size_t LineServer::clients() const {
  return static_cast<size_t>(std::count_if(clients_.begin(), clients_.end(),
                                           [](const auto& c) { return !c.second->dead; }));
}

size_t LineServer::subscribers() const {
  return static_cast<size_t>(std::count_if(clients_.begin(), clients_.end(), [](const auto& c) {
    return !c.second->dead && c.second->subscribed;
  }));
}

nlohmann::json LineServer::Stats() const {
  json errors = json::object();
  for (size_t i = 0; i < kErrorCodeCount; ++i) {
    errors[std::string(ErrorCodeName(static_cast<ErrorCode>(i)))] = counters_.errors[i];
  }
  return {{"clients", clients()},
          {"subscribers", subscribers()},
          {"requests", counters_.requests},
          {"errors", std::move(errors)},
          {"accepted", counters_.accepted},
          {"slow_reader_disconnects", counters_.slow_reader_disconnects},
          {"peer_cred_rejects", counters_.peer_cred_rejects},
          {"busy_rejects", counters_.busy_rejects},
          {"events", counters_.events}};
}

void LineServer::Poll(int timeout_ms) {
  Reap();
  epoll_event events[kMaxEvents];
  const int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
  in_poll_ = true;
  for (int i = 0; i < n; ++i) {
    const uint64_t token = events[i].data.u64;
    if (token == kListenToken) {
      AcceptAll();
      continue;
    }
    // Tokens are never reused, so an event for a client closed earlier in this batch finds
    // nothing (or a dead entry) even if its descriptor number was reused.
    auto it = clients_.find(token);
    if (it == clients_.end() || it->second->dead) continue;
    Client& client = *it->second;
    const uint32_t what = events[i].events;
    if (!client.read_closed && (what & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) ReadFrom(client);
    if (!client.dead && (what & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) Flush(client);
  }
  in_poll_ = false;
  Reap();
}

void LineServer::AcceptAll() {
  for (int i = 0; i < kAcceptsPerPoll; ++i) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // EAGAIN: done. EMFILE and friends: the connection waits in the backlog for the next Poll.
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    ucred credentials{};
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
      ++counters_.peer_cred_rejects;
      Reject(fd, ErrorCode::kPermissionDenied, "cannot read the peer's credentials");
      continue;
    }
    PeerCredentials peer{
        static_cast<uint32_t>(credentials.uid), static_cast<uint32_t>(credentials.gid), {}};
    if (!PeerAllowed(peer, euid_, socket_gid_)) {
      peer.groups = PeerGroups(fd);
      if (!PeerAllowed(peer, euid_, socket_gid_)) {
        ++counters_.peer_cred_rejects;
        Reject(fd, ErrorCode::kPermissionDenied,
               "uid " + std::to_string(peer.uid) + " may not use the " + options_.what +
                   ": run as root, " + "as uid " + std::to_string(euid_) + ", or in group " +
                   std::to_string(socket_gid_));
        continue;
      }
    }
    if (clients() >= options_.max_clients) {
      ++counters_.busy_rejects;
      Reject(fd, ErrorCode::kBusy,
             "too many clients (at most " + std::to_string(options_.max_clients) +
                 "); try again later");
      continue;
    }
    auto client = std::make_unique<Client>();
    client->token = next_token_++;
    client->fd = fd;
    client->interest = EPOLLIN;
    epoll_event event{};
    event.events = client->interest;
    event.data.u64 = client->token;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
      Reject(fd, ErrorCode::kInternal, "cannot watch the connection: " + Errno(errno));
      continue;
    }
    ++counters_.accepted;
    clients_.emplace(client->token, std::move(client));
  }
}

void LineServer::Reject(int fd, ErrorCode code, std::string message) {
  // Best effort: a fresh socket buffer takes one short line.
  const std::string line = ErrorLine(std::nullopt, code, std::move(message));
  [[maybe_unused]] const ssize_t sent =
      send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  close(fd);
}

void LineServer::ReadFrom(Client& client) {
  for (int i = 0; i < kReadsPerPoll && !client.dead && !client.read_closed; ++i) {
    const ssize_t n = recv(client.fd, read_buffer_.data(), read_buffer_.size(), MSG_DONTWAIT);
    if (n > 0) {
      Consume(client, read_buffer_.data(), static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      // A last line without "\n" still counts (printf '{...}' | socat - UNIX-CONNECT:...).
      client.read_closed = true;
      if (!client.discarding && !client.in.empty()) {
        std::string last = std::move(client.in);
        client.in.clear();
        HandleLine(client, last);
      }
      break;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) Kill(client);
    break;
  }
  if (!client.dead) Flush(client);
}

void LineServer::Consume(Client& client, const char* data, size_t size) {
  size_t pos = 0;
  while (pos < size && !client.dead) {
    const char* start = data + pos;
    const char* newline = static_cast<const char*>(std::memchr(start, '\n', size - pos));
    if (client.discarding) {
      if (newline == nullptr) return;
      client.discarding = false;
      pos = static_cast<size_t>(newline - data) + 1;
      continue;
    }
    const size_t piece = newline == nullptr ? size - pos : static_cast<size_t>(newline - start);
    if (client.in.size() + piece > options_.max_line) {
      ++counters_.requests;
      Queue(client, ErrorLine(std::nullopt, ErrorCode::kTooLarge,
                              "request line longer than " + std::to_string(options_.max_line) +
                                  " bytes; discarded up to its end"));
      client.in.clear();
      client.in.shrink_to_fit();
      if (newline == nullptr) {
        client.discarding = true;
        return;
      }
      pos = static_cast<size_t>(newline - data) + 1;
      continue;
    }
    if (newline == nullptr) {
      client.in.append(start, piece);
      return;
    }
    if (client.in.empty()) {
      HandleLine(client, std::string_view(start, piece));
    } else {
      client.in.append(start, piece);
      std::string line = std::move(client.in);
      client.in.clear();
      HandleLine(client, line);
    }
    pos = static_cast<size_t>(newline - data) + 1;
  }
}

void LineServer::HandleLine(Client& client, std::string_view line) {
  if (client.dead || IsBlank(line)) return;
  ++counters_.requests;
  Connection connection(*this, client);
  try {
    handler_(connection, line);
  } catch (const std::exception& e) {
    Queue(client, ErrorLine(std::nullopt, ErrorCode::kInternal,
                            std::string("internal error: ") + e.what()));
  } catch (...) {
    Queue(client, ErrorLine(std::nullopt, ErrorCode::kInternal, "internal error"));
  }
}

absl::StatusOr<std::unique_ptr<LineServer>> LineServer::Create(const LineSocketOptions& socket,
                                                               std::string what,
                                                               LineHandler handler) {
  Options options;
  static_cast<LineSocketOptions&>(options) = socket;
  options.what = std::move(what);
  return Create(std::move(options), std::move(handler));
}

std::string LineServer::ReplyLine(uint64_t id, std::string_view command,
                                  const absl::Status& status, const nlohmann::json& results) {
  if (status.ok()) return FormatReply(id, results);
  std::string message(status.message());
  if (message.empty()) message = std::string(command) + " failed";
  return ErrorLine(id, ErrorCodeFromStatus(status), std::move(message));
}

std::string LineServer::ErrorLine(std::optional<uint64_t> id, ErrorCode code, std::string message) {
  const size_t index = static_cast<size_t>(code);
  if (index < counters_.errors.size()) ++counters_.errors[index];
  return FormatError(ProtocolError{id, code, std::move(message)});
}

void LineServer::Queue(Client& client, std::string_view line) {
  if (client.dead) return;
  if (client.pending() > options_.max_output) {
    ++counters_.slow_reader_disconnects;
    Kill(client);
    return;
  }
  if (client.out_pos == client.out.size()) {
    client.out.clear();
    client.out_pos = 0;
  }
  client.out.append(line);
}

void LineServer::Flush(Client& client) {
  while (!client.dead && client.pending() > 0) {
    const ssize_t n = send(client.fd, client.out.data() + client.out_pos, client.pending(),
                           MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      client.out_pos += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    // EPIPE, ECONNRESET: the client left mid-reply.
    Kill(client);
    return;
  }
  if (client.dead) return;
  if (client.pending() == 0) {
    client.out.clear();
    client.out_pos = 0;
    if (client.out.capacity() > kCompactAfter) client.out.shrink_to_fit();
    if (client.read_closed) {
      Kill(client);
      return;
    }
  } else if (client.out_pos >= kCompactAfter) {
    client.out.erase(0, client.out_pos);
    client.out_pos = 0;
  }
  UpdateInterest(client);
}

void LineServer::UpdateInterest(Client& client) {
  const uint32_t wanted = (client.read_closed ? 0u : static_cast<uint32_t>(EPOLLIN)) |
                          (client.pending() > 0 ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  if (wanted == client.interest) return;
  epoll_event event{};
  event.events = wanted;
  event.data.u64 = client.token;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, client.fd, &event) != 0) {
    Kill(client);
    return;
  }
  client.interest = wanted;
}

void LineServer::Kill(Client& client) {
  if (client.dead) return;
  client.dead = true;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, client.fd, nullptr);
  close(client.fd);
  client.fd = -1;
  client.out.clear();
  client.out.shrink_to_fit();
  client.in.clear();
  client.in.shrink_to_fit();
  dead_.push_back(client.token);
}

void LineServer::Reap() {
  for (uint64_t token : dead_) clients_.erase(token);
  dead_.clear();
}

void LineServer::Publish(std::string_view line) {
  for (auto& [token, client] : clients_) {
    if (client->dead || !client->subscribed) continue;
    ++counters_.events;
    Queue(*client, line);
    if (!client->dead) Flush(*client);
  }
  if (!in_poll_) Reap();
}

}  // namespace t38relay::dataplane
