// IP -> MAC per port: one writer (the slow-path lcore), lock-free readers (the worker lcores).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "dataplane/wire/address.h"
#include "dataplane/wire/packet.h"

namespace t38relay::dataplane {

// A fixed-size open-addressing table (linear probing over at most kMaxProbe slots, so a lookup
// reads a bounded number of slots). Every slot is a seqlock: the writer makes the sequence odd,
// stores the words, makes it even again; a reader retries while it is odd or has moved, so it
// never sees a torn entry. All shared fields are std::atomic (relaxed inside the seqlock), so the
// readers are data-race free. Erased slots become tombstones that later inserts reuse.
//
// Only Lookup and capacity() may be called from other threads than the writer's.
class NeighborTable {
 public:
  static constexpr uint64_t kDefaultLifetimeMs = 300'000;
  static constexpr size_t kMaxProbe = 32;
  static constexpr size_t kMaxPorts = 0xFFFF;

  // Room for `capacity` neighbours (the table has four times as many slots, a power of two).
  // An entry expires `lifetime_ms` after it was last Set, at the next Age call.
  explicit NeighborTable(size_t capacity, uint64_t lifetime_ms = kDefaultLifetimeMs);
  ~NeighborTable();
  NeighborTable(const NeighborTable&) = delete;
  NeighborTable& operator=(const NeighborTable&) = delete;

  // Any thread; no allocation, no lock, bounded work. False when unknown (or when the writer kept
  // the slot busy through every retry, which a caller treats as unknown).
  bool Lookup(size_t port, const IpAddress& ip, MacAddress* mac) const;

  // Writer only. Inserts or updates the entry and restarts its lifetime. False when ip has no
  // family, port is too large, or its kMaxProbe slots are all taken (the table is too full).
  bool Set(size_t port, const IpAddress& ip, const MacAddress& mac, uint64_t now_ms);
  // Writer only. True when the entry existed.
  bool Erase(size_t port, const IpAddress& ip);
  // Writer only. Erases every entry that expired by now_ms; returns how many.
  size_t Age(uint64_t now_ms);

  // Any thread: changes whenever an entry is written or removed, so that a reader may cache
  // what it looked up (a prebuilt header) and rebuild it when this moves on.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

  size_t size() const { return size_; }  // writer only
  size_t slots() const { return mask_ + 1; }
  uint64_t lifetime_ms() const { return lifetime_ms_; }

 private:
  struct Slot;
  struct Key {
    uint64_t ip_high;
    uint64_t ip_low;
    uint64_t tag;  // port << 8 | family (0: empty, kTombstone)
  };
  static Key MakeKey(size_t port, const IpAddress& ip);
  size_t Home(const Key& key) const;
  // The writer's own view of a slot (it is the only one changing them, so no seqlock needed).
  static bool Holds(const Slot& slot, const Key& key);
  void Write(Slot& slot, const Key& key, uint64_t mac_word);
  void Clear(size_t index);

  std::unique_ptr<Slot[]> slots_;
  size_t mask_ = 0;
  uint64_t seed_ = 0;
  uint64_t lifetime_ms_ = 0;
  size_t size_ = 0;
  std::atomic<uint64_t> version_{0};
};

}  // namespace t38relay::dataplane
