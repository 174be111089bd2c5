// ControlSocketServer: parses control requests, calls the ControlService, formats the replies.
#include "control/api/control_socket.h"

#include <exception>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "dataplane/flowsock/protocol.h"

namespace t38relay::control {
namespace {

using json = nlohmann::json;
using dataplane::LineServer;

// {key: value}, or null with the error in `status`.
template <typename T>
json Result(absl::StatusOr<T> value, const char* key, absl::Status* status) {
  if (!value.ok()) {
    *status = value.status();
    return json();
  }
  return {{key, std::move(*value)}};
}

}  // namespace

ControlSocketServer::ControlSocketServer(Options options, ControlService* service)
    : options_(std::move(options)), service_(service) {}

ControlSocketServer::~ControlSocketServer() = default;

absl::StatusOr<std::unique_ptr<ControlSocketServer>> ControlSocketServer::Create(
    Options options, ControlService* service) {
  if (service == nullptr) return absl::InvalidArgumentError("control socket: no ControlService");
  std::unique_ptr<ControlSocketServer> server(new ControlSocketServer(std::move(options), service));
  ControlSocketServer* self = server.get();
  absl::StatusOr<std::unique_ptr<LineServer>> line = LineServer::Create(
      server->options_, "control socket",
      [self](LineServer::Connection& connection, std::string_view text) {
        self->HandleLine(connection, text);
      });
  if (!line.ok()) return line.status();
  server->server_ = std::move(*line);
  return server;
}

void ControlSocketServer::Poll(int timeout_ms) { server_->Poll(timeout_ms); }
int ControlSocketServer::fd() const { return server_->fd(); }
const std::string& ControlSocketServer::path() const { return server_->path(); }
size_t ControlSocketServer::clients() const { return server_->clients(); }
const ControlSocketServer::Counters& ControlSocketServer::counters() const {
  return server_->counters();
}
json ControlSocketServer::SocketStats() const { return server_->Stats(); }

void ControlSocketServer::HandleLine(LineServer::Connection& connection, std::string_view line) {
  ParsedControlRequest parsed = ParseControlRequest(line);
  if (auto* error = std::get_if<dataplane::ProtocolError>(&parsed)) {
    connection.Reply(server_->ErrorLine(error->id, error->code, std::move(error->message)));
    return;
  }
  connection.Reply(Execute(std::get<ControlRequest>(parsed)));
}

std::string ControlSocketServer::Execute(const ControlRequest& request) {
  json results;
  absl::Status status;
  try {
    switch (request.command) {
      case ControlCommand::kHello:
        results = {{"server", kControlServerName},
                   {"protocol", kControlProtocolVersion},
                   {"version", options_.version}};
        break;
      case ControlCommand::kPing: {
        bool connected = false;
        if (options_.dataplane_connected) {
          connected = options_.dataplane_connected();
        } else {
          const json stats = service_->Stats();
          const json dataplane = stats.is_object() ? stats.value("dataplane", json()) : json();
          connected = dataplane.is_object() && dataplane.value("connected", json()) == json(true);
        }
        results = {{"dataplane", {{"connected", connected}}}};
        break;
      }
      case ControlCommand::kOffer:
        results =
            Result(service_->Offer(std::get<OfferArgs>(request.args).request), "sdp", &status);
        break;
      case ControlCommand::kAnswer:
        results =
            Result(service_->Answer(std::get<AnswerArgs>(request.args).request), "sdp", &status);
        break;
      case ControlCommand::kDelete: {
        const auto& del = std::get<DeleteRequest>(request.args);
        status = service_->Delete(del);
        results = {{"call_id", del.call_id}};
        break;
      }
      case ControlCommand::kQuery:
        results =
            Result(service_->Query(std::get<QueryArgs>(request.args).call_id), "call", &status);
        break;
      case ControlCommand::kList:
        results = service_->List();
        if (!results.is_object()) results = {{"calls", json::array()}};
        break;
      case ControlCommand::kStats:
        results = service_->Stats();
        if (!results.is_object()) results = json::object();
        results["socket"] = SocketStats();
        break;
    }
  } catch (const std::exception& e) {
    status = absl::InternalError(std::string("internal error: ") + e.what());
  }
  return server_->ReplyLine(request.id, ControlCommandName(request.command), status, results);
}

}  // namespace t38relay::control
