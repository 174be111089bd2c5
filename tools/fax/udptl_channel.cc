// UDPTL sender (redundancy / FEC from the last primaries) and in-order receiver with recovery.
#include "tools/fax/udptl_channel.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace t38relay::tools::fax {

using dataplane::Bytes;
using dataplane::UdptlPacket;
using dataplane::WireError;

namespace {

// seq-number, the primary's length and the recovery choice around kMaxIfpLength octets, and as
// many again for every secondary or FEC entry.
constexpr size_t kEncodeRoom =
    (dataplane::kMaxIfpLength + 4) * (1 + std::max(dataplane::kMaxSecondary,
                                                   dataplane::kMaxFecEntries)) + 8;

int16_t Distance(uint16_t from, uint16_t to) { return static_cast<int16_t>(to - from); }

}  // namespace

UdptlSender::UdptlSender(T38UdpEc ec, size_t depth, size_t max_datagram)
    : ec_(ec),
      depth_(ec == T38UdpEc::kNone ? 0
             : ec == T38UdpEc::kFec ? std::min(depth, kMaxFecDepth)
                                   : std::min(depth, kMaxRedundancyDepth)),
      max_datagram_(max_datagram),
      out_(kEncodeRoom),
      fec_scratch_(dataplane::kMaxFecEntries * dataplane::kMaxIfpLength) {}

absl::StatusOr<size_t> UdptlSender::Encode(Bytes ifp, size_t amount) {
  std::array<Bytes, dataplane::kMaxFecEntries * dataplane::kMaxFecSpan> previous;
  const size_t count = std::min(history_.size(), previous.size());
  for (size_t i = 0; i < count; ++i) previous[i] = history_[i];
  const std::span<const Bytes> prior(previous.data(), count);
  UdptlPacket packet;
  if (ec_ == T38UdpEc::kFec) {
    packet.seq = next_seq_;
    packet.primary = ifp;
    if (WireError e = dataplane::BuildUdptlFec(prior, static_cast<uint32_t>(depth_), amount,
                                               fec_scratch_, &packet);
        e != WireError::kOk) {
      return absl::InternalError(absl::StrCat("UDPTL FEC: ", std::string(dataplane::WireErrorName(e))));
    }
  } else {
    packet = dataplane::UdptlWithRedundancy(next_seq_, ifp, prior.first(std::min(amount, count)));
  }
  size_t written = 0;
  if (WireError e = dataplane::EncodeUdptl(packet, out_, &written); e != WireError::kOk) {
    return absl::InternalError(absl::StrCat("UDPTL encode: ", std::string(dataplane::WireErrorName(e))));
  }
  return written;
}

absl::StatusOr<Bytes> UdptlSender::Frame(Bytes ifp) {
  if (ifp.size() > dataplane::kMaxIfpLength) {
    return absl::InvalidArgumentError(absl::StrCat("IFP of ", ifp.size(),
                                                   " bytes is over the UDPTL limit of ",
                                                   dataplane::kMaxIfpLength));
  }
  size_t amount = depth_;
  absl::StatusOr<size_t> written = Encode(ifp, amount);
  // Redundancy is what gives way to the peer's datagram limit; the primary always goes out
  // (spandsp was told the peer's limit, so an IFP alone does not exceed it).
  while (written.ok() && *written > max_datagram_ && amount > 0) {
    written = Encode(ifp, --amount);
  }
  if (!written.ok()) return written.status();
  if (amount < depth_) ++trimmed_;
  history_.emplace_front(ifp.begin(), ifp.end());
  const size_t keep = ec_ == T38UdpEc::kFec ? depth_ * depth_ : depth_;
  while (history_.size() > keep) history_.pop_back();
  ++next_seq_;
  return Bytes(out_.data(), *written);
}

UdptlReceiver::UdptlReceiver(dataplane::IfpVariant variant, Deliver deliver)
    : variant_(variant), deliver_(std::move(deliver)) {}

UdptlReceiver::Slot* UdptlReceiver::Find(uint16_t seq) {
  Slot& slot = window_[seq % kWindow];
  return slot.present && slot.seq == seq ? &slot : nullptr;
}

void UdptlReceiver::Store(uint16_t seq, Bytes ifp, bool recovered) {
  Slot& slot = window_[seq % kWindow];
  slot.present = true;
  slot.recovered = recovered;
  slot.seq = seq;
  slot.ifp.assign(ifp.begin(), ifp.end());
}

void UdptlReceiver::RecoverFromFec(const UdptlPacket& packet, uint16_t first_missing) {
  const uint32_t span = packet.fec_span;
  const size_t entries = packet.fec_count;
  if (span == 0 || entries == 0) return;
  // One rebuilt IFP can complete another entry's group: repeat until nothing changes.
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t j = 0; j < entries; ++j) {
      std::array<Bytes, dataplane::kMaxFecSpan> group{};
      size_t missing = span;
      size_t missing_count = 0;
      for (size_t k = 0; k < span; ++k) {
        const uint16_t seq = dataplane::FecCoveredSeq(packet.seq, span, entries, j, k);
        if (const Slot* slot = Find(seq)) {
          group[k] = slot->ifp;
        } else {
          missing = k;
          ++missing_count;
        }
      }
      if (missing_count != 1) continue;
      const uint16_t seq = dataplane::FecCoveredSeq(packet.seq, span, entries, j, missing);
      if (Distance(first_missing, seq) < 0) continue;  // already skipped as lost
      std::array<uint8_t, dataplane::kMaxIfpLength> rebuilt;
      size_t length = 0;
      if (dataplane::RecoverUdptlFec(packet, j, std::span<const Bytes>(group.data(), span),
                                     missing, variant_, rebuilt, &length) != WireError::kOk) {
        continue;
      }
      Store(seq, Bytes(rebuilt.data(), length), /*recovered=*/true);
      progress = true;
    }
  }
}

bool UdptlReceiver::Receive(Bytes datagram) {
  UdptlPacket packet;
  if (dataplane::DecodeUdptl(datagram, &packet) != WireError::kOk) {
    ++counters_.malformed;
    return false;
  }
  ++counters_.packets;
  const uint16_t seq = packet.seq;
  // Senders start at 0 (spandsp, Asterisk, ours); a first packet shortly after 0 means the very
  // first ones were lost, and they may still be in its redundancy.
  if (!expected_.has_value()) expected_ = seq < kWindow / 2 ? 0 : seq;
  int gap = Distance(*expected_, seq);
  if (gap > kMaxGap || gap < -kMaxGap) {
    const std::optional<uint16_t> from = std::exchange(restart_from_, seq);
    const int on_from = from.has_value() ? Distance(*from, seq) : 0;
    if (on_from <= 0 || on_from > kMaxGap) {
      ++counters_.out_of_window;
      return true;
    }
    // It follows on from the last out-of-window packet: the peer's numbering restarted there.
    ++counters_.restarts;
    expected_ = *from;
    gap = on_from;
  } else if (gap < 0) {
    ++counters_.duplicates;
    return true;
  }
  restart_from_.reset();
  Store(seq, packet.primary, /*recovered=*/false);
  if (packet.recovery == dataplane::UdptlRecovery::kSecondary) {
    const auto secondaries = packet.secondaries();
    for (size_t i = 0; i < secondaries.size() && static_cast<int>(i) < gap; ++i) {
      const uint16_t older = static_cast<uint16_t>(seq - 1 - i);
      if (Find(older) == nullptr) Store(older, secondaries[i], /*recovered=*/true);
    }
  } else if (gap > 0) {
    RecoverFromFec(packet, *expected_);
  }
  for (uint16_t s = *expected_;; ++s) {
    if (const Slot* slot = Find(s)) {
      ++counters_.delivered;
      if (slot->recovered) ++counters_.recovered;
      deliver_(s, slot->ifp);
    } else {
      ++counters_.lost;
    }
    if (s == seq) break;
  }
  expected_ = static_cast<uint16_t>(seq + 1);
  return true;
}

}  // namespace t38relay::tools::fax
