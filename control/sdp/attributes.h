// Codecs for the SDP attributes RFC 7345 relies on: fingerprint (RFC 8122), setup and connection
// (RFC 4145), tls-id (RFC 8842), and ICE (RFC 8839): ice-ufrag, ice-pwd, ice-options, candidate.
// Each Parse* takes the attribute's value (the text after "name:") and returns a named error;
// each Format* returns a value that its Parse* reads back to an equal struct.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/sdp/sdp.h"

namespace t38relay::control::sdp {

inline constexpr std::string_view kFingerprintAttr = "fingerprint";
inline constexpr std::string_view kSetupAttr = "setup";
inline constexpr std::string_view kConnectionAttr = "connection";
inline constexpr std::string_view kTlsIdAttr = "tls-id";
inline constexpr std::string_view kIceUfragAttr = "ice-ufrag";
inline constexpr std::string_view kIcePwdAttr = "ice-pwd";
inline constexpr std::string_view kIceLiteAttr = "ice-lite";
inline constexpr std::string_view kIceOptionsAttr = "ice-options";
inline constexpr std::string_view kCandidateAttr = "candidate";
inline constexpr std::string_view kEndOfCandidatesAttr = "end-of-candidates";

// --- a=fingerprint:<hash-func> <XX:XX:...> (RFC 8122 section 5) ---------------------------------
struct Fingerprint {
  // Lower case: "sha-1", "sha-224", "sha-256", "sha-384", "sha-512", "md5", "md2", or another
  // token kept as written (lower-cased).
  std::string hash_function;
  std::vector<uint8_t> digest;
  friend bool operator==(const Fingerprint&, const Fingerprint&) = default;
};
// Accepts the hash name in any case and leading blanks before it ("a=fingerprint: SHA-1 ..." in
// RFC 7345's own examples), hex digits in either case. A known hash must have its digest length
// (sha-256: 32 bytes). Errors name the problem: "fingerprint: unknown ... ", "fingerprint: sha-256
// digest must be 32 bytes, got 20", "fingerprint: bad hex byte 'ZZ' at 3".
absl::StatusOr<Fingerprint> ParseFingerprint(std::string_view value);
// "sha-256 AB:CD:..." (upper-case hex, as RFC 8122 writes it).
std::string FormatFingerprint(const Fingerprint& fingerprint);
// Digest length in bytes of a known hash function, nullopt for others.
std::optional<size_t> FingerprintDigestSize(std::string_view hash_function);
// Every a=fingerprint of the media section (session level if it has none), parsed; the first
// unparsable one is an error naming it. An empty vector when there are none.
absl::StatusOr<std::vector<Fingerprint>> GetFingerprints(const SessionDescription& session,
                                                         const MediaDescription& media);

// --- a=setup (RFC 4145 section 4) ---------------------------------------------------------------
enum class SetupRole : uint8_t { kActive, kPassive, kActpass, kHoldconn };
// Case-insensitive: "active", "passive", "actpass", "holdconn"; else "setup: unknown role 'x' ...".
absl::StatusOr<SetupRole> ParseSetupRole(std::string_view value);
std::string_view SetupRoleName(SetupRole role);  // "active", ...
// The effective a=setup of a media section (session fallback); nullopt when absent.
absl::StatusOr<std::optional<SetupRole>> GetSetupRole(const SessionDescription& session,
                                                      const MediaDescription& media);

// --- a=connection (RFC 4145 section 5) ----------------------------------------------------------
enum class ConnectionValue : uint8_t { kNew, kExisting };
absl::StatusOr<ConnectionValue> ParseConnectionValue(std::string_view value);
std::string_view ConnectionValueName(ConnectionValue value);  // "new", "existing"

// --- a=tls-id (RFC 8842 section 4) --------------------------------------------------------------
// tls-id-value = 20*255(tls-id-char); tls-id-char = ALPHA / DIGIT / "+" / "/" / "-" / "_"
inline constexpr size_t kMinTlsIdLength = 20;
inline constexpr size_t kMaxTlsIdLength = 255;
absl::Status ValidateTlsId(std::string_view value);

// --- ICE (RFC 8839 section 5) -------------------------------------------------------------------
// ice-ufrag: 4..256 ice-char; ice-pwd: 22..256 ice-char; ice-char = ALPHA / DIGIT / "+" / "/".
absl::Status ValidateIceUfrag(std::string_view value);
absl::Status ValidateIcePwd(std::string_view value);
// ice-options: tags separated by single spaces. RFC 8839 says ice-char, but tags such as
// "google-ice" and "trickle" are in the wild: any non-blank printable token is accepted.
absl::StatusOr<std::vector<std::string>> ParseIceOptions(std::string_view value);
std::string FormatIceOptions(const std::vector<std::string>& options);

// a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
//             [raddr <addr>] [rport <port>] *(<ext-name> <ext-value>)
struct IceCandidate {
  std::string foundation;  // 1..32 ice-char
  uint32_t component = 1;  // 1..256
  std::string transport;   // "udp", "UDP", "TCP", ... as written
  uint32_t priority = 0;   // 1..(2^32-1) in RFC 8839; 0 is accepted from the wild
  std::string address;     // IPv4/IPv6 literal or FQDN, as written
  uint16_t port = 0;
  std::string type;        // "host", "srflx", "prflx", "relay" or another token
  std::optional<std::string> related_address;  // raddr
  std::optional<uint16_t> related_port;        // rport
  std::vector<std::pair<std::string, std::string>> extensions;  // ("generation", "0"), ...
  friend bool operator==(const IceCandidate&, const IceCandidate&) = default;
};
absl::StatusOr<IceCandidate> ParseIceCandidate(std::string_view value);
std::string FormatIceCandidate(const IceCandidate& candidate);

// The ICE parameters that apply to one media section (session fallback for ufrag/pwd/options,
// ice-lite is session level only). Absent attributes leave fields empty.
struct IceParams {
  std::string ufrag;
  std::string pwd;
  bool lite = false;
  std::vector<std::string> options;
  std::vector<IceCandidate> candidates;
  bool end_of_candidates = false;
  friend bool operator==(const IceParams&, const IceParams&) = default;
};
// Validates what is present (ufrag without pwd or the reverse is an error).
absl::StatusOr<IceParams> GetIceParams(const SessionDescription& session,
                                       const MediaDescription& media);
// Writes ufrag/pwd/options/candidates/end-of-candidates onto the media section (replacing any),
// and ice-lite at session level when set (removing it when not).
void SetIceParams(const IceParams& params, SessionDescription* session, MediaDescription* media);

}  // namespace t38relay::control::sdp
