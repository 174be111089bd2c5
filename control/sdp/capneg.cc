// RFC 5939 capability negotiation: tcap/acap/pcfg/acfg/csup/creq codecs and pcfg resolution.
#include "control/sdp/capneg.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/sdp/sdp_text.h"

namespace t38relay::control::sdp {
namespace {

using internal::Append;
using internal::Cat;
using internal::ConsumePrefix;
using internal::IsToken;
using internal::NamedError;
using internal::ParseDecimal;
using internal::Split;
using internal::StripBlanks;
using internal::StripLeadingBlanks;
using internal::Words;

absl::StatusOr<uint32_t> CapNumber(std::string_view attr, std::string_view text) {
  std::optional<uint32_t> n = ParseDecimal(text, kMaxCapNumber);
  if (!n || *n == 0) {
    return NamedError(attr, Cat("number '", text, "' is not 1..", kMaxCapNumber));
  }
  return *n;
}

// [<delete>:]<n>[,<n>...][,[<n>,...]]... (RFC 5939 section 3.5.1 attribute-config)
absl::StatusOr<AttributeConfig> ParseAttributeConfig(std::string_view attr, std::string_view text) {
  AttributeConfig config;
  if (ConsumePrefix(&text, "-")) {
    size_t colon = text.find(':');
    std::string_view which = text.substr(0, colon);
    if (which == "m") {
      config.delete_attributes = DeleteAttributes::kMedia;
    } else if (which == "s") {
      config.delete_attributes = DeleteAttributes::kSession;
    } else if (which == "ms") {
      config.delete_attributes = DeleteAttributes::kMediaAndSession;
    } else {
      return NamedError(attr, Cat("delete marker '-", which, "' is not -m, -s or -ms"));
    }
    if (colon == std::string_view::npos) return config;  // a=-m deletes and adds nothing
    text.remove_prefix(colon + 1);
  }
  // Split on commas outside brackets.
  size_t pos = 0;
  while (pos <= text.size()) {
    if (pos < text.size() && text[pos] == '[') {
      size_t close = text.find(']', pos);
      if (close == std::string_view::npos) {
        return NamedError(attr, Cat("'[' without ']' in '", text, "'"));
      }
      std::vector<uint32_t> group;
      for (std::string_view n : Split(text.substr(pos + 1, close - pos - 1), ',', false)) {
        absl::StatusOr<uint32_t> num = CapNumber(attr, n);
        if (!num.ok()) return num.status();
        group.push_back(*num);
      }
      config.optional_groups.push_back(std::move(group));
      pos = close + 1;
    } else {
      size_t end = std::min(text.find(',', pos), text.size());
      absl::StatusOr<uint32_t> num = CapNumber(attr, text.substr(pos, end - pos));
      if (!num.ok()) return num.status();
      config.mandatory.push_back(*num);
      pos = end;
    }
    if (pos >= text.size()) break;
    if (text[pos] != ',') {
      return NamedError(attr, Cat("expected ',' at '", text.substr(pos), "'"));
    }
    ++pos;
    if (pos == text.size()) return NamedError(attr, "list ends in ','");
  }
  return config;
}

std::string FormatAttributeConfig(const AttributeConfig& config) {
  std::string out;
  switch (config.delete_attributes) {
    case DeleteAttributes::kNone:
      break;
    case DeleteAttributes::kMedia:
      out = "-m:";
      break;
    case DeleteAttributes::kSession:
      out = "-s:";
      break;
    case DeleteAttributes::kMediaAndSession:
      out = "-ms:";
      break;
  }
  std::vector<std::string> items;
  for (uint32_t n : config.mandatory) items.push_back(Cat(n));
  for (const std::vector<uint32_t>& group : config.optional_groups) {
    items.push_back(Cat("[", absl::StrJoin(group, ","), "]"));
  }
  if (items.empty() && !out.empty()) out.pop_back();  // "-m" alone
  Append(&out, absl::StrJoin(items, ","));
  return out;
}

// Splits "<number> <rest>" off an attribute value.
absl::StatusOr<std::pair<uint32_t, std::vector<std::string_view>>> NumberAndWords(
    std::string_view attr, std::string_view value) {
  std::vector<std::string_view> words = Words(value);
  if (words.empty()) return NamedError(attr, "needs a number");
  absl::StatusOr<uint32_t> n = CapNumber(attr, words[0]);
  if (!n.ok()) return n.status();
  words.erase(words.begin());
  return std::make_pair(*n, std::move(words));
}

}  // namespace

absl::StatusOr<TransportCaps> ParseTcap(std::string_view value) {
  auto parsed = NumberAndWords(kTcapAttr, value);
  if (!parsed.ok()) return parsed.status();
  auto& [first, protos] = *parsed;
  if (protos.empty()) return NamedError(kTcapAttr, "needs <number> <proto>...");
  if (protos.size() - 1 > kMaxCapNumber - first) {
    return NamedError(kTcapAttr, Cat("numbers beyond ", kMaxCapNumber));
  }
  TransportCaps caps;
  caps.first_number = first;
  for (std::string_view p : protos) {
    // proto = token *("/" token) (RFC 8866 section 9)
    for (std::string_view part : Split(p, '/', false)) {
      if (!IsToken(part)) return NamedError(kTcapAttr, Cat("proto '", p, "' is not <token>/<token>..."));
    }
    caps.protos.emplace_back(p);
  }
  return caps;
}

std::string FormatTcap(const TransportCaps& caps) {
  return Cat(caps.first_number, " ", absl::StrJoin(caps.protos, " "));
}

absl::StatusOr<AttributeCap> ParseAcap(std::string_view value) {
  value = StripLeadingBlanks(value);
  size_t space = value.find_first_of(" \t");
  if (space == std::string_view::npos) return NamedError(kAcapAttr, "needs <number> <attribute>");
  absl::StatusOr<uint32_t> n = CapNumber(kAcapAttr, value.substr(0, space));
  if (!n.ok()) return n.status();
  std::string_view par = StripLeadingBlanks(value.substr(space));
  size_t colon = par.find(':');
  std::string_view name = par.substr(0, colon);
  if (!IsToken(name)) {
    return NamedError(kAcapAttr, Cat("attribute name '", name, "' is not a token"));
  }
  AttributeCap cap;
  cap.number = *n;
  cap.attribute.name = std::string(name);
  if (colon != std::string_view::npos) cap.attribute.value = std::string(par.substr(colon + 1));
  return cap;
}

std::string FormatAcap(const AttributeCap& cap) {
  std::string out = Cat(cap.number, " ", cap.attribute.name);
  if (cap.attribute.value) Append(&out, ":", *cap.attribute.value);
  return out;
}

absl::StatusOr<PotentialConfig> ParsePcfg(std::string_view value) {
  auto parsed = NumberAndWords(kPcfgAttr, value);
  if (!parsed.ok()) return parsed.status();
  PotentialConfig config;
  config.number = parsed->first;
  for (std::string_view word : parsed->second) {
    if (ConsumePrefix(&word, "t=")) {
      if (!config.transports.empty()) return NamedError(kPcfgAttr, "second t= list");
      for (std::string_view n : Split(word, '|', false)) {
        absl::StatusOr<uint32_t> num = CapNumber(kPcfgAttr, n);
        if (!num.ok()) return num.status();
        config.transports.push_back(*num);
      }
    } else if (ConsumePrefix(&word, "a=")) {
      if (!config.attribute_alternatives.empty()) return NamedError(kPcfgAttr, "second a= list");
      for (std::string_view alt : Split(word, '|', false)) {
        absl::StatusOr<AttributeConfig> ac = ParseAttributeConfig(kPcfgAttr, alt);
        if (!ac.ok()) return ac.status();
        config.attribute_alternatives.push_back(*std::move(ac));
      }
    } else if (word.find('=') != std::string_view::npos) {
      config.extensions.emplace_back(word);  // extension-config-list, e.g. "+x=1"
    } else {
      return NamedError(kPcfgAttr, Cat("'", word, "' is not t=, a= or <ext>="));
    }
  }
  return config;
}

std::string FormatPcfg(const PotentialConfig& config) {
  std::string out = Cat(config.number);
  if (!config.transports.empty()) {
    Append(&out, " t=", absl::StrJoin(config.transports, "|"));
  }
  if (!config.attribute_alternatives.empty()) {
    std::vector<std::string> alts;
    for (const AttributeConfig& a : config.attribute_alternatives) {
      alts.push_back(FormatAttributeConfig(a));
    }
    Append(&out, " a=", absl::StrJoin(alts, "|"));
  }
  for (const std::string& e : config.extensions) Append(&out, " ", e);
  return out;
}

absl::StatusOr<ActualConfig> ParseAcfg(std::string_view value) {
  auto parsed = NumberAndWords(kAcfgAttr, value);
  if (!parsed.ok()) return parsed.status();
  ActualConfig config;
  config.number = parsed->first;
  for (std::string_view word : parsed->second) {
    if (ConsumePrefix(&word, "t=")) {
      if (config.transport) return NamedError(kAcfgAttr, "second t=");
      absl::StatusOr<uint32_t> num = CapNumber(kAcfgAttr, word);
      if (!num.ok()) return num.status();
      config.transport = *num;
    } else if (ConsumePrefix(&word, "a=")) {
      if (config.attributes) return NamedError(kAcfgAttr, "second a=");
      absl::StatusOr<AttributeConfig> ac = ParseAttributeConfig(kAcfgAttr, word);
      if (!ac.ok()) return ac.status();
      config.attributes = *std::move(ac);
    } else if (word.find('=') != std::string_view::npos) {
      config.extensions.emplace_back(word);
    } else {
      return NamedError(kAcfgAttr, Cat("'", word, "' is not t=, a= or <ext>="));
    }
  }
  return config;
}

std::string FormatAcfg(const ActualConfig& config) {
  std::string out = Cat(config.number);
  if (config.transport) Append(&out, " t=", *config.transport);
  if (config.attributes) Append(&out, " a=", FormatAttributeConfig(*config.attributes));
  for (const std::string& e : config.extensions) Append(&out, " ", e);
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseOptionTags(std::string_view value) {
  std::vector<std::string> tags;
  for (std::string_view tag : Split(value, ',', false)) {
    tag = StripBlanks(tag);
    if (!IsToken(tag)) {
      return absl::InvalidArgumentError(
          Cat("option tag '", tag, "' is not a token (csup/creq)"));
    }
    tags.emplace_back(tag);
  }
  return tags;
}

std::string FormatOptionTags(const std::vector<std::string>& tags) {
  return absl::StrJoin(tags, ",");
}

absl::StatusOr<std::vector<ResolvedConfig>> ResolvePotentialConfigs(
    const SessionDescription& session, const MediaDescription& media) {
  std::map<uint32_t, std::string> tcaps;
  std::map<uint32_t, Attribute> acaps;
  // Session level first, media level second so that media-level numbers shadow session-level ones.
  for (const std::vector<Attribute>* attrs : {&session.attributes, &media.attributes}) {
    for (const Attribute& a : *attrs) {
      if (a.name == kTcapAttr) {
        absl::StatusOr<TransportCaps> t = ParseTcap(a.value.value_or(""));
        if (!t.ok()) return t.status();
        for (size_t i = 0; i < t->protos.size(); ++i) {
          tcaps[t->first_number + static_cast<uint32_t>(i)] = t->protos[i];
        }
      } else if (a.name == kAcapAttr) {
        absl::StatusOr<AttributeCap> c = ParseAcap(a.value.value_or(""));
        if (!c.ok()) return c.status();
        acaps[c->number] = c->attribute;
      }
    }
  }
  std::vector<PotentialConfig> configs;
  for (const Attribute* a : media.FindAttributes(kPcfgAttr)) {
    absl::StatusOr<PotentialConfig> p = ParsePcfg(a->value.value_or(""));
    if (!p.ok()) return p.status();
    configs.push_back(*std::move(p));
  }
  std::stable_sort(configs.begin(), configs.end(),
                   [](const PotentialConfig& a, const PotentialConfig& b) {
                     return a.number < b.number;
                   });
  std::vector<ResolvedConfig> out;
  for (const PotentialConfig& p : configs) {
    std::vector<std::optional<uint32_t>> transports(p.transports.begin(), p.transports.end());
    if (transports.empty()) transports.push_back(std::nullopt);
    std::vector<AttributeConfig> alternatives = p.attribute_alternatives;
    if (alternatives.empty()) alternatives.emplace_back();
    for (const std::optional<uint32_t>& t : transports) {
      for (const AttributeConfig& alt : alternatives) {
        if (out.size() >= kMaxResolvedConfigs) {
          return NamedError(kPcfgAttr, Cat("more than ", kMaxResolvedConfigs,
                                               " potential configurations"));
        }
        ResolvedConfig r;
        r.config_number = p.number;
        r.transport_number = t;
        r.proto = media.proto;
        if (t) {
          auto it = tcaps.find(*t);
          if (it == tcaps.end()) {
            return NamedError(kPcfgAttr, Cat(p.number, " refers to tcap ", *t,
                                                 ", which is not defined"));
          }
          r.proto = it->second;
        }
        r.delete_attributes = alt.delete_attributes;
        auto add = [&](uint32_t n, std::vector<Attribute>& into) -> absl::Status {
          auto it = acaps.find(n);
          if (it == acaps.end()) {
            return NamedError(kPcfgAttr, Cat(p.number, " refers to acap ", n,
                                                 ", which is not defined"));
          }
          r.attribute_numbers.push_back(n);
          into.push_back(it->second);
          return absl::OkStatus();
        };
        for (uint32_t n : alt.mandatory) {
          if (absl::Status s = add(n, r.attributes); !s.ok()) return s;
        }
        for (const std::vector<uint32_t>& group : alt.optional_groups) {
          for (uint32_t n : group) {
            if (absl::Status s = add(n, r.optional_attributes); !s.ok()) return s;
          }
        }
        out.push_back(std::move(r));
      }
    }
  }
  return out;
}

}  // namespace t38relay::control::sdp
