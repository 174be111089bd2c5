// FlowClient: flow socket requests over a LineClient, replies parsed back into the typed results.
#include "control/flowclient/flow_client.h"

#include <utility>

#include "dataplane/flowsock/protocol.h"

namespace t38relay::control {
namespace {

using json = nlohmann::json;
namespace dp = ::t38relay::dataplane;

// An error reply {"ok":false,"error":code,"message":...} as the status it was made from.
absl::Status StatusFromErrorReply(const json& reply) {
  std::string message = "the dataplane refused the request";
  if (const auto it = reply.find("message"); it != reply.end() && it->is_string()) {
    message = it->get<std::string>();
  }
  std::optional<dp::ErrorCode> code;
  if (const auto it = reply.find("error"); it != reply.end() && it->is_string()) {
    code = dp::ErrorCodeFromName(it->get_ref<const std::string&>());
  }
  return absl::Status(code ? dp::StatusCodeFromErrorCode(*code) : absl::StatusCode::kInternal,
                      message);
}

// A parse error of a reply, naming the command it answered.
absl::Status Malformed(std::string_view command, const absl::Status& status) {
  return absl::InternalError("malformed " + std::string(command) +
                             " reply from the dataplane: " + std::string(status.message()));
}

}  // namespace

FlowClient::FlowClient(Options options, std::unique_ptr<LineClient> line)
    : options_(std::move(options)), line_(std::move(line)) {}

FlowClient::~FlowClient() = default;

absl::StatusOr<std::unique_ptr<FlowClient>> FlowClient::Connect(Options options) {
  LineClient::Options line_options;
  line_options.path = options.path;
  line_options.reply_timeout_ms = options.reply_timeout_ms;
  line_options.max_line = options.max_line;
  absl::StatusOr<std::unique_ptr<LineClient>> line = LineClient::Connect(line_options);
  if (!line.ok()) {
    return absl::UnavailableError("cannot reach the dataplane at " + options.path + ": " +
                                  std::string(line.status().message()) +
                                  "; is t38relay-dataplane running?");
  }
  std::unique_ptr<FlowClient> client(new FlowClient(std::move(options), std::move(*line)));
  absl::StatusOr<json> hello = client->Call(dp::Command::kHello, {});
  if (!hello.ok()) return hello.status();
  const auto server = hello->find("server");
  const auto protocol = hello->find("protocol");
  if (server == hello->end() || *server != dp::kFlowServerName || protocol == hello->end() ||
      *protocol != dp::kFlowProtocolVersion) {
    return absl::FailedPreconditionError(
        client->path() + " is not a t38relay-dataplane flow socket of protocol 1 (hello said " +
        "server " + (server == hello->end() ? "null" : server->dump()) + ", protocol " +
        (protocol == hello->end() ? "null" : protocol->dump()) + ")");
  }
  absl::StatusOr<dp::HelloInfo> info = dp::ParseHelloInfo(*hello);
  if (!info.ok()) return Malformed("hello", info.status());
  client->hello_ = std::move(*info);
  absl::StatusOr<json> subscribed = client->Call(dp::Command::kEventsSubscribe, {});
  if (!subscribed.ok()) return subscribed.status();
  return client;
}

bool FlowClient::connected() const { return line_ != nullptr && line_->connected(); }

int FlowClient::fd() const { return line_ == nullptr ? -1 : line_->fd(); }

absl::Status FlowClient::HandleUnsolicited(const json& line) {
  if (!line.contains("event")) {
    return absl::InternalError(
        "unexpected line from the dataplane: " +
        line.dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 120));
  }
  absl::StatusOr<dp::LegEvent> event = dp::ParseLegEvent(line);
  if (!event.ok()) {
    return absl::InternalError("malformed event from the dataplane: " +
                               std::string(event.status().message()));
  }
  events_.push_back(std::move(*event));
  return absl::OkStatus();
}

absl::StatusOr<json> FlowClient::Call(dp::Command command, dp::RequestArgs args) {
  const std::string_view name = dp::CommandName(command);
  if (!connected()) {
    return absl::UnavailableError("not connected to the dataplane at " + options_.path +
                                  " (the connection was lost); reconnect");
  }
  dp::Request request;
  request.id = line_->NextId();
  request.command = command;
  request.args = std::move(args);
  absl::StatusOr<json> reply = line_->Call(request.id, dp::FormatRequest(request),
                                           [this](json line) { return HandleUnsolicited(line); });
  if (!reply.ok()) {
    return absl::UnavailableError("lost the dataplane at " + options_.path + " during " +
                                  std::string(name) + ": " + std::string(reply.status().message()));
  }
  const auto ok = reply->find("ok");
  if (ok == reply->end() || !ok->is_boolean()) {
    return Malformed(name, absl::InternalError("ok: must be true or false"));
  }
  if (!ok->get<bool>()) return StatusFromErrorReply(*reply);
  reply->erase("v");
  reply->erase("id");
  reply->erase("ok");
  return reply;
}

dp::HelloInfo FlowClient::Hello() { return hello_; }

absl::StatusOr<dp::LegAddResult> FlowClient::AddLeg(const dp::LegAddRequest& request) {
  absl::StatusOr<json> reply = Call(dp::Command::kLegAdd, request);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<dp::LegAddResult> result = dp::ParseLegAddResult(*reply);
  if (!result.ok()) return Malformed("leg.add", result.status());
  return result;
}

absl::Status FlowClient::UpdateLeg(const dp::LegUpdateRequest& request) {
  return Call(dp::Command::kLegUpdate, request).status();
}

absl::Status FlowClient::LinkLegs(uint64_t a, uint64_t b) {
  return Call(dp::Command::kLegLink, dp::LegLinkRequest{a, b}).status();
}

absl::Status FlowClient::DeleteLeg(uint64_t leg) {
  return Call(dp::Command::kLegDel, dp::LegRef{leg}).status();
}

absl::StatusOr<dp::LegInfo> FlowClient::GetLeg(uint64_t leg) {
  absl::StatusOr<json> reply = Call(dp::Command::kLegGet, dp::LegRef{leg});
  if (!reply.ok()) return reply.status();
  const auto object = reply->find("leg");
  if (object == reply->end())
    return Malformed("leg.get", absl::InternalError("missing field 'leg'"));
  absl::StatusOr<dp::LegInfo> info = dp::ParseLegInfo(*object);
  if (!info.ok()) return Malformed("leg.get", info.status());
  return info;
}

absl::StatusOr<std::vector<dp::LegInfo>> FlowClient::TryListLegs() {
  absl::StatusOr<json> reply = Call(dp::Command::kLegsList, {});
  if (!reply.ok()) return reply.status();
  const auto legs = reply->find("legs");
  if (legs == reply->end() || !legs->is_array()) {
    return Malformed("legs.list", absl::InternalError("legs: must be an array"));
  }
  std::vector<dp::LegInfo> out;
  out.reserve(legs->size());
  for (size_t i = 0; i < legs->size(); ++i) {
    absl::StatusOr<dp::LegInfo> info = dp::ParseLegInfo((*legs)[i]);
    if (!info.ok()) {
      return Malformed("legs.list", absl::InternalError("legs[" + std::to_string(i) + "]: " +
                                                        std::string(info.status().message())));
    }
    out.push_back(std::move(*info));
  }
  return out;
}

std::vector<dp::LegInfo> FlowClient::ListLegs() {
  absl::StatusOr<std::vector<dp::LegInfo>> legs = TryListLegs();
  if (!legs.ok()) return {};
  return std::move(*legs);
}

absl::StatusOr<json> FlowClient::TryStats() {
  absl::StatusOr<json> reply = Call(dp::Command::kStats, {});
  if (!reply.ok()) return reply.status();
  return reply;
}

json FlowClient::Stats() {
  absl::StatusOr<json> stats = TryStats();
  if (!stats.ok()) return {{"error", std::string(stats.status().message())}};
  return std::move(*stats);
}

std::vector<dp::LegEvent> FlowClient::TakeEvents() {
  std::vector<dp::LegEvent> out(std::make_move_iterator(events_.begin()),
                                std::make_move_iterator(events_.end()));
  events_.clear();
  return out;
}

absl::Status FlowClient::ReadEvents() {
  if (!connected()) {
    return absl::UnavailableError("not connected to the dataplane at " + options_.path +
                                  " (the connection was lost); reconnect");
  }
  absl::Status status = line_->ReadAvailable([this](json line) { return HandleUnsolicited(line); });
  if (!status.ok()) {
    return absl::UnavailableError("lost the dataplane at " + options_.path + ": " +
                                  std::string(status.message()));
  }
  return absl::OkStatus();
}

}  // namespace t38relay::control
