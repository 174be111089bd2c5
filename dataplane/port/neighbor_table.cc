// The neighbour table: open addressing with a seqlock per slot.
#include "dataplane/port/neighbor_table.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <random>

namespace t38relay::dataplane {
namespace {

constexpr uint64_t kEmpty = 0;
constexpr uint64_t kTombstone = 1;  // no family is 1
constexpr int kMaxReadAttempts = 256;
constexpr size_t kMaxCapacity = size_t{1} << 26;

uint64_t PackMac(const MacAddress& mac) {
  uint64_t v = 0;
  for (uint8_t b : mac) v = v << 8 | b;
  return v;
}

// MurmurHash3's 64-bit finalizer: every input bit reaches every output bit.
uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return h;
}

MacAddress UnpackMac(uint64_t v) {
  MacAddress mac;
  for (size_t i = mac.size(); i-- > 0; v >>= 8) mac[i] = static_cast<uint8_t>(v);
  return mac;
}

}  // namespace

struct NeighborTable::Slot {
  std::atomic<uint32_t> sequence{0};  // odd while the writer changes the slot
  std::atomic<uint64_t> ip_high{0};
  std::atomic<uint64_t> ip_low{0};
  std::atomic<uint64_t> tag{kEmpty};
  std::atomic<uint64_t> mac{0};
  uint64_t expires_ms = 0;  // the writer's alone
};

NeighborTable::NeighborTable(size_t capacity, uint64_t lifetime_ms) : lifetime_ms_(lifetime_ms) {
  // At most a quarter full: linear probing then overflows a 32-slot window about once in 1e9
  // inserts (at half full it would be once in a few hundred).
  const size_t slots = std::bit_ceil(std::max<size_t>(std::min(capacity, kMaxCapacity) * 4, 16));
  slots_ = std::make_unique<Slot[]>(slots);
  mask_ = slots - 1;
  // A random seed so that nobody on the link can aim addresses at one probe window.
  std::random_device random;
  seed_ = (uint64_t{random()} << 32) | random();
}

NeighborTable::~NeighborTable() = default;

NeighborTable::Key NeighborTable::MakeKey(size_t port, const IpAddress& ip) {
  Key key;
  std::memcpy(&key.ip_high, ip.bytes.data(), 8);
  std::memcpy(&key.ip_low, ip.bytes.data() + 8, 8);
  key.tag = uint64_t{port} << 8 | static_cast<uint8_t>(ip.family);
  return key;
}

size_t NeighborTable::Home(const Key& key) const {
  const uint64_t h = Mix(Mix(Mix(seed_ ^ key.tag) ^ key.ip_high) ^ key.ip_low);
  return static_cast<size_t>(h) & mask_;
}

bool NeighborTable::Lookup(size_t port, const IpAddress& ip, MacAddress* mac) const {
  if (ip.family == IpFamily::kNone || port > kMaxPorts) return false;
  const Key key = MakeKey(port, ip);
  size_t index = Home(key);
  for (size_t probe = 0; probe < kMaxProbe; ++probe, index = (index + 1) & mask_) {
    const Slot& slot = slots_[index];
    int attempt = 0;
    for (;; ++attempt) {
      if (attempt == kMaxReadAttempts) return false;
      const uint32_t before = slot.sequence.load(std::memory_order_acquire);
      if ((before & 1) != 0) continue;
      const uint64_t ip_high = slot.ip_high.load(std::memory_order_relaxed);
      const uint64_t ip_low = slot.ip_low.load(std::memory_order_relaxed);
      const uint64_t tag = slot.tag.load(std::memory_order_relaxed);
      const uint64_t mac_word = slot.mac.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (slot.sequence.load(std::memory_order_relaxed) != before) continue;
      if (tag == kEmpty) return false;
      if (tag == key.tag && ip_high == key.ip_high && ip_low == key.ip_low) {
        *mac = UnpackMac(mac_word);
        return true;
      }
      break;
    }
  }
  return false;
}

bool NeighborTable::Holds(const Slot& slot, const Key& key) {
  return slot.tag.load(std::memory_order_relaxed) == key.tag &&
         slot.ip_high.load(std::memory_order_relaxed) == key.ip_high &&
         slot.ip_low.load(std::memory_order_relaxed) == key.ip_low;
}

void NeighborTable::Write(Slot& slot, const Key& key, uint64_t mac_word) {
  const uint32_t sequence = slot.sequence.load(std::memory_order_relaxed);
  slot.sequence.store(sequence + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  slot.ip_high.store(key.ip_high, std::memory_order_relaxed);
  slot.ip_low.store(key.ip_low, std::memory_order_relaxed);
  slot.tag.store(key.tag, std::memory_order_relaxed);
  slot.mac.store(mac_word, std::memory_order_relaxed);
  slot.sequence.store(sequence + 2, std::memory_order_release);
  version_.store(version_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

bool NeighborTable::Set(size_t port, const IpAddress& ip, const MacAddress& mac,
                        uint64_t now_ms) {
  if (ip.family == IpFamily::kNone || port > kMaxPorts) return false;
  const Key key = MakeKey(port, ip);
  size_t index = Home(key);
  Slot* free_slot = nullptr;
  for (size_t probe = 0; probe < kMaxProbe; ++probe, index = (index + 1) & mask_) {
    Slot& slot = slots_[index];
    const uint64_t tag = slot.tag.load(std::memory_order_relaxed);
    if (Holds(slot, key)) {
      if (slot.mac.load(std::memory_order_relaxed) != PackMac(mac)) Write(slot, key, PackMac(mac));
      slot.expires_ms = now_ms + lifetime_ms_;
      return true;
    }
    if ((tag == kEmpty || tag == kTombstone) && free_slot == nullptr) free_slot = &slot;
    if (tag == kEmpty) break;  // the key cannot sit further on
  }
  if (free_slot == nullptr) return false;
  Write(*free_slot, key, PackMac(mac));
  free_slot->expires_ms = now_ms + lifetime_ms_;
  ++size_;
  return true;
}

// Tombstones keep the probe chains through the slot intact; a slot followed by an empty one is
// on no chain, so it becomes empty, and so do the tombstones just before it.
void NeighborTable::Clear(size_t index) {
  const Key tombstone{0, 0, kTombstone};
  const Key empty{0, 0, kEmpty};
  if (slots_[(index + 1) & mask_].tag.load(std::memory_order_relaxed) != kEmpty) {
    Write(slots_[index], tombstone, 0);
    return;
  }
  Write(slots_[index], empty, 0);
  for (size_t i = (index - 1) & mask_;
       i != index && slots_[i].tag.load(std::memory_order_relaxed) == kTombstone;
       i = (i - 1) & mask_) {
    Write(slots_[i], empty, 0);
  }
}

bool NeighborTable::Erase(size_t port, const IpAddress& ip) {
  if (ip.family == IpFamily::kNone || port > kMaxPorts) return false;
  const Key key = MakeKey(port, ip);
  size_t index = Home(key);
  for (size_t probe = 0; probe < kMaxProbe; ++probe, index = (index + 1) & mask_) {
    const Slot& slot = slots_[index];
    if (Holds(slot, key)) {
      Clear(index);
      --size_;
      return true;
    }
    if (slot.tag.load(std::memory_order_relaxed) == kEmpty) return false;
  }
  return false;
}

size_t NeighborTable::Age(uint64_t now_ms) {
  size_t erased = 0;
  for (size_t i = 0; i <= mask_; ++i) {
    const uint64_t tag = slots_[i].tag.load(std::memory_order_relaxed);
    if (tag != kEmpty && tag != kTombstone && slots_[i].expires_ms <= now_ms) {
      Clear(i);
      --size_;
      ++erased;
    }
  }
  return erased;
}

}  // namespace t38relay::dataplane
