// ControlSocketServer: control's Unix socket (JSON lines, docs/control-socket.md) for t38ctl and
// SIP proxies, on the shared LineServer transport; requests go to a ControlService.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "control/api/control_protocol.h"
#include "control/api/control_service.h"
#include "dataplane/flowsock/line_server.h"
#include "nlohmann/json.hpp"

namespace t38relay::control {

class ControlSocketServer {
 public:
  // path (default /run/t38relay/control.sock), group, mode (0660), max_clients (64), max_line
  // (256 KiB: a 64 KiB SDP or SIP message escaped as JSON fits), max_output (4 MiB); see
  // LineSocketOptions.
  struct Options : dataplane::LineSocketOptions {
    Options() {
      path = "/run/t38relay/control.sock";
      max_line = kMaxControlLine;
    }
    // Whether the dataplane is reachable, for "ping". None: ControlService::Stats()'s
    // "dataplane"."connected".
    std::function<bool()> dataplane_connected;
    // The "version" of the hello reply.
    std::string version = "0.1.0";
  };
  using Counters = dataplane::LineServer::Counters;

  // Binds options.path like the flow socket does (stale socket replaced, a live server's socket
  // or another kind of file refused, mode and group applied before listen()).
  static absl::StatusOr<std::unique_ptr<ControlSocketServer>> Create(Options options,
                                                                     ControlService* service);
  ~ControlSocketServer();
  ControlSocketServer(const ControlSocketServer&) = delete;
  ControlSocketServer& operator=(const ControlSocketServer&) = delete;

  // Waits up to timeout_ms (0: just look) and handles whatever is ready. Never blocks on a client;
  // a request blocks for as long as the ControlService method takes.
  void Poll(int timeout_ms);
  // The epoll descriptor: readable when Poll has work (for a daemon's own poll loop).
  int fd() const;
  const std::string& path() const;
  size_t clients() const;
  const Counters& counters() const;
  // The "socket" object of the stats reply.
  nlohmann::json SocketStats() const;

 private:
  ControlSocketServer(Options options, ControlService* service);
  void HandleLine(dataplane::LineServer::Connection& connection, std::string_view line);
  std::string Execute(const ControlRequest& request);

  Options options_;
  ControlService* service_;
  std::unique_ptr<dataplane::LineServer> server_;
};

}  // namespace t38relay::control
