// SIP messages (RFC 3261 sections 7 and 25) as far as control needs them: the start line, headers,
// the dialog identifiers, Content-Type, and the SDP body (application/sdp or a multipart part).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace t38relay::control::sip {

// Caps on untrusted input: a SIP message over UDP is far below these.
inline constexpr size_t kMaxSipMessageBytes = 64 * 1024;
inline constexpr size_t kMaxSipHeaders = 256;
inline constexpr size_t kMaxSipHeaderLineBytes = 8 * 1024;  // one header after unfolding
// multipart/mixed inside multipart/mixed, at most this many levels (the outer body is level 1).
inline constexpr int kMaxMultipartDepth = 3;

// One header field as received: line folding replaced by one space, surrounding LWS trimmed.
struct SipHeader {
  std::string name;       // as written ("i", "call-id", "Call-ID", ...)
  std::string full_name;  // lower-case long form ("call-id" for "i" too): what lookups compare
  std::string value;
};

// A media type (RFC 2045 section 5.1 / RFC 3261 section 20.15): type and subtype lower-cased,
// parameter names lower-cased, values unquoted (quoted-pair resolved) and otherwise as written.
struct MediaType {
  std::string type;
  std::string subtype;
  std::vector<std::pair<std::string, std::string>> parameters;

  // True when type/subtype equal the (lower-case) arguments.
  bool Is(std::string_view type_lower, std::string_view subtype_lower) const;
  // The value of a parameter (name any case), nullopt when absent.
  std::optional<std::string> Parameter(std::string_view name) const;
};

// Parses a Content-Type value: "application/sdp", "multipart/mixed;boundary=\"x y\"", ...
// Errors name the problem ("Content-Type \"sdp\": expected type/subtype").
absl::StatusOr<MediaType> ParseMediaType(std::string_view value);

struct CSeq {
  uint32_t number = 0;  // 0..2^31-1 (RFC 3261 section 8.1.1.5)
  std::string method;
};

// From / To (RFC 3261 section 20.20, 20.39): name-addr or addr-spec, display name quoted or not.
struct NameAddress {
  std::string display_name;  // unquoted; "" when none
  std::string uri;           // without the angle brackets
  std::string tag;           // the tag parameter, "" when none
};

// Parses a From/To value; errors for an unterminated quoted string or a missing '>'.
absl::StatusOr<NameAddress> ParseNameAddress(std::string_view value);

// A parsed SIP request or response. Owns its bytes (copies out of the input).
struct SipMessage {
  bool is_request = false;
  // Request line: method SP Request-URI SP SIP/2.0.
  std::string method;       // "" for a response
  std::string request_uri;  // "" for a response
  // Status line: SIP/2.0 SP Status-Code SP Reason-Phrase.
  int status_code = 0;      // 100..699 for a response, 0 for a request
  std::string reason_phrase;

  std::vector<SipHeader> headers;  // in message order

  // Required by RFC 3261 section 8.1.1 and checked by ParseSipMessage.
  std::string call_id;
  NameAddress from;
  NameAddress to;
  CSeq cseq;
  // The Content-Type header, nullopt when absent (then a non-empty body is an error for
  // ExtractSdp, since its type is unknown).
  std::optional<MediaType> content_type;
  // Content-Encoding, lower-cased; "" when absent.
  std::string content_encoding;

  // Exactly Content-Length bytes when that header is present, else the rest of the input.
  std::string body;

  // Every value of the header `name` (long or compact form, any case), in message order.
  std::vector<std::string_view> HeaderValues(std::string_view name) const;
  // The first value of `name`, nullopt when absent.
  std::optional<std::string_view> Header(std::string_view name) const;
};

// The lower-case long form of a header name: "i" -> "call-id", "Content-Length" ->
// "content-length".
std::string CanonicalHeaderName(std::string_view name);

// Parses one SIP message (RFC 3261 section 7 and 25). Errors name the line and the problem, e.g.
// "line 3: header without ':'", "Content-Length 412 but the body has 300 bytes",
// "missing Call-ID header". Input over kMaxSipMessageBytes is refused.
absl::StatusOr<SipMessage> ParseSipMessage(std::string_view bytes);

// The SDP in a message: its body when Content-Type is application/sdp, or the first
// application/sdp part of a multipart body (RFC 2046 section 5.1, any multipart subtype, depth
// first, nested up to kMaxMultipartDepth; a part's SDP gets back the CRLF its delimiter took).
// Content-Encoding other than identity is an error ("unsupported Content-Encoding gzip"); no SDP
// is InvalidArgument "the message has no application/sdp body".
absl::StatusOr<std::string> ExtractSdp(const SipMessage& message);

// The dialog identifiers of a message, so control can default call-id and tags from it.
struct SipContext {
  std::string call_id;
  std::string from_tag;
  std::string to_tag;  // "" when the To header has no tag (an initial INVITE)
  uint32_t cseq = 0;
  std::string cseq_method;
  std::string method;   // the request's method, "" for a response
  int status_code = 0;  // the response's code, 0 for a request
};
SipContext ContextOf(const SipMessage& message);

struct ExtractedSdp {
  std::string sdp;
  std::optional<SipContext> sip;  // set when the input was a SIP message
};

// True when `body` (after leading blank lines) starts with a SIP request or status line.
bool LooksLikeSipMessage(std::string_view body);

// The one entry point control uses for an offer/answer body: a SIP message (detected by its start
// line) is parsed and its SDP extracted; a body starting with "v=" (after leading blank lines,
// which are dropped) is taken as SDP as is; anything else is an error saying what was expected.
absl::StatusOr<ExtractedSdp> ExtractFromBody(std::string_view body);
// ExtractFromBody without the SIP context.
absl::StatusOr<std::string> SdpFromBody(std::string_view body);

}  // namespace t38relay::control::sip
