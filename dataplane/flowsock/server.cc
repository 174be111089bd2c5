// FlowSocketServer: the flow protocol (parse, dispatch to the FlowService, reply) on a LineServer.
#include "dataplane/flowsock/server.h"

#include <exception>
#include <utility>

#include "absl/status/status.h"

namespace t38relay::dataplane {
namespace {

using json = nlohmann::json;

}  // namespace

FlowSocketServer::FlowSocketServer(Options options, FlowService* service)
    : options_(std::move(options)), service_(service) {}

absl::StatusOr<std::unique_ptr<FlowSocketServer>> FlowSocketServer::Create(Options options,
                                                                           FlowService* service) {
  if (service == nullptr) return absl::InvalidArgumentError("flow socket: no FlowService");
  std::unique_ptr<FlowSocketServer> server(new FlowSocketServer(std::move(options), service));
  FlowSocketServer* self = server.get();
  absl::StatusOr<std::unique_ptr<LineServer>> line = LineServer::Create(
      server->options_, "flow socket",
      [self](LineServer::Connection& connection, std::string_view text) {
        self->HandleLine(connection, text);
      });
  if (!line.ok()) return line.status();
  server->server_ = std::move(*line);
  return server;
}

FlowSocketServer::~FlowSocketServer() = default;

void FlowSocketServer::Poll(int timeout_ms) { server_->Poll(timeout_ms); }

nlohmann::json FlowSocketServer::SocketStats() const { return server_->Stats(); }

void FlowSocketServer::HandleLine(LineServer::Connection& connection, std::string_view line) {
  ParsedRequest parsed = ParseRequest(line);
  if (auto* error = std::get_if<ProtocolError>(&parsed)) {
    connection.Reply(server_->ErrorLine(error->id, error->code, std::move(error->message)));
    return;
  }
  connection.Reply(Execute(connection, std::get<Request>(parsed)));
}

std::string FlowSocketServer::Execute(LineServer::Connection& connection, const Request& request) {
  json results;
  absl::Status status;
  try {
    switch (request.command) {
      case Command::kHello:
        results = HelloToJson(service_->Hello());
        break;
      case Command::kLegAdd: {
        absl::StatusOr<LegAddResult> added =
            service_->AddLeg(std::get<LegAddRequest>(request.args));
        if (added.ok()) {
          results = LegAddResultToJson(*added);
        } else {
          status = added.status();
        }
        break;
      }
      case Command::kLegUpdate: {
        const auto& update = std::get<LegUpdateRequest>(request.args);
        status = service_->UpdateLeg(update);
        results = {{"leg", update.leg}};
        break;
      }
      case Command::kLegLink: {
        const auto& link = std::get<LegLinkRequest>(request.args);
        status = service_->LinkLegs(link.a, link.b);
        results = {{"legs", {link.a, link.b}}};
        break;
      }
      case Command::kLegDel: {
        const uint64_t leg = std::get<LegRef>(request.args).leg;
        status = service_->DeleteLeg(leg);
        results = {{"leg", leg}};
        break;
      }
      case Command::kLegGet: {
        absl::StatusOr<LegInfo> info = service_->GetLeg(std::get<LegRef>(request.args).leg);
        if (info.ok()) {
          results = {{"leg", LegInfoToJson(*info)}};
        } else {
          status = info.status();
        }
        break;
      }
      case Command::kLegsList: {
        json legs = json::array();
        for (const LegInfo& info : service_->ListLegs()) legs.push_back(LegInfoToJson(info));
        results = {{"legs", std::move(legs)}};
        break;
      }
      case Command::kStats:
        results = service_->Stats();
        if (!results.is_object()) results = json::object();
        results["socket"] = SocketStats();
        break;
      case Command::kEventsSubscribe:
        connection.set_subscribed(true);
        results = {{"subscribed", true}};
        break;
      case Command::kEventsUnsubscribe:
        connection.set_subscribed(false);
        results = {{"subscribed", false}};
        break;
    }
  } catch (const std::exception& e) {
    status = absl::InternalError(std::string("internal error: ") + e.what());
  }
  return server_->ReplyLine(request.id, CommandName(request.command), status, results);
}

void FlowSocketServer::Publish(const LegEvent& event) {
  // Formatted only when somebody listens (the dataplane publishes whether or not anyone does).
  if (server_->subscribers() == 0) return;
  std::string line;
  try {
    line = FormatEvent(event);
  } catch (const std::exception&) {
    return;
  }
  server_->Publish(line);
}

}  // namespace t38relay::dataplane
