// Typed requests, results and events of the flow socket (protocol v1), shared by the server and
// the FlowService the dataplane implements. Plain data: the protocol module validates everything
// before a request reaches the service.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/wire/address.h"
#include "nlohmann/json.hpp"

namespace t38relay::dataplane {

// "dtls" (UDP/TLS/UDPTL, RFC 7345) or "plain" (udptl).
enum class LegTransport : uint8_t { kDtls, kPlain };
// a=setup (RFC 4145): "active", "passive", "actpass".
enum class DtlsSetup : uint8_t { kActive, kPassive, kActpass };
// How the remote address is learnt without ICE: "strict" (only `remote`), "learn" (latch on the
// first valid packet).
enum class Latch : uint8_t { kStrict, kLearn };
// The DTLS role a leg ended up with: "client" or "server".
enum class DtlsRole : uint8_t { kClient, kServer };
// "plain" (plain legs), "waiting" (dtls, nothing yet), "handshaking", "established", "failed".
enum class LegState : uint8_t { kPlain, kWaiting, kHandshaking, kEstablished, kFailed };

// ICE-lite credentials: ours (ufrag, pwd) and the peer's ufrag ("" while it is not known yet).
// Validated: ufrag 4..256 and pwd 22..256 ice-chars (RFC 8839: ALPHA / DIGIT / "+" / "/").
struct IceCredentials {
  std::string ufrag;
  std::string pwd;
  std::string remote_ufrag;
  friend bool operator==(const IceCredentials&, const IceCredentials&) = default;
};

// An a=fingerprint value (RFC 8122). `hash` is one of sha-1 sha-224 sha-256 sha-384 sha-512
// (lower case); `value` is colon-separated hex of the hash's length, upper case.
struct FingerprintValue {
  std::string hash;
  std::string value;
  friend bool operator==(const FingerprintValue&, const FingerprintValue&) = default;
};

// leg.add. `ip` and `family` are alternatives (never both); with neither, the service picks its
// first IPv4 address. setup, remote_setup and fingerprints come only with kDtls.
struct LegAddRequest {
  LegTransport transport = LegTransport::kPlain;
  std::optional<IpAddress> ip;
  std::optional<IpFamily> family;
  std::optional<SocketAddress> remote;
  // Our local port (in leg_ports, free): control re-programming a restarted dataplane, whose
  // peers already have the port in their SDP. None: the dataplane picks one.
  std::optional<uint16_t> port;
  DtlsSetup setup = DtlsSetup::kActpass;
  std::optional<DtlsSetup> remote_setup;
  // The peer's a=fingerprint values.
  std::vector<FingerprintValue> fingerprints;
  std::optional<IceCredentials> ice;
  Latch latch = Latch::kLearn;
  // dtls only: a certificate of its own, never used by another leg (RFC 7345 section 5.1), instead
  // of the dataplane's configured identity.
  bool anonymous = false;
  // Opaque to the dataplane, kept with the leg and returned by leg.get and legs.list: control
  // stores the call a leg belongs to here, so a restarted control can rebuild its calls.
  std::string label;
  friend bool operator==(const LegAddRequest&, const LegAddRequest&) = default;
};

// leg.update: only the fields present change, all or nothing. At least one is present.
struct LegUpdateRequest {
  uint64_t leg = 0;
  // dtls -> plain (an answer took udptl), and back for a leg added dtls: only while no DTLS
  // association runs on the leg.
  std::optional<LegTransport> transport;
  std::optional<SocketAddress> remote;
  std::optional<DtlsSetup> remote_setup;
  std::optional<DtlsSetup> setup;
  std::optional<std::vector<FingerprintValue>> fingerprints;
  std::optional<IceCredentials> ice;
  std::optional<Latch> latch;
  std::optional<std::string> label;
  friend bool operator==(const LegUpdateRequest&, const LegUpdateRequest&) = default;
};

struct LegAddResult {
  uint64_t leg = 0;
  SocketAddress local;
  // dtls legs: sha-256 of our certificate; absent for plain legs.
  std::optional<FingerprintValue> fingerprint;
  DtlsSetup setup = DtlsSetup::kActpass;
};

struct LegCounters {
  uint64_t rx_packets = 0;
  uint64_t rx_bytes = 0;
  uint64_t forwarded_packets = 0;
  uint64_t forwarded_bytes = 0;
  // Drop reason name -> count (names from the dataplane's drop reason list).
  std::vector<std::pair<std::string, uint64_t>> drops;
};

struct UdptlCounters {
  uint64_t packets = 0;
  uint64_t seq_gaps = 0;
  uint64_t recovered = 0;
};

// One LEGOBJ of leg.get and legs.list.
struct LegInfo {
  uint64_t leg = 0;
  LegTransport transport = LegTransport::kPlain;
  LegState state = LegState::kPlain;
  SocketAddress local;
  std::optional<SocketAddress> remote;
  bool latched = false;
  std::optional<uint64_t> peer;
  // Our a=setup; null for plain legs.
  std::optional<DtlsSetup> setup;
  std::optional<DtlsRole> role;
  // Our certificate's fingerprint; null for plain legs.
  std::optional<FingerprintValue> fingerprint;
  std::string label;
  LegCounters counters;
  UdptlCounters udptl;
};

// hello. The reply adds "server":"t38relay-dataplane" and "protocol":1 itself.
struct HelloInfo {
  std::string version;
  uint32_t workers = 0;
  std::vector<IpAddress> addresses;
  uint16_t leg_ports_first = 0;
  uint32_t leg_ports_count = 0;
};

// An event pushed to subscribers: {"v":1,"event":name,"leg":leg, ...fields}. `fields` is a JSON
// object (or null for none); the Make*Event helpers in protocol.h build the four v1 events.
struct LegEvent {
  std::string name;
  uint64_t leg = 0;
  nlohmann::json fields;
};

}  // namespace t38relay::dataplane
