// T.38 SDP attributes (ITU-T T.38 Annex D, RFC 3362 image/t38) read from and written to an
// m=image section. Names match ignoring case (T38MaxBitRate, T38MaxBitrate, T38faxVersion are all
// seen in the wild); unknown T38* attributes are kept and written back as they were.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "control/sdp/sdp.h"

namespace t38relay::control::sdp {

inline constexpr std::string_view kT38FaxVersion = "T38FaxVersion";
inline constexpr std::string_view kT38MaxBitRate = "T38MaxBitRate";
inline constexpr std::string_view kT38FaxFillBitRemoval = "T38FaxFillBitRemoval";
inline constexpr std::string_view kT38FaxTranscodingMMR = "T38FaxTranscodingMMR";
inline constexpr std::string_view kT38FaxTranscodingJBIG = "T38FaxTranscodingJBIG";
inline constexpr std::string_view kT38FaxRateManagement = "T38FaxRateManagement";
inline constexpr std::string_view kT38FaxMaxBuffer = "T38FaxMaxBuffer";
inline constexpr std::string_view kT38FaxMaxDatagram = "T38FaxMaxDatagram";
inline constexpr std::string_view kT38FaxMaxIFP = "T38FaxMaxIFP";
inline constexpr std::string_view kT38FaxUdpEC = "T38FaxUdpEC";
inline constexpr std::string_view kT38FaxUdpECDepth = "T38FaxUdpECDepth";
inline constexpr std::string_view kT38FaxUdpFECMaxSpan = "T38FaxUdpFECMaxSpan";
inline constexpr std::string_view kT38VendorInfo = "T38VendorInfo";
inline constexpr std::string_view kT38ModemType = "T38ModemType";

enum class T38RateManagement : uint8_t { kLocalTcf, kTransferredTcf };
// "localTCF", "transferredTCF".
std::string_view T38RateManagementName(T38RateManagement value);

enum class T38UdpEc : uint8_t { kNone, kFec, kRedundancy };
// "t38UDPNoEC", "t38UDPFEC", "t38UDPRedundancy".
std::string_view T38UdpEcName(T38UdpEc value);

// T38FaxUdpECDepth:<minred>[ <maxred>]
struct T38EcDepth {
  uint32_t minimum = 0;
  std::optional<uint32_t> maximum;
  friend bool operator==(const T38EcDepth&, const T38EcDepth&) = default;
};

// Every field is nullopt when its attribute is absent. Booleans read "a=T38FaxFillBitRemoval" and
// ":1" as true, ":0" as false; they are written as the bare name when true and ":0" when false.
struct T38Params {
  std::optional<uint32_t> version;                    // T38FaxVersion
  std::optional<uint32_t> max_bit_rate;               // T38MaxBitRate (bit/s)
  std::optional<bool> fill_bit_removal;               // T38FaxFillBitRemoval
  std::optional<bool> transcoding_mmr;                // T38FaxTranscodingMMR
  std::optional<bool> transcoding_jbig;               // T38FaxTranscodingJBIG
  std::optional<T38RateManagement> rate_management;   // T38FaxRateManagement
  std::optional<uint32_t> max_buffer;                 // T38FaxMaxBuffer (bytes)
  std::optional<uint32_t> max_datagram;               // T38FaxMaxDatagram (bytes)
  std::optional<uint32_t> max_ifp;                    // T38FaxMaxIFP (T.38 v4)
  std::optional<T38UdpEc> udp_ec;                     // T38FaxUdpEC
  std::optional<T38EcDepth> udp_ec_depth;             // T38FaxUdpECDepth
  std::optional<uint32_t> udp_fec_max_span;           // T38FaxUdpFECMaxSpan
  std::optional<std::string> vendor_info;             // T38VendorInfo, as written
  std::optional<std::string> modem_type;              // T38ModemType (T.38 v4), as written
  // Other attributes whose name starts with "T38" (any case), in order, as written.
  std::vector<Attribute> unknown;
  friend bool operator==(const T38Params&, const T38Params&) = default;
};

// Reads every T38* attribute of the section. A known attribute with a bad value is an error that
// names it: "T38FaxMaxDatagram: 'abc' is not a number", "T38FaxUdpEC: unknown value 'x'
// (t38UDPFEC, t38UDPRedundancy, t38UDPNoEC)". A repeated known attribute: the first one counts.
absl::StatusOr<T38Params> ParseT38Params(const MediaDescription& media);
// The attributes for `params` in Annex D's order, with canonical names, then `unknown`.
std::vector<Attribute> FormatT38Params(const T38Params& params);
// Replaces the section's T38* attributes with FormatT38Params(params): known ones are updated in
// place (keeping their position and the name's spelling), dropped when the field is nullopt, and
// missing ones appended after the last T38 attribute (or at the end).
void SetT38Params(const T38Params& params, MediaDescription* media);

}  // namespace t38relay::control::sdp
