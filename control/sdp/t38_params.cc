// T.38 Annex D SDP attributes: read from an m=image section, formatted and written back.
#include "control/sdp/t38_params.h"

#include <array>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "control/sdp/sdp_text.h"

namespace t38relay::control::sdp {
namespace {

using internal::Append;
using internal::Cat;
using internal::EqualsIgnoreCase;
using internal::NamedError;
using internal::ParseDecimal;
using internal::Split;
using internal::StripBlanks;

bool IsT38Name(std::string_view name) {
  return name.size() >= 3 && EqualsIgnoreCase(name.substr(0, 3), "t38");
}

absl::StatusOr<std::string_view> NeedValue(std::string_view name, const Attribute& a) {
  if (!a.value) return NamedError(name, "needs a value");
  return StripBlanks(*a.value);
}

absl::StatusOr<uint32_t> Number(std::string_view name, const Attribute& a) {
  absl::StatusOr<std::string_view> v = NeedValue(name, a);
  if (!v.ok()) return v.status();
  std::optional<uint32_t> n = ParseDecimal(*v, 0xffffffffu);
  if (!n) return NamedError(name, Cat("'", *v, "' is not a number"));
  return *n;
}

absl::StatusOr<bool> Boolean(std::string_view name, const Attribute& a) {
  if (!a.value) return true;  // a=T38FaxFillBitRemoval alone means true
  std::string_view v = StripBlanks(*a.value);
  if (v == "1") return true;
  if (v == "0") return false;
  return NamedError(name, Cat("value '", v, "' must be absent, 0 or 1"));
}

template <typename Enum, size_t N>
absl::StatusOr<Enum> OneOf(std::string_view name, const Attribute& a,
                           const std::array<Enum, N>& values, std::string_view (*to_name)(Enum)) {
  absl::StatusOr<std::string_view> v = NeedValue(name, a);
  if (!v.ok()) return v.status();
  std::string choices;
  for (Enum e : values) {
    if (EqualsIgnoreCase(*v, to_name(e))) return e;
    Append(&choices, choices.empty() ? "" : ", ", to_name(e));
  }
  return NamedError(name, Cat("unknown value '", *v, "' (", choices, ")"));
}

constexpr std::array<T38RateManagement, 2> kRateValues = {T38RateManagement::kLocalTcf,
                                                          T38RateManagement::kTransferredTcf};
constexpr std::array<T38UdpEc, 3> kEcValues = {T38UdpEc::kFec, T38UdpEc::kRedundancy,
                                               T38UdpEc::kNone};

absl::StatusOr<T38EcDepth> EcDepth(std::string_view name, const Attribute& a) {
  absl::StatusOr<std::string_view> v = NeedValue(name, a);
  if (!v.ok()) return v.status();
  std::vector<std::string_view> f = Split(*v, ' ', true);
  T38EcDepth d;
  std::optional<uint32_t> min = f.empty() ? std::nullopt : ParseDecimal(f[0], 0xffffffffu);
  std::optional<uint32_t> max = f.size() == 2 ? ParseDecimal(f[1], 0xffffffffu) : std::nullopt;
  if (!min || f.size() > 2 || (f.size() == 2 && !max)) {
    return NamedError(name, Cat("'", *v, "' is not <minred> [<maxred>]"));
  }
  d.minimum = *min;
  d.maximum = max;
  return d;
}

// Reads `a` into the field for `name` unless the field is already set (the first one counts).
template <typename T, typename F>
absl::Status ReadOnce(std::optional<T>& field, F&& parse) {
  if (field) return absl::OkStatus();
  auto r = parse();
  if (!r.ok()) return r.status();
  field = *std::move(r);
  return absl::OkStatus();
}

absl::Status ReadKnown(const Attribute& a, T38Params& p, bool& known) {
  known = true;
  auto is = [&](std::string_view canonical) { return EqualsIgnoreCase(a.name, canonical); };
  auto text = [&](std::string_view n) -> absl::StatusOr<std::string> {
    absl::StatusOr<std::string_view> v = NeedValue(n, a);
    if (!v.ok()) return v.status();
    return std::string(*a.value);
  };
  if (is(kT38FaxVersion)) return ReadOnce(p.version, [&] { return Number(kT38FaxVersion, a); });
  if (is(kT38MaxBitRate)) return ReadOnce(p.max_bit_rate, [&] { return Number(kT38MaxBitRate, a); });
  if (is(kT38FaxFillBitRemoval)) {
    return ReadOnce(p.fill_bit_removal, [&] { return Boolean(kT38FaxFillBitRemoval, a); });
  }
  if (is(kT38FaxTranscodingMMR)) {
    return ReadOnce(p.transcoding_mmr, [&] { return Boolean(kT38FaxTranscodingMMR, a); });
  }
  if (is(kT38FaxTranscodingJBIG)) {
    return ReadOnce(p.transcoding_jbig, [&] { return Boolean(kT38FaxTranscodingJBIG, a); });
  }
  if (is(kT38FaxRateManagement)) {
    return ReadOnce(p.rate_management, [&] {
      return OneOf(kT38FaxRateManagement, a, kRateValues, T38RateManagementName);
    });
  }
  if (is(kT38FaxMaxBuffer)) return ReadOnce(p.max_buffer, [&] { return Number(kT38FaxMaxBuffer, a); });
  if (is(kT38FaxMaxDatagram)) {
    return ReadOnce(p.max_datagram, [&] { return Number(kT38FaxMaxDatagram, a); });
  }
  if (is(kT38FaxMaxIFP)) return ReadOnce(p.max_ifp, [&] { return Number(kT38FaxMaxIFP, a); });
  if (is(kT38FaxUdpEC)) {
    return ReadOnce(p.udp_ec, [&] { return OneOf(kT38FaxUdpEC, a, kEcValues, T38UdpEcName); });
  }
  if (is(kT38FaxUdpECDepth)) {
    return ReadOnce(p.udp_ec_depth, [&] { return EcDepth(kT38FaxUdpECDepth, a); });
  }
  if (is(kT38FaxUdpFECMaxSpan)) {
    return ReadOnce(p.udp_fec_max_span, [&] { return Number(kT38FaxUdpFECMaxSpan, a); });
  }
  if (is(kT38VendorInfo)) return ReadOnce(p.vendor_info, [&] { return text(kT38VendorInfo); });
  if (is(kT38ModemType)) return ReadOnce(p.modem_type, [&] { return text(kT38ModemType); });
  known = false;
  return absl::OkStatus();
}

std::optional<std::string> BoolValue(bool b) {
  return b ? std::nullopt : std::optional<std::string>("0");
}

}  // namespace

std::string_view T38RateManagementName(T38RateManagement value) {
  return value == T38RateManagement::kLocalTcf ? "localTCF" : "transferredTCF";
}

std::string_view T38UdpEcName(T38UdpEc value) {
  switch (value) {
    case T38UdpEc::kNone:
      return "t38UDPNoEC";
    case T38UdpEc::kFec:
      return "t38UDPFEC";
    case T38UdpEc::kRedundancy:
      return "t38UDPRedundancy";
  }
  return "?";
}

absl::StatusOr<T38Params> ParseT38Params(const MediaDescription& media) {
  T38Params p;
  for (const Attribute& a : media.attributes) {
    if (!IsT38Name(a.name)) continue;
    bool known = false;
    if (absl::Status s = ReadKnown(a, p, known); !s.ok()) return s;
    if (!known) p.unknown.push_back(a);
  }
  return p;
}

std::vector<Attribute> FormatT38Params(const T38Params& p) {
  std::vector<Attribute> out;
  auto add = [&](std::string_view name, std::optional<std::string> value) {
    out.push_back({std::string(name), std::move(value)});
  };
  if (p.version) add(kT38FaxVersion, Cat(*p.version));
  if (p.max_bit_rate) add(kT38MaxBitRate, Cat(*p.max_bit_rate));
  if (p.fill_bit_removal) add(kT38FaxFillBitRemoval, BoolValue(*p.fill_bit_removal));
  if (p.transcoding_mmr) add(kT38FaxTranscodingMMR, BoolValue(*p.transcoding_mmr));
  if (p.transcoding_jbig) add(kT38FaxTranscodingJBIG, BoolValue(*p.transcoding_jbig));
  if (p.rate_management) {
    add(kT38FaxRateManagement, std::string(T38RateManagementName(*p.rate_management)));
  }
  if (p.max_buffer) add(kT38FaxMaxBuffer, Cat(*p.max_buffer));
  if (p.max_datagram) add(kT38FaxMaxDatagram, Cat(*p.max_datagram));
  if (p.max_ifp) add(kT38FaxMaxIFP, Cat(*p.max_ifp));
  if (p.udp_ec) add(kT38FaxUdpEC, std::string(T38UdpEcName(*p.udp_ec)));
  if (p.udp_ec_depth) {
    std::string v = Cat(p.udp_ec_depth->minimum);
    if (p.udp_ec_depth->maximum) Append(&v, " ", *p.udp_ec_depth->maximum);
    add(kT38FaxUdpECDepth, v);
  }
  if (p.udp_fec_max_span) add(kT38FaxUdpFECMaxSpan, Cat(*p.udp_fec_max_span));
  if (p.vendor_info) add(kT38VendorInfo, *p.vendor_info);
  if (p.modem_type) add(kT38ModemType, *p.modem_type);
  out.insert(out.end(), p.unknown.begin(), p.unknown.end());
  return out;
}

void SetT38Params(const T38Params& params, MediaDescription* media) {
  std::vector<Attribute> wanted = FormatT38Params(params);
  const size_t known_count = wanted.size() - params.unknown.size();
  std::vector<bool> used(known_count, false);
  std::vector<Attribute> out;
  out.reserve(media->attributes.size() + wanted.size());
  size_t insert_at = std::string::npos;
  for (Attribute& a : media->attributes) {
    if (!IsT38Name(a.name)) {
      out.push_back(std::move(a));
      continue;
    }
    for (size_t i = 0; i < known_count; ++i) {
      if (!used[i] && EqualsIgnoreCase(a.name, wanted[i].name)) {
        used[i] = true;
        // Keep the peer's spelling of the name: some endpoints match names case-sensitively.
        out.push_back({std::move(a.name), wanted[i].value});
        break;
      }
    }
    insert_at = out.size();
  }
  std::vector<Attribute> rest;
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (i >= known_count || !used[i]) rest.push_back(std::move(wanted[i]));
  }
  if (insert_at == std::string::npos) insert_at = out.size();
  out.insert(out.begin() + static_cast<std::ptrdiff_t>(insert_at), rest.begin(), rest.end());
  media->attributes = std::move(out);
}

}  // namespace t38relay::control::sdp
