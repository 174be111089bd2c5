// The client side of the flow protocol: Format -> Parse round trips of hello, leg.add results,
// LEGOBJs and events; strictness (exact errors naming the field); error code names and mapping.
#include <string>

#include "absl/status/status.h"
#include "dataplane/flowsock/protocol.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace t38relay::dataplane {
namespace {

using json = nlohmann::json;

constexpr std::string_view kSha256 =
    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:"
    "89";

IpAddress Ip(std::string_view text) { return *ParseIpAddress(text); }

LegInfo FullInfo() {
  LegInfo info;
  info.leg = 42;
  info.transport = LegTransport::kDtls;
  info.state = LegState::kHandshaking;
  info.local = {Ip("2001:db8::1"), 20042};
  info.remote = SocketAddress{Ip("198.18.0.7"), 5004};
  info.latched = true;
  info.peer = 43;
  info.setup = DtlsSetup::kActpass;
  info.role = DtlsRole::kClient;
  info.fingerprint = FingerprintValue{"sha-256", std::string(kSha256)};
  info.label = "call \"x\" é";
  info.counters = {1, 2, 3, 4, {{"auth", 5}, {"replay", 6}}};  // sorted: JSON objects are
  info.udptl = {7, 8, 9};
  return info;
}

std::string Error(const absl::Status& status) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  return std::string(status.message());
}

TEST(ParseHelloInfoTest, RoundTrip) {
  const HelloInfo hello{"1.2.3", 8, {Ip("198.18.0.1"), Ip("2001:db8::2")}, 30000, 2000};
  json j = HelloToJson(hello);
  j["v"] = 1;  // the envelope is ignored
  j["id"] = 9;
  j["ok"] = true;
  absl::StatusOr<HelloInfo> parsed = ParseHelloInfo(j);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->version, "1.2.3");
  EXPECT_EQ(parsed->workers, 8u);
  ASSERT_EQ(parsed->addresses.size(), 2u);
  EXPECT_EQ(parsed->addresses[0], hello.addresses[0]);
  EXPECT_EQ(parsed->addresses[1], hello.addresses[1]);
  EXPECT_EQ(parsed->leg_ports_first, 30000);
  EXPECT_EQ(parsed->leg_ports_count, 2000u);
  EXPECT_EQ(HelloToJson(*parsed), HelloToJson(hello));
}

TEST(ParseHelloInfoTest, Strict) {
  json j = HelloToJson(HelloInfo{"1", 1, {}, 1, 1});
  j["extra"] = 1;
  EXPECT_EQ(Error(ParseHelloInfo(j).status()), "unknown field 'extra'");
  j = HelloToJson(HelloInfo{"1", 1, {}, 1, 1});
  j["addresses"] = {"198.18.0.1", "nope"};
  EXPECT_EQ(Error(ParseHelloInfo(j).status()),
            "addresses[1]: 'nope' is not an IPv4 or IPv6 address (no brackets, no zone)");
  j = HelloToJson(HelloInfo{"1", 1, {}, 1, 1});
  j.erase("workers");
  EXPECT_EQ(Error(ParseHelloInfo(j).status()), "missing field 'workers'");
  j = HelloToJson(HelloInfo{"1", 1, {}, 1, 1});
  j["leg_ports"]["first"] = 70000;
  EXPECT_EQ(Error(ParseHelloInfo(j).status()), "leg_ports.first: must be an integer 0..65535");
  EXPECT_EQ(Error(ParseHelloInfo(json::array()).status()), "reply: must be a JSON object");
}

TEST(ParseLegAddResultTest, RoundTrip) {
  LegAddResult dtls;
  dtls.leg = (uint64_t{1} << 53) - 1;
  dtls.local = {Ip("198.18.0.1"), 65535};
  dtls.fingerprint = FingerprintValue{"sha-256", std::string(kSha256)};
  dtls.setup = DtlsSetup::kPassive;
  LegAddResult plain;
  plain.leg = 0;
  plain.local = {Ip("::1"), 1};
  for (const LegAddResult& result : {dtls, plain}) {
    absl::StatusOr<LegAddResult> parsed = ParseLegAddResult(LegAddResultToJson(result));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(LegAddResultToJson(*parsed), LegAddResultToJson(result));
    EXPECT_EQ(parsed->leg, result.leg);
    EXPECT_EQ(parsed->fingerprint.has_value(), result.fingerprint.has_value());
  }
}

TEST(ParseLegAddResultTest, Strict) {
  LegAddResult result;
  result.local = {Ip("198.18.0.1"), 20000};
  const json good = LegAddResultToJson(result);
  json j = good;
  j["setup"] = "holdconn";
  EXPECT_EQ(Error(ParseLegAddResult(j).status()),
            "setup: must be one of \"active\", \"passive\", \"actpass\", not 'holdconn'");
  j = good;
  j["leg"] = -1;
  EXPECT_EQ(Error(ParseLegAddResult(j).status()), "leg: must be an integer 0..9007199254740991");
  j = good;
  j["fingerprint"] = {{"hash", "md5"}, {"value", "AB"}};
  EXPECT_EQ(Error(ParseLegAddResult(j).status()),
            "fingerprint.hash: 'md5' is not one of sha-1, sha-224, sha-256, sha-384, sha-512");
  j = good;
  j.erase("local");
  EXPECT_EQ(Error(ParseLegAddResult(j).status()), "missing field 'local'");
}

TEST(ParseLegInfoTest, RoundTripFullAndMinimal) {
  const LegInfo full = FullInfo();
  LegInfo minimal;
  minimal.local = {Ip("198.18.0.1"), 20000};
  for (const LegInfo& info : {full, minimal}) {
    absl::StatusOr<LegInfo> parsed = ParseLegInfo(LegInfoToJson(info));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(LegInfoToJson(*parsed), LegInfoToJson(info));
    EXPECT_EQ(parsed->leg, info.leg);
    EXPECT_EQ(parsed->peer, info.peer);
    EXPECT_EQ(parsed->label, info.label);
    EXPECT_EQ(parsed->counters.drops, info.counters.drops);
    EXPECT_EQ(parsed->udptl.recovered, info.udptl.recovered);
  }
}

TEST(ParseLegInfoTest, Strict) {
  const json good = LegInfoToJson(FullInfo());
  const std::pair<std::function<void(json&)>, std::string> cases[] = {
      {[](json& j) { j["role"] = "both"; },
       "role: must be one of \"client\", \"server\", not 'both'"},
      {[](json& j) {
         j["remote"] = {{"ip", "198.18.0.7"}};
       },
       "missing field 'remote.port'"},
      {[](json& j) { j["latched"] = 1; }, "latched: must be true or false"},
      {[](json& j) { j["peer"] = "43"; }, "peer: must be an integer 0..9007199254740991"},
      {[](json& j) { j["counters"]["drops"]["auth"] = -5; },
       "counters.drops.auth: must be an integer 0..18446744073709551615"},
      {[](json& j) { j["counters"]["lost"] = 1; }, "unknown field 'counters.lost'"},
      {[](json& j) { j["udptl"].erase("seq_gaps"); }, "missing field 'udptl.seq_gaps'"},
      {[](json& j) { j.erase("label"); }, "missing field 'label'"},
      {[](json& j) { j["label"] = std::string(kMaxLabelBytes + 1, 'x'); },
       "label: at most 4096 bytes"},
      {[](json& j) { j["fingerprint"]["value"] = "AB"; },
       "fingerprint.value: must be 32 colon-separated hex bytes for sha-256 (AB:CD:...)"},
      {[](json& j) { j["v"] = 1; }, "unknown field 'v'"},
  };
  for (const auto& [mutate, expected] : cases) {
    json j = good;
    mutate(j);
    EXPECT_EQ(Error(ParseLegInfo(j).status()), expected) << j.dump();
  }
}

TEST(ParseLegEventTest, RoundTripV1Events) {
  const LegEvent events[] = {
      MakeEstablishedEvent(1, DtlsRole::kServer, "TLS13-AES128-GCM-SHA256"),
      MakeFailedEvent(2, "fingerprint-mismatch"),
      MakeLatchedEvent(3, {Ip("2001:db8::7"), 5004}),
      MakeIdleEvent(4, 120),
      LegEvent{"leg.future", 5, nullptr},
      LegEvent{"leg.future", 6, {{"anything", {1, 2}}}},
  };
  for (const LegEvent& event : events) {
    const std::string line = FormatEvent(event);
    absl::StatusOr<LegEvent> parsed = ParseLegEvent(json::parse(line));
    ASSERT_TRUE(parsed.ok()) << line << parsed.status();
    EXPECT_EQ(parsed->name, event.name);
    EXPECT_EQ(parsed->leg, event.leg);
    EXPECT_EQ(parsed->fields, event.fields) << line;
    EXPECT_EQ(FormatEvent(*parsed), line);
  }
}

TEST(ParseLegEventTest, Strict) {
  EXPECT_EQ(
      Error(
          ParseLegEvent(json::parse(R"({"v":2,"event":"leg.idle","leg":1,"seconds":1})")).status()),
      "v: event of protocol version 2, not 1");
  EXPECT_EQ(Error(ParseLegEvent(json::parse(R"({"v":1,"event":"leg.idle","leg":1})")).status()),
            "leg.idle event: missing field 'seconds'");
  EXPECT_EQ(
      Error(ParseLegEvent(json::parse(R"({"v":1,"event":"leg.failed","leg":1,"reason":"x","y":2})"))
                .status()),
      "leg.failed event: unknown field 'y'");
  EXPECT_EQ(
      Error(ParseLegEvent(json::parse(R"({"v":1,"event":"leg.established","leg":1,"role":"x",)"
                                      R"("cipher":"c"})"))
                .status()),
      "leg.established event: role: must be one of \"client\", \"server\", not 'x'");
  EXPECT_EQ(Error(ParseLegEvent(json::parse(R"({"v":1,"event":"leg.latched","leg":1,"remote":{}})"))
                      .status()),
            "leg.latched event: missing field 'remote.ip'");
  EXPECT_EQ(Error(ParseLegEvent(json::parse(R"({"v":1,"leg":1})")).status()),
            "missing field 'event'");
  EXPECT_EQ(Error(ParseLegEvent(json::parse(R"({"v":1,"event":"","leg":1})")).status()),
            "event: must not be empty");
}

TEST(ErrorCodeTest, NamesAndStatusCodesInvertTheServerMapping) {
  for (size_t i = 0; i < kErrorCodeCount; ++i) {
    const ErrorCode code = static_cast<ErrorCode>(i);
    EXPECT_EQ(ErrorCodeFromName(ErrorCodeName(code)), code);
  }
  EXPECT_EQ(ErrorCodeFromName("teapot"), std::nullopt);
  // Every code the server produces from a status comes back as that status code.
  for (absl::StatusCode status :
       {absl::StatusCode::kNotFound, absl::StatusCode::kFailedPrecondition,
        absl::StatusCode::kResourceExhausted, absl::StatusCode::kInvalidArgument,
        absl::StatusCode::kPermissionDenied, absl::StatusCode::kUnavailable,
        absl::StatusCode::kInternal}) {
    EXPECT_EQ(StatusCodeFromErrorCode(ErrorCodeFromStatus(absl::Status(status, "x"))), status);
  }
  EXPECT_EQ(StatusCodeFromErrorCode(ErrorCode::kBadJson), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeFromErrorCode(ErrorCode::kTooLarge), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeFromErrorCode(ErrorCode::kUnknownCommand),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace t38relay::dataplane
