// Control socket protocol v1: every command, every kind of bad input with its exact error, and
// Format -> Parse round trips.
#include "control/api/control_protocol.h"

#include <string>
#include <string_view>
#include <variant>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace t38relay::control {
namespace {

using json = nlohmann::json;
using dataplane::ErrorCode;
using dataplane::ErrorCodeName;
using dataplane::ProtocolError;

constexpr std::string_view kSdp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n";

ControlRequest MustParse(std::string_view line) {
  ParsedControlRequest parsed = ParseControlRequest(line);
  if (const auto* error = std::get_if<ProtocolError>(&parsed)) {
    ADD_FAILURE() << line << " -> " << ErrorCodeName(error->code) << ": " << error->message;
    return {};
  }
  return std::get<ControlRequest>(parsed);
}

ProtocolError MustFail(std::string_view line) {
  ParsedControlRequest parsed = ParseControlRequest(line);
  if (std::holds_alternative<ControlRequest>(parsed)) {
    ADD_FAILURE() << line << " parsed, an error was expected";
    return {};
  }
  return std::get<ProtocolError>(parsed);
}

std::string Line(std::string_view cmd, const json& fields = json::object(), uint64_t id = 1) {
  json j = {{"v", 1}, {"id", id}, {"cmd", cmd}};
  for (const auto& item : fields.items()) j[item.key()] = item.value();
  return j.dump();
}

// bad-request with id 1 and exactly `message`.
void ExpectBadRequest(std::string_view cmd, const json& fields, std::string_view message) {
  const ProtocolError e = MustFail(Line(cmd, fields));
  EXPECT_EQ(ErrorCodeName(e.code), "bad-request") << fields.dump();
  EXPECT_EQ(e.id, std::optional<uint64_t>(1));
  EXPECT_EQ(e.message, message) << fields.dump();
}

json OfferFields() { return {{"call_id", "abc@host"}, {"from_tag", "t1"}, {"sdp", kSdp}}; }
json AnswerFields() {
  return {{"call_id", "abc@host"}, {"from_tag", "t1"}, {"to_tag", "t2"}, {"sdp", kSdp}};
}

TEST(ParseControlRequestTest, CommandsWithoutArguments) {
  const std::pair<std::string_view, ControlCommand> commands[] = {
      {"hello", ControlCommand::kHello},
      {"ping", ControlCommand::kPing},
      {"list", ControlCommand::kList},
      {"stats", ControlCommand::kStats},
  };
  for (const auto& [name, command] : commands) {
    const ControlRequest r = MustParse(Line(name, json::object(), 77));
    EXPECT_EQ(r.id, 77u);
    EXPECT_EQ(r.command, command);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(r.args));
    EXPECT_EQ(ControlCommandName(command), name);
    ExpectBadRequest(name, {{"call_id", "x"}}, "unknown field 'call_id'");
  }
}

TEST(ParseControlRequestTest, Offer) {
  ControlRequest r = MustParse(Line("offer", OfferFields()));
  EXPECT_EQ(r.command, ControlCommand::kOffer);
  const auto& offer = std::get<OfferArgs>(r.args);
  EXPECT_EQ(offer.request.call_id, "abc@host");
  EXPECT_EQ(offer.request.from_tag, "t1");
  EXPECT_EQ(offer.request.body, kSdp);
  EXPECT_EQ(offer.kind, BodyKind::kSdp);
  EXPECT_EQ(offer.request.transport, TransportPolicy::kAsOffered);
  EXPECT_FALSE(offer.request.anonymous);

  const std::pair<std::string_view, TransportPolicy> policies[] = {
      {"as-offered", TransportPolicy::kAsOffered},
      {"dtls", TransportPolicy::kDtls},
      {"plain", TransportPolicy::kPlain},
      {"prefer-dtls", TransportPolicy::kPreferDtls},
  };
  for (const auto& [name, policy] : policies) {
    json fields = {{"call_id", "c"},
                   {"from_tag", "f"},
                   {"sip", "INVITE sip:x SIP/2.0\r\n\r\n"},
                   {"transport", name},
                   {"anonymous", true}};
    r = MustParse(Line("offer", fields));
    const auto& args = std::get<OfferArgs>(r.args);
    EXPECT_EQ(args.request.transport, policy);
    EXPECT_EQ(args.kind, BodyKind::kSip);
    EXPECT_TRUE(args.request.anonymous);
    EXPECT_EQ(TransportPolicyName(policy), name);
    EXPECT_EQ(TransportPolicyFromName(name), policy);
  }
  EXPECT_EQ(TransportPolicyFromName("DTLS"), std::nullopt);
}

TEST(ParseControlRequestTest, OfferErrors) {
  json j = OfferFields();
  j.erase("call_id");
  ExpectBadRequest("offer", j, "missing field 'call_id'");
  j = OfferFields();
  j.erase("from_tag");
  ExpectBadRequest("offer", j, "missing field 'from_tag'");
  j = OfferFields();
  j.erase("sdp");
  ExpectBadRequest("offer", j,
                   "sdp: missing: give 'sdp' (an SDP body) or 'sip' (a whole SIP message)");
  j = OfferFields();
  j["sip"] = "x";
  ExpectBadRequest("offer", j, "sdp: give 'sdp' or 'sip', not both");
  j = OfferFields();
  j["sdp"] = "";
  ExpectBadRequest("offer", j, "sdp: must not be empty");
  j = OfferFields();
  j["sdp"] = 5;
  ExpectBadRequest("offer", j, "sdp: must be a string");
  j = OfferFields();
  j["sdp"] = std::string(kMaxBodyBytes + 1, 'a');
  ExpectBadRequest("offer", j, "sdp: at most 65536 bytes, not 65537");
  j = OfferFields();
  j.erase("sdp");
  j["sip"] = std::string("a\0b", 3);
  ExpectBadRequest("offer", j, "sip: contains a NUL character");
  j = OfferFields();
  j["transport"] = "tls";
  ExpectBadRequest("offer", j,
                   "transport: must be one of \"as-offered\", \"dtls\", \"plain\", "
                   "\"prefer-dtls\", not 'tls'");
  j = OfferFields();
  j["anonymous"] = "yes";
  ExpectBadRequest("offer", j, "anonymous: must be true or false");
  j = OfferFields();
  j["to_tag"] = "x";
  ExpectBadRequest("offer", j, "unknown field 'to_tag'");
  j = OfferFields();
  j["transport"] = nullptr;
  ExpectBadRequest("offer", j,
                   "transport: must be one of \"as-offered\", \"dtls\", \"plain\", "
                   "\"prefer-dtls\"");
  // The SDP may be exactly at the limit.
  j = OfferFields();
  j["sdp"] = std::string(kMaxBodyBytes, 'a');
  MustParse(Line("offer", j));
}

TEST(ParseControlRequestTest, CallIdsAndTags) {
  json j = OfferFields();
  j["call_id"] = "";
  ExpectBadRequest("offer", j, "call_id: must not be empty (1..256 bytes)");
  j["call_id"] = std::string(257, 'c');
  ExpectBadRequest("offer", j, "call_id: at most 256 bytes, not 257");
  j["call_id"] = std::string(256, 'c');
  MustParse(Line("offer", j));
  j["call_id"] = "a b";
  ExpectBadRequest("offer", j,
                   "call_id: character 2 is not printable ASCII (spaces and control characters "
                   "are not allowed)");
  j["call_id"] = "ab\t";
  ExpectBadRequest("offer", j,
                   "call_id: character 3 is not printable ASCII (spaces and control characters "
                   "are not allowed)");
  j["call_id"] = "caf\xc3\xa9";
  ExpectBadRequest("offer", j,
                   "call_id: character 4 is not printable ASCII (spaces and control characters "
                   "are not allowed)");
  j["call_id"] = 12;
  ExpectBadRequest("offer", j, "call_id: must be a string");
  j = OfferFields();
  j["from_tag"] = "x\x7f";
  ExpectBadRequest("offer", j,
                   "from_tag: character 2 is not printable ASCII (spaces and control characters "
                   "are not allowed)");
  j = OfferFields();
  j["call_id"] = "!~\"{}@[]";  // any printable ASCII
  MustParse(Line("offer", j));
  EXPECT_EQ(CheckCallToken("ok"), "");
}

TEST(ParseControlRequestTest, Answer) {
  ControlRequest r = MustParse(Line("answer", AnswerFields(), 3));
  EXPECT_EQ(r.command, ControlCommand::kAnswer);
  const auto& answer = std::get<AnswerArgs>(r.args);
  EXPECT_EQ(answer.request.call_id, "abc@host");
  EXPECT_EQ(answer.request.from_tag, "t1");
  EXPECT_EQ(answer.request.to_tag, "t2");
  EXPECT_EQ(answer.request.body, kSdp);
  json j = AnswerFields();
  j.erase("to_tag");
  ExpectBadRequest("answer", j, "missing field 'to_tag'");
  j = AnswerFields();
  j["transport"] = "dtls";
  ExpectBadRequest("answer", j, "unknown field 'transport'");
  j = AnswerFields();
  j["to_tag"] = "a b";
  ExpectBadRequest("answer", j,
                   "to_tag: character 2 is not printable ASCII (spaces and control characters "
                   "are not allowed)");
}

TEST(ParseControlRequestTest, DeleteAndQuery) {
  ControlRequest r = MustParse(Line("delete", {{"call_id", "c"}}));
  auto del = std::get<DeleteRequest>(r.args);
  EXPECT_EQ(del.call_id, "c");
  EXPECT_EQ(del.from_tag, std::nullopt);
  EXPECT_EQ(del.to_tag, std::nullopt);
  r = MustParse(Line("delete", {{"call_id", "c"}, {"from_tag", "f"}, {"to_tag", "t"}}));
  del = std::get<DeleteRequest>(r.args);
  EXPECT_EQ(del.from_tag, "f");
  EXPECT_EQ(del.to_tag, "t");
  ExpectBadRequest("delete", {{"call_id", "c"}, {"to_tag", "t"}},
                   "to_tag: only together with from_tag");
  ExpectBadRequest("delete", json::object(), "missing field 'call_id'");
  ExpectBadRequest("delete", {{"call_id", "c"}, {"sdp", "x"}}, "unknown field 'sdp'");

  r = MustParse(Line("query", {{"call_id", "q@x"}}));
  EXPECT_EQ(r.command, ControlCommand::kQuery);
  EXPECT_EQ(std::get<QueryArgs>(r.args).call_id, "q@x");
  ExpectBadRequest("query", json::object(), "missing field 'call_id'");
  ExpectBadRequest("query", {{"call_id", "q"}, {"from_tag", "f"}}, "unknown field 'from_tag'");
}

TEST(ParseControlRequestTest, Envelope) {
  ProtocolError e = MustFail("not json");
  EXPECT_EQ(ErrorCodeName(e.code), "bad-json");
  EXPECT_EQ(e.id, std::nullopt);
  e = MustFail(R"({"v":2,"id":5,"cmd":"hello"})");
  EXPECT_EQ(ErrorCodeName(e.code), "unsupported-version");
  EXPECT_EQ(e.id, std::optional<uint64_t>(5));
  EXPECT_EQ(e.message, "protocol version 2 is not supported; this server speaks v1");
  e = MustFail(R"({"v":1,"id":5,"cmd":"leg.add"})");
  EXPECT_EQ(ErrorCodeName(e.code), "unknown-command");
  EXPECT_EQ(e.message,
            "unknown command 'leg.add' (known: hello, ping, offer, answer, delete, query, list, "
            "stats)");
  e = MustFail(R"({"v":1,"cmd":"hello"})");
  EXPECT_EQ(ErrorCodeName(e.code), "bad-request");
  EXPECT_EQ(e.message, "missing field 'id' (an integer 0..9007199254740991)");
  e = MustFail(R"({"v":1,"id":1,"cmd":"hello","cmd":"ping"})");
  EXPECT_EQ(e.message, "duplicate field 'cmd'");
  e = MustFail(R"([1,2])");
  EXPECT_EQ(ErrorCodeName(e.code), "bad-request");
  e = MustFail(R"({"v":1,"id":1,"cmd":"list","a":[[[[[[[[[1]]]]]]]]]})");
  EXPECT_EQ(ErrorCodeName(e.code), "bad-json");
  EXPECT_EQ(e.message, "JSON nested deeper than 8 levels");
  EXPECT_EQ(MustParse(std::string(R"({"v":1,"id":4,"cmd":"ping"})") + "\r").id, 4u);
}

TEST(FormatControlRequestTest, RoundTrips) {
  std::vector<ControlRequest> requests;
  for (ControlCommand command : {ControlCommand::kHello, ControlCommand::kPing,
                                 ControlCommand::kList, ControlCommand::kStats}) {
    requests.push_back({1, command, std::monostate{}});
  }
  OfferArgs offer;
  offer.request = {"c@h", "f", std::string(kSdp), TransportPolicy::kPreferDtls, true};
  requests.push_back({2, ControlCommand::kOffer, offer});
  offer.kind = BodyKind::kSip;
  offer.request.anonymous = false;
  requests.push_back({3, ControlCommand::kOffer, offer});
  AnswerArgs answer;
  answer.request = {"c@h", "f", "t", "v=0\r\n"};
  requests.push_back({4, ControlCommand::kAnswer, answer});
  requests.push_back({5, ControlCommand::kDelete, DeleteRequest{"c", "f", "t"}});
  requests.push_back({6, ControlCommand::kDelete, DeleteRequest{"c", std::nullopt, std::nullopt}});
  requests.push_back({7, ControlCommand::kQuery, QueryArgs{"c"}});
  for (const ControlRequest& request : requests) {
    const std::string line = FormatControlRequest(request);
    ASSERT_EQ(line.back(), '\n');
    const ControlRequest parsed = MustParse(std::string_view(line).substr(0, line.size() - 1));
    EXPECT_TRUE(parsed == request) << line;
  }
  EXPECT_FALSE(requests[4] == requests[5]);  // the body kind counts
  EXPECT_EQ(FormatControlRequest(requests[7]),
            "{\"call_id\":\"c\",\"cmd\":\"delete\",\"from_tag\":\"f\",\"id\":5,\"to_tag\":\"t\","
            "\"v\":1}\n");
}

}  // namespace
}  // namespace t38relay::control
