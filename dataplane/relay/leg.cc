// The remote slot's sequence lock and the leg array.
#include "dataplane/relay/leg.h"

#include <cstring>

namespace t38relay::dataplane {

namespace {

void Pack(const SocketAddress& a, std::array<uint64_t, 3>& w) {
  std::memcpy(&w[0], a.ip.bytes.data(), 8);
  std::memcpy(&w[1], a.ip.bytes.data() + 8, 8);
  w[2] = uint64_t{1} << 32 | uint64_t{static_cast<uint8_t>(a.ip.family)} << 16 | a.port;
}

}  // namespace

void RemoteSlot::Store(const SocketAddress& address) {
  std::array<uint64_t, 3> w;
  Pack(address, w);
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

bool RemoteSlot::Load(SocketAddress* out, uint32_t* version) const {
  std::array<uint64_t, 3> w;
  uint32_t before;
  for (;;) {
    before = sequence_.load(std::memory_order_acquire);
    if (before & 1) continue;
    for (size_t i = 0; i < w.size(); ++i) w[i] = words_[i].load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (sequence_.load(std::memory_order_relaxed) == before) break;
  }
  if (version != nullptr) *version = before;
  if ((w[2] >> 32) == 0) return false;
  out->ip.family = static_cast<IpFamily>((w[2] >> 16) & 0xFF);
  std::memcpy(out->ip.bytes.data(), &w[0], 8);
  std::memcpy(out->ip.bytes.data() + 8, &w[1], 8);
  out->port = static_cast<uint16_t>(w[2]);
  return true;
}

std::string_view LegPhaseName(LegPhase state) {
  switch (state) {
    case LegPhase::kFree: return "free";
    case LegPhase::kPlain: return "plain";
    case LegPhase::kWaiting: return "waiting";
    case LegPhase::kEstablished: return "established";
    case LegPhase::kFailed: return "failed";
  }
  return "unknown";
}

LegTable::LegTable(uint32_t capacity) : capacity_(capacity), legs_(new Leg[capacity]) {}

}  // namespace t38relay::dataplane
