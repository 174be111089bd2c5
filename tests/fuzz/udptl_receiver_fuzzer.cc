// Fuzz target for the fax endpoint's UDPTL receiver (tools/fax/udptl_channel.h): a stream of
// datagrams (each a 1-byte length then its bytes) of both EC kinds; IFPs come out in sequence
// order, at most once each, never longer than the codec allows, and the counters add up.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <set>

#include "dataplane/wire/udptl.h"
#include "tools/fax/udptl_channel.h"

using namespace t38relay;

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto variant = (data[0] & 1) ? dataplane::IfpVariant::k2002 : dataplane::IfpVariant::k1998;
  std::optional<uint16_t> last;
  uint64_t delivered = 0;
  tools::fax::UdptlReceiver* self = nullptr;
  uint64_t restarts_seen = 0;
  tools::fax::UdptlReceiver receiver(variant, [&](uint16_t seq, dataplane::Bytes ifp) {
    Check(ifp.size() <= dataplane::kMaxIfpLength);
    // In order: each IFP follows the previous one, but across a confirmed numbering restart.
    if (last.has_value() && self->counters().restarts == restarts_seen) {
      Check(static_cast<int16_t>(seq - *last) > 0);
    }
    restarts_seen = self->counters().restarts;
    last = seq;
    ++delivered;
  });
  self = &receiver;
  size_t pos = 1;
  uint64_t datagrams = 0, accepted = 0;
  while (pos < size) {
    const size_t length = data[pos++];
    const size_t n = length <= size - pos ? length : size - pos;
    accepted += receiver.Receive(dataplane::Bytes(data + pos, n)) ? 1 : 0;
    ++datagrams;
    pos += n;
  }
  const auto& c = receiver.counters();
  Check(c.packets == accepted);
  Check(c.malformed + accepted == datagrams);
  Check(c.delivered == delivered);
  Check(c.recovered <= c.delivered);
  return 0;
}
