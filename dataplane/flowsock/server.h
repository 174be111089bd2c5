// FlowSocketServer: the flow socket (Unix stream, JSON lines, protocol v1) on the dataplane's main
// lcore. Single-threaded, non-blocking, driven by Poll(); requests go to a FlowService.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/flowsock/flow_service.h"
#include "dataplane/flowsock/flow_types.h"
#include "dataplane/flowsock/protocol.h"
#include "nlohmann/json.hpp"

namespace t38relay::dataplane {

// A peer as SO_PEERCRED (and SO_PEERGROUPS) report it.
struct PeerCredentials {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;  // supplementary groups
};

// The contract's rule: root, the dataplane's own effective uid, or a member (primary or
// supplementary) of the socket's group.
bool PeerAllowed(const PeerCredentials& peer, uint32_t server_euid, uint32_t socket_gid);

class FlowSocketServer {
 public:
  struct Options {
    std::string path = "/run/t38relay/flow.sock";
    // Group owning the socket file; none: the process's group (the file's group after bind).
    std::optional<std::string> group;
    mode_t mode = 0660;
    size_t max_clients = 64;
    // Longest request line in bytes, without its "\n"; longer lines get too-large.
    size_t max_line = 65536;
    // A client whose unsent output exceeds this when another reply or event is due is
    // disconnected (a slow reader). One reply larger than this still goes to a reading client.
    size_t max_output = size_t{4} << 20;
  };

  struct Counters {
    uint64_t accepted = 0;  // connections that became clients
    uint64_t requests = 0;  // non-blank lines received (too-large ones included)
    std::array<uint64_t, kErrorCodeCount> errors{};  // error replies by ErrorCode
    uint64_t slow_reader_disconnects = 0;
    uint64_t peer_cred_rejects = 0;
    uint64_t busy_rejects = 0;  // connections over max_clients
    uint64_t events = 0;        // events queued to subscribers (one per subscriber)
  };

  // Binds `options.path` (replacing a stale socket file, refusing a live server's socket or any
  // other kind of file), applies mode and group before listen(), so nobody connects early.
  static absl::StatusOr<std::unique_ptr<FlowSocketServer>> Create(Options options,
                                                                  FlowService* service);
  // Closes every client and unlinks the socket file if it is still ours.
  ~FlowSocketServer();
  FlowSocketServer(const FlowSocketServer&) = delete;
  FlowSocketServer& operator=(const FlowSocketServer&) = delete;

  // Waits up to timeout_ms (0: just look) and handles whatever is ready: accepts, reads, runs
  // complete requests against the service, writes. Never blocks on a client.
  void Poll(int timeout_ms);
  // Queues an event line to every subscribed client (written at once when the socket takes it).
  // May be called from FlowService methods during Poll.
  void Publish(const LegEvent& event);

  size_t clients() const;
  size_t subscribers() const;
  const Counters& counters() const { return counters_; }
  // The "socket" object of the stats reply: clients, requests, errors by code, and the rest of
  // Counters.
  nlohmann::json SocketStats() const;
  const std::string& path() const { return options_.path; }
  // The epoll descriptor: readable when Poll has work (for a caller that sleeps in its own loop).
  int fd() const { return epoll_fd_; }

 private:
  struct Client;

  FlowSocketServer(Options options, FlowService* service);
  void AcceptAll();
  void Reject(int fd, ErrorCode code, std::string message);
  void ReadFrom(Client& client);
  void Consume(Client& client, const char* data, size_t size);
  void HandleLine(Client& client, std::string_view line);
  std::string Execute(Client& client, const Request& request);
  std::string ErrorLine(std::optional<uint64_t> id, ErrorCode code, std::string message);
  void Queue(Client& client, std::string_view line);
  void Flush(Client& client);
  void UpdateInterest(Client& client);
  void Kill(Client& client);
  void Reap();

  Options options_;
  FlowService* service_;
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
