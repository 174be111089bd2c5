// t38ctl: argument parsing (CLI11), one request per command over the control socket, and the
// human-readable tables.
#include "tools/t38ctl.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/api/control_protocol.h"
#include "control/flowclient/line_client.h"

namespace t38relay::tools {
namespace {

using json = nlohmann::json;
using control::ControlCommand;
using control::ControlRequest;

constexpr auto kJsonErrors = json::error_handler_t::replace;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, kJsonErrors); }

// A value of a call object for a table cell: strings bare, null as "-".
std::string Cell(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return Dump(v);
}

// {"ip":"...","port":N} as ip:port ([ip]:port for IPv6); null as "-".
std::string AddressCell(const json& v) {
  if (!v.is_object()) return Cell(v);
  const std::string ip = Cell(v.value("ip", json()));
  const std::string port = Cell(v.value("port", json()));
  return ip.find(':') != std::string::npos ? "[" + ip + "]:" + port : ip + ":" + port;
}

const json& Field(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  const auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

// Left-aligned columns separated by two spaces, trailing spaces trimmed.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::vector<std::string> LegCells(const json& leg) {
  return {Cell(Field(leg, "side")),
          Cell(Field(leg, "transport")),
          AddressCell(Field(leg, "local")),
          AddressCell(Field(leg, "remote")),
          Cell(Field(leg, "state")),
          Cell(Field(leg, "rx_packets")),
          Cell(Field(leg, "forwarded_packets")),
          Cell(Field(leg, "dropped_packets"))};
}

void Flatten(const json& value, const std::string& prefix, std::vector<std::string>* lines) {
  if (value.is_object() && !value.empty()) {
    for (const auto& item : value.items()) {
      Flatten(item.value(), prefix.empty() ? item.key() : prefix + "." + item.key(), lines);
    }
    return;
  }
  lines->push_back(prefix + ": " + Cell(value));
}

// One connection to t38relay-control; errors are already the one-line reason.
class Session {
 public:
  Session(std::string path, int timeout_ms) : path_(std::move(path)), timeout_ms_(timeout_ms) {}

  // The reply's results (without v, id, ok), or the reason it failed.
  absl::StatusOr<json> Request(ControlRequest request) {
    const std::string name(control::ControlCommandName(request.command));
    if (client_ == nullptr) {
      absl::StatusOr<std::unique_ptr<control::LineClient>> client =
          control::LineClient::Connect({path_, timeout_ms_, size_t{64} << 20});
      if (!client.ok()) {
        return absl::UnavailableError("cannot reach t38relay-control at " + path_ + ": " +
                                      std::string(client.status().message()));
      }
      client_ = std::move(*client);
    }
    request.id = client_->NextId();
    absl::StatusOr<json> reply =
        client_->Call(request.id, control::FormatControlRequest(request),
                      [](json) { return absl::OkStatus(); });  // control sends no events
    if (!reply.ok()) {
      client_.reset();
      return absl::UnavailableError(name + " failed: t38relay-control at " + path_ + ": " +
                                    std::string(reply.status().message()));
    }
    if (Field(*reply, "ok") != json(true)) {
      return absl::UnknownError(name + " failed: " + Cell(Field(*reply, "error")) + ": " +
                                Cell(Field(*reply, "message")));
    }
    reply->erase("v");
    reply->erase("id");
    reply->erase("ok");
    return reply;
  }

 private:
  std::string path_;
  int timeout_ms_;
  std::unique_ptr<control::LineClient> client_;
};

// The body of --sdp/--sip: a file, or "-" for standard input; at most the protocol's limit.
absl::StatusOr<std::string> ReadBody(const std::string& file, std::istream& in) {
  std::string body;
  const size_t cap = control::kMaxBodyBytes + 1;
  if (file == "-") {
    std::istreambuf_iterator<char> it(in), end;
    for (; it != end && body.size() < cap; ++it) body.push_back(*it);
  } else {
    std::ifstream stream(file, std::ios::binary);
    if (!stream) {
      return absl::NotFoundError("cannot read " + file + ": " + std::strerror(errno));
    }
    std::istreambuf_iterator<char> it(stream), end;
    for (; it != end && body.size() < cap; ++it) body.push_back(*it);
  }
  const std::string name = file == "-" ? "standard input" : file;
  if (body.size() > control::kMaxBodyBytes) {
    return absl::InvalidArgumentError(name + " is larger than " +
                                      std::to_string(control::kMaxBodyBytes) + " bytes");
  }
  if (body.empty()) return absl::InvalidArgumentError(name + " is empty");
  return body;
}

}  // namespace

std::string FormatCallTable(const json& calls) {
  if (!calls.is_array() || calls.empty()) return "no calls\n";
  std::vector<std::vector<std::string>> rows = {{"CALL ID", "STATE", "SIDE", "TRANSPORT", "LOCAL",
                                                 "REMOTE", "LEG STATE", "RX", "FWD", "DROP"}};
  for (const json& call : calls) {
    const json& legs = Field(call, "legs");
    std::vector<std::string> first = {Cell(Field(call, "call_id")), Cell(Field(call, "state"))};
    if (!legs.is_array() || legs.empty()) {
      rows.push_back(first);
      continue;
    }
    for (size_t i = 0; i < legs.size(); ++i) {
      std::vector<std::string> row = i == 0 ? first : std::vector<std::string>{"", ""};
      for (std::string& cell : LegCells(legs[i])) row.push_back(std::move(cell));
      rows.push_back(std::move(row));
    }
  }
  return Table(rows);
}

std::string FormatCall(const json& call) {
  std::vector<std::vector<std::string>> fields = {
      {"call id:", Cell(Field(call, "call_id"))},
      {"from tag:", Cell(Field(call, "from_tag"))},
      {"to tag:", Cell(Field(call, "to_tag"))},
      {"state:", Cell(Field(call, "state"))},
      {"transport policy:", Cell(Field(call, "transport_policy"))},
      {"anonymous:", Field(call, "anonymous") == json(true) ? "yes" : "no"},
      {"created:", Cell(Field(call, "created"))},
      {"last activity:", Cell(Field(call, "last_activity"))},
  };
  std::string out = Table(fields);
  const json& legs = Field(call, "legs");
  if (!legs.is_array() || legs.empty()) return out + "legs: none\n";
  std::vector<std::vector<std::string>> rows = {{"  SIDE", "TAG", "LEG", "TRANSPORT", "LOCAL",
                                                 "REMOTE", "STATE", "SETUP", "ROLE", "RX", "FWD",
                                                 "DROP"}};
  for (const json& leg : legs) {
    rows.push_back({"  " + Cell(Field(leg, "side")), Cell(Field(leg, "tag")),
                    Cell(Field(leg, "leg")), Cell(Field(leg, "transport")),
                    AddressCell(Field(leg, "local")), AddressCell(Field(leg, "remote")),
                    Cell(Field(leg, "state")), Cell(Field(leg, "setup")), Cell(Field(leg, "role")),
                    Cell(Field(leg, "rx_packets")), Cell(Field(leg, "forwarded_packets")),
                    Cell(Field(leg, "dropped_packets"))});
  }
  return out + "legs:\n" + Table(rows);
}

std::string FormatStats(const json& stats) {
  std::vector<std::string> lines;
  Flatten(stats, "", &lines);
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

int RunT38ctl(const std::vector<std::string>& args, const std::string& default_socket,
              std::istream& in, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "Drives t38relay-control over its Unix socket: SDP offers and answers for T.38 "
      "legs\n(RFC 7345), and the calls, counters and health of the relay.",
      "t38ctl"};
  app.require_subcommand(1);
  // --socket, --json and --timeout also after the subcommand.
  app.fallthrough();
  std::string socket = default_socket;
  bool as_json = false;
  double timeout_s = 10;
  app.add_option("--socket", socket,
                 "control socket (default " + default_socket + "; env T38CTL_SOCKET)");
  app.add_flag("--json", as_json, "print each reply as one JSON object instead of tables");
  app.add_option("--timeout", timeout_s, "seconds to wait for each reply (default 10)")
      ->check(CLI::Range(0.1, 3600.0));

  std::string call_id, from_tag, to_tag, sdp_file, sip_file, transport = "as-offered";
  bool anonymous = false;
  auto add_body = [&](CLI::App* sub) {
    auto* sdp = sub->add_option("--sdp", sdp_file, "file with the SDP body, - for standard input");
    auto* sip = sub->add_option("--sip", sip_file,
                                "file with a whole SIP message carrying the SDP, - for standard "
                                "input");
    sdp->excludes(sip);
    sip->excludes(sdp);
  };

  CLI::App* offer =
      app.add_subcommand("offer", "send an SDP offer; prints the SDP to forward to the callee");
  offer->add_option("--call-id", call_id, "SIP Call-ID")->required();
  offer->add_option("--from-tag", from_tag, "From tag of the dialog")->required();
  add_body(offer);
  offer
      ->add_option("--transport", transport,
                   "transport towards the callee: as-offered (default), dtls (UDP/TLS/UDPTL), "
                   "plain (udptl), prefer-dtls (dtls with an RFC 5939 fallback to udptl)")
      ->check(CLI::IsMember({"as-offered", "dtls", "plain", "prefer-dtls"}));
  offer->add_flag("--anonymous", anonymous,
                  "a fresh DTLS certificate for this call (RFC 7345 section 5.1)");

  CLI::App* answer = app.add_subcommand(
      "answer", "send the callee's SDP answer; prints the SDP to forward to the caller");
  answer->add_option("--call-id", call_id, "SIP Call-ID")->required();
  answer->add_option("--from-tag", from_tag, "From tag of the dialog")->required();
  answer->add_option("--to-tag", to_tag, "To tag of the dialog")->required();
  add_body(answer);

  CLI::App* del = app.add_subcommand("delete", "delete a call (or one dialog of it) and its legs");
  del->add_option("--call-id", call_id, "SIP Call-ID")->required();
  auto* del_from = del->add_option("--from-tag", from_tag, "only the dialog with this From tag");
  del->add_option("--to-tag", to_tag, "and this To tag")->needs(del_from);

  CLI::App* list = app.add_subcommand("list", "list the calls and their legs");
  CLI::App* show = app.add_subcommand("show", "show one call and its legs with live counters");
  show->add_option("call_id", call_id, "SIP Call-ID")->required();

  CLI::App* stats = app.add_subcommand("stats", "show the daemon's and the socket's counters");
  std::vector<std::string> watch;  // "" when --watch comes without SECONDS
  int count = 0;
  auto* watch_opt =
      stats->add_option("--watch", watch, "refresh every SECONDS (default 1) until interrupted")
          ->expected(0, 1)
          ->type_name("[SECONDS]");
  stats->add_option("--count", count, "with --watch: stop after this many refreshes")
      ->needs(watch_opt)
      ->check(CLI::NonNegativeNumber);
  CLI::App* ping =
      app.add_subcommand("ping", "check that t38relay-control answers and has its dataplane");

  std::vector<std::string> argv_storage = {"t38ctl"};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e, out, err);
    err << "t38ctl: " << e.what() << " (see t38ctl --help)\n";
    return 2;
  }
  double watch_s = 1;
  if (!watch.empty() && !watch[0].empty()) {
    char* end = nullptr;
    watch_s = std::strtod(watch[0].c_str(), &end);
    if (end == nullptr || *end != '\0' || !(watch_s >= 0.1 && watch_s <= 86400)) {
      err << "t38ctl: --watch: SECONDS must be a number 0.1..86400, not '" << watch[0] << "'\n";
      return 2;
    }
  }

  Session session(socket, static_cast<int>(timeout_s * 1000));
  auto fail = [&err](const absl::Status& status) {
    err << "t38ctl: " << status.message() << "\n";
    return 1;
  };
  auto print_json = [&out](const json& results) { out << Dump(results) << "\n"; };

  ControlRequest request;
  if (offer->parsed() || answer->parsed()) {
    const bool is_offer = offer->parsed();
    if (sdp_file.empty() && sip_file.empty()) {
      err << "t38ctl: " << (is_offer ? "offer" : "answer") << ": give --sdp FILE or --sip FILE "
          << "(- for standard input)\n";
      return 2;
    }
    absl::StatusOr<std::string> body = ReadBody(sdp_file.empty() ? sip_file : sdp_file, in);
    if (!body.ok()) return fail(body.status());
    const control::BodyKind kind =
        sdp_file.empty() ? control::BodyKind::kSip : control::BodyKind::kSdp;
    if (is_offer) {
      control::OfferArgs offer_args;
      offer_args.request = {call_id, from_tag, std::move(*body),
                            *control::TransportPolicyFromName(transport), anonymous};
      offer_args.kind = kind;
      request = {0, ControlCommand::kOffer, std::move(offer_args)};
    } else {
      control::AnswerArgs answer_args;
      answer_args.request = {call_id, from_tag, to_tag, std::move(*body)};
      answer_args.kind = kind;
      request = {0, ControlCommand::kAnswer, std::move(answer_args)};
    }
    absl::StatusOr<json> reply = session.Request(std::move(request));
    if (!reply.ok()) return fail(reply.status());
    if (as_json) {
      print_json(*reply);
    } else {
      out << Cell(Field(*reply, "sdp"));
    }
    return 0;
  }
  if (del->parsed()) {
    control::DeleteRequest delete_args{call_id, std::nullopt, std::nullopt};
    if (!from_tag.empty()) delete_args.from_tag = from_tag;
    if (!to_tag.empty()) delete_args.to_tag = to_tag;
    absl::StatusOr<json> reply = session.Request({0, ControlCommand::kDelete, delete_args});
    if (!reply.ok()) return fail(reply.status());
    if (as_json) {
      print_json(*reply);
    } else {
      out << "deleted " << call_id << "\n";
    }
    return 0;
  }
  if (list->parsed() || show->parsed()) {
    absl::StatusOr<json> reply =
        list->parsed() ? session.Request({0, ControlCommand::kList, std::monostate{}})
                       : session.Request({0, ControlCommand::kQuery, control::QueryArgs{call_id}});
    if (!reply.ok()) return fail(reply.status());
    if (as_json) {
      print_json(*reply);
    } else if (list->parsed()) {
      out << FormatCallTable(Field(*reply, "calls"));
    } else {
      out << FormatCall(Field(*reply, "call"));
    }
    return 0;
  }
  if (stats->parsed()) {
    const bool watching = watch_opt->count() > 0;
    for (int i = 0;; ++i) {
      absl::StatusOr<json> reply = session.Request({0, ControlCommand::kStats, std::monostate{}});
      if (!reply.ok()) return fail(reply.status());
      if (as_json) {
        print_json(*reply);
      } else {
        if (watching && i > 0) out << "\n";
        out << FormatStats(*reply);
      }
      out.flush();
      if (!watching || (count > 0 && i + 1 >= count)) return 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(watch_s * 1000)));
    }
  }
  if (ping->parsed()) {
    absl::StatusOr<json> reply = session.Request({0, ControlCommand::kPing, std::monostate{}});
    if (!reply.ok()) return fail(reply.status());
    const bool connected = Field(Field(*reply, "dataplane"), "connected") == json(true);
    if (as_json) {
      print_json(*reply);
    } else if (connected) {
      out << "t38relay-control is up; the dataplane is connected\n";
    }
    if (!connected) {
      err << "t38ctl: t38relay-control is up but the dataplane is not connected\n";
      return 1;
    }
    return 0;
  }
  return 2;
}

}  // namespace t38relay::tools
