// Fuzz target for the T.38 IFP codec: decode in both ASN.1 variants and re-encode byte for byte.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "dataplane/wire/t38_ifp.h"

using namespace t38relay::dataplane;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes in(data, size);
  for (IfpVariant variant : {IfpVariant::k1998, IfpVariant::k2002}) {
    IfpPacket p;
    size_t consumed = 0;
    if (DecodeIfpPrefix(in, variant, &p, &consumed) != WireError::kOk) continue;
    if (consumed > size) std::abort();
    IfpPacket whole;
    const WireError e = DecodeIfp(in, variant, &whole);
    if ((e == WireError::kOk) != (consumed == size)) std::abort();

    // The decoder only accepts canonical encodings, so re-encoding gives the consumed bytes back.
    std::vector<uint8_t> out(size + 16);
    size_t written = 0;
    if (EncodeIfp(p, variant, out, &written) != WireError::kOk) std::abort();
    if (written != consumed || (written != 0 && std::memcmp(out.data(), data, written) != 0)) {
      std::abort();
    }
    // Names and classes cover every value a decode can produce.
    if (IfpTypeName(p).empty() || IfpClassName(ClassifyIfp(p)).empty()) std::abort();
    for (const IfpField& f : p.fields()) {
      if (IfpFieldTypeName(f.type).empty()) std::abort();
    }
  }
  return 0;
}
