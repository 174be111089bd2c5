// FlowSocketServer: the flow socket (Unix stream, JSON lines, protocol v1) on the dataplane's main
// lcore: the flow protocol on top of LineServer. Single-threaded, non-blocking, driven by Poll();
// requests go to a FlowService.
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
#include "dataplane/flowsock/line_server.h"
#include "dataplane/flowsock/protocol.h"
#include "nlohmann/json.hpp"

namespace t38relay::dataplane {

class FlowSocketServer {
 public:
  // path, group, mode, max_clients, max_line (65536), max_output (4 MiB); see LineSocketOptions.
  struct Options : LineSocketOptions {
    Options() { path = "/run/t38relay/flow.sock"; }
  };

  using Counters = LineServer::Counters;

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

  size_t clients() const { return server_->clients(); }
  size_t subscribers() const { return server_->subscribers(); }
  const Counters& counters() const { return server_->counters(); }
  // The "socket" object of the stats reply: clients, requests, errors by code, and the rest of
  // Counters.
  nlohmann::json SocketStats() const;
  const std::string& path() const { return options_.path; }
  // The epoll descriptor: readable when Poll has work (for a caller that sleeps in its own loop).
  int fd() const { return server_->fd(); }

 private:
  FlowSocketServer(Options options, FlowService* service);
  void HandleLine(LineServer::Connection& connection, std::string_view line);
  std::string Execute(LineServer::Connection& connection, const Request& request);

  Options options_;
  FlowService* service_;
  std::unique_ptr<LineServer> server_;
};

}  // namespace t38relay::dataplane
