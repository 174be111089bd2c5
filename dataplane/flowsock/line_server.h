// LineServer: the transport of a JSON-lines Unix socket (bind, permissions, SO_PEERCRED, epoll,
// framing, output limits, subscriptions), shared by the flow socket and control's socket.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dataplane/flowsock/protocol.h"
#include "nlohmann/json.hpp"

namespace t38relay::dataplane {

// A peer as SO_PEERCRED (and SO_PEERGROUPS) report it.
struct PeerCredentials {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;  // supplementary groups
};

// The contract's rule: root, the server's own effective uid, or a member (primary or
// supplementary) of the socket's group.
bool PeerAllowed(const PeerCredentials& peer, uint32_t server_euid, uint32_t socket_gid);

// What every JSON-lines socket is configured with (the flow socket's and control's Options
// derive from it and set their own defaults).
struct LineSocketOptions {
  std::string path;
  // Group owning the socket file; none: the process's group (the file's group after bind).
  std::optional<std::string> group;
  mode_t mode = 0660;
  size_t max_clients = 64;
  // Longest request line in bytes, without its "\n"; longer lines get too-large.
  size_t max_line = 65536;
  // A client whose unsent output exceeds this when another line is due is disconnected (a slow
  // reader). One reply larger than this still goes to a reading client.
  size_t max_output = size_t{4} << 20;
};

class LineServer {
  struct Client;  // one connection's buffers and state (line_server.cc)

 public:
  struct Options : LineSocketOptions {
    // Names the socket in error messages: "flow socket" -> "cannot bind flow socket '<path>'".
    std::string what = "socket";
  };

  struct Counters {
    uint64_t accepted = 0;  // connections that became clients
    uint64_t requests = 0;  // non-blank lines received (too-large ones included)
    std::array<uint64_t, kErrorCodeCount> errors{};  // error replies by ErrorCode
    uint64_t slow_reader_disconnects = 0;
    uint64_t peer_cred_rejects = 0;
    uint64_t busy_rejects = 0;  // connections over max_clients
    uint64_t events = 0;        // lines published to subscribers (one per subscriber)
  };

  // A client during a call of the line handler: lets the handler reply and subscribe.
  class Connection {
   public:
    // Queues one line (ending with "\n") to this client.
    void Reply(std::string_view line);
    void set_subscribed(bool subscribed);
    bool subscribed() const;

   private:
    friend class LineServer;
    Connection(LineServer& server, Client& client) : server_(server), client_(client) {}
    LineServer& server_;
    Client& client_;
  };

  // Called once per complete non-blank line (without "\n"), in order, on the Poll thread. The
  // handler answers through Connection::Reply; it may call Publish. Exceptions it lets escape
  // become an internal error reply.
  using LineHandler = std::function<void(Connection& connection, std::string_view line)>;

  // Binds `options.path` (replacing a stale socket file, refusing a live server's socket or any
  // other kind of file), applies mode and group before listen(), so nobody connects early.
  static absl::StatusOr<std::unique_ptr<LineServer>> Create(Options options, LineHandler handler);
  // The same for a protocol server that keeps its own LineSocketOptions.
  static absl::StatusOr<std::unique_ptr<LineServer>> Create(const LineSocketOptions& socket,
                                                            std::string what,
                                                            LineHandler handler);
  // Closes every client and unlinks the socket file if it is still ours.
  ~LineServer();
  LineServer(const LineServer&) = delete;
  LineServer& operator=(const LineServer&) = delete;

  // Waits up to timeout_ms (0: just look) and handles whatever is ready: accepts, reads, runs the
  // handler on complete lines, writes. Never blocks on a client.
  void Poll(int timeout_ms);
  // Queues `line` (ending with "\n") to every subscribed client. May be called from the handler.
  void Publish(std::string_view line);
  // Formats an error line and counts it under counters().errors: for handlers' error replies.
  std::string ErrorLine(std::optional<uint64_t> id, ErrorCode code, std::string message);
  // The reply to request `id`: FormatReply(id, results) when `status` is ok, else its error line
  // (the status's message, or "<command> failed" when it has none).
  std::string ReplyLine(uint64_t id, std::string_view command, const absl::Status& status,
                        const nlohmann::json& results);

  size_t clients() const;
  size_t subscribers() const;
  const Counters& counters() const { return counters_; }
  // clients, subscribers, requests, errors by code, accepted, slow_reader_disconnects,
  // peer_cred_rejects, busy_rejects, events.
  nlohmann::json Stats() const;
  const std::string& path() const { return options_.path; }
  // The epoll descriptor: readable when Poll has work.
  int fd() const { return epoll_fd_; }

 private:
  LineServer(Options options, LineHandler handler);
  void AcceptAll();
  void Reject(int fd, ErrorCode code, std::string message);
  void ReadFrom(Client& client);
  void Consume(Client& client, const char* data, size_t size);
  void HandleLine(Client& client, std::string_view line);
  void Queue(Client& client, std::string_view line);
  void Flush(Client& client);
  void UpdateInterest(Client& client);
  void Kill(Client& client);
  void Reap();

  Options options_;
  LineHandler handler_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  uint32_t euid_ = 0;
  uint32_t socket_gid_ = 0;
  uint64_t socket_dev_ = 0;
  uint64_t socket_ino_ = 0;
  uint64_t next_token_ = 1;
  bool in_poll_ = false;
  std::map<uint64_t, std::unique_ptr<Client>> clients_;
  std::vector<uint64_t> dead_;
  std::vector<char> read_buffer_;
  Counters counters_;
};

}  // namespace t38relay::dataplane
