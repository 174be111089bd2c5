// The packet inspector's decoding: one UDP datagram (or captured frame) to one JSON object, with
// counts per kind and per error for the summary.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/wire/byte_reader.h"
#include "dataplane/wire/t38_ifp.h"
#include "nlohmann/json.hpp"
#include "tools/pcap_reader.h"

namespace t38relay::tools {

using Json = nlohmann::ordered_json;

struct InspectorOptions {
  // UDP to or from these ports is UDPTL (plain UDPTL has no first-byte signature).
  std::vector<uint16_t> udptl_ports;
  // STUN short-term password; its MESSAGE-INTEGRITY(-SHA256) is checked when set.
  std::optional<std::string> stun_password;
  // STUN long-term credentials (username, realm, SASLprep'd password).
  struct LongTerm {
    std::string username;
    std::string realm;
    std::string password;
  };
  std::optional<LongTerm> stun_long_term;
  dataplane::IfpVariant ifp_variant = dataplane::IfpVariant::k1998;
  // Bad IPv4 and UDP checksums are errors only when asked: captures taken on the sending host
  // hold the partial sums of checksum offload (tshark does not check them by default either).
  bool check_checksums = false;
};

class Inspector {
 public:
  explicit Inspector(InspectorOptions options);

  // One captured frame. nullopt for frames that carry no UDP datagram (ARP, TCP, ...): those are
  // only counted. Frames whose headers are broken yield an object with an "error".
  std::optional<Json> InspectFrame(const PcapFrame& frame);
  // A bare UDP payload: by first byte (RFC 7983), or as UDPTL when as_udptl.
  Json InspectDatagram(dataplane::Bytes payload, bool as_udptl);
  // Counts so far: frames, kinds, errors, STUN checks, T.38 classes.
  Json Summary() const;

 private:
  void DecodeStun(dataplane::Bytes payload, Json* out);
  void DecodeDtls(dataplane::Bytes payload, Json* out);
  void DecodeUdptl(dataplane::Bytes payload, Json* out);
  // The IFP as JSON; sets *error on a decode failure.
  Json DecodeIfp(dataplane::Bytes ifp, std::string* error);
  void Count(const Json& packet);

  InspectorOptions options_;
  std::vector<uint8_t> stun_key_;  // the short-term password or the long-term key
  uint64_t frames_ = 0;
  uint64_t not_udp_ = 0;
  std::map<std::string, uint64_t> kinds_;
  std::map<std::string, uint64_t> errors_;
  std::map<std::string, uint64_t> t38_classes_;
};

}  // namespace t38relay::tools
