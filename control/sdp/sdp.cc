// SDP (RFC 8866) parser and writer, and attribute lookups on the model.
#include "control/sdp/sdp.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "control/sdp/sdp_text.h"

namespace t38relay::control::sdp {
namespace {

using internal::Append;
using internal::Cat;
using internal::EqualsIgnoreCase;
using internal::IsDigits;
using internal::IsToken;
using internal::Split;

struct Line {
  size_t number;  // 1-based, counted in the caller's text
  std::string_view text;
};

absl::Status LineError(size_t number, std::string_view what) {
  return absl::InvalidArgumentError(Cat("line ", number, ": ", what));
}

// Splits on LF (dropping a CR right before it); a missing final line end and trailing blank lines
// are accepted. Checks the byte and line caps and control characters.
absl::StatusOr<std::vector<Line>> SplitLines(std::string_view text) {
  if (text.size() > kMaxSdpBytes) {
    return absl::InvalidArgumentError(Cat("SDP is ", text.size(),
                                                   " bytes, more than the ", kMaxSdpBytes,
                                                   " allowed"));
  }
  std::vector<Line> lines;
  size_t pos = 0;
  size_t number = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++number;
    if (number > kMaxSdpLines) {
      return absl::InvalidArgumentError(
          Cat("SDP has more than ", kMaxSdpLines, " lines"));
    }
    for (size_t i = 0; i < line.size(); ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        return LineError(number, absl::StrFormat("control character 0x%02x at column %d", c,
                                                 i + 1));
      }
    }
    lines.push_back({number, line});
    pos = end + 1;
  }
  while (!lines.empty() && lines.back().text.empty()) lines.pop_back();
  return lines;
}

std::vector<std::string_view> Fields(std::string_view value) {
  return Split(value, ' ', true);
}

absl::StatusOr<Origin> ParseOrigin(const Line& line, std::string_view value) {
  std::vector<std::string_view> f = Fields(value);
  if (f.size() != 6) {
    return LineError(line.number,
                     "o= needs <username> <sess-id> <sess-version> <nettype> <addrtype> <address>");
  }
  if (!IsDigits(f[1], 20)) {
    return LineError(line.number, Cat("o= sess-id '", f[1], "' is not a number"));
  }
  if (!IsDigits(f[2], 20)) {
    return LineError(line.number, Cat("o= sess-version '", f[2], "' is not a number"));
  }
  return Origin{std::string(f[0]), std::string(f[1]), std::string(f[2]),
                std::string(f[3]), std::string(f[4]), std::string(f[5])};
}

absl::StatusOr<Connection> ParseConnection(const Line& line, std::string_view value) {
  std::vector<std::string_view> f = Fields(value);
  if (f.size() != 3) {
    return LineError(line.number, "c= needs <nettype> <addrtype> <connection-address>");
  }
  return Connection{std::string(f[0]), std::string(f[1]), std::string(f[2])};
}

absl::StatusOr<Bandwidth> ParseBandwidth(const Line& line, std::string_view value) {
  size_t colon = value.find(':');
  if (colon == std::string_view::npos || !IsToken(value.substr(0, colon)) ||
      !IsDigits(value.substr(colon + 1), 20)) {
    return LineError(line.number, "b= needs <bwtype>:<bandwidth> (a number)");
  }
  return Bandwidth{std::string(value.substr(0, colon)), std::string(value.substr(colon + 1))};
}

absl::StatusOr<Timing> ParseTiming(const Line& line, std::string_view value) {
  std::vector<std::string_view> f = Fields(value);
  if (f.size() != 2 || !IsDigits(f[0], 20) || !IsDigits(f[1], 20)) {
    return LineError(line.number, "t= needs <start-time> <stop-time> (numbers)");
  }
  return Timing{std::string(f[0]), std::string(f[1]), {}};
}

absl::StatusOr<uint16_t> ParsePortNumber(const Line& line, std::string_view what,
                                         std::string_view text) {
  std::optional<uint32_t> n = internal::ParseDecimal(text, 65535);
  if (!n) return LineError(line.number, Cat("m= ", what, " '", text, "' is not 0..65535"));
  return static_cast<uint16_t>(*n);
}

absl::StatusOr<MediaDescription> ParseMediaLine(const Line& line, std::string_view value) {
  std::vector<std::string_view> f = Fields(value);
  if (f.size() < 4) {
    return LineError(line.number, "m= needs <media> <port> <proto> <fmt>...");
  }
  MediaDescription m;
  if (!IsToken(f[0])) {
    return LineError(line.number, Cat("m= media '", f[0], "' is not a token"));
  }
  m.media = std::string(f[0]);
  std::string_view port = f[1];
  size_t slash = port.find('/');
  std::string_view number = port.substr(0, slash);
  if (number == "$") {
    m.port = std::nullopt;  // H.248 CHOOSE
  } else {
    absl::StatusOr<uint16_t> p = ParsePortNumber(line, "port", number);
    if (!p.ok()) return p.status();
    m.port = *p;
  }
  if (slash != std::string_view::npos) {
    absl::StatusOr<uint16_t> c = ParsePortNumber(line, "port count", port.substr(slash + 1));
    if (!c.ok()) return c.status();
    m.port_count = *c;
  }
  m.proto = std::string(f[2]);
  for (size_t i = 3; i < f.size(); ++i) m.formats.emplace_back(f[i]);
  return m;
}

absl::StatusOr<Attribute> ParseAttribute(const Line& line, std::string_view value) {
  size_t colon = value.find(':');
  Attribute a;
  std::string_view name = value.substr(0, colon);
  if (!IsToken(name)) {
    return LineError(line.number,
                     Cat("a= attribute name '", name, "' is not a token"));
  }
  a.name = std::string(name);
  if (colon != std::string_view::npos) a.value = std::string(value.substr(colon + 1));
  return a;
}

constexpr std::string_view kKnownTypes = "vosiuepcbtrzkam";

// One session description from `lines` (lines[0] must be v=).
absl::StatusOr<SessionDescription> ParseLines(const std::vector<Line>& lines,
                                              const ParseOptions& options) {
  if (lines.empty()) return absl::InvalidArgumentError("SDP is empty");
  if (lines[0].text != "v=0") return LineError(lines[0].number, "must be v=0");
  SessionDescription sd;
  MediaDescription* media = nullptr;
  size_t media_line = 0;
  bool seen_s = false;
  for (size_t idx = 1; idx < lines.size(); ++idx) {
    const Line& line = lines[idx];
    std::string_view t = line.text;
    if (t.empty()) return LineError(line.number, "empty line");
    if (t.size() < 2 || t[1] != '=' || !absl::ascii_islower(t[0])) {
      return LineError(line.number, "expected <type>=<value> with a lower-case type letter");
    }
    const char type = t[0];
    std::string_view value = t.substr(2);
    if (kKnownTypes.find(type) == std::string_view::npos) {
      return LineError(line.number, Cat("unknown type '", t.substr(0, 2), "'"));
    }
    auto duplicate = [&](std::string_view where) {
      return LineError(line.number, Cat("second ", t.substr(0, 2), " ", where));
    };
    if (type == 'm') {
      if (sd.media.size() >= kMaxMediaSections) {
        return LineError(line.number, Cat("more than ", kMaxMediaSections,
                                                   " media sections"));
      }
      absl::StatusOr<MediaDescription> m = ParseMediaLine(line, value);
      if (!m.ok()) return m.status();
      sd.media.push_back(*std::move(m));
      media = &sd.media.back();
      media_line = line.number;
      continue;
    }
    if (media != nullptr) {
      switch (type) {
        case 'i':
          if (media->information) return duplicate("in a media section");
          media->information = std::string(value);
          break;
        case 'c': {
          absl::StatusOr<Connection> c = ParseConnection(line, value);
          if (!c.ok()) return c.status();
          media->connections.push_back(*std::move(c));
          break;
        }
        case 'b': {
          absl::StatusOr<Bandwidth> b = ParseBandwidth(line, value);
          if (!b.ok()) return b.status();
          media->bandwidths.push_back(*std::move(b));
          break;
        }
        case 'k':
          if (media->key) return duplicate("in a media section");
          media->key = std::string(value);
          break;
        case 'a': {
          if (media->attributes.size() >= kMaxAttributesPerSection) {
            return LineError(line.number, Cat("more than ", kMaxAttributesPerSection,
                                                       " attributes in one section"));
          }
          absl::StatusOr<Attribute> a = ParseAttribute(line, value);
          if (!a.ok()) return a.status();
          media->attributes.push_back(*std::move(a));
          break;
        }
        default:
          return LineError(line.number,
                           Cat(t.substr(0, 2), " is not allowed in a media section (m= at line ",
                                        media_line, ")"));
      }
      continue;
    }
    switch (type) {
      case 'v':
        return duplicate("(v= comes once, first)");
      case 'o': {
        if (sd.origin) return duplicate("at session level");
        absl::StatusOr<Origin> o = ParseOrigin(line, value);
        if (!o.ok()) return o.status();
        sd.origin = *std::move(o);
        break;
      }
      case 's':
        if (seen_s) return duplicate("at session level");
        seen_s = true;
        sd.session_name = std::string(value);
        break;
      case 'i':
        if (sd.information) return duplicate("at session level");
        sd.information = std::string(value);
        break;
      case 'u':
        if (sd.uri) return duplicate("at session level");
        sd.uri = std::string(value);
        break;
      case 'e':
        sd.emails.emplace_back(value);
        break;
      case 'p':
        sd.phones.emplace_back(value);
        break;
      case 'c': {
        if (sd.connection) return duplicate("at session level");
        absl::StatusOr<Connection> c = ParseConnection(line, value);
        if (!c.ok()) return c.status();
        sd.connection = *std::move(c);
        break;
      }
      case 'b': {
        absl::StatusOr<Bandwidth> b = ParseBandwidth(line, value);
        if (!b.ok()) return b.status();
        sd.bandwidths.push_back(*std::move(b));
        break;
      }
      case 't': {
        absl::StatusOr<Timing> tm = ParseTiming(line, value);
        if (!tm.ok()) return tm.status();
        sd.timings.push_back(*std::move(tm));
        break;
      }
      case 'r':
        if (sd.timings.empty()) return LineError(line.number, "r= without a t= before it");
        sd.timings.back().repeats.emplace_back(value);
        break;
      case 'z':
        if (sd.time_zones) return duplicate("at session level");
        sd.time_zones = std::string(value);
        break;
      case 'k':
        if (sd.key) return duplicate("at session level");
        sd.key = std::string(value);
        break;
      case 'a': {
        if (sd.attributes.size() >= kMaxAttributesPerSection) {
          return LineError(line.number, Cat("more than ", kMaxAttributesPerSection,
                                                     " attributes in one section"));
        }
        absl::StatusOr<Attribute> a = ParseAttribute(line, value);
        if (!a.ok()) return a.status();
        sd.attributes.push_back(*std::move(a));
        break;
      }
      default:
        return LineError(line.number, Cat("unexpected ", t.substr(0, 2)));
    }
  }
  if (!options.allow_missing_origin) {
    if (!sd.origin) return absl::InvalidArgumentError("SDP has no o= line");
    if (!seen_s) return absl::InvalidArgumentError("SDP has no s= line");
  }
  return sd;
}

bool StartsWithType(std::string_view line) {
  return line.size() >= 2 && line[1] == '=' && absl::ascii_isalpha(line[0]);
}

bool IsFramingChar(char c) { return c == ' ' || c == '\t' || c == '{' || c == '}' || c == ','; }

// Strips H.248 text punctuation ("},R{", " } ,r { ", "}}}}}") from the start of a line; returns
// what remains (empty for a pure framing line).
std::string_view StripH248Framing(std::string_view line) {
  for (;;) {
    size_t i = 0;
    while (i < line.size() && IsFramingChar(line[i])) ++i;
    line.remove_prefix(i);
    if (StartsWithType(line)) return line;
    // A descriptor name before its '{': "R{", "Remote {", "L {".
    size_t j = 0;
    while (j < line.size() && absl::ascii_isalpha(line[j])) ++j;
    size_t k = j;
    while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) ++k;
    if (j > 0 && k < line.size() && line[k] == '{') {
      line.remove_prefix(k + 1);
      continue;
    }
    return line;
  }
}

bool Ieq(std::string_view a, std::string_view b) { return EqualsIgnoreCase(a, b); }

template <typename Attrs>
const Attribute* FindIn(const Attrs& attrs, std::string_view name) {
  for (const Attribute& a : attrs) {
    if (AttributeNameEquals(a.name, name)) return &a;
  }
  return nullptr;
}

template <typename Attrs>
std::vector<const Attribute*> FindAllIn(const Attrs& attrs, std::string_view name) {
  std::vector<const Attribute*> out;
  for (const Attribute& a : attrs) {
    if (AttributeNameEquals(a.name, name)) out.push_back(&a);
  }
  return out;
}

void SetIn(std::vector<Attribute>& attrs, std::string_view name,
           std::optional<std::string> value) {
  auto it = std::find_if(attrs.begin(), attrs.end(),
                         [&](const Attribute& a) { return AttributeNameEquals(a.name, name); });
  if (it == attrs.end()) {
    attrs.push_back({std::string(name), std::move(value)});
    return;
  }
  it->value = std::move(value);
  attrs.erase(std::remove_if(std::next(it), attrs.end(),
                             [&](const Attribute& a) { return AttributeNameEquals(a.name, name); }),
              attrs.end());
}

size_t RemoveIn(std::vector<Attribute>& attrs, std::string_view name) {
  const size_t before = attrs.size();
  attrs.erase(std::remove_if(attrs.begin(), attrs.end(),
                             [&](const Attribute& a) { return AttributeNameEquals(a.name, name); }),
              attrs.end());
  return before - attrs.size();
}

void AppendLine(std::string& out, char type, std::string_view value) {
  out.push_back(type);
  out.push_back('=');
  out.append(value);
  out.append("\r\n");
}

void AppendAttribute(std::string& out, const Attribute& a) {
  out.append("a=");
  out.append(a.name);
  if (a.value) {
    out.push_back(':');
    out.append(*a.value);
  }
  out.append("\r\n");
}

std::string FormatConnection(const Connection& c) {
  return Cat(c.net_type, " ", c.addr_type, " ", c.address);
}

std::string FormatBandwidth(const Bandwidth& b) { return Cat(b.type, ":", b.value); }

}  // namespace

std::optional<uint64_t> SessionVersionNumber(const Origin& origin) {
  return internal::ParseDecimal64(origin.session_version);
}

absl::StatusOr<SessionDescription> ParseSdp(std::string_view text) {
  return ParseSdp(text, ParseOptions{});
}

absl::StatusOr<SessionDescription> ParseSdp(std::string_view text, const ParseOptions& options) {
  absl::StatusOr<std::vector<Line>> lines = SplitLines(text);
  if (!lines.ok()) return lines.status();
  if (lines->empty()) return absl::InvalidArgumentError("SDP is empty");
  return ParseLines(*lines, options);
}

absl::StatusOr<std::vector<SessionDescription>> ParseH248Sdp(std::string_view text) {
  absl::StatusOr<std::vector<Line>> lines = SplitLines(text);
  if (!lines.ok()) return lines.status();
  std::vector<std::vector<Line>> blocks;
  for (const Line& raw : *lines) {
    Line line = raw;
    if (!StartsWithType(line.text)) {
      line.text = StripH248Framing(line.text);
      if (line.text.empty()) continue;  // punctuation only, or a blank line between blocks
    }
    if (line.text.starts_with("v=")) {
      blocks.emplace_back();
    } else if (blocks.empty()) {
      return LineError(line.number, "expected v= to start an SDP block");
    }
    blocks.back().push_back(line);
  }
  if (blocks.empty()) return absl::InvalidArgumentError("no SDP block (no v= line)");
  ParseOptions options;
  options.allow_missing_origin = true;
  std::vector<SessionDescription> out;
  for (const std::vector<Line>& block : blocks) {
    absl::StatusOr<SessionDescription> sd = ParseLines(block, options);
    if (!sd.ok()) return sd.status();
    out.push_back(*std::move(sd));
  }
  return out;
}

std::string WriteSdp(const SessionDescription& s) {
  std::string out;
  out.reserve(512);
  out.append("v=0\r\n");
  if (s.origin) {
    const Origin& o = *s.origin;
    AppendLine(out, 'o',
               Cat(o.username, " ", o.session_id, " ", o.session_version, " ",
                            o.net_type, " ", o.addr_type, " ", o.address));
  }
  if (s.session_name) AppendLine(out, 's', *s.session_name);
  if (s.information) AppendLine(out, 'i', *s.information);
  if (s.uri) AppendLine(out, 'u', *s.uri);
  for (const std::string& e : s.emails) AppendLine(out, 'e', e);
  for (const std::string& p : s.phones) AppendLine(out, 'p', p);
  if (s.connection) AppendLine(out, 'c', FormatConnection(*s.connection));
  for (const Bandwidth& b : s.bandwidths) AppendLine(out, 'b', FormatBandwidth(b));
  for (const Timing& t : s.timings) {
    AppendLine(out, 't', Cat(t.start, " ", t.stop));
    for (const std::string& r : t.repeats) AppendLine(out, 'r', r);
  }
  if (s.time_zones) AppendLine(out, 'z', *s.time_zones);
  if (s.key) AppendLine(out, 'k', *s.key);
  for (const Attribute& a : s.attributes) AppendAttribute(out, a);
  for (const MediaDescription& m : s.media) {
    std::string port = m.port ? Cat(*m.port) : std::string("$");
    if (m.port_count) Append(&port, "/", *m.port_count);
    AppendLine(out, 'm',
               Cat(m.media, " ", port, " ", m.proto, " ", absl::StrJoin(m.formats, " ")));
    if (m.information) AppendLine(out, 'i', *m.information);
    for (const Connection& c : m.connections) AppendLine(out, 'c', FormatConnection(c));
    for (const Bandwidth& b : m.bandwidths) AppendLine(out, 'b', FormatBandwidth(b));
    if (m.key) AppendLine(out, 'k', *m.key);
    for (const Attribute& a : m.attributes) AppendAttribute(out, a);
  }
  return out;
}

bool AttributeNameEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.size() >= 3 && Ieq(a.substr(0, 3), "t38")) return Ieq(a, b);
  return a == b;
}

bool IsSessionFallbackAttribute(std::string_view name) {
  return name == "fingerprint" || name == "setup" || name == "connection" || name == "tls-id" ||
         name == "ice-ufrag" || name == "ice-pwd" || name == "ice-options";
}

const Attribute* MediaDescription::FindAttribute(std::string_view name) const {
  return FindIn(attributes, name);
}
std::vector<const Attribute*> MediaDescription::FindAttributes(std::string_view name) const {
  return FindAllIn(attributes, name);
}
void MediaDescription::SetAttribute(std::string_view name, std::optional<std::string> value) {
  SetIn(attributes, name, std::move(value));
}
void MediaDescription::AddAttribute(std::string_view name, std::optional<std::string> value) {
  attributes.push_back({std::string(name), std::move(value)});
}
size_t MediaDescription::RemoveAttributes(std::string_view name) {
  return RemoveIn(attributes, name);
}

const Attribute* SessionDescription::FindAttribute(std::string_view name) const {
  return FindIn(attributes, name);
}
std::vector<const Attribute*> SessionDescription::FindAttributes(std::string_view name) const {
  return FindAllIn(attributes, name);
}
void SessionDescription::SetAttribute(std::string_view name, std::optional<std::string> value) {
  SetIn(attributes, name, std::move(value));
}
size_t SessionDescription::RemoveAttributes(std::string_view name) {
  return RemoveIn(attributes, name);
}

const Attribute* FindMediaOrSessionAttribute(const SessionDescription& session,
                                             const MediaDescription& media,
                                             std::string_view name) {
  if (const Attribute* a = media.FindAttribute(name)) return a;
  if (IsSessionFallbackAttribute(name)) return session.FindAttribute(name);
  return nullptr;
}

std::vector<const Attribute*> FindMediaOrSessionAttributes(const SessionDescription& session,
                                                           const MediaDescription& media,
                                                           std::string_view name) {
  std::vector<const Attribute*> out = media.FindAttributes(name);
  if (out.empty() && IsSessionFallbackAttribute(name)) out = session.FindAttributes(name);
  return out;
}

const Connection* EffectiveConnection(const SessionDescription& session,
                                      const MediaDescription& media) {
  if (!media.connections.empty()) return &media.connections.front();
  return session.connection ? &*session.connection : nullptr;
}

}  // namespace t38relay::control::sdp
