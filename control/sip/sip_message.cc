// SIP message parsing (RFC 3261 sections 7, 20 and 25) and SDP extraction from application/sdp and
// multipart bodies (RFC 2046 section 5.1).
#include "control/sip/sip_message.h"

#include <algorithm>
#include <charconv>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace t38relay::control::sip {
namespace {

// A multipart body has at most this many parts looked at (a 64 KiB body gives no more anyway).
constexpr size_t kMaxMultipartParts = 64;
// RFC 2046 section 5.1.1: a boundary is 1 to 70 characters.
constexpr size_t kMaxBoundaryLength = 70;
// RFC 3261 section 8.1.1.5: a CSeq sequence number is below 2^31.
constexpr uint64_t kMaxCSeq = (uint64_t{1} << 31) - 1;

absl::Status Invalid(std::string_view message) {
  return absl::InvalidArgumentError(absl::string_view(message.data(), message.size()));
}

// String building for error messages. Debian's absl::string_view is not std::string_view, so
// absl::StrCat and absl/strings/match.h do not take std::string_view arguments.
void Append(std::string* out, std::string_view s) { out->append(s); }
void Append(std::string* out, const char* s) { out->append(s); }
void Append(std::string* out, const std::string& s) { out->append(s); }
void Append(std::string* out, absl::string_view s) { out->append(s.data(), s.size()); }
template <typename T>
  requires std::integral<T>
void Append(std::string* out, T value) {
  out->append(std::to_string(value));
}
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (Append(&out, args), ...);
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  return out;
}
bool EqualsIgnoreCase(std::string_view a, std::string_view b) { return Lower(a) == Lower(b); }
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

bool IsWsp(char c) { return c == ' ' || c == '\t'; }

// RFC 3261 section 25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" /
// "'" / "~").
bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

std::string_view TrimWsp(std::string_view s) {
  while (!s.empty() && IsWsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWsp(s.back())) s.remove_suffix(1);
  return s;
}

bool HasWhitespaceOrControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

// Shows untrusted text in an error message: at most 40 bytes, control bytes as '?'.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < 40; ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    out += (u < 0x20 || u == 0x7f) ? '?' : s[i];
  }
  if (s.size() > 40) out += "...";
  out += '"';
  return out;
}

// Splits off one line ending in "\n" or "\r\n" (or the end of `text`). `had_end` tells whether a
// line end was there.
std::string_view NextLine(std::string_view text, size_t* pos, bool* had_end) {
  const size_t start = *pos;
  const size_t nl = text.find('\n', start);
  size_t end;
  if (nl == std::string_view::npos) {
    end = text.size();
    *pos = text.size();
    *had_end = false;
  } else {
    end = nl;
    *pos = nl + 1;
    *had_end = true;
  }
  if (end > start && text[end - 1] == '\r') --end;
  return text.substr(start, end - start);
}

// RFC 3261 section 7.3.3: the compact forms (and the ones later RFCs registered).
std::string_view LongFormOf(std::string_view lower_name) {
  if (lower_name.size() != 1) return lower_name;
  switch (lower_name[0]) {
    case 'a': return "accept-contact";       // RFC 3841
    case 'b': return "referred-by";          // RFC 3892
    case 'c': return "content-type";
    case 'd': return "request-disposition";  // RFC 3841
    case 'e': return "content-encoding";
    case 'f': return "from";
    case 'i': return "call-id";
    case 'j': return "reject-contact";       // RFC 3841
    case 'k': return "supported";
    case 'l': return "content-length";
    case 'm': return "contact";
    case 'n': return "identity-info";        // RFC 4474
    case 'o': return "event";                // RFC 6665
    case 'r': return "refer-to";             // RFC 3515
    case 's': return "subject";
    case 't': return "to";
    case 'u': return "allow-events";         // RFC 6665
    case 'v': return "via";
    case 'x': return "session-expires";      // RFC 4028
    case 'y': return "identity";             // RFC 8224
    default: return lower_name;
  }
}

// Header lines up to the empty line that ends them (RFC 3261 section 7.3.1): "name HCOLON value",
// continuation lines starting with SP/HT folded into one space. `*pos` ends after the empty line,
// or at the end of `text` when there is none. `first_line` numbers the lines in error messages;
// `where` prefixes them ("part 2: ").
absl::Status ParseHeaderLines(std::string_view text, size_t* pos, int first_line,
                              std::string_view where, std::vector<SipHeader>* headers) {
  int line_number = first_line - 1;
  bool have_current = false;
  SipHeader current;
  auto finish = [&]() -> absl::Status {
    if (!have_current) return absl::OkStatus();
    have_current = false;
    current.value = std::string(TrimWsp(current.value));
    if (headers->size() >= kMaxSipHeaders) {
      return Invalid(Cat(where, "more than ", kMaxSipHeaders, " headers"));
    }
    headers->push_back(std::move(current));
    current = SipHeader();
    return absl::OkStatus();
  };
  while (*pos < text.size()) {
    bool had_end = false;
    const std::string_view line = NextLine(text, pos, &had_end);
    ++line_number;
    if (line.empty()) return finish();
    if (line.find('\r') != std::string_view::npos) {
      return Invalid(Cat(where, "line ", line_number, ": a CR that does not end the line"));
    }
    if (IsWsp(line.front())) {
      if (!have_current) {
        return Invalid(Cat(where, "line ", line_number,
                                    ": continuation line without a header before it"));
      }
      // RFC 3261 section 7.3.1: a fold is equivalent to one SP.
      current.value += ' ';
      current.value += TrimWsp(line);
      if (current.name.size() + current.value.size() > kMaxSipHeaderLineBytes) {
        return Invalid(Cat(where, "line ", line_number, ": header ", Quote(current.name),
                                    " longer than ", kMaxSipHeaderLineBytes, " bytes"));
      }
      continue;
    }
    if (absl::Status s = finish(); !s.ok()) return s;
    if (line.size() > kMaxSipHeaderLineBytes) {
      return Invalid(Cat(where, "line ", line_number, ": header line longer than ",
                                  kMaxSipHeaderLineBytes, " bytes"));
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return Invalid(Cat(where, "line ", line_number, ": header without ':'"));
    }
    // HCOLON = *( SP / HTAB ) ":" SWS: blanks may precede the colon.
    const std::string_view name = TrimWsp(line.substr(0, colon));
    if (!IsToken(name)) {
      return Invalid(Cat(where, "line ", line_number, ": bad header name ",
                                  Quote(line.substr(0, colon))));
    }
    current.name = std::string(name);
    current.full_name = std::string(LongFormOf(Lower(name)));
    current.value = std::string(TrimWsp(line.substr(colon + 1)));
    have_current = true;
    if (!had_end) break;
  }
  return finish();
}

// quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE (RFC 3261 section 25.1), starting at
// s[*pos] == '"'. Appends the unescaped text to `out`; false when the closing quote is missing.
bool ParseQuotedString(std::string_view s, size_t* pos, std::string* out) {
  size_t i = *pos + 1;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"') {
      *pos = i + 1;
      return true;
    }
    if (c == '\\') {
      if (i + 1 >= s.size()) return false;
      out->push_back(s[i + 1]);
      i += 2;
      continue;
    }
    out->push_back(c);
    ++i;
  }
  return false;
}

void SkipWsp(std::string_view s, size_t* pos) {
  while (*pos < s.size() && IsWsp(s[*pos])) ++*pos;
}

// *( SEMI generic-param ) with generic-param = token [ EQUAL gen-value ], gen-value = token / host
// / quoted-string. Parameter names lower-cased; `what` names the header in errors.
absl::Status ParseParameters(std::string_view s, size_t pos, std::string_view what,
                             std::vector<std::pair<std::string, std::string>>* params) {
  while (true) {
    SkipWsp(s, &pos);
    if (pos >= s.size()) return absl::OkStatus();
    if (s[pos] != ';') {
      return Invalid(Cat(what, ": expected ';' before ", Quote(s.substr(pos))));
    }
    ++pos;
    SkipWsp(s, &pos);
    size_t start = pos;
    while (pos < s.size() && IsTokenChar(s[pos])) ++pos;
    if (pos == start) return Invalid(Cat(what, ": empty parameter"));
    std::string name = Lower(s.substr(start, pos - start));
    std::string value;
    SkipWsp(s, &pos);
    if (pos < s.size() && s[pos] == '=') {
      ++pos;
      SkipWsp(s, &pos);
      if (pos < s.size() && s[pos] == '"') {
        if (!ParseQuotedString(s, &pos, &value)) {
          return Invalid(
              Cat(what, ": unterminated quoted string in parameter ", Quote(name)));
        }
      } else {
        start = pos;
        // host values add ':' '[' ']' (IPv6 references) to the token characters.
        while (pos < s.size() && (IsTokenChar(s[pos]) || s[pos] == ':' || s[pos] == '[' ||
                                  s[pos] == ']')) {
          ++pos;
        }
        if (pos == start) {
          return Invalid(Cat(what, ": parameter ", Quote(name), " has an empty value"));
        }
        value = std::string(s.substr(start, pos - start));
      }
    }
    if (params->size() >= kMaxSipHeaders) {
      return Invalid(Cat(what, ": too many parameters"));
    }
    params->emplace_back(std::move(name), std::move(value));
  }
}

// A URI as far as From/To need it: a scheme, and no blanks or controls (RFC 3261 section 25.1,
// absoluteURI / SIP-URI all start with scheme ":").
absl::Status CheckUri(std::string_view uri, std::string_view what) {
  if (uri.empty()) return Invalid(Cat(what, ": empty URI"));
  if (HasWhitespaceOrControl(uri)) {
    return Invalid(Cat(what, ": URI ", Quote(uri), " contains blanks or control bytes"));
  }
  const size_t colon = uri.find(':');
  bool scheme_ok = colon != std::string_view::npos && colon > 0 &&
                   absl::ascii_isalpha(static_cast<unsigned char>(uri[0]));
  for (size_t i = 1; scheme_ok && i < colon; ++i) {
    const char c = uri[i];
    scheme_ok = absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' ||
                c == '.';
  }
  if (!scheme_ok) return Invalid(Cat(what, ": URI ", Quote(uri), " has no scheme"));
  return absl::OkStatus();
}

absl::StatusOr<NameAddress> ParseNameAddressFor(std::string_view value, std::string_view what) {
  const std::string_view s = TrimWsp(value);
  if (s.empty()) return Invalid(Cat(what, " is empty"));
  NameAddress result;
  size_t pos = 0;
  bool name_addr = false;
  if (s[0] == '"') {
    if (!ParseQuotedString(s, &pos, &result.display_name)) {
      return Invalid(Cat(what, ": unterminated quoted string in the display name"));
    }
    SkipWsp(s, &pos);
    if (pos >= s.size() || s[pos] != '<') {
      return Invalid(Cat(what, ": expected '<' after the display name"));
    }
    name_addr = true;
  } else {
    // display-name = *(token LWS) / quoted-string, then LAQUOT; otherwise an addr-spec.
    while (pos < s.size() && (IsTokenChar(s[pos]) || IsWsp(s[pos]))) ++pos;
    if (pos < s.size() && s[pos] == '<') {
      result.display_name = std::string(TrimWsp(s.substr(0, pos)));
      name_addr = true;
    } else if (s.find('<') != std::string_view::npos) {
      return Invalid(Cat(what, ": a display name with characters other than tokens "
                                        "must be quoted"));
    } else {
      pos = 0;
    }
  }
  std::vector<std::pair<std::string, std::string>> params;
  if (name_addr) {
    // LAQUOT addr-spec RAQUOT: no blanks inside the angle brackets.
    const size_t close = s.find('>', pos);
    if (close == std::string_view::npos) return Invalid(Cat(what, ": missing '>'"));
    const std::string_view uri = s.substr(pos + 1, close - pos - 1);
    if (absl::Status st = CheckUri(uri, what); !st.ok()) return st;
    result.uri = std::string(uri);
    pos = close + 1;
  } else {
    // addr-spec form: the URI ends at the first ';', the rest are header parameters.
    const size_t semi = s.find(';');
    const std::string_view uri = TrimWsp(s.substr(0, semi));
    if (absl::Status st = CheckUri(uri, what); !st.ok()) return st;
    result.uri = std::string(uri);
    pos = semi == std::string_view::npos ? s.size() : semi;
  }
  if (absl::Status st = ParseParameters(s, pos, what, &params); !st.ok()) return st;
  for (auto& [name, param_value] : params) {
    if (name == "tag") {
      if (!IsToken(param_value)) {
        return Invalid(Cat(what, ": tag ", Quote(param_value), " is not a token"));
      }
      result.tag = std::move(param_value);
      break;
    }
  }
  return result;
}

absl::StatusOr<MediaType> ParseMediaTypeFor(std::string_view value, std::string_view what) {
  const std::string_view s = TrimWsp(value);
  size_t pos = 0;
  while (pos < s.size() && IsTokenChar(s[pos])) ++pos;
  const std::string_view type = s.substr(0, pos);
  SkipWsp(s, &pos);
  if (type.empty() || pos >= s.size() || s[pos] != '/') {
    return Invalid(Cat(what, " ", Quote(s), ": expected type/subtype"));
  }
  ++pos;
  SkipWsp(s, &pos);
  const size_t start = pos;
  while (pos < s.size() && IsTokenChar(s[pos])) ++pos;
  const std::string_view subtype = s.substr(start, pos - start);
  if (subtype.empty()) {
    return Invalid(Cat(what, " ", Quote(s), ": expected type/subtype"));
  }
  MediaType result;
  result.type = Lower(type);
  result.subtype = Lower(subtype);
  if (absl::Status st = ParseParameters(s, pos, what, &result.parameters); !st.ok()) return st;
  return result;
}

// A decimal number of at most 10 digits (no sign, no blanks); nullopt otherwise.
std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

absl::StatusOr<CSeq> ParseCSeq(std::string_view value) {
  // CSeq = "CSeq" HCOLON 1*DIGIT LWS Method
  const std::string_view s = TrimWsp(value);
  size_t pos = 0;
  while (pos < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
  const std::string_view digits = s.substr(0, pos);
  const std::string_view method = TrimWsp(s.substr(pos));
  if (digits.empty() || pos >= s.size() || !IsWsp(s[pos]) || !IsToken(method)) {
    return Invalid(Cat("CSeq ", Quote(s), ": expected a number and a method"));
  }
  const std::optional<uint64_t> number = ParseDecimal(digits);
  if (!number.has_value() || *number > kMaxCSeq) {
    return Invalid(Cat("CSeq ", Quote(digits), " is larger than 2^31-1"));
  }
  return CSeq{static_cast<uint32_t>(*number), std::string(method)};
}

// Request-Line = Method SP Request-URI SP SIP-Version; Status-Line = SIP-Version SP Status-Code
// SP Reason-Phrase (RFC 3261 section 7.1, 7.2). Single SPs only (RFC 4475 section 3.1.2.9).
absl::Status ParseStartLine(std::string_view line, SipMessage* m) {
  constexpr std::string_view kVersion = "SIP/2.0";
  if (StartsWithIgnoreCase(line, "SIP/")) {
    const size_t sp = line.find(' ');
    const std::string_view version = line.substr(0, sp);
    if (!EqualsIgnoreCase(version, kVersion)) {
      return Invalid(Cat("line 1: unsupported SIP version ", Quote(version)));
    }
    const std::string_view rest = sp == std::string_view::npos ? "" : line.substr(sp + 1);
    if (rest.size() < 3 || !std::all_of(rest.begin(), rest.begin() + 3, [](char c) {
          return absl::ascii_isdigit(static_cast<unsigned char>(c));
        }) || (rest.size() > 3 && rest[3] != ' ')) {
      return Invalid(Cat("line 1: status line ", Quote(line),
                                  " must be 'SIP/2.0 <3-digit code> <reason>'"));
    }
    const int code = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
    if (code < 100 || code > 699) {
      return Invalid(Cat("line 1: status code ", code, " is outside 100..699"));
    }
    m->is_request = false;
    m->status_code = code;
    m->reason_phrase = rest.size() > 4 ? std::string(rest.substr(4)) : "";
    return absl::OkStatus();
  }
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  const bool three_parts = sp2 != std::string_view::npos &&
                           line.find(' ', sp2 + 1) == std::string_view::npos;
  if (!three_parts) {
    return Invalid(Cat("line 1: request line ", Quote(line),
                                " must be 'METHOD Request-URI SIP/2.0' with single spaces"));
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) return Invalid(Cat("line 1: bad method ", Quote(method)));
  if (!EqualsIgnoreCase(version, kVersion)) {
    return Invalid(Cat("line 1: unsupported SIP version ", Quote(version)));
  }
  if (uri.empty() || uri.front() == '<' || HasWhitespaceOrControl(uri) ||
      uri.find(':') == std::string_view::npos) {
    return Invalid(Cat("line 1: bad Request-URI ", Quote(uri)));
  }
  m->is_request = true;
  m->method = std::string(method);
  m->request_uri = std::string(uri);
  return absl::OkStatus();
}

// The single header `name` (long form): an error when it appears more than once, nullptr when it
// does not appear.
absl::StatusOr<const SipHeader*> SingleHeader(const std::vector<SipHeader>& headers,
                                              std::string_view name, std::string_view display) {
  const SipHeader* found = nullptr;
  for (const SipHeader& h : headers) {
    if (h.full_name != name) continue;
    if (found != nullptr) return Invalid(Cat("more than one ", display, " header"));
    found = &h;
  }
  return found;
}

absl::StatusOr<const SipHeader*> RequiredHeader(const std::vector<SipHeader>& headers,
                                                std::string_view name, std::string_view display) {
  absl::StatusOr<const SipHeader*> h = SingleHeader(headers, name, display);
  if (h.ok() && *h == nullptr) return Invalid(Cat("missing ", display, " header"));
  return h;
}

// The content codings of a Content-Encoding value (comma-separated); identity is no coding.
absl::Status CheckIdentityEncoding(std::string_view encoding, std::string_view where) {
  std::string_view rest = encoding;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view one = TrimWsp(rest.substr(0, comma));
    if (!one.empty() && one != "identity") {
      return Invalid(Cat(where, "unsupported Content-Encoding ", one));
    }
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
  }
  return absl::OkStatus();
}

// NotFound inside this file (so that a multipart search moves on to the next part); ExtractSdp
// turns it into InvalidArgument.
absl::Status NoSdp() { return absl::NotFoundError("the message has no application/sdp body"); }

absl::StatusOr<std::string> SdpOfEntity(const MediaType& type, std::string_view body, int depth,
                                        std::string_view where);

// Whether `line` is "--boundary" (+ "--" when `*close`) followed only by transport padding
// (RFC 2046 section 5.1.1: dash-boundary transport-padding CRLF).
bool IsDelimiterLine(std::string_view line, std::string_view boundary, bool* close) {
  if (line.size() < boundary.size() + 2 || line.substr(0, 2) != "--" ||
      line.substr(2, boundary.size()) != boundary) {
    return false;
  }
  std::string_view rest = line.substr(boundary.size() + 2);
  *close = rest.substr(0, 2) == "--";
  if (*close) rest.remove_prefix(2);
  return TrimWsp(rest).empty();
}

// RFC 2046 section 5.1: the first application/sdp part, depth first.
absl::StatusOr<std::string> SdpOfMultipart(const MediaType& type, std::string_view body,
                                           int depth, std::string_view where) {
  const std::string kind = Cat(type.type, "/", type.subtype);
  const std::optional<std::string> boundary = type.Parameter("boundary");
  if (!boundary.has_value()) {
    return Invalid(Cat(where, kind, " without a boundary parameter"));
  }
  if (boundary->empty() || boundary->size() > kMaxBoundaryLength) {
    return Invalid(Cat(where, kind, " boundary must be 1 to 70 characters"));
  }
  if (depth > kMaxMultipartDepth) {
    return Invalid(Cat(where, "multipart nested deeper than ", kMaxMultipartDepth,
                                " levels"));
  }
  // Delimiter lines, each with where the line starts and where the next line starts.
  size_t pos = 0;
  size_t part_start = std::string_view::npos;  // npos while in the preamble
  size_t parts = 0;
  while (pos < body.size()) {
    const size_t line_start = pos;
    bool had_end = false;
    const std::string_view line = NextLine(body, &pos, &had_end);
    bool close = false;
    if (!IsDelimiterLine(line, *boundary, &close)) continue;
    if (part_start != std::string_view::npos) {
      // The line end before the delimiter belongs to the delimiter (RFC 2046: CRLF dash-boundary).
      size_t part_end = line_start;
      if (part_end > part_start && body[part_end - 1] == '\n') --part_end;
      if (part_end > part_start && body[part_end - 1] == '\r') --part_end;
      ++parts;
      const std::string part_where = Cat(where, "part ", parts, ": ");
      const std::string_view part = body.substr(part_start, part_end - part_start);
      size_t body_start = 0;
      std::vector<SipHeader> headers;
      if (absl::Status st = ParseHeaderLines(part, &body_start, 1, part_where, &headers);
          !st.ok()) {
        return st;
      }
      MediaType part_type{"text", "plain", {{"charset", "us-ascii"}}};
      std::string encoding;
      for (const SipHeader& h : headers) {
        if (h.full_name == "content-type") {
          absl::StatusOr<MediaType> t = ParseMediaTypeFor(h.value, "Content-Type");
          if (!t.ok()) return Invalid(Cat(part_where, t.status().message()));
          part_type = *std::move(t);
        } else if (h.full_name == "content-encoding") {
          encoding = Lower(h.value);
        } else if (h.full_name == "content-transfer-encoding") {
          const std::string cte = Lower(h.value);
          if (cte != "7bit" && cte != "8bit" && cte != "binary") {
            // Only a decoder could reach the SDP; control does not carry one.
            if (part_type.Is("application", "sdp") || part_type.type == "multipart") {
              return Invalid(
                  Cat(part_where, "unsupported Content-Transfer-Encoding ", cte));
            }
          }
        }
      }
      const bool interesting = part_type.Is("application", "sdp") || part_type.type == "multipart";
      if (interesting) {
        if (absl::Status st = CheckIdentityEncoding(encoding, part_where); !st.ok()) return st;
        absl::StatusOr<std::string> sdp =
            SdpOfEntity(part_type, part.substr(body_start), depth + 1, part_where);
        if (sdp.ok() && part_type.Is("application", "sdp") && !sdp->empty() &&
            sdp->back() != '\n') {
          // The line end before a delimiter belongs to the delimiter (RFC 2046), so an SDP part
          // loses its last CRLF unless the sender doubled it; SDP lines end with one (RFC 8866).
          sdp->append("\r\n");
        }
        if (sdp.ok() || !absl::IsNotFound(sdp.status())) {
          return sdp;
        }
      }
      if (parts >= kMaxMultipartParts) {
        return Invalid(Cat(where, kind, " with more than ", kMaxMultipartParts, " parts"));
      }
    }
    if (close) return NoSdp();
    part_start = pos;
    if (!had_end) break;
  }
  if (part_start == std::string_view::npos) {
    return Invalid(Cat(where, kind, " body without a --", *boundary, " delimiter line"));
  }
  return Invalid(Cat(where, kind, " body without the closing --", *boundary, "--"));
}

absl::StatusOr<std::string> SdpOfEntity(const MediaType& type, std::string_view body, int depth,
                                        std::string_view where) {
  if (type.Is("application", "sdp")) return std::string(body);
  if (type.type == "multipart") return SdpOfMultipart(type, body, depth, where);
  return NoSdp();
}

// Blank lines before the content: a file written by hand often starts with one.
std::string_view SkipLeadingBlankLines(std::string_view body) {
  size_t pos = 0;
  while (pos < body.size()) {
    size_t next = pos;
    bool had_end = false;
    const std::string_view line = NextLine(body, &next, &had_end);
    if (!had_end || !TrimWsp(line).empty()) break;
    pos = next;
  }
  return body.substr(pos);
}

}  // namespace

bool MediaType::Is(std::string_view type_lower, std::string_view subtype_lower) const {
  return type == type_lower && subtype == subtype_lower;
}

std::optional<std::string> MediaType::Parameter(std::string_view name) const {
  for (const auto& [n, v] : parameters) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

absl::StatusOr<MediaType> ParseMediaType(std::string_view value) {
  return ParseMediaTypeFor(value, "Content-Type");
}

absl::StatusOr<NameAddress> ParseNameAddress(std::string_view value) {
  return ParseNameAddressFor(value, "name-addr");
}

std::string CanonicalHeaderName(std::string_view name) {
  return std::string(LongFormOf(Lower(name)));
}

std::vector<std::string_view> SipMessage::HeaderValues(std::string_view name) const {
  const std::string canonical = CanonicalHeaderName(name);
  std::vector<std::string_view> values;
  for (const SipHeader& h : headers) {
    if (h.full_name == canonical) values.emplace_back(h.value);
  }
  return values;
}

std::optional<std::string_view> SipMessage::Header(std::string_view name) const {
  const std::string canonical = CanonicalHeaderName(name);
  for (const SipHeader& h : headers) {
    if (h.full_name == canonical) return std::string_view(h.value);
  }
  return std::nullopt;
}

absl::StatusOr<SipMessage> ParseSipMessage(std::string_view bytes) {
  if (bytes.size() > kMaxSipMessageBytes) {
    return Invalid(Cat("SIP message of ", bytes.size(), " bytes (at most ",
                                kMaxSipMessageBytes, ")"));
  }
  SipMessage m;
  size_t pos = 0;
  bool had_end = false;
  const std::string_view start_line = NextLine(bytes, &pos, &had_end);
  if (start_line.empty()) return Invalid("line 1: empty start line");
  if (start_line.find('\r') != std::string_view::npos) {
    return Invalid("line 1: a CR that does not end the line");
  }
  if (absl::Status st = ParseStartLine(start_line, &m); !st.ok()) return st;
  // Without an empty line the headers run to the end, and so the body is empty.
  if (absl::Status st = ParseHeaderLines(bytes, &pos, 2, "", &m.headers); !st.ok()) return st;
  const std::string_view rest = bytes.substr(pos);

  // Content-Length: every copy must agree (RFC 4475 section 3.3.9); without one the body is the
  // rest of the datagram (RFC 3261 section 18.3).
  std::optional<uint64_t> content_length;
  for (const SipHeader& h : m.headers) {
    if (h.full_name != "content-length") continue;
    const std::optional<uint64_t> n = ParseDecimal(h.value);
    if (!n.has_value()) {
      return Invalid(Cat("Content-Length ", Quote(h.value), " is not a number"));
    }
    if (content_length.has_value() && *content_length != *n) {
      return Invalid(Cat("Content-Length given twice with different values (",
                                  *content_length, " and ", *n, ")"));
    }
    content_length = n;
  }
  if (content_length.has_value()) {
    if (*content_length > rest.size()) {
      return Invalid(Cat("Content-Length ", *content_length, " but the body has ",
                                  rest.size(), " bytes"));
    }
    m.body = std::string(rest.substr(0, *content_length));
  } else {
    m.body = std::string(rest);
  }

  // RFC 3261 section 8.1.1: To, From, CSeq and Call-ID are in every request and response.
  absl::StatusOr<const SipHeader*> call_id = RequiredHeader(m.headers, "call-id", "Call-ID");
  if (!call_id.ok()) return call_id.status();
  const std::string_view id = (*call_id)->value;
  if (id.empty() || HasWhitespaceOrControl(id)) {
    return Invalid(Cat("Call-ID ", Quote(id), " is empty or contains blanks"));
  }
  m.call_id = std::string(id);
  absl::StatusOr<const SipHeader*> from = RequiredHeader(m.headers, "from", "From");
  if (!from.ok()) return from.status();
  absl::StatusOr<NameAddress> from_value = ParseNameAddressFor((*from)->value, "From");
  if (!from_value.ok()) return from_value.status();
  m.from = *std::move(from_value);
  absl::StatusOr<const SipHeader*> to = RequiredHeader(m.headers, "to", "To");
  if (!to.ok()) return to.status();
  absl::StatusOr<NameAddress> to_value = ParseNameAddressFor((*to)->value, "To");
  if (!to_value.ok()) return to_value.status();
  m.to = *std::move(to_value);
  absl::StatusOr<const SipHeader*> cseq = RequiredHeader(m.headers, "cseq", "CSeq");
  if (!cseq.ok()) return cseq.status();
  absl::StatusOr<CSeq> cseq_value = ParseCSeq((*cseq)->value);
  if (!cseq_value.ok()) return cseq_value.status();
  m.cseq = *std::move(cseq_value);
  // RFC 3261 section 8.1.1.5; RFC 4475 sections 3.1.2.17 and 3.1.2.18.
  if (m.is_request && m.cseq.method != m.method) {
    return Invalid(Cat("CSeq method ", Quote(m.cseq.method),
                                " does not match the request method ", Quote(m.method)));
  }

  absl::StatusOr<const SipHeader*> content_type =
      SingleHeader(m.headers, "content-type", "Content-Type");
  if (!content_type.ok()) return content_type.status();
  if (*content_type != nullptr) {
    absl::StatusOr<MediaType> t = ParseMediaTypeFor((*content_type)->value, "Content-Type");
    if (!t.ok()) return t.status();
    m.content_type = *std::move(t);
  }
  for (const SipHeader& h : m.headers) {
    if (h.full_name != "content-encoding") continue;
    if (!m.content_encoding.empty()) m.content_encoding += ", ";
    m.content_encoding += Lower(h.value);
  }
  return m;
}

absl::StatusOr<std::string> ExtractSdp(const SipMessage& message) {
  if (absl::Status st = CheckIdentityEncoding(message.content_encoding, ""); !st.ok()) return st;
  if (!message.content_type.has_value()) {
    return Invalid(message.body.empty()
                       ? std::string(NoSdp().message())
                       : Cat("the message has no application/sdp body (a ", message.body.size(),
                             "-byte body without Content-Type)"));
  }
  absl::StatusOr<std::string> sdp = SdpOfEntity(*message.content_type, message.body, 1, "");
  if (absl::IsNotFound(sdp.status())) return Invalid(std::string(sdp.status().message()));
  return sdp;
}

SipContext ContextOf(const SipMessage& message) {
  SipContext c;
  c.call_id = message.call_id;
  c.from_tag = message.from.tag;
  c.to_tag = message.to.tag;
  c.cseq = message.cseq.number;
  c.cseq_method = message.cseq.method;
  c.method = message.method;
  c.status_code = message.status_code;
  return c;
}

bool LooksLikeSipMessage(std::string_view body) {
  const std::string_view text = SkipLeadingBlankLines(body);
  if (StartsWithIgnoreCase(text, "SIP/")) return true;
  size_t pos = 0;
  bool had_end = false;
  const std::string_view line = NextLine(text, &pos, &had_end);
  const size_t sp = line.find(' ');
  if (sp == std::string_view::npos || !IsToken(line.substr(0, sp))) return false;
  // "METHOD ... SIP/x.y", or an upper-case method (so that a request line missing its version
  // still gets the SIP parser's error, not "expected SDP").
  const std::string_view method = line.substr(0, sp);
  return Lower(line.substr(sp)).find(" sip/") != std::string::npos ||
         std::all_of(method.begin(), method.end(),
                     [](char c) { return absl::ascii_isupper(static_cast<unsigned char>(c)); });
}

absl::StatusOr<ExtractedSdp> ExtractFromBody(std::string_view body) {
  const std::string_view text = SkipLeadingBlankLines(body);
  if (LooksLikeSipMessage(text)) {
    absl::StatusOr<SipMessage> message = ParseSipMessage(text);
    if (!message.ok()) {
      return Invalid(Cat("SIP message: ", message.status().message()));
    }
    absl::StatusOr<std::string> sdp = ExtractSdp(*message);
    if (!sdp.ok()) return Invalid(Cat("SIP message: ", sdp.status().message()));
    return ExtractedSdp{*std::move(sdp), ContextOf(*message)};
  }
  if (text.substr(0, 2) == "v=") return ExtractedSdp{std::string(text), std::nullopt};
  if (text.empty()) {
    return Invalid("empty body: expected SDP (starting with \"v=\") or a SIP message");
  }
  size_t pos = 0;
  bool had_end = false;
  return Invalid(Cat("expected SDP (starting with \"v=\") or a SIP request/response, "
                              "got ",
                              Quote(NextLine(text, &pos, &had_end))));
}

absl::StatusOr<std::string> SdpFromBody(std::string_view body) {
  absl::StatusOr<ExtractedSdp> extracted = ExtractFromBody(body);
  if (!extracted.ok()) return extracted.status();
  return std::move(extracted->sdp);
}

}  // namespace t38relay::control::sip
