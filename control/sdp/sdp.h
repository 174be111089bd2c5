// The SDP model (RFC 8866), its parser and writer, and attribute lookup with session fallback.
//
// The model keeps what a relay must pass through untouched: every line's text, attribute order and
// format tokens as written. The parser is lenient where real SDPs deviate (line order at session
// level, missing t=, bare LF line ends) and strict where meaning or safety is at stake (v=0 first,
// o= and s= present, known type letters, ports 0..65535, no control characters, size caps).
//
// Codecs for individual attributes live beside this header: attributes.h (fingerprint, setup,
// connection, tls-id, ICE), t38_params.h (T.38 Annex D), capneg.h (RFC 5939).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace t38relay::control::sdp {

// Caps on untrusted input: a larger body, more lines, media sections or attributes in one section
// (session level counts as one section) are refused with an error naming the cap.
inline constexpr size_t kMaxSdpBytes = 64 * 1024;
inline constexpr size_t kMaxSdpLines = 2048;
inline constexpr size_t kMaxMediaSections = 64;
inline constexpr size_t kMaxAttributesPerSection = 512;

// "a=<name>" (value absent) or "a=<name>:<value>" (value present, possibly empty). The value is
// kept byte for byte, leading spaces included ("a=msid-semantic: WMS x" has value " WMS x").
struct Attribute {
  std::string name;
  std::optional<std::string> value;
  friend bool operator==(const Attribute&, const Attribute&) = default;
};

// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
// sess-id and sess-version are kept as written (decimal digits, up to 20 of them); see
// SessionVersionNumber() for arithmetic.
struct Origin {
  std::string username;
  std::string session_id;
  std::string session_version;
  std::string net_type;   // "IN"
  std::string addr_type;  // "IP4", "IP6"
  std::string address;
  friend bool operator==(const Origin&, const Origin&) = default;
};
// sess-version as a number; nullopt when it does not fit 64 bits.
std::optional<uint64_t> SessionVersionNumber(const Origin& origin);

// c=<nettype> <addrtype> <connection-address>; the address keeps any "/ttl/count" suffix and may
// be H.248's CHOOSE wildcard "$".
struct Connection {
  std::string net_type;
  std::string addr_type;
  std::string address;
  friend bool operator==(const Connection&, const Connection&) = default;
};

// b=<bwtype>:<bandwidth>; bandwidth kept as written (decimal digits).
struct Bandwidth {
  std::string type;
  std::string value;
  friend bool operator==(const Bandwidth&, const Bandwidth&) = default;
};

// t=<start> <stop> with its r= lines (each kept as the text after "r=").
struct Timing {
  std::string start;
  std::string stop;
  std::vector<std::string> repeats;
  friend bool operator==(const Timing&, const Timing&) = default;
};

// One m= section: m=<media> <port>[/<count>] <proto> <fmt> ..., then i=, c=*, b=*, k=, a=*.
struct MediaDescription {
  std::string media;  // "image", "audio", ...
  // nullopt is H.248's CHOOSE wildcard "$" (the gateway picks the port); 0 rejects/disables.
  std::optional<uint16_t> port;
  std::optional<uint16_t> port_count;  // "/<number of ports>" when written
  std::string proto;                   // "UDP/TLS/UDPTL", "udptl", "UDPTL", "RTP/AVP", ... as written
  std::vector<std::string> formats;    // "t38", "0", "8", ... as written
  std::optional<std::string> information;  // i=
  std::vector<Connection> connections;     // c= (more than one only for layered multicast)
  std::vector<Bandwidth> bandwidths;
  std::optional<std::string> key;  // k=
  std::vector<Attribute> attributes;

  friend bool operator==(const MediaDescription&, const MediaDescription&) = default;

  // First attribute whose name matches (see AttributeNameEquals), or nullptr.
  const Attribute* FindAttribute(std::string_view name) const;
  // All attributes whose name matches, in order.
  std::vector<const Attribute*> FindAttributes(std::string_view name) const;
  bool HasAttribute(std::string_view name) const { return FindAttribute(name) != nullptr; }
  // Replaces the value of the first matching attribute (keeping its position and the name's
  // spelling) and removes later ones; appends when there is none.
  void SetAttribute(std::string_view name, std::optional<std::string> value);
  // Appends a=name[:value].
  void AddAttribute(std::string_view name, std::optional<std::string> value);
  // Removes every matching attribute; returns how many were removed.
  size_t RemoveAttributes(std::string_view name);
};

struct SessionDescription {
  // v= is always 0 (checked by the parser, written by the writer).
  std::optional<Origin> origin;              // present unless parsed with allow_missing_origin
  std::optional<std::string> session_name;   // s=; present unless allow_missing_origin
  std::optional<std::string> information;    // i=
  std::optional<std::string> uri;            // u=
  std::vector<std::string> emails;           // e=
  std::vector<std::string> phones;           // p=
  std::optional<Connection> connection;      // session-level c=
  std::vector<Bandwidth> bandwidths;         // b=
  std::vector<Timing> timings;               // t= (+ r=); may be empty (real SDPs omit it)
  std::optional<std::string> time_zones;     // z=
  std::optional<std::string> key;            // k=
  std::vector<Attribute> attributes;         // session-level a=
  std::vector<MediaDescription> media;

  friend bool operator==(const SessionDescription&, const SessionDescription&) = default;

  // Session-level attribute lookups, same matching as MediaDescription's.
  const Attribute* FindAttribute(std::string_view name) const;
  std::vector<const Attribute*> FindAttributes(std::string_view name) const;
  void SetAttribute(std::string_view name, std::optional<std::string> value);
  size_t RemoveAttributes(std::string_view name);
};

struct ParseOptions {
  // H.248 (Megaco) descriptors leave out o=, s= and t= (H.248.1 section 7.1.8); SIP SDP must not.
  bool allow_missing_origin = false;
};

// Parses one session description. Lines end in CRLF or bare LF; a missing final line end and
// trailing blank lines are accepted. Errors read "line N: <what is wrong>", e.g.
// "line 1: must be v=0", "line 5: m= needs <media> <port> <proto> <fmt>...".
// The port "$" (H.248 CHOOSE) is accepted and kept as MediaDescription::port == nullopt; a
// caller that needs a real port must check.
absl::StatusOr<SessionDescription> ParseSdp(std::string_view text);
absl::StatusOr<SessionDescription> ParseSdp(std::string_view text, const ParseOptions& options);

// An H.248 text Local/Remote descriptor body as it appears in captures: one or more SDP blocks
// (each starting at v=, o=/s=/t= optional), possibly wrapped in Megaco punctuation such as
// "},R{" before a v= line or lines of only braces and commas, which is stripped. Line numbers in
// errors count from the start of `text`.
absl::StatusOr<std::vector<SessionDescription>> ParseH248Sdp(std::string_view text);

// CRLF lines in RFC 8866 order. ParseSdp(WriteSdp(x)) == x for every parsed x, and
// WriteSdp(ParseSdp(s)) == s when s is CRLF-terminated and in canonical order.
std::string WriteSdp(const SessionDescription& session);

// Attribute names are case-sensitive in RFC 8866, but T.38's (T38FaxVersion, T38faxVersion, ...)
// appear in mixed case in the wild: names starting with "T38" (any case) compare ignoring case,
// every other name exactly.
bool AttributeNameEquals(std::string_view a, std::string_view b);

// Attributes that may be given at session level and apply to every media section that does not
// give them itself: fingerprint, setup, connection (RFC 4145/8122), tls-id (RFC 8842),
// ice-ufrag, ice-pwd, ice-options (RFC 8839).
bool IsSessionFallbackAttribute(std::string_view name);

// The media section's attribute, or for a session-fallback name the session-level one when the
// section has none; nullptr when neither has it.
const Attribute* FindMediaOrSessionAttribute(const SessionDescription& session,
                                             const MediaDescription& media,
                                             std::string_view name);
// All media-level matches; for a session-fallback name with no media-level match, all session-
// level ones (e.g. several a=fingerprint lines).
std::vector<const Attribute*> FindMediaOrSessionAttributes(const SessionDescription& session,
                                                           const MediaDescription& media,
                                                           std::string_view name);

// The connection address of a media section: its own first c=, else the session's c=.
const Connection* EffectiveConnection(const SessionDescription& session,
                                      const MediaDescription& media);

}  // namespace t38relay::control::sdp
