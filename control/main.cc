// t38relay-control: the control daemon — the control socket for t38ctl and SIP proxies, the call
// manager, and the flow socket connection to t38relay-dataplane, in one single-threaded loop.
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "CLI/CLI.hpp"
#include "control/api/control_socket.h"
#include "control/calls/call_manager.h"
#include "control/flowclient/flow_client.h"

namespace t38relay::control {
namespace {

void LogLine(std::string_view line) {
  std::fprintf(stderr, "t38relay-control: %.*s\n", static_cast<int>(line.size()), line.data());
}

struct DaemonOptions {
  std::string socket = "/run/t38relay/control.sock";
  std::string flow_socket = "/run/t38relay/flow.sock";
  std::string group;
  int64_t idle_timeout = 60;
  std::string setup = "actpass";
  uint32_t mtu = 1500;
};

// Creates the socket's directory (0755) when missing, so a fresh /run works.
bool EnsureDirectory(const std::string& socket_path) {
  std::filesystem::path dir = std::filesystem::path(socket_path).parent_path();
  if (dir.empty()) return true;
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return true;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    LogLine("cannot create " + dir.string() + ": " + ec.message());
    return false;
  }
  ::chmod(dir.c_str(), 0755);
  return true;
}

class Daemon {
 public:
  Daemon(const DaemonOptions& options, calls::CallManager* manager)
      : options_(options), manager_(manager) {}

  int Run(ControlSocketServer* server) {
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    ::sigprocmask(SIG_BLOCK, &signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    int signal_fd = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    int timer_fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    itimerspec every_second{};
    every_second.it_interval.tv_sec = 1;
    every_second.it_value.tv_sec = 1;
    ::timerfd_settime(timer_fd, 0, &every_second, nullptr);
    if (epoll_ < 0 || signal_fd < 0 || timer_fd < 0) {
      LogLine(std::string("epoll/signalfd/timerfd: ") + std::strerror(errno));
      return 1;
    }
    Watch(server->fd());
    Watch(signal_fd);
    Watch(timer_fd);
    Reconnect();
    while (true) {
      epoll_event ready[8];
      int n = ::epoll_wait(epoll_, ready, 8, -1);
      if (n < 0 && errno != EINTR) {
        LogLine(std::string("epoll_wait: ") + std::strerror(errno));
        return 1;
      }
      for (int i = 0; i < n; ++i) {
        const int fd = ready[i].data.fd;
        if (fd == signal_fd) {
          // Calls stay in the dataplane: a restarted control picks them up from the labels.
          LogLine("stopping; calls stay in the dataplane");
          return 0;
        }
        if (fd == timer_fd) {
          uint64_t expirations = 0;
          (void)!::read(timer_fd, &expirations, sizeof(expirations));
          if (client_ == nullptr) Reconnect();
          manager_->Tick();
        } else if (fd == server->fd()) {
          server->Poll(0);
        } else if (client_ != nullptr && fd == client_->fd()) {
          if (absl::Status s = client_->ReadEvents(); !s.ok()) {
            LogLine(std::string("dataplane connection lost: ") + std::string(s.message()));
          }
        }
        DrainEvents();
      }
    }
  }

 private:
  void Watch(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
  }

  // Until the dataplane answers, requests get busy (CallManager without a FlowService).
  void Reconnect() {
    FlowClient::Options o;
    o.path = options_.flow_socket;
    absl::StatusOr<std::unique_ptr<FlowClient>> client = FlowClient::Connect(o);
    if (!client.ok()) {
      if (!warned_) LogLine(std::string(client.status().message()) + " (retrying every second)");
      warned_ = true;
      return;
    }
    warned_ = false;
    client_ = std::move(*client);
    absl::StatusOr<std::vector<dataplane::LegInfo>> legs = client_->TryListLegs();
    if (!legs.ok()) {
      LogLine(std::string("legs.list failed: ") + std::string(legs.status().message()));
      client_.reset();
      return;
    }
    manager_->SetFlowService(client_.get());
    size_t recovered = manager_->RecoverFrom(*legs);
    LogLine("connected to the dataplane at " + options_.flow_socket + "; " +
            std::to_string(recovered) + " call(s) recovered from " +
            std::to_string(legs->size()) + " leg(s)");
    Watch(client_->fd());
  }

  // Events queue up while requests wait for their replies: hand them all to the calls, and
  // notice a connection that broke meanwhile.
  void DrainEvents() {
    if (client_ == nullptr) return;
    for (const dataplane::LegEvent& event : client_->TakeEvents()) manager_->HandleEvent(event);
    if (!client_->connected()) {
      manager_->SetFlowService(nullptr);
      client_.reset();  // closing its fd takes it out of the epoll set
      LogLine("dataplane unreachable; answering busy until it is back");
    }
  }

  const DaemonOptions& options_;
  calls::CallManager* manager_;
  std::unique_ptr<FlowClient> client_;
  int epoll_ = -1;
  bool warned_ = false;
};

int Main(int argc, char** argv) {
  DaemonOptions options;
  CLI::App app{"t38relay-control: RFC 7345 offer/answer for t38relay-dataplane"};
  app.add_option("--socket", options.socket, "control socket path (t38ctl, SIP proxies)")
      ->capture_default_str();
  app.add_option("--flow-socket", options.flow_socket, "the dataplane's flow socket")
      ->capture_default_str();
  app.add_option("--group", options.group, "group owning the control socket (mode 0660)");
  app.add_option("--idle-timeout", options.idle_timeout,
                 "seconds a call with only idle legs is kept before it is deleted")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{86400}));
  app.add_option("--setup", options.setup, "our a=setup in offers (RFC 7345 section 4.2)")
      ->capture_default_str()
      ->check(CLI::IsMember({"actpass", "active", "passive"}));
  app.add_option("--mtu", options.mtu, "path MTU of the legs, for T38FaxMaxDatagram")
      ->capture_default_str()
      ->check(CLI::Range(576u, 65535u));
  CLI11_PARSE(app, argc, argv);

  calls::CallManager::Options manager_options;
  manager_options.offer_setup = options.setup == "active"    ? dataplane::DtlsSetup::kActive
                                : options.setup == "passive" ? dataplane::DtlsSetup::kPassive
                                                             : dataplane::DtlsSetup::kActpass;
  manager_options.mtu = options.mtu;
  manager_options.idle_timeout_s = options.idle_timeout;
  manager_options.log = LogLine;
  calls::CallManager manager(manager_options, nullptr);
  Daemon daemon(options, &manager);

  if (!EnsureDirectory(options.socket)) return 1;
  ControlSocketServer::Options server_options;
  server_options.path = options.socket;
  if (!options.group.empty()) server_options.group = options.group;
  server_options.dataplane_connected = [&manager] { return manager.connected(); };
  absl::StatusOr<std::unique_ptr<ControlSocketServer>> server =
      ControlSocketServer::Create(server_options, &manager);
  if (!server.ok()) {
    LogLine(std::string(server.status().message()));
    return 1;
  }
  LogLine("listening on " + options.socket);
  return daemon.Run(server->get());
}

}  // namespace
}  // namespace t38relay::control

int main(int argc, char** argv) { return t38relay::control::Main(argc, argv); }
