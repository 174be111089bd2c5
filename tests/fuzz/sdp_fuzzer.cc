// libFuzzer target for control/sdp: ParseSdp and ParseH248Sdp on the input; whatever parses must
// survive WriteSdp -> ParseSdp unchanged, and every attribute codec runs on every attribute value
// (their Format must read back equal).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "control/sdp/attributes.h"
#include "control/sdp/capneg.h"
#include "control/sdp/sdp.h"
#include "control/sdp/t38_params.h"

using namespace t38relay::control::sdp;

namespace {

template <typename T, typename Parse, typename Format>
void RoundTrip(const std::string& value, Parse parse, Format format) {
  absl::StatusOr<T> first = parse(value);
  if (!first.ok()) return;
  absl::StatusOr<T> second = parse(format(*first));
  if (!second.ok() || !(*second == *first)) __builtin_trap();
}

void CheckCodecs(const SessionDescription& sd) {
  for (const MediaDescription& m : sd.media) {
    for (const Attribute& a : m.attributes) {
      const std::string v = a.value.value_or("");
      RoundTrip<Fingerprint>(v, ParseFingerprint, FormatFingerprint);
      RoundTrip<IceCandidate>(v, ParseIceCandidate, FormatIceCandidate);
      RoundTrip<TransportCaps>(v, ParseTcap, FormatTcap);
      RoundTrip<AttributeCap>(v, ParseAcap, FormatAcap);
      RoundTrip<PotentialConfig>(v, ParsePcfg, FormatPcfg);
      RoundTrip<ActualConfig>(v, ParseAcfg, FormatAcfg);
      (void)ParseSetupRole(v);
      (void)ValidateTlsId(v);
    }
    absl::StatusOr<T38Params> t38 = ParseT38Params(m);
    if (t38.ok()) {
      MediaDescription copy = m;
      SetT38Params(*t38, &copy);
      absl::StatusOr<T38Params> again = ParseT38Params(copy);
      if (!again.ok() || !(*again == *t38)) __builtin_trap();
    }
    (void)GetIceParams(sd, m);
    (void)ResolvePotentialConfigs(sd, m);
  }
}

void CheckWriteParse(const SessionDescription& sd, const ParseOptions& options) {
  const std::string written = WriteSdp(sd);
  absl::StatusOr<SessionDescription> again = ParseSdp(written, options);
  if (!again.ok() || !(*again == sd)) __builtin_trap();
  // Canonical CRLF text is reproduced byte for byte.
  if (WriteSdp(*again) != written) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<SessionDescription> sd = ParseSdp(text);
  if (sd.ok()) {
    CheckWriteParse(*sd, ParseOptions{});
    CheckCodecs(*sd);
  } else if (sd.status().message().empty()) {
    __builtin_trap();
  }
  absl::StatusOr<std::vector<SessionDescription>> blocks = ParseH248Sdp(text);
  if (blocks.ok()) {
    ParseOptions h248;
    h248.allow_missing_origin = true;
    for (const SessionDescription& block : *blocks) CheckWriteParse(block, h248);
  }
  return 0;
}
