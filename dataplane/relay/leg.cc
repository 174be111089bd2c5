// The remote slot's sequence lock and the leg array.
#include "dataplane/relay/leg.h"

#include <cstring>

namespace t38relay::dataplane {

void RemoteSlot::Store(const SocketAddress& address) {
  const Words p = Pack(address.ip, address.port);
  const std::array<uint64_t, 3> w = {p.w0, p.w1, p.w2};
  uint32_t s = sequence_.load(std::memory_order_relaxed);
  sequence_.store(s + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  for (size_t i = 0; i < w.size(); ++i) words_[i].store(w[i], std::memory_order_relaxed);
  sequence_.store(s + 2, std::memory_order_release);
}

void RemoteSlot::Clear() {
  uint32_t s = sequence_.load(std::memory_order_relaxed);
  sequence_.store(s + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  for (auto& word : words_) word.store(0, std::memory_order_relaxed);
  sequence_.store(s + 2, std::memory_order_release);
}

std::string_view LegPhaseName(LegPhase state) {
  switch (state) {
    case LegPhase::kFree: return "free";
    case LegPhase::kPlain: return "plain";
    case LegPhase::kWaiting: return "waiting";
    case LegPhase::kEstablished: return "established";
    case LegPhase::kRekeying: return "rekeying";
    case LegPhase::kFailed: return "failed";
  }
  return "unknown";
}

LegTable::LegTable(uint32_t capacity) : capacity_(capacity), legs_(new Leg[capacity]) {}

}  // namespace t38relay::dataplane
