// One run of t38relay-fax send/receive: SDP rendezvous, transport, UDPTL and the spandsp fax
// session paced in real time, and the one-line JSON result.
#pragma once

#include <csignal>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "control/sdp/t38_params.h"
#include "crypto/dtls/identity.h"
#include "dataplane/flowsock/flow_types.h"
#include "dataplane/wire/address.h"
#include "nlohmann/json.hpp"
#include "tools/fax/endpoint_sdp.h"
#include "tools/fax/fax_session.h"

namespace t38relay::tools::fax {

enum class FaxRole : uint8_t { kSend, kReceive };

struct EndpointOptions {
  FaxRole role = FaxRole::kSend;
  std::string tiff;  // send: the document; receive: where it is written
  dataplane::SocketAddress local;
  Proto transport = Proto::kDtls;
  // Offerer: offer_out + answer_in. Answerer: offer_in + answer_out.
  std::string offer_out, answer_in, offer_in, answer_out;
  std::optional<dataplane::DtlsSetup> setup;  // nullopt: actpass (offer) / from the offer (answer)
  control::sdp::T38UdpEc ec = control::sdp::T38UdpEc::kRedundancy;
  uint32_t ec_depth = 3;
  bool ecm = true;
  std::string keylog;  // "" none
  double timeout_s = 180;
  double sdp_wait_s = 60;
  crypto::KeyType key_type = crypto::KeyType::kRsa2048;
  bool verbose = false;
  // Set by a signal handler: the run ends as a failed fax ("interrupted").
  const volatile std::sig_atomic_t* interrupted = nullptr;

  bool offerer() const { return !offer_out.empty(); }
};

struct EndpointResult {
  // 0 fax completed, 1 fax failed (error says why), 2 usage or setup error (setup_error).
  int exit_code = 2;
  std::string setup_error;
  FaxRole role = FaxRole::kSend;
  FaxResult fax;
  double duration_s = 0;
  Proto transport = Proto::kDtls;
  std::string dtls_cipher;
  uint64_t packets_sent = 0;
  uint64_t packets_received = 0;
  uint64_t recovered = 0;
  uint64_t lost = 0;
  std::string error;
};

// Runs the whole fax; progress lines go to `log`.
EndpointResult RunEndpoint(const EndpointOptions& options, std::ostream& log);

// {"role":..,"ok":..,"t30_status":..,"t30_reason":..,"pages":..,"bit_rate":..,"ecm":..,
//  "duration_s":..,"transport":..,"dtls_cipher":..,"packets_sent":..,"packets_received":..,
//  "recovered":..,"lost":..,"error":..}
nlohmann::ordered_json EndpointResultToJson(const EndpointResult& result);

// The largest IFP a datagram of `max_datagram` octets carries with `ec` at `depth` next to it
// (what spandsp is told as the far end's maximum datagram).
uint32_t PeerMaxIfp(uint32_t max_datagram, control::sdp::T38UdpEc ec, uint32_t depth);

}  // namespace t38relay::tools::fax
