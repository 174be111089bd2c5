// An in-memory FlowService for the call manager's tests: records requests, hands out ports and a
// fixed fingerprint, fails the Nth request on demand, keeps labels like the dataplane does.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "dataplane/flowsock/flow_service.h"
#include "dataplane/flowsock/flow_types.h"

namespace t38relay::testing {

class FakeFlowService : public dataplane::FlowService {
 public:
  static constexpr const char* kFingerprint =
      "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:"
      "FF:00";
  static dataplane::IpAddress V4() { return dataplane::IpAddress::V4(0xC6120001); }  // 198.18.0.1
  static dataplane::IpAddress V6() { return *dataplane::ParseIpAddress("fd00:198:18::1"); }

  struct Leg {
    dataplane::LegAddRequest add;
    dataplane::LegInfo info;
  };
  std::map<uint64_t, Leg> legs;
  std::vector<dataplane::LegAddRequest> adds;
  std::vector<dataplane::LegUpdateRequest> updates;
  std::vector<std::pair<uint64_t, uint64_t>> links;
  std::vector<uint64_t> deletes;
  // Fails the Nth add/update/link from now (1-based); 0: never. Deletes never fail (rollback).
  int fail_at = 0;
  int mutations = 0;
  uint64_t next_leg = 1;
  uint16_t next_port = 20000;
  // The configured identity's; a dataplane restarted without a fixed identity has another.
  std::string fingerprint = kFingerprint;

  void ResetLog() {
    adds.clear();
    updates.clear();
    links.clear();
    deletes.clear();
  }
  // Updates other than label-only ones (what the call manager programs, not how it books).
  std::vector<dataplane::LegUpdateRequest> ProgrammingUpdates() const {
    std::vector<dataplane::LegUpdateRequest> out;
    for (const auto& u : updates) {
      if (u.remote || u.remote_setup || u.setup || u.fingerprints || u.ice || u.latch) {
        out.push_back(u);
      }
    }
    return out;
  }

  dataplane::HelloInfo Hello() override {
    dataplane::HelloInfo h;
    h.version = "fake";
    h.addresses = {V4(), V6()};
    return h;
  }
  absl::StatusOr<dataplane::LegAddResult> AddLeg(const dataplane::LegAddRequest& r) override {
    if (absl::Status s = Mutate(); !s.ok()) return s;
    adds.push_back(r);
    Leg leg;
    leg.add = r;
    leg.info.leg = next_leg++;
    leg.info.transport = r.transport;
    leg.info.state = r.transport == dataplane::LegTransport::kDtls
                         ? dataplane::LegState::kWaiting
                         : dataplane::LegState::kPlain;
    leg.info.local = {r.ip ? *r.ip : r.family == dataplane::IpFamily::kV6 ? V6() : V4(),
                      r.port ? *r.port : next_port++};
    for (const auto& [id, other] : legs) {
      if (other.info.local == leg.info.local) {
        return absl::FailedPreconditionError(
            absl::StrCat("port ", leg.info.local.port, " is in use"));
      }
    }
    leg.info.remote = r.remote;
    if (r.transport == dataplane::LegTransport::kDtls) {
      leg.info.setup = r.setup;
      // Anonymous legs get a certificate of their own: a fingerprint ending in the leg id.
      leg.info.fingerprint = dataplane::FingerprintValue{
          "sha-256", r.anonymous ? absl::StrFormat("%s:%02X", fingerprint.substr(0, 92),
                                                   leg.info.leg & 0xff)
                                 : fingerprint};
    }
    leg.info.label = r.label;
    dataplane::LegAddResult result{leg.info.leg, leg.info.local, leg.info.fingerprint, r.setup};
    legs[leg.info.leg] = leg;
    return result;
  }
  absl::Status UpdateLeg(const dataplane::LegUpdateRequest& r) override {
    if (absl::Status s = Mutate(); !s.ok()) return s;
    auto it = legs.find(r.leg);
    if (it == legs.end()) return absl::NotFoundError(absl::StrCat("no leg ", r.leg));
    if (r.transport && *r.transport != it->second.info.transport) {
      // As the dataplane: only a leg added dtls has a certificate to go (back) to dtls.
      if (*r.transport == dataplane::LegTransport::kDtls &&
          it->second.add.transport != dataplane::LegTransport::kDtls) {
        return absl::FailedPreconditionError("added plain");
      }
      it->second.info.transport = *r.transport;
      it->second.info.state = *r.transport == dataplane::LegTransport::kDtls
                                  ? dataplane::LegState::kWaiting
                                  : dataplane::LegState::kPlain;
    }
    updates.push_back(r);
    if (r.remote) it->second.info.remote = r.remote;
    if (r.label) it->second.info.label = *r.label;
    if (r.setup) it->second.info.setup = r.setup;
    if (r.fingerprints) it->second.add.fingerprints = *r.fingerprints;
    if (r.remote_setup) it->second.add.remote_setup = r.remote_setup;
    if (r.ice) it->second.add.ice = r.ice;
    return absl::OkStatus();
  }
  absl::Status LinkLegs(uint64_t a, uint64_t b) override {
    if (absl::Status s = Mutate(); !s.ok()) return s;
    if (!legs.count(a) || !legs.count(b)) return absl::NotFoundError("no such leg");
    auto& pa = legs[a].info.peer;
    auto& pb = legs[b].info.peer;
    if ((pa && *pa != b) || (pb && *pb != a)) return absl::FailedPreconditionError("linked");
    pa = b;
    pb = a;
    links.push_back({a, b});
    return absl::OkStatus();
  }
  absl::Status DeleteLeg(uint64_t leg) override {
    auto it = legs.find(leg);
    if (it == legs.end()) return absl::NotFoundError(absl::StrCat("no leg ", leg));
    if (it->second.info.peer) legs[*it->second.info.peer].info.peer.reset();
    legs.erase(it);
    deletes.push_back(leg);
    return absl::OkStatus();
  }
  absl::StatusOr<dataplane::LegInfo> GetLeg(uint64_t leg) override {
    auto it = legs.find(leg);
    if (it == legs.end()) return absl::NotFoundError(absl::StrCat("no leg ", leg));
    return it->second.info;
  }
  std::vector<dataplane::LegInfo> ListLegs() override {
    std::vector<dataplane::LegInfo> out;
    for (const auto& [id, leg] : legs) out.push_back(leg.info);
    return out;
  }
  nlohmann::json Stats() override { return nlohmann::json::object(); }

 private:
  absl::Status Mutate() {
    ++mutations;
    if (fail_at != 0 && mutations == fail_at) {
      return absl::ResourceExhaustedError("injected failure: no free port");
    }
    return absl::OkStatus();
  }
};

}  // namespace t38relay::testing
