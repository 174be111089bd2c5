// SDP capability negotiation (RFC 5939): a=tcap, a=acap, a=pcfg, a=acfg, a=csup/a=creq codecs, and
// the resolution of a media section's potential configurations into (proto, attributes) choices —
// how RFC 7345 section 5.4 offers UDP/TLS/UDPTL with a plain udptl fallback.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "control/sdp/sdp.h"

namespace t38relay::control::sdp {

inline constexpr std::string_view kTcapAttr = "tcap";
inline constexpr std::string_view kAcapAttr = "acap";
inline constexpr std::string_view kPcfgAttr = "pcfg";
inline constexpr std::string_view kAcfgAttr = "acfg";
inline constexpr std::string_view kCsupAttr = "csup";
inline constexpr std::string_view kCreqAttr = "creq";
// Capability and configuration numbers are 1..2^31-1 (RFC 5939 section 3.4: 1*10DIGIT, and
// numbers above this are refused so that arithmetic on them cannot overflow).
inline constexpr uint32_t kMaxCapNumber = 0x7fffffff;
// ResolvePotentialConfigs refuses a section whose t= x a= alternatives expand beyond this.
inline constexpr size_t kMaxResolvedConfigs = 256;

// a=tcap:<first number> <proto> <proto>... ; the protos are numbered first, first+1, ...
struct TransportCaps {
  uint32_t first_number = 1;
  std::vector<std::string> protos;
  friend bool operator==(const TransportCaps&, const TransportCaps&) = default;
};
absl::StatusOr<TransportCaps> ParseTcap(std::string_view value);
std::string FormatTcap(const TransportCaps& caps);

// a=acap:<number> <att-field>[:<att-value>]
struct AttributeCap {
  uint32_t number = 1;
  Attribute attribute;
  friend bool operator==(const AttributeCap&, const AttributeCap&) = default;
};
absl::StatusOr<AttributeCap> ParseAcap(std::string_view value);
std::string FormatAcap(const AttributeCap& cap);

// Which existing attributes a configuration deletes before adding its own ("a=-m:", "a=-s:",
// "a=-ms:").
enum class DeleteAttributes : uint8_t { kNone, kMedia, kSession, kMediaAndSession };

// One alternative of an a= list in a=pcfg, e.g. "1,[2]": capabilities 1 mandatory, 2 optional.
// Each bracketed group is optional as a whole.
struct AttributeConfig {
  DeleteAttributes delete_attributes = DeleteAttributes::kNone;
  std::vector<uint32_t> mandatory;
  std::vector<std::vector<uint32_t>> optional_groups;
  friend bool operator==(const AttributeConfig&, const AttributeConfig&) = default;
};

// a=pcfg:<number> [t=<n>|<n>...] [a=<alt>|<alt>...] [other extension configs kept as text]
struct PotentialConfig {
  uint32_t number = 1;
  std::vector<uint32_t> transports;               // t= alternatives, empty when absent
  std::vector<AttributeConfig> attribute_alternatives;  // a= alternatives, empty when absent
  std::vector<std::string> extensions;            // e.g. "+x=...": as written
  friend bool operator==(const PotentialConfig&, const PotentialConfig&) = default;
};
absl::StatusOr<PotentialConfig> ParsePcfg(std::string_view value);
std::string FormatPcfg(const PotentialConfig& config);

// a=acfg:<number> [t=<n>] [a=<list>] — the configuration an answer selected; its a= list has no
// alternatives and no optional markers (the chosen optional capabilities are listed plainly).
struct ActualConfig {
  uint32_t number = 1;
  std::optional<uint32_t> transport;
  std::optional<AttributeConfig> attributes;  // optional_groups empty
  std::vector<std::string> extensions;
  friend bool operator==(const ActualConfig&, const ActualConfig&) = default;
};
absl::StatusOr<ActualConfig> ParseAcfg(std::string_view value);
std::string FormatAcfg(const ActualConfig& config);

// a=csup / a=creq: comma-separated option tags ("med-v0", ...).
absl::StatusOr<std::vector<std::string>> ParseOptionTags(std::string_view value);
std::string FormatOptionTags(const std::vector<std::string>& tags);

// One potential configuration of a media section, resolved against the tcap/acap lines of the
// section and of the session (a media-level capability number shadows a session-level one).
struct ResolvedConfig {
  uint32_t config_number = 0;
  std::optional<uint32_t> transport_number;  // nullopt: the m= line's proto is kept
  std::string proto;                          // the proto this configuration uses
  DeleteAttributes delete_attributes = DeleteAttributes::kNone;
  std::vector<uint32_t> attribute_numbers;    // mandatory then optional, as listed
  std::vector<Attribute> attributes;          // the mandatory capabilities' attributes
  std::vector<Attribute> optional_attributes; // the optional ones (the answerer may drop them)
  friend bool operator==(const ResolvedConfig&, const ResolvedConfig&) = default;
};
// Every potential configuration of the section in preference order (a=pcfg numbers ascending;
// within one pcfg, each t= alternative in order, times each a= alternative in order). The m= line's
// own (actual) configuration is not included: it is the last resort. Errors name the pcfg and the
// capability number that has no tcap/acap, or a malformed tcap/acap/pcfg line.
absl::StatusOr<std::vector<ResolvedConfig>> ResolvePotentialConfigs(
    const SessionDescription& session, const MediaDescription& media);

}  // namespace t38relay::control::sdp
