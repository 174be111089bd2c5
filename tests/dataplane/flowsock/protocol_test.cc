// Flow socket protocol v1: parsing and validation of every command, replies, errors and events.
#include "dataplane/flowsock/protocol.h"

#include <string>
#include <string_view>
#include <variant>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace t38relay::dataplane {
namespace {

using json = nlohmann::json;

constexpr std::string_view kSha256 =
    "ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
constexpr std::string_view kPwd = "asd88fgpdd777uzjYhagZg";  // 22 ice-chars

Request MustParse(std::string_view line) {
  ParsedRequest parsed = ParseRequest(line);
  if (const auto* error = std::get_if<ProtocolError>(&parsed)) {
    ADD_FAILURE() << line << " -> " << ErrorCodeName(error->code) << ": " << error->message;
    return {};
  }
  return std::get<Request>(parsed);
}

ProtocolError MustFail(std::string_view line) {
  ParsedRequest parsed = ParseRequest(line);
  if (std::holds_alternative<Request>(parsed)) {
    ADD_FAILURE() << line << " parsed, an error was expected";
    return {};
  }
  return std::get<ProtocolError>(parsed);
}

// A request line from a base object plus fields.
std::string Line(std::string_view cmd, const json& fields = json::object(), uint64_t id = 1) {
  json j = {{"v", 1}, {"id", id}, {"cmd", cmd}};
  for (const auto& item : fields.items()) j[item.key()] = item.value();
  return j.dump();
}

// Expects bad-request with id 1 and a message containing `needle`.
void ExpectBadRequest(std::string_view cmd, const json& fields, std::string_view needle) {
  const ProtocolError e = MustFail(Line(cmd, fields));
  EXPECT_EQ(ErrorCodeName(e.code), "bad-request") << fields.dump() << ": " << e.message;
  EXPECT_EQ(e.id, std::optional<uint64_t>(1)) << fields.dump();
  EXPECT_NE(e.message.find(needle), std::string::npos)
      << fields.dump() << ": '" << e.message << "' lacks '" << needle << "'";
}

TEST(ParseRequestTest, CommandsWithoutArguments) {
  const std::pair<std::string_view, Command> commands[] = {
      {"hello", Command::kHello},
      {"legs.list", Command::kLegsList},
      {"stats", Command::kStats},
      {"events.subscribe", Command::kEventsSubscribe},
      {"events.unsubscribe", Command::kEventsUnsubscribe},
  };
  for (const auto& [name, command] : commands) {
    const Request r = MustParse(Line(name, json::object(), 42));
    EXPECT_EQ(r.id, 42u);
    EXPECT_EQ(r.command, command);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(r.args));
    EXPECT_EQ(CommandName(command), name);
    ExpectBadRequest(name, {{"leg", 1}}, "unknown field 'leg'");
  }
}

TEST(ParseRequestTest, IdRangeAndEcho) {
  EXPECT_EQ(MustParse(R"({"v":1,"id":0,"cmd":"hello"})").id, 0u);
  EXPECT_EQ(MustParse(R"({"v":1,"id":9007199254740991,"cmd":"hello"})").id, kMaxJsonId);
  for (const char* bad : {R"({"v":1,"id":9007199254740992,"cmd":"hello"})",
                          R"({"v":1,"id":-1,"cmd":"hello"})", R"({"v":1,"id":1.5,"cmd":"hello"})",
                          R"({"v":1,"id":1e3,"cmd":"hello"})", R"({"v":1,"id":"7","cmd":"hello"})",
                          R"({"v":1,"id":null,"cmd":"hello"})", R"({"v":1,"cmd":"hello"})",
                          R"({"v":1,"id":99999999999999999999999,"cmd":"hello"})"}) {
    const ProtocolError e = MustFail(bad);
    EXPECT_EQ(e.code, ErrorCode::kBadRequest) << bad;
    EXPECT_FALSE(e.id.has_value()) << bad;
    EXPECT_NE(e.message.find("id"), std::string::npos) << bad << ": " << e.message;
  }
}

TEST(ParseRequestTest, Version) {
  ProtocolError e = MustFail(R"({"v":2,"id":5,"cmd":"hello"})");
  EXPECT_EQ(e.code, ErrorCode::kUnsupportedVersion);
  EXPECT_EQ(e.id, std::optional<uint64_t>(5));
  EXPECT_NE(e.message.find("v1"), std::string::npos);
  EXPECT_EQ(MustFail(R"({"v":0,"id":5,"cmd":"hello"})").code, ErrorCode::kUnsupportedVersion);
  EXPECT_EQ(MustFail(R"({"v":-1,"id":5,"cmd":"hello"})").code, ErrorCode::kUnsupportedVersion);
  // A newer version is reported as such even when the rest would not parse in v1.
  e = MustFail(R"({"v":2,"id":"x","cmd":"hello"})");
  EXPECT_EQ(e.code, ErrorCode::kUnsupportedVersion);
  EXPECT_FALSE(e.id.has_value());
  for (const char* bad : {R"({"id":5,"cmd":"hello"})", R"({"v":"1","id":5,"cmd":"hello"})",
                          R"({"v":1.0,"id":5,"cmd":"hello"})", R"({"v":null,"id":5,"cmd":"hello"})"}) {
    e = MustFail(bad);
    EXPECT_EQ(e.code, ErrorCode::kBadRequest) << bad;
    EXPECT_EQ(e.id, std::optional<uint64_t>(5)) << bad;
  }
}

TEST(ParseRequestTest, BadJson) {
  for (std::string_view bad :
       {std::string_view("garbage"), std::string_view("{"), std::string_view(""),
        std::string_view(R"({"v":1,"id":1,"cmd":"hello"} x)"), std::string_view("{\"v\":1,}"),
        std::string_view("{\"v\":1,\"id\":1,\"cmd\":\"he\xff\"}"),
        std::string_view("{\"v\":1 /* c */,\"id\":1,\"cmd\":\"hello\"}"),
        std::string_view("{\"v\":1,\"id\":1,\"cmd\":\"hello\"}\0", 30)}) {
    const ProtocolError e = MustFail(bad);
    EXPECT_EQ(e.code, ErrorCode::kBadJson) << bad;
    EXPECT_FALSE(e.id.has_value());
    EXPECT_FALSE(e.message.empty());
    // The error line itself is valid JSON.
    EXPECT_TRUE(json::accept(FormatError(e))) << FormatError(e);
  }
}

TEST(ParseRequestTest, NotAnObject) {
  for (const char* bad : {"[1,2]", "1", "\"hello\"", "null", "true"}) {
    const ProtocolError e = MustFail(bad);
    EXPECT_EQ(e.code, ErrorCode::kBadRequest) << bad;
    EXPECT_FALSE(e.id.has_value());
  }
}

TEST(ParseRequestTest, NestingIsCapped) {
  std::string deep = R"({"v":1,"id":1,"cmd":"hello","x":)";
  deep += std::string(20000, '[') + std::string(20000, ']') + "}";
  EXPECT_EQ(MustFail(deep).code, ErrorCode::kBadJson);
  // Within the cap the nesting itself is fine; the unknown field is what is reported.
  EXPECT_EQ(MustFail(R"({"v":1,"id":1,"cmd":"hello","x":[[[[[[1]]]]]]})").code,
            ErrorCode::kBadRequest);
}

TEST(ParseRequestTest, DuplicateFieldsAreRefused) {
  ProtocolError e = MustFail(R"({"v":1,"id":1,"cmd":"hello","cmd":"stats"})");
  EXPECT_EQ(e.code, ErrorCode::kBadRequest);
  EXPECT_NE(e.message.find("duplicate field 'cmd'"), std::string::npos) << e.message;
  e = MustFail(R"({"v":1,"id":1,"cmd":"leg.update","leg":1,"remote":{"ip":"1.2.3.4","port":1,"port":2}})");
  EXPECT_NE(e.message.find("duplicate field 'port'"), std::string::npos) << e.message;
  // The same key in sibling objects is fine.
  MustParse(Line("leg.add", {{"transport", "dtls"},
                             {"fingerprints",
                              {{{"hash", "sha-256"}, {"value", kSha256}},
                               {{"hash", "sha-256"}, {"value", kSha256}}}}}));
}

TEST(ParseRequestTest, CommandField) {
  ProtocolError e = MustFail(R"({"v":1,"id":3,"cmd":"leg.frobnicate"})");
  EXPECT_EQ(e.code, ErrorCode::kUnknownCommand);
  EXPECT_EQ(e.id, std::optional<uint64_t>(3));
  EXPECT_NE(e.message.find("'leg.frobnicate'"), std::string::npos);
  EXPECT_NE(e.message.find("leg.add"), std::string::npos);  // lists what is known
  e = MustFail(R"({"v":1,"id":3,"cmd":7})");
  EXPECT_EQ(e.code, ErrorCode::kBadRequest);
  e = MustFail(R"({"v":1,"id":3})");
  EXPECT_EQ(e.code, ErrorCode::kBadRequest);
  EXPECT_NE(e.message.find("missing field 'cmd'"), std::string::npos);
  // Echoes of client text are cut short.
  e = MustFail(Line(std::string(5000, 'x')));
  EXPECT_LT(e.message.size(), 400u);
}

TEST(ParseRequestTest, TrailingCarriageReturnIsIgnored) {
  EXPECT_EQ(MustParse(R"({"v":1,"id":9,"cmd":"hello"})"
                      "\r")
                .id,
            9u);
}

TEST(ParseLegAddTest, FullDtlsRequest) {
  const Request r = MustParse(Line(
      "leg.add", {{"transport", "dtls"},
                  {"ip", "198.18.0.1"},
                  {"remote", {{"ip", "2001:db8::5"}, {"port", 5004}}},
                  {"setup", "passive"},
                  {"remote_setup", "active"},
                  {"fingerprints", {{{"hash", "SHA-256"}, {"value", kSha256}}}},
                  {"ice", {{"ufrag", "abcd"}, {"pwd", kPwd}, {"remote_ufrag", "wxyz+/"}}},
                  {"latch", "strict"},
                  {"anonymous", true},
                  {"label", "call-1;tag-a;a"}}));
  EXPECT_EQ(r.command, Command::kLegAdd);
  const auto& add = std::get<LegAddRequest>(r.args);
  EXPECT_EQ(add.transport, LegTransport::kDtls);
  ASSERT_TRUE(add.ip.has_value());
  EXPECT_EQ(add.ip->ToString(), "198.18.0.1");
  EXPECT_FALSE(add.family.has_value());
  ASSERT_TRUE(add.remote.has_value());
  EXPECT_EQ(add.remote->ToString(), "[2001:db8::5]:5004");
  EXPECT_EQ(add.setup, DtlsSetup::kPassive);
  EXPECT_EQ(add.remote_setup, std::optional<DtlsSetup>(DtlsSetup::kActive));
  ASSERT_EQ(add.fingerprints.size(), 1u);
  EXPECT_EQ(add.fingerprints[0].hash, "sha-256");  // folded to lower case
  EXPECT_EQ(add.fingerprints[0].value,
            "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:"
            "23:45:67:89");
  ASSERT_TRUE(add.ice.has_value());
  EXPECT_EQ(add.ice->ufrag, "abcd");
  EXPECT_EQ(add.ice->pwd, kPwd);
  EXPECT_EQ(add.ice->remote_ufrag, "wxyz+/");
  EXPECT_EQ(add.latch, Latch::kStrict);
  EXPECT_TRUE(add.anonymous);
  EXPECT_EQ(add.label, "call-1;tag-a;a");
}

TEST(ParseLegAddTest, Defaults) {
  Request r = MustParse(Line("leg.add", {{"transport", "plain"}}));
  auto add = std::get<LegAddRequest>(r.args);
  EXPECT_EQ(add.transport, LegTransport::kPlain);
  EXPECT_FALSE(add.ip || add.family || add.port || add.remote || add.remote_setup || add.ice);
  EXPECT_EQ(add.setup, DtlsSetup::kActpass);
  EXPECT_EQ(add.latch, Latch::kLearn);
  EXPECT_TRUE(add.fingerprints.empty());

  r = MustParse(Line("leg.add", {{"transport", "dtls"}, {"family", "ipv6"}}));
  add = std::get<LegAddRequest>(r.args);
  EXPECT_EQ(add.family, std::optional<IpFamily>(IpFamily::kV6));
  EXPECT_EQ(add.setup, DtlsSetup::kActpass);
  // ICE without the peer's ufrag (the offer is made before the answer brings it).
  r = MustParse(Line("leg.add", {{"transport", "plain"}, {"ice", {{"ufrag", "abcd"}, {"pwd", kPwd}}}}));
  EXPECT_EQ(std::get<LegAddRequest>(r.args).ice->remote_ufrag, "");
}

TEST(ParseLegAddTest, EveryHash) {
  const std::pair<const char*, size_t> hashes[] = {
      {"sha-1", 20}, {"sha-224", 28}, {"sha-256", 32}, {"sha-384", 48}, {"sha-512", 64}};
  for (const auto& [hash, size] : hashes) {
    std::string value;
    for (size_t i = 0; i < size; ++i) value += i == 0 ? "0f" : ":a0";
    const Request r = MustParse(
        Line("leg.add", {{"transport", "dtls"}, {"fingerprints", {{{"hash", hash}, {"value", value}}}}}));
    EXPECT_EQ(std::get<LegAddRequest>(r.args).fingerprints[0].value.substr(0, 6), "0F:A0:");
    EXPECT_EQ(FingerprintHashSize(hash), size);
    EXPECT_EQ(CheckFingerprint(hash, value), "");
    // One byte short, one byte long.
    EXPECT_NE(CheckFingerprint(hash, value.substr(3)), "");
    EXPECT_NE(CheckFingerprint(hash, value + ":00"), "");
  }
}

TEST(ParseLegAddTest, InvalidFields) {
  const json dtls = {{"transport", "dtls"}};
  auto with = [&](const json& extra) {
    json j = dtls;
    for (const auto& item : extra.items()) j[item.key()] = item.value();
    return j;
  };
  ExpectBadRequest("leg.add", json::object(), "missing field 'transport'");
  ExpectBadRequest("leg.add", {{"transport", "tls"}}, "transport: must be one of \"dtls\", \"plain\"");
  ExpectBadRequest("leg.add", {{"transport", nullptr}}, "transport:");
  ExpectBadRequest("leg.add", with({{"transprot", "dtls"}}), "unknown field 'transprot'");
  ExpectBadRequest("leg.add", with({{"ip", "198.18.0.300"}}), "ip: '198.18.0.300' is not");
  ExpectBadRequest("leg.add", with({{"ip", std::string("1.2.3.4\0x", 9)}}), "ip:");
  ExpectBadRequest("leg.add", with({{"ip", "[::1]"}}), "ip:");
  ExpectBadRequest("leg.add", with({{"ip", 12}}), "ip: must be an IP address string");
  ExpectBadRequest("leg.add", with({{"ip", "198.18.0.1"}, {"family", "ipv4"}}), "not both");
  ExpectBadRequest("leg.add", with({{"port", 0}}), "port: must be an integer 1..65535");
  ExpectBadRequest("leg.add", with({{"port", 65536}}), "port: must be an integer 1..65535");
  ExpectBadRequest("leg.add", with({{"port", "20000"}}), "port: must be an integer");
  ExpectBadRequest("leg.add", with({{"family", "ipv5"}}), "family: must be one of");
  ExpectBadRequest("leg.add", with({{"remote", "1.2.3.4:5"}}), "remote: must be an address");
  ExpectBadRequest("leg.add", with({{"remote", nullptr}}), "remote: must be an address");
  ExpectBadRequest("leg.add", with({{"remote", {{"ip", "1.2.3.4"}}}}), "missing field 'remote.port'");
  ExpectBadRequest("leg.add", with({{"remote", {{"port", 5}}}}), "missing field 'remote.ip'");
  ExpectBadRequest("leg.add", with({{"remote", {{"ip", "1.2.3.4"}, {"port", 0}}}}),
                   "remote.port: must be an integer 1..65535");
  ExpectBadRequest("leg.add", with({{"remote", {{"ip", "1.2.3.4"}, {"port", 65536}}}}),
                   "remote.port");
  ExpectBadRequest("leg.add", with({{"remote", {{"ip", "1.2.3.4"}, {"port", "5004"}}}}),
                   "remote.port");
  ExpectBadRequest("leg.add", with({{"remote", {{"ip", "1.2.3.4"}, {"port", 5}, {"x", 1}}}}),
                   "unknown field 'remote.x'");
  ExpectBadRequest("leg.add", with({{"setup", "holdconn"}}), "setup: must be one of");
  ExpectBadRequest("leg.add", with({{"remote_setup", 1}}), "remote_setup: must be one of");
  for (const char* dtls_only : {"setup", "remote_setup", "fingerprints"}) {
    json j = {{"transport", "plain"}, {dtls_only, "active"}};
    ExpectBadRequest("leg.add", j, std::string(dtls_only) + ": only for dtls legs");
  }
  ExpectBadRequest("leg.add", with({{"fingerprints", {{"hash", "sha-256"}}}}),
                   "fingerprints: must be an array");
  ExpectBadRequest("leg.add", with({{"fingerprints", {"AB:CD"}}}), "fingerprints[0]: must be");
  ExpectBadRequest("leg.add", with({{"fingerprints", {{{"hash", "md5"}, {"value", "AB"}}}}}),
                   "fingerprints[0].hash: 'md5' is not one of");
  ExpectBadRequest("leg.add", with({{"fingerprints", {{{"hash", "sha-256"}, {"value", "AB:CD"}}}}}),
                   "fingerprints[0].value: must be 32 colon-separated hex bytes for sha-256");
  std::string non_hex(kSha256);
  non_hex[4] = 'G';
  ExpectBadRequest("leg.add", with({{"fingerprints", {{{"hash", "sha-256"}, {"value", non_hex}}}}}),
                   "fingerprints[0].value");
  std::string dashes(kSha256);
  dashes[2] = '-';
  ExpectBadRequest("leg.add", with({{"fingerprints", {{{"hash", "sha-256"}, {"value", dashes}}}}}),
                   "fingerprints[0].value");
  ExpectBadRequest("leg.add", with({{"fingerprints", {{{"value", kSha256}}}}}),
                   "missing field 'fingerprints[0].hash'");
  ExpectBadRequest("leg.add",
                   with({{"fingerprints", {{{"hash", "sha-256"}, {"value", kSha256}, {"alg", 1}}}}}),
                   "unknown field 'fingerprints[0].alg'");
  json many = json::array();
  for (int i = 0; i < 17; ++i) many.push_back({{"hash", "sha-256"}, {"value", kSha256}});
  ExpectBadRequest("leg.add", with({{"fingerprints", many}}), "at most 16");
  ExpectBadRequest("leg.add", with({{"ice", {{"ufrag", "abc"}, {"pwd", kPwd}}}}),
                   "ice.ufrag: must be 4..256 ice-chars");
  ExpectBadRequest("leg.add", with({{"ice", {{"ufrag", std::string(257, 'a')}, {"pwd", kPwd}}}}),
                   "ice.ufrag");
  ExpectBadRequest("leg.add", with({{"ice", {{"ufrag", "ab-d"}, {"pwd", kPwd}}}}), "ice.ufrag");
  ExpectBadRequest("leg.add", with({{"ice", {{"ufrag", "abcd"}, {"pwd", "short"}}}}),
                   "ice.pwd: must be 22..256");
  ExpectBadRequest("leg.add",
                   with({{"ice", {{"ufrag", "abcd"}, {"pwd", std::string(kPwd) + " "}}}}), "ice.pwd");
  ExpectBadRequest("leg.add", with({{"ice", {{"ufrag", "abcd"}}}}), "missing field 'ice.pwd'");
  ExpectBadRequest("leg.add",
                   with({{"ice", {{"ufrag", "abcd"}, {"pwd", kPwd}, {"remote_ufrag", "a:b"}}}}),
                   "ice.remote_ufrag");
  ExpectBadRequest("leg.add",
                   with({{"ice", {{"ufrag", "abcd"}, {"pwd", kPwd}, {"remote_pwd", kPwd}}}}),
                   "unknown field 'ice.remote_pwd'");
  ExpectBadRequest("leg.add", with({{"ice", "abcd:pwd"}}), "ice: must be");
  ExpectBadRequest("leg.add", with({{"latch", "loose"}}), "latch: must be one of \"strict\", \"learn\"");
  ExpectBadRequest("leg.add", with({{"label", 7}}), "label: must be a string");
  ExpectBadRequest("leg.add", with({{"anonymous", 1}}), "anonymous: must be true or false");
  ExpectBadRequest("leg.add", {{"transport", "plain"}, {"anonymous", true}},
                   "anonymous: only for dtls legs");
  ExpectBadRequest("leg.add", with({{"label", std::string(kMaxLabelBytes + 1, 'x')}}),
                   "label: at most 4096 bytes");
}

TEST(ParseLegAddTest, LabelRoundTrip) {
  const Request r = MustParse(
      Line("leg.add", {{"transport", "plain"}, {"label", std::string(kMaxLabelBytes, 'x')}}));
  const auto& add = std::get<LegAddRequest>(r.args);
  EXPECT_EQ(add.label, std::string(kMaxLabelBytes, 'x'));
  EXPECT_EQ(std::get<LegAddRequest>(MustParse(FormatRequest(r)).args), add);
  LegUpdateRequest update;
  update.leg = 3;
  update.label = "{\"call\":\"x\"}";
  Request request;
  request.id = 2;
  request.command = Command::kLegUpdate;
  request.args = update;
  const Request u = MustParse(FormatRequest(request));
  EXPECT_EQ(std::get<LegUpdateRequest>(u.args), update);
}

TEST(ParseLegUpdateTest, EachField) {
  Request r = MustParse(Line("leg.update", {{"leg", 12}, {"remote", {{"ip", "198.18.0.9"}, {"port", 7}}}}));
  auto update = std::get<LegUpdateRequest>(r.args);
  EXPECT_EQ(update.leg, 12u);
  EXPECT_EQ(update.remote->ToString(), "198.18.0.9:7");
  EXPECT_FALSE(update.remote_setup || update.setup || update.fingerprints || update.ice ||
               update.latch);

  r = MustParse(Line("leg.update", {{"leg", 12},
                                    {"remote_setup", "actpass"},
                                    {"setup", "active"},
                                    {"fingerprints", json::array()},
                                    {"ice", {{"ufrag", "abcd"}, {"pwd", kPwd}}},
                                    {"latch", "learn"}}));
  update = std::get<LegUpdateRequest>(r.args);
  EXPECT_EQ(update.remote_setup, std::optional<DtlsSetup>(DtlsSetup::kActpass));
  EXPECT_EQ(update.setup, std::optional<DtlsSetup>(DtlsSetup::kActive));
  ASSERT_TRUE(update.fingerprints.has_value());  // present and empty: clear them
  EXPECT_TRUE(update.fingerprints->empty());
  EXPECT_EQ(update.ice->ufrag, "abcd");
  EXPECT_EQ(update.latch, std::optional<Latch>(Latch::kLearn));
  EXPECT_FALSE(update.transport.has_value());

  for (auto [name, transport] : {std::pair{"plain", LegTransport::kPlain},
                                 std::pair{"dtls", LegTransport::kDtls}}) {
    r = MustParse(Line("leg.update", {{"leg", 3}, {"transport", name}}));
    EXPECT_EQ(std::get<LegUpdateRequest>(r.args).transport,
              std::optional<LegTransport>(transport)) << name;
  }
}

TEST(ParseLegUpdateTest, Invalid) {
  ExpectBadRequest("leg.update", {{"latch", "learn"}}, "missing field 'leg'");
  ExpectBadRequest("leg.update", {{"leg", 1}}, "give at least one of");
  ExpectBadRequest("leg.update", {{"leg", -1}, {"latch", "learn"}}, "leg: must be an integer");
  ExpectBadRequest("leg.update", {{"leg", "1"}, {"latch", "learn"}}, "leg: must be an integer");
  ExpectBadRequest("leg.update", {{"leg", 1}, {"transport", "udptl"}}, "transport: must be one of");
  ExpectBadRequest("leg.update", {{"leg", 1}, {"trnasport", "plain"}}, "unknown field 'trnasport'");
  ExpectBadRequest("leg.update", {{"leg", 1}, {"remote", {{"ip", "::1"}, {"port", 0}}}},
                   "remote.port");
  ExpectBadRequest("leg.update", {{"leg", 1}, {"fingerprints", {{{"hash", "sha-256"}}}}},
                   "missing field 'fingerprints[0].value'");
}

TEST(ParseLegLinkTest, ValidAndInvalid) {
  const Request r = MustParse(Line("leg.link", {{"legs", {3, 4}}}));
  EXPECT_EQ(std::get<LegLinkRequest>(r.args), (LegLinkRequest{3, 4}));
  ExpectBadRequest("leg.link", json::object(), "missing field 'legs'");
  ExpectBadRequest("leg.link", {{"legs", {3}}}, "legs: must be an array of two leg ids");
  ExpectBadRequest("leg.link", {{"legs", {3, 4, 5}}}, "legs: must be an array of two");
  ExpectBadRequest("leg.link", {{"legs", 3}}, "legs: must be an array of two");
  ExpectBadRequest("leg.link", {{"legs", {3, "4"}}}, "legs[1]: must be an integer");
  ExpectBadRequest("leg.link", {{"legs", {3, 4}}, {"leg", 3}}, "unknown field 'leg'");
  // The contract files a leg linked to itself under invalid-state.
  const ProtocolError e = MustFail(Line("leg.link", {{"legs", {3, 3}}}));
  EXPECT_EQ(e.code, ErrorCode::kInvalidState);
  EXPECT_EQ(e.id, std::optional<uint64_t>(1));
}

TEST(ParseLegRefTest, DelAndGet) {
  for (const char* cmd : {"leg.del", "leg.get"}) {
    const Request r = MustParse(Line(cmd, {{"leg", 77}}));
    EXPECT_EQ(std::get<LegRef>(r.args).leg, 77u);
    ExpectBadRequest(cmd, json::object(), "missing field 'leg'");
    ExpectBadRequest(cmd, {{"leg", 77}, {"force", true}}, "unknown field 'force'");
    ExpectBadRequest(cmd, {{"leg", 9007199254740992ull}}, "leg: must be an integer 0..");
  }
}

TEST(FormatRequestTest, RoundTrips) {
  const std::string lines[] = {
      Line("hello"),
      Line("stats", json::object(), kMaxJsonId),
      Line("leg.add", {{"transport", "plain"}, {"family", "ipv4"}, {"latch", "strict"}}),
      Line("leg.add", {{"transport", "plain"}, {"port", 20002}}),
      Line("leg.add",
           {{"transport", "dtls"},
            {"ip", "fd00:198:18::1"},
            {"remote", {{"ip", "198.18.0.7"}, {"port", 65535}}},
            {"remote_setup", "passive"},
            {"fingerprints", {{{"hash", "sha-256"}, {"value", kSha256}}}},
            {"ice", {{"ufrag", "abcd"}, {"pwd", kPwd}, {"remote_ufrag", "efgh"}}}}),
      Line("leg.update", {{"leg", 5}, {"fingerprints", json::array()}, {"setup", "active"}}),
      Line("leg.update", {{"leg", 5}, {"transport", "plain"}}),
      Line("leg.link", {{"legs", {1, 2}}}),
      Line("leg.del", {{"leg", 1}}),
      Line("leg.get", {{"leg", 2}}),
  };
  for (const std::string& line : lines) {
    const Request r = MustParse(line);
    const std::string formatted = FormatRequest(r);
    ASSERT_EQ(formatted.back(), '\n');
    EXPECT_EQ(MustParse(std::string_view(formatted).substr(0, formatted.size() - 1)), r) << line;
  }
}

TEST(FormatTest, ReplyLine) {
  const std::string line = FormatReply(5, {{"leg", 9}, {"ok", false}, {"v", 7}});
  EXPECT_EQ(line, "{\"v\":1,\"id\":5,\"ok\":true,\"leg\":9}\n");
  EXPECT_EQ(FormatReply(6, nullptr), "{\"v\":1,\"id\":6,\"ok\":true}\n");
}

TEST(FormatTest, ErrorLine) {
  EXPECT_EQ(FormatError({std::nullopt, ErrorCode::kTooLarge, "too \"big\""}),
            "{\"v\":1,\"id\":null,\"ok\":false,\"error\":\"too-large\",\"message\":\"too "
            "\\\"big\\\"\"}\n");
  EXPECT_EQ(FormatError({7, ErrorCode::kNotFound, "no leg 3"}),
            "{\"v\":1,\"id\":7,\"ok\":false,\"error\":\"not-found\",\"message\":\"no leg 3\"}\n");
  // Invalid UTF-8 in a message is replaced, never thrown.
  const std::string line = FormatError({1, ErrorCode::kInternal, "bad \xff\xfe byte"});
  EXPECT_TRUE(json::accept(line));
}

TEST(FormatTest, ErrorCodeNamesAndStatusMapping) {
  const char* names[] = {"bad-json",      "bad-request",       "unsupported-version",
                         "unknown-command", "too-large",       "not-found",
                         "invalid-state", "no-capacity",       "permission-denied",
                         "busy",          "internal"};
  for (size_t i = 0; i < kErrorCodeCount; ++i) {
    EXPECT_EQ(ErrorCodeName(static_cast<ErrorCode>(i)), names[i]);
  }
  EXPECT_EQ(ErrorCodeFromStatus(absl::NotFoundError("")), ErrorCode::kNotFound);
  EXPECT_EQ(ErrorCodeFromStatus(absl::FailedPreconditionError("")), ErrorCode::kInvalidState);
  EXPECT_EQ(ErrorCodeFromStatus(absl::ResourceExhaustedError("")), ErrorCode::kNoCapacity);
  EXPECT_EQ(ErrorCodeFromStatus(absl::InvalidArgumentError("")), ErrorCode::kBadRequest);
  EXPECT_EQ(ErrorCodeFromStatus(absl::PermissionDeniedError("")), ErrorCode::kPermissionDenied);
  EXPECT_EQ(ErrorCodeFromStatus(absl::UnavailableError("")), ErrorCode::kBusy);
  EXPECT_EQ(ErrorCodeFromStatus(absl::InternalError("")), ErrorCode::kInternal);
  EXPECT_EQ(ErrorCodeFromStatus(absl::AbortedError("")), ErrorCode::kInternal);
}

TEST(FormatTest, Events) {
  SocketAddress remote{IpAddress::V4(0xC6120007), 5004};
  EXPECT_EQ(FormatEvent(MakeLatchedEvent(3, remote)),
            "{\"v\":1,\"event\":\"leg.latched\",\"leg\":3,\"remote\":{\"ip\":\"198.18.0.7\","
            "\"port\":5004}}\n");
  json e = json::parse(FormatEvent(MakeEstablishedEvent(4, DtlsRole::kServer,
                                                       "ECDHE-RSA-AES128-GCM-SHA256")));
  EXPECT_EQ(e, json::parse(R"({"v":1,"event":"leg.established","leg":4,"role":"server",
                               "cipher":"ECDHE-RSA-AES128-GCM-SHA256"})"));
  e = json::parse(FormatEvent(MakeFailedEvent(5, "handshake-timeout")));
  EXPECT_EQ(e, json::parse(R"({"v":1,"event":"leg.failed","leg":5,"reason":"handshake-timeout"})"));
  e = json::parse(FormatEvent(MakeIdleEvent(6, 60)));
  EXPECT_EQ(e, json::parse(R"({"v":1,"event":"leg.idle","leg":6,"seconds":60})"));
  // Reserved keys in fields cannot override the envelope.
  e = json::parse(FormatEvent(LegEvent{"x", 1, {{"leg", 99}, {"v", 2}, {"event", "y"}}}));
  EXPECT_EQ(e, json::parse(R"({"v":1,"event":"x","leg":1})"));
  EXPECT_EQ(FormatEvent(LegEvent{"x", 1, nullptr}), "{\"v\":1,\"event\":\"x\",\"leg\":1}\n");
}

TEST(FormatTest, ResultObjects) {
  HelloInfo hello{"0.1.0", 2, {IpAddress::V4(0xC6120001)}, 20000, 10000};
  EXPECT_EQ(HelloToJson(hello), json::parse(R"({"server":"t38relay-dataplane","version":"0.1.0",
      "protocol":1,"workers":2,"addresses":["198.18.0.1"],"leg_ports":{"first":20000,"count":10000}})"));

  LegAddResult added{7, {IpAddress::V4(0xC6120001), 20002}, std::nullopt, DtlsSetup::kActpass};
  EXPECT_EQ(LegAddResultToJson(added), json::parse(R"({"leg":7,"local":{"ip":"198.18.0.1",
      "port":20002},"setup":"actpass"})"));
  added.fingerprint = FingerprintValue{"sha-256", "AB"};
  added.setup = DtlsSetup::kPassive;
  EXPECT_EQ(LegAddResultToJson(added)["fingerprint"], json::parse(R"({"hash":"sha-256","value":"AB"})"));
  EXPECT_EQ(LegAddResultToJson(added)["setup"], "passive");

  LegInfo info;
  info.leg = 7;
  info.transport = LegTransport::kPlain;
  info.state = LegState::kPlain;
  info.local = {IpAddress::V4(0xC6120001), 20002};
  EXPECT_EQ(LegInfoToJson(info), json::parse(R"({"leg":7,"transport":"plain","state":"plain",
      "local":{"ip":"198.18.0.1","port":20002},"remote":null,"latched":false,"peer":null,
      "setup":null,"role":null,"fingerprint":null,"label":"",
      "counters":{"rx_packets":0,"rx_bytes":0,"forwarded_packets":0,"forwarded_bytes":0,
                  "drops":{}},
      "udptl":{"packets":0,"seq_gaps":0,"recovered":0}})"));
  info.transport = LegTransport::kDtls;
  info.state = LegState::kEstablished;
  info.remote = SocketAddress{IpAddress::V4(0xC6120009), 5004};
  info.latched = true;
  info.peer = 8;
  info.setup = DtlsSetup::kActive;
  info.role = DtlsRole::kClient;
  info.fingerprint = FingerprintValue{"sha-256", "CD"};
  info.counters = {1, 2, 3, 4, {{"replay", 5}, {"auth", 6}}};
  info.udptl = {7, 8, 9};
  const json j = LegInfoToJson(info);
  EXPECT_EQ(j["transport"], "dtls");
  EXPECT_EQ(j["state"], "established");
  EXPECT_EQ(j["remote"], json::parse(R"({"ip":"198.18.0.9","port":5004})"));
  EXPECT_EQ(j["latched"], true);
  EXPECT_EQ(j["peer"], 8);
  EXPECT_EQ(j["setup"], "active");
  EXPECT_EQ(j["role"], "client");
  EXPECT_EQ(j["counters"]["drops"], json::parse(R"({"replay":5,"auth":6})"));
  EXPECT_EQ(j["udptl"]["recovered"], 9);
  for (LegState s : {LegState::kWaiting, LegState::kHandshaking, LegState::kFailed}) {
    EXPECT_FALSE(LegStateName(s).empty());
  }
}

TEST(ValidatorTest, IceChars) {
  EXPECT_TRUE(IsIceChars("aZ09+/"));
  EXPECT_FALSE(IsIceChars("a b"));
  EXPECT_FALSE(IsIceChars("a=b"));
  EXPECT_FALSE(IsIceChars(std::string("a\0b", 3)));
  EXPECT_FALSE(IsIceChars("\xc3\xa9"));
}

}  // namespace
}  // namespace t38relay::dataplane
